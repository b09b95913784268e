"""The failure email that arrives after the webhook's analysis finished: no second analysis of the same failure."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bot.core.types import Excerpt
from handlers.email import poll_once
from storage import history
from storage.models import ProcessedEmail, QueueJob
from tests.flow.test_email_poll import SECRET, eml, rows
from tests.helpers import gitlab_payload, running_app
from tests.scenario import result

HOOK_HEADERS = {"Content-Type": "application/json", "X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": SECRET}


async def webhook_analysed(services, client, url, job_ids: list[int], answered=True, state="done") -> None:
    """The Pipeline Hook of pipeline 9001 arrives and its analysis runs (here: its traces in the store): each job's
    log read and, when answered, its answer saved; the queue job ends in `state`."""
    async with client.post(
        url + "/webhooks/gitlab", data=json.dumps(gitlab_payload("pipeline_hook")), headers=HOOK_HEADERS
    ) as resp:
        assert resp.status == 200
    for job_id in job_ids:
        await history.record_failed_job(
            services.db,
            project_id=42,
            pipeline_id=9001,
            ci_job={"id": job_id},
            ref="",
            excerpt=Excerpt(lines=[]),
            signature="",
        )
        if answered:
            await history.save_analysis(
                services.db,
                project_id=42,
                project_path="acme/api",
                pipeline_id=9001,
                job_id=job_id,
                signature="",
                trigger="webhook",
                result=result(),
            )
    async with services.db.session() as s:
        await s.execute(sa.update(QueueJob).values(state=state))
        await s.commit()


async def test_an_email_for_a_failure_the_webhook_already_analysed_queues_nothing(sqlite_db, imap):
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET, TRIGGER_MODE="both", **imap.settings()) as (
        services,
        client,
        url,
    ):
        await webhook_analysed(services, client, url, [70005, 70004])
        imap.append(eml("failed_mr"))  # the same pipeline 9001 of project 42
        result = await poll_once(services)
    assert (result.enqueued, result.duplicate) == (0, 1)
    assert [j.payload["trigger"] for j in await rows(sqlite_db, QueueJob)] == ["webhook"]
    processed = (await rows(sqlite_db, ProcessedEmail))[0]
    assert processed.status == "duplicate" and "analysed" in processed.reason


async def test_an_email_naming_a_failed_job_not_seen_yet_is_analysed(sqlite_db, imap):
    """A retried job failing again fails the pipeline again: that email is a new failure."""
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET, TRIGGER_MODE="both", **imap.settings()) as (
        services,
        client,
        url,
    ):
        await webhook_analysed(services, client, url, [70005])
        imap.append(eml("failed_mr"))
        result = await poll_once(services)
    assert result.enqueued == 1
    assert [j.payload["trigger"] for j in await rows(sqlite_db, QueueJob)] == ["webhook", "email"]


@pytest.mark.parametrize(
    ("answered", "state"),
    [(False, "done"), (True, "dead")],
    ids=["logs read, no answer saved", "analysis given up"],
)
async def test_an_email_for_a_failure_whose_webhook_analysis_did_not_finish_is_analysed(
    sqlite_db, imap, answered, state
):
    """found by review: the logs were read, then the analysis died before its answer was saved or posted."""
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET, TRIGGER_MODE="both", **imap.settings()) as (
        services,
        client,
        url,
    ):
        await webhook_analysed(services, client, url, [70005, 70004], answered=answered, state=state)
        imap.append(eml("failed_mr"))
        result_ = await poll_once(services)
    assert result_.enqueued == 1
    assert [j.payload["trigger"] for j in await rows(sqlite_db, QueueJob)] == ["webhook", "email"]
