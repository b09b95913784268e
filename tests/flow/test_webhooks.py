"""GitLab webhook intake through a real aiohttp server: auth, dedupe, bad input."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time

import sqlalchemy as sa

from bot.core.webhook_auth import sign
from storage.models import QueueJob, ReceivedEvent
from tests.helpers import gitlab_payload, running_app
from tests.secrets_kit import GENERATORS, encoded, survivors

SECRET = "s3cret-for-tests"


async def rows(db, model):
    async with db.session() as s:
        return (await s.execute(sa.select(model).order_by(model.id))).scalars().all()


def hook_headers(event="Pipeline Hook", token=SECRET, key=None, **extra):
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": event}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    if key:
        headers["Idempotency-Key"] = key
    headers.update(extra)
    return headers


async def post(client, url, payload, headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with client.post(url + "/webhooks/gitlab", data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_failed_pipeline_is_recorded_and_enqueued_once(database):
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        status, body = await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(key="k-1"))
        assert (status, body) == (200, "")
    events = await rows(database, ReceivedEvent)
    jobs = await rows(database, QueueJob)
    assert [(e.event_type, e.outcome, e.project_id) for e in events] == [("Pipeline Hook", "enqueued", 42)]
    payload = gitlab_payload("pipeline_hook")
    assert [(j.kind, j.payload["pipeline_id"]) for j in jobs] == [
        ("analyze_pipeline", payload["object_attributes"]["id"])
    ]


async def test_wrong_and_missing_token_are_refused_and_nothing_is_stored(database):
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert (await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(token="nope")))[0] == 401
        status, text = await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(token=None))
        assert status == 401 and "X-Gitlab-Token" in text
        async with client.get(url + "/health") as resp:
            assert resp.status == 200
    assert await rows(database, ReceivedEvent) == [] and await rows(database, QueueJob) == []


async def test_no_secret_configured_fails_closed_unless_explicitly_allowed(database):
    async with running_app(database) as (_, client, url):
        status, text = await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(token=None))
        assert status == 503 and "GITLAB_WEBHOOK_SECRET" in text
        async with client.get(url + "/health/detailed") as resp:
            detail = await resp.json()
        assert "GITLAB_WEBHOOK_SECRET" in detail["gitlab"]["webhook"]["help"]
    assert await rows(database, ReceivedEvent) == []
    async with running_app(database, GITLAB_WEBHOOK_ALLOW_UNSIGNED="true") as (_, client, url):
        assert (await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(token=None)))[0] == 200
    assert len(await rows(database, QueueJob)) == 1


async def test_signing_token_accepts_valid_and_refuses_tampered_and_stale(database):
    token = "whsec_" + "dGVzdC1zaWduaW5nLWtleS0xMjM0NTY3ODkw"
    body = json.dumps(gitlab_payload("pipeline_hook")).encode()

    def signed(ts, webhook_id="msg-1", data=body):
        return hook_headers(
            token=None,
            **{
                "webhook-id": webhook_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(token, webhook_id, str(ts), data),
                "Idempotency-Key": webhook_id,
            },
        )

    async with running_app(database, GITLAB_WEBHOOK_SIGNING_TOKEN=token) as (_, client, url):
        now = int(time.time())
        assert (await post(client, url, body, signed(now)))[0] == 200
        tampered = body.replace(b'"failed"', b'"success"', 1)
        assert (await post(client, url, tampered, signed(now, "msg-2")))[0] == 401
        status, text = await post(client, url, body, signed(now - 600, "msg-3"))
        assert status == 401 and "window" in text
        # A replay inside the window carries the same webhook-id, so it is a duplicate delivery.
        assert (await post(client, url, body, signed(now)))[0] == 200
        assert (await post(client, url, body, hook_headers(token=None)))[0] == 401
    events = await rows(database, ReceivedEvent)
    assert len(events) == 1 and len(await rows(database, QueueJob)) == 1


async def test_same_delivery_five_times_concurrently_gives_one_event_and_one_job(database):
    payload = gitlab_payload("pipeline_hook")
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        results = await asyncio.gather(*(post(client, url, payload, hook_headers(key="same-key")) for _ in range(5)))
        assert [r[0] for r in results] == [200] * 5
    assert len(await rows(database, ReceivedEvent)) == 1
    assert len(await rows(database, QueueJob)) == 1


async def test_group_and_project_hook_and_job_hooks_give_one_analysis(database):
    pipeline = gitlab_payload("pipeline_hook")
    job = gitlab_payload("job_hook")
    job["pipeline_id"] = pipeline["object_attributes"]["id"]
    job["project_id"] = pipeline["project"]["id"]
    job["build_status"] = "failed"
    job["build_allow_failure"] = False
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        await post(client, url, job, hook_headers("Job Hook", key="job-1"))
        jobs = await rows(database, QueueJob)
        assert len(jobs) == 1 and jobs[0].run_after.timestamp() > time.time() + 60, "a job hook waits for its pipeline"
        await asyncio.gather(
            post(client, url, pipeline, hook_headers(key="group-hook-1")),
            post(client, url, pipeline, hook_headers(key="project-hook-1")),
        )
    events = await rows(database, ReceivedEvent)
    jobs = await rows(database, QueueJob)
    assert len(events) == 3
    assert sorted(e.outcome for e in events) == ["duplicate_event", "duplicate_event", "enqueued"]
    assert len(jobs) == 1 and jobs[0].run_after.timestamp() <= time.time() + 1, "the pipeline hook makes it due now"


async def test_passing_pipeline_enqueues_a_fixed_check_and_running_is_ignored(database):
    passed = gitlab_payload("pipeline_hook")
    passed["object_attributes"]["status"] = "success"
    running = copy.deepcopy(passed)
    running["object_attributes"]["status"] = "running"
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert (await post(client, url, passed, hook_headers(key="p1")))[0] == 200
        assert (await post(client, url, running, hook_headers(key="p2")))[0] == 200
    assert [j.kind for j in await rows(database, QueueJob)] == ["pipeline_passed"]
    assert len(await rows(database, ReceivedEvent)) == 1


async def test_note_hook_mentioning_the_bot_is_enqueued_and_its_own_notes_are_not(database):
    note = gitlab_payload("note_hook")
    own = copy.deepcopy(note)
    own["user"]["username"] = "cicd-bot"
    own["object_attributes"]["id"] += 1
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, GITLAB_BOT_USERNAME="cicd-bot") as (_, client, url):
        assert (await post(client, url, note, hook_headers("Note Hook", key="n1")))[0] == 200
        assert (await post(client, url, own, hook_headers("Note Hook", key="n2")))[0] == 200
    jobs = await rows(database, QueueJob)
    assert [(j.kind, j.payload["username"]) for j in jobs] == [("mr_note", "alice")]


async def test_merge_request_hook_is_recorded_without_a_job(database):
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert (
            await post(client, url, gitlab_payload("merge_request_hook"), hook_headers("Merge Request Hook", key="m1"))
        )[0] == 200
    assert [e.event_type for e in await rows(database, ReceivedEvent)] == ["Merge Request Hook"]
    assert await rows(database, QueueJob) == []


async def test_bad_input_is_refused_clearly_and_the_server_keeps_serving(database):
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, GITLAB_WEBHOOK_MAX_BODY_BYTES=16384) as (
        _,
        client,
        url,
    ):
        cases = [
            (b"x" * 20000, hook_headers(), 413, "larger"),
            (b"{not json", hook_headers(), 400, "not JSON"),
            (b'{"a": "\xff\xfe"}', hook_headers(), 400, "UTF-8"),
            (b"[" * 1500 + b"]" * 1500, hook_headers(), 400, "nested"),
            (b'{"a":' * 100 + b"1" + b"}" * 100, hook_headers(), 400, "nested"),
            (b"[1, 2]", hook_headers(), 400, "not an object"),
            (json.dumps(gitlab_payload("pipeline_hook")).encode(), {"X-Gitlab-Token": SECRET}, 400, "X-Gitlab-Event"),
        ]
        for body, headers, status, text in cases:
            got_status, got_text = await post(client, url, body, headers)
            assert got_status == status and text in got_text, (got_status, got_text)
        status, text = await post(client, url, {"object_kind": "wiki_page"}, hook_headers("Wiki Page Hook", key="w"))
        assert (status, text) == (200, "")
        async with client.get(url + "/health") as resp:
            assert resp.status == 200
        async with client.get(url + "/metrics") as resp:
            metrics = await resp.text()
        assert 'cicdbot_deliveries_total{result="rejected_malformed",source="gitlab_webhook"} 5.0' in metrics
        assert 'cicdbot_deliveries_total{result="rejected_too_large",source="gitlab_webhook"} 1.0' in metrics
    assert await rows(database, ReceivedEvent) == [] and await rows(database, QueueJob) == []


async def test_stored_deliveries_keep_no_ci_variables_and_redacted_notes(database):
    pipe = gitlab_payload("pipeline_hook")
    token = "glpat-" + "Z" * 20
    pipe["object_attributes"]["variables"] = [{"key": "DEPLOY_TOKEN", "value": token}]
    note = gitlab_payload("note_hook")
    note["object_attributes"]["note"] = f"@cicd-bot why? I used {token}"
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, GITLAB_BOT_USERNAME="cicd-bot") as (_, client, url):
        assert (await post(client, url, pipe, hook_headers(key="v1")))[0] == 200
        assert (await post(client, url, note, hook_headers("Note Hook", key="v2")))[0] == 200
    events = await rows(database, ReceivedEvent)
    jobs = await rows(database, QueueJob)
    stored = json.dumps([e.payload for e in events] + [j.payload for j in jobs])
    assert token not in stored and "DEPLOY_TOKEN" not in stored
    assert "[REDACTED:gitlab-token]" in jobs[1].payload["note"]


async def test_stored_deliveries_keep_no_secret_in_any_free_text_field(database):
    _, aws = GENERATORS["aws"]()
    _, token = GENERATORS["token"]()
    pipe = gitlab_payload("pipeline_hook")
    pipe["object_attributes"]["ref"] = f"rotate-{token}"
    pipe["commit"]["message"] = f"ci: rotate\n\nAWS_SECRET_ACCESS_KEY={aws}\nexport DEPLOY_TOKEN={token}\n"
    pipe["commit"]["title"] = f"ci: rotate (key {encoded(aws)['base64']})"
    pipe["merge_request"]["title"] = f"Rotate (password: {token})"
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert (await post(client, url, pipe, hook_headers(key="f1")))[0] == 200
    (event,) = await rows(database, ReceivedEvent)
    assert survivors(json.dumps(event.payload), [aws, token]) == []
    kept = event.payload
    assert re.fullmatch(r"rotate-\[REDACTED:[a-z-]+\]", kept["object_attributes"]["ref"])
    assert kept["commit"]["id"] == pipe["commit"]["id"] and kept["commit"]["url"] == pipe["commit"]["url"]
    assert kept["object_attributes"]["id"] == pipe["object_attributes"]["id"] and kept["builds"] == pipe["builds"]


async def test_webhooks_are_off_in_email_mode(database, tmp_path):
    async with running_app(
        database,
        GITLAB_WEBHOOK_SECRET=SECRET,
        TRIGGER_MODE="email",
        IMAP_SERVER="127.0.0.1",
        IMAP_USER="u",
        IMAP_APP_PASSWORD="p",
    ) as (_, client, url):
        status, text = await post(client, url, gitlab_payload("pipeline_hook"), hook_headers(key="e1"))
    assert status == 404 and "TRIGGER_MODE=email" in text
    assert await rows(database, QueueJob) == []
