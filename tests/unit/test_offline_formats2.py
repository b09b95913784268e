"""The offline analyzer on more tool output formats (test_offline_formats.py's method, other tools): hand-written
tails of GitLab CI logs, the runner's framing around a tool's own report, each asserting that the summary names
the decisive token in the tool's own words and that the evidence quotes the line that says it."""

from __future__ import annotations

import pytest

from bot.core.types import Category
from tests.unit.test_offline_formats import SCORED_SUMMARY, assert_specific, offline_answer


def job(image: str, body: str, code: int = 1) -> str:
    """A GitLab Runner log around a script's output: the runner's preamble, the script, its clean-up and verdict."""
    return (
        "Running with gitlab-runner 16.6.1 (f5da3c5a)\n"
        "  on shared-runner-3 Kx9mP2qR, system ID: s_8f7e6d5c4b3a\n"
        'Preparing the "docker" executor\n'
        f"Using Docker executor with image {image} ...\n"
        f"Pulling docker image {image} ...\n"
        "Preparing environment\n"
        "Getting source from Git repository\n"
        "Fetching changes with git depth set to 20...\n"
        "Checking out 9b3e1d2f as detached HEAD (ref is refs/merge-requests/44/head)...\n"
        'Executing "step_script" stage of the job script\n'
        f"{body.strip(chr(10))}\n"
        "Cleaning up project directory and file based variables\n"
        f"ERROR: Job failed: exit code {code}\n"
    )


LOGS: dict[str, str] = {
    "cypress": job(
        "cypress/browsers:node-20.9.0-chrome-118.0.5993.88-1-ff-118.0.2-edge-118.0.2088.46-1",
        r"""
$ npm ci
added 812 packages, and audited 813 packages in 21s
$ npx cypress run --browser chrome

====================================================================================================

  (Run Starting)

  │ Cypress:        13.6.1                                                                         │
  │ Browser:        Chrome 118 (headless)                                                          │
  │ Specs:          2 found (checkout.cy.ts, login.cy.ts)                                          │

────────────────────────────────────────────────────────────────────────────────────────────────────

  Running:  checkout.cy.ts                                                                  (1 of 2)


  Checkout
    ✓ shows the cart (812ms)
    1) applies a coupon


  1 passing (5s)
  1 failing

  1) Checkout
       applies a coupon:
     AssertionError: Timed out retrying after 4000ms: expected '<span.total>' to contain 'Total: 90.00'
      at Context.eval (webpack://shop-web/./cypress/e2e/checkout.cy.ts:18:34)




  (Results)

  │ Tests:        2                                                                                │
  │ Passing:      1                                                                                │
  │ Failing:      1                                                                                │

====================================================================================================

  (Run Finished)

       Spec                                              Tests  Passing  Failing  Pending  Skipped
  │ ✖  checkout.cy.ts                           00:06        2        1        1        -        - │
  │ ✔  login.cy.ts                              00:02        3        3        -        -        - │
    ✖  1 of 2 failed (50%)                      00:08        5        4        1        -        -
""",
    ),
    "playwright": job(
        "mcr.microsoft.com/playwright:v1.40.1-jammy",
        r"""
$ npx playwright test --reporter=list

Running 4 tests using 2 workers

  ✓  1 [chromium] › tests/login.spec.ts:5:5 › login › accepts a valid password (1.2s)
  ✘  2 [chromium] › tests/cart.spec.ts:12:5 › cart › shows the discounted total (5.1s)
  ✓  3 [chromium] › tests/cart.spec.ts:24:5 › cart › removes an item (0.9s)
  ✓  4 [chromium] › tests/login.spec.ts:14:5 › login › rejects a wrong password (0.8s)


  1) [chromium] › tests/cart.spec.ts:12:5 › cart › shows the discounted total ──────────────────────

    Error: expect(received).toBe(expected) // Object.is equality

    Expected: "Total: 90.00"
    Received: "Total: 100.00"

      14 |     await page.getByRole('button', { name: 'Apply' }).click();
      15 |     const total = await page.locator('.total').textContent();
    > 16 |     expect(total).toBe('Total: 90.00');
         |                   ^
      17 |   });
      18 | });

        at /builds/acme/shop-web/tests/cart.spec.ts:16:19

  1 failed
    [chromium] › tests/cart.spec.ts:12:5 › cart › shows the discounted total ───────────────────────
  3 passed (8.4s)
""",
    ),
    "dotnet_build": job(
        "mcr.microsoft.com/dotnet/sdk:8.0",
        r"""
$ dotnet restore
  Determining projects to restore...
  Restored /builds/acme/api/src/Acme.Api/Acme.Api.csproj (in 2.41 sec).
$ dotnet build --configuration Release --no-restore
MSBuild version 17.8.3+195e7f5a3 for .NET
  Acme.Domain -> /builds/acme/api/src/Acme.Domain/bin/Release/net8.0/Acme.Domain.dll
/builds/acme/api/src/Acme.Api/Controllers/InvoiceController.cs(14,17): error CS0246: The type or namespace name 'IInvoiceService' could not be found (are you missing a using directive or an assembly reference?) [/builds/acme/api/src/Acme.Api/Acme.Api.csproj]

Build FAILED.

/builds/acme/api/src/Acme.Api/Controllers/InvoiceController.cs(14,17): error CS0246: The type or namespace name 'IInvoiceService' could not be found (are you missing a using directive or an assembly reference?) [/builds/acme/api/src/Acme.Api/Acme.Api.csproj]
    0 Warning(s)
    1 Error(s)

Time Elapsed 00:00:07.41
""",
    ),
    "msbuild_warnaserror": job(
        "mcr.microsoft.com/dotnet/sdk:8.0",
        r"""
$ dotnet build --configuration Release -warnaserror
MSBuild version 17.8.3+195e7f5a3 for .NET
  Determining projects to restore...
  All projects are up-to-date for restore.
/builds/acme/api/src/Acme.Api/Services/MailService.cs(31,23): error CS8618: Non-nullable property 'Sender' must contain a non-null value when exiting constructor. Consider declaring the property as nullable. [/builds/acme/api/src/Acme.Api/Acme.Api.csproj]
  Acme.Domain -> /builds/acme/api/src/Acme.Domain/bin/Release/net8.0/Acme.Domain.dll

Build FAILED.

/builds/acme/api/src/Acme.Api/Services/MailService.cs(31,23): error CS8618: Non-nullable property 'Sender' must contain a non-null value when exiting constructor. Consider declaring the property as nullable. [/builds/acme/api/src/Acme.Api/Acme.Api.csproj]
    0 Warning(s)
    1 Error(s)

Time Elapsed 00:00:09.02
""",
    ),
    "hadolint": job(
        "hadolint/hadolint:2.12.0-debian",
        r"""
$ hadolint --version
Haskell Dockerfile Linter 2.12.0
$ hadolint Dockerfile
Dockerfile:7 DL3008 warning: Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`
Dockerfile:7 DL3015 info: Avoid additional packages by specifying `--no-install-recommends`
Dockerfile:12 DL3025 warning: Use arguments JSON notation for CMD and ENTRYPOINT arguments
""",
    ),
    "trivy": job(
        "aquasec/trivy:0.48.1",
        r"""
$ trivy image --exit-code 1 --severity CRITICAL --no-progress registry.gitlab.com/acme/api:9b3e1d2f
2026-12-07T10:12:41.123Z	INFO	Vulnerability scanning is enabled
2026-12-07T10:12:41.124Z	INFO	Secret scanning is enabled
2026-12-07T10:12:44.512Z	INFO	Detected OS: debian
2026-12-07T10:12:44.512Z	INFO	Detecting Debian vulnerabilities...
2026-12-07T10:12:44.601Z	INFO	Number of language-specific files: 1
2026-12-07T10:12:44.601Z	INFO	Detecting python-pkg vulnerabilities...

registry.gitlab.com/acme/api:9b3e1d2f (debian 12.2)

Total: 1 (CRITICAL: 1)

┌──────────┬────────────────┬──────────┬──────────┬───────────────────┬───────────────┬──────────────────────────────────────────┐
│ Library  │ Vulnerability  │ Severity │  Status  │ Installed Version │ Fixed Version │                  Title                   │
├──────────┼────────────────┼──────────┼──────────┼───────────────────┼───────────────┼──────────────────────────────────────────┤
│ libexpat │ CVE-2024-45491 │ CRITICAL │ affected │ 2.5.0-1           │               │ libexpat: Integer Overflow or Wraparound │
│          │                │          │          │                   │               │ https://avd.aquasec.com/nvd/cve-2024-45491 │
└──────────┴────────────────┴──────────┴──────────┴───────────────────┴───────────────┴──────────────────────────────────────────┘
""",
    ),
    "gitleaks": job(
        "zricethezav/gitleaks:v8.18.1",
        r"""
$ gitleaks detect --source . --verbose --redact --no-banner
Finding:     aws_secret_access_key = "REDACTED"
Secret:      REDACTED
RuleID:      aws-access-token
Entropy:     3.875000
File:        config/settings.py
Line:        14
Commit:      9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d
Author:      Jane Doe
Email:       jane@example.com
Date:        2026-12-06T18:04:11Z
Fingerprint: 9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d:config/settings.py:aws-access-token:14

10:12AM INF 142 commits scanned.
10:12AM INF scan completed in 1.21s
10:12AM WRN leaks found: 1
""",
    ),
    "flyway": job(
        "flyway/flyway:10.4.1",
        r"""
$ flyway -url=jdbc:postgresql://postgres:5432/app -user=app -locations=filesystem:db/migration migrate
Flyway Community Edition 10.4.1 by Redgate

See release notes here: https://rd.gt/416ObMi
Database: jdbc:postgresql://postgres:5432/app (PostgreSQL 16.1)
Successfully validated 3 migrations (execution time 00:00.021s)
Current version of schema "public": 2
Migrating schema "public" to version "3 - add index"
ERROR: Migration of schema "public" to version "3 - add index" failed! Changes successfully rolled back.
ERROR: Migration V3__add_index.sql failed
-----------------------------------
SQL State  : 42703
Error Code : 0
Message    : ERROR: column "customer_ref" does not exist
  Position: 45
Location   : db/migration/V3__add_index.sql (/builds/acme/api/db/migration/V3__add_index.sql)
Line       : 1
Statement  : CREATE INDEX idx_orders_customer ON orders (customer_ref)
""",
    ),
    "alembic": job(
        "python:3.12",
        r"""
$ alembic upgrade head
INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.
INFO  [alembic.runtime.migration] Will assume transactional DDL.
INFO  [alembic.runtime.migration] Running upgrade 3f2a1b4c5d6e -> 7a8b9c0d1e2f, add invoice currency
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context
    self.dialect.do_execute(
  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/default.py", line 924, in do_execute
    cursor.execute(statement, parameters)
psycopg2.errors.UndefinedTable: relation "invoice" does not exist


The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/local/bin/alembic", line 8, in <module>
    sys.exit(main())
  File "/usr/local/lib/python3.12/site-packages/alembic/config.py", line 641, in main
    CommandLine(prog=prog).main(argv=argv)
  File "/builds/acme/api/migrations/versions/7a8b9c0d1e2f_add_invoice_currency.py", line 21, in upgrade
    op.add_column("invoice", sa.Column("currency", sa.String(3), nullable=False))
  File "<string>", line 8, in add_column
  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/default.py", line 924, in do_execute
    cursor.execute(statement, parameters)
sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "invoice" does not exist
[SQL: ALTER TABLE invoice ADD COLUMN currency VARCHAR(3) NOT NULL]
(Background on this error at: https://sqlalche.me/e/20/f405)
""",
    ),
    "ng_build": job(
        "node:20",
        r"""
$ npx ng build --configuration production
- Generating browser application bundles (phase: setup)...
✔ Browser application bundle generation complete.

Error: src/app/cart/cart.component.ts:14:7 - error TS2322: Type 'string' is not assignable to type 'number'.

14       this.total = response.total;
         ~~~~~~~~~~



Error: src/app/cart/cart.component.html:9:31 - error NG8002: Can't bind to 'discount' since it isn't a known property of 'app-total'.

9   <app-total [amount]="total" [discount]="coupon"></app-total>
                                ~~~~~~~~~~~~~~~~~~~

  src/app/cart/cart.component.ts:5:16
    5   templateUrl: './cart.component.html',
                     ~~~~~~~~~~~~~~~~~~~~~~~
    Error occurs in the template of component CartComponent.

""",
    ),
    "vite": job(
        "node:20",
        r"""
$ npm run build

> shop-web@1.4.0 build
> vite build

vite v5.0.10 building for production...
transforming...
✓ 41 modules transformed.
[vite]: Rollup failed to resolve import "@/composables/useCart" from "/builds/acme/shop-web/src/views/CartView.vue".
This is most likely unintended because it can break your application at runtime.
If you do want to externalize this module explicitly add it to
`build.rollupOptions.external`
error during build:
Error: [vite]: Rollup failed to resolve import "@/composables/useCart" from "/builds/acme/shop-web/src/views/CartView.vue".
This is most likely unintended because it can break your application at runtime.
If you do want to externalize this module explicitly add it to
`build.rollupOptions.external`
    at viteWarn (file:///builds/acme/shop-web/node_modules/vite/dist/node/chunks/dep-R0I0XnyH.js:67022:27)
    at onwarn (file:///builds/acme/shop-web/node_modules/@vitejs/plugin-vue/dist/index.mjs:2403:9)
    at onRollupWarning (file:///builds/acme/shop-web/node_modules/vite/dist/node/chunks/dep-R0I0XnyH.js:67052:5)
""",
    ),
    "webpack": job(
        "node:20",
        r"""
$ npx webpack --mode production
assets by status 1.21 MiB [cached] 3 assets
orphan modules 41.3 KiB [orphan] 18 modules
runtime modules 2.47 KiB 5 modules
cacheable modules 1.18 MiB
  modules by path ./node_modules/ 1.14 MiB 41 modules
  modules by path ./src/ 38.2 KiB 12 modules

ERROR in ./src/components/Cart.jsx 4:0-36
Module not found: Error: Can't resolve './CartTotal' in '/builds/acme/shop-web/src/components'
resolve './CartTotal' in '/builds/acme/shop-web/src/components'
  using description file: /builds/acme/shop-web/package.json (relative path: ./src/components)
    Field 'browser' doesn't contain a valid alias configuration
    using description file: /builds/acme/shop-web/package.json (relative path: ./src/components/CartTotal)
      no extension
        Field 'browser' doesn't contain a valid alias configuration
        /builds/acme/shop-web/src/components/CartTotal doesn't exist
 @ ./src/App.jsx 6:0-40 21:38-42
 @ ./src/index.jsx 3:0-24 8:36-39

webpack 5.89.0 compiled with 1 error in 4211 ms
""",
    ),
    "semantic_release": job(
        "node:20",
        r"""
$ npx semantic-release
[10:12:41 AM] [semantic-release] › ℹ  Running semantic-release version 22.0.12
[10:12:41 AM] [semantic-release] › ✔  Loaded plugin "verifyConditions" from "@semantic-release/gitlab"
[10:12:41 AM] [semantic-release] › ✔  Loaded plugin "publish" from "@semantic-release/gitlab"
[10:12:42 AM] [semantic-release] › ✘  The command "git push --dry-run --no-verify https://gitlab-ci-token:[secure]@gitlab.com/acme/shop-web.git HEAD:main" failed with the error message remote: You are not allowed to push code to this project.
fatal: unable to access 'https://gitlab.com/acme/shop-web.git/': The requested URL returned error: 403.
[10:12:42 AM] [semantic-release] › ✘  EGITNOPERMISSION Cannot push to the Git repository.
semantic-release cannot push the version tag to the branch main on the remote Git repository with URL https://gitlab-ci-token:[secure]@gitlab.com/acme/shop-web.git.

This can be caused by:
 - a misconfiguration of the repository_url option
 - the repository being unavailable
 - or missing push permission for the user configured via the Git credentials on your CI environment

AggregateError:
    SemanticReleaseError: Cannot push to the Git repository.
        at module.exports (/builds/acme/shop-web/node_modules/semantic-release/lib/get-error.js:6:10)
        at verifyAuth (/builds/acme/shop-web/node_modules/semantic-release/index.js:71:13)
""",
    ),
    "yarn_frozen": job(
        "node:18",
        r"""
$ yarn install --frozen-lockfile --cache-folder .yarn
yarn install v1.22.19
[1/4] Resolving packages...
error Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`.
info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command.
""",
    ),
    "gradle_oom": job(
        "gradle:8.5-jdk17",
        r"""
$ gradle test --no-daemon
> Task :compileJava
> Task :compileTestJava
> Task :test

com.acme.report.ReportGeneratorTest > rendersLargeReport() FAILED
    java.lang.OutOfMemoryError: Java heap space
        at java.base/java.util.Arrays.copyOf(Arrays.java:3537)
        at java.base/java.lang.AbstractStringBuilder.ensureCapacityInternal(AbstractStringBuilder.java:228)
        at com.acme.report.ReportGenerator.render(ReportGenerator.java:88)
        at com.acme.report.ReportGeneratorTest.rendersLargeReport(ReportGeneratorTest.java:41)

42 tests completed, 1 failed

> Task :test FAILED

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':test'.
> There were failing tests. See the report at: file:///builds/acme/report/build/reports/tests/test/index.html

* Try:
> Run with --scan to get full insights.

BUILD FAILED in 1m 12s
4 actionable tasks: 4 executed
""",
    ),
    "pyright": job(
        "python:3.12",
        r"""
$ npx --yes pyright@1.1.339
No configuration file found.
pyproject.toml file found at /builds/acme/api.
Loading pyproject.toml file at /builds/acme/api/pyproject.toml
Assuming Python version 3.12
Found 41 source files
pyright 1.1.339
/builds/acme/api/src/api/billing.py
  /builds/acme/api/src/api/billing.py:14:22 - error: "compute_tax" is not a known attribute of module "api.tax" (reportAttributeAccessIssue)
  /builds/acme/api/src/api/billing.py:31:9 - warning: Import "yaml" could not be resolved from source (reportMissingModuleSource)
1 error, 1 warning, 0 informations
""",
    ),
    "ruff": job(
        "python:3.12",
        r"""
$ pip install ruff==0.1.8
Successfully installed ruff-0.1.8
$ ruff check --output-format text .
src/api/billing.py:12:5: F841 [*] Local variable `discount` is assigned to but never used
src/api/tax.py:3:8: F401 [*] `os` imported but unused
Found 2 errors.
[*] 2 fixable with the `--fix` option.
""",
    ),
    "mypy": job(
        "python:3.12",
        r"""
$ mypy src
src/api/tax.py:14: note: By default the bodies of untyped functions are not checked, consider using --check-untyped-defs  [annotation-unchecked]
src/api/billing.py:27: error: Argument 1 to "apply_discount" has incompatible type "str"; expected "Decimal"  [arg-type]
Found 1 error in 1 file (checked 41 source files)
""",
    ),
    "git_push": job(
        "alpine/git:2.43.0",
        r"""
$ git config user.email "release-bot@acme.example"
$ git tag -a v1.5.0 -m "Release 1.5.0"
$ git push origin HEAD:main --follow-tags
To https://gitlab.com/acme/shop-web.git
 ! [rejected]        HEAD -> main (non-fast-forward)
error: failed to push some refs to 'https://gitlab.com/acme/shop-web.git'
hint: Updates were rejected because a pushed branch tip is behind its remote
hint: counterpart. Check out this branch and integrate the remote changes
hint: (e.g. 'git pull ...') before pushing again.
hint: See the 'Note about fast-forwards' in 'git push --help' for details.
""",
    ),
    "aws_s3": job(
        "amazon/aws-cli:2.15.0",
        r"""
$ aws s3 sync dist/ s3://acme-shop-web-prod/ --delete
upload: dist/assets/app.3f2a1b.js to s3://acme-shop-web-prod/assets/app.3f2a1b.js
upload failed: dist/index.html to s3://acme-shop-web-prod/index.html An error occurred (AccessDenied) when calling the PutObject operation: Access Denied
upload: dist/assets/app.3f2a1b.css to s3://acme-shop-web-prod/assets/app.3f2a1b.css
""",
    ),
    "docker_push": job(
        "docker:24.0.7",
        r"""
$ docker build -t registry.gitlab.com/acme/api:9b3e1d2f .
Successfully built 3f2a1b4c5d6e
Successfully tagged registry.gitlab.com/acme/api:9b3e1d2f
$ docker push registry.gitlab.com/acme/api:9b3e1d2f
The push refers to repository [registry.gitlab.com/acme/api]
5f70bf18a086: Preparing
a3ed95caeb02: Preparing
9c27e219663c: Preparing
denied: requested access to the resource is denied
""",
    ),
    "k6": job(
        "grafana/k6:0.48.0",
        r"""
$ k6 run --quiet load/checkout.js

     ✓ status is 200
     ✓ total is shown

     checks.........................: 100.00% ✓ 2400      ✗ 0
     data_received..................: 4.1 MB  128 kB/s
     data_sent......................: 212 kB  6.6 kB/s
     http_req_blocked...............: avg=1.2ms    min=1µs     med=4µs      max=212.3ms  p(90)=7µs      p(95)=9µs
   ✗ http_req_duration..............: avg=412.3ms  min=98.1ms  med=377.9ms  max=2.1s     p(90)=601.2ms  p(95)=742.8ms
       { expected_response:true }...: avg=412.3ms  min=98.1ms  med=377.9ms  max=2.1s     p(90)=601.2ms  p(95)=742.8ms
     http_req_failed................: 0.00%   ✓ 0         ✗ 1200
     http_reqs......................: 1200    37.5/s
     iterations.....................: 1200    37.5/s
     vus............................: 20      min=20      max=20

ERRO[0032] thresholds on metrics 'http_req_duration' have been crossed
""",
        99,
    ),
    "robot": job(
        "ppodgorsek/robot-framework:7.0.0",
        r"""
$ robot --outputdir results tests/
==============================================================================
Tests
==============================================================================
Tests.Checkout
==============================================================================
Show Cart                                                             | PASS |
------------------------------------------------------------------------------
Apply Coupon Reduces Total                                            | FAIL |
Total: 100.00 != Total: 90.00
------------------------------------------------------------------------------
Tests.Checkout                                                        | FAIL |
2 tests, 1 passed, 1 failed
==============================================================================
Tests                                                                 | FAIL |
2 tests, 1 passed, 1 failed
==============================================================================
Output:  /builds/acme/shop-web/results/output.xml
Log:     /builds/acme/shop-web/results/log.html
Report:  /builds/acme/shop-web/results/report.html
""",
    ),
    "pip_resolution": job(
        "python:3.12",
        r"""
$ pip install -r requirements.txt
Collecting django==4.2.8 (from -r requirements.txt (line 1))
  Downloading Django-4.2.8-py3-none-any.whl.metadata (4.1 kB)
Collecting acme-auth==3.0.0 (from -r requirements.txt (line 2))
  Downloading acme_auth-3.0.0-py3-none-any.whl.metadata (2.2 kB)
INFO: pip is looking at multiple versions of acme-auth to determine which version is compatible with other requirements. This could take a while.
ERROR: Cannot install -r requirements.txt (line 2) and django==4.2.8 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested django==4.2.8
    acme-auth 3.0.0 depends on django>=5.0

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
""",
    ),
    "helm_lint": job(
        "alpine/helm:3.13.2",
        r"""
$ helm lint charts/api --strict
==> Linting charts/api
[INFO] Chart.yaml: icon is recommended
[ERROR] templates/deployment.yaml: unable to parse YAML: error converting YAML to JSON: yaml: line 27: mapping values are not allowed in this context

Error: 1 chart(s) linted, 1 chart(s) failed
""",
    ),
    "tflint": job(
        "ghcr.io/terraform-linters/tflint:v0.49.0",
        r"""
$ tflint --init
Installing "aws" plugin...
Installed "aws" (source: github.com/terraform-linters/tflint-ruleset-aws, version: 0.28.0)
$ tflint --recursive --format default
2 issue(s) found:

Error: "t2.micrro" is an invalid value as instance_type (aws_instance_invalid_type)

  on modules/web/main.tf line 14:
  14:   instance_type = "t2.micrro"

Warning: variable "region" is declared but not used (terraform_unused_declarations)

  on variables.tf line 3:
   3: variable "region" {

Reference: https://github.com/terraform-linters/tflint-ruleset-terraform/blob/v0.5.0/docs/rules/terraform_unused_declarations.md

""",
        2,
    ),
    "checkov": job(
        "bridgecrew/checkov:3.1.38",
        r"""
$ checkov -d . --framework terraform --compact --quiet
terraform scan results:

Passed checks: 14, Failed checks: 1, Skipped checks: 0

Check: CKV_AWS_20: "S3 Bucket has an ACL defined which allows public READ access."
	FAILED for resource: aws_s3_bucket.assets
	File: /modules/web/s3.tf:1-9
	Guide: https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/s3-policies/s3-1-acl-read-permissions-everyone

""",
    ),
    "pre_commit": job(
        "python:3.12",
        r"""
$ pip install pre-commit
Successfully installed pre-commit-3.6.0
$ pre-commit run --all-files --show-diff-on-failure
[INFO] Initializing environment for https://github.com/pre-commit/pre-commit-hooks.
[INFO] Installing environment for https://github.com/pre-commit/pre-commit-hooks.
[INFO] Once installed this environment will be reused.
trim trailing whitespace.................................................Passed
fix end of files.........................................................Failed
- hook id: end-of-file-fixer
- exit code: 1
- files were modified by this hook

Fixing src/api/billing.py

check yaml...............................................................Passed
pre-commit hook(s) made changes.
If you are seeing this message in CI, reproduce locally with: `pre-commit run --all-files`.
To run `pre-commit` as part of git hooks, use `pre-commit install`.
All changes made by hooks:
diff --git a/src/api/billing.py b/src/api/billing.py
index 3f2a1b4..7a8b9c0 100644
--- a/src/api/billing.py
+++ b/src/api/billing.py
@@ -41,4 +41,4 @@ def total(lines):
     return sum(line.amount for line in lines)
-
+
""",
    ),
    "go_vet": job(
        "golang:1.21",
        r"""
$ go vet ./...
# github.com/acme/pricing/internal/invoice
internal/invoice/format.go:27:2: fmt.Sprintf format %d has arg total of wrong type string
""",
    ),
    "cargo_deny": job(
        "rust:1.74",
        r"""
$ cargo install --locked cargo-deny
     Ignored package `cargo-deny v0.14.3` is already installed, use --force to override
$ cargo deny check
error[vulnerability]: Potential segfault in the time crate
   ┌─ /builds/acme/pricing/Cargo.lock:64:1
   │
64 │ time 0.1.45 registry+https://github.com/rust-lang/crates.io-index
   │ ----------------------------------------------------------------- security vulnerability detected
   │
   = ID: RUSTSEC-2020-0071
   = Advisory: https://rustsec.org/advisories/RUSTSEC-2020-0071
   = Solution: Upgrade to >=0.2.23 (try `cargo update -p time`)
   = time v0.1.45
     └── chrono v0.4.19
         └── pricing v0.1.0

advisories FAILED, bans ok, licenses ok, sources ok
""",
    ),
}

# log, tokens the summary names, the line the evidence quotes, the category (None: not asserted)
CASES = [
    (
        "cypress",
        ["applies a coupon", "expected '<span.total>' to contain 'Total: 90.00'"],
        "AssertionError: Timed out retrying after 4000ms",
        Category.test,
    ),
    (
        "playwright",
        ["tests/cart.spec.ts:12:5", "expect(received).toBe(expected)"],
        "Error: expect(received).toBe(expected)",
        Category.test,
    ),
    (
        "dotnet_build",
        ["InvoiceController.cs(14,17)", "CS0246", "'IInvoiceService' could not be found"],
        "error CS0246: The type or namespace name 'IInvoiceService'",
        Category.build,
    ),
    (
        "msbuild_warnaserror",
        ["MailService.cs(31,23)", "CS8618", "Non-nullable property 'Sender'"],
        "error CS8618: Non-nullable property 'Sender'",
        Category.build,
    ),
    ("hadolint", ["Dockerfile:7", "DL3008"], "Dockerfile:7 DL3008 warning: Pin versions", Category.lint),
    ("trivy", ["CVE-2024-45491", "libexpat"], "│ libexpat │ CVE-2024-45491 │ CRITICAL │", Category.dependency),
    ("gitleaks", ["aws-access-token", "config/settings.py"], "RuleID:      aws-access-token", None),
    (
        "flyway",
        ["V3__add_index.sql", 'column "customer_ref" does not exist'],
        "ERROR: Migration V3__add_index.sql failed",
        None,
    ),
    (
        "alembic",
        ["sqlalchemy.exc.ProgrammingError", 'relation "invoice" does not exist'],
        "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable)",
        None,
    ),
    (
        "ng_build",
        ["src/app/cart/cart.component.ts:14:7", "TS2322", "Type 'string' is not assignable to type 'number'"],
        "Error: src/app/cart/cart.component.ts:14:7 - error TS2322",
        Category.build,
    ),
    (
        "vite",
        ['Rollup failed to resolve import "@/composables/useCart"', "CartView.vue"],
        '[vite]: Rollup failed to resolve import "@/composables/useCart"',
        Category.build,
    ),
    (
        "webpack",
        ["./src/components/Cart.jsx", "Can't resolve './CartTotal'"],
        "Module not found: Error: Can't resolve './CartTotal'",
        Category.build,
    ),
    (
        "semantic_release",
        ["EGITNOPERMISSION", "Cannot push to the Git repository"],
        "EGITNOPERMISSION Cannot push to the Git repository",
        Category.permissions,  # GitLab's "You are not allowed to push code" under it: the job token cannot push
    ),
    (
        "yarn_frozen",
        ["Your lockfile needs to be updated", "--frozen-lockfile"],
        "error Your lockfile needs to be updated",
        Category.dependency,
    ),
    (
        "gradle_oom",
        ["ReportGeneratorTest > rendersLargeReport()", "OutOfMemoryError: Java heap space"],
        "java.lang.OutOfMemoryError: Java heap space",
        Category.out_of_memory,
    ),
    (
        "pyright",
        ["src/api/billing.py:14:22", '"compute_tax" is not a known attribute of module "api.tax"'],
        "billing.py:14:22 - error:",
        Category.lint,
    ),
    ("ruff", ["src/api/billing.py:12:5", "F841"], "src/api/billing.py:12:5: F841", Category.lint),
    (
        "mypy",
        ["src/api/billing.py:27", 'incompatible type "str"; expected "Decimal"'],
        "src/api/billing.py:27: error:",
        Category.lint,
    ),
    ("git_push", ["[rejected]", "non-fast-forward"], "! [rejected]        HEAD -> main (non-fast-forward)", None),
    ("aws_s3", ["AccessDenied", "PutObject", "dist/index.html"], "upload failed: dist/index.html", None),
    (
        "docker_push",
        ["denied: requested access to the resource is denied"],
        "denied: requested access to the resource is denied",
        Category.permissions,
    ),
    (
        "k6",
        ["thresholds on metrics 'http_req_duration' have been crossed"],
        "thresholds on metrics 'http_req_duration' have been crossed",
        None,
    ),
    (
        "robot",
        ["Apply Coupon Reduces Total", "Total: 100.00 != Total: 90.00"],
        "Apply Coupon Reduces Total",
        Category.test,
    ),
    (
        "pip_resolution",
        ["django==4.2.8", "conflicting dependencies"],
        "ERROR: Cannot install -r requirements.txt (line 2) and django==4.2.8",
        Category.dependency,
    ),
    (
        "helm_lint",
        ["templates/deployment.yaml", "line 27: mapping values are not allowed"],
        "[ERROR] templates/deployment.yaml",
        Category.lint,
    ),
    (
        "tflint",
        ['"t2.micrro" is an invalid value as instance_type', "aws_instance_invalid_type"],
        'Error: "t2.micrro" is an invalid value',
        Category.lint,
    ),
    ("checkov", ["CKV_AWS_20", "aws_s3_bucket.assets"], "FAILED for resource: aws_s3_bucket.assets", Category.lint),
    ("pre_commit", ["end-of-file-fixer"], "- hook id: end-of-file-fixer", Category.lint),
    (
        "go_vet",
        ["internal/invoice/format.go:27:2", "format %d has arg total of wrong type string"],
        "internal/invoice/format.go:27:2",
        None,
    ),
    (
        "cargo_deny",
        ["Potential segfault in the time crate", "Cargo.lock:64:1"],
        "error[vulnerability]: Potential segfault",
        Category.dependency,
    ),
]


def answer_for(name: str):
    return offline_answer(LOGS[name])


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_decisive_token_and_the_evidence_quotes_its_line(name, tokens, quoted, category):
    answer = answer_for(name)
    assert_specific(name, answer, tokens, quoted, category)
    assert "Cleaning up project" not in answer.summary[:SCORED_SUMMARY], "nor is the runner's clean-up after the script"


def test_an_exception_raised_from_another_is_stated_but_one_raised_while_handling_it_is_not():
    # `raise X from e` ("The above exception was the direct cause"): the last exception wraps the first and is what
    # the command died of. "During handling of the above exception" is an accident of handling the first one.
    assert answer_for("alembic").summary.startswith("sqlalchemy.exc.ProgrammingError:")
    during = LOGS["alembic"].replace(
        "The above exception was the direct cause of the following exception:",
        "During handling of the above exception, another exception occurred:",
    )
    summary = offline_answer(during).summary
    assert summary.startswith('psycopg2.errors.UndefinedTable: relation "invoice" does not exist')
    assert 'File "<string>"' not in answer_for("alembic").summary, "a frame in code without a file says nothing"
