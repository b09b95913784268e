"""One accepted delivery as the inbox stores it, and whether the database can hold its values (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.types import JobSpec

# The inbox's and the queue's column limits (storage/models.py; a unit test keeps the two in step).
MAX_SOURCE = 32
MAX_DELIVERY_KEY = 255
MAX_EVENT_TYPE = 64
MAX_STATUS = 32
MAX_JOB_KIND = 64
MAX_DEDUPE_KEY = 255
# PostgreSQL's bigint: ids outside it are refused by the database, so they are refused here first.
MIN_ID = -(2**63)
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class IntakeRecord:
    """What a door records: the event (unique on delivery_key) and the jobs it asks for, in one transaction."""

    source: str
    delivery_key: str
    event_type: str
    payload: dict | None
    received_at: datetime
    jobs: list[JobSpec] = field(default_factory=list)
    project_id: int | None = None
    object_id: int | None = None
    status: str = ""
    max_attempts: int = 5


def _text_problem(name: str, value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    if "\x00" in value:
        return f"{name} contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{name} is not valid Unicode"
    return None


def _id_problem(name: str, value: int | None) -> str | None:
    if value is not None and not MIN_ID <= value <= MAX_ID:
        return f"{name} is outside the 64-bit range"
    return None


def storage_problem(record: IntakeRecord) -> str | None:
    """Why the database would refuse this record (a value too long, an id too large), or None when it fits.

    JSON payloads are stored in json columns, which take any JSON text (lone surrogates escaped), so only the
    columns are checked.
    """
    checks = [
        _text_problem("source", record.source, MAX_SOURCE),
        _text_problem("delivery key", record.delivery_key, MAX_DELIVERY_KEY),
        _text_problem("event type", record.event_type, MAX_EVENT_TYPE),
        _text_problem("status", record.status, MAX_STATUS),
        _id_problem("project id", record.project_id),
        _id_problem("object id", record.object_id),
    ]
    for job in record.jobs:
        checks.append(_text_problem("job kind", job.kind, MAX_JOB_KIND))
        checks.append(_text_problem("dedupe key", job.dedupe_key, MAX_DEDUPE_KEY))
    return next((problem for problem in checks if problem), None)
