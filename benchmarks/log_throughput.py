"""Excerpt speed: a generated 200 MB job log streamed in-process or through the whole CLI command, real logs, start-up.

.venv/bin/python benchmarks/log_throughput.py --mb 200                  # in-process, excerpt_stream
.venv/bin/python benchmarks/log_throughput.py --mb 200 --command        # `python -m bot.cli.excerpt FILE`
.venv/bin/python benchmarks/log_throughput.py --real ../shared/datasets/logchunks-dev [--redacted]
.venv/bin/python benchmarks/log_throughput.py --startup
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import random
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.excerpt.read import excerpt_stream

CHUNK = 64 * 1024
ESC = "\x1b"


def mixed_lines(rng: random.Random) -> Iterator[str]:
    """An endless, realistic mix: compiler output, progress bars, colours, tests, section markers."""
    n = 0
    while True:
        n += 1
        kind = rng.random()
        if n % 40000 == 0:
            # GitLab opens a few collapsible sections per job, not one per line.
            yield f"section_end:{1700000000 + n}:step_{n - 40000}\r{ESC}[0K"
            yield f"section_start:{1700000000 + n}:step_{n}[collapsed=true]\r{ESC}[0K{ESC}[36;1mstep {n}{ESC}[0m"
        elif kind < 0.40:
            yield f"  CC      src/module_{n % 977}/file_{n % 131}.o"
        elif kind < 0.55:
            bar = "".join(f"Downloading pkg-{n}: {p}%\r" for p in range(0, 100, 20))
            yield bar + f"Downloading pkg-{n}: 100% done"
        elif kind < 0.75:
            yield f"{ESC}[32;1mtest_case_{n} ... ok{ESC}[0m ({rng.randint(1, 900)} ms)"
        elif kind < 0.77:
            # lines that carry failure words without failing
            yield f"{ESC}[32mtest_error_handling_{n} PASSED{ESC}[0m"
        elif kind < 0.80:
            yield f"{ESC}[33mwarning:{ESC}[0m unused variable 'x{n}' [-Wunused-variable]"
        elif kind < 0.88:
            yield ""
        else:
            yield f"[{n:08d}] INFO fetched https://example.invalid/artifacts/{n}.tar.gz in {rng.random():.3f}s"


FAILURE = [
    f"{ESC}[31;1mERROR:{ESC}[0m tests/test_core.py::test_parse failed",
    "Traceback (most recent call last):",
    '  File "app/core.py", line 41, in parse',
    "ValueError: invalid literal for int() with base 10: 'x'",
]


def line_pool(seed: int, size: int = 8 * 1024 * 1024) -> bytes:
    """About 8 MB of mixed lines, generated once and cycled (generating 200 MB line by line in
    Python would cost more time than the excerpt and hide its speed)."""
    lines = mixed_lines(random.Random(seed))
    parts: list[bytes] = []
    total = 0
    while total < size:
        line = (next(lines) + "\n").encode()
        parts.append(line)
        total += len(line)
    return b"".join(parts)


async def generate(total_bytes: int, long_line_mb: int, pool: bytes) -> AsyncIterator[bytes]:
    """Yield the log in 64 KiB chunks without ever holding it whole: noise, then the failure
    (and the optional huge line) in the middle, then noise again as clean-up, then the exit."""
    view = memoryview(pool)
    half = total_bytes // 2
    for index, part in enumerate((half, total_bytes - half)):
        sent = 0
        while sent < part:
            size = min(len(pool), part - sent)
            cut = pool.rfind(b"\n", 0, size) + 1 or size
            for i in range(0, cut, CHUNK):
                yield bytes(view[i : min(i + CHUNK, cut)])
            sent += cut
        if index == 0:
            if long_line_mb:
                # One enormous line (a minified bundle echoed by a tool), streamed in pieces.
                yield b"bundle.js: "
                block = b"a" * CHUNK
                for _ in range(long_line_mb * 1024 * 1024 // CHUNK):
                    yield block
                yield b" error: bundle failed\n"
            yield ("\n".join(FAILURE) + "\n").encode()
    yield b"Cleaning up project directory and file based variables\nERROR: Job failed: exit code 1\n"


async def measure(total_mb: int, long_line_mb: int, trace: bool) -> None:
    total = total_mb * 1024 * 1024
    pool = line_pool(seed=7)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Time the generator alone so the figure is for cleaning plus excerpting only.
    start = time.perf_counter()
    generated = 0
    async for chunk in generate(total, long_line_mb, pool):
        generated += len(chunk)
    gen_seconds = time.perf_counter() - start

    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    ex = await excerpt_stream(generate(total, long_line_mb, pool), budget_chars=8000)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert ex.bytes_read == generated
    mb = ex.bytes_read / 1e6
    work = max(seconds - gen_seconds, 1e-9)
    found = any("ValueError: invalid literal" in line.text for line in ex.lines)
    print(
        f"log {mb:.0f} MB (long line {long_line_mb} MB), {ex.total_lines} lines: "
        f"{mb / work:.1f} MB/s cleaning+excerpting ({seconds:.1f}s total, {gen_seconds:.1f}s generating), "
        + (f"tracemalloc peak {peak / 1e6:.1f} MB, " if trace else "")
        + f"max RSS increase {(rss - base_rss) / 1024:.1f} MB, failure found: {found}, "
        f"excerpt {len(ex.lines)} lines"
    )


REPO = Path(__file__).resolve().parents[1]
DEFAULT_COMMAND = f"{shlex.quote(sys.executable)} -m bot.cli.excerpt"


async def write_log(path: Path, total_mb: int, long_line_mb: int) -> int:
    """The generated log as a file, for the whole command to read."""
    written = 0
    with path.open("wb") as fh:
        async for chunk in generate(total_mb * 1024 * 1024, long_line_mb, line_pool(seed=7)):
            fh.write(chunk)
            written += len(chunk)
    return written


def run_command(argv: list[str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS of the child in MB, stdout, CPU seconds) of one run of the command, in its own process.

    CPU time (user + system) says more than wall time on a machine others share."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage: its peak RSS
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"command failed ({proc.returncode}): {shlex.join(argv)}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read().decode(errors="replace"), usage.ru_utime + usage.ru_stime


def measure_command(total_mb: int, long_line_mb: int, command: str, runs: int) -> None:
    """The whole command on a file: start-up, reading, excerpting and printing."""
    with tempfile.TemporaryDirectory(prefix="excerpt-bench-") as tmp:
        path = Path(tmp) / "job.log"
        size = asyncio.run(write_log(path, total_mb, long_line_mb))
        for _ in range(runs):
            seconds, rss, out, cpu = run_command([*shlex.split(command), str(path)])
            print(
                f"whole command on {size / 1e6:.0f} MB: {size / 1e6 / seconds:.1f} MB/s ({seconds:.2f}s), "
                f"{size / 1e6 / cpu:.1f} MB per CPU second, "
                f"peak RSS {rss:.1f} MB, failure found: {'ValueError: invalid literal' in out}"
            )


def measure_real(data: Path, runs: int, redacted: bool = False) -> None:
    """The failed LogChunks logs held in memory, each excerpted whole at the default budget, in this process.

    With `redacted`, also the analysis job's reading, in the same runs: the kept lines redacted (the line filter),
    and that plus the whole-log learner, which reads every line for secrets (bot/core/redact_learn.py)."""
    from bot.core.excerpt.read import excerpt_chunks
    from bot.core.redact import Redactor
    from bot.core.redact_learn import LogLearner

    paths = sorted(glob.glob(str(data / "logs" / "*" / "*" / "failed" / "*.log")))
    if not paths:
        print(f"skipped: no LogChunks logs under {data}")
        return
    logs = [[log[i : i + CHUNK] for i in range(0, len(log), CHUNK)] for log in (Path(p).read_bytes() for p in paths)]
    size = sum(len(c) for chunks in logs for c in chunks)
    base = Redactor()

    def plain(chunks: list[bytes]) -> None:
        excerpt_chunks(chunks, 8000)

    def kept_lines(chunks: list[bytes]) -> None:
        excerpt_chunks(chunks, 8000, line_filter=base.fresh().redact_line)

    def whole_log(chunks: list[bytes]) -> None:
        learner = LogLearner(base.fresh())
        excerpt_chunks(learner.reading(chunks), 8000, line_filter=base.fresh().redact_line)
        learner.close()

    modes = {"excerpt": plain}
    if redacted:
        modes |= {
            "excerpt, kept lines redacted": kept_lines,
            "excerpt, kept lines redacted, whole log learnt": whole_log,
        }
    for _ in range(runs):
        for name, read in modes.items():
            start, cpu = time.perf_counter(), time.process_time()
            for chunks in logs:
                read(chunks)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(
                f"{name}: {len(logs)} real logs, {size / 1e6:.1f} MB: {size / 1e6 / seconds:.1f} MB/s "
                f"({seconds:.2f}s), {size / 1e6 / cpu:.1f} MB per CPU second"
            )


def measure_startup(command: str, runs: int) -> None:
    """Wall time of the command on an empty log (start-up and one tiny excerpt), median and best of runs."""
    with tempfile.TemporaryDirectory(prefix="excerpt-bench-") as tmp:
        path = Path(tmp) / "empty.log"
        path.write_bytes(b"")
        runs_done = [run_command([*shlex.split(command), str(path)]) for _ in range(runs)]
    times, cpus = [r[0] for r in runs_done], [r[3] for r in runs_done]
    print(
        f"start-up of `{command}`: median {statistics.median(times):.3f}s, best {min(times):.3f}s over {runs} runs "
        f"(CPU median {statistics.median(cpus):.3f}s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="log size in MB (default 200)")
    parser.add_argument("--long-line-mb", type=int, default=0, help="add one single line of this many MB")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the Python heap peak (slower)")
    parser.add_argument(
        "--command",
        nargs="?",
        const=DEFAULT_COMMAND,
        default=None,
        help="time this command on the log written to a file (default: python -m bot.cli.excerpt)",
    )
    parser.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="LOGCHUNKS_DIR",
        help="excerpt the real LogChunks logs in this process instead",
    )
    parser.add_argument(
        "--startup",
        nargs="?",
        const=DEFAULT_COMMAND,
        default=None,
        help="time the command on an empty log (default: python -m bot.cli.excerpt)",
    )
    parser.add_argument(
        "--redacted", action="store_true", help="with --real: also the analysis job's reading, redaction included"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.startup:
        measure_startup(args.startup, max(args.runs, 5))
    elif args.real:
        measure_real(args.real, args.runs, args.redacted)
    elif args.command:
        measure_command(args.mb, args.long_line_mb, args.command, args.runs)
    else:
        asyncio.run(measure(args.mb, args.long_line_mb, args.tracemalloc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
