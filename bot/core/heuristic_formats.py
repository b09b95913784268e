"""How CI tools print a failure (data for heuristic_facts): the lines that only say that something failed
(wrappers), the ways test runners name a failing test, linters' problem layouts. Each pattern describes a
tool's documented output format, never one project's."""

from __future__ import annotations

import re

# Lines that say that a command or build failed and point elsewhere (above, a report file) for why.
# They describe CI output in general: build tools, shells, CI runners, test runners' tallies.
WRAPPER = re.compile(
    r"(?i)\bmake(?:\[\d+\])?: \*\*\*|recipe for target .* failed|^The command \".*\" (?:exited|failed)|"
    # the same line when the command holds a newline: `The command "a && b` then `" exited with 1.`
    r"^The command \"[^\"]*$|^\" (?:exited|failed)\b|"
    # the linker's driver after the linker's own errors (`undefined reference to ...`)
    r"collect2: error: ld returned \d+ exit status|linker command failed with exit code|"
    # GoogleTest's verdict on a test, under the assertion's own `file:line: Failure` and values
    r"^\[ +FAILED +\] |"
    # xcodebuild's verdict and its list of the build commands that failed, under the compiler's errors
    r"^\*\* (?:BUILD|TEST|ARCHIVE|ANALYZE) FAILED \*\*|^The following build commands failed:|^\(\d+ failures?\)\s*$|"
    r"Your build exited with|ninja: build stopped|^FAILED: |Command failed with exit code|\bELIFECYCLE\b|"
    r"Configuring incomplete, errors occurred|Build files have not been written|Failing due to -Werror|"
    r"^\W*BUILD FAIL(?:ED|URE)\b|FAILURE: Build failed with an exception|ERROR: Job failed|"
    r"Process completed with exit code|script returned exit code|returned a non-zero code|"
    r"did not complete successfully|There (?:are|were) (?:test failures|failing tests)|Execution failed for task|^> Task \S+ FAILED\s*$|^\s*See (?:also )?\"?/|"
    r"Command exited with non-zero status|^\s*\d+ (?:tests? )?(?:failed|failures?)\b|^\s*(?:Tests?|Test Suites):\s+\d+ failed|"
    r"^\W*(?:FAILED|FAILURES?)!?\W*$|^=+ (?:short test summary info|FAILURES|ERRORS) =+$|exit status \d+\s*$|"
    r"\bError \d+\s*$|\bcompilation failed\b|\bcould not compile\b.*\bdue to\b|^\s*> Compilation error|"
    r"^FAIL!? -- |^FAIL\s+\S+\s+[\d.]+s$|^FAIL\s*$|^Ran \d+ (?:tests?|of \d+ Specs?) in|^\s*\d+ (?:examples?|specs?), \d+ failures?|"
    r"[Ss]ee (?:the )?(?:output |log )?above\b|\bdue to (?:the )?previous errors?\b|\bexited with \d+\.?\s*$|"
    # a runner's tally: "9 doctests, 592 tests, 1 failure", "27 tests completed, 1 failed", "Tests run: 8, Failures: 1"
    r"^\W*(?:\d+ [a-z ]+, )+\d+ (?:failures?|failed|errors?)\b|^\W*Tests run: \d+, Failures: \d+|"
    # Maven: a goal that failed for a reason stated above or below it, and the advice it prints after any failure
    r"Failed to execute goal .*: (?:Compilation failure|There (?:are|were) test failures)\.?\s*(?:->.*)?$|"
    # Jenkins: a build step's status and the build's
    r"^Build step '.*' marked build as failure|^Finished: FAILURE|"
    r"^\d+ errors?\s*$|^\S.* \.{3,} ?FAILURE \[|^(?:-> \[Help 1\]|To see the full stack trace|Re-run Maven using|For more information about the errors|"
    r"\[Help \d+\] http|After correcting the problems|mvn <goals> -rf :|Please refer to )"
)
# A linter's problem in the "stylish" layout (ESLint, stylelint): "  13:2  ✖  Expected …" under a line naming the file.
# stylelint's and tslint's plain layout puts a tab after the position and the rule's id at the end:
# "429:1<TAB>Unexpected missing newline at end of file (no-missing-eof-newline)"; a warning is not a failure.
LINT = re.compile(r"^\s*\d+:\d+(?:\s+(?:✖|×|✗|error)\s|\t+(?!warning\b|⚠)\S.*\s\(?@?[a-z][\w/-]*-[\w/-]+\)?\s*$)")
FILE_HEADER = re.compile(r"^\s*[\w./\\@~-]*\w\.\w{1,10}\s*$")
# How test runners name a failing test (the id is group 1 or 2).
TEST_ID = re.compile(
    r"^(?:FAILED|ERROR) (\S+::\S+)|^(\S+::\S+) (?:FAILED|ERROR)\b|^\s*--- FAIL: (\S+)|^\s*● (.+?)\s*$|^rspec (\./\S+:\d+)|^(?:FAIL|ERROR): (\w+) \(|"
    r"^\s*(\S+ > \S+) FAILED|^test (\S+) \.\.\. FAILED|^\[ERROR\]\s+([\w.$]+[.#]\w+:\d+)|^not ok \d+ - (.+)$"
)
