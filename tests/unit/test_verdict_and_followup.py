"""Pure rules: verdicts decided by code, MR commands, and 'show me the lines' questions."""

from __future__ import annotations

import pytest

from bot.core.followup import MrCommand, parse_mr_command, requested_lines
from bot.core.types import Verdict
from bot.core.verdict import decide_verdict


def verdict(**kw):
    base = dict(
        failure_reason="script_failure",
        flaky=False,
        signature_on_default_branch=False,
        ref="feature",
        default_branch="main",
    )
    return decide_verdict(Verdict.caused_by_change, **{**base, **kw})


def test_code_overrides_the_model_where_data_allows():
    assert verdict()[0] is Verdict.caused_by_change and verdict()[1] == ""
    assert verdict(failure_reason="runner_system_failure")[0] is Verdict.infrastructure
    assert verdict(flaky=True)[0] is Verdict.flaky
    broken, why = verdict(signature_on_default_branch=True)
    assert broken is Verdict.broken_on_default_branch and "main" in why
    # On the default branch itself, the same failure earlier does not make it "someone else's".
    assert verdict(signature_on_default_branch=True, ref="main")[0] is Verdict.caused_by_change
    assert verdict(signature_on_default_branch=True, ref="refs/heads/main")[0] is Verdict.caused_by_change


@pytest.mark.parametrize(
    "question, lines",
    [
        ("what happened before line 412?", (372, 411)),
        ("show the lines before 412", (372, 411)),
        ("show lines 100-130", (100, 130)),
        ("lines 130 to 100 please", (100, 130)),
        ("what comes after line 20", (21, 60)),
        ("what is at line 7?", (1, 27)),
        ("why did it fail?", None),
        ("show lines 1-100000", (1, 200)),
    ],
)
def test_requested_lines(question, lines):
    assert requested_lines(question) == lines


@pytest.mark.parametrize(
    "note, command",
    [
        ("@cicd-bot reanalyze", MrCommand("reanalyze")),
        ("@cicd-bot reanalyze with anthropic", MrCommand("reanalyze", provider="anthropic")),
        ("@cicd-bot reanalyse openai", MrCommand("reanalyze", provider="openai")),
        # found by review: a list item's mark, courtesy, a job named before the provider, no job at all
        ("* @cicd-bot reanalyze", MrCommand("reanalyze")),
        ("1. @cicd-bot help", MrCommand("help")),
        ("@cicd-bot reanalyze please", MrCommand("reanalyze")),
        ("@cicd-bot please reanalyze with anthropic", MrCommand("reanalyze", provider="anthropic")),
        (
            "@cicd-bot please explain why pytest failed",
            MrCommand("question", argument="please explain why pytest failed"),
        ),
        ("@cicd-bot explain the lint job", MrCommand("question", argument="explain the lint job")),
        ("@cicd-bot reanalyze pytest with anthropic", MrCommand("reanalyze", provider="anthropic")),
        ("@cicd-bot explain with anthropic", MrCommand("explain", provider="anthropic")),
        ("@cicd-bot explain pytest", MrCommand("explain", argument="pytest")),
        ("@cicd-bot provider heuristic", MrCommand("provider", provider="heuristic")),
        ("@cicd-bot help", MrCommand("help")),
        ("@cicd-bot", MrCommand("help")),
        ("@cicd-bot link 4f2a9c", MrCommand("link", argument="4f2a9c")),
        ("hey @cicd-bot why is the build red?", MrCommand("question", argument="hey why is the build red?")),
    ],
)
def test_mr_commands(note, command):
    assert parse_mr_command(note, "cicd-bot") == command
