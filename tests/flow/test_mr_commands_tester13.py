"""MR note commands as people type them, against a fake GitLab: providers the bot has, punctuation, job names."""

from __future__ import annotations

import pytest

from bot.core.followup import MrCommand, parse_mr_command
from bot.jobs import mr_note
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, run_analysis
from storage import history
from tests.fakes.gitlab_server import FakeGitLab
from tests.helpers import bot_services
from tests.scenario import MR_IID, PROJECT_ID, mr_note_job, seed_failed_pipeline


def replies(gitlab) -> list[str]:
    return [n["body"] for n in gitlab.notes_for(PROJECT_ID, MR_IID) if n["author"]["username"] == "cicd-bot"]


async def test_a_provider_the_bot_has_no_key_for_is_refused_and_not_promised(database):
    async with FakeGitLab() as gitlab:
        seed_failed_pipeline(gitlab.state, 9001)
        async with bot_services(database, gitlab) as services:  # no model key: the offline analyzer only
            await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9001))
            analysed = len(replies(gitlab))
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot provider anthropic", job_id=1))
            said = replies(gitlab)[-1]
            assert "From now on" not in said and "Anthropic" in said and "heuristic" in said
            assert not await history.get_preference(database, "gitlab_project", str(PROJECT_ID), "provider")
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot reanalyze with anthropic", 2))
            said = replies(gitlab)[-1]
            assert "Analysed pipeline" not in said and "Anthropic" in said and "heuristic" in said
            assert len(replies(gitlab)) == analysed + 2
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot reanalyze with heuristic", 3))
            assert any(r.startswith("Analysed pipeline") for r in replies(gitlab))


@pytest.mark.parametrize(
    ("note", "name", "provider"),
    [
        ("@cicd-bot: reanalyze", "reanalyze", ""),
        ("@cicd-bot, reanalyze", "reanalyze", ""),
        ("@cicd-bot reanalyze.", "reanalyze", ""),
        ("@cicd-bot Reanalyze!", "reanalyze", ""),
        ("@cicd-bot - help", "help", ""),
        ("@cicd-bot reanalyze with anthropic.", "reanalyze", "anthropic"),
        ("@cicd-bot: provider openai", "provider", "openai"),
        ("@cicd-bot: why did lint fail?", "question", ""),
    ],
)
def test_punctuation_around_a_command_keeps_it_a_command(note, name, provider):
    command = parse_mr_command(note, "cicd-bot")
    assert (command.name, command.provider) == (name, provider)


async def test_explain_finds_a_job_whatever_the_case_of_its_name(database):
    async with FakeGitLab() as gitlab:
        seed_failed_pipeline(gitlab.state, 9001)
        async with bot_services(database, gitlab) as services:
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot explain PyTest", job_id=1))
            said = replies(gitlab)
            assert any(r.startswith("Analysed pipeline") for r in said)
            assert not any("could not find" in r for r in said)


@pytest.mark.parametrize(
    ("note", "name", "argument"),
    [
        ("> @cicd-bot help\n\n@cicd-bot reanalyze", "reanalyze", ""),
        ("> I asked @cicd-bot why\n\n@cicd-bot explain lint", "explain", "lint"),
        ("```\n$ make lint\n```\n@cicd-bot reanalyze with heuristic", "reanalyze", ""),
        ("@cicd-bot", "help", ""),
        ("@cicd-bot why does this fail?\n```\nE: boom\n```", "question", "why does this fail? ``` E: boom ```"),
        ("@cicd-bot\n```\nE: boom\n```", "question", "``` E: boom ```"),
    ],
)
def test_a_quoted_command_is_not_the_command_and_a_question_keeps_its_code(note, name, argument):
    command = parse_mr_command(note, "cicd-bot")
    assert (command.name, command.argument) == (name, argument)


@pytest.mark.parametrize(
    ("note", "argument", "provider"),
    [
        ("@cicd-bot explain pytest with anthropic", "pytest", "anthropic"),
        ("@cicd-bot explain build: [linux, amd64] using openai.", "build: [linux, amd64]", "openai"),
        ("@cicd-bot explain pytest", "pytest", ""),
        ("@cicd-bot explain #90012", "#90012", ""),
    ],
)
def test_explain_reads_the_provider_after_the_job(note, argument, provider):
    assert parse_mr_command(note, "cicd-bot") == MrCommand("explain", argument=argument, provider=provider)


async def test_explain_with_a_provider_the_bot_lacks_is_refused(database):
    async with FakeGitLab() as gitlab:
        seed_failed_pipeline(gitlab.state, 9001)
        async with bot_services(database, gitlab) as services:
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot explain pytest with anthropic"))
            said = replies(gitlab)
            assert "could not find" not in said[-1] and "Anthropic" in said[-1] and "heuristic" in said[-1]
