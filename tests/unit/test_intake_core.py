"""The intake's pure parts: what the database can hold, the spool's line format, group commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.core import intake, spool
from bot.core.intake import IntakeRecord, storage_problem
from bot.core.types import JobSpec
from bot.runtime.batcher import GroupCommit
from storage.models import QueueJob, ReceivedEvent


def record(**changes) -> IntakeRecord:
    base = dict(
        source="gitlab_webhook",
        delivery_key="gitlab:idem:abc",
        event_type="Pipeline Hook",
        payload={"object_attributes": {"id": 1, "note": "caf\u00e9 \ud800 \x00"}},
        received_at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
        jobs=[JobSpec("analyze_pipeline", {"pipeline_id": 1}, "pipeline:42:1:failed", 120, True)],
        project_id=42,
        object_id=1,
        status="failed",
    )
    return IntakeRecord(**{**base, **changes})


def test_the_limits_are_the_columns():
    events, jobs = ReceivedEvent.__table__.c, QueueJob.__table__.c
    assert intake.MAX_SOURCE == events.source.type.length
    assert intake.MAX_DELIVERY_KEY == events.delivery_key.type.length
    assert intake.MAX_EVENT_TYPE == events.event_type.type.length
    assert intake.MAX_STATUS == events.status.type.length
    assert intake.MAX_JOB_KIND == jobs.kind.type.length
    assert intake.MAX_DEDUPE_KEY == jobs.dedupe_key.type.length


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"status": "x" * 33}, "status is longer than 32 characters"),
        ({"status": "fail\x00ed"}, "status contains a NUL character"),
        ({"status": "\udc80"}, "status is not valid Unicode"),
        ({"object_id": 2**63}, "object id is outside the 64-bit range"),
        ({"project_id": -(2**63) - 1}, "project id is outside the 64-bit range"),
        ({"delivery_key": "k" * 256}, "delivery key is longer than 255 characters"),
        ({"jobs": [JobSpec("analyze_pipeline", {}, "d" * 256)]}, "dedupe key is longer than 255 characters"),
    ],
)
def test_storage_problem_names_the_value_the_database_would_refuse(changes, problem):
    assert storage_problem(record(**changes)) == problem


def test_a_spool_line_round_trips_any_text():
    original = record()
    records, used, damaged = spool.decode(spool.encode(original) * 2)
    assert records == [original, original] and damaged == 0
    assert used == 2 * len(spool.encode(original))


def test_a_torn_last_line_is_left_and_a_damaged_line_is_skipped():
    line = spool.encode(record())
    damaged = line.replace(b"Pipeline", b"Pipelime")
    records, used, bad = spool.decode(line + damaged + line + line[:40])
    assert len(records) == 2 and bad == 1
    assert used == 3 * len(line)


def test_segment_names_sort_in_replay_order():
    names = [spool.segment_name(n) for n in (10, 9, 100)]
    assert sorted(names) == [spool.segment_name(9), spool.segment_name(10), spool.segment_name(100)]
    assert [spool.segment_sequence(n) for n in names] == [10, 9, 100]
    assert spool.segment_sequence("lock") is None and spool.segment_sequence("set-aside.spool") is None


def _held_writer() -> tuple[list[list[int]], asyncio.Event, GroupCommit[int, int]]:
    """A group commit whose first batch is held until the gate opens; the batches it wrote, in order."""
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            await gate.wait()
        return [i * 10 for i in items]

    return batches, gate, GroupCommit(write)


async def test_callers_that_arrive_during_a_write_share_the_next_one():
    batches, gate, commits = _held_writer()
    first = asyncio.create_task(commits.submit(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commits.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10 and [await t for t in others] == [20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_caller_who_submits_right_after_being_answered_is_written():
    # The writer that answered the first call has finished, but its task leaves the set of writers a step later;
    # the second call, made in between, once waited for a writer that never came (a webhook left unanswered).
    async def write(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        return [i * 10 for i in items]

    commits: GroupCommit[int, int] = GroupCommit(write)
    assert await commits.submit(1) == 10
    second = commits.submit(2)  # awaited in this task: no task hop that would let the writer's set catch up
    watchdog = asyncio.get_running_loop().call_later(10, asyncio.current_task().cancel)
    try:
        assert await second == 20
    finally:
        watchdog.cancel()
    assert commits.pending == 0


async def test_a_failed_write_fails_every_caller_in_it():
    async def write(items):
        raise ConnectionError("down")

    commits: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(commits.submit(1), commits.submit(2), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]


async def test_a_caller_that_waited_too_long_gets_timeout_error_and_is_left_out_of_later_batches():
    batches, gate, commits = _held_writer()
    first = asyncio.create_task(commits.submit(1))
    while not batches:  # the first batch is being written
        await asyncio.sleep(0)
    with pytest.raises(TimeoutError):
        await commits.submit(2, timeout=0)  # the first batch holds the writer: 2 waits, and gives up
    third = asyncio.create_task(commits.submit(3, timeout=60))
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10 and await third == 30
    assert batches == [[1], [3]], "the caller that gave up is not written"
