"""go test -v prints a test's `t.Error` lines in its output, above its `--- FAIL` verdict, and the next test's
`=== RUN` between them: the answer states the test's own line, not the verdict alone nor the next test's start."""

from __future__ import annotations

from bot.core.types import Category
from tests.unit.test_offline_formats import offline_answer

VERBOSE = """$ go test -v ./...
=== RUN   TestParse
--- PASS: TestParse (0.00s)
=== RUN   TestLoadConfig
=== RUN   TestLoadConfig/defaults
=== RUN   TestLoadConfig/empty_path
    loader_test.go:88: Load(""): unexpected error: open : no such file or directory
=== RUN   TestLoadConfig/env_override
--- FAIL: TestLoadConfig (0.01s)
    --- PASS: TestLoadConfig/defaults (0.00s)
    --- FAIL: TestLoadConfig/empty_path (0.00s)
    --- PASS: TestLoadConfig/env_override (0.00s)
=== RUN   TestSave
--- PASS: TestSave (0.00s)
FAIL
FAIL	github.com/acme/cfg/loader	0.014s
FAIL
ERROR: Job failed: exit code 1
"""


def test_go_test_verbose_states_the_tests_own_line_above_its_verdict() -> None:
    answer = offline_answer(VERBOSE)
    assert "loader_test.go:88" in answer.summary
    assert "no such file or directory" in answer.summary
    assert "=== RUN" not in answer.summary
    assert answer.category is Category.test
    assert any("loader_test.go:88" in e.text for e in answer.evidence)


def test_plain_go_test_keeps_the_verdict_over_its_reason() -> None:
    log = """$ go test ./...
--- FAIL: TestTotal (0.00s)
    cart_test.go:41: got 1250, want 1200
FAIL
FAIL	example.com/shop/cart	0.005s
ERROR: Job failed: exit code 1
"""
    answer = offline_answer(log)
    assert "TestTotal" in answer.summary
    assert "got 1250, want 1200" in answer.summary


def test_another_tests_log_line_is_not_taken_for_the_failing_ones() -> None:
    log = """$ go test -v ./...
=== RUN   TestRetry
    retry_test.go:20: attempt 1 failed as expected
--- PASS: TestRetry (0.00s)
=== RUN   TestRefund
--- FAIL: TestRefund (0.00s)
FAIL
FAIL	example.com/shop/refund	0.004s
ERROR: Job failed: exit code 1
"""
    answer = offline_answer(log)
    assert "retry_test.go:20" not in answer.summary
    assert "TestRefund" in answer.summary
