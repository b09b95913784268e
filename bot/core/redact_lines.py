"""What a redactor carries from one log line to the next: a secret named on one line and given on the next (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core import redact_rules as rules
from bot.core.redact_assign import array_items
from bot.core.redact_printed import NOT_A_VALUE, PRINTED_VALUE, PROMPT_FIRST, WEAK, printed_secret_kind

# mark(kind, secret): the placeholder for a secret, which the redactor also remembers to find again ("": hide only).
Mark = Callable[[str, str], str]
LEARNT_BLOCK_LINES = 2
PGPASS_LINE = re.compile(r"^[^:\s]+:(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:(\S+)$")
VALUE_START = re.compile(
    r"^\s*(?:[Vv]alue\s*:|string\(|\"value\":|default\s*=)"
)  # the value's line ends the wait for it
# An account key listing (`az storage account keys list`, `Get-AzStorageAccountKey`): `"keyName": "key1",`, then its
# permissions, then `"value": "..."`: the name of the key is no secret word, the field's name says it is one.
KEY_LISTING = re.compile(r"^\s*(?:\"keyName\":\s*\"[\w.\-]{1,80}\",?|KeyName\s*:\s*[\w.\-]{1,80})\s*$")
KEY_LISTING_LASTING = 3
# A secret's name on a line of its own, its value on the next (or, after an object's name, a few lines below):
# `- name: DB_PASSWORD` then `  value: ...` (Kubernetes, compose and CI env lists); PHP's var_dump,
# `["db_password"]=>` then `string(15) "..."`; `terraform output -json`, `"db_password": {` then `"sensitive": true,`,
# `"type": "string",` and `"value": "..."`; Terraform's `variable "db_password" {` then its `default = "..."` under
# its type, description and sensitivity. The lines (lasting) the value may be on after the name.
NAME_LINE = re.compile(
    r"^\s*(?:(?:-\s+)?(?:name|key):\s*[\"']?([A-Za-z0-9_.\-]+)[\"']?|\[\"([A-Za-z0-9_.\-]+)\"\]=>|\"([A-Za-z0-9_.\-]+)\":\s*\{"
    r"|variable\s+\"([A-Za-z0-9_\-]+)\"\s*\{)\s*$"
)
# By NAME_LINE's group: a `description:` may come first; a Terraform variable's description, type, sensitive,
# nullable and ephemeral (its other arguments) may all come before its default. The object's close ends the wait.
NAME_LINE_LASTING = (2, 1, 3, 8)
VALUE_LINE = re.compile(  # a comment may follow the value (`default = "..." # change me`)
    r"^(\s*(?:[Vv]alue\s*:\s*|string\(\d+\)\s+|\"value\":\s*|default\s*=\s*))([\"']?)([^\s\"']+?)\2,?"
    r"(?:\s*|\s+(?:#|//).*)$"
)
# A heredoc's opening as the value (`default = <<EOT`): the secret is on the line below, then the heredoc's end.
HEREDOC = re.compile(r"<<[-~]?[\"']?[A-Z_]{1,20}[\"']?")
# A log line's time stamp before a named value's lines (`2024-05-01T10:22:13.123456Z 00O `, GitLab's).
STAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?[ \t]+(?:\d\d[OE]\+?[ \t]+)?"
)
# Terraform's one-line variable block: `variable "db_password" { default = "..." }`.
ONE_LINE_VARIABLE = re.compile(
    r"^\s*variable\s+\"([A-Za-z0-9_\-]+)\"\s*\{[^{}\n]*?\bdefault\s*=\s*([\"'])([^\s\"']{3,})\2"
)
# YAML's block scalar indicators (`|`, `>-`, `|2+`) ending a `name:` line: the value is on the indented lines below.
BLOCK_INDICATORS = ("|", ">", "|-", ">-", "|+", ">+") + tuple(
    f"{c}{n}{k}" for c in "|>" for n in range(1, 10) for k in ("", "-", "+")
)
# Group 1 is the key's column (a list item's "- " counted): its siblings at that column end the block.
BLOCK_START = re.compile(r"^(\s*(?:-\s+)?)[\"']?([A-Za-z0-9_.\-]+)[\"']?:[ \t]*[|>][1-9]?[+-]?\s*$")
# A secret's block scalar is a key or a certificate: a PEM block's length at most.
MAX_BLOCK_LINES = rules.MAX_PEM_LINES
# PuTTY's key file (.ppk): `Private-Lines: N`, then N lines of the private key's base64, then `Private-MAC:`.
PPK_PRIVATE = re.compile(r"^\s*Private-Lines:\s*\d{1,3}\s*$")


class LineState:
    """What one stream of lines carries from one line to the next."""

    __slots__ = (
        "pem_lines",
        "value_kind",
        "value_left",
        "printed_kind",
        "block_kind",
        "block_indent",
        "block_left",
        "block_seen",
    )

    def __init__(self) -> None:
        self.pem_lines = 0  # > 0 while inside a PEM private key block
        self.value_kind = ""  # the previous line named a secret ("- name: DB_PASSWORD"); this one may hold it
        self.value_left = 0  # how many more lines may hold it (after an object's name: its other fields first)
        self.printed_kind = ""  # the previous line ran a command that prints a secret; this one may be it
        self.block_kind = ""  # inside a YAML block scalar under a secret's name (`password: |`)
        self.block_indent = 0  # the indentation of that name: the block's lines are indented further
        self.block_left = 0  # lines the block may still hold (a secret is short; a log indented under it is not)
        self.block_seen = 0  # its lines so far: only the first ones are learnt (a key's 50 lines would fill the table)

    def copy(self) -> LineState:
        new = LineState.__new__(LineState)
        new.take(self)
        return new

    def take(self, other: LineState) -> None:
        for name in LineState.__slots__:
            setattr(self, name, getattr(other, name))

    @property
    def carries(self) -> bool:
        """The next line must be looked at whatever it holds."""
        return bool(self.pem_lines or self.value_kind or self.printed_kind or self.block_kind)


def names_secret(line: str, state: LineState) -> None:
    """`- name: DB_PASSWORD` (a Kubernetes or compose env list): the value is on the next line (NAME_LINE)."""
    match = NAME_LINE.match(_unstamped(line)[1] if line[:1].isdigit() else line)  # most lines: no call
    if match is None:
        if KEY_LISTING.match(line):
            state.value_kind, state.value_left = "secret", KEY_LISTING_LASTING
        return
    group = match.lastindex or 1
    named = rules.name_kind(match.group(group))
    if named is not None and named[1]:
        state.value_kind, state.value_left = named[0], NAME_LINE_LASTING[group - 1]


def starts_block(line: str, state: LineState, kind: str = "") -> None:
    """`password: |` (YAML's block scalar under a secret's name): the lines indented under it hold it."""
    match = BLOCK_START.match(line)
    if match is None:
        return
    if not kind:
        named = rules.name_kind(match.group(2))
        if named is None or not named[1]:
            return
        kind = named[0]
    state.block_kind, state.block_indent, state.block_left = kind, len(match.group(1)), MAX_BLOCK_LINES
    state.block_seen = 0


def inside_block(line: str, state: LineState, mark: Mark) -> str | None:
    """A line of a secret's block scalar, redacted; None once the block has ended (this line is outside it)."""
    content = line.lstrip(" ")
    if not content.strip():
        return line  # a blank line does not end a block scalar
    state.block_left -= 1
    if len(line) - len(content) <= state.block_indent or state.block_left < 0:
        state.block_kind = ""
        return None
    secret = content.rstrip()
    state.block_seen += 1
    # A one- or two-line secret is learnt, to be found again in other forms; a key's or certificate's further lines
    # are only hidden (learning each would fill the table of known secrets and push out the log's other secrets).
    learn = state.block_seen <= LEARNT_BLOCK_LINES and not secret.startswith("-----")
    return line[: len(line) - len(content)] + mark(state.block_kind, secret if learn else "") + content[len(secret) :]


def _unstamped(line: str) -> tuple[str, str]:
    """(the line's time stamp, the rest): a timestamped log gives each line of a named value its own stamp."""
    if line[:1].isdigit():
        stamp = STAMP.match(line)
        if stamp is not None:
            return line[: stamp.end()], line[stamp.end() :]
    return "", line


def one_line_variable(line: str, mark: Mark) -> str:
    """`variable "db_password" { default = "..." }`: Terraform's variable block on one line, its default redacted."""
    stamp, rest = _unstamped(line)
    match = ONE_LINE_VARIABLE.match(rest)
    if match is None or rules.is_placeholder(match.group(3)):
        return line
    named = rules.name_kind(match.group(1))
    if named is None or not named[1]:
        return line
    return stamp + rest[: match.start(3)] + mark(named[0], match.group(3)) + rest[match.end(3) :]


def one_line_forms(line: str, mark: Mark) -> str:
    """A secret's name and value in a one-line block: Terraform's variable, Bash's array literal."""
    line = one_line_variable(line, mark)
    return array_items(line, mark) if "=(" in line else line


def named_value(line: str, state: LineState, mark: Mark) -> str:
    """The line after `- name: DB_PASSWORD`: its `value: ...` redacted, or the block a `value: |` starts."""
    stamp, line = _unstamped(line)
    return stamp + _named_value(line, state, mark)


def _named_value(line: str, state: LineState, mark: Mark) -> str:
    if line.lstrip().startswith(("}", "]")) or NAME_LINE.match(line):
        state.value_kind = ""  # the named object closed, or another name starts: a value below is not the secret's
        return line
    kind, state.value_left = state.value_kind, state.value_left - 1
    if state.value_left <= 0 or VALUE_START.match(line):
        state.value_kind = ""
    if line.lstrip().startswith("value:") and line.rstrip().endswith(BLOCK_INDICATORS):
        starts_block(line, state, kind)  # `- name: DB_PASSWORD` then `  value: |`
        return line
    match = VALUE_LINE.match(line)
    if match is None or rules.is_placeholder(match.group(3)) or len(match.group(3)) < 3:
        return line
    if not match.group(2) and HEREDOC.fullmatch(match.group(3)):
        # `default = <<EOT`: the heredoc's one line below, up to its end marker (a block that no indentation ends)
        state.value_kind = ""
        state.block_kind, state.block_indent, state.block_left, state.block_seen = kind, -1, 1, 0
        return line
    quote, end = match.group(2), match.end(3) + len(match.group(2))
    return match.group(1) + quote + mark(kind, match.group(3)) + quote + line[end:]


def printed_value(line: str, state: LineState, mark: Mark) -> str:
    """The line after a command that prints a secret (`terraform output -raw db_password`, `gcloud auth
    print-access-token`): redacted when it is one word and nothing else (a message or the next command is not)."""
    kind, state.printed_kind = state.printed_kind, ""
    if NOT_A_VALUE.match(line.lstrip()):
        return line
    match = PRINTED_VALUE.match(line)
    if match is None or rules.is_placeholder(match.group(3)):
        return line
    if kind.startswith(WEAK):
        kind = kind[len(WEAK) :]
        if not rules.looks_random(match.group(3)) and not rules.mixed(match.group(3)):
            return line  # `$ echo $KEY` then `cache-v1-linux`
    start = match.start(3)
    pgpass = PGPASS_LINE.match(match.group(3))  # `cat ~/.pgpass`: host:port:db:user:password, the last field
    if pgpass is not None:
        start += pgpass.start(1)
    return line[:start] + mark(kind, line[start : match.end(3)]) + line[match.end(3) :]


# A secret's name ending its line, its value alone on the next: pretty-printed JSON wrapping a long value
# (`"password":`), a Java properties value continued (`db.password=\\`), a heredoc (`password = <<-EOT`).
NAME_ABOVE = re.compile(
    r"^\s*(?:\"([A-Za-z_][\w.\-]{0,80})\":|([A-Za-z_][\w.\-]{0,80})\s*=\s*(?:\\|<<[-~]?[\"']?[A-Z_]{1,20}[\"']?))\s*$"
)


def value_below(line: str) -> str:
    """The kind of secret the next line holds alone, after a line that names it and ends before its value, or ""."""
    match = NAME_ABOVE.match(line)
    if match is None:
        return ""
    named = rules.name_kind(match.group(1) or match.group(2))
    return named[0] if named is not None and named[1] else ""


def next_line_kind(line: str) -> str:
    """The kind of secret the next line holds alone: printed by this line's command, or named here without its value."""
    kind = printed_secret_kind(line) if line.lstrip(" ")[:1] in PROMPT_FIRST else ""
    if not kind and (line.endswith((":", "\\")) or "<<" in line):
        kind = value_below(line)
    return kind
