"""The reconciliation sweep's memory: where its pass stands, which failures are known, and the webhooks' status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from storage.db import Database
from storage.models import ACTIVE_STATES_SQL, HookStatus, Pipeline, QueueJob, SweepState
from storage.sql import insert_for
from storage.types import utcnow

_state = SweepState.__table__
_hooks = HookStatus.__table__


@dataclass
class SweepRecord:
    """One sweep's view of its row: the window of the pass in progress and how far it got."""

    since: datetime | None = None
    pass_started_at: datetime | None = None  # None between passes
    cursor: dict = field(default_factory=dict)
    last_sweep_at: datetime | None = None
    last_pass_completed_at: datetime | None = None
    last_result: dict = field(default_factory=dict)


async def load_sweep(db: Database, name: str) -> SweepRecord:
    async with db.session() as s:
        row = (await s.execute(sa.select(SweepState).where(SweepState.name == name))).scalar_one_or_none()
    if row is None:
        return SweepRecord()
    return SweepRecord(
        since=row.since,
        pass_started_at=row.pass_started_at,
        cursor=dict(row.cursor or {}),
        last_sweep_at=row.last_sweep_at,
        last_pass_completed_at=row.last_pass_completed_at,
        last_result=dict(row.last_result or {}),
    )


async def save_sweep(db: Database, name: str, record: SweepRecord) -> None:
    values = {
        "since": record.since,
        "pass_started_at": record.pass_started_at,
        "cursor": record.cursor or None,
        "last_sweep_at": record.last_sweep_at,
        "last_pass_completed_at": record.last_pass_completed_at,
        "last_result": record.last_result or None,
        "updated_at": utcnow(),
    }
    stmt = insert_for(db)(_state).values(name=name, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["name"], set_=values)
    async with db.session() as s:
        await s.execute(stmt)


async def known_failures(
    db: Database, project_id: int, failures: dict[int, datetime | None], keys: dict[int, str], margin: timedelta
) -> set[int]:
    """Which of the project's failed pipelines (id -> when GitLab last updated it) the bot already has: a job for
    it waits or runs, or it was looked at as failed no earlier than that update (less `margin` for clock skew)."""
    if not failures:
        return set()
    async with db.session() as s:
        active = set(
            (
                await s.execute(
                    sa.select(QueueJob.dedupe_key).where(
                        QueueJob.dedupe_key.in_(list(keys.values())), sa.text(ACTIVE_STATES_SQL)
                    )
                )
            ).scalars()
        )
        queued = {pid for pid, key in keys.items() if key in active}
        rows = (
            await s.execute(
                sa.select(Pipeline.pipeline_id, Pipeline.updated_at).where(
                    Pipeline.project_id == project_id,
                    Pipeline.pipeline_id.in_(list(failures)),
                    Pipeline.status == "failed",
                )
            )
        ).all()
    seen = {pid for pid, looked in rows if failures.get(pid) is None or looked >= failures[pid] - margin}
    return queued | seen


# --- webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HookSeen:
    """One webhook of a group or project as GitLab lists it (hook_id 0: none for the bot, or none readable)."""

    scope: str
    hook_id: int
    alert_status: str
    disabled_until: datetime | None = None
    detail: str = ""


async def save_hooks(db: Database, scope: str, seen: list[HookSeen]) -> dict[int, str]:
    """Replace the scope's hooks with what GitLab listed now; returns what Slack was last told, by hook id."""
    now = utcnow()
    async with db.session() as s:
        told = dict(
            (await s.execute(sa.select(_hooks.c.hook_id, _hooks.c.alerted_status).where(_hooks.c.scope == scope))).all()
        )
        await s.execute(
            _hooks.delete().where(_hooks.c.scope == scope, _hooks.c.hook_id.not_in([h.hook_id for h in seen]))
        )
        for hook in seen:
            values = {
                "alert_status": hook.alert_status,
                "disabled_until": hook.disabled_until,
                "detail": hook.detail[:500],
                "checked_at": now,
            }
            stmt = insert_for(db)(_hooks).values(scope=scope, hook_id=hook.hook_id, alerted_status="", **values)
            await s.execute(stmt.on_conflict_do_update(index_elements=["scope", "hook_id"], set_=values))
    return {hook.hook_id: told.get(hook.hook_id, "") for hook in seen}


async def mark_told(db: Database, scope: str, hook_id: int, status: str) -> None:
    """Slack was told (or needs no telling) that this hook is in this status."""
    async with db.session() as s:
        await s.execute(
            _hooks.update().where(_hooks.c.scope == scope, _hooks.c.hook_id == hook_id).values(alerted_status=status)
        )


async def all_hooks(db: Database) -> list[HookStatus]:
    async with db.session() as s:
        return list((await s.execute(sa.select(HookStatus).order_by(HookStatus.scope, HookStatus.hook_id))).scalars())
