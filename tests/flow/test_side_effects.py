"""Side effects that survive a crash: model calls in the ledger before they are sent, Slack messages posted once
(the intent recorded, the message tagged, an orphan adopted), and short leases renewed while a job runs."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError

from bot.clients.slack import parent_key
from bot.clients.slack_once import EVENT_TYPE
from bot.core.outcomes import RetryLater
from bot.runtime.services import Services
from bot.runtime.worker import Worker
from storage.ledger import DatabaseLedger
from storage.models import Delivery, ProviderCallRecord, QueueJob
from storage.queue import Queue, enqueue
from tests.fakes import held
from tests.fakes.ports import InProcessGitLab
from tests.fakes.slack_server import FakeSlack
from tests.helpers import make_request, make_settings, openai_env, provider_settings, router_for
from tests.slack_kit import CHANNEL, GITLAB, sample_report


async def until(predicate, what: str, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.02)):
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def ledger_rows(db) -> list[ProviderCallRecord]:
    async with db.session() as s:
        return list((await s.execute(sa.select(ProviderCallRecord).order_by(ProviderCallRecord.id))).scalars())


# --- the ledger -----------------------------------------------------------------------------


async def test_a_model_call_is_in_the_ledger_before_it_is_sent_and_completed_after(database, fake_openai):
    settings = provider_settings(**openai_env(fake_openai))
    ledger = DatabaseLedger(database)
    fake_openai.script(held())
    router = router_for(settings, ledger)
    analysis = asyncio.create_task(router.analyze(make_request()))
    await until(lambda: fake_openai.holding == 1, "the call to reach the model")

    (row,) = await ledger_rows(database)
    assert row.outcome == "sent" and row.provider == "openai" and row.pipeline_id == 77
    assert row.tokens_in > 0 and row.tokens_out == settings.ai_max_output_tokens and row.cost_usd > 0
    # Budgets count the call in flight at its upper estimate.
    assert await ledger.spent_today("openai", None) == (row.tokens_in + row.tokens_out, pytest.approx(row.cost_usd))

    fake_openai.release()
    result = await asyncio.wait_for(analysis, 30)
    (done,) = await ledger_rows(database)
    assert done.id == row.id and done.outcome == "ok" and done.created_at == row.created_at
    assert (done.tokens_in, done.tokens_out) == (result.tokens_in, result.tokens_out)
    assert done.cost_usd == pytest.approx(result.cost_usd, abs=1e-6)
    await router.aclose()


async def test_a_call_cut_off_mid_flight_still_counts_and_a_budget_sees_it(database, fake_openai):
    ledger = DatabaseLedger(database)
    fake_openai.script(held())
    settings = provider_settings(**openai_env(fake_openai))
    router = router_for(settings, ledger)
    cut = asyncio.create_task(router.analyze(make_request()))
    await until(lambda: fake_openai.holding == 1, "the call to reach the model")
    cut.cancel()  # what a SIGKILL leaves behind, as far as the ledger can tell
    await asyncio.gather(cut, return_exceptions=True)
    (row,) = await ledger_rows(database)
    assert row.outcome == "sent" and row.tokens_in + row.tokens_out > 0

    # With a daily budget smaller than that estimate, the next analysis does not call the model again.
    budget = provider_settings(**openai_env(fake_openai), AI_DAILY_TOKEN_BUDGET=row.tokens_in + row.tokens_out)
    second = router_for(budget, ledger)
    result = await second.analyze(make_request())
    assert result.provider == "heuristic" and fake_openai.calls == 1
    assert [r.outcome for r in await ledger_rows(database)] == ["sent", "over_budget", "ok"]
    fake_openai.release()
    await router.aclose()
    await second.aclose()


async def test_no_model_call_goes_out_when_the_ledger_cannot_record_it(fake_openai):
    class Broken:
        async def begin(self, call):
            raise ConnectionError("database away")

        async def spent_today(self, provider, project_path):
            return 0, 0.0

    router = router_for(provider_settings(**openai_env(fake_openai)), Broken())
    with pytest.raises(RetryLater):
        await router.analyze(make_request())
    assert fake_openai.calls == 0
    await router.aclose()


# --- Slack parents across a crash -----------------------------------------------------------------


def publisher(db, slack: FakeSlack):
    settings = make_settings(
        SLACK_BOT_TOKEN=slack.token,
        SLACK_SIGNING_SECRET="x" * 32,
        SLACK_API_URL=slack.url,
        SLACK_CHANNEL_MAP=f"group/*={CHANNEL}",
        GITLAB_BASE_URL=GITLAB,
    )
    services = Services.build(settings, db=db)
    services.use_gitlab(InProcessGitLab.with_project())
    return services.use_slack()


async def delivery(db, key: str) -> Delivery | None:
    async with db.session() as s:
        return (await s.execute(sa.select(Delivery).where(Delivery.delivery_key == key))).scalar_one_or_none()


async def crash_while_slack_answers(db, slack: FakeSlack) -> None:
    """Post a parent and die after Slack took it but before its answer arrived: nothing about it is recorded."""
    slack.hold_after("chat.postMessage")
    attempt = asyncio.create_task(publisher(db, slack).start(sample_report(with_result=False)))
    await until(lambda: slack.holding == 1, "Slack to accept the parent")
    attempt.cancel()
    await asyncio.gather(attempt, return_exceptions=True)
    slack.release()


async def test_a_parent_slack_took_before_a_crash_is_adopted_not_posted_again(database):
    async with FakeSlack() as slack:
        await crash_while_slack_answers(database, slack)
        report = sample_report()
        key = parent_key(CHANNEL, report)
        intent = await delivery(database, key)
        assert intent.state == "posting" and intent.ts is None, "the intent was recorded before the post"
        (orphan,) = slack.top_level(CHANNEL)
        assert orphan.metadata == {
            "event_type": EVENT_TYPE,
            "event_payload": {"key": key, "project_id": 7, "pipeline_id": 42},
        }

        await publisher(database, slack).finish(report)  # the job, run again by another worker
        (parent,) = slack.top_level(CHANNEL)
        assert parent.ts == orphan.ts and parent.text.startswith("❌ Pipeline #42 failed"), (
            "adopted and brought up to date"
        )
        assert len(slack.thread(CHANNEL, parent.ts)) == 1
        assert slack.count("chat.postMessage") == 2  # the parent once, its thread once
        history = slack.calls_of("conversations.history")
        assert len(history) == 1 and history[0].args["include_all_metadata"] in (True, "true", "1")
        recorded = await delivery(database, key)
        assert (recorded.state, recorded.ts) == ("posted", orphan.ts)


async def test_an_intent_slack_never_saw_is_posted_once(database):
    async with FakeSlack() as slack:
        # Slack failed; a tagged post is not repeated in the call (a 5xx may hide a posted message): the job is.
        slack.fault("chat.postMessage", status=503)
        with pytest.raises(SlackApiError):
            await publisher(database, slack).start(sample_report(with_result=False))
        assert slack.top_level(CHANNEL) == []
        await publisher(database, slack).finish(sample_report())
        assert len(slack.top_level(CHANNEL)) == 1 and slack.count("conversations.history") == 1


async def test_a_message_of_another_app_with_our_metadata_is_not_adopted(database):
    async with FakeSlack() as slack:
        await crash_while_slack_answers(database, slack)
        (orphan,) = slack.top_level(CHANNEL)
        orphan.bot_id = "B0SOMEONE9"  # another app copied our tag: we could not edit its message
        await publisher(database, slack).finish(sample_report())
        assert len(slack.top_level(CHANNEL)) == 2


async def test_without_history_access_a_second_parent_beats_none(database):
    async with FakeSlack() as slack:
        await crash_while_slack_answers(database, slack)
        slack.fault("conversations.history", error="missing_scope")
        await publisher(database, slack).finish(sample_report())
        assert len(slack.top_level(CHANNEL)) == 2


async def test_a_history_that_is_only_rate_limited_is_asked_again_later_not_given_up(database):
    async with FakeSlack() as slack:
        await crash_while_slack_answers(database, slack)
        slack.fault("conversations.history", status=429, retry_after=0, times=4)  # past the client's own retries
        with pytest.raises(SlackApiError):
            await publisher(database, slack).finish(sample_report())
        assert len(slack.top_level(CHANNEL)) == 1, "not posted again while the history could not be read"
        await publisher(database, slack).finish(sample_report())  # the job's next attempt
        assert len(slack.top_level(CHANNEL)) == 1 and len(slack.thread(CHANNEL, slack.top_level(CHANNEL)[0].ts)) == 1


# --- leases ------------------------------------------------------------------------------------


async def job_row(db, job_id: int) -> QueueJob:
    async with db.session() as s:
        return await s.get(QueueJob, job_id)


async def test_a_running_job_keeps_its_short_lease_and_a_dead_workers_job_is_taken_over(database):
    services = Services.build(make_settings(), db=database)
    services.queue = Queue(database, lease_seconds=3)  # shorter than settings allow, to keep the test short
    async with database.session() as s:
        long_id = await enqueue(s, "long", {})
    finish = asyncio.Event()
    ran: list[str] = []

    async def long(_, job):
        ran.append(job.lease_owner)
        await finish.wait()

    worker = Worker(services, {"long": long}, concurrency=1, poll_seconds=0.05, worker_id="alive")
    task = asyncio.create_task(worker.run())
    await until(lambda: bool(ran), "the job to start")
    first = (await job_row(database, long_id)).lease_expires_at
    rival = Queue(database, lease_seconds=3)
    # Past its first lease the job is still this worker's: the lease was renewed, nobody else may claim it.
    await until(lambda: _later(database, long_id, first, seconds=3), "the lease to be renewed past its first term")
    assert await rival.claim("rival") is None
    finish.set()
    await until(lambda: _state(database, long_id, "done"), "the job to finish")
    worker.stop()
    await task

    # A worker that died mid-job renews nothing: its job is claimed again once the short lease runs out.
    async with database.session() as s:
        orphan_id = await enqueue(s, "orphan", {})
    dead = await Queue(database, lease_seconds=1).claim("dead-worker")
    assert dead.id == orphan_id
    taken: list[int] = []

    async def orphan(_, job):
        taken.append(job.attempts)

    worker = Worker(services, {"orphan": orphan}, concurrency=1, poll_seconds=0.05, worker_id="next")
    task = asyncio.create_task(worker.run())
    await until(lambda: _state(database, orphan_id, "done"), "the dead worker's job to be done")
    worker.stop()
    await task
    assert taken == [2]


async def _later(db, job_id: int, than, *, seconds: int) -> bool:
    row = await job_row(db, job_id)
    return row.lease_expires_at is not None and (row.lease_expires_at - than).total_seconds() >= seconds


async def _state(db, job_id: int, state: str) -> bool:
    return (await job_row(db, job_id)).state == state
