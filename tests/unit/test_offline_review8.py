"""The offline analyzer on probe 8 (branch analyzer8): hand-written failing CI log tails of tool families and
failure kinds the earlier rounds saw little of (Haskell's cabal and hspec, R's testthat, Erlang's rebar and Dialyzer,
Emacs Lisp's ERT, Perl's prove, Cucumber, doctest, pip's subprocess errors, CI time limits, a passing test's app
logs). Each asserts that the summary names the decisive token in the tool's own words and the evidence quotes its
line (test_offline_formats.py's `assert_specific`)."""

from __future__ import annotations

import pytest

from bot.core.types import Category
from tests.unit.test_offline_formats import SCORED_SUMMARY, assert_specific, offline_answer
from tests.unit.test_offline_formats2 import job
from tests.unit.test_offline_formats3 import travis
from tests.unit.test_offline_formats4 import actions


def multi(body: str) -> str:
    """A Travis CI log whose body holds several script commands, each with its echo and its exit line."""
    head = travis("X", "").split("$ X")[0].rsplit("travis_time:start:", 1)[0]
    return head + body.strip("\n") + "\n\nDone. Your build exited with 1.\n"


LOGS: dict[str, str] = {
    # Surefire 2.x's summary ("Failed tests:" then "  Class.method:line message") names the failing test
    "surefire_old": travis(
        "mvn test -B",
        r"""
-------------------------------------------------------
 T E S T S
-------------------------------------------------------
Running com.acme.money.ParserTest
Tests run: 4, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.06 sec <<< FAILURE!
testParsesDecimalComma(com.acme.money.ParserTest)  Time elapsed: 0.012 sec  <<< FAILURE!
java.lang.AssertionError: expected:<12.5> but was:<1250.0>
	at org.junit.Assert.fail(Assert.java:88)
	at com.acme.money.ParserTest.testParsesDecimalComma(ParserTest.java:27)

Running com.acme.money.FormatTest
Tests run: 6, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.01 sec

Results :

Failed tests:
  ParserTest.testParsesDecimalComma:27 expected:<12.5> but was:<1250.0>

Tests run: 10, Failures: 1, Errors: 0, Skipped: 0

[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[INFO] Total time: 12.107 s
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.18.1:test (default-test) on project money: There are test failures.
[ERROR]
[ERROR] Please refer to /home/travis/build/acme/money/target/surefire-reports for the individual test results.
""",
    ),
    # the go command's module error, its server's answer tab-indented under it
    "go_mod": actions(
        "go mod download",
        r"""
go: downloading github.com/stretchr/testify v1.8.4
go: github.com/acme/internal-lib@v0.4.2: reading https://proxy.golang.org/github.com/acme/internal-lib/@v/v0.4.2.mod: 410 Gone
	server response: not found: github.com/acme/internal-lib@v0.4.2: invalid version: unknown revision v0.4.2
""",
    ),
    # testthat before 2.0 under R CMD check: "1. Failure (at file#line): name" over the expectation's words
    "testthat_old": travis(
        "R CMD check money_0.1.0.tar.gz",
        r"""
* checking tests ...
  Running 'testthat.R' [3s/3s]
 ERROR
Running the tests in 'tests/testthat.R' failed.
Last 13 lines of output:

  > library(testthat)
  > test_check("money")
  1. Failure (at test-parse.R#14): parse_amount reads a decimal comma
  parse_amount("12,5") not equal to 12.5

  testthat results ================================================================
  OK: 11 SKIPPED: 0 FAILED: 1
  1. Failure (at test-parse.R#14): parse_amount reads a decimal comma

  Error: testthat unit tests failed
  Execution halted
* DONE

Status: 1 ERROR
""",
    ),
    # old pip's "Complete output from command python setup.py egg_info:" over the setup script's indented traceback
    "pip_old_egg": travis(
        "pip install -r requirements.txt",
        r"""
Collecting mysqlclient==1.3.12 (from -r requirements.txt (line 4))
  Downloading mysqlclient-1.3.12.tar.gz (89kB)
    Complete output from command python setup.py egg_info:
    /bin/sh: 1: mysql_config: not found
    Traceback (most recent call last):
      File "<string>", line 1, in <module>
      File "/tmp/pip-build-u8a9/mysqlclient/setup.py", line 17, in <module>
        metadata, options = get_config()
      File "/tmp/pip-build-u8a9/mysqlclient/setup_posix.py", line 44, in get_config
        libs = mysql_config("libs_r")
    EnvironmentError: mysql_config not found

    ----------------------------------------
Command "python setup.py egg_info" failed with error code 1 in /tmp/pip-build-u8a9/mysqlclient/
""",
    ),
    # pip's `error: subprocess-exited-with-error` inside a BuildKit step: the subprocess's own error under it
    "docker_build": job(
        "docker:24",
        r"""
$ docker build -t registry.example.com/acme/api:$CI_COMMIT_SHA .
#5 [build 2/6] COPY requirements.txt .
#5 DONE 0.1s
#6 [build 3/6] RUN pip install --no-cache-dir -r requirements.txt
#6 1.912 Collecting psycopg2==2.9.9
#6 2.441   error: subprocess-exited-with-error
#6 2.446   × python setup.py egg_info did not run successfully.
#6 2.447   │ exit code: 1
#6 2.448   ╰─> [23 lines of output]
#6 2.449       Error: pg_config executable not found.
#6 2.450
#6 2.451       pg_config is required to build psycopg2 from source.
#6 ERROR: process "/bin/sh -c pip install --no-cache-dir -r requirements.txt" did not complete successfully: exit code: 1
------
 > [build 3/6] RUN pip install --no-cache-dir -r requirements.txt:
------
ERROR: failed to solve: process "/bin/sh -c pip install --no-cache-dir -r requirements.txt" did not complete successfully: exit code: 1
""",
    ),
    # cabal's `Error: cabal: Tests failed for` and `Test suite x: FAIL` over hspec's report
    "cabal_test": actions(
        "cabal test all",
        r"""
Build profile: -w ghc-9.4.7 -O1
Running 1 test suites...
Test suite money-test: RUNNING...

Money.Parse
  parses a decimal comma FAIL
    test/ParseSpec.hs:14:
    expected: 12.5
     but got: 1250.0
  rejects garbage:     OK

1 out of 2 tests failed (0.00s)
Test suite money-test: FAIL
Test suite logged to:
/home/runner/work/money/money/dist-newstyle/build/x86_64-linux/ghc-9.4.7/money-0.1/t/money-test/test/money-0.1-money-test.log
0 of 1 test suites (0 of 1 test cases) passed.
Error: cabal: Tests failed for test:money-test from money-0.1.
""",
    ),
    # testthat's `── 1. Failure (file:line): name ──` heads its report; `Error: Test failures` is its verdict
    "r_cmd_check": travis(
        "R CMD check --as-cran money_0.2.0.tar.gz",
        r"""
* checking for file 'money/DESCRIPTION' ... OK
* this is package 'money' version '0.2.0'
* checking examples ... OK
* checking tests ...
  Running 'testthat.R'
 ERROR
Running the tests in 'tests/testthat.R' failed.
Last 13 lines of output:
  ── 1. Failure (test-parse.R:12:3): parses a decimal comma ──────────────────────
  parse_amount("12,5") not equal to 12.5.
  1/1 mismatches
  [1] 1250 - 12.5 == 1238

  [ FAIL 1 | WARN 0 | SKIP 0 | PASS 21 ]
  Error: Test failures
  Execution halted
* checking PDF version of manual ... OK
* DONE

Status: 1 ERROR
See
  '/home/travis/build/acme/money/money.Rcheck/00check.log'
for details.
""",
    ),
    # pytest's collection error: its short traceback frames are left out, the E line is stated
    "pytest_import": job(
        "python:3.12",
        r"""
$ pip install -r requirements.txt
Successfully installed attrs-23.1.0 pytest-7.4.3
$ pytest
============================= test session starts ==============================
platform linux -- Python 3.12.0, pytest-7.4.3, pluggy-1.3.0
rootdir: /builds/acme/shop
collected 12 items / 1 error

==================================== ERRORS ====================================
___________________ ERROR collecting tests/test_billing.py ____________________
ImportError while importing test module '/builds/acme/shop/tests/test_billing.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/local/lib/python3.12/importlib/__init__.py:90: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_billing.py:3: in <module>
    from shop.billing import invoice_total
E   ModuleNotFoundError: No module named 'stripe'
=========================== short test summary info ============================
ERROR tests/test_billing.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.31s ===============================
""",
    ),
    # dash's `sh: 1: x: not found` over npm's record of the spawn (`npm ERR! syscall spawn`)
    "sh_notfound": travis(
        "npm run build",
        r"""
> site@1.0.0 build /home/travis/build/acme/site
> webpack --mode production

sh: 1: webpack: not found
npm ERR! code ELIFECYCLE
npm ERR! syscall spawn
npm ERR! file sh
npm ERR! errno ENOENT
npm ERR! site@1.0.0 build: `webpack --mode production`
npm ERR! spawn ENOENT
npm ERR!
npm ERR! Failed at the site@1.0.0 build script.
""",
    ),
    # prove's `Dubious, test returned 2` points to the test file's die message, not Perl's `BEGIN failed--` under it
    "perl_inc": travis(
        "prove -lv t",
        r"""
t/00-load.t ..
Can't locate JSON/XS.pm in @INC (you may need to install the JSON::XS module) (@INC contains: lib /home/travis/perl5/lib/perl5 /etc/perl) at lib/Acme/Money.pm line 5.
BEGIN failed--compilation aborted at lib/Acme/Money.pm line 5.
Compilation failed in require at t/00-load.t line 3.
# Looks like your test exited with 2 before it could output anything.
t/00-load.t .. Dubious, test returned 2 (wstat 512, 0x200)
Failed 1/1 subtests

Test Summary Report
-------------------
t/00-load.t (Wstat: 512 Tests: 0 Failed: 0)
  Non-zero exit status: 2
  Parse errors: Bad plan.  You planned 1 tests but ran 0.
Files=1, Tests=0,  0 wallclock secs
Result: FAIL
""",
    ),
    # Cucumber prints the message above `(RSpec::Expectations::ExpectationNotMetError)`
    "cucumber": travis(
        "bundle exec cucumber",
        r"""
Feature: Checkout

  Scenario: Apply a coupon                     # features/checkout.feature:5
    Given a cart with one item of 100          # features/step_definitions/cart_steps.rb:1
    When I apply the coupon "SAVE10"           # features/step_definitions/cart_steps.rb:5
    Then the total is 90                       # features/step_definitions/cart_steps.rb:9
      expected: 90
           got: 100

      (compared using ==)
       (RSpec::Expectations::ExpectationNotMetError)
      ./features/step_definitions/cart_steps.rb:10:in `/^the total is (\d+)$/'
      features/checkout.feature:8:in `Then the total is 90'

Failing Scenarios:
cucumber features/checkout.feature:5 # Scenario: Apply a coupon

4 scenarios (1 failed, 3 passed)
15 steps (1 failed, 14 passed)
0m0.412s
""",
    ),
    # a check that only lists the files it failed on (`gofmt -l`)
    "gofmt": multi(
        r"""
$ test -z "$(gofmt -l .)" || (gofmt -l . && exit 1)
internal/cart/cart.go
The command "test -z "$(gofmt -l .)" || (gofmt -l . && exit 1)" exited with 1.
""",
    ),
    # rebar's `ERROR: One or more eunit tests failed.` over EUnit's report
    "rebar2_eunit": travis(
        "./rebar eunit",
        r"""
==> money (eunit)
Compiled src/money.erl
  module 'money_tests'
    money_tests: parse_test...*failed*
in function money_tests:'-parse_test/0-fun-0-'/0 (test/money_tests.erl, line 9)
**error:{assertEqual,[{module,money_tests},
              {line,9},
              {expression,"money : parse ( << \"12,5\" >> )"},
              {expected,12.5},
              {value,1250.0}]}


=======================================================
  Failed: 1.  Skipped: 0.  Passed: 11.
ERROR: One or more eunit tests failed.
ERROR: eunit failed while processing /home/travis/build/acme/money: rebar_abort
""",
    ),
    # ERT's `FAILED  6/12  name` points to the test's `Test name condition:` report
    "ert": travis(
        "cask exec ert-runner",
        r"""
Loading /home/travis/build/acme/money.el/money.el (source)...
.....F......

Test money-parse-comma backtrace:
  signal(ert-test-failed (((should (equal (money-parse "12,5") 12.5)) :form (equal 1250 12.5) :value nil)))
  ert-fail(((should (equal (money-parse "12,5") 12.5)) :form (equal 1250 12.5) :value nil))
Test money-parse-comma condition:
    (ert-test-failed
     ((should
       (equal
        (money-parse "12,5")
        12.5))
      :form
      (equal 1250 12.5)
      :value nil))
   FAILED  6/12  money-parse-comma

Ran 12 tests, 11 results as expected, 1 unexpected (2019-05-04 10:11:12+0000)

1 unexpected results:
   FAILED  money-parse-comma

""",
    ),
    # hspec's `Failures:` title under a progress listing (`parses a decimal comma FAILED [1]`)
    "hspec": travis(
        "stack --no-terminal test",
        r"""
money-0.1.0.0: test (suite: money-test)

Money.Parse
  parseAmount
    parses integers
    parses a decimal comma FAILED [1]

Failures:

  test/Money/ParseSpec.hs:14:5:
  1) Money.Parse.parseAmount parses a decimal comma
       expected: 12.5
        but got: 1250.0

Randomized with seed 1234567

Finished in 0.0012 seconds
2 examples, 1 failure

money-0.1.0.0: Test suite money-test failed
Completed 2 action(s).
Test suite failure for package money-0.1.0.0
    money-test:  exited with: ExitFailure 1
Logs printed to console
""",
    ),
    # doctest's `File x, line n` over its `Failed example:`
    "doctest": travis(
        "python -m doctest -v money/parse.py",
        r"""
Trying:
    parse('12')
Expecting:
    12.0
ok
**********************************************************************
File "money/parse.py", line 14, in parse.parse
Failed example:
    parse('12,5')
Expected:
    12.5
Got:
    1250.0
**********************************************************************
1 items had failures:
   1 of   2 in parse.parse
***Test Failed*** 1 failures.
""",
    ),
    # Dialyzer's findings under the file they are in, no failure word anywhere
    "dialyzer": travis(
        "rebar3 dialyzer",
        r"""
===> Verifying dependencies...
===> Dialyzer starting, this may take a while...
===> Doing success typing analysis...
===> Resolving files...
===> Analyzing 14 files with "/home/travis/build/acme/money/_build/default/rebar3_21.3_plt"...

src/money.erl
  22: Function parse/1 has no local return
  24: The call money:to_float(Text::binary()) will never return since it differs in the 1st argument from the success typing arguments: (string())
===> Warnings occurred running dialyzer: 2
""",
    ),
    # an app's `[ERROR]` log in a test that passed (`--- PASS:` under it) is not the failure
    "trap_applog": travis(
        "go test -v ./...",
        r"""
=== RUN   TestServerStarts
2019/05/04 10:11:12 [ERROR] could not connect to redis at localhost:6379: connection refused, retrying
2019/05/04 10:11:13 server listening on :8080
--- PASS: TestServerStarts (1.02s)
=== RUN   TestCheckout
time="2019-05-04T10:11:14Z" level=error msg="payment provider timeout" order=42
--- PASS: TestCheckout (0.31s)
=== RUN   TestRefund
--- FAIL: TestRefund (0.00s)
    refund_test.go:33: expected status 200, got 500
FAIL
FAIL	github.com/acme/shop	1.412s
""",
    ),
    # Jest's `● Console` of a passing file and old Jest's `Expected value to equal:` under the test's title
    "trap_jest_console": travis(
        "npm test",
        r"""
> web@1.0.0 test /home/travis/build/acme/web
> jest

PASS src/api.test.js
  ● Console

    console.error src/api.js:12
      Error: Network request failed
          at fetchJson (src/api.js:10:11)

FAIL src/cart.test.js
  ● Cart › applies the coupon

    expect(received).toEqual(expected)

    Expected value to equal:
      90
    Received:
      100

      at Object.<anonymous> (src/cart.test.js:14:28)

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 9 passed, 10 total
npm ERR! Test failed.  See above for more details.
""",
    ),
    # the evidence quotes the expected and actual values under the test's title
    "npm_jest": travis(
        "npm test",
        r"""
> shop@1.2.0 test /home/travis/build/acme/shop
> jest --ci

PASS src/money.test.js
FAIL src/cart.test.js
  ● Cart › total › applies the coupon

    expect(received).toBe(expected) // Object.is equality

    Expected: 90
    Received: 100

      25 |     cart.apply('SAVE10');
    > 26 |     expect(cart.total()).toBe(90);
         |                          ^

      at Object.<anonymous> (src/cart.test.js:26:26)

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 17 passed, 18 total
Snapshots:   0 total
Time:        2.114s
npm ERR! Test failed.  See above for more details.
""",
    ),
    # the evidence quotes RSpec's expected and got under the failure
    "trap_after_failure": multi(
        r"""
$ bundle exec rspec
Randomized with seed 1234
.....F

Failures:

  1) Order#ship sends the confirmation mail
     Failure/Error: expect(ActionMailer::Base.deliveries.size).to eq(1)

       expected: 1
            got: 0

       (compared using ==)
     # ./spec/models/order_spec.rb:41:in `block (2 levels) in <top (required)>'

Finished in 3.12 seconds (files took 4.1 seconds to load)
6 examples, 1 failure

Failed examples:

rspec ./spec/models/order_spec.rb:38 # Order#ship sends the confirmation mail

The command "bundle exec rspec" exited with 1.
$ cat log/test.log | tail -5
  Order Load (0.4ms)  SELECT "orders".* FROM "orders" WHERE "orders"."id" = $1 LIMIT $2
ActiveRecord::RecordNotFound (Couldn't find Order with 'id'=999)
  Rendered errors/not_found.html.erb (0.8ms)
Completed 404 Not Found in 12ms (ActiveRecord: 0.4ms)
  Rendered layouts/mailer.text.erb (0.3ms)
The command "cat log/test.log | tail -5" exited with 0.
""",
    ),
}

CASES: list[tuple[str, list[str], str, Category | None]] = [
    ("surefire_old", ["ParserTest.testParsesDecimalComma:27"], "  ParserTest.testParsesDecimalComma:27", Category.test),
    (
        "go_mod",
        ["github.com/acme/internal-lib@v0.4.2: reading", "410 Gone"],
        "go: github.com/acme/internal-lib@v0.4.2",
        None,
    ),
    (
        "testthat_old",
        ["test-parse.R#14", 'parse_amount("12,5") not equal to 12.5'],
        "1. Failure (at test-parse.R#14)",
        Category.test,
    ),
    ("pip_old_egg", ["EnvironmentError: mysql_config not found"], "EnvironmentError: mysql_config not found", None),
    ("docker_build", ["pg_config executable not found"], "Error: pg_config executable not found.", None),
    ("cabal_test", ["test/ParseSpec.hs:14", "expected: 12.5"], "test/ParseSpec.hs:14:", Category.test),
    (
        "r_cmd_check",
        ["test-parse.R:12:3", 'parse_amount("12,5") not equal to 12.5.'],
        "Failure (test-parse.R:12:3)",
        Category.test,
    ),
    (
        "pytest_import",
        ["ModuleNotFoundError: No module named 'stripe'"],
        "E   ModuleNotFoundError: No module named 'stripe'",
        Category.dependency,
    ),
    ("sh_notfound", ["webpack: not found"], "sh: 1: webpack: not found", None),
    ("perl_inc", ["Can't locate JSON/XS.pm in @INC"], "Can't locate JSON/XS.pm in @INC", None),
    ("cucumber", ["expected: 90", "got: 100"], "expected: 90", Category.test),
    ("gofmt", ["internal/cart/cart.go"], "internal/cart/cart.go", None),
    ("rebar2_eunit", ["money_tests: parse_test...*failed*"], "money_tests: parse_test...*failed*", Category.test),
    ("ert", ["Test money-parse-comma condition:"], "Test money-parse-comma condition:", Category.test),
    (
        "hspec",
        ["test/Money/ParseSpec.hs:14:5", "expected: 12.5"],
        "1) Money.Parse.parseAmount parses a decimal comma",
        Category.test,
    ),
    (
        "doctest",
        ['File "money/parse.py", line 14', "1250.0"],
        'File "money/parse.py", line 14, in parse.parse',
        Category.test,
    ),
    ("dialyzer", ["22: Function parse/1 has no local return"], "22: Function parse/1 has no local return", None),
    (
        "trap_applog",
        ["refund_test.go:33: expected status 200, got 500"],
        "refund_test.go:33: expected status 200, got 500",
        Category.test,
    ),
    (
        "trap_jest_console",
        ["Cart › applies the coupon", "toEqual"],
        "expect(received).toEqual(expected)",
        Category.test,
    ),
    ("npm_jest", ["Cart › total › applies the coupon", "Expected: 90"], "Expected: 90", Category.test),
    ("trap_after_failure", ["Order#ship sends the confirmation mail", "expected: 1"], "expected: 1", Category.test),
]


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_failure_and_the_evidence_quotes_it(name, tokens, quoted, category):
    assert_specific(name, offline_answer(LOGS[name]), tokens, quoted, category)


def test_a_submodule_python_cannot_import_is_not_a_package_to_install():
    # `shop.coupons`: the package imports, its module does not; the project's layout, not a missing dependency.
    log = job(
        "python:3.12",
        r"""
$ pytest
==================================== ERRORS ====================================
___________________ ERROR collecting tests/test_cart.py ____________________
ImportError while importing test module '/builds/acme/shop/tests/test_cart.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/local/lib/python3.12/importlib/__init__.py:90: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_cart.py:3: in <module>
    from shop.coupons import apply_coupon
E   ModuleNotFoundError: No module named 'shop.coupons'
=========================== short test summary info ============================
ERROR tests/test_cart.py
""",
    )
    answer = offline_answer(log)
    assert "No module named 'shop.coupons'" in answer.summary[:SCORED_SUMMARY], answer.summary
    assert answer.category is not Category.dependency
