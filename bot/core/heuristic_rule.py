"""One rule of the offline analyzer: a failure recognised from one log line, and its texts (data shape)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.types import Category, Verdict

C, V = Category, Verdict


@dataclass(frozen=True)
class Rule:
    """A failure recognised from one log line; texts may use the pattern's named groups."""

    id: str
    pattern: re.Pattern[str]
    category: Category
    summary: str
    root_cause: str
    fix_steps: tuple[str, ...]
    confidence: float
    examples: tuple[str, ...]  # log lines that must trigger the rule (the tests check them)
    verdict: Verdict = V.caused_by_change


def rule(
    id: str,
    pattern: str,
    category: Category,
    summary: str,
    root_cause: str,
    fix_steps: tuple[str, ...],
    confidence: float,
    examples: tuple[str, ...],
    verdict: Verdict = V.caused_by_change,
    flags: int = 0,
) -> Rule:
    return Rule(id, re.compile(pattern, flags), category, summary, root_cause, fix_steps, confidence, examples, verdict)
