"""What redaction changes on real CI logs: the lines it rewrites, and how that differs from another checkout.

Real failed logs hold few secrets, so every line the redactor rewrites there is either a real credential
(a `https://user:pass@` URL in test output, an S3 signed URL) or a false positive: a new rule should change
none of them, and this shows it. Each log gets a redactor of its own and is redacted whole (`redact_text`).

Data: LogChunks and CiDiff under --data-root (their .log files), and our corpus (tests/data/ci-logs).

Usage (from the repository root):
  .venv/bin/python benchmarks/redact_real_logs.py --data-root ../shared/datasets
  git archive main bot | tar -x -C /tmp/base
  .venv/bin/python benchmarks/redact_real_logs.py --data-root ../shared/datasets --against-cwd /tmp/base
(`--against-cwd` runs this file with the other checkout's `bot` package first on the import path.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def log_files(data_root: Path) -> list[Path]:
    files = sorted((data_root / "logchunks-dev").rglob("*.log")) + sorted((data_root / "cidiff-dev").rglob("*.log"))
    return files + sorted((REPO / "tests" / "data" / "ci-logs").rglob("*.log"))


def changed_lines(files: list[Path]) -> dict[str, str]:
    """{"<file>:<line index>": redacted line} for every line redaction rewrites."""
    from bot.core.redact import Redactor

    out: dict[str, str] = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for i, (before, after) in enumerate(
            zip(text.split("\n"), Redactor().redact_text(text).split("\n"), strict=True)
        ):
            if before != after:
                out[f"{path}:{i}"] = after
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--against-cwd", type=Path, help="another checkout whose redactor to compare with")
    parser.add_argument("--changes", action="store_true", help="print this checkout's changed lines (JSON)")
    args = parser.parse_args()
    args.data_root = args.data_root.resolve()  # the same file names here and in --against-cwd's run
    files = log_files(args.data_root)
    if args.changes:
        json.dump(changed_lines(files), sys.stdout)
        return
    mine = changed_lines(files)
    print(f"{len(files)} logs, {len(mine)} lines changed by redaction")
    if args.against_cwd is None:
        return
    env = {**os.environ, "PYTHONPATH": str(args.against_cwd.resolve())}
    theirs = json.loads(
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--data-root", str(args.data_root), "--changes"],
            env=env,
            cwd=args.against_cwd,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    print(f"{args.against_cwd}: {len(theirs)} lines changed; {len(differ)} lines redacted differently")
    for key in differ:
        print(f"  {key}\n    there: {theirs.get(key)!r:.200}\n    here:  {mine.get(key)!r:.200}")


if __name__ == "__main__":
    main()
