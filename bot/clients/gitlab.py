"""Async GitLab REST v4 client over gidgetlab: typed errors, bounded retries, streamed job traces."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from gidgetlab import abc as gidgetlab_abc
from gidgetlab import sansio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, stop_before_delay

from bot.clients.gitlab_errors import (
    MAX_ERROR_BODY_BYTES,
    MSG_BAD_RESPONSE,
    MSG_CONNECTION,
    MSG_NO_NOTE,
    MSG_NO_TOKEN,
    MSG_OFF_HOST,
    MSG_TIMEOUT,
    GitLabAuthError,
    GitLabBadResponse,
    GitLabError,
    GitLabNotFound,
    GitLabTransient,
    as_number,
    check_success,
    origin,
    path_segment,
    project_ref,
    read_bounded,
    status_error,
    unavailable,
)
from bot.clients.proxy import proxy_for
from bot.core.pipelines import changed_paths, failed_test_cases

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

REQUESTER = "cicd-bot"
PER_PAGE = 100
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # one JSON response; a test report of a huge suite stays under this
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 10.0
MAX_JOBS = 5000
MAX_NOTES = 5000
MAX_DISCUSSIONS = 2000
MAX_CHANGED_FILES = 300
MAX_COMMIT_MRS = 50
MAX_FAILED_TESTS = 50
MAX_FILE_BYTES = 256 * 1024


class _API(gidgetlab_abc.GitLabAPI):
    """gidgetlab's client (URLs, pagination, JSON) over our aiohttp session, with timeouts, typed errors and retries.

    Built on gidgetlab.abc rather than gidgetlab.aiohttp: the latter imports cachetools, which is
    not a dependency, and both of its I/O methods are replaced here anyway.
    """

    def __init__(self, owner: GitLabClient, session: aiohttp.ClientSession, token: str, base_url: str):
        super().__init__(REQUESTER, access_token=token, url=base_url)
        self._session = session
        self._owner = owner

    async def _request(self, method: str, url: str, headers: Any, body: bytes = b"") -> tuple[int, Any, bytes]:
        return await self._owner._with_retries(method, url, self._once, method, url, headers, body)

    async def _once(self, method: str, url: str, headers: Any, body: bytes) -> tuple[int, Any, bytes]:
        owner = self._owner
        path = owner._path_of(url)
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=owner._timeout,
                allow_redirects=False,
                proxy=owner._proxy,
            ) as resp:
                if resp.status >= 400:
                    raw = await resp.content.read(MAX_ERROR_BODY_BYTES)
                    raise status_error(resp.status, resp.headers, raw, method, path)
                check_success(resp.status, method, path)
                data = await read_bounded(resp, MAX_RESPONSE_BYTES, f"{method} {path}")
                return resp.status, resp.headers, data
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise owner._transport_error(exc, method, path) from None

    async def sleep(self, seconds: float) -> None:
        await self._owner._sleep(seconds)


class GitLabClient:
    """The bot's door to the GitLab REST API v4; one per process, sharing the aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = 30,
        max_attempts: int = 4,
        retry_max_seconds: float = 60,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if not token:
            raise GitLabAuthError(MSG_NO_TOKEN)
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"GITLAB_BASE_URL must be an http(s) URL, got {base_url!r}")
        self._session = session
        self._token = token
        self._timeout_seconds = float(timeout)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._stream_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._max_attempts = max(1, int(max_attempts))
        self._retry_max_seconds = float(retry_max_seconds)
        self._sleep = sleep
        self._api = _API(self, session, token, base_url)
        self.base_url = base_url.rstrip("/")
        self.api_url = self._api.api_url  # ends with /api/v4/
        self._api_origin = origin(self.base_url)
        # HTTPS_PROXY / NO_PROXY, read here rather than by the shared session (whose trust_env would also
        # apply ~/.netrc credentials, which aiohttp refuses to combine with the token's Authorization header).
        self._proxy = proxy_for(self.base_url)

    def __repr__(self) -> str:  # the token never appears, even in debug output
        return f"GitLabClient({self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Settings, session: aiohttp.ClientSession) -> GitLabClient:
        token = settings.gitlab_api_token.get_secret_value() if settings.gitlab_api_token else ""
        return cls(session, settings.gitlab_base_url, token, timeout=settings.gitlab_timeout_seconds)

    # --- plumbing -------------------------------------------------------------

    def _path_of(self, url: str) -> str:
        """The API path of a URL for messages and logs (no host, no query)."""
        path = urlsplit(url).path
        prefix = urlsplit(self.api_url).path.rstrip("/")
        return path[len(prefix) :] if path.startswith(prefix) else path

    def _check_host(self, url: str) -> None:
        # Pagination links come from the server; never follow one that would carry the token elsewhere.
        parts = urlsplit(url)
        if origin(url) != self._api_origin:
            raise GitLabBadResponse(MSG_OFF_HOST.format(url=f"{parts.scheme}://{parts.netloc}", base=self.base_url))

    def _transport_error(self, exc: BaseException, method: str, path: str) -> GitLabTransient:
        if isinstance(exc, asyncio.TimeoutError):
            return GitLabTransient(MSG_TIMEOUT.format(seconds=self._timeout_seconds), method=method, path=path)
        before_app = isinstance(exc, aiohttp.ClientConnectorError)
        detail = type(exc).__name__
        return GitLabTransient(MSG_CONNECTION.format(detail=detail), method=method, path=path, before_app=before_app)

    def _wait_seconds(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(BACKOFF_BASE_SECONDS * 2 ** (state.attempt_number - 1), BACKOFF_CAP_SECONDS)
        backoff *= random.uniform(0.5, 1.0)
        retry_after = getattr(exc, "retry_after", None)
        return max(backoff, retry_after) if retry_after is not None else backoff

    async def _with_retries(self, method: str, url: str, attempt: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        self._check_host(url)
        path = self._path_of(url)

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, GitLabTransient):
                return False
            return method != "POST" or exc.before_app

        def give_up(state: RetryCallState) -> Any:
            last = state.outcome.exception() if state.outcome else None
            if not isinstance(last, GitLabTransient) or not retryable(last):
                raise last  # type: ignore[misc]
            raise unavailable(method, path, state.attempt_number, last) from last

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "gitlab call failed, retrying",
                extra={
                    "method": method,
                    "path": path,
                    "attempt": state.attempt_number,
                    "error": str(exc),
                    "sleep_s": round(state.upcoming_sleep, 2),
                },
            )

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(self._max_attempts) | stop_before_delay(self._retry_max_seconds),
            wait=self._wait_seconds,
            retry=retry_if_exception(retryable),
            before_sleep=before_sleep,
            retry_error_callback=give_up,
        )
        try:
            return await retrying(attempt, *args)
        except GitLabTransient as exc:
            # A POST that may have reached GitLab is not repeated; say so as "unavailable" after one try.
            raise unavailable(method, path, 1, exc) from exc

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            return await self._api.getitem(path, params or {})
        except GitLabError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise GitLabBadResponse(MSG_BAD_RESPONSE.format(what=f"GET {path}", detail=type(exc).__name__)) from None

    async def _get_object(self, path: str, params: dict[str, str] | None = None) -> dict:
        data = await self._get(path, params)
        if not isinstance(data, dict):
            raise GitLabBadResponse(MSG_BAD_RESPONSE.format(what=f"GET {path}", detail="not a JSON object"))
        return data

    async def _get_list(self, path: str, params: dict[str, str] | None = None, *, limit: int) -> list[dict]:
        """Every item of a paginated list, following Link rel="next", stopping at `limit` items."""
        out: list[dict] = []
        query = {"per_page": str(min(PER_PAGE, max(limit, 1))), **(params or {})}
        try:
            async with aclosing(self._api.getiter(path, query)) as pages:
                async for item in pages:
                    if not isinstance(item, dict):
                        raise GitLabBadResponse(
                            MSG_BAD_RESPONSE.format(what=f"GET {path}", detail="list item is not an object")
                        )
                    out.append(item)
                    if len(out) >= limit:
                        break
        except GitLabError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise GitLabBadResponse(MSG_BAD_RESPONSE.format(what=f"GET {path}", detail=type(exc).__name__)) from None
        return out

    async def get_page(self, path: str, params: dict[str, str]) -> list[dict]:
        """One page of a list (params name page and per_page): exactly one request, for callers that bound theirs."""
        data = await self._get(path, params)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise GitLabBadResponse(MSG_BAD_RESPONSE.format(what=f"GET {path}", detail="not a list of objects"))
        return data

    async def _send(self, method: str, path: str, data: dict) -> dict:
        call = {"POST": self._api.post, "PUT": self._api.put}[method]
        try:
            result = await call(path, {}, data=data)
        except GitLabError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise GitLabBadResponse(
                MSG_BAD_RESPONSE.format(what=f"{method} {path}", detail=type(exc).__name__)
            ) from None
        return result if isinstance(result, dict) else {}

    async def _open(self, path: str, params: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        """Open a GET whose body the caller reads as a stream; retried until the headers arrive."""
        url = self._api.format_url(path, params or {})
        headers = sansio.create_headers(REQUESTER, access_token=self._token)
        headers["accept"] = "*/*"
        api_path = self._path_of(url)

        async def attempt() -> aiohttp.ClientResponse:
            try:
                resp = await self._session.request(
                    "GET",
                    url,
                    headers=headers,
                    timeout=self._stream_timeout,
                    allow_redirects=False,
                    proxy=self._proxy,
                )
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise self._transport_error(exc, "GET", api_path) from None
            if resp.status >= 400:
                try:
                    raw = await resp.content.read(MAX_ERROR_BODY_BYTES)
                except (TimeoutError, aiohttp.ClientError):
                    raw = b""
                resp.release()
                raise status_error(resp.status, resp.headers, raw, "GET", api_path)
            try:
                check_success(resp.status, "GET", api_path)
            except GitLabError:
                resp.release()
                raise
            return resp

        return await self._with_retries("GET", url, attempt)

    # --- pipelines and jobs -----------------------------------------------------

    async def get_pipeline(self, project_id: int | str, pipeline_id: int) -> dict:
        return await self._get_object(
            f"/projects/{project_ref(project_id)}/pipelines/{as_number(pipeline_id, 'pipeline_id')}"
        )

    async def list_pipeline_jobs(
        self, project_id: int | str, pipeline_id: int, include_retried: bool = True
    ) -> list[dict]:
        path = f"/projects/{project_ref(project_id)}/pipelines/{as_number(pipeline_id, 'pipeline_id')}/jobs"
        return await self._get_list(path, {"include_retried": "true" if include_retried else "false"}, limit=MAX_JOBS)

    async def list_pipeline_bridges(self, project_id: int | str, pipeline_id: int) -> list[dict]:
        path = f"/projects/{project_ref(project_id)}/pipelines/{as_number(pipeline_id, 'pipeline_id')}/bridges"
        return await self._get_list(path, limit=MAX_JOBS)

    async def list_pipelines(self, project_id: int | str, *, ref: str, status: str, limit: int) -> list[dict]:
        """The newest pipelines of a ref with a status, newest first: one page, one request."""
        params = {
            "ref": ref,
            "status": status,
            "order_by": "id",
            "sort": "desc",
            "per_page": str(max(1, min(limit, PER_PAGE))),
            "page": "1",
        }
        return await self.get_page(f"/projects/{project_ref(project_id)}/pipelines", params)

    async def get_project(self, project_id: int | str) -> dict:
        return await self._get_object(f"/projects/{project_ref(project_id)}")

    async def get_job(self, project_id: int | str, job_id: int) -> dict:
        return await self._get_object(f"/projects/{project_ref(project_id)}/jobs/{as_number(job_id, 'job_id')}")

    async def stream_trace(self, project_id: int | str, job_id: int, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The job log as it arrives, chunk by chunk; the whole log is never held in memory."""
        path = f"/projects/{project_ref(project_id)}/jobs/{as_number(job_id, 'job_id')}/trace"
        resp = await self._open(path)
        try:
            async for chunk in resp.content.iter_chunked(max(1, int(chunk_size))):
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Not retried here: bytes already handed on would be repeated.
            raise self._transport_error(exc, "GET", path) from None
        finally:
            resp.release()

    async def get_test_report_summary(self, project_id: int | str, pipeline_id: int) -> dict:
        path = (
            f"/projects/{project_ref(project_id)}/pipelines/{as_number(pipeline_id, 'pipeline_id')}/test_report_summary"
        )
        return await self._get_object(path)

    async def get_test_report(
        self, project_id: int | str, pipeline_id: int, limit: int = MAX_FAILED_TESTS
    ) -> list[dict]:
        """Failed and errored test cases of the pipeline, at most `limit`, outputs clipped."""
        path = f"/projects/{project_ref(project_id)}/pipelines/{as_number(pipeline_id, 'pipeline_id')}/test_report"
        return failed_test_cases(await self._get_object(path), limit)

    async def get_file_raw(
        self, project_id: int | str, path: str, ref: str, max_bytes: int = MAX_FILE_BYTES
    ) -> str | None:
        """A repository file at `ref` as text, cut at `max_bytes`; None when it does not exist."""
        api_path = f"/projects/{project_ref(project_id)}/repository/files/{path_segment(path, 'path')}/raw"
        try:
            resp = await self._open(api_path, {"ref": ref})
        except GitLabNotFound:
            return None
        try:
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                buf += chunk
                if len(buf) >= max_bytes:
                    del buf[max_bytes:]
                    break
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc, "GET", api_path) from None
        finally:
            resp.release()
        return buf.decode("utf-8", "replace")

    # --- merge requests and notes ---------------------------------------------------

    async def find_merge_requests_for_commit(self, project_id: int | str, sha: str) -> list[dict]:
        path = f"/projects/{project_ref(project_id)}/repository/commits/{path_segment(sha, 'sha')}/merge_requests"
        return await self._get_list(path, limit=MAX_COMMIT_MRS)

    async def get_merge_request(self, project_id: int | str, iid: int) -> dict:
        return await self._get_object(f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}")

    async def list_merge_request_changed_files(
        self, project_id: int | str, iid: int, limit: int = MAX_CHANGED_FILES
    ) -> list[str]:
        """Paths the MR changes, at most `limit`; falls back to /changes on GitLab older than 15.7."""
        base = f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}"
        try:
            diffs = await self._get_list(f"{base}/diffs", limit=limit)
        except GitLabNotFound:
            mr = await self._get_object(f"{base}/changes")
            diffs = mr.get("changes") if isinstance(mr.get("changes"), list) else []
        return changed_paths(diffs, limit)

    async def list_mr_notes(self, project_id: int | str, iid: int) -> list[dict]:
        path = f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}/notes"
        return await self._get_list(path, {"sort": "asc", "order_by": "created_at"}, limit=MAX_NOTES)

    async def _post_note(self, path: str, body: str) -> dict:
        note = await self._send("POST", path, {"body": body})
        changes = note.get("commands_changes")
        if changes:
            log.warning("a note the bot posted ran quick actions", extra={"path": path, "commands": sorted(changes)})
        if not isinstance(note.get("id"), int):
            # A 202 without a note: GitLab applied the whole text as commands.
            raise GitLabBadResponse(
                MSG_NO_NOTE.format(what=f"POST {path}", changes=", ".join(sorted(changes or {}))),
                status=202,
                method="POST",
                path=path,
            )
        return note

    async def create_mr_note(self, project_id: int | str, iid: int, body: str) -> dict:
        """Post a note; raises GitLabBadResponse if GitLab took the whole text as quick actions."""
        path = f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}/notes"
        return await self._post_note(path, body)

    async def update_mr_note(self, project_id: int | str, iid: int, note_id: int, body: str) -> dict:
        path = f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}/notes/{as_number(note_id, 'note_id')}"
        return await self._send("PUT", path, {"body": body})

    async def list_mr_discussions(self, project_id: int | str, iid: int) -> list[dict]:
        path = f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}/discussions"
        return await self._get_list(path, limit=MAX_DISCUSSIONS)

    async def reply_to_discussion(self, project_id: int | str, iid: int, discussion_id: str, body: str) -> dict:
        path = (
            f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}"
            f"/discussions/{path_segment(discussion_id, 'discussion_id')}/notes"
        )
        return await self._post_note(path, body)

    async def award_emoji_on_note(self, project_id: int | str, iid: int, note_id: int, name: str) -> dict:
        path = (
            f"/projects/{project_ref(project_id)}/merge_requests/{as_number(iid, 'iid')}"
            f"/notes/{as_number(note_id, 'note_id')}/award_emoji"
        )
        return await self._send("POST", path, {"name": name})

    async def create_commit_comment(self, project_id: int | str, sha: str, note: str) -> dict:
        path = f"/projects/{project_ref(project_id)}/repository/commits/{path_segment(sha, 'sha')}/comments"
        return await self._send("POST", path, {"note": note})

    # --- people ---------------------------------------------------------------

    async def get_member_access_level(self, project_id: int | str, user_id: int) -> int:
        """The user's effective role in the project, inherited ones included; 0 when not a member."""
        path = f"/projects/{project_ref(project_id)}/members/all/{as_number(user_id, 'user_id')}"
        try:
            member = await self._get_object(path)
        except GitLabNotFound:
            return 0
        level = member.get("access_level")
        return level if isinstance(level, int) and not isinstance(level, bool) else 0

    async def current_user(self) -> dict:
        return await self._get_object("/user")

    async def get_user(self, user_id: int) -> dict:
        """One user as GitLab shows it to the bot's token; `bot` is true for access-token bots and service accounts."""
        return await self._get_object(f"/users/{as_number(user_id, 'user_id')}")


@dataclass
class BotIdentity:
    """The bot's GitLab user, for mentions and for recognising its own notes."""

    username: str = "cicd-bot"
    user_id: int | None = None


IDENTITY_TIMEOUT_SECONDS = 10


async def resolve_identity(gitlab: GitLabClient, identity: BotIdentity, configured_username: str = "") -> None:
    """Learn the bot's own GitLab user from its token; a failure leaves the identity as it was."""
    try:
        user = await asyncio.wait_for(gitlab.current_user(), IDENTITY_TIMEOUT_SECONDS)
    except (TimeoutError, GitLabError) as exc:
        log.warning("could not ask GitLab who the bot is (%s); using username %s", exc, identity.username)
        return
    if configured_username and configured_username.lower() != str(user.get("username", "")).lower():
        log.warning(
            "GITLAB_BOT_USERNAME=%s but the token belongs to %s; using %s",
            configured_username,
            user.get("username"),
            user.get("username"),
        )
    identity.username = str(user.get("username") or identity.username)
    identity.user_id = int(user["id"]) if user.get("id") is not None else None
