"""The offline analyzer finds the decisive lines in CI output in general: the error a wrapper points at, the
failing command's own output, a tool's report layout (Maven, Gradle, pytest, linters, tracebacks in builds)."""

from __future__ import annotations

import pytest

from bot.core.heuristic_facts import is_wrapper_line
from bot.core.heuristics import analyze
from bot.core.types import Category, Excerpt, ExcerptLine


def lines(*texts: str, lead: tuple[int, int] | None = None) -> Excerpt:
    return Excerpt([ExcerptLine(i + 1, t) for i, t in enumerate(texts)], lead=lead)


def test_a_compilers_output_right_above_a_wrapper_is_the_failure():
    # Go's compiler names the problem without a failure word; `FAIL pkg [build failed]` and make only wrap it.
    ex = lines(
        "2024/03/02 10:14:07 INFO server: listening on server.go:88",
        "ok  \tgithub.com/acme/shop/cart\t0.412s",
        "# github.com/acme/shop/pricing [github.com/acme/shop/pricing.test]",
        "pricing/discount_test.go:14: undefined: applyCoupon",
        "pricing/discount_test.go:21: too many arguments in call to Total",
        "\thave (int, int)",
        "\twant (int)",
        "FAIL\tgithub.com/acme/shop/pricing [build failed]",
        "make: *** [test] Error 2",
        'The command "make test" exited with 2.',
        lead=(8, 10),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("pricing/discount_test.go:14: undefined: applyCoupon")
    assert answer.evidence[0].line == 4


def test_a_stack_frame_above_a_wrapper_is_not_the_failure():
    ex = lines(
        "panic: test timed out after 10m0s",
        "",
        "goroutine 7 [select]:",
        "\t/builds/acme/app/loop.go:143 +0x1f4",
        "FAIL\tgithub.com/acme/app\t600.412s",
        lead=(5, 5),
    )
    assert analyze(ex).summary.startswith("panic: test timed out after 10m0s")


def test_a_step_that_runs_after_the_failing_command_is_not_the_failure():
    # The coverage reporter and the upload fail because the tests did; the tests' error is the answer.
    ex = lines(
        "$ bundle exec rspec",
        "Failures:",
        "  1) Cart#total applies the coupon",
        "     Failure/Error: expect(cart.total).to eq(90)",
        "       expected: 90",
        "            got: 100",
        "     # ./spec/cart_spec.rb:12:in `block (2 levels) in <top (required)>'",
        "12 examples, 1 failure",
        'The command "bundle exec rspec" exited with 1.',
        "$ ./cc-test-reporter after-build --exit-code $TRAVIS_TEST_RESULT",
        "Error: will not run after-build due to previous exit code of 1",
        "ERROR: failed to upload: /home/ci/build/out/app.tar.gz",
        "Done. Your build exited with 1.",
        lead=(11, 13),
    )
    answer = analyze(ex)
    assert "Cart#total applies the coupon" in answer.summary and "after-build" not in answer.summary
    assert answer.evidence[0].line in (3, 4)
    assert "after-build" not in answer.root_cause and answer.category is Category.test


@pytest.mark.parametrize(
    "line", ["  Error: No tests found for anomaly", "Error: will not run after-build due to previous exit code of 1"]
)
def test_an_error_line_of_any_tool_is_not_said_to_be_terraforms(line):
    answer = analyze(lines("$ ./run_tests.sh", line, "Execution halted", lead=(2, 3)))
    assert "Terraform" not in answer.root_cause and answer.category is not Category.deploy


def test_mavens_advice_after_a_failed_goal_is_not_the_failure():
    ex = lines(
        "[ERROR] Failures: ",
        "[ERROR]   LedgerTest.balanceAfterRefund:57 expected: <90> but was: <100>",
        "[ERROR] Tests run: 41, Failures: 1, Errors: 0, Skipped: 0",
        "[INFO] BUILD FAILURE",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) on project ledger: There are test failures.",
        "[ERROR] ",
        "[ERROR] Please refer to /builds/ledger/target/surefire-reports for the individual test results.",
        "[ERROR] -> [Help 1]",
        "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
        "[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MojoFailureException",
        lead=(5, 10),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("LedgerTest.balanceAfterRefund:57 expected: <90> but was: <100>")
    assert "`maven-surefire-plugin:3.2.5:test (default-test)` failed" in answer.summary
    assert answer.evidence[0].line == 2


def test_pytest_states_the_failing_statement_with_its_error():
    ex = lines(
        "=================================== FAILURES ===================================",
        "_______________________________ test_refund_total _______________________________",
        "",
        "    def test_refund_total():",
        "        order = make_order(total=100)",
        ">       assert refund(order, percent=10).total == 90",
        "E       AssertionError: assert 100 == 90",
        "E        +  where 100 = Refund(total=100).total",
        "",
        "tests/test_refunds.py:14: AssertionError",
        lead=(1, 2),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("assert refund(order, percent=10).total == 90 — AssertionError: assert 100 == 90")
    assert answer.evidence[0].line == 6 and 7 in [e.line for e in answer.evidence]


def test_the_evidence_quotes_the_three_strongest_lines_and_never_more_than_five():
    ex = lines(
        "$ npm test",
        "src/cart.ts(48,17): error TS2322: Type 'string' is not assignable to type 'number'.",
        "src/cart.ts(61,3): error TS2554: Expected 2 arguments, but got 1.",
        "src/tax.ts(12,9): error TS2304: Cannot find name 'roundHalfEven'.",
        "Found 3 errors.",
        "npm ERR! code ELIFECYCLE",
        "npm ERR! errno 2",
        "error Command failed with exit code 2.",
        'The command "npm test" exited with 2.',
        lead=(2, 9),
    )
    answer = analyze(ex)
    quoted = [e.line for e in answer.evidence]
    assert quoted[0] == 2 and {3, 4} <= set(quoted) and len(quoted) <= 5


@pytest.mark.parametrize(
    ("problem", "is_failure"),
    [
        ("12:1\tExpected a trailing semicolon (declaration-block-trailing-semicolon)", True),
        ("  7:5  error  'total' is not defined  no-undef", True),
        ("3:9\twarning\tUnexpected unit (length-zero-no-unit)", False),
        ("10:14\tINFO listening on 8080", False),
    ],
)
def test_a_linters_plain_layout_is_stated_with_its_file(problem, is_failure):
    ex = lines(
        "$ npm run lint:css",
        "> stylelint 'src/**/*.css'",
        "",
        "src/cart.css",
        problem,
        "npm ERR! Test failed.  See above for more details.",
        lead=(5, 6),
    )
    summary = analyze(ex).summary
    assert summary.startswith(f"src/cart.css — {' '.join(problem.split())}") is is_failure


def test_a_gradle_task_that_failed_is_the_step_and_its_test_the_headline():
    ex = lines(
        "> Task :ledger:test FAILED",
        "",
        "LedgerTest > balanceAfterRefund() FAILED",
        "    org.opentest4j.AssertionFailedError at LedgerTest.java:57",
        "",
        "12 tests completed, 1 failed",
        "",
        "FAILURE: Build failed with an exception.",
        lead=(1, 8),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("LedgerTest > balanceAfterRefund() FAILED — org.opentest4j.AssertionFailedError")
    assert answer.summary.endswith("(`:ledger:test` failed)") and answer.evidence[0].line == 3


def test_the_job_and_step_names_of_a_github_actions_log_export_are_not_the_tools_words():
    stamp = "build\tunit tests\t2024-05-02T09:14:07.1234567Z "
    ex = lines(
        f"{stamp}> Task :ledger:test FAILED",
        f"{stamp}LedgerTest > balanceAfterRefund() FAILED",
        f"{stamp}    org.opentest4j.AssertionFailedError at LedgerTest.java:57",
        "build\tunit tests\t2024-05-02T09:14:07.1234599Z",
        f"{stamp}12 tests completed, 1 failed",
        lead=(1, 5),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("LedgerTest > balanceAfterRefund() FAILED — org.opentest4j.AssertionFailedError")
    assert "unit tests" not in answer.summary and 4 not in [e.line for e in answer.evidence]


def test_a_python_traceback_inside_a_docker_build_is_stated_by_its_exception():
    ex = lines(
        "#9 [build 4/4] RUN python manage.py migrate --check",
        "#9 0.912 Traceback (most recent call last):",
        '#9 0.913   File "/srv/app/manage.py", line 12, in <module>',
        "#9 0.913     main()",
        '#9 0.914   File "/srv/app/shop/settings.py", line 41, in <module>',
        '#9 0.914     DATABASES = {"default": env.db("DATABASE_URL")}',
        '#9 0.915   File "/usr/local/lib/python3.12/site-packages/environ/environ.py", line 391, in get_value',
        "#9 0.915     raise ImproperlyConfigured(error_msg) from exc",
        "#9 0.916 django.core.exceptions.ImproperlyConfigured: Set the DATABASE_URL environment variable",
        '#9 ERROR: process "/bin/sh -c python manage.py migrate --check" did not complete successfully: exit code: 1',
        lead=(2, 10),
    )
    answer = analyze(ex)
    assert answer.summary.startswith(
        "django.core.exceptions.ImproperlyConfigured: Set the DATABASE_URL environment variable — "
        'File "/srv/app/shop/settings.py", line 41'
    )


def test_the_headline_names_the_test_of_its_own_report_not_one_named_elsewhere():
    ex = lines(
        "FAILED tests/test_import.py::test_csv_header - flaky, retried and passed",
        *["tests/test_misc.py::test_noop PASSED"] * 60,
        "--- FAIL: TestLedgerBalance (0.00s)",
        "    ledger_test.go:57: balance = 100, want 90",
        "FAIL\tgithub.com/acme/ledger\t0.012s",
        lead=(62, 64),
    )
    answer = analyze(ex)
    assert answer.summary == "--- FAIL: TestLedgerBalance (0.00s) — ledger_test.go:57: balance = 100, want 90"


def test_the_diagnostics_right_above_the_exit_beat_a_warning_printed_before_them():
    ex = lines(
        "$ npm ci",
        "../src/binding.cc:26:15: warning: 'Call' is deprecated [-Wdeprecated-declarations]",
        "1 warning generated.",
        "added 1090 packages in 62.964s",
        "$ npm run lint",
        "src/cart.js:41 Replace `total·+·tax` with `(total·+·tax)` (prettier/prettier)",
        "src/cart.js:57 Insert `;` (prettier/prettier)",
        'The command "npm run lint',
        '" exited with 1.',
        lead=(9, 9),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("src/cart.js:41 Replace `total·+·tax`") and answer.evidence[0].line == 6


def test_jenkins_and_maven_summaries_point_at_the_failing_test():
    ex = lines(
        "Tests in error: ",
        '  parsesRefund(com.acme.ledger.RefundTest): java.io.IOException: Cannot run program "gradle"',
        "",
        "Tests run: 212, Failures: 0, Errors: 1, Skipped: 3",
        "[INFO] ------------------------------------------------------------------------",
        "[INFO] Reactor Summary:",
        "[INFO] Ledger - Core ....................................... FAILURE [09:06 min]",
        "[INFO] BUILD FAILURE",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.12.4:test (default-test) on project ledger: There are test failures.",
        "[ERROR] After correcting the problems, you can resume the build with the command",
        "[ERROR]   mvn <goals> -rf :ledger",
        "Build step 'Execute shell' marked build as failure",
        "Finished: FAILURE",
        lead=(7, 13),
    )
    answer = analyze(ex)
    assert answer.summary.startswith(
        'parsesRefund(com.acme.ledger.RefundTest): java.io.IOException: Cannot run program "gradle"'
    )
    assert answer.evidence[0].line == 2


def test_the_headline_keeps_one_stack_frame_not_the_caller_chain():
    ex = lines(
        "Error: Cannot find module './rates.json'",
        "    at Function.Module._resolveFilename (node:internal/modules/cjs/loader:1039:15)",
        "    at Object.<anonymous> (/builds/shop/src/tax.js:3:15)",
        "    at Module._compile (node:internal/modules/cjs/loader:1105:14)",
        "npm ERR! code ELIFECYCLE",
        lead=(1, 5),
    )
    summary = analyze(ex).summary
    assert summary.startswith(
        "Error: Cannot find module './rates.json' — at Object.<anonymous> (/builds/shop/src/tax.js:3:15)"
    )
    assert "Module._compile" not in summary


def test_a_commands_last_words_are_the_failure_when_it_printed_no_failure_word():
    # The shell's "not installed" notice names the missing program; the words "error messages" in an earlier
    # command's output (it exited 0) and a version string shaped like `x.y(1)` are not why this one failed.
    ex = lines(
        "Let the tool gather information to give useful error messages",
        "$ bash -c 'echo $BASH_VERSION'",
        "5.1.16(1)-release",
        "The command \"bash -c 'echo $BASH_VERSION'\" exited with 0.",
        "$ cargo build --release",
        "Command 'cargo' not found, but can be installed with:",
        "sudo apt install cargo",
        "",
        'The command "cargo build --release" exited with 127.',
        "",
        "Done. Your build exited with 1.",
        lead=(9, 11),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("Command 'cargo' not found, but can be installed with:")
    assert answer.evidence[0].line == 6


def test_an_exit_line_split_by_a_newline_in_the_command_still_wraps_the_error_above_it():
    # A multi-line command makes the runner print its exit line on two lines; the linter's problem above is the failure.
    ex = lines(
        "$ npm run lint && npm test",
        "src/cart/total.js:41 Replace `··return·x` with `return x` (prettier/prettier)",
        'The command "npm run lint && npm test',
        '" exited with 1.',
        lead=(4, 4),
    )
    assert analyze(ex).summary.startswith("src/cart/total.js:41 Replace")
    assert is_wrapper_line('The command "npm run lint && npm test') and is_wrapper_line('" exited with 1.')


def test_mochas_failure_report_under_its_tally_beats_the_progress_listing():
    # Mocha names a failing test twice: "1) title" in the listing, then the report under "1 failing" with the error.
    ex = lines(
        "  Invoice",
        "    ✓ formats the number",
        "    1) rounds the tax",
        "",
        "  1 passing (12ms)",
        "  1 failing",
        "",
        "  1) Invoice",
        "       rounds the tax:",
        "     AssertionError [ERR_ASSERTION]: 1.2 == 1.21",
        "      at Context.<anonymous> (test/invoice.spec.js:31:12)",
        "",
        "npm ERR! Test failed.  See above for more details.",
        lead=(1, 13),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("1) Invoice — rounds the tax: — AssertionError [ERR_ASSERTION]: 1.2 == 1.21")
    assert answer.evidence[0].line == 8


def test_a_short_sentence_is_the_statement_not_a_title_to_skip():
    # Karma/Jasmine print the expectation as a short sentence under the failing spec; only "Failures:" is a title.
    ex = lines(
        "HeadlessChrome 120.0.0 (Linux x86_64) Invoice rounds the tax FAILED",
        "\tExpected 120 to equal 121.",
        "\t    at UserContext.<anonymous> (src/invoice.spec.ts:31:24)",
        "HeadlessChrome 120.0.0 (Linux x86_64): Executed 40 of 40 (1 FAILED) (0.3 secs / 0.25 secs)",
        lead=(1, 4),
    )
    # The spec Karma names FAILED heads the statement (a test id), the expectation follows it.
    assert analyze(ex).summary.startswith("Invoice rounds the tax: Expected 120 to equal 121.")


def test_the_linkers_own_error_beats_the_drivers_exit_line():
    ex = lines(
        "g++ -o build/report build/main.o build/table.o",
        "/usr/bin/ld: build/main.o: in function `main':",
        "main.cpp:(.text+0x2c): undefined reference to `Table::render() const'",
        "collect2: error: ld returned 1 exit status",
        "make: *** [Makefile:14: build/report] Error 1",
        lead=(4, 5),
    )
    assert "undefined reference to `Table::render() const'" in analyze(ex).summary


def test_xcodebuilds_verdict_and_list_of_failed_commands_wrap_the_compilers_error():
    ex = lines(
        "▸ Compiling Ledger.swift",
        "❌  /Users/runner/work/Books/Sources/Ledger.swift:88:9: cannot find 'roundHalfEven' in scope",
        "        roundHalfEven(total)",
        "        ^~~~~~~~~~~~~",
        "** BUILD FAILED **",
        "",
        "The following build commands failed:",
        "\tCompileSwift normal arm64 /Users/runner/work/Books/Sources/Ledger.swift",
        "(1 failure)",
        lead=(5, 9),
    )
    answer = analyze(ex)
    assert "Ledger.swift:88:9: cannot find 'roundHalfEven' in scope" in answer.summary
    assert answer.evidence[0].line == 2


def test_a_traceback_under_a_unittest_header_is_stated_by_its_exception():
    ex = lines(
        "======================================================================",
        "FAIL: test_rounding (tests.test_invoice.InvoiceTest)",
        "----------------------------------------------------------------------",
        "Traceback (most recent call last):",
        '  File "/home/ci/src/books/tests/test_invoice.py", line 31, in test_rounding',
        "    self.assertEqual(invoice.tax(), Decimal('1.21'))",
        "AssertionError: Decimal('1.2') != Decimal('1.21')",
        "",
        "----------------------------------------------------------------------",
        "Ran 14 tests in 0.021s",
        "",
        "FAILED (failures=1)",
        lead=(2, 12),
    )
    summary = analyze(ex).summary
    assert summary.startswith(
        "FAIL: test_rounding (tests.test_invoice.InvoiceTest) — AssertionError: Decimal('1.2') != Decimal('1.21')"
    )


def test_the_line_naming_the_failing_test_is_quoted_with_the_headline():
    # The headline is prefixed with the test pytest names far above the report: the note quotes that line too.
    ex = lines(
        "tests/test_ledger.py::test_balance FAILED                                 [ 50%]",
        "tests/test_ledger.py::test_totals PASSED                                  [100%]",
        "",
        "=================================== FAILURES ===================================",
        "_________________________________ test_balance _________________________________",
        "",
        "    def test_balance():",
        ">       assert ledger.balance() == 1200",
        "E       AssertionError: assert 1250 == 1200",
        "E        +  where 1250 = balance()",
        "",
        "tests/test_ledger.py:42: AssertionError",
        "WARNING: the cache at /tmp/cache could not be written: permission denied",
        "ERROR: coverage upload failed: token missing",
        "Error: no coverage report found",
        "=========================== 1 failed, 1 passed in 0.12s ===========================",
        lead=(4, 16),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("tests/test_ledger.py::test_balance: assert ledger.balance() == 1200")
    assert [e.line for e in answer.evidence][:2] == [8, 1]


def test_the_reports_line_above_the_error_that_names_what_failed_leads_the_statement():
    # R CMD check names the failing test file, then prints the tail of its output with the error.
    ex = lines(
        "* checking tests ...",
        "  Running ‘testthat.R’",
        " ERROR",
        "Running the tests in ‘tests/testthat.R’ failed.",
        "Last 13 lines of output:",
        "  > library(testthat)",
        '  > test_check("ledger")',
        "  Loading required package: ledger",
        "  Error: No tests found for ledger",
        "  Execution halted",
        lead=(9, 10),
    )
    summary = analyze(ex).summary
    assert summary.startswith("Running the tests in ‘tests/testthat.R’ failed. — Error: No tests found for ledger")


def test_no_report_line_is_put_before_a_headline_that_names_its_test():
    ex = lines(
        "FAILED tests/test_tax.py::test_rounding - AssertionError: assert '1.2' == '1.21'",
        "E       AssertionError: assert '1.2' == '1.21'",
        lead=(2, 2),
    )
    assert analyze(ex).summary.startswith("tests/test_tax.py::test_rounding: AssertionError")


def test_googletests_assertion_is_the_failure_and_its_verdict_and_next_test_are_not():
    ex = lines(
        "[ RUN      ] Ledger.Balance",
        "/home/ci/src/books/tests/ledger_test.cpp:42: Failure",
        "Expected equality of these values:",
        "  ledger.balance()",
        "    Which is: 1250",
        "  1200",
        "[  FAILED  ] Ledger.Balance (0 ms)",
        "[ RUN      ] Ledger.Post",
        "[       OK ] Ledger.Post (0 ms)",
        "[==========] 9 tests from 2 test suites ran. (4 ms total)",
        "[  PASSED  ] 8 tests.",
        "[  FAILED  ] 1 test, listed below:",
        "[  FAILED  ] Ledger.Balance",
        lead=(7, 13),
    )
    summary = analyze(ex).summary
    # The test GoogleTest's verdict names FAILED heads the statement (a test id), the assertion follows it.
    assert summary.startswith(
        "Ledger.Balance: /home/ci/src/books/tests/ledger_test.cpp:42: Failure — Expected equality"
    )
    assert "Which is: 1250 — 1200" in summary and "Ledger.Post" not in summary


def test_mochas_report_right_under_a_lead_that_is_its_listing_is_the_failure():
    ex = lines(
        "  Payments API",
        "    ✓ lists payments (41ms)",
        "    1) refunds a payment",
        "",
        "",
        "  1 passing (2s)",
        "  1 failing",
        "",
        "  1) Payments API",
        "       refunds a payment:",
        '     Error: Timeout of 2000ms exceeded. For async tests and hooks, ensure "done()" is called.',
        lead=(1, 3),
    )
    assert analyze(ex).summary.startswith("1) Payments API — refunds a payment: — Error: Timeout of 2000ms exceeded.")


def test_a_python_error_without_its_tracebacks_header_is_placed_by_the_frame_above_it():
    ex = lines(
        "Listing 'books'...",
        '  File "books/ledger.py", line 42',
        "    return total *",
        "                  ^",
        "SyntaxError: invalid syntax",
        lead=(5, 5),
    )
    assert analyze(ex).summary.startswith('SyntaxError: invalid syntax — File "books/ledger.py", line 42')


def test_a_code_frame_is_left_out_of_the_statement_and_its_label_kept():
    # rustc shows the code with a gutter; the words after the carets say what is wrong with it.
    ex = lines(
        "error[E0308]: mismatched types",
        "  --> src/ledger.rs:31:9",
        "   |",
        "30 |     fn balance(&self) -> u32 {",
        "   |                          --- expected `u32` because of return type",
        "31 |         self.postings.iter().sum::<u64>()",
        "   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ expected `u32`, found `u64`",
        "",
        "error: could not compile `books` due to previous error",
        lead=(1, 9),
    )
    summary = analyze(ex).summary
    assert summary.startswith(
        "error[E0308]: mismatched types — --> src/ledger.rs:31:9 — expected `u32` because of return type — "
        "expected `u32`, found `u64`"
    )
    assert "fn balance" not in summary


def test_ginkgos_summary_of_failures_above_its_tally_names_the_failed_spec():
    ex = lines(
        "Summarizing 1 Failure:",
        "  [FAIL] Ledger when a posting is reversed [It] keeps the balance",
        "  /home/ci/src/books/ledger/ledger_test.go:88",
        "",
        "Ran 12 of 12 Specs in 3.104 seconds",
        "FAIL! -- 11 Passed | 1 Failed | 0 Pending | 0 Skipped",
        "--- FAIL: TestLedger (3.11s)",
        "FAIL",
        lead=(6, 8),
    )
    summary = analyze(ex).summary
    assert "[FAIL] Ledger when a posting is reversed [It] keeps the balance" in summary
    assert "ledger_test.go:88" in summary and "Ran 12 of 12" not in summary


def test_a_jest_tests_title_heads_its_diff_and_a_console_block_is_not_the_failure():
    # A passing test's logged error ("● Console") comes first; the failing test's diff holds no failure word.
    ex = lines(
        "  ● Console",
        "",
        "    console.error",
        "      Error: Request failed with status code 503",
        "",
        "FAIL src/ledger/balance.test.ts",
        "  ● ledger › balance after a reversal",
        "",
        "    expect(received).toEqual(expected) // deep equality",
        "",
        '    -   "balance": 1200,',
        '    +   "balance": 1250,',
        "",
        "      at Object.toEqual (src/ledger/balance.test.ts:31:19)",
        "",
        "Test Suites: 1 failed, 8 passed, 9 total",
        lead=(3, 16),
    )
    answer = analyze(ex)
    assert answer.summary.startswith("● ledger › balance after a reversal — expect(received).toEqual(expected)")
    assert answer.evidence[0].line == 7 and "Test Suites" not in answer.summary
