"""The offline analyzer on other CI systems' framing (test_offline_formats4.py's method): hand-written tails of
Jenkins, CircleCI, Buildkite, Azure Pipelines, TeamCity, Bitbucket Pipelines, Drone/Woodpecker, AWS CodeBuild and
Google Cloud Build logs around common tools' failures. The summary names the failure in the tool's own words, the
evidence quotes its line, and the system's step headers, command echoes and exit-status lines are not the headline."""

from __future__ import annotations

import pytest

from bot.core.types import Category
from tests.unit.test_offline_formats import SCORED_EVIDENCE, SCORED_SUMMARY, assert_specific, offline_answer


def _lines(body: str) -> list[str]:
    return body.strip("\n").split("\n")


def jenkins(stage: str, body: str, code: int = 1) -> str:
    """A Jenkins Pipeline console log: the pipeline's own steps (`[Pipeline] ...`), the sh step's `set -x` echoes of
    its commands (`+ cmd`, in the body), the closing braces, the step's `ERROR: script returned exit code N` and the
    build's result."""
    lines = [
        "Started by an SCM change",
        "Obtained Jenkinsfile from git https://git.example.com/acme/shop.git",
        "[Pipeline] Start of Pipeline",
        "[Pipeline] node",
        "Running on agent-7 in /var/lib/jenkins/workspace/shop_main",
        "[Pipeline] {",
        "[Pipeline] stage",
        "[Pipeline] { (Checkout)",
        "[Pipeline] checkout",
        "The recommended git tool is: NONE",
        " > git rev-parse --resolve-git-dir /var/lib/jenkins/workspace/shop_main/.git # timeout=10",
        "Checking out Revision 9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d (refs/remotes/origin/main)",
        'Commit message: "Apply coupons before tax"',
        "[Pipeline] }",
        "[Pipeline] // stage",
        "[Pipeline] stage",
        f"[Pipeline] {{ ({stage})",
        "[Pipeline] sh",
        *_lines(body),
        "[Pipeline] }",
        "[Pipeline] // stage",
        "[Pipeline] stage",
        "[Pipeline] { (Deploy)",
        'Stage "Deploy" skipped due to earlier failure(s)',
        "[Pipeline] }",
        "[Pipeline] // stage",
        "[Pipeline] }",
        "[Pipeline] // node",
        "[Pipeline] End of Pipeline",
        f"ERROR: script returned exit code {code}",
        "Finished: FAILURE",
    ]
    return "".join(line + "\n" for line in lines)


def jenkins_freestyle(body: str) -> str:
    """A freestyle job's console: the shell build step runs its script with `sh -xe`, and Jenkins marks the build."""
    return (
        "Started by user Ada Admin\n"
        "Running as SYSTEM\n"
        "Building on the built-in node in workspace /var/lib/jenkins/workspace/shop-nightly\n"
        "[shop-nightly] $ /bin/sh -xe /tmp/jenkins4242186551357913.sh\n"
        f"{body.strip(chr(10))}\n"
        "Build step 'Execute shell' marked build as failure\n"
        "Archiving artifacts\n"
        "Finished: FAILURE\n"
    )


def circleci(command: str, body: str, code: int = 1) -> str:
    """A CircleCI step's output: the shell line, the command, its output and CircleCI's two exit lines."""
    return f"#!/bin/bash -eo pipefail\n{command}\n{body.strip(chr(10))}\n\nExited with code exit status {code}\nCircleCI received exit code {code}\n"


def buildkite(command: str, body: str, code: int = 1) -> str:
    """A Buildkite job log: the agent's hook groups (`~~~ `), the command echo, the command's own groups (`--- `,
    `+++ `), the agent's error line and the command's exit."""
    return (
        "~~~ Running global environment hook\n"
        "$ /etc/buildkite-agent/hooks/environment\n"
        "~~~ Preparing working directory\n"
        "$ cd /var/lib/buildkite-agent/builds/agent-3/acme/shop\n"
        '# Host "github.com" already in list of known hosts at "/var/lib/buildkite-agent/.ssh/known_hosts"\n'
        "$ git fetch -v --prune -- origin main\n"
        "From github.com:acme/shop\n"
        " * branch            main       -> FETCH_HEAD\n"
        "$ git checkout -f 9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d\n"
        "~~~ Running commands\n"
        f"$ {command}\n"
        f"{body.strip(chr(10))}\n"
        f"🚨 Error: The command exited with status {code}\n"
        f"user command error: exit status {code}\n"
    )


def azure(task: str, script: str, body: str, error: str = "##[error]Bash exited with code '1'.") -> str:
    """An Azure Pipelines job log: a timestamp on every line, the task's banner, the generated script, the command
    output, the task's `##[error]` and its end."""
    lines = [
        "##[section]Starting: Initialize job",
        "Agent name: 'Azure Pipelines 4'",
        "Agent machine name: 'fv-az123-456'",
        "Current agent version: '3.236.1'",
        "##[section]Finishing: Initialize job",
        "##[section]Starting: Checkout acme/shop@main to s",
        "##[command]git checkout --progress --force refs/remotes/origin/main",
        "HEAD is now at 9b3e1d2 Apply coupons before tax",
        "##[section]Finishing: Checkout acme/shop@main to s",
        f"##[section]Starting: {task}",
        "==============================================================================",
        "Task         : Command line",
        "Description  : Run a command line script using Bash on Linux and macOS and cmd.exe on Windows",
        "Version      : 2.231.1",
        "Author       : Microsoft Corporation",
        "Help         : https://docs.microsoft.com/azure/devops/pipelines/tasks/utility/command-line",
        "==============================================================================",
        "Generating script.",
        "Script contents:",
        script,
        "========================== Starting Command Output ===========================",
        "##[command]/usr/bin/bash --noprofile --norc /home/vsts/work/_temp/5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b.sh",
        *_lines(body),
        error,
        f"##[section]Finishing: {task}",
        "##[section]Starting: Finalize Job",
        "Cleaning up task key",
        "##[section]Finishing: Finalize Job",
    ]
    return "".join(f"2026-12-09T10:20:{10 + i // 20:02d}.{i:07d}Z {line}\n" for i, line in enumerate(lines))


def teamcity(step: str, body: str, code: int = 1) -> str:
    """A TeamCity build log as downloaded: `[time]flag: [Step n/m] ` before every line of a step."""
    head = [
        ("i", "", "Step 2/3: " + step + " (Command Line)"),
        ("i", "[Step 2/3] ", "Starting: /opt/buildagent/temp/agentTmp/custom_script3141592653589793.sh"),
        ("i", "[Step 2/3] ", "in directory: /opt/buildagent/work/8f3a2b1c9d0e"),
    ]
    tail = [
        ("W", "[Step 2/3] ", f"Process exited with code {code}"),
        ("E", "[Step 2/3] ", f"Process exited with code {code} (Step: {step} (Command Line))"),
        ("E", "[Step 2/3] ", f"Step {step} (Command Line) failed"),
    ]
    rows = [*head, *((" ", "[Step 2/3] ", line) for line in _lines(body)), *tail]
    return "".join(
        f"[10:20:{11 + i // 10:02d}]{flag}:\t {step_tag}{text}\n" for i, (flag, step_tag, text) in enumerate(rows)
    )


def xtrace(preamble: str, body: str) -> str:
    """Bitbucket Pipelines, Drone and Woodpecker: each command echoed with `+ ` before its output."""
    return f"{preamble.strip(chr(10))}\n{body.strip(chr(10))}\n"


BITBUCKET = """
+ umask 000
+ GIT_LFS_SKIP_SMUDGE=1 retry 6 git clone --branch="main" --depth 50 https://x-token-auth:$REPOSITORY_OAUTH_ACCESS_TOKEN@bitbucket.org/$BITBUCKET_REPO_FULL_NAME.git $BUILD_DIR
Cloning into '/opt/atlassian/pipelines/agent/build'...
+ git reset --hard 9b3e1d2f4a5c
HEAD is now at 9b3e1d2 Apply coupons before tax
+ git config user.name bitbucket-pipelines
"""

DRONE = """
+ git init
Initialized empty Git repository in /drone/src/.git/
+ git fetch origin +refs/heads/main:
From https://git.example.com/acme/shop
 * branch            main       -> FETCH_HEAD
+ git checkout 9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d -b main
Switched to a new branch 'main'
"""


def codebuild(command: str, body: str, code: int = 1) -> str:
    """An AWS CodeBuild log: the agent's `[Container]` lines around the buildspec's commands and their output."""
    stamp = "[Container] 2026/12/09 10:20:1{} "
    return (
        f"{stamp.format(1)}Waiting for agent ping\n"
        f"{stamp.format(1)}Waiting for DOWNLOAD_SOURCE\n"
        f"{stamp.format(2)}Phase is DOWNLOAD_SOURCE\n"
        f"{stamp.format(2)}CODEBUILD_SRC_DIR=/codebuild/output/src123456789/src\n"
        f"{stamp.format(2)}YAML location is /codebuild/output/src123456789/src/buildspec.yml\n"
        f"{stamp.format(2)}Phase complete: DOWNLOAD_SOURCE State: SUCCEEDED\n"
        f"{stamp.format(3)}Entering phase INSTALL\n"
        f"{stamp.format(3)}Phase complete: INSTALL State: SUCCEEDED\n"
        f"{stamp.format(3)}Entering phase BUILD\n"
        f"{stamp.format(3)}Running command {command}\n"
        f"{body.strip(chr(10))}\n"
        "\n"
        f"{stamp.format(8)}Command did not exit successfully {command} exit status {code}\n"
        f"{stamp.format(8)}Phase complete: BUILD State: FAILED\n"
        f"{stamp.format(8)}Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: "
        f"{command}. Reason: exit status {code}\n"
        f"{stamp.format(8)}Entering phase POST_BUILD\n"
        f"{stamp.format(9)}Phase complete: POST_BUILD State: SUCCEEDED\n"
        f"{stamp.format(9)}Phase context status code:  Message:\n"
    )


def cloudbuild(step: int, name: str, image: str, body: str, code: int = 1) -> str:
    """A Google Cloud Build log: every line of a step prefixed with `Step #N - "name": `, the build's verdict."""
    lines = [
        'starting build "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"',
        "",
        "FETCHSOURCE",
        "From https://source.developers.google.com/p/acme/r/shop",
        " * branch            9b3e1d2f4a5c6b7d8e9f0a1b2c3d4e5f6a7b8c9d -> FETCH_HEAD",
        "HEAD is now at 9b3e1d2 Apply coupons before tax",
        "BUILD",
    ]
    for n in range(step):
        lines += [f'Starting Step #{n} - "deps"', f'Step #{n} - "deps": Already have image (with digest): {image}']
        lines += [f'Step #{n} - "deps": added 812 packages in 21s', f'Finished Step #{n} - "deps"']
    lines += [
        f'Starting Step #{step} - "{name}"',
        f'Step #{step} - "{name}": Already have image (with digest): {image}',
    ]
    lines += [f'Step #{step} - "{name}": {line}' if line else f'Step #{step} - "{name}": ' for line in _lines(body)]
    lines += [
        f'Finished Step #{step} - "{name}"',
        "ERROR",
        f'ERROR: build step {step} "{image}" failed: step exited with non-zero status: {code}',
    ]
    return "".join(line + "\n" for line in lines)


JEST = """
> shop@1.0.0 test
> jest --ci

PASS src/money.test.js
FAIL src/cart.test.js
  ● Cart › applies a coupon

    expect(received).toBe(expected) // Object.is equality

    Expected: 90
    Received: 100

      10 |   const cart = new Cart([{ price: 100 }]);
      11 |   cart.apply("TEN");
    > 12 |   expect(cart.total()).toBe(90);
         |                        ^
      13 | });

      at Object.<anonymous> (src/cart.test.js:12:24)

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 11 passed, 12 total
Snapshots:   0 total
Time:        2.314 s
Ran all test suites.
"""

PYTEST = """
============================= test session starts ==============================
platform linux -- Python 3.12.1, pytest-8.0.0, pluggy-1.4.0
rootdir: /src
collected 42 items

tests/test_cart.py ....F.....                                            [ 23%]
tests/test_money.py ................................                     [100%]

=================================== FAILURES ===================================
__________________________ test_total_with_coupon ___________________________

    def test_total_with_coupon():
        cart = Cart([Item(price=100)])
        cart.apply("TEN")
>       assert cart.total() == 90
E       assert 100 == 90
E        +  where 100 = <bound method Cart.total of <Cart 1 item>>()

tests/test_cart.py:17: AssertionError
=========================== short test summary info ============================
FAILED tests/test_cart.py::test_total_with_coupon - assert 100 == 90
========================= 1 failed, 41 passed in 0.84s =========================
"""

GO_TEST = """
--- FAIL: TestCart_ApplyCoupon (0.00s)
    cart_test.go:27: total = 100, want 90
FAIL
FAIL	github.com/acme/shop/internal/cart	0.012s
ok  	github.com/acme/shop/internal/money	0.009s
FAIL
"""

MAVEN_TEST = """
[INFO] -------------------------------------------------------
[INFO]  T E S T S
[INFO] -------------------------------------------------------
[INFO] Running com.acme.shop.CartTest
[ERROR] Tests run: 4, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.041 s <<< FAILURE! - in com.acme.shop.CartTest
[ERROR] appliesCoupon(com.acme.shop.CartTest)  Time elapsed: 0.012 s  <<< FAILURE!
org.opentest4j.AssertionFailedError: expected: <90> but was: <100>
	at com.acme.shop.CartTest.appliesCoupon(CartTest.java:42)
[INFO]
[INFO] Results:
[INFO]
[ERROR] Failures:
[ERROR]   CartTest.appliesCoupon:42 expected: <90> but was: <100>
[INFO]
[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0
[INFO]
[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[INFO] Total time:  14.212 s
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.2:test (default-test) on project shop: There are test failures.
[ERROR]
[ERROR] Please refer to /src/target/surefire-reports for the individual test results.
"""

# Jenkins' declarative `post` stage runs after a failed stage: its steps' lines are not the stage's failure.
POST_ACTIONS = (
    "[Pipeline] stage\n[Pipeline] { (Declarative: Post Actions)\n[Pipeline] junit\nRecording test results\n{post}"
    "[Pipeline] }}\n[Pipeline] // stage\n"
)
DEPLOY_SKIPPED = '[Pipeline] stage\n[Pipeline] { (Deploy)\nStage "Deploy" skipped due to earlier failure(s)\n[Pipeline] }\n[Pipeline] // stage\n'


def with_post(log: str, post: str) -> str:
    """A Jenkins Pipeline log with a `post` stage after the failed one, in place of the skipped stage."""
    return log.replace(DEPLOY_SKIPPED, POST_ACTIONS.replace("{post}", post).replace("}}", "}"))


LOGS: dict[str, str] = {
    "jenkins_pytest": jenkins(
        "Test",
        "+ python -m pip install -q -r requirements-dev.txt\n+ python -m pytest -q tests --junitxml=report.xml\n"
        + PYTEST,
    ),
    "jenkins_maven": jenkins("Test", "+ mvn -B -ntp verify\n" + MAVEN_TEST),
    "jenkins_gradle": jenkins(
        "Build",
        r"""
+ ./gradlew --no-daemon build
> Task :compileJava FAILED
/var/lib/jenkins/workspace/shop_main/src/main/java/com/acme/shop/Cart.java:27: error: cannot find symbol
        return applyCoupon(total, coupon);
               ^
  symbol:   method applyCoupon(int,Coupon)
  location: class Cart
1 error

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':compileJava'.
> Compilation failed; see the compiler error output for details.

* Try:
> Run with --stacktrace option to get the stack trace.

BUILD FAILED in 21s
1 actionable task: 1 executed
""",
    ),
    "jenkins_tsc": jenkins(
        "Typecheck",
        r"""
+ npm ci
added 812 packages, and audited 813 packages in 21s
+ npx tsc --noEmit -p tsconfig.json
src/cart.ts(12,5): error TS2322: Type 'number' is not assignable to type 'string'.
""",
        code=2,
    ),
    "jenkins_freestyle_make": jenkins_freestyle(
        r"""
+ ./configure --prefix=/usr
checking for gcc... gcc
checking whether the C compiler works... yes
config.status: creating Makefile
+ make -j4
gcc -O2 -Wall -c -o src/cart.o src/cart.c
src/cart.c: In function 'cart_total':
src/cart.c:41:12: error: 'total' undeclared (first use in this function)
   41 |     return total;
      |            ^~~~~
make: *** [Makefile:23: src/cart.o] Error 1
""",
    ),
    "jenkins_rustfmt": jenkins(
        "Format",
        r"""
+ cargo fmt --all -- --check
Diff in /var/lib/jenkins/workspace/shop_main/src/cart.rs at line 12:
 pub fn total(&self) -> u32 {
-    let sum=self.items.iter().map(|i| i.price).sum::<u32>();
+    let sum = self.items.iter().map(|i| i.price).sum::<u32>();
     sum
 }
""",
    ),
    "jenkins_black": jenkins(
        "Lint",
        r"""
+ black --check --diff app
--- app/cart.py	2026-12-09 10:20:11.000000+00:00
+++ app/cart.py	2026-12-09 10:20:12.000000+00:00
@@ -10,7 +10,7 @@
 class Cart:
-    def total(self)->int:
+    def total(self) -> int:
         return sum(i.price for i in self.items)
+ cart = Cart()
would reformat app/cart.py

Oh no! 💥 💔 💥
1 file would be reformatted, 14 files would be left unchanged.
""",
    ),
    "jenkins_post": with_post(
        jenkins("Test", "+ python -m pytest -q tests --junitxml=report.xml\n" + PYTEST),
        "[Checks API] No suitable checks publisher found.\n[Pipeline] sh\n+ docker compose down\n"
        " Container shop-db-1  Stopping\n Container shop-db-1  Stopped\n",
    ),
    "jenkins_post_junit": with_post(
        jenkins(
            "Build",
            r"""
+ mvn -B -ntp verify
[ERROR] COMPILATION ERROR :
[ERROR] /var/lib/jenkins/workspace/shop_main/src/main/java/com/acme/shop/Cart.java:[27,16] cannot find symbol
[INFO] BUILD FAILURE
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project shop: Compilation failure
""",
        ),
        "ERROR: Step ‘Publish JUnit test result report’ failed: No test report files were found. Configuration error?\n",
    ),
    "jenkins_oom": jenkins(
        "Test",
        r"""
+ ./gradlew --no-daemon test
> Task :compileJava
> Task :test
/var/lib/jenkins/workspace/shop_main@tmp/durable-5e4d3c2b/script.sh: line 1:  4242 Killed                  ./gradlew --no-daemon test
""",
        code=137,
    ),
    "circleci_jest": circleci("npm test -- --ci", JEST),
    "circleci_go": circleci("go test ./...", GO_TEST),
    "circleci_no_output": circleci(
        "npm run e2e",
        r"""
> shop@1.0.0 e2e
> playwright test

Running 48 tests using 2 workers
Too long with no output (exceeded 10m0s): context deadline exceeded
""",
    ),
    "buildkite_cargo": buildkite(
        "cargo test --locked",
        r"""
--- :rust: Building
   Compiling shop v0.4.0 (/var/lib/buildkite-agent/builds/agent-3/acme/shop)
    Finished test [unoptimized + debuginfo] target(s) in 14.21s
+++ :rust: Testing
     Running unittests src/lib.rs (target/debug/deps/shop-3f2a1b0c9d8e7f6a)

running 3 tests
test cart::tests::empty_cart_is_free ... ok
test cart::tests::applies_coupon ... FAILED
test money::tests::rounds_half_up ... ok

failures:

---- cart::tests::applies_coupon stdout ----
thread 'cart::tests::applies_coupon' panicked at src/cart.rs:42:9:
assertion `left == right` failed
  left: 100
 right: 90

failures:
    cart::tests::applies_coupon

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--lib`
^^^ +++
""",
    ),
    "buildkite_eslint": buildkite(
        ".buildkite/lint.sh",
        r"""
--- :eslint: Linting
+ npx eslint --max-warnings 0 src

/var/lib/buildkite-agent/builds/agent-3/acme/shop/src/cart.js
  12:7  error  'discount' is assigned a value but never used  no-unused-vars

✖ 1 problem (1 error, 0 warnings)

""",
    ),
    "buildkite_docker": buildkite(
        "docker build -t shop:ci .",
        r"""
#0 building with "default" instance using docker driver
#5 [2/5] WORKDIR /app
#5 DONE 0.0s
#7 [4/5] RUN npm ci
#7 2.113 npm ERR! code ERESOLVE
#7 2.114 npm ERR! ERESOLVE unable to resolve dependency tree
#7 2.115 npm ERR! Found: react@18.2.0
#7 2.116 npm ERR! Could not resolve dependency:
#7 2.117 npm ERR! peer react@"^17.0.0" from react-datepicker@4.1.0
#7 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1
------
 > [4/5] RUN npm ci:
------
Dockerfile:9
--------------------
   8 |     COPY package*.json ./
   9 | >>> RUN npm ci
--------------------
ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1
""",
    ),
    "azure_pytest": azure("Run tests", "python -m pytest -q tests", PYTEST),
    "azure_npm_ci": azure(
        "Install",
        "npm ci",
        r"""
npm ERR! code ETARGET
npm ERR! notarget No matching version found for @acme/ui@^3.4.0.
npm ERR! notarget In most cases you or one of your dependencies are requesting
npm ERR! notarget a package version that doesn't exist.

npm ERR! A complete log of this run can be found in: /home/vsts/.npm/_logs/2026-12-09T10_20_11_123Z-debug-0.log
""",
    ),
    "azure_terraform": azure(
        "Terraform plan",
        "terraform plan -input=false",
        r"""
##[command]/opt/hostedtoolcache/terraform/1.6.5/x64/terraform plan -input=false
data.aws_caller_identity.current: Reading...
data.aws_caller_identity.current: Read complete after 0s [id=123456789012]
╷
│ Error: Reference to undeclared resource
│
│   on main.tf line 12, in resource "aws_instance" "web":
│   12:   subnet_id = aws_subnet.private.id
│
│ A managed resource "aws_subnet" "private" has not been declared in the root module.
╵
""",
        error="##[error]Terraform command 'plan' failed with exit code '1'.",
    ),
    "azure_logissue": azure(
        "Check migrations",
        "./scripts/check-migrations.sh",
        r"""
checking 42 migrations
##vso[task.logissue type=error;sourcepath=db/migrations/0042_add_index.py;linenumber=1]Migration 0042_add_index has no reverse operation
##vso[task.complete result=Failed;]
""",
    ),
    "azure_dotnet_task": azure(
        "dotnet test",
        "dotnet test",
        r"""
  Failed Shop.Tests.CartTests.AppliesCoupon [12 ms]
  Error Message:
   Assert.Equal() Failure: Values differ
Expected: 90
Actual:   100
Failed!  - Failed:     1, Passed:    11, Skipped:     0, Total:    12, Duration: 41 ms - Shop.Tests.dll (net8.0)
##[error]Error: The process '/usr/bin/dotnet' failed with exit code 1
""",
        error="##[error]Dotnet command failed with non-zero exit code on the following projects : "
        "/home/vsts/work/1/s/tests/Shop.Tests/Shop.Tests.csproj",
    ),
    "azure_dotnet": azure(
        "dotnet test",
        "dotnet test --no-build",
        r"""
  Determining projects to restore...
  All projects are up-to-date for restore.
Test run for /home/vsts/work/1/s/tests/Shop.Tests/bin/Debug/net8.0/Shop.Tests.dll (.NETCoreApp,Version=v8.0)
Starting test execution, please wait...
A total of 1 test files matched the specified pattern.
  Failed Shop.Tests.CartTests.AppliesCoupon [12 ms]
  Error Message:
   Assert.Equal() Failure: Values differ
Expected: 90
Actual:   100
  Stack Trace:
     at Shop.Tests.CartTests.AppliesCoupon() in /home/vsts/work/1/s/tests/Shop.Tests/CartTests.cs:line 27

Failed!  - Failed:     1, Passed:    11, Skipped:     0, Total:    12, Duration: 41 ms - Shop.Tests.dll (net8.0)
""",
        error="##[error]Bash exited with code '1'.",
    ),
    "teamcity_tests": teamcity(
        "Test",
        r"""
##teamcity[testSuiteStarted name='tests.test_cart' flowId='1']
##teamcity[testStarted name='tests.test_cart.test_empty' flowId='1']
##teamcity[testFinished name='tests.test_cart.test_empty' duration='3' flowId='1']
##teamcity[testStarted name='tests.test_cart.test_total_with_coupon' flowId='1']
##teamcity[testFailed name='tests.test_cart.test_total_with_coupon' message='AssertionError: assert 100 == 90' details='tests/test_cart.py:17: in test_total_with_coupon|n    assert cart.total() == 90' flowId='1']
##teamcity[testFinished name='tests.test_cart.test_total_with_coupon' duration='5' flowId='1']
##teamcity[testSuiteFinished name='tests.test_cart' flowId='1']
""",
    ),
    "teamcity_build_problem": teamcity(
        "Check migrations",
        r"""
checking 42 migrations
##teamcity[buildProblem description='Migration 0042_add_index has no reverse operation' identity='migrations']
""",
    ),
    "teamcity_gradle": teamcity(
        "Build",
        r"""
> Task :compileKotlin FAILED
e: file:///opt/buildagent/work/8f3a2b1c9d0e/src/main/kotlin/shop/Cart.kt:12:5 Unresolved reference: applyCoupon

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':compileKotlin'.
> Compilation error. See log for more details

BUILD FAILED in 18s
""",
    ),
    "bitbucket_pytest_import": xtrace(
        BITBUCKET,
        r"""
+ pip install -q -r requirements.txt
+ pytest -q
==================================== ERRORS ====================================
____________________ ERROR collecting tests/test_cart.py ______________________
ImportError while importing test module '/opt/atlassian/pipelines/agent/build/tests/test_cart.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
tests/test_cart.py:3: in <module>
    from shop.coupons import apply_coupon
E   ModuleNotFoundError: No module named 'shop.coupons'
=========================== short test summary info ============================
ERROR tests/test_cart.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
1 error in 0.31s
Searching for test report files in directories named [test-results, failsafe-reports, test-reports, TestResults, surefire-reports] down to a depth of 4
Finished scanning for test reports. Found 0 test report files.
Merged test suites, total number tests is 0, with 0 failures and 0 errors.
""",
    ),
    "bitbucket_npm_404": xtrace(
        BITBUCKET,
        r"""
+ npm ci
npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fui - Not found
npm ERR! 404
npm ERR! 404  '@acme/ui@^3.4.0' is not in this registry.
npm ERR! 404
npm ERR! 404 Note that you can also install from a
npm ERR! 404 tarball, folder, http url, or git url.

npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2026-12-09T10_20_11_123Z-debug-0.log
""",
    ),
    "drone_go_build": xtrace(
        DRONE,
        r"""
+ go vet ./...
+ go build ./...
# github.com/acme/shop/internal/cart
internal/cart/cart.go:27:2: undefined: applyCoupon
""",
    ),
    "jenkins_timeout": jenkins(
        "Integration",
        r"""
+ go mod download
+ timeout 10m go test -race ./...
ok  	github.com/acme/shop/internal/money	1.209s
=== RUN   TestCheckout_Integration
""",
        code=124,
    ),
    "codebuild_maven": codebuild(
        "mvn -B -ntp package",
        r"""
[INFO] --- compiler:3.11.0:compile (default-compile) @ shop ---
[INFO] Compiling 42 source files with javac [debug target 17] to target/classes
[INFO] -------------------------------------------------------------
[ERROR] COMPILATION ERROR :
[INFO] -------------------------------------------------------------
[ERROR] /codebuild/output/src123456789/src/src/main/java/com/acme/shop/Cart.java:[27,16] cannot find symbol
  symbol:   method applyCoupon(int,com.acme.shop.Coupon)
  location: class com.acme.shop.Cart
[INFO] 1 error
[INFO] -------------------------------------------------------------
[INFO] BUILD FAILURE
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project shop: Compilation failure
""",
    ),
    "codebuild_ecr": codebuild(
        "docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:ci",
        r"""
The push refers to repository [123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop]
5f70bf18a086: Preparing
a3b5c80a4eba: Preparing
denied: User: arn:aws:sts::123456789012:assumed-role/codebuild-shop/AWSCodeBuild-0f1e2d3c is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:eu-west-1:123456789012:repository/shop because no identity-based policy allows the ecr:InitiateLayerUpload action
""",
    ),
    "codebuild_silent": codebuild("./scripts/check-version.sh", "checking version 2.4.0", code=3),
    "cloudbuild_jest": cloudbuild(1, "test", "gcr.io/cloud-builders/npm", "\n" + JEST),
    "cloudbuild_docker": cloudbuild(
        0,
        "build",
        "gcr.io/cloud-builders/docker",
        r"""
Sending build context to Docker daemon  1.204MB
Step 1/6 : FROM python:3.12-slim
 ---> 3f2a1b0c9d8e
Step 4/6 : RUN pip install -r requirements.txt
 ---> Running in 7c6b5a4f3e2d
ERROR: Could not find a version that satisfies the requirement shopkit==9.9.9 (from versions: 1.0.0, 1.1.0)
ERROR: No matching distribution found for shopkit==9.9.9
The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1
""",
    ),
    "cloudbuild_silent": cloudbuild(2, "deploy", "gcr.io/google.com/cloudsdktool/cloud-sdk", "Deploying shop..."),
}

CASES: list[tuple[str, list[str], str, Category | None]] = [
    (
        "jenkins_pytest",
        ["test_total_with_coupon", "assert 100 == 90"],
        "assert 100 == 90",
        Category.test,
    ),
    ("jenkins_maven", ["CartTest", "appliesCoupon", "expected: <90> but was: <100>"], "appliesCoupon", Category.test),
    (
        "jenkins_gradle",
        ["Cart.java:27", "cannot find symbol"],
        "Cart.java:27: error: cannot find symbol",
        Category.build,
    ),
    ("jenkins_tsc", ["src/cart.ts(12,5)", "TS2322"], "src/cart.ts(12,5): error TS2322", Category.build),
    ("jenkins_freestyle_make", ["src/cart.c:41:12", "'total' undeclared"], "src/cart.c:41:12: error", Category.build),
    ("jenkins_rustfmt", ["Diff in", "src/cart.rs at line 12"], "Diff in /var/lib/jenkins", Category.lint),
    ("jenkins_black", ["would reformat app/cart.py"], "would reformat app/cart.py", Category.lint),
    ("jenkins_post", ["test_total_with_coupon", "assert 100 == 90"], "assert 100 == 90", Category.test),
    (
        "jenkins_post_junit",
        ["Cart.java:[27,16]", "cannot find symbol"],
        "Cart.java:[27,16] cannot find symbol",
        Category.build,
    ),
    ("jenkins_oom", ["Killed", "./gradlew --no-daemon test"], "Killed", None),
    ("circleci_jest", ["Cart › applies a coupon", "Expected: 90"], "● Cart › applies a coupon", Category.test),
    (
        "circleci_go",
        ["TestCart_ApplyCoupon", "cart_test.go:27"],
        "cart_test.go:27: total = 100, want 90",
        Category.test,
    ),
    ("circleci_no_output", ["Too long with no output"], "Too long with no output (exceeded 10m0s)", None),
    (
        "buildkite_cargo",
        ["cart::tests::applies_coupon", "src/cart.rs:42:9"],
        "panicked at src/cart.rs:42:9",
        Category.test,
    ),
    (
        "buildkite_eslint",
        ["src/cart.js", "12:7", "'discount' is assigned a value but never used"],
        "'discount' is assigned a value but never used",
        Category.lint,
    ),
    ("buildkite_docker", ["ERESOLVE", "react-datepicker"], "ERESOLVE unable to resolve dependency tree", None),
    ("azure_pytest", ["test_total_with_coupon", "assert 100 == 90"], "assert 100 == 90", Category.test),
    ("azure_npm_ci", ["No matching version found for @acme/ui@^3.4.0"], "notarget No matching version", None),
    (
        "azure_terraform",
        ["Reference to undeclared resource", "main.tf line 12"],
        "Error: Reference to undeclared resource",
        None,
    ),
    (
        "azure_logissue",
        ["Migration 0042_add_index has no reverse operation"],
        "Migration 0042_add_index has no reverse operation",
        None,
    ),
    (
        "azure_dotnet_task",
        ["Shop.Tests.CartTests.AppliesCoupon", "Assert.Equal() Failure"],
        "Assert.Equal() Failure: Values differ",
        Category.test,
    ),
    (
        "azure_dotnet",
        ["Shop.Tests.CartTests.AppliesCoupon"],
        "Failed Shop.Tests.CartTests.AppliesCoupon",
        Category.test,
    ),
    (
        "teamcity_tests",
        ["tests.test_cart.test_total_with_coupon", "AssertionError: assert 100 == 90"],
        "testFailed name='tests.test_cart.test_total_with_coupon'",
        Category.test,
    ),
    (
        "teamcity_build_problem",
        ["Migration 0042_add_index has no reverse operation"],
        "buildProblem description='Migration 0042_add_index",
        None,
    ),
    ("teamcity_gradle", ["Cart.kt:12:5", "Unresolved reference: applyCoupon"], "Unresolved reference", Category.build),
    (
        "bitbucket_pytest_import",
        ["tests/test_cart.py", "ImportError while importing test module"],
        "ERROR collecting tests/test_cart.py",
        Category.test,
    ),
    ("bitbucket_npm_404", ["404 Not Found", "@acme%2fui"], "npm ERR! 404 Not Found", None),
    (
        "drone_go_build",
        ["internal/cart/cart.go:27:2", "undefined: applyCoupon"],
        "undefined: applyCoupon",
        Category.build,
    ),
    ("jenkins_timeout", ["timeout 10m go test -race ./..."], "+ timeout 10m go test -race ./...", None),
    (
        "codebuild_maven",
        ["Cart.java:[27,16]", "cannot find symbol"],
        "Cart.java:[27,16] cannot find symbol",
        Category.build,
    ),
    (
        "codebuild_ecr",
        ["not authorized to perform: ecr:InitiateLayerUpload"],
        "denied: User: arn:aws:sts::",
        None,
    ),
    ("codebuild_silent", ["./scripts/check-version.sh", "exit status 3"], "Command did not exit successfully", None),
    ("cloudbuild_jest", ["Cart › applies a coupon", "Expected: 90"], "● Cart › applies a coupon", Category.test),
    (
        "cloudbuild_docker",
        ["No matching distribution found for shopkit==9.9.9"],
        "No matching distribution found for shopkit==9.9.9",
        Category.dependency,
    ),
    ("cloudbuild_silent", ["build step 2", "non-zero status: 1"], 'build step 2 "gcr.io/google.com', None),
]

# The CI systems' own lines: step headers, command wrappers, exit statuses and build results.
FRAMING = (
    "[Pipeline]",
    "script returned exit code",
    "Finished: FAILURE",
    "marked build as failure",
    "Exited with code exit status",
    "CircleCI received exit code",
    "🚨 Error: The command exited",
    "user command error",
    "^^^ +++",
    "##[section]",
    "##[command]",
    "Bash exited with code",
    "failed with exit code '1'",
    "Process exited with code",
    "Phase complete",
    "Phase context status code",
    "[Container]",
    "step exited with non-zero status",
    'Step #1 - "test":',
    'Step #0 - "build":',
    "Merged test suites",
    "Publish JUnit test result report",
    "docker compose down",
    "Dotnet command failed",
)
# Rows where the system's line is all there is: the failing command and its exit are the answer.
SILENT = {"codebuild_silent", "cloudbuild_silent"}


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_failure_in_the_tools_words(name, tokens, quoted, category):
    answer = offline_answer(LOGS[name])
    assert_specific(name, answer, tokens, quoted, category)
    if name not in SILENT:
        framing = [f for f in FRAMING if f in answer.summary[:SCORED_SUMMARY]]
        assert not framing, f"nor is the CI's framing: {framing} in {answer.summary!r}"


def answer_for(name: str):
    return offline_answer(LOGS[name])


def test_a_set_x_echo_is_not_the_failure():
    # `+ pytest tests/test_errors.py --maxfail=1` names what ran; "errors" and "fail" in it say nothing failed.
    log = jenkins(
        "Test",
        "+ pytest tests/test_errors.py --maxfail=1 -k 'not fail_fast'\n"
        + PYTEST.replace("tests/test_cart.py", "tests/test_errors.py"),
    )
    summary = offline_answer(log).summary[:SCORED_SUMMARY]
    assert "--maxfail" not in summary and "assert 100 == 90" in summary, summary


def test_a_diffs_added_lines_are_content_not_command_echoes():
    # black's diff holds `+ cart = Cart()`, shaped like an echo but inside a hunk (after `@@`): it is not the command
    # that failed, and the formatter's verdict under it is the failure.
    answer = answer_for("jenkins_black")
    assert "cart = Cart()" not in answer.summary[:SCORED_SUMMARY], answer.summary
    assert "would reformat app/cart.py" in answer.summary[:SCORED_SUMMARY]


def test_a_diff_is_the_failure_when_the_check_prints_only_the_diff():
    # `git diff --exit-code` after code generation: the diff is all it says; its file is the failure, and the
    # `+`/`-` lines are quoted as content, not dropped as echoes.
    log = jenkins(
        "Generate",
        r"""
+ go generate ./...
+ git diff --exit-code
diff --git a/internal/cart/cart_string.go b/internal/cart/cart_string.go
index 3f2a1b0..9c8d7e6 100644
--- a/internal/cart/cart_string.go
+++ b/internal/cart/cart_string.go
@@ -12,3 +12,4 @@ func _() {
 _ = x[Open-0]
 _ = x[Paid-1]
+_ = x[Refunded-2]
 }
""",
    )
    answer = offline_answer(log)
    assert "cart_string.go" in answer.summary[:SCORED_SUMMARY], answer.summary
    assert "git diff --exit-code" in answer.summary or "cart_string.go" in answer.summary


def test_the_jenkins_timestamper_prefix_changes_nothing():
    # The Timestamper plugin puts `[2026-12-09T10:20:11.123Z] ` (or the time alone, `10:20:11 `) before each line.
    for name in ("jenkins_pytest", "jenkins_maven", "jenkins_gradle", "jenkins_black", "jenkins_tsc"):
        lines = LOGS[name].split("\n")[:-1]
        plain = offline_answer(LOGS[name])
        for prefix in ("[2026-12-09T10:20:{:02d}.{:03d}Z] ", "10:20:{:02d} "):
            stamped = "".join(
                prefix.format(i % 60, i).replace(".000Z", ".000Z") + line + "\n" for i, line in enumerate(lines)
            )
            answer = offline_answer(stamped)
            assert (answer.summary, answer.category) == (plain.summary, plain.category), (name, prefix, answer.summary)


def test_a_silent_commands_exit_is_named_by_the_systems_line():
    # Nothing but the CI's line says what failed: the failing command (CodeBuild) or step (Cloud Build) and its
    # status, not a lifecycle line such as "Phase complete: BUILD State: FAILED".
    summary = answer_for("codebuild_silent").summary
    assert "Phase complete" not in summary[:SCORED_SUMMARY] and "check-version.sh" in summary, summary
    summary = answer_for("cloudbuild_silent").summary
    assert summary.startswith("ERROR: build step 2") or "build step 2" in summary[:80], summary


def test_teamcitys_failed_test_is_stated_by_its_name_and_message():
    summary = answer_for("teamcity_tests").summary[:SCORED_SUMMARY]
    assert "##teamcity[" not in summary and "flowId" not in summary, summary


def test_azure_logissue_is_stated_by_its_message():
    summary = answer_for("azure_logissue").summary[:SCORED_SUMMARY]
    assert summary.startswith("Migration 0042_add_index has no reverse operation"), summary
    evidence = [e.text for e in answer_for("azure_logissue").evidence[:SCORED_EVIDENCE]]
    assert not any("task.complete" in e for e in evidence[:1]), evidence


PRUNE = """
+ docker system prune -af{handled}
Error response from daemon: write /var/lib/docker/tmp/prune: no space left on device
{fallback}+ npm ci
added 812 packages in 21s
+ npm test
"""


def test_a_full_disk_in_a_command_allowed_to_fail_is_not_the_failure_under_set_x():
    # The review of round six in `+ cmd` framing: Bitbucket and Drone echo the whole command (`x || true`), the
    # shell's xtrace (Jenkins' sh step) echoes `+ x` and then the fallback it ran, `+ true`.
    for log in (
        xtrace(BITBUCKET, PRUNE.format(handled=" || true", fallback="") + JEST),
        jenkins("Test", PRUNE.format(handled="", fallback="+ true\n") + JEST),
    ):
        answer = offline_answer(log)
        assert "no space left" not in answer.summary.lower(), answer.summary
        assert answer.summary.startswith("● Cart › applies a coupon") and answer.category is Category.test


def test_a_finding_of_a_command_allowed_to_fail_is_not_the_failure_under_set_x():
    log = jenkins(
        "Release",
        r"""
+ pip-audit -r requirements.txt
Found 1 known vulnerability in 1 package
Name    Version ID                  Fix Versions
------- ------- ------------------- ------------
jinja2  3.1.2   GHSA-h5c8-rqwp-cp95 3.1.3
+ true
+ ./scripts/release.sh
ERROR: version 2.4.0 is already tagged
""",
    )
    answer = offline_answer(log)
    assert answer.summary.startswith("ERROR: version 2.4.0 is already tagged"), answer.summary


def test_buildkites_per_line_timestamps_change_nothing():
    # A raw Buildkite log puts the time before each line as a terminal string sequence (`ESC _bk;t=<ms> BEL`).
    for name in ("buildkite_cargo", "buildkite_eslint", "buildkite_docker"):
        lines = LOGS[name].split("\n")[:-1]
        raw = "".join(f"\x1b_bk;t={1765275611000 + 7 * i}\x07{line}\n" for i, line in enumerate(lines))
        plain, answer = offline_answer(LOGS[name]), offline_answer(raw)
        assert (answer.summary, answer.category) == (plain.summary, plain.category), (name, answer.summary)


def test_jenkins_parallel_verdict_is_not_the_failure():
    # `parallel` prints "Failed in branch unit" after the branch's own report: it points above, as an exit line does.
    branch = "".join(f"[unit] {line}\n" for line in PYTEST.strip("\n").split("\n"))
    body = "[Pipeline] parallel\n[Pipeline] { (Branch: unit)\n[Pipeline] sh\n[unit] + python -m pytest -q tests\n"
    log = jenkins("Checks", body + branch + "[Pipeline] }\nFailed in branch unit\n[Pipeline] // parallel\n")
    summary = offline_answer(log).summary[:SCORED_SUMMARY]
    assert "Failed in branch" not in summary and "tests/test_cart.py" in summary, summary
