"""The intake spool on disk: deliveries appended and fsynced before they are answered, read back in order.

The directory holds numbered segment files (bot/core/spool.py has their format), a lock file that keeps a
second process out, and `set-aside.spool`, where deliveries the database refused on replay are kept for a
human. Appends that arrive together share one write and one fsync.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path

from bot.core import spool as fmt
from bot.core.intake import IntakeRecord
from bot.runtime.batcher import GroupCommit

log = logging.getLogger(__name__)

# A segment is closed past this size so that replay reads a bounded amount at a time.
SEGMENT_BYTES = 4 * 1024 * 1024
SET_ASIDE = "set-aside.spool"
# How long a delivery waits for the spool's disk before it is refused (503). GitLab gives up on an answer after
# 10 s: past this a disk that does not answer (a hung network volume) is a refusal said plainly and logged, not
# a request that never ends. A write still under way lands later and is replayed (deduplicated as always).
APPEND_WAIT_SECONDS = 8.0


class SpoolFull(Exception):
    """The spool is at SPOOL_MAX_MB: the delivery was not kept."""


class SpoolBusy(OSError):
    """Another process holds this spool directory."""


def _try_lock(directory: Path) -> int | None:
    """The directory's lock file, held (its descriptor: closing it lets go); None when another process holds it."""
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _segments_in(directory: Path) -> list[tuple[int, Path]]:
    """The segment files of a spool directory, oldest first."""
    return sorted((seq, p) for p in directory.iterdir() if (seq := fmt.segment_sequence(p.name)) is not None)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """One process's spool. depth and size count what was fsynced and not yet replayed."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        *,
        on_written: Callable[[], None] | None = None,
        append_wait: float = APPEND_WAIT_SECONDS,
    ):
        self.directory = directory
        self.append_wait = append_wait
        self.on_written = on_written  # told after every write: there is something to replay
        self.max_bytes = max_bytes
        self.depth = 0
        self.size = 0
        self.set_aside_count = 0
        self._segments: dict[int, tuple[int, int]] = {}  # sequence -> (records, bytes), closed and current
        self._current: int | None = None  # the segment appends go to; None: open a new one on the next append
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._reserved = 0  # bytes of appends not yet written
        self._appends: GroupCommit[bytes, None] = GroupCommit(self._write)
        self._io = asyncio.Lock()  # a write and a rotation never overlap

    @property
    def opened(self) -> bool:
        return self._lock_fd is not None

    def open(self) -> None:
        """Create the directory, take its lock, and count what an earlier run left."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(self.directory)
        if fd is None:
            raise SpoolBusy(f"SPOOL_DIR {self.directory} is in use by another cicd-bot process; give each one its own")
        self._lock_fd = fd
        for sequence, path in _segments_in(self.directory):
            self._count(sequence, path)
        aside = self.directory / SET_ASIDE
        if aside.exists():
            self.set_aside_count = len(fmt.decode(aside.read_bytes())[0])

    def adopt(self, other: Path) -> int:
        """Move the segments another spool directory holds behind this one's (to be replayed here); the number of
        deliveries taken. A directory another process holds is left alone (0). Renames are atomic: after a crash
        in between, each segment is in one of the two directories, and the next adoption takes the rest."""
        fd = _try_lock(other)
        if fd is None:
            return 0
        try:
            depth = self.depth
            found = _segments_in(other)
            for _, path in found:
                sequence = max(self._segments, default=0) + 1
                moved = self.directory / fmt.segment_name(sequence)
                os.rename(path, moved)
                self._count(sequence, moved)
            if found:
                _fsync_dir(self.directory)
                _fsync_dir(other)
            if (other / SET_ASIDE).exists():
                log.warning(
                    "%s holds deliveries the database refused, kept for a human (docs/deploy.md says what to do)",
                    other / SET_ASIDE,
                )
            return self.depth - depth
        finally:
            os.close(fd)

    def _count(self, sequence: int, path: Path) -> None:
        """Take a segment on disk into depth and size."""
        records, _, _ = fmt.decode(path.read_bytes())
        size = path.stat().st_size
        self._segments[sequence] = (len(records), size)
        self.depth += len(records)
        self.size += size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def writing(self) -> bool:
        """Whether appends are on their way to disk."""
        return self._reserved > 0

    async def append(self, record: IntakeRecord) -> None:
        """Keep the delivery; returns once it is on disk (fsynced). Raises SpoolFull, also when the disk does not
        answer within append_wait."""
        line = fmt.encode(record)
        if self.size + self._reserved + len(line) > self.max_bytes:
            raise SpoolFull(
                f"the spool in {self.directory} holds {self.size} bytes, SPOOL_MAX_MB allows {self.max_bytes}"
            )
        self._reserved += len(line)
        try:
            await asyncio.shield(self._appends.submit(line, timeout=self.append_wait))
        except TimeoutError:
            raise SpoolFull(
                f"the spool's disk in {self.directory} did not answer within {self.append_wait:g} s"
            ) from None
        finally:
            self._reserved -= len(line)

    async def _write(self, lines: list[bytes]) -> list[None]:
        async with self._io:
            if self._current is None:
                self._current = max(self._segments, default=0) + 1
                self._segments[self._current] = (0, 0)
                path = self.directory / fmt.segment_name(self._current)
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                await asyncio.to_thread(_fsync_dir, self.directory)
            data = b"".join(lines)
            fd = self._fd
            try:
                await asyncio.to_thread(self._write_sync, fd, data)
            except OSError:
                # Part of the data may be on disk: leave it as this segment's torn tail (replay skips it) and
                # write the next deliveries to a new segment, so a whole line never follows half of one.
                self._close_current()
                raise
            records, size = self._segments[self._current]
            self._segments[self._current] = (records + len(lines), size + len(data))
            self.depth += len(lines)
            self.size += len(data)
            if size + len(data) >= SEGMENT_BYTES:
                self._close_current()
        if self.on_written is not None:
            self.on_written()
        return [None] * len(lines)

    @staticmethod
    def _write_sync(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)

    def _close_current(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._current = None

    async def rotate(self) -> list[int]:
        """Close the segment appends go to (the next append opens a new one); the segments to replay, oldest first."""
        async with self._io:
            if self._current is not None and self._segments[self._current][0] == 0:
                return sorted(s for s in self._segments if s != self._current)
            self._close_current()
            return sorted(self._segments)

    def read(self, sequence: int) -> list[IntakeRecord]:
        path = self.directory / fmt.segment_name(sequence)
        records, _, damaged = fmt.decode(path.read_bytes())
        if damaged:
            log.error(
                "%d damaged lines in %s were skipped (the disk changed them after they were written)", damaged, path
            )
        return records

    def remove(self, sequence: int) -> None:
        """A segment fully replayed: forget it."""
        records, size = self._segments.pop(sequence)
        (self.directory / fmt.segment_name(sequence)).unlink(missing_ok=True)
        self.depth -= records
        self.size -= size

    async def set_aside(self, record: IntakeRecord) -> None:
        """Keep a delivery the database refused where a human finds it; it is not replayed."""
        await asyncio.to_thread(self._append_aside, fmt.encode(record))
        self.set_aside_count += 1

    def _append_aside(self, line: bytes) -> None:
        fd = os.open(self.directory / SET_ASIDE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._write_sync(fd, line)
        finally:
            os.close(fd)
