"""The durable job queue in the database: enqueue in the caller's transaction, claim with a lease."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ACTIVE_STATES_SQL, QueueJob
from storage.sql import insert_for
from storage.types import utcnow

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
_jobs = QueueJob.__table__


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict
    attempts: int
    max_attempts: int
    lease_owner: str


def backoff_seconds(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: a random wait up to base * 2**(attempts-1), capped."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict,
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 5,
    event_id: int | None = None,
) -> int | None:
    """Add a job in the caller's transaction; returns its id, or None if a job with this dedupe key waits or runs."""
    now = utcnow()
    values = dict(
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        state=QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        run_after=run_after or now,
        event_id=event_id,
        created_at=now,
        updated_at=now,
    )
    stmt = insert_for(session)(_jobs).values(**values)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=sa.text(ACTIVE_STATES_SQL))
    result = await session.execute(stmt.returning(_jobs.c.id))
    row = result.first()
    return row[0] if row else None


async def hasten(session: AsyncSession, dedupe_key: str, when: datetime | None = None) -> bool:
    """Bring a queued job's run_after forward (a later event says it is ready now)."""
    when = when or utcnow()
    result = await session.execute(
        sa.update(_jobs)
        .where(_jobs.c.dedupe_key == dedupe_key, _jobs.c.state == QUEUED, _jobs.c.run_after > when)
        .values(run_after=when, updated_at=utcnow())
    )
    return result.rowcount > 0


class Queue:
    """Claim, finish, retry and dead-letter jobs; every change is fenced by the lease owner."""

    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: int = 30,
        backoff_base: float = 5.0,
        backoff_cap: float = 900.0,
        clock=utcnow,
    ):
        self.db = db
        self.lease_seconds = lease_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock
        self._last_bury: datetime | None = None

    async def claim(self, worker_id: str, kinds: list[str] | None = None) -> ClaimedJob | None:
        """Take the next due job, or one whose lease expired, and lease it to worker_id."""
        now = self.clock()
        if self._last_bury is None or (now - self._last_bury).total_seconds() >= 5:
            self._last_bury = now
            await self._bury_exhausted(now)
        due = sa.or_(
            sa.and_(_jobs.c.state == QUEUED, _jobs.c.run_after <= now),
            sa.and_(_jobs.c.state == RUNNING, _jobs.c.lease_expires_at < now),
        )
        pick = sa.select(_jobs.c.id).where(due)
        if kinds is not None:
            pick = pick.where(_jobs.c.kind.in_(kinds))
        pick = pick.order_by(_jobs.c.run_after, _jobs.c.id).limit(1)
        if self.db.is_postgres:
            # Concurrent claimers skip rows another transaction holds instead of waiting on them.
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            sa.update(_jobs)
            .where(_jobs.c.id == pick.scalar_subquery())
            .values(
                state=RUNNING,
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=self.lease_seconds),
                attempts=_jobs.c.attempts + 1,
                updated_at=now,
            )
            .returning(_jobs.c.id, _jobs.c.kind, _jobs.c.payload, _jobs.c.attempts, _jobs.c.max_attempts)
        )
        async with self.db.session() as session:
            row = (await session.execute(stmt)).first()
        if row is None:
            return None
        return ClaimedJob(row.id, row.kind, row.payload or {}, row.attempts, row.max_attempts, worker_id)

    async def _bury_exhausted(self, now: datetime) -> None:
        # A job whose worker died on its last allowed attempt must not be retried forever.
        async with self.db.session() as session:
            await session.execute(
                sa.update(_jobs)
                .where(
                    _jobs.c.state == RUNNING, _jobs.c.lease_expires_at < now, _jobs.c.attempts >= _jobs.c.max_attempts
                )
                .values(
                    state=DEAD,
                    finished_at=now,
                    updated_at=now,
                    last_error=sa.func.coalesce(_jobs.c.last_error, "") + " [lease expired on the last attempt]",
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    async def _fenced_update(self, job: ClaimedJob, **values) -> bool:
        values.setdefault("updated_at", self.clock())
        async with self.db.session() as session:
            result = await session.execute(
                sa.update(_jobs)
                .where(_jobs.c.id == job.id, _jobs.c.lease_owner == job.lease_owner, _jobs.c.state == RUNNING)
                .values(**values)
            )
        return result.rowcount > 0

    async def complete(self, job: ClaimedJob) -> bool:
        now = self.clock()
        return await self._fenced_update(job, state=DONE, finished_at=now, lease_owner=None, lease_expires_at=None)

    async def fail(self, job: ClaimedJob, error: str, *, retryable: bool = True) -> str:
        """Record a failed attempt: back off and retry, or dead-letter. Returns the new state."""
        now = self.clock()
        if not retryable or job.attempts >= job.max_attempts:
            await self._fenced_update(
                job, state=DEAD, finished_at=now, last_error=error[:4000], lease_owner=None, lease_expires_at=None
            )
            return DEAD
        delay = backoff_seconds(job.attempts, self.backoff_base, self.backoff_cap)
        await self._fenced_update(
            job,
            state=QUEUED,
            run_after=now + timedelta(seconds=delay),
            last_error=error[:4000],
            lease_owner=None,
            lease_expires_at=None,
        )
        return QUEUED

    async def defer(self, job: ClaimedJob, seconds: float, note: str = "") -> bool:
        """Put a job back for later without counting the attempt (e.g. the pipeline is still running)."""
        now = self.clock()
        return await self._fenced_update(
            job,
            state=QUEUED,
            run_after=now + timedelta(seconds=seconds),
            attempts=_jobs.c.attempts - 1,
            lease_owner=None,
            lease_expires_at=None,
            last_error=note or None,
        )

    async def release(self, job: ClaimedJob) -> bool:
        """Give a job back at shutdown; the interrupted attempt does not count."""
        return await self.defer(job, 0, "released at shutdown")

    async def extend_lease(self, job: ClaimedJob) -> bool:
        return await self._fenced_update(job, lease_expires_at=self.clock() + timedelta(seconds=self.lease_seconds))

    async def retry_dead(self, job_id: int) -> bool:
        """Give a dead-lettered job a fresh set of attempts."""
        now = self.clock()
        async with self.db.session() as session:
            result = await session.execute(
                sa.update(_jobs)
                .where(_jobs.c.id == job_id, _jobs.c.state == DEAD)
                .values(state=QUEUED, attempts=0, run_after=now, finished_at=None, updated_at=now)
            )
        return result.rowcount > 0

    async def counts(self) -> dict[str, int]:
        async with self.db.session() as session:
            rows = (await session.execute(sa.select(_jobs.c.state, sa.func.count()).group_by(_jobs.c.state))).all()
        out = {QUEUED: 0, RUNNING: 0, DONE: 0, DEAD: 0}
        out.update({state: n for state, n in rows})
        return out

    async def dead_letters(self, limit: int = 50) -> list[QueueJob]:
        async with self.db.session() as session:
            rows = (
                (
                    await session.execute(
                        sa.select(QueueJob).where(QueueJob.state == DEAD).order_by(QueueJob.id.desc()).limit(limit)
                    )
                )
                .scalars()
                .all()
            )
        return list(rows)


async def active_dedupe_keys(db: Database, keys: list[str]) -> set[str]:
    """Those of the keys whose job waits or runs now (a dry run asks; it never writes)."""
    if not keys:
        return set()
    async with db.session() as s:
        found = await s.execute(
            sa.select(_jobs.c.dedupe_key).where(_jobs.c.dedupe_key.in_(keys), _jobs.c.state.in_((QUEUED, RUNNING)))
        )
        return {str(k) for k in found.scalars()}


async def gave_up(db: Database, dedupe_key: str) -> bool:
    """Whether a job of this key was given up (dead): what it was to do was never done."""
    async with db.session() as s:
        found = await s.execute(
            sa.select(_jobs.c.id).where(_jobs.c.dedupe_key == dedupe_key, _jobs.c.state == DEAD).limit(1)
        )
        return found.first() is not None
