"""What a GitLab hook delivery means for the bot: its keys and the jobs it asks for (pure)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.followup import addressed_text
from bot.core.intake import MAX_ID
from bot.core.types import JobSpec
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload
from bot.jobs.mr_note import MrNotePayload
from bot.jobs.pipeline_passed import PipelinePassedPayload

# A failed CI job usually arrives before its pipeline finishes; wait this long for the
# Pipeline Hook (which hastens the job) before looking at the pipeline anyway.
JOB_HOOK_GRACE_SECONDS = 120


@dataclass(frozen=True)
class HookDelivery:
    """One authenticated delivery, as the event functions read it."""

    event_type: str
    payload: dict
    headers: dict[str, str]
    body: bytes
    bot_username: str
    project_id: int | None
    attrs: dict  # object_attributes, {} when absent

    def key(self, object_id: int | None, status: str) -> str:
        return delivery_key(self.headers, self.event_type, object_id, status, self.body)


@dataclass(frozen=True, kw_only=True)
class RoutedEvent:
    event_type: str
    delivery_key: str
    project_id: int | None
    object_id: int | None
    status: str
    record: bool  # keep a row in the inbox
    jobs: list[JobSpec] = field(default_factory=list)
    ignored_reason: str = ""

    @classmethod
    def recorded(cls, d: HookDelivery, key: str, object_id: int | None, status: str, *jobs: JobSpec) -> RoutedEvent:
        """Kept in the inbox, with the jobs it asks for (none: kept for history only)."""
        return cls(
            event_type=d.event_type,
            delivery_key=key,
            project_id=d.project_id,
            object_id=object_id,
            status=status,
            record=True,
            jobs=list(jobs),
        )

    @classmethod
    def ignored(cls, d: HookDelivery, key: str, object_id: int | None, status: str, reason: str) -> RoutedEvent:
        """Answered and forgotten: nothing is stored or enqueued."""
        return cls(
            event_type=d.event_type,
            delivery_key=key,
            project_id=d.project_id,
            object_id=object_id,
            status=status,
            record=False,
            ignored_reason=reason,
        )


def _int(value: Any) -> int | None:
    """An id, or None when there is none: GitLab's ids are positive and 64-bit (a column holds no more)."""
    # JSON true and 1.5 are not ids: int() would make them pipeline 1 and analyse a pipeline nobody named.
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number <= MAX_ID else None


def pipeline_key(project_id: int, pipeline_id: int, status: str) -> str:
    """The business key: one analysis per (project, pipeline, status), whoever reports it."""
    return f"pipeline:{project_id}:{pipeline_id}:{status}"


def is_own_note(username: str, bot_username: str) -> bool:
    """The bot's own notes are dropped at the door. Whether another author is a bot is not told by its name
    (Renovate has an ordinary one, a person may be "x-bot"): the mr_note job asks GitLab for the `bot` flag."""
    return bool(username and bot_username) and username.lower() == bot_username.lower()


def mentions(text: str, username: str) -> bool:
    """Whether the note addresses the bot: a mention inside code or a quotation only shows or quotes it."""
    if not username:
        return False
    pattern = rf"(?<![\w@])@{re.escape(username)}(?![\w.-]*\w)"
    return re.search(pattern, addressed_text(text), re.IGNORECASE) is not None


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


def _pipeline_hook(d: HookDelivery) -> RoutedEvent:
    """A failed pipeline is analysed (a child pipeline with its parent); a passed one may mark a failure fixed."""
    pipeline_id = _int(d.attrs.get("id"))
    status = str(d.attrs.get("status") or "")
    key = d.key(pipeline_id, status)  # the child's own id for a child pipeline: its delivery is not the parent's
    if d.project_id is None or pipeline_id is None:
        return RoutedEvent.ignored(d, key, pipeline_id, status, "no project or pipeline id")
    analyzed_id = pipeline_id
    parent = _parent_pipeline(d.payload, d.attrs, d.project_id)
    if parent is not None:
        # A child pipeline is analysed with its parent (which follows the bridge), so the MR note shows one report.
        if status != "failed":
            return RoutedEvent.ignored(d, key, pipeline_id, status, f"child pipeline {status or 'without status'}")
        analyzed_id = parent
    if status == "failed":
        analyze = AnalyzePipelinePayload(project_id=d.project_id, pipeline_id=analyzed_id, trigger="webhook")
        spec = analyze.job_spec(pipeline_key(d.project_id, analyzed_id, "failed"), hasten_existing=True)
        return RoutedEvent.recorded(d, key, analyzed_id, status, spec)
    if status == "success":
        passed = PipelinePassedPayload(project_id=d.project_id, pipeline_id=analyzed_id, trigger="webhook")
        spec = passed.job_spec(pipeline_key(d.project_id, analyzed_id, "success"))
        return RoutedEvent.recorded(d, key, analyzed_id, status, spec)
    return RoutedEvent.ignored(d, key, pipeline_id, status, f"pipeline {status or 'without status'}")


def _job_hook(d: HookDelivery) -> RoutedEvent:
    """A failed CI job that may not fail queues its pipeline's analysis, held back until the pipeline ends."""
    ci_job_id = _int(d.payload.get("build_id"))
    status = str(d.payload.get("build_status") or "")
    pipeline = d.payload.get("pipeline")
    pipeline_id = _int(d.payload.get("pipeline_id")) or _int(pipeline.get("id") if isinstance(pipeline, dict) else None)
    key = d.key(ci_job_id, status)
    if status != "failed":
        return RoutedEvent.ignored(d, key, ci_job_id, status, f"job {status or 'without status'}")
    if d.payload.get("build_allow_failure") is True:  # GitLab sends a boolean; "false" as text is not true
        return RoutedEvent.ignored(d, key, ci_job_id, status, "job allowed to fail")
    if d.project_id is None or pipeline_id is None:
        return RoutedEvent.ignored(d, key, ci_job_id, status, "no project or pipeline id")
    analyze = AnalyzePipelinePayload(project_id=d.project_id, pipeline_id=pipeline_id, trigger="webhook")
    spec = analyze.job_spec(pipeline_key(d.project_id, pipeline_id, "failed"), delay_seconds=JOB_HOOK_GRACE_SECONDS)
    return RoutedEvent.recorded(d, key, ci_job_id, status, spec)


def _merge_request_hook(d: HookDelivery) -> RoutedEvent:
    """Recorded for history; nothing is queued."""
    mr_iid = _int(d.attrs.get("iid"))
    action = str(d.attrs.get("action") or d.attrs.get("state") or "")
    # Recorded for history; the MR note follows pipelines, not MR events.
    return RoutedEvent.recorded(d, d.key(mr_iid, action), mr_iid, action)


def _note_hook(d: HookDelivery) -> RoutedEvent:
    """A merge request note that mentions the bot gets an answer in its discussion."""
    note_id = _int(d.attrs.get("id"))
    key = d.key(note_id, "note")
    user = d.payload.get("user") if isinstance(d.payload.get("user"), dict) else {}
    username = str(user.get("username") or "")
    note = str(d.attrs.get("note") or "")
    if d.attrs.get("noteable_type") != "MergeRequest":
        return RoutedEvent.ignored(d, key, note_id, "note", "not a merge request note")
    if is_own_note(username, d.bot_username):
        return RoutedEvent.ignored(d, key, note_id, "note", "note by the bot itself")
    if d.attrs.get("action") == "update":
        # GitLab 16.11+ also sends an edit: a note is answered once, when it is written (a new note asks again)
        return RoutedEvent.ignored(d, key, note_id, "note", "note edited")
    if not mentions(note, d.bot_username):
        return RoutedEvent.ignored(d, key, note_id, "note", "bot not mentioned")
    mr = d.payload.get("merge_request") if isinstance(d.payload.get("merge_request"), dict) else {}
    mr_iid = _int(mr.get("iid"))
    if d.project_id is None or note_id is None or mr_iid is None:
        return RoutedEvent.ignored(d, key, note_id, "note", "no project, note or MR id")
    discussion = d.attrs.get("discussion_id")
    answer = MrNotePayload(
        project_id=d.project_id,
        mr_iid=mr_iid,
        note_id=note_id,
        discussion_id=str(discussion) if discussion is not None else None,
        user_id=_int(user.get("id")) or _int(d.attrs.get("author_id")),
        username=username,
        note=note[:10000],
    )
    return RoutedEvent.recorded(d, key, note_id, "note", answer.job_spec(f"note:{d.project_id}:{note_id}"))


# X-Gitlab-Event -> what it means; a new event is one function here.
EVENT_ROUTES: dict[str, Callable[[HookDelivery], RoutedEvent]] = {
    "Pipeline Hook": _pipeline_hook,
    "Job Hook": _job_hook,
    "Merge Request Hook": _merge_request_hook,
    "Note Hook": _note_hook,
}

# X-Gitlab-Event -> the trigger to enable on the GitLab hook for it.
HOOK_SETTINGS: dict[str, str] = {
    "Pipeline Hook": "pipeline_events",
    "Job Hook": "job_events",
    "Merge Request Hook": "merge_requests_events",
    "Note Hook": "note_events",
}


def route(event_type: str, payload: dict, headers: dict[str, str], body: bytes, bot_username: str) -> RoutedEvent:
    """Decide what to record and enqueue for one authenticated delivery."""
    attrs = payload.get("object_attributes") if isinstance(payload.get("object_attributes"), dict) else {}
    d = HookDelivery(event_type, payload, headers, body, bot_username, _project_id(payload), attrs)
    handler = EVENT_ROUTES.get(event_type)
    if handler is None:
        return RoutedEvent.ignored(d, d.key(None, ""), None, "", "event not handled")
    return handler(d)


def unroutable(event_type: str, headers: dict[str, str], body: bytes) -> RoutedEvent:
    """A delivery whose routing failed: kept in the inbox for a human, nothing enqueued."""
    return RoutedEvent(
        event_type=event_type,
        delivery_key=delivery_key(headers, event_type, None, "", body),
        project_id=None,
        object_id=None,
        status="route_error",
        record=True,
    )
