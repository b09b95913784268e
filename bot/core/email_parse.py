"""Read one GitLab pipeline-failure email (raw RFC 822 bytes) into a typed result or a skip reason (pure)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.errors import MessageDefect
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from bot.core.pipelines import mr_iid_from_ref

# GitLab's own headers (app/mailers/emails/pipelines.rb and the project headers every notification carries).
H_PROJECT = "X-GitLab-Project"
H_PROJECT_ID = "X-GitLab-Project-Id"
H_PROJECT_PATH = "X-GitLab-Project-Path"
H_PIPELINE_ID = "X-GitLab-Pipeline-Id"
H_PIPELINE_REF = "X-GitLab-Pipeline-Ref"
H_PIPELINE_STATUS = "X-GitLab-Pipeline-Status"
H_LIST_ID = "List-Id"

STATUS_SKIPPED = "skipped"
STATUS_MALFORMED = "malformed"

REASON_TOO_LARGE = "too large: {size} bytes, over IMAP_MAX_MESSAGE_BYTES={limit}"
REASON_NOT_FROM_GITLAB = "not from IMAP_GITLAB_EMAIL ({expected}); From: {sender}"
REASON_NOT_PIPELINE = "not a GitLab pipeline email (no X-GitLab-Pipeline-Id header)"
REASON_NOT_FAILED = "pipeline status is {status!r}, not 'failed'"
REASON_MISSING_HEADER = "missing header {header}"
REASON_NOT_A_NUMBER = "header {header} is not a number: {value!r}"
REASON_BAD_PATH = "header X-GitLab-Project-Path is not a project path: {value!r}"
REASON_BROKEN_MIME = "broken MIME structure: {defects}"
REASON_BAD_CHARSET = "cannot decode the text part: {problem}"
REASON_UNREADABLE = "cannot read the message: {problem}"

MAX_REASON = 500  # ProcessedEmail.reason holds 512
MAX_MESSAGE_ID = 500  # ProcessedEmail.message_id holds 512, minus room for the "email:" delivery prefix
MAX_FAILED_JOBS = 200  # a pipeline mail lists each failed job; a huge list is hostile or useless
MAX_NAME = 255

_DIGITS = re.compile(r"^\d{1,18}$")
_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The text body: "Job #<id> ( <url> )" then "Stage: <stage>" and "Name: <name>" lines.
_JOB_LINE = re.compile(r"^\s*Job #(\d{1,18})\b")
_STAGE_LINE = re.compile(r"^\s*Stage:\s*(.*?)\s*$")
_NAME_LINE = re.compile(r"^\s*Name:\s*(.*?)\s*$")
_MR_LINE = re.compile(r"^\s*Merge request:\s*(?:[\w.\-/]+)?!(\d{1,12})\b")
# MIME defects that mean the body cannot be trusted to be what it says.
_FATAL_DEFECTS = {
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "InvalidMultipartContentTransferEncodingDefect",
}


@dataclass(frozen=True, slots=True)
class FailedJobRef:
    """A failed job as the email names it."""

    id: int
    name: str
    stage: str


@dataclass(frozen=True, slots=True)
class PipelineFailureEmail:
    """A GitLab "pipeline failed" email that should start an analysis."""

    message_id: str
    project_id: int
    project_path: str
    pipeline_id: int
    ref: str
    project_name: str = ""
    mr_iid: int | None = None
    failed_jobs: tuple[FailedJobRef, ...] = ()
    date: str = ""  # ISO 8601 from the Date header, "" when absent or unreadable
    list_id: str = ""

    def email_payload(self) -> dict:
        """What the analyze_pipeline job is told about the email (the API is asked again before analysing)."""
        return {
            "project_path": self.project_path,
            "ref": self.ref,
            "mr_iid": self.mr_iid,
            "failed_jobs": [{"id": j.id, "name": j.name, "stage": j.stage} for j in self.failed_jobs],
            "message_id": self.message_id,
        }


@dataclass(frozen=True, slots=True)
class SkippedEmail:
    """A message that starts nothing, and why; status is "skipped" or "malformed"."""

    message_id: str
    status: str
    reason: str
    project_id: int | None = None
    pipeline_id: int | None = None


def _clean(value: object, limit: int = MAX_NAME) -> str:
    return _CONTROL.sub(" ", str(value)).strip()[:limit]


def header_block(raw: bytes) -> bytes:
    """The bytes before the first empty line (all of raw if there is none)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        cut = raw.find(sep)
        if cut != -1:
            return raw[:cut]
    return raw


def message_key(raw: bytes) -> str:
    """The Message-ID, or a hash of the header block when it is missing, so every message has one key."""
    head = header_block(raw)
    try:
        msg = message_from_bytes(head + b"\r\n\r\n", policy=policy.compat32)
        value = msg.get("Message-ID")
    except Exception:  # a header the parser chokes on still yields a key below
        value = None
    if value is not None:
        text = _clean(value, MAX_MESSAGE_ID)
        if text:
            return text
    return "sha256:" + hashlib.sha256(head).hexdigest()


def _header(msg: EmailMessage, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # policy.default parses lazily and may fail on a forged header
        return None
    return None if value is None else _clean(value, 1000)


def sender_matches(from_header: str | None, expected: str) -> bool:
    """True when the From address is one of the comma-separated addresses in expected."""
    allowed = {a.strip().lower() for a in expected.split(",") if a.strip()}
    if not from_header or not allowed:
        return False
    addresses = [addr.lower() for _name, addr in getaddresses([from_header]) if addr]
    return len(addresses) == 1 and addresses[0] in allowed


def _int_header(msg: EmailMessage, name: str) -> int | str:
    """The header as an int, or the skip reason as a string."""
    value = _header(msg, name)
    if not value:
        return REASON_MISSING_HEADER.format(header=name)
    if not _DIGITS.match(value):
        return REASON_NOT_A_NUMBER.format(header=name, value=value[:80])
    return int(value)


def _iso_date(msg: EmailMessage) -> str:
    value = _header(msg, "Date")
    if not value:
        return ""
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


def _defects(msg: EmailMessage) -> list[str]:
    found: list[str] = []
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            if isinstance(defect, MessageDefect) and type(defect).__name__ in _FATAL_DEFECTS:
                found.append(type(defect).__name__)
    return sorted(set(found))


def _text_body(msg: EmailMessage) -> str:
    """The text/plain part, decoded; raises LookupError/UnicodeError when its charset is wrong."""
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "us-ascii"
    if charset in ("us-ascii", "ascii"):
        # GitLab declares UTF-8, but old relays relabel; ASCII is a subset, so decode leniently as UTF-8.
        charset = "utf-8"
    return payload.decode(charset)


def parse_failed_jobs(text: str) -> list[FailedJobRef]:
    """The failed jobs listed in the text body: "Job #<id> ( url )" followed by "Stage:" and "Name:" lines."""
    jobs: list[FailedJobRef] = []
    current: dict | None = None

    def flush() -> None:
        if current is not None and len(jobs) < MAX_FAILED_JOBS:
            jobs.append(FailedJobRef(current["id"], current["name"], current["stage"]))

    for line in text.splitlines():
        job = _JOB_LINE.match(line)
        if job:
            flush()
            current = {"id": int(job.group(1)), "name": "", "stage": ""}
            continue
        if current is None:
            continue
        stage = _STAGE_LINE.match(line)
        if stage and not current["stage"]:
            current["stage"] = _clean(html.unescape(stage.group(1)))
            continue
        name = _NAME_LINE.match(line)
        if name and not current["name"]:
            current["name"] = _clean(html.unescape(name.group(1)))
    flush()
    return jobs


def _mr_from_body(text: str) -> int | None:
    for line in text.splitlines():
        match = _MR_LINE.match(line)
        if match:
            return int(match.group(1))
    return None


def parse_email(raw: bytes, *, gitlab_sender: str, max_bytes: int | None = None) -> PipelineFailureEmail | SkippedEmail:
    """Decide what one raw message is; never raises for any input."""
    key = message_key(raw)
    if max_bytes is not None and len(raw) > max_bytes:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_TOO_LARGE.format(size=len(raw), limit=max_bytes))
    try:
        return _parse(raw, key, gitlab_sender)
    except Exception as exc:  # the email package has corners that raise; a bad message must not stop the poll
        return SkippedEmail(
            key, STATUS_MALFORMED, REASON_UNREADABLE.format(problem=_clean(f"{type(exc).__name__}: {exc}", 200))
        )


def _parse(raw: bytes, key: str, gitlab_sender: str) -> PipelineFailureEmail | SkippedEmail:
    msg = message_from_bytes(raw, policy=policy.default)
    sender = _header(msg, "From") or ""
    if not sender_matches(sender, gitlab_sender):
        reason = REASON_NOT_FROM_GITLAB.format(expected=gitlab_sender, sender=sender[:200] or "(none)")
        return SkippedEmail(key, STATUS_SKIPPED, reason[:MAX_REASON])
    if _header(msg, H_PIPELINE_ID) is None:
        return SkippedEmail(key, STATUS_SKIPPED, REASON_NOT_PIPELINE)
    status = (_header(msg, H_PIPELINE_STATUS) or "").lower()
    project_id = _int_header(msg, H_PROJECT_ID)
    pipeline_id = _int_header(msg, H_PIPELINE_ID)
    ids = {
        "project_id": project_id if isinstance(project_id, int) else None,
        "pipeline_id": pipeline_id if isinstance(pipeline_id, int) else None,
    }
    if status != "failed":
        return SkippedEmail(key, STATUS_SKIPPED, REASON_NOT_FAILED.format(status=status[:40]), **ids)
    for value in (project_id, pipeline_id):
        if isinstance(value, str):
            return SkippedEmail(key, STATUS_MALFORMED, value[:MAX_REASON], **ids)
    path = _header(msg, H_PROJECT_PATH)
    if not path:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_MISSING_HEADER.format(header=H_PROJECT_PATH), **ids)
    if not _PATH.match(path) or len(path) > 512:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_BAD_PATH.format(value=path[:200]), **ids)
    ref = _header(msg, H_PIPELINE_REF)
    if not ref:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_MISSING_HEADER.format(header=H_PIPELINE_REF), **ids)
    defects = _defects(msg)
    if defects:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_BROKEN_MIME.format(defects=", ".join(defects)), **ids)
    try:
        text = _text_body(msg)
    except (LookupError, UnicodeError) as exc:
        return SkippedEmail(key, STATUS_MALFORMED, REASON_BAD_CHARSET.format(problem=_clean(exc, 200)), **ids)
    mr_iid = mr_iid_from_ref(ref)
    if mr_iid is None:
        mr_iid = _mr_from_body(text)
    return PipelineFailureEmail(
        message_id=key,
        project_id=int(project_id),
        project_path=path,
        pipeline_id=int(pipeline_id),
        ref=ref[:512],
        project_name=_header(msg, H_PROJECT) or "",
        mr_iid=mr_iid,
        failed_jobs=tuple(parse_failed_jobs(text)),
        date=_iso_date(msg),
        list_id=(_header(msg, H_LIST_ID) or "")[:MAX_NAME],
    )
