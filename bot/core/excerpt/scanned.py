"""What the streaming scanner reads raw blocks with, and what it gives back: the pre-filter, GitLab section markers, long lines, the ScanResult."""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field

from bot.core.excerpt.clean import LONG_END_BYTES
from bot.core.excerpt.rules import PREFILTER_WORDS

# A separator rule, bare or titled: "==========", "========DONE========", "--- Output ---".
RULE_LINE = re.compile(r"^\s*([=_*#~-])\1{2,}(\s*[\w .:-]{0,40}?\s*\1{3,})?\s*$")
RULE_LINE_BYTES = re.compile(RULE_LINE.pattern.encode())
_SECTION = re.compile(rb"section_(start|end):(\d+):([A-Za-z0-9_.\-]+)(?:\[[^\]\r\n]*\])?\r?(?:\x1b\[0K)?")


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
                del stack[stack.index(name) :]
    after = stack[-1] if stack else None
    return (this if this is not None else after), after


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
        alternatives.setdefault(anchor, []).append(
            re.escape(word[at + 1 :]) + (b"(?<=" + re.escape(word) + b")" if at else b"")
        )
    return [
        re.compile(re.escape(bytes([anchor])) + b"(?:" + b"|".join(alts) + b")")
        for anchor, alts in alternatives.items()
    ]


# The pre-filter passes over every byte once per pattern, and a pass costs far more than the match
# attempts it makes: the regex engine scans for a pattern's literal first letter in a tight loop and
# tries the rest only where it finds one. So each word is matched from a letter it shares with others,
# and every pre-filter word holds an "e" or an "a": 2 passes instead of 13 with bytes.find.
_PREFILTER = _anchored(PREFILTER_WORDS)


def hit_lines(block: bytes) -> list[int]:
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
class LongLine:
    """A line too long to hold, read piece by piece: only its two ends and its length are kept."""

    head: bytes = b""
    tail: bytes = b""
    length: int = 0

    def add(self, part: bytes) -> None:
        if len(self.head) < LONG_END_BYTES:
            self.head += part[: LONG_END_BYTES - len(self.head)]
        self.tail = (self.tail + part[-LONG_END_BYTES:])[-LONG_END_BYTES:]
        self.length += len(part)

    def ends(self) -> tuple[bytes, bytes, int]:
        """(head, tail, length) of the whole line, without the CR of a CRLF ending."""
        if self.tail.endswith(b"\r"):
            return self.head, self.tail[:-1], self.length - 1
        return self.head, self.tail, self.length


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the scan of a whole log found, all that block selection reads: the kept lines, cleaned, and the log's shape."""

    texts: dict[int, str]  # the cleaned kept lines by number, the tail included; before the line filter
    scores: dict[int, float]  # scores of lines scored while reading (not of every kept line)
    tail: list[tuple[int, str]]  # the last lines of the log, newest last
    total_lines: int
    step_ends: list[int]  # lines that end a GitLab section that is not clean-up
    commands: list[int]  # lines that echo a script command ("$ make test"), in order
    pem_marks: list[tuple[int, bool, str]]  # (line, is BEGIN, text) of private keys, in order
    section_lines: list[int]  # from line section_lines[i] to the next entry, the section is section_names[i]
    section_names: list[str | None]
    bytes_read: int
    truncated: bool  # the log was longer than max_bytes: past it, only strong and exit lines were candidates
    heads: dict[int, str] = field(default_factory=dict)  # the first lines of the last steps not in texts, cleaned
    posts: list[int] = field(default_factory=list)  # lines that start a phase run after a failure, in order
    traced: bool = False  # commands holds a traced script's command echoes (`+ make test`): no runner echoes any
    xtraces: frozenset[int] = frozenset()  # those echoes' lines

    def section_at(self, n: int) -> str | None:
        i = bisect.bisect_right(self.section_lines, n) - 1
        return self.section_names[i] if i >= 0 else None
