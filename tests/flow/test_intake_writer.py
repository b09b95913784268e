"""The intake's batch writer on a real database: duplicates inside and across batches, jobs deduplicated, a SQLite
file another process holds, an in-memory SQLite database."""

from __future__ import annotations

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
