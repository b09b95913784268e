"""Request bodies read under limits: a size, a deadline, and a bound on how many one door reads at once."""

from __future__ import annotations

import asyncio
import ctypes
import hashlib

import aiohttp
from aiohttp import web

from bot.runtime.native import libc_function

# How long a request waits for a free read slot before it is told to come back: long enough to ride out a burst of
# legitimate deliveries (each read takes milliseconds), short enough that a flood cannot hold callers for long.
SLOT_WAIT_SECONDS = 2.0
CHUNK = 65536
# After this many bytes of bodies, once no body is being read, the C allocator is asked to give freed memory back:
# glibc keeps what a burst of large bodies freed in its arenas, and the process would stay that much larger.
TRIM_AFTER_BYTES = 8 * 1024 * 1024


def _malloc_trim():
    """glibc's malloc_trim(0), or a no-op where the C library has none (musl, macOS)."""
    trim = libc_function("malloc_trim")
    if trim is None:
        return lambda: None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


_trim = _malloc_trim()


class BodyRefused(Exception):
    """The body was not read (or not wholly): the status and text to answer, and a reason for metrics."""

    def __init__(self, status: int, reason: str, text: str):
        super().__init__(text)
        self.status = status
        self.reason = reason
        self.text = text


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, "too_large", f"body larger than {limit} bytes")


def describe(body: bytes) -> str:
    """What logs say about a body instead of its content: its size and a hash prefix to match it with a sender's."""
    return f"{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}"


class BodyReader:
    """One per door, so a flood at one door cannot take the read slots of the other."""

    def __init__(self, *, max_reads: int, timeout: float, slot_wait: float = SLOT_WAIT_SECONDS):
        self.timeout = timeout
        self.slot_wait = slot_wait
        self._slots = asyncio.Semaphore(max_reads)
        self.reading = 0  # bodies being read right now (tests wait on it)
        self._since_trim = 0

    async def read(self, request: web.Request, limit: int) -> bytes:
        """The whole body, or BodyRefused: 413 over `limit`, 503 when every slot stays busy, 408 when too slow."""
        declared = request.content_length
        if declared is not None and declared > limit:
            raise _too_large(limit)
        # The whole body has arrived already (most do; aiohttp stops reading a large one until it is read): there is
        # nothing to wait for, so no read slot and no deadline.
        if request.content.is_eof():
            body = request.content.read_nowait()
            if len(body) > limit:
                raise _too_large(limit)
            self._counted(len(body))
            return body
        try:
            async with asyncio.timeout(self.slot_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise BodyRefused(503, "busy", "too many requests being read; try again") from None
        self.reading += 1
        try:
            async with asyncio.timeout(self.timeout):
                body = await _read_at_most(request, limit)
            self._since_trim += len(body)
            return body
        except TimeoutError:
            raise BodyRefused(408, "slow_body", f"body not received within {self.timeout:g} s") from None
        except (ConnectionError, aiohttp.ClientPayloadError, aiohttp.http_exceptions.HttpProcessingError):
            raise BodyRefused(400, "incomplete", "body incomplete") from None
        finally:
            self.reading -= 1
            self._slots.release()
            self._counted(0)

    def _counted(self, size: int) -> None:
        """Count a body read; once enough were read and none is being read, give freed memory back."""
        self._since_trim += size
        if self.reading == 0 and self._since_trim >= TRIM_AFTER_BYTES:
            self._since_trim = 0
            asyncio.get_running_loop().call_soon(_trim)  # after the caller has dropped the body


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# Forms and the like at the other routes (the dashboard's login and logout) are small.
OTHER_BODY_BYTES = 64 * 1024


def read_other_bodies_in_time(timeout: float, own_readers: frozenset[str], limit: int = OTHER_BODY_BYTES):
    """A middleware: a route that reads its body through aiohttp (request.post(), request.read()) gets it read here
    first, under a size limit and a deadline, and then from aiohttp's cache; aiohttp alone would wait for a slow body
    as long as the sender likes. The doors in `own_readers` read theirs with a BodyReader."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if request.body_exists and request.path not in own_readers:
            declared = request.content_length
            if declared is not None and declared > limit:
                return web.Response(status=413, text=f"body larger than {limit} bytes\n")
            try:
                async with asyncio.timeout(timeout):
                    await request.read()  # kept by aiohttp: the handler's post() or read() gets the same bytes
            except TimeoutError:
                return web.Response(status=408, text=f"body not received within {timeout:g} s\n")
            except (ConnectionError, aiohttp.ClientPayloadError):
                return web.Response(status=400, text="body incomplete\n")
        return await handler(request)

    return middleware
