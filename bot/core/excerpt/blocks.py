"""Failure blocks: a strong line and the detail under or above it, a test runner's list items, parallel branches' lines."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.excerpt.ci_systems import branch_of
from bot.core.excerpt.rules import COMMAND_STARTS, MEDIUM, VERDICT, is_continuation, starts_next_test
from bot.core.excerpt.scan import FRAMED_BEFORE
from bot.core.excerpt.scanned import RULE_LINE

SEED_SCORE = MEDIUM  # a line this strong starts a failure block
MAX_ITEM_LINES = 80  # an item of a failure list longer than this is not taken as one
_NUMBERED_ITEM = re.compile(r"^\s{0,4}(\d{1,4})\) \S")
# "=== title ===" heads a report section rather than one item of a list, so "=" does not count here.
_TITLED_RULE = re.compile(r"^([_*#~-])\1{2,} \S.* \1{3,}$")
# A compiler's caret under the source line of a diagnostic at a place, at most this far below it.
CARET_LINES = 8
_AT_PLACE = re.compile(r"[\w./\\-]+\.\w{1,6}:\d+:\d+")
_CARET = re.compile(r"^\s*\^[~^]*\s*$")
MAX_DETAIL_ABOVE = 15  # detail lines above a verdict that still belong to its block
MAX_BLOCK_LINES = 40  # a block ends here even if its detail goes on; a later strong line starts another
# Parallel branches print into one log line by line: at most this many lines of others inside one branch's failure.
BRANCH_GAP = 8


@dataclass(slots=True)
class Block:
    seed: int
    end: int
    value: float = 0.0
    start: int = 0  # first line shown: the seed, or the detail a runner printed above its verdict
    carried: bool = False  # the detail of the block above it, past MAX_BLOCK_LINES
    framed: bool = False  # starts at the opening rule of a framed report: shown whole, repeats and all

    def lines(self) -> list[int]:
        return list(range(self.start, self.end + 1))


DIGITS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def dedup_key(text: str) -> str:
    """Lines that differ only in numbers, addresses or spacing count as repeats."""
    return DIGITS.sub("#", " ".join(text.split()))


def failure_blocks(texts: dict[int, str], scores: dict[int, float], exits: set[int]) -> list[Block]:
    """Failure blocks: a strong line and the detail under it (frames, indented lines, more failure lines)."""

    def related(n: int) -> bool:
        text = texts.get(n)
        return text is not None and bool(text.strip()) and (scores[n] > 0 or is_continuation(text))

    out: list[Block] = []
    current: Block | None = None
    for n in sorted(texts):
        if current is not None and n == current.end + 1 and n - current.seed < MAX_BLOCK_LINES:
            text = texts[n]
            # A plain line or a blank one stays in the block when detail follows right after it.
            if not starts_next_test(text) and (
                related(n)
                or (not text.startswith(COMMAND_STARTS) and (related(n + 1) or (text.strip() and related(n + 2))))
            ):
                current.end = n
                continue
            if _branch_resumes(texts, current.seed, n, related):
                current.end = n
                continue
            # A diagnostic at file:line:col is followed by its source line and a caret, sometimes with
            # other output printed in between (a formatter's artefacts): the block reaches the caret.
            caret = _caret_below(texts, current.seed, n) if current.end == current.seed else None
            if caret is not None:
                current.end = caret
                continue
        if scores[n] >= SEED_SCORE or n in exits:
            current = Block(n, n, start=n)
            out.append(current)
        elif current is not None and n == current.end + 1 and related(n):
            # Detail longer than a block (a deep stack trace) goes on in a block of its own, shown
            # only when the block above it is.
            current = Block(n, n, start=n, carried=True)
            out.append(current)
        else:
            current = None
    out = _lists(texts, scores, out)
    # Many runners print a failure's detail first and their verdict after it (TAP's "not ok" under
    # its diagnostics, a diff above "FAIL"): a verdict's block also takes the detail right above it.
    floor = 0
    for b in out:
        n = b.seed - 1
        while (
            n > floor
            and b.seed - n <= MAX_DETAIL_ABOVE
            and n in texts
            and texts[n].strip()
            and not texts[n].startswith(COMMAND_STARTS)
            and is_continuation(texts[n])
        ):
            n -= 1
        # Detail has an edge; a run of indented lines longer than that is progress output, not detail.
        if b.seed - n <= MAX_DETAIL_ABOVE:
            b.start = n + 1
        if scores[b.seed] >= VERDICT and (framed := _framed_start(texts, b.seed)) < b.start:
            b.start, b.framed = framed, True
        floor = b.end
    return out


def _branch_resumes(texts: dict[int, str], seed: int, n: int, related: Callable[[int], bool]) -> bool:
    """Whether line n is another parallel branch's (a different `[name] ` prefix from line seed's) and the seed's
    branch goes on with detail within BRANCH_GAP lines: the failure's block passes over it."""
    own = branch_of(texts[seed])
    if own is None or branch_of(texts[n]) in (None, own):
        return False
    for m in range(n + 1, n + BRANCH_GAP + 1):
        text = texts.get(m)
        if text is None:
            return False
        if branch_of(text) == own:
            return related(m)
    return False


def _framed_start(texts: dict[int, str], seed: int) -> int:
    """The opening rule of a report framed by two rules right above a verdict ("===DIFF===" ... "===DONE===").

    The frame counts only when it is whole and unbroken (no blank line, no command) within FRAMED_BEFORE."""
    if not RULE_LINE.match(texts.get(seed - 1, "")):
        return seed
    for n in range(seed - 2, seed - FRAMED_BEFORE, -1):
        text = texts.get(n)
        if text is None or not text.strip() or text.startswith(COMMAND_STARTS):
            return seed
        if RULE_LINE.match(text):
            return n
    return seed


def _caret_below(texts: dict[int, str], seed: int, n: int) -> int | None:
    """The caret line ("   ^~~~") within CARET_LINES below a diagnostic at file:line:col on line seed."""
    if not _AT_PLACE.search(texts[seed]):
        return None
    for m in range(n, n + CARET_LINES):
        text = texts.get(m)
        if text is None or text.startswith(COMMAND_STARTS):
            return None
        if _CARET.match(text):
            return m
    return None


def _item_kind(text: str) -> tuple[str, int] | None:
    """("n", number) for a numbered list item ("2) Foo::testBar"), ("rule", char) for a titled rule ("____ test_x ____")."""
    m = _NUMBERED_ITEM.match(text)
    if m:
        return "n", int(m.group(1))
    m = _TITLED_RULE.match(text)
    if m:
        return "rule", ord(m.group(1))
    return None


def _lists(texts: dict[int, str], scores: dict[int, float], blocks: list[Block]) -> list[Block]:
    """A test runner's list of failures (numbered items, or items under titled rules) as one block per item.

    Inside an item, lines that say nothing by themselves (a file path, a fixture value) would end an
    ordinary block; here an item runs up to the next item of the same list."""
    items = [(n, kind) for n in sorted(texts) if (kind := _item_kind(texts[n])) is not None]
    spans: list[tuple[int, int]] = []
    for (n, kind), (m, next_kind) in zip(items, items[1:] + [(0, ("", 0))], strict=False):
        follows = next_kind[1] == kind[1] + 1 if kind[0] == "n" else next_kind == kind
        if not (next_kind[0] == kind[0] and follows):
            # The last (or only) item under titled rules has no next header: it runs up to the rule that opens
            # the next section. (Numbered items have no such edge: the list often goes on after other output.)
            m = _list_end(texts, n) if kind[0] == "rule" else 0
        if n < m and m - n <= MAX_ITEM_LINES and any(scores.get(k, 0.0) >= SEED_SCORE for k in range(n, m)):
            spans.append((n, m - 1))
    if not spans:
        return blocks
    out = []
    covered = 0
    span_iter = iter(spans)
    span = next(span_iter, None)
    for b in blocks:
        while span is not None and span[0] <= b.seed and span[1] < b.seed:
            out.append(Block(span[0], span[1], start=span[0]))
            covered = span[1]
            span = next(span_iter, None)
        if b.seed <= covered:
            out.extend(_rest(b, covered, scores))  # inside an item already made a block
            continue
        if span is not None and span[0] <= b.seed <= span[1]:
            out.append(Block(span[0], span[1], start=span[0]))
            covered = span[1]
            span = next(span_iter, None)
            out.extend(_rest(b, covered, scores))
            continue
        out.append(b)
    while span is not None:
        out.append(Block(span[0], span[1], start=span[0]))
        span = next(span_iter, None)
    out.sort(key=lambda b: b.seed)
    return out


def _rest(b: Block, covered: int, scores: dict[int, float]) -> list[Block]:
    """What a block that an item of a list replaced holds past the item: a failure printed after the list
    (and taken into the block as detail) starts a block of its own rather than vanishing with it."""
    seed = next((n for n in range(covered + 1, b.end + 1) if scores.get(n, 0.0) >= SEED_SCORE), None)
    return [Block(seed, b.end, start=seed)] if seed is not None else []


def _list_end(texts: dict[int, str], n: int) -> int:
    """The first line after item n that is a separator rule or a command, within MAX_ITEM_LINES; 0 if none."""
    for m in range(n + 1, n + MAX_ITEM_LINES + 1):
        text = texts.get(m)
        if text is None:
            return 0
        if RULE_LINE.match(text) or text.startswith(COMMAND_STARTS):
            return m
    return 0
