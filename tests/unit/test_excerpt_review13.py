"""Gradle's line for a failed test (`CartTest > totals() FAILED`) is the test's own verdict: at a small budget its
exception leads over the build's closing tally and `FAILURE: Build failed with an exception.`"""

from __future__ import annotations

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import VERDICT, score_line

_CLOSING = [
    "",
    "42 tests completed, 1 failed",
    "",
    "> Task :app:test FAILED",
    "",
    "FAILURE: Build failed with an exception.",
    "",
    "* What went wrong:",
    "Execution failed for task ':app:test'.",
    "> There were failing tests. See the report at: file:///builds/acme/app/build/reports/tests/test/index.html",
    "",
    "* Try:",
    "> Run with --stacktrace option to get the stack trace.",
    "",
    "BUILD FAILED in 1m 12s",
    "4 actionable tasks: 4 executed",
]
_FAILED = [
    "OrderServiceTest > refundsPartialAmount() FAILED",
    "    org.opentest4j.AssertionFailedError: expected: <40.00> but was: <45.00>",
    "        at app//com.acme.orders.OrderServiceTest.refundsPartialAmount(OrderServiceTest.java:88)",
]
_FRAMES = [f"        at java.base/jdk.internal.reflect.Method{i}.invoke(Method.java:{100 + i})" for i in range(45)]
_PASSED = [f"Test{i % 7}Test > case{i}() PASSED" for i in range(25)]


@pytest.mark.parametrize(
    "line",
    [
        "OrderServiceTest > refundsPartialAmount() FAILED",
        "CheckoutTest > WithCoupon > appliesTaxAfterDiscount() FAILED",
        "com.acme.app.LoginViewModelTest > emitsErrorOnBadPassword[Pixel 30] FAILED",
        "PriceSpec > discount is capped at the list price FAILED",
    ],
)
def test_gradles_failed_test_line_is_a_verdict(line):
    assert score_line(line) == VERDICT


@pytest.mark.parametrize(
    "line",
    [
        "> Task :app:test FAILED",
        "a > b FAILED to connect",
        "CartTest > totals() PASSED",
        # a review's counter-examples: another tool's `word > word FAILED`, not a test class's
        "deploy > eu-west-1 FAILED",
        "eslint > src/a.ts FAILED",
    ],
)
def test_other_lines_with_the_word_are_not_that_verdict(line):
    assert score_line(line) < VERDICT


@pytest.mark.parametrize("framing", ["gitlab", "travis"])
def test_the_failed_tests_exception_is_kept_at_a_small_budget(framing):
    start = "$ ./gradlew test --no-daemon" if framing == "gitlab" else "\x1b[0K$ ./gradlew test"
    end = ["ERROR: Job failed: exit code 1"] if framing == "gitlab" else ['The command "./gradlew test" exited with 1.']
    log = [start, "> Task :app:compileTestJava", "> Task :app:test", "", *_FAILED, *_FRAMES, "", *_PASSED]
    log += _CLOSING + end
    found = excerpt("\n".join(log) + "\n", 2000)
    shown = {line.text for line in found.lines}
    assert all(line in shown for line in _FAILED)
    assert found.lead is not None and log[found.lead[0] - 1] == _FAILED[0]


def test_a_line_of_thousands_of_prefixes_is_scored_without_exhausting_the_stack():
    # a review's case: each `[a] ` was stripped by a call of its own, 2,000 of them raised RecursionError
    assert score_line("[a] " * 2000 + "x") == score_line("x")
    assert score_line("[unit] " * 3000 + "error: cannot find symbol") == score_line("error: cannot find symbol")
