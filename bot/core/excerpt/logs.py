"""Streaming job-log cleaning and the failure excerpt: the few lines of a log that say why it failed."""
from __future__ import annotations

import bisect
import codecs
import heapq
import itertools
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike

from bot.core.excerpt.rules import (
    CLEANUP_SECTIONS,
    PREFILTER_WORDS,
    is_continuation,
    is_exit_line,
    is_wrapper,
    score_line,
)
from bot.core.redact import MAX_PEM_LINES
from bot.core.types import Excerpt, ExcerptLine

LineFilter = Callable[[str], str]

CUT_MARK = "… [{n} chars cut] …"
DEFAULT_BUDGET = 8000
CHUNK_BYTES = 64 * 1024
# Lines longer than this are never held whole: only their two ends are kept.
LONG_LINE_BYTES = 1 << 20
LONG_END_BYTES = 16 * 1024
# Cleaned text kept per line; the excerpt shortens further to fit the budget.
STORE_CHARS = 2000
SHOWN_LINE_CHARS = 320
# Context kept around a candidate line, in lines, and how far back raw bytes are remembered.
BEFORE = 6
# Above a line that says a step failed, the step's own last output is kept this far back.
EXIT_BEFORE = 120
AFTER = 30
# A verdict right under a separator rule closes a framed report (a diff between two rules): kept this far up.
FRAMED_BEFORE = 150
MAX_BEFORE = max(BEFORE, EXIT_BEFORE, FRAMED_BEFORE)
HISTORY_BYTES = 256 * 1024
MAX_CANDIDATES = 600
MAX_RETAINED_CHARS = 4_000_000
STRONG = 10.0
# read_line_range never returns more than this many lines.
MAX_RANGE_LINES = 500
# Runners (GitLab, Travis) echo each script command as "$ command" before its output.
COMMAND_ECHO = b"$ "
# A regex finds it faster than bytes.find: it scans for the rare "$", bytes.find tests every byte
# against the needle's last one, a space.
_COMMAND_ECHO = re.compile(re.escape(COMMAND_ECHO))
# PEM armour of a private key; the line filter (the redactor) must see a key's BEGIN line before its body.
PEM_BEGIN = b"-----BEGIN"
PEM_END = b"-----END"
_PEM_PRIVATE = re.compile(rb"-----(BEGIN|END)[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
# A separator rule, bare or titled: "==========", "========DONE========", "--- Output ---".
_RULE_LINE = re.compile(r"^\s*([=_*#~-])\1{2,}(\s*[\w .:-]{0,40}?\s*\1{3,})?\s*$")
_RULE_LINE_BYTES = re.compile(_RULE_LINE.pattern.encode())

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]?")
_TERMINAL = re.compile(r"\r|\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]?|\x08")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The controls that move the cursor or erase (CR, backspace, ESC[K/G/C/D): without them a line is its text.
_CURSOR = re.compile(r"[\r\x08]|\x1b\[[0-9;?]*[KGCD]")
# A CR, plain text and an erase of all right of the cursor (a progress line redrawn: "\rremote: 5% (2/40)\x1b[K"),
# or a CR and an erase of the whole line in either order (docker pull): the screen then holds just that
# text, whatever came before.
_REDRAW = re.compile(r"\r([^\r\x08\x1b]*)\x1b\[0?K|\r\x1b\[2K|\x1b\[2K\r")
_SECTION = re.compile(rb"section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(?:\[[^\]\r\n]*\])?\r?(?:\x1b\[0K)?")
_CUT_MARK_RE = re.compile(re.escape(CUT_MARK).replace(r"\{n\}", r"(\d+)"))
_DIGITS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def _terminal(line: str) -> str:
    """What a terminal shows for one line: CR returns to column 0, ESC[K erases, colours vanish."""
    # Most lines that get here only end in a stray CR ("\r\r\n"), which writes nothing, are redrawn
    # after a CR and an erase (Travis, git, docker), or are a progress bar redrawn with plain CRs: each has a
    # cheap exact answer, and playing a line cell by cell costs about a microsecond per 10 characters.
    line = line.rstrip("\r")
    if "\x1b" in line:
        line = _last_redraw(line)
    if not _CURSOR.search(line):
        return _TERMINAL.sub("", line)
    if "\x1b" not in line and "\x08" not in line:
        return _overwrite(line.split("\r"))
    return _replay(line)


def _last_redraw(line: str) -> str:
    """The line from its last redraw on, the redraw's own text first: a terminal shows the same for both."""
    redraw = None
    for redraw in _REDRAW.finditer(line):
        pass
    # Only an OSC sequence ("\x1b]0;title") can hold a CR that does not return to column 0.
    if redraw is None or "\x1b]" in line[:redraw.start()]:
        return line
    return (redraw.group(1) or "") + line[redraw.end():]


def _overwrite(writes: list[str]) -> str:
    """What writes that each start at column 0 leave on screen: each column shows the last write that reached it."""
    shown = ""
    for text in reversed(writes):
        if len(text) > len(shown):
            shown += text[len(shown):]
    return shown


def _replay(line: str) -> str:
    """Play one line on a terminal, character cell by cell, and return what it shows."""
    cells: list[str] = []
    col = 0
    pos = 0
    for m in _TERMINAL.finditer(line):
        if m.start() > pos:
            text = line[pos:m.start()]
            end = col + len(text)
            if col >= len(cells):
                cells.extend(" " * (col - len(cells)))
                cells.extend(text)
            else:
                cells[col:end] = text
            col = end
        pos = m.end()
        token = m.group(0)
        if token == "\r":
            col = 0
        elif token == "\x08":
            col = max(0, col - 1)
        elif m.group(2):
            arg, op = m.group(1), m.group(2)
            num = int(arg) if arg.isdigit() else 0
            if op == "K":
                if num == 0:
                    del cells[col:]
                elif num == 1:
                    cells[: min(col + 1, len(cells))] = " " * min(col + 1, len(cells))
                else:
                    cells.clear()
            elif op == "G":
                col = max(0, (num or 1) - 1)
            elif op == "C":
                col += num or 1
            elif op == "D":
                col = max(0, col - (num or 1))
    if pos < len(line):
        text = line[pos:]
        if col >= len(cells):
            cells.extend(" " * (col - len(cells)))
            cells.extend(text)
        else:
            cells[col:col + len(text)] = text
    return "".join(cells)


def clean_text(line: str) -> str:
    """Clean one decoded line: resolve CR overwrites and erase codes, drop ANSI and control characters."""
    if not _CONTROL.search(line):  # most lines: one scan instead of four (CR, backspace and ESC are controls)
        return line.rstrip()
    if "\r" in line or "\x08" in line:
        line = _terminal(line)
    elif "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\x1b" in line or _CONTROL.search(line):
        line = _CONTROL.sub("", line.replace("\t", "    ")).replace("\x1b", "")
    return line.rstrip()


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def shorten(text: str, limit: int) -> str:
    """Cut the middle out of a line longer than limit, keeping its start and end and saying so."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(CUT_MARK.format(n=len(text))), 2)
    head = (keep * 2) // 3
    tail = keep - head
    cut = len(text) - head - tail
    return text[:head] + CUT_MARK.format(n=cut) + (text[-tail:] if tail else "")


def render_line(raw: bytes) -> str:
    """The cleaned text of one raw line (without its newline), shortened to STORE_CHARS."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if len(raw) > LONG_LINE_BYTES:
        return _render_ends(raw[:LONG_END_BYTES], raw[-LONG_END_BYTES:], len(raw))
    return shorten(clean_text(_decode(raw)), STORE_CHARS)


def _render_ends(head: bytes, tail: bytes, total: int) -> str:
    """Render an over-long line from its two ends; the middle was never held in memory."""
    # The head is decoded incrementally so a character cut at the end is dropped, not garbled.
    head_text = clean_text(codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False))
    tail_text = clean_text(_decode(tail.lstrip(bytes(range(0x80, 0xC0)))))
    half = STORE_CHARS // 2
    head_text, tail_text = head_text[:half], tail_text[-half:]
    cut = max(total - len(head_text.encode()) - len(tail_text.encode()), 0)
    return head_text + CUT_MARK.format(n=cut) + tail_text


def section_markers(raw: bytes) -> list[tuple[str, str]]:
    """GitLab section markers in a raw line, as (start|end, name) in order."""
    return [(m.group(1).decode(), m.group(3).decode()) for m in _SECTION.finditer(raw)]


def apply_markers(stack: list[str], raw: bytes) -> tuple[str | None, str | None]:
    """Update the open-section stack from one raw line; return (this line's section, the next line's)."""
    this: str | None = None
    for kind, name in section_markers(raw):
        if kind == "start":
            stack.append(name)
            this = name
        else:
            if this is None:
                this = name  # the line that closes a section still belongs to it
            if name in stack:
                del stack[stack.index(name):]
    after = stack[-1] if stack else None
    return (this if this is not None else after), after


def dedup_key(text: str) -> str:
    """Lines that differ only in numbers, addresses or spacing count as repeats."""
    return _DIGITS.sub("#", " ".join(text.split()))


def _anchor_letters(words: tuple[bytes, ...]) -> bytes:
    """The fewest letters such that each word holds one of them."""
    letters = sorted(set(b"".join(words)))
    for size in range(1, len(letters) + 1):
        for anchors in itertools.combinations(letters, size):
            if all(any(letter in word for letter in anchors) for word in words):
                return bytes(anchors)
    return b""


def _anchored(words: tuple[bytes, ...]) -> list[re.Pattern[bytes]]:
    """One pattern per anchor letter for the words that hold it, matched from it: b"a(?:il(?<=fail)|bort|...)"."""
    anchors = _anchor_letters(words)
    alternatives: dict[int, list[bytes]] = {}
    for word in words:
        anchor = next(letter for letter in anchors if letter in word)
        at = word.index(anchor)
        # The rest of the word after the anchor, then a look back over the whole word.
        alternatives.setdefault(anchor, []).append(re.escape(word[at + 1:]) + (b"(?<=" + re.escape(word) + b")" if at else b""))
    return [re.compile(re.escape(bytes([anchor])) + b"(?:" + b"|".join(alts) + b")") for anchor, alts in alternatives.items()]


# The pre-filter passes over every byte once per pattern, and a pass costs far more than the match
# attempts it makes: the regex engine scans for a pattern's literal first letter in a tight loop and
# tries the rest only where it finds one. So each word is matched from a letter it shares with others,
# and every pre-filter word holds an "e" or an "a": 2 passes instead of 13 with bytes.find.
_PREFILTER = _anchored(PREFILTER_WORDS)


def _hit_lines(block: bytes) -> list[int]:
    """Start offsets, in order, of the lines of a block that hold a pre-filter word."""
    low = block.lower()
    starts: set[int] = set()
    for pattern in _PREFILTER:
        found = pattern.search(low)
        while found:
            i = found.start()
            starts.add(low.rfind(b"\n", 0, i) + 1)
            end = low.find(b"\n", i)
            found = pattern.search(low, end) if end >= 0 else None
    return sorted(starts)


@dataclass(slots=True)
class _Candidate:
    n: int
    score: float
    exit: bool = False
    step_end: bool = False  # a GitLab section (not clean-up) ended here


@dataclass(slots=True)
class _Scanner:
    """Feeds on raw chunks, keeps only candidate windows and the recent bytes, returns the Excerpt."""

    budget: int = DEFAULT_BUDGET
    max_bytes: int | None = None
    line_filter: LineFilter | None = None
    bytes_read: int = 0
    line_no: int = 1  # number of the line that starts at the beginning of the next block
    carry: bytes = b""
    # The history is the last HISTORY_BYTES read. It is kept as the recent blocks and joined only when a
    # line above a block is wanted: joining and cutting it for every block cost as much as a pre-filter pass.
    recent: deque[bytes] = field(default_factory=deque)
    recent_bytes: int = 0
    history_whole: bool = True  # history starts at a line boundary
    long_head: bytes | None = None
    long_tail: bytes = b""
    long_len: int = 0
    last_long: tuple[int, str] | None = None
    capture_until: int = 0
    retained: dict[int, bytes | str] = field(default_factory=dict)  # raw lines are rendered at the end
    retained_chars: int = 0
    # Scores of the lines scored while reading, for the end: scoring is most of the cost of a line.
    scores: dict[int, float] = field(default_factory=dict)
    scores_limit: int = MAX_CANDIDATES
    candidates: list[_Candidate] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    section_lines: list[int] = field(default_factory=list)
    section_names: list[str | None] = field(default_factory=list)
    commands: list[int] = field(default_factory=list)  # lines that echo a script command ("$ make test")
    pem_marks: list[tuple[int, bool, str]] = field(default_factory=list)  # (line, is BEGIN, text) of private keys

    # --- reading ---------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        for i in range(0, len(chunk), CHUNK_BYTES):
            self._feed_piece(bytes(chunk[i:i + CHUNK_BYTES]))

    def _feed_piece(self, piece: bytes) -> None:
        self.bytes_read += len(piece)
        if self.long_head is not None:
            nl = piece.find(b"\n")
            self._long_add(piece if nl < 0 else piece[:nl])
            if nl < 0:
                return
            self._long_done()
            piece = piece[nl + 1:]
        data = self.carry + piece if self.carry else piece
        last = data.rfind(b"\n")
        if last < 0:
            self.carry = data
        else:
            self.carry = data[last + 1:]
            self._block(data[: last + 1])
        if len(self.carry) > LONG_LINE_BYTES:
            self.long_head, self.long_tail, self.long_len = b"", b"", 0
            self._long_add(self.carry)
            self.carry = b""

    def _long_add(self, part: bytes) -> None:
        assert self.long_head is not None
        if len(self.long_head) < LONG_END_BYTES:
            self.long_head += part[: LONG_END_BYTES - len(self.long_head)]
        self.long_tail = (self.long_tail + part[-LONG_END_BYTES:])[-LONG_END_BYTES:]
        self.long_len += len(part)

    def _long_done(self) -> None:
        head, tail, total = self.long_head or b"", self.long_tail, self.long_len
        self.long_head, self.long_tail, self.long_len = None, b"", 0
        if tail.endswith(b"\r"):
            tail, total = tail[:-1], total - 1
        self._long_line(head, tail, total)

    def _long_line(self, head: bytes, tail: bytes, total: int) -> None:
        """One line too long to hold: scored and kept from its ends; older history is dropped."""
        n = self.line_no
        step_end = self._markers(head, n)
        text = _render_ends(head, tail, total)
        self.last_long = (n, text)
        if n <= self.capture_until:
            self._retain(n, text)
        self._consider(n, text, step_end)
        self.line_no += 1
        self.recent.clear()
        self.recent_bytes, self.history_whole = 0, True

    def _block(self, block: bytes) -> None:
        """Complete lines: find candidates with the pre-filter, capture pending after-context."""
        first_nl = block.find(b"\n")
        if first_nl > LONG_LINE_BYTES:
            line = block[:first_nl]
            if line.endswith(b"\r"):
                line = line[:-1]
            self._long_line(line[:LONG_END_BYTES], line[-LONG_END_BYTES:], len(line))
            block = block[first_nl + 1:]
            if not block:
                return
        base = self.line_no
        if self.capture_until >= base:
            self._capture(block, 0, base, self.capture_until)
        counted_pos, counted_n = 0, base
        for start in _hit_lines(block):
            counted_n += block.count(b"\n", counted_pos, start)
            counted_pos = start
            self._hit(block, start, block.find(b"\n", start), counted_n)
        self._commands(block, base)
        if b"-----" in block:
            self._pem_marks(block, base)
        self.line_no = base + block.count(b"\n")
        self._remember(block)

    def _remember(self, block: bytes) -> None:
        """Add a block to the history, dropping the blocks that lie wholly before its last HISTORY_BYTES."""
        block = block[-HISTORY_BYTES:]
        self.recent.append(block)
        self.recent_bytes += len(block)
        while self.recent_bytes - len(self.recent[0]) >= HISTORY_BYTES:
            self.recent_bytes -= len(self.recent.popleft())
        if self.recent_bytes >= HISTORY_BYTES:
            self.history_whole = False

    def _history(self) -> bytes:
        """The last HISTORY_BYTES read (fewer at the start of the log or after a long line), now one block."""
        if len(self.recent) > 1:
            history = b"".join(self.recent)[-HISTORY_BYTES:]
            self.recent = deque([history])
            self.recent_bytes = len(history)
        return self.recent[0] if self.recent else b""

    def _commands(self, block: bytes, base: int) -> None:
        """Remember the lines where the runner echoes a script command: each starts a step."""
        found = _COMMAND_ECHO.search(block)
        counted_pos, counted_n = 0, base
        while found:
            i = found.start()
            start = block.rfind(b"\n", 0, i) + 1
            end = block.find(b"\n", i)
            counted_n += block.count(b"\n", counted_pos, start)
            counted_pos = start
            if i - start < 200 and render_line(block[start:end]).startswith("$ "):
                self.commands.append(counted_n)
                if len(self.commands) > 20_000:
                    del self.commands[:10_000]
            found = _COMMAND_ECHO.search(block, end)

    def _pem_marks(self, block: bytes, base: int) -> None:
        """Remember where private-key blocks begin and end, so their body is redacted even without its BEGIN line."""
        found: list[tuple[int, bool, str]] = []
        for marker, begin in ((PEM_BEGIN, True), (PEM_END, False)):
            i = block.find(marker)
            while i >= 0:
                start = block.rfind(b"\n", 0, i) + 1
                end = block.find(b"\n", i)
                line = block[start:end]
                if _PEM_PRIVATE.search(line):
                    found.append((base + block.count(b"\n", 0, start), begin, render_line(line)))
                i = block.find(marker, end)
        self.pem_marks += sorted(found)
        if len(self.pem_marks) > 20_000:
            del self.pem_marks[:10_000]

    def _hit(self, block: bytes, start: int, end: int, n: int) -> None:
        raw = block[start:end]
        step_end = self._markers(raw, n)
        text = render_line(raw)
        kind = self._consider(n, text, step_end)
        if kind:
            self._retain(n, text)
            before = EXIT_BEFORE if kind == "exit" else BEFORE
            if kind == "verdict" and _RULE_LINE_BYTES.match(self._line_above(block, start)):
                before = FRAMED_BEFORE
            self._capture_before(block, start, n, before)
            if n + AFTER > self.capture_until:
                self._capture(block, end + 1, n + 1, n + AFTER)
                self.capture_until = n + AFTER

    def _line_above(self, block: bytes, start: int) -> bytes:
        """The raw line above the one that starts at start in block (from history at the block's top)."""
        if start > 0:
            return block[block.rfind(b"\n", 0, start - 1) + 1:start - 1]
        history = self._history()
        return history[history.rfind(b"\n", 0, len(history) - 1) + 1:-1]

    def _consider(self, n: int, text: str, step_end: bool = False) -> str:
        """Score one line and remember it if it is a candidate. Returns "exit", "verdict", "hit" or ""."""
        score = score_line(text)
        self._keep_score(n, score)
        is_exit = step_end or is_exit_line(text)
        if score <= 0 and not is_exit:
            return ""
        if self.max_bytes is not None and self.bytes_read > self.max_bytes and score < STRONG and not is_exit:
            return ""
        self.candidates.append(_Candidate(n, score, is_exit, step_end))
        if len(self.candidates) > MAX_CANDIDATES or self.retained_chars > MAX_RETAINED_CHARS:
            self._prune()
        return "exit" if is_exit else "verdict" if score >= VERDICT_SCORE else "hit"

    def _keep_score(self, n: int, score: float) -> None:
        """Remember a line's score; now and then forget those of lines too far back to be kept any more."""
        self.scores[n] = score
        if len(self.scores) > self.scores_limit:
            # Lines are kept only around the line being read, at most MAX_BEFORE lines up.
            floor = self.line_no - MAX_BEFORE
            self.scores = {m: v for m, v in self.scores.items() if m >= floor or m in self.retained}
            self.scores_limit = 2 * len(self.scores) + MAX_CANDIDATES

    def _markers(self, raw: bytes, n: int) -> bool:
        """Follow GitLab sections; True if this line ends a section that is not clean-up (a step ended)."""
        if b"section_" not in raw:
            return False
        this, after = apply_markers(self.stack, raw)
        self.section_lines += (n, n + 1)
        self.section_names += (this, after)
        if len(self.section_lines) > 100_000:
            del self.section_lines[:50_000], self.section_names[:50_000]
        return any(kind == "end" and not CLEANUP_SECTIONS.search(name) for kind, name in section_markers(raw))

    def _retain(self, n: int, line: bytes | str) -> None:
        if n not in self.retained:
            if isinstance(line, bytes) and len(line) > 4 * STORE_CHARS:
                line = render_line(line)  # do not hold long raw lines
            self.retained[n] = line
            self.retained_chars += len(line)

    def _capture(self, block: bytes, pos: int, n: int, until: int) -> None:
        """Keep lines n..until that start at pos in block (stops at the block's end)."""
        while n <= until and pos < len(block):
            end = block.find(b"\n", pos)
            if end < 0:
                break
            if n not in self.retained:
                self._retain(n, block[pos:end])
            pos, n = end + 1, n + 1

    def _capture_before(self, block: bytes, start: int, n: int, count: int) -> None:
        """Keep up to count lines above line n, from this block and then from history."""
        distance = 0
        k = n - 1
        taken = 0
        for buf, pos, whole in self._sources_above(block, start):
            while taken < count and pos > 0:
                prev = buf.rfind(b"\n", 0, pos - 1) + 1
                if prev == 0 and not whole:
                    return
                distance += pos - prev
                if distance >= HISTORY_BYTES:
                    return
                if k not in self.retained:
                    self._retain(k, buf[prev:pos - 1])
                k, taken, pos = k - 1, taken + 1, prev
            if taken >= count:
                return

    def _sources_above(self, block: bytes, start: int) -> Iterator[tuple[bytes, int, bool]]:
        """Where the lines above offset start of block are, as (buffer, end, starts at a line): the block, then the history."""
        yield block, start, True
        history = self._history()  # joined only when the lines above reach past the block
        yield history, len(history), self.history_whole

    def _prune(self) -> None:
        """Too many candidates: keep the stronger (and, among equals, later) half and their windows."""
        keep = heapq.nlargest(MAX_CANDIDATES // 2, self.candidates, key=lambda c: (c.score, c.n))
        keep.sort(key=lambda c: c.n)
        self.candidates = keep
        merged: list[list[int]] = []
        for lo, hi in sorted((c.n - (EXIT_BEFORE if c.exit else BEFORE), c.n + AFTER) for c in keep):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        starts = [lo for lo, _ in merged]
        recent = self.line_no - EXIT_BEFORE  # lines that a later exit line may still want
        kept: dict[int, bytes | str] = {}
        for n, text in self.retained.items():
            i = bisect.bisect_right(starts, n) - 1
            if (i >= 0 and n <= merged[i][1]) or n >= recent:
                kept[n] = text
        self.retained = kept
        self.retained_chars = sum(len(t) for t in kept.values())

    # --- the end ---------------------------------------------------------------
    def finish(self) -> Excerpt:
        if self.long_head is not None:
            self._long_done()
            last_n = self.line_no - 1
            total_lines = last_n
            tail_lines = [(last_n, self.last_long[1])] if self.last_long else []
        else:
            final = self.carry
            if final:
                self._block(final + b"\n")
                self.line_no -= 1  # the newline was ours, not the log's
            total_lines = self.line_no
            tail_lines = self._tail_lines(final)
        return _select(self, total_lines, tail_lines)

    def _tail_lines(self, final: bytes) -> list[tuple[int, str]]:
        """The last lines of the log, newest last, as far back as history reaches."""
        want_chars = self.budget
        out: list[tuple[int, str]] = []
        n = self.line_no
        buf = self._history()
        if final:
            # finish() pushed the unterminated last line through history; take it off again.
            buf = buf[: max(len(buf) - len(final) - 1, 0)]
        text = render_line(final) if final else ""
        out.append((n, text))
        used = len(text) + 1
        pos = len(buf)
        while pos > 0 and used < want_chars:
            prev = buf.rfind(b"\n", 0, pos - 1) + 1
            if prev == 0 and not self.history_whole:
                break
            n -= 1
            text = render_line(buf[prev:pos - 1])
            out.append((n, text))
            used += len(text) + 1
            pos = prev
        if pos == 0 and self.last_long and self.last_long[0] == n - 1 and used < want_chars:
            out.append(self.last_long)
        out.reverse()
        return out

    def section_at(self, n: int) -> str | None:
        i = bisect.bisect_right(self.section_lines, n) - 1
        return self.section_names[i] if i >= 0 else None


# --- choosing the lines ----------------------------------------------------------
SEED_SCORE = 6.0  # a line this strong starts a failure block
MAX_ITEM_LINES = 80  # an item of a failure list longer than this is not taken as one
_NUMBERED_ITEM = re.compile(r"^\s{0,4}(\d{1,4})\) \S")
# "=== title ===" heads a report section rather than one item of a list, so "=" does not count here.
_TITLED_RULE = re.compile(r"^([_*#~-])\1{2,} \S.* \1{3,}$")
# A usage banner ("Usage of prog:", "usage: prog [-h] ...") printed after a rejected argument.
_USAGE = re.compile(r"^\s*(Usage of \S+:\s*$|usage: \S)")
USAGE_ERROR_SCORE = 10.0
_UNCAUGHT = re.compile(r"^\w*Error: ")
_FRAME = re.compile(r"^\s+at \S")
# A compiler's caret under the source line of a diagnostic at a place, at most this far below it.
CARET_LINES = 8
_AT_PLACE = re.compile(r"[\w./\\-]+\.\w{1,6}:\d+:\d+")
_CARET = re.compile(r"^\s*\^[~^]*\s*$")
MAX_DETAIL_ABOVE = 15  # detail lines above a verdict that still belong to its block
MAX_BLOCK_LINES = 40  # a block ends here even if its detail goes on; a later strong line starts another
IN_STEP = 3.0  # a block inside the output of the step that failed
FIRST_IN_STEP = 1.6  # the first block of that step is its first failure description
AFTER_LAST_STEP = 0.5  # after the last failing step: clean-up, uploads
REPEAT = 0.3  # each repeat of an already seen failure line is worth this much less
CLEANUP = 0.5
TOP_SHARE = 0.7  # of the budget, at most, for the top block and the blocks right after it
# Lines of one shape (the same start, numbers aside) shown per excerpt before the rest are left out.
SIMILAR_LINES = 10
SIMILAR_PREFIX = 40
VERDICT_SCORE = 14.0  # what score_line gives a tool's own verdict
STEP_HEAD_LINES = 2  # output lines right under the failing step's command
STEP_SHARE = 0.2  # of the budget, for the last output of a failing step whatever it says
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 3


@dataclass(slots=True)
class _Block:
    seed: int
    end: int
    value: float = 0.0
    start: int = 0  # first line shown: the seed, or the detail a runner printed above its verdict
    carried: bool = False  # the detail of the block above it, past MAX_BLOCK_LINES
    framed: bool = False  # starts at the opening rule of a framed report: shown whole, repeats and all

    def lines(self) -> list[int]:
        return list(range(self.start, self.end + 1))


_SPACE_RUN = re.compile(r"\s{2,}")


def clip(text: str, limit: int) -> str:
    """The start of a line longer than limit: still the line's own words, so a quote of it stays true.

    A run of spaces counts as one character: indentation and column padding say little, so a deeply
    indented line keeps as many words as a flush one."""
    if len(text) <= limit:
        return text
    end = limit
    for m in _SPACE_RUN.finditer(text):
        if m.start() >= end:
            break
        end += len(m.group(0)) - 1
    return text[:end].rstrip()


def hidden_chars(stored: str, shown: str) -> int:
    """Characters of the cleaned line that shown leaves out, counting a middle already cut from stored."""
    if shown == stored:
        return 0
    mark = _CUT_MARK_RE.search(stored)
    full = len(stored) if mark is None else len(stored) - len(mark.group(0)) + int(mark.group(1))
    return max(full - len(shown), 0)


def _blocks(texts: dict[int, str], scores: dict[int, float], exits: set[int]) -> list[_Block]:
    """Failure blocks: a strong line and the detail under it (frames, indented lines, more failure lines)."""

    def related(n: int) -> bool:
        text = texts.get(n)
        return text is not None and bool(text.strip()) and (scores[n] > 0 or is_continuation(text))

    out: list[_Block] = []
    current: _Block | None = None
    for n in sorted(texts):
        if current is not None and n == current.end + 1 and n - current.seed < MAX_BLOCK_LINES:
            text = texts[n]
            # A plain line or a blank one stays in the block when detail follows right after it.
            if related(n) or (not text.startswith("$ ") and (related(n + 1) or (text.strip() and related(n + 2)))):
                current.end = n
                continue
            # A diagnostic at file:line:col is followed by its source line and a caret, sometimes with
            # other output printed in between (a formatter's artefacts): the block reaches the caret.
            caret = _caret_below(texts, current.seed, n) if current.end == current.seed else None
            if caret is not None:
                current.end = caret
                continue
        if scores[n] >= SEED_SCORE or n in exits:
            current = _Block(n, n, start=n)
            out.append(current)
        elif current is not None and n == current.end + 1 and related(n):
            # Detail longer than a block (a deep stack trace) goes on in a block of its own, shown
            # only when the block above it is.
            current = _Block(n, n, start=n, carried=True)
            out.append(current)
        else:
            current = None
    out = _lists(texts, scores, out)
    # Many runners print a failure's detail first and their verdict after it (TAP's "not ok" under
    # its diagnostics, a diff above "FAIL"): a verdict's block also takes the detail right above it.
    floor = 0
    for b in out:
        n = b.seed - 1
        while (n > floor and b.seed - n <= MAX_DETAIL_ABOVE and n in texts and texts[n].strip()
               and not texts[n].startswith("$ ") and is_continuation(texts[n])):
            n -= 1
        # Detail has an edge; a run of indented lines longer than that is progress output, not detail.
        if b.seed - n <= MAX_DETAIL_ABOVE:
            b.start = n + 1
        if scores[b.seed] >= VERDICT_SCORE and (framed := _framed_start(texts, b.seed)) < b.start:
            b.start, b.framed = framed, True
        floor = b.end
    return out


def _framed_start(texts: dict[int, str], seed: int) -> int:
    """The opening rule of a report framed by two rules right above a verdict ("===DIFF===" ... "===DONE===").

    The frame counts only when it is whole and unbroken (no blank line, no command) within FRAMED_BEFORE."""
    if not _RULE_LINE.match(texts.get(seed - 1, "")):
        return seed
    for n in range(seed - 2, seed - FRAMED_BEFORE, -1):
        text = texts.get(n)
        if text is None or not text.strip() or text.startswith("$ "):
            return seed
        if _RULE_LINE.match(text):
            return n
    return seed


def _caret_below(texts: dict[int, str], seed: int, n: int) -> int | None:
    """The caret line ("   ^~~~") within CARET_LINES below a diagnostic at file:line:col on line seed."""
    if not _AT_PLACE.search(texts[seed]):
        return None
    for m in range(n, n + CARET_LINES):
        text = texts.get(m)
        if text is None or text.startswith("$ "):
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


def _lists(texts: dict[int, str], scores: dict[int, float], blocks: list[_Block]) -> list[_Block]:
    """A test runner's list of failures (numbered items, or items under titled rules) as one block per item.

    Inside an item, lines that say nothing by themselves (a file path, a fixture value) would end an
    ordinary block; here an item runs up to the next item of the same list."""
    items = [(n, kind) for n in sorted(texts) if (kind := _item_kind(texts[n])) is not None]
    spans: list[tuple[int, int]] = []
    for (n, kind), (m, next_kind) in zip(items, items[1:] + [(0, ("", 0))]):
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
            out.append(_Block(span[0], span[1], start=span[0]))
            covered = span[1]
            span = next(span_iter, None)
        if b.seed <= covered:
            continue  # inside an item already made a block
        if span is not None and span[0] <= b.seed <= span[1]:
            out.append(_Block(span[0], span[1], start=span[0]))
            covered = span[1]
            span = next(span_iter, None)
            continue
        out.append(b)
    while span is not None:
        out.append(_Block(span[0], span[1], start=span[0]))
        span = next(span_iter, None)
    out.sort(key=lambda b: b.seed)
    return out


def _list_end(texts: dict[int, str], n: int) -> int:
    """The first line after item n that is a separator rule or a command, within MAX_ITEM_LINES; 0 if none."""
    for m in range(n + 1, n + MAX_ITEM_LINES + 1):
        text = texts.get(m)
        if text is None:
            return 0
        if _RULE_LINE.match(text) or text.startswith("$ "):
            return m
    return 0


def _failed_steps(sc: _Scanner, anchors: list[int]) -> list[tuple[int, int]]:
    """(first, last) line of the output of each step that ended with a failure: from its command to its exit line."""
    steps = []
    for a in anchors:
        i = bisect.bisect_left(sc.commands, a) - 1
        first = sc.commands[i] if i >= 0 else max(a - EXIT_BEFORE, 1)
        steps.append((first, a))
    return steps


def _pem_block(marks: list[tuple[int, bool, str]], n: int) -> int | None:
    """Index in marks of the BEGIN of the private-key block that line n lies in (after it, before its END)."""
    i = bisect.bisect_left(marks, (n,)) - 1
    if i >= 0 and marks[i][1] and n - marks[i][0] <= MAX_PEM_LINES:
        return i
    return None


def _filter_lines(texts: dict[int, str], line_filter: LineFilter, marks: list[tuple[int, bool, str]]) -> None:
    """Run the stateful line filter over the kept lines in order, telling it where a key block starts or ends.

    Kept lines have gaps; a key's body kept without its BEGIN line would look like plain text to a
    redactor that tracks PEM state, so at a gap into a key block the BEGIN line is fed first, and at a
    gap out of one its END line."""
    prev: int | None = None
    prev_block: int | None = None
    for n in sorted(texts):
        block = _pem_block(marks, n) if marks else None
        if prev is None or n != prev + 1:
            if prev_block is not None and prev_block != block:
                end = next((m for m in marks[prev_block + 1:] if not m[1]), None)
                if end is not None and end[0] < n:
                    line_filter(end[2])
            if block is not None and block != prev_block:
                line_filter(marks[block][2])
        texts[n] = line_filter(texts[n])
        prev, prev_block = n, block


@dataclass(slots=True)
class _Plan:
    """What the budget is spent on, in order of need: the retained lines and their ranked blocks."""

    texts: dict[int, str]
    verdicts: set[int]  # lines that are a tool's own verdict
    anchors: list[int]
    steps: list[tuple[int, int]]
    ranked: list[_Block]


def _read_context(texts: dict[int, str], scores: dict[int, float]) -> None:
    """Raise the scores of lines whose neighbours say what they are, whatever words they use themselves."""
    for n, t in texts.items():
        # A line that points above it: a usage banner printed after a rejected argument ("Usage of prog:"),
        # or a report that a command failed ("npm ERR! Test failed.  See above for more details."). The
        # last line printed before it says what was wrong.
        if _USAGE.match(t) or is_wrapper(t):
            above = texts.get(n - 1)
            if above and above.strip() and scores[n - 1] < SEED_SCORE and not is_wrapper(above):
                scores[n - 1] = USAGE_ERROR_SCORE
        # An uncaught exception printed with its stack ("Error: Cannot find module 'x'" over "    at ..."
        # frames) is the runtime's own verdict, as a Python traceback is.
        elif _UNCAUGHT.match(t) and _FRAME.match(texts.get(n + 1, "")) and scores[n] < VERDICT_SCORE:
            scores[n] = VERDICT_SCORE


def _plan(sc: _Scanner, total_lines: int, tail_lines: list[tuple[int, str]]) -> _Plan:
    """Clean and filter the kept lines, find the failing steps and rank the failure blocks."""
    texts = {n: line if isinstance(line, str) else render_line(line) for n, line in sc.retained.items()}
    for n, text in tail_lines:
        texts[n] = text
    read = dict(texts) if sc.line_filter is not None else texts
    if sc.line_filter is not None:
        _filter_lines(texts, sc.line_filter, sc.pem_marks)
    scores = {n: sc.scores[n] if n in sc.scores and t == read[n] else score_line(t) for n, t in texts.items()}
    verdicts = {n for n, score in scores.items() if score >= VERDICT_SCORE}
    _read_context(texts, scores)
    exits = {n for n, t in texts.items() if is_exit_line(t)} | {c.n for c in sc.candidates if c.step_end and c.n in texts}
    anchors = sorted(exits)
    steps = _failed_steps(sc, anchors)
    blocks = _blocks(texts, scores, exits)
    last_anchor = anchors[-1] if anchors else total_lines

    block_score = {b.seed: max(scores[n] for n in range(b.seed, b.end + 1) if n in texts) for b in blocks}
    in_step = {b.seed: next((i for i, (lo, hi) in enumerate(steps) if lo <= b.seed <= hi), None) for b in blocks}
    # The first description of the failure: the first block of a failing step that is as strong as any in it.
    step_best: dict[int, float] = {}
    for b in blocks:
        step = in_step[b.seed]
        if step is not None and b.seed not in exits:
            step_best[step] = max(step_best.get(step, 0.0), block_score[b.seed])
    seen: dict[str, int] = {}
    first_of_step: set[int] = set()
    for b in blocks:
        w = block_score[b.seed]
        step = in_step[b.seed]
        if step is not None:
            w *= IN_STEP
            if step not in first_of_step and b.seed not in exits and block_score[b.seed] >= step_best[step]:
                first_of_step.add(step)
                w *= FIRST_IN_STEP
        elif b.seed > last_anchor:
            w *= AFTER_LAST_STEP
        else:
            w *= 0.4 + 0.6 * b.seed / max(total_lines, 1)
        section = sc.section_at(b.seed)
        if section and CLEANUP_SECTIONS.search(section):
            w *= CLEANUP
        # A block repeats an earlier one when its failure lines say nothing new: the same error printed
        # again with the runner's summary under it is news, the same stack trace alone is not.
        key = "\n".join(sorted({dedup_key(texts[n]) for n in range(b.start, b.end + 1)
                                 if n in texts and scores[n] >= SEED_SCORE} or {dedup_key(texts[b.seed])}))
        w *= REPEAT ** seen.get(key, 0)
        seen[key] = seen.get(key, 0) + 1
        b.value = w
    ranked = sorted(blocks, key=lambda b: (-b.value, b.seed))
    return _Plan(texts, verdicts, anchors, steps, ranked)


def _select(sc: _Scanner, total_lines: int, tail_lines: list[tuple[int, str]]) -> Excerpt:
    """Fill the budget: how the job ended, whole failure blocks by rank, the failing step's end, context."""
    plan = _plan(sc, total_lines, tail_lines)
    texts, verdicts, anchors, steps, ranked = plan.texts, plan.verdicts, plan.anchors, plan.steps, plan.ranked
    budget = max(sc.budget, 0)
    limit = max(40, min(SHOWN_LINE_CHARS, budget // 6))
    shown: dict[int, str] = {}
    used = 0

    def whole_or_thin(b: _Block) -> list[int]:
        """A block's lines: whole when it is framed or fits in what is left of the budget, else without the
        repeats of a line shape it already showed SIMILAR_LINES times (a retry loop printing the same errors)."""
        lines = [n for n in b.lines() if n in texts and n not in shown]
        if b.framed or sum(len(clip(texts[n], limit)) + 1 for n in lines) <= budget - used:
            return lines
        similar: dict[str, int] = {}
        out = []
        for n in lines:
            key = dedup_key(texts[n])[:SIMILAR_PREFIX]
            # A tool's verdict line ("FAIL: test_x") is never thinned out: each names a failure.
            if similar.get(key, 0) >= SIMILAR_LINES and texts[n].strip() and n not in verdicts:
                continue
            similar[key] = similar.get(key, 0) + 1
            out.append(n)
        return out

    def take(numbers: list[int], partial: bool = True) -> None:
        nonlocal used
        lines = [n for n in numbers if n in texts and n not in shown]
        cost = sum(len(clip(texts[n], limit)) + 1 for n in lines)
        if not partial and used + cost > budget:
            return
        for n in lines:
            text = clip(texts[n], limit)
            if used + len(text) + 1 > budget:
                if partial:
                    break
                continue
            shown[n] = text
            used += len(text) + 1

    # How the job ended: the last non-empty lines and the lines that say a step failed.
    ends = [n for n, t in reversed(tail_lines) if t.strip()][:2]
    take(sorted(ends))
    take(anchors[:1] + anchors[-2:])
    if ranked:
        # The top block and the blocks that carry straight on from it (a long report is several blocks).
        in_order = sorted(ranked, key=lambda x: (x.start, x.seed))
        starts = [x.start for x in in_order]
        b = ranked[0]
        take(list(range(b.start - 1, b.start - CONTEXT_BEFORE - 1, -1)), partial=False)
        while b is not None and used < budget * TOP_SHARE:
            take(whole_or_thin(b))
            # The next block that starts inside this one or right after it (one blank line between) and
            # reaches past its end: a report's header block is followed into the items it heads.
            i = bisect.bisect_right(starts, b.start)
            while i < len(in_order) and starts[i] <= b.end + 2 and in_order[i].end <= b.end:
                i += 1
            b = in_order[i] if i < len(in_order) and starts[i] <= b.end + 2 else None
    # The first output of the failing command often names the failure (a usage error, a bad flag).
    for lo, hi in dict.fromkeys(steps[-4:]):
        if texts.get(lo, "").startswith("$ "):  # a step found from its command echo, not a guess
            take(list(range(lo, min(lo + STEP_HEAD_LINES + 1, hi))), partial=False)
    # The last output of the first and the last failing step, whatever it says, up to a share of the budget.
    for lo, hi in dict.fromkeys(steps[:1] + steps[-1:]):
        share = used + budget * STEP_SHARE
        for n in range(hi - 1, lo - 1, -1):
            if n not in texts or used + len(clip(texts[n], limit)) + 1 > share:
                break
            take([n])
    for b in ranked[1:]:
        if not b.carried:
            take(whole_or_thin(b), partial=False)
    # Context: a line or two above each chosen block and what follows it, then the end of the log.
    for b in ranked:
        if b.seed in shown:
            take(list(range(b.start - 1, b.start - CONTEXT_BEFORE - 1, -1)), partial=False)
            take(list(range(b.end + 1, b.end + CONTEXT_AFTER + 1)), partial=False)
    for lo, hi in reversed(steps):
        take(list(range(hi - 1, lo - 1, -1)))
    take([n for n, _ in reversed(tail_lines)])

    chosen = sorted(shown)
    # A blank line on its own says nothing; keep blanks only next to chosen text.
    picked = set(chosen)
    chosen = [n for n in chosen if shown[n].strip() or n == total_lines
              or (n - 1 in picked and shown[n - 1].strip()) or (n + 1 in picked and shown[n + 1].strip())]
    lines = [ExcerptLine(n, shown[n], sc.section_at(n), hidden_chars(texts[n], shown[n])) for n in chosen]
    top = ranked[0].seed if ranked else None
    failed = sc.section_at(top) if top is not None else None
    if failed is None and sc.section_names:
        failed = next((s for s in reversed(sc.section_names) if s and not CLEANUP_SECTIONS.search(s)), None)
    truncated = sc.max_bytes is not None and sc.bytes_read > sc.max_bytes
    lead = (ranked[0].start, ranked[0].end) if ranked else None
    return Excerpt(lines, total_lines=total_lines, failed_section=failed, bytes_read=sc.bytes_read, truncated=truncated,
                   lead=lead)


# --- public entry points ---------------------------------------------------------
def excerpt(log: str | bytes, budget_chars: int = DEFAULT_BUDGET, max_bytes: int | None = None,
            line_filter: LineFilter | None = None) -> Excerpt:
    """The failure excerpt of a whole log held in memory."""
    data = log.encode("utf-8", errors="replace") if isinstance(log, str) else bytes(log)
    sc = _Scanner(budget=budget_chars, max_bytes=max_bytes, line_filter=line_filter)
    for i in range(0, len(data), CHUNK_BYTES):
        sc.feed(data[i:i + CHUNK_BYTES])
    return sc.finish()


async def excerpt_stream(chunks: AsyncIterator[bytes], budget_chars: int = DEFAULT_BUDGET,
                         max_bytes: int | None = None, line_filter: LineFilter | None = None) -> Excerpt:
    """The failure excerpt of a log read as a stream of byte chunks (memory stays bounded)."""
    sc = _Scanner(budget=budget_chars, max_bytes=max_bytes, line_filter=line_filter)
    async for chunk in chunks:
        sc.feed(chunk)
    return sc.finish()


def excerpt_chunks(chunks: Iterable[bytes], budget_chars: int = DEFAULT_BUDGET, max_bytes: int | None = None,
                   line_filter: LineFilter | None = None) -> Excerpt:
    """The failure excerpt of a log given as a plain iterable of byte chunks."""
    sc = _Scanner(budget=budget_chars, max_bytes=max_bytes, line_filter=line_filter)
    for chunk in chunks:
        sc.feed(chunk)
    return sc.finish()


def excerpt_file(path: str | PathLike[str], budget_chars: int = DEFAULT_BUDGET, max_bytes: int | None = None,
                 line_filter: LineFilter | None = None) -> Excerpt:
    """The failure excerpt of a log file, read in chunks; raises OSError if it cannot be read."""
    with open(path, "rb") as fh:
        return excerpt_chunks(iter(lambda: fh.read(CHUNK_BYTES), b""), budget_chars, max_bytes, line_filter)


class _LineSplitter:
    """Splits a byte stream into raw lines, holding only the two ends of a line longer than LONG_LINE_BYTES."""

    def __init__(self) -> None:
        self.carry = b""
        self.long: tuple[bytes, bytes, int] | None = None

    def feed(self, piece: bytes) -> list[bytes | tuple[bytes, bytes, int]]:
        out: list[bytes | tuple[bytes, bytes, int]] = []
        data = self.carry + piece
        pos = 0
        while (end := data.find(b"\n", pos)) >= 0:
            out.append(self._line(data[pos:end]))
            pos = end + 1
        rest = data[pos:]
        if self.long is not None or len(rest) > LONG_LINE_BYTES:
            self._grow(rest)
            rest = b""
        self.carry = rest
        return out

    def _grow(self, part: bytes) -> None:
        head, tail, total = self.long or (b"", b"", 0)
        if len(head) < LONG_END_BYTES:
            head += part[: LONG_END_BYTES - len(head)]
        self.long = (head, (tail + part[-LONG_END_BYTES:])[-LONG_END_BYTES:], total + len(part))

    def _line(self, raw: bytes) -> bytes | tuple[bytes, bytes, int]:
        if self.long is None:
            return raw
        self._grow(raw)
        head, tail, total = self.long
        self.long = None
        if tail.endswith(b"\r"):
            tail, total = tail[:-1], total - 1
        return head, tail, total

    def close(self) -> bytes | tuple[bytes, bytes, int]:
        return self._line(self.carry)


def _render_any(line: bytes | tuple[bytes, bytes, int]) -> tuple[bytes, str]:
    if isinstance(line, tuple):
        return line[0], _render_ends(*line)
    return line, render_line(line)


async def read_line_range(chunks: AsyncIterator[bytes], first: int, last: int,
                          line_filter: LineFilter | None = None) -> list[ExcerptLine]:
    """Cleaned lines first..last (1-based, inclusive, at most MAX_RANGE_LINES) of a streamed log.

    line_filter sees every line from the first one on, in order, so a stateful redactor
    that needs the lines above the range (say, the start of a key block) still works."""
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
            _, text = _render_any(line)
            if line_filter is not None:
                text = line_filter(text)
            if n >= first:
                out.append(ExcerptLine(n, text, section))
        return n >= last

    splitter = _LineSplitter()
    async for chunk in chunks:
        for i in range(0, len(chunk), CHUNK_BYTES):
            for line in splitter.feed(bytes(chunk[i:i + CHUNK_BYTES])):
                if take(line):
                    return out
    take(splitter.close())
    return out
