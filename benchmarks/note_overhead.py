"""Bot overhead from webhook to posted MR note, with an instant fake model and a 1 MB job log.

Usage:
  python benchmarks/note_overhead.py [--pipelines 30] [--log-mb 1] [--database sqlite|postgresql://...]

Runs the real `cicd-bot serve` against the test suite's fake GitLab and fake OpenAI server
(in this process, on 127.0.0.1), sends one Pipeline Hook per failed pipeline, and measures
the time until the MR note for that pipeline is posted (created or edited).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.botprocess import BotProcess, bot_env, free_port  # noqa: E402
from tests.e2e_kit import send_hook  # noqa: E402
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.scenario import MR_IID, PROJECT_ID, PYTEST_TRACE, WEBHOOK_SECRET, pipeline_hook, seed_failed_pipeline  # noqa: E402


def big_log(size: int, seed: int) -> str:
    rng = random.Random(seed)
    lines = []
    total = 0
    while total < size:
        line = f"[{rng.randint(0, 10**6):07d}] compiling module_{rng.randint(0, 5000)}.c -O2 -Wall ... ok"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n" + PYTEST_TRACE.replace("12,50", f"{seed},50")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=30)
    parser.add_argument("--log-mb", type=float, default=1.0)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = f"sqlite+aiosqlite:///{tmp}/bench.db" if args.database == "sqlite" else args.database
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        gitlab.state.trace_chunk_size = 65536
        env = bot_env(
            db,
            free_port(),
            GITLAB_BASE_URL=gitlab.url,
            GITLAB_API_TOKEN=DEFAULT_TOKEN,
            GITLAB_WEBHOOK_SECRET=WEBHOOK_SECRET,
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL=openai.url,
            WORKER_CONCURRENCY="2",
            LOG_LEVEL="WARNING",
            REUSE_ANALYSIS_DAYS="0",
            GITLAB_FETCH_FULL_PIPELINE="false",
        )
        bot = BotProcess(env, tmp / "bot.log")
        if not db.startswith("sqlite"):
            assert bot.run_cli("db", "reset", "--yes").returncode == 0
        await bot.start()
        timings = []
        try:
            for i in range(args.pipelines):
                pipeline_id = 50_000 + i
                pipeline = seed_failed_pipeline(gitlab.state, pipeline_id, trace=big_log(int(args.log_mb * 2**20), i))
                started = time.perf_counter()
                assert await send_hook(bot.url, pipeline_hook(pipeline), key=f"bench-{i}") == 200
                while True:
                    notes = [n for n in gitlab.notes_for(PROJECT_ID, MR_IID) if f"#{pipeline_id}" in n["body"]]
                    if notes:
                        break
                    await asyncio.sleep(0.002)
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            await bot.stop()
    timings.sort()
    print(
        f"{args.pipelines} pipelines, {args.log_mb} MB log each, "
        f"{'sqlite' if db.startswith('sqlite') else 'postgresql'}, model calls: {openai.calls}"
    )
    print(
        f"webhook -> note: p50 {statistics.median(timings):.0f} ms  p90 {timings[int(0.9 * len(timings))]:.0f} ms  "
        f"max {timings[-1]:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
