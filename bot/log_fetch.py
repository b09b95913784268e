"""Stream a job's trace from GitLab into the excerpt scanner, off the event loop."""
from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable

from bot.logs import excerpt_chunks
from bot.types import Excerpt

_END = object()
_QUEUE_CHUNKS = 16  # 16 x 64 KiB in flight at most: memory stays bounded


async def excerpt_from_stream(
    chunks: AsyncIterator[bytes],
    *,
    budget_chars: int,
    max_bytes: int | None,
    line_filter: Callable[[str], str] | None,
) -> Excerpt:
    """Like logs.excerpt_stream, but the CPU-bound scanning runs in a thread.

    A 200 MB trace takes seconds to scan; doing that on the event loop would stall
    webhook answers, which must come back in milliseconds.
    """
    q: queue.Queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
    consumer_done = threading.Event()

    def chunk_iter():
        while True:
            item = q.get()
            if item is _END:
                return
            yield item

    def consume() -> Excerpt:
        try:
            return excerpt_chunks(chunk_iter(), budget_chars, max_bytes=max_bytes, line_filter=line_filter)
        finally:
            consumer_done.set()

    def put(item) -> None:
        while not consumer_done.is_set():
            try:
                q.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    loop = asyncio.get_running_loop()
    result = asyncio.ensure_future(asyncio.to_thread(consume))
    try:
        async for chunk in chunks:
            if consumer_done.is_set():
                break
            try:
                q.put_nowait(chunk)
            except queue.Full:
                await loop.run_in_executor(None, put, chunk)
    finally:
        # Always end the consumer, also when the download failed half-way.
        await loop.run_in_executor(None, put, _END)
    return await result
