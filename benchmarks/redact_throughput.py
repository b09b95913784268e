"""Measure secret-redaction throughput (MB/s) on ordinary log lines, per line and per chunk."""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from bot.redact import Redactor, StreamRedactor  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets", "logchunks-dev")
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "redaction", "ordinary_lines.txt")


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
    args = parser.parse_args()

    lines = load_lines(args.data, args.mb)
    text = "\n".join(lines)
    mb = len(text.encode("utf-8")) / 1e6
    print(f"input: {len(lines)} lines, {mb:.1f} MB")

    redactor = Redactor()
    start = time.perf_counter()
    changed = sum(1 for line in lines if redactor.redact_line(line) != line)
    per_line = time.perf_counter() - start
    print(f"redact_line:    {mb / per_line:7.1f} MB/s  ({changed} lines changed)")

    stream = StreamRedactor(Redactor())
    step = args.chunk_kb * 1024
    start = time.perf_counter()
    out = [stream.feed(text[i:i + step]) for i in range(0, len(text), step)]
    out.append(stream.flush())
    per_chunk = time.perf_counter() - start
    print(f"StreamRedactor: {mb / per_chunk:7.1f} MB/s  ({args.chunk_kb} KiB chunks)")

    start = time.perf_counter()
    Redactor().redact_text(text)
    whole = time.perf_counter() - start
    print(f"redact_text:    {mb / whole:7.1f} MB/s  (one string)")


if __name__ == "__main__":
    main()
