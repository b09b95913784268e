"""The offline analyzer on probe 9 (branch analyzer9): hand-written failing job-log tails in CI framings and tool
formats the earlier rounds saw little of (GitLab Runner and GitHub Actions framing, Playwright's report, a check
that prints its verdict without a failure word). Each asserts what a reader of the note sees: the summary names the
decisive token in the tool's own words and the evidence quotes its line (test_offline_formats.py's
`assert_specific`)."""

from __future__ import annotations

import pytest

from tests.unit.test_offline_formats import SCORED_SUMMARY, assert_specific, offline_answer
from tests.unit.test_offline_formats2 import job
from tests.unit.test_offline_formats4 import actions

LOGS: dict[str, str] = {
    # A check script's own verdict holds no failure word; the runner's `ERROR: Job failed` names nothing.
    "silent_check": job(
        "python:3.12",
        """$ python manage.py makemigrations --check --dry-run
Migrations for 'orders':
  orders/migrations/0042_order_note.py
    - Add field note to order
""",
    ),
    # Poetry's refusal of a stale lock prints no failure word, under GitHub Actions' framing too.
    "silent_lock": actions(
        "poetry check --lock",
        """pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock` to fix the lock file.
""",
    ),
    # Playwright's list reporter: the progress line, then the numbered report with the expectation under its title.
    "playwright": job(
        "mcr.microsoft.com/playwright:v1.49.0-jammy",
        """$ npx playwright test
Running 12 tests using 2 workers
  ✘  5 [firefox] › e2e/cart.spec.ts:30:5 › cart › keeps items after reload (3.2s)

  1) [firefox] › e2e/cart.spec.ts:30:5 › cart › keeps items after reload ───────────────────────────

    Error: expect(locator).toHaveCount(expected) failed

    Locator: locator('.cart-item')
    Expected: 2
    Received: 0

      35 |   await expect(page.locator('.cart-item')).toHaveCount(2);
         |                                             ^
        at /builds/shop/e2e/cart.spec.ts:35:45

  1 failed
    [firefox] › e2e/cart.spec.ts:30:5 › cart › keeps items after reload
  11 passed (21.4s)
""",
    ),
    # Bazel's test summary: the target's own verdict under the build's tally of failed tests.
    "bazel_test": job(
        "gcr.io/bazel-public/bazel:7.4.0",
        """$ bazel test //services/...
INFO: Analyzed 18 targets (64 packages loaded, 1200 targets configured).
INFO: Found 12 targets and 6 test targets...
INFO: Build completed, 1 test FAILED, 40 total actions
//services/auth:token_test                                       PASSED in 0.7s
//services/billing:ledger_test                                  FAILED in 3.4s
  /root/.cache/bazel/_bazel_root/abc/execroot/_main/bazel-out/k8-fastbuild/testlogs/services/billing/ledger_test/test.log

Executed 2 out of 6 tests: 5 tests pass and 1 fails locally.
""",
        code=3,
    ),
    # uv's resolver: the error header, and the reason under it.
    "uv_resolve": actions(
        "uv pip compile requirements.in",
        """  × No solution found when resolving dependencies:
  ╰─▶ Because only django<=4.2 is available and your project depends on django>=5.0, we can conclude that your project's requirements are unsatisfiable.
""",
        code=1,
    ),
    # yarn 2+: its closing "Failed with errors" is not the error; the coded line above it is.
    "yarn_berry": job(
        "node:20",
        """$ yarn install --immutable
➤ YN0000: · Yarn 4.1.0
➤ YN0000: ┌ Resolution step
➤ YN0000: └ Completed
➤ YN0000: ┌ Fetch step
➤ YN0018: │ left-pad@npm:1.3.0: The remote archive doesn't match the expected checksum
➤ YN0000: └ Completed in 30s
➤ YN0000: · Failed with errors in 30s 112ms
""",
    ),
}

CASES = [
    ("silent_check", ["0042_order_note.py"], "orders/migrations/0042_order_note.py", None),
    ("silent_lock", ["poetry.lock"], "pyproject.toml changed significantly", None),
    ("bazel_test", ["//services/billing:ledger_test"], "//services/billing:ledger_test", None),
    ("uv_resolve", ["No solution found when resolving"], "No solution found when resolving", None),
    ("yarn_berry", ["left-pad@npm:1.3.0"], "YN0018", None),
    ("playwright", ["toHaveCount"], "Error: expect(locator).toHaveCount(expected) failed", None),
]


@pytest.mark.parametrize(("name", "tokens", "quoted", "category"), CASES, ids=[c[0] for c in CASES])
def test_the_summary_names_the_failure_and_the_evidence_quotes_it(name, tokens, quoted, category):
    assert_specific(name, offline_answer(LOGS[name]), tokens, quoted, category)


def test_playwright_headline_is_the_report_not_its_progress_line():
    summary = offline_answer(LOGS["playwright"]).summary[:SCORED_SUMMARY]
    assert summary.startswith("1) [firefox] › e2e/cart.spec.ts:30:5"), summary
    assert "✘" not in summary


def test_pytest_place_line_under_its_error_is_quoted():
    # pytest's long report: the statement, its "E" lines, then the place flush left; the place is what a reader opens.
    log = job(
        "python:3.12",
        """$ pytest -q tests/test_shipping.py
F
=================================== FAILURES ===================================
______________________________ test_free_shipping ______________________________

    def test_free_shipping():
>       assert shipping_cost(Cart(total=120)) == 0
E       assert 4.99 == 0
E        +  where 4.99 = shipping_cost(Cart(total=120))
E        +    where Cart(total=120) = Cart(total=120)

tests/test_shipping.py:14: AssertionError
=========================== short test summary info ============================
FAILED tests/test_shipping.py::test_free_shipping - assert 4.99 == 0
1 failed in 0.08s
""",
    )
    answer = offline_answer(log)
    assert any(e.text == "tests/test_shipping.py:14: AssertionError" for e in answer.evidence[:5]), answer.evidence


@pytest.mark.parametrize(
    ("log", "said"),
    [
        # CircleCI: the step's shell, its command, what it printed, then only the runner's exit status
        (
            "#!/bin/bash -eo pipefail\n./scripts/verify-schema.sh\n"
            "schema/openapi.yaml differs from the generated one at paths./orders.post\n\n"
            "Exited with code exit status 1\n",
            "schema/openapi.yaml differs from the generated one",
        ),
        # Azure Pipelines: a task's output, then the task's exit status
        (
            "##[section]Starting: Verify translations\nmessages/de.json lacks 3 keys present in messages/en.json\n"
            "##[error]Bash exited with code '2'.\n##[section]Finishing: Verify translations\n",
            "messages/de.json lacks 3 keys",
        ),
        # Jenkins: a `sh` step's traced command and its output, then the step's exit status
        (
            "[Pipeline] sh\n+ ./ci/api-compat.sh\nremoved public method OrderClient.cancel(String) since 3.1.0\n"
            "[Pipeline] }\nERROR: script returned exit code 1\nFinished: FAILURE\n",
            "removed public method OrderClient.cancel(String)",
        ),
    ],
    ids=["circleci", "azure", "jenkins"],
)
def test_a_silent_failure_under_a_bare_runner_exit_is_headlined_by_its_last_words(log, said):
    answer = offline_answer(log)
    assert said in answer.summary[:SCORED_SUMMARY], answer.summary
    assert any(said in e.text for e in answer.evidence[:5]), answer.evidence


def test_ctest_output_on_failure_is_headlined_by_the_tests_own_assertion():
    # CTest's "***Failed" progress line only says the test failed; --output-on-failure prints why under it (GoogleTest).
    log = job(
        "gcc:14",
        """$ ctest --test-dir build --output-on-failure
Test project /builds/geo/build
    Start 1: geo_tests
1/2 Test #1: geo_tests ........................***Failed    0.05 sec
[==========] Running 4 tests from 1 test suite.
[ RUN      ] Polygon.Area
/builds/geo/tests/polygon_test.cc:18: Failure
Expected equality of these values:
  area(square)
    Which is: 0
  4.0
[  FAILED  ] Polygon.Area (0 ms)
[  PASSED  ] 3 tests.
    Start 2: io_tests
2/2 Test #2: io_tests .........................   Passed    0.00 sec

50% tests passed, 1 tests failed out of 2
Errors while running CTest
""",
        code=8,
    )
    answer = offline_answer(log)
    assert "/builds/geo/tests/polygon_test.cc:18: Failure" in answer.summary[:SCORED_SUMMARY], answer.summary
    assert any("polygon_test.cc:18" in e.text for e in answer.evidence[:5])


def test_ctest_verdict_names_the_test_when_its_output_holds_no_failure_word():
    # A guard (passes on main too): a test program's own words under CTest's verdict, with no failure word; the verdict
    # names the test, and is no tally ("50% tests passed, 1 tests failed out of 2", "Errors while running CTest").
    log = job(
        "gcc:14",
        """$ ctest --test-dir build --output-on-failure
    Start 1: export_roundtrip
1/1 Test #1: export_roundtrip .................***Failed    0.00 sec
exporter: refusing to overwrite out/report.csv

0% tests passed, 1 tests failed out of 1
Errors while running CTest
""",
        code=8,
    )
    summary = offline_answer(log).summary[:SCORED_SUMMARY]
    assert "export_roundtrip" in summary and "refusing to overwrite out/report.csv" in summary, summary


def test_playwright_flaky_test_is_not_the_failure():
    # Playwright's closing summary lists a test that passed on a retry under "N flaky"; the failure is under "N failed".
    log = job(
        "mcr.microsoft.com/playwright:v1.49.0-jammy",
        """$ npx playwright test --retries=1
  2 flaky
    [chromium] › e2e/search.spec.ts:11:3 › search › suggests as you type
    [chromium] › e2e/menu.spec.ts:4:3 › menu › opens on hover
  1 failed
    [chromium] › e2e/orders.spec.ts:52:7 › orders › cancels a pending order
  41 passed (2.3m)
""",
    )
    summary = offline_answer(log).summary[:SCORED_SUMMARY]
    assert "e2e/orders.spec.ts:52:7" in summary and "search.spec.ts" not in summary, summary


# Stop 24's review: a CI system's own echo of the step (GitHub Actions' `Run` group, CircleCI's shebang over the
# command, Azure's script banner) is not what a command that printed nothing said: the runner's exit line heads.
STEP_ECHO_ONLY = {
    "azure": (
        "Starting: Run tests\n"
        "==============================================================================\n"
        "Task         : Command line\n"
        "Version      : 2.231.1\n"
        "==============================================================================\n"
        "Generating script.\n"
        "========================== Starting Command Output ===========================\n"
        "/usr/bin/bash --noprofile --norc /home/vsts/work/_temp/1b2c.sh\n"
        "##[error]Bash exited with code '1'.\n",
        "Bash exited with code '1'.",
    ),
    "github": (
        "##[group]Run ./scripts/check.sh\n"
        "./scripts/check.sh\n"
        "shell: /usr/bin/bash -e {0}\n"
        "env:\n"
        "  NODE_VERSION: 20\n"
        "##[endgroup]\n"
        "##[error]Process completed with exit code 1.\n",
        "Process completed with exit code 1.",
    ),
    "circleci": (
        "#!/bin/bash -eo pipefail\n./scripts/check.sh\n\nExited with code exit status 1\n",
        "Exited with code exit status 1",
    ),
}


@pytest.mark.parametrize("system", sorted(STEP_ECHO_ONLY))
def test_a_step_that_printed_nothing_is_headlined_by_its_exit_line_not_the_runners_echo(system: str) -> None:
    log, exit_line = STEP_ECHO_ONLY[system]
    answer = offline_answer(log)
    assert answer.summary.startswith(exit_line)
