"""Python's traceback as a failure's statement (pure): the exception line that ends it and the project's frame above."""

from __future__ import annotations

import re

from bot.core.heuristic_formats import CHAIN_GAP, DIRECT_CAUSE, NOISE
from bot.core.heuristic_lines import BUILDKIT, bare
from bot.core.types import Excerpt, ExcerptLine

# A traceback's header: its statement is the exception line that ends it, and the frame right above that.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
# The line that ends a traceback: the exception's (dotted) name flush left, then ': message' or nothing.
EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::\s|$)")
FRAME = re.compile(r'^\s*File "[^"]+", line \d+')


def _chained(lines: list[ExcerptLine], k: int) -> ExcerptLine | None:
    """The header of the traceback Python prints under the exception lines[k] when another exception was raised
    from it ("The above exception was the direct cause of the following exception:"), or None."""
    said = [ln for ln in lines[k + 1 : k + 1 + CHAIN_GAP] if bare(ln.text).strip()][:2]
    chained = len(said) == 2 and DIRECT_CAUSE.match(bare(said[0].text)) and TRACEBACK.search(said[1].text)
    return said[1] if chained else None


def traceback_end(excerpt: Excerpt, head: ExcerptLine) -> list[ExcerptLine] | None:
    """The exception line that ends a traceback and the project frame above it, or None."""
    lines = excerpt.lines
    i = lines.index(head)
    frame = None
    # A traceback a tool printed indented under its own line (old pip's "Complete output from command python setup.py
    # egg_info:"): its lines as Python printed them, without that margin.
    header = BUILDKIT.sub("", bare(head.text), count=1)
    margin = header[: len(header) - len(header.lstrip())] if header.lstrip().startswith("Traceback") else ""
    for line in lines[i + 1 :]:
        if line.n > head.n + 200:
            break
        # The traceback as Python printed it, without the runner's prefix (BuildKit's "#11 1.201 ", a timestamp).
        text = BUILDKIT.sub("", bare(line.text), count=1)
        if margin and text.startswith(margin):
            text = text[len(margin) :]
        if FRAME.match(text) and not NOISE.search(text):
            frame = line
        elif EXCEPTION.match(text) and not text.startswith((" ", "\t")):
            # `raise X from e`: the exception raised last wraps this one and is what the command died of.
            chained = _chained(lines, lines.index(line))
            if chained is not None and (end := traceback_end(excerpt, chained)):
                return end
            return [line] + ([frame] if frame else [])
        elif line.n != head.n + 1 and not text.startswith((" ", "\t")):
            return None
    return None
