"""A failure that was retried (pure): the attempt a tool announced it would retry is not the one that stopped the job.

Package managers, downloaders and CI wrappers print an error, then say they retry it (`Retrying in 2 seconds...`,
`Will retry in 1 seconds. 3 retries left.`, `spurious network error (1 tries remaining)`, Travis's `The command "x"
failed. Retrying, 2 of 3.`). When the same command prints a failure after that announcement, the failure after it is
the decisive one; when it prints none, the retried error may still be why it failed, and stays.
"""

from __future__ import annotations

import re

from bot.core.heuristic_lines import AFTER_SCRIPT, bare, is_command_echo, is_failure_line, is_wrapper_line, part
from bot.core.types import Excerpt, ExcerptLine

# A tool's own announcement that it tries again: the words as downloaders, package managers and CI wrappers print
# them. Not a command's option (`curl --retry 3`): echoes are never read as announcements. Not a final error that says
# it kept retrying (Cypress's "Timed out retrying after 4000ms: expected ..."): nothing is tried again after it.
RETRY = re.compile(
    # a bare "retrying" in the shapes tools print it (`Retrying in 2s`, `Retrying (Retry(total=4))`, `Retrying...`,
    # `Retrying, 2 of 3`, `Retrying fetcher due to error (2/4)`), not a test's title (`retrying on 503 returns the body`)
    r"(?i)(?<!out )\bretrying(?=\s+in\b|\s*[(.,…]|\s*$|[^\n]{0,80}?\(\d+/\d+\)|\s+(?:request|download|connection)\b)|"
    r"\bwill (?:be )?retr(?:y|ied)\b|\b\d+ (?:more )?(?:tries|retries|retry|attempts?) (?:remaining|left)\b|"
    r"\b(?:retry|attempt) \d+\s*(?:/|of)\s*\d+\b"
)
# The error line itself says it will be tried again only with a count (cargo's `spurious network error (1 tries
# remaining)`): a test's title that has the word (`1) Client retrying on 503 returns the body`) is no announcement.
RETRY_COUNT = re.compile(
    r"(?i)\b\d+ (?:more )?(?:tries|retries|retry|attempts?) (?:remaining|left)\b|\b(?:retry|attempt) \d+\s*(?:/|of)\s*\d+\b"
)
# A test's title as a runner lists it (mocha's `2) `, Jest's `●`, a cross or a tick): its words name a test, they
# announce nothing (`2) retrying on 503 returns the body`).
TEST_TITLE = re.compile(r"^\s*(?:\d{1,4}\) |[●✗✕×✓✔] )")
RETRY_REACH = 8  # how far under an error its tool announces the retry (a stack trace's first lines may come between)


def retried(excerpt: Excerpt, head: ExcerptLine) -> Excerpt | None:
    """When a retry is announced at or within RETRY_REACH lines under `head`, by the same command (no runner's echo
    between), and a failure line follows it before the next command: the excerpt after the announcement, where the
    attempt that counted failed. None otherwise."""
    lines = excerpt.lines
    if head not in lines:
        return None
    i = lines.index(head)
    announced = None
    for line in lines[i:]:
        if line.n - head.n > RETRY_REACH:
            break
        text = bare(line.text)
        if line is not head and (is_command_echo(line.text) or AFTER_SCRIPT.match(text)):
            return None
        if (RETRY_COUNT if line is head or TEST_TITLE.match(text) else RETRY).search(text):
            announced = line
            break
        if line is not head and (is_failure_line(line.text) or is_wrapper_line(line.text)):
            return None  # another failure or a wrapper came first: a retry announced after it is of something else
    if announced is None:
        return None
    for line in lines[lines.index(announced) + 1 :]:
        text = bare(line.text)
        if is_command_echo(line.text) or AFTER_SCRIPT.match(text):
            return None
        if is_failure_line(line.text):
            return part(excerpt, announced.n + 1, None)
    return None
