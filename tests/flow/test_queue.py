"""The durable queue on SQLite and PostgreSQL: dedupe, claims, leases, backoff, dead letters."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from storage.queue import DEAD, DONE, QUEUED, Queue, backoff_seconds, enqueue
from storage.types import utcnow


async def add(db, kind="analyze_pipeline", payload=None, **kw):
    async with db.session() as s:
        return await enqueue(s, kind, payload or {}, **kw)


async def test_enqueue_dedupes_on_key(database):
    first = await add(database, dedupe_key="k1")
    second = await add(database, dedupe_key="k1")
    assert first is not None and second is None
    assert (await Queue(database).counts())[QUEUED] == 1


async def test_enqueue_rolls_back_with_the_callers_transaction(database):
    with pytest.raises(RuntimeError):
        async with database.session() as s:
            await enqueue(s, "analyze_pipeline", {}, dedupe_key="k2")
            raise RuntimeError("the event could not be recorded")
    assert (await Queue(database).counts())[QUEUED] == 0
    assert await add(database, dedupe_key="k2") is not None


async def test_claim_complete(database):
    await add(database, payload={"pipeline": 7})
    q = Queue(database)
    job = await q.claim("w1")
    assert job and job.payload == {"pipeline": 7} and job.attempts == 1
    assert await q.claim("w2") is None
    assert await q.complete(job)
    assert (await q.counts())[DONE] == 1


async def test_concurrent_claimers_never_share_a_job(database):
    for i in range(40):
        await add(database, payload={"i": i})
    q = Queue(database)
    claimed: list[int] = []

    async def claimer(name: str) -> None:
        while True:
            job = await q.claim(name)
            if job is None:
                return
            claimed.append(job.id)
            await q.complete(job)

    await asyncio.gather(*(claimer(f"w{i}") for i in range(8)))
    assert len(claimed) == 40 and len(set(claimed)) == 40


async def test_expired_lease_is_reclaimed_and_old_owner_is_fenced(database):
    await add(database)
    now = [utcnow()]
    q = Queue(database, lease_seconds=30, clock=lambda: now[0])
    job = await q.claim("crashed")
    assert await q.claim("w2") is None
    now[0] += timedelta(seconds=31)
    again = await q.claim("w2")
    assert again is not None and again.id == job.id and again.attempts == 2
    assert not await q.complete(job), "a worker that lost its lease must not finish the job"
    assert await q.complete(again)


async def test_failures_back_off_then_dead_letter(database):
    await add(database, max_attempts=3)
    now = [utcnow()]
    q = Queue(database, backoff_base=10, backoff_cap=100, clock=lambda: now[0])
    for attempt in (1, 2):
        job = await q.claim("w")
        assert job.attempts == attempt
        assert await q.fail(job, f"boom {attempt}") == QUEUED
        assert await q.claim("w") is None, "a failed job waits for its backoff"
        now[0] += timedelta(seconds=200)
    job = await q.claim("w")
    assert await q.fail(job, "boom 3") == DEAD
    dead = await q.dead_letters()
    assert [d.last_error for d in dead] == ["boom 3"]
    assert await q.retry_dead(job.id)
    assert (await q.claim("w")).attempts == 1


async def test_permanent_failure_goes_straight_to_dead_letters(database):
    await add(database)
    q = Queue(database)
    job = await q.claim("w")
    assert await q.fail(job, "bad payload", retryable=False) == DEAD


async def test_worker_dying_on_last_attempt_is_dead_lettered(database):
    await add(database, max_attempts=1)
    now = [utcnow()]
    q = Queue(database, lease_seconds=10, clock=lambda: now[0])
    await q.claim("dies")
    now[0] += timedelta(seconds=11)
    assert await q.claim("w2") is None
    assert (await q.counts())[DEAD] == 1


async def test_defer_and_release_do_not_count_attempts(database):
    await add(database)
    now = [utcnow()]
    q = Queue(database, clock=lambda: now[0])
    job = await q.claim("w")
    await q.defer(job, 60, "pipeline still running")
    assert await q.claim("w") is None
    now[0] += timedelta(seconds=61)
    job = await q.claim("w")
    assert job.attempts == 1
    await q.release(job)
    assert (await q.claim("w")).attempts == 1


def test_backoff_grows_and_is_capped():
    rng = random.Random(1)
    waits = [backoff_seconds(a, 5, 60, rng) for a in range(1, 8)]
    assert 2.5 <= waits[0] <= 5
    assert all(w <= 60 for w in waits)
    assert waits[4] >= 30


async def test_a_finished_job_lets_the_same_key_be_enqueued_again(database):
    first = await add(database, dedupe_key="pipeline:1:2:failed")
    q = Queue(database)
    job = await q.claim("w")
    assert await add(database, dedupe_key="pipeline:1:2:failed") is None, "blocked while it runs"
    await q.complete(job)
    second = await add(database, dedupe_key="pipeline:1:2:failed")
    assert second is not None and second != first
