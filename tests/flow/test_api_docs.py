"""/openapi.json and /docs, POST /webhooks/gitlab/test and GET /webhooks/gitlab/info, through the real app."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from aiohttp import web
from openapi_spec_validator import validate

from bot.core.webhook_auth import sign
from handlers import api_operations, openapi
from handlers.webhook_tools import WOULD_KEEP, WOULD_QUEUE
from storage.models import QueueJob, ReceivedEvent
from tests.helpers import gitlab_payload, running_app
from tests.slack_kit import slack_harness

SECRET = "s3cret-for-tests"
TOKEN = "api-token-for-tests"
SIGNING = "whsec_" + "dGVzdC1zaWduaW5nLWtleS0xMjM0NTY3ODkw"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def counts(db) -> tuple[int, int]:
    async with db.session() as s:
        events = (await s.execute(sa.select(sa.func.count()).select_from(ReceivedEvent))).scalar_one()
        jobs = (await s.execute(sa.select(sa.func.count()).select_from(QueueJob))).scalar_one()
    return events, jobs


async def test_the_document_is_valid_openapi_3_1_and_describes_every_route(sqlite_db):
    async with slack_harness(sqlite_db, worker=False, CICD_BOT_API_TOKEN=TOKEN) as h:
        async with h.client.get(h.url + "/openapi.json") as resp:
            assert resp.status == 200
            spec = await resp.json()
    validate(spec)  # openapi-spec-validator, for the 3.1 schema
    assert spec["openapi"] == "3.1.0"
    served = {(m.upper(), path) for path, item in spec["paths"].items() for m in item}
    assert served == set(api_operations.OPERATIONS)  # with Slack on, every described route is served
    # Auth in the document is the auth the code enforces (read from the handlers' marks).
    assert spec["paths"]["/analysis"]["get"]["security"] == [{"bearerToken": []}]
    assert {"sessionCookie": []} in spec["paths"]["/dashboard"]["get"]["security"]
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert spec["paths"]["/webhooks/gitlab/test"]["post"]["security"] == [{"gitlabToken": []}, {"gitlabSignature": []}]
    # Schemas come from the pydantic models the handlers answer with.
    assert "WebhookTestResult" in spec["components"]["schemas"] and "Dashboard" in spec["components"]["schemas"]
    per_page = next(p for p in spec["paths"]["/analysis"]["get"]["parameters"] if p["name"] == "per_page")
    assert per_page["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}


def test_a_route_without_a_description_stops_the_build():
    app = web.Application()

    async def nothing(request):
        return web.Response()

    app.router.add_get("/undocumented", nothing)
    with pytest.raises(openapi.UndocumentedRoute, match="/undocumented"):
        openapi.build_spec(app)


async def test_docs_page_renders_the_document_without_scripts(sqlite_db):
    async with running_app(sqlite_db) as (_, client, url):
        async with client.get(url + "/docs") as resp:
            assert resp.status == 200
            html = await resp.text()
            csp = resp.headers["Content-Security-Policy"]
        async with client.get(url + "/static/cicd-bot.css") as resp:
            assert resp.status == 200 and resp.content_type == "text/css"
        async with client.get(url + "/static/other.css") as resp:
            assert resp.status == 404
    assert "default-src 'none'" in csp and "<script" not in html.lower()
    assert "/webhooks/gitlab/test" in html and 'id="schema-WebhookTestResult"' in html
    assert 'href="#schema-AnalysisOut"' in html  # $refs become links


async def post_test(client, url, payload, headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with client.post(url + "/webhooks/gitlab/test", data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def hook(event="Pipeline Hook", token=SECRET, **extra):
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": event, **extra}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return headers


async def test_dry_run_says_what_would_be_queued_and_queues_nothing(database):
    payload = gitlab_payload("pipeline_hook")
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        status, answer = await post_test(client, url, payload, hook(**{"Idempotency-Key": "k-1"}))
        assert status == 200
        assert answer["decision"] == "record" and answer["reason"] == WOULD_QUEUE.format(n=1)
        assert answer["delivery_key"] == "gitlab:idem:k-1" and answer["already_recorded"] is False
        [job] = answer["jobs"]
        pipeline = payload["object_attributes"]["id"]
        assert job["kind"] == "analyze_pipeline"
        assert job["dedupe_key"] == f"pipeline:42:{pipeline}:failed" and job["already_queued"] is False
        assert await counts(database) == (0, 0)
        # The real delivery, then the dry run again: now it would be a duplicate of both.
        async with client.post(url + "/webhooks/gitlab", json=payload, headers=hook(**{"Idempotency-Key": "k-1"})) as r:
            assert r.status == 200
        _, again = await post_test(client, url, payload, hook(**{"Idempotency-Key": "k-1"}))
        assert again["already_recorded"] is True and again["jobs"][0]["already_queued"] is True
        assert await counts(database) == (1, 1)


async def test_dry_run_explains_ignored_and_history_only_deliveries(database):
    running = gitlab_payload("pipeline_hook")
    running["object_attributes"]["status"] = "running"
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        _, answer = await post_test(client, url, running, hook())
        assert (answer["decision"], answer["reason"], answer["jobs"]) == ("ignore", "pipeline running", [])
        _, answer = await post_test(client, url, {"object_kind": "push"}, hook(event="Push Hook"))
        assert (answer["decision"], answer["reason"]) == ("ignore", "event not handled")
        _, answer = await post_test(client, url, gitlab_payload("merge_request_hook"), hook("Merge Request Hook"))
        assert (answer["decision"], answer["reason"], answer["jobs"]) == ("record", WOULD_KEEP, [])
    assert await counts(database) == (0, 0)


async def test_dry_run_is_authenticated_exactly_like_the_webhook(sqlite_db):
    body = json.dumps(gitlab_payload("pipeline_hook")).encode()
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert (await post_test(client, url, body, hook(token="nope")))[0] == 401
        status, answer = await post_test(client, url, body, hook(token=None))
        assert status == 401 and answer == {"error": "missing X-Gitlab-Token"}
        assert (await post_test(client, url, b"[1]", hook()))[0] == 400
        assert (await post_test(client, url, body, {"X-Gitlab-Token": SECRET}))[1] == {
            "error": "missing X-Gitlab-Event header"
        }
    async with running_app(sqlite_db) as (_, client, url):  # no secret: fail closed, as the webhook does
        status, answer = await post_test(client, url, body, hook(token=None))
        assert status == 503 and "GITLAB_WEBHOOK_SECRET" in answer["error"]
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SIGNING_TOKEN=SIGNING) as (_, client, url):
        ts = str(int(time.time()))
        signed = hook(
            token=None,
            **{"webhook-id": "m-1", "webhook-timestamp": ts, "webhook-signature": sign(SIGNING, "m-1", ts, body)},
        )
        assert (await post_test(client, url, body, signed))[0] == 200
        assert (await post_test(client, url, body + b" ", signed))[0] == 401  # tampered
    async with running_app(
        sqlite_db,
        GITLAB_WEBHOOK_SECRET=SECRET,
        TRIGGER_MODE="email",
        IMAP_SERVER="127.0.0.1",
        IMAP_USER="u",
        IMAP_APP_PASSWORD="p",
    ) as (_, client, url):
        assert (await post_test(client, url, body, hook()))[0] == 404


async def test_info_lists_the_events_and_says_whether_secrets_are_set_never_what_they_are(sqlite_db):
    async with running_app(
        sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET, CICD_BOT_API_TOKEN=TOKEN, GITLAB_BOT_USERNAME="cicd-bot"
    ) as (_, client, url):
        async with client.get(url + "/webhooks/gitlab/info") as resp:
            assert resp.status == 401
        async with client.get(url + "/webhooks/gitlab/info", headers=BEARER) as resp:
            text = await resp.text()
            info = json.loads(text)
    assert SECRET not in text
    assert [(e["header"], e["hook_setting"]) for e in info["events"]] == [
        ("Pipeline Hook", "pipeline_events"),
        ("Job Hook", "job_events"),
        ("Merge Request Hook", "merge_requests_events"),
        ("Note Hook", "note_events"),
    ]
    assert all(e["does"] for e in info["events"])
    assert info["secret_token_set"] is True and info["signing_token_set"] is False
    assert info["accepts_deliveries"] is True and info["bot_username"] == "cicd-bot"
