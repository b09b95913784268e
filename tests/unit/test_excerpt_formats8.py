"""Excerpt rules about other systems' framing (Jenkins parallel branches, compose services, Go -v, box-drawn diagnostics), each with hand-written lines that need it."""

from __future__ import annotations

from bot.core.excerpt.read import excerpt, excerpt_chunks
from bot.core.excerpt.rules import MEDIUM, VERDICT, is_continuation, score_line

BOX_BUDGET = 1000  # the diagnostic fits, the other branch's 400 lines do not


def _lead(log: str, budget: int = 4000) -> list[str]:
    """The texts of the block the excerpt leads with."""
    ex = excerpt(log, budget)
    assert ex.lead is not None
    first, last = ex.lead
    return [line.text for line in ex.lines if first <= line.n <= last]


def test_a_jenkins_parallel_branch_prefix_is_not_read_as_the_tools_words():
    """`[unit] ` before every line of a parallel branch: the line under it is scored as the tool printed it."""
    assert score_line("[unit] FAILED tests/test_api.py::test_create - assert 400 == 201") >= VERDICT
    # an application's own log line stays one under the prefix
    assert score_line("[unit] 2024-03-09 10:54:25.820 ERROR [main] c.a.s.Client - connection reset") < MEDIUM
    assert is_continuation("[unit]     at com.acme.Ledger.refund(Ledger.java:88)")
    # a tool's level in brackets is its own word, not a branch
    assert score_line("[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin") >= VERDICT
    assert score_line("[error] Test failed: ParserSpec") >= MEDIUM


def test_a_compose_services_prefix_is_not_read_as_the_tools_words():
    """`docker compose logs` after a failure: `api-1  | <the service's log line>` is the service's log."""
    assert score_line("api-1  | 2024-01-01 10:12:11.011 ERROR [pool-1] c.a.s.Handler - request failed") < MEDIUM
    assert score_line("tests-1  | FAILED tests/test_api.py::test_create - assert 400 == 201") >= VERDICT


def test_go_verbose_next_test_ends_the_failure_block():
    """Go's -v prints `=== RUN` and `--- PASS:` for each next test; a separator rule and a diff sign by their
    first characters, they used to run the failure block on into the passing tests below it."""
    lines = ["$ go test -v ./..."]
    for i in range(30):
        lines += [f"=== RUN   TestOk{i}", f"--- PASS: TestOk{i} (0.00s)"]
    lines += [
        "=== RUN   TestRetryBackoff",
        "    retry_test.go:88: backoff after 3 attempts = 400ms, want 800ms",
        "--- FAIL: TestRetryBackoff (0.00s)",
        "=== RUN   TestRetryJitter",
        "    retry_test.go:120: jitter 12ms",
        "--- PASS: TestRetryJitter (0.00s)",
    ]
    for i in range(30):
        lines += [f"=== RUN   TestMore{i}", f"--- PASS: TestMore{i} (0.00s)"]
    lines += ["FAIL", "FAIL\tgithub.com/acme/svc/retry\t0.9s", "FAIL", "ERROR: Job failed: exit code 1"]
    lead = _lead("\n".join(lines) + "\n")
    assert lead == [
        "    retry_test.go:88: backoff after 3 attempts = 400ms, want 800ms",
        "--- FAIL: TestRetryBackoff (0.00s)",
    ], lead
    # a test's start says nothing failed, whatever the test is called
    assert score_line("=== RUN   TestConnectionFailure") == 0.0


def test_a_box_drawn_diagnostic_in_a_parallel_branch_is_one_block_across_the_other_branchs_lines():
    """Terraform frames its diagnostics in `│`; a Jenkins parallel branch's lines come between another's."""
    lines = ["[Pipeline] parallel", "[tests] + terraform validate"]
    lines += [f"[docs] docs: checking file {i}" for i in range(200)]
    lines += [
        "[tests] ╷",
        "[tests] │ Error: Unsupported argument",
        "[docs] docs: checking file 201",
        "[docs] docs: checking file 202",
        "[docs] docs: checking file 203",
        "[tests] │ ",
        '[tests] │   on main.tf line 42, in resource "aws_s3_bucket" "logs":',
        '[tests] │   42:   acl = "private"',
        "[docs] docs: checking file 204",
        "[tests] │ ",
        '[tests] │ An argument named "acl" is not expected here.',
        "[tests] ╵",
    ]
    lines += [f"[docs] docs: checking file {i}" for i in range(205, 400)]
    lines += [
        "[Pipeline] }",
        "Failed in branch tests",
        "[Pipeline] // parallel",
        "ERROR: script returned exit code 1",
        "Finished: FAILURE",
    ]
    got = [line.text for line in excerpt("\n".join(lines) + "\n", BOX_BUDGET).lines]
    assert '[tests] │ An argument named "acl" is not expected here.' in got, got


def _silent_step(start: list[str], end: list[str]) -> str:
    """A step that prints no failure word: its first line says what is wrong, 150 file names follow."""
    lines = [*start[:1], *(f"Collecting pkg{i}" for i in range(200)), *start[1:]]
    lines += ["These files lack the licence header:", *(f"src/pkg{i}/module{i}.py" for i in range(150)), *end]
    return "\n".join(lines) + "\n"


SILENT_STEPS = {
    "gitlab": (["$ pip install -r req.txt", "$ ./scripts/check_licences.sh"], ["ERROR: Job failed: exit code 1"]),
    "azure": (
        ["##[section]Starting: Install", "##[section]Starting: Licences", "##[command]/usr/bin/bash /tmp/5c1e.sh"],
        ["##[error]Bash exited with code '1'.", "##[section]Finishing: Licences", "##[section]Finishing: Job"],
    ),
    "circleci": (
        ["#!/bin/bash -eo pipefail", "#!/bin/bash -eo pipefail", "./scripts/check_licences.sh"],
        ["", "Exited with code exit status 1", "", "Uploading artifacts"],
    ),
    "codebuild": (
        [
            "[Container] 2026/12/09 10:20:11.123456 Running command npm ci",
            "[Container] 2026/12/09 10:20:12.123456 Running command ./scripts/check_licences.sh",
        ],
        [
            "[Container] 2026/12/09 10:20:13.123456 Command did not exit successfully ./scripts/check_licences.sh "
            "exit status 1",
            "[Container] 2026/12/09 10:20:13.123456 Phase complete: BUILD State: FAILED",
        ],
    ),
}


def test_a_silent_steps_first_line_far_above_its_exit_line_is_shown():
    """A step that fails without a failure word is seen through its exit line; the line that says what is wrong
    is its first, 150 lines up. Other systems start a step without `$ cmd` (Azure's `##[command]`, CircleCI's
    shebang, CodeBuild's `Running command`)."""
    for system, (start, end) in SILENT_STEPS.items():
        log = _silent_step(start, end).encode()
        got = [line.text for line in excerpt(log, 1500).lines]
        assert "These files lack the licence header:" in got, (system, got[:5])
        # read as a stream of small chunks, the step starts are still found past the first chunk
        small = excerpt_chunks((log[i : i + 512] for i in range(0, len(log), 512)), 1500)
        assert "These files lack the licence header:" in [line.text for line in small.lines], system


def test_a_steps_head_is_not_shown_when_the_step_printed_its_failure():
    """Only a silent step gets its head: a step whose output holds a failure keeps the budget for it."""
    lines = ["$ ./run_tests.sh", "Starting the suite on 4 workers", *(f"test_{i} ... ok" for i in range(200))]
    lines += [
        "FAIL: test_refund (tests.test_ledger.LedgerTest)",
        "AssertionError: -5 != 0",
        "ERROR: Job failed: exit code 1",
    ]
    got = [line.text for line in excerpt("\n".join(lines) + "\n", 1500).lines]
    assert "Starting the suite on 4 workers" not in got, got
    assert "AssertionError: -5 != 0" in got, got


def test_a_silent_jenkins_step_is_the_one_before_the_declarative_post_section():
    """Jenkins prints its exit line after the `post` section; a `sh` step there (a service log dump) is not the
    step that failed: the one before the section is, and its first line says what is wrong."""
    lines = ["[Pipeline] stage", "[Pipeline] { (Licences)", "[Pipeline] sh", "+ ./scripts/check_licences.sh"]
    lines += ["These files lack the licence header:", *(f"src/pkg{i}/module{i}.py" for i in range(150))]
    lines += ["[Pipeline] }", "[Pipeline] // stage", "[Pipeline] { (Declarative: Post Actions)", "[Pipeline] sh"]
    lines += ["+ docker compose logs --no-color", *(f"api-1  | GET /healthz 200 in {i}ms" for i in range(60))]
    lines += ["api-1  | java.net.ConnectException: Connection refused", "[Pipeline] }", "[Pipeline] // node"]
    lines += ["[Pipeline] End of Pipeline", "ERROR: script returned exit code 1", "Finished: FAILURE"]
    got = [line.text for line in excerpt("\n".join(lines) + "\n", 1500).lines]
    assert "These files lack the licence header:" in got, got


def test_a_step_that_dumps_services_logs_is_not_the_step_that_failed():
    """A scripted pipeline's `finally` runs `docker compose logs`: the services' exceptions it prints come last, right
    above the exit line, but the step that failed is the one before it."""
    lines = ["[Pipeline] node", "[Pipeline] sh", "+ make test", *(f"test_{i} ... ok" for i in range(100))]
    lines += ["src/ledger.c:88:5: error: 'refund' undeclared (first use in this function)", "make: *** [test] Error 1"]
    lines += ["[Pipeline] sh", "+ docker compose logs --no-color"]
    for i in range(30):
        lines += [
            f"api-1  | 10:12:{i:02d} request {i} failed",
            "api-1  | java.net.ConnectException: Connection refused",
        ]
        lines += ["api-1  | \tat com.acme.svc.Client.open(Client.java:19)"]
    lines += ["[Pipeline] }", "[Pipeline] // node", "[Pipeline] End of Pipeline", "ERROR: script returned exit code 2"]
    lead = _lead("\n".join(lines) + "\n", 1500)
    assert "src/ledger.c:88:5: error: 'refund' undeclared (first use in this function)" in lead, lead
