"""The order in which the rules a line needs run (pure)."""

from __future__ import annotations

from collections.abc import Callable

from bot.core import redact_rules as rules

# Prefixed tokens first, so later rules see placeholders rather than half a token; URL
# credentials before percent-decoding, so "p%40ss" is never split at its decoded "@".
_ORDER = {
    "apply_rule": 0,
    "_redact_literals": 0,
    "apply_header_rule": 1,
    "_redact_url_credentials": 1,
    "_redact_base64": 2,
    "_redact_percent_encoded": 2,
    "_redact_assignments": 3,
    "apply_late_rule": 3,
}


def _apply_order(func: Callable[[str], str]) -> int:
    return _ORDER.get(getattr(func, "__name__", ""), 0)


# Every rule's place in the rule lists: rules of one order class run in this order, whatever order a set of trigger
# words gave them (it depends on the process's string hashing; curl's `-u user:pass` rule run after lftp's rule read
# `deploy,[REDACTED:password]` as a user and a password).
_RULE_INDEX = {id(rule): i for i, rule in enumerate(rules.TOKEN_RULES + rules.HEADER_RULES)}


def run_order(func: Callable[[str], str]) -> tuple[int, int, str]:
    rule = getattr(func, "rule", None)
    index = _RULE_INDEX.get(id(rule), -1) if rule is not None else -1
    return _apply_order(func), index, getattr(func, "__name__", "")
