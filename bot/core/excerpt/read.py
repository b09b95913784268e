"""The excerpt of a log given whole, as chunks, as a stream or as an open file, and a line range of a streamed log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import BinaryIO

from bot.core.excerpt.baseline import Baseline, NewLines
from bot.core.excerpt.clean import LONG_LINE_BYTES, LineFilter, render_ends, render_line
from bot.core.excerpt.lines import Excerpt, ExcerptLine
from bot.core.excerpt.scan import CHUNK_BYTES, LongLine, Scanner, apply_markers
from bot.core.excerpt.selection import select
from bot.core.excerpt.stamps import Destamper

DEFAULT_BUDGET = 8000  # characters of an excerpt, newlines counted, when the caller sets none
# read_line_range never returns more than this many lines.
MAX_RANGE_LINES = 500


def excerpt(
    log: str | bytes,
    budget_chars: int = DEFAULT_BUDGET,
    max_bytes: int | None = None,
    line_filter: LineFilter | None = None,
    *,
    baseline: Baseline | None = None,
) -> Excerpt:
    """The failure excerpt of a whole log held in memory.

    baseline: the last passing log of the same job (baseline.py); lines it also printed count less."""
    data = log.encode("utf-8", errors="replace") if isinstance(log, str) else bytes(log)
    # the scanner reads it in CHUNK_BYTES pieces
    return excerpt_chunks((data,), budget_chars, max_bytes, line_filter, baseline=baseline)


class _Reading:
    """The scanner and, given a baseline, the reader of new lines beside it."""

    def __init__(self, budget_chars: int, max_bytes: int | None, baseline: Baseline | None) -> None:
        self.scanner = Scanner(budget_chars, max_bytes)
        self.new = NewLines(baseline) if baseline is not None else None

    def feed(self, chunk: bytes) -> None:
        self.scanner.feed(chunk)
        if self.new is not None:
            self.new.feed(chunk)

    def excerpt(self, budget_chars: int, line_filter: LineFilter | None) -> Excerpt:
        scan = self.scanner.finish()
        if self.new is not None:
            scan = self.new.apply(scan)
        return select(scan, budget_chars, line_filter)


async def excerpt_stream(
    chunks: AsyncIterator[bytes],
    budget_chars: int = DEFAULT_BUDGET,
    max_bytes: int | None = None,
    line_filter: LineFilter | None = None,
    *,
    baseline: Baseline | None = None,
) -> Excerpt:
    """The failure excerpt of a log read as a stream of byte chunks (memory stays bounded)."""
    reading = _Reading(budget_chars, max_bytes, baseline)
    async for chunk in chunks:
        reading.feed(chunk)
    return reading.excerpt(budget_chars, line_filter)


def excerpt_chunks(
    chunks: Iterable[bytes],
    budget_chars: int = DEFAULT_BUDGET,
    max_bytes: int | None = None,
    line_filter: LineFilter | None = None,
    *,
    baseline: Baseline | None = None,
) -> Excerpt:
    """The failure excerpt of a log given as a plain iterable of byte chunks."""
    reading = _Reading(budget_chars, max_bytes, baseline)
    for chunk in chunks:
        reading.feed(chunk)
    return reading.excerpt(budget_chars, line_filter)


def excerpt_reader(
    reader: BinaryIO,
    budget_chars: int = DEFAULT_BUDGET,
    max_bytes: int | None = None,
    line_filter: LineFilter | None = None,
    *,
    baseline: Baseline | None = None,
) -> Excerpt:
    """The failure excerpt of a log read in chunks from a binary file that the caller opened (and closes)."""
    return excerpt_chunks(
        iter(lambda: reader.read(CHUNK_BYTES), b""), budget_chars, max_bytes, line_filter, baseline=baseline
    )


class _LineSplitter:
    """Splits a byte stream into raw lines, holding only the two ends of a line longer than LONG_LINE_BYTES."""

    def __init__(self) -> None:
        self.carry = b""
        self.long: LongLine | None = None

    def feed(self, piece: bytes) -> list[bytes | tuple[bytes, bytes, int]]:
        out: list[bytes | tuple[bytes, bytes, int]] = []
        data = self.carry + piece
        pos = 0
        while (end := data.find(b"\n", pos)) >= 0:
            out.append(self._line(data[pos:end]))
            pos = end + 1
        rest = data[pos:]
        if self.long is not None or len(rest) > LONG_LINE_BYTES:
            self.long = self.long or LongLine()
            self.long.add(rest)
            rest = b""
        self.carry = rest
        return out

    def _line(self, raw: bytes) -> bytes | tuple[bytes, bytes, int]:
        if self.long is None:
            return raw
        long, self.long = self.long, None
        long.add(raw)
        return long.ends()

    def close(self) -> bytes | tuple[bytes, bytes, int]:
        return self._line(self.carry)


def line_range(
    chunks: Iterable[bytes], first: int, last: int, line_filter: LineFilter | None = None
) -> list[ExcerptLine]:
    """Cleaned lines first..last (1-based, inclusive, at most MAX_RANGE_LINES) of a log given as byte chunks.

    line_filter sees every line from the first one on, in order, so a stateful redactor
    that needs the lines above the range (say, the start of a key block) still works. Reading
    stops at the chunk that holds the last line: the rest of the iterator is left unread."""
    first = max(first, 1)
    last = min(last, first + MAX_RANGE_LINES - 1)
    out: list[ExcerptLine] = []
    if last < first:
        return out
    stack: list[str] = []
    n = 0

    def take(line: bytes | tuple[bytes, bytes, int]) -> bool:
        nonlocal n
        n += 1
        head = line[0] if isinstance(line, tuple) else line
        section = apply_markers(stack, head)[0] if b"section_" in head else (stack[-1] if stack else None)
        if n >= first or line_filter is not None:
            text = render_ends(*line) if isinstance(line, tuple) else render_line(line)
            if line_filter is not None:
                text = line_filter(text)
            if n >= first:
                out.append(ExcerptLine(n, text, section))
        return n >= last

    splitter = _LineSplitter()
    stamps = Destamper()  # the lines as the excerpt shows them: without per-line timestamps
    for chunk in chunks:
        for i in range(0, len(chunk), CHUNK_BYTES):
            for line in splitter.feed(stamps.feed(bytes(chunk[i : i + CHUNK_BYTES]))):
                if take(line):
                    return out
    for line in splitter.feed(stamps.close()):
        if take(line):
            return out
    take(splitter.close())
    return out
