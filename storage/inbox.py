"""Recording an event and enqueueing its jobs in one transaction, deduplicated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from bot.core.types import JobSpec
from storage.db import Database
from storage.models import ReceivedEvent
from storage.queue import enqueue, hasten
from storage.sql import insert_for
from storage.types import utcnow

_events = ReceivedEvent.__table__


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # enqueued | duplicate_delivery | duplicate_event | recorded
    event_id: int | None
    job_ids: list[int]


async def record_event(
    db: Database,
    *,
    source: str,
    delivery_key: str,
    event_type: str,
    payload: dict | None,
    jobs: list[JobSpec],
    project_id: int | None = None,
    object_id: int | None = None,
    status: str = "",
    max_attempts: int = 5,
) -> IntakeResult:
    """Insert the event (unique on delivery_key) and its jobs (unique on dedupe_key) atomically."""
    now = utcnow()
    async with db.session() as session:
        stmt = (
            insert_for(db)(_events)
            .values(
                source=source,
                delivery_key=delivery_key,
                event_type=event_type,
                project_id=project_id,
                object_id=object_id,
                status=status,
                outcome="recorded",
                payload=payload,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(_events.c.id)
        )
        row = (await session.execute(stmt)).first()
        if row is None:
            return IntakeResult("duplicate_delivery", None, [])
        event_id = row[0]
        job_ids: list[int] = []
        for job in jobs:
            job_id = await enqueue(
                session,
                job.kind,
                job.payload,
                dedupe_key=job.dedupe_key,
                max_attempts=max_attempts,
                run_after=now + timedelta(seconds=job.delay_seconds),
                event_id=event_id,
            )
            if job_id is not None:
                job_ids.append(job_id)
            elif job.hasten_existing:
                await hasten(session, job.dedupe_key, now)
        if not jobs:
            outcome = "recorded"
        else:
            outcome = "enqueued" if job_ids else "duplicate_event"
        await session.execute(_events.update().where(_events.c.id == event_id).values(outcome=outcome))
    return IntakeResult(outcome, event_id, job_ids)


async def delivery_recorded(db: Database, delivery_key: str) -> bool:
    """Whether a delivery with this key is in the inbox (a dry run asks; it never writes)."""
    async with db.session() as s:
        found = await s.execute(sa.select(_events.c.id).where(_events.c.delivery_key == delivery_key).limit(1))
        return found.first() is not None


async def last_received_at(db: Database, source: str) -> datetime | None:
    """When the newest event from this source (gitlab_webhook, email, ...) was accepted; None if never."""
    async with db.session() as session:
        stmt = select(func.max(_events.c.received_at)).where(_events.c.source == source)
        return (await session.execute(stmt)).scalar()
