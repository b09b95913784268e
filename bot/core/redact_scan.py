"""Which of many texts a pre-filter passes, in one search over them all (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence


def joined_lower(texts: Sequence[str]) -> str:
    """The texts joined by NUL, lowered: what texts_matching searches (and other whole-batch checks may read)."""
    return "\x00".join(texts).lower()


def texts_matching(
    prefilter: re.Pattern[str], texts: Sequence[str], joined: str, passes: Callable[[str], bool]
) -> list[int]:
    """The indexes of the texts the pre-filter matches in joined (joined_lower(texts)): the texts are searched joined
    by NUL, which no pre-filter word holds, so a match never spans two texts; a match's text is the number of NULs
    before it (lowering changes lengths, never NULs). A text holding a NUL itself sends every text to passes, one by
    one."""
    if joined.count("\x00") != len(texts) - 1:
        return [i for i, text in enumerate(texts) if passes(text)]
    hits: list[int] = []
    index = at = 0
    for match in prefilter.finditer(joined):
        index += joined.count("\x00", at, match.start())
        at = match.start()
        if not hits or hits[-1] != index:
            hits.append(index)
    return hits
