"""The intake spool's file format (pure): one delivery a line, checksummed, so a torn or damaged tail is found.

A line is `<crc32 as 8 hex digits> <JSON>\\n`; the JSON holds the IntakeRecord. Segments are files named
`<sequence>.spool`, replayed in sequence order.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict
from datetime import datetime

from bot.core.intake import IntakeRecord
from bot.core.types import JobSpec

SEGMENT_SUFFIX = ".spool"
FORMAT_VERSION = 1


def segment_name(sequence: int) -> str:
    return f"{sequence:012d}{SEGMENT_SUFFIX}"


def segment_sequence(name: str) -> int | None:
    """The sequence number of a segment's file name; None for any other file."""
    stem = name.removesuffix(SEGMENT_SUFFIX)
    if stem == name or not stem.isdigit():
        return None
    return int(stem)


def encode(record: IntakeRecord) -> bytes:
    """One line; ASCII JSON, so any text survives the round trip."""
    data = asdict(record)
    data["received_at"] = record.received_at.isoformat()
    data["v"] = FORMAT_VERSION
    body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode("ascii")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _record(data: dict) -> IntakeRecord:
    return IntakeRecord(
        source=data["source"],
        delivery_key=data["delivery_key"],
        event_type=data["event_type"],
        payload=data["payload"],
        received_at=datetime.fromisoformat(data["received_at"]),
        jobs=[JobSpec(**job) for job in data["jobs"]],
        project_id=data["project_id"],
        object_id=data["object_id"],
        status=data["status"],
        max_attempts=data["max_attempts"],
    )


def decode(data: bytes) -> tuple[list[IntakeRecord], int, int]:
    """The records of a segment's bytes, the bytes they use, and how many damaged lines were skipped.

    An unterminated last line is a write cut short (the delivery was not answered): it is left unread.
    """
    records: list[IntakeRecord] = []
    damaged = 0
    used = 0
    while True:
        end = data.find(b"\n", used)
        if end < 0:
            return records, used, damaged
        line = data[used:end]
        used = end + 1
        try:
            checksum, body = line.split(b" ", 1)
            if int(checksum, 16) != zlib.crc32(body):
                raise ValueError("checksum")
            records.append(_record(json.loads(body)))
        except (ValueError, KeyError, TypeError):
            damaged += 1
