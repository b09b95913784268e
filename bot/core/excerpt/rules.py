"""Rules that say how strongly a cleaned job-log line signals a failure (pure, no I/O)."""

from __future__ import annotations

import re

from bot.core.excerpt.benign import APP_LOG as _APP_LOG
from bot.core.excerpt.benign import BENIGN as _BENIGN
from bot.core.excerpt.benign import WARNING as _WARNING
from bot.core.excerpt.benign import WARNING_WORDS as _WARNING_WORDS
from bot.core.excerpt.benign import Gated as _Gated
from bot.core.excerpt.ci_systems import EXIT as _CI_EXIT
from bot.core.excerpt.ci_systems import FRAMING as _CI_FRAMING
from bot.core.excerpt.ci_systems import bare, marked_failure, may_have_prefix

# The pre-filter runs over every byte of the log, so it is a short list of lower-case
# fragments looked for in the lower-cased chunk, in one pass per anchor letter (scan.py;
# far faster than one regex alternation of all of them). It holds only the words of strong
# failure signals, step and GitLab section markers; lines near the failing step and the end
# are kept whatever they say and scored with the full rules below.
PREFILTER_WORDS: tuple[bytes, ...] = (
    b"err",
    b"fail",
    b"fatal",
    b"exception",
    b"traceback",
    b"panic",
    b"assert",
    b"abort",
    b"exit",
    b"killed",
    b"timed out",
    b"timeout",
    b"section_",
    # A resource the system ran out of (errno's own words): the job dies of it wherever it is printed.
    b"no space left",
    b"quota exceeded",
    b"too many open files",
)

# "path:12:3: warning:" from a compiler: what a build that treats warnings as errors fails on.
_COMPILER_WARNING = re.compile(r"(?i)^\S+:\d+(:\d+)?:\s*warning\b")

# (the test class as Gradle names it: a class name, its package before it, not `deploy > eu-west-1 FAILED`)
_GRADLE_TEST_FAILED = re.compile(r"^(?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?: > [^>]+)+ FAILED\s*$")

_LOCATED = re.compile(r"(^|\s)[\w./\\-]+\.\w{1,6}:\d+:\d+:? +(?!(warning|note|info)\b)\S")

# The score scale, the one definition of it: what score_line gives a line, from a tool's own verdict
# down to a weak hint. The scanner and block selection compare scores with these levels.
VERDICT = 14.0
STRONG = 10.0
MEDIUM = 6.0
WEAK = 3.0
# (pattern, score, words): the score of a line is the highest score of a matching pattern, minus
# penalties. Words are fragments of which a line must hold one for its pattern to have a chance
# (None: always tried). A substring test costs far less than a regex search over the line, and most
# lines a log scan looks at match nothing; tests/test_logs.py checks on real log lines that the words
# never change a score. A lower-case word is looked for in the lower-cased line; a word with a capital
# is looked for as written, for a pattern that needs that case ("Error" in "ValueError:"), so that
# "test_error_handling" does not run the patterns for exception names.
_Rule = tuple[re.Pattern[str], float, tuple[str, ...] | None]
_RULES: list[_Rule] = [
    # A tool's own verdict: a test runner's failure marker, a compiler error at a place, a build tool giving up.
    (
        re.compile(
            r"^\s*(--- FAIL|FAIL(ED)?\b|not ok\b|\[?(FAIL(ED)?|ERROR)\]|npm ERR!|error(\[\w+\])?:|make(\[\d+\])?: \*\*\*)"
            r"|^\s*Failures?:\s*$|^=+ (FAILURES|ERRORS) =+"
        ),
        VERDICT,
        None,
    ),
    (re.compile(r"^\S+:\d+(:\d+)?:\s*(fatal )?error\b"), VERDICT, ("error",)),
    (re.compile(r"\berror\[E\d+\]"), VERDICT, ("error[E",)),
    (re.compile(r"\bBUILD FAIL(URE|ED)\b|FAILURE: Build failed"), VERDICT, ("BUILD FAIL", "FAILURE: Build failed")),
    (re.compile(r"Traceback \(most recent call last\)"), VERDICT, ("Traceback (most",)),
    (re.compile(r"\bpanicked at\b"), VERDICT, ("panicked at",)),
    (re.compile(r"\btest result: FAILED"), VERDICT, ("test result: FAILED",)),
    (re.compile(r"\bDubious, test returned"), VERDICT, ("Dubious, test",)),
    (re.compile(r"\bFailed \d+/\d+ (subtests|tests)"), VERDICT, ("Failed ",)),
    (
        re.compile(r"(?i)warnings? (being )?treated as errors|failing due to -Werror"),
        VERDICT,
        ("treated as error", "failing due to -werror"),
    ),
    (re.compile(r"\bTests? run:.*\bFailures: [1-9]"), VERDICT, ("Failures: ",)),
    # Gradle's line for a test that failed, with its exception indented under it (`CartTest > totals() FAILED`,
    # nested classes and display names as `Outer > Inner > adds tax FAILED`): the test's own verdict, as pytest's
    # `FAILED` is, so the closing `N tests completed, 1 failed` and `FAILURE: Build failed` do not outrank it.
    (_GRADLE_TEST_FAILED, VERDICT, (" FAILED",)),
    # CTest's line for a test that did not pass (`12/40 Test #12: parser ....***Failed  0.12 sec`, `***Exception:
    # SegFault`, `***Timeout`, `***Not Run`) and its summary's item under "The following tests FAILED:".
    (
        re.compile(
            r"^\s*\d+/\d+ Test\s+#\s*\d+: .*\*{3}(?:Failed|Exception|Timeout|Not Run)\b"
            r"|^\s*\d+ - \S+ \((?:Failed|SEGFAULT|Timeout|Not Run|Subprocess aborted|OTHER_FAULT|ILLEGAL|INTERRUPT|NUMERICAL|"
            r"Child aborted|Exception)\)\s*$"
        ),
        VERDICT,
        ("***", " - "),
    ),
    # compiler and interpreter errors: "file:line: error: ...", "error[E0425]:", "error TS2304:"
    (re.compile(r"(?i)(^|[\s:\]])(fatal )?error(\[\w+\]| [A-Z]{1,4}\d{2,5})?\s*:"), STRONG, ("error",)),
    (
        re.compile(r"(^|\s)(\[|\()?(ERROR|FATAL|FAIL(ED|URE)?|CRITICAL)(\]|\))?[\s:!]"),
        STRONG,
        ("ERROR", "FATAL", "FAIL", "CRITICAL"),
    ),
    (
        re.compile(r"(?i)^(npm ERR!|yarn error|error\b|ERR!|fatal\b|fail(ed|ure)?\b:?)"),
        STRONG,
        ("err", "fatal", "fail"),
    ),
    # "path:12:3: warning:" from a compiler is what -Werror builds fail on
    (_COMPILER_WARNING, MEDIUM, ("warning",)),
    # A diagnostic at a place in a source file ("src/a.swift:97:2: unknown attribute ..."): compilers
    # and linters mark warnings and notes as such, and many print errors without the word.
    (_LOCATED, MEDIUM, (":",)),
    (
        re.compile(
            r"(?i)\bBUILD (FAILURE|FAILED)\b|\bcompilation failed\b|\bCompilation error\b|\bcould not compile\b"
        ),
        STRONG,
        ("build fail", "compilation", "could not compile"),
    ),
    (
        re.compile(
            r"Traceback \(most recent call last\)|^\S*(Error|Exception)\b[:(]|^\s*(\w+\.)*\w*(Error|Exception)(: |$)"
        ),
        STRONG,
        ("Traceback (most", "Error", "Exception"),
    ),
    (
        re.compile(
            r"(?i)\bpanic(ked)?\b|\bsegmentation fault\b|\bcore dumped\b|AddressSanitizer|\babort(ed)?\b.*\bsignal\b"
        ),
        STRONG,
        ("panic", "segmentation fault", "core dumped", "addresssanitizer", "abort"),
    ),
    # exception class names ("ValueError:", "NullPointerException") and pytest's "E   " detail lines
    (re.compile(r"\b[A-Z]\w*(Error|Exception)(:|$)|^E {2,}\S"), STRONG, ("Error", "Exception", "E  ")),
    (re.compile(r"(?<![.\w])[A-Z]\w*(Error|Exception|Failure)\b"), MEDIUM, ("Error", "Exception", "Failure")),
    (
        re.compile(
            r"(?i)\bassert(ion)?(Error)?\b.*\bfail|\bassertion\b|\bexpected\b.*\b(but|got|to|actual|received)\b|\bFailed asserting\b"
        ),
        STRONG,
        ("assert", "expected"),
    ),
    (
        re.compile(r"^(not ok|FAIL|FAILED|--- FAIL|Failures?:|ERRORS?:?)\b|^=+ (FAILURES|ERRORS) =+|^\s*\d+\) \S"),
        STRONG,
        None,
    ),
    (
        re.compile(
            r"(?i)\b(\d+ (tests? )?(failed|failures?|errors?)|failed:? [1-9]\d*|failures?:? [1-9]\d*|errors?:? [1-9]\d*)\b"
        ),
        MEDIUM,
        ("fail", "error"),
    ),
    # Not a name or a setting: "timeout_ms", "--timeout", '"timeout":"600000"', "timeout=30", "prompt timeout: 0.0 minutes".
    (
        re.compile(
            r"(?i)(?<![\w./\\-])(killed|out of memory|oom[- ]?kill|cannot allocate memory|exceeded the maximum|time ?limit|timed? ?out|"
            r"no output has been received|too long with no output)(?![\w/\\=]|[.-]\w|[\"']\s*:|\s*[:=]\s*\d)"
        ),
        STRONG,
        (
            "killed",
            "out of memory",
            "oom",
            "cannot allocate memory",
            "exceeded the maximum",
            "time",
            "no output has been received",
            "too long with no output",
        ),
    ),
    (
        re.compile(r"(?i)\b(no space left on device|disk quota exceeded|too many open files)\b"),
        STRONG,
        ("no space left", "quota exceeded", "too many open files"),
    ),
    (
        re.compile(
            r"(?i)\b(command not found|no such file or directory|permission denied|connection refused|undefined reference|unresolved (import|external|reference)|cannot find|could not (find|resolve|load|open|create|connect|transfer|read|determine)|unable to|not found)\b"
        ),
        MEDIUM,
        (
            "not found",
            "no such file",
            "permission denied",
            "connection refused",
            "undefined reference",
            "unresolved",
            "cannot find",
            "could not",
            "unable to",
        ),
    ),
    # The bare word, not a part of a name: "Text.Pandoc.Error", "error-handler.js", "--fail-fast".
    (
        re.compile(
            r"(?i)(?<![\w./\\-])(fatal|fail|failed|failure|failures|fails|failing|error|errors|errored)(?![\w/\\=]|[.-]\w)"
        ),
        MEDIUM,
        ("fatal", "fail", "error"),
    ),
    (
        re.compile(
            r"(?i)\b(exception|unexpected|invalid|missing|mismatch|violat\w+|illegal|forbidden|conflict|incompatible|unsatisf\w+|rejected|denied|corrupt\w*|wrong)\b"
        ),
        WEAK,
        (
            "exception",
            "unexpected",
            "invalid",
            "missing",
            "mismatch",
            "violat",
            "illegal",
            "forbidden",
            "conflict",
            "incompatible",
            "unsatisf",
            "rejected",
            "denied",
            "corrupt",
            "wrong",
        ),
    ),
    (
        re.compile(r"(?i)\b(exited|exit(ed)? (with )?(code|status)|returned non-zero|non-zero exit)\b(?!:? 0\b)"),
        WEAK,
        ("exit", "non-zero"),
    ),
]
# Tried strongest first, so the first match gives the score.
_BY_STRENGTH = sorted(_RULES, key=lambda rule: -rule[1])

# npm's report that a package script failed is boilerplate around the script's own output, which is
# printed above it ("There is likely additional logging output above"): these lines say that something
# failed, not what. They stay in the failure block, weakly, so the output above them can lead.
_NPM_WRAPPER = re.compile(
    r"^\s*npm ERR!\s*($|(Linux|Darwin|Windows_NT|SunOS|FreeBSD) \S|argv |node v|npm +v|code ELIFECYCLE|errno \d+\s*$|"
    r"\S+@\S+ \w[\w:-]*: `|Exit status|Failed at the|This is (most|probably)|not with npm itself|Tell the author|"
    r"You can get (information|their info)|Or if that|There is likely|Please include|A complete log|\s{2,}\S|"
    r"(path|cwd|command (failed|sh -c))\b|Test failed\.)"
)
_WRAPPER_SCORE = WEAK
# A package manager's or a monorepo runner's report that a task it ran failed, printed under the task's own output:
# pnpm (`ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL`, ` ELIFECYCLE  Test failed.`, a task's closing `Failed`), Turborepo (`ERROR:
# command finished with error: command (...) exited (1)`, ` ERROR  run failed: command  exited (1)`, `Failed:
# web#test`), Nx (`NX   Running target test for 3 projects failed`, `Failed tasks:`), Lerna (`lerna ERR! npm run test
# exited 1 in 'pkg'`), Yarn (`error Command failed with exit code 1.`). Weak, like npm's, so the task's output leads.
_TASK_REPORT = re.compile(
    r"^\s*(?:ERR_PNPM_\w+\s|ELIFECYCLE\s|ERROR\s+run failed: command\b|ERROR: command finished with error: command \(|"
    r"lerna ERR! .* exited -?\d+ in |error Command failed with exit code \d+\.?\s*$|Failed\s*$|Failed:\s+\S+#\S+\s*$|"
    r"(?:>\s+)?NX\s+(?:Running|Ran) targets? .*\bfailed\b|Failed tasks:\s*$)"
)
_TASK_REPORT_WORDS = ("ERR", "ELIFECYCLE", "exited", "Command failed", "Failed", "NX")


# Lines that continue a failure block: stack frames, indented detail, diffs, carets, a diagnostic's frame drawn in
# box characters (Terraform's `│ Error: ...` between `╷` and `╵`).
CONTINUATION = re.compile(
    r"^(\s+\S|\s*(?i:stack ?trace(back)?|backtrace|call stack)\b|\s*at |\s*File \"|\s*#\d+ |\s*# \.?/|\s*(?P<rule>[-=_*#~])(?P=rule){2,}|\s*[-+@]{1,3}[ \w@]|\s*\^|\s*~+|\s*[|│╷╵]| *[-=]+$|\s*(Caused by|During handling|The above exception)|E |>|\s*\.\.\.)"
)

# A test runner's line that starts the next test or reports one that passed (Go's `-v`: `=== RUN   TestX`, `--- PASS:
# TestX`): it ends the failure above, whatever the separator rule or the diff sign it starts with would say.
NEXT_TEST = re.compile(r"^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\s|--- (?:PASS|SKIP):)")

# How a step's command is echoed before its output: GitLab and Travis print "$ command", GitHub Actions opens
# a group with the step's name, "##[group]Run command".
COMMAND_STARTS = ("$ ", "##[group]Run ")

# The line that states how the job ended.
EXIT_LINE = re.compile(
    r"(?i)(exited with (code |status )?'?[1-9]\d*|exit (code|status):? ?'?[1-9]\d*|job failed|"
    r"returned (a )?non-zero|process completed with exit code [1-9]|build (exited|failed)|"
    r"exceeded the maximum (execution|time)|no output has been received|too long with no output|script failed|"
    r"ERROR: Job failed|has been cancelled|"
    # Travis' "the build has been terminated", a shell's report of a killed command ("line 1:  4242 Terminated  cmd",
    # "Terminated"), GNU time's and a supervisor's "Command terminated by signal 9"; not a service's own word for a
    # task that ended ("Background saving terminated with success").
    r"(?:has|have|was|were) (?:been )?terminated\b|\b(?:command|process) terminated by signal \d+|"
    r"(?-i:^\s*Terminated\b|\b\d+ Terminated\s))"
)
_EXIT_WORDS = (
    "exit",
    "job failed",
    "non-zero",
    "build failed",
    "exceeded the maximum",
    "no output has been received",
    "too long with no output",
    "script failed",
    # other CI systems' exit and result lines (ci_systems.EXIT)
    "failed",
    "task.complete",
    "terminated",
    "has been cancelled",
)


class _Gates:
    """Gated patterns indexed by their gate words, to find the patterns worth trying on a line.

    A line holds few of the words, so collecting the patterns its words open costs less than
    testing the gate of every pattern."""

    def __init__(self, gated: list[_Gated]) -> None:
        self.patterns = [pattern for pattern, _ in gated]
        self.ungated = frozenset(i for i, (_, words) in enumerate(gated) if words is None)
        opens: dict[str, set[int]] = {}
        for i, (_, words) in enumerate(gated):
            for word in words or ():
                opens.setdefault(word, set()).add(i)
        self.lower = tuple((word, frozenset(found)) for word, found in sorted(opens.items()) if word == word.lower())
        self.cased = tuple((word, frozenset(found)) for word, found in sorted(opens.items()) if word != word.lower())

    def opened(self, text: str, low: str) -> list[int]:
        """Indices, in order, of the ungated patterns and of those the line's gate words open."""
        opened = set(self.ungated)
        for word, found in self.lower:
            if word in low:
                opened |= found
        for word, found in self.cased:
            if word in text:
                opened |= found
        return sorted(opened)

    def any_match(self, text: str, low: str) -> bool:
        """True if one of the patterns matches the line."""
        return any(self.patterns[i].search(text) for i in self.opened(text, low))


_RULE_GATES = _Gates([(pattern, words) for pattern, _, words in _BY_STRENGTH])
_BENIGN_GATES = _Gates(_BENIGN)

# GitLab sections that run after the failing step; a failure inside them matters less.
CLEANUP_SECTIONS = re.compile(
    r"(?i)after_script|upload_artifacts|cleanup|archive_cache|save_cache|restore_cache|"
    r"download_artifacts|prepare_executor|prepare_script|get_sources"
)


# A case-insensitive pattern matches "ı" (dotless i) to "i" and "ſ" (long s) to "s", which lower() keeps
# apart, and lower() turns "İ" into "i" and a combining dot: folded in the lower-cased text of a non-ASCII
# line, so that a gate word never hides such a match.
_FOLD = str.maketrans({"ı": "i", "ſ": "s", "\u0307": None})


def _holds_any(low: str, words: tuple[str, ...]) -> bool:
    """True if the lower-cased line holds one of the words."""
    return any(word in low for word in words)


# Scores (and exit-line answers) of lines seen lately: logs repeat lines (test progress, retries, the same
# context kept twice), and scoring is most of the cost of a line. Bounded: emptied when full.
_SCORED: dict[str, float] = {}
SCORED_LINES = 20_000


def score_line(text: str) -> float:
    """How strongly one cleaned line signals a failure: 0 for none, about 14 for a tool's verdict."""
    score = _SCORED.get(text)
    if score is None:
        if len(_SCORED) >= SCORED_LINES:
            _SCORED.clear()
        score = _SCORED[text] = _score(text)
    return score


# GitHub Actions marks a line the runner or a problem matcher reports as an error ("##[error]src/a.ts(3,5): ...").
GHA_ERROR = "##[error]"
# The first characters of the CI systems' lines ci_systems.py reads: prefixes, markers, step lines.
_CI_STARTS = frozenset("[#S~^ESFBPDW")


# A test runner's mark of a passed test (mocha, Jest, Vitest, Playwright, ava, RSpec's formatters).
_PASS_MARKS = frozenset("✓✔√")
_PASS_STARTS = _PASS_MARKS | {" ", "\t"}


def _score(text: str) -> float:
    # A prefix a CI system or a container runner puts before the tool's words (a step's or a parallel branch's
    # name, a compose service's) is not the tool's words: the line is read without it, prefix after prefix (a
    # loop, not a call per prefix: a line of thousands of `[a] ` exhausted Python's recursion limit).
    while True:
        if not text:
            return 0.0
        if text[:1] in _PASS_STARTS and text.lstrip()[:1] in _PASS_MARKS:
            # The title of a test that passed may hold a `file:line` or an error's words: it is not a failure.
            return 0.0
        if not may_have_prefix(text):  # bare()'s prefixes; most lines hold none
            break
        rest = bare(text)
        if len(rest) == len(text):
            break
        text = rest
    if text[:1] in _CI_STARTS:
        # Another CI system's line: its marker of an error carries the tool's words, its own step and phase
        # lines say nothing failed (its exit lines stay exit lines).
        if (words := marked_failure(text)) is not None:
            return max(_score(words), STRONG)
        if _CI_FRAMING.match(text) and not is_exit_line(text):
            return 0.0
    if text.startswith(GHA_ERROR):
        # The marked line is an error whatever its words; the runner's own "Process completed with exit
        # code 1" stays the exit line it is, so the output above it can lead.
        rest = text[len(GHA_ERROR) :]
        return _score(rest) if is_exit_line(rest) else max(_score(rest), STRONG)
    if ("=== " in text or "--- " in text) and NEXT_TEST.match(text):
        return 0.0  # a test started or passed, whatever its name says (`=== RUN   TestConnectionFailure`)
    if is_wrapper(text) or is_task_report(text):
        return _WRAPPER_SCORE
    if text.startswith(COMMAND_STARTS):
        # The runner's echo of a step's command names the command, not how it failed: `$ $TIMEOUT 35m build.sh`,
        # `$ pytest tests/test_errors.py`. What the command printed says that.
        return 0.0
    low = text.lower() if text.isascii() else text.lower().translate(_FOLD)
    best = 0.0
    for i in _RULE_GATES.opened(text, low):
        pattern, value, _ = _BY_STRENGTH[i]
        if pattern.search(text):
            best = value
            break
    if best == 0.0:
        return 0.0
    if best >= VERDICT:
        pass
    # Most lines match no rule, so the words of the penalties are only looked for in the few that do.
    elif _BENIGN_GATES.any_match(text, low):
        best *= 0.3
    elif (
        best < STRONG
        and _holds_any(low, _WARNING_WORDS)
        and _WARNING.search(text)
        and not _COMPILER_WARNING.search(text)
    ):
        best *= 0.4
    if _APP_LOG.search(text):
        best = min(best, MEDIUM) * 0.5
    return best


def is_wrapper(text: str) -> bool:
    """True for a line of a tool's report that a command it ran failed, which points above it for why."""
    return "npm ERR!" in text and bool(_NPM_WRAPPER.match(text))


def is_task_report(text: str) -> bool:
    """True for a package manager's or a monorepo runner's line that a task it ran failed (_TASK_REPORT)."""
    return any(word in text for word in _TASK_REPORT_WORDS) and bool(_TASK_REPORT.match(text))


_EXITS: dict[str, bool] = {}


def is_exit_line(text: str) -> bool:
    """True for lines that say the job or a step ended with a failure status."""
    found = _EXITS.get(text)
    if found is None:
        if len(_EXITS) >= SCORED_LINES:
            _EXITS.clear()
        found = _EXITS[text] = _holds_any(text.lower(), _EXIT_WORDS) and bool(
            EXIT_LINE.search(text) or _CI_EXIT.search(bare(text))
        )
    return found


# A test runner's line that a test file or a test passed, which ends the failure block above it however it is indented:
# CTest's right-aligned `  98/117 Test  #98: lexer ....   Passed    0.09 sec`, vitest's ` ✓ src/a.test.ts  (3 tests)
# 12ms`, Playwright's `  ✓  12 [chromium] › tests/a.spec.ts:3:5 › title`. Not a passed test's title alone (`    ✓ adds
# items (2 ms)`): Jest lists a failed suite's tests, passed and failed, between its FAIL line and its reports.
_CTEST_PASSED = re.compile(r"^\s*\d+/\d+ Test\s+#\s*\d+: .*\s Passed\s")
_FILE_PASSED = re.compile(
    r"^\s*[✓✔√]\s+(?:\d+\s+)?(?:\[[\w ./-]+\]\s+›\s+)?[\w./@-]+\.\w+(?::\d+(?::\d+)?)?\s+(?:\(\d+ tests?\b|›)"
)


def _passed(text: str) -> bool:
    """True for a test runner's line that a test file or a test passed (_CTEST_PASSED, _FILE_PASSED)."""
    if "✓" in text or "✔" in text or "√" in text:
        return bool(_FILE_PASSED.match(text))
    return "Passed" in text and bool(_CTEST_PASSED.match(text))


def is_continuation(text: str) -> bool:
    """True for lines that belong to the failure block above them (frames, indented detail, diffs)."""
    if not CONTINUATION.match(text):
        # a prefix (a parallel branch's, a compose service's) before the detail
        if not may_have_prefix(text) or not CONTINUATION.match(text := bare(text)):
            return False
    if _passed(text):
        return False
    return not ("=== " in text or "--- " in text) or not NEXT_TEST.match(text)


def starts_next_test(text: str) -> bool:
    """True for a test runner's line that starts another test or reports one that passed."""
    if "=== " in text or "--- " in text:
        return bool(NEXT_TEST.match(bare(text)))
    if "Passed" in text or "✓" in text or "✔" in text or "√" in text:
        return _passed(bare(text))
    return False
