"""A tool's tally under the findings it listed above it (pure): the first finding is the failure's headline, unless
the script printed a failure after the tally."""

from __future__ import annotations

from bot.core.excerpt.rules import CLEANUP_SECTIONS, score_line
from bot.core.heuristic_formats import ECHO, LISTED, RUNNER_STEP
from bot.core.heuristic_lines import bare, is_failure_line
from bot.core.types import ExcerptLine


def first_listed(lines: list[ExcerptLine], lead: tuple[int, int] | None) -> ExcerptLine | None:
    """The first finding a tool listed above its tally of them (LISTED), within the same command's output, when the
    tally is the last failure the log shows: a failure printed below it (by the same command's next tool, a script
    that goes on after valgrind or `phpstan || true`) is what ended the job. With a lead, only a tally printed by
    the lead's command (an earlier command's findings are not this failure's)."""
    for k, line in enumerate(lines):
        if lead is not None and (
            line.n > lead[1] or any(ECHO.match(bare(ln.text)) for ln in lines[k + 1 :] if ln.n < lead[0])
        ):
            continue
        for tally, item, reach in LISTED:
            if not tally.search(bare(line.text)) or _failing_after(lines, k):
                continue
            above = []
            for earlier in reversed(lines[:k]):
                if line.n - earlier.n > reach or ECHO.match(bare(earlier.text)):
                    break
                if item.search(bare(earlier.text)):
                    above.append(earlier)
            if above:
                return above[-1]
    return None


def _failing_after(lines: list[ExcerptLine], k: int) -> list[ExcerptLine]:
    """The failure lines printed after lines[k] by the job's script: up to the runner's next step (after_script,
    the clean-up), printed as a line or as a section."""
    out = []
    for line in lines[k + 1 :]:
        if RUNNER_STEP.match(bare(line.text)) or (line.section and CLEANUP_SECTIONS.search(line.section)):
            break
        if is_failure_line(line.text):
            out.append(line)
    return out


def past_tally(lines: list[ExcerptLine], lead: tuple[int, int] | None) -> ExcerptLine | None:
    """When the lead is a tool's tally of its findings (LISTED) and the script printed failure lines after it, what
    failed after it (the strongest of them, the first of equals): the tool's findings did not end the job."""
    if lead is None:
        return None
    tallies = [
        k
        for k, line in enumerate(lines)
        if lead[0] <= line.n <= lead[1] and any(tally.search(bare(line.text)) for tally, _, _ in LISTED)
    ]
    below = _failing_after(lines, tallies[-1]) if tallies else []
    best = max((score_line(line.text) for line in below), default=None)
    return next((line for line in below if score_line(line.text) == best), None)
