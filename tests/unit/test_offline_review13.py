"""analyzer13: general classes of CI output where the offline analyzer chose or phrased the wrong line."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt
from bot.core.heuristic_retries import RETRY, retried
from bot.core.heuristics import analyze
from bot.core.types import Excerpt, ExcerptLine

GITLAB_HEAD = 'Running with gitlab-runner 16.9.1 (782c6ecb)\nExecuting "step_script" stage of the job script\n'
GITLAB_TAIL = "Cleaning up project directory and file based variables\nERROR: Job failed: exit code 1\n"


def answer(body: str):
    return analyze(excerpt(GITLAB_HEAD + body + GITLAB_TAIL), failure_reason="script_failure")


def test_a_download_retried_then_a_compile_error_names_the_compile_error():
    body = (
        "$ ./gradlew build\n"
        "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
        'Exception in thread "main" java.net.SocketTimeoutException: Read timed out\n'
        "Retrying download (2/3)\n"
        "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
        "> Task :lib:compileJava\n"
        "/builds/acme/lib/src/main/java/com/acme/lib/Parser.java:41: error: cannot find symbol\n"
        "    return Tokens.ofNullable(raw);\n"
        "1 error\n"
        "> Task :lib:compileJava FAILED\n"
        "BUILD FAILED in 22s\n"
    )
    got = answer(body)
    assert "Parser.java:41" in got.summary and "SocketTimeoutException" not in got.summary


def test_cargo_spurious_network_retries_are_followed_to_the_compiler_error():
    body = (
        "$ cargo build\n"
        "    Updating crates.io index\n"
        "warning: spurious network error (2 tries remaining): [28] Timeout was reached\n"
        "warning: spurious network error (1 tries remaining): [28] Timeout was reached\n"
        "  Downloaded serde v1.0.197\n"
        "   Compiling svc v0.1.0 (/builds/acme/svc)\n"
        "error[E0432]: unresolved import `crate::config::Settings`\n"
        " --> src/main.rs:3:5\n"
        'error: could not compile `svc` (bin "svc") due to 1 previous error\n'
    )
    got = answer(body)
    assert "E0432" in got.summary and "spurious" not in got.summary


def test_composer_retry_then_unresolvable_requirements():
    body = (
        "$ composer update --no-progress\n"
        'The "https://repo.packagist.org/p2/symfony/console.json" file could not be downloaded: failed to open stream: '
        "Connection timed out\n"
        "Retrying in 2 seconds...\n"
        "Updating dependencies\n"
        "Your requirements could not be resolved to an installable set of packages.\n"
        "\n"
        "  Problem 1\n"
        "    - Root composer.json requires php ^8.4 but your php version (8.3.4) does not satisfy that requirement.\n"
    )
    got = answer(body)
    assert "Your requirements could not be resolved" in got.summary and "packagist" not in got.summary


def test_a_retried_error_with_no_failure_after_it_stays_the_headline():
    body = (
        "$ curl -fsSL --retry 3 -o tool.tgz https://releases.acme.dev/tool.tgz\n"
        "curl: (56) Recv failure: Connection reset by peer\n"
        "Warning: Problem : connection reset. Will retry in 1 seconds. 3 retries left.\n"
        "Downloaded.\n"
    )
    assert "curl: (56)" in answer(body).summary


def test_retry_announcements_are_tools_words_not_command_options():
    assert RETRY.search("Warning: Problem : connection reset. Will retry in 1 seconds. 3 retries left.")
    assert RETRY.search('The command "pip install -r requirements.txt" failed. Retrying, 2 of 3.')
    assert RETRY.search("warning: spurious network error (1 tries remaining): [28] Timeout was reached")
    assert not RETRY.search("curl --retry 3 -o x https://x")
    assert not RETRY.search("test_retry_policy PASSED")
    assert not RETRY.search("AssertionError: Timed out retrying after 4000ms: expected '<span.total>' to contain '90'")


def test_a_retry_announced_by_a_later_command_is_not_this_errors_retry():
    lines = Excerpt(
        [
            ExcerptLine(1, "$ make lint"),
            ExcerptLine(2, "src/a.py:3:1: E302 expected 2 blank lines, found 1"),
            ExcerptLine(3, "$ ./deploy.sh"),
            ExcerptLine(4, "Retrying in 2 seconds..."),
            ExcerptLine(5, "ERROR: deploy failed"),
        ]
    )
    assert retried(lines, lines.lines[1]) is None


def test_an_npm_error_inside_a_buildkit_step_is_the_failure_not_dockers_wrapper():
    body = (
        "$ docker build -t web .\n"
        "#6 [3/5] RUN npm ci --omit=dev\n"
        "#6 2.301 npm ERR! code EUSAGE\n"
        "#6 2.302 npm ERR! The `npm ci` command can only install with an existing package-lock.json\n"
        '#6 ERROR: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1\n'
        'ERROR: failed to solve: process "/bin/sh -c npm ci --omit=dev" did not complete successfully: exit code: 1\n'
    )
    got = answer(body)
    assert "EUSAGE" in got.summary and "failed to solve" not in got.summary
    assert any("npm ERR! code EUSAGE" in e.text for e in got.evidence)


def test_a_warning_of_a_buildkit_step_that_finished_is_not_the_failing_steps_error():
    body = (
        "$ docker build -t app .\n"
        "#7 [3/6] RUN apt-get update && apt-get install -y libpq-dev\n"
        "#7 1.203 W: GPG error: http://apt.postgresql.org/pub/repos/apt bookworm-pgdg InRelease: signatures invalid\n"
        "#7 DONE 10.2s\n"
        "#8 [4/6] RUN pip install -r requirements.txt\n"
        "#8 4.102 ERROR: Could not find a version that satisfies the requirement torch==2.9.1 (from versions: 2.2.0)\n"
        "#8 4.103 ERROR: No matching distribution found for torch==2.9.1\n"
        '#8 ERROR: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1\n'
    )
    got = answer(body)
    assert got.summary.startswith("ERROR: Could not find a version") and "GPG" not in got.summary


def test_dockers_shell_form_is_not_part_of_the_failing_command():
    body = (
        "$ docker build .\n"
        "#6 [2/3] RUN apt-get install -y libpq-devv\n"
        "#6 0.912 E: Unable to locate package libpq-devv\n"
        '#6 ERROR: process "/bin/sh -c apt-get install -y libpq-devv" did not complete successfully: exit code: 100\n'
    )
    got = answer(body)
    assert "`apt-get install -y libpq-devv`: exit code 100" in got.summary and "/bin/sh" not in got.summary


def test_a_tools_mark_on_every_line_is_stated_once_so_the_package_stays_in_the_summary():
    body = (
        "$ npm ci\n"
        "npm ERR! code ERESOLVE\n"
        "npm ERR! ERESOLVE unable to resolve dependency tree\n"
        "npm ERR! \n"
        "npm ERR! While resolving: @acme/web@1.0.0\n"
        "npm ERR! Found: react@18.2.0\n"
        "npm ERR! Could not resolve dependency:\n"
        'npm ERR! peer react@"^17.0.0" from react-dates@21.8.0\n'
    )
    got = answer(body)
    assert got.summary.startswith("npm ERR! code ERESOLVE — ERESOLVE unable")
    assert got.summary.count("npm ERR!") == 1 and "react-dates" in got.summary


def test_a_line_repeating_the_start_of_the_one_above_is_neither_stated_nor_quoted():
    body = (
        "$ npm install\n"
        "npm ERR! code E404\n"
        "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fui - Not found\n"
        "npm ERR! 404\n"
        "npm ERR! 404  '@acme/ui@^2.1.0' is not in this registry.\n"
    )
    got = answer(body)
    parts = got.summary.split(" — ")
    assert "404" not in parts and "npm ERR! 404" not in parts
    # (its evidence side: test_offline_formats.py's `docker` case quotes "is not in this registry" within 5 lines)


def test_a_loggers_error_line_after_its_time_and_component_is_the_failure_not_travis_wrapper():
    log = (
        "$ ./scripts/deploy.sh production\n"
        "[2024-04-12 10:00:01] [deploy] [INFO] syncing artifacts to edge nodes (region=eu-west-1, nodes=12)\n"
        "[2024-04-12 10:00:44] [deploy] [ERROR] health check failed for edge-node-07.internal after 30s: GET /healthz "
        "returned 503 Service Unavailable\n"
        "[2024-04-12 10:00:44] [deploy] [INFO] rolling back 1 node\n"
        'The command "./scripts/deploy.sh production" exited with 1.\n'
        "\n"
        "Done. Your build exited with 1.\n"
    )
    got = analyze(excerpt(log), failure_reason="script_failure")
    assert "edge-node-07.internal" in got.summary and not got.summary.startswith("The command")


def test_a_failing_tests_title_with_the_word_retrying_is_not_a_retry_announcement():
    body = (
        "$ npx mocha\n"
        "  1 passing (12ms)\n"
        "  1 failing\n"
        "\n"
        "  1) Client retrying on 503 returns the body:\n"
        "     AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n"
        "\n"
        "3 !== 2\n"
    )
    lines = excerpt(GITLAB_HEAD + body + GITLAB_TAIL)
    head = next(ln for ln in lines.lines if "Client retrying" in ln.text)
    assert retried(lines, head) is None


def test_a_retry_announced_after_the_failure_and_its_wrapper_is_another_tool_s():
    # a review's case: the compile error, make's wrapper, then a log upload retried: the upload is not the failure
    body = (
        "$ ./ci.sh\n"
        "src/app.c:12:5: error: 'cfg' undeclared (first use in this function)\n"
        "make: *** [Makefile:8: app] Error 1\n"
        "Uploading build log to https://logs.example.com\n"
        "Retrying in 2 seconds...\n"
        "error: log upload failed: 503 Service Unavailable\n"
    )
    got = answer(body)
    assert "'cfg' undeclared" in got.summary and "upload" not in got.summary


def test_a_build_scan_upload_retried_after_a_failed_test_leaves_the_test_s_failure():
    body = (
        "$ ./gradlew test\n> Task :app:test\n\nCartTest > totals() FAILED\n"
        "    org.opentest4j.AssertionFailedError: expected: <90> but was: <80>\n"
        "        at app//com.acme.CartTest.totals(CartTest.java:22)\n\n42 tests completed, 1 failed\n\n"
        "> Task :app:test FAILED\nPublishing Build Scan to Develocity...\n"
        "Publishing Build Scan failed due to network error 'java.net.ConnectException: Connection refused' "
        "(2 retries remaining)...\n"
        "Publishing Build Scan failed due to network error 'java.net.ConnectException: Connection refused' "
        "(1 retry remaining)...\nA network error occurred.\n"
    )
    got = answer(body)
    assert "expected: <90> but was: <80>" in got.summary or "CartTest" in got.summary
    assert "Build Scan" not in got.summary


def test_a_second_failing_test_s_title_with_retrying_is_no_announcement():
    # a review's case: mocha lists the second test's title under the first failure; the first failure heads
    body = (
        "$ npx mocha\n  Client\n    1) times out after 2s\n    2) retrying on 503 returns the body\n\n"
        "  0 passing (2s)\n  2 failing\n\n  1) Client\n       times out after 2s:\n"
        '     Error: Timeout of 2000ms exceeded. For async tests and hooks, ensure "done()" is called\n'
        "      at listOnTimeout (node:internal/timers:573:17)\n\n  2) Client\n"
        "       retrying on 503 returns the body:\n"
        "     AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n3 !== 2\n\n"
    )
    summary = answer(body).summary
    assert summary.startswith("1) times out after 2s") and "AssertionError" not in summary
    assert not RETRY.search("       retrying on 503 returns the body:")
    assert RETRY.search("Publishing Build Scan failed due to network error (1 retry remaining)...")


def test_a_logger_s_info_line_that_starts_with_error_is_not_an_error():
    from bot.core.heuristic_lines import failure_score

    assert failure_score("[10:00:02] [smoke] [INFO] ERROR budget: 0.1% (ok)") < 6
    assert failure_score("[10:00:02] [smoke] [INFO] CRITICAL path endpoints: 4 of 12") < 6
    assert failure_score("[10:00:02] [smoke] [ERROR] 3 of 12 endpoints did not answer") >= 6


def test_a_line_that_repeats_the_one_above_only_in_part_of_a_word_is_stated():
    body = (
        "$ ./scripts/check-lock.sh\nMismatch in lockfile: left-pad@1.3.10 expected by package.json\n"
        "Mismatch in lockfile: left-pad@1.3.1\n"
    )
    assert "left-pad@1.3.1\n" not in answer(body).summary
    assert answer(body).summary.count("left-pad@1.3.1") == 2


def test_every_announced_retry_is_followed_to_the_failure_that_counted():
    # two retries in a row: the failure after the last one is named
    body = (
        "$ ./gradlew build\n"
        "Downloading https://services.gradle.org/distributions/gradle-8.7-bin.zip\n"
        'Exception in thread "main" java.net.SocketTimeoutException: Read timed out\n'
        "Retrying download (2/3)\n"
        'Exception in thread "main" java.net.SocketTimeoutException: Connect timed out\n'
        "Retrying download (3/3)\n"
        "> Task :lib:compileJava\n"
        "/builds/acme/lib/src/main/java/com/acme/lib/Parser.java:41: error: cannot find symbol\n"
        "1 error\n"
        "> Task :lib:compileJava FAILED\n"
    )
    got = answer(body)
    assert "Parser.java:41" in got.summary and "timed out" not in got.summary


def test_a_retry_announced_under_the_error_s_stack_trace_is_its_retry():
    # the announcement comes a few lines under the error, after its frames (a review found RETRY_REACH 2 passed every test)
    body = (
        "$ ./gradlew build\n"
        'Exception in thread "main" java.net.SocketTimeoutException: Read timed out\n'
        "\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:546)\n"
        "\tat java.base/java.net.Socket.connect(Socket.java:751)\n"
        "\tat org.gradle.wrapper.Download.downloadInternal(Download.java:87)\n"
        "\tat org.gradle.wrapper.Install.forceFetch(Install.java:71)\n"
        "Retrying download (2/3)\n"
        "> Task :lib:compileJava\n"
        "/builds/acme/lib/src/main/java/com/acme/lib/Parser.java:41: error: cannot find symbol\n"
        "1 error\n"
    )
    got = answer(body)
    assert "Parser.java:41" in got.summary and "timed out" not in got.summary
