"""Reading what a follow-up question or an MR command asks for (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LINES_SHOWN = 40
MAX_LINES_SHOWN = 200

_BEFORE = re.compile(r"\b(?:before|above|preceding|leading up to)\s+(?:line\s+|l)?#?(\d{1,9})\b", re.I)
_AFTER = re.compile(r"\b(?:after|below|following)\s+(?:line\s+|l)?#?(\d{1,9})\b", re.I)
_RANGE = re.compile(r"\blines?\s+#?(\d{1,9})\s*(?:-|–|to|through|\.\.)\s*#?(\d{1,9})\b", re.I)
_AROUND = re.compile(r"\b(?:around|near|at)?\s*line\s+#?(\d{1,9})\b", re.I)


def requested_lines(question: str) -> tuple[int, int] | None:
    """The log lines a question asks to see ('what happened before line 412?'), bounded."""
    if m := _RANGE.search(question):
        first, last = sorted((int(m.group(1)), int(m.group(2))))
        return max(1, first), min(last, first + MAX_LINES_SHOWN - 1)
    if m := _BEFORE.search(question):
        n = int(m.group(1))
        return max(1, n - LINES_SHOWN), max(1, n - 1)
    if m := _AFTER.search(question):
        n = int(m.group(1))
        return n + 1, n + LINES_SHOWN
    if m := _AROUND.search(question):
        n = int(m.group(1))
        return max(1, n - LINES_SHOWN // 2), n + LINES_SHOWN // 2
    return None


@dataclass(frozen=True)
class MrCommand:
    name: str  # explain | reanalyze | provider | help | link | question
    argument: str = ""
    provider: str = ""


_MENTION = re.compile(r"@[\w.\-]+")
# What GitLab Flavored Markdown shows as someone else's words or as literal code: a mention there is quoted or
# shown (a how-to, the bot's own help pasted back, a reply quoting a command), not addressed to the bot.
_FENCE = re.compile(r"^ {0,3}(`{3,}+|~{3,}+)[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
_MULTILINE_QUOTE = re.compile(r"^ {0,3}>>>[ \t]*\n.*?(?:^ {0,3}>>>[ \t]*$|\Z)", re.M | re.S)
_QUOTE_LINE = re.compile(r"^[ \t]{0,3}>.*$", re.M)
_BACKTICKS = re.compile(r"`+")
_PUNCTUATION = ".,:;!?"
# Before the command: punctuation after the mention, and a list item's mark (`* @bot reanalyze`, `1. @bot help`).
_LEADING_PUNCTUATION = re.compile(r"^(?:(?:[:,;\-–—*+]+|\d{1,3}[.)])\s*)+")
# Words that start a question, not a job's name (`explain why pytest failed` asks; `explain pytest` commands).
_QUESTION_WORDS = frozenset(
    {"why", "what", "how", "where", "when", "which", "who", "whether", "the", "this", "that", "it"}
)
# Words of courtesy around a command, not its argument (`reanalyze please`).
_COURTESY = frozenset({"please", "pls", "plz", "again", "now", "thanks", "thx", "thank", "you"})


def addressed_text(note: str) -> str:
    """The note without its fenced code, code spans and quotations: the words its author addresses to someone."""
    return _without_code_spans(_unquoted(note))


def _unquoted(note: str) -> str:
    """The note without its fenced code and quotations (Windows' and old Macs' line breaks read as GitLab reads
    them), its code spans kept."""
    text = _FENCE.sub("\n", note.replace("\r\n", "\n").replace("\r", "\n"))
    text = _MULTILINE_QUOTE.sub("\n", text)
    return _QUOTE_LINE.sub("", text)


def _without_code_spans(text: str) -> str:
    """Code spans removed: a run of backticks opens one that the next run of the same length closes (CommonMark);
    a run with no such closer is literal. One pass over the runs, so a note of backticks costs no more than text."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    pointer = dict.fromkeys(by_length, 0)  # how far each length's list has been passed
    kept, position, index = [], 0, 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        while pointer[end - start] < len(same) and same[pointer[end - start]] <= index:
            pointer[end - start] += 1
        if pointer[end - start] == len(same):
            index += 1  # no closer: literal backticks
            continue
        closer = same[pointer[end - start]]
        kept.append(text[position:start])
        position = runs[closer][1]
        index = closer + 1
    kept.append(text[position:])
    return " ".join(kept)


def _without_mentions(note: str, bot_username: str) -> str:
    text = re.sub(rf"(?<![\w@])@{re.escape(bot_username)}\b", " ", note, flags=re.I) if bot_username else note
    # "@bot: reanalyze", "@bot, help", "@bot - reanalyze." address the bot the way people write to each other.
    return _LEADING_PUNCTUATION.sub("", " ".join(text.split()))


def _command(words: list[str]) -> MrCommand | None:
    """The command the words start with; None when they are a question."""
    words = [w for w in words if w.lower().strip(_PUNCTUATION) not in _COURTESY] or words
    head = words[0].lower().strip(_PUNCTUATION)
    rest = words[1:]
    if head == "help" and len(rest) <= 1:
        return MrCommand("help")
    if head in ("reanalyze", "reanalyse", "retry-analysis"):
        provider = ""
        if len(rest) >= 2 and rest[-2].lower() in ("with", "using"):  # "reanalyze [pytest] with anthropic"
            provider = rest[-1].lower().strip(_PUNCTUATION)
        elif len(rest) == 1:
            provider = rest[0].lower().strip(_PUNCTUATION)
        return MrCommand("reanalyze", provider=provider)
    if head == "explain" and not (rest and rest[0].lower() in _QUESTION_WORDS):
        provider = ""
        if len(rest) >= 2 and rest[-2].lower() in ("with", "using"):  # "explain [pytest] with anthropic"
            provider, rest = rest[-1].lower().strip(_PUNCTUATION), rest[:-2]
        if len(rest) <= 3:
            return MrCommand("explain", argument=" ".join(rest).strip(), provider=provider)
    if head == "provider" and len(rest) == 1:
        return MrCommand("provider", provider=rest[0].lower().strip(_PUNCTUATION))
    if head == "link" and len(rest) == 1:
        return MrCommand("link", argument=rest[0])
    return None


def parse_mr_command(note: str, bot_username: str) -> MrCommand:
    """`@bot reanalyze with anthropic` -> MrCommand('reanalyze', provider='anthropic'); anything else is a question.
    The command is read from what the note says itself (a quoted "> @bot help" is not one); a question keeps it all."""
    text = _without_mentions(note, bot_username)
    if not text:
        return MrCommand("help")
    # A job's or provider's name written as code (`explain `pytest``) is still the argument: spans keep their words.
    said = _without_mentions(_BACKTICKS.sub("", _unquoted(note)), bot_username)
    return (_command(said.split(" ")) if said else None) or MrCommand("question", argument=text)
