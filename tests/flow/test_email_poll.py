"""The IMAP poll against a real IMAP server (pymap) on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import threading

import pytest
import sqlalchemy as sa

from bot.clients import mailbox
from bot.runtime.services import Services
from handlers import email as email_door
from handlers.email import EmailPoller, poll_once, start_email_poller
from storage.db import Database
from storage.models import MailboxState, ProcessedEmail, QueueJob, ReceivedEvent
from tests.fakes.imap_server import ImapServer, free_port
from tests.helpers import DATA, gitlab_payload, make_settings, running_app
from tests.unit.test_redact import GENERATORS

EMAILS = DATA / "email"
SECRET = "s3cret-for-tests"


def eml(name: str) -> bytes:
    return (EMAILS / f"{name}.eml").read_bytes()


def services_for(db, server: ImapServer, **overrides) -> Services:
    settings = make_settings(TRIGGER_MODE="email", **server.settings(**overrides))
    return Services.build(settings, db=db)


async def rows(db, model):
    async with db.session() as s:
        return (await s.execute(sa.select(model).order_by(model.id))).scalars().all()


async def test_failures_are_enqueued_once_with_the_email_data(database, imap):
    uids = imap.append(eml("failed_mr"), eml("failed_branch"))
    services = services_for(database, imap)

    first = await poll_once(services)

    assert (first.new, first.enqueued) == (2, 2)
    jobs = await rows(database, QueueJob)
    assert [(j.kind, j.dedupe_key) for j in jobs] == [
        ("analyze_pipeline", "pipeline:42:9001:failed"),
        ("analyze_pipeline", "pipeline:42:9017:failed"),
    ]
    assert jobs[0].payload == {
        "project_id": 42,
        "pipeline_id": 9001,
        "trigger": "email",
        "email": {
            "project_path": "acme/platform/api",
            "ref": "refs/merge-requests/17/head",
            "mr_iid": 17,
            "failed_jobs": [
                {"id": 70005, "name": "integration-tests", "stage": "test"},
                {"id": 70004, "name": "lint", "stage": "test"},
            ],
            "message_id": "<6643297a1b2c3_4f2a3fe8d1c0b@gitlab-sidekiq-7d9f.mail>",
        },
    }
    assert jobs[1].payload["email"]["failed_jobs"][0] == {
        "id": 71230,
        "name": "compile: linux/amd64 [go 1.22]",
        "stage": "build",
    }
    events = await rows(database, ReceivedEvent)
    assert [(e.source, e.event_type, e.delivery_key, e.outcome) for e in events] == [
        ("email", "Pipeline Failed Email", "email:<6643297a1b2c3_4f2a3fe8d1c0b@gitlab-sidekiq-7d9f.mail>", "enqueued"),
        ("email", "Pipeline Failed Email", "email:<6643a1f09c7d4_51e03fe8d2a1c@gitlab-sidekiq-7d9f.mail>", "enqueued"),
    ]
    processed = await rows(database, ProcessedEmail)
    assert [(p.status, p.uid, p.pipeline_id) for p in processed] == [
        ("enqueued", uids[0], 9001),
        ("enqueued", uids[1], 9017),
    ]
    assert imap.unseen() == []  # marked \Seen once committed
    state = (await rows(database, MailboxState))[0]
    assert (state.folder, state.last_uid) == ("INBOX", uids[1])

    second = await poll_once(services)
    assert (second.new, second.enqueued) == (0, 0)
    assert len(await rows(database, QueueJob)) == 2


async def test_unseen_again_below_last_uid_is_not_refetched_and_known_ids_are_not_reanalysed(database, imap):
    services = services_for(database, imap)
    uid = imap.append(eml("failed_mr"))[0]
    await poll_once(services)
    with imap.client() as client:  # a human marks it unread again
        client.select_folder("INBOX")
        client.remove_flags([uid], [b"\\Seen"])
    result = await poll_once(services)
    assert result.new == 0
    # The same message delivered again (a second copy, new UID): recognised by Message-ID.
    imap.append(eml("failed_mr"))
    result = await poll_once(services)
    assert (result.new, result.known, result.enqueued) == (1, 1, 0)
    assert len(await rows(database, QueueJob)) == 1
    assert len(await rows(database, ProcessedEmail)) == 1


async def test_changed_uidvalidity_reprocesses_nothing(database, imap, caplog):
    services = services_for(database, imap)
    imap.append(eml("failed_mr"), eml("other_sender"))
    await poll_once(services)
    before = [(p.message_id, p.status) for p in await rows(database, ProcessedEmail)]

    imap.restart()  # the dict backend starts empty, with a new UIDVALIDITY
    imap.append(eml("failed_mr"), eml("other_sender"))  # the same mail, unseen, at low UIDs again
    with caplog.at_level(logging.WARNING, logger="handlers.email"):
        result = await poll_once(services)

    assert result.uidvalidity_reset is True
    assert (result.new, result.known, result.enqueued, result.skipped) == (2, 2, 0, 0)
    assert [(p.message_id, p.status) for p in await rows(database, ProcessedEmail)] == before
    assert len(await rows(database, QueueJob)) == 1
    assert "new UIDVALIDITY" in caplog.text
    assert imap.unseen() == []


async def test_recreated_folder_reprocesses_nothing(database, imap):
    services = services_for(database, imap, IMAP_FOLDER="GitLab")
    with imap.client() as client:
        client.create_folder("GitLab")
    imap.append(eml("failed_branch"), folder="GitLab")
    assert (await poll_once(services)).enqueued == 1
    with imap.client() as client:
        client.delete_folder("GitLab")
        client.create_folder("GitLab")
    imap.append(eml("failed_branch"), folder="GitLab")
    result = await poll_once(services)
    assert (result.uidvalidity_reset, result.known, result.enqueued) == (True, 1, 0)
    assert len(await rows(database, QueueJob)) == 1


async def test_other_senders_and_malformed_mail_are_recorded_once_and_the_poll_goes_on(database, imap):
    services = services_for(database, imap, IMAP_MAX_MESSAGE_BYTES=8192)
    huge = eml("failed_branch").replace(b"Message-ID: <6643a1f09c7d4", b"Message-ID: <huge-6643a1f09c7d4") + b"x" * 8000
    imap.append(
        eml("other_sender"),
        eml("broken_mime"),
        eml("bad_charset"),
        eml("missing_project_id"),
        huge,
        eml("no_message_id"),
    )
    # The good ones are small enough; the limit only catches the padded one.
    result = await poll_once(services)

    assert (result.new, result.skipped, result.malformed, result.enqueued) == (6, 1, 4, 1)
    processed = {p.message_id: (p.status, p.reason) for p in await rows(database, ProcessedEmail)}
    assert processed["<forged-1@evil.example.net>"] == (
        "skipped",
        "not from IMAP_GITLAB_EMAIL (gitlab@gitlab.example.com); From: GitLab <gitlab@evil.example.net>",
    )
    assert processed["<6643c11e2f3a4_51e03fe8d2a1e@gitlab-sidekiq-7d9f.mail>"][0] == "malformed"
    assert processed["<6643c11e2f3a4_51e03fe8d2a1e@gitlab-sidekiq-7d9f.mail>"][1].startswith("broken MIME structure")
    assert processed["<6643c11e2f3a5_51e03fe8d2a1f@gitlab-sidekiq-7d9f.mail>"] == (
        "malformed",
        "cannot decode the text part: unknown encoding: x-no-such-charset",
    )
    assert processed["<6643c11e2f3a6_51e03fe8d2a20@gitlab-sidekiq-7d9f.mail>"] == (
        "malformed",
        "missing header X-GitLab-Project-Id",
    )
    status, reason = processed["<huge-6643a1f09c7d4_51e03fe8d2a1c@gitlab-sidekiq-7d9f.mail>"]
    assert status == "malformed" and reason.startswith("too large: ") and "IMAP_MAX_MESSAGE_BYTES=8192" in reason
    no_id = [key for key in processed if key.startswith("sha256:")]
    assert len(no_id) == 1 and processed[no_id[0]] == ("enqueued", "")
    jobs = await rows(database, QueueJob)
    assert [j.dedupe_key for j in jobs] == ["pipeline:42:9007:failed"]
    assert jobs[0].payload["email"]["message_id"] == no_id[0]

    # Delivered again: recognised, not recorded twice.
    imap.append(eml("other_sender"), eml("broken_mime"))
    again = await poll_once(services)
    assert (again.known, again.skipped, again.malformed) == (2, 0, 0)
    assert len(await rows(database, ProcessedEmail)) == 6


async def test_a_secret_in_an_emails_branch_name_is_not_stored(sqlite_db, imap):
    """The branch is free text: a token used as a branch name is redacted in the stored event and the job, as a
    webhook's is (the job posts the branch to Slack when the bot has no API token)."""
    token = GENERATORS["glpat"]()
    imap.append(
        eml("failed_branch").replace(b"X-GitLab-Pipeline-Ref: main", f"X-GitLab-Pipeline-Ref: rotate-{token}".encode())
    )
    services = services_for(sqlite_db, imap)

    assert (await poll_once(services)).enqueued == 1

    [event], [job] = await rows(sqlite_db, ReceivedEvent), await rows(sqlite_db, QueueJob)
    stored = json.dumps([event.payload, job.payload])
    assert token not in stored and "rotate-[REDACTED:gitlab-token]" in stored
    assert job.payload["email"]["failed_jobs"][0]["name"] == "compile: linux/amd64 [go 1.22]", "the rest is kept"


async def test_webhook_and_email_for_one_failure_give_one_job(database, imap):
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, TRIGGER_MODE="both", **imap.settings()) as (
        services,
        client,
        url,
    ):
        body = json.dumps(gitlab_payload("pipeline_hook")).encode()
        headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": SECRET}
        async with client.post(url + "/webhooks/gitlab", data=body, headers=headers) as resp:
            assert resp.status == 200
        imap.append(eml("failed_mr"))  # the same pipeline 9001 of project 42
        result = await poll_once(services)
    assert (result.enqueued, result.duplicate) == (0, 1)
    jobs = await rows(database, QueueJob)
    assert [(j.dedupe_key, j.payload["trigger"]) for j in jobs] == [("pipeline:42:9001:failed", "webhook")]
    events = await rows(database, ReceivedEvent)
    assert [(e.source, e.outcome) for e in events] == [("gitlab_webhook", "enqueued"), ("email", "duplicate_event")]
    processed = (await rows(database, ProcessedEmail))[0]
    assert (processed.status, processed.reason) == ("duplicate", "pipeline already queued by another trigger")


async def test_email_first_then_webhook_also_gives_one_job(sqlite_db, imap):
    async with running_app(sqlite_db, GITLAB_WEBHOOK_SECRET=SECRET, TRIGGER_MODE="both", **imap.settings()) as (
        services,
        client,
        url,
    ):
        imap.append(eml("failed_mr"))
        assert (await poll_once(services)).enqueued == 1
        body = json.dumps(gitlab_payload("pipeline_hook")).encode()
        headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": SECRET}
        async with client.post(url + "/webhooks/gitlab", data=body, headers=headers) as resp:
            assert resp.status == 200
    jobs = await rows(sqlite_db, QueueJob)
    assert [(j.dedupe_key, j.payload["trigger"]) for j in jobs] == [("pipeline:42:9001:failed", "email")]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_server_down_logs_once_backs_off_and_recovers(database, imap, caplog):
    services = services_for(database, imap, IMAP_CHECK_INTERVAL=60)
    clock = FakeClock()
    poller = EmailPoller(services, clock=clock)
    imap.stop()
    with caplog.at_level(logging.INFO, logger="handlers.email"):
        assert await poller.tick() is None
        assert poller.failures == 1 and poller.backoff_seconds() == 60
        clock.now += 10
        attempts = poller.failures
        assert await poller.tick() is None and poller.failures == attempts  # backing off: not even tried
        clock.now += 60
        assert await poller.tick() is None and poller.failures == 2 and poller.backoff_seconds() == 120
        clock.now += 120
        assert await poller.tick() is None and poller.failures == 3 and poller.backoff_seconds() == 240
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == (
        f"IMAP poll failed: connection refused by 127.0.0.1:{imap.port}; is the IMAP server running and "
        "IMAP_PORT right?; next try in 60s"
    )
    poller.failures = 10
    assert poller.backoff_seconds() == 900  # the cap

    imap.start()
    imap.append(eml("failed_mr"))
    clock.now += 10_000
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="handlers.email"):
        result = await poller.tick()
    assert result is not None and result.enqueued == 1
    assert poller.failures == 0
    assert "IMAP poll works again after 10 failed attempts" in caplog.text


def silent_server() -> tuple[socket.socket, int, threading.Event, threading.Event]:
    """Accepts connections and never says a word: an IMAP server that hangs. Returns the socket, its port,
    an event that ends it (closing what it holds) and one that is set once a client has connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    done = threading.Event()
    accepted = threading.Event()
    held = []

    def accept() -> None:
        sock.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(sock.accept()[0])
                accepted.set()
            except OSError:
                continue
        for conn in held:
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return sock, sock.getsockname()[1], done, accepted


async def test_a_hanging_server_does_not_block_the_web_server(sqlite_db, imap):
    sock, port, done, accepted = silent_server()
    try:
        # The timeout is far away: the poll is certainly still hanging while /health is asked.
        async with running_app(
            sqlite_db, TRIGGER_MODE="email", **imap.settings(IMAP_PORT=port, IMAP_TIMEOUT_SECONDS=60)
        ) as (services, client, url):
            poller = start_email_poller(services)
            try:
                assert await asyncio.to_thread(accepted.wait, 60), "the poll never connected"
                for _ in range(5):
                    async with client.get(url + "/health") as resp:
                        assert resp.status == 200
                # /health answered while the poll was waiting for a greeting that had not come.
                assert poller.failures == 0 and poller._running is not None and not poller._running.done()
                done.set()  # the server hangs up: the poll ends with an error, told plainly
                for _ in range(600):
                    if poller.failures:
                        break
                    await asyncio.sleep(0.1)
                assert poller.failures == 1 and poller.last_error.kind in ("dropped", "network", "protocol")
            finally:
                await poller.stop()
    finally:
        done.set()
        sock.close()


async def test_a_server_that_never_answers_is_reported_as_a_timeout(sqlite_db, imap):
    sock, port, done, _ = silent_server()
    try:
        services = services_for(sqlite_db, imap, IMAP_PORT=port, IMAP_TIMEOUT_SECONDS=1)
        with pytest.raises(TimeoutError) as err:
            await poll_once(services)
        described = mailbox.classify_error(err.value, services.settings)
        assert described.kind == "timeout"
        assert str(described).startswith(f"no answer from 127.0.0.1:{port} within 1s (timeout)")
    finally:
        done.set()
        sock.close()


async def test_scheduler_polls_at_once_and_stops_cleanly(sqlite_db, imap):
    imap.append(eml("failed_branch"))
    services = services_for(sqlite_db, imap)
    woken = []
    services.wakers.append(lambda: woken.append(1))
    poller = start_email_poller(services)
    try:
        for _ in range(50):
            if await rows(sqlite_db, QueueJob):
                break
            await asyncio.sleep(0.1)
    finally:
        await poller.stop()
    assert [j.dedupe_key for j in await rows(sqlite_db, QueueJob)] == ["pipeline:42:9017:failed"]
    assert woken == [1]


async def test_two_pollers_on_one_postgresql_poll_one_at_a_time(pg_db, imap):
    from tests.conftest import PG_URL

    other_db = Database(PG_URL, schema=pg_db.schema)
    try:
        first = services_for(pg_db, imap)
        second = services_for(other_db, imap)
        imap.append(eml("failed_mr"))
        inside, release = asyncio.Event(), asyncio.Event()

        async def slow() -> None:
            inside.set()
            await release.wait()

        task = asyncio.create_task(poll_once(first, hook=slow))
        await asyncio.wait_for(inside.wait(), 10)
        skipped = await poll_once(second)
        assert skipped.polled is False
        release.set()
        done = await task
        assert done.polled is True and done.enqueued == 1
        after = await poll_once(second)  # the lock is free again
        assert after.polled is True and after.new == 0
    finally:
        await other_db.dispose()
    assert len(await rows(pg_db, QueueJob)) == 1


async def test_missing_folder_and_bad_password_are_told_plainly(sqlite_db, imap):
    services = services_for(sqlite_db, imap, IMAP_FOLDER="Nope")
    with pytest.raises(mailbox.MailboxError) as err:
        await poll_once(services)
    assert err.value.kind == "folder"
    assert str(err.value) == f"folder 'Nope' does not exist on 127.0.0.1:{imap.port}; folders there: INBOX"
    services = services_for(sqlite_db, imap, IMAP_APP_PASSWORD="wrong-" + "x" * 8)
    with pytest.raises(Exception) as err:
        await poll_once(services)
    described = mailbox.classify_error(err.value, services.settings)
    assert described.kind == "login"
    assert str(described).startswith("login refused for 'ci-alerts@example.com': ")
    assert "app password" in str(described)


async def test_closed_port_gives_refused(sqlite_db, imap):
    services = services_for(sqlite_db, imap, IMAP_PORT=free_port())
    with pytest.raises(OSError) as err:
        await poll_once(services)
    assert mailbox.classify_error(err.value, services.settings).kind == "refused"


@pytest.fixture
def imap_starttls(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    server = ImapServer(tmp_path, starttls=True).start()
    try:
        yield server
    finally:
        server.stop()


async def test_starttls_with_a_trusted_certificate_polls(sqlite_db, imap_starttls, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_starttls.cert_path))  # what an operator does for a private CA
    imap_starttls.append(eml("failed_mr"))
    result = await poll_once(services_for(sqlite_db, imap_starttls))
    assert result.enqueued == 1


async def test_starttls_with_an_untrusted_certificate_is_a_tls_error(sqlite_db, imap_starttls):
    services = services_for(sqlite_db, imap_starttls)
    with pytest.raises(Exception) as err:
        await poll_once(services)
    described = mailbox.classify_error(err.value, services.settings)
    assert described.kind == "tls"
    assert str(described).startswith(f"TLS error talking to 127.0.0.1:{imap_starttls.port}: CERTIFICATE_VERIFY_FAILED;")
    assert await rows(sqlite_db, QueueJob) == []


async def test_a_failure_before_commit_leaves_the_mail_unread_for_the_next_poll(database, imap, monkeypatch, caplog):
    services = services_for(database, imap)
    uid = imap.append(eml("failed_mr"))[0]
    real = email_door.record_event

    async def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO received_events ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr(email_door, "record_event", broken)
    poller = EmailPoller(services)
    with caplog.at_level(logging.WARNING, logger="handlers.email"):
        assert await poller.tick() is None
    assert "IMAP poll failed: database error while recording email: " in caplog.text
    assert "server closed the connection" in caplog.text
    assert imap.unseen() == [uid]
    assert await rows(database, ProcessedEmail) == []

    monkeypatch.setattr(email_door, "record_event", real)
    poller.next_try = 0
    result = await poller.tick()
    assert result.enqueued == 1 and imap.unseen() == []
