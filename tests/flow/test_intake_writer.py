"""The intake's batch writer on a real database: duplicates inside and across batches, jobs deduplicated, a SQLite
file another process holds, an in-memory SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.core.intake import IntakeRecord
from bot.core.types import JobSpec
from storage.db import Database
from storage.intake_batch import DatabaseUnavailable, IntakeWriter
from storage.models import QueueJob, ReceivedEvent
from storage.types import utcnow


def delivery(key: str, pipeline: int) -> IntakeRecord:
    return IntakeRecord(
        source="gitlab_webhook",
        delivery_key=key,
        event_type="Pipeline Hook",
        payload={"object_attributes": {"id": pipeline}, "commit": {"message": "Fix the parser ✓"}},
        received_at=utcnow(),
        jobs=[JobSpec("analyze_pipeline", {"pipeline_id": pipeline}, f"pipeline:42:{pipeline}:failed")],
        project_id=42,
        object_id=pipeline,
        status="failed",
    )


async def stored(db: Database) -> tuple[list, list]:
    async with db.session() as s:
        events = (await s.execute(sa.select(ReceivedEvent).order_by(ReceivedEvent.id))).scalars().all()
        jobs = (await s.execute(sa.select(QueueJob).order_by(QueueJob.id))).scalars().all()
    return events, jobs


async def test_a_batch_records_each_delivery_once_and_each_failure_once(database):
    writer = IntakeWriter(database)
    try:
        first = await writer.write([delivery("a", 1), delivery("b", 2), delivery("a", 1)])
        again = await writer.write([delivery("a", 1), delivery("c", 1)])
    finally:
        await writer.close()
    assert [r.outcome for r in first] == ["enqueued", "enqueued", "duplicate_delivery"]
    assert [r.outcome for r in again] == ["duplicate_delivery", "duplicate_event"]
    events, jobs = await stored(database)
    assert [e.delivery_key for e in events] == ["a", "b", "c"]
    assert [e.outcome for e in events] == ["enqueued", "enqueued", "duplicate_event"]
    assert events[0].payload["commit"]["message"] == "Fix the parser ✓", "stored as sent, Unicode included"
    assert [(j.dedupe_key, j.event_id) for j in jobs] == [
        ("pipeline:42:1:failed", events[0].id),
        ("pipeline:42:2:failed", events[1].id),
    ]


async def test_a_sqlite_file_another_process_holds_is_a_database_that_does_not_answer(sqlite_db):
    holder = sqlite3.connect(sqlite_db.url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    writer = IntakeWriter(sqlite_db)
    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):
            await writer.write([delivery("a", 1)])
        holder.execute("ROLLBACK")
        assert [r.outcome for r in await writer.write([delivery("a", 1)])] == ["enqueued"]
    finally:
        holder.close()
        await writer.close()


async def test_an_in_memory_sqlite_database_is_written_through_the_engine():
    db = Database("sqlite+aiosqlite:///:memory:")
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    writer = IntakeWriter(db)
    try:
        assert [r.outcome for r in await writer.write([delivery("a", 1), delivery("a", 1)])] == [
            "enqueued",
            "duplicate_delivery",
        ]
        events, jobs = await stored(db)
        assert [e.delivery_key for e in events] == ["a"] and len(jobs) == 1
    finally:
        await writer.close()
        await db.dispose()


async def backends_alive(db: Database, pids: list[int]) -> int:
    async with db.engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
        return await conn.scalar(query, {"pids": pids})


@pytest.mark.postgres
async def test_postgres_connections_are_kept_between_batches_up_to_the_bound_and_closed_with_the_writer(pg_db):
    writer = IntakeWriter(pg_db, connections=2)
    try:
        # Six batches at once (the door's and the replay's): six connections, two kept for the next batches.
        results = await asyncio.gather(*(writer.write([delivery(f"k{i}", i)]) for i in range(6)))
        assert [r.outcome for (r,) in results] == ["enqueued"] * 6
        kept = [conn.get_server_pid() for conn in writer._idle]
        assert len(kept) == 2
        await writer.write([delivery("k6", 6)])
        assert sorted(conn.get_server_pid() for conn in writer._idle) == sorted(kept), "the same two reused"
    finally:
        await writer.close()
    for _ in range(50):  # terminate() does not wait for the server to notice
        if await backends_alive(pg_db, kept) == 0:
            break
        await asyncio.sleep(0.1)
    assert await backends_alive(pg_db, kept) == 0


@pytest.mark.postgres
async def test_a_postgres_connection_the_server_ended_between_batches_is_not_used_again(pg_db):
    writer = IntakeWriter(pg_db, connections=1)
    try:
        await writer.write([delivery("a", 1)])
        (conn,) = writer._idle
        async with pg_db.engine.connect() as admin:
            await admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": conn.get_server_pid()})
        for _ in range(50):
            if conn.is_closed():
                break
            await asyncio.sleep(0.1)
        (result,) = await writer.write([delivery("b", 2)])
    finally:
        await writer.close()
    assert result.outcome == "enqueued"
    events, _ = await stored(pg_db)
    assert [e.delivery_key for e in events] == ["a", "b"]
