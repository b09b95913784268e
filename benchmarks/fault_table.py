"""The fault table of RELIABILITY.md: each fault scenario against the real `cicd-bot serve` process.

Usage:
  TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python benchmarks/fault_table.py [--postgres]
      [--only sigkill,replicas,flood,hostile]

Runs the scenarios of tests/fault_kit.py (the same ones the fault tests assert on) and prints, per case, deliveries
delivered / accepted / analysed / lost / duplicated, whether every /health request during the fault got 200 within
a second (and the slowest), the refused requests by status, and for the flood the process's RSS before, at the peak
and after. Two replicas run on PostgreSQL (TEST_DATABASE_URL); the others on SQLite, or on PostgreSQL too with --postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fault_kit  # noqa: E402
from tests.botprocess import database_url  # noqa: E402

HEALTH_BOUND = 1.0  # seconds: the target of issue 14


def row(t: fault_kit.Tally) -> str:
    within = t.health_ok and t.health_slowest < HEALTH_BOUND
    health = f"{'yes' if within else 'NO'} (slowest {t.health_slowest * 1000:.0f} ms, {sum(len(w.answers) for w in t.health)} asked)"
    refused = ", ".join(f"{s}: {n}" for s, n in sorted(t.hostile.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
    return (
        f"| {t.case} | {t.delivered} ({t.pipelines} pipelines) | {t.accepted} | {t.analysed} | {t.lost} | "
        f"{t.duplicated} | {health} | {refused or '-'} |"
    )


async def run(kinds: list[str], pg: bool, slow: int = 12, slowloris: int = 40) -> None:
    print("| case | delivered | accepted | analysed | lost | duplicated | /health 200 within 1 s | refused |")
    print("|---|---|---|---|---|---|---|---|")
    extra: list[str] = []
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            backend = "postgres" if (pg or kind == "replicas") else "sqlite"
            async with database_url(backend, tmp_path) as url:
                if kind == "replicas":
                    tally = await fault_kit.two_replicas(url, tmp_path)
                elif kind == "flood":
                    tally = await fault_kit.flood(url, tmp_path, slow=slow, slowloris=slowloris)
                elif kind == "hostile":
                    tally, cases = await fault_kit.hostile_input(url, tmp_path)
                    extra += [f"  hostile {name}: {status}" for name, status in cases.items()]
                else:
                    tally = await fault_kit.sigkill_mid_job(url, tmp_path)
        tally.case += f" ({backend})"
        print(row(tally), flush=True)
        extra += [f"  {tally.case}: {note}" for note in tally.notes]
        if tally.rss_kib:
            extra.append(f"  {tally.case}: RSS KiB " + ", ".join(f"{k} {v}" for k, v in tally.rss_kib.items()))
    # The database cut needs a TCP proxy in this loop and the test's own bookkeeping: its row is printed by
    # `pytest -s tests/e2e/test_fault_intake.py` (RELIABILITY.md).
    print("| PostgreSQL cut during a burst of deliveries | `pytest -s tests/e2e/test_fault_intake.py` | | | | | | |")
    print("\n".join(extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="every case on PostgreSQL (TEST_DATABASE_URL)")
    parser.add_argument("--only", default="sigkill,replicas,flood,hostile")
    parser.add_argument("--flood-slow", type=int, default=12, help="slow bodies per door during the flood")
    parser.add_argument("--flood-slowloris", type=int, default=40, help="slowloris connections during the flood")
    args = parser.parse_args()
    asyncio.run(run(args.only.split(","), args.postgres, args.flood_slow, args.flood_slowloris))


if __name__ == "__main__":
    main()
