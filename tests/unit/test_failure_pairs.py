"""Pairs of failing CI logs from many tools: a value that changes the meaning must change the strict key
(else an earlier answer is reused for another failure), a re-run that differs only in volatile tokens must
keep both keys (else the bot pays for a model call it did not need).

The logs are in tests/data/failure_pairs/, one failure per file (the format is described in its README).
The keys are computed the way the analysis job computes them from a raw trace (bot/jobs/analysis.py:
fetch_excerpt and read): the trace's bytes, the default budget, the redactor as line filter, then
failure_keys when the excerpt has lines.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.fingerprint import FailureKeys, failure_keys, strict_lines
from bot.core.redact import Redactor
from bot.core.types import Excerpt
from tests.helpers import DATA, make_settings

PAIRS = DATA / "failure_pairs"
# Control characters are written as words in the data files, so that they stay readable and editable.
_ESCAPES = {"{ESC}": "\x1b", "{CR}": "\r"}


@dataclass(frozen=True)
class Case:
    name: str
    ecosystem: str
    base: str
    repeat: str
    variants: list[tuple[str, list[tuple[str, str]]]]  # (what differs, [(old, new), ...])


def _unescape(text: str) -> str:
    for word, char in _ESCAPES.items():
        text = text.replace(word, char)
    return text


def _parse(path: Path) -> Case:
    ecosystem, variants, parts, current = "", [], {}, None
    for line in path.read_text().split("\n"):
        if line.startswith("=== "):
            current = line[4:].strip()
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
        elif line.startswith("# ecosystem:"):
            ecosystem = line.split(":", 1)[1].strip()
        elif line.startswith("@@ different:"):
            variants.append((line.split(":", 1)[1].strip(), []))
        elif line.startswith("- "):
            variants[-1][1].append((_unescape(line[2:]), ""))
        elif line.startswith("+ "):
            old, _ = variants[-1][1].pop()
            variants[-1][1].append((old, _unescape(line[2:])))
    text = {name: _unescape("\n".join(lines).strip("\n") + "\n") for name, lines in parts.items()}
    return Case(path.stem, ecosystem, text["base"], text["repeat"], variants)


def _cases() -> list[Case]:
    return [_parse(path) for path in sorted(PAIRS.glob("*.txt"))]


CASES = _cases()
SETTINGS = make_settings()


def keys_of(log: str) -> tuple[FailureKeys, Excerpt]:
    """The keys as the analysis job computes them from a raw trace."""
    redactor = Redactor.from_settings(SETTINGS)
    found = excerpt(log.encode(), budget_chars=SETTINGS.excerpt_budget_chars, line_filter=redactor.redact_line)
    if redactor.known_secrets:
        lines = [dataclasses.replace(line, text=redactor.redact_known(line.text)) for line in found.lines]
        found = dataclasses.replace(found, lines=lines)
    return (failure_keys(found) if found.lines else FailureKeys("", "")), found


def _different(case: Case, changes: list[tuple[str, str]]) -> str:
    log = case.base
    for old, new in changes:
        assert old in log and old != new, (case.name, old)
        log = log.replace(old, new)
    return log


DIFFERENT = [
    pytest.param(case, changes, id=f"{case.name}-different-{i}")
    for case in CASES
    for i, (_, changes) in enumerate(case.variants, 1)
]


def test_the_pairs_cover_many_tools():
    assert len(CASES) >= 20 and len({case.ecosystem for case in CASES}) >= 12
    assert all(case.variants for case in CASES)


@pytest.mark.parametrize("case, changes", DIFFERENT)
def test_a_changed_value_is_another_failure(case, changes):
    """False reuse: the earlier answer would be shown for a failure with other values."""
    first, one = keys_of(case.base)
    second, two = keys_of(_different(case, changes))
    assert first.strict and second.strict
    assert first.strict != second.strict, strict_lines(one)


@pytest.mark.parametrize("case", CASES, ids=[f"{case.name}-repeat" for case in CASES])
def test_a_rerun_keeps_both_keys(case):
    """Missed repeat: the same failure again, with other times, ids, paths and counts."""
    first, one = keys_of(case.base)
    again, two = keys_of(case.repeat)
    assert first.strict != ""
    lines, again_lines = strict_lines(one), strict_lines(two)
    assert first.strict == again.strict, (set(lines) - set(again_lines), set(again_lines) - set(lines))
    assert first.family == again.family
