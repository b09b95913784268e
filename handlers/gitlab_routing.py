"""What a GitLab hook delivery means for the bot: its keys and the jobs it asks for (pure)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from bot.jobs.kinds import ANALYZE_PIPELINE, MR_NOTE, PIPELINE_PASSED  # noqa: F401  (re-exported for the doors)
from bot.core.types import JobSpec

# A failed job usually arrives before its pipeline finishes; wait this long for the
# Pipeline Hook (which hastens the job) before looking at the pipeline anyway.
JOB_HOOK_GRACE_SECONDS = 120

_BOT_USERNAME = re.compile(r"^(project|group)_\d+_bot(_[0-9a-f]+)?$|(^|[-_])bot$", re.IGNORECASE)


@dataclass(frozen=True)
class RoutedEvent:
    event_type: str
    delivery_key: str
    project_id: int | None
    object_id: int | None
    status: str
    record: bool  # keep a row in the inbox
    jobs: list[JobSpec] = field(default_factory=list)
    ignored_reason: str = ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pipeline_key(project_id: int, pipeline_id: int, status: str) -> str:
    """The business key: one analysis per (project, pipeline, status), whoever reports it."""
    return f"pipeline:{project_id}:{pipeline_id}:{status}"


def is_bot_user(username: str, bot_username: str) -> bool:
    if not username:
        return False
    if bot_username and username.lower() == bot_username.lower():
        return True
    return bool(_BOT_USERNAME.search(username))


def mentions(text: str, username: str) -> bool:
    if not username:
        return False
    return re.search(rf"(?<![\w@])@{re.escape(username)}(?![\w.-]*\w)", text, re.IGNORECASE) is not None


def delivery_key(headers: dict[str, str], event_type: str, object_id: int | None, status: str, body: bytes) -> str:
    """Idempotency-Key stays the same across GitLab's retries; older GitLab only sends the event UUID."""
    if headers.get("idempotency-key"):
        return "gitlab:idem:" + headers["idempotency-key"][:200]
    if headers.get("x-gitlab-event-uuid"):
        return f"gitlab:uuid:{headers['x-gitlab-event-uuid'][:100]}:{event_type}:{object_id}:{status}"
    return "gitlab:body:" + hashlib.sha256(body).hexdigest()


def _project_id(payload: dict) -> int | None:
    project = payload.get("project")
    if isinstance(project, dict) and _int(project.get("id")) is not None:
        return _int(project.get("id"))
    return _int(payload.get("project_id"))


def _parent_pipeline(payload: dict, attrs: dict, project_id: int | None) -> int | None:
    """The parent pipeline of a child pipeline in the same project; None for anything else."""
    if attrs.get("source") != "parent_pipeline":
        return None
    source = payload.get("source_pipeline") if isinstance(payload.get("source_pipeline"), dict) else {}
    project = source.get("project") if isinstance(source.get("project"), dict) else {}
    if _int(project.get("id")) not in (None, project_id):
        return None
    return _int(source.get("pipeline_id"))


def route(event_type: str, payload: dict, headers: dict[str, str], body: bytes, bot_username: str) -> RoutedEvent:
    """Decide what to record and enqueue for one authenticated delivery."""
    project_id = _project_id(payload)
    attrs = payload.get("object_attributes") if isinstance(payload.get("object_attributes"), dict) else {}

    if event_type == "Pipeline Hook":
        pipeline_id = _int(attrs.get("id"))
        status = str(attrs.get("status") or "")
        key = delivery_key(headers, event_type, pipeline_id, status, body)
        if project_id is None or pipeline_id is None:
            return RoutedEvent(event_type, key, project_id, pipeline_id, status, False, ignored_reason="no project or pipeline id")
        parent = _parent_pipeline(payload, attrs, project_id)
        if parent is not None:
            # A child pipeline is analysed with its parent (which follows the bridge), so the MR note shows one report.
            if status != "failed":
                return RoutedEvent(event_type, key, project_id, pipeline_id, status, False,
                                   ignored_reason=f"child pipeline {status or 'without status'}")
            pipeline_id = parent
        job_payload = {"project_id": project_id, "pipeline_id": pipeline_id, "trigger": "webhook"}
        if status == "failed":
            spec = JobSpec(ANALYZE_PIPELINE, job_payload, pipeline_key(project_id, pipeline_id, "failed"), hasten_existing=True)
            return RoutedEvent(event_type, key, project_id, pipeline_id, status, True, [spec])
        if status == "success":
            spec = JobSpec(PIPELINE_PASSED, job_payload, pipeline_key(project_id, pipeline_id, "success"))
            return RoutedEvent(event_type, key, project_id, pipeline_id, status, True, [spec])
        return RoutedEvent(event_type, key, project_id, pipeline_id, status, False, ignored_reason=f"pipeline {status or 'without status'}")

    if event_type == "Job Hook":
        job_id = _int(payload.get("build_id"))
        status = str(payload.get("build_status") or "")
        pipeline_id = _int(payload.get("pipeline_id")) or _int((payload.get("pipeline") or {}).get("id") if isinstance(payload.get("pipeline"), dict) else None)
        key = delivery_key(headers, event_type, job_id, status, body)
        if status != "failed":
            return RoutedEvent(event_type, key, project_id, job_id, status, False, ignored_reason=f"job {status or 'without status'}")
        if payload.get("build_allow_failure"):
            return RoutedEvent(event_type, key, project_id, job_id, status, False, ignored_reason="job allowed to fail")
        if project_id is None or pipeline_id is None:
            return RoutedEvent(event_type, key, project_id, job_id, status, False, ignored_reason="no project or pipeline id")
        spec = JobSpec(
            ANALYZE_PIPELINE, {"project_id": project_id, "pipeline_id": pipeline_id, "trigger": "webhook"},
            pipeline_key(project_id, pipeline_id, "failed"), delay_seconds=JOB_HOOK_GRACE_SECONDS,
        )
        return RoutedEvent(event_type, key, project_id, job_id, status, True, [spec])

    if event_type == "Merge Request Hook":
        mr_iid = _int(attrs.get("iid"))
        action = str(attrs.get("action") or attrs.get("state") or "")
        key = delivery_key(headers, event_type, mr_iid, action, body)
        # Recorded for history; the MR note follows pipelines, not MR events.
        return RoutedEvent(event_type, key, project_id, mr_iid, action, True)

    if event_type == "Note Hook":
        note_id = _int(attrs.get("id"))
        key = delivery_key(headers, event_type, note_id, "note", body)
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        username = str(user.get("username") or "")
        note = str(attrs.get("note") or "")
        if attrs.get("noteable_type") != "MergeRequest":
            return RoutedEvent(event_type, key, project_id, note_id, "note", False, ignored_reason="not a merge request note")
        if is_bot_user(username, bot_username):
            return RoutedEvent(event_type, key, project_id, note_id, "note", False, ignored_reason="note by a bot")
        if not mentions(note, bot_username):
            return RoutedEvent(event_type, key, project_id, note_id, "note", False, ignored_reason="bot not mentioned")
        mr = payload.get("merge_request") if isinstance(payload.get("merge_request"), dict) else {}
        mr_iid = _int(mr.get("iid"))
        if project_id is None or note_id is None or mr_iid is None:
            return RoutedEvent(event_type, key, project_id, note_id, "note", False, ignored_reason="no project, note or MR id")
        spec = JobSpec(MR_NOTE, {
            "project_id": project_id, "mr_iid": mr_iid, "note_id": note_id,
            "discussion_id": attrs.get("discussion_id"), "user_id": _int(user.get("id")) or _int(attrs.get("author_id")),
            "username": username, "note": note[:10000],
        }, f"note:{project_id}:{note_id}")
        return RoutedEvent(event_type, key, project_id, note_id, "note", True, [spec])

    key = delivery_key(headers, event_type, None, "", body)
    return RoutedEvent(event_type, key, project_id, None, "", False, ignored_reason="event not handled")
