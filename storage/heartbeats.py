"""Workers' signs of life: one row per worker process, its last heartbeat."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.db import Database
from storage.models import WorkerHeartbeat

_heartbeats = WorkerHeartbeat.__table__


async def beat(db: Database, *, worker_id: str, hostname: str, pid: int, started_at: datetime, now: datetime) -> None:
    """Record that the worker is alive now (its row is created on the first beat)."""
    async with db.session() as session:
        updated = await session.execute(
            sa.update(_heartbeats).where(_heartbeats.c.worker_id == worker_id).values(last_seen=now))
        if updated.rowcount == 0:
            await session.execute(sa.insert(_heartbeats).values(
                worker_id=worker_id, hostname=hostname, pid=pid, started_at=started_at, last_seen=now))


async def last_heartbeat(db: Database) -> datetime | None:
    """The newest heartbeat of any worker."""
    async with db.session() as s:
        return (await s.execute(sa.select(sa.func.max(WorkerHeartbeat.last_seen)))).scalar()
