"""The offline analyzer on full-length logs with noise above and below the failure (branch analyzer11): the runner's
own set-up (a service's health check, a cache download retried) and its clean-up after the script (after_script,
artifacts upload) are not the failure; a passing Surefire class's logged exception is not either; tox's summary
points to the failing command's output above it."""

from __future__ import annotations

from bot.core.excerpt.lines import Excerpt, ExcerptLine
from bot.core.heuristic_headline import headline
from tests.unit.test_offline_formats import assert_specific, offline_answer

ESC = "\x1b"


def gitlab(body: str) -> str:
    """A GitLab Runner log with its sections: a service that failed its health check and a cache download retried
    during set-up, the script, then an after_script, an artifacts upload that found nothing, and the verdict."""

    def start(name: str, title: str) -> str:
        return f"section_start:1700000000:{name}\r{ESC}[0K{ESC}[0K{ESC}[36;1m{title}{ESC}[0;m\n"

    def end(name: str) -> str:
        return f"section_end:1700000030:{name}\r{ESC}[0K\n"

    return (
        f"{ESC}[0KRunning with gitlab-runner 16.6.1 (f5da3c5a){ESC}[0;m\n"
        f"{ESC}[0K  on docker-auto-scale 72989761{ESC}[0;m\n"
        + start("prepare_executor", 'Preparing the "docker+machine" executor')
        + f"{ESC}[0KUsing Docker executor with image golang:1.22 ...{ESC}[0;m\n"
        f"{ESC}[0KStarting service postgres:15 ...{ESC}[0;m\n"
        f"{ESC}[0KWaiting for services to be up and running...{ESC}[0;m\n"
        "\n"
        f"{ESC}[0;33m*** WARNING:{ESC}[0;m Service runner-x-project-7-concurrent-0-postgres-0 probably didn't start properly.\n"
        "\n"
        "Health check error:\n"
        'service "runner-x-project-7-concurrent-0-postgres-0-wait-for-service" timeout\n'
        "\n"
        f"{ESC}[0KUsing docker image sha256:ab12 for golang:1.22 ...{ESC}[0;m\n"
        + end("prepare_executor")
        + start("prepare_script", "Preparing environment")
        + "Running on runner-x-project-7-concurrent-0 via runner-x-srm-1...\n"
        + end("prepare_script")
        + start("get_sources", "Getting source from Git repository")
        + f"{ESC}[32;1mFetching changes with git depth set to 50...{ESC}[0;m\n"
        f"{ESC}[32;1mChecking out 8a1f3c0d as main...{ESC}[0;m\n"
        + end("get_sources")
        + start("restore_cache", "Restoring cache")
        + f"{ESC}[32;1mChecking cache for default-3...{ESC}[0;m\n"
        f"{ESC}[0;33mWARNING: Retrying...  {ESC}[0;m  error{ESC}[0;m=Get https://storage.example.com/cache.zip: dial tcp: i/o timeout\n"
        f"{ESC}[32;1mSuccessfully extracted cache{ESC}[0;m\n"
        + end("restore_cache")
        + start("step_script", 'Executing "step_script" stage of the job script')
        + body.strip("\n")
        + "\n"
        + end("step_script")
        + start("after_script", "Running after_script")
        + f"{ESC}[32;1mRunning after script...{ESC}[0;m\n"
        f"{ESC}[32;1m$ ./ci/report-coverage.sh || true{ESC}[0;m\n"
        "--> No coverage report found.\n"
        + end("after_script")
        + start("upload_artifacts_on_failure", "Uploading artifacts for failed job")
        + f"{ESC}[32;1mUploading artifacts...{ESC}[0;m\n"
        f"{ESC}[0;33mWARNING: reports/: no matching files{ESC}[0;m\n"
        f"{ESC}[31;1mERROR: No files to upload{ESC}[0;m\n"
        + end("upload_artifacts_on_failure")
        + start("cleanup_file_variables", "Cleaning up file based variables")
        + end("cleanup_file_variables")
        + f"{ESC}[31;1mERROR: Job failed: exit code 1\n{ESC}[0;m\n"
    )


# A full-length job: the set-up commands' output above the failing command (module downloads, a linter's advice).
SETUP = (
    "$ go version\ngo version go1.22.1 linux/amd64\n$ go mod download\n"
    + "".join(
        f"go: downloading example.com/dep{k} v1.{k}.0\ngo: extracting example.com/dep{k} v1.{k}.0\n" for k in range(80)
    )
    + "$ golint ./...\nserver/handler.go:12:6: exported type Handler should have comment or be unexported\n"
)


def test_a_short_compiler_error_heads_over_the_runners_set_up_and_clean_up_lines():
    log = gitlab(SETUP + "$ go build ./...\n# example.com/svc/server\nserver/handler.go:27:9: undefined: writeJSON\n")
    answer = offline_answer(log)
    assert_specific("go-build", answer, ["server/handler.go:27:9"], "undefined: writeJSON", None)
    assert "Health check" not in answer.summary and "No files to upload" not in answer.summary


def test_a_linter_finding_heads_over_a_retried_cache_download():
    log = gitlab(
        "$ pip install flake8\n"
        + "".join(f"Collecting dep{k}==1.{k}\n  Downloading dep{k}-1.{k}-py3-none-any.whl (12 kB)\n" for k in range(80))
        + "Successfully installed flake8-7.0.0\n$ flake8 src\n"
        "src/shop/models.py:23:80: E501 line too long (92 > 79 characters)\n"
    )
    assert_specific("flake8", offline_answer(log), ["src/shop/models.py:23:80"], "E501 line too long", None)


def test_the_earlier_commands_output_is_not_the_failing_commands():
    # `go vet` passed (the job went on), its words above the failing command's echo are not what failed.
    log = gitlab(
        SETUP + "$ go vet ./...\nvet: checking 12 packages, error count 0\n$ go build ./...\n"
        'server/router.go:14:2: imported and not used: "strings"\n'
    )
    assert_specific("earlier", offline_answer(log), ["server/router.go:14:2"], "imported and not used", None)


TRAVIS = """$ mvn -B test
Running com.acme.store.RepositoryTest
10:22:01.114 [main] ERROR com.acme.store.Repository - Could not open connection, retrying
java.net.ConnectException: Connection refused (Connection refused)
	at com.acme.store.Repository.open(Repository.java:41)
10:22:01.220 [main] INFO com.acme.store.Repository - Connected on attempt 2
Tests run: 6, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.412 sec
Running com.acme.store.CacheTest
Tests run: 4, Failures: 0, Errors: 1, Skipped: 0, Time elapsed: 0.021 sec <<< FAILURE!
evictsOldest(com.acme.store.CacheTest)  Time elapsed: 0.004 sec  <<< ERROR!
java.lang.NullPointerException
	at com.acme.store.Cache.evict(Cache.java:77)
	at com.acme.store.CacheTest.evictsOldest(CacheTest.java:29)

Results :

Tests in error:
  CacheTest.evictsOldest:29 » NullPointer

Tests run: 10, Failures: 0, Errors: 1, Skipped: 0

[INFO] ------------------------------------------------------------------------
[INFO] BUILD FAILURE
[INFO] ------------------------------------------------------------------------
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.18.1:test (default-test) on project store: There are test failures.
[ERROR]
[ERROR] Please refer to /home/travis/build/acme/store/target/surefire-reports for the individual test results.

The command "mvn -B test" exited with 1.

Done. Your build exited with 1.
"""


def test_a_passing_surefire_class_logged_exception_is_not_the_failure():
    answer = offline_answer(TRAVIS)
    assert "ConnectException" not in answer.summary
    assert_specific("surefire", answer, ["evictsOldest"], "evictsOldest(com.acme.store.CacheTest)", None)


def test_a_failing_surefire_class_keeps_its_own_exception():
    # Guard: the class whose tally counts the error is not "passing" output.
    log = TRAVIS.replace(
        "Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 0.412",
        "Failures: 0, Errors: 1, Skipped: 0, Time elapsed: 0.412",
    )
    assert "ConnectException" in offline_answer(log).summary


def test_tox_summary_points_to_the_failing_environments_output():
    log = """$ tox
py312 run-test: commands[0] | pytest -q
........................................                                 [100%]
40 passed in 1.12s
flake8 run-test: commands[0] | flake8 lib tests
lib/core.py:118:1: F401 'os.path' imported but unused
ERROR: InvocationError for command /home/travis/build/acme/lib/.tox/flake8/bin/flake8 lib tests (exited with code 1)
___________________________________ summary ____________________________________
  py312: commands succeeded
ERROR:   flake8: commands failed

The command "tox" exited with 1.

Done. Your build exited with 1.
"""
    assert_specific("tox", offline_answer(log), ["lib/core.py:118:1"], "F401 'os.path' imported but unused", None)


CTEST = """$ cmake --build build
[ 50%] Building CXX object tests/CMakeFiles/test_polygon.dir/polygon_test.cpp.o
[100%] Linking CXX executable test_polygon
[100%] Built target test_polygon

The command "cmake --build build" exited with 0.
$ cd build && ctest --output-on-failure
Test project /home/travis/build/acme/geo/build
    Start 1: test_point
1/3 Test #1: test_point .......................   Passed    0.01 sec
    Start 2: test_polygon
2/3 Test #2: test_polygon .....................***Failed    0.02 sec
Running main() from gtest_main.cc
[==========] Running 4 tests from 1 test case.
[ RUN      ] Polygon.Area
/home/travis/build/acme/geo/tests/polygon_test.cpp:18: Failure
Expected equality of these values:
  area(square)
    Which is: 3.9999
  4.0
[  FAILED  ] Polygon.Area (0 ms)
    Start 3: test_error_handling
3/3 Test #3: test_error_handling ..............   Passed    0.01 sec

67% tests passed, 1 tests failed out of 3

The following tests FAILED:
\t  2 - test_polygon (Failed)
Errors while running CTest

The command "cd build && ctest --output-on-failure" exited with 8.

Done. Your build exited with 1.
"""


def test_ctest_verdict_heads_the_output_printed_under_it():
    # The verdict is the excerpt's lead; the test's own output under it, not the command's first words, says why.
    answer = offline_answer(CTEST)
    assert_specific("ctest", answer, ["polygon_test.cpp:18"], "polygon_test.cpp:18: Failure", None)


def test_shellcheck_before_0_7_1_prints_its_finding_without_a_severity():
    # "^-----^ SC2086: ..." (no "(info)"): still a finding, headed by its "In x line n:" header; the wiki links of
    # "For more information:" under it are advice.
    log = """$ shellcheck scripts/*.sh

In scripts/deploy.sh line 14:
rm -rf $TARGET/*
       ^-----^ SC2086: Double quote to prevent globbing and word splitting.

For more information:
  https://www.shellcheck.net/wiki/SC2086 -- Double quote to prevent globbing ...

The command "shellcheck scripts/*.sh" exited with 1.

Done. Your build exited with 1.
"""
    assert_specific("shellcheck", offline_answer(log), ["scripts/deploy.sh", "SC2086"], "SC2086: Double quote", None)


def test_the_runners_set_up_sections_are_not_searched_when_the_script_ran():
    # An excerpt that leads with Maven's BUILD FAILURE (the goal's reason is printed under it): the search for the
    # error above it ends at the script's lines, not in the runner's set-up (a service's health check `timeout`).
    texts = [
        ("prepare_executor", "Waiting for services to be up and running..."),
        ("prepare_executor", "Health check error:"),
        ("prepare_executor", 'service "runner-x-postgres-0-wait-for-service" timeout'),
        (
            "restore_cache",
            "WARNING: Retrying...  error=Get https://storage.example.com/cache.zip: dial tcp: i/o timeout",
        ),
        ("step_script", "$ mvn -B install -DskipTests"),
        ("step_script", "[INFO] Scanning for projects..."),
        ("step_script", "[INFO] BUILD FAILURE"),
        (
            "step_script",
            "[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project "
            "com.acme:api:jar:1.0: Could not find artifact com.acme:common:jar:1.0 -> [Help 1]",
        ),
    ]
    lines = [ExcerptLine(n, text, section) for n, (section, text) in enumerate(texts, start=1)]
    head = headline(Excerpt(lines, total_lines=len(lines), lead=(7, 7)))
    assert head is not None and "Could not resolve dependencies" in head.text
