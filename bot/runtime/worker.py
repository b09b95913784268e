"""Workers: claim jobs from the durable queue, run them, keep their lease alive, retry or dead-letter."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from bot.core.outcomes import Defer, PermanentFailure, RetryLater
from bot.runtime.services import Services
from config.logging import log_context
from storage.heartbeats import beat
from storage.queue import ClaimedJob, Queue
from storage.types import utcnow

log = logging.getLogger(__name__)

JobHandler = Callable[[Services, ClaimedJob], Awaitable[None]]
BOOKKEEPING_ATTEMPTS = 5
LEASE_RETRY_SECONDS = 1.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """N concurrent claim loops in one process, sharing one worker id for heartbeats."""

    def __init__(
        self,
        services: Services,
        handlers: dict[str, JobHandler],
        *,
        concurrency: int,
        worker_id: str | None = None,
        poll_seconds: float = 1.0,
        grace_seconds: float = 20.0,
    ):
        self.services = services
        self.handlers = handlers
        self.concurrency = concurrency
        self.worker_id = worker_id or new_worker_id()
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.queue: Queue = services.queue
        self.metrics = services.metrics
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._running: dict[int, ClaimedJob] = {}

    def wake(self) -> None:
        """Look at the queue now (a door just enqueued something)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        loops = [asyncio.create_task(self._loop(i), name=f"worker-{i}") for i in range(self.concurrency)]
        heartbeat = asyncio.create_task(self._heartbeat(), name="worker-heartbeat")
        try:
            await self._stopping.wait()
            # Stop claiming; let running jobs finish within the grace period, then give them back.
            done, pending = await asyncio.wait(loops, timeout=self.grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _loop(self, index: int) -> None:
        kinds = list(self.handlers)
        while not self._stopping.is_set():
            try:
                job = await self.queue.claim(self.worker_id, kinds)
            except Exception:
                log.exception("claiming a job failed; retrying shortly")
                job = None
            if job is None:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass
                continue
            try:
                await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Never let one job's trouble end this loop: the process would keep serving with no workers.
                log.exception("unexpected error around job %s", job.id)
                await asyncio.sleep(self.poll_seconds)

    async def _keep_lease(self, job: ClaimedJob, work: asyncio.Task) -> None:
        """Renew the lease every third of it while the job runs (so a crashed worker's job is free again one lease
        after its last renewal); if another worker took the job over, stop this run."""
        interval = max(1.0, self.queue.lease_seconds / 3)
        wait = interval
        while True:
            await asyncio.sleep(wait)
            try:
                kept = await self.queue.extend_lease(job)
            except Exception:
                # Two thirds of the lease are left: try again soon rather than a whole interval later.
                log.warning("could not extend the lease on job %s; trying again", job.id, exc_info=True)
                wait = min(interval, LEASE_RETRY_SECONDS)
                continue
            if not kept:
                log.warning("lost the lease on job %s; stopping this run", job.id)
                work.cancel()
                return
            wait = interval

    async def _book(self, what: str, call, *args, **kwargs):
        """Queue bookkeeping survives a short database outage; if it never gets through, the lease expires
        and the job is claimed again, which is safe because jobs are idempotent."""
        for attempt in range(BOOKKEEPING_ATTEMPTS):
            try:
                return await call(*args, **kwargs)
            except Exception:
                log.warning("could not %s (attempt %d)", what, attempt + 1, exc_info=attempt == 0)
                await asyncio.sleep(min(2**attempt, 10))
        return None

    async def _run(self, job: ClaimedJob) -> None:
        handler = self.handlers[job.kind]
        started = time.perf_counter()
        outcome = "done"
        self._running[job.id] = job
        work = asyncio.create_task(handler(self.services, job))
        keeper = asyncio.create_task(self._keep_lease(job, work))
        with log_context(
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempts,
            project=job.payload.get("project_id"),
            pipeline=job.payload.get("pipeline_id"),
        ):
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                if not work.cancelled():
                    # This worker is stopping: give the job back and stop its run.
                    outcome = "released"
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
                    await asyncio.shield(self._book("release the job", self.queue.release, job))
                    raise
                outcome = "lost"  # the lease went to another worker, which now owns the job
            except Defer as exc:
                outcome = "deferred"
                log.info("job deferred %.0fs: %s", exc.seconds, exc)
                await self._book("defer the job", self.queue.defer, job, exc.seconds, str(exc))
            except PermanentFailure as exc:
                outcome = "dead"
                log.error("job failed permanently: %s", exc)
                await self._book(
                    "dead-letter the job", self.queue.fail, job, f"{type(exc).__name__}: {exc}", retryable=False
                )
                await self._on_dead(job, exc)
            except Exception as exc:
                state = await self._book(
                    "record the failed attempt", self.queue.fail, job, f"{type(exc).__name__}: {exc}"
                )
                outcome = "dead" if state == "dead" else "retry"
                log.warning(
                    "job attempt %d failed (%s): %s", job.attempts, state, exc, exc_info=not isinstance(exc, RetryLater)
                )
                if state == "dead":
                    await self._on_dead(job, exc)
            else:
                if not await self._book("complete the job", self.queue.complete, job):
                    log.warning("job finished after its lease was lost; another worker owns it now")
            finally:
                keeper.cancel()
                self._running.pop(job.id, None)
                self.metrics.job_duration.labels(job.kind, outcome).observe(time.perf_counter() - started)

    async def _on_dead(self, job: ClaimedJob, exc: BaseException) -> None:
        # Say where people will see it that the bot gave up.
        notify = self.services.on_dead_job
        if notify is None:
            return
        try:
            await notify(self.services, job, exc)
        except Exception:
            log.exception("could not report the dead job")

    async def _heartbeat(self) -> None:
        db = self.services.db
        started = utcnow()
        while True:
            try:
                await beat(
                    db,
                    worker_id=self.worker_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=started,
                    now=utcnow(),
                )
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(10)
