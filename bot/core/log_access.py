"""Why a failed CI job's log could not be read, told from GitLab's answer and the job's own facts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from bot.core import messages as m


class LogProblem(StrEnum):
    """The kinds of unreadable log, most specific first (an erased job explains a 404 or an empty answer)."""

    erased = "erased"
    permission = "permission"
    redirected = "redirected"
    expired = "expired"
    not_found = "not_found"
    empty = "empty"
    not_fetched = "not_fetched"
    other = "other"


def _when(value: object) -> datetime | None:
    """A GitLab timestamp ('2024-05-14T09:00:00.000Z'), or None when absent or not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # GitLab's times are UTC


def _lists_a_log(ci_job: dict) -> bool:
    """GitLab lists a finished job's log among its artifacts (file_type "trace") while it keeps it."""
    artifacts = ci_job.get("artifacts")
    return isinstance(artifacts, list) and any(
        isinstance(a, dict) and a.get("file_type") == "trace" and a.get("size") for a in artifacts
    )


def classify(ci_job: dict, *, status: int | None, empty: bool, now: datetime) -> LogProblem | None:
    """Why the log is unreadable: `status` is GitLab's HTTP status when the trace request failed (None when it
    answered 2xx), `empty` that it answered with no log text. None when the log was read."""
    if status is None and not empty:
        return None
    if _when(ci_job.get("erased_at")) is not None:
        # Erasing a job removes its log and artifacts; GitLab then answers with an empty log (or 404).
        return LogProblem.erased
    if status in (401, 403):
        return LogProblem.permission
    if status is not None and 300 <= status < 400:
        return LogProblem.redirected
    expires = _when(ci_job.get("artifacts_expire_at"))
    if expires is not None and expires <= now and not _lists_a_log(ci_job):
        # GitLab keeps logs unless an administrator's clean-up removes them, typically with the expired artifacts.
        return LogProblem.expired
    if status == 404:
        return LogProblem.not_found
    if status is not None:
        return LogProblem.other
    return LogProblem.empty


def describe(problem: LogProblem, ci_job: dict, status: int | None = None) -> str:
    """The reason people read after "log unavailable: "."""
    erased = _when(ci_job.get("erased_at"))
    expires = _when(ci_job.get("artifacts_expire_at"))
    return m.LOG_PROBLEMS[problem].format(
        status=status if status is not None else "?",
        erased=erased.date().isoformat() if erased else "?",
        expired=expires.date().isoformat() if expires else "?",
    )
