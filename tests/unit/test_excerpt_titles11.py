"""A test's title that says a failure is expected ("should fail with X", "should throw when ...") is not a failure:
listed as the tests run, it must not seed a block that spends a small budget on the list."""

from __future__ import annotations

from bot.core.excerpt.blocks import SEED_SCORE
from bot.core.excerpt.read import excerpt
from bot.core.excerpt.rules import score_line

STEPS = ("parse", "validate", "decode", "resolve", "compile", "load")
ERRORS = ("EmptyInput", "BadChecksum", "UnknownField", "CycleDetected", "MissingImport", "TypeMismatch")


def test_kotest_titles_that_expect_a_failure_leave_room_for_the_assertion_at_2000_characters():
    log = ["[Pipeline] sh", "+ ./gradlew test"]
    log += [
        f"AccountTest > should throw when {STEPS[i % 6]} of account {i} hits {ERRORS[i * 5 % 6]} PASSED"
        for i in range(60)
    ]
    log += [f"  should fail when {STEPS[i % 6]} step {i} meets {ERRORS[i * 5 % 6]}" for i in range(30)]
    log += [
        "AccountTest > should keep the balance after a refund FAILED",
        "    io.kotest.assertions.AssertionFailedError: expected:<100> but was:<90>",
        "        at AccountTest.kt:77",
        "",
        "91 tests completed, 1 failed",
        "FAILURE: Build failed with an exception.",
        "ERROR: script returned exit code 1",
        "Finished: FAILURE",
    ]
    shown = "\n".join(line.text for line in excerpt("\n".join(log) + "\n", 2000).lines)
    assert "expected:<100> but was:<90>" in shown


def test_a_title_that_expects_a_failure_scores_below_a_block_seed():
    assert score_line("      'CoercibleForeign.purs' should fail with 'NoInstanceFound':") < SEED_SCORE
    assert score_line("  should throw when the basket is empty") < SEED_SCORE


def test_a_line_that_says_something_failed_keeps_its_score_whatever_its_title_expects():
    for line in (
        "[info] - should reject a negative amount *** FAILED ***",
        "Error: the request should fail but returned 200",
        "AssertionError: expected the promise, it should reject",
    ):
        assert score_line(line) >= SEED_SCORE, line


def test_a_failed_test_s_title_in_a_runner_s_failure_list_keeps_its_score():
    # stop 25's review: the benign rule had lowered these (10 -> 3): a runner's "failed" in any case, its fail glyphs
    # and a numbered entry of its failures list say the test failed, whatever its title expects.
    for line in (
        "1) Validator should reject invalid emails",
        "Failed tests: should reject invalid emails (ValidatorSpec)",
        "    Failed: should throw when the input is empty",
        "Tests failed: should reject null",
    ):
        assert score_line(line) >= SEED_SCORE, line
    for line in ("  ✖ should reject invalid emails", " × Validator > should reject invalid emails 4ms"):
        assert score_line(line) > score_line("  should reject invalid emails"), line
