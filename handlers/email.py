"""The IMAP door: an APScheduler job that turns GitLab's pipeline-failure emails into queued analyses."""
from __future__ import annotations

import asyncio
import hashlib
import imaplib
import logging
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from imapclient import IMAPClient, SEEN
from imapclient.exceptions import CapabilityError, LoginError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from bot.core.email_parse import PipelineFailureEmail, SkippedEmail, STATUS_MALFORMED, REASON_TOO_LARGE, message_key, parse_email
from bot.core.types import JobSpec
from config.logging import log_context
from config.settings import Settings
from handlers.gitlab_routing import ANALYZE_PIPELINE, pipeline_key
from storage.inbox import record_event
from storage.locks import named_lock
from storage.models import MailboxState, ProcessedEmail
from storage.types import utcnow

log = logging.getLogger(__name__)

EVENT_TYPE = "Pipeline Failed Email"
SOURCE = "email"
JOB_ID = "imap-poll"
BACKOFF_CAP_SECONDS = 900  # a dead server is retried at least every 15 minutes
FETCH_BATCH = 20  # messages fetched per IMAP round trip
MAX_PER_POLL = 200  # bounds one poll's time; the rest waits for the next poll
HEADER_PEEK = "BODY.PEEK[HEADER]<0.65536>"  # enough header to find a Message-ID without reading a huge body
HEADER_KEY = b"BODY[HEADER]<0>"
FAILED_SEARCH = ["HEADER", "X-GitLab-Pipeline-Status", "failed"]

STATUS_ENQUEUED = "enqueued"
STATUS_DUPLICATE = "duplicate"
REASON_ALREADY_QUEUED = "pipeline already queued by another trigger"
REASON_EVENT_KNOWN = "event already recorded"

LOG_POLL_FAILED = "IMAP poll failed: %s; next try in %ds"
LOG_STILL_FAILING = "IMAP poll still failing (%d times): %s; next try in %ds"
LOG_RECOVERED = "IMAP poll works again after %d failed attempts"
LOG_UIDVALIDITY = "IMAP folder %s has a new UIDVALIDITY (%s, was %s); reading it from the start, known messages are skipped"
LOG_POLLED = "IMAP poll of %s: %d new, %d enqueued, %d duplicate, %d skipped, %d malformed, %d already known"
LOG_LOCKED = "IMAP poll of %s skipped: another replica is polling"
LOG_MESSAGE = "email %s: %s %s"

ERR_REFUSED = "connection refused by {where}; is the IMAP server running and IMAP_PORT right?"
ERR_TIMEOUT = "no answer from {where} within {timeout:g}s (timeout); check IMAP_SERVER, IMAP_PORT and firewalls"
ERR_DNS = "cannot resolve IMAP_SERVER {host!r}"
ERR_TLS = ("TLS error talking to {where}: {detail}; check IMAP_USE_SSL / IMAP_STARTTLS and the port "
           "(993 for SSL, 143 for STARTTLS)")
ERR_NO_STARTTLS = "{where} does not offer STARTTLS; use IMAP_USE_SSL=true with port 993, or another server"
ERR_LOGIN = "login refused for {user!r}: {detail}; check IMAP_USER and use an app password in IMAP_APP_PASSWORD"
ERR_FOLDER = "folder {folder!r} does not exist on {where}; folders there: {folders}"
ERR_DROPPED = "the IMAP server closed the connection: {detail}"
ERR_PROTOCOL = "the IMAP server said no: {detail}"
ERR_NETWORK = "network error talking to {where}: {detail}"
ERR_DATABASE = "database error while recording email: {detail}"
ERR_UNEXPECTED = "unexpected error: {detail}"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class MailboxError(Exception):
    """An IMAP problem in plain words; kind is one of refused, timeout, dns, tls, starttls, login, folder,
    dropped, protocol, network, database, unexpected."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _detail(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _CONTROL.sub(" ", str(text)).strip() or type(exc).__name__
    return text[:200]


def classify_error(exc: BaseException, settings: Settings) -> MailboxError:
    """The plain-words MailboxError for anything an IMAP session or the recording can raise."""
    if isinstance(exc, MailboxError):
        return exc
    where = f"{settings.imap_server}:{settings.imap_port}"
    if isinstance(exc, LoginError):
        return MailboxError("login", ERR_LOGIN.format(user=settings.imap_user, detail=_detail(exc)))
    if isinstance(exc, ssl.SSLError):
        return MailboxError("tls", ERR_TLS.format(where=where, detail=getattr(exc, "reason", None) or _detail(exc)))
    if isinstance(exc, ConnectionRefusedError):
        return MailboxError("refused", ERR_REFUSED.format(where=where))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return MailboxError("timeout", ERR_TIMEOUT.format(where=where, timeout=settings.imap_timeout_seconds))
    if isinstance(exc, socket.gaierror):
        return MailboxError("dns", ERR_DNS.format(host=settings.imap_server))
    if isinstance(exc, imaplib.IMAP4.abort):
        return MailboxError("dropped", ERR_DROPPED.format(detail=_detail(exc)))
    if isinstance(exc, imaplib.IMAP4.error):
        return MailboxError("protocol", ERR_PROTOCOL.format(detail=_detail(exc)))
    if isinstance(exc, OSError):
        return MailboxError("network", ERR_NETWORK.format(where=where, detail=exc.strerror or _detail(exc)))
    if isinstance(exc, SQLAlchemyError):
        return MailboxError("database", ERR_DATABASE.format(detail=_detail(exc)))
    return MailboxError("unexpected", ERR_UNEXPECTED.format(detail=f"{type(exc).__name__}: {_detail(exc)}"))


@dataclass(frozen=True)
class FolderInfo:
    uidvalidity: int
    messages: int


class ImapMailbox:
    """One synchronous IMAP session on the configured folder; use it from one thread only."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client: IMAPClient | None = None

    def open(self) -> FolderInfo:
        s = self.settings
        context = ssl.create_default_context()
        client = IMAPClient(s.imap_server, port=s.imap_port, ssl=s.imap_use_ssl, ssl_context=context,
                            timeout=s.imap_timeout_seconds)
        self.client = client
        if s.imap_starttls:
            try:
                client.starttls(context)
            except CapabilityError:
                raise MailboxError("starttls", ERR_NO_STARTTLS.format(where=f"{s.imap_server}:{s.imap_port}")) from None
        password = s.imap_app_password.get_secret_value() if s.imap_app_password else ""
        client.login(s.imap_user, password)
        try:
            selected = client.select_folder(s.imap_folder)
        except imaplib.IMAP4.error:
            if client.folder_exists(s.imap_folder):
                raise
            names = [str(name) for _flags, _sep, name in client.list_folders()][:20]
            raise MailboxError("folder", ERR_FOLDER.format(folder=s.imap_folder, where=f"{s.imap_server}:{s.imap_port}",
                                                           folders=", ".join(names) or "(none)")) from None
        return FolderInfo(uidvalidity=int(selected.get(b"UIDVALIDITY", 0)), messages=int(selected.get(b"EXISTS", 0)))

    def failure_uids(self, *, after_uid: int, since: date, unseen: bool = True) -> list[int]:
        """UIDs above after_uid of failure mails since the date, oldest first."""
        criteria: list[Any] = (["UNSEEN"] if unseen else []) + FAILED_SEARCH + ["SINCE", since]
        if after_uid:
            criteria += ["UID", f"{after_uid + 1}:*"]
        # "n:*" matches the last message even when its UID is below n, so filter again.
        return sorted(uid for uid in self._client().search(criteria) if uid > after_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        data = self._client().fetch(uids, ["RFC822.SIZE"])
        return {uid: int(item.get(b"RFC822.SIZE", 0)) for uid, item in data.items()}

    def fetch_raw(self, uids: list[int]) -> dict[int, bytes]:
        data = self._client().fetch(uids, ["BODY.PEEK[]"])
        return {uid: item.get(b"BODY[]") or b"" for uid, item in data.items()}

    def fetch_headers(self, uids: list[int]) -> dict[int, bytes]:
        data = self._client().fetch(uids, [HEADER_PEEK])
        return {uid: item.get(HEADER_KEY) or b"" for uid, item in data.items()}

    def mark_seen(self, uids: list[int]) -> None:
        if uids:
            self._client().add_flags(uids, [SEEN], silent=True)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the session is over either way; a dead socket must not hide the real error
            try:
                client.shutdown()
            except Exception:
                pass

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise MailboxError("unexpected", ERR_UNEXPECTED.format(detail="mailbox not open"))
        return self.client


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


# --- storage steps -------------------------------------------------------------

def _insert(db):
    return pg_insert if db.is_postgres else sqlite_insert


_state = MailboxState.__table__
_processed = ProcessedEmail.__table__


async def load_state(db, folder: str) -> tuple[int | None, int]:
    async with db.session() as session:
        row = (await session.execute(sa.select(_state.c.uidvalidity, _state.c.last_uid)
                                     .where(_state.c.folder == folder))).first()
    return (row[0], int(row[1] or 0)) if row else (None, 0)


async def save_state(db, folder: str, uidvalidity: int, last_uid: int) -> None:
    stmt = _insert(db)(_state).values(folder=folder, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["folder"], set_={
        "uidvalidity": uidvalidity, "last_uid": last_uid, "updated_at": utcnow()})
    async with db.session() as session:
        await session.execute(stmt)


async def known_message(db, message_id: str) -> bool:
    async with db.session() as session:
        row = (await session.execute(sa.select(_processed.c.id).where(_processed.c.message_id == message_id))).first()
    return row is not None


async def mark_processed(db, *, message_id: str, folder: str, uid: int, uidvalidity: int, status: str,
                         reason: str = "", project_id: int | None = None, pipeline_id: int | None = None) -> None:
    stmt = _insert(db)(_processed).values(
        message_id=message_id, folder=folder, uid=uid, uidvalidity=uidvalidity, status=status, reason=reason[:500],
        project_id=project_id, pipeline_id=pipeline_id, received_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["message_id"])
    async with db.session() as session:
        await session.execute(stmt)


def delivery_key(message_id: str) -> str:
    key = f"email:{message_id}"
    if len(key) <= 255:
        return key
    return "email:sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def job_spec(parsed: PipelineFailureEmail) -> JobSpec:
    """The analysis job one failure email asks for; the key is shared with the webhook's."""
    payload = {"project_id": parsed.project_id, "pipeline_id": parsed.pipeline_id, "trigger": "email",
               "email": parsed.email_payload()}
    # hasten: a Job Hook may have queued this pipeline with a grace delay; the mail says it is finished.
    return JobSpec(ANALYZE_PIPELINE, payload, pipeline_key(parsed.project_id, parsed.pipeline_id, "failed"),
                   hasten_existing=True)


async def _enqueue(services, parsed: PipelineFailureEmail, where: dict, result: PollResult) -> None:
    db, settings = services.db, services.settings
    intake = await record_event(
        db, source=SOURCE, delivery_key=delivery_key(parsed.message_id), event_type=EVENT_TYPE,
        payload={"project_id": parsed.project_id, "pipeline_id": parsed.pipeline_id, "date": parsed.date,
                 **parsed.email_payload()},
        jobs=[job_spec(parsed)], project_id=parsed.project_id, object_id=parsed.pipeline_id, status="failed",
        max_attempts=settings.queue_max_attempts,
    )
    if intake.job_ids:
        status, reason = STATUS_ENQUEUED, ""
        result.job_ids = (result.job_ids or []) + intake.job_ids
    else:
        status = STATUS_DUPLICATE
        reason = REASON_EVENT_KNOWN if intake.outcome == "duplicate_delivery" else REASON_ALREADY_QUEUED
    await mark_processed(db, message_id=parsed.message_id, status=status, reason=reason,
                         project_id=parsed.project_id, pipeline_id=parsed.pipeline_id, **where)
    services.metrics.deliveries.labels(SOURCE, status).inc()
    result.count(status)
    log.info(LOG_MESSAGE, parsed.message_id, status, reason)


async def _record_skip(services, skip: SkippedEmail, where: dict, result: PollResult) -> None:
    await mark_processed(services.db, message_id=skip.message_id, status=skip.status, reason=skip.reason,
                         project_id=skip.project_id, pipeline_id=skip.pipeline_id, **where)
    services.metrics.deliveries.labels(SOURCE, skip.status).inc()
    result.count(skip.status)
    log.info(LOG_MESSAGE, skip.message_id, skip.status, skip.reason)


# --- the poll ------------------------------------------------------------------

def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def _process_batch(services, session: _Session, uids: list[int], folder: str, uidvalidity: int,
                         result: PollResult) -> None:
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
                key, STATUS_MALFORMED, REASON_TOO_LARGE.format(size=sizes[uid], limit=limit))
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


async def poll_once(services, *, mailbox_factory: Callable[[Settings], Any] = ImapMailbox,
                    hook: Callable[[], Awaitable[None]] | None = None, today: date | None = None) -> PollResult:
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
            since = (today or datetime.now(timezone.utc).date()) - timedelta(days=settings.imap_since_days)
            uids = (await session.call("failure_uids", after_uid=last_uid, since=since))[:MAX_PER_POLL]
            result.new = len(uids)
            for batch in _batches(uids, FETCH_BATCH):
                await _process_batch(services, session, batch, folder, info.uidvalidity, result)
                await save_state(db, folder, info.uidvalidity, batch[-1])
        finally:
            await session.close()
    if result.job_ids:
        services.wake_workers()
    log.log(logging.INFO if result.new else logging.DEBUG, LOG_POLLED, folder, result.new, result.enqueued,
            result.duplicate, result.skipped, result.malformed, result.known)
    return result


class EmailPoller:
    """Runs poll_once on every tick, backing off while the server or database fails."""

    def __init__(self, services, *, mailbox_factory: Callable[[Settings], Any] = ImapMailbox,
                 clock: Callable[[], float] = time.monotonic):
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
        except asyncio.TimeoutError:
            task.cancel()
        except Exception:  # the poll's own failure was already logged by tick
            pass


def start_email_poller(services, *, mailbox_factory: Callable[[Settings], Any] = ImapMailbox) -> EmailPoller:
    """Start polling every IMAP_CHECK_INTERVAL seconds, first at once; `await poller.stop()` ends it."""
    settings = services.settings
    interval = settings.imap_check_interval
    poller = EmailPoller(services, mailbox_factory=mailbox_factory)
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    # coalesce + one instance: a slow poll is never doubled; a run late by up to an interval still runs.
    scheduler.add_job(poller.tick, "interval", seconds=interval, id=JOB_ID, name="IMAP poll", coalesce=True,
                      max_instances=1, misfire_grace_time=interval, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    poller.scheduler = scheduler
    return poller
