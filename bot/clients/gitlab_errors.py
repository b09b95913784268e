"""The GitLab client's typed errors, the words they say, and how an HTTP answer becomes one."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from bot.core.retry_after import parse_retry_after as _parse_retry_after

MAX_ERROR_BODY_BYTES = 4096
MAX_RETRY_AFTER_SECONDS = 3600.0
# Statuses worth asking again: the server or a proxy in front of it was briefly unable to answer.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST that failed with one of these never reached the application, so sending it again cannot
# create a second note; after a 500, 502, 504 or a timeout it may have, so it is not repeated.
POST_SAFE_STATUSES = frozenset({429, 503})

# What people are told when a call fails; "{what}" is the method and path.
MSG_NOT_FOUND = "GitLab answered 404 for {what}: it does not exist or the bot's token cannot see it."
MSG_AUTH = "GitLab refused {what} ({status}): check GITLAB_API_TOKEN and the bot user's role in the project."
MSG_UNAVAILABLE = "GitLab did not answer {what} after {attempts} {tries} ({last})."
MSG_REDIRECT = (
    "GitLab answered {status} to {what} (a redirect): check that GITLAB_BASE_URL is the GitLab address itself."
)
MSG_ODD_STATUS = "GitLab answered {what} with an unexpected status {status}."
MSG_RATE_LIMITED = "rate limited (429)"
MSG_SERVER = "server error {status}"
MSG_TIMEOUT = "timed out after {seconds:g} s"
MSG_CONNECTION = "connection failed: {detail}"
MSG_BAD_RESPONSE = "GitLab sent an unexpected response to {what}: {detail}"
MSG_TOO_LARGE = "GitLab's response to {what} is larger than {limit} bytes"
MSG_NO_NOTE = (
    "GitLab created no note for {what}: it took the text as quick actions ({changes}); "
    "the text must be neutralised before posting."
)
MSG_OFF_HOST = "refusing to send the token to {url}: it is not on {base}"
MSG_NO_TOKEN = "GITLAB_API_TOKEN is not set"


class GitLabError(Exception):
    """A GitLab API call failed; `status` is the HTTP status, or None when there was no answer."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = ""):
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path


class GitLabNotFound(GitLabError):
    """404: the object does not exist or the token cannot see it."""


class GitLabAuthError(GitLabError):
    """401 or 403: the token is wrong, expired, or lacks the role."""


class GitLabBadResponse(GitLabError):
    """The answer was not the JSON shape the endpoint documents, or was too large."""


class GitLabTransient(GitLabError):
    """A failure worth retrying: 429, 500/502/503/504, a timeout or a dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None, before_app: bool = False, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.before_app = before_app  # certain the request never reached GitLab's application


class GitLabUnavailable(GitLabError):
    """Retries ran out on transient failures; `last` is the final one."""

    def __init__(self, message: str, *, attempts: int, last: GitLabTransient, **kw: Any):
        super().__init__(message, **kw)
        self.attempts = attempts
        self.last = last


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """GitLab's Retry-After, capped at MAX_RETRY_AFTER_SECONDS."""
    return _parse_retry_after(value, cap=MAX_RETRY_AFTER_SECONDS, now=now)


def project_ref(project_id: int | str) -> str:
    """A project id or a "group/sub/project" path as it goes in an API path (paths URL-encoded)."""
    if isinstance(project_id, bool) or not isinstance(project_id, (int, str)):
        raise ValueError(f"project must be an id or a path, got {project_id!r}")
    text = str(project_id).strip()
    if not text:
        raise ValueError("project must not be empty")
    return text if text.isdigit() else quote(text, safe="")


def as_number(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"{what} must be an integer, got {value!r}")


def path_segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value, safe="")


async def read_bounded(resp: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    buf = bytearray()
    async for chunk in resp.content.iter_chunked(65536):
        buf += chunk
        if len(buf) > limit:
            raise GitLabBadResponse(MSG_TOO_LARGE.format(what=what, limit=limit), status=resp.status)
    return bytes(buf)


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        for key in ("message", "error_description", "error"):
            if key in data:
                return str(data[key])[:300]
    return ""


def status_error(status: int, headers: Any, body: bytes, method: str, path: str) -> GitLabError:
    what = f"{method} {path}"
    detail = _error_message(body)
    if status == 404:
        return GitLabNotFound(MSG_NOT_FOUND.format(what=what), status=status, method=method, path=path)
    if status in (401, 403):
        return GitLabAuthError(MSG_AUTH.format(what=what, status=status), status=status, method=method, path=path)
    if status == 429:
        return GitLabTransient(
            MSG_RATE_LIMITED,
            status=status,
            method=method,
            path=path,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            before_app=True,
        )
    if status in TRANSIENT_STATUSES:
        return GitLabTransient(
            MSG_SERVER.format(status=status),
            status=status,
            method=method,
            path=path,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            before_app=status == 503,
        )
    return GitLabError(
        f"GitLab answered {status} to {what}: {detail}".rstrip(": "), status=status, method=method, path=path
    )


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_success(status: int, method: str, path: str) -> None:
    # gidgetlab would raise its own untyped exceptions for these.
    what = f"{method} {path}"
    if 300 <= status < 400:
        raise GitLabError(MSG_REDIRECT.format(status=status, what=what), status=status, method=method, path=path)
    if status not in (200, 201, 202, 204):
        raise GitLabError(MSG_ODD_STATUS.format(status=status, what=what), status=status, method=method, path=path)


def unavailable(method: str, path: str, attempts: int, last: GitLabTransient) -> GitLabUnavailable:
    return GitLabUnavailable(
        MSG_UNAVAILABLE.format(
            what=f"{method} {path}", attempts=attempts, tries="attempt" if attempts == 1 else "attempts", last=last
        ),
        attempts=attempts,
        last=last,
        status=last.status,
        method=method,
        path=path,
    )
