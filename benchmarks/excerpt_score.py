"""Score the failure excerpt on a LogChunks-format folder at 2,000, 4,000 and 8,000 characters."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGETS = (2000, 4000, 8000)


def default_data() -> Path:
    return REPO.parent / "shared" / "datasets" / "logchunks-dev"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "data",
        nargs="?",
        type=Path,
        default=None,
        help="LogChunks-format folder holding score.py (default: ../shared/datasets/logchunks-dev)",
    )
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    args = parser.parse_args(argv)
    data = args.data or default_data()
    scorer = data / "score.py"
    if not scorer.exists():
        print(f"skipped: no score.py in {data}")
        return 0
    cmd = f"{shlex.quote(sys.executable)} -m bot.cli.excerpt --json --budget-chars {{budget}}"
    for budget in args.budgets:
        proc = subprocess.run(
            [
                sys.executable,
                str(scorer),
                "--cmd",
                cmd,
                "--data",
                str(data),
                "--batch",
                "100",
                "--budget-chars",
                str(budget),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-2000:])
            return proc.returncode
        # score.py prints the tail baseline beside each figure: "full 0.80 (tail 0.63)".
        print(proc.stdout.strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
