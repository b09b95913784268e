"""Line cleaning: what a terminal shows of a raw log line (ANSI, carriage returns, control characters), and clipping."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

# Run over the cleaned lines in log order (the redactor, which keeps state from line to line).
LineFilter = Callable[[str], str]

CUT_MARK = "… [{n} chars cut] …"
# Lines longer than this are never held whole: only their two ends are kept.
LONG_LINE_BYTES = 1 << 20
LONG_END_BYTES = 16 * 1024
# Cleaned text kept per line; the excerpt shortens further to fit the budget.
STORE_CHARS = 2000

# A string sequence shows nothing: OSC (`ESC ]0;title BEL`), and APC, DCS, PM and SOS, ended by BEL or ST (Buildkite
# puts its timestamp before every line as an APC, `ESC _bk;t=1765275611000 BEL`).
_STRING = r"\x1b[\]_P^X][^\x07\x1b]*(?:\x07|\x1b\\)?"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|" + _STRING + r"|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]?")
_TERMINAL = re.compile(r"\r|\x1b\[([0-9;?]*)([A-Za-z])|" + _STRING + r"|\x1b[()][A-Za-z0-9]|\x1b[@-Z\\-_]?|\x08")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The controls that move the cursor or erase (CR, backspace, ESC[K/G/C/D): without them a line is its text.
_CURSOR = re.compile(r"[\r\x08]|\x1b\[[0-9;?]*[KGCD]")
# A CR, plain text and an erase of all right of the cursor (a progress line redrawn: "\rremote: 5% (2/40)\x1b[K"),
# or a CR and an erase of the whole line in either order (docker pull): the screen then holds just that
# text, whatever came before.
_REDRAW = re.compile(r"\r([^\r\x08\x1b]*)\x1b\[0?K|\r\x1b\[2K|\x1b\[2K\r")
_CUT_MARK_RE = re.compile(re.escape(CUT_MARK).replace(r"\{n\}", r"(\d+)"))


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
    for redraw in _REDRAW.finditer(line):  # noqa: B007 (the last match is wanted, after the loop)
        pass
    # Only an OSC sequence ("\x1b]0;title") can hold a CR that does not return to column 0.
    if redraw is None or "\x1b]" in line[: redraw.start()]:
        return line
    return (redraw.group(1) or "") + line[redraw.end() :]


def _overwrite(writes: list[str]) -> str:
    """What writes that each start at column 0 leave on screen: each column shows the last write that reached it."""
    shown = ""
    for text in reversed(writes):
        if len(text) > len(shown):
            shown += text[len(shown) :]
    return shown


def _replay(line: str) -> str:
    """Play one line on a terminal, character cell by cell, and return what it shows."""
    cells: list[str] = []
    col = 0
    pos = 0
    for m in _TERMINAL.finditer(line):
        if m.start() > pos:
            text = line[pos : m.start()]
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
            cells[col : col + len(text)] = text
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


def without_escapes(text: str) -> str:
    """text without its ANSI escape sequences (colours, erases, titles); nothing else changes."""
    return _ANSI.sub("", text) if "\x1b" in text else text


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
        return render_ends(raw[:LONG_END_BYTES], raw[-LONG_END_BYTES:], len(raw))
    return shorten(clean_text(_decode(raw)), STORE_CHARS)


def render_ends(head: bytes, tail: bytes, total: int) -> str:
    """Render an over-long line from its two ends; the middle was never held in memory."""
    # The head is decoded incrementally so a character cut at the end is dropped, not garbled.
    head_text = clean_text(codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=False))
    tail_text = clean_text(_decode(tail.lstrip(bytes(range(0x80, 0xC0)))))
    half = STORE_CHARS // 2
    head_text, tail_text = head_text[:half], tail_text[-half:]
    cut = max(total - len(head_text.encode()) - len(tail_text.encode()), 0)
    return head_text + CUT_MARK.format(n=cut) + tail_text


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
