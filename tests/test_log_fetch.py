"""Scanning logs off the event loop: many at once never deadlock, and the loop stays responsive."""
from __future__ import annotations

import asyncio
import time

from bot.clients.log_fetch import excerpt_from_stream
from tests.scenario import PYTEST_TRACE


async def stream(text: str, repeat: int = 1, chunk: int = 4096):
    data = ("build step output line\n" * 2000) * repeat + text
    raw = data.encode()
    for i in range(0, len(raw), chunk):
        yield raw[i:i + chunk]


async def test_many_logs_at_once_do_not_starve_each_other():
    # More concurrent logs than the default thread pool has threads (the pool once deadlocked here).
    results = await asyncio.wait_for(asyncio.gather(*(
        excerpt_from_stream(stream(PYTEST_TRACE), budget_chars=4000, max_bytes=None, line_filter=None)
        for _ in range(24))), timeout=60)
    assert all(any("AssertionError" in line.text for line in r.lines) for r in results)


async def test_the_event_loop_keeps_answering_while_a_big_log_is_scanned():
    lags: list[float] = []

    async def ticker():
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - started - 0.01)

    task = asyncio.create_task(ticker())
    result = await excerpt_from_stream(stream(PYTEST_TRACE, repeat=40, chunk=65536), budget_chars=8000,
                                       max_bytes=None, line_filter=None)
    task.cancel()
    assert any("AssertionError" in line.text for line in result.lines)
    assert lags and max(lags) < 0.5


async def test_a_download_that_breaks_half_way_still_ends_the_scanner():
    async def broken():
        yield b"line one\n"
        raise ConnectionResetError("peer went away")

    try:
        await excerpt_from_stream(broken(), budget_chars=1000, max_bytes=None, line_filter=None)
    except ConnectionResetError:
        pass
    else:
        raise AssertionError("the download error must reach the caller")
