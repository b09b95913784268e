"""Per-line timestamp prefixes (GitLab Runner's FF_TIMESTAMPS, ISO-8601 as GitHub Actions writes them, Jenkins' Timestamper, TeamCity's) removed from a streamed log."""

from __future__ import annotations

import re

# GitLab Runner 17+ with FF_TIMESTAMPS: "<RFC 3339 UTC, 6 fractional digits>Z <2 hex stream id><O|E><space or +> ",
# "+" when the line continues one the runner split.
_GITLAB = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z [0-9a-f]{2}[OE]"
# GitHub Actions (7 fractional digits), `docker logs -t` and kubectl (9), Buildkite and many tools: an ISO-8601
# time with its zone, then one space.
_ISO = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d) "
# Jenkins' Timestamper plugin: the time in brackets (`[2026-12-09T10:20:11.123Z] `) or the clock alone (`10:20:11 `).
_JENKINS = rb"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z\] "
_CLOCK = rb"\d\d:\d\d:\d\d "
# TeamCity's build log as downloaded: the time, the message's status flag, a tab, and the step (`[10:20:11]i:\t [Step
# 2/3] `).
_TEAMCITY = rb"\[\d\d:\d\d:\d\d\][ iWEF]:\t ?(?: {0,8}\[Step \d+/\d+\] )?"
GITLAB = "gitlab"
ISO = "iso"
JENKINS = "jenkins"
TEAMCITY = "teamcity"
CLOCK = "clock"
PLAIN = "plain"
_STYLES = {ISO: _ISO, JENKINS: _JENKINS, TEAMCITY: _TEAMCITY, CLOCK: _CLOCK}
_PREFIX = {GITLAB: re.compile(_GITLAB + rb"[ +]"), **{k: re.compile(v) for k, v in _STYLES.items()}}
# After a newline, so the regex engine scans for the newline in a tight loop and tries the rest only there.
_AFTER_NEWLINE = {
    GITLAB: re.compile(rb"\n" + _GITLAB + rb" "),
    **{k: re.compile(rb"\n" + v) for k, v in _STYLES.items()},
}
_CONTINUED = re.compile(rb"\n" + _GITLAB + rb"\+")
# The style is read from the first lines: most of them carry the prefix in a log that has one.
DETECT_LINES = 20
DETECT_BYTES = 64 * 1024
DETECT_SHARE = 0.6
# The longest prefix (9 fractional digits and a zone offset) fits in this many bytes after its newline.
PREFIX_MAX = 48


def detect(head: bytes) -> str:
    """The prefix style of a log from its first lines: GITLAB, ISO or PLAIN."""
    lines = head.split(b"\n")[:DETECT_LINES]
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return PLAIN
    for style in (GITLAB, ISO, JENKINS, TEAMCITY, CLOCK):
        pattern = _PREFIX[style]
        if sum(1 for line in lines if pattern.match(line)) >= DETECT_SHARE * len(lines):
            return style
    return PLAIN


class Destamper:
    """Removes the timestamp prefix of every line from raw log bytes fed in pieces, keeping every newline.

    A line the runner split ("+" after the stream) is joined to the line it continues, and its own
    newline moves after the joined text: each line keeps its number, so links still point at it, and
    the continuation's number holds an empty line. PLAIN logs pass through untouched."""

    def __init__(self) -> None:
        self.style: str | None = None  # decided from the first lines
        self.head = b""  # held until the style is decided
        self.carry = b"\n"  # a newline and the start of the next line, held until its prefix can be seen
        self.started = False  # the newline in front of the first line is ours: dropped once
        self.pending = 0  # newlines of joined continuation lines, written after the line they joined
        self.own_removed = 0  # bytes of this stamper's prefixes removed so far
        # A second prefix under the first (a GitHub Actions log replayed by a stamping runner) is removed too.
        self.inner: Destamper | None = None

    def feed(self, piece: bytes) -> bytes:
        """The destamped bytes that can be given out so far (maybe none)."""
        if self.style is None:
            self.head += piece
            if self.head.count(b"\n") < DETECT_LINES and len(self.head) < DETECT_BYTES:
                return b""
            piece, self.head = self.head, b""
            self.style = detect(piece)
            self.inner = Destamper() if self.style != PLAIN else None
        if self.style == PLAIN:
            return piece
        data = self.carry + piece
        last = data.rfind(b"\n")
        cut = last if last >= 0 and len(data) - last <= PREFIX_MAX else len(data)
        self.carry = data[cut:]
        return self._inner(self._strip(data[:cut]))

    @property
    def removed(self) -> int:
        """Bytes of prefixes removed so far, the inner ones included."""
        return self.own_removed + (self.inner.removed if self.inner is not None else 0)

    def _inner(self, out: bytes, final: bool = False) -> bytes:
        if self.inner is None:
            return out
        out = self.inner.feed(out)
        return out + self.inner.close() if final else out

    def close(self) -> bytes:
        """The rest, at the end of the log."""
        if self.style is None:
            self.style = detect(self.head)
            self.inner = Destamper() if self.style != PLAIN else None
            out = self.head if self.style == PLAIN else self._strip(self.carry + self.head)
            self.head = b""
        elif self.style == PLAIN:
            return b""
        else:
            out = self._strip(self.carry)
        self.carry = b""
        out += b"\n" * self.pending
        self.pending = 0
        return self._inner(out, final=True)

    def _strip(self, work: bytes) -> bytes:
        if not work:
            return work
        out, count = _AFTER_NEWLINE[self.style].subn(b"\n", work)
        if (
            self.style == GITLAB
            and (self.pending or count != work.count(b"\n"))
            and (self.pending or _CONTINUED.search(work))
        ):
            out = self._join(work)
        self.own_removed += len(work) - len(out)
        if not self.started:
            self.started = True
            out = out[1:]  # work began with our newline
        return out

    def _join(self, work: bytes) -> bytes:
        """Line by line, for the rare piece with continuation lines (or newlines owed to one)."""
        pattern = _PREFIX[GITLAB]
        parts = work.split(b"\n")
        out = [parts[0]]  # the rest of a line begun in an earlier piece
        for part in parts[1:]:
            m = pattern.match(part)
            if m and part[m.end() - 1 : m.end()] == b"+":
                out.append(part[m.end() :])
                self.pending += 1
            else:
                out.append(b"\n" * (1 + self.pending))
                self.pending = 0
                out.append(part[m.end() :] if m else part)
        return b"".join(out)
