"""The GitLab door while the database is away: deliveries spooled, replayed in order, once, and a full spool."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import sqlite3
import threading
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa

from bot.core.intake import IntakeRecord
from bot.jobs import registry
from bot.runtime.spool import Spool, SpoolBusy, SpoolFull
from handlers.gitlab_routing import route
from storage.db import Database
from storage.models import QueueJob, ReceivedEvent
from storage.types import utcnow
from tests.conftest import PG_URL
from tests.e2e_kit import bot_notes
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.tcp_proxy import TcpProxy
from tests.helpers import bot_services, gitlab_payload, running_app
from tests.scenario import seed_failed_pipeline

SECRET = "s3cret-for-tests"


class SqliteLock:
    """SQLite "unreachable": another connection holds the file's write lock, so every write waits."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def cut(self) -> None:
        self.conn.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        self.conn.execute("ROLLBACK")


@asynccontextmanager
async def outage(database: Database):
    """(the database the bot uses, cut, restore): the same data, behind something a test can take away."""
    if database.is_postgres:
        async with TcpProxy("127.0.0.1", int(PG_URL.rsplit(":", 1)[1].split("/")[0])) as proxy:
            behind = Database(proxy.url(PG_URL), schema=database.schema)
            try:
                yield behind, proxy.cut, proxy.restore
            finally:
                await behind.dispose()
        return
    lock = SqliteLock(database.url.split("///", 1)[1])
    try:
        yield database, lock.cut, lock.restore
    finally:
        lock.conn.close()


def failed_pipeline(pipeline_id: int) -> bytes:
    payload = copy.deepcopy(gitlab_payload("pipeline_hook"))
    payload["object_attributes"]["id"] = pipeline_id
    return json.dumps(payload).encode()


def headers(key: str) -> dict:
    return {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": SECRET, "Idempotency-Key": key}


async def post(client, url, body: bytes, key: str) -> int:
    async with client.post(url + "/webhooks/gitlab", data=body, headers=headers(key)) as resp:
        return resp.status


async def spool_report(client, url) -> dict:
    async with client.get(url + "/health/detailed") as resp:
        return (await resp.json())["spool"]


async def inbox(db: Database) -> tuple[list, list]:
    async with db.session() as s:
        events = (await s.execute(sa.select(ReceivedEvent).order_by(ReceivedEvent.id))).scalars().all()
        jobs = (await s.execute(sa.select(QueueJob).order_by(QueueJob.id))).scalars().all()
    return events, jobs


async def test_deliveries_taken_while_the_database_is_away_are_replayed_in_order_once(database, tmp_path):
    async with (
        outage(database) as (db, cut, restore),
        running_app(db, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(tmp_path / "spool")) as (services, client, url),
    ):
        assert await post(client, url, failed_pipeline(101), "before") == 200
        cut()
        answers = [await post(client, url, failed_pipeline(pid), f"k-{pid}") for pid in (103, 102, 104)]
        # GitLab resends a delivery it did not see answered: the same key again, still in the outage.
        answers.append(await post(client, url, failed_pipeline(102), "k-102"))
        assert answers == [200, 200, 200, 200]
        spooled = await spool_report(client, url)
        assert spooled["depth"] == 4 and spooled["replaying"]
        async with client.get(url + "/metrics") as resp:
            assert "cicdbot_spool_deliveries 4.0" in await resp.text()
        assert [e.delivery_key for e in (await inbox(database))[0]] == ["gitlab:idem:before"]
        restore()
        await services.intake.drained()
        assert await post(client, url, failed_pipeline(102), "k-102") == 200  # and once more afterwards
        after = await spool_report(client, url)
    events, jobs = await inbox(database)
    assert [e.delivery_key for e in events] == [
        "gitlab:idem:before",
        "gitlab:idem:k-103",
        "gitlab:idem:k-102",
        "gitlab:idem:k-104",
    ]
    assert [e.outcome for e in events] == ["enqueued"] * 4
    assert [j.payload["pipeline_id"] for j in jobs] == [101, 103, 102, 104]
    assert after["depth"] == 0 and not after["replaying"]
    assert not list((tmp_path / "spool").glob("*[0-9].spool")), "replayed segments are deleted"


async def test_a_spooled_failure_is_analysed_once_after_the_database_is_back(database, tmp_path):
    async with FakeGitLab() as gitlab:
        seed_failed_pipeline(gitlab.state, 9001)
        async with outage(database) as (db, cut, restore):
            async with running_app(db, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(tmp_path / "spool")) as (
                services,
                client,
                url,
            ):
                cut()
                assert await post(client, url, failed_pipeline(9001), "once") == 200
                assert await post(client, url, failed_pipeline(9001), "once") == 200
                restore()
                await services.intake.drained()
        async with bot_services(database, gitlab) as services:
            ran = 0
            while job := await services.queue.claim("test"):
                await registry.HANDLERS[job.kind](services, job)
                await services.queue.complete(job)
                ran += 1
        assert ran == 1
        assert len(bot_notes(gitlab)) == 1


async def test_a_full_spool_answers_503_and_says_why_once(database, tmp_path, caplog):
    async with (
        outage(database) as (db, cut, restore),
        running_app(db, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(tmp_path / "spool")) as (services, client, url),
    ):
        services.intake.spool.max_bytes = 2 * len(failed_pipeline(1)) + 4000  # room for two deliveries
        cut()
        with caplog.at_level(logging.ERROR):
            answers = [await post(client, url, failed_pipeline(pid), f"full-{pid}") for pid in range(1, 6)]
        assert answers == [200, 200, 503, 503, 503]
        assert len([r for r in caplog.records if "SPOOL_MAX_MB" in r.getMessage()]) == 1
        assert (await spool_report(client, url))["depth"] == 2
        restore()
        await services.intake.drained()
    events, _ = await inbox(database)
    assert [e.delivery_key for e in events] == ["gitlab:idem:full-1", "gitlab:idem:full-2"]


async def test_a_spool_left_by_an_earlier_run_is_replayed_at_start(database, tmp_path):
    async with outage(database) as (db, cut, restore):
        async with running_app(db, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(tmp_path / "spool")) as (
            services,
            client,
            url,
        ):
            services.intake.start()
            cut()
            assert await post(client, url, failed_pipeline(7), "left") == 200
            # The process stops before the database is back.
            await services.intake.close()
            restore()
        async with running_app(db, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(tmp_path / "spool")) as (
            services,
            client,
            url,
        ):
            services.intake.start()
            await services.intake.drained()
    events, jobs = await inbox(database)
    assert [e.delivery_key for e in events] == ["gitlab:idem:left"] and len(jobs) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["object_attributes"].update(id=2**63), 200),
        (lambda p: p["project"].update(id=2**64 + 5), 200),
        (lambda p: p["object_attributes"].update(status="failed" + "x" * 40), 200),
    ],
    ids=["pipeline-id-2^63", "project-id-2^64", "status-too-long"],
)
async def test_values_the_database_cannot_hold_are_answered_2xx_and_not_stored(database, change, expected):
    payload = copy.deepcopy(gitlab_payload("pipeline_hook"))
    change(payload)
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        assert await post(client, url, json.dumps(payload).encode(), "bad") == expected
        assert await post(client, url, failed_pipeline(5), "good") == 200
    events, jobs = await inbox(database)
    assert [e.delivery_key for e in events] == ["gitlab:idem:good"] and len(jobs) == 1


async def test_a_merge_request_action_longer_than_its_column_is_not_a_5xx(database):
    payload = copy.deepcopy(gitlab_payload("merge_request_hook"))
    payload["object_attributes"]["action"] = "a" * 33
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET) as (_, client, url):
        async with client.post(
            url + "/webhooks/gitlab",
            json=payload,
            headers={"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": SECRET, "Idempotency-Key": "mr"},
        ) as resp:
            assert resp.status == 200
        payload["object_attributes"]["action"] = "\x00update"
        async with client.post(
            url + "/webhooks/gitlab",
            json=payload,
            headers={"X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": SECRET, "Idempotency-Key": "mr2"},
        ) as resp:
            assert resp.status == 200
    assert (await inbox(database))[0] == []


def test_a_second_process_cannot_use_the_same_spool_directory(tmp_path):
    first, second = Spool(tmp_path, 1_000_000), Spool(tmp_path, 1_000_000)
    first.open()
    try:
        with pytest.raises(SpoolBusy, match="give each one its own"):
            second.open()
    finally:
        first.close()
    second.open()  # free again once the first one is closed
    second.close()


async def spooled(directory, key: str, pipeline_id: int) -> None:
    """What a serving process that spooled one delivery and stopped leaves in its directory."""
    body = failed_pipeline(pipeline_id)
    payload = json.loads(body)
    routed = route("Pipeline Hook", payload, {"x-gitlab-event": "Pipeline Hook", "idempotency-key": key}, body, "bot")
    record = IntakeRecord(
        source="gitlab_webhook",
        delivery_key=routed.delivery_key,
        event_type="Pipeline Hook",
        payload=payload,
        received_at=utcnow(),
        jobs=routed.jobs,
        project_id=routed.project_id,
        object_id=routed.object_id,
        status=routed.status,
    )
    spool = Spool(directory, 1_000_000)
    spool.open()
    await spool.append(record)
    spool.close()


async def test_the_first_process_replays_what_other_serving_processes_left_but_not_a_running_ones(database, tmp_path):
    """serve --processes N: process k spools in `<SPOOL_DIR>/process-k`. Started again with fewer processes, the
    first one takes over the spools nobody holds; the spool of a process that is running (locked) stays its own."""
    base = tmp_path / "spool"
    await spooled(base / "process-1", "left-1", 71)
    await spooled(base / "process-2", "left-2", 72)
    running = Spool(base / "process-2", 1_000_000)
    running.open()  # a process that holds process-2 now
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(base)) as (services, _, _):
        services.intake.start()
        await services.intake.drained()
    assert [e.delivery_key for e in (await inbox(database))[0]] == ["gitlab:idem:left-1"]
    assert segments(base / "process-1") == [] and segments(base) == [], "taken over and replayed"
    assert running.depth == 1 and len(segments(base / "process-2")) == 1, "left to the process that holds it"
    running.close()
    async with running_app(database, GITLAB_WEBHOOK_SECRET=SECRET, SPOOL_DIR=str(base)) as (services, _, _):
        services.intake.start()
        await services.intake.drained()
    events, jobs = await inbox(database)
    assert [e.delivery_key for e in events] == ["gitlab:idem:left-1", "gitlab:idem:left-2"] and len(jobs) == 2
    assert segments(base / "process-2") == [] and segments(base) == []


def segments(directory) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".spool") and p.name != "set-aside.spool"]


async def test_a_spool_whose_disk_does_not_answer_refuses_the_delivery_instead_of_hanging(tmp_path, monkeypatch):
    """A hung disk (a network volume gone quiet): the delivery is refused (the door's 503) once the wait is over,
    the next delivery too, and what the disk took meanwhile is on disk when it answers again."""
    answer, written = threading.Event(), threading.Event()
    honest_write = Spool._write_sync

    def hung_write(fd: int, data: bytes) -> None:
        answer.wait()  # released by the test: nothing here depends on how long the machine takes
        honest_write(fd, data)
        written.set()

    monkeypatch.setattr(Spool, "_write_sync", staticmethod(hung_write))
    record = IntakeRecord(
        source="gitlab_webhook",
        delivery_key="hung-1",
        event_type="Pipeline Hook",
        payload={"object_kind": "pipeline"},
        received_at=utcnow(),
        jobs=[],
    )
    spool = Spool(tmp_path, 1_000_000, append_wait=0.05)
    spool.open()
    try:
        with pytest.raises(SpoolFull, match="did not answer within 0.05 s"):
            await spool.append(record)
        with pytest.raises(SpoolFull, match="did not answer"):  # queued behind the hung write: refused as well
            await spool.append(dataclasses.replace(record, delivery_key="hung-2"))
        answer.set()
        await asyncio.to_thread(written.wait)
        await spool.append(dataclasses.replace(record, delivery_key="after"))  # the disk answers again
        keys = [r.delivery_key for sequence in await spool.rotate() for r in spool.read(sequence)]
        assert keys == ["hung-1", "after"], "the write under way landed; the refused one queued behind it did not"
    finally:
        answer.set()
        spool.close()
