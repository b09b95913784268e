"""Lines that hold failure words but say nothing failed: benign phrases, application logs, warnings (pure)."""

from __future__ import annotations

import re

# Lines that mention failure words but say that nothing failed: (pattern, words) gated like the rules.
# One pattern per phrase rather than one alternation: each costs a few microseconds on a long line, and
# most lines hold the words of only one or two.
Gated = tuple[re.Pattern[str], tuple[str, ...] | None]
BENIGN: list[Gated] = [
    (re.compile(r"(?i)\bexit(ed)? (with )?(code |status )?0\b"), ("exit",)),
    (re.compile(r"(?i)\b(0|no) (errors?|failures?|failed|warnings?)\b"), ("0 ", "no ")),
    (re.compile(r"(?i)\bwithout (any )?(errors?|failures?|failing)\b"), ("without ",)),
    (re.compile(r"(?i)\b(errors?|failures?|failed):? 0\b"), (" 0",)),
    (re.compile(r"(?i)\bpassed\b.*\b0 failed\b"), ("0 failed",)),
    (re.compile(r"(?i)\bPASS(ED)?\b"), ("pass",)),
    # "... ok", and a test's "OK" with its time after it (Haskell's tasty: "parses errors: OK (0.01s)").
    (re.compile(r"(?i)\bok\b(?:\s*\(\d+(?:\.\d+)?\s*m?s\))?\s*$|^\s*ok\b|\.{3,}\s*ok\b"), ("ok",)),
    (re.compile(r"(?i)\bsuccess(ful(ly)?)?\b"), ("success",)),
    # Anchored at the start of the line, so cheaper than looking for their words.
    (
        re.compile(
            r"(?i)^\s*(Downloading|Downloaded|Fetching|Installing|Collecting|Requirement already|Get:\d|Hit:\d|Unpacking|Setting up|"
            r"Preparing|Selecting)\b|^\s*(gcc|g\+\+|cc|clang|c\+\+)\s"
        ),
        None,
    ),
    # A build's progress line naming what it compiles (GHC's "[ 6 of 25] Compiling X.MonadException", under
    # stack's "pkg > "; Cargo's "Compiling failure v0.1.8"): the name is a module's or a package's, not a failure.
    (
        re.compile(
            r"(?i)^\W*(?:[\w.-]+\s*>\s*)?(?:\[\s*\d+ of \d+\]\s*)?Compiling [\w.:/-]+(?: v\d\S*)?(?: \([^)]*\))?\s*$"
        ),
        ("compiling",),
    ),
    (re.compile(r"(?i)-W(error|no-)|-Werror"), ("-w",)),
    (re.compile(r"(?i)\berror\.(c|h|o|go|rb|js|py|cpp|rs)\b"), ("error.",)),
    (re.compile(r"(?i)ignore[ds]? (errors?|failures?)"), ("ignore",)),
    (re.compile(r"(?i)allow[_-]failures?"), ("allow",)),
    (re.compile(r"(?i)continue-on-error"), ("continue-on-error",)),
    (re.compile(r"(?i)\bif\b.*\bfail"), ("if",)),
    # A test's title that says a failure is expected ("'x.purs' should fail with 'UnknownName'", "should throw when
    # empty"), listed as the tests run. Not a line that also says something failed: a runner's word or mark (failed,
    # failing, FAIL, ERROR, ***, the fail glyphs ✕ ✖ × ✗, a numbered entry of a failures list "1) X should ...") or
    # an error's or exception's own words ("Error: the call should fail but returned 200"). A title that ends in ':'
    # is either (mocha's report of a failure, hspec's group over its result), so it stays benign.
    (
        re.compile(
            r"^(?!\s*\d+\) )(?!.*(?:\bFAIL\b|\bERROR\b|\*\*\*|[✕✖×✗]|(?i:error|exception)\b|"
            r"(?i:(?<!should )(?<!should not )\bfail(?:ed|ing|ures?)\b)))"
            r"(?i:.*\bshould (?:not )?(?:fail|error|throw|raise|reject)\w*\b)"
        ),
        ("should ",),
    ),
]
# An application's own log line ("2019-04-12 14:49:19 ERROR ..."): what a program logged while it ran,
# usually on purpose in tests, weaker than what the test runner or the build tool says.
APP_LOG = re.compile(
    r"^\W{0,2}(\d{4}-\d\d-\d\d[ T]|[A-Z][a-z]{2} +\d{1,2} |\d\d:\d\d:\d\d).{0,30}?\b(DEBUG|INFO|WARN(ING)?|ERROR|TRACE)\b"
    r"|^\s*(DEBUG|INFO|WARN(ING)?|ERROR)\s+\S+:\s*\S+\.\w+:\d+"
)
WARNING = re.compile(r"(?i)\bwarn(ing)?s?\b|\bdeprecat\w*\b|\bnotice\b")
WARNING_WORDS = ("warn", "deprecat", "notice")
