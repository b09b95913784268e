"""The decisive error line of a failed job's excerpt, as printed (pure): the offline analyzer's headline.

The first strong failure line of the block the excerpt leads with, else its first failure line; when that block
only says that a command failed, the error above it (heuristic_facts.py's docstring says how).
"""

from __future__ import annotations

import re

from bot.core.excerpt.rules import CLEANUP_SECTIONS, STRONG, is_exit_line, score_line
from bot.core.heuristic_exits import COMMAND, go_reason_above
from bot.core.heuristic_exits import EXIT_CODE as _EXIT_CODE
from bot.core.heuristic_exits import RUNNER_EXIT as _RUNNER_EXIT
from bot.core.heuristic_exits import lead_exit as _lead_exit
from bot.core.heuristic_formats import ECHO as _ECHO
from bot.core.heuristic_formats import FILE_HEADER as _FILE_HEADER
from bot.core.heuristic_formats import LINK_ISSUE, LINK_REPORT, LINK_REPORT_LINES, RELAYED_CONSOLE, WARNING_DIAGNOSTIC
from bot.core.heuristic_formats import NOISE as _NOISE
from bot.core.heuristic_formats import TEST_ID as _TEST_ID
from bot.core.heuristic_lines import (
    AFTER_SCRIPT,
    bare,
    failing_command_echo,
    is_failure_line,
    is_wrapper_line,
    last_words,
    passing_output,
)
from bot.core.heuristic_lines import diffed as _diffed
from bot.core.heuristic_listed import first_listed, past_tally
from bot.core.types import Excerpt, ExcerptLine

# A count of failures or tests in a wrapper line: a tally, which names none of them.
# (Not a test's number: CTest's "2/2 Test #2: cli_smoke ...***Failed" names its test.)
TALLY = re.compile(
    r"(?i)\b\d+ (?:tests?|targets?) (?:failed|passed)\b|\b\d+ (?:failures?|errors?)\b|\bout of \d+ tests?\b"
)
MAX_DETAIL_LINES = 6  # the headline's detail: the lines printed right under it
# What names the failure: a place in a file, an error code, an exception or error class.
NAMES = re.compile(
    r"[\w./\\-]*\w\.\w{1,10}(?::\d+|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)|\b[A-Z]{1,5}\d{3,5}\b|"
    r"\b[A-Z]\w*(?:Error|Exception|Failure)\b"
)
# A runner's line that a script command succeeded (Travis's `The command "x" exited with 0.`).
_SUCCEEDED = re.compile(r"^The command \".*\" exited with 0\.?\s*$")
# A report's title: its content, the failures, is printed under it.
# CTest's verdict on a test ("2/3 Test #2: test_polygon ....***Failed"): with --output-on-failure, the test's own
# output, its assertion, is printed under it.
_TITLE_ABOVE = re.compile(
    r"^=+ (?:FAILURES|ERRORS) =+$|^\W*(?:Failures|Errors|FAILURES|ERRORS):\s*$|What went wrong:|"
    r"^\s*\d+/\d+ Test +#\d+: \S+ \.+\s*\*\*\*Failed\b"
)
# A test runner's title over its failures' details, after a progress listing that only names them: pytest's
# banner, mocha's tally ("  2 failing"). (Gradle's "What went wrong:" sums up the compiler output above it.)
# Jest's "● Suite › test" heads one test's failure ("● Console" only heads what the tests logged).
# testthat's header over one failure's report ("── Failure ('test-x.R:12:3'): parses ──", before 3e "── 1. Failure: parses
# (@test-x.R#12) ──", before 2.0 "1. Failure (at test-x.R#29): parses"): the expectation's words under it hold no
# failure word either.
# Playwright's report heads each failed test with its number, project, place and title over a rule ("  1) [chromium] ›
# tests/x.spec.ts:12:7 › login › fails ────"), under its "✘ 3 [chromium] › ..." progress lines.
_TEST_TITLE = re.compile(
    r"^\s*● (?!Console\s*$)\S|^\s*── (?:\d+\. )?(?:Failure|Error)\b|^\s*\d+\. (?:Failure|Error) \(at \S+#\d+\): \S|"
    r"^\s*\d+\) (?:\[[^\]]+\] › )?\S+:\d+:\d+ › .*─{3,}\s*$"
)
# Vitest's "⎯⎯⎯ Failed Tests 1 ⎯⎯⎯" over its report, under the "❯ file > test" / "→ expected ..." progress listing.
_REPORT_TITLE = re.compile(
    r"^=+ (?:FAILURES|ERRORS) =+$|^\s*\d+ failing\s*$|^⎯+ Failed Tests? \d+ ⎯+\s*$|^Failures:\s*$|"
    + _TEST_TITLE.pattern
)
BELOW_TITLE_LINES = 40
# Ginkgo's summary of the failed specs, printed above its tally.
_SUMMARY_TITLE = re.compile(r"^\s*Summarizing \d+ Failures?:\s*$")
TITLE_AFTER_LEAD = 10  # how far under a progress listing its runner's report may begin


def _diagnostic(text: str) -> bool:
    """A line flush left that names a place or an error (`a.go:4: …`, `E0308`), not a stack frame or an echo."""
    text = bare(text)
    return bool(text[:1].strip() and NAMES.search(text) and not _ECHO.match(text) and not _NOISE.search(text))


def _last_diagnostics(window: list[ExcerptLine]) -> list[ExcerptLine]:
    """The last run of diagnostics in a window: flush-left lines naming a place, with indented lines (code,
    carets, notes) between them; output printed before the run (an app's own log) is not part of it."""
    run: list[ExcerptLine] = []
    for line in reversed(window):
        text = bare(line.text)
        if _diagnostic(text):
            run.insert(0, line)
        elif text[:1].strip() and (run or not (is_wrapper_line(text) or _ECHO.match(text) or _NOISE.search(text))):
            # Other words printed under the run: the run is not what the command said last.
            break
    return run


def _window_start(lines: list[ExcerptLine], i: int) -> int:
    """The first line of the run of consecutive log lines that holds lines[i]."""
    while i > 0 and lines[i - 1].n == lines[i].n - 1:
        i -= 1
    return i


def after_steps(lines: list[ExcerptLine], first: int, last: int) -> tuple[int, int]:
    """The lead, or the first failing command's exit line when the lead comes after it: what runs after a
    command failed (after_script, a deploy or upload, a coverage reporter) fails for want of its output."""
    for line in lines:
        if line.n >= first:
            break
        m = _EXIT_CODE.search(line.text)
        if m and int(m.group("code")) and is_exit_line(line.text) and not _RUNNER_EXIT.search(line.text):
            return line.n, line.n
    return first, last


# CTest's progress lines: the next test starts, so the output under a verdict ends there.
_CTEST_NEXT = re.compile(r"^\s*(?:Start +\d+: |\d+/\d+ Test +#\d+: )")


def _failures_under(lines: list[ExcerptLine], title: int) -> list[ExcerptLine]:
    """The failure lines printed within BELOW_TITLE_LINES under the report title lines[title] (up to CTest's next
    test)."""
    top = lines[title].n
    out = []
    for line in lines[title + 1 : title + 1 + BELOW_TITLE_LINES]:
        if line.n - top > BELOW_TITLE_LINES or _CTEST_NEXT.match(bare(line.text)):
            break
        if is_failure_line(line.text):
            out.append(line)
    return out


# A report's numbered entry for one failure ("  1) Acme.Parse parses lists", rspec's "  1) Cart totals ..."): the
# expected and actual values are printed under it.
_ENTRY = re.compile(r"^\s*1\) \S")


def _first_entry(lines: list[ExcerptLine], title: ExcerptLine) -> ExcerptLine | None:
    """The first numbered failure within TITLE_AFTER_LEAD lines under a report's title, or None."""
    k = lines.index(title)
    return next(
        (ln for ln in lines[k + 1 :] if ln.n - title.n <= TITLE_AFTER_LEAD and _ENTRY.match(bare(ln.text))), None
    )


def _decisive(chain: list[ExcerptLine]) -> ExcerptLine:
    """The first strong line of a report, else its first line that names the failure, else its first."""
    # A warning names its place, not what failed (an unused variable above the linker's undefined reference).
    named = [line for line in chain if NAMES.search(line.text) and not WARNING_DIAGNOSTIC.search(bare(line.text))]
    # A tool's own finding (TOOL_FAILURE, LINT) is as strong, unless it only names a failing test (the error under it).
    strong = [
        line
        for line in chain
        if score_line(line.text) >= STRONG or (is_failure_line(line.text, STRONG) and not _TEST_ID.search(line.text))
    ]
    return (strong or named or chain)[0]


def _report_under(lines: list[ExcerptLine], lead: list[ExcerptLine]) -> list[ExcerptLine]:
    """The lead's lines under a report's title and, when none of them is a strong failure line, the rest of that
    report below the lead, up to a wrapper, an echo or the next title: pytest's "ImportError while importing test
    module" heads the "E   ModuleNotFoundError: ..." printed under its traceback."""
    if any(is_failure_line(line.text, STRONG) for line in lead):
        return lead
    more = []
    for line in lines[lines.index(lead[-1]) + 1 :]:
        text = bare(line.text)
        if line.n - lead[0].n > BELOW_TITLE_LINES or is_wrapper_line(text) or _ECHO.match(text):
            break
        if _REPORT_TITLE.search(text):
            break
        more.append(line)
    return lead + more


def _runners_own(lines: list[ExcerptLine], line: ExcerptLine) -> bool:
    """Whether `line` is in one of GitLab's own sections around the script (preparing the executor and its services,
    fetching the sources, restoring the cache, the after_script and artifacts upload) in a job whose script ran: what
    failed there (a service's health check, a cache download retried) is not why the script failed."""
    if not line.section or not CLEANUP_SECTIONS.search(line.section):
        return False
    return any(other.section and not CLEANUP_SECTIONS.search(other.section) for other in lines)


def headline(excerpt: Excerpt) -> ExcerptLine | None:
    """The decisive error line (see the module docstring); None when no line looks like a failure."""
    lines = excerpt.lines
    if not lines:
        return None
    # A link checker's report of broken links: the first one it lists.
    report = next((k for k, line in enumerate(lines) if LINK_REPORT.match(bare(line.text))), None)
    if report is not None:
        top = lines[report].n
        listed = [
            ln for ln in lines[report + 1 :] if ln.n - top <= LINK_REPORT_LINES and LINK_ISSUE.match(bare(ln.text))
        ]
        if listed:
            return listed[0]
    if (found := first_listed(lines, excerpt.lead)) is not None:
        return found
    if (found := past_tally(lines, excerpt.lead)) is not None:
        return found
    quiet = said = None
    if excerpt.lead is not None:
        first, last = after_steps(lines, *excerpt.lead)
        # What a test that passed printed (its app's own `[ERROR]` logs) is not why the run failed.
        lead = [line for line in lines if first <= line.n <= last and not passing_output(lines, line)]
        # A browser's console relayed by the test runner is the app's log, when the lead holds a failure of its own.
        own = [line for line in lead if not RELAYED_CONSOLE.search(bare(line.text))]
        if any(is_failure_line(line.text) for line in own):
            lead = own
        # A report's title in the lead: the failures' details are under it; a progress listing above it only
        # names them (mocha's "1) applies a coupon" before "1 failing").
        titled = next((k for k, line in enumerate(lead) if _REPORT_TITLE.search(bare(line.text))), None)
        if titled is not None and _TEST_TITLE.match(bare(lead[titled].text)):
            # One test's title (Jest's "● Suite › test") heads its expectation and values, which follow it.
            return lead[titled]
        if titled is not None and any(is_failure_line(line.text) for line in lead[titled + 1 :]):
            lead = _report_under(lines, lead[titled + 1 :])
        elif titled is not None and (entry := _first_entry(lines, lead[titled])) is not None:
            # The lead ends at the title: the report's first numbered failure under it heads its expectation.
            return entry
        elif titled is None:
            # The title may come right after a lead that is the listing itself.
            after = [line for line in lines if last < line.n <= last + TITLE_AFTER_LEAD]
            title = next((line for line in after if _REPORT_TITLE.search(bare(line.text))), None)
            if title is not None and (under := _failures_under(lines, lines.index(title))):
                return _decisive(under)
        # A runner's summary of its failures right above a lead that is only its tally (Ginkgo's "Summarizing
        # 1 Failure:" over `[FAIL] spec`, then go test's `--- FAIL: TestSuite`): the failures are its lines.
        summary = next(
            (
                k
                for k, line in enumerate(lines)
                if first - TITLE_AFTER_LEAD <= line.n < first and _SUMMARY_TITLE.match(line.text)
            ),
            None,
        )
        if summary is not None:
            listed = [line for line in lines[summary + 1 :] if line.n < first and is_failure_line(line.text)]
            if listed:
                return listed[0]
        strong = [line for line in lead if is_failure_line(line.text, STRONG)]
        if strong:
            return go_reason_above(lines, strong[0]) or strong[0]
        medium = [line for line in lead if is_failure_line(line.text)]
        # A compiler's warning in the lead is not what failed when another failure line is there (the linker's
        # `undefined reference` under two warnings).
        medium = [line for line in medium if not WARNING_DIAGNOSTIC.search(bare(line.text))] or medium
        if medium:
            return medium[0]
        # The lead is a report's title (pytest's "=== FAILURES ===", Gradle's "What went wrong:"): the error is under it.
        title = next(
            (i for i, line in enumerate(lines) if first <= line.n <= last and _TITLE_ABOVE.search(bare(line.text))),
            None,
        )
        if title is not None and (below := _failures_under(lines, title)):
            return _decisive(below)
        # The lead only says that something failed: the error is in the nearest failure report above it.
        j = next((i for i, line in enumerate(lines) if line.n >= first), len(lines)) - 1
        j_lead = j
        # The lines printed right above the wrapper are the failed command's output: a compiler's
        # "a.go:4: log redeclared" right above Go's "FAIL pkg [build failed]" names the failure even
        # without a failure word.
        if j >= 0 and lines[j].n == first - 1:
            start = _window_start(lines, j)
            found = _last_diagnostics(lines[start : j + 1])
            failing = [line.n for line in lines[start : j + 1] if is_failure_line(line.text)]
            # Nearer the wrapper than any failure line: a warning printed earlier is not what failed.
            if found and (not failing or found[0].n > failing[-1]):
                return found[0]
        # A command that the runner says exited with 0 did not fail: what it printed above is not why this one did.
        floor = next((k for k in range(j, -1, -1) if _SUCCEEDED.search(bare(lines[k].text))), -1)
        # GitLab runs the after_script, uploads artifacts and cleans up after a failed script: what fails there
        # ("ERROR: No files to upload") is for want of the script's output, so the search starts above it.
        after = next((k for k in range(j, floor, -1) if AFTER_SCRIPT.match(bare(lines[k].text))), None)
        if after is not None and any(is_failure_line(line.text) for line in lines[floor + 1 : after]):
            j = after - 1
        # GitLab's own sections around the script are not searched when the script ran (_runners_own).
        while j > floor and (not is_failure_line(lines[j].text) or _runners_own(lines, lines[j])):
            j -= 1
        echo = failing_command_echo(lines, j_lead) if floor < 0 else -1
        if floor < j < echo and not is_failure_line(lines[j].text, STRONG):
            # Weak failure words only above the failing command's echo: an earlier command's, which the job went on
            # after. A strong one there (git's `fatal:` inside `export V=$(git describe)`) may be why it failed.
            floor = echo
        elif j > floor:
            # The run of lines ends, above, at the runner's echo of the command that printed lines[j]: lines above it
            # are an earlier command's output (or the runner's own set-up: a service's health check, a cache retry).
            start = max(_window_start(lines, j), floor + 1, failing_command_echo(lines, j) + 1)
            report = [line for line in lines[start : j + 1] if is_failure_line(line.text)]
            # What a test that passed printed (a logged exception in a Surefire class that counts no failure) is not
            # why the run failed, when the run printed other failure lines.
            failed = [line for line in report if not passing_output(lines, line)]
            return _decisive(failed or report)
        elif echo > floor:
            # No failure word above, and the failing command listed files (`gofmt -l`, `prettier --list-different`):
            # the files it failed on, when no failure word is anywhere.
            said = last_words(lines[echo + 1 : j_lead + 1], MAX_DETAIL_LINES)
            quiet = said if said is not None and _FILE_HEADER.match(bare(said.text)) else None
        if floor >= 0:
            # No failure word since: the failing command's last words, else its exit line.
            return last_words(lines[floor + 1 : j_lead + 1], MAX_DETAIL_LINES) or _lead_exit(lines, first, last)
    candidates = [line for line in lines if is_failure_line(line.text)]
    candidates = [line for line in candidates if not _runners_own(lines, line)] or candidates
    if candidates:
        best = max(score_line(line.text) for line in candidates)
        return next(line for line in candidates if score_line(line.text) == best)
    if (diff := _diffed(lines)) is not None:
        return diff  # a check that printed only a diff: the difference is its failure
    # Only wrappers: the innermost one (a command's own status) says the most; when they only give exit statuses, the
    # files the failing command listed.
    wrappers = [line for line in lines if line.text.strip() and is_wrapper_line(line.text)]
    own = [line for line in wrappers if not _RUNNER_EXIT.search(line.text)]
    if quiet is not None and all(_EXIT_CODE.search(line.text) for line in own):
        return quiet
    # A tally ("INFO: Build completed, 1 test FAILED", "Executed 2 out of 2 tests: 1 fails") counts; a verdict under
    # it names what failed (Bazel's "//pkg/store:store_test   FAILED in 2.1s").
    own = [line for line in own if not TALLY.search(line.text)] + [line for line in own if TALLY.search(line.text)]
    if not own and said is not None:
        # Only the runner's own `Job failed` / `Process completed with exit code`: it names nothing the command said.
        # The failing command's last words do, when it printed no failure word (poetry's "pyproject.toml changed
        # significantly since poetry.lock was last generated", a check script's own verdict line).
        return said
    coded = [ln for ln in wrappers if _EXIT_CODE.search(ln.text)] if not own else []
    if said is None and coded and not any(COMMAND.search(ln.text) for ln in coded):
        # Only the runner's exit statuses, which name no command (CircleCI's "Exited with code exit status 1", Azure's
        # "Bash exited with code '1'.", Jenkins' "script returned exit code 1"), on systems that echo no `$ cmd`: the
        # last words printed right above the first of them.
        k = lines.index(coded[0])
        said = last_words(lines[_window_start(lines, k) : k], MAX_DETAIL_LINES) if k else None
        if said is not None:
            return said
    return (own or wrappers or [None])[0]
