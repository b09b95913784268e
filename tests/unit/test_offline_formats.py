"""The offline analyzer on tool output formats it was not written from: hand-written tails of CI logs (a
runner's noise around a tool's own report), each asserting that the summary names the decisive token in the
tool's own words and that the evidence quotes the line that says it."""

from __future__ import annotations

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.heuristics import analyze
from bot.core.types import Category, Excerpt, ExcerptLine

SCORED_SUMMARY = 200  # what a note shows as its headline
SCORED_EVIDENCE = 5

LOGS: dict[str, str] = {
    "rspec": r"""Running with gitlab-runner 16.5.0 (853330f9)
  on docker-runner-1 xZy8Abc2, system ID: s_1a2b3c4d5e6f
Preparing the "docker" executor
Using Docker executor with image ruby:3.2 ...
Getting source from Git repository
Fetching changes with git depth set to 20...
Checking out 4f1c2e9a as detached HEAD (ref is refs/merge-requests/12/head)...
Executing "step_script" stage of the job script
$ bundle install --jobs 4 --path vendor/bundle
Bundle complete! 18 Gemfile dependencies, 64 gems now installed.
$ bundle exec rspec --format progress
Randomized with seed 41234
.......F.......

Failures:

  1) Invoice#total applies the discount to each line
     Failure/Error: expect(invoice.total).to eq(Money.new(90_00))

       expected: #<Money fractional:9000 currency:EUR>
            got: #<Money fractional:10000 currency:EUR>

       (compared using ==)
     # ./spec/models/invoice_spec.rb:27:in `block (3 levels) in <top (required)>'

Finished in 1.42 seconds (files took 0.91 seconds to load)
15 examples, 1 failure

Failed examples:

rspec ./spec/models/invoice_spec.rb:24 # Invoice#total applies the discount to each line

Randomized with seed 41234

Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "minitest": r"""$ bin/rails test
Running via Spring preloader in process 112
Run options: --seed 5123

# Running:

..........F....E...

Failure:
OrderTest#test_total_includes_shipping [/builds/shop/test/models/order_test.rb:18]:
Expected: 1500
  Actual: 1000

rails test test/models/order_test.rb:14

E

Error:
UserTest#test_email_is_normalised:
NoMethodError: undefined method `downcase' for nil:NilClass
    app/models/user.rb:12:in `normalise_email'
    test/models/user_test.rb:8:in `block in <class:UserTest>'

rails test test/models/user_test.rb:6

Finished in 2.381243s, 8.3988 runs/s, 12.1450 assertions/s.
20 runs, 29 assertions, 1 failures, 1 errors, 0 skips
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "phpunit": r"""$ vendor/bin/phpunit --colors=never
PHPUnit 10.5.3 by Sebastian Bergmann and contributors.

Runtime:       PHP 8.2.13
Configuration: /builds/acme/billing/phpunit.xml

...............F....                                              20 / 20 (100%)

Time: 00:00.214, Memory: 10.00 MB

There was 1 failure:

1) Tests\Unit\InvoiceTest::testTotalAppliesDiscount
Failed asserting that 100.0 matches expected 90.0.

/builds/acme/billing/tests/Unit/InvoiceTest.php:31

FAILURES!
Tests: 20, Assertions: 41, Failures: 1.
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "cucumber": r"""$ bundle exec cucumber --format progress
Using the default profile...
.........F--

(::) failed steps (::)

expected "Total: 100.00" to include "Total: 90.00" (RSpec::Expectations::ExpectationNotMetError)
./features/step_definitions/cart_steps.rb:17:in `/^the total should be "([^"]*)"$/'
features/checkout.feature:12:in `the total should be "90.00"'

Failing Scenarios:
cucumber features/checkout.feature:8 # Scenario: Apply a coupon

3 scenarios (1 failed, 2 passed)
12 steps (1 failed, 2 skipped, 9 passed)
0m0.412s
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "dotnet": r"""$ dotnet test --no-build --logger "console;verbosity=normal"
  Determining projects to restore...
  All projects are up-to-date for restore.
Test run for /builds/acme/api/tests/Api.Tests/bin/Debug/net8.0/Api.Tests.dll (.NETCoreApp,Version=v8.0)
Microsoft (R) Test Execution Command Line Tool Version 17.8.0 (x64)
Copyright (c) Microsoft Corporation.  All rights reserved.

Starting test execution, please wait...
A total of 1 test files matched the specified pattern.
  Failed Api.Tests.InvoiceTests.TotalAppliesDiscount [14 ms]
  Error Message:
   Assert.Equal() Failure: Values differ
Expected: 90
Actual:   100
  Stack Trace:
     at Api.Tests.InvoiceTests.TotalAppliesDiscount() in /builds/acme/api/tests/Api.Tests/InvoiceTests.cs:line 27
   at System.RuntimeMethodHandle.InvokeMethod(Object target, Void** arguments, Signature sig, Boolean isConstructor)

Failed! - Failed:     1, Passed:    41, Skipped:     0, Total:    42, Duration: 212 ms - Api.Tests.dll (net8.0)
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "sbt": r"""$ sbt -batch test
[info] welcome to sbt 1.9.7 (Eclipse Adoptium Java 17.0.9)
[info] loading settings for project root from build.sbt ...
[info] compiling 12 Scala sources to /builds/acme/pricing/target/scala-2.13/classes ...
[info] InvoiceSpec:
[info] Invoice
[info] - should sum its lines
[info] - should apply the discount *** FAILED ***
[info]   100 did not equal 90 (InvoiceSpec.scala:27)
[info] Run completed in 1 second, 412 milliseconds.
[info] Total number of tests run: 2
[info] Suites: completed 1, aborted 0
[info] Tests: succeeded 1, failed 1, canceled 0, ignored 0, pending 0
[info] *** 1 TEST FAILED ***
[error] Failed tests:
[error]     acme.pricing.InvoiceSpec
[error] (Test / test) sbt.TestsFailedException: Tests unsuccessful
[error] Total time: 14 s, completed Dec 7, 2026, 10:12:41 AM
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
""",
    "scalac": r"""$ sbt -batch compile
[info] welcome to sbt 1.9.7 (Eclipse Adoptium Java 17.0.9)
[info] compiling 12 Scala sources to /builds/acme/pricing/target/scala-2.13/classes ...
[error] /builds/acme/pricing/src/main/scala/acme/Invoice.scala:14:18: type mismatch;
[error]  found   : String
[error]  required: Int
[error]     val total: Int = "100"
[error]                      ^
[error] one error found
[error] (Compile / compileIncremental) Compilation failed
[error] Total time: 9 s, completed Dec 7, 2026, 10:12:41 AM
ERROR: Job failed: exit code 1
""",
    "ghc": r"""$ cabal build all
Resolving dependencies...
Build profile: -w ghc-9.4.8 -O1
In order, the following will be built (use -v for more details):
 - pricing-0.1.0.0 (lib) (first run)
Configuring library for pricing-0.1.0.0..
Preprocessing library for pricing-0.1.0.0..
Building library for pricing-0.1.0.0..
[1 of 3] Compiling Pricing.Types    ( src/Pricing/Types.hs, dist-newstyle/build/x86_64-linux/ghc-9.4.8/pricing-0.1.0.0/build/Pricing/Types.o )
[2 of 3] Compiling Pricing.Invoice  ( src/Pricing/Invoice.hs, dist-newstyle/build/x86_64-linux/ghc-9.4.8/pricing-0.1.0.0/build/Pricing/Invoice.o )

src/Pricing/Invoice.hs:14:18: error: [GHC-83865]
    • Couldn't match expected type ‘Int’ with actual type ‘String’
    • In the expression: "100"
      In an equation for ‘total’: total = "100"
   |
14 | total = "100"
   |         ^^^^^
Error: cabal: Failed to build pricing-0.1.0.0.

ERROR: Job failed: exit code 1
""",
    "dart": r"""$ dart test
00:00 +0: loading test/invoice_test.dart
00:01 +3: test/invoice_test.dart: Invoice sums its lines
00:01 +3 -1: test/invoice_test.dart: Invoice applies the discount [E]
  Expected: <90>
    Actual: <100>

  package:matcher                expect
  test/invoice_test.dart 27:7    main.<fn>.<fn>

00:01 +5 -1: Some tests failed.
ERROR: Job failed: exit code 1
""",
    "flutter": r"""$ flutter test
00:03 +12: loading /builds/acme/app/test/widget_test.dart
══╡ EXCEPTION CAUGHT BY FLUTTER TEST FRAMEWORK ╞════════════════════════════════════════════════════
The following TestFailure was thrown running a test:
Expected: exactly one matching candidate
  Actual: _TextWidgetFinder:<Found 0 widgets with text "Total: 90": []>
   Which: means none were found but one was expected

When the exception was thrown, this was the stack:
#4      main.<anonymous closure> (file:///builds/acme/app/test/widget_test.dart:27:5)
<asynchronous suspension>

This was caught by the test expectation on the following line:
  file:///builds/acme/app/test/widget_test.dart line 27
The test description was:
  shows the discounted total
════════════════════════════════════════════════════════════════════════════════════════════════════
00:04 +12 -1: /builds/acme/app/test/widget_test.dart: shows the discounted total [E]
  Test failed. See exception logs above.
  The test description was: shows the discounted total

00:04 +14 -1: Some tests failed.
ERROR: Job failed: exit code 1
""",
    "swiftpm": r"""$ swift test
Building for debugging...
[3/6] Compiling Pricing Invoice.swift
Build complete! (4.21s)
Test Suite 'All tests' started at 2026-12-07 10:12:41.123
Test Suite 'PricingTests.xctest' started at 2026-12-07 10:12:41.124
Test Suite 'InvoiceTests' started at 2026-12-07 10:12:41.124
Test Case '-[PricingTests.InvoiceTests testSumsLines]' started.
Test Case '-[PricingTests.InvoiceTests testSumsLines]' passed (0.001 seconds).
Test Case '-[PricingTests.InvoiceTests testAppliesDiscount]' started.
/builds/acme/pricing/Tests/PricingTests/InvoiceTests.swift:27: error: -[PricingTests.InvoiceTests testAppliesDiscount] : XCTAssertEqual failed: ("100") is not equal to ("90")
Test Case '-[PricingTests.InvoiceTests testAppliesDiscount]' failed (0.002 seconds).
Test Suite 'InvoiceTests' failed at 2026-12-07 10:12:41.127.
     Executed 2 tests, with 1 failure (0 unexpected) in 0.003 (0.003) seconds
Test Suite 'PricingTests.xctest' failed at 2026-12-07 10:12:41.127.
     Executed 2 tests, with 1 failure (0 unexpected) in 0.003 (0.003) seconds
Test Suite 'All tests' failed at 2026-12-07 10:12:41.127.
     Executed 2 tests, with 1 failure (0 unexpected) in 0.003 (0.003) seconds
ERROR: Job failed: exit code 1
""",
    "gotest": r"""$ go test ./...
ok      github.com/acme/pricing/internal/money    0.012s
--- FAIL: TestInvoiceTotal (0.00s)
    --- FAIL: TestInvoiceTotal/with_discount (0.00s)
        invoice_test.go:42: Total() = 100, want 90
FAIL
FAIL    github.com/acme/pricing/internal/invoice    0.021s
ok      github.com/acme/pricing/internal/tax    0.009s
FAIL
ERROR: Job failed: exit code 1
""",
    "cargotest": r"""$ cargo test --all
   Compiling pricing v0.1.0 (/builds/acme/pricing)
    Finished test [unoptimized + debuginfo] target(s) in 4.12s
     Running unittests src/lib.rs (target/debug/deps/pricing-3f2a1b4c5d6e7f80)

running 3 tests
test invoice::tests::sums_lines ... ok
test invoice::tests::applies_discount ... FAILED
test tax::tests::rounds ... ok

failures:

---- invoice::tests::applies_discount stdout ----
thread 'invoice::tests::applies_discount' panicked at src/invoice.rs:42:9:
assertion `left == right` failed
  left: 100
 right: 90
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    invoice::tests::applies_discount

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--lib`
ERROR: Job failed: exit code 101
""",
    "bazel": r"""$ bazel test //...
INFO: Analyzed 24 targets (112 packages loaded, 2411 targets configured).
INFO: Found 18 targets and 6 test targets...
FAIL: //pricing:invoice_test (see /root/.cache/bazel/_bazel_root/1a2b/execroot/acme/bazel-out/k8-fastbuild/testlogs/pricing/invoice_test/test.log)
INFO: From Testing //pricing:invoice_test:
==================== Test output for //pricing:invoice_test:
invoice_test.cc:27: Failure
Expected equality of these values:
  invoice.Total()
    Which is: 100
  90
================================================================================
INFO: Elapsed time: 12.412s, Critical Path: 8.12s
INFO: 41 processes: 12 internal, 29 linux-sandbox.
INFO: Build completed, 1 test FAILED, 41 total actions
//pricing:invoice_test                                                   FAILED in 0.4s
  /root/.cache/bazel/_bazel_root/1a2b/execroot/acme/bazel-out/k8-fastbuild/testlogs/pricing/invoice_test/test.log
//pricing:money_test                                                     PASSED in 0.2s

Executed 2 out of 2 tests: 1 test passes and 1 fails locally.
ERROR: Job failed: exit code 3
""",
    "bazelbuild": r"""$ bazel build //...
INFO: Analyzed 24 targets (112 packages loaded, 2411 targets configured).
ERROR: /builds/acme/pricing/BUILD.bazel:12:10: Compiling pricing/invoice.cc failed: (Exit 1): gcc failed: error executing command (from target //pricing:invoice) /usr/bin/gcc -U_FORTIFY_SOURCE -fstack-protector -Wall -c pricing/invoice.cc -o bazel-out/k8-fastbuild/bin/pricing/_objs/invoice/invoice.o
pricing/invoice.cc:14:10: error: 'applyDiscount' was not declared in this scope
   14 |   return applyDiscount(total);
      |          ^~~~~~~~~~~~~
Target //pricing:invoice failed to build
Use --verbose_failures to see the command lines of failed build steps.
INFO: Elapsed time: 3.211s, Critical Path: 1.12s
INFO: 4 processes: 4 internal.
FAILED: Build did NOT complete successfully
ERROR: Job failed: exit code 1
""",
    "npm_eresolve": r"""$ npm ci
npm ERR! code ERESOLVE
npm ERR! ERESOLVE unable to resolve dependency tree
npm ERR!
npm ERR! While resolving: shop-web@1.4.0
npm ERR! Found: react@18.2.0
npm ERR! node_modules/react
npm ERR!   react@"^18.2.0" from the root project
npm ERR!
npm ERR! Could not resolve dependency:
npm ERR! peer react@"^16.8.0 || ^17.0.0" from react-beautiful-dnd@13.1.1
npm ERR! node_modules/react-beautiful-dnd
npm ERR!   react-beautiful-dnd@"^13.1.1" from the root project
npm ERR!
npm ERR! Fix the upstream dependency conflict, or retry
npm ERR! this command with --force or --legacy-peer-deps
npm ERR! to accept an incorrect (and potentially broken) dependency resolution.
npm ERR!
npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2026-12-07T10_12_41_123Z-debug-0.log
ERROR: Job failed: exit code 1
""",
    "pnpm": r"""$ pnpm install --frozen-lockfile
Lockfile is up to date, resolution step is skipped
 ERR_PNPM_OUTDATED_LOCKFILE  Cannot install with "frozen-lockfile" because pnpm-lock.yaml is not up to date with package.json

Note that in CI environments this setting is true by default. If you still need to run install in such cases, use "pnpm install --no-frozen-lockfile"
ERROR: Job failed: exit code 1
""",
    "yarn": r"""$ yarn install --frozen-lockfile
yarn install v1.22.19
[1/4] Resolving packages...
[2/4] Fetching packages...
error @acme/ui@2.1.0: The engine "node" is incompatible with this module. Expected version ">=20". Got "18.19.0"
error Found incompatible module.
info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command.
ERROR: Job failed: exit code 1
""",
    "composer": r"""$ composer install --no-interaction --prefer-dist
Installing dependencies from lock file (including require-dev)
Verifying lock file contents can be installed on current platform.
Your lock file does not contain a compatible set of packages. Please run composer update.

  Problem 1
    - symfony/console is locked to version v7.0.1 and an update of this package was not requested.
    - symfony/console v7.0.1 requires php >=8.2 -> your php version (8.1.26) does not satisfy that requirement.

ERROR: Job failed: exit code 2
""",
    "poetry": r"""$ poetry install --no-interaction
Installing dependencies from lock file

Because pricing depends on pydantic (^3.0) which doesn't match any versions, version solving failed.
ERROR: Job failed: exit code 1
""",
    "docker": r"""$ docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA .
#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 612B done
#1 DONE 0.0s
#5 [build 3/7] COPY package.json package-lock.json ./
#5 DONE 0.1s
#6 [build 4/7] RUN npm ci --omit=dev
#6 1.912 npm ERR! code E404
#6 1.913 npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fui - Not found
#6 1.913 npm ERR! 404
#6 1.913 npm ERR! 404  '@acme/ui@^2.1.0' is not in this registry.
#6 ERROR: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1
------
 > [build 4/7] RUN npm ci --omit=dev:
1.913 npm ERR! 404
1.913 npm ERR! 404  '@acme/ui@^2.1.0' is not in this registry.
------
Dockerfile:9
--------------------
   7 |     COPY package.json package-lock.json ./
   8 |
   9 | >>> RUN npm ci --omit=dev
  10 |     COPY . .
--------------------
ERROR: failed to solve: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1
ERROR: Job failed: exit code 1
""",
    "terraform_validate": r"""$ terraform validate
╷
│ Error: Unsupported argument
│
│   on modules/network/main.tf line 27, in resource "aws_subnet" "private":
│   27:   availabilty_zone = var.az
│
│ An argument named "availabilty_zone" is not expected here. Did you mean "availability_zone"?
╵
ERROR: Job failed: exit code 1
""",
    "kubectl_apply": r"""$ kubectl apply -f k8s/
deployment.apps/shop configured
service/shop unchanged
The Deployment "worker" is invalid: spec.template.spec.containers[0].image: Required value
ERROR: Job failed: exit code 1
""",
    "shellcheck": r"""$ shellcheck scripts/*.sh

In scripts/deploy.sh line 14:
rm -rf $BUILD_DIR/*
       ^--------^ SC2086 (info): Double quote to prevent globbing and word splitting.

Did you mean:
rm -rf "$BUILD_DIR"/*


In scripts/deploy.sh line 22:
if [ $ENV == "prod" ]; then
          ^-- SC3014 (warning): In POSIX sh, == in place of = is undefined.

For more information:
  https://www.shellcheck.net/wiki/SC2086 -- Double quote to prevent globbing ...
ERROR: Job failed: exit code 1
""",
    "pylint": r"""$ pylint src/pricing
************* Module pricing.invoice
src/pricing/invoice.py:27:4: W0612: Unused variable 'discount' (unused-variable)
src/pricing/invoice.py:41:0: E1101: Module 'decimal' has no 'Decimel' member (no-member)

------------------------------------------------------------------
Your code has been rated at 8.12/10 (previous run: 9.40/10, -1.28)

ERROR: Job failed: exit code 6
""",
    "rubocop": r"""$ bundle exec rubocop
Inspecting 84 files
..........C.........W..

Offenses:

app/models/invoice.rb:27:5: C: Style/GuardClause: Use a guard clause (return unless discount) instead of wrapping the code inside a conditional expression.
    if discount
    ^^
app/models/order.rb:12:7: W: Lint/UselessAssignment: Useless assignment to variable - total.
      total = 0
      ^^^^^

84 files inspected, 2 offenses detected
ERROR: Job failed: exit code 1
""",
    "golangci": r"""$ golangci-lint run ./...
internal/invoice/invoice.go:31:2: ineffectual assignment to total (ineffassign)
    total := 0
    ^
internal/invoice/tax.go:12:6: func `roundUp` is unused (unused)
func roundUp(x int) int {
     ^
ERROR: Job failed: exit code 1
""",
    "eslint_unix": r"""$ npx eslint --format unix src
/builds/acme/shop-web/src/pages/Cart.tsx:12:7: 'total' is assigned a value but never used. [Error/@typescript-eslint/no-unused-vars]

1 problem
ERROR: Job failed: exit code 1
""",
    "kotlinc": r"""$ ./gradlew assembleDebug
> Task :app:compileDebugKotlin FAILED
e: file:///builds/acme/android/app/src/main/java/com/acme/Cart.kt:27:18 Type mismatch: inferred type is String but Int was expected

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':app:compileDebugKotlin'.
> A failure occurred while executing org.jetbrains.kotlin.compilerRunner.GradleCompilerRunnerWithWorkers$GradleKotlinCompilerWorkAction
   > Compilation error. See log for more details

* Try:
> Run with --stacktrace option to get the stack trace.

BUILD FAILED in 1m 2s
ERROR: Job failed: exit code 1
""",
    "android_lint": r"""$ ./gradlew lintDebug
> Task :app:lintDebug FAILED
Lint found 1 error and 12 warnings. First failure:

/builds/acme/android/app/src/main/res/layout/activity_main.xml:14: Error: Hardcoded string "Pay now", should use @string resource [HardcodedText]
        android:text="Pay now" />
        ~~~~~~~~~~~~~~~~~~~~~~

The full lint text report is located at:
  /builds/acme/android/app/build/intermediates/lint_intermediate_text_report/debug/lint-results-debug.txt

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':app:lintDebug'.
> Lint found errors in the project; aborting build.

  Fix the issues identified by lint, or create a baseline to see only new errors:
  ```
  android {
      lint {
          baseline = file("lint-baseline.xml")
      }
  }
  ```

* Try:
> Run with --stacktrace option to get the stack trace.

BUILD FAILED in 41s
ERROR: Job failed: exit code 1
""",
    "pods": r"""$ pod install --repo-update
Updating local specs repositories
Analyzing dependencies
[!] CocoaPods could not find compatible versions for pod "Alamofire":
  In Podfile:
    Alamofire (~> 6.0)

None of your spec sources contain a spec satisfying the dependency: `Alamofire (~> 6.0)`.

You have either:
 * out-of-date source repos which you can update with `pod repo update` or with `pod install --repo-update`.
 * mistyped the name or version.
ERROR: Job failed: exit code 1
""",
    "ansible": r"""$ ansible-playbook -i inventory/prod site.yml
PLAY [web] *********************************************************************

TASK [Gathering Facts] *********************************************************
ok: [web1.acme.internal]

TASK [nginx : copy site config] ************************************************
fatal: [web1.acme.internal]: FAILED! => {"changed": false, "checksum": "a1b2c3", "msg": "Destination directory /etc/nginx/sites-enabled does not exist"}

PLAY RECAP *********************************************************************
web1.acme.internal         : ok=1    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0

ERROR: Job failed: exit code 2
""",
    "tox": r"""$ tox -e py37
py37 installed: attrs==19.1.0,pluggy==0.12.0,py==1.8.0,pytest==4.6.3,six==1.12.0
py37 run-test-pre: PYTHONHASHSEED='1234567'
py37 run-test: commands[0] | pytest tests
============================= test session starts ==============================
platform linux -- Python 3.7.1, pytest-4.6.3, py-1.8.0, pluggy-0.12.0
collected 42 items

tests/test_money.py ....F.....                                           [ 23%]
tests/test_cart.py ................................                      [100%]

=================================== FAILURES ===================================
______________________________ test_parse_amount _______________________________

    def test_parse_amount():
>       assert parse_amount("12,50") == 12.5
E       AssertionError: assert 1250.0 == 12.5
E        +  where 1250.0 = parse_amount('12,50')

tests/test_money.py:14: AssertionError
===================== 1 failed, 41 passed in 0.42 seconds ======================
ERROR: InvocationError for command /home/travis/build/acme/money/.tox/py37/bin/pytest tests (exited with code 1)
___________________________________ summary ____________________________________
ERROR:   py37: commands failed
travis_time:end:0a1b2c3d:start=1561111111111111111,finish=1561111112222222222,duration=1111111111
The command "tox -e py37" exited with 1.

Done. Your build exited with 1.
""",
    "rake": r"""$ bundle exec rake
/home/travis/.rvm/rubies/ruby-2.6.3/bin/ruby -I/home/travis/build/acme/money/vendor/bundle/ruby/2.6.0/gems/rspec-support-3.8.2/lib /home/travis/build/acme/money/vendor/bundle/ruby/2.6.0/gems/rspec-core-3.8.0/exe/rspec --pattern spec/\*\*\{,/\*/\*\*\}/\*_spec.rb
.....F..

Failures:

  1) Money#parse handles a decimal comma
     Failure/Error: expect(Money.parse("12,50")).to eq(12.5)

       expected: 12.5
            got: 1250.0

       (compared using ==)
     # ./spec/money_spec.rb:14:in `block (3 levels) in <top (required)>'

Finished in 0.02 seconds (files took 0.31 seconds to load)
8 examples, 1 failure

Failed examples:

rspec ./spec/money_spec.rb:13 # Money#parse handles a decimal comma

/home/travis/.rvm/rubies/ruby-2.6.3/bin/ruby -I/home/travis/build/acme/money/vendor/bundle/ruby/2.6.0/gems/rspec-support-3.8.2/lib /home/travis/build/acme/money/vendor/bundle/ruby/2.6.0/gems/rspec-core-3.8.0/exe/rspec --pattern spec/\*\*\{,/\*/\*\*\}/\*_spec.rb failed
travis_time:end:0a1b2c3d:start=1561111111111111111,finish=1561111112222222222,duration=1111111111
The command "bundle exec rake" exited with 1.

Done. Your build exited with 1.
""",
    "ctest": r"""$ cd build && ctest --output-on-failure
Test project /home/travis/build/acme/money/build
    Start 1: parse_test
1/3 Test #1: parse_test .......................   Passed    0.01 sec
    Start 2: money_test
2/3 Test #2: money_test .......................***Failed    0.02 sec
money_test.cpp:27: FAILED:
  REQUIRE( parse("12,50") == 12.5 )
with expansion:
  1250.0 == 12.5
===============================================================================
test cases: 4 | 3 passed | 1 failed
assertions: 9 | 8 passed | 1 failed

    Start 3: cart_test
3/3 Test #3: cart_test ........................   Passed    0.01 sec

67% tests passed, 1 tests failed out of 3

Total Test time (real) =   0.05 sec

The following tests FAILED:
      2 - money_test (Failed)
Errors while running CTest
travis_time:end:0a1b2c3d:start=1561111111111111111,finish=1561111112222222222,duration=1111111111
The command "cd build && ctest --output-on-failure" exited with 8.

Done. Your build exited with 1.
""",
    "surefire2": r"""$ mvn test -B
[INFO] Scanning for projects...
-------------------------------------------------------
 T E S T S
-------------------------------------------------------
Running com.acme.money.MoneyTest
Tests run: 4, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.05 sec <<< FAILURE!
testParseComma(com.acme.money.MoneyTest)  Time elapsed: 0.01 sec  <<< FAILURE!
java.lang.AssertionError: expected:<12.5> but was:<1250.0>
    at org.junit.Assert.fail(Assert.java:88)
    at org.junit.Assert.failNotEquals(Assert.java:834)
    at com.acme.money.MoneyTest.testParseComma(MoneyTest.java:27)

Running com.acme.money.CartTest
Tests run: 6, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.02 sec

Results :

Failed tests:
  MoneyTest.testParseComma:27 expected:<12.5> but was:<1250.0>

Tests run: 10, Failures: 1, Errors: 0, Skipped: 0

[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[INFO] Total time: 4.112 s
[INFO] Finished at: 2019-06-21T10:12:41Z
[INFO] ------------------------------------------------------------------------
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.12.4:test (default-test) on project money: There are test failures.
[ERROR]
[ERROR] Please refer to /home/travis/build/acme/money/target/surefire-reports for the individual test results.
[ERROR] -> [Help 1]
The command "mvn test -B" exited with 1.

Done. Your build exited with 1.
""",
    "nunit": r"""$ mono ./testrunner/NUnit.ConsoleRunner.3.10.0/tools/nunit3-console.exe ./Money.Tests/bin/Release/Money.Tests.dll
NUnit Console Runner 3.10.0 (.NET 2.0)
Copyright (c) 2019 Charlie Poole, Rob Prouse

Runtime Environment
   OS Version: Linux 4.15.0.1028
  CLR Version: 4.0.30319.42000

Test Files
    ./Money.Tests/bin/Release/Money.Tests.dll


Errors, Failures and Warnings

1) Failed : Money.Tests.ParseTests.ParsesDecimalComma
  Expected: 12.5m
  But was:  1250m
   at Money.Tests.ParseTests.ParsesDecimalComma() in /home/travis/build/acme/money/Money.Tests/ParseTests.cs:line 27

Run Settings
    DisposeRunners: True
    WorkDirectory: /home/travis/build/acme/money

Test Run Summary
  Overall result: Failed
  Test Count: 12, Passed: 11, Failed: 1, Warnings: 0, Inconclusive: 0, Skipped: 0
    Failed Tests - Failures: 1, Errors: 0, Invalid: 0
  Start time: 2019-06-21 10:12:41Z
    Duration: 0.412 seconds

Results (nunit3) saved as TestResult.xml
The command "mono ./testrunner/NUnit.ConsoleRunner.3.10.0/tools/nunit3-console.exe ./Money.Tests/bin/Release/Money.Tests.dll" exited with 1.

Done. Your build exited with 1.
""",
    "phplint": r"""$ find src -name '*.php' -print0 | xargs -0 -n1 php -l
No syntax errors detected in src/Money.php
PHP Parse error:  syntax error, unexpected '}', expecting ';' in src/Cart.php on line 41
Errors parsing src/Cart.php
No syntax errors detected in src/Tax.php
The command "find src -name '*.php' -print0 | xargs -0 -n1 php -l" exited with 123.

Done. Your build exited with 1.
""",
    "phpcs": r"""$ vendor/bin/phpcs --standard=PSR2 src

FILE: /home/travis/build/acme/money/src/Cart.php
----------------------------------------------------------------------
FOUND 1 ERROR AFFECTING 1 LINE
----------------------------------------------------------------------
 41 | ERROR | [x] Expected 1 space after closing parenthesis; found 0
----------------------------------------------------------------------
PHPCBF CAN FIX THE 1 MARKED SNIFF VIOLATIONS AUTOMATICALLY
----------------------------------------------------------------------

Time: 120ms; Memory: 6MB

The command "vendor/bin/phpcs --standard=PSR2 src" exited with 2.

Done. Your build exited with 1.
""",
    "busted": r"""$ busted --verbose
●●●◼●●
5 successes / 1 failure / 0 errors / 0 pending : 0.012 seconds

Failure → spec/money_spec.lua @ 12
Money parse handles a decimal comma
spec/money_spec.lua:14: Expected objects to be the same.
Passed in:
(number) 1250
Expected:
(number) 12.5

The command "busted --verbose" exited with 1.

Done. Your build exited with 1.
""",
    "luacheck": r"""$ luacheck src
Checking src/cart.lua                             1 warning

    src/cart.lua:41:11: unused variable 'total'

Checking src/money.lua                            OK

Total: 1 warning / 0 errors in 2 files
The command "luacheck src" exited with 1.

Done. Your build exited with 1.
""",
    "hlint": r"""$ hlint src
src/Money.hs:41:11: Warning: Use fmap
Found:
  liftM parse xs
Perhaps:
  fmap parse xs

1 hint
The command "hlint src" exited with 1.

Done. Your build exited with 1.
""",
    "gradletest": r"""$ ./gradlew check
> Task :compileJava
> Task :test

com.acme.money.MoneyTest > parses a decimal comma FAILED
    org.opentest4j.AssertionFailedError: expected: <12.5> but was: <1250.0>
        at com.acme.money.MoneyTest.parsesDecimalComma(MoneyTest.java:27)

42 tests completed, 1 failed

> Task :test FAILED

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':test'.
> There were failing tests. See the report at: file:///home/travis/build/acme/money/build/reports/tests/test/index.html

* Try:
Run with --stacktrace option to get the stack trace. Run with --info or --debug option to get more log output. Run with --scan to get full insights.

BUILD FAILED in 21s
The command "./gradlew check" exited with 1.

Done. Your build exited with 1.
""",
    "clippy": r"""$ cargo clippy -- -D warnings
    Checking money v0.1.0 (/home/travis/build/acme/money)
error: this `if` has identical blocks
  --> src/cart.rs:41:9
   |
41 |         if total > 0 { apply(total) } else { apply(total) }
   |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = note: `-D clippy::if-same-then-else` implied by `-D warnings`
   = help: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#if_same_then_else

error: aborting due to previous error

error: could not compile `money`.

To learn more, run the command again with --verbose.
The command "cargo clippy -- -D warnings" exited with 101.

Done. Your build exited with 1.
""",
    "rustfmt": r"""$ cargo fmt -- --check
Diff in /home/travis/build/acme/money/src/cart.rs at line 38:

 pub fn total(items: &[Item]) -> u64 {
-    items.iter().map(|i| i.price).sum::<u64>()
+    items
+        .iter()
+        .map(|i| i.price)
+        .sum::<u64>()
 }

The command "cargo fmt -- --check" exited with 1.

Done. Your build exited with 1.
""",
    "ava": r"""$ npm test

> money@1.0.0 test /home/travis/build/acme/money
> ava

  ✔ cart › sums lines
  ✖ money › parses a decimal comma

  1 test failed

  money › parses a decimal comma

  test/money.js:14

   13:   const amount = parse('12,50');
   14:   t.is(amount, 12.5);
   15: });

  Difference:

  - 1250
  + 12.5

npm ERR! Test failed.  See above for more details.
The command "npm test" exited with 1.

Done. Your build exited with 1.
""",
    "xctool": r"""$ xctool -workspace Money.xcworkspace -scheme MoneyTests -sdk iphonesimulator test
[Info] Loading settings for scheme 'MoneyTests' ...
=== TEST ===
  ✓ -[CartTests testTotal] (3 ms)
  ✗ -[MoneyTests testParseComma] (12 ms)
    /Users/travis/build/acme/money/MoneyTests/MoneyTests.m:27: error: -[MoneyTests testParseComma] : ((amount) equal to (12.5)) failed: ("1250") is not equal to ("12.5")

  MoneyTests - 1 of 2 tests passed (15 ms)

** TEST FAILED: 1 passed, 1 failed, 0 errored, 2 total ** (1.2 seconds)
The command "xctool -workspace Money.xcworkspace -scheme MoneyTests -sdk iphonesimulator test" exited with 1.

Done. Your build exited with 1.
""",
    "vader": r"""$ vim -Nu test/vimrc -c 'Vader! test/*.vader'
Starting Vader: 1 suite(s), 3 case(s)
  Starting Vader: /home/travis/build/acme/money.vim/test/money.vader
    (1/3) [EXECUTE] parses a decimal comma
    (1/3) [EXECUTE] (X) Expected: 12.5
          Got: 1250
    (2/3) [EXECUTE] sums lines
    (3/3) [EXECUTE] formats
  Success/Total: 2/3
Success/Total: 2/3 (assertions: 2/3)
Elapsed time: 0.12 sec.
The command "vim -Nu test/vimrc -c 'Vader! test/*.vader'" exited with 1.

Done. Your build exited with 1.
""",
    "npm6mocha": r"""$ npm test

> money@1.0.0 test /home/travis/build/acme/money
> mocha test/

  parse
    ✓ parses integers
    1) parses a decimal comma

  1 passing (12ms)
  1 failing

  1) parse
       parses a decimal comma:

      AssertionError [ERR_ASSERTION]: 1250 == 12.5
      + expected - actual

      -1250
      +12.5

      at Context.<anonymous> (test/parse.test.js:14:12)

npm ERR! code ELIFECYCLE
npm ERR! errno 1
npm ERR! money@1.0.0 test: `mocha test/`
npm ERR! Exit status 1
npm ERR!
npm ERR! Failed at the money@1.0.0 test script.
npm ERR! This is probably not a problem with npm. There is likely additional logging output above.

npm ERR! A complete log of this run can be found in:
npm ERR!     /home/travis/.npm/_logs/2019-06-21T10_12_41_123Z-debug.log
The command "npm test" exited with 1.

Done. Your build exited with 1.
""",
    "checkstyle": r"""$ mvn -B verify
[INFO] --- maven-checkstyle-plugin:3.0.0:check (validate) @ money ---
[INFO] There is 1 error reported by Checkstyle 8.18 with checkstyle.xml ruleset.
[ERROR] src/main/java/com/acme/money/Cart.java:[41,9] (whitespace) WhitespaceAround: '{' is not preceded with whitespace.
[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[INFO] Total time: 3.412 s
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-checkstyle-plugin:3.0.0:check (validate) on project money: You have 1 Checkstyle violation. -> [Help 1]
[ERROR]
[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.
The command "mvn -B verify" exited with 1.

Done. Your build exited with 1.
""",
    "rspecload": r"""$ bundle exec rspec

An error occurred while loading ./spec/models/cart_spec.rb.
Failure/Error: require "cart/discount"

LoadError:
  cannot load such file -- cart/discount
# ./spec/models/cart_spec.rb:3:in `<top (required)>'
No examples found.

Finished in 0.00031 seconds (files took 0.41 seconds to load)
0 examples, 0 failures, 1 error occurred outside of examples

The command "bundle exec rspec" exited with 1.

Done. Your build exited with 1.
""",
    "gopath": r"""$ go test -v ./...
money/parse.go:6:2: cannot find package "github.com/shopspring/decimal" in any of:
    /home/travis/.gimme/versions/go1.11.linux.amd64/src/github.com/shopspring/decimal (from $GOROOT)
    /home/travis/gopath/src/github.com/shopspring/decimal (from $GOPATH)
The command "go test -v ./..." exited with 1.

Done. Your build exited with 1.
""",
    "stackplan": r"""$ stack --no-terminal build --test
Error: While constructing the build plan, the following exceptions were encountered:

In the dependencies for money-0.1.0.0:
    aeson-2.0.0.0 from stack configuration does not match >=1.4 && <1.5  (latest matching version is 1.4.7.1)
needed since money is a build target.

Some different approaches to resolving this:

  * Set 'allow-newer: true' in /home/travis/.stack/config.yaml to ignore all version constraints and build anyway.

The command "stack --no-terminal build --test" exited with 1.

Done. Your build exited with 1.
""",
    "androidlic": r"""$ ./gradlew assembleDebug
Downloading https://services.gradle.org/distributions/gradle-5.4.1-all.zip
FAILURE: Build failed with an exception.

* What went wrong:
Could not determine the dependencies of task ':app:compileDebugJavaWithJavac'.
> Failed to install the following Android SDK packages as some licences have not been accepted.
     platforms;android-29 Android SDK Platform 29
  To build this project, accept the SDK license agreements and install the missing components using the Android Studio SDK Manager.

* Try:
Run with --stacktrace option to get the stack trace. Run with --info or --debug option to get more log output. Run with --scan to get full insights.

BUILD FAILED in 12s
The command "./gradlew assembleDebug" exited with 1.

Done. Your build exited with 1.
""",
    "gradlejava": r"""$ ./gradlew build

FAILURE: Build failed with an exception.

* What went wrong:
Could not determine java version from '11.0.2'.

* Try:
Run with --stacktrace option to get the stack trace. Run with --info or --debug option to get more log output. Run with --scan to get full insights.

* Get more help at https://help.gradle.org
The command "./gradlew build" exited with 1.

Done. Your build exited with 1.
""",
    "black": r"""$ black --check .
would reformat /home/travis/build/acme/money/money/parse.py
Oh no! 💥 💔 💥
1 file would be reformatted, 12 files would be left unchanged.
The command "black --check ." exited with 1.

Done. Your build exited with 1.
""",
    "isort": r"""$ isort --check-only --diff -rc money
ERROR: /home/travis/build/acme/money/money/parse.py Imports are incorrectly sorted.
--- /home/travis/build/acme/money/money/parse.py:before    2019-06-21 10:12:41.123456
+++ /home/travis/build/acme/money/money/parse.py:after    2019-06-21 10:12:41.223456
@@ -1,3 +1,3 @@
-import re
 import decimal
+import re
The command "isort --check-only --diff -rc money" exited with 1.

Done. Your build exited with 1.
""",
    "standard": r"""$ npm run lint

> money@1.0.0 lint /home/travis/build/acme/money
> standard

standard: Use JavaScript Standard Style (https://standardjs.com)
  /home/travis/build/acme/money/lib/parse.js:14:3: Expected '===' and instead saw '=='.
npm ERR! code ELIFECYCLE
npm ERR! errno 1
npm ERR! money@1.0.0 lint: `standard`
npm ERR! Exit status 1
The command "npm run lint" exited with 1.

Done. Your build exited with 1.
""",
    "pytestcollect": r"""$ pytest
============================= test session starts ==============================
platform linux -- Python 3.6.7, pytest-4.6.3, py-1.8.0, pluggy-0.12.0
rootdir: /home/travis/build/acme/money
collected 12 items / 1 errors

==================================== ERRORS ====================================
____________________ ERROR collecting tests/test_parse.py _____________________
ImportError while importing test module '/home/travis/build/acme/money/tests/test_parse.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
tests/test_parse.py:3: in <module>
    from money.parse import parse_amount
E   ModuleNotFoundError: No module named 'money.parse'
!!!!!!!!!!!!!!!!!!! Interrupted: 1 errors during collection !!!!!!!!!!!!!!!!!!!!
=========================== 1 error in 0.12 seconds ============================
The command "pytest" exited with 2.

Done. Your build exited with 1.
""",
}

# log, tokens the summary names, the line the evidence quotes, the category
CASES = [
    (
        "rspec",
        ["./spec/models/invoice_spec.rb:24", "Failure/Error"],
        "1) Invoice#total applies the discount",
        Category.test,
    ),
    (
        "minitest",
        ["OrderTest#test_total_includes_shipping", "Expected: 1500"],
        "OrderTest#test_total_includes_shipping [",
        Category.test,
    ),
    (
        "phpunit",
        ["Tests\\Unit\\InvoiceTest::testTotalAppliesDiscount", "Failed asserting that 100.0"],
        "1) Tests\\Unit\\InvoiceTest",
        Category.test,
    ),
    ("cucumber", ['expected "Total: 100.00"'], 'expected "Total: 100.00"', Category.test),
    (
        "dotnet",
        ["Assert.Equal() Failure", "Api.Tests.InvoiceTests.TotalAppliesDiscount"],
        "Failed Api.Tests.InvoiceTests.TotalAppliesDiscount [14 ms]",
        Category.test,
    ),
    (
        "sbt",
        ["should apply the discount *** FAILED ***", "InvoiceSpec.scala:27"],
        "100 did not equal 90",
        Category.test,
    ),
    ("scalac", ["Invoice.scala:14:18: type mismatch"], "Invoice.scala:14:18: type mismatch", Category.build),
    ("ghc", ["src/Pricing/Invoice.hs:14:18", "GHC-83865"], "src/Pricing/Invoice.hs:14:18: error:", Category.build),
    ("dart", ["Invoice applies the discount", "Expected: <90>"], "Invoice applies the discount [E]", Category.test),
    (
        "flutter",
        ["shows the discounted total", "Expected: exactly one matching candidate"],
        "The following TestFailure was thrown",
        Category.test,
    ),
    ("swiftpm", ["InvoiceTests.swift:27", "XCTAssertEqual failed"], "XCTAssertEqual failed", Category.test),
    ("gotest", ["TestInvoiceTotal", "invoice_test.go:42"], "invoice_test.go:42: Total() = 100, want 90", Category.test),
    (
        "cargotest",
        ["invoice::tests::applies_discount", "src/invoice.rs:42:9"],
        "panicked at src/invoice.rs:42:9",
        Category.test,
    ),
    ("bazel", ["//pricing:invoice_test", "invoice_test.cc:27: Failure"], "invoice_test.cc:27: Failure", Category.test),
    (
        "bazelbuild",
        ["pricing/invoice.cc:14:10", "'applyDiscount' was not declared"],
        "pricing/invoice.cc:14:10: error:",
        Category.build,
    ),
    ("npm_eresolve", ["ERESOLVE", "While resolving: shop-web@1.4.0"], "npm ERR! code ERESOLVE", Category.dependency),
    ("pnpm", ["ERR_PNPM_OUTDATED_LOCKFILE"], "ERR_PNPM_OUTDATED_LOCKFILE", Category.dependency),
    ("yarn", ['The engine "node" is incompatible'], 'The engine "node" is incompatible', Category.configuration),
    (
        "composer",
        ["Your lock file does not contain a compatible set of packages", "Problem 1"],
        "Your lock file does not contain",
        Category.dependency,
    ),
    ("poetry", ["version solving failed", "pydantic"], "version solving failed", Category.dependency),
    ("docker", ["@acme/ui@^2.1.0", "npm ci --omit=dev"], "is not in this registry", Category.build),
    (
        "terraform_validate",
        ["Unsupported argument", "modules/network/main.tf line 27"],
        "Error: Unsupported argument",
        Category.deploy,
    ),
    ("kubectl_apply", ['The Deployment "worker" is invalid'], 'The Deployment "worker" is invalid', Category.deploy),
    ("shellcheck", ["scripts/deploy.sh line 14", "SC2086"], "SC2086 (info): Double quote", Category.lint),
    ("pylint", ["src/pricing/invoice.py:27:4", "W0612"], "W0612: Unused variable", Category.lint),
    ("rubocop", ["app/models/invoice.rb:27:5", "Style/GuardClause"], "Style/GuardClause", Category.lint),
    ("golangci", ["internal/invoice/invoice.go:31:2", "ineffassign"], "(ineffassign)", Category.lint),
    ("eslint_unix", ["Cart.tsx:12:7", "no-unused-vars"], "[Error/@typescript-eslint/no-unused-vars]", Category.lint),
    (
        "kotlinc",
        ["Cart.kt:27:18 Type mismatch", ":app:compileDebugKotlin"],
        "e: file:///builds/acme/android/app/src/main/java/com/acme/Cart.kt:27:18",
        Category.build,
    ),
    ("android_lint", ["activity_main.xml:14", "HardcodedText"], "activity_main.xml:14: Error:", Category.lint),
    (
        "pods",
        ['CocoaPods could not find compatible versions for pod "Alamofire"'],
        "[!] CocoaPods could not find",
        Category.dependency,
    ),
    (
        "ansible",
        ["fatal: [web1.acme.internal]: FAILED!", "Destination directory"],
        "fatal: [web1.acme.internal]: FAILED!",
        Category.deploy,
    ),
    ("tox", ["AssertionError: assert 1250.0 == 12.5"], "E       AssertionError: assert 1250.0 == 12.5", Category.test),
    (
        "rake",
        ["./spec/money_spec.rb:13", "Money#parse handles a decimal comma"],
        "1) Money#parse handles a decimal comma",
        Category.test,
    ),
    (
        "ctest",
        ["money_test.cpp:27: FAILED", 'REQUIRE( parse("12,50") == 12.5 )'],
        "money_test.cpp:27: FAILED:",
        Category.test,
    ),
    (
        "surefire2",
        ["testParseComma(com.acme.money.MoneyTest)", "expected:<12.5> but was:<1250.0>"],
        "testParseComma(com.acme.money.MoneyTest)",
        Category.test,
    ),
    (
        "nunit",
        ["Money.Tests.ParseTests.ParsesDecimalComma", "Expected: 12.5m"],
        "1) Failed : Money.Tests.ParseTests.ParsesDecimalComma",
        Category.test,
    ),
    ("phplint", ["src/Cart.php on line 41"], "PHP Parse error:", Category.build),
    (
        "phpcs",
        ["src/Cart.php", "41 | ERROR | [x] Expected 1 space"],
        " 41 | ERROR | [x] Expected 1 space",
        Category.lint,
    ),
    ("busted", ["spec/money_spec.lua:14: Expected objects to be the same."], "spec/money_spec.lua:14", Category.test),
    ("luacheck", ["src/cart.lua:41:11: unused variable 'total'"], "src/cart.lua:41:11", Category.lint),
    ("hlint", ["src/Money.hs:41:11: Warning: Use fmap"], "src/Money.hs:41:11", Category.lint),
    (
        "gradletest",
        ["com.acme.money.MoneyTest > parses a decimal comma", "expected: <12.5> but was: <1250.0>"],
        "AssertionFailedError: expected: <12.5>",
        Category.test,
    ),
    (
        "clippy",
        ["this `if` has identical blocks", "src/cart.rs:41:9"],
        "error: this `if` has identical blocks",
        Category.lint,
    ),
    (
        "rustfmt",
        ["Diff in /home/travis/build/acme/money/src/cart.rs at line 38"],
        "Diff in /home/travis/build/acme/money/src/cart.rs",
        Category.lint,
    ),
    ("ava", ["money › parses a decimal comma"], "✖ money › parses a decimal comma", Category.test),
    ("xctool", ["MoneyTests.m:27", "testParseComma"], "MoneyTests.m:27: error:", Category.test),
    ("vader", ["(X) Expected: 12.5", "Got: 1250"], "(1/3) [EXECUTE] (X) Expected: 12.5", Category.test),
    (
        "npm6mocha",
        ["parses a decimal comma", "AssertionError [ERR_ASSERTION]: 1250 == 12.5"],
        "AssertionError [ERR_ASSERTION]",
        Category.test,
    ),
    (
        "checkstyle",
        ["Cart.java:[41,9]", "WhitespaceAround"],
        "Cart.java:[41,9] (whitespace) WhitespaceAround",
        Category.lint,
    ),
    (
        "rspecload",
        ["cannot load such file -- cart/discount", "./spec/models/cart_spec.rb"],
        "An error occurred while loading ./spec/models/cart_spec.rb.",
        Category.test,
    ),
    (
        "gopath",
        ['money/parse.go:6:2: cannot find package "github.com/shopspring/decimal"'],
        "money/parse.go:6:2",
        Category.build,
    ),
    (
        "stackplan",
        ["While constructing the build plan", "aeson-2.0.0.0"],
        "While constructing the build plan",
        Category.dependency,
    ),
    (
        "androidlic",
        ["licences have not been accepted"],
        "Failed to install the following Android SDK packages",
        Category.build,
    ),
    (
        "gradlejava",
        ["Could not determine java version from '11.0.2'"],
        "Could not determine java version from '11.0.2'.",
        Category.build,
    ),
    (
        "black",
        ["would reformat /home/travis/build/acme/money/money/parse.py"],
        "would reformat /home/travis/build/acme/money/money/parse.py",
        Category.lint,
    ),
    ("isort", ["parse.py Imports are incorrectly sorted"], "Imports are incorrectly sorted", Category.lint),
    ("standard", ["lib/parse.js:14:3", "Expected '===' and instead saw '=='"], "lib/parse.js:14:3", None),
    (
        "pytestcollect",
        ["tests/test_parse.py", "ImportError while importing test module"],
        "ERROR collecting tests/test_parse.py",
        Category.test,
    ),
]


def offline_answer(log: str):
    """The offline answer to a job log, as the analysis job gives it for a script that failed."""
    return analyze(excerpt(log.encode()), failure_reason="script_failure")


def answer_for(name: str):
    return offline_answer(LOGS[name])


def assert_specific(name: str, answer, tokens: list[str], quoted: str, category: Category | None) -> None:
    """The headline names every decisive token, a shown evidence line quotes the failure, the category is right,
    and the runner's verdict is not the headline (shared with test_offline_formats2.py)."""
    headline = answer.summary[:SCORED_SUMMARY]
    for token in tokens:
        assert token in headline, f"{name}: {token!r} not in {headline!r}"
    assert any(quoted in e.text for e in answer.evidence[:SCORED_EVIDENCE]), [e.text for e in answer.evidence]
    assert category is None or answer.category is category
    assert "Job failed" not in headline, "the runner's line is not the failure when the tool said why"


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_decisive_token_and_the_evidence_quotes_its_line(name, tokens, quoted, category):
    assert_specific(name, answer_for(name), tokens, quoted, category)


def test_a_minitest_report_is_stated_by_its_first_failure_not_the_next_one():
    summary = answer_for("minitest").summary
    assert summary.startswith("OrderTest#test_total_includes_shipping")
    assert "UserTest" not in summary and "Error:" not in summary


def test_bazel_and_gradle_wrappers_give_way_to_the_compilers_own_error():
    assert answer_for("bazelbuild").summary.startswith("pricing/invoice.cc:14:10: error:")
    assert answer_for("kotlinc").summary.startswith("e: file:///")
    assert "A failure occurred while executing" not in answer_for("kotlinc").summary


def test_a_dart_tally_is_not_the_failure():
    assert "Some tests failed" not in answer_for("dart").summary
    assert "Test failed. See exception logs above" not in answer_for("flutter").summary


def test_runner_tallies_and_advice_end_a_failures_detail():
    assert "Run completed in" not in answer_for("sbt").summary
    assert "RUST_BACKTRACE" not in answer_for("cargotest").summary
    assert "Elapsed time" not in answer_for("bazel").summary
    assert not answer_for("scalac").summary.rstrip().endswith("^")


def test_an_ansible_failure_does_not_blame_the_change():
    assert answer_for("ansible").verdict.value == "unknown"


def test_a_summary_that_repeats_an_error_without_its_place_gives_way_to_the_error_with_it():
    # xcodebuild's "Testing failed:" repeats the compiler's message without its file and line; the excerpt may
    # lead with that summary when the error was printed far above it.
    texts = [
        "$ set -o pipefail && xcodebuild -scheme Shop -destination 'platform=iOS Simulator,name=iPhone 14' test | xcpretty",
        "▸ Compiling Cart.swift",
        "❌  /Users/runner/work/shop/Sources/Cart/Cart.swift:41:9: cannot find 'applyCoupon' in scope",
        "        applyCoupon(code)",
        "        ^~~~~~~~~~~",
        "** TEST BUILD FAILED **",
        *[f"▸ Compiling {name}.swift" for name in ("Payment", "Shipping", "Tax", "Coupon", "Address", "Order")],
        "Testing failed:",
        "\tCannot find 'applyCoupon' in scope",
        "\tTesting cancelled because the build failed.",
        "",
        "** TEST FAILED **",
        "ERROR: Job failed: exit code 65",
    ]
    ex = Excerpt([ExcerptLine(i + 1, t) for i, t in enumerate(texts)], lead=(13, 17))
    answer = analyze(ex, failure_reason="script_failure")
    assert "Cart.swift:41:9" in answer.summary[:SCORED_SUMMARY]
    assert answer.evidence[0].line == 3


AWESOME_BOT = """$ awesome_bot README.md --allow-redirect --white-list example.org
> Checking links in README.md
> Will allow redirects
> White list links matching: example.org
Links to check: 212, 1 white listed
  1. https://github.com/vinta/awesome-python
  2. https://docs.python.org/3/
Checking URLs: ✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓x✓✓✓✓✓✓✓✓
Checking white listed URLs: ✓

> White listed:
  1. [L012] 200 https://example.org/docs

Issues :-(
> Links
  1. [L145] 404 https://github.com/someone/retired-parser
  2. [L188] 301 https://flask.pocoo.org  → https://flask.palletsprojects.com/
> Dupes
  None ✓

Wrote results to ab-results-README.md.json
ERROR: Job failed: exit code 1
"""


def test_a_link_checkers_report_is_stated_by_its_first_broken_link_not_the_ignored_ones():
    answer = offline_answer(AWESOME_BOT)
    assert answer.summary.startswith("1. [L145] 404 https://github.com/someone/retired-parser")
    assert "L012" not in answer.summary
    assert answer.evidence[0].text.strip().startswith("1. [L145]")


def test_a_project_frame_is_stated_before_the_test_frameworks_own():
    # JUnit's `at org.junit.Assert.fail` is where the assertion was thrown; the project's frame says which line.
    cause = answer_for("surefire2").root_cause
    assert "MoneyTest.java:27" in cause and "org.junit.Assert.fail" not in cause
    assert "Time elapsed" not in answer_for("surefire2").summary


def test_gradles_advice_ends_what_went_wrong():
    assert "Run with --stacktrace" not in answer_for("gradlejava").summary
