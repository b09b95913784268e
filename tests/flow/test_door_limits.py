"""The doors' reading limits through a real server: authenticated from the headers before a body is read, bodies
read within a deadline and a bound on how many at once, Slack's signature on the raw bytes, no body in the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.core.webhook_auth import sign as gitlab_sign
from bot.runtime.services import Services
from handlers.appkeys import GITLAB_BODIES, SLACK_BODIES
from storage.models import QueueJob, ReceivedEvent
from tests.fakes.slack_server import FakeSlack
from tests.fault_kit import deep, huge_ids, raw_request, slack_signed, slack_unsigned
from tests.helpers import gitlab_payload, make_settings
from tests.slack_kit import signing_secret

pytestmark = pytest.mark.fault

SECRET = "s3cret-for-tests"
SIGNING = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
MARKER = "BODY-CONTENT-MUST-NOT-BE-LOGGED"


@asynccontextmanager
async def door(db, **overrides):
    """The real application with both doors on loopback; yields (app, base url, client)."""
    from app import create_app

    async with FakeSlack() as slack:
        settings = make_settings(
            **{
                "GITLAB_WEBHOOK_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_SIGNING_SECRET": signing_secret(),
                "SLACK_API_URL": slack.url,
                **overrides,
            }
        )
        services = Services.build(settings, db=db)
        await services.start()
        services.use_slack()
        app = create_app(services)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:
                yield app, str(server.make_url("")).rstrip("/"), client
        finally:
            await server.close()
            await services.http.close()


async def stored(db) -> tuple[list, list]:
    import sqlalchemy as sa

    async with db.session() as s:
        return (
            list((await s.execute(sa.select(ReceivedEvent))).scalars()),
            list((await s.execute(sa.select(QueueJob))).scalars()),
        )


def gitlab_headers(**extra) -> dict[str, str]:
    return {"X-Gitlab-Event": "Pipeline Hook", "Content-Type": "application/json", **extra}


def verbose(caplog) -> None:
    """Logs as LOG_LEVEL=INFO keeps them, and the doors' and Bolt's own at DEBUG."""
    caplog.set_level(logging.INFO)
    for name in ("handlers", "cicd_bot", "slack_bolt"):
        caplog.set_level(logging.DEBUG, logger=name)


async def wait_reading(reader, n: int) -> None:
    for _ in range(600):
        if reader.reading == n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{reader.reading} bodies being read, expected {n}")


async def test_unauthenticated_requests_are_refused_before_their_body_arrives(sqlite_db):
    """Each request declares 4 MB and sends 10 bytes: an answer can only come from the headers."""
    async with door(sqlite_db) as (app, url, _):
        now = str(int(time.time()))
        cases = [
            ("/webhooks/gitlab", gitlab_headers(**{"X-Gitlab-Token": "wrong"})),
            ("/webhooks/gitlab", gitlab_headers()),
            ("/slack/events", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}),
            (
                "/slack/events",
                {"X-Slack-Request-Timestamp": str(int(time.time()) - 3600), "X-Slack-Signature": "v0=" + "0" * 64},
            ),
            ("/slack/events", {"X-Slack-Request-Timestamp": now}),
        ]
        conns = [await raw_request(url, path, headers, 4 * 1024 * 1024, b'{"a": "b"}') for path, headers in cases]
        try:
            assert [await c.status() for c in conns] == [401] * len(cases)
        finally:
            for c in conns:
                c.close()
        assert app[GITLAB_BODIES].reading == 0 and app[SLACK_BODIES].reading == 0
    assert await stored(sqlite_db) == ([], [])


async def test_with_only_a_signing_token_a_bad_signature_is_refused_after_the_body_and_never_logged(sqlite_db, caplog):
    body = json.dumps({**gitlab_payload("pipeline_hook"), "note": MARKER}).encode()
    ts = str(int(time.time()))
    async with door(sqlite_db, GITLAB_WEBHOOK_SECRET="", GITLAB_WEBHOOK_SIGNING_TOKEN=SIGNING) as (_, url, client):
        good = {"webhook-id": "m1", "webhook-timestamp": ts, "webhook-signature": gitlab_sign(SIGNING, "m1", ts, body)}
        cases = [
            ({**good, "webhook-signature": gitlab_sign(SIGNING, "m1", ts, body + b" ")}, 401),
            ({**good, "webhook-timestamp": "1e3"}, 401),
            ({**good, "webhook-timestamp": "9" * 5000}, 401),
            (good, 200),
        ]
        verbose(caplog)
        for headers, status in cases:
            async with client.post(url + "/webhooks/gitlab", data=body, headers=gitlab_headers(**headers)) as resp:
                assert resp.status == status, (headers, await resp.text())
    assert "refused a GitLab delivery: bad_signature" in caplog.text
    assert MARKER not in caplog.text
    events, _ = await stored(sqlite_db)
    assert len(events) == 1


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_door_keeps_serving(sqlite_db):
    async with door(sqlite_db, HTTP_BODY_TIMEOUT_SECONDS=0.5) as (_, url, client):
        gitlab = await raw_request(url, "/webhooks/gitlab", gitlab_headers(**{"X-Gitlab-Token": SECRET}), 1000, b"{")
        slack = await raw_request(url, "/slack/events", slack_unsigned(b""), 1000, b"{")
        try:
            assert [await gitlab.status(), await slack.status()] == [408, 408]
        finally:
            gitlab.close()
            slack.close()
        async with client.post(
            url + "/webhooks/gitlab",
            json=gitlab_payload("pipeline_hook"),
            headers=gitlab_headers(**{"X-Gitlab-Token": SECRET}),
        ) as resp:
            assert resp.status == 200


async def test_a_slow_or_large_body_to_the_dashboard_login_is_cut_off_too(sqlite_db):
    async with door(sqlite_db, HTTP_BODY_TIMEOUT_SECONDS=0.5, CICD_BOT_API_TOKEN="t" * 32) as (_, url, client):
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        slow = await raw_request(url, "/dashboard/login", form, 1000, b"token=")
        try:
            assert await slow.status() == 408
        finally:
            slow.close()
        async with client.post(url + "/dashboard/login", data=b"token=" + b"x" * 100_000, headers=form) as resp:
            assert resp.status == 413
        async with client.post(url + "/dashboard/login", data={"token": "t" * 32}, allow_redirects=False) as resp:
            assert resp.status in (302, 303), "a real login still reads its form"


async def test_bodies_beyond_the_read_bound_wait_then_get_503_and_health_still_answers(sqlite_db):
    async with door(sqlite_db, HTTP_MAX_BODY_READS=2, HTTP_BODY_TIMEOUT_SECONDS=60) as (app, url, client):
        authentic = gitlab_headers(**{"X-Gitlab-Token": SECRET})
        held = [await raw_request(url, "/webhooks/gitlab", authentic, 1000, b"{") for _ in range(2)]
        await wait_reading(app[GITLAB_BODIES], 2)
        try:
            # A third body still on its way waits for a read slot, then is told to come back.
            third = await raw_request(url, "/webhooks/gitlab", authentic, 1000, b"{")
            assert await third.status() == 503
            third.close()
            # A delivery whose body has arrived whole needs no read slot: slow senders cannot keep it out.
            async with client.post(
                url + "/webhooks/gitlab", json=gitlab_payload("pipeline_hook"), headers=authentic
            ) as resp:
                assert resp.status == 200
            # The Slack door has read slots of its own, and /health reads no body.
            async with client.post(url + "/slack/events", data=b"{}", headers=slack_unsigned(b"")) as resp:
                assert resp.status == 401
            async with client.get(url + "/health") as resp:
                assert resp.status == 200
        finally:
            for conn in held:
                conn.close()
        await wait_reading(app[GITLAB_BODIES], 0)
        async with client.post(
            url + "/webhooks/gitlab", json=gitlab_payload("pipeline_hook"), headers=authentic
        ) as resp:
            assert resp.status == 200


async def test_hostile_slack_requests_get_4xx_never_5xx_and_no_body_is_logged(sqlite_db, caplog):
    unsigned = json.dumps({"type": "event_callback", "text": MARKER}).encode()
    now = str(int(time.time()))
    cases = [
        *[
            (unsigned, {**slack_signed(unsigned), "X-Slack-Request-Timestamp": ts}, 401)
            for ts in ("abc", "1e3", "", "9" * 5000, "-1", "1.5", "١٧٠٠٠٠٠٠٠٠")
        ],
        (unsigned, {"X-Slack-Request-Timestamp": now, "Content-Type": "application/json"}, 401),
        (unsigned, slack_unsigned(unsigned), 401),
        (deep(100_000), slack_unsigned(b""), 401),  # an unsigned nested body is refused unparsed
        (b"x" * (2 * 1024 * 1024), slack_unsigned(b""), 413),
        (deep(50_000), slack_signed(deep(50_000)), 400),  # even Slack's own could not make Bolt fail
        (b'{"a": "\xff"}', slack_signed(b'{"a": "\xff"}'), 400),
        (b"[1]", slack_signed(b"[1]"), 400),  # Bolt would fail on a signed body that is not an object
        (b'{"type": "event_callback", "event": "x"}', slack_signed(b'{"type": "event_callback", "event": "x"}'), 400),
    ]
    async with door(sqlite_db) as (_, url, client):
        verbose(caplog)
        for body, headers, status in cases:
            async with client.post(url + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == status, (headers, body[:40], resp.status, await resp.text())
    assert "refused a Slack request: bad_signature" in caplog.text
    assert MARKER not in caplog.text and '{"a":{"a"' not in caplog.text
    assert await stored(sqlite_db) == ([], [])


async def test_a_delivery_the_database_refuses_is_not_written_to_the_log(database, caplog):
    """A value the database would reject (its error would quote the statement's parameters, the stored payload,
    unless the engine hid them) is refused or ignored before the record step, and the body is not in the log."""
    payload = gitlab_payload("pipeline_hook")
    payload["object_attributes"]["id"] = 2**63
    payload["note"] = MARKER
    verbose(caplog)
    async with door(database) as (_, url, client):
        async with client.post(
            url + "/webhooks/gitlab", data=json.dumps(payload), headers=gitlab_headers(**{"X-Gitlab-Token": SECRET})
        ) as resp:
            assert resp.status < 500, await resp.text()  # the id is validated before the record step
    assert MARKER not in caplog.text


async def test_ids_beyond_a_64_bit_integer_are_refused_or_ignored_never_5xx(sqlite_db):
    pipeline = {"id": 1, "iid": 1, "ref": "main", "sha": "a" * 40, "status": "failed", "source": "push", "web_url": "u"}
    async with door(sqlite_db) as (_, url, client):
        for name, body in huge_ids(pipeline):
            async with client.post(
                url + "/webhooks/gitlab", data=body, headers=gitlab_headers(**{"X-Gitlab-Token": SECRET})
            ) as resp:
                assert resp.status < 500, (name, resp.status)
