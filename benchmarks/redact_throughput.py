"""Measure secret-redaction throughput (MB/s) on ordinary log lines, per line and per chunk."""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bot.core.redact import Redactor, StreamRedactor

DEFAULT_DATA = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets", "logchunks-dev"
)
CORPUS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "redaction", "ordinary_lines.txt"
)


def load_lines(data_dir: str, max_mb: float) -> list[str]:
    """Real CI log lines from the LogChunks logs if present, else the repo's ordinary-line corpus."""
    lines: list[str] = []
    size = 0
    paths = sorted(glob.glob(os.path.join(data_dir, "logs", "*", "*", "failed", "*.log")))
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh.read().replace("\r\n", "\n").split("\n"):
                lines.append(line)
                size += len(line) + 1
        if size >= max_mb * 1e6:
            return lines
    if not lines:
        with open(CORPUS, encoding="utf-8") as fh:
            base = fh.read().split("\n")
        while size < max_mb * 1e6:
            lines.extend(base)
            size += sum(len(x) + 1 for x in base)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=DEFAULT_DATA, help="LogChunks folder (falls back to the repo corpus)")
    parser.add_argument("--mb", type=float, default=20.0, help="how much log text to redact")
    parser.add_argument("--chunk-kb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (shared machines are noisy)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this process's CPU time, which other processes on a busy machine disturb far less",
    )
    args = parser.parse_args()

    lines = load_lines(args.data, args.mb)
    text = "\n".join(lines)
    mb = len(text.encode("utf-8")) / 1e6
    print(f"input: {len(lines)} lines, {mb:.1f} MB")

    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    def best(run) -> float:
        times = []
        for _ in range(args.repeat):
            start = clock()
            run()
            times.append(clock() - start)
        return mb / min(times)

    def per_line() -> None:
        redactor = Redactor()
        for line in lines:
            redactor.redact_line(line)

    def streamed() -> None:
        stream = StreamRedactor(Redactor())
        step = args.chunk_kb * 1024
        for i in range(0, len(text), step):
            stream.feed(text[i : i + step])
        stream.flush()

    def baseline() -> None:
        for line in lines:
            line.lower()

    redactor = Redactor()
    changed = sum(1 for line in lines if redactor.redact_line(line) != line)
    print(f"lines changed: {changed}")
    print(f"redact_line:    {best(per_line):7.1f} MB/s")
    print(f"StreamRedactor: {best(streamed):7.1f} MB/s  ({args.chunk_kb} KiB chunks)")
    print(f"redact_text:    {best(lambda: Redactor().redact_text(text)):7.1f} MB/s  (one string)")
    print(f"reference, str.lower() per line: {best(baseline):7.1f} MB/s (how fast this machine is right now)")


if __name__ == "__main__":
    main()
