"""What the baseline costs: reading a passing log into a baseline, and the excerpt with and without one.

The largest CiDiff dev pair (juliac_789, 1.7 MB each) is repeated to the size asked for and read
in-process, as the analysis job reads a trace (in CHUNK_BYTES pieces). Best of --repeat runs.

    .venv/bin/python benchmarks/baseline_speed.py --mb 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.core.excerpt.baseline import build_baseline
from bot.core.excerpt.read import CHUNK_BYTES, excerpt_chunks

REPO = Path(__file__).resolve().parents[1]
CASE = "juliac_789"


def chunks(data: bytes):
    return (data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES))


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--mb", type=float, default=20.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    folder = args.data_root / "cidiff-dev" / "cases" / CASE
    if not folder.is_dir():
        print(f"skipped: no {folder}")
        return 0
    fail, passing = (folder / "fail.log").read_bytes(), (folder / "pass.log").read_bytes()
    fail = fail * max(1, round(args.mb * 1e6 / len(fail)))
    passing = passing * max(1, round(args.mb * 1e6 / len(passing)))
    baseline = build_baseline(chunks(passing))
    mb_fail, mb_pass = len(fail) / 1e6, len(passing) / 1e6
    build = best(args.repeat, lambda: build_baseline(chunks(passing)))
    plain = best(args.repeat, lambda: excerpt_chunks(chunks(fail), 8000))
    with_base = best(args.repeat, lambda: excerpt_chunks(chunks(fail), 8000, baseline=baseline))
    print(f"# {CASE} repeated: failing log {mb_fail:.1f} MB, passing log {mb_pass:.1f} MB, best of {args.repeat}")
    print(f"baseline from the passing log: {build:.2f} s ({mb_pass / build:.1f} MB/s), {len(baseline.keys)} keys")
    print(f"excerpt without baseline:      {plain:.2f} s ({mb_fail / plain:.1f} MB/s)")
    print(f"excerpt with baseline:         {with_base:.2f} s ({mb_fail / with_base:.1f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
