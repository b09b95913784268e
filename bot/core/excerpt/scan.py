"""The streaming scanner: one pass over a log's raw bytes that keeps the candidate failure lines and their context."""

from __future__ import annotations

import bisect
import heapq
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.core.excerpt.ci_systems import (
    STEP_START_BYTES,
    STEP_START_WORDS,
    XTRACE_BYTES,
    XTRACE_SHOWN,
    bare,
    is_log_dump,
    is_post_start,
    is_step_start,
    is_xtrace_step,
)
from bot.core.excerpt.clean import LONG_END_BYTES, LONG_LINE_BYTES, STORE_CHARS, render_ends, render_line
from bot.core.excerpt.rules import (
    CLEANUP_SECTIONS,
    COMMAND_STARTS,
    STRONG,
    VERDICT,
    is_exit_line,
    score_line,
)
from bot.core.excerpt.scanned import (
    RULE_LINE_BYTES,
    LongLine,
    ScanResult,
    apply_markers,
    hit_lines,
    section_markers,
)
from bot.core.excerpt.stamps import PLAIN, Destamper

CHUNK_BYTES = 64 * 1024
# Context kept around a candidate line, in lines, and how far back raw bytes are remembered.
BEFORE = 6
# Above a line that says a step failed, the step's own last output is kept this far back.
EXIT_BEFORE = 120
AFTER = 30
XTRACE_WALK = 64  # traced echoes read up from an exit line at most (a diff's added lines look like them)
DUMP_BEFORE = 12  # above a traced command that dumps logs after a failure, the failed command's last output is kept
# A verdict right under a separator rule closes a framed report (a diff between two rules): kept this far up.
FRAMED_BEFORE = 150
MAX_BEFORE = max(BEFORE, EXIT_BEFORE, FRAMED_BEFORE)
HISTORY_BYTES = 256 * 1024
# The first lines of each of the last STEP_HEADS steps are kept whatever they say: a step that fails without a failure
# word often names the problem in its first line ("These files lack the licence header:"), far above its exit line.
STEP_HEADS = 6
HEAD_LINES = 10  # the command and what follows it; GitHub Actions' group of the step's script comes first
HEAD_BYTES = 16 * 1024  # at most this much of a step's head is held
MAX_CANDIDATES = 600
MAX_RETAINED_CHARS = 4_000_000
# Runners echo each script command before its output (rules.COMMAND_STARTS): "$ command" (GitLab, Travis),
# "##[group]Run command" (GitHub Actions).
COMMAND_ECHO = b"$ "
# A regex finds "$ " faster than bytes.find: it scans for the rare "$", bytes.find tests every byte against the
# needle's last one, a space. One literal each: an alternation of the two scans ten times slower.
_COMMAND_ECHOES = (re.compile(re.escape(COMMAND_ECHO)), re.compile(re.escape(b"##[group]Run ")))
OTHER_STEPS_BYTES = 256 * 1024  # other systems' step starts are looked for in this much of a log's start
# PEM armour of a private key; the line filter (the redactor) must see a key's BEGIN line before its body.
PEM_BEGIN = b"-----BEGIN"
PEM_END = b"-----END"
_PEM_PRIVATE = re.compile(rb"-----(BEGIN|END)[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")


def _lines_above(block: bytes, start: int) -> Iterator[str]:
    """The lines of block above the one at offset start, nearest first, without their CI prefixes."""
    while start > 0:
        prev = block.rfind(b"\n", 0, start - 1) + 1
        yield bare(render_line(block[prev : start - 1]))
        start = prev


@dataclass(slots=True)
class _Candidate:
    n: int
    score: float
    exit: bool = False
    step_end: bool = False  # a GitLab section (not clean-up) ended here


@dataclass(slots=True)
class Scanner:
    """Feeds on raw chunks, keeps only candidate windows and the recent bytes, returns the ScanResult."""

    budget: int  # the tail of the log is kept up to this many characters
    max_bytes: int | None  # past this many bytes, only strong and exit lines become candidates
    bytes_read: int = 0
    line_no: int = 1  # number of the line that starts at the beginning of the next block
    carry: bytes = b""
    # The history is the last HISTORY_BYTES read. It is kept as the recent blocks and joined only when a
    # line above a block is wanted: joining and cutting it for every block cost as much as a pre-filter pass.
    recent: deque[bytes] = field(default_factory=deque)
    recent_bytes: int = 0
    history_whole: bool = True  # history starts at a line boundary
    long: LongLine | None = None  # the line being read, once it is too long to hold
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
    # A traced script's command echoes (`+ make test`), steps only in a log whose runner echoes no command itself:
    # under GitLab or Travis, `set -x` echoes the commands of one step the runner echoed.
    xtraces: list[int] = field(default_factory=list)
    runner_echoes: bool = False  # the runner echoed a command ("$ make test")
    block_exits: list[int] = field(default_factory=list)  # where the exit lines of the block being read start
    posts: list[int] = field(default_factory=list)  # lines that start a phase run after a failure (ci_systems)
    other_steps: bool = False  # the log shows other systems' step starts (looked for in its first bytes)
    steps_looked: int = 0  # bytes looked through for them
    heads: dict[int, bytes] = field(default_factory=dict)  # step line -> its first lines, raw, as one slice
    head_steps: deque[int] = field(default_factory=deque)  # the steps whose first lines are in heads
    head_open: int | None = None  # the step whose head is still being read
    pem_marks: list[tuple[int, bool, str]] = field(default_factory=list)  # (line, is BEGIN, text) of private keys
    # Removes per-line timestamps before anything reads the lines; None once the log is known to have none.
    stamps: Destamper | None = field(default_factory=Destamper)
    stamp_bytes: int = 0  # prefix bytes removed, counted in bytes_read

    # --- reading ---------------------------------------------------------------
    def feed(self, chunk: bytes) -> None:
        if self.stamps is not None:
            chunk = self._destamp(self.stamps.feed(bytes(chunk)))
        for i in range(0, len(chunk), CHUNK_BYTES):
            self._feed_piece(bytes(chunk[i : i + CHUNK_BYTES]))

    def _destamp(self, out: bytes, stamps: Destamper | None = None) -> bytes:
        """Count the prefix bytes removed as read (limits are about the log as fetched); forget a plain log's stamper."""
        stamps = stamps or self.stamps
        assert stamps is not None
        self.bytes_read += stamps.removed - self.stamp_bytes
        self.stamp_bytes = stamps.removed
        if stamps.style == PLAIN:
            self.stamps = None
        return out

    def _feed_piece(self, piece: bytes) -> None:
        self.bytes_read += len(piece)
        if self.long is not None:
            nl = piece.find(b"\n")
            self.long.add(piece if nl < 0 else piece[:nl])
            if nl < 0:
                return
            self._long_done()
            piece = piece[nl + 1 :]
        data = self.carry + piece if self.carry else piece
        last = data.rfind(b"\n")
        if last < 0:
            self.carry = data
        else:
            self.carry = data[last + 1 :]
            self._block(data[: last + 1])
        if len(self.carry) > LONG_LINE_BYTES:
            self.long = LongLine()
            self.long.add(self.carry)
            self.carry = b""

    def _long_done(self) -> None:
        assert self.long is not None
        long, self.long = self.long, None
        self._long_line(*long.ends())

    def _long_line(self, head: bytes, tail: bytes, total: int) -> None:
        """One line too long to hold: scored and kept from its ends; older history is dropped."""
        n = self.line_no
        step_end = self._markers(head, n)
        text = render_ends(head, tail, total)
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
            block = block[first_nl + 1 :]
            if not block:
                return
        base = self.line_no
        if self.capture_until >= base:
            self._capture(block, 0, base, self.capture_until)
        if self.head_open is not None:
            self._capture_head(block, 0)
        counted_pos, counted_n = 0, base
        for start in hit_lines(block):
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
        """Remember the lines where the runner echoes a script command or another system starts a step's output."""
        starts = []
        if not self.other_steps and self.steps_looked < OTHER_STEPS_BYTES:
            # Each pattern is a pass over every byte: other systems' step starts are looked for only in a log whose
            # first OTHER_STEPS_BYTES show one (their framing starts with the job); a block before held none.
            self.steps_looked += len(block)
            self.other_steps = any(word in block for word in STEP_START_WORDS)
        echoes = _COMMAND_ECHOES + STEP_START_BYTES if self.other_steps else _COMMAND_ECHOES
        for echo in echoes:
            found = echo.search(block)
            while found:
                i = found.start()
                start = block.rfind(b"\n", 0, i) + 1
                end = block.find(b"\n", i)
                if i - start < 200:
                    starts.append((start, end))
                found = echo.search(block, end)
        counted_pos, counted_n = 0, base
        for start, end in sorted(set(starts)):
            counted_n += block.count(b"\n", counted_pos, start)
            counted_pos = start
            text = render_line(block[start:end])
            if not self.runner_echoes and text.startswith(COMMAND_STARTS):
                self.runner_echoes = True
                self.xtraces.clear()
            if is_post_start(text):
                # The step that failed ran before this phase: its last lines are kept as above an exit line.
                self.posts.append(counted_n)
                self._retain(counted_n, text)
                self._capture_before(block, start, counted_n, EXIT_BEFORE)
            elif text.startswith(COMMAND_STARTS) or is_step_start(text):
                self.commands.append(counted_n)
                if len(self.commands) > 20_000:
                    del self.commands[:10_000]
                self._step_head(block, start, counted_n)
        if not self.runner_echoes:
            self._xtraces(block, base)
        self.block_exits.clear()

    def _xtraces(self, block: bytes, base: int) -> None:
        """Remember the traced commands' echoes (`+ make test`) that may start a failing step: the last one above each
        exit line of this block and above its end, and the one above a command that dumps logs after a failure. The
        others are never read: a traced log echoes many of its lines, and reading each slowed it threefold."""
        if len(self.xtraces) < XTRACE_SHOWN and self.bytes_read - len(block) > OTHER_STEPS_BYTES:
            return  # a traced script's echoes start with the job: a log whose start shows none is not traced
        echoes: dict[int, tuple[int, str]] = {}  # line start -> (line number, text) of the echoes read
        seen: dict[int, bool] = {}  # line start -> whether its echo ends the walk up (an echo, not a log dump's)
        found = XTRACE_BYTES.search(block) if len(self.xtraces) < XTRACE_SHOWN else None
        while found and len(self.xtraces) + len(echoes) < XTRACE_SHOWN:
            # The first ones are read until the log shows it is traced.
            i = found.start()
            start, end = block.rfind(b"\n", 0, i) + 1, block.find(b"\n", i)
            if i - start < 200:
                seen[start] = self._xtrace(block, start, end, base, echoes)
            found = XTRACE_BYTES.search(block, end) if end >= 0 else None
        for point in [*self.block_exits, len(block)]:
            pos = point
            for _ in range(XTRACE_WALK):
                i = max(block.rfind(b"+ ", 0, pos), block.rfind(b"+(", 0, pos))
                if i < 0:
                    break
                start = block.rfind(b"\n", 0, i) + 1
                pos = start  # the walk goes on above this line
                if i - start >= 200:
                    continue
                if start not in seen:
                    seen[start] = self._xtrace(block, start, block.find(b"\n", i), base, echoes)
                if seen[start]:
                    break
        for start, (n, text) in sorted(echoes.items()):
            self.xtraces.append(n)
            self._step_head(block, start, n)
            if is_log_dump(text):
                # A traced script dumps logs after a command failed (`cmd || { kubectl get events; exit 1; }`): the
                # failed command's last output is above this echo, far above the exit line.
                self._retain(n, text)
                self._capture_before(block, start, n, DUMP_BEFORE)
        if len(self.xtraces) > 20_000:
            del self.xtraces[:10_000]

    @staticmethod
    def _xtrace(block: bytes, start: int, end: int, base: int, echoes: dict[int, tuple[int, str]]) -> bool:
        """Read one candidate line into echoes if it is a traced command's echo; True when it ends the walk up (an
        echo, not a log dump's)."""
        text = render_line(block[start:end])
        if not is_xtrace_step(bare(text), _lines_above(block, start)):
            return False
        echoes[start] = (base + block.count(b"\n", 0, start), text)
        return not is_log_dump(text)

    def _step_head(self, block: bytes, start: int, n: int) -> None:
        """Keep the first HEAD_LINES lines of the step that starts on line n (at offset start), forgetting the oldest
        step's when more than STEP_HEADS are kept."""
        self.head_steps.append(n)
        if len(self.head_steps) > STEP_HEADS:
            self.heads.pop(self.head_steps.popleft(), None)
        self.heads[n] = b""
        self.head_open = n
        self._capture_head(block, start)

    def _capture_head(self, block: bytes, pos: int) -> None:
        """Add to the open step's head the lines that start at pos in block, up to HEAD_LINES in all (one slice)."""
        n = self.head_open
        have = self.heads.get(n) if n is not None else None
        if have is None:
            self.head_open = None
            return
        end = pos
        for _ in range(HEAD_LINES + 1 - have.count(b"\n")):
            end = block.find(b"\n", end) + 1
            if end == 0:
                end = len(block)
                break
        else:
            self.head_open = None  # complete
        self.heads[n] = have + block[pos : min(end, pos + HEAD_BYTES)]
        if end - pos > HEAD_BYTES:
            self.head_open = None  # a long line: what was kept is enough

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
        if kind == "exit":
            self.block_exits.append(start)
        if kind:
            self._retain(n, text)
            before = EXIT_BEFORE if kind == "exit" else BEFORE
            if kind == "verdict" and RULE_LINE_BYTES.match(self._line_above(block, start)):
                before = FRAMED_BEFORE
            self._capture_before(block, start, n, before)
            if n + AFTER > self.capture_until:
                self._capture(block, end + 1, n + 1, n + AFTER)
                self.capture_until = n + AFTER

    def _line_above(self, block: bytes, start: int) -> bytes:
        """The raw line above the one that starts at start in block (from history at the block's top)."""
        if start > 0:
            return block[block.rfind(b"\n", 0, start - 1) + 1 : start - 1]
        history = self._history()
        return history[history.rfind(b"\n", 0, len(history) - 1) + 1 : -1]

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
        return "exit" if is_exit else "verdict" if score >= VERDICT else "hit"

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
                    self._retain(k, buf[prev : pos - 1])
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
    def finish(self) -> ScanResult:
        """End of the log: what was found, the kept lines cleaned."""
        if self.stamps is not None:
            stamps, self.stamps = self.stamps, None
            self.feed(self._destamp(stamps.close(), stamps))
        if self.long is not None:
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
        texts = {n: line if isinstance(line, str) else render_line(line) for n, line in self.retained.items()}
        for n, text in tail_lines:
            texts[n] = text
        heads = {
            n + k: render_line(raw[: 4 * STORE_CHARS])
            for n, chunk in self.heads.items()
            for k, raw in enumerate(chunk.split(b"\n")[:-1])  # whole lines only
            if n + k not in texts and n + k <= total_lines
        }
        traced = len(self.xtraces) >= XTRACE_SHOWN
        return ScanResult(
            texts,
            self.scores,
            tail_lines,
            total_lines,
            step_ends=[c.n for c in self.candidates if c.step_end],
            commands=sorted(self.commands + self.xtraces) if traced else self.commands,
            pem_marks=self.pem_marks,
            section_lines=self.section_lines,
            section_names=self.section_names,
            bytes_read=self.bytes_read,
            truncated=self.max_bytes is not None and self.bytes_read > self.max_bytes,
            heads=heads,
            posts=self.posts[-1000:],
            traced=traced,
            xtraces=frozenset(self.xtraces) if traced else frozenset(),
        )

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
            text = render_line(buf[prev : pos - 1])
            out.append((n, text))
            used += len(text) + 1
            pos = prev
        if pos == 0 and self.last_long and self.last_long[0] == n - 1 and used < want_chars:
            out.append(self.last_long)
        out.reverse()
        return out
