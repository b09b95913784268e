"""The last passing log as the excerpt's baseline: fetched from the fake GitLab, used, named, or skipped cleanly."""

from __future__ import annotations

from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, run_analysis
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import bot_services
from tests.scenario import MR_IID, PROJECT_ID, PYTEST_TRACE, seed_failed_pipeline

# What the prompt says when the excerpt was read beside a passing log.
COMPARED = "comparing this log with the same job's log in passing pipeline"
# A line with no failure words that only the failing run printed: the rules alone do not keep it,
# the baseline does (it is new).
NEW_LINE = "rsync: fixtures/amounts.csv: wrote 0 of 4096 bytes, remote closed"
STEPS = [f"copy fixture file_{chr(97 + i % 26)}{chr(97 + i // 26)}.csv to the work dir" for i in range(500)]
FAIL_TRACE = PYTEST_TRACE.replace(
    "$ pytest -q tests/\n",
    "$ ./copy-fixtures.sh\n" + "\n".join(STEPS[:250] + [NEW_LINE] + STEPS[250:]) + "\n$ pytest -q tests/\n",
)
PASS_TRACE = (
    "Running with gitlab-runner 17.5.0 (abc123)\n$ ./copy-fixtures.sh\n"
    + "\n".join(STEPS)
    + "\n$ pytest -q tests/\n........\n8 passed in 0.40s\nJob succeeded\n"
)


def bot_notes(gitlab):
    return [n for n in gitlab.notes_for(PROJECT_ID, MR_IID) if n["author"]["username"] == "cicd-bot"]


def seed_passing_main(state, pipeline_id: int = 8001, trace: str = PASS_TRACE) -> dict:
    """A passing pipeline of the MR's target branch whose `pytest` job passed."""
    return state.add_pipeline(
        PROJECT_ID,
        id=pipeline_id,
        ref="main",
        status="success",
        jobs=[{"id": pipeline_id * 10 + 2, "name": "pytest", "stage": "test", "status": "success", "trace": trace}],
    )


async def analyse(database, gitlab, openai, **settings):
    async with bot_services(database, gitlab, openai, **settings) as services:
        await run_analysis(services, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9001))
        return services


async def test_the_passing_log_of_the_target_branch_is_fetched_used_and_named(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001, trace=FAIL_TRACE)
        passing = seed_passing_main(gitlab.state)
        services = await analyse(database, gitlab, openai)
        lists = gitlab.state.calls_to(rf"/projects/{PROJECT_ID}/pipelines$", "GET")
        asked = [(c.query.get("ref"), c.query.get("status")) for c in lists]
        # The MR's own ref first (no passing run there), then the MR's target branch.
        assert asked == [(f"refs/merge-requests/{MR_IID}/head", "success"), ("main", "success")]
        assert gitlab.state.calls_to(r"/jobs/80012/trace$", "GET"), "the passing job's log is read"
        sent = openai.requests[0]["raw"]
        assert f"{COMPARED} 8001" in sent, "the prompt says which pipeline the log was compared with"
        body = bot_notes(gitlab)[0]["body"]
        assert f"passing pipeline [#8001]({passing['web_url']})" in body
        # Cached per project, job name and commit: a second analysis reads the passing log no more.
        async with bot_services(database, gitlab, openai) as again:
            again.baseline_logs = services.baseline_logs
            await run_analysis(again, AnalyzePipelinePayload(project_id=PROJECT_ID, pipeline_id=9001, force=True))
        assert len(gitlab.state.calls_to(r"/jobs/80012/trace$", "GET")) == 1


async def test_without_a_passing_pipeline_the_analysis_goes_on_without_a_baseline(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001, trace=FAIL_TRACE)
        await analyse(database, gitlab, openai)
        sent = openai.requests[0]["raw"]
        assert COMPARED not in sent and NEW_LINE not in sent
        body = bot_notes(gitlab)[0]["body"]
        assert "passing pipeline" not in body and "AssertionError" in body


async def test_a_passing_log_that_cannot_be_read_is_skipped(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001, trace=FAIL_TRACE)
        seed_passing_main(gitlab.state)
        gitlab.state.add_fault(r"/jobs/80012/trace$", 403, times=5)
        await analyse(database, gitlab, openai)
        assert openai.calls == 1
        assert COMPARED not in openai.requests[0]["raw"]
        body = bot_notes(gitlab)[0]["body"]
        assert "passing pipeline" not in body and "AssertionError" in body


async def test_the_setting_turns_it_off(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001, trace=FAIL_TRACE)
        seed_passing_main(gitlab.state)
        await analyse(database, gitlab, openai, GITLAB_BASELINE_LOGS="false")
        assert not [c for c in gitlab.state.calls_to(r"/pipelines$", "GET") if c.query.get("status") == "success"]
        assert COMPARED not in openai.requests[0]["raw"]
