"""The offline analyzer: every rule triggers on its examples, answers are grounded in the excerpt."""

from __future__ import annotations

import pytest

from bot.core.excerpt.read import excerpt
from bot.core.heuristic_causes import ALL_RULES as RULES
from bot.core.heuristic_reasons import FAILURE_REASONS
from bot.core.heuristics import UNKNOWN_SUMMARY, analyze, answer_followup, best_rule
from bot.core.types import Category, Excerpt, ExcerptLine, Verdict
from tests.helpers import ROOT
from tests.scenario import PYTEST_TRACE


def lines(*texts: str) -> Excerpt:
    return Excerpt([ExcerptLine(i + 100, t) for i, t in enumerate(texts)])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_has_examples_that_trigger_it(rule):
    assert rule.examples, f"rule {rule.id} has no example"
    for example in rule.examples:
        assert rule.pattern.search(example), f"{rule.id} does not match its example {example!r}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_rule_wins_on_its_first_example_among_ordinary_lines(rule):
    ex = lines("$ ./ci/run-step", "Downloading artifacts", rule.examples[0], "Cleaning up project directory")
    got = best_rule(ex)
    assert got is not None
    answer = analyze(ex)
    assert answer.evidence and all(e.text in [ln.text for ln in ex.lines] for e in answer.evidence)
    assert "{" not in answer.summary and "{" not in answer.root_cause, "templates are filled"


def test_pytest_failure_names_the_test_and_how_to_run_it():
    answer = analyze(excerpt(PYTEST_TRACE), failure_reason="script_failure", job_name="pytest", stage="test")
    assert answer.category is Category.test
    assert "tests/test_money.py::test_parse_amount" in answer.summary
    assert any("pytest tests/test_money.py::test_parse_amount" in s for s in answer.fix_steps)
    assert any("AssertionError" in e.text for e in answer.evidence)
    assert "step_script" in answer.root_cause


def test_missing_python_module_is_a_dependency_problem():
    answer = analyze(lines("Traceback (most recent call last):", "ModuleNotFoundError: No module named 'requests'"))
    assert answer.category is Category.dependency and "requests" in answer.summary
    assert any("requests" in s for s in answer.fix_steps)


@pytest.mark.parametrize("reason", sorted(FAILURE_REASONS))
def test_gitlab_failure_reasons_decide_first(reason):
    answer = analyze(lines("everything looked fine"), failure_reason=reason)
    assert answer.summary == FAILURE_REASONS[reason][1]
    assert answer.confidence >= 0.9


def test_runner_failures_are_infrastructure():
    answer = analyze(
        lines("ERROR: Job failed (system failure): no space left on device"), failure_reason="runner_system_failure"
    )
    assert answer.verdict is Verdict.infrastructure and answer.category is Category.infrastructure


def test_unknown_failures_are_honest_and_point_at_the_last_lines():
    answer = analyze(lines("step one", "the widget went sideways"))
    assert answer.summary == UNKNOWN_SUMMARY and answer.category is Category.unknown and answer.confidence < 0.5
    assert answer.evidence


def test_a_printed_exit_status_is_said_rather_than_nothing():
    answer = analyze(lines("step one", "the widget went sideways", "exit status 3"))
    assert answer.summary == "exit status 3" and answer.confidence < 0.9


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.log")), ids=lambda p: p.name)
def test_example_logs_are_recognised(path):
    answer = analyze(excerpt(path.read_bytes()))
    assert answer.category is not Category.unknown, path.name


def test_followup_restates_cause_steps_and_evidence():
    result = analyze(excerpt(PYTEST_TRACE))
    text = answer_followup("why?", result, None)
    assert "offline analyzer" in text and result.fix_steps[0] in text and result.evidence[0].text in text


def test_make_names_the_target_not_the_makefile_line():
    answer = analyze(lines("make: *** [Makefile:12: test] Error 2"))
    assert answer.summary == "make: *** [Makefile:12: test] Error 2"
    assert "`make test`" in " ".join(answer.fix_steps)
