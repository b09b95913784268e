"""What `/cicd status` reads to count per project: open and dead queue jobs, project paths, today's spend."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from storage.db import Database
from storage.models import Pipeline, ProviderCallRecord, QueueJob
from storage.queue import DEAD, QUEUED, RUNNING

_jobs = QueueJob.__table__


async def open_jobs(db: Database, limit: int) -> list[tuple[int, str, str, dict]]:
    """(id, kind, state, payload) of waiting, running and dead jobs, newest first, at most `limit`.

    Done jobs are not read: they are never shown per channel, and there are too many of them."""
    query = (
        sa.select(_jobs.c.id, _jobs.c.kind, _jobs.c.state, _jobs.c.payload)
        .where(_jobs.c.state.in_((QUEUED, RUNNING, DEAD)))
        .order_by(_jobs.c.id.desc())
        .limit(limit)
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    return [(r.id, r.kind, r.state, r.payload if isinstance(r.payload, dict) else {}) for r in rows]


async def project_paths(db: Database, project_ids: Iterable[int]) -> dict[int, str]:
    """The path of each project id the bot has seen a pipeline of (ids it has not seen are left out)."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    query = (
        sa.select(Pipeline.project_id, Pipeline.project_path)
        .where(Pipeline.project_id.in_(ids), Pipeline.project_path != "")
        .distinct()
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    return {int(project_id): path for project_id, path in rows}


async def spend_by_project(db: Database, since: datetime) -> list[tuple[str | None, float, int]]:
    """(project path, cost, calls) of the model calls since `since`, one row per project."""
    t = ProviderCallRecord
    query = (
        sa.select(t.project_path, sa.func.coalesce(sa.func.sum(t.cost_usd), 0.0), sa.func.count())
        .where(t.created_at >= since)
        .group_by(t.project_path)
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    return [(path, float(cost), int(calls)) for path, cost, calls in rows]
