"""Passwords in shapes holding no pre-filter word: 7-Zip's `-pX` and Windows' `net use` (pure).

Their commands hold no letter the pre-filter could search for without slowing every line by 3.5-5% (`7z`, a UNC
path's backslashes), so a whole text (a log chunk, a message) is searched for their rare characters with find
(memchr: "z", a backslash), and only a line holding `7z` or `net use` beside one is read here."""

from __future__ import annotations

import re
from collections.abc import Callable

Mark = Callable[[str, str], str]

# 7-Zip's command (`7z`, `7za`, `7zr`, `7zz`, `7z.exe`, quoted as a path ends); only its `-p` switch starts with p
# (switches in either case).
_SEVEN_ZIP = re.compile(r"(?<![\w.-])7z[arz]?(?:\.exe)?[\"']?[ \t]", re.IGNORECASE)
_SEVEN_ZIP_PASSWORD = re.compile(r"(?<=[ \t])-[pP](\"[^\"\n]{3,}\"|'[^'\n]{3,}'|[^\s\"'*]{3,})")
_NET_USE = re.compile(r"(?<![\w-])net[ \t]+use[ \t]", re.IGNORECASE)
_WORD = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|\S+")
# A command ends at a shell separator: the rest of the line is another command's.
_COMMAND_END = re.compile(r"&&|\|\||[;|]")


def _seven_zip_finder(z: str) -> Callable[[str, int], int]:
    def find(text: str, pos: int) -> int:
        """Where the next `7z` starts; -1 if none. Found by its "z", rare in logs (a search for "7z" itself stops
        at every digit 7: four times slower); an upper-case `7Z` is looked for apart, in texts not lowered."""
        at = text.find(z, pos + 1)
        while at != -1 and text[at - 1] != "7":
            at = text.find(z, at + 1)
        return at - 1 if at != -1 else -1

    return find


def _next_net_use(text: str, pos: int) -> int:
    """Where the next line holding `net use` and a backslash (its share's UNC path) has a backslash; -1 if none."""
    at = text.find("\\", pos)
    while at != -1:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end == -1 else end
        if "net use" in text[start:end].lower():
            return at
        at = text.find("\\", end)
    return -1


_FINDERS = (_seven_zip_finder("z"), _seven_zip_finder("Z"), _next_net_use)


def text_might_hold(text: str) -> bool:
    """Whether a text may hold one of these shapes (searched for by their rare characters)."""
    return any(find(text, 0) != -1 for find in _FINDERS)


class Marks:
    """The next position of each shape's mark in a lowered text, each searched for again only once passed (so a
    text is scanned once for each); past the end (len + 1) when there is none."""

    def __init__(self, low: str) -> None:
        self._low = low
        self._next = [self._find(i, 0) for i in range(len(_FINDERS))]

    def _find(self, i: int, pos: int) -> int:
        at = _FINDERS[i](self._low, pos)
        return len(self._low) + 1 if at == -1 else at

    def next(self, pos: int) -> int:
        found = self._next
        for i, at in enumerate(found):
            if at < pos:
                found[i] = self._find(i, pos)
        return min(found)


def marked_lines(text: str) -> set[int]:
    """The indexes of text's lines holding a mark (of a text read line by line, not lowered whole)."""
    marks = Marks(text)
    found: set[int] = set()
    index = pos = 0
    at = marks.next(0)
    while at <= len(text):
        index += text.count("\n", pos, at)
        pos = at
        found.add(index)
        end = text.find("\n", at)
        if end == -1:
            break
        at = marks.next(end)
    return found


def line_might_hold(low: str) -> bool:
    """Whether one lowered line may hold one of these shapes."""
    return "7z" in low or "net use" in low


def redact(line: str, mark: Mark) -> str:
    """One line with these shapes' passwords replaced (mark(kind, secret) gives the placeholder)."""
    low = line.lower()
    if "7z" in low:
        line = _seven_zip(line, mark)
    if "net use" in low:
        line = _net_use(line, mark)
    return line


def _command(line: str, start: int) -> tuple[int, int]:
    end = _COMMAND_END.search(line, start)
    return start, end.start() if end else len(line)


def _seven_zip(line: str, mark: Mark) -> str:
    command = _SEVEN_ZIP.search(line)
    if command is None:
        return line
    start, end = _command(line, command.end() - 1)

    def replace(match: re.Match[str]) -> str:
        value = match.group(1)
        secret = value[1:-1] if value[0] in "\"'" else value
        return match.group()[:2] + mark("password", secret)

    return line[:start] + _SEVEN_ZIP_PASSWORD.sub(replace, line[start:end]) + line[end:]


def _net_use(line: str, mark: Mark) -> str:
    """`net use [X: | *] \\\\host\\share PASSWORD [/user:u]`, the password before or after the switches."""
    command = _NET_USE.search(line)
    if command is None:
        return line
    start, end = _command(line, command.end())
    seen_share = False
    for word in _WORD.finditer(line, start, end):
        text = word.group()
        bare = text.strip("\"'")
        if bare.startswith("\\\\"):
            seen_share = True
        elif bare.startswith("/") or bare == "*" or (len(bare) == 2 and bare[1] == ":"):
            continue  # a switch, a prompt for the password, a drive letter
        elif seen_share and len(bare) >= 3:
            return line[: word.start()] + mark("password", bare) + line[word.end() :]
        else:
            return line  # not the command's documented order
    return line
