"""Scanning logs off the event loop: many at once never deadlock, and the loop stays responsive."""

from __future__ import annotations

import asyncio
import threading

from bot.clients.log_fetch import excerpt_from_stream
from tests.scenario import PYTEST_TRACE


async def stream(text: str, repeat: int = 1, chunk: int = 4096):
    data = ("build step output line\n" * 2000) * repeat + text
    raw = data.encode()
    for i in range(0, len(raw), chunk):
        yield raw[i : i + chunk]


async def test_many_logs_at_once_do_not_starve_each_other():
    # More concurrent logs than the default thread pool has threads (the pool once deadlocked here).
    results = await asyncio.wait_for(
        asyncio.gather(
            *(
                excerpt_from_stream(stream(PYTEST_TRACE), budget_chars=4000, max_bytes=None, line_filter=None)
                for _ in range(24)
            )
        ),
        timeout=60,
    )
    assert all(any("AssertionError" in line.text for line in r.lines) for r in results)


async def test_the_event_loop_keeps_answering_while_a_big_log_is_scanned():
    """The scanner stops in the middle of the log until the event loop has answered something; had the scan
    run on the loop, the loop could not answer and the scanner would give up waiting. No clock is read."""
    mid_scan = threading.Event()
    loop_answered = threading.Event()
    answered_during_scan: list[bool] = []

    def line_filter(line: str) -> str:
        if "AssertionError" in line and not mid_scan.is_set():
            mid_scan.set()
            # A generous bound that only a blocked loop reaches; the answer normally comes at once.
            answered_during_scan.append(loop_answered.wait(timeout=60))
        return line

    async def answer_while_scanning() -> int:
        ticks = 0
        while not mid_scan.is_set():
            await asyncio.sleep(0.001)
            ticks += 1
        loop_answered.set()
        return ticks

    answering = asyncio.create_task(answer_while_scanning())
    result = await excerpt_from_stream(
        stream(PYTEST_TRACE, repeat=40, chunk=65536), budget_chars=8000, max_bytes=None, line_filter=line_filter
    )
    await answering
    assert any("AssertionError" in line.text for line in result.lines)
    assert answered_during_scan == [True], "the event loop did not run while the log was being scanned"


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
