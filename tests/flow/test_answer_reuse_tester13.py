"""Answer reuse by the strict key, against a fake GitLab and a fake model: an offline answer is never reused."""

from __future__ import annotations

from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, run_analysis
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.flow.test_analysis_flow import analyses
from tests.helpers import bot_services
from tests.scenario import PROJECT_ID, seed_failed_pipeline


async def test_an_offline_answer_given_while_the_model_was_down_is_not_reused_when_it_is_back(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001)
        seed_failed_pipeline(gitlab.state, 9005)
        async with bot_services(database, gitlab, openai) as services:
            openai.script(*[{"kind": "status", "status": 500}] * 6)  # every attempt fails: the offline analyzer answers
            await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9001))
            openai.reset()
            await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9005))
        rows = await analyses(database)
        assert [r.provider for r in rows] == ["heuristic", "openai"]
        assert rows[1].status == "ok" and rows[1].reused_from_id is None
        assert rows[0].strict_key == rows[1].strict_key


async def test_an_offline_answer_is_not_reused_once_a_model_is_configured(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001)
        seed_failed_pipeline(gitlab.state, 9005)
        async with bot_services(database, gitlab) as services:  # no key yet: the offline analyzer
            await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9001))
        async with bot_services(database, gitlab, openai) as services:  # OPENAI_API_KEY set, the bot restarted
            await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9005))
        assert openai.calls == 1
        rows = await analyses(database)
        assert [(r.provider, r.status) for r in rows] == [("heuristic", "ok"), ("openai", "ok")]
