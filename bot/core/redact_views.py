"""A log line as its writer meant it: colour codes, escaped quotes, HTML entities and string prefixes taken out (pure).

A secret's name and value split by a terminal colour code (`\x1b[32mpassword\x1b[0m=X`), JSON printed inside a string
(`{\"token\":\"X\"}`), an HTML or JUnit XML report (`token&quot;:&quot;X`), Python's `b'X'`: the rules read the view;
the line is given back as the view redacted when the view held a secret, untouched otherwise."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.core.redact_lines import LineState

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_VALUE_COLOURED = re.compile(r"[=:] ?\x1b").search
# From the first backslash of a run only: tried at each backslash of a long run, the run was read again each time.
ESCAPED_QUOTE = re.compile(r"(?<!\\)\\+(?=[\"'])")
# The entities a report escapes a name-value pair with; `&amp;` too (a URL's query in an HTML page).
ENTITY = re.compile(r"&(?:quot|apos|lt|gt|amp|#\d{1,5}|#x[0-9a-fA-F]{1,4});")
# Python's string prefixes before a quote (`b'X'`, `r"X"`), where a value starts: after = : ( , or a space.
STRING_PREFIX = re.compile(r"(?<=[=:(,\s])(?:[rRbBuU]|[rR][bB]|[bB][rR])(?=[\"'])")
STRING_PREFIX_AT = re.compile(r"[rRbBuU][\"']")  # a cheaper test first: most quoted lines hold no prefix


def decoded_view(line: str) -> str | None:
    """The line without what stands between a secret's name and its value, or None when the line holds none of it."""
    view = line
    # `or`s, not any() over a tuple: this runs on every line the pre-filter passes
    if "\x1b" in view and ("m=" in view or "m:" in view or "m =" in view or "m :" in view or _VALUE_COLOURED(view)):
        view = ANSI.sub("", view)  # a colour code beside the = or : between a name and its value: most lines hold none
    if "\\" in view:
        view = ESCAPED_QUOTE.sub("", view)
    if "&" in view:
        view = ENTITY.sub(lambda match: html.unescape(match.group(0)), view)
    if ("'" in view or '"' in view) and STRING_PREFIX_AT.search(view):
        view = STRING_PREFIX.sub("", view)
    return view if view != line else None


def through_view(line: str, state: LineState, read: Callable[[str, LineState], str]) -> str:
    """read (the redactor's rules) over the line's view; the line itself is kept, colours and escapes included, when
    as much is hidden in it once the secret found in the view is known (rare: only a line with a secret is read twice)."""
    view = decoded_view(line)
    if view is None:
        return read(line, state)
    before = state.copy()
    out = read(view, state)
    if out == view:
        return line
    raw = read(line, before)  # from the state the view was read in
    if raw.count("[REDACTED:") < out.count("[REDACTED:"):
        return out
    state.take(before)
    return raw
