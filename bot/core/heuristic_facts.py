"""What a failure's own lines say, taken from the excerpt as printed (pure): the offline analyzer's facts.

- The *headline* is the decisive error line: the first strong failure line of the block the excerpt
  leads with, else its first failure line. When that block only says that a command failed (`make: ***
  [x] Error 2`, `The command "x" exited with 1.`, `Configuring incomplete, errors occurred!`), the error
  is above it: in the nearest run of consecutive lines that holds failure lines, the first strong one,
  else the first that names a place or an error (`file:line`, `E0308`, `FooError`), else the first;
  but diagnostics printed right above it, after any failure line (`a.go:4: log redeclared`), come first.
  A block that comes after the first failing command's own exit line is an after-step (an upload, a
  coverage reporter): the error is above that exit line. A command echo (`$ make`, `+ make`) is what
  ran, never what failed; output above a command the runner says exited with 0 is not this failure's.
- The *statement* is the headline with the lines printed right under it (the test's detail, the
  expected and actual values, the `-->` location; pytest's `>` statement above its `E` lines; a
  traceback's exception), without code frames, in the tool's own words, after the failing test named
  nearest it or, when none is, the report's own line above it that names what failed.
- The *exit* is the failing command's own exit status as printed (`error Command failed with exit
  code 134.`, `did not complete successfully: exit code: 100`), not the runner's `Job failed`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.core import messages
from bot.core.excerpt.rules import NEXT_TEST, STRONG, is_exit_line, score_line
from bot.core.heuristic_exits import EXIT_CODE as _EXIT_CODE
from bot.core.heuristic_exits import RUNNER_EXIT as _RUNNER_EXIT
from bot.core.heuristic_exits import (
    Exit,
    failing_exit,
    failing_step,
    failing_test,
    failing_test_line,
    go_reason_above,
    timed_out,
)
from bot.core.heuristic_exits import lead_exit as _lead_exit
from bot.core.heuristic_formats import CODE_FRAME as _CODE_FRAME
from bot.core.heuristic_formats import (
    DETAIL_END,
    HEADED,
    LINK_ISSUE,
    LINK_ONLY,
    LINK_REPORT,
    LINK_REPORT_LINES,
    NPM_SPACER,
    PLACE_ALONE,
    POINTED,
    RAISED_BELOW,
    SHORT_FRAME,
    STEP_LOCATION,
)
from bot.core.heuristic_formats import ECHO as _ECHO
from bot.core.heuristic_formats import FILE_HEADER as _FILE_HEADER
from bot.core.heuristic_formats import LIBRARY_FRAME as _LIBRARY_FRAME
from bot.core.heuristic_formats import LINT as _LINT
from bot.core.heuristic_formats import NOISE as _NOISE
from bot.core.heuristic_formats import PASS as _PASS
from bot.core.heuristic_formats import TEST_ID as _TEST_ID
from bot.core.heuristic_lines import (
    bare,
    before_after_script,
    clean,
    failing_command_echo,
    is_failure_line,
    is_wrapper_line,
    last_words,
    passing_output,
    ran_out_before,
    went_on_after,
)
from bot.core.heuristic_lines import diffed as _diffed
from bot.core.heuristic_listed import first_listed, past_tally
from bot.core.heuristic_trace import EXCEPTION, FRAME, TRACEBACK, traceback_end
from bot.core.types import Excerpt, ExcerptLine

MAX_STATEMENT = 200
MAX_DETAIL_LINES = 6

# A runner's line that a script command succeeded (Travis's `The command "x" exited with 0.`).
_SUCCEEDED = re.compile(r"^The command \".*\" exited with 0\.?\s*$")
# What names the failure: a place in a file, an error code, an exception or error class.
_NAMES = re.compile(
    r"[\w./\\-]*\w\.\w{1,10}(?::\d+|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)|\b[A-Z]{1,5}\d{3,5}\b|"
    r"\b[A-Z]\w*(?:Error|Exception|Failure)\b"
)
# A place in a file, as compilers print it.
_PLACE = re.compile(r"[\w./\\-]*\w\.\w{1,10}(?::\d+|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)")
PLACED_ABOVE = 200  # how far above a summary its error may have been printed with its place
_DIGITS = re.compile(r"\d+")
SHOWN_ALIKE = 2  # lines of one message with other numbers stated before the rest are counted
MIN_REPEATED = 12  # a shorter message ("error") is not one error repeated
# A colour code, which the excerpt keeps: a message in colour is the same message.
_COLOUR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A report's title: its content, the failures, is printed under it.
_TITLE_ABOVE = re.compile(r"^=+ (?:FAILURES|ERRORS) =+$|^\W*(?:Failures|Errors|FAILURES|ERRORS):\s*$|What went wrong:")
# A test runner's title over its failures' details, after a progress listing that only names them: pytest's
# banner, mocha's tally ("  2 failing"). (Gradle's "What went wrong:" sums up the compiler output above it.)
# Jest's "● Suite › test" heads one test's failure ("● Console" only heads what the tests logged).
# testthat's header over one failure's report ("── Failure ('test-x.R:12:3'): parses ──", before 3e "── 1. Failure: parses
# (@test-x.R#12) ──", before 2.0 "1. Failure (at test-x.R#29): parses"): the expectation's words under it hold no
# failure word either.
_TEST_TITLE = re.compile(
    r"^\s*● (?!Console\s*$)\S|^\s*── (?:\d+\. )?(?:Failure|Error)\b|^\s*\d+\. (?:Failure|Error) \(at \S+#\d+\): \S"
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
# A title with no content of its own ("Failures:", "Failure reason:", "--- FAILURES ---"): the content is under
# it. A short sentence ("Expected 100 to equal 90.", "Killed") is content.
_TITLE = re.compile(r"^\W*(?:\[[A-Z]+\]\s*)?(?:[A-Za-z][\w ]{0,30}:|[A-Z][A-Z0-9 ]{0,30})\W*$")
CONTEXT_LINES = 20  # how far above the headline a report's own line may name what failed
MAX_CONTEXT = 100
# A quoted name ('x', "x", `x`, ‘x’): what a report line names when it names no file or error class.
_QUOTED = re.compile(r"'[^'\s]{2,}'|\"[^\"\s]{2,}\"|`[^`\s]{2,}`|‘[^’]{2,}’")
MAX_STEP = 80  # a longer step name is left to the headline's own words
# A stack frame as JavaScript, Java, C# and Ruby print them ("    at f (a.js:3:9)", "\tfrom a.rb:3:in `f'").
_STACK_FRAME = re.compile(r"^\s+(?:at|from) \S")
_CARETS = re.compile(r"^[\^~]+$")
# pytest's report of a failing test: the statement marked ">" and the error lines marked "E" under it.
_PYTEST_SOURCE = re.compile(r"^>\s{2,}\S")
_PYTEST_ERROR = re.compile(r"^E\s{2,}\S")
PYTEST_SOURCE_LINES = 4  # a statement may continue on a line or two before its error
EXCEPTION_FRAME_LINES = 4  # a frame, its source line and a caret above the exception


@dataclass(frozen=True, slots=True)
class Facts:
    headline: ExcerptLine | None
    detail: tuple[ExcerptLine, ...]  # the headline and the lines printed under it
    block: tuple[ExcerptLine, ...]  # every line of the failure: the detail, the lead block, the exit lines
    exit: Exit | None
    test: str = ""  # the failing test as its runner names it
    step: str = ""  # the failing build step as its tool names it, when no exit status names a command
    step_line: ExcerptLine | None = None  # the line that names the failing step
    test_line: ExcerptLine | None = None  # the line that names the failing test
    context: ExcerptLine | None = None  # the report's own line above the headline that names what failed
    timed_out: bool = False  # the failing command was run by `timeout` and stopped by it (exit status 124)

    def named_lines(self) -> tuple[ExcerptLine | None, ...]:
        """The lines that name what failed: the failing test's, the failing step's, and the exit line when it
        names the command."""
        own = self.exit is not None and self.exit.command and not _RUNNER_EXIT.search(self.exit.line.text)
        # Under a title that only names the failing test (mocha's "1) parse"), the error printed under it.
        under = next((ln for ln in self.detail[1:] if score_line(ln.text) > 0), None)
        return (self.test_line, self.step_line, self.exit.line if own and self.exit else None, under)

    def statement(self, limit: int = MAX_STATEMENT) -> str:
        """The headline and its detail in the tool's own words, joined with ' — ', at most `limit` characters."""
        parts: list[str] = []
        shapes: Counter[str] = Counter()
        frames = 0
        repeated = False
        # A test framework's or the runtime's own frames (JUnit's `at org.junit.Assert.fail`) say where the
        # assertion was thrown, not which line of the project failed: the project's frame is stated when it is there.
        own = any(_STACK_FRAME.match(bare(ln.text)) and not _LIBRARY_FRAME.match(bare(ln.text)) for ln in self.detail)
        for line in self.detail:
            text = clean(line.text)
            if own and _LIBRARY_FRAME.match(bare(line.text)):
                continue
            # One stack frame says where the error was raised; the frames under it are the caller chain.
            if _STACK_FRAME.match(bare(line.text)):
                frames += 1
                if frames > 1:
                    continue
            # The same message a third time with other numbers (`line 171: pom.bak11.xml: No space left on device`)
            # is counted, not repeated: the room is for what else the failure says.
            shape = _DIGITS.sub("0", text)
            if shapes[shape] >= SHOWN_ALIKE:
                repeated = True
                continue
            # A caret under the code (scalac's "[error]   ^") shows where; the message says what; a link to docs.
            if text and text not in parts and not _CARETS.match(text) and not (parts and LINK_ONLY.match(text)):
                parts.append(text)
                shapes[shape] += 1
        out = " — ".join(parts) + (" " + messages.OFFLINE_MORE_LIKE if repeated else "")
        if self.test and self.test not in out:
            out = f"{self.test}: {out}"
        elif not self.test and self.context is not None:
            out = f"{clean(self.context.text)} — {out}"
        return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def _diagnostic(text: str) -> bool:
    """A line flush left that names a place or an error (`a.go:4: …`, `E0308`), not a stack frame or an echo."""
    text = bare(text)
    return bool(text[:1].strip() and _NAMES.search(text) and not _ECHO.match(text) and not _NOISE.search(text))


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


def _after_steps(lines: list[ExcerptLine], first: int, last: int) -> tuple[int, int]:
    """The lead, or the first failing command's exit line when the lead comes after it: what runs after a
    command failed (after_script, a deploy or upload, a coverage reporter) fails for want of its output."""
    for line in lines:
        if line.n >= first:
            break
        m = _EXIT_CODE.search(line.text)
        if m and int(m.group("code")) and is_exit_line(line.text) and not _RUNNER_EXIT.search(line.text):
            return line.n, line.n
    return first, last


def _failures_under(lines: list[ExcerptLine], title: int) -> list[ExcerptLine]:
    """The failure lines printed within BELOW_TITLE_LINES under the report title lines[title]."""
    top = lines[title].n
    return [
        line
        for line in lines[title + 1 : title + 1 + BELOW_TITLE_LINES]
        if line.n - top <= BELOW_TITLE_LINES and is_failure_line(line.text)
    ]


def _decisive(chain: list[ExcerptLine]) -> ExcerptLine:
    """The first strong line of a report, else its first line that names the failure, else its first."""
    named = [line for line in chain if _NAMES.search(line.text)]
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
    quiet = None
    if excerpt.lead is not None:
        first, last = _after_steps(lines, *excerpt.lead)
        # What a test that passed printed (its app's own `[ERROR]` logs) is not why the run failed.
        lead = [line for line in lines if first <= line.n <= last and not passing_output(lines, line)]
        # A report's title in the lead: the failures' details are under it; a progress listing above it only
        # names them (mocha's "1) applies a coupon" before "1 failing").
        titled = next((k for k, line in enumerate(lead) if _REPORT_TITLE.search(bare(line.text))), None)
        if titled is not None and _TEST_TITLE.match(bare(lead[titled].text)):
            # One test's title (Jest's "● Suite › test") heads its expectation and values, which follow it.
            return lead[titled]
        if titled is not None and any(is_failure_line(line.text) for line in lead[titled + 1 :]):
            lead = _report_under(lines, lead[titled + 1 :])
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
        if medium:
            return medium[0]
        # The lead is a report's title (pytest's "=== FAILURES ===", Gradle's "What went wrong:"): the error is under it.
        title = next(
            (i for i, line in enumerate(lines) if first <= line.n <= last and _TITLE_ABOVE.search(line.text)), None
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
        while j > floor and not is_failure_line(lines[j].text):
            j -= 1
        echo = failing_command_echo(lines, j_lead) if floor < 0 else -1
        if floor < j < echo and not is_failure_line(lines[j].text, STRONG):
            # Weak failure words only above the failing command's echo: an earlier command's, which the job went on
            # after. A strong one there (git's `fatal:` inside `export V=$(git describe)`) may be why it failed.
            floor = echo
        elif j > floor:
            start = max(_window_start(lines, j), floor + 1)
            return _decisive([line for line in lines[start : j + 1] if is_failure_line(line.text)])
        elif echo > floor:
            # No failure word above, and the failing command listed files (`gofmt -l`, `prettier --list-different`):
            # the files it failed on, when no failure word is anywhere.
            quiet = last_words(lines[echo + 1 : j_lead + 1], MAX_DETAIL_LINES)
            quiet = quiet if quiet is not None and _FILE_HEADER.match(bare(quiet.text)) else None
        if floor >= 0:
            # No failure word since: the failing command's last words, else its exit line.
            return last_words(lines[floor + 1 : j_lead + 1], MAX_DETAIL_LINES) or _lead_exit(lines, first, last)
    candidates = [line for line in lines if is_failure_line(line.text)]
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
    return (own or wrappers or [None])[0]


def _detail(excerpt: Excerpt, head: ExcerptLine) -> list[ExcerptLine]:
    """The headline and the lines printed right under it, up to a wrapper, a gap or MAX_DETAIL_LINES."""
    if TRACEBACK.search(head.text):
        end = traceback_end(excerpt, head)
        if end:
            return end
    lines = excerpt.lines
    i = lines.index(head)
    out = [head]
    # A place printed alone right above the headline locates it (hspec's `file:line:col:` over its numbered failure).
    if i > 0 and lines[i - 1].n == head.n - 1 and PLACE_ALONE.match(bare(lines[i - 1].text)):
        out.insert(0, lines[i - 1])
    # Cucumber prints the message above the exception's class: the message, up to the step that failed.
    if RAISED_BELOW.match(bare(head.text)):
        k = i - 1
        while k >= 0 and lines[k].n == lines[k + 1].n - 1 and i - k <= MAX_DETAIL_LINES:
            if STEP_LOCATION.search(bare(lines[k].text)):
                break
            if bare(lines[k].text).strip():
                out.insert(0, lines[k])
            k -= 1
    # pytest marks the failing statement with ">" a few lines above its "E   " lines: the statement and its error.
    if _PYTEST_ERROR.match(bare(head.text)):
        k = i - 1
        while k >= 0 and head.n - lines[k].n <= PYTEST_SOURCE_LINES and lines[k].n == lines[k + 1].n - 1:
            if _PYTEST_SOURCE.match(bare(lines[k].text)):
                out.insert(0, lines[k])
                break
            k -= 1
    # A linter's problem names its file on the line above the file's first problem.
    if _LINT.match(bare(head.text)):
        k = i - 1
        while k >= 0 and lines[k].n == lines[k + 1].n - 1 and not _FILE_HEADER.match(bare(lines[k].text)):
            k -= 1
        if k >= 0 and lines[k].n == lines[k + 1].n - 1 and head.n - lines[k].n <= MAX_DETAIL_LINES * 5:
            out.insert(0, lines[k])
    # shellcheck and PHP_CodeSniffer name the file on a header a few lines above the finding.
    for finding, header, reach in HEADED:
        if finding.search(bare(head.text)):
            above = [ln for ln in lines[max(0, i - reach) : i] if header.match(bare(ln.text))]
            if above:
                out.insert(0, above[-1])
    in_frame = False
    while i + 1 < len(lines) and lines[i + 1].n == lines[i].n + 1 and len(out) < MAX_DETAIL_LINES:
        i += 1
        text = lines[i].text
        if not text.strip() or _NOISE.search(text) or _CODE_FRAME.match(bare(text)) or NPM_SPACER.match(bare(text)):
            continue
        # pytest's short traceback ("tests/x.py:3: in <module>" over its source line) says where; its "E" lines what.
        in_frame = bool(SHORT_FRAME.match(bare(text))) or (in_frame and bare(text).startswith((" ", "\t")))
        if in_frame:
            continue
        if "Execution failed for task" in text:
            continue  # Gradle prints it between the failed task's name and the reason under it
        if (
            is_wrapper_line(text)
            or _ECHO.match(text)
            or _PASS.search(text)
            or DETAIL_END.match(bare(text))
            or NEXT_TEST.match(bare(text))  # go test -v's next test: its output is not this failure's
            or lines[i].section != head.section
        ):
            break
        # A traceback under the headline (unittest's "FAIL: test_x (a.B)"): its exception and frame say why.
        if TRACEBACK.search(text) and (end := traceback_end(excerpt, lines[i])):
            out += end
            break
        out.append(lines[i])
    # A bare title ("Failures:") is not a statement when lines follow it; a place printed right above it says where
    # (doctest's `File "x.py", line 14, in x.parse` over its "Failed example:").
    if len(out) > 1 and _TITLE.match(clean(head.text)) and len(clean(head.text)) <= 35:
        k = lines.index(head) - 1
        placed = k >= 0 and lines[k].n == head.n - 1 and FRAME.match(bare(lines[k].text))
        out = ([lines[k]] if placed else []) + out[1:]
    # Python's error without its traceback's header (a SyntaxError from compileall, a cut traceback), OCaml's error
    # under its code frame: the `File "x.py", line 42` printed a few lines above it says where.
    if EXCEPTION.match(bare(head.text)) and not any(FRAME.match(bare(line.text)) for line in out):
        k = lines.index(head) - 1
        while k >= 0 and head.n - lines[k].n <= EXCEPTION_FRAME_LINES and lines[k].n == lines[k + 1].n - 1:
            text = bare(lines[k].text)
            if FRAME.match(text):
                if not _NOISE.search(text):
                    out.append(lines[k])
                break
            k -= 1
    return out


def _context(excerpt: Excerpt, head: ExcerptLine) -> ExcerptLine | None:
    """The line a report prints a few lines above its error that names what failed (R's "Running the tests in
    'tests/testthat.R' failed."), or None."""
    lines = excerpt.lines
    i = lines.index(head)
    for k in range(i - 1, -1, -1):
        line, text = lines[k], bare(lines[k].text)
        if head.n - line.n > CONTEXT_LINES or lines[k + 1].n - line.n > 2:
            return None
        if is_wrapper_line(text) or _ECHO.match(text) or _PASS.search(text):
            return None
        if (
            is_failure_line(line.text)
            and len(clean(text)) <= MAX_CONTEXT
            and (_NAMES.search(text) or _QUOTED.search(text))
        ):
            return line
    return None


def _placed(excerpt: Excerpt, head: ExcerptLine) -> ExcerptLine:
    """The first line above that printed the headline's message with its place, when the headline does not name
    one: a summary repeats an error without where it is (xcodebuild's "Testing failed:" list under the compiler's
    "Foo.swift:97:2: unknown attribute 'x'")."""
    text = _COLOUR.sub("", clean(head.text))
    if _PLACE.search(text) or len(text) < MIN_REPEATED:
        return head
    message = text.lower()
    for line in excerpt.lines:
        if line.n >= head.n:
            break
        shown = _COLOUR.sub("", bare(line.text))
        if head.n - line.n <= PLACED_ABOVE and message in shown.lower() and _PLACE.search(shown):
            return line
    return head


def _parent(excerpt: Excerpt, head: ExcerptLine) -> ExcerptLine:
    """The error a tab-indented headline continues (the go command's "go: x@v1: reading ...: 410 Gone" over its
    "\tserver response: not found: ..."): the failure line printed flush left right above it, else the headline."""
    i = excerpt.lines.index(head)
    above = excerpt.lines[i - 1] if i > 0 else None
    if not bare(head.text).startswith("\t") or above is None or above.n != head.n - 1:
        return head
    text = bare(above.text)
    # (Not a test's verdict over its expectation: Karma's "Chrome (Linux) Cart totals FAILED" over "\tExpected 1 to be 2.")
    parent = text[:1].strip() and is_failure_line(above.text) and not is_wrapper_line(text)
    return above if parent and not _TEST_ID.search(text) else head


def _pointed(excerpt: Excerpt, detail: list[ExcerptLine]) -> ExcerptLine | None:
    """The report a line of the failure's detail points to above it (POINTED), or None."""
    for pointer, title, reach in POINTED:
        if any(pointer.search(bare(line.text)) for line in detail):
            top = detail[0].n
            above = [ln for ln in excerpt.lines if top - reach <= ln.n < top and title.match(bare(ln.text))]
            if above:
                return above[-1]
    return None


def facts(excerpt: Excerpt) -> Facts:
    """The headline, its detail, the failure's lines and the failing command's exit status."""
    stopped = timed_out(excerpt)
    if stopped is not None:
        # Stopped by `timeout`: that is why it failed; what the command printed last is only where it was then.
        head, exit_ = stopped
        return Facts(head, (head,), tuple(dict.fromkeys((head, exit_.line))), exit_, timed_out=True)
    head = headline(excerpt)
    if head is not None and (rest := went_on_after(excerpt, head)) is not None:
        # Printed by a command allowed to fail (`|| true`) that the job went on after: the job failed later.
        head = headline(rest)
    if head is not None and (script := before_after_script(excerpt, head)) is not None:
        head = headline(script) or head  # the after_script's clean-up, when the script above it says why it failed
    if head is None:
        return Facts(None, (), (), failing_exit(excerpt), failing_test(excerpt))
    head = _parent(excerpt, head)
    # A full disk (or quota, or file table) reported earlier in the job is why what follows failed: the errors after
    # it are what its missing files and truncated writes did. Not a test's name that says so, nor a clean-up step's,
    # nor an earlier command's that the job went on after.
    exhausted = ran_out_before(excerpt.lines, head)
    if exhausted is not None:
        head = exhausted
    detail = _detail(excerpt, head)
    report = _pointed(excerpt, detail)
    if report is not None:
        detail = _detail(excerpt, report)
    placed = _placed(excerpt, detail[0])
    if placed is not detail[0]:
        detail = _detail(excerpt, placed)
    head = detail[0]
    block = list(detail)
    if excerpt.lead is not None:
        first, last = _after_steps(list(excerpt.lines), *excerpt.lead)
        block += [line for line in excerpt.lines if first <= line.n <= last and line not in block]
    exit_ = failing_exit(excerpt, head.n)
    step, step_line = failing_step(excerpt, head.n)
    if step_line is not None and step_line not in block:
        block.append(step_line)
    if step_line in detail or len(step) > MAX_STEP:
        step = ""  # the headline states it already, or the name would crowd it out
    if exit_ is not None and not exit_.command and step:
        exit_, step = Exit(exit_.code, exit_.line, step), ""
    if exit_ is not None and exit_.line not in block:
        block.append(exit_.line)
    test, test_line = failing_test_line(excerpt, head.n)
    context = None if test else _context(excerpt, detail[0])
    if context is not None and context not in block:
        block.insert(0, context)
    return Facts(head, tuple(detail), tuple(block), exit_, test, step, step_line, test_line, context)
