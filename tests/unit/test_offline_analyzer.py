"""The offline analyzer is specific: it states the decisive error as printed, and its verdicts follow the evidence."""

from __future__ import annotations

import pytest

from bot.core import messages
from bot.core.excerpt.read import excerpt
from bot.core.heuristic_facts import facts, failing_test, is_wrapper_line
from bot.core.heuristics import analyze
from bot.core.types import Category, Excerpt, ExcerptLine, Verdict
from tests.helpers import ROOT
from tests.scenario import PYTEST_TRACE

CI_LOGS = ROOT / "tests" / "data" / "ci-logs"


def lines(*texts: str, lead: tuple[int, int] | None = None) -> Excerpt:
    return Excerpt([ExcerptLine(i + 1, t) for i, t in enumerate(texts)], lead=lead)


def corpus(name: str):
    return analyze(excerpt((CI_LOGS / name).read_bytes()), failure_reason="script_failure")


def test_a_v8_heap_limit_is_sigabrt_134_and_not_an_infrastructure_retry():
    answer = corpus("node-heap-oom.gitlab.log")
    assert "JavaScript heap out of memory" in answer.summary and "exit code 134" in answer.summary
    assert messages.OFFLINE_EXIT_MEANINGS[134] in answer.root_cause
    assert "137" not in answer.root_cause and "SIGKILL" not in answer.root_cause
    assert answer.category is Category.out_of_memory and answer.verdict is not Verdict.infrastructure


def test_a_kill_with_137_is_said_to_be_sigkill():
    answer = corpus("oom-killed-137.gitlab.log")
    assert "Killed" in answer.summary and "exit code 137" in answer.summary
    assert messages.OFFLINE_EXIT_MEANINGS[137] in answer.root_cause and answer.category is Category.out_of_memory


def test_a_go_test_quotes_got_and_want_and_names_the_test():
    answer = corpus("go-test-gotwant.gitlab.log")
    assert "TestPriceWithDiscount" in answer.summary and "pricing_test.go:42: got 1250, want 1200" in answer.summary
    assert answer.verdict is Verdict.caused_by_change and answer.evidence[0].text.startswith(
        "--- FAIL: TestPriceWithDiscount"
    )


def test_a_docker_build_names_the_missing_file():
    answer = corpus("docker-cache-key.gitlab.log")
    assert '"/requirements.lock": not found' in answer.summary
    assert "A Docker build step failed" not in answer.summary


def test_pytest_names_the_failing_test_and_the_values():
    answer = analyze(excerpt(PYTEST_TRACE), failure_reason="script_failure")
    assert answer.summary.startswith("tests/test_money.py::test_parse_amount: ")
    assert "assert 1250.0 == 12.5" in answer.summary
    assert answer.root_cause.startswith(messages.OFFLINE_CAUSE.split("{")[0])


def test_the_headline_is_the_error_not_an_earlier_service_wait():
    ex = lines(
        "Waiting for services to be up and running (timeout 30 seconds)...",
        "*** WARNING: Service runner-x-postgres probably didn't start properly.",
        "$ pytest -q",
        "E       assert 404 == 200",
        "FAILED tests/test_api.py::test_get - assert 404 == 200",
        "ERROR: Job failed: exit code 1",
        lead=(4, 5),
    )
    answer = analyze(ex)
    assert answer.evidence[0].line == 4 and "assert 404 == 200" in answer.summary
    assert "tests/test_api.py::test_get" in answer.summary


def test_a_wrapper_in_the_lead_sends_the_headline_to_the_error_above():
    ex = lines(
        "$ make",
        "cc -c src/parse.c",
        "src/parse.c:14:5: error: 'amout' undeclared",
        "make: *** [Makefile:8: parse.o] Error 1",
        'The command "make" exited with 2.',
        lead=(4, 5),
    )
    found = facts(ex)
    assert found.headline is not None and found.headline.n == 3
    assert found.exit is not None and found.exit.code == 2 and found.exit.command == "make"
    answer = analyze(ex)
    assert (
        answer.summary.startswith("src/parse.c:14:5: error: 'amout' undeclared")
        and "`make`: exit code 2" in answer.summary
    )


def test_a_traceback_is_stated_by_its_exception_and_last_project_frame():
    ex = lines(
        "Traceback (most recent call last):",
        '  File "/builds/app/manage.py", line 22, in <module>',
        '  File "/usr/local/lib/python3.12/site-packages/django/conf/__init__.py", line 89, in __getattr__',
        "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.",
        lead=(1, 4),
    )
    answer = analyze(ex)
    assert answer.summary.startswith(
        "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty."
    )
    assert 'manage.py", line 22' in answer.summary and "site-packages" not in answer.summary


def test_a_rule_explains_only_the_failures_own_lines():
    ex = lines(
        "W: Failed to fetch http://mirror/dists/InRelease  Could not resolve host: mirror",
        "$ pytest",
        "E   AssertionError: assert 3 == 4",
        "FAILED tests/test_math.py::test_add - AssertionError",
        "ERROR: Job failed: exit code 1",
        lead=(3, 4),
    )
    answer = analyze(ex)
    assert answer.category is Category.test and "network" not in answer.root_cause.lower()
    assert "Could not resolve host" not in answer.summary


def test_no_generic_text_when_a_failure_line_exists():
    answer = analyze(
        lines("$ ./deploy.sh", "deploy.sh: line 3: kubectl: command not found", "ERROR: Job failed: exit code 127")
    )
    assert answer.summary.startswith("deploy.sh: line 3: kubectl: command not found")
    assert messages.OFFLINE_EXIT_MEANINGS[127] in answer.root_cause


@pytest.mark.parametrize(
    "line",
    [
        "make: *** [Makefile:12: test] Error 2",
        "make[1]: *** [sub] Error 1",
        "Makefile:108: recipe for target 'test' failed",
        'The command "npm test" exited with 1.',
        "Done. Your build exited with 1.",
        "ninja: build stopped: subcommand failed.",
        "FAILED: src/CMakeFiles/app.dir/main.cpp.o",
        "error Command failed with exit code 134.",
        "npm ERR! code ELIFECYCLE",
        "-- Configuring incomplete, errors occurred!",
        "-- Build files have not been written to: /builds/x",
        "Failing due to -Werror.",
        "BUILD FAILED in 12s",
        "FAILURE: Build failed with an exception.",
        "ERROR: Job failed: exit code 1",
        "Error: Process completed with exit code 2.",
        "script returned exit code 1",
        "The command '/bin/sh -c make' returned a non-zero code: 2",
        'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2',
        "[ERROR] There are test failures.",
        'See also "/builds/x/CMakeFiles/CMakeError.log".',
        "Command exited with non-zero status 1",
        "1 failed, 7 passed in 0.42s",
        "Tests:       2 failed, 40 passed, 42 total",
        "FAILED",
        "FAILURES!",
        "=========================== short test summary info ============================",
        "exit status 1",
        'error: could not compile `app` (bin "app") due to 2 previous errors',
        "   > Compilation error. See log for more details",
        "FAIL! -- 13 Passed | 1 Failed | 0 Pending | 0 Skipped",
        "FAIL\tgithub.com/acme/x\t0.123s",
        "FAIL",
        "Ran 12 tests in 0.003s",
        "25 examples, 1 failure",
        "error: linking the plugin failed, see above",
        "tar: Exiting with failure status due to previous errors",
        "9 doctests, 592 tests, 1 failure",
        "27 tests completed, 1 failed",
        "2022-05-30T09:11:02.8629221Z 27 tests completed, 1 failed",
        "Execution failed for task ':app:testDebugUnitTest'.",
        "> There were failing tests. See the report at: file:///builds/app/build/reports/tests/index.html",
    ],
)
def test_lines_that_only_say_something_failed_are_wrappers(line):
    assert is_wrapper_line(line)


@pytest.mark.parametrize(
    "line, test",
    [
        ("FAILED tests/test_a.py::test_b[x-1] - AssertionError", "tests/test_a.py::test_b[x-1]"),
        ("--- FAIL: TestLoad/empty_path (0.00s)", "TestLoad/empty_path"),
        ("  ● Cart › applies the coupon once", "Cart › applies the coupon once"),
        ("rspec ./spec/models/invoice_spec.rb:42 # Invoice#total", "./spec/models/invoice_spec.rb:42"),
        ("FAIL: test_round_half_even (billing.tests.MoneyTests.test_round_half_even)", "test_round_half_even"),
        ("InvoiceTest > computesTotal() FAILED", "InvoiceTest > computesTotal()"),
        ("test parser::tests::inline ... FAILED", "parser::tests::inline"),
        ("[ERROR]   BalanceTest.carriesOver:77 expected: <1> but was: <2>", "BalanceTest.carriesOver:77"),
        ("not ok 3 - parses an empty file", "parses an empty file"),
    ],
)
def test_failing_tests_are_named_as_their_runner_names_them(line, test):
    assert failing_test(lines("$ run tests", line)) == test


def test_a_failure_line_in_the_lead_beats_an_older_error_far_above():
    ex = lines(
        "curl: (22) The requested URL returned error: 404 Not Found",
        "$ ./check-links.sh",
        "No issues :-)",
        "$ emacs --batch -l test.el",
        "/tmp/emacs/bin/emacs: error while loading shared libraries: libgnutls.so.26: cannot open shared object file",
        'The command "emacs --batch -l test.el" exited with 127.',
        lead=(5, 6),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("/tmp/emacs/bin/emacs: error while loading shared libraries: libgnutls.so.26")
    assert answer.evidence[0].line == 5


def test_cmake_status_lines_are_not_the_error():
    ex = lines(
        "-- Looking for pthread_create",
        "-- Looking for pthread_create - not found",
        "-- Looking for pthread_create in pthreads - not found",
        "-- Found Threads: TRUE",
        "CMake Error at /usr/share/cmake-3.2/Modules/FindPackageHandleStandardArgs.cmake:138 (message):",
        "  Could NOT find Halide (missing: HALIDE_ROOT_DIR)",
        "Call Stack (most recent call first):",
        "",
        "-- Configuring incomplete, errors occurred!",
        'See also "/builds/app/build/CMakeFiles/CMakeError.log".',
        lead=(9, 10),
    )
    answer = analyze(ex)
    assert answer.summary.startswith(
        "CMake Error at /usr/share/cmake-3.2/Modules/FindPackageHandleStandardArgs.cmake:138"
    )
    assert "Could NOT find Halide" in answer.summary and "pthread" not in answer.summary


def test_above_a_tally_the_headline_is_the_first_failure_of_the_report():
    ex = lines(
        "  1) test parses the empty input (ParserTest)",
        "     test/parser_test.exs:12",
        "     ** (MatchError) no match of right hand side value: :error",
        "",
        "  2) test parses a comment (ParserTest)",
        "     test/parser_test.exs:30",
        "     ** (MatchError) no match of right hand side value: :eof",
        "",
        "9 doctests, 59 tests, 2 failures",
        "make: *** [test] Error 2",
        'The command "make test" exited with 2.',
        lead=(9, 11),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("1) test parses the empty input (ParserTest)")
    # The report fills the headline; the failing command and its status are said in the root cause.
    assert "(`make test`) exited with code 2" in answer.root_cause


def test_a_command_echo_is_what_ran_not_what_failed():
    ex = lines(
        "$ $TIMEOUT 35m ci/build.sh",
        "+ stack --no-terminal build --fast",
        "src/Main.hs:8:1: error: Could not find module 'Data.Timeout'",
        'The command "$TIMEOUT 35m ci/build.sh" exited with 1.',
        lead=(4, 4),
    )
    found = facts(ex)
    assert found.headline is not None and found.headline.n == 3


def test_the_failing_gradle_task_is_named_and_its_line_quoted():
    ex = lines(
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':app:checkstyleMain'.",
        "> Unable to create Root Module: config {/builds/app/config/checkstyle/checkstyle.xml}",
        "",
        "BUILD FAILED in 15s",
        lead=(1, 7),
    )
    answer = analyze(ex)
    assert "`:app:checkstyleMain` failed" in answer.summary and "Unable to create Root Module" in answer.summary
    assert 4 in [e.line for e in answer.evidence]


def test_a_make_target_names_the_failing_step_with_its_exit_code():
    ex = lines(
        "cc -c src/parse.c",
        "src/parse.c:14:5: error: 'amout' undeclared",
        "make: *** [Makefile:8: parse.o] Error 1",
        lead=(3, 3),
    )
    answer = analyze(ex)
    assert answer.summary == "src/parse.c:14:5: error: 'amout' undeclared (`parse.o`: exit code 1)"


def test_the_failing_commands_exit_line_is_quoted():
    ex = lines(
        "$ ./test/run !",
        "Executed 120 tests",
        "(1/1) [EXPECT] Invalid HEAD (expected: fffffff, actual: 5b8bd03)",
        "Error detected while processing function <SNR>12_run:",
        "E121: Undefined variable: g:plugs",
        "E116: Invalid arguments for function remove",
        "E15: Invalid expression: g:plugs",
        'The command "./test/run !" exited with 1.',
        "",
        "Done. Your build exited with 1.",
        lead=(8, 10),
    )
    answer = analyze(ex)
    assert 8 in [e.line for e in answer.evidence] and "(`./test/run !`) exited with code 1" in answer.root_cause


def test_the_errors_words_come_before_the_failing_command_in_the_headline():
    long_error = "src/ledger/posting.c:212:9: error: implicit declaration of function 'round_half_even'"
    short = analyze(lines("$ make check", long_error, 'The command "make check" exited with 2.', lead=(2, 3)))
    assert short.summary == f"{long_error} (`make check`: exit code 2)"
    detail = (
        "src/ledger/rounding.h:40:12: note: 'round_half_even' is declared here, under an #ifdef the build leaves out"
    )
    crowded = analyze(
        lines(
            "$ make check CFLAGS='-O2 -Wall -Werror -fno-omit-frame-pointer' TESTS='ledger posting report'",
            long_error,
            detail,
            "The command \"make check CFLAGS='-O2 -Wall -Werror -fno-omit-frame-pointer' TESTS='ledger posting report'\" exited with 2.",
            lead=(2, 4),
        )
    )
    assert crowded.summary.startswith(long_error) and "note: 'round_half_even' is declared here" in crowded.summary
    assert len(crowded.summary) <= 200 and "make check" not in crowded.summary
    assert "exited with code 2" in crowded.root_cause


def test_a_linters_problem_is_stated_with_the_file_it_names_above():
    ex = lines(
        "$ npm test",
        "> stylelint src/site.css",
        "src/site.css",
        "  13:2  ✖  Expected double colon   selector-pseudo-element-colon-notation",
        "",
        "npm ERR! Test failed.  See above for more details.",
        'The command "npm test" exited with 1.',
        lead=(6, 7),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("src/site.css — 13:2 ✖ Expected double colon")
    assert {3, 4} <= {e.line for e in answer.evidence}


def test_under_a_reports_title_the_headline_is_the_first_error_below_it():
    ex = lines(
        "tests/test_cli.py::test_help PASSED [ 50%]",
        "tests/test_readme.py::test_readme FAILED [ 98%]",
        "",
        "=================================== FAILURES ===================================",
        "_________________________________ test_readme __________________________________",
        "    def test_readme(source_root):",
        ">       assert rule.stem in readme",
        'E       AssertionError: Missing rule "nixos_cmd_not_found" in README.md',
        "",
        "tests/test_readme.py:11: AssertionError",
        lead=(4, 5),
    )
    answer = analyze(ex)
    # pytest's verbose line names the test; the statement marked ">" comes with its error.
    assert answer.summary.startswith(
        'tests/test_readme.py::test_readme: assert rule.stem in readme — AssertionError: Missing rule "nixos_cmd_not_found"'
    )
    assert answer.evidence[0].line == 7 and 8 in [e.line for e in answer.evidence]


def test_a_maven_compile_error_is_stated_by_its_errors_not_its_title_or_goal():
    ex = lines(
        "[ERROR] COMPILATION ERROR : ",
        "[INFO] -------------------------------------------------------------",
        "[ERROR] /builds/app/src/main/java/com/acme/Posting.java:[42,27] incompatible types: String cannot be converted to BigDecimal",
        "[INFO] 1 error",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.13.0:compile (default-compile) on project app: Compilation failure",
        "ERROR: Job failed: exit code 1",
        lead=(1, 6),
    )
    answer = analyze(ex)
    # The level tag is not the tool's message, and the goal is named only as the failing step, without its group id.
    assert answer.summary == (
        "/builds/app/src/main/java/com/acme/Posting.java:[42,27] incompatible types: String cannot be converted to "
        "BigDecimal (`maven-compiler-plugin:3.13.0:compile (default-compile)`: exit code 1)"
    )


def test_a_passing_test_is_not_the_failures_detail():
    ex = lines(
        "--- FAIL: TestLoad (0.00s)",
        "--- PASS: TestParse (0.00s)",
        "--- PASS: TestParse/empty (0.00s)",
        "FAIL\tgithub.com/acme/cfg\t0.231s",
        lead=(1, 4),
    )
    assert "TestParse" not in analyze(ex).summary


def test_a_failed_gradle_task_is_stated_with_the_reason_under_it():
    ex = lines(
        "FAILURE: Build failed with an exception.",
        "* What went wrong:",
        "> Task :app:checkstyleMain FAILED",
        "Execution failed for task ':app:checkstyleMain'.",
        "> Unable to create Root Module: config {/builds/app/config/checkstyle/checkstyle.xml}",
        "BUILD FAILED in 15s",
        lead=(1, 6),
    )
    answer = analyze(ex)
    # The reason first, the task it failed in after it.
    assert answer.summary == (
        "> Unable to create Root Module: config {/builds/app/config/checkstyle/checkstyle.xml} (`:app:checkstyleMain` failed)"
    )
    assert 5 in [e.line for e in answer.evidence]


def test_travis_time_limit_is_a_timeout():
    ex = lines(
        "$ ./scripts/integration.sh",
        "[12:01:32] waiting for the database",
        "",
        "The job exceeded the maximum time limit for jobs, and has been terminated.",
        lead=(4, 4),
    )
    answer = analyze(ex, failure_reason="script_failure")
    assert answer.category == Category.timeout
    assert answer.summary.startswith("The job exceeded the maximum time limit for jobs")


def test_the_quoted_strong_lines_are_the_ones_near_the_failure():
    # An install step's network noise 400 lines up is stronger by its words, but it is not this failure.
    ex = Excerpt(
        [
            ExcerptLine(
                3, "npm ERR! network request to https://registry.example/x failed, reason: getaddrinfo ENOTFOUND"
            ),
            ExcerptLine(4, "Error: EACCES: permission denied, open '/root/.npm/_cacache/tmp/1a2b'"),
            ExcerptLine(400, "FAIL src/ledger/balance.test.ts"),
            ExcerptLine(401, "  ● ledger › balance after a reversal"),
            ExcerptLine(402, ""),
            ExcerptLine(403, "    expect(received).toBe(expected) // Object.is equality"),
            ExcerptLine(404, "    Expected: 1200"),
            ExcerptLine(405, "    Received: 1250"),
            ExcerptLine(406, "      at Object.toBe (src/ledger/balance.test.ts:31:19)"),
            ExcerptLine(407, "Tests:       1 failed, 40 passed, 41 total"),
            ExcerptLine(408, "error Command failed with exit code 1."),
        ],
        lead=(400, 408),
    )
    quoted = [e.line for e in analyze(ex).evidence]
    assert quoted[0] == 401 and 403 in quoted and 3 not in quoted and 4 not in quoted


GITLAB_TIMED_OUT = """Running with gitlab-runner 16.5.0 (853330f9)
Executing "step_script" stage of the job script
$ pip install -r requirements.txt
Successfully installed requests-2.31.0
$ timeout 10m pytest -x tests/
============================= test session starts ==============================
collected 212 items

tests/test_api.py::test_get_user PASSED                                  [  1%]
tests/test_api.py::test_error_page PASSED                                [  2%]
tests/test_sync.py::test_full_sync
ERROR: Job failed: exit code 124
"""

TRAVIS_TIMED_OUT = """$ bundle install --jobs=3 --retry=3
Bundle complete! 41 Gemfile dependencies, 98 gems now installed.
The command "bundle install --jobs=3 --retry=3" exited with 0.
$ timeout 30m bundle exec rspec
Randomized with seed 4242
....................F...
Failures will be listed at the end
The command "timeout 30m bundle exec rspec" exited with 124.

Done. Your build exited with 1.
"""


@pytest.mark.parametrize(
    ("log", "named"),
    [(GITLAB_TIMED_OUT, "$ timeout 10m pytest -x tests/"), (TRAVIS_TIMED_OUT, '"timeout 30m bundle exec rspec"')],
)
def test_a_command_stopped_by_timeout_is_headlined_by_its_exit_not_by_what_it_printed_last(log: str, named: str):
    # Exit status 124 is `timeout`'s: the test that was running, or a line above it that says "error" or
    # "Failures", is only where the command was when its time ran out.
    answer = analyze(excerpt(log.encode()), failure_reason="script_failure")
    assert named in answer.summary[:60] and "124" in answer.summary
    assert "test_error_page" not in answer.summary and "Failures will be listed" not in answer.summary
    assert answer.category is Category.timeout
    assert messages.OFFLINE_EXIT_MEANINGS[124] in answer.root_cause
    # The limit is the one the script gave `timeout`, not the job's `timeout:`.
    assert any("given to `timeout`" in step for step in answer.fix_steps)
    assert not any(".gitlab-ci.yml" in step for step in answer.fix_steps)


def test_a_command_echo_with_a_failure_word_is_not_the_failure():
    # `$ timeout 20m ./ci/build.sh` holds the word "timeout"; it named the command, and what the command printed
    # says why it failed. An earlier step's line with "error" in it is not the failure either.
    log = """Running with gitlab-runner 16.5.0 (853330f9)
Executing "step_script" stage of the job script
$ apt-get install -y libgpg-error-dev
Setting up libgpg-error-dev (1.46-1) ...
Allow some information gathering to give useful error messages
$ timeout 20m ./ci/build.sh
Building the package
purescript> Test suite tests failed
      'Coercible.purs' should compile and run without error:
        Module Safe.Coerce was not found.
Completed 2 action(s).
ERROR: Job failed: exit code 1
"""
    answer = analyze(excerpt(log.encode()), failure_reason="script_failure")
    assert "Module Safe.Coerce was not found" in answer.summary
    assert "Allow some information" not in answer.summary
    assert any("Safe.Coerce" in e.text for e in answer.evidence)


DISK_FULL_EARLIER = """Running with gitlab-runner 16.5.0 (853330f9)
Executing "step_script" stage of the job script
$ ./ci/prepare.sh
cp: error writing 'build/cache/deps.tar': No space left on device
tar: build/cache/deps.tar: Cannot write: No space left on device
$ ./ci/build.sh
[INFO] BUILD SUCCESS
ERROR: no generated sources found, the code generator has failed
ERROR: Job failed: exit code 1
"""


def test_a_full_disk_earlier_in_the_job_is_the_cause_of_the_error_after_it():
    # The later error is what the missing files did; the full disk is what to fix.
    answer = analyze(excerpt(DISK_FULL_EARLIER.encode()), failure_reason="script_failure")
    assert answer.summary.startswith("cp: error writing 'build/cache/deps.tar': No space left on device")
    assert answer.category is Category.infrastructure
    assert any("No space left on device" in e.text for e in answer.evidence)


@pytest.mark.parametrize(
    "earlier",
    [
        "tests/test_io.py::test_reports_no_space_left_on_device PASSED",  # a test's name, and it passed
        "df: warning: Too many open files is not an error here, 0 errors",  # says nothing failed
    ],
)
def test_words_of_a_full_disk_that_report_no_failure_do_not_take_the_headline(earlier: str):
    log = DISK_FULL_EARLIER.replace(
        "cp: error writing 'build/cache/deps.tar': No space left on device\n"
        "tar: build/cache/deps.tar: Cannot write: No space left on device\n",
        earlier + "\n",
    )
    answer = analyze(excerpt(log.encode()), failure_reason="script_failure")
    assert answer.summary.startswith("ERROR: no generated sources found")


def test_one_message_repeated_with_other_numbers_is_counted_in_the_summary_not_repeated():
    log = DISK_FULL_EARLIER.replace(
        "tar: build/cache/deps.tar: Cannot write: No space left on device\n",
        "".join(f"bash: line {n}: pom.bak{n}.xml: No space left on device\n" for n in range(169, 175))
        + "mv: cannot stat 'pom.bak22.xml': No such file or directory\n",
    )
    answer = analyze(excerpt(log.encode()), failure_reason="script_failure")
    assert answer.summary.count("No space left on device") == 3  # cp's, then two of bash's
    assert "pom.bak171.xml" not in answer.summary
    assert messages.OFFLINE_MORE_LIKE in answer.root_cause


def test_exit_124_of_a_command_not_run_by_timeout_is_not_explained_as_timeouts():
    # xargs exits 124 when a command it ran exited 255; scripts choose 124 for their own reasons.
    log = """Running with gitlab-runner 16.5.0 (853330f9)
Executing "step_script" stage of the job script
$ find src -name '*.py' -print0 | xargs -0 -n1 ./scripts/check-header.sh
src/a.py: missing license header
ERROR: Job failed: exit code 124
"""
    answer = analyze(excerpt(log.encode()), failure_reason="script_failure")
    assert "124" in answer.root_cause
    assert messages.OFFLINE_EXIT_MEANINGS[124] not in answer.root_cause
    assert answer.category is not Category.timeout
