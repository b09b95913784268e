"""Workers: run jobs, retry, defer, dead-letter and say so, stop gracefully and give jobs back."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.core.outcomes import Defer, PermanentFailure
from bot.runtime.services import Services
from bot.runtime.worker import Worker
from storage.models import QueueJob, WorkerHeartbeat
from storage.queue import enqueue
from tests.helpers import make_settings


async def add(db, kind, payload=None, **kw):
    async with db.session() as s:
        return await enqueue(s, kind, payload or {}, **kw)


async def job(db, job_id) -> QueueJob:
    async with db.session() as s:
        return await s.get(QueueJob, job_id)


async def run_until(worker: Worker, predicate, timeout=10.0):
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(int(timeout / 0.05)):
            if await predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("condition not reached")
    finally:
        worker.stop()
        await task


def services_for(db, **overrides):
    return Services.build(
        make_settings(QUEUE_BACKOFF_BASE_SECONDS=0.05, QUEUE_BACKOFF_MAX_SECONDS=0.1, **overrides), db=db
    )


async def test_jobs_run_retry_and_dead_letter_with_a_notice(database):
    services = services_for(database)
    seen, dead = [], []

    async def flaky(_, j):
        seen.append(j.attempts)
        if j.attempts < 2:
            raise RuntimeError("GitLab hiccup")

    async def broken(_, j):
        raise PermanentFailure("project was deleted")

    async def notify(svc, j, exc):
        assert svc is services
        dead.append((j.kind, str(exc)))

    services.on_dead_job = notify
    ok_id = await add(database, "flaky")
    dead_id = await add(database, "broken")
    worker = Worker(services, {"flaky": flaky, "broken": broken}, concurrency=2, poll_seconds=0.05)

    async def finished():
        return (await job(database, ok_id)).state == "done" and (await job(database, dead_id)).state == "dead"

    await run_until(worker, finished)
    assert seen == [1, 2]
    assert dead == [("broken", "project was deleted")]
    assert "project was deleted" in (await job(database, dead_id)).last_error
    async with database.session() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(WorkerHeartbeat))).scalar() == 1


async def test_defer_does_not_use_an_attempt(database):
    services = services_for(database)
    calls = []

    async def waiting(_, j):
        calls.append(j.attempts)
        if len(calls) < 3:
            raise Defer(0.05, "pipeline is running")

    job_id = await add(database, "waiting", max_attempts=1)
    worker = Worker(services, {"waiting": waiting}, concurrency=1, poll_seconds=0.05)

    async def done():
        return (await job(database, job_id)).state == "done"

    await run_until(worker, done)
    assert calls == [1, 1, 1]


async def test_stop_gives_running_jobs_back_after_the_grace_period(database):
    services = services_for(database)
    started = asyncio.Event()

    async def slow(_, j):
        started.set()
        await asyncio.sleep(60)

    job_id = await add(database, "slow")
    worker = Worker(services, {"slow": slow}, concurrency=1, poll_seconds=0.05, grace_seconds=0.3)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 5)
    worker.stop()
    await asyncio.wait_for(task, 5)
    released = await job(database, job_id)
    assert released.state == "queued" and released.attempts == 0 and released.lease_owner is None


async def test_unknown_kinds_are_left_for_a_worker_that_knows_them(database):
    services = services_for(database)
    other = await add(database, "not_mine")

    async def mine(_, j):
        pass

    mine_id = await add(database, "mine")
    worker = Worker(services, {"mine": mine}, concurrency=1, poll_seconds=0.05)

    async def done():
        return (await job(database, mine_id)).state == "done"

    await run_until(worker, done)
    assert (await job(database, other)).state == "queued"


async def test_a_database_error_during_bookkeeping_does_not_end_the_loop(database):
    services = services_for(database)
    done = []

    async def quick(_, j):
        done.append(j.id)

    real_complete = services.queue.complete
    failures = {"left": 1}

    async def flaky_complete(job):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database restarting")
        return await real_complete(job)

    services.queue.complete = flaky_complete
    first = await add(database, "quick")
    second = await add(database, "quick")
    worker = Worker(services, {"quick": quick}, concurrency=1, poll_seconds=0.05)

    async def both_done():
        return (await job(database, first)).state == "done" and (await job(database, second)).state == "done"

    await run_until(worker, both_done, timeout=20)


async def test_a_run_whose_lease_was_taken_over_is_stopped(database):
    services = services_for(database, QUEUE_LEASE_SECONDS=5)
    stopped = asyncio.Event()

    async def long(_, j):
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.set()
            raise

    job_id = await add(database, "long")
    worker = Worker(services, {"long": long}, concurrency=1, poll_seconds=0.05)
    task = asyncio.create_task(worker.run())
    for _ in range(100):
        if (await job(database, job_id)).state == "running":
            break
        await asyncio.sleep(0.05)
    async with database.session() as s:  # another worker took the job over
        await s.execute(sa.update(QueueJob).where(QueueJob.id == job_id).values(lease_owner="someone-else"))
    await asyncio.wait_for(stopped.wait(), 10)
    worker.stop()
    await task
    assert (await job(database, job_id)).lease_owner == "someone-else"


async def test_the_real_dead_job_notice_is_called_with_the_services(database, monkeypatch):
    import app as wiring
    from bot.jobs import analyze_pipeline as analysis

    services = services_for(database)
    seen = []

    async def fake_notice(svc, j, exc):
        seen.append((svc, j.kind))

    monkeypatch.setattr(wiring, "notify_dead_job", fake_notice)
    await services.start()
    try:
        await wiring.attach(services)
    finally:
        await services.http.close()
    assert analysis.notify_dead_job is not fake_notice and services.on_dead_job is fake_notice

    async def broken(_, j):
        raise PermanentFailure("gone")

    job_id = await add(database, "broken")
    worker = Worker(services, {"broken": broken}, concurrency=1, poll_seconds=0.05)

    async def dead():
        return (await job(database, job_id)).state == "dead"

    await run_until(worker, dead)
    assert seen == [(services, "broken")]
