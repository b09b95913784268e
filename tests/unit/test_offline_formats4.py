"""The offline analyzer on a fourth set of tool output formats (test_offline_formats.py's method, other tools): hand-
written tails of GitLab CI, Travis CI and GitHub Actions logs, the CI's framing around a tool's own report, each
asserting that the summary names the decisive token in the tool's own words and that the evidence quotes the line
that says it."""

from __future__ import annotations

import pytest

from bot.core.types import Category
from tests.unit.test_offline_formats import SCORED_SUMMARY, assert_specific, offline_answer
from tests.unit.test_offline_formats2 import job
from tests.unit.test_offline_formats3 import travis


def actions(command: str, body: str, code: int = 1) -> str:
    """A GitHub Actions job log as its raw download has it: a timestamp on every line, the runner's groups, the
    checkout step, the failing `run:` step (its group echoes the command and shell), the step's output, the
    runner's `##[error]Process completed with exit code N.`, and the post-job clean-up."""
    lines = [
        "Current runner version: '2.311.0'",
        "##[group]Operating System",
        "Ubuntu",
        "22.04.3",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-22.04",
        "Version: 20231126.1.0",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        "Download action repository 'actions/checkout@v4' (SHA:b4ffde65f46336ab88eb53be808477a3936bae11)",
        "Complete job name: test",
        "##[group]Run actions/checkout@v4",
        "with:",
        "  repository: acme/shop",
        "  token: ***",
        "##[endgroup]",
        "Syncing repository: acme/shop",
        "[command]/usr/bin/git checkout --progress --force -B main refs/remotes/origin/main",
        "Switched to a new branch 'main'",
        f"##[group]Run {command}",
        command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *body.strip("\n").split("\n"),
        f"##[error]Process completed with exit code {code}.",
        "Post job cleanup.",
        "[command]/usr/bin/git version",
        "git version 2.43.0",
        "Cleaning up orphan processes",
    ]
    return "".join(f"2026-12-08T09:12:{10 + i // 20:02d}.{i:07d}Z {line}\n" for i, line in enumerate(lines))


# coverage.py's report, as `coverage report` and pytest-cov print it
COVERAGE_REPORT = """Name                    Stmts   Miss  Cover
-------------------------------------------
app/__init__.py             2      0   100%
app/billing.py             88     31    65%
app/views.py               54     12    78%
-------------------------------------------
TOTAL                     144     43    70%
"""

LOGS: dict[str, str] = {
    "flake8": job(
        "python:3.12-slim",
        r"""
$ pip install flake8==7.0.0
Successfully installed flake8-7.0.0 mccabe-0.7.0 pycodestyle-2.11.1 pyflakes-3.2.0
$ flake8 .
./app/billing.py:3:1: F401 'os' imported but unused
./app/billing.py:41:80: E501 line too long (94 > 79 characters)
./app/views.py:12:5: E303 too many blank lines (3)
""",
    ),
    "bandit": job(
        "python:3.12-slim",
        r"""
$ bandit -r app -ll
[main]	INFO	profile include tests: None
[main]	INFO	profile exclude tests: None
[main]	INFO	cli include tests: None
[main]	INFO	cli exclude tests: None
[main]	INFO	running on Python 3.12.1
Run started:2026-12-08 09:12:44.201234

Test results:
>> Issue: [B602:subprocess_popen_with_shell_equals_true] subprocess call with shell=True identified, security issue.
   Severity: High   Confidence: High
   CWE: CWE-78 (https://cwe.mitre.org/data/definitions/78.html)
   More Info: https://bandit.readthedocs.io/en/1.7.6/plugins/b602_subprocess_popen_with_shell_equals_true.html
   Location: app/export.py:42:8
41	    cmd = f"pg_dump {db_name} > {path}"
42	    subprocess.call(cmd, shell=True)
43

--------------------------------------------------

Code scanned:
	Total lines of code: 1834
	Total lines skipped (#nosec): 0

Run metrics:
	Total issues (by severity):
		Undefined: 0
		Low: 3
		Medium: 0
		High: 1
	Total issues (by confidence):
		Undefined: 0
		Low: 0
		Medium: 1
		High: 3
Files skipped (0):
""",
    ),
    "yamllint": job(
        "cytopia/yamllint:1.33",
        r"""
$ yamllint -s .
./deploy/values.yaml
  12:3      error    wrong indentation: expected 4 but found 2  (indentation)
  27:81     warning  line too long (94 > 80 characters)  (line-length)

./.gitlab-ci.yml
  3:1       warning  missing document start "---"  (document-start)

""",
    ),
    "semgrep": job(
        "semgrep/semgrep:1.52.0",
        r"""
$ semgrep scan --config p/python --error --metrics off
METRICS: Using configs from the Registry (like --config=p/python) requires metrics.

┌──── ○○○ ────┐
│ Semgrep CLI │
└─────────────┘

Scanning 86 files (only git-tracked) with 412 Code rules:

  CODE RULES
  Scanning 86 files with 412 python rules.

  PROGRESS
  100% 0:00:04


┌──────────────────┐
│ 1 Code Finding   │
└──────────────────┘

    app/views.py
    ❯❯❱ python.lang.security.audit.formatted-sql-query.formatted-sql-query
          Detected possible formatted SQL query. Use parameterized queries instead.
          Details: https://sg.run/EkWw

           24┆ cursor.execute("SELECT * FROM invoice WHERE id = %s" % invoice_id)



┌──────────────┐
│ Scan Summary │
└──────────────┘

Ran 412 rules on 86 files: 1 finding.
""",
    ),
    "pip_audit": job(
        "python:3.12-slim",
        r"""
$ pip install pip-audit==2.6.2
Successfully installed pip-audit-2.6.2
$ pip-audit -r requirements.txt
Found 2 known vulnerabilities in 1 package
Name   Version ID                  Fix Versions
------ ------- ------------------- ------------
jinja2 3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3
jinja2 3.1.2   GHSA-h75v-3vvj-5mfj 3.1.4
""",
    ),
    "coverage": job(
        "python:3.12-slim",
        r"""
$ coverage run -m pytest -q
........................................                                 [100%]
40 passed in 3.21s
$ coverage report --fail-under=80
"""
        + COVERAGE_REPORT
        + "Coverage failure: total of 70 is less than fail-under=80\n",
        code=2,
    ),
    "pytest_cov": job(
        "python:3.12-slim",
        r"""
$ pytest --cov=app --cov-fail-under=80 -q
........................................                                 [100%]

---------- coverage: platform linux, python 3.12.1-final-0 -----------
"""
        + COVERAGE_REPORT
        + r"""
FAIL Required test coverage of 80% not reached. Total coverage: 70.14%
40 passed in 3.92s
""",
    ),
    "conda": job(
        "continuumio/miniconda3:23.10.0-1",
        r"""
$ conda env create -f environment.yml
Channels:
 - conda-forge
 - defaults
Platform: linux-64
Collecting package metadata (repodata.json): done
Solving environment: failed

LibMambaUnsatisfiableError: Encountered problems while solving:
  - package scikit-learn-1.3.2-py312h394d371_1 requires python >=3.12,<3.13.0a0, but none of the providers can be installed

Could not solve for environment specs
The following packages are incompatible
├─ python 3.10**  is requested and can be installed;
└─ scikit-learn 1.3.2**  is not installable because it requires
   └─ python >=3.12,<3.13.0a0 , which conflicts with any installable versions previously reported.

""",
    ),
    "nox": job(
        "python:3.11",
        r"""
$ pip install nox
Successfully installed argcomplete-3.2.1 colorlog-6.8.0 nox-2023.4.22 virtualenv-20.25.0
$ nox -s tests-3.11
nox > Running session tests-3.11
nox > Creating virtual environment (virtualenv) using python3.11 in .nox/tests-3-11
nox > python -m pip install -e '.[test]'
nox > pytest -q
..F.....                                                                 [100%]
=================================== FAILURES ===================================
____________________________ test_total_with_coupon ____________________________

    def test_total_with_coupon():
        cart = Cart([Item("book", 100)])
        cart.apply("SAVE10")
>       assert cart.total() == 90
E       assert 100 == 90
E        +  where 100 = <bound method Cart.total of <shop.cart.Cart object at 0x7f3a2c1b0d90>>()

tests/test_cart.py:14: AssertionError
=========================== short test summary info ============================
FAILED tests/test_cart.py::test_total_with_coupon - assert 100 == 90
1 failed, 7 passed in 0.42s
nox > Command pytest -q failed with exit code 1
nox > Session tests-3.11 failed.
""",
    ),
    "pulumi": job(
        "pulumi/pulumi-nodejs:3.96.2",
        r"""
$ pulumi up --yes --stack acme/prod
Updating (acme/prod)

View in Browser (Ctrl+O): https://app.pulumi.com/acme/web/prod/updates/42

     Type                      Name      Status                  Info
     pulumi:pulumi:Stack       web-prod  **failed**              1 error
 +   └─ aws:ec2:Instance       web       **creating failed**     1 error

Diagnostics:
  aws:ec2:Instance (web):
    error: 1 error occurred:
        * creating EC2 Instance: operation error EC2: RunInstances, https response error StatusCode: 400, RequestID: 5f2c6a8e-1b3d-4c5e-9f7a-0b1c2d3e4f5a, api error InvalidAMIID.NotFound: The image id '[ami-0a1b2c3d4e5f]' does not exist

  pulumi:pulumi:Stack (web-prod):
    error: update failed

Resources:
    2 unchanged

Duration: 6s

""",
        code=255,
    ),
    "pulumi_preview": job(
        "pulumi/pulumi-nodejs:3.96.2",
        r"""
$ npm ci
added 214 packages, and audited 215 packages in 9s
$ pulumi preview --stack acme/staging --diff
Previewing update (acme/staging)

View in Browser (Ctrl+O): https://app.pulumi.com/acme/web/staging/previews/0c1d2e3f

     Type                 Name         Plan     Info
     pulumi:pulumi:Stack  web-staging           1 error

Diagnostics:
  pulumi:pulumi:Stack (web-staging):
    error: Running program '/builds/acme/infra' failed with an unhandled exception:
    TSError: ⨯ Unable to compile TypeScript:
    index.ts(14,5): error TS2322: Type 'number' is not assignable to type 'string'.

""",
        code=255,
    ),
    "mypy_strict": job(
        "python:3.12-slim",
        r"""
$ mypy --strict src
src/api/billing.py:27: error: Function is missing a return type annotation  [no-untyped-def]
src/api/billing.py:27: note: Use "-> None" if function does not return a value
src/api/tax.py:8: error: Returning Any from function declared to return "Decimal"  [no-any-return]
Found 2 errors in 2 files (checked 14 source files)
""",
    ),
    "kubeconform": job(
        "alpine:3.19",
        r"""
$ kustomize build overlays/prod | kubeconform -strict -summary -kubernetes-version 1.28.0
stdin - Deployment web is invalid: problem validating schema. Check JSON formatting: jsonschema: '/spec/template/spec/containers/0/ports/0/containerPort' does not validate with deployment-apps-v1.json#/properties/spec/properties/template/properties/spec/properties/containers/items/properties/ports/items/properties/containerPort/type: expected integer, but got string
Summary: 14 resources found parsing stdin - Valid: 13, Invalid: 1, Errors: 0, Skipped: 0
""",
    ),
    "sonar": job(
        "sonarsource/sonar-scanner-cli:5.0",
        r"""
$ sonar-scanner -Dsonar.qualitygate.wait=true
INFO: Scanner configuration file: /opt/sonar-scanner/conf/sonar-scanner.properties
INFO: Project root configuration file: /builds/acme/billing/sonar-project.properties
INFO: SonarScanner 5.0.1.3006
INFO: Analysis report uploaded in 212ms
INFO: ANALYSIS SUCCESSFUL, you can find the results at: https://sonar.acme.dev/dashboard?id=acme_billing
INFO: Note that you will be able to access the updated dashboard once the server has processed the submitted analysis report
INFO: More about the report processing at https://sonar.acme.dev/api/ce/task?id=AYxQ2
INFO: ------------- Check Quality Gate status
INFO: Waiting for the analysis report to be processed (max 300s)
INFO: ------------------------------------------------------------------------
INFO: EXECUTION FAILURE
INFO: ------------------------------------------------------------------------
INFO: Total time: 48.512s
INFO: Final Memory: 17M/60M
INFO: ------------------------------------------------------------------------
ERROR: Error during SonarScanner execution
ERROR: QUALITY GATE STATUS: FAILED - View details on https://sonar.acme.dev/dashboard?id=acme_billing
ERROR:
""",
        code=2,
    ),
    "nx": job(
        "node:20",
        r"""
$ npx nx affected -t test --base=origin/main
 >  NX   Running target test for 2 projects:

    - cart
    - ui

 ——————————————————————————————————————————————————————————————————————————————

> nx run ui:test

 PASS   ui  libs/ui/src/button.spec.tsx
Test Suites: 1 passed, 1 total
Tests:       3 passed, 3 total

> nx run cart:test

 FAIL   cart  libs/cart/src/lib/cart.spec.ts
  ● Cart › applies a coupon

    expect(received).toBe(expected) // Object.is equality

    Expected: 90
    Received: 100

      12 |     cart.apply('SAVE10');
    > 13 |     expect(cart.total()).toBe(90);
         |                          ^
      14 |   });

      at Object.<anonymous> (libs/cart/src/lib/cart.spec.ts:13:26)

Test Suites: 1 failed, 1 total
Tests:       1 failed, 3 passed, 4 total
Snapshots:   0 total
Time:        2.311 s
Ran all test suites.

 ——————————————————————————————————————————————————————————————————————————————

 >  NX   Ran target test for 2 projects (9s)

    ✔  1/2 succeeded [0 read from cache]

    ✖  1/2 targets failed, including the following:
       - nx run cart:test

""",
    ),
    "lerna": job(
        "node:20",
        r"""
$ npx lerna run test --stream
lerna notice cli v8.0.0
lerna info Executing command in 2 packages: "npm run test"
@acme/api: > @acme/api@1.2.0 test
@acme/api: > mocha 'test/**/*.spec.js'
@acme/api:   invoices
@acme/api:     ✓ lists invoices
@acme/api:     1) applies the discount
@acme/api:   1 passing (18ms)
@acme/api:   1 failing
@acme/api:   1) invoices
@acme/api:        applies the discount:
@acme/api:       AssertionError: expected 100 to equal 90
@acme/api:       + expected - actual
@acme/api:       -100
@acme/api:       +90
@acme/api:       at Context.<anonymous> (test/invoice.spec.js:14:28)
@acme/api:       at process.processImmediate (node:internal/timers:478:21)
@acme/api: npm ERR! Lifecycle script `test` failed with error:
@acme/api: npm ERR! Error: command failed
@acme/api: npm ERR!   in workspace: @acme/api@1.2.0
@acme/api: npm ERR!   at location: /builds/acme/shop/packages/api
lerna ERR! npm run test exited 1 in '@acme/api'
""",
    ),
    "credo": job(
        "elixir:1.15",
        r"""
$ mix credo --strict
Checking 42 source files ...

  Code Readability
┃
┃ [R] ↗ Modules should have a @moduledoc tag.
┃       lib/shop/cart.ex:1:11 #(Shop.Cart)

  Warnings - please take a look
┃
┃ [W] ↗ There should be no calls to `IO.inspect/1`.
┃       lib/shop/checkout.ex:31:5 #(Shop.Checkout.run)

Please report incorrect results: https://github.com/rrrene/credo/issues

Analysis took 0.3 seconds (0.02s to load, 0.3s running 55 checks on 42 source files)
187 mods/funs, found 1 warning, 1 code readability issue.
""",
        code=12,
    ),
    "detekt": job(
        "gradle:8.5-jdk17",
        r"""
$ ./gradlew detekt --no-daemon
> Task :app:detekt FAILED
/builds/acme/shop/app/src/main/kotlin/shop/Cart.kt:41:9: The function applyDiscount is too long (72). The maximum length is 60. [LongMethod]
/builds/acme/shop/app/src/main/kotlin/shop/Cart.kt:58:31: This expression contains a magic number. Consider defining it to a well named constant. [MagicNumber]

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':app:detekt'.
> Analysis failed with 2 weighted issues.

* Try:
> Run with --stacktrace option to get the stack trace.
> Run with --info or --debug option to get more log output.

BUILD FAILED in 21s
1 actionable task: 1 executed
""",
    ),
    "catch2": travis(
        "./build/tests/money_tests",
        r"""
Randomness seeded to: 1234567

~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
money_tests is a Catch2 v3.4.0 host application.
Run with -? for options

-------------------------------------------------------------------------------
Cart applies a coupon
-------------------------------------------------------------------------------
/home/travis/build/acme/money/tests/cart_test.cpp:14
...............................................................................

/home/travis/build/acme/money/tests/cart_test.cpp:17: FAILED:
  REQUIRE( cart.total() == 90 )
with expansion:
  100 == 90

===============================================================================
test cases:  5 |  4 passed | 1 failed
assertions: 12 | 11 passed | 1 failed
""",
        code=1,
        language="cpp",
    ),
    "crystal": travis(
        "crystal spec",
        r"""
..F.

Failures:

  1) Cart applies a coupon
     Failure/Error: cart.total.should eq(90)

       Expected: 90
            got: 100

     # spec/cart_spec.cr:14

Finished in 1.21 milliseconds
4 examples, 1 failures, 0 errors, 0 pending

Failed examples:

crystal spec spec/cart_spec.cr:11 # Cart applies a coupon
""",
        language="crystal",
    ),
    "dialyzer": travis(
        "mix dialyzer --halt-exit-status",
        r"""
Finding suitable PLTs
Checking PLT...
[:compiler, :elixir, :kernel, :logger, :stdlib]
PLT is up to date!
No :ignore_warnings opt specified in mix.exs and default does not exist.

Starting Dialyzer
[
  check_plt: false,
  init_plt: ~c"/home/travis/build/acme/shop/_build/dev/dialyxir_erlang-26.1_elixir-1.15.7_deps-dev.plt",
  files: [~c"/home/travis/build/acme/shop/_build/dev/lib/shop/ebin/Elixir.Shop.Cart.beam"],
  warnings: [:unknown]
]
Total errors: 1, Skipped: 0, Unnecessary Skips: 0
done in 0m2.1s
lib/shop/cart.ex:27:call
The function call will not succeed.

Shop.Cart.total(_cart :: %Shop.Cart{:items => [any()]}, 10)

will never return since the 2nd arguments differs
from the success typing arguments:

(%Shop.Cart{:items => [any()]}, float())

________________________________________________________________________________
done (warnings were emitted)
Halting VM with exit status 2
""",
        code=2,
        language="elixir",
    ),
    "lintr": travis(
        "Rscript -e 'lintr::lint_package()'",
        r"""
R/cart.R:14:5: style: [object_name_linter] Variable and function name style should match snake_case or symbols.
applyCoupon <- function(cart, code) {
^~~~~~~~~~~
R/cart.R:27:81: style: [line_length_linter] Lines should not be more than 80 characters. This line is 94 characters.
  total <- sum(vapply(cart$items, function(item) item$price * item$quantity, numeric(1)))
                                                                                ^~~~~~~~~~~~~~
Error: Linting failed.
Execution halted
""",
        language="r",
    ),
    "safety": travis(
        "safety check -r requirements.txt",
        r"""
+==============================================================================+

                               /$$$$$$            /$$
                              /$$__  $$          | $$
           /$$$$$$$  /$$$$$$ | $$  \__//$$$$$$  /$$$$$$   /$$   /$$
          /$$_____/ |____  $$| $$$$   /$$__  $$|_  $$_/  | $$  | $$
         |  $$$$$$   /$$$$$$$| $$_/  | $$$$$$$$  | $$    | $$  | $$
          \____  $$ /$$__  $$| $$    | $$_____/  | $$ /$$| $$  | $$
          /$$$$$$$/|  $$$$$$$| $$    |  $$$$$$$  |  $$$$/|  $$$$$$$
         |_______/  \_______/|__/     \_______/   \___/   \____  $$
                                                          /$$  | $$
                                                         |  $$$$$$/
  by safetycli.com                                        \______/

+==============================================================================+

 REPORT

  Safety v2.3.5 is scanning for Vulnerabilities...
  Scanning dependencies in your files:

  -> requirements.txt

  Using non-commercial database
  Found and scanned 23 packages
  Timestamp 2026-12-08 09:12:44
  1 vulnerability reported
  0 vulnerabilities ignored

+==============================================================================+
 VULNERABILITIES FOUND
+==============================================================================+

-> Vulnerability found in pyyaml version 5.3.1
   Vulnerability ID: 39611
   Affected spec: <5.4
   ADVISORY: A vulnerability was discovered in the PyYAML library in versions before 5.4, where it is susceptible
   to arbitrary code execution when it processes untrusted YAML files through the full_load method or with the
   FullLoader loader.
   CVE-2020-14343
   For more information, please visit https://data.safetycli.com/v/39611/f17


 Scan was completed. 1 vulnerability was reported.

+==============================================================================+
   REMEDIATIONS

  1 vulnerability was reported in 1 package. For detailed remediation & fix
  recommendations, upgrade to a commercial license.

+==============================================================================+
""",
        code=64,
        language="python",
    ),
    "commitlint": actions(
        "npx commitlint --from ${{ github.event.pull_request.base.sha }} --to HEAD --verbose",
        r"""
⧗   input: Add coupon support to the cart
✖   subject may not be empty [subject-empty]
✖   type may not be empty [type-empty]

✖   found 2 problems, 0 warnings
ⓘ   Get help: https://github.com/conventional-changelog/commitlint/#what-is-commitlint
""",
    ),
    "markdownlint": actions(
        "npx markdownlint-cli '**/*.md' --ignore node_modules",
        r"""
README.md:12:81 MD013/line-length Line length [Expected: 80; Actual: 112]
docs/setup.md:3 MD022/blanks-around-headings Headings should be surrounded by blank lines [Expected: 1; Actual: 0; Below] [Context: "## Install"]
""",
    ),
    "staticcheck": actions(
        "staticcheck ./...",
        r"""
internal/cart/cart.go:27:2: this value of err is never used (SA4006)
internal/cart/cart.go:41:9: should use strings.EqualFold instead (SA6005)
""",
    ),
    "deno": actions(
        "deno test --allow-read",
        r"""
Download https://deno.land/std@0.208.0/assert/mod.ts
Check file:///home/runner/work/shop/shop/cart_test.ts
running 3 tests from ./cart_test.ts
applies a coupon ... FAILED (4ms)
sums lines ... ok (1ms)
empty cart ... ok (0ms)

 ERRORS

applies a coupon => ./cart_test.ts:12:6
error: AssertionError: Values are not equal.


    [Diff] Actual / Expected


-   100
+   90

  throw new AssertionError(message);
        ^
    at assertEquals (https://deno.land/std@0.208.0/assert/assert_equals.ts:53:9)
    at file:///home/runner/work/shop/shop/cart_test.ts:14:3

 FAILURES

applies a coupon => ./cart_test.ts:12:6

FAILED | 2 passed | 1 failed (21ms)

error: Test failed
""",
    ),
    "bun": actions(
        "bun test",
        r"""
bun test v1.0.18 (2e2cd4a1)

src/cart.test.ts:
✓ cart > sums lines [0.41ms]
10 |   test("applies a coupon", () => {
11 |     const cart = new Cart([{ price: 100 }]);
12 |     cart.apply("SAVE10");
13 |     expect(cart.total()).toBe(90);
                              ^
error: expect(received).toBe(expected)

Expected: 90
Received: 100

      at /home/runner/work/shop/shop/src/cart.test.ts:13:26
✗ cart > applies a coupon [0.82ms]

 1 pass
 1 fail
 2 expect() calls
Ran 2 tests across 1 files. [31.00ms]
""",
    ),
    "turbo": actions(
        "npx turbo run test",
        r"""
• Packages in scope: @acme/api, @acme/web
• Running test in 2 packages
• Remote caching disabled
@acme/api:test: cache miss, executing 0c1d2e3f4a5b6c7d
@acme/web:test: cache miss, executing 5f3a2b1c0d9e8f7a
@acme/api:test:
@acme/api:test: > @acme/api@0.1.0 test /home/runner/work/shop/shop/apps/api
@acme/api:test: > vitest run
@acme/api:test:  ✓ src/invoice.test.ts  (4 tests) 9ms
@acme/api:test:  Test Files  1 passed (1)
@acme/api:test:       Tests  4 passed (4)
@acme/web:test:
@acme/web:test: > @acme/web@0.1.0 test /home/runner/work/shop/shop/apps/web
@acme/web:test: > vitest run
@acme/web:test:
@acme/web:test:  RUN  v1.0.4 /home/runner/work/shop/shop/apps/web
@acme/web:test:
@acme/web:test:  ❯ src/cart.test.ts  (3 tests | 1 failed) 12ms
@acme/web:test:    ❯ src/cart.test.ts > cart > applies a coupon
@acme/web:test:      → expected 100 to be 90 // Object.is equality
@acme/web:test:
@acme/web:test: ⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯
@acme/web:test:
@acme/web:test:  FAIL  src/cart.test.ts > cart > applies a coupon
@acme/web:test: AssertionError: expected 100 to be 90 // Object.is equality
@acme/web:test:
@acme/web:test: - Expected
@acme/web:test: + Received
@acme/web:test:
@acme/web:test: - 90
@acme/web:test: + 100
@acme/web:test:
@acme/web:test:  ❯ src/cart.test.ts:13:26
@acme/web:test:
@acme/web:test:  Test Files  1 failed (1)
@acme/web:test:       Tests  1 failed | 2 passed (3)
@acme/web:test:    Duration  612ms
@acme/web:test:
@acme/web:test:  ELIFECYCLE  Test failed. See above for more details.
@acme/web:test: ERROR: command finished with error: command (/home/runner/work/shop/shop/apps/web) pnpm run test exited (1)
@acme/web#test: command (/home/runner/work/shop/shop/apps/web) pnpm run test exited (1)

 Tasks:    1 successful, 2 total
Cached:    0 cached, 2 total
  Time:    4.127s
Failed:    @acme/web#test

 ERROR  run failed: command  exited (1)
""",
    ),
    "npm_audit": actions(
        "npm audit --audit-level=high",
        r"""
# npm audit report

lodash  <=4.17.20
Severity: critical
Prototype Pollution in lodash - https://github.com/advisories/GHSA-p6mc-m468-83gw
Command Injection in lodash - https://github.com/advisories/GHSA-35jh-r3h4-6jhm
fix available via `npm audit fix`
node_modules/lodash

1 critical severity vulnerability

To address all issues, run:
  npm audit fix
""",
    ),
    "jest_coverage": actions(
        "npm test -- --coverage",
        r"""

> shop@1.0.0 test
> jest --coverage

PASS src/cart.test.ts
PASS src/price.test.ts
----------|---------|----------|---------|---------|-------------------
File      | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s
----------|---------|----------|---------|---------|-------------------
All files |   71.42 |       60 |      75 |   71.42 |
 cart.ts  |   66.66 |       50 |   66.66 |   66.66 | 14-18
 price.ts |     100 |      100 |     100 |     100 |
----------|---------|----------|---------|---------|-------------------
Jest: "global" coverage threshold for statements (80%) not met: 71.42%
Jest: "global" coverage threshold for lines (80%) not met: 71.42%

Test Suites: 2 passed, 2 total
Tests:       9 passed, 9 total
Snapshots:   0 total
Time:        1.914 s
Ran all test suites.
""",
    ),
    "zig": actions(
        "zig build test --summary all",
        r"""
run test: error: 'test.applies a coupon' failed: expected 90, found 100
/opt/hostedtoolcache/zig/0.11.0/x64/lib/std/testing.zig:84:17: 0x224b3c in expectEqual__anon_1014 (test)
                return error.TestExpectedEqual;
                ^
/home/runner/work/shop/shop/src/cart.zig:27:5: 0x224d11 in test.applies a coupon (test)
    try std.testing.expectEqual(@as(u32, 90), cart.total());
    ^
run test: error: while executing test 'test.applies a coupon', the following command exited with code 1 (expected exited with code 0):
/home/runner/work/shop/shop/zig-cache/o/1a2b3c4d5e6f/test --listen=-
Build Summary: 1/3 steps succeeded; 1 failed; 1/2 tests passed; 1 failed
test transitive failure
└─ run test 1 passed, 1 failed
error: the following build command failed with exit code 1:
/home/runner/work/shop/shop/zig-cache/o/9f8e7d6c5b4a/build /opt/hostedtoolcache/zig/0.11.0/x64/zig /home/runner/work/shop/shop /home/runner/work/shop/shop/zig-cache /home/runner/.cache/zig test
""",
    ),
}

# log, tokens the summary names, the line the evidence quotes, the category (None: not asserted)
CASES = [
    ("flake8", ["app/billing.py:3:1", "F401"], "./app/billing.py:3:1: F401 'os' imported but unused", Category.lint),
    (
        "bandit",
        ["B602:subprocess_popen_with_shell_equals_true", "app/export.py:42"],
        ">> Issue: [B602:subprocess_popen_with_shell_equals_true]",
        Category.lint,
    ),
    (
        "yamllint",
        ["deploy/values.yaml", "12:3", "wrong indentation: expected 4 but found 2"],
        "12:3      error    wrong indentation",
        Category.lint,
    ),
    (
        "semgrep",
        ["formatted-sql-query", "app/views.py"],
        "❯❯❱ python.lang.security.audit.formatted-sql-query",
        Category.lint,
    ),
    ("pip_audit", ["jinja2", "GHSA-h5c8-rqwp-cp95"], "jinja2 3.1.2   GHSA-h5c8-rqwp-cp95", Category.dependency),
    (
        "coverage",
        ["total of 70 is less than fail-under=80"],
        "Coverage failure: total of 70 is less than fail-under=80",
        Category.test,
    ),
    (
        "pytest_cov",
        ["Required test coverage of 80% not reached", "70.14%"],
        "FAIL Required test coverage of 80% not reached",
        Category.test,
    ),
    (
        "conda",
        ["LibMambaUnsatisfiableError", "scikit-learn"],
        "LibMambaUnsatisfiableError: Encountered problems while solving:",
        Category.dependency,
    ),
    (
        "nox",
        ["tests/test_cart.py", "test_total_with_coupon", "assert 100 == 90"],
        "assert 100 == 90",
        Category.test,
    ),
    (
        "pulumi",
        ["creating EC2 Instance", "InvalidAMIID.NotFound"],
        "* creating EC2 Instance: operation error EC2: RunInstances",
        Category.deploy,
    ),
    (
        "pulumi_preview",
        ["index.ts(14,5)", "TS2322", "Type 'number' is not assignable to type 'string'"],
        "index.ts(14,5): error TS2322",
        Category.build,
    ),
    (
        "mypy_strict",
        ["src/api/billing.py:27", "Function is missing a return type annotation", "no-untyped-def"],
        "src/api/billing.py:27: error: Function is missing a return type annotation",
        Category.lint,
    ),
    (
        "kubeconform",
        ["Deployment web is invalid", "containerPort"],
        "stdin - Deployment web is invalid: problem validating schema",
        Category.lint,
    ),
    ("sonar", ["QUALITY GATE STATUS: FAILED"], "ERROR: QUALITY GATE STATUS: FAILED", Category.lint),
    ("nx", ["Cart › applies a coupon", "Expected: 90"], "● Cart › applies a coupon", Category.test),
    (
        "lerna",
        ["applies the discount", "AssertionError: expected 100 to equal 90"],
        "AssertionError: expected 100 to equal 90",
        Category.test,
    ),
    (
        "credo",
        ["Modules should have a @moduledoc tag", "lib/shop/cart.ex:1:11"],
        "[R] ↗ Modules should have a @moduledoc tag.",
        Category.lint,
    ),
    ("detekt", ["Cart.kt:41:9", "LongMethod"], "Cart.kt:41:9: The function applyDiscount is too long", Category.lint),
    (
        "catch2",
        ["cart_test.cpp:17", "REQUIRE( cart.total() == 90 )"],
        "cart_test.cpp:17: FAILED:",
        Category.test,
    ),
    ("crystal", ["Cart applies a coupon", "cart.total.should eq(90)"], "1) Cart applies a coupon", Category.test),
    (
        "dialyzer",
        ["lib/shop/cart.ex:27", "The function call will not succeed"],
        "lib/shop/cart.ex:27:call",
        Category.lint,
    ),
    (
        "lintr",
        ["R/cart.R:14:5", "object_name_linter"],
        "R/cart.R:14:5: style: [object_name_linter]",
        Category.lint,
    ),
    (
        "safety",
        ["pyyaml version 5.3.1"],
        "-> Vulnerability found in pyyaml version 5.3.1",
        Category.dependency,
    ),
    (
        "commitlint",
        ["subject may not be empty", "subject-empty"],
        "✖   subject may not be empty [subject-empty]",
        Category.lint,
    ),
    (
        "markdownlint",
        ["README.md:12:81", "MD013/line-length"],
        "README.md:12:81 MD013/line-length Line length",
        Category.lint,
    ),
    (
        "staticcheck",
        ["internal/cart/cart.go:27:2", "SA4006"],
        "internal/cart/cart.go:27:2: this value of err is never used (SA4006)",
        Category.lint,
    ),
    (
        "deno",
        ["applies a coupon", "cart_test.ts:12:6", "AssertionError: Values are not equal"],
        "error: AssertionError: Values are not equal.",
        Category.test,
    ),
    (
        "bun",
        ["cart > applies a coupon", "expect(received).toBe(expected)"],
        "error: expect(received).toBe(expected)",
        Category.test,
    ),
    (
        "turbo",
        ["cart > applies a coupon", "expected 100 to be 90"],
        "AssertionError: expected 100 to be 90",
        Category.test,
    ),
    ("npm_audit", ["lodash", "Prototype Pollution"], "Prototype Pollution in lodash", Category.dependency),
    (
        "jest_coverage",
        ["coverage threshold for statements (80%) not met: 71.42%"],
        'Jest: "global" coverage threshold for statements (80%) not met: 71.42%',
        Category.test,
    ),
    (
        "zig",
        ["'test.applies a coupon' failed", "expected 90, found 100"],
        "error: 'test.applies a coupon' failed: expected 90, found 100",
        Category.test,
    ),
]

FRAMING = ("Job failed", "Cleaning up project", "Your build exited", "Process completed with exit code", "orphan")


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_decisive_token_and_the_evidence_quotes_its_line(name, tokens, quoted, category):
    answer = offline_answer(LOGS[name])
    assert_specific(name, answer, tokens, quoted, category)
    framing = [f for f in FRAMING if f in answer.summary[:SCORED_SUMMARY]]
    assert not framing, f"nor is the CI's framing: {framing}"


def answer_for(name: str):
    return offline_answer(LOGS[name])


def test_a_monorepo_runners_package_prefix_is_not_the_tools_words():
    # Turborepo ("@acme/web:test: ") and Lerna's --stream ("@acme/api: ") put the package's name before each line of
    # its task: the task's own tool speaks after it, and the failing test is named as that tool names it.
    for name, test in (("lerna", "applies the discount"), ("turbo", "cart > applies a coupon")):
        headline = answer_for(name).summary[:SCORED_SUMMARY]
        assert "@acme/" not in headline and test in headline, headline
    unscoped = LOGS["turbo"].replace("@acme/web:test:", "web:test:").replace("@acme/api:test:", "api:test:")
    headline = offline_answer(unscoped).summary[:SCORED_SUMMARY]
    assert "web:test:" not in headline and "expected 100 to be 90" in headline, headline


def test_github_actions_post_job_lines_are_not_a_failures_detail():
    # A step that printed nothing but failed: the runner's verdict stands alone, without the post-job clean-up.
    answer = offline_answer(actions("./scripts/check-version.sh", "checking version 2.4.0", code=3))
    assert "Post job cleanup" not in answer.summary and "orphan" not in answer.summary, answer.summary


def test_a_findings_documentation_link_is_left_out_of_the_statement():
    # Bandit's "More Info: https://..." and "CWE: CWE-78 (https://...)" say where to read more; its Location says where.
    summary = answer_for("bandit").summary
    assert "More Info" not in summary and "https://" not in summary and "Location: app/export.py:42:8" in summary


def test_a_tools_finding_leads_over_the_place_printed_under_it():
    # Credo prints its issue ("┃ [R] ↗ message") and its place under it; the place alone says nothing of what is wrong.
    assert answer_for("credo").summary.startswith("[R] ↗ Modules should have a @moduledoc tag. — lib/shop/cart.ex:1:11")


def test_a_coverage_gate_says_how_far_below_the_threshold_it_is():
    for name, total in (("coverage", "70"), ("pytest_cov", "70.14"), ("jest_coverage", "71.42")):
        cause = answer_for(name).root_cause
        assert f"({total}%) is below the minimum the job requires (80%" in cause, (name, cause)


@pytest.mark.parametrize("name", [c[0] for c in CASES if not LOGS[c[0]].startswith("2026-")])
def test_the_same_answer_when_gitlab_runner_stamps_every_line(name):
    # FF_TIMESTAMPS: "2026-12-08T09:12:01.000001Z 00O " before each line; the package prefixes, wrappers and findings
    # above are read after it (the GitHub Actions rows carry their own stamps already).
    lines = LOGS[name].split("\n")[:-1]
    stamped = "".join(f"2026-12-08T09:12:{i % 60:02d}.{i:06d}Z 00O {line}\n" for i, line in enumerate(lines))
    plain, answer = offline_answer(LOGS[name]), offline_answer(stamped)
    assert (answer.summary, answer.category) == (plain.summary, plain.category)
