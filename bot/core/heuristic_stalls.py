"""What a job was doing when its runner stopped it for time (pure): the command that was running and its last words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.excerpt.rules import COMMAND_STARTS
from bot.core.heuristic_formats import ECHO, NOISE
from bot.core.heuristic_lines import bare, failing_command_echo, is_wrapper_line
from bot.core.types import Excerpt, ExcerptLine

# Rules whose failure is a clock that ran out, not an error: what the job printed last is where it was.
STALL_RULES = frozenset({"job-timeout"})
# GitLab's section markers and a runner's own lines between the script's output and its verdict say nothing of it.
_SECTION = re.compile(r"^section_(?:start|end):\d+:")


@dataclass(frozen=True)
class Stall:
    """The runner's echo of the command that was running when time ran out, and the last line it printed."""

    command: ExcerptLine | None
    last: ExcerptLine | None

    def lines(self) -> tuple[ExcerptLine | None, ExcerptLine | None]:
        return self.command, self.last


def stall(excerpt: Excerpt, stopped: ExcerptLine) -> Stall:
    """The command running when the runner's timeout line `stopped` was printed, and its last words: the last line
    of output above `stopped` and below the command's echo (the runner's clean-up, blank lines and separators
    skipped). Either is None when the excerpt does not hold it."""
    lines = list(excerpt.lines)
    if stopped not in lines:
        return Stall(None, None)
    j = lines.index(stopped)
    k = failing_command_echo(lines, j - 1) if j else -1
    last = None
    for line in reversed(lines[k + 1 : j]):
        text = bare(line.text).strip()
        if text and not (ECHO.match(text) or _SECTION.match(text) or NOISE.search(text) or is_wrapper_line(text)):
            last = line
            break
    return Stall(lines[k] if k >= 0 else None, last)


def command_of(echo: ExcerptLine) -> str:
    """The command an echo line shows, without the runner's `$ ` or `Run ` in front of it."""
    text = bare(echo.text).strip()
    for start in (*COMMAND_STARTS, "Running command "):
        if text.startswith(start):
            return text[len(start) :].strip()
    return text
