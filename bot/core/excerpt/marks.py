"""A test runner's progress marks: a failed test's numbered title in the list of tests, reported in full below."""

from __future__ import annotations

import re

# A numbered failure title as mocha's spec reporter (and Cypress, electron-mocha, WebdriverIO's) prints it twice: in
# the list of tests as it runs ("    1) adds items", among the passed ones), then under the run's summary of failures
# with the error and its stack ("  1) Cart" / "       adds items:" / "     AssertionError: ...").
_NUMBERED = re.compile(r"^\s{0,12}(\d{1,4})\) \S")
# The summary that opens a run's report of its failures: mocha's "  2 failing", RSpec's and Jasmine's "Failures:",
# PHPUnit's "There were 2 failures:".
_FAILURES_SUMMARY = re.compile(
    r"^\s*(?:\d+ (?:failing|failures?)\b|Failures:\s*$|There (?:was|were) \d+ (?:failures?|errors?):)"
)


def progress_marks(texts: dict[int, str]) -> set[int]:
    """The lines that only mark a failure in the list of tests: a numbered title whose number is listed again below,
    after a summary of the failures. The report there says why; the mark, among the passed tests' lines, does not,
    and ranked as the failure it would spend a small budget on the list around it."""
    marks: set[int] = set()
    last_item: dict[int, int] = {}
    summary = -1
    for n in sorted(texts):
        text = texts[n]
        if ") " in text and (m := _NUMBERED.match(text)):
            number = int(m.group(1))
            earlier = last_item.get(number)
            # The numbers restart for each run: a title counts as a mark only with a summary between it and the next.
            if earlier is not None and earlier < summary:
                marks.add(earlier)
            last_item[number] = n
        elif _FAILURES_SUMMARY.match(text):
            summary = n
    return marks
