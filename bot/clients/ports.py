"""The small interfaces through which the jobs reach GitLab, Slack and CI job logs; real clients and fakes fit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

from bot.core.excerpt.baseline import Baseline
from bot.core.redact_learn import LogLearner
from bot.core.types import Excerpt, PipelineReport


class PipelineReader(Protocol):
    """The GitLab reads that gathering one pipeline's facts needs (bot/clients/gitlab_pipeline.py)."""

    async def get_project(self, project_id: int | str) -> dict: ...

    async def get_pipeline(self, project_id: int | str, pipeline_id: int) -> dict: ...

    async def list_pipeline_jobs(
        self, project_id: int | str, pipeline_id: int, include_retried: bool = True
    ) -> list[dict]: ...

    async def list_pipeline_bridges(self, project_id: int | str, pipeline_id: int) -> list[dict]: ...

    async def get_merge_request(self, project_id: int | str, iid: int) -> dict: ...

    async def find_merge_requests_for_commit(self, project_id: int | str, sha: str) -> list[dict]: ...

    async def list_merge_request_changed_files(self, project_id: int | str, iid: int) -> list[str]: ...

    async def get_file_raw(self, project_id: int | str, path: str, ref: str) -> str | None: ...

    async def get_test_report(self, project_id: int | str, pipeline_id: int) -> list[dict]: ...


class GitLab(PipelineReader, Protocol):
    """Everything the jobs ask of GitLab: the pipeline reads, CI job logs, members' roles, users, answers in MRs."""

    def stream_trace(self, project_id: int | str, job_id: int) -> AsyncIterator[bytes]:
        """The CI job's log, chunk by chunk."""
        ...

    async def get_job(self, project_id: int | str, job_id: int) -> dict: ...

    async def list_pipelines(self, project_id: int | str, *, ref: str, status: str, limit: int) -> list[dict]:
        """The project's pipelines of a ref with a status, newest first (one request)."""
        ...

    async def get_member_access_level(self, project_id: int | str, user_id: int) -> int: ...

    async def get_user(self, user_id: int) -> dict: ...

    async def create_mr_note(self, project_id: int | str, iid: int, body: str) -> dict: ...

    async def reply_to_discussion(self, project_id: int | str, iid: int, discussion_id: str, body: str) -> dict: ...

    async def award_emoji_on_note(self, project_id: int | str, iid: int, note_id: int, name: str) -> dict: ...


class MrNoteWriter(Protocol):
    """The bot's one note per merge request, and commit comments (bot/clients/gitlab_notes.MrNotes)."""

    async def upsert(self, report: PipelineReport) -> dict | None:
        """Create or edit the MR's note; {"id", "url", "changed"}, or None when nothing was written."""
        ...

    async def post_commit_comment(self, report: PipelineReport) -> None: ...


class SlackPoster(Protocol):
    """Reports, replies and private answers in Slack (bot/clients/slack.SlackPublisher); raises SlackApiError."""

    async def start(self, report: PipelineReport, target: Mapping[str, Any] | None = None) -> None: ...

    async def finish(self, report: PipelineReport, target: Mapping[str, Any] | None = None) -> None: ...

    async def fixed(self, report: PipelineReport, fixed_pipeline_id: int, fixed_url: str) -> None: ...

    async def post_reply(
        self, channel: str, thread_ts: str, question_ts: str, text: str, *, allowed_host: str = ""
    ) -> str: ...

    async def tell_user(self, target: Mapping[str, Any], text: str) -> None: ...

    async def post_notice(self, channel: str, text: str) -> str: ...

    async def channel_is_shared(self, channel: str) -> bool: ...

    async def react(self, channel: str, ts: str, name: str) -> None: ...


class LogExcerpter(Protocol):
    """Turns a CI job's streamed log into its failure excerpt (bot/clients/log_fetch.excerpt_from_stream)."""

    async def __call__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        budget_chars: int,
        max_bytes: int | None,
        line_filter: Callable[[str], str] | None,
        baseline: Baseline | None = None,
        learner: LogLearner | None = None,
    ) -> Excerpt: ...
