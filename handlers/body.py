"""Request bodies read under limits: a size, a deadline, and a bound on how many one door reads at once."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
from aiohttp import web

# How long a request waits for a free read slot before it is told to come back: long enough to ride out a burst of
# legitimate deliveries (each read takes milliseconds), short enough that a flood cannot hold callers for long.
SLOT_WAIT_SECONDS = 2.0
CHUNK = 65536


class BodyRefused(Exception):
    """The body was not read (or not wholly): the status and text to answer, and a reason for metrics."""

    def __init__(self, status: int, reason: str, text: str):
        super().__init__(text)
        self.status = status
        self.reason = reason
        self.text = text


def describe(body: bytes) -> str:
    """What logs say about a body instead of its content: its size and a hash prefix to match it with a sender's."""
    return f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}"


class BodyReader:
    """One per door, so a flood at one door cannot take the read slots of the other."""

    def __init__(self, *, max_reads: int, timeout: float, slot_wait: float = SLOT_WAIT_SECONDS):
        self.timeout = timeout
        self.slot_wait = slot_wait
        self._slots = asyncio.Semaphore(max_reads)
        self.reading = 0  # for tests and /metrics-style checks: bodies being read right now

    async def read(self, request: web.Request, limit: int) -> bytes:
        """The whole body, or BodyRefused: 413 over `limit`, 503 when every slot stays busy, 408 when too slow."""
        declared = request.content_length
        if declared is not None and declared > limit:
            raise BodyRefused(413, "too_large", f"body larger than {limit} bytes")
        try:
            async with asyncio.timeout(self.slot_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise BodyRefused(503, "busy", "too many requests being read; try again") from None
        self.reading += 1
        try:
            async with asyncio.timeout(self.timeout):
                return await _read_at_most(request, limit)
        except TimeoutError:
            raise BodyRefused(408, "slow_body", f"body not received within {self.timeout:g} s") from None
        except (ConnectionError, aiohttp.ClientPayloadError, aiohttp.http_exceptions.HttpProcessingError):
            raise BodyRefused(400, "incomplete", "body incomplete") from None
        finally:
            self.reading -= 1
            self._slots.release()


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, "too_large", f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
