"""Recording many deliveries in one transaction: the door's group commit and the spool's replay.

On PostgreSQL the batch is a handful of set-based statements on a connection of its own (asyncpg, prepared
and cached), whatever the batch size; on SQLite it is one transaction with a few statements per delivery.
Each delivery is deduplicated exactly as `storage.inbox.record_event` does it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.core.intake import IntakeRecord
from storage.db import Database
from storage.inbox import IntakeResult
from storage.models import ACTIVE_STATES_SQL, QueueJob, ReceivedEvent
from storage.sql import insert_for
from storage.types import utcnow

_events = ReceivedEvent.__table__
_jobs = QueueJob.__table__


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer in time: nothing of the batch was recorded."""


class RecordRejected(Exception):
    """The database refused this delivery's values (the others of its batch are recorded without it)."""


_INSERT_EVENTS = """
INSERT INTO received_events (source, delivery_key, event_type, project_id, object_id, status, outcome, payload,
                             received_at)
SELECT s, k, e, p, o, st, oc, pl::json, r
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[], $5::bigint[], $6::varchar[], $7::varchar[],
            $8::text[], $9::timestamptz[]) WITH ORDINALITY AS u(s, k, e, p, o, st, oc, pl, r, n)
ORDER BY n
ON CONFLICT (delivery_key) DO NOTHING
RETURNING id, delivery_key
"""

_INSERT_JOBS = f"""
INSERT INTO queue_jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, event_id, created_at,
                        updated_at)
SELECT kind, pl::json, dk, 'queued', 0, ma, ra, ev, $7, $7
FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::int[], $5::timestamptz[], $6::int[])
     WITH ORDINALITY AS u(kind, pl, dk, ma, ra, ev, n)
ORDER BY n
ON CONFLICT (dedupe_key) WHERE {ACTIVE_STATES_SQL} DO NOTHING
RETURNING id, dedupe_key
"""

_HASTEN = """
UPDATE queue_jobs SET run_after = $2, updated_at = $2
WHERE dedupe_key = ANY($1::varchar[]) AND state = 'queued' AND run_after > $2
"""

_DUPLICATE_EVENTS = "UPDATE received_events SET outcome = 'duplicate_event' WHERE id = ANY($1::int[])"

# Errors that are about the values sent, not about the database being there.
_PG_REJECTIONS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, asyncpg.ProgramLimitExceededError)
_SQLITE_REJECTIONS = (sa.exc.IntegrityError, sa.exc.DataError, sqlite3.IntegrityError, sqlite3.DataError)


def _json(value) -> str | None:
    # As SQLAlchemy's JSON type writes it: every non-ASCII character escaped.
    return None if value is None else json.dumps(value)


def _plan_jobs(records: list[IntakeRecord], event_ids: dict[int, int]):
    """(record index, job) for the jobs of the events that were inserted, in order."""
    return [(i, job) for i, record in enumerate(records) if i in event_ids for job in record.jobs]


def _results(
    records: list[IntakeRecord], event_ids: dict[int, int], job_ids: dict[int, list[int]]
) -> list[IntakeResult]:
    out = []
    for i, record in enumerate(records):
        if i not in event_ids:
            out.append(IntakeResult("duplicate_delivery", None, []))
        elif not record.jobs:
            out.append(IntakeResult("recorded", event_ids[i], []))
        else:
            ids = job_ids.get(i, [])
            out.append(IntakeResult("enqueued" if ids else "duplicate_event", event_ids[i], ids))
    return out


def _first_claims(keys: list[str], returned: list[str]) -> dict[int, bool]:
    """Which positions of `keys` got a row, when the database returns the keys it inserted (once each)."""
    left = set(returned)
    won: dict[int, bool] = {}
    for i, key in enumerate(keys):
        won[i] = key in left
        left.discard(key)
    return won


class IntakeWriter:
    """Writes batches of deliveries; one batch at a time, on one connection (PostgreSQL) or the SQLite file."""

    def __init__(self, db: Database, *, timeout: float = 5.0):
        self.db = db
        self.timeout = timeout
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def write(self, records: list[IntakeRecord]) -> list[IntakeResult | RecordRejected]:
        """Each delivery's result, or RecordRejected for one the database refused; DatabaseUnavailable when
        nothing could be recorded."""
        async with self._lock:
            try:
                return list(await self._write(records))
            except RecordRejected as exc:
                if len(records) == 1:
                    return [exc]
            # One delivery's values spoiled the batch: record the others, each on its own.
            results: list[IntakeResult | RecordRejected] = []
            for record in records:
                try:
                    results.extend(await self._write([record]))
                except RecordRejected as exc:
                    results.append(exc)
            return results

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def _write(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        if self.db.is_postgres:
            return await self._write_pg(records)
        return await self._write_sqlite(records)

    # --- PostgreSQL ------------------------------------------------------------------------------------------

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            url = make_url(self.db.url)
            settings = {"search_path": self.db.schema} if self.db.schema else None
            self._conn = await asyncpg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False),
                timeout=self.timeout,
                command_timeout=self.timeout,
                server_settings=settings,
            )
        return self._conn

    async def _write_pg(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        try:
            conn = await self._connection()
            async with conn.transaction():
                return await self._batch_pg(conn, records)
        except _PG_REJECTIONS as exc:
            raise RecordRejected(str(exc)[:300]) from exc
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # Whatever state the connection is in, a fresh one is cheaper than finding out.
            await self.close()
            raise DatabaseUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    async def _batch_pg(self, conn: asyncpg.Connection, records: list[IntakeRecord]) -> list[IntakeResult]:
        now = utcnow()
        rows = await conn.fetch(
            _INSERT_EVENTS,
            [r.source for r in records],
            [r.delivery_key for r in records],
            [r.event_type for r in records],
            [r.project_id for r in records],
            [r.object_id for r in records],
            [r.status for r in records],
            ["enqueued" if r.jobs else "recorded" for r in records],
            [_json(r.payload) for r in records],
            [r.received_at for r in records],
        )
        by_key = {row["delivery_key"]: row["id"] for row in rows}
        won = _first_claims([r.delivery_key for r in records], list(by_key))
        event_ids = {i: by_key[records[i].delivery_key] for i, ok in won.items() if ok}
        planned = _plan_jobs(records, event_ids)
        job_ids: dict[int, list[int]] = {}
        if planned:
            rows = await conn.fetch(
                _INSERT_JOBS,
                [job.kind for _, job in planned],
                [_json(job.payload) for _, job in planned],
                [job.dedupe_key for _, job in planned],
                [records[i].max_attempts for i, _ in planned],
                [now + timedelta(seconds=job.delay_seconds) for _, job in planned],
                [event_ids[i] for i, _ in planned],
                now,
            )
            by_dedupe = {row["dedupe_key"]: row["id"] for row in rows}
            won_jobs = _first_claims([job.dedupe_key for _, job in planned], list(by_dedupe))
            for n, (i, job) in enumerate(planned):
                if won_jobs[n]:
                    job_ids.setdefault(i, []).append(by_dedupe[job.dedupe_key])
            hasten = [job.dedupe_key for n, (_, job) in enumerate(planned) if not won_jobs[n] and job.hasten_existing]
            if hasten:
                await conn.execute(_HASTEN, hasten, now)
            duplicates = [event_ids[i] for i in event_ids if records[i].jobs and not job_ids.get(i)]
            if duplicates:
                await conn.execute(_DUPLICATE_EVENTS, duplicates)
        return _results(records, event_ids, job_ids)

    # --- SQLite ----------------------------------------------------------------------------------------------

    async def _write_sqlite(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        try:
            async with asyncio.timeout(self.timeout), self.db.connection() as conn:
                return [await self._one_sqlite(conn, record) for record in records]
        except _SQLITE_REJECTIONS as exc:
            raise RecordRejected(str(exc)[:300]) from exc
        except (OSError, TimeoutError, sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    async def _one_sqlite(self, conn, record: IntakeRecord) -> IntakeResult:
        now = utcnow()
        insert = insert_for(self.db)
        stmt = (
            insert(_events)
            .values(
                source=record.source,
                delivery_key=record.delivery_key,
                event_type=record.event_type,
                project_id=record.project_id,
                object_id=record.object_id,
                status=record.status,
                outcome="enqueued" if record.jobs else "recorded",
                payload=record.payload,
                received_at=record.received_at,
            )
            .on_conflict_do_nothing(index_elements=["delivery_key"])
            .returning(_events.c.id)
        )
        row = (await conn.execute(stmt)).first()
        if row is None:
            return IntakeResult("duplicate_delivery", None, [])
        event_id = row[0]
        job_ids: list[int] = []
        for job in record.jobs:
            stmt = (
                insert(_jobs)
                .values(
                    kind=job.kind,
                    payload=job.payload,
                    dedupe_key=job.dedupe_key,
                    state="queued",
                    attempts=0,
                    max_attempts=record.max_attempts,
                    run_after=now + timedelta(seconds=job.delay_seconds),
                    event_id=event_id,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=sa.text(ACTIVE_STATES_SQL))
                .returning(_jobs.c.id)
            )
            found = (await conn.execute(stmt)).first()
            if found is not None:
                job_ids.append(found[0])
            elif job.hasten_existing:
                await conn.execute(
                    sa.update(_jobs)
                    .where(_jobs.c.dedupe_key == job.dedupe_key, _jobs.c.state == "queued", _jobs.c.run_after > now)
                    .values(run_after=now, updated_at=now)
                )
        if record.jobs and not job_ids:
            await conn.execute(_events.update().where(_events.c.id == event_id).values(outcome="duplicate_event"))
        return _results([record], {0: event_id}, {0: job_ids} if job_ids else {})[0]
