"""A failed CI job whose log cannot be read: reported with the reason, no model asked about it, the rest analysed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.clients.gitlab_errors import GitLabAuthError
from bot.core import messages as m
from bot.jobs import mr_note
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, run_analysis
from storage.models import Analysis, FailedJob
from tests.e2e_kit import bot_notes
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import bot_services
from tests.scenario import PROJECT_ID, mr_note_job, seed_failed_pipeline

PIPELINE = 9101
LINT = PIPELINE * 10 + 3  # the unreadable one; seed_failed_pipeline's pytest (…2) fails readably
LINT_LOG = "$ ruff check .\napp/money.py:3:1: F401 unused import\nERROR: Job failed: exit code 1\n"


def lint_job(trace: str = LINT_LOG, **facts) -> dict:
    return {
        "id": LINT,
        "name": "lint",
        "stage": "test",
        "status": "failed",
        "failure_reason": "script_failure",
        "trace": trace,
        **facts,
    }


def trace_fault(status: int, **kw) -> dict:
    return {"pattern": rf"/jobs/{LINT}/trace$", "status": status, **kw}


# (case, the lint job, a fault on its trace, what the note says after "log unavailable: ")
CASES = [
    ("permission", lint_job(), trace_fault(403), "permission denied (GitLab answered 403)"),
    (
        "redirect to object storage",
        lint_job(),
        trace_fault(302, headers={"Location": "https://objects.example/logs/91013.log?X-Amz-Signature=abc"}),
        "GitLab answered 302 and sent the log elsewhere",
    ),
    ("not found", lint_job(), trace_fault(404), "not found (GitLab answered 404)"),
    ("erased", lint_job(erased_at="2024-05-13T10:00:00.000Z"), None, "erased on 2024-05-13"),
    (
        "expired",
        lint_job(trace="", artifacts_expire_at="2024-05-10T00:00:00.000Z"),
        None,
        "expired: the job's artifacts expired on 2024-05-10",
    ),
    ("empty", lint_job(trace=""), None, "empty: GitLab returned no log text for this job"),
]


async def rows(db, model):
    async with db.session() as s:
        return (await s.execute(sa.select(model).order_by(model.id))).scalars().all()


@pytest.mark.parametrize("job, fault, reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_an_unreadable_log_is_reported_with_its_reason_and_the_other_job_is_analysed(
    database, job, fault, reason
):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, PIPELINE, extra_jobs=[job])
        if fault:
            gitlab.state.add_fault(**fault)
        async with bot_services(database, gitlab, openai) as services:
            report = await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=PIPELINE))
        assert openai.calls == 1, "the model is asked about pytest only"
        assert "app/money.py:3:1" not in openai.requests[0]["raw"]
        by_name = {j.name: j for j in report.jobs}
        assert by_name["lint"].result is None and by_name["lint"].log_unavailable.startswith(reason)
        assert by_name["pytest"].result is not None and not by_name["pytest"].log_unavailable

        body = bot_notes(gitlab)[0]["body"]
        lint_line = next(line for line in body.splitlines() if "**lint**" in line)
        assert f"{m.LOG_UNAVAILABLE_EMOJI} " in lint_line and f"log unavailable: {reason}" in lint_line
        assert "not analysed" not in lint_line
        assert "AssertionError: assert 1250.0 == 12.5" in body, "pytest is still explained"
        assert "The job failed at: the log" not in body

        assert [a.job_id for a in await rows(database, Analysis)] == [PIPELINE * 10 + 2]
        failed = {f.job_id: f for f in await rows(database, FailedJob)}
        assert failed[LINT].excerpt == [] and failed[LINT].signature == ""


async def test_a_pipeline_whose_only_failed_log_is_unreadable_makes_no_model_call(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, PIPELINE, trace="")  # pytest's log came back empty
        async with bot_services(database, gitlab, openai) as services:
            report = await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=PIPELINE))
        assert openai.calls == 0 and report.analysis_id is None
        assert [j.log_unavailable for j in report.jobs] == [m.LOG_PROBLEMS["empty"]]
        body = bot_notes(gitlab)[0]["body"]
        assert f"log unavailable: {m.LOG_PROBLEMS['empty']}" in body and "Analysed by" not in body
        assert await rows(database, Analysis) == []


async def test_a_refused_token_is_not_one_job_s_unreadable_log(database):
    # 401 means the bot's token is wrong for everything: the analysis fails (and is retried) instead of
    # reporting every job as unreadable.
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, PIPELINE)
        gitlab.state.add_fault(rf"/jobs/{PIPELINE * 10 + 2}/trace$", 401)
        async with bot_services(database, gitlab, openai) as services:
            with pytest.raises(GitLabAuthError):
                await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=PIPELINE))
        assert openai.calls == 0 and bot_notes(gitlab) == []


async def test_asking_in_the_mr_about_an_unreadable_job_says_why_instead_of_asking_a_model(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, PIPELINE, extra_jobs=[lint_job()])
        gitlab.state.add_fault(**trace_fault(403, times=5))
        async with bot_services(database, gitlab, openai) as services:
            await mr_note.run(services, mr_note_job(gitlab.state, "alice", "@cicd-bot explain lint"))
        assert openai.calls == 0
        reason = m.LOG_PROBLEMS["permission"].format(status=403)
        replies = [n["body"] for n in bot_notes(gitlab) if not n["body"].startswith("<!--")]
        assert replies == [mr_note.LOG_UNREADABLE.format(job="lint", reason=reason)]
