"""The door's way into the inbox: group commits while the database answers, the spool while it does not.

A delivery is committed (grouped with the deliveries that arrive with it) or, when the database is
unreachable or does not answer within COMMIT_WAIT_SECONDS, appended to the spool and fsynced; either way it
is durable before the door answers. While the spool holds anything, new deliveries join it behind the older
ones, and a background task replays it in order (deduplicated by delivery key, as always) until it is empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.core.intake import IntakeRecord
from bot.runtime.batcher import GroupCommit
from bot.runtime.metrics import Metrics
from bot.runtime.spool import Spool, SpoolFull
from config.settings import Settings
from storage.db import Database, sqlite_file
from storage.inbox import IntakeResult
from storage.intake_batch import DatabaseUnavailable, IntakeWriter, RecordRejected

log = logging.getLogger(__name__)

# GitLab waits 10 s and Slack 3 s; the door answers within a second, so it waits this long for the database
# and keeps the rest of the second for the spool's fsync.
COMMIT_WAIT_SECONDS = 0.8
REPLAY_BATCH = 200
# Batches committed at the same time on PostgreSQL: commits wait on the disk, so a few overlap it.
WRITER_CONNECTIONS = 4
REPLAY_RETRY_SECONDS = (0.5, 10.0)  # the first wait after a failed replay, and the longest

SPOOLED = IntakeResult("spooled", None, [])


def spool_dir(settings: Settings) -> Path:
    """SPOOL_DIR, or `spool` beside the SQLite file, or `spool` in the working directory (the image's data dir)."""
    if settings.spool_dir:
        return Path(settings.spool_dir)
    database_file = sqlite_file(settings.database_url)
    if database_file:
        return Path(database_file).resolve().parent / "spool"
    return Path("spool").resolve()


SLOT_SPOOL_PREFIX = "process-"


def slot_spool_dir(base: Path, slot: int) -> Path:
    """The spool of serving process `slot` (serve --processes): the base directory for the first, `process-<slot>`
    inside it for the others (so that one volume mounted at SPOOL_DIR holds them all)."""
    return base if slot == 0 else base / f"{SLOT_SPOOL_PREFIX}{slot}"


def sibling_spools(base: Path) -> list[Path]:
    """The other processes' spool directories, as slot_spool_dir names them."""
    if not base.is_dir():
        return []
    return sorted(
        p
        for p in base.iterdir()
        if p.name.startswith(SLOT_SPOOL_PREFIX) and p.name.removeprefix(SLOT_SPOOL_PREFIX).isdigit() and p.is_dir()
    )


class Intake:
    """Records deliveries for the doors; owns the group commit, the spool and its replay."""

    def __init__(
        self, db: Database, settings: Settings, metrics: Metrics, *, on_jobs: Callable[[], None], slot: int = 0
    ):
        self.slot = slot
        self.writer = IntakeWriter(db, connections=WRITER_CONNECTIONS)
        self.commits: GroupCommit[IntakeRecord, IntakeResult | RecordRejected] = GroupCommit(
            self.writer.write, in_flight=self.writer.connections
        )
        self.spool = Spool(
            slot_spool_dir(spool_dir(settings), slot), settings.spool_max_mb * 1024 * 1024, on_written=self._replay_soon
        )
        self.on_jobs = on_jobs
        self.spooling = False  # the spool holds deliveries: new ones go behind them
        self._replayer: asyncio.Task | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._full_logged = False
        self._outage_logged = False
        metrics.spool_deliveries.set_function(lambda: self.spool.depth)
        metrics.spool_bytes.set_function(lambda: self.spool.size)

    def start(self) -> None:
        """Open the spool (the serving process owns it) and replay what an earlier run left in it."""
        self._open_spool()
        if self.slot == 0:
            # What a process of an earlier run with more processes left (or one that is not running now) is
            # replayed here; the spool of a process that is running is locked and left to it.
            for other in sibling_spools(self.spool.directory):
                if taken := self.spool.adopt(other):
                    log.warning("took %d deliveries from the spool in %s to replay them", taken, other)
        if self.spool.depth:
            log.warning("the spool holds %d deliveries from an earlier run; replaying them", self.spool.depth)
            self.spooling = True
            self._replay_soon()

    async def close(self) -> None:
        if self._replayer is not None:
            self._replayer.cancel()
            await asyncio.gather(self._replayer, return_exceptions=True)
        await self.writer.close()
        self.spool.close()

    def health(self) -> dict:
        return {
            "depth": self.spool.depth,
            "bytes": self.spool.size,
            "max_bytes": self.spool.max_bytes,
            "dir": str(self.spool.directory),
            "replaying": self.spooling,
            "set_aside": self.spool.set_aside_count,
        }

    async def accept(self, record: IntakeRecord) -> IntakeResult:
        """Make the delivery durable: committed (its result) or spooled (SPOOLED). Raises SpoolFull."""
        if not self.spooling:
            try:
                result = await self.commits.submit(record, timeout=COMMIT_WAIT_SECONDS)
            except (DatabaseUnavailable, TimeoutError) as exc:
                if not self._outage_logged:  # once per outage, not once per delivery that met it
                    self._outage_logged = True
                    log.warning(
                        "the database cannot take deliveries (%s); keeping them in the spool in %s",
                        exc or f"no answer within {COMMIT_WAIT_SECONDS} s",
                        self.spool.directory,
                    )
            except Exception:
                # A failure nobody named (a bug, a driver surprise) must not cost the delivery either.
                log.exception("recording delivery %s failed; keeping it in the spool", record.delivery_key)
            else:
                if isinstance(result, RecordRejected):
                    await self._set_aside(record, result)
                    return SPOOLED
                return result
        try:
            self._open_spool()
            await self.spool.append(record)
        except OSError as exc:  # a disk that is full or gone: the delivery cannot be kept, as with a full spool
            raise self._refuse(SpoolFull(f"the spool in {self.spool.directory} cannot be written: {exc}")) from None
        except SpoolFull as exc:
            raise self._refuse(exc) from None
        self._full_logged = False
        self.spooling = True
        return SPOOLED

    def _refuse(self, problem: SpoolFull) -> SpoolFull:
        if not self._full_logged:  # once until the spool takes a delivery again
            self._full_logged = True
            log.error("refusing deliveries (503): %s", problem)
        return problem

    def _open_spool(self) -> None:
        if not self.spool.opened:
            self.spool.open()

    async def drained(self) -> None:
        """Return once the spool is empty and everything in it is in the database."""
        await self._drained.wait()

    def _replay_soon(self) -> None:
        self.spooling = True
        self._drained.clear()
        if self._replayer is None or self._replayer.done():
            self._replayer = asyncio.get_running_loop().create_task(self._replay(), name="spool-replay")

    async def _set_aside(self, record: IntakeRecord, problem: RecordRejected) -> None:
        self._open_spool()
        await self.spool.set_aside(record)
        log.error(
            "the database refused delivery %s (%s); kept in %s for a human",
            record.delivery_key,
            problem,
            self.spool.directory,
        )

    async def _replay(self) -> None:
        wait, longest = REPLAY_RETRY_SECONDS
        replayed = 0
        while True:
            segments = await self.spool.rotate()
            if not segments:
                if self.spool.depth == 0 and not self.spool.writing:
                    self.spooling = False  # no await since the check: nothing can slip in between
                    self._drained.set()
                    self._outage_logged = False
                    if replayed:
                        log.info("the spool is empty: %d deliveries replayed into the database", replayed)
                    return
                await asyncio.sleep(0.01)  # an append is on its way to disk: its segment is next
                continue
            try:
                for sequence in segments:
                    replayed += await self._replay_segment(sequence)
                wait = REPLAY_RETRY_SECONDS[0]
            except Exception as exc:
                if not isinstance(exc, DatabaseUnavailable):
                    log.exception("replaying the spool failed; trying again in %.1f s", wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, longest)

    async def _replay_segment(self, sequence: int) -> int:
        """Record one segment's deliveries in order, then delete it (a crash before that replays it again:
        what was recorded is a duplicate delivery then, and is skipped)."""
        records = self.spool.read(sequence)
        for start in range(0, len(records), REPLAY_BATCH):
            chunk = records[start : start + REPLAY_BATCH]
            results = await self.writer.write(chunk)
            for record, result in zip(chunk, results, strict=True):
                if isinstance(result, RecordRejected):
                    await self._set_aside(record, result)
            if any(isinstance(r, IntakeResult) and r.job_ids for r in results):
                self.on_jobs()
        self.spool.remove(sequence)
        return len(records)
