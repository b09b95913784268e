"""Recording many deliveries in one transaction: the door's group commit and the spool's replay.

On PostgreSQL the batch is a handful of set-based statements on a connection of its own (asyncpg, prepared
and cached), whatever the batch size; on SQLite it is one transaction of two multi-row statements on the writer's
own connection, in a thread of its own, taken in turn with the process's other writers.
Each delivery is deduplicated exactly as `storage.inbox.record_event` does it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta

import asyncpg
import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError

from bot.core.intake import IntakeRecord
from storage.db import Database, DatabaseError, sqlite_file
from storage.inbox import IntakeResult
from storage.models import ACTIVE_STATES_SQL, QueueJob, ReceivedEvent
from storage.types import utcnow

SQLITE_BUSY_MS = 800  # storage/db.py's other writers wait up to 30 s

_events = ReceivedEvent.__table__
_jobs = QueueJob.__table__


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer in time: nothing of the batch was recorded."""


class RecordRejected(Exception):
    """The database refused this delivery's values (the others of its batch are recorded without it)."""


# One statement, so one round trip and its own transaction: the events, the jobs of the events that were new
# (unique among active jobs), and the existing jobs those events hasten. Sub-statements share one snapshot,
# so the UPDATE sees only jobs that were there before (never the ones inserted here).
_RECORD_BATCH = f"""
WITH ev AS (
    INSERT INTO received_events (source, delivery_key, event_type, project_id, object_id, status, outcome, payload,
                                 received_at)
    SELECT s, k, e, p, o, st, oc, pl::json, r
    FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[], $5::bigint[], $6::varchar[],
                $7::varchar[], $8::text[], $9::timestamptz[]) WITH ORDINALITY AS u(s, k, e, p, o, st, oc, pl, r, n)
    ORDER BY n
    ON CONFLICT (delivery_key) DO NOTHING
    RETURNING id, delivery_key
), jb AS (
    INSERT INTO queue_jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, event_id,
                            created_at, updated_at)
    SELECT j.kind, j.pl::json, j.dk, 'queued', 0, j.ma, j.ra, ev.id, $16, $16
    FROM unnest($10::varchar[], $11::varchar[], $12::text[], $13::varchar[], $14::int[], $15::timestamptz[])
         WITH ORDINALITY AS j(k, kind, pl, dk, ma, ra, n)
    JOIN ev ON ev.delivery_key = j.k
    ORDER BY j.n
    ON CONFLICT (dedupe_key) WHERE {ACTIVE_STATES_SQL} DO NOTHING
    RETURNING id, dedupe_key, event_id
), hs AS (
    UPDATE queue_jobs q SET run_after = $16, updated_at = $16
    FROM (SELECT DISTINCT h.dk FROM unnest($10::varchar[], $13::varchar[], $17::bool[]) AS h(k, dk, hasten)
          JOIN ev ON ev.delivery_key = h.k WHERE h.hasten) AS h
    WHERE q.dedupe_key = h.dk AND q.state = 'queued' AND q.run_after > $16
      AND h.dk NOT IN (SELECT dedupe_key FROM jb)
)
SELECT id, delivery_key AS key, NULL::int AS event_id FROM ev
UNION ALL
SELECT id, dedupe_key, event_id FROM jb
"""

_HASTEN = """
UPDATE queue_jobs SET run_after = $2, updated_at = $2
WHERE dedupe_key = ANY($1::varchar[]) AND state = 'queued' AND run_after > $2
"""

_DUPLICATE_EVENTS = "UPDATE received_events SET outcome = 'duplicate_event' WHERE id = ANY($1::int[])"

# Errors that are about the values sent, not about the database being there.
_PG_REJECTIONS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, asyncpg.ProgramLimitExceededError)
_SQLITE_REJECTIONS = (sqlite3.IntegrityError, sqlite3.DataError, IntegrityError, DataError)


def _json(value) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        # orjson refuses text that is not valid Unicode (a lone surrogate from a JSON escape); the standard
        # library escapes it, which PostgreSQL's json type keeps as it is.
        return json.dumps(value)


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


def _first_of_each_key(records: list[IntakeRecord]) -> dict[str, int]:
    """delivery key -> the index of its first delivery (a delivery twice in one batch is a duplicate)."""
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        first.setdefault(record.delivery_key, i)
    return first


def _settle(
    records: list[IntakeRecord],
    first: dict[str, int],
    event_by_key: dict[str, int],
    job_rows: list[tuple[int, str, int]],
):
    """From what the database inserted (events by delivery key; jobs as (id, dedupe key, event id)): each
    record's event and jobs, the events whose jobs all existed already, and the dedupe keys they would hasten."""
    jobs_by_event: dict[int, list[int]] = {}
    for job_id, _, event_id in job_rows:
        jobs_by_event.setdefault(event_id, []).append(job_id)
    event_ids = {
        i: event_by_key[r.delivery_key]
        for i, r in enumerate(records)
        if first[r.delivery_key] == i and r.delivery_key in event_by_key
    }
    job_ids = {i: jobs_by_event[e] for i, e in event_ids.items() if e in jobs_by_event}
    duplicates = [e for i, e in event_ids.items() if records[i].jobs and i not in job_ids]
    won = {(event_id, key) for _, key, event_id in job_rows}
    hasten = sorted(
        {
            job.dedupe_key
            for i, e in event_ids.items()
            for job in records[i].jobs
            if job.hasten_existing and (e, job.dedupe_key) not in won
        }
    )
    return event_ids, job_ids, duplicates, hasten


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset between batches: they run one statement each and change no session state (asyncpg's
    default reset costs a round trip per batch)."""


class IntakeWriter:
    """Writes batches of deliveries; one batch at a time, on one connection (PostgreSQL) or the SQLite file."""

    def __init__(self, db: Database, *, timeout: float = 5.0, connections: int = 4):
        self.db = db
        self.timeout = timeout
        self.connections = connections if db.is_postgres else 1  # SQLite has one writer at a time anyway
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._executor: ThreadPoolExecutor | None = None  # SQLite: the writer's thread and its own connection
        self._sqlite: sqlite3.Connection | None = None

    async def write(self, records: list[IntakeRecord]) -> list[IntakeResult | RecordRejected]:
        """Each delivery's result, or RecordRejected for one the database refused; DatabaseUnavailable when
        nothing could be recorded."""
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
        if self._pool is not None:
            self._pool.terminate()  # a connection stuck on a dead server must not hold the shutdown
            self._pool = None
        if self._executor is not None:
            if self._sqlite is not None:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._sqlite.close)
                self._sqlite = None
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _write(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        if self.db.is_postgres:
            return await self._write_pg(records)
        return await self._write_sqlite(records)

    # --- PostgreSQL ------------------------------------------------------------------------------------------

    async def _connections(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                url = make_url(self.db.url)
                # min_size=0: nothing connects until a batch needs it, so a database that is down costs nothing.
                self._pool = await asyncpg.create_pool(
                    url.set(drivername="postgresql").render_as_string(hide_password=False),
                    min_size=0,
                    max_size=self.connections,
                    timeout=self.timeout,
                    command_timeout=self.timeout,
                    server_settings={"search_path": self.db.schema} if self.db.schema else None,
                    reset=_keep_session,
                )
        return self._pool

    async def _write_pg(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        try:
            pool = await self._connections()
            for attempt in range(3):
                try:
                    async with pool.acquire(timeout=self.timeout) as conn:
                        return await self._batch_pg(conn, records)
                except asyncpg.TransactionRollbackError:
                    # Two batches took the same delivery keys in opposite orders (a deadlock): run it again.
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")
        except _PG_REJECTIONS as exc:
            raise RecordRejected(str(exc)[:300]) from exc
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    async def _batch_pg(self, conn: asyncpg.Connection, records: list[IntakeRecord]) -> list[IntakeResult]:
        now = utcnow()
        first = _first_of_each_key(records)
        batch = [records[i] for i in sorted(first.values())]
        jobs = [(r, job) for r in batch for job in r.jobs]
        rows = await conn.fetch(
            _RECORD_BATCH,
            [r.source for r in batch],
            [r.delivery_key for r in batch],
            [r.event_type for r in batch],
            [r.project_id for r in batch],
            [r.object_id for r in batch],
            [r.status for r in batch],
            ["enqueued" if r.jobs else "recorded" for r in batch],
            [_json(r.payload) for r in batch],
            [r.received_at for r in batch],
            [r.delivery_key for r, _ in jobs],
            [job.kind for _, job in jobs],
            [_json(job.payload) for _, job in jobs],
            [job.dedupe_key for _, job in jobs],
            [r.max_attempts for r, _ in jobs],
            [now + timedelta(seconds=job.delay_seconds) for _, job in jobs],
            now,
            [job.hasten_existing for _, job in jobs],
        )
        event_by_key = {row["key"]: row["id"] for row in rows if row["event_id"] is None}
        job_rows = [(row["id"], row["key"], row["event_id"]) for row in rows if row["event_id"] is not None]
        event_ids, job_ids, duplicates, hasten = _settle(records, first, event_by_key, job_rows)
        # The statement hastened the jobs that were there before it; a job an earlier delivery of this same
        # batch queued (a Job Hook's, held back) is hastened here, as it would be one delivery at a time.
        # Both are written after the batch committed; a crash in between leaves a label or a held-back job,
        # which the Pipeline Hook's replay or GitLab's next event settles.
        inserted = {key for _, key, _ in job_rows}
        if hasten := [key for key in hasten if key in inserted]:
            await conn.execute(_HASTEN, hasten, now)
        if duplicates:
            await conn.execute(_DUPLICATE_EVENTS, duplicates)
        return _results(records, event_ids, job_ids)

    # --- SQLite ----------------------------------------------------------------------------------------------

    async def _write_sqlite(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        try:
            # The process's turn at the file (as every other writer of it takes), then one hop to the writer's
            # thread, where the whole batch runs on the writer's own connection.
            if sqlite_file(self.db.url) is None:  # an in-memory database lives in the engine's one connection
                async with asyncio.timeout(self.timeout), self.db.connection() as conn:
                    return await conn.run_sync(lambda c: self._batch_sqlite_statements(_EngineConnection(c), records))
            async with asyncio.timeout(self.timeout), self.db.sqlite_turn():
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._sqlite_thread(), self._batch_sqlite, records)
        except _SQLITE_REJECTIONS as exc:
            raise RecordRejected(str(exc)[:300]) from exc
        except (OSError, TimeoutError, sqlite3.Error, DatabaseError) as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    def _sqlite_thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-sqlite")
        return self._executor

    def _sqlite_connection(self) -> sqlite3.Connection:
        """The writer's connection (opened in the writer's thread, used only there)."""
        if self._sqlite is None:
            path = sqlite_file(self.db.url)
            # A file another process holds is a database that does not answer: give up within a second (the spool
            # takes the delivery) instead of the 30 s other writers wait.
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=SQLITE_BUSY_MS / 1000)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
            self._sqlite = conn
        return self._sqlite

    def _batch_sqlite(self, records: list[IntakeRecord]) -> list[IntakeResult]:
        """Two multi-row statements for the batch, in one transaction; values as SQLAlchemy's types write them."""
        conn = self._sqlite_connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = self._batch_sqlite_statements(conn, records)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return results

    def _batch_sqlite_statements(
        self, conn: sqlite3.Connection | _EngineConnection, records: list[IntakeRecord]
    ) -> list[IntakeResult]:
        now = utcnow()
        first = _first_of_each_key(records)
        batch = [records[i] for i in sorted(first.values())]
        values = [
            (
                r.source,
                r.delivery_key,
                r.event_type,
                r.project_id,
                r.object_id,
                r.status,
                "enqueued" if r.jobs else "recorded",
                _sqlite_json(r.payload),
                _sqlite_time(r.received_at),
            )
            for r in batch
        ]
        rows = conn.execute(
            _sqlite_insert(_SQLITE_EVENTS, 9, len(values)), tuple(v for row in values for v in row)
        ).fetchall()
        event_by_key = {key: event_id for event_id, key in rows}
        stamp = _sqlite_time(now)
        jobs = [
            (
                job.kind,
                _sqlite_json(job.payload),
                job.dedupe_key,
                r.max_attempts,
                _sqlite_time(now + timedelta(seconds=job.delay_seconds)),
                event_by_key[r.delivery_key],
                stamp,
                stamp,
            )
            for r in batch
            if r.delivery_key in event_by_key
            for job in r.jobs
        ]
        job_rows: list[tuple[int, str, int]] = []
        if jobs:
            job_rows = [
                tuple(row)
                for row in conn.execute(
                    _sqlite_insert(_SQLITE_JOBS, 8, len(jobs)), tuple(v for row in jobs for v in row)
                ).fetchall()
            ]
        event_ids, job_ids, duplicates, hasten = _settle(records, first, event_by_key, job_rows)
        if hasten:
            marks = ",".join("?" * len(hasten))
            conn.execute(
                "UPDATE queue_jobs SET run_after = ?, updated_at = ? "
                f"WHERE dedupe_key IN ({marks}) AND state = 'queued' AND run_after > ?",
                (stamp, stamp, *hasten, stamp),
            )
        if duplicates:
            marks = ",".join("?" * len(duplicates))
            conn.execute(
                f"UPDATE received_events SET outcome = 'duplicate_event' WHERE id IN ({marks})", tuple(duplicates)
            )
        return _results(records, event_ids, job_ids)


class _EngineConnection:
    """The engine's connection (in-memory SQLite) with the sqlite3 `execute` the batch uses."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()):
        return self.conn.exec_driver_sql(sql, params)


_SQLITE_EVENTS = (
    "INSERT INTO received_events (source, delivery_key, event_type, project_id, object_id, status, outcome, "
    "payload, received_at) VALUES {rows} ON CONFLICT (delivery_key) DO NOTHING RETURNING id, delivery_key"
)
_SQLITE_JOBS = (
    "INSERT INTO queue_jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, event_id, "
    "created_at, updated_at) VALUES {rows} "
    f"ON CONFLICT (dedupe_key) WHERE {ACTIVE_STATES_SQL} DO NOTHING RETURNING id, dedupe_key, event_id"
)


def _sqlite_insert(template: str, columns: int, rows: int) -> str:
    if columns == 8:  # the jobs' state and attempts are constants
        row = "(?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?)"
    else:
        row = "(" + ", ".join("?" * columns) + ")"
    return template.format(rows=", ".join([row] * rows))


def _sqlite_time(value) -> str:
    # storage/types.UTCDateTime on SQLite: naive UTC in SQLAlchemy's DATETIME text format.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_json(value) -> str | None:
    # sa.JSON on SQLite: the standard library's json.dumps.
    return None if value is None else json.dumps(value)
