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
from bot.core.excerpt.rules import NEXT_TEST, score_line
from bot.core.heuristic_exits import RUNNER_EXIT as _RUNNER_EXIT
from bot.core.heuristic_exits import (
    Exit,
    failing_exit,
    failing_step,
    failing_test,
    failing_test_line,
    timed_out,
)
from bot.core.heuristic_formats import CODE_FRAME as _CODE_FRAME
from bot.core.heuristic_formats import (
    DETAIL_END,
    HEADED,
    LINK_ONLY,
    NPM_SPACER,
    PLACE_ALONE,
    POINTED,
    RAISED_BELOW,
    SHORT_FRAME,
    STEP_LOCATION,
    WARNING_DIAGNOSTIC,
)
from bot.core.heuristic_formats import ECHO as _ECHO
from bot.core.heuristic_formats import FILE_HEADER as _FILE_HEADER
from bot.core.heuristic_formats import LIBRARY_FRAME as _LIBRARY_FRAME
from bot.core.heuristic_formats import LINT as _LINT
from bot.core.heuristic_formats import NOISE as _NOISE
from bot.core.heuristic_formats import PASS as _PASS
from bot.core.heuristic_formats import TEST_ID as _TEST_ID
from bot.core.heuristic_headline import MAX_DETAIL_LINES, NAMES, after_steps, headline
from bot.core.heuristic_lines import (
    bare,
    before_after_script,
    clean,
    is_failure_line,
    is_wrapper_line,
    ran_out_before,
    repeats_start,
    went_on_after,
)
from bot.core.heuristic_retries import RETRY, retried
from bot.core.heuristic_trace import EXCEPTION, FRAME, TRACEBACK, traceback_end
from bot.core.types import Excerpt, ExcerptLine

MAX_STATEMENT = 200
MAX_RETRIES = 5  # announced retries followed past one another (cargo's `2 tries remaining`, then `1`)

# A place in a file, as compilers print it.
_PLACE = re.compile(r"[\w./\\-]*\w\.\w{1,10}(?::\d+|:\[\d+,\d+\]|\(\d+(?:,\d+)?\)|\", line \d+)")
PLACED_ABOVE = 200  # how far above a summary its error may have been printed with its place
_DIGITS = re.compile(r"\d+")
SHOWN_ALIKE = 2  # lines of one message with other numbers stated before the rest are counted
MIN_REPEATED = 12  # a shorter message ("error") is not one error repeated
# A colour code, which the excerpt keeps: a message in colour is the same message.
_COLOUR = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
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
# The mark a tool puts before every line of one message: npm's `npm ERR! ` (npm 10: `npm error `), a level word.
_TOOL_LEAD = re.compile(r"^(?:npm (?:ERR!|error)|[A-Za-z][\w-]{0,20}:) ")
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
            # A tool that marks every line of one message (`npm ERR! `, `error: `) said it once in the first part: the
            # room is for the words that follow it (the package, the peer, the version).
            if parts and (lead := _TOOL_LEAD.match(parts[0])) and (text + " ").startswith(lead.group(0)):
                text = text[lead.end() :].strip()
            # A caret under the code (scalac's "[error]   ^") shows where; the message says what; a link to docs.
            # A line that only repeats the start of the one above it (npm's `404` under `404 Not Found - GET x`) adds nothing.
            if parts and repeats_start(parts[-1], text):
                continue
            if text and text not in parts and not _CARETS.match(text) and not (parts and LINK_ONLY.match(text)):
                parts.append(text)
                shapes[shape] += 1
        out = " — ".join(parts) + (" " + messages.OFFLINE_MORE_LIKE if repeated else "")
        if self.test and self.test not in out:
            out = f"{self.test}: {out}"
        elif not self.test and self.context is not None:
            out = f"{clean(self.context.text)} — {out}"
        return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


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
        # Above a retry's announcement is the attempt that was retried, not what names this failure.
        if is_wrapper_line(text) or _ECHO.match(text) or _PASS.search(text) or RETRY.search(text):
            return None
        if (
            is_failure_line(line.text)
            and not WARNING_DIAGNOSTIC.search(text)
            and len(clean(text)) <= MAX_CONTEXT
            and (NAMES.search(text) or _QUOTED.search(text))
        ):
            # A progress line naming the place the headline names already (Playwright's "✘ 3 [chromium] › x.spec.ts:12:7
            # › title" over its report's "1) [chromium] › x.spec.ts:12:7 › title"): the headline says it, and more.
            named = NAMES.search(text) or _QUOTED.search(text)
            return None if named and named.group(0) in bare(head.text) else line
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
    # An error its tool said it would retry: the attempt after the announcement is the one that failed the job.
    for _ in range(MAX_RETRIES):
        rest = retried(excerpt, head) if head is not None else None
        if rest is None or (after := headline(rest)) is None:
            break
        head = after
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
        first, last = after_steps(list(excerpt.lines), *excerpt.lead)
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
