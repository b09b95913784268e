"""Stream a job's trace from GitLab into the excerpt scanner (the baseline builder, a line range), off the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from bot.core.excerpt.baseline import Baseline, build_baseline
from bot.core.excerpt.read import excerpt_chunks, line_range
from bot.core.redact_learn import LogLearner
from bot.core.types import Excerpt, ExcerptLine

T = TypeVar("T")

_END = object()
_QUEUE_CHUNKS = 16  # 16 x 64 KiB in flight at most: memory stays bounded
_FULL_WAIT_SECONDS = 0.005


async def excerpt_from_stream(
    chunks: AsyncIterator[bytes],
    *,
    budget_chars: int,
    max_bytes: int | None,
    line_filter: Callable[[str], str] | None,
    baseline: Baseline | None = None,
    learner: LogLearner | None = None,
) -> Excerpt:
    """Like logs.excerpt_stream, but the CPU-bound scanning runs in a thread of its own.

    learner, when given, reads every chunk first, in the same thread (the redactor's reading of the whole log).

    A 200 MB trace takes seconds to scan; doing that on the event loop would stall webhook
    answers, which must come back in milliseconds. The scanner gets a dedicated thread (not
    one from a shared pool) and the event loop never blocks handing chunks over, so any
    number of logs read at once cannot starve each other.
    """
    return await _in_thread(
        chunks,
        lambda it: excerpt_chunks(
            it if learner is None else learner.reading(it),
            budget_chars,
            max_bytes=max_bytes,
            line_filter=line_filter,
            baseline=baseline,
        ),
    )


async def line_range_from_stream(
    chunks: AsyncIterator[bytes],
    first: int,
    last: int,
    *,
    line_filter: Callable[[str], str] | None,
    learner: LogLearner | None = None,
) -> list[ExcerptLine]:
    """Lines first..last of a streamed log, read in a thread of its own. With learner, every chunk is read by it
    first, and the stream is read to its end for it after the last line wanted (the secrets of the whole log)."""

    def read(it: Iterator[bytes]) -> list[ExcerptLine]:
        if learner is None:
            return line_range(it, first, last, line_filter)
        teed = learner.reading(it)
        lines = line_range(teed, first, last, line_filter)
        for _ in teed:
            pass
        return lines

    return await _in_thread(chunks, read)


async def baseline_from_stream(chunks: AsyncIterator[bytes], *, max_bytes: int) -> Baseline:
    """The baseline of a passing CI job's log, read in a thread of its own; reading stops after max_bytes."""

    async def bounded() -> AsyncIterator[bytes]:
        left = max_bytes
        try:
            async for chunk in chunks:
                yield chunk[:left]
                left -= len(chunk)
                if left <= 0:
                    return
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()  # the download ends here, not when the generator is collected

    return await _in_thread(bounded(), build_baseline)


async def _in_thread(chunks: AsyncIterator[bytes], consume_all: Callable[[Iterator[bytes]], T]) -> T:
    """Run consume_all over the chunks in a dedicated thread, handing chunks over without blocking the loop."""
    q: queue.Queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
    result: concurrent.futures.Future = concurrent.futures.Future()
    stop = threading.Event()

    def chunk_iter():
        while True:
            item = q.get()
            if item is _END:
                return
            yield item

    def consume() -> None:
        try:
            result.set_result(consume_all(chunk_iter()))
        except BaseException as exc:  # handed to the awaiting coroutine
            result.set_exception(exc)
        finally:
            stop.set()
            # Drain so a producer waiting for room is not left waiting.
            while not q.empty():
                q.get_nowait()

    async def put(item) -> None:
        while not stop.is_set():
            try:
                q.put_nowait(item)
                return
            except queue.Full:
                await asyncio.sleep(_FULL_WAIT_SECONDS)

    threading.Thread(target=consume, name="log-excerpt", daemon=True).start()
    try:
        async for chunk in chunks:
            if stop.is_set():
                break
            await put(chunk)
    finally:
        # Always end the scanner, also when the download failed half-way.
        await put(_END)
    return await asyncio.wrap_future(result)
