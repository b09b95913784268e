"""How CI tools print a failure (data for heuristic_facts): the lines that only say that something failed
(wrappers), the ways test runners name a failing test, linters' problem layouts. Each pattern describes a
tool's documented output format, never one project's."""

from __future__ import annotations

import re

from bot.core.excerpt.ci_systems import FRAMING as CI_FRAMING

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
    # CTest's progress verdict on a test ("2/3 Test #2: test_matrix ....***Failed  0.02 sec"): with --output-on-failure
    # the test's own output, its assertion, is printed under it
    r"^\s*\d+/\d+ Test +#\d+: \S+ \.+\s*\*\*\*Failed\b|^Errors while running CTest\b|"
    # yarn 2+'s closing line of an install ("➤ YN0000: Failed with errors in 1s", 4.x with "· "): its errors are above
    r"\bYN0000: (?:[·└│]\s*)?Failed with errors in\b|"
    r"Your build exited with|ninja: build stopped|^FAILED: |Command failed with exit code|\bELIFECYCLE\b|"
    r"Configuring incomplete, errors occurred|Build files have not been written|Failing due to -Werror|"
    r"^\W*BUILD FAIL(?:ED|URE)\b|FAILURE: Build failed with an exception|ERROR: Job failed|"
    r"Process completed with exit code|script returned exit code|returned a non-zero code|"
    r"did not complete successfully|There (?:are|were) (?:test failures|failing tests)|Execution failed for task|^> Task \S+ FAILED\s*$|^\s*See (?:also )?\"?/|"
    r"Command exited with non-zero status|^\s*\d+ (?:tests? )?(?:failed|failures?)\b|^\s*(?:Tests?|Test Suites):\s+\d+ failed|"
    r"^\W*(?:FAILED|FAILURES?)!?\W*$|^=+ (?:short test summary info|FAILURES|ERRORS) =+$|exit status \d+\s*$|"
    r"\bError \d+\s*$|\bcompilation failed\b|\bcould not compile\b.*\bdue to\b|^\s*> Compilation error|"
    r"^FAIL!? -- |^FAIL\s+\S+\s+[\d.]+s$|^FAIL\s*$|^Ran \d+ (?:tests?|of \d+ Specs?) in|^\s*\d+ (?:examples?|specs?), \d+ failures?|"
    # advice to look above (stack's "While building package x (scroll up to its section to see the error)")
    r"[Ss]ee (?:the )?(?:output |log )?above\b|\bscroll up to\b|^\s*Process exited with code: ExitFailure \d+|\bdue to (?:the )?previous errors?\b|\bexited with \d+\.?\s*$|"
    # a runner's tally: "9 doctests, 592 tests, 1 failure", "27 tests completed, 1 failed", "Tests run: 8, Failures: 1"
    r"^\W*(?:\d+ [a-z ]+, )+\d+ (?:failures?|failed|errors?)\b|^\W*Tests run: \d+, Failures: \d+|"
    # Maven: a goal that failed for a reason stated above or below it, and the advice it prints after any failure
    r"Failed to execute goal .*: (?:Compilation failure|There (?:are|were) test failures)\.?\s*(?:->.*)?$|"
    # tox's summary of its environments ("ERROR:   py38: commands failed", tox 4's "  py38: FAIL code 1 (2.3 seconds)",
    # "  evaluation failed :( (2.5 seconds)"): the failing command's own output is above it
    r"^ERROR:\s+\S+: commands failed\s*$|^\s*\S+: FAIL code \d+ \(|^\s*evaluation failed :\(|"
    # Jenkins: a build step's status and the build's
    r"^Build step '.*' marked build as failure|^Finished: FAILURE|"
    r"^\d+ errors?\s*$|^\S.* \.{3,} ?FAILURE \[|^(?:-> \[Help 1\]|To see the full stack trace|Re-run Maven using|For more information about the errors|"
    r"\[Help \d+\] http|After correcting the problems|mvn <goals> -rf :|Please refer to )|"
    # Dart's and Flutter's test runners: the tally line and a failed test's pointer to the exception above it
    r"^\d+:\d\d \+\d+(?: ~\d+)?(?: -\d+)?: Some tests failed\.|^\s*Test failed\. See exception logs above\.|"
    # Bazel: an action that failed (the tool's own output is printed under it), a target's and a test's status
    r"^ERROR: \S+:\d+:\d+: .+ failed: \((?:Exit \d+|Signal|Killed)|^Target //\S+ failed to build|"
    r"^Use --verbose_failures to see|^INFO: Build completed, \d+ tests? FAILED|^Executed \d+ out of \d+ tests?: |"
    r"^FAIL: //\S+ \(see .*\)\s*$|^//\S+\s+(?:FAILED|TIMEOUT|NO STATUS)(?: in |\s*$)|"
    # Gradle's wrap of a worker's or compiler's failure printed above ("e: Cart.kt:27:18 Type mismatch")
    r"^\s*> A failure occurred while executing |^\s*> Compilation (?:error|failed); see |"
    # sbt: the task that failed and its totals, under the compiler's or the test framework's report
    r"^\[error\] \([^)]*\) (?:sbt\.TestsFailedException|Compilation failed)|^\[error\] Total time: |"
    r"^\[error\] (?:one|\d+) errors? found|"
    # SwiftPM after the compiler's errors
    r"^error: fatalError\s*$|"
    # luacheck's and PHP_CodeSniffer's tallies
    r"^Total: \d+ warnings? / \d+ errors? in \d+ files?|^FOUND \d+ ERRORS?(?: AND \d+ WARNINGS?)? AFFECTING \d+ LINES?|"
    r"^PHPCBF CAN FIX THE \d+ MARKED SNIFF VIOLATIONS|"
    # black's verdict under the files it would reformat
    r"^Oh no! 💥 💔 💥|^\d+ files? would be reformatted|"
    # git push's verdict under the refs it rejected, gitleaks' under its findings
    r"^error: failed to push some refs to |\bleaks found: \d+|"
    # clojure.test's tally
    r"^Ran \d+ tests containing \d+ assertions|"
    # Karma's tallies under a failed spec and its expectation
    r"\): Executed \d+ of \d+ .*\(\d+ FAILED\)|^TOTAL: \d+ FAILED\b|"
    # Julia's Pkg.test under the `Test Failed at file:line` report
    r"^ERROR: Package \S+ errored during testing|^ERROR: LoadError: Some tests did not pass: |"
    # html-proofer's tally under the failures it lists, valgrind's under its errors, Maven's enforcer under its rules'
    r"HTML-Proofer found \d+ failures?!|^==\d+== ERROR SUMMARY: [1-9]|^==\d+== For (?:counts|lists) of detected and suppressed errors|"
    r"Some Enforcer rules have failed\. Look above|"
    # PHPStan's (Symfony console's) tally under its table, Elm's under its reports
    r"^\s*(?:\[ERROR\] )?Found \d+ errors?\s*$|^Detected problems in \d+ modules?\.\s*$|"
    # npm 7+ after a package script failed (the script's output is above), Lerna's, Nx's and Turborepo's verdicts on
    # a package's task (the task's own tool said why above them)
    r"^npm (?:ERR!|error) (?:Lifecycle script `[^`]+` failed with error:|Error: command failed)|"
    r"^lerna ERR! .* exited \d+ in '|^\W*(?:NX|Lerna \(powered by Nx\))\s+Running target \S+ for .* failed|"
    r"^\W*\d+/\d+ targets? failed, including the following:|^(?:\S+: )?ERROR: command finished with error: |"
    r"^\S+#\S+: command \(.*\) .* exited \(\d+\)|^\s*ERROR\s+run failed: |^Failed:\s+\S+#\S+\s*$|"
    # a multi-error's header over its list ("error: 1 error occurred:" then "* creating EC2 Instance: ..."), Pulumi's
    # verdict on the stack under a resource's error
    r"^\s*(?:error: )?\d+ errors? occurred:\s*$|^\s*error: (?:update|preview|refresh|destroy) failed\s*$|"
    # Pulumi's program that threw (its exception under it), ts-node's header over the compiler's diagnostics
    r"^\s*error: Running program '[^']+' failed with an unhandled exception:\s*$|^\s*TSError: ⨯ Unable to compile TypeScript:?\s*$|"
    # SonarScanner over its reason; dialyxir's tally (printed above its warnings) and verdict; lintr's verdict under
    # its findings (`error_on_lint`); commitlint's, npm audit's and Safety's tallies under their findings
    r"^(?:ERROR: )?Error during SonarScanner execution\s*$|^Total errors: \d+, Skipped: \d+|"
    r"^done \(warnings were emitted\)|^Halting VM with exit status \d+|^Error: Linting failed\.?\s*$|"
    r"^\W*found \d+ problems?, \d+ warnings?\s*$|^\d+ (?:(?:low|moderate|high|critical) severity )?vulnerabilit(?:y|ies)\b|"
    r"^\s*Scan was completed\. \d+ vulnerabilit(?:y was|ies were) reported|"
    # a level tag alone on its line (SonarScanner's closing "ERROR: "): a spacer
    r"^(?:ERROR|FATAL):\s*$|"
    # pip (22+): a build step's subprocess failed; its own output, printed under the header, says why
    r"^\s*(?:error|ERROR): (?:subprocess-exited-with-error|metadata-generation-failed|legacy-install-failure|"
    r"failed-wheel-build-for-install)\s*$|^\s*note: This error originates from a subprocess\b|"
    # cabal's and tasty's verdicts on a test suite, under the test framework's report of the failing test
    r"^(?:Error: )?cabal(?:-install)?: Tests? failed for |^Test suite \S+: FAIL\s*$|^\s*\d+ out of \d+ tests failed\b|"
    # testthat's tally and verdict under its failures' reports, R's exit after an error
    r"^\s*\[ FAIL \d+ \| WARN \d+ \| SKIP \d+ \| PASS \d+ \]|^\s*Error: (?:Test failures|testthat unit tests failed)\s*$|"
    r"^\s*Execution halted\s*$|"
    # R CMD check's verdict, under the check that failed (its output above, the rest in 00check.log)
    r"^Status: \d+ ERRORs?\b|"
    # npm's record of a package script it could not spawn, under the shell's own words ("sh: 1: webpack: not found")
    r"^npm ERR! (?:syscall|file|errno|spawn|path) \S|"
    # rebar's verdicts after EUnit's, Common Test's and Dialyzer's reports
    r"^ERROR: One or more eunit tests failed\b|^ERROR: \w+ failed while processing \S+: rebar_abort|"
    r"^===> (?:Error running tests|Failures occurred running tests: \d+)|"
    # ERT's tally (Emacs Lisp), under each failed test's condition
    r"^Ran \d+ tests?, \d+ results? as expected, \d+ unexpected"
)
# GitLab Runner's own step lines, printed between the script's output and its verdict when the log carries no
# section markers: what the runner did next, never the tool's words (a failure's detail ends there). Other CI systems'
# step, section and phase lines (Jenkins, Azure Pipelines, Buildkite, CodeBuild, Cloud Build, TeamCity) are read alike.
RUNNER_STEP = re.compile(
    r"^(?:Cleaning up (?:project directory and )?file based variables|Running after_script|"
    r"Uploading artifacts(?: for (?:successful|failed) job)?|Saving cache for (?:successful|failed) job|"
    r"Executing \"step_script\" stage of the job script|"
    # GitHub Actions' own lines after a step's output: the post-job steps and the runner's clean-up
    r"Post job cleanup\.|Cleaning up orphan processes|Post Run \S)|" + CI_FRAMING.pattern
)
# Python's line between a traceback and the one of an exception raised from it (`raise X from e`): the last
# exception is what the command died of. "During handling of the above exception, another exception occurred"
# is not it: there the first exception is the failure, the second one an accident of handling it.
DIRECT_CAUSE = re.compile(r"^The above exception was the direct cause of the following exception:\s*$")
CHAIN_GAP = 6  # lines from an exception to the next traceback's header, the blank lines around that line
# A command as the shell echoes it before running it (`$ make`, set -x's `+ make`): what ran, not what failed.
# CMake's status lines ("-- Looking for x - not found", "-- Could NOT find Doxygen") report optional checks;
# its errors are "CMake Error at ...". The runner's own step lines ("Cleaning up project directory ...") too.
ECHO = re.compile(r"^\s*\$ \S|^\++ [a-z_./][\w./-]*(?:\s|$)|^-- (?!Configuring incomplete)\S|" + RUNNER_STEP.pattern)
# A CI system's echo of the step it runs, on systems that show the script rather than `$ cmd`: GitHub Actions' `Run`
# group (the script, `shell:`, `env:` up to its `##[endgroup]`), CircleCI's shebang over the step's command (the line
# under it); and Azure Pipelines' script task banner. What a failing command said is below them, never in them.
STEP_ECHO_START = re.compile(r"^##\[group\]Run |^#!/(?:usr/)?bin/(?:env )?\w*sh\b")
STEP_ECHO_END = re.compile(r"^##\[endgroup\]")
RUNNER_PREAMBLE = re.compile(
    r"^Generating script\.\s*$|^=+ Starting Command Output =+\s*$|^Script contents:\s*$|"
    r"^(?:/usr)?/bin/(?:ba)?sh --noprofile --norc \S+\s*$|^(?:Task|Description|Version|Author|Help)\s+: |"
    r"^(?:Starting|Finishing): \S"
)
# Lines that state nothing: separator rules, native stack frames ("3: 0xd6f1f0 v8::..."), bare addresses.
NOISE = re.compile(
    r"^\W*$|^\W*(?:\[\w+\]\s*)?[-=_*#~]{3,}\W*$|^\s*\d+: 0x[0-9a-f]+\b|^\s*(?:#\d+\s+)?0x[0-9a-f]+\s|"
    r"(?:site-packages|dist-packages|node_modules|/usr/(?:local/)?lib|\bnode:internal|\binternal/)\S*[:\"]|"
    # a Python frame in code that has no file (exec'd, generated, frozen): it says nothing of where
    r'^\s*File "<[^>]+>", line \d+'
)
# A line a tool prints as its failure statement in words the excerpt's scorer does not weigh as an error:
# pnpm's error code, a shellcheck finding (any finding fails the run; before 0.7.1 without its severity:
# "^-----^ SC2086: Double quote ..."), Dart's failed test (`[E]`), kotlinc's
# error (`e: file.kt:27:18 ...`), minitest's failed test (`OrderTest#test_x [test/x_test.rb:18]:`), Composer's
# and kubectl's refusals.
TOOL_FAILURE = re.compile(
    r"^\s*ERR_PNPM_[A-Z_]+\b|\^-*\^? SC\d{4}(?: \((?:error|warning|info|style)\))?: |"
    r"^\d+:\d\d \+\d+(?: ~\d+)? -\d+: .+ \[E\]\s*$|^e: (?:file://)?\S+\.kts?(?::\d+:\d+|: \(\d+, \d+\)):? |"
    r"^\w+(?:::\w+)*#\w+ \[\S+:\d+\]:\s*$|"
    r"^Your (?:requirements could not be resolved to an installable set|lock file does not contain a compatible set) of packages|"
    # uv's resolver ("  × No solution found when resolving dependencies:", its reason under it)
    r"^\s*× No solution found when resolving\b|"
    # yarn 2+'s error codes (EXCEPTION, BUILD_FAILED, CACHE_CHECKSUM_MISMATCH, FROZEN_LOCKFILE_EXCEPTION, FETCH_FAILED,
    # NETWORK_ERROR, RESOLUTION_FAILED): its other codes are information or warnings, and the text has no level
    r"^\s*(?:➤ )?YN00(?:01|09|18|28|30|35|82): |"
    r"^The \w+ \"[^\"]+\" is invalid: |"
    # rustfmt --check, Vader (Vim), PHP_CodeSniffer, ava's and Karma's failed test marks (not a metric marked
    # failed in a dotted table of values, k6's "✗ http_req_duration......: avg=...": a measurement, stated below)
    r"^would reformat \S+|^Diff in \S+ at line \d+:|^\s*\(\s*\d+/\d+\) \[\s*\w+\s*\] \(X\) |^\s*\d+ \| ERROR \| |"
    r"^\s*[✖✗]\s+(?!\S+\.{4,}:|found \d+ problems?\b)\S|"
    # git push: a ref the remote refused (" ! [rejected]        main -> main (non-fast-forward)", "[remote rejected]")
    r"^ ! \[(?:remote )?rejected\] |"
    # a registry's error as docker push/pull print it ("denied: requested access to the resource is denied")
    r"^(?:denied|unauthorized|forbidden): \S|"
    # logrus' text format, which many Go tools log in (k6, older docker, gitlab-runner): "ERRO[0032] message"
    r"^(?:ERRO|FATA|PANI)\[\d{4,}\] |"
    # pre-commit: a hook's status line ("fix end of files......Failed"), its id and output printed under it
    r"^\S.*?\.{3,}Failed\s*$|"
    # gitleaks: a finding's report, its rule, file and line printed under it
    r"^Finding:\s{2,}\S|"
    # the Elm compiler's report header ("-- TYPE MISMATCH ------ src/Cart.elm"), its explanation under it; the
    # progress line it overwrites ("Compiling ...") may be left before it in a log
    r"-- [A-Z][A-Z' ]+[A-Z] -{2,} \S+\.elm\s*$|"
    # Maven's enforcer: a rule that failed, its message under it
    r"^(?:\[(?:WARNING|ERROR)\] )?Rule \d+: [\w.$]+ failed with message:|"
    # security scanners' findings: Bandit's issue, Semgrep's blocking finding (its file on a header above it),
    # Safety's, pip-audit's table row and npm audit's advisory (each naming the package and the advisory)
    r"^>> Issue: \[[A-Z]\d{3}:\w+\] |^\s*(?:❯❯❱|❯❱|❱) [a-z][\w.-]+\s*$|^-> Vulnerability found in \S+ version \S+|"
    # (pip-audit's row: a package and its version before the id, not `git log`'s "9f3c2e1 fix GHSA-..."; npm audit's
    # title before the link, not a list's bullet)
    r"^[A-Za-z0-9][\w.-]*\s+v?\d[\w.+!-]*\s+(?:GHSA(?:-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+)\b|"
    r"^(?![-*+•] )\S.* - https://github\.com/advisories/GHSA-|"
    # a manifest a schema validator refused (kubeconform, kubeval: "stdin - Deployment web is invalid: ...")
    r"^\S+ - \w+ \S+ (?:is invalid|failed validation): |"
    # a coverage threshold not met (Jest's coverageThreshold, coverage.py's fail_under, pytest-cov's)
    r"^Jest: \"[^\"]+\" coverage threshold for \w+ \([\d.]+%\) not met: |^Coverage failure: total of |"
    r"^FAIL Required test coverage of |"
    # Credo's issue ("┃ [W] ↗ message", its place under it), dialyxir's warning ("lib/x.ex:27:call", its
    # explanation under it), lintr's lint ("R/x.R:14:5: style: [object_name_linter] ...")
    # the go command's error about a module version ("go: github.com/x/y@v1.2.3: reading ...: 410 Gone")
    r"^go: [\w.-]+(?:/[\w.-]+)+@\S+: \S|"
    # the shell's "command not found" (dash: "sh: 1: webpack: not found"), Perl's missing module
    r"^(?:\S*/)?(?:ba|da|z|k)?sh: (?:line )?\d+: \S.*: (?:command )?not found\s*$|^Can't locate \S+ in @INC\b|"
    r"^┃ \[[A-Z]\] \S+ \S|^[\w./-]+\.exs?:\d+(?::\d+)?:[a-z_]+\s*$|^\S+\.[Rr](?:md)?:\d+:\d+: (?:style|warning|error): \[\w+\] "
)
# A finding that names its file on a header line a few lines above it: shellcheck's, marked under the code line
# ("In x.sh line 14:"), and PHP_CodeSniffer's (" 41 | ERROR | ..." under "FILE: /x/Cart.php"). checkov names the
# check that failed above the resource ("Check: CKV_AWS_20: "S3 Bucket ..."" over "FAILED for resource: x").
HEADED = (
    (re.compile(r"\^-*\^? SC\d{4}(?: \(|: )"), re.compile(r"^In \S+ line \d+:\s*$"), 3),
    (re.compile(r"^\s*\d+ \| ERROR \| "), re.compile(r"^FILE: \S+"), 6),
    (re.compile(r"^\s*FAILED for resource: "), re.compile(r"^Check: [A-Z][A-Z0-9_]+\d: "), 2),
    # PHPStan's table: a row ("  41     Call to an undefined method ...") under the header naming the file
    (re.compile(r"^\s+\d+\s{2,}\S"), re.compile(r"^\s*Line\s{2,}\S+\s*$"), 40),
    # html-proofer lists each failure ("  *  External link ... failed: 404") under the page it is in ("- ./_site/x.html")
    (re.compile(r"^\s+\*\s+\S"), re.compile(r"^- \S+\.html?\s*$"), 6),
    # Semgrep lists its findings ("❯❯❱ rule.id") under the file they are in ("    app/views.py")
    (re.compile(r"^\s*(?:❯❯❱|❯❱|❱) [a-z]"), re.compile(r"^\s+[\w./@-]*\w\.\w{1,10}\s*$"), 3),
)
# Lines that end a failure's detail: a runner's closing lines ("Finished in 1.42 seconds", ScalaTest's "Run
# completed in"), the next failure's report title (minitest's "Error:" after a "Failure:"), shellcheck's next
# finding ("In x.sh line 22:"), a runner's progress line ("E", "..F.."), a build tool's progress log (Bazel's
# "INFO: Elapsed time: 12.4s"), cargo's advice under a panic.
DETAIL_END = re.compile(
    r"^\s*\(\s*\d+/\d+\) \[\s*\w+\s*\] |"
    # Gradle's advice after "What went wrong:"
    r"^\* (?:Try|Get more help at|Exception is):?|"
    r"^\s*(?:\[info\] )?(?:Finished in|Randomized with seed|Run completed in) |"
    r"^\s*(?:Failure|Error)s?:\s*$|^In \S+ line \d+:\s*$|^[.EFS*]+\s*$|^INFO: |^note: run with `RUST_BACKTRACE=1`|"
    # linters' closing tallies and progress (SwiftLint, ktlint, Psalm, scalastyle, cppcheck), hspec's advice
    r"^Done linting! Found |^Summary error count |^\d+ errors? found\s*$|^Checks took |^(?:\[info\] )?scalastyle Processed |"
    r"^\d+/\d+ files checked \d+% done|^Checking \S+ \.\.\.\s*$|^\s*To rerun use: --match |^Stacktrace:\s*$|"
    # html-proofer's next page (3.x) or next failure and check (4.x, 5.x) in its list of failures, Leiningen's next
    # namespace, a TAP test's tally
    r"^- \S+\.html?\s*$|^\* (?:At|In) \S+.*:\s*$|^For the .+ check, the following failures were found:|"
    r"^lein test \S|^# Looks like you failed \d+ tests? of \d+"
)
# pytest's short traceback under a failure's title: a frame ("tests/x.py:3: in <module>", its source line indented
# under it), the "Traceback:" label and its advice ("Hint: make sure your test modules ..."): where, not what failed.
SHORT_FRAME = re.compile(r"^[\w./\\-]+\.py:\d+: in \S+\s*$|^Traceback:\s*$|^Hint: ")
# Cucumber's exception class in parentheses under the message it raised ("      expected: 90", "      got: 100", then
# "      (RSpec::Expectations::ExpectationNotMetError)"), below the step it failed ("Then the total is 90  # steps.rb:9").
RAISED_BELOW = re.compile(r"^\s*\((?:[A-Z]\w*::)*[A-Z]\w*(?:Error|Exception|Failure)\w*\)\s*$")
STEP_LOCATION = re.compile(r"#\s*\S+:\d+\s*$")
# npm's spacer between the paragraphs of one error ("npm ERR! " alone): part of the error, not its end.
NPM_SPACER = re.compile(r"^npm ERR!\s*$")
# A linter's problem in the "stylish" layout (ESLint, stylelint): "  13:2  ✖  Expected …" under a line naming the file.
# stylelint's and tslint's plain layout puts a tab after the position and the rule's id at the end:
# "429:1<TAB>Unexpected missing newline at end of file (no-missing-eof-newline)"; a warning is not a failure.
LINT = re.compile(r"^\s*\d+:\d+(?:\s+(?:✖|×|✗|error)\s|\t+(?!warning\b|⚠)\S.*\s\(?@?[a-z][\w/-]*-[\w/-]+\)?\s*$)")
FILE_HEADER = re.compile(r"^\s*[\w./\\@~-]*\w\.\w{1,10}\s*$")
# How test runners name a failing test (the id is group 1 or 2).
TEST_ID = re.compile(
    r"^(?:FAILED|ERROR) (\S+::\S+)|^(\S+::\S+) (?:FAILED|ERROR)\b|^\s*--- FAIL: (\S+)|^\s*● (.+?)\s*$|^rspec (\./\S+:\d+)|^(?:FAIL|ERROR): (\w+) \(|"
    r"^\s*(\S+ > .+?) FAILED\s*$|^test (\S+) \.\.\. FAILED|^\[ERROR\]\s+([\w.$]+[.#]\w+:\d+)|^not ok \d+ - (.+)$|"
    # dotnet test (xUnit, NUnit, MSTest): "  Failed Api.Tests.InvoiceTests.Total [14 ms]"
    r"^\s*Failed ([\w.+`<>,]+(?:\([^)]*\))?) \[[\d.]+ ?(?:ms|s|m)\]|"
    # Surefire 2.x's summary under "Failed tests:" / "Tests in error:" ("  ParserTest.testParse:27 expected:<1> ...",
    # not CMake's call stack, "  CMakeLists.txt:46 (find_package)")
    r"^(?:Failed tests|Tests in error):\s+(\w+\(\S+\))|^\s+([A-Z]\w*\.[a-z]\w*:\d+)(?:->\S+)? (?!\()|"
    # minitest: "OrderTest#test_total [test/models/order_test.rb:18]:", an error's "UserTest#test_email:"
    r"^(\w+(?:::\w+)*#test_\w+)(?: \[\S+:\d+\])?:\s*$|"
    # Dart/Flutter: "00:01 +3 -1: test/invoice_test.dart: Invoice applies the discount [E]"; Bazel; Cucumber
    r"^\d+:\d\d \+\d+(?: ~\d+)? -\d+: (.+?) \[E\]\s*$|^FAIL: (//\S+) |^cucumber (features/\S+:\d+)|"
    # ava: "✖ money › parses a decimal comma"
    r"^\s*✖ (.+? › .+?)\s*$|"
    # RSpec, a spec file that does not load
    r"^An error occurred while loading (\./\S+?)\.?\s*$|"
    # GoogleTest's verdict on one test ("[  FAILED  ] Suite.Name (0 ms)"), Karma's on a spec ("HeadlessChrome 75.0 (Linux
    # 0.0.0) Cart should total FAILED")
    r"^\[ +FAILED +\] (\S+) \(\d+ ms\)\s*$|^[A-Z][\w ]*? \d[\d.]* \([^)]*\) (.+?) FAILED\s*$|"
    # Deno: "applies a coupon => ./cart_test.ts:12:6" over the test's error and in its FAILURES list
    # (a test file as Deno finds them, "x_test.ts", "x.test.js", "test.ts": not a route table's "GET /x => src/x.ts:12:6")
    r"^(\S.*? => \S*?(?:\b|[_.])test\.[cm]?[jt]sx?:\d+:\d+)\s*$"
)
# A place alone on its line ("  test/Money/ParseSpec.hs:14:31: "): hspec prints it over the failure it locates.
PLACE_ALONE = re.compile(r"^\s*[\w./\\-]*\w\.\w{1,10}:\d+(?::\d+)?:?\s*$")
# A test's verdict that points to a report printed above it (Go's "testing.go:1465: race detected during execution
# of test" under the race detector's "WARNING: DATA RACE" report; Perl's prove, "t/x.t .. Dubious, test returned 1"
# under the test file's "#   Failed test 'name'" diagnostics): the report is the failure's statement.
POINTED = (
    (re.compile(r"\brace detected during execution of test\b"), re.compile(r"^WARNING: DATA RACE\s*$"), 400),
    (re.compile(r"\bDubious, test returned \d+|^Failed \d+/\d+ subtests"), re.compile(r"^#\s+Failed test\b"), 30),
    # ERT's verdict on a test ("   FAILED  6/12  money-parse-comma") under the test's "Test x condition:" report
    (re.compile(r"^\s*FAILED\s+\d+/\d+\s+\S+\s*$"), re.compile(r"^Test \S+ condition:\s*$"), 60),
    # a test file that died before its tests: Perl's message ("Can't locate JSON/XS.pm in @INC ... at lib/X.pm line 5."),
    # not the lines Perl adds under it as the error passes up ("BEGIN failed--", "Compilation failed in require")
    (
        re.compile(r"\bDubious, test returned \d+"),
        re.compile(r"^(?!#|BEGIN failed--|Compilation failed in require)\S.* at \S+ line \d+\.\s*$"),
        30,
    ),
)
# A tool's tally under the findings it listed above it: the first finding listed is the headline. html-proofer's
# ("  *  External link ... failed: 404" under "- ./_site/x.html" in 3.x; from 4.x "* At ./_site/x.html:48:" at the
# start of a line, "* In ./_site/x.html (line 48):" in 4.0, the message indented under it), PHPStan's table rows
# ("  41     Call to ..."),
# valgrind's errors ("==12345== Invalid read of size 4", each with its stack, the program's output between them).
VALGRIND_ERROR = re.compile(
    r"^==\d+== (?:Invalid (?:read|write|free|\(\)|size)|Conditional jump or move depends on uninitialised|"
    r"Use of uninitialised value|Mismatched free|Source and destination overlap|Syscall param |"
    r"[\d,]+ bytes in [\d,]+ blocks are (?:definitely|possibly) lost)"
)
LISTED = (
    (re.compile(r"HTML-Proofer found \d+ failures?!"), re.compile(r"^\s*\*\s+\S"), 40),
    (re.compile(r"^\s*\[ERROR\] Found \d+ errors?\s*$"), re.compile(r"^\s+\d+\s{2,}\S"), 60),
    (re.compile(r"^==\d+== ERROR SUMMARY: [1-9]"), VALGRIND_ERROR, 400),
)
# awesome_bot (a link checker): the broken links are listed under its "Issues :-(" title ("> Links", then
# "  1. [L296] 301 https://a → https://b"); the same layout above it lists the links it was told to ignore.
LINK_REPORT = re.compile(r"^Issues :-\(\s*$")
LINK_ISSUE = re.compile(r"^\s*\d+\. \[L\d+\] ")
LINK_REPORT_LINES = 12  # how far under the title its first broken link is listed
# A line that reports a pass (`--- PASS: TestX`, `test_x PASSED`, `✓ adds`): not the failure's detail.
# GoogleTest's "[ RUN      ] Suite.Next" starts the next test and "[       OK ] Suite.Next" passes it.
# php -l's "No syntax errors detected in x.php" and luacheck's "Checking x.lua   OK" pass a file.
PASS = re.compile(
    r"^\s*--- PASS\b|\bPASSED\b|^\s*[✓✔]\s|^ok\s+\d+\s|^ok\s+\S+\s+[\d.]+s$|^\[ +(?:RUN|OK) +\] |"
    r"^No syntax errors detected in |^Checking \S+\s+OK\s*$|"
    # pre-commit's status of a hook that passed or had nothing to check
    r"^\S.*?\.{3,}(?:Passed|\(no files to check\)Skipped)\s*$|"
    # pytest's tally when every test passed ("40 passed in 3.92s"), a test's "... ok" (Deno, Rust, unittest)
    r"^=*\s*\d+ passed(?:, \d+ (?:skipped|deselected|warnings?|xfailed|xpassed))* in [\d.]+s\b|\s\.\.\. ok(?: \(|\s*$)|"
    # Jest's and Vitest's tallies when nothing failed ("Test Suites: 2 passed, 2 total")
    r"^\s*(?:Test Suites|Tests|Test Files):\s+\d+ (?:passed|skipped|todo)\b(?:(?!failed).)*$"
)
# A test framework's or the runtime's own stack frame (JUnit's `at org.junit.Assert.fail`).
LIBRARY_FRAME = re.compile(
    r"^\s+at (?:org\.junit\.|junit\.framework\.|org\.testng\.|org\.hamcrest\.|org\.assertj\.|org\.opentest4j\.|"
    r"java\.|javax\.|jdk\.|sun\.|kotlin\.|scala\.|org\.scalatest\.|node:|internal/|process\.|Module\._|<Jasmine>)"
)
# Surefire's timing on a failed test's line ("testX(a.B)  Time elapsed: 0.01 sec  <<< FAILURE!"): not what failed.
TIMING = re.compile(r"\s+Time elapsed: [\d.,]+ s(?:ec)?\b")
# A compiler's or test runner's code frame: a numbered source line ("  17 |   x = y", "> 22 | expect(a)") or a
# gutter with only carets under it ("     |   ^^^"); it shows the code, the message says what is wrong with it.
# (PHP_CodeSniffer's " 41 | ERROR | message" is a finding, not code.)
CODE_FRAME = re.compile(r"^\s*>?\s*\d+\s*\|(?:\s|$)(?!\s*(?:ERROR|WARNING) \| )|^\s*\|[\s^~-]*$")
# A test runner's context in a command's output: the runner's command or name, its report's lines (pytest's
# banners, unittest's and nose's `FAIL: test_x (...)` and `Ran 3 tests in`, mocha's `1 failing`, Jest's and
# Vitest's tallies), a test file or test function in a traceback (`tests/test_cart.py`, `in test_total`, `x.test.ts`).
# An AssertionError there is a test's verdict; elsewhere (a script's `assert`, a library's check) it is a crash.
TEST_CONTEXT = re.compile(
    r"\b(?:py\.?test|unittest|nosetests|nose2|vitest|jest|mocha|jasmine|karma|phpunit|rspec)\b|"
    r"\b(?:(?:manage|setup)\.py|cargo|go|dotnet) test\b|^test result: FAILED\b|"
    r"^=+ (?:test session starts|FAILURES|ERRORS|short test summary info) =+\s*$|^FAILED \S+::|"
    r"^(?:FAIL|ERROR): (?:[\w.]+\.)?test\w*\b|^Ran \d+ tests? in |^\s*\d+ failing\s*$|"
    r"^\s*(?:Tests|Test Files):?\s+\d+ failed\b|"
    r"[/\\\"' ](?:tests?[/\\]\S*|test_\w+\.py|\w+_tests?\.py)\b|, in test\w*\s*$|^\s*def test\w*\(|"
    r"\.(?:test|spec)\.[cm]?[jt]sx?\b"
)
# A finding's link to its documentation ("More Info: https://...", "CWE: CWE-78 (https://...)", Semgrep's "Details:
# https://sg.run/x"): where to read more, not what failed (left out of a statement under its headline).
# Only under a label that points to reading matter: a link under another label ("Broken: https://...", "Endpoint:
# https://...") is what failed.
LINK_ONLY = re.compile(
    r"(?i)^\s*(?:More Info(?:rmation)?|Details|Docs?|Documentation|References?|See(?: also)?|Help|Learn more|Read more|"
    r"Guide|Wiki|CWE|Rule):\s+(?:[\w-]+\s+)?\(?https?://\S+\)?\s*$"
)
# A monorepo runner's prefix on each line of a package's task (Turborepo's "@acme/web:test: ", "web:build: ", Lerna's
# --stream "@acme/api: "), or Haskell stack's on each line of a package's build and tests ("acme-lib> ", before 2.1
# "acme-lib > "): the task's own tool speaks after it.
TASK_PREFIX = re.compile(r"^(?:(?:@[\w.-]+/[\w.-]+(?::[a-z][\w:-]*)?|[a-z][\w-]*:[a-z][\w-]*):|[a-z][\w.-]* ?>)(?: |$)")
# A compiler's or build tool's diagnostic of severity warning (gcc's and GHC's "a.c:4:9: warning: ...", javac's
# "[WARNING] /a/B.java:[12,8] ...", scalac's "[warn] ..."): unless turned into an error, it names nothing that failed.
WARNING_DIAGNOSTIC = re.compile(r"(?i)^\S+:\d+(?::\d+)?:\s*warning\b(?!.*-Werror)|^\[(?:WARNING|warn)\] ")
# What a browser's console printed, relayed by Karma under the browser's name ("HeadlessChrome 80.0 (Linux 0.0.0)
# ERROR: 'Http failure response …'", console.error's quoted message): the app's log, not a test's verdict.
RELAYED_CONSOLE = re.compile(r"^\S.*\) (?:LOG|WARN|ERROR|INFO|DEBUG): '")
