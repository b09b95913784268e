"""A failed test's numbered title in the list of tests (mocha's spec reporter and the tools built on it) is only a
mark: the report under the failures summary says why, and a small budget goes to it, not to the list."""

from __future__ import annotations

from bot.core.excerpt.marks import progress_marks
from bot.core.excerpt.read import excerpt

WORDS = ("basket", "coupon", "session", "invoice", "refund", "address", "shipping", "currency", "stock", "wishlist")


def _passed(count: int, start: int) -> list[str]:
    """Passed tests' titles, each starting differently, as a real list's do."""
    return [
        f"    ✓ {WORDS[(start + i) % 10]} {WORDS[(start + 3 * i) % 7]} stays in sync for customer {i} ({i + 3}ms)"
        for i in range(count)
    ]


def _mocha_run(mark: str, report: list[str]) -> list[str]:
    lines = ["", "  Basket"] + _passed(14, 0) + [f"    1) {mark}"] + _passed(44, 100)
    return lines + ["", "", "  58 passing (3s)", "  1 failing", "", "  1) Basket", f"       {mark}:", *report, ""]


def _shown(lines: list[str], budget: int) -> str:
    return "\n".join(line.text for line in excerpt("\n".join(lines) + "\n", budget).lines)


def test_a_mocha_failure_in_a_github_actions_job_shows_its_report_at_2000_characters():
    """The mark sits among 58 passed tests: ranked as the failure, it spent the budget on the list around it and
    the assertion under "1 failing" was left out."""
    log = ["##[group]Run npm test", "##[endgroup]", "> shop@1.0.0 test", "> mocha"]
    log += _mocha_run(
        "applies the coupon to each line of the order",
        [
            "      AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:",
            "",
            "      90 !== 81",
            "",
            "      at Context.<anonymous> (test/basket.test.js:42:14)",
        ],
    )
    log += ["##[error]Process completed with exit code 1."]
    shown = _shown(log, 2000)
    assert "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:" in shown
    assert "test/basket.test.js:42:14" in shown


def test_a_cypress_timeout_on_gitlab_shows_the_element_it_never_found():
    log = ["$ npx cypress run", "", "  Running:  checkout.cy.js"]
    log += _mocha_run(
        "shows the confirmation after paying",
        [
            "     AssertionError: Timed out retrying after 4000ms: Expected to find element: `[data-test=done]`, "
            "but never found it.",
            "      at Context.eval (webpack:///./cypress/e2e/checkout.cy.js:31:8)",
        ],
    )
    log += ["ERROR: Job failed: exit code 1"]
    assert "Expected to find element: `[data-test=done]`" in _shown(log, 2000)


def test_marks_are_the_titles_listed_again_after_a_failures_summary_and_numbers_restart_per_run():
    texts = {
        1: "    1) first run's failure",
        5: "  1 failing",
        7: "  1) Suite",  # the first run's report: the next run's mark below is no summary away from it
        20: "    1) second run's failure",
        30: "  1 failing",
        32: "  1) Suite",
    }
    assert progress_marks(texts) == {1, 20}


def test_a_report_numbered_only_once_is_no_mark():
    """PHPUnit and RSpec number their failures only in the report."""
    texts = {1: "There were 2 failures:", 3: "1) InvoiceTest::testTax", 9: "2) InvoiceTest::testTotal", 12: "FAILURES!"}
    assert progress_marks(texts) == set()
