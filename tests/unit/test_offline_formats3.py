"""The offline analyzer on a third set of tool output formats (test_offline_formats.py's method, other tools): hand-
written tails of Travis CI and GitLab CI logs, the CI's framing around a tool's own report, each asserting that the
summary names the decisive token in the tool's own words and that the evidence quotes the line that says it."""

from __future__ import annotations

import pytest

from bot.core.types import Category
from tests.unit.test_offline_formats import SCORED_SUMMARY, assert_specific, offline_answer
from tests.unit.test_offline_formats2 import job

TIMER = "travis_time:end:2f1e0a7c:start=1561111111111111111,finish=1561111172222222222,duration=61111111111"


def travis(command: str, body: str, code: int = 1, language: str = "ruby") -> str:
    """A Travis CI log around one script command: the worker's header, folded set-up, the timed command with its
    output, the command's verdict in colour over the timer's end (one raw line, redrawn), and the build's verdict."""
    return (
        "travis_fold:start:worker_info\r\x1b[0K\x1b[33;1mWorker information\x1b[0m\n"
        "hostname: 6b2f0a1c-3d4e-4f5a-8b9c-0d1e2f3a4b5c@1.worker-com-5d8f7c9b6-x2x4q.gce-production-2\n"
        "version: v6.2.1 https://github.com/travis-ci/worker/tree/4e3b5f8b1c2d\n"
        "instance: travis-job-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b travis-ci-sardonyx-xenial-1553530528-f909ac5 (via amqp)\n"
        "startup: 6.474047759s\n"
        "travis_fold:end:worker_info\r\x1b[0K"
        "travis_time:start:0a1b2c3d\r\x1b[0Ktravis_time:end:0a1b2c3d:start=1,finish=2,duration=1\r\x1b[0K"
        "travis_fold:start:system_info\r\x1b[0K\x1b[33;1mBuild system information\x1b[0m\n"
        f"Build language: {language}\n"
        "Build dist: xenial\n"
        "travis_fold:end:system_info\r\x1b[0K\n"
        "travis_fold:start:git.checkout\r\x1b[0Ktravis_time:start:1b2c3d4e\r\x1b[0K"
        "$ git clone --depth=50 --branch=master https://github.com/acme/money.git acme/money\n"
        "Cloning into 'acme/money'...\n"
        "travis_time:end:1b2c3d4e:start=1,finish=2,duration=1\r\x1b[0Ktravis_fold:end:git.checkout\r\x1b[0K"
        "$ cd acme/money\n"
        "$ git checkout -qf 5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d\n"
        f"travis_time:start:2f1e0a7c\r\x1b[0K$ {command}\n"
        f"{body.strip(chr(10))}\n"
        f'{TIMER}\r\x1b[0K\x1b[31;1mThe command "{command}" exited with {code}.\x1b[0m\n'
        "\n"
        "\n"
        "Done. Your build exited with 1.\n"
    )


LOGS: dict[str, str] = {
    "prove": travis(
        "prove -lr t",
        r"""
t/00-load.t ........ ok
t/01-parse.t ....... 1/?
#   Failed test 'parses a decimal comma'
#   at t/01-parse.t line 14.
#          got: '1250'
#     expected: '12.5'
# Looks like you failed 1 test of 6.
t/01-parse.t ....... Dubious, test returned 1 (wstat 256, 0x100)
Failed 1/6 subtests
t/02-format.t ...... ok
t/03-cart.t ........ ok

Test Summary Report
-------------------
t/01-parse.t     (Wstat: 256 Tests: 6 Failed: 1)
  Failed test:  4
  Non-zero exit status: 1
Files=4, Tests=21,  1 wallclock secs ( 0.03 usr  0.01 sys +  0.31 cusr  0.04 csys =  0.39 CPU)
Result: FAIL
""",
        language="perl",
    ),
    "hspec": travis(
        "stack --no-terminal test",
        r"""
money> test (suite: money-test)

Money.Parse
  parse
    parses an integer [✔]
    parses a decimal comma [✘]
Money.Format
  format
    formats cents [✔]

Failures:

  test/Money/ParseSpec.hs:14:31:
  1) Money.Parse.parse parses a decimal comma
       expected: 12.5
        but got: 1250.0

  To rerun use: --match "/Money.Parse/parse/parses a decimal comma/"

Randomized with seed 1424706219

Finished in 0.0021 seconds
3 examples, 1 failure

money> Test suite money-test failed
Test suite failure for package money-0.1.0.0
    money-test:  exited with: ExitFailure 1
Logs printed to console
""",
        language="haskell",
    ),
    "bundler_pubgrub": travis(
        "bundle install --jobs=3 --retry=3 --deployment",
        r"""
Fetching gem metadata from https://rubygems.org/..........
Fetching gem metadata from https://rubygems.org/.
Resolving dependencies...
Could not find compatible versions

Because every version of money-rails depends on activesupport >= 6.1, < 7.1
  and rails >= 7.1.2 depends on activesupport = 7.1.2,
  every version of money-rails is incompatible with rails >= 7.1.2.
So, because Gemfile depends on rails ~> 7.1.2
  and Gemfile depends on money-rails >= 0,
  version solving has failed.
""",
        code=6,
    ),
    "unittest": job(
        "python:3.12-slim",
        r"""
$ pip install -e .
Successfully installed money-0.4.0
$ python -m unittest discover -s tests -v
test_formats_cents (test_format.FormatTests.test_formats_cents) ... ok
test_parses_decimal_comma (test_parse.ParseTests.test_parses_decimal_comma) ... FAIL
test_parses_integer (test_parse.ParseTests.test_parses_integer) ... ok

======================================================================
FAIL: test_parses_decimal_comma (test_parse.ParseTests.test_parses_decimal_comma)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/builds/acme/money/tests/test_parse.py", line 14, in test_parses_decimal_comma
    self.assertEqual(parse("12,50"), 12.5)
AssertionError: 1250.0 != 12.5

----------------------------------------------------------------------
Ran 3 tests in 0.002s

FAILED (failures=1)
""",
    ),
    "nose": travis(
        "nosetests -v tests",
        r"""
tests.test_format.test_cents ... ok
tests.test_parse.test_integer ... ok
tests.test_parse.test_decimal_comma ... FAIL

======================================================================
FAIL: tests.test_parse.test_decimal_comma
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/home/travis/virtualenv/python2.7.15/lib/python2.7/site-packages/nose/case.py", line 197, in runTest
    self.test(*self.arg)
  File "/home/travis/build/acme/money/tests/test_parse.py", line 14, in test_decimal_comma
    assert_equal(parse("12,50"), 12.5)
AssertionError: 1250.0 != 12.5
-------------------- >> begin captured logging << --------------------
money.parse: DEBUG: parsing '12,50'
--------------------- >> end captured logging << ---------------------

----------------------------------------------------------------------
Ran 3 tests in 0.004s

FAILED (failures=1)
""",
        language="python",
    ),
    "gtest": job(
        "gcc:13",
        r"""
$ cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug && cmake --build build -j2
[100%] Built target money_test
$ ./build/money_test
Running main() from /builds/acme/money/build/_deps/googletest-src/googletest/src/gtest_main.cc
[==========] Running 3 tests from 1 test suite.
[----------] Global test environment set-up.
[----------] 3 tests from MoneyTest
[ RUN      ] MoneyTest.ParsesInteger
[       OK ] MoneyTest.ParsesInteger (0 ms)
[ RUN      ] MoneyTest.ParsesDecimalComma
/builds/acme/money/test/money_test.cc:27: Failure
Expected equality of these values:
  parse("12,50")
    Which is: 1250
  12.5
[  FAILED  ] MoneyTest.ParsesDecimalComma (0 ms)
[ RUN      ] MoneyTest.FormatsCents
[       OK ] MoneyTest.FormatsCents (0 ms)
[----------] 3 tests from MoneyTest (0 ms total)

[----------] Global test environment tear-down
[==========] 3 tests from 1 test suite ran. (0 ms total)
[  PASSED  ] 2 tests.
[  FAILED  ] 1 test, listed below:
[  FAILED  ] MoneyTest.ParsesDecimalComma

 1 FAILED TEST
""",
    ),
    "boost_test": travis(
        "./build/test/money_tests --log_level=test_suite",
        r"""
Running 4 test cases...
Entering test module "MoneyTests"
/home/travis/build/acme/money/test/parse_test.cpp(12): Entering test suite "parse_suite"
/home/travis/build/acme/money/test/parse_test.cpp(14): Entering test case "parses_integer"
/home/travis/build/acme/money/test/parse_test.cpp(14): Leaving test case "parses_integer"; testing time: 41us
/home/travis/build/acme/money/test/parse_test.cpp(20): Entering test case "parses_decimal_comma"
/home/travis/build/acme/money/test/parse_test.cpp(22): error: in "parse_suite/parses_decimal_comma": check parse("12,50") == 12.5 has failed [1250 != 12.5]
/home/travis/build/acme/money/test/parse_test.cpp(20): Leaving test case "parses_decimal_comma"; testing time: 63us
/home/travis/build/acme/money/test/parse_test.cpp(12): Leaving test suite "parse_suite"
Leaving test module "MoneyTests"

*** 1 failure is detected in the test module "MoneyTests"
""",
        language="cpp",
    ),
    "ld_undefined": job(
        "gcc:13",
        r"""
$ cmake --build build -j2
[ 20%] Building CXX object CMakeFiles/money.dir/src/parse.cpp.o
[ 40%] Building CXX object CMakeFiles/money.dir/src/format.cpp.o
[ 60%] Linking CXX static library libmoney.a
[ 60%] Built target money
[ 80%] Building CXX object CMakeFiles/money_cli.dir/src/main.cpp.o
[100%] Linking CXX executable money_cli
/usr/bin/ld: CMakeFiles/money_cli.dir/src/main.cpp.o: in function `main':
main.cpp:(.text+0x3e): undefined reference to `money::round_cents(double)'
collect2: error: ld returned 1 exit status
gmake[2]: *** [CMakeFiles/money_cli.dir/build.make:98: money_cli] Error 1
gmake[1]: *** [CMakeFiles/Makefile2:111: CMakeFiles/money_cli.dir/all] Error 2
gmake: *** [Makefile:91: all] Error 2
""",
        code=2,
    ),
    "configure": travis(
        "./autogen.sh && ./configure --enable-werror",
        r"""
autoreconf: Entering directory `.'
autoreconf: configure.ac: tracing
autoreconf: Leaving directory `.'
checking for a BSD-compatible install... /usr/bin/install -c
checking whether build environment is sane... yes
checking for gcc... gcc
checking whether the C compiler works... yes
checking for C compiler default output file name... a.out
checking for pkg-config... /usr/bin/pkg-config
checking pkg-config is at least version 0.9.0... yes
checking for LIBCURL... no
configure: error: Package requirements (libcurl >= 7.58) were not met:

No package 'libcurl' found

Consider adjusting the PKG_CONFIG_PATH environment variable if you
installed software in a non-standard prefix.

Alternatively, you may set the environment variables LIBCURL_CFLAGS
and LIBCURL_LIBS to avoid the need to call pkg-config.
See the pkg-config man page for more details.
""",
        language="c",
    ),
    "cmake_config": job(
        "gcc:13",
        r"""
$ cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
-- The CXX compiler identification is GNU 13.2.0
-- Detecting CXX compiler ABI info
-- Detecting CXX compiler ABI info - done
-- Check for working CXX compiler: /usr/local/bin/c++ - skipped
-- Detecting CXX compile features
-- Detecting CXX compile features - done
CMake Error at CMakeLists.txt:12 (find_package):
  By not providing "Findfmt.cmake" in CMAKE_MODULE_PATH this project has
  asked CMake to find a package configuration file provided by "fmt", but
  CMake did not find one.

  Could not find a package configuration file provided by "fmt" with any of
  the following names:

    fmtConfig.cmake
    fmt-config.cmake

  Add the installation prefix of "fmt" to CMAKE_PREFIX_PATH or set "fmt_DIR"
  to a directory containing one of the above files.  If "fmt" provides a
  separate development package or SDK, be sure it has been installed.


-- Configuring incomplete, errors occurred!
""",
    ),
    "karma": travis(
        "npm test -- --watch=false --browsers=ChromeHeadless",
        """

> shop-web@1.4.0 test /home/travis/build/acme/shop-web
> ng test "--watch=false" "--browsers=ChromeHeadless"

10% building 2/2 modules 0 active
21 06 2019 10:12:41.123:INFO [karma]: Karma v4.1.0 server started at http://0.0.0.0:9876/
21 06 2019 10:12:41.125:INFO [launcher]: Launching browsers ChromeHeadless with concurrency unlimited
21 06 2019 10:12:41.131:INFO [launcher]: Starting browser ChromeHeadless
21 06 2019 10:12:43.512:INFO [HeadlessChrome 75.0.3770 (Linux 0.0.0)]: Connected on socket aBcD1234 with id 61518237
HeadlessChrome 75.0.3770 (Linux 0.0.0) CartComponent should show the discounted total FAILED
\tExpected '100.00' to equal '90.00'.
\t    at <Jasmine>
\t    at UserContext.<anonymous> (src/app/cart/cart.component.spec.ts:41:32)
\t    at ZoneDelegate.invoke (node_modules/zone.js/dist/zone-evergreen.js:359:1)
\t    at ProxyZoneSpec.push../node_modules/zone.js/dist/zone-testing.js.ProxyZoneSpec.onInvoke (node_modules/zone.js/dist/zone-testing.js:308:1)
HeadlessChrome 75.0.3770 (Linux 0.0.0): Executed 12 of 12 (1 FAILED) (0.312 secs / 0.254 secs)
TOTAL: 1 FAILED, 11 SUCCESS
npm ERR! Test failed.  See above for more details.
""",
        language="node_js",
    ),
    "tape": travis(
        "npm test",
        r"""

> money@1.0.0 test /home/travis/build/acme/money
> tape test/*.js

TAP version 13
# parse
ok 1 parses an integer
not ok 2 parses a decimal comma
  ---
    operator: equal
    expected: 12.5
    actual:   1250
    at: Test.<anonymous> (/home/travis/build/acme/money/test/parse.js:14:5)
  ...
# format
ok 3 formats cents

1..3
# tests 3
# pass  2
# fail  1

npm ERR! Test failed.  See above for more details.
""",
        language="node_js",
    ),
    "bats": job(
        "bats/bats:1.10.0",
        r"""
$ bats --tap test
1..3
ok 1 prints the version
not ok 2 install creates the config file
# (in test file test/install.bats, line 14)
#   `[ -f "$HOME/.moneyrc" ]' failed
ok 3 uninstall removes the config file
""",
    ),
    "exunit": job(
        "elixir:1.15",
        r"""
$ mix test
Compiling 12 files (.ex)
Generated money app
....

  1) test parse/1 parses a decimal comma (Money.ParserTest)
     test/money/parser_test.exs:14
     Assertion with == failed
     code:  assert Parser.parse("12,50") == 12.5
     left:  1250.0
     right: 12.5
     stacktrace:
       test/money/parser_test.exs:15: (test)

.....
Finished in 0.08 seconds (0.05s async, 0.03s sync)
10 tests, 1 failure

Randomized with seed 412345
""",
        code=2,
    ),
    "rebar3_eunit": travis(
        "rebar3 eunit",
        r"""
===> Verifying dependencies...
===> Analyzing applications...
===> Compiling money
===> Performing EUnit tests...
..F..

Failures:

  1) money_tests:parse_comma_test/0: module 'money_tests'
     Failure/Error: ?assertEqual(12.5, money:parse("12,50"))
       expected: 12.5
            got: 1250.0
     %% /home/travis/build/acme/money/_build/test/lib/money/test/money_tests.erl:14:in `money_tests:-parse_comma_test/0-fun-0-/0`
     Output:

Finished in 0.047 seconds
5 tests, 1 failures
===> Error running tests
""",
        language="erlang",
    ),
    "testthat": travis(
        "R CMD check --no-manual money_0.4.0.tar.gz",
        r"""
* checking for unstated dependencies in 'tests' ... OK
* checking tests ...
  Running 'testthat.R'
 ERROR
Running the tests in 'tests/testthat.R' failed.
Last 13 lines of output:
  [ FAIL 1 | WARN 0 | SKIP 0 | PASS 11 ]

  ══ Failed tests ════════════════════════════════════════════════════════════════
  ── Failure ('test-parse.R:14:3'): parse_amount handles a decimal comma ─────────
  parse_amount("12,50") (`actual`) not equal to 12.5 (`expected`).

    `actual`: 1250.0
  `expected`:   12.5

  [ FAIL 1 | WARN 0 | SKIP 0 | PASS 11 ]
  Error: Test failures
  Execution halted
* DONE

Status: 1 ERROR
See
  '/home/travis/build/acme/money/money.Rcheck/00check.log'
for details.
""",
        language="r",
    ),
    "julia": travis(
        "julia --color=yes -e 'using Pkg; Pkg.test(coverage=true)'",
        r"""
     Testing Money
      Status `/tmp/jl_Xb4fQ1/Project.toml`
  [9e3dc215] Money v0.4.0 `~/build/acme/Money.jl`
     Testing Running tests...
format: Test Failed at /home/travis/build/acme/Money.jl/test/runtests.jl:14
  Expression: format(1250) == "12.50"
   Evaluated: "1250" == "12.50"
Stacktrace:
 [1] macro expansion
   @ /buildworker/worker/package_linux64/build/usr/share/julia/stdlib/v1.6/Test/src/Test.jl:445 [inlined]
 [2] macro expansion
   @ ~/build/acme/Money.jl/test/runtests.jl:14 [inlined]
Test Summary: | Pass  Fail  Total
format        |    2     1      3
ERROR: LoadError: Some tests did not pass: 2 passed, 1 failed, 0 errored, 0 broken.
in expression starting at /home/travis/build/acme/Money.jl/test/runtests.jl:12
ERROR: Package Money errored during testing
""",
        language="julia",
    ),
    "lein": travis(
        "lein test",
        r"""
Retrieving org/clojure/clojure/1.10.1/clojure-1.10.1.pom from central

lein test money.core-test

lein test :only money.core-test/parse-comma

FAIL in (parse-comma) (core_test.clj:14)
parses a decimal comma
expected: (= 12.5 (parse "12,50"))
  actual: (not (= 12.5 1250.0))

lein test money.format-test

Ran 4 tests containing 6 assertions.
1 failures, 0 errors.
Tests failed.
""",
        language="clojure",
    ),
    "dune": job(
        "ocaml/opam:debian-12-ocaml-5.1",
        r"""
$ opam exec -- dune build @install @runtest
File "src/money.ml", line 14, characters 22-25:
14 |   let total = price *. qty in
                           ^^^
Error: This expression has type int but an expression was expected of type
         float
""",
    ),
    "elm": travis(
        "elm make src/Main.elm --output=/dev/null",
        r"""
Compiling ...-- TYPE MISMATCH ---------------------------------------------------------------- src/Cart.elm

The 1st argument to `formatTotal` is not what I expect:

41|     formatTotal cart.total
                    ^^^^^^^^^^
This `total` value is a:

    Int

But `formatTotal` needs the 1st argument to be:

    Float

Hint: Elm does not automatically convert between Int and Float. Use toFloat.


Detected problems in 1 module.
""",
        language="elm",
    ),
    "sphinx": job(
        "python:3.11",
        r"""
$ sphinx-build -W -b html docs public
Running Sphinx v5.3.0
making output directory... done
building [mo]: targets for 0 po files that are out of date
building [html]: targets for 12 source files that are out of date
updating environment: [new config] 12 added, 0 changed, 0 removed
reading sources... [100%] usage
looking for now-outdated files... none found
pickling environment... done
checking consistency... done
preparing documents... done
writing output... [ 58%] api

Warning, treated as error:
/builds/acme/money/docs/api.rst:27:undefined label: 'money-parse'
""",
        code=2,
    ),
    "htmlproofer": travis(
        "bundle exec htmlproofer ./_site --disable-external=false",
        r"""
Running ["ScriptCheck", "LinkCheck", "ImageCheck"] on ["./_site"] on *.html...


Checking 37 external links...
Ran on 12 files!


- ./_site/blog/index.html
  *  External link https://example.org/old-page failed: 404 No error
- ./_site/about/index.html
  *  image /img/team.png does not have an alt attribute (line 41)
htmlproofer 3.19.2 | Error:  HTML-Proofer found 2 failures!
""",
    ),
    "phpstan": job(
        "php:8.2-cli",
        r"""
$ vendor/bin/phpstan analyse --no-progress --memory-limit=1G
Note: Using configuration file /builds/acme/shop/phpstan.neon.
 ------ -----------------------------------------------------------------
  Line   src/Cart.php
 ------ -----------------------------------------------------------------
  41     Call to an undefined method App\Money::toFloat().
 ------ -----------------------------------------------------------------


 [ERROR] Found 1 error

""",
    ),
    "psalm": job(
        "php:8.2-cli",
        r"""
$ vendor/bin/psalm --no-cache --output-format=console
Target PHP version: 8.2 (inferred from current PHP version).
Scanning files...
Analyzing files...

░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░E░░░░░░░░░░░░░░

ERROR: UndefinedMethod - src/Cart.php:41:30 - Method App\Money::toFloat does not exist (see https://psalm.dev/022)
        return $this->total->toFloat();


------------------------------
1 errors found
------------------------------

Checks took 1.42 seconds and used 91.112MB of memory
Psalm was able to infer types for 98.7312% of the codebase
""",
        code=2,
    ),
    "go_race": job(
        "golang:1.21",
        r"""
$ go test -race ./...
ok  	github.com/acme/money/parse	1.021s
==================
WARNING: DATA RACE
Read at 0x00c0000a4018 by goroutine 8:
  github.com/acme/money/cart.(*Cart).Total()
      /builds/acme/money/cart/cart.go:41 +0x44
  github.com/acme/money/cart.TestConcurrentAdd.func1()
      /builds/acme/money/cart/cart_test.go:22 +0x3c

Previous write at 0x00c0000a4018 by goroutine 7:
  github.com/acme/money/cart.(*Cart).Add()
      /builds/acme/money/cart/cart.go:33 +0x64
  github.com/acme/money/cart.TestConcurrentAdd.func2()
      /builds/acme/money/cart/cart_test.go:27 +0x5c

Goroutine 8 (running) created at:
  github.com/acme/money/cart.TestConcurrentAdd()
      /builds/acme/money/cart/cart_test.go:21 +0x1a4
  testing.tRunner()
      /usr/local/go/src/testing/testing.go:1595 +0x238
==================
--- FAIL: TestConcurrentAdd (0.00s)
    testing.go:1465: race detected during execution of test
FAIL
FAIL	github.com/acme/money/cart	0.031s
FAIL
""",
    ),
    "go_build": travis(
        "go build ./...",
        r"""
# github.com/acme/money/cart
cart/cart.go:41:9: undefined: roundCents
cart/cart.go:52:14: c.itemz undefined (type *Cart has no field or method itemz, but does have items)
""",
        code=2,
        language="go",
    ),
    "xcodebuild": travis(
        "set -o pipefail && xcodebuild test -scheme Money -destination 'platform=iOS Simulator,name=iPhone 8' | xcpretty -c",
        """
Test Suite 'All tests' started at 2019-06-21 10:12:41.123
Test Suite 'MoneyTests.xctest' started at 2019-06-21 10:12:41.124
Test Suite 'ParserTests' started at 2019-06-21 10:12:41.124
Test Case '-[MoneyTests.ParserTests testParsesDecimalComma]' started.
/Users/travis/build/acme/money/MoneyTests/ParserTests.swift:27: error: -[MoneyTests.ParserTests testParsesDecimalComma] : XCTAssertEqual failed: ("1250.0") is not equal to ("12.5")
Test Case '-[MoneyTests.ParserTests testParsesDecimalComma]' failed (0.004 seconds).
Test Case '-[MoneyTests.ParserTests testParsesInteger]' started.
Test Case '-[MoneyTests.ParserTests testParsesInteger]' passed (0.001 seconds).
Test Suite 'ParserTests' failed at 2019-06-21 10:12:41.130.
\t Executed 2 tests, with 1 failure (0 unexpected) in 0.005 (0.006) seconds
Test Suite 'MoneyTests.xctest' failed at 2019-06-21 10:12:41.131.
\t Executed 2 tests, with 1 failure (0 unexpected) in 0.005 (0.007) seconds

Failing tests:
\tMoneyTests:
\t\tParserTests.testParsesDecimalComma()

** TEST FAILED **
""",
        code=65,
        language="swift",
    ),
    "swiftlint": job(
        "ghcr.io/realm/swiftlint:0.54.0",
        r"""
$ swiftlint lint --strict
Linting Swift files in current working directory
Linting 'Parser.swift' (1/3)
Linting 'Cart.swift' (2/3)
Linting 'Format.swift' (3/3)
/builds/acme/money/Sources/Money/Cart.swift:41:23: error: Force Cast Violation: Force casts should be avoided (force_cast)
Done linting! Found 1 violation, 1 serious in 3 files.
""",
        code=2,
    ),
    "ktlint": job(
        "eclipse-temurin:17-jdk",
        r"""
$ ktlint "src/**/*.kt"
src/main/kotlin/com/acme/money/Cart.kt:41:1: Unexpected blank line(s) before "}" (standard:no-blank-line-before-rbrace)

Summary error count (descending) by rule:
  standard:no-blank-line-before-rbrace: 1
""",
    ),
    "valgrind": travis(
        "valgrind --leak-check=full --error-exitcode=1 ./build/test_money",
        r"""
==12345== Memcheck, a memory error detector
==12345== Copyright (C) 2002-2017, and GNU GPL'd, by Julian Seward et al.
==12345== Using Valgrind-3.13.0 and LibVEX; rerun with -h for copyright info
==12345== Command: ./build/test_money
==12345==
==12345== Invalid read of size 4
==12345==    at 0x4011A3: money_parse (money.c:41)
==12345==    by 0x401245: main (test_money.c:14)
==12345==  Address 0x5204044 is 0 bytes after a block of size 4 alloc'd
==12345==    at 0x4C2FB0F: malloc (in /usr/lib/valgrind/vgpreload_memcheck-amd64-linux.so)
==12345==    by 0x401190: money_parse (money.c:38)
==12345==    by 0x401245: main (test_money.c:14)
==12345==
all 6 tests passed
==12345==
==12345== HEAP SUMMARY:
==12345==     in use at exit: 0 bytes in 0 blocks
==12345==   total heap usage: 2 allocs, 2 frees, 1,028 bytes allocated
==12345==
==12345== All heap blocks were freed -- no leaks are possible
==12345==
==12345== For counts of detected and suppressed errors, rerun with: -v
==12345== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)
""",
        language="c",
    ),
    "cppcheck": job(
        "neszt/cppcheck-docker:2.12",
        r"""
$ cppcheck --enable=warning --error-exitcode=1 --inline-suppr src
Checking src/cart.c ...
1/3 files checked 31% done
Checking src/money.c ...
src/money.c:41:12: error: Array 'buf[4]' accessed at index 4, which is out of bounds. [arrayIndexOutOfBounds]
    buf[4] = '\0';
           ^
2/3 files checked 74% done
Checking src/format.c ...
3/3 files checked 100% done
""",
    ),
    "clang_format": job(
        "silkeh/clang:17",
        r"""
$ find src include -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run -Werror
src/money.cpp:41:14: error: code should be clang-formatted [-Wclang-format-violations]
    int total=price*qty;
             ^
""",
        code=123,
    ),
    "enforcer": travis(
        "mvn -B verify",
        r"""
[INFO] Scanning for projects...
[INFO]
[INFO] ---------------------------< com.acme:money >---------------------------
[INFO] Building money 0.4.0-SNAPSHOT
[INFO] --------------------------------[ jar ]---------------------------------
[INFO]
[INFO] --- maven-enforcer-plugin:3.0.0-M2:enforce (enforce-versions) @ money ---
[WARNING] Rule 0: org.apache.maven.plugins.enforcer.RequireJavaVersion failed with message:
Detected JDK Version: 1.8.0-151 is not in the allowed range [11,).
[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[INFO] Total time:  1.412 s
[INFO] Finished at: 2019-06-21T10:12:41Z
[INFO] ------------------------------------------------------------------------
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.0.0-M2:enforce (enforce-versions) on project money: Some Enforcer rules have failed. Look above for specific messages explaining why the rule failed. -> [Help 1]
[ERROR]
[ERROR] To see the full stack trace of the errors, re-run Maven using the -e switch.
[ERROR] Re-run Maven using the -X switch to enable full debug logging.
[ERROR]
[ERROR] For more information about the errors and possible solutions, please read the following articles:
[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MojoExecutionException
""",
        language="java",
    ),
    "scalastyle": travis(
        "sbt ++2.12.8 scalastyle test",
        r"""
[info] Loading settings for project money-build from plugins.sbt ...
[info] Loading project definition from /home/travis/build/acme/money/project
[info] Set current project to money (in build file:/home/travis/build/acme/money/)
[info] scalastyle using config /home/travis/build/acme/money/scalastyle-config.xml
[error] /home/travis/build/acme/money/src/main/scala/money/Cart.scala:41:4: File line length exceeds 120 characters
[info] scalastyle Processed 12 file(s)
[info] scalastyle Found 1 errors
[info] scalastyle Found 0 warnings
[info] scalastyle Found 0 infos
[info] scalastyle Finished in 31 ms
[success] created output: /home/travis/build/acme/money/target
[error] (Compile / scalastyle) errors exist
[error] Total time: 3 s, completed Jun 21, 2019 10:12:41 AM
""",
        language="scala",
    ),
}

CASES = [
    (
        "prove",
        ["Failed test 'parses a decimal comma'", "t/01-parse.t line 14"],
        "#   Failed test 'parses a decimal comma'",
        Category.test,
    ),
    (
        "hspec",
        ["test/Money/ParseSpec.hs:14:31", "parses a decimal comma", "expected: 12.5"],
        "test/Money/ParseSpec.hs:14:31",
        Category.test,
    ),
    (
        "bundler_pubgrub",
        ["Could not find compatible versions", "money-rails", "activesupport"],
        "Could not find compatible versions",
        Category.dependency,
    ),
    (
        "unittest",
        ["test_parses_decimal_comma", "AssertionError: 1250.0 != 12.5"],
        "FAIL: test_parses_decimal_comma (test_parse.ParseTests.test_parses_decimal_comma)",
        Category.test,
    ),
    (
        "nose",
        ["tests.test_parse.test_decimal_comma", "AssertionError: 1250.0 != 12.5"],
        "FAIL: tests.test_parse.test_decimal_comma",
        Category.test,
    ),
    (
        "gtest",
        ["MoneyTest.ParsesDecimalComma", "money_test.cc:27: Failure"],
        "/builds/acme/money/test/money_test.cc:27: Failure",
        Category.test,
    ),
    (
        "boost_test",
        ["parse_test.cpp(22)", 'check parse("12,50") == 12.5 has failed'],
        'error: in "parse_suite/parses_decimal_comma"',
        Category.test,
    ),
    (
        "ld_undefined",
        ["undefined reference to `money::round_cents(double)'"],
        "undefined reference to `money::round_cents(double)'",
        Category.build,
    ),
    (
        "configure",
        ["configure: error: Package requirements (libcurl >= 7.58) were not met"],
        "configure: error: Package requirements (libcurl >= 7.58) were not met:",
        None,
    ),
    (
        "cmake_config",
        ["CMakeLists.txt:12 (find_package)", '"fmt"'],
        "CMake Error at CMakeLists.txt:12 (find_package):",
        None,
    ),
    (
        "karma",
        ["CartComponent should show the discounted total", "Expected '100.00' to equal '90.00'."],
        "CartComponent should show the discounted total FAILED",
        Category.test,
    ),
    ("tape", ["parses a decimal comma", "expected: 12.5"], "not ok 2 parses a decimal comma", Category.test),
    (
        "bats",
        ["install creates the config file", "test/install.bats, line 14"],
        "not ok 2 install creates the config file",
        Category.test,
    ),
    (
        "exunit",
        ["test parse/1 parses a decimal comma (Money.ParserTest)", "parser_test.exs:14"],
        "1) test parse/1 parses a decimal comma (Money.ParserTest)",
        Category.test,
    ),
    (
        "rebar3_eunit",
        ["money_tests:parse_comma_test/0", '?assertEqual(12.5, money:parse("12,50"))'],
        "1) money_tests:parse_comma_test/0",
        Category.test,
    ),
    (
        "testthat",
        ["test-parse.R:14:3", "parse_amount handles a decimal comma"],
        "── Failure ('test-parse.R:14:3'): parse_amount handles a decimal comma",
        Category.test,
    ),
    (
        "julia",
        ["runtests.jl:14", 'Evaluated: "1250" == "12.50"'],
        "format: Test Failed at /home/travis/build/acme/Money.jl/test/runtests.jl:14",
        Category.test,
    ),
    ("lein", ["FAIL in (parse-comma) (core_test.clj:14)"], "FAIL in (parse-comma) (core_test.clj:14)", Category.test),
    (
        "dune",
        ['File "src/money.ml", line 14', "This expression has type int"],
        "Error: This expression has type int",
        Category.build,
    ),
    ("elm", ["TYPE MISMATCH", "src/Cart.elm"], "-- TYPE MISMATCH ---", Category.build),
    (
        "sphinx",
        ["docs/api.rst:27", "undefined label: 'money-parse'"],
        "/builds/acme/money/docs/api.rst:27:undefined label: 'money-parse'",
        None,
    ),
    (
        "htmlproofer",
        ["External link https://example.org/old-page failed: 404"],
        "*  External link https://example.org/old-page failed: 404 No error",
        None,
    ),
    (
        "phpstan",
        ["src/Cart.php", "41", "Call to an undefined method App\\Money::toFloat()"],
        "Call to an undefined method App\\Money::toFloat().",
        Category.lint,
    ),
    (
        "psalm",
        ["UndefinedMethod", "src/Cart.php:41:30"],
        "ERROR: UndefinedMethod - src/Cart.php:41:30",
        Category.lint,
    ),
    ("go_race", ["TestConcurrentAdd", "DATA RACE"], "WARNING: DATA RACE", Category.test),
    (
        "go_build",
        ["cart/cart.go:41:9: undefined: roundCents"],
        "cart/cart.go:41:9: undefined: roundCents",
        Category.build,
    ),
    (
        "xcodebuild",
        ["ParserTests.swift:27", "XCTAssertEqual failed"],
        "ParserTests.swift:27: error: -[MoneyTests.ParserTests testParsesDecimalComma] : XCTAssertEqual failed",
        Category.test,
    ),
    ("swiftlint", ["Cart.swift:41:23", "force_cast"], "Cart.swift:41:23: error: Force Cast Violation", Category.lint),
    (
        "ktlint",
        ["Cart.kt:41:1", "standard:no-blank-line-before-rbrace"],
        "src/main/kotlin/com/acme/money/Cart.kt:41:1: Unexpected blank line(s)",
        Category.lint,
    ),
    ("valgrind", ["Invalid read of size 4", "money.c:41"], "==12345== Invalid read of size 4", None),
    ("cppcheck", ["src/money.c:41:12", "arrayIndexOutOfBounds"], "src/money.c:41:12: error: Array", Category.lint),
    (
        "clang_format",
        ["src/money.cpp:41:14", "clang-format-violations"],
        "src/money.cpp:41:14: error: code should be clang-formatted",
        Category.lint,
    ),
    (
        "enforcer",
        ["RequireJavaVersion", "Detected JDK Version: 1.8.0-151 is not in the allowed range [11,)"],
        "Rule 0: org.apache.maven.plugins.enforcer.RequireJavaVersion failed with message:",
        None,
    ),
    (
        "scalastyle",
        ["Cart.scala:41:4", "File line length exceeds 120 characters"],
        "Cart.scala:41:4: File line length exceeds 120 characters",
        Category.lint,
    ),
]


def answer_for(name: str):
    return offline_answer(LOGS[name])


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_decisive_token_and_the_evidence_quotes_its_line(name, tokens, quoted, category):
    answer = answer_for(name)
    assert_specific(name, answer, tokens, quoted, category)
    headline = answer.summary[:SCORED_SUMMARY]
    assert "Your build exited" not in headline and "Cleaning up project" not in headline, "nor is the CI's framing"


def test_a_tools_tally_from_an_earlier_command_is_not_this_failure():
    # valgrind without --error-exitcode reports errors and exits 0: the build that fails later is the failure.
    log = job(
        "gcc:13",
        r"""
$ valgrind ./build/test_money
==12345== Memcheck, a memory error detector
==12345== Invalid read of size 4
==12345==    at 0x4011A3: money_parse (money.c:41)
==12345==    by 0x401245: main (test_money.c:14)
all 6 tests passed
==12345== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)
$ make -C docs html
sphinx-build -W -b html . _build/html
Running Sphinx v5.3.0
building [html]: targets for 12 source files that are out of date
writing output... [ 58%] api

Warning, treated as error:
/builds/acme/money/docs/api.rst:27:undefined label: 'money-parse'
make: *** [Makefile:20: html] Error 2
""",
        code=2,
    )
    summary = offline_answer(log).summary
    assert "api.rst:27" in summary and "Invalid read" not in summary


def test_proves_verdict_without_its_diagnostics_stays_the_headline():
    # A test file that died before reporting a failed test: prove's own verdict is all there is.
    log = travis(
        "prove -lr t",
        r"""
t/00-load.t ........ ok
t/01-parse.t ....... Dubious, test returned 2 (wstat 512, 0x200)
No subtests run
t/02-format.t ...... ok
""",
        language="perl",
    )
    summary = offline_answer(log).summary
    assert summary.startswith("t/01-parse.t ....... Dubious, test returned 2")


# --- the review of the fifth round -------------------------------------------------------------------------------

SCRIPT_ASSERTIONS = {
    # a library's own check, raised as an AssertionError (torch without CUDA): the script crashed, no test ran
    "library": (
        r"""
$ python scripts/export_model.py --device cuda
Loading checkpoint checkpoints/model.pt
Traceback (most recent call last):
  File "/builds/ml/scripts/export_model.py", line 22, in <module>
    model = load(args.checkpoint).to(args.device)
  File "/usr/local/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1145, in to
    return self._apply(convert)
  File "/usr/local/lib/python3.11/site-packages/torch/cuda/__init__.py", line 239, in _lazy_init
    raise AssertionError("Torch not compiled with CUDA enabled")
AssertionError: Torch not compiled with CUDA enabled
""",
        "AssertionError: Torch not compiled with CUDA enabled",
    ),
    # a script's own `assert`
    "script": (
        r"""
$ python scripts/check_migrations.py
Checking migrations in app/migrations ...
Traceback (most recent call last):
  File "/builds/shop/scripts/check_migrations.py", line 41, in <module>
    main()
  File "/builds/shop/scripts/check_migrations.py", line 37, in main
    assert not missing, f"missing migrations for: {missing}"
AssertionError: missing migrations for: ['orders']
""",
        "AssertionError: missing migrations for: ['orders']",
    ),
}


@pytest.mark.parametrize("name", sorted(SCRIPT_ASSERTIONS))
def test_a_scripts_assertion_error_is_its_crash_not_a_failed_test(name):
    body, statement = SCRIPT_ASSERTIONS[name]
    answer = offline_answer(job("python:3.11", body))
    assert statement in answer.summary
    assert answer.category is Category.build and "raised `AssertionError`" in answer.root_cause


TESTED_ASSERTIONS = {
    # a test file run as a script: the test function in the traceback is the runner's context
    "test_function": r"""
$ python tests/test_cart.py
Traceback (most recent call last):
  File "/builds/shop/tests/test_cart.py", line 14, in <module>
    test_total()
  File "/builds/shop/tests/test_cart.py", line 11, in test_total
    assert cart.total() == 10, cart.total()
AssertionError: 9
""",
    # Vitest prints chai's AssertionError at the start of the line, under the failed test
    "vitest": r"""
$ npx vitest run

 RUN  v1.6.0 /builds/shop

 ❯ src/cart.test.ts  (2 tests | 1 failed) 12ms
   ❯ src/cart.test.ts > Cart > totals the items
     → expected 9 to be 10 // Object.is equality

 FAIL  src/cart.test.ts > Cart > totals the items
AssertionError: expected 9 to be 10 // Object.is equality
 ❯ src/cart.test.ts:8:26

 Test Files  1 failed (1)
      Tests  1 failed | 1 passed (2)
""",
}


@pytest.mark.parametrize("name", sorted(TESTED_ASSERTIONS))
def test_an_assertion_error_under_a_test_runner_is_a_failed_test(name):
    answer = offline_answer(job("node:20", TESTED_ASSERTIONS[name]))
    assert answer.category is Category.test and "raised `AssertionError`" not in answer.root_cause
    assert answer_for("unittest").category is Category.test and answer_for("nose").category is Category.test


def test_a_listed_finding_is_not_the_headline_when_a_failure_follows_in_the_same_command():
    # valgrind without --error-exitcode reports a leak and goes on; the integration test that fails ends the job.
    log = job(
        "gcc:13",
        r"""
$ ./ci.sh
gcc -g -O0 -o bin/money src/money.c
[ci] memcheck
==4242== Memcheck, a memory error detector
==4242== Command: ./bin/money --self-test
==4242==
self-test: 12 checks passed
==4242==
==4242== 64 bytes in 1 blocks are definitely lost in loss record 1 of 1
==4242==    at 0x4848899: malloc (vg_replace_malloc.c:381)
==4242==    by 0x109185: parse (money.c:14)
==4242==
==4242== LEAK SUMMARY:
==4242==    definitely lost: 64 bytes in 1 blocks
==4242==
==4242== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)
[ci] integration
Starting integration tests against http://localhost:8080
test_convert ... ok
test_rates ... FAILED
integration.sh: test_rates: expected HTTP 200, got 500 from /api/rates
Error: 1 of 2 integration tests failed
""",
    )
    summary = offline_answer(log).summary
    assert "expected HTTP 200, got 500" in summary and "definitely lost" not in summary


def test_a_linters_table_is_not_the_headline_when_the_tests_after_it_fail():
    # `composer ci` runs PHPStan (its errors allowed) and then PHPUnit, whose failure ends the job.
    log = job(
        "php:8.3",
        r"""
$ composer ci
> vendor/bin/phpstan analyse --no-progress --error-format=table || true
 ------ --------------------------------------------------
  Line   src/Cart.php
 ------ --------------------------------------------------
  41     Call to an undefined method App\Money::toFloat().
 ------ --------------------------------------------------

 [ERROR] Found 1 error

> vendor/bin/phpunit
PHPUnit 10.5.0 by Sebastian Bergmann and contributors.

..F                                                                 3 / 3 (100%)

There was 1 failure:

1) Tests\CartTest::testTotal
Failed asserting that 9 matches expected 10.

/builds/shop/tests/CartTest.php:14

FAILURES!
Tests: 3, Assertions: 3, Failures: 1.
Script vendor/bin/phpunit handling the ci event returned with error code 1
""",
    )
    answer = offline_answer(log)
    assert "Tests\\CartTest::testTotal" in answer.summary and "PHPStan" not in answer.summary
    assert answer.category is Category.test


# html-proofer 4.x and 5.x list each failure under its check's title: the place at the start of a line, the message
# indented under it (4.0 printed "* In ./_site/x.html (line 48):", later versions "* At ./_site/x.html:48:").
HTMLPROOFER_5 = r"""
$ bundle exec htmlproofer ./_site --disable-external
Running 3 checks (Images, Links, Scripts) in ["./_site"] on *.html files ...


Checking 212 internal links
Ran on 41 files!


For the Links > Internal check, the following failures were found:

* {first}:

  internally linking to /docs/install/, which does not exist

* {second}:

  internally linking to /docs/setup/, which does not exist

For the Images check, the following failures were found:

* {third}:

  internal image /assets/img/team.png does not exist


HTML-Proofer found 3 failures!
"""


@pytest.mark.parametrize(
    ("first", "second", "third"),
    [
        ("At ./_site/blog/release.html:48", "At ./_site/index.html:112", "At ./_site/about.html:20"),
        (
            "In ./_site/blog/release.html (line 48)",
            "In ./_site/index.html (line 112)",
            "In ./_site/about.html (line 20)",
        ),
    ],
    ids=["5.x", "4.0"],
)
def test_html_proofers_later_layout_is_stated_by_the_first_failure_it_lists(first, second, third):
    body = HTMLPROOFER_5.replace("{first}", first).replace("{second}", second).replace("{third}", third)
    answer = offline_answer(job("ruby:3.3", body))
    assert "release.html" in answer.summary and "/docs/install/" in answer.summary
    assert "about.html" not in answer.summary and answer.evidence[0].text.startswith(f"* {first}")
