"""The IMAP door: a scheduled poll (APScheduler) that turns GitLab's pipeline-failure emails into queued analyses."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clients.mailbox import ImapMailbox, MailboxError, classify_error
from bot.core.email_parse import (
    REASON_TOO_LARGE,
    STATUS_MALFORMED,
    PipelineFailureEmail,
    SkippedEmail,
    message_key,
    parse_email,
)
from bot.core.redact_payload import redact_payload
from bot.core.types import JobSpec
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, EmailFacts
from bot.runtime.services import Services
from config.logging import log_context
from config.settings import Settings
from handlers.gitlab_routing import pipeline_key
from storage import history, queue
from storage.inbox import record_event
from storage.locks import named_lock
from storage.mailbox import known_message, load_state, mark_processed, save_state

log = logging.getLogger(__name__)

EVENT_TYPE = "Pipeline Failed Email"
SOURCE = "email"
JOB_ID = "imap-poll"
BACKOFF_CAP_SECONDS = 900  # a dead server is retried at least every 15 minutes
FETCH_BATCH = 20  # messages fetched per IMAP round trip
MAX_PER_POLL = 200  # bounds one poll's time; the rest waits for the next poll
STATUS_ENQUEUED = "enqueued"
STATUS_DUPLICATE = "duplicate"
REASON_ALREADY_QUEUED = "pipeline already queued by another trigger"
REASON_EVENT_KNOWN = "event already recorded"
REASON_ALREADY_ANALYSED = "every failed job it names was already analysed (another trigger came first)"

LOG_POLL_FAILED = "IMAP poll failed: %s; next try in %ds"
LOG_STILL_FAILING = "IMAP poll still failing (%d times): %s; next try in %ds"
LOG_RECOVERED = "IMAP poll works again after %d failed attempts"
LOG_UIDVALIDITY = (
    "IMAP folder %s has a new UIDVALIDITY (%s, was %s); reading it from the start, known messages are skipped"
)
LOG_POLLED = "IMAP poll of %s: %d new, %d enqueued, %d duplicate, %d skipped, %d malformed, %d already known"
LOG_LOCKED = "IMAP poll of %s skipped: another replica is polling"
LOG_MESSAGE = "email %s: %s %s"


class _Session:
    """Runs one ImapMailbox's calls on one dedicated thread, off the event loop."""

    def __init__(self, mailbox: Any):
        self.mailbox = mailbox
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap-poll")

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, partial(getattr(self.mailbox, name), *args, **kwargs))

    async def close(self) -> None:
        try:
            await self.call("close")
        finally:
            self.executor.shutdown(wait=False)


@dataclass
class PollResult:
    polled: bool = True  # False when another replica held the lock
    new: int = 0
    enqueued: int = 0
    duplicate: int = 0
    skipped: int = 0
    malformed: int = 0
    known: int = 0
    uidvalidity_reset: bool = False
    job_ids: list[int] | None = None

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


def delivery_key(message_id: str) -> str:
    key = f"email:{message_id}"
    if len(key) <= 255:
        return key
    return "email:sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def job_spec(parsed: PipelineFailureEmail, facts: dict) -> JobSpec:
    """The analysis job one failure email asks for (facts: its email_payload, redacted); the key is shared with the
    webhook's."""
    analyze = AnalyzePipelinePayload(
        project_id=parsed.project_id,
        pipeline_id=parsed.pipeline_id,
        trigger="email",
        email=EmailFacts.model_validate(facts),
    )
    # hasten: a Job Hook may have queued this pipeline with a grace delay; the mail says it is finished.
    return analyze.job_spec(pipeline_key(parsed.project_id, parsed.pipeline_id, "failed"), hasten_existing=True)


async def _enqueue(services: Services, parsed: PipelineFailureEmail, where: dict, result: PollResult) -> None:
    db, settings = services.db, services.settings
    # The branch and CI job names are free text, and a secret can hide in one (a branch named after a token): they
    # are stored, and posted to Slack when the bot has no API token, so they are redacted as a webhook's are.
    redactor = services.redactor.fresh()
    facts = redact_payload(parsed.email_payload(), redactor.redact_text)
    # GitLab's mail comes a minute or more after the Pipeline Hook, when the webhook's analysis has usually finished:
    # the queue's key no longer holds it back, so the jobs the mail names decide (a retried job failing again is new).
    analysed = await _already_analysed(services, parsed)
    intake = await record_event(
        db,
        source=SOURCE,
        delivery_key=delivery_key(parsed.message_id),
        event_type=EVENT_TYPE,
        payload={
            "project_id": parsed.project_id,
            "pipeline_id": parsed.pipeline_id,
            "date": parsed.date,
            **facts,
        },
        jobs=[] if analysed else [job_spec(parsed, facts)],
        project_id=parsed.project_id,
        object_id=parsed.pipeline_id,
        status="failed",
        max_attempts=settings.queue_max_attempts,
    )
    if intake.job_ids:
        status, reason = STATUS_ENQUEUED, ""
        result.job_ids = (result.job_ids or []) + intake.job_ids
    else:
        status = STATUS_DUPLICATE
        if intake.outcome == "duplicate_delivery":
            reason = REASON_EVENT_KNOWN
        else:
            reason = REASON_ALREADY_ANALYSED if analysed else REASON_ALREADY_QUEUED
    await mark_processed(
        db,
        message_id=parsed.message_id,
        status=status,
        reason=reason,
        project_id=parsed.project_id,
        pipeline_id=parsed.pipeline_id,
        **where,
    )
    services.metrics.deliveries.labels(SOURCE, status).inc()
    result.count(status)
    log.info(LOG_MESSAGE, parsed.message_id, status, reason)


async def _already_analysed(services: Services, parsed: PipelineFailureEmail) -> bool:
    """Whether every failed CI job the mail names has an answer saved for its pipeline, and no analysis of it was
    given up (a job whose log was read but whose answer was never saved or posted is not analysed); a mail naming
    no job cannot tell."""
    named = {ci_job.id for ci_job in parsed.failed_jobs}
    if not named:
        return False
    answered = await history.latest_analyses(services.db, parsed.project_id, parsed.pipeline_id)
    if not named <= {row.job_id for row in answered if row.status != "error"}:
        return False
    return not await queue.gave_up(services.db, pipeline_key(parsed.project_id, parsed.pipeline_id, "failed"))


async def _record_skip(services: Services, skip: SkippedEmail, where: dict, result: PollResult) -> None:
    await mark_processed(
        services.db,
        message_id=skip.message_id,
        status=skip.status,
        reason=skip.reason,
        project_id=skip.project_id,
        pipeline_id=skip.pipeline_id,
        **where,
    )
    services.metrics.deliveries.labels(SOURCE, skip.status).inc()
    result.count(skip.status)
    log.info(LOG_MESSAGE, skip.message_id, skip.status, skip.reason)


# --- the poll ------------------------------------------------------------------


def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _process_batch(
    services: Services, session: _Session, uids: list[int], folder: str, uidvalidity: int, result: PollResult
) -> None:
    settings = services.settings
    limit = settings.imap_max_message_bytes
    sizes = await session.call("sizes", uids)
    small = [uid for uid in uids if sizes.get(uid, 0) <= limit]
    large = [uid for uid in uids if sizes.get(uid, 0) > limit]
    raws = await session.call("fetch_raw", small) if small else {}
    heads = await session.call("fetch_headers", large) if large else {}
    for uid in uids:
        where = {"folder": folder, "uid": uid, "uidvalidity": uidvalidity}
        if uid in heads:
            key = message_key(heads[uid])
            parsed: PipelineFailureEmail | SkippedEmail = SkippedEmail(
                key, STATUS_MALFORMED, REASON_TOO_LARGE.format(size=sizes[uid], limit=limit)
            )
        elif uid in raws:
            key = message_key(raws[uid])
            parsed = None  # parsed below, once we know the message is new
        else:
            continue  # expunged between SEARCH and FETCH
        with log_context(delivery=delivery_key(key)):
            if await known_message(services.db, key):
                result.known += 1
                continue
            if parsed is None:
                parsed = parse_email(raws[uid], gitlab_sender=settings.imap_gitlab_email, max_bytes=limit)
            if isinstance(parsed, PipelineFailureEmail):
                with log_context(project=parsed.project_id, pipeline=parsed.pipeline_id):
                    await _enqueue(services, parsed, where, result)
            else:
                await _record_skip(services, parsed, where, result)
    # Only now that every row of the batch is committed may the server hear that they were read.
    await session.call("mark_seen", [uid for uid in uids if uid in raws or uid in heads])


async def poll_once(
    services: Services,
    *,
    mailbox_factory: Callable[[Settings], Any] = ImapMailbox,
    hook: Callable[[], Awaitable[None]] | None = None,
    today: date | None = None,
) -> PollResult:
    """One poll of the folder under the replica lock; raises on IMAP or database trouble."""
    settings, db = services.settings, services.db
    folder = settings.imap_folder
    async with named_lock(db, f"imap-poll:{folder}", wait=False) as acquired:
        if not acquired:
            log.info(LOG_LOCKED, folder)
            return PollResult(polled=False)
        if hook is not None:
            await hook()
        result = PollResult()
        session = _Session(mailbox_factory(settings))
        try:
            info = await session.call("open")
            known_validity, last_uid = await load_state(db, folder)
            if known_validity != info.uidvalidity:
                if known_validity is not None:
                    log.warning(LOG_UIDVALIDITY, folder, info.uidvalidity, known_validity)
                    result.uidvalidity_reset = True
                last_uid = 0
                await save_state(db, folder, info.uidvalidity, 0)
            since = (today or datetime.now(UTC).date()) - timedelta(days=settings.imap_since_days)
            uids = (await session.call("failure_uids", after_uid=last_uid, since=since))[:MAX_PER_POLL]
            result.new = len(uids)
            for batch in _batches(uids, FETCH_BATCH):
                await _process_batch(services, session, batch, folder, info.uidvalidity, result)
                await save_state(db, folder, info.uidvalidity, batch[-1])
        finally:
            await session.close()
    if result.job_ids:
        services.wake_workers()
    log.log(
        logging.INFO if result.new else logging.DEBUG,
        LOG_POLLED,
        folder,
        result.new,
        result.enqueued,
        result.duplicate,
        result.skipped,
        result.malformed,
        result.known,
    )
    return result


class EmailPoller:
    """Runs poll_once on every tick, backing off while the server or database fails."""

    def __init__(
        self,
        services: Services,
        *,
        mailbox_factory: Callable[[Settings], Any] = ImapMailbox,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.services = services
        self.mailbox_factory = mailbox_factory
        self.clock = clock
        self.failures = 0
        self.next_try = 0.0
        self.last_error: MailboxError | None = None
        self.stopped = False
        self.scheduler: AsyncIOScheduler | None = None  # set by start_email_poller
        self._running: asyncio.Task | None = None

    def backoff_seconds(self) -> float:
        """Doubling from one interval after each failure, capped at BACKOFF_CAP_SECONDS (or the interval)."""
        interval = self.services.settings.imap_check_interval
        cap = max(interval, BACKOFF_CAP_SECONDS)
        return float(min(cap, interval * 2 ** min(max(self.failures - 1, 0), 20)))

    async def tick(self) -> PollResult | None:
        """What the scheduler runs; returns None when it did not poll (stopped, backing off or failed)."""
        if self.stopped:
            return None
        # Half an interval of slack, so the scheduler's jitter does not cost a whole extra interval.
        if self.clock() < self.next_try - self.services.settings.imap_check_interval / 2:
            return None
        self._running = asyncio.current_task()
        try:
            result = await poll_once(self.services, mailbox_factory=self.mailbox_factory)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc)
            return None
        finally:
            self._running = None
        if self.failures:
            log.info(LOG_RECOVERED, self.failures)
        self.failures, self.next_try, self.last_error = 0, 0.0, None
        return result

    def _failed(self, exc: Exception) -> None:
        error = classify_error(exc, self.services.settings)
        self.failures += 1
        delay = self.backoff_seconds()
        self.next_try = self.clock() + delay
        if error.kind == "unexpected":
            log.error(LOG_POLL_FAILED, error, delay, exc_info=exc)
        elif self.last_error is None or str(self.last_error) != str(error):
            log.warning(LOG_POLL_FAILED, error, delay)
        else:
            # Same trouble as last time: one line was enough; keep the rest out of the warnings.
            log.info(LOG_STILL_FAILING, self.failures, error, delay)
        self.last_error = error

    async def stop(self) -> None:
        """No new poll; the running one gets IMAP_TIMEOUT_SECONDS to finish; then the scheduler stops."""
        self.stopped = True
        await self.wait_idle(self.services.settings.imap_timeout_seconds + 5)
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # the asyncio scheduler shuts down on the loop's next turn

    async def wait_idle(self, timeout: float) -> None:
        task = self._running
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
        except Exception:  # the poll's own failure was already logged by tick
            pass


def start_email_poller(services: Services, *, mailbox_factory: Callable[[Settings], Any] = ImapMailbox) -> EmailPoller:
    """Start polling every IMAP_CHECK_INTERVAL seconds, first at once; `await poller.stop()` ends it."""
    settings = services.settings
    interval = settings.imap_check_interval
    poller = EmailPoller(services, mailbox_factory=mailbox_factory)
    scheduler = AsyncIOScheduler(timezone=UTC)
    # coalesce + one instance: a slow poll is never doubled; a run late by up to an interval still runs.
    scheduler.add_job(
        poller.tick,
        "interval",
        seconds=interval,
        id=JOB_ID,
        name="IMAP poll",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    poller.scheduler = scheduler
    return poller
