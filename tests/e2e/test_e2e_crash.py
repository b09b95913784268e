"""SIGKILL of the real process mid-job: a second process takes the jobs over once their short lease runs out, every
model call sent is in the ledger, and a Slack parent Slack took before the kill is adopted, not posted again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.db import Database
from storage.models import Analysis, ProviderCallRecord, QueueJob
from tests.botprocess import free_port
from tests.e2e_kit import bot_notes, parents, send_hook, settings_for, settled, slack_settings, start_bot, wait_for
from tests.fakes import held
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.scenario import pipeline_hook, seed_failed_pipeline
from tests.slack_kit import CHANNEL

pytestmark = [pytest.mark.e2e, pytest.mark.fault, pytest.mark.timeout(240)]

PIPELINES = 6
IN_FLIGHT = 3  # WORKER_CONCURRENCY: the jobs whose model calls are running when the process is killed
LEASE = "5"  # QUEUE_LEASE_SECONDS, short so the test does not wait out the 30 s default


async def rows(db_url: str, *columns):
    db = Database(db_url)
    try:
        async with db.session() as s:
            return (await s.execute(sa.select(*columns))).all()
    finally:
        await db.dispose()


async def restart(env: dict, tmp_path):
    """A second process on the same database (another replica, or the same one restarted)."""
    return await start_bot({**env, "PORT": str(free_port())}, tmp_path)


async def test_sigkill_with_model_calls_in_flight_resumes_and_the_ledger_counts_every_call(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        # Every pipeline is its own failure (no answer reused), so each job asks the model once.
        env = settings_for(
            db_url,
            gitlab,
            openai,
            WORKER_CONCURRENCY=str(IN_FLIGHT),
            QUEUE_LEASE_SECONDS=LEASE,
            REUSE_ANALYSIS_DAYS="0",
        )
        pipelines = [seed_failed_pipeline(gitlab.state, 9100 + i) for i in range(PIPELINES)]
        openai.script(*[held() for _ in range(IN_FLIGHT)])
        first = await start_bot(env, tmp_path)
        try:
            for p in pipelines:
                assert await send_hook(first.url, pipeline_hook(p), key=f"p{p['id']}") == 200
            await wait_for(lambda: openai.holding == IN_FLIGHT, timeout=60, what="model calls in flight")
            sent = await rows(db_url, ProviderCallRecord.outcome)
            assert [o for (o,) in sent] == ["sent"] * IN_FLIGHT, "recorded before they were sent"
            first.kill()
        finally:
            print(first.log())
        openai.release()  # the killed process's calls now answer no one

        second = await restart(env, tmp_path)
        try:
            await settled(second.url, timeout=120)
            jobs = await rows(db_url, QueueJob.state, QueueJob.attempts)
            # The killed jobs were taken over once their lease ran out (a second attempt); the others ran once.
            assert sorted(jobs) == [("done", 1)] * (PIPELINES - IN_FLIGHT) + [("done", 2)] * IN_FLIGHT
            analysed = await rows(db_url, Analysis.pipeline_id, Analysis.provider)
            assert sorted(analysed) == [(p["id"], "openai") for p in pipelines]
            ledger = await rows(db_url, ProviderCallRecord.outcome, ProviderCallRecord.tokens_in)
            # Every call the model server received has its row: none under-counted, none counted twice.
            assert openai.calls == PIPELINES + IN_FLIGHT and len(ledger) == openai.calls
            assert sorted(o for o, _ in ledger) == ["ok"] * PIPELINES + ["sent"] * IN_FLIGHT
            assert all(tokens > 0 for _, tokens in ledger), "a call cut off counts at its estimate"
            assert len(bot_notes(gitlab)) == 1
        finally:
            print(second.log())
            assert await second.stop() == 0


async def test_sigkill_after_slack_took_the_parent_adopts_it_instead_of_posting_again(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeSlack() as slack:
        env = settings_for(db_url, gitlab, QUEUE_LEASE_SECONDS=LEASE, **slack_settings(slack))
        pipeline = seed_failed_pipeline(gitlab.state, 9001)
        slack.hold_after("chat.postMessage")  # Slack posts the parent; its answer never reaches the first process
        first = await start_bot(env, tmp_path)
        try:
            assert await send_hook(first.url, pipeline_hook(pipeline), key="p9001") == 200
            await wait_for(lambda: slack.holding == 1, timeout=60, what="Slack to take the parent")
            first.kill()
        finally:
            print(first.log())
        slack.release()
        (orphan,) = parents(slack)

        second = await restart(env, tmp_path)
        try:
            await settled(second.url, timeout=120)
            (parent,) = parents(slack)
            assert parent.ts == orphan.ts and parent.updates >= 1 and parent.text.startswith("❌")
            assert len(slack.thread(CHANNEL, parent.ts)) == 1, "the analysis is in the adopted parent's thread"
            assert slack.count("chat.postMessage") == 2  # the parent once, the thread once
            assert slack.count("conversations.history") == 1
        finally:
            print(second.log())
            assert await second.stop() == 0
