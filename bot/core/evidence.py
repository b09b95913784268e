"""Checks a model's quoted evidence against the excerpt it was shown; quotes that are not there are dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.types import Evidence, Excerpt, ExcerptLine

# A quote shorter than this must cover at least half its line, so "error" alone
# cannot pass as evidence for a long line that happens to contain the word.
MIN_QUOTE_CHARS = 12
MAX_EVIDENCE = 8

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def quote_matches(quote: str, line_text: str) -> bool:
    """True if the quote is the line, or a long enough piece of it, after whitespace normalisation."""
    q, line = normalise(quote), normalise(line_text)
    if not q or not line:
        return False
    if q == line:
        return True
    if q not in line:
        return False
    return len(q) >= MIN_QUOTE_CHARS or len(q) * 2 >= len(line)


def _strip_number_prefix(quote: str, n: int) -> str:
    # Models often copy the "n: " prefix from the numbered excerpt along with the text.
    return re.sub(rf"^\s*{n}\s*:\s?", "", quote, count=1)


def check_evidence(
    evidence: Iterable[Evidence], excerpt: Excerpt | None, extra_lines: Iterable[ExcerptLine] = ()
) -> tuple[list[Evidence], int]:
    """Keep the quotes that are really in the excerpt (at the line they claim); return (kept, dropped count)."""
    by_number: dict[int, str] = {}
    for line in list(excerpt.lines if excerpt else []) + list(extra_lines):
        by_number.setdefault(line.n, line.text)
    kept: list[Evidence] = []
    seen: set[tuple[int, str]] = set()
    dropped = 0
    for item in evidence:
        line_text = by_number.get(item.line)
        quote = _strip_number_prefix(item.text, item.line)
        key = (item.line, normalise(quote))
        if line_text is None or not quote_matches(quote, line_text) or key in seen or len(kept) >= MAX_EVIDENCE:
            dropped += 1
            continue
        seen.add(key)
        kept.append(Evidence(line=item.line, text=normalise(quote)))
    return kept, dropped
