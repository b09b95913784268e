"""The last passing log of a job as a baseline: lines the failing log shares with it count less (pure)."""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.excerpt.clean import render_line
from bot.core.excerpt.rules import is_exit_line, score_line
from bot.core.excerpt.scanned import ScanResult
from bot.core.excerpt.stamps import Destamper

# A line of the failing log that the passing log also printed keeps this share of its score: the
# baseline informs the ranking, it does not decide it (a naive "new lines only" excerpt holds far
# fewer labelled failures than the rules alone). Chosen by cross-validation across projects
# (benchmarks/baseline_cv.py), not on all data: once the rules knew resource errors ("No space left
# on device"), every fold chose to keep a known failure line's whole score (0.5 lost 4 of 32 at
# 8,000), and what the baseline adds is the new lines and the known context it drops.
KNOWN_WEIGHT = 1.0
# A new line (one the passing log never printed) with no failure words scores this much (every fold
# chose 3 over 6: at 6 the new lines of a differently built run crowd out the failure's context).
NEW_SCORE = 3.0
# Characters of new lines held while the failing log is read; the newest are kept.
MAX_NEW_CHARS = 200_000
# Known lines with no failure words are kept only this many lines from a line that has some, or a new one.
REACH = 3
# Distinct lines remembered from a passing log; past this, later lines are not added (memory stays
# bounded: a set of this many ints is a few tens of MB at most).
MAX_BASELINE_LINES = 400_000
# Raw bytes of a line read for its key; a longer line is keyed by its start.
MAX_KEY_BYTES = 4096

# The key of a line asks only "did the passing run print this kind of line?", so it is coarser than
# the fingerprint's strict key: every number goes (times, durations, ports, addresses, counts, line
# numbers, versions), and so do hashes, random ids and temp paths. A bare 0 stays: it is what tells
# "Failures: 0" in the passing summary from "Failures: 2" in the failing one, and "exit code 0" from 1.
# Every line of both logs goes through this, so it is a few plain passes, cheapest first.
_TEMP_WORDS = ("/tmp/", "/var/folders/", "\\Temp\\")
_TEMP = re.compile(r"(?:/tmp|/var/folders|/private/var/folders|\\Temp)[/\\][^\s:'\"()]*")
_ZERO = re.compile(r"(?<![\w.,:])0(?!\w|[.,:]\d)")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# Once numbers are "#", a hash, a UUID or a random id (4e8932e5, runner-x7f3k2q9, 5f0c7c1e-8a7b-...) is
# a word of letters and at least two "#": "#e#e#d#". One such word stands for any other.
_ID = re.compile(r"(?<![A-Za-z#])[A-Za-z]{0,8}#(?:[A-Za-z]{1,8}#)+[A-Za-z]{0,8}(?![A-Za-z#])")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\b")


def normalise(text: str) -> str:
    """A cleaned line as the baseline compares it: volatile tokens (times, durations, ids, hashes, temp paths,
    ports, addresses, every number but a bare 0) replaced, spacing collapsed."""
    if any(word in text for word in _TEMP_WORDS):
        text = _TEMP.sub("<tmp>", text)
    if any(month in text for month in _MONTHS):
        text = _MONTH.sub("<month>", text)
    if "0" in text:
        text = _ZERO.sub("\x00", text)  # kept apart from the numbers that become "#"
    text = _NUMBER.sub("#", text)
    if text.count("#") > 1:
        text = _ID.sub("<id>", text)
    return " ".join(text.replace(" AM", " PM").split())


def line_key(text: str) -> int:
    """A cleaned line's identity across runs of a job (see normalise)."""
    return hash(normalise(text))


@dataclass(frozen=True, slots=True)
class Weights:
    """How much the baseline counts; the defaults were chosen by cross-validation across projects
    (benchmarks/baseline_cv.py), never on all data."""

    known: float = KNOWN_WEIGHT  # share of its score a line keeps when the passing log printed it too
    new: float = NEW_SCORE  # the score of a new line with no failure words
    reach: int | None = REACH  # known lines kept only this near a scored or new line (None: all kept)


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the last passing run of the same job printed, as normalised line keys."""

    keys: frozenset[int]
    lines: int = 0  # lines read from the passing log
    complete: bool = True  # False when the log held more distinct lines than MAX_BASELINE_LINES
    weights: Weights = Weights()

    def knows(self, text: str) -> bool:
        """True when the passing log printed this line too (volatile tokens aside)."""
        return bool(text.strip()) and line_key(text) in self.keys


class _LineReader:
    """The lines of a log fed in byte pieces, per-line timestamps removed as the scanner removes them.

    Each line comes out once, with its number: whole at its newline, or, when it grows past MAX_KEY_BYTES,
    as its first MAX_KEY_BYTES with `whole` False (the rest of it is skipped)."""

    def __init__(self) -> None:
        self.n = 0  # number of the last line given out
        self.carry = b""
        self.skipping = False  # inside a line already given out by its start
        self.stamps = Destamper()

    def feed(self, chunk: bytes) -> list[tuple[int, bytes, bool]]:
        return self._split(self.stamps.feed(bytes(chunk)))

    def close(self) -> list[tuple[int, bytes, bool]]:
        out = self._split(self.stamps.close())
        if self.carry and not self.skipping:
            out.append(self._out(self.carry, True))
        self.carry = b""
        return out

    def _out(self, raw: bytes, whole: bool) -> tuple[int, bytes, bool]:
        self.n += 1
        return self.n, raw, whole

    def _split(self, chunk: bytes) -> list[tuple[int, bytes, bool]]:
        out: list[tuple[int, bytes, bool]] = []
        data = self.carry + chunk if self.carry else chunk
        pos = 0
        while (end := data.find(b"\n", pos)) >= 0:
            if self.skipping:
                self.skipping = False
            else:
                out.append(self._out(data[pos:end], True))
            pos = end + 1
        rest = data[pos:]
        if len(rest) > MAX_KEY_BYTES:
            if not self.skipping:
                out.append(self._out(rest[:MAX_KEY_BYTES], False))
                self.skipping = True
            rest = b""
        self.carry = rest
        return out


class BaselineBuilder:
    """Reads a passing log chunk by chunk and keeps the keys of its lines (memory bounded)."""

    def __init__(self, max_lines: int = MAX_BASELINE_LINES) -> None:
        self.max_lines = max_lines
        self.keys: set[int] = set()
        self.lines = 0
        self.complete = True
        self.reader = _LineReader()

    def feed(self, chunk: bytes) -> None:
        for _, raw, _ in self.reader.feed(chunk):
            self._add(raw)

    def _add(self, raw: bytes) -> None:
        self.lines += 1
        if len(self.keys) >= self.max_lines:
            self.complete = False
            return
        text = render_line(raw[:MAX_KEY_BYTES])
        if text.strip():
            self.keys.add(line_key(text))

    def finish(self) -> Baseline:
        for _, raw, _ in self.reader.close():
            self._add(raw)
        return Baseline(frozenset(self.keys), self.lines, self.complete)


def build_baseline(chunks: Iterable[bytes], max_lines: int = MAX_BASELINE_LINES) -> Baseline:
    """The baseline of a passing log given as byte chunks."""
    builder = BaselineBuilder(max_lines)
    for chunk in chunks:
        builder.feed(chunk)
    return builder.finish()


class NewLines:
    """Reads the failing log beside the scanner and remembers the lines the passing log never printed.

    The scanner keeps only lines with failure words and their context; a failure that says what it is in
    other words ("No space left on device") is kept only if it is new. The newest MAX_NEW_CHARS of new
    lines are held."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.weights = baseline.weights
        self.new: deque[tuple[int, str]] = deque()
        self.new_chars = 0
        self.reader = _LineReader()  # the new lines shown as the scanner shows its own: without timestamps

    def feed(self, chunk: bytes) -> None:
        for n, raw, whole in self.reader.feed(chunk):
            if whole:  # an over-long line is never held here; the scanner keeps its ends
                self._line(n, raw)

    def _line(self, n: int, raw: bytes) -> None:
        text = render_line(raw)
        if not text.strip() or self.baseline.knows(text):
            return
        self.new.append((n, text))
        self.new_chars += len(text)
        while self.new_chars > MAX_NEW_CHARS:
            self.new_chars -= len(self.new.popleft()[1])

    def apply(self, scan: ScanResult) -> ScanResult:
        """The scan with the new lines added as weak failure lines and the known ones weighed down.

        Every kept line gets its score here (block selection scores the others itself), so a known line
        kept only as context cannot seed a failure block at its full score either. Known lines with no
        failure words far from any other kept line (the passing run's ordinary output) are dropped, so
        the budget left after the failure blocks goes to what this run printed and the passing one did not."""
        for n, raw, whole in self.reader.close():
            if whole:
                self._line(n, raw)
        w = self.weights
        new = dict(self.new)
        texts = dict(scan.texts)
        for n, text in new.items():
            texts.setdefault(n, text)
        scores: dict[int, float] = {}
        for n, text in texts.items():
            score = scan.scores[n] if n in scan.scores else score_line(text)
            if n in new:
                scores[n] = max(score, w.new)
            elif score and self.baseline.knows(text):
                scores[n] = score * w.known
            else:
                scores[n] = score
        if w.reach is not None:
            ends = [n for n, text in reversed(scan.tail) if text.strip()][:2]
            anchors = [n for n, score in scores.items() if score > 0] + ends + scan.step_ends
            anchors += [n for n, text in texts.items() if is_exit_line(text)]
            keep = {m for n in anchors for m in range(n - w.reach, n + w.reach + 1)}
            texts = {n: text for n, text in texts.items() if n in keep}
            scores = {n: scores[n] for n in texts}
        return dataclasses.replace(scan, texts=texts, scores=scores)
