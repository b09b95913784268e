"""Whether a name/value match of the assignment rule hides a secret, and which (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core import redact_rules as rules
from bot.core.redact_rules import looks_random


def assigned_secret(match: re.Match[str], line: str) -> tuple[str, str, str, str] | None:
    """(kind, value, opening quote, closing quote) when the ASSIGNMENT match in line gives a secret's value; None when it is prose,
    code, a count, a reference or a harmless value."""
    named = rules.name_kind(match.group("name"))
    if named is None:
        return None
    kind, strong = named
    if match.group("op") == "+=" and not match.group("name").isupper():
        return None  # Make's variables are upper-case; `password += char` is code appending to a string
    if match.group("sp") is not None and not match.group("flag") and not _declared(line, match.start()):
        # "password reset" is prose; only --flag value, ENV NAME value and a quoted password take a space
        # (Gradle's storePassword 'x', "wrong password 'x'"; not "unexpected token 'function'").
        val = match.group("val")
        if kind != "password" or val[0] not in "\"'" or any(c.isspace() for c in val):
            return None  # "rejects a password 'that is far too long'" is prose too
    if rules.not_an_assignment(match):
        return None
    raw = match.group("val")
    opening, value, closing = unquoted(raw)
    if rules.is_placeholder(value) or rules.DOTTED_IDENTIFIER.match(value):
        return None
    if rules.PATH_VALUE.match(value) and not any(looks_random(part) for part in value.split("/")):
        return None
    if _code_or_schema(match.group("name"), value, opening):
        return None
    if rules.name_words(match.group("name"))[-1].endswith("userpass") and ":" in value[1:]:
        user, value = value.split(":", 1)  # `userpass=ci:X`: the password is X, the user stays
        opening += user + ":"
        if rules.is_placeholder(value):
            return None  # `userpass=ci:$CI_PASSWORD`: a reference, not the password
    if line[match.end() : match.end() + 1] in ("(", "[") or len(value) < 3:
        return None  # echoed source code (f(x), ref[i], minified e.token=i)
    if value.isdigit() and len(value) < (4 if kind in ("password", "secret") else 12):
        return None  # "tries to enter a password: 3", max_token=4096: counts
    if kind not in ("password", "secret") and len(value) < 8:
        return None  # the runner prints a token's first characters (token=64_Abc)
    if match.group("flag") and match.group("sp") is not None and value.isalpha() and value.islower():
        if value in rules.PROSE_AFTER_FLAG or rules.name_words(match.group("name"))[-1:] == ["pass"]:
            return None  # `--pass fail`: a flag named "pass" may be pass/fail, not a password
    if rules.name_words(match.group("name")) == ["pass"] and (_TALLY.match(value) or _word(value)):
        # `pass = fail`, `Pass = 1498, Fail = 2`, `PASS = 100%`, `pass = 12/14`: the word "pass" alone, before a word
        # or a count, is a test's outcome as often as a password
        return None
    if not strong and not looks_random(value) and not rules.hides_secret(value):
        return None
    if not strong and rules.HARMLESS_BEFORE.search(line, max(0, match.start() - 32), match.start()):
        return None  # "cache key: deps-3f9e...", "sort key = ...": the word before says what it is
    return kind, value, opening, closing


# What a schema or a signature says of a secret's field, not its value: `password: required`, `password: str`.
_SCHEMA_WORDS = frozenset(
    {"required", "optional", "str", "string", "bytes", "int", "bool", "secretstr", "securestring", "sensitive"}
)


def _code_or_schema(name: str, value: str, opening: str) -> bool:
    """`self.password = password` (a variable's own name as its value: code), `password: required` and
    `password: str` (a schema's or a signature's word), unquoted."""
    if opening:
        return False
    low = value.lower()
    return low in _SCHEMA_WORDS or rules.name_words(name)[-1:] == [low]


# A count, a share or a ratio: 1498, 100%, 0.975, 12/14.
_TALLY = re.compile(r"^[\d.,/%]+$")


def _word(value: str) -> bool:
    """A word as prose writes it (fail, True, OK), not a password's mixed letters."""
    return value.isalpha() and (value.islower() or value.isupper() or value.istitle())


# A command substitution echoing a literal, bare or in double quotes (as ShellCheck asks): `echo X`, $( echo -n X ).
_ECHOED = re.compile(
    r'^(?P<q>"?)(?:`echo(?:[ \t]+-[neE]{1,3})?[ \t]+(?P<tick>[^`\s$"]+)`'
    r'|\$\([ \t]*echo(?:[ \t]+-[neE]{1,3})?[ \t]+(?P<paren>[^()`\s$"]+)[ \t]*\))(?P=q)\Z'
)


def unquoted(raw: str) -> tuple[str, str, str]:
    """(opening quote, value, closing quote) of a value as written: double or single quotes, Python's triple ones,
    Bash's `$'x'`, a template literal's backquotes, `echo x` and $(echo x); no quotes: ("", raw, "")."""
    for quote in ('"""', "'''"):
        if len(raw) >= 6 and raw.startswith(quote) and raw.endswith(quote):
            return quote, raw[3:-3], quote
    echoed = _ECHOED.match(raw)
    if echoed:  # `echo X`, "$(echo -n X)": the literal echoed, quotes and substitution around it kept
        group = "tick" if echoed.group("tick") is not None else "paren"
        return raw[: echoed.start(group)], echoed.group(group), raw[echoed.end(group) :]
    if len(raw) >= 3 and raw.startswith("$'") and raw.endswith("'"):
        return "$'", raw[2:-1], "'"
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'`":
        return raw[0], raw[1:-1], raw[0]
    return "", raw, ""


def _declared(line: str, at: int) -> bool:
    return bool(rules.DECLARATION.search(line[max(0, at - 12) : at]))


# Bash's array literal under a secret's name: `password=(X)`, `declare -a tokens=(X Y)`, `API_TOKENS=('X' "Y")`.
BASH_ARRAY = re.compile(r"(?<![\w.\-$])([A-Za-z_][A-Za-z0-9_]{0,80})=\(([^()\n]{0,2000})\)")
# Possessive, at a word's start only: a long unquoted run is read once, not again from each of its characters.
ARRAY_ITEM = re.compile(r"(?<!\S)([\"']?)([^\s\"'()]++)\1(?=\s|$)")


def array_items(line: str, mark: Callable[[str, str], str]) -> str:
    """The items of a Bash array literal named as a secret that look generated (a name, a path or a word stays)."""

    def hide(array: re.Match[str]) -> str:
        name = array.group(1)
        named = rules.name_kind(name) or (rules.name_kind(name[:-1]) if name[-1] in "sS" else None)  # `tokens`
        if named is None or not named[1]:
            return array.group(0)

        def item(found: re.Match[str]) -> str:
            value = found.group(2)
            if len(value) < 8 or rules.is_placeholder(value) or not (looks_random(value) or rules.mixed(value)):
                return found.group(0)
            return found.group(1) + mark(named[0], value) + found.group(1)

        return array.group(1) + "=(" + ARRAY_ITEM.sub(item, array.group(2)) + ")"

    return BASH_ARRAY.sub(hide, line)
