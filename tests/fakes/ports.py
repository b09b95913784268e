"""In-process fakes of the jobs' ports (bot/clients/ports.py): GitLab from dicts, a recording note writer and Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.clients.gitlab_errors import GitLabNotFound
from bot.core.types import PipelineReport


@dataclass
class InProcessGitLab:
    """GitLab as plain dicts: projects by id, pipelines and their CI jobs, MRs, logs; remembers what was posted."""

    projects: dict[int, dict] = field(default_factory=dict)
    pipelines: dict[tuple[int, int], dict] = field(default_factory=dict)
    ci_jobs: dict[tuple[int, int], list[dict]] = field(default_factory=dict)  # (project, pipeline) -> CI jobs
    merge_requests: dict[tuple[int, int], dict] = field(default_factory=dict)
    logs: dict[int, str] = field(default_factory=dict)  # CI job id -> its log
    access: dict[int, int] = field(default_factory=dict)  # user id -> access level
    users: dict[int, dict] = field(default_factory=dict)  # user id -> GET /users/:id ({"bot": true} for bots)
    posted: list[tuple[str, tuple]] = field(default_factory=list)
    calls: list[tuple[str, tuple]] = field(default_factory=list)  # every call, reads too: "GitLab was not asked"

    @classmethod
    def with_project(
        cls,
        project_id: int = 7,
        path: str = "group/app",
        *,
        visibility: str = "private",
        pipeline_id: int = 42,
        ci_job_ids: tuple[int, ...] = (100,),
        **kw: Any,
    ) -> InProcessGitLab:
        """One project with one failed pipeline and its CI jobs: what most door and Slack tests need."""
        gitlab = cls(**kw)
        gitlab.projects[project_id] = {
            "id": project_id,
            "path_with_namespace": path,
            "visibility": visibility,
            "default_branch": "main",
            "web_url": f"https://gitlab.example.com/{path}",
        }
        gitlab.pipelines[(project_id, pipeline_id)] = {"id": pipeline_id, "status": "failed", "ref": "feature"}
        gitlab.ci_jobs[(project_id, pipeline_id)] = [
            {"id": i, "name": "unit", "stage": "test", "status": "failed", "pipeline": {"id": pipeline_id}}
            for i in ci_job_ids
        ]
        return gitlab

    def _called(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))

    def project(self, project_id: int | str) -> dict:
        for project in self.projects.values():
            if project_id in (project["id"], project.get("path_with_namespace")):
                return project
        raise GitLabNotFound(f"project {project_id}", status=404)

    # --- PipelineReader ---

    async def get_project(self, project_id: int | str) -> dict:
        self._called("get_project", project_id)
        return self.project(project_id)

    async def get_pipeline(self, project_id: int | str, pipeline_id: int) -> dict:
        self._called("get_pipeline", project_id, pipeline_id)
        try:
            return self.pipelines[(self.project(project_id)["id"], pipeline_id)]
        except KeyError:
            raise GitLabNotFound(f"pipeline {pipeline_id}", status=404) from None

    async def list_pipeline_jobs(
        self, project_id: int | str, pipeline_id: int, include_retried: bool = True
    ) -> list[dict]:
        self._called("list_pipeline_jobs", project_id, pipeline_id, include_retried)
        return [dict(j) for j in self.ci_jobs.get((self.project(project_id)["id"], pipeline_id), [])]

    async def list_pipeline_bridges(self, project_id: int | str, pipeline_id: int) -> list[dict]:
        self._called("list_pipeline_bridges", project_id, pipeline_id)
        return []

    async def get_merge_request(self, project_id: int | str, iid: int) -> dict:
        self._called("get_merge_request", project_id, iid)
        try:
            return self.merge_requests[(self.project(project_id)["id"], iid)]
        except KeyError:
            raise GitLabNotFound(f"merge request {iid}", status=404) from None

    async def find_merge_requests_for_commit(self, project_id: int | str, sha: str) -> list[dict]:
        self._called("find_merge_requests_for_commit", project_id, sha)
        return []

    async def list_merge_request_changed_files(self, project_id: int | str, iid: int) -> list[str]:
        self._called("list_merge_request_changed_files", project_id, iid)
        return []

    async def get_file_raw(self, project_id: int | str, path: str, ref: str) -> str | None:
        self._called("get_file_raw", project_id, path, ref)
        return None

    async def get_test_report(self, project_id: int | str, pipeline_id: int) -> list[dict]:
        self._called("get_test_report", project_id, pipeline_id)
        return []

    # --- the rest of GitLab ---

    async def stream_trace(self, project_id: int | str, job_id: int) -> AsyncIterator[bytes]:
        self._called("stream_trace", project_id, job_id)
        if job_id not in self.logs:
            raise GitLabNotFound(f"log of {job_id}", status=404)
        yield self.logs[job_id].encode()

    async def get_job(self, project_id: int | str, job_id: int) -> dict:
        self._called("get_job", project_id, job_id)
        for ci_jobs in self.ci_jobs.values():
            for ci_job in ci_jobs:
                if ci_job["id"] == job_id:
                    return ci_job
        raise GitLabNotFound(f"job {job_id}", status=404)

    async def list_pipelines(self, project_id: int | str, *, ref: str, status: str, limit: int) -> list[dict]:
        self._called("list_pipelines", project_id, ref, status, limit)
        pid = self.project(project_id)["id"]
        found = [
            p
            for (proj, _), p in self.pipelines.items()
            if proj == pid and p.get("ref") == ref and p.get("status") == status
        ]
        return sorted(found, key=lambda p: p["id"], reverse=True)[:limit]

    async def get_member_access_level(self, project_id: int | str, user_id: int) -> int:
        self._called("get_member_access_level", project_id, user_id)
        return self.access.get(user_id, 0)

    async def get_user(self, user_id: int) -> dict:
        self._called("get_user", user_id)
        return self.users.get(user_id, {"id": user_id, "username": f"user{user_id}", "bot": False})

    async def create_mr_note(self, project_id: int | str, iid: int, body: str) -> dict:
        self._called("create_mr_note", project_id, iid, body)
        self.posted.append(("create_mr_note", (project_id, iid, body)))
        return {"id": len(self.posted)}

    async def reply_to_discussion(self, project_id: int | str, iid: int, discussion_id: str, body: str) -> dict:
        self._called("reply_to_discussion", project_id, iid, discussion_id, body)
        self.posted.append(("reply_to_discussion", (project_id, iid, discussion_id, body)))
        return {"id": len(self.posted)}

    async def award_emoji_on_note(self, project_id: int | str, iid: int, note_id: int, name: str) -> dict:
        self._called("award_emoji_on_note", project_id, iid, note_id, name)
        self.posted.append(("award_emoji_on_note", (project_id, iid, note_id, name)))
        return {}


@dataclass
class RecordingNotes:
    """The MR note writer, keeping the reports instead of writing notes."""

    upserted: list[PipelineReport] = field(default_factory=list)
    commit_comments: list[PipelineReport] = field(default_factory=list)

    async def upsert(self, report: PipelineReport) -> dict | None:
        self.upserted.append(report)
        return {"id": len(self.upserted), "url": f"note#{len(self.upserted)}", "changed": True}

    async def post_commit_comment(self, report: PipelineReport) -> None:
        self.commit_comments.append(report)


@dataclass
class RecordingSlack:
    """The Slack publisher, keeping every call as (method, arguments)."""

    calls: list[tuple[str, tuple]] = field(default_factory=list)
    shared_channels: set[str] = field(default_factory=set)

    def of(self, method: str) -> list[tuple]:
        return [args for name, args in self.calls if name == method]

    async def start(self, report: PipelineReport, target: Mapping[str, Any] | None = None) -> None:
        self.calls.append(("start", (report, target)))

    async def finish(self, report: PipelineReport, target: Mapping[str, Any] | None = None) -> None:
        self.calls.append(("finish", (report, target)))

    async def fixed(self, report: PipelineReport, fixed_pipeline_id: int, fixed_url: str) -> None:
        self.calls.append(("fixed", (report, fixed_pipeline_id, fixed_url)))

    async def post_reply(
        self, channel: str, thread_ts: str, question_ts: str, text: str, *, allowed_host: str = ""
    ) -> str:
        self.calls.append(("post_reply", (channel, thread_ts, question_ts, text)))
        return f"{question_ts}.1"

    async def tell_user(self, target: Mapping[str, Any], text: str) -> None:
        self.calls.append(("tell_user", (dict(target), text)))

    async def post_notice(self, channel: str, text: str) -> str:
        self.calls.append(("post_notice", (channel, text)))
        return f"notice.{len(self.calls)}"

    async def channel_is_shared(self, channel: str) -> bool:
        return channel in self.shared_channels

    async def react(self, channel: str, ts: str, name: str) -> None:
        self.calls.append(("react", (channel, ts, name)))


class MemoryRouter:
    """Stands in for the model: answers with how many earlier turns it was shown, and the latest question."""

    def __init__(self):
        self.seen: list[list[str]] = []

    async def answer(self, conversation, provider_hint: str = "", preference: str = ""):
        from bot.core.types import Reply

        self.seen.append([msg.content for msg in conversation.history])
        return Reply(
            text=f"turn {len(conversation.history) // 2 + 1}: you asked {conversation.question!r}", provider="heuristic"
        )
