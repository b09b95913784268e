"""A fake GitLab REST API v4 on loopback: seeded state, a call log, pagination, faults and quick actions."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

DEFAULT_TOKEN = "fake-gitlab-token"  # not a real credential; tests may add their own
EPOCH = "2024-05-14T09:00:00.000Z"
SECRET_HEADERS = {"private-token", "authorization", "job-token"}

# Commands GitLab runs when they start a line of a note (a subset of its quick actions).
QUICK_ACTIONS = (
    "approve",
    "unapprove",
    "merge",
    "close",
    "reopen",
    "label",
    "unlabel",
    "relabel",
    "assign",
    "unassign",
    "assign_reviewer",
    "reviewer",
    "unassign_reviewer",
    "title",
    "milestone",
    "remove_milestone",
    "due",
    "remove_due_date",
    "estimate",
    "spend",
    "lock",
    "unlock",
    "draft",
    "ready",
    "rebase",
    "submit_review",
    "award",
    "cc",
    "copy_metadata",
    "target_branch",
    "todo",
    "done",
    "subscribe",
    "unsubscribe",
    "shrug",
    "tableflip",
    "confidential",
    "duplicate",
    "move",
    "create_merge_request",
    "react",
    "request_review",
    "severity",
    "weight",
    "health_status",
    "epic",
    "iteration",
    "clone",
)
# Deliberately stricter than GitLab: indented lines and lines inside code fences count too, so a
# test fails if the bot ever posts text that could run a command.
_QUICK_ACTION = re.compile(r"^[ \t]*/(" + "|".join(QUICK_ACTIONS) + r")(?=\s|$)(.*)$", re.MULTILINE)


@dataclass
class Call:
    method: str
    path: str  # as sent, percent-encoding intact, without the query
    query: dict[str, str]
    body: Any
    headers: dict[str, str]  # token headers removed


@dataclass
class Fault:
    pattern: str  # regex searched in the request path
    status: int
    times: int = 1
    method: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: Any = None
    headers: dict[str, str] | None = None
    delay_after: float = 0.0  # handle the request, then hold the answer (the work is done, the caller waits)
    hold: bool = False  # wait until the test calls release() (a request provably in flight), then go on

    def matches(self, method: str, path: str) -> bool:
        return (
            self.times > 0
            and (self.method is None or self.method == method)
            and re.search(self.pattern, path) is not None
        )


def _sha(seed: Any) -> str:
    return hashlib.sha1(str(seed).encode()).hexdigest()


class FakeState:
    """Everything the fake knows; seeded through the helpers below or the JSON admin API."""

    def __init__(self, web_base: str = "http://gitlab.test"):
        self.web_base = web_base.rstrip("/")
        self.users: dict[int, dict] = {}
        self.tokens: dict[str, int] = {}
        self.projects: dict[int, dict] = {}
        self.pipelines: dict[tuple[int, int], dict] = {}
        self.jobs: dict[tuple[int, int], dict] = {}  # (project, job id) -> job
        self.bridges: dict[tuple[int, int], list[dict]] = {}
        self.traces: dict[tuple[int, int], bytes] = {}
        self.trace_bytes_sent: dict[tuple[int, int], int] = {}
        self.mrs: dict[tuple[int, int], dict] = {}
        self.mr_diffs: dict[tuple[int, int], list[dict]] = {}
        self.discussions: dict[tuple[int, int], list[dict]] = {}
        self.award_emoji: dict[tuple[int, int, int], list[dict]] = {}
        self.members: dict[tuple[int, int], int] = {}
        self.test_reports: dict[tuple[int, int], dict] = {}
        self.files: dict[tuple[int, str, str], bytes] = {}
        self.commit_comments: dict[tuple[int, str], list[dict]] = {}
        self.version = "17.5.1-ee"
        self.groups: dict[int, dict] = {}
        self.group_members: dict[tuple[int, int], int] = {}
        self.hooks: dict[tuple[str, int], list[dict]] = {}  # ("group" | "project", id) -> hooks, token included
        self.token_details: dict[str, dict] = {}  # token -> what GET /personal_access_tokens/self shows
        self.group_hooks_licensed = True  # False: GitLab Free, where group webhooks do not exist
        self.calls: list[Call] = []
        self.quick_actions: list[dict] = []
        self.faults: list[Fault] = []
        self.trace_chunk_size = 4096
        self.trace_delay = 0.0
        self.holding = 0  # requests held by a hold fault right now
        self.released = asyncio.Event()
        self._ids = itertools.count(100_000)
        self.bot = self.add_user("cicd-bot", id=99, name="CI/CD Bot", bot=True)
        self.add_token(DEFAULT_TOKEN, self.bot["id"])

    # --- seeding ----------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def add_user(self, username: str, *, id: int | None = None, name: str = "", bot: bool = False) -> dict:
        uid = id if id is not None else self.next_id()
        user = {
            "id": uid,
            "username": username,
            "name": name or username,
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{self.web_base}/{username}",
            "bot": bot,
        }
        self.users[uid] = user
        return user

    def add_token(self, token: str, user: int | str | dict) -> None:
        self.tokens[token] = self.user(user)["id"]

    def user(self, ref: int | str | dict) -> dict:
        if isinstance(ref, dict):
            ref = ref["id"]
        if isinstance(ref, int):
            return self.users[ref]
        found = next((u for u in self.users.values() if u["username"] == ref), None)
        return found if found is not None else self.add_user(ref)

    def _short_user(self, ref: Any) -> dict:
        u = self.user(ref)
        return {k: u[k] for k in ("id", "username", "name", "state", "locked", "avatar_url", "web_url")}

    def add_project(
        self, path: str, *, id: int | None = None, visibility: str = "private", default_branch: str = "main"
    ) -> dict:
        pid = id if id is not None else self.next_id()
        namespace, _, name = path.rpartition("/")
        project = {
            "id": pid,
            "name": name,
            "path": name,
            "path_with_namespace": path,
            "name_with_namespace": path.replace("/", " / "),
            "description": "",
            "default_branch": default_branch,
            "visibility": visibility,
            "web_url": f"{self.web_base}/{path}",
            "http_url_to_repo": f"{self.web_base}/{path}.git",
            "namespace": {"full_path": namespace, "path": namespace.rpartition("/")[2], "kind": "group"},
            "archived": False,
            "ci_config_path": "",
            "created_at": EPOCH,
        }
        self.projects[pid] = project
        return project

    def project(self, ref: int | str | dict) -> dict | None:
        if isinstance(ref, dict):
            ref = ref["id"]
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.projects.get(int(ref))
        return next((p for p in self.projects.values() if p["path_with_namespace"] == ref), None)

    def _pid(self, ref: int | str | dict) -> int:
        project = self.project(ref)
        if project is None:
            raise KeyError(f"no project {ref!r}; add_project first")
        return project["id"]

    def add_pipeline(
        self,
        project: int | str | dict,
        *,
        id: int | None = None,
        ref: str = "main",
        sha: str | None = None,
        status: str = "failed",
        source: str = "push",
        user: Any = "alice",
        jobs: list[dict] | None = None,
        bridges: list[dict] | None = None,
        updated_at: str = EPOCH,
    ) -> dict:
        pid = self._pid(project)
        pipeline_id = id if id is not None else self.next_id()
        web = self.projects[pid]["web_url"]
        pipeline = {
            "id": pipeline_id,
            "iid": pipeline_id % 1000,
            "project_id": pid,
            "sha": sha or _sha(pipeline_id),
            "ref": ref,
            "status": status,
            "source": source,
            "name": None,
            "tag": False,
            "created_at": EPOCH,
            "updated_at": updated_at,
            "started_at": EPOCH,
            "finished_at": EPOCH,
            "before_sha": "0" * 40,
            "yaml_errors": None,
            "user": self._short_user(user),
            "web_url": f"{web}/-/pipelines/{pipeline_id}",
            "duration": 60,
            "queued_duration": 1,
            "coverage": None,
            "detailed_status": {"text": status, "label": status, "group": status},
        }
        self.pipelines[(pid, pipeline_id)] = pipeline
        for job in jobs or []:
            self.add_job(pid, pipeline_id, **job)
        self.bridges[(pid, pipeline_id)] = [self._job_json(pid, pipeline, b) for b in (bridges or [])]
        return pipeline

    def _job_json(self, pid: int, pipeline: dict, spec: dict) -> dict:
        spec = dict(spec)
        job_id = spec.pop("id", None) or self.next_id()
        web = self.projects[pid]["web_url"]
        job = {
            "id": job_id,
            "name": spec.pop("name", f"job-{job_id}"),
            "stage": spec.pop("stage", "test"),
            "status": spec.pop("status", "success"),
            "allow_failure": spec.pop("allow_failure", False),
            "failure_reason": spec.pop("failure_reason", None),
            "ref": pipeline["ref"],
            "tag": False,
            "created_at": EPOCH,
            "started_at": EPOCH,
            "finished_at": EPOCH,
            "duration": 10.0,
            "queued_duration": 0.5,
            "coverage": None,
            "archived": False,
            "erased_at": None,
            "artifacts_expire_at": None,
            "source": pipeline["source"],
            "web_url": f"{web}/-/jobs/{job_id}",
            "user": pipeline["user"],
            "commit": {"id": pipeline["sha"], "short_id": pipeline["sha"][:8], "title": "commit"},
            "pipeline": {k: pipeline[k] for k in ("id", "project_id", "ref", "sha", "status")},
            "runner": None,
            "artifacts": [],
            "tag_list": [],
        }
        if job["failure_reason"] is None:
            del job["failure_reason"]
        job.update(spec)
        return job

    def add_job(
        self, project: int | str | dict, pipeline_id: int, *, trace: str | bytes | None = None, **spec: Any
    ) -> dict:
        pid = self._pid(project)
        job = self._job_json(pid, self.pipelines[(pid, pipeline_id)], spec)
        self.jobs[(pid, job["id"])] = job
        if trace is not None:
            self.set_trace(pid, job["id"], trace)
        return job

    def set_trace(self, project: int | str | dict, job_id: int, trace: str | bytes) -> None:
        self.traces[(self._pid(project), job_id)] = trace.encode() if isinstance(trace, str) else bytes(trace)

    def pipeline_jobs(self, pid: int, pipeline_id: int) -> list[dict]:
        # GitLab lists a pipeline's jobs newest first.
        found = [j for (p, _), j in self.jobs.items() if p == pid and j["pipeline"]["id"] == pipeline_id]
        return sorted(found, key=lambda j: j["id"], reverse=True)

    def add_mr(
        self,
        project: int | str | dict,
        iid: int,
        *,
        source_branch: str = "feature",
        target_branch: str = "main",
        sha: str | None = None,
        title: str = "Change",
        description: str = "",
        author: Any = "alice",
        state: str = "opened",
        changed_files: list[str] | None = None,
        commits: list[str] | None = None,
    ) -> dict:
        pid = self._pid(project)
        web = self.projects[pid]["web_url"]
        mr = {
            "id": self.next_id(),
            "iid": iid,
            "project_id": pid,
            "title": title,
            "description": description,
            "state": state,
            "source_branch": source_branch,
            "target_branch": target_branch,
            "source_project_id": pid,
            "target_project_id": pid,
            "sha": sha or _sha(f"mr{pid}/{iid}"),
            "author": self._short_user(author),
            "draft": False,
            "work_in_progress": False,
            "labels": [],
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "user_notes_count": 0,
            "references": {"short": f"!{iid}", "full": f"{self.projects[pid]['path_with_namespace']}!{iid}"},
            "web_url": f"{web}/-/merge_requests/{iid}",
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "_commits": list(commits or []),
        }
        self.mrs[(pid, iid)] = mr
        self.mr_diffs[(pid, iid)] = [
            {
                "old_path": f,
                "new_path": f,
                "a_mode": "100644",
                "b_mode": "100644",
                "diff": "@@ -1 +1 @@\n-a\n+b\n",
                "new_file": False,
                "renamed_file": False,
                "deleted_file": False,
                "generated_file": False,
            }
            for f in (changed_files or [])
        ]
        self.discussions.setdefault((pid, iid), [])
        return mr

    def _note_json(
        self, pid: int, iid: int, body: str, author: Any, *, system: bool = False, discussion: bool = False
    ) -> dict:
        mr = self.mrs[(pid, iid)]
        return {
            "id": self.next_id(),
            "type": "DiscussionNote" if discussion else None,
            "body": body,
            "attachment": None,
            "author": self._short_user(author),
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "system": system,
            "noteable_id": mr["id"],
            "noteable_type": "MergeRequest",
            "project_id": pid,
            "noteable_iid": iid,
            "resolvable": discussion,
            "confidential": False,
            "internal": False,
            "commands_changes": {},
        }

    def add_note(
        self, project: int | str | dict, iid: int, body: str, *, author: Any = "alice", system: bool = False
    ) -> dict:
        pid = self._pid(project)
        note = self._note_json(pid, iid, body, author, system=system)
        self.discussions[(pid, iid)].append({"id": _sha(note["id"]), "individual_note": True, "notes": [note]})
        return note

    def add_discussion(self, project: int | str | dict, iid: int, body: str, *, author: Any = "alice") -> dict:
        pid = self._pid(project)
        note = self._note_json(pid, iid, body, author, discussion=True)
        discussion = {"id": _sha(note["id"]), "individual_note": False, "notes": [note]}
        self.discussions[(pid, iid)].append(discussion)
        return discussion

    def notes_for(self, project: int | str | dict, iid: int) -> list[dict]:
        pid = self._pid(project)
        return [n for d in self.discussions.get((pid, iid), []) for n in d["notes"]]

    def add_member(self, project: int | str | dict, user: Any, access_level: int) -> None:
        self.members[(self._pid(project), self.user(user)["id"])] = access_level

    # --- groups, roles, webhooks and the token itself (what `doctor` and `webhook install` read) ----------

    def add_group(self, path: str, *, id: int | None = None) -> dict:
        gid = id if id is not None else self.next_id()
        group = {
            "id": gid,
            "name": path.rpartition("/")[2],
            "path": path.rpartition("/")[2],
            "full_path": path,
            "full_name": path.replace("/", " / "),
            "visibility": "private",
            "web_url": f"{self.web_base}/groups/{path}",
            "parent_id": None,
        }
        self.groups[gid] = group
        return group

    def group(self, ref: int | str | dict) -> dict | None:
        if isinstance(ref, dict):
            ref = ref["id"]
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.groups.get(int(ref))
        return next((g for g in self.groups.values() if g["full_path"] == ref), None)

    def add_group_member(self, group: int | str | dict, user: Any, access_level: int) -> None:
        found = self.group(group)
        if found is None:
            raise KeyError(f"no group {group!r}; add_group first")
        self.group_members[(found["id"], self.user(user)["id"])] = access_level

    def access_level(self, kind: str, oid: int, uid: int) -> int:
        """The effective role: direct membership, or inherited from the groups above (as /members/all shows)."""
        if kind == "project":
            levels = [self.members.get((oid, uid), 0)]
            path = self.projects[oid]["namespace"]["full_path"]
        else:
            levels = []
            path = self.groups[oid]["full_path"]
        for group in self.groups.values():
            if path == group["full_path"] or path.startswith(group["full_path"] + "/"):
                levels.append(self.group_members.get((group["id"], uid), 0))
        return max(levels, default=0)

    def add_hook(self, kind: str, owner: int | str | dict, url: str, *, token: str = "", **fields: Any) -> dict:
        oid = self._pid(owner) if kind == "project" else self.group(owner)["id"]
        hook = {
            "id": self.next_id(),
            "url": url,
            "created_at": EPOCH,
            "push_events": True,
            "tag_push_events": False,
            "merge_requests_events": False,
            "repository_update_events": False,
            "enable_ssl_verification": True,
            "issues_events": False,
            "confidential_issues_events": False,
            "note_events": False,
            "confidential_note_events": None,
            "pipeline_events": False,
            "wiki_page_events": False,
            "job_events": False,
            "deployment_events": False,
            "releases_events": False,
            "alert_status": "executable",
            "disabled_until": None,
            "url_variables": [],
            "_token": token,
        }
        hook[f"{kind}_id"] = oid
        hook.update(fields)
        self.hooks.setdefault((kind, oid), []).append(hook)
        return hook

    def hooks_of(self, kind: str, owner: int | str | dict) -> list[dict]:
        oid = self._pid(owner) if kind == "project" else self.group(owner)["id"]
        return self.hooks.get((kind, oid), [])

    def set_token_details(
        self,
        token: str,
        *,
        scopes: list[str] | None = None,
        expires_at: str | None = None,
        active: bool = True,
        revoked: bool = False,
        name: str = "cicd-bot",
    ) -> None:
        self.token_details[token] = {
            "id": self.next_id(),
            "name": name,
            "revoked": revoked,
            "created_at": EPOCH,
            "scopes": ["api"] if scopes is None else scopes,
            "user_id": self.tokens.get(token),
            "last_used_at": EPOCH,
            "active": active,
            "expires_at": expires_at,
        }

    def set_test_report(self, project: int | str | dict, pipeline_id: int, report: dict) -> None:
        self.test_reports[(self._pid(project), pipeline_id)] = report

    def add_file(self, project: int | str | dict, path: str, ref: str, content: str | bytes) -> None:
        self.files[(self._pid(project), ref, path)] = content.encode() if isinstance(content, str) else content

    def group_projects(self, group: dict, *, subgroups: bool) -> list[dict]:
        path = group["full_path"]
        return [
            p
            for p in self.projects.values()
            if p["namespace"]["full_path"] == path or (subgroups and p["namespace"]["full_path"].startswith(path + "/"))
        ]

    def add_fault(
        self,
        pattern: str,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        retry_after: str | int | None = None,
        delay: float = 0.0,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_after: float = 0.0,
        hold: bool = False,
    ) -> Fault:
        fault = Fault(
            pattern,
            status,
            times,
            method,
            None if retry_after is None else str(retry_after),
            delay,
            body,
            headers,
            delay_after,
            hold,
        )
        if hold and self.released.is_set():
            self.released = asyncio.Event()
        self.faults.append(fault)
        return fault

    def calls_to(self, pattern: str, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if re.search(pattern, c.path) and (method is None or c.method == method)]

    def seed(self, data: dict) -> None:
        """Apply a JSON seed: each list entry is the keyword arguments of the helper of that name."""
        for spec in data.get("users", []):
            self.add_user(**spec)
        for token, user in data.get("tokens", {}).items():
            self.add_token(token, user)
        for spec in data.get("projects", []):
            self.add_project(**spec)
        for key, helper in (
            ("pipelines", self.add_pipeline),
            ("mrs", self.add_mr),
            ("notes", self.add_note),
            ("discussions", self.add_discussion),
            ("members", self.add_member),
            ("test_reports", self.set_test_report),
            ("files", self.add_file),
            ("traces", self.set_trace),
        ):
            for spec in data.get(key, []):
                spec = dict(spec)
                helper(spec.pop("project"), *[spec.pop(k) for k in _POSITIONAL.get(key, ())], **spec)
        for spec in data.get("groups", []):
            self.add_group(**spec)
        for spec in data.get("group_members", []):
            self.add_group_member(spec["group"], spec["user"], spec["access_level"])
        for spec in data.get("hooks", []):
            spec = dict(spec)
            self.add_hook(spec.pop("kind"), spec.pop("owner"), spec.pop("url"), **spec)
        for token, details in data.get("token_details", {}).items():
            self.set_token_details(token, **details)
        if "version" in data:
            self.version = str(data["version"])
        self.group_hooks_licensed = bool(data.get("group_hooks_licensed", self.group_hooks_licensed))
        for spec in data.get("faults", []):
            self.add_fault(**spec)
        self.trace_chunk_size = int(data.get("trace_chunk_size", self.trace_chunk_size))
        self.trace_delay = float(data.get("trace_delay", self.trace_delay))

    def snapshot(self) -> dict:
        """What the admin API reports: notes per MR, quick actions, commit comments, emoji."""
        return {
            "notes": {f"{p}!{i}": self.notes_for(p, i) for (p, i) in self.discussions},
            "quick_actions": self.quick_actions,
            "commit_comments": {f"{p}@{s}": c for (p, s), c in self.commit_comments.items()},
            "award_emoji": {f"{p}!{i}#{n}": e for (p, i, n), e in self.award_emoji.items()},
        }


_POSITIONAL = {
    "notes": ("iid", "body"),
    "discussions": ("iid", "body"),
    "mrs": ("iid",),
    "members": ("user", "access_level"),
    "test_reports": ("pipeline_id", "report"),
    "files": ("path", "ref", "content"),
    "traces": ("job_id", "trace"),
}


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _not_found(what: str = "") -> web.Response:
    return web.json_response({"message": f"404 {what} Not Found" if what else "404 Not found"}, status=404)


def _page_params(request: web.Request) -> tuple[int, int]:
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    try:
        per_page = min(100, max(1, int(request.query.get("per_page", "20"))))
    except ValueError:
        per_page = 20
    return page, per_page


def paginate(request: web.Request, items: list[Any]) -> web.Response:
    """A list response with GitLab's offset pagination headers and Link header."""
    page, per_page = _page_params(request)
    total = len(items)
    pages = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(n: int) -> str:
        return str(request.url.update_query(page=str(n), per_page=str(per_page)))

    links = []
    if page < pages:
        links.append(f'<{link(page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{link(page - 1)}>; rel="prev"')
    links += [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
    headers = {
        "x-page": str(page),
        "x-per-page": str(per_page),
        "x-total": str(total),
        "x-total-pages": str(pages),
        "x-next-page": str(page + 1) if page < pages else "",
        "x-prev-page": str(page - 1) if page > 1 else "",
        "Link": ", ".join(links),
    }
    return web.json_response(chunk, headers=headers)


Handler = Callable[..., Awaitable[web.StreamResponse]]
P = r"(?P<project>[^/]+)"
G = r"(?P<group>[^/]+)"


class FakeGitLab:
    """`async with FakeGitLab() as gl:` serves on 127.0.0.1; gl.url is the base URL, gl.state the data."""

    name = "GitLab"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state: FakeState | None = None):
        self.host, self.port = host, port
        self.state = state or FakeState()
        self.url = ""
        self.token = DEFAULT_TOKEN
        self._runner: web.AppRunner | None = None
        self._routes: list[tuple[str, re.Pattern, Handler]] = [
            (m, re.compile(f"^{pattern}$"), h)
            for m, pattern, h in (
                ("GET", r"/user", self.h_user),
                ("GET", r"/users/(?P<user>\d+)", self.h_user_by_id),
                ("GET", rf"/projects/{P}", self.h_project),
                ("GET", rf"/projects/{P}/pipelines/(?P<pipeline>\d+)", self.h_pipeline),
                ("GET", rf"/projects/{P}/pipelines/(?P<pipeline>\d+)/jobs", self.h_pipeline_jobs),
                ("GET", rf"/projects/{P}/pipelines/(?P<pipeline>\d+)/bridges", self.h_bridges),
                ("GET", rf"/projects/{P}/pipelines/(?P<pipeline>\d+)/test_report", self.h_test_report),
                ("GET", rf"/projects/{P}/pipelines/(?P<pipeline>\d+)/test_report_summary", self.h_test_summary),
                ("GET", rf"/projects/{P}/jobs/(?P<job>\d+)", self.h_job),
                ("GET", rf"/projects/{P}/jobs/(?P<job>\d+)/trace", self.h_trace),
                ("GET", rf"/projects/{P}/repository/commits/(?P<sha>[^/]+)/merge_requests", self.h_commit_mrs),
                ("POST", rf"/projects/{P}/repository/commits/(?P<sha>[^/]+)/comments", self.h_commit_comment),
                ("GET", rf"/projects/{P}/repository/files/(?P<file>[^/]+)/raw", self.h_file_raw),
                ("GET", rf"/projects/{P}/merge_requests/(?P<iid>\d+)", self.h_mr),
                ("GET", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/diffs", self.h_mr_diffs),
                ("GET", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/changes", self.h_mr_changes),
                ("GET", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/notes", self.h_notes),
                ("POST", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/notes", self.h_create_note),
                ("PUT", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/notes/(?P<note>\d+)", self.h_update_note),
                (
                    "GET",
                    rf"/projects/{P}/merge_requests/(?P<iid>\d+)/notes/(?P<note>\d+)/award_emoji",
                    self.h_emoji_list,
                ),
                ("POST", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/notes/(?P<note>\d+)/award_emoji", self.h_emoji),
                ("GET", rf"/projects/{P}/merge_requests/(?P<iid>\d+)/discussions", self.h_discussions),
                (
                    "POST",
                    rf"/projects/{P}/merge_requests/(?P<iid>\d+)/discussions/(?P<discussion>[^/]+)/notes",
                    self.h_reply,
                ),
                ("GET", rf"/projects/{P}/members/all/(?P<user>\d+)", self.h_member),
                ("GET", r"/version", self.h_version),
                ("GET", r"/personal_access_tokens/self", self.h_token_self),
                ("GET", rf"/groups/{G}", self.h_group),
                ("GET", rf"/groups/{G}/members/all/(?P<user>\d+)", self.h_group_member),
                ("GET", rf"/groups/{G}/hooks", self.h_hooks),
                ("POST", rf"/groups/{G}/hooks", self.h_hook_create),
                ("PUT", rf"/groups/{G}/hooks/(?P<hook>\d+)", self.h_hook_update),
                ("GET", rf"/projects/{P}/hooks", self.h_hooks),
                ("POST", rf"/projects/{P}/hooks", self.h_hook_create),
                ("PUT", rf"/projects/{P}/hooks/(?P<hook>\d+)", self.h_hook_update),
                ("GET", rf"/projects/{P}/pipelines", self.h_pipelines),
                ("GET", r"/groups/(?P<group>[^/]+)/projects", self.h_group_projects),
            )
        ]

    @property
    def calls(self) -> list[Call]:
        return self.state.calls

    @property
    def quick_actions(self) -> list[dict]:
        return self.state.quick_actions

    def notes_for(self, project: Any, iid: int) -> list[dict]:
        return self.state.notes_for(project, iid)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/_fake/seed", self.admin_seed)
        app.router.add_get("/_fake/calls", self.admin_calls)
        app.router.add_get("/_fake/state", self.admin_state)
        app.router.add_post("/_fake/fault", self.admin_fault)
        app.router.add_route("*", "/api/v4/{tail:.*}", self.dispatch)
        return app

    async def start(self) -> FakeGitLab:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{self.port}"
        self.state.web_base = self.url
        for user in self.state.users.values():
            user["web_url"] = f"{self.url}/{user['username']}"
        return self

    async def stop(self) -> None:
        await self.close()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitLab:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # --- the door ----------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        api_path = raw_path[len("/api/v4") :]
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = text
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
        self.state.calls.append(Call(request.method, raw_path, dict(request.query), body, headers))

        hold = 0.0
        for fault in self.state.faults:
            if fault.matches(request.method, api_path):
                fault.times -= 1
                hold = fault.delay_after
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.hold:
                    self.state.holding += 1
                    try:
                        await self.state.released.wait()
                    finally:
                        self.state.holding -= 1
                if fault.status:
                    extra = dict(fault.headers or {})
                    if fault.retry_after is not None:
                        extra["Retry-After"] = fault.retry_after
                    payload = fault.body if fault.body is not None else {"message": f"{fault.status} fault injected"}
                    return web.json_response(payload, status=fault.status, headers=extra)
                break

        if self._caller(request) is None:
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        for method, pattern, handler in self._routes:
            match = pattern.match(api_path)
            if match and method == request.method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                if "project" in params:
                    project = self.state.project(params.pop("project"))
                    if project is None:
                        return _not_found("Project")
                    params["pid"] = project["id"]
                response = await handler(request, body, **params)
                if hold:
                    await asyncio.sleep(hold)
                return response
        return web.json_response({"error": "404 Not Found"}, status=404)

    def _caller(self, request: web.Request) -> dict | None:
        token = request.headers.get("PRIVATE-TOKEN")
        auth = request.headers.get("Authorization", "")
        if token is None and auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        uid = self.state.tokens.get(token or "")
        return self.state.users.get(uid) if uid is not None else None

    # --- handlers -------------------------------------------------------------------

    async def h_user(self, request, body):
        return web.json_response(self._caller(request))

    async def h_user_by_id(self, request, body, user):
        # GET /users/:id answers API::Entities::User, which carries `bot` (access-token bots, service accounts).
        found = self.state.users.get(int(user))
        if found is None:
            return _not_found("User")
        return web.json_response({**self.state._short_user(found), "bot": bool(found.get("bot")), "bio": ""})

    async def h_project(self, request, body, pid):
        return web.json_response(self.state.projects[pid])

    async def h_pipeline(self, request, body, pid, pipeline):
        found = self.state.pipelines.get((pid, int(pipeline)))
        return web.json_response(found) if found else _not_found()

    async def h_pipeline_jobs(self, request, body, pid, pipeline):
        if (pid, int(pipeline)) not in self.state.pipelines:
            return _not_found()
        jobs = self.state.pipeline_jobs(pid, int(pipeline))
        if request.query.get("include_retried", "false").lower() not in ("true", "1", "yes"):
            jobs = [j for j in jobs if not j.get("retried")]
        return paginate(request, jobs)

    async def h_bridges(self, request, body, pid, pipeline):
        if (pid, int(pipeline)) not in self.state.pipelines:
            return _not_found()
        return paginate(request, self.state.bridges.get((pid, int(pipeline)), []))

    async def h_test_report(self, request, body, pid, pipeline):
        if (pid, int(pipeline)) not in self.state.pipelines:
            return _not_found()
        report = self.state.test_reports.get((pid, int(pipeline)))
        return web.json_response(
            report
            or {
                "total_time": 0,
                "total_count": 0,
                "success_count": 0,
                "failed_count": 0,
                "skipped_count": 0,
                "error_count": 0,
                "test_suites": [],
            }
        )

    async def h_test_summary(self, request, body, pid, pipeline):
        if (pid, int(pipeline)) not in self.state.pipelines:
            return _not_found()
        report = self.state.test_reports.get((pid, int(pipeline))) or {"test_suites": []}
        suites = [
            {
                k: s.get(k)
                for k in (
                    "name",
                    "total_time",
                    "total_count",
                    "success_count",
                    "failed_count",
                    "skipped_count",
                    "error_count",
                )
            }
            | {"build_ids": [], "suite_error": None}
            for s in report.get("test_suites", [])
        ]
        total = {
            "time": report.get("total_time", 0),
            "count": report.get("total_count", 0),
            "success": report.get("success_count", 0),
            "failed": report.get("failed_count", 0),
            "skipped": report.get("skipped_count", 0),
            "error": report.get("error_count", 0),
            "suite_error": None,
        }
        return web.json_response({"total": total, "test_suites": suites})

    async def h_job(self, request, body, pid, job):
        found = self.state.jobs.get((pid, int(job)))
        return web.json_response(found) if found else _not_found()

    async def h_trace(self, request, body, pid, job):
        key = (pid, int(job))
        if key not in self.state.jobs:
            return _not_found()
        # An erased job's log is gone: GitLab answers 200 with no text (its API sends `trace.raw || ''`).
        data = b"" if self.state.jobs[key].get("erased_at") else self.state.traces.get(key, b"")
        resp = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        self.state.trace_bytes_sent[key] = 0
        view = memoryview(data)
        size = max(1, self.state.trace_chunk_size)
        for start in range(0, len(data), size):
            await resp.write(view[start : start + size].tobytes())
            self.state.trace_bytes_sent[key] = min(len(data), start + size)
            if self.state.trace_delay:
                await asyncio.sleep(self.state.trace_delay)
        await resp.write_eof()
        return resp

    async def h_commit_mrs(self, request, body, pid, sha):
        found = [m for (p, _), m in self.state.mrs.items() if p == pid and (m["sha"] == sha or sha in m["_commits"])]
        return paginate(request, [self._public(m) for m in found])

    async def h_commit_comment(self, request, body, pid, sha):
        note = (body or {}).get("note") if isinstance(body, dict) else None
        if not isinstance(note, str) or not note:
            return web.json_response({"error": "note is missing"}, status=400)
        self._record_quick_actions(note, pid, None, None, request.method)
        comment = {
            "note": note,
            "author": self.state._short_user(self._caller(request)),
            "line_type": None,
            "path": None,
            "line": None,
            "created_at": EPOCH,
        }
        self.state.commit_comments.setdefault((pid, sha), []).append(comment)
        return web.json_response(comment, status=201)

    async def h_file_raw(self, request, body, pid, file):
        ref = request.query.get("ref")
        if not ref:
            return web.json_response({"error": "ref is missing"}, status=400)
        content = self.state.files.get((pid, ref, file))
        if content is None:
            return _not_found("File")
        return web.Response(body=content, content_type="text/plain")

    def _mr(self, pid: int, iid: str) -> dict | None:
        return self.state.mrs.get((pid, int(iid)))

    @staticmethod
    def _public(mr: dict) -> dict:
        return {k: v for k, v in mr.items() if not k.startswith("_")}

    async def h_mr(self, request, body, pid, iid):
        mr = self._mr(pid, iid)
        return web.json_response(self._public(mr)) if mr else _not_found()

    async def h_mr_diffs(self, request, body, pid, iid):
        if not self._mr(pid, iid):
            return _not_found()
        return paginate(request, self.state.mr_diffs.get((pid, int(iid)), []))

    async def h_mr_changes(self, request, body, pid, iid):
        mr = self._mr(pid, iid)
        if not mr:
            return _not_found()
        return web.json_response({**self._public(mr), "changes": self.state.mr_diffs.get((pid, int(iid)), [])})

    async def h_notes(self, request, body, pid, iid):
        if not self._mr(pid, iid):
            return _not_found()
        notes = sorted(
            self.state.notes_for(pid, int(iid)),
            key=lambda n: n["id"],
            reverse=request.query.get("sort", "desc") != "asc",
        )
        return paginate(request, notes)

    def _record_quick_actions(self, text: str, pid: int, iid: int | None, note_id: int | None, method: str) -> dict:
        changes: dict[str, Any] = {}
        for match in _QUICK_ACTION.finditer(text):
            command, args = match.group(1), match.group(2).strip()
            self.state.quick_actions.append(
                {"command": command, "args": args, "project_id": pid, "iid": iid, "note_id": note_id, "method": method}
            )
            changes.update(_command_change(command, args, self.state.mrs.get((pid, iid or -1))))
        return changes

    def _body_text(self, body: Any) -> str | None:
        text = body.get("body") if isinstance(body, dict) else None
        return text if isinstance(text, str) and text.strip() else None

    async def h_create_note(self, request, body, pid, iid):
        if not self._mr(pid, iid):
            return _not_found()
        text = self._body_text(body)
        if text is None:
            return web.json_response({"message": '400 Bad request - Note {:note=>["can\'t be blank"]}'}, status=400)
        changes = self._record_quick_actions(text, pid, int(iid), None, request.method)
        remaining = _QUICK_ACTION.sub("", text).strip()
        if changes and not remaining:
            # GitLab applies a command-only note without creating it and answers 202.
            return web.json_response({"commands_changes": changes, "summary": sorted(changes)}, status=202)
        note = self.state.add_note(pid, int(iid), remaining if changes else text, author=self._caller(request))
        note["commands_changes"] = changes
        return web.json_response(note, status=201)

    async def h_update_note(self, request, body, pid, iid, note):
        if not self._mr(pid, iid):
            return _not_found()
        found = next((n for n in self.state.notes_for(pid, int(iid)) if n["id"] == int(note)), None)
        if found is None:
            return _not_found("Note")
        caller = self._caller(request)
        if found["author"]["id"] != caller["id"]:
            return web.json_response({"message": "403 Forbidden"}, status=403)
        text = self._body_text(body)
        if text is None:
            return web.json_response({"message": "400 Bad request - body is missing"}, status=400)
        self._record_quick_actions(text, pid, int(iid), found["id"], request.method)
        found["body"] = text
        found["updated_at"] = "2024-05-14T10:00:00.000Z"
        return web.json_response(found)

    async def h_emoji_list(self, request, body, pid, iid, note):
        return paginate(request, self.state.award_emoji.get((pid, int(iid), int(note)), []))

    async def h_emoji(self, request, body, pid, iid, note):
        if not any(n["id"] == int(note) for n in self.state.notes_for(pid, int(iid))):
            return _not_found("Note")
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            return web.json_response({"error": "name is missing"}, status=400)
        caller = self._caller(request)
        existing = self.state.award_emoji.setdefault((pid, int(iid), int(note)), [])
        if any(e["name"] == name and e["user"]["id"] == caller["id"] for e in existing):
            return web.json_response({"message": "404 Award Emoji Name has already been taken"}, status=404)
        award = {
            "id": self.state.next_id(),
            "name": name,
            "user": self.state._short_user(caller),
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "awardable_id": int(note),
            "awardable_type": "Note",
        }
        existing.append(award)
        return web.json_response(award, status=201)

    async def h_discussions(self, request, body, pid, iid):
        if not self._mr(pid, iid):
            return _not_found()
        return paginate(request, self.state.discussions.get((pid, int(iid)), []))

    async def h_reply(self, request, body, pid, iid, discussion):
        if not self._mr(pid, iid):
            return _not_found()
        found = next((d for d in self.state.discussions.get((pid, int(iid)), []) if d["id"] == discussion), None)
        if found is None:
            return _not_found("Discussion")
        text = self._body_text(body)
        if text is None:
            return web.json_response({"message": "400 Bad request - body is missing"}, status=400)
        changes = self._record_quick_actions(text, pid, int(iid), None, request.method)
        note = self.state._note_json(pid, int(iid), text, self._caller(request), discussion=True)
        note["commands_changes"] = changes
        found["notes"].append(note)
        return web.json_response(note, status=201)

    async def h_pipelines(self, request, body, pid):
        q = request.query
        found = [p for (proj, _), p in self.state.pipelines.items() if proj == pid]
        if q.get("status"):
            found = [p for p in found if p["status"] == q["status"]]
        if q.get("source"):
            found = [p for p in found if p["source"] == q["source"]]
        if q.get("ref"):
            found = [p for p in found if p["ref"] == q["ref"]]
        for name, keep in (("updated_after", lambda a, b: a > b), ("updated_before", lambda a, b: a < b)):
            if q.get(name):
                try:
                    bound = _parse_time(q[name])
                except ValueError:
                    return web.json_response({"error": f"{name} is invalid"}, status=400)
                found = [p for p in found if keep(_parse_time(p["updated_at"]), bound)]
        order = q.get("order_by", "id")
        if order not in ("id", "status", "ref", "updated_at", "user_id"):
            return web.json_response({"error": "order_by does not have a valid value"}, status=400)
        key = (lambda p: (_parse_time(p["updated_at"]), p["id"])) if order == "updated_at" else (lambda p: p[order])
        found.sort(key=key, reverse=q.get("sort", "desc") != "asc")
        fields = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")
        return paginate(request, [{k: p[k] for k in fields} for p in found])

    def _group_or_404(self, group: str) -> dict | None:
        return self.state.group(unquote(group))

    async def h_group_projects(self, request, body, group):
        found = self._group_or_404(group)
        if found is None:
            return _not_found("Group")
        subgroups = request.query.get("include_subgroups", "false").lower() == "true"
        projects = sorted(self.state.group_projects(found, subgroups=subgroups), key=lambda p: p["id"])
        if request.query.get("sort", "desc") != "asc":
            projects.reverse()
        return paginate(request, projects)

    async def h_member(self, request, body, pid, user):
        level = self.state.access_level("project", pid, int(user))
        if not level or int(user) not in self.state.users:
            return _not_found()
        return web.json_response(
            {
                **self.state._short_user(int(user)),
                "access_level": level,
                "expires_at": None,
                "membership_state": "active",
                "created_at": EPOCH,
            }
        )

    async def h_version(self, request, body):
        return web.json_response({"version": self.state.version, "revision": "0123abcd"})

    async def h_token_self(self, request, body):
        token = request.headers.get("PRIVATE-TOKEN") or request.headers.get("Authorization", "")[len("Bearer ") :]
        if token not in self.state.token_details:
            self.state.set_token_details(token)
        return web.json_response(self.state.token_details[token])

    async def h_group(self, request, body, group):
        found = self.state.group(group)
        return web.json_response(found) if found else _not_found("Group")

    async def h_group_member(self, request, body, group, user):
        found = self.state.group(group)
        if found is None:
            return _not_found("Group")
        level = self.state.access_level("group", found["id"], int(user))
        if not level or int(user) not in self.state.users:
            return _not_found()
        member = {**self.state._short_user(int(user)), "access_level": level, "expires_at": None}
        return web.json_response({**member, "membership_state": "active", "created_at": EPOCH})

    def _hook_owner(self, request, pid=None, group=None) -> tuple[str, int] | web.Response:
        """("group" | "project", id) when the caller may manage its hooks; else the answer GitLab gives."""
        if pid is not None:
            kind, oid, needed = "project", pid, 40  # Maintainer
        else:
            found = self.state.group(group)
            if found is None or not self.state.group_hooks_licensed:
                return _not_found("Group" if found is None else "")
            kind, oid, needed = "group", found["id"], 50  # Owner
        if self.state.access_level(kind, oid, self._caller(request)["id"]) < needed:
            return web.json_response({"message": "403 Forbidden"}, status=403)
        return kind, oid

    @staticmethod
    def _hook_json(hook: dict) -> dict:
        return {k: v for k, v in hook.items() if not k.startswith("_")}  # GitLab never shows the token

    def _hook_changes(self, body: Any) -> dict | web.Response:
        if not isinstance(body, dict):
            return web.json_response({"error": "body is missing"}, status=400)
        changes = {k: v for k, v in body.items() if k != "token"}
        if "token" in body:
            changes["_token"] = body["token"]
        return changes

    async def h_hooks(self, request, body, pid=None, group=None):
        owner = self._hook_owner(request, pid, group)
        if isinstance(owner, web.Response):
            return owner
        return paginate(request, [self._hook_json(h) for h in self.state.hooks.get(owner, [])])

    async def h_hook_create(self, request, body, pid=None, group=None):
        owner = self._hook_owner(request, pid, group)
        if isinstance(owner, web.Response):
            return owner
        changes = self._hook_changes(body)
        if isinstance(changes, web.Response):
            return changes
        if not changes.get("url"):
            return web.json_response({"error": "url is missing"}, status=400)
        hook = self.state.add_hook(owner[0], owner[1], changes.pop("url"), token=changes.pop("_token", ""), **changes)
        return web.json_response(self._hook_json(hook), status=201)

    async def h_hook_update(self, request, body, hook, pid=None, group=None):
        owner = self._hook_owner(request, pid, group)
        if isinstance(owner, web.Response):
            return owner
        found = next((h for h in self.state.hooks.get(owner, []) if h["id"] == int(hook)), None)
        if found is None:
            return _not_found("Hook")
        changes = self._hook_changes(body)
        if isinstance(changes, web.Response):
            return changes
        found.update(changes)
        return web.json_response(self._hook_json(found))

    # --- admin API for subprocess use ------------------------------------------------

    async def admin_seed(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            self.state.seed(data)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad seed: {exc}"}, status=400)
        return web.json_response({"ok": True, "url": self.url, "token": self.token})

    async def admin_calls(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(c) for c in self.state.calls])

    async def admin_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.snapshot())

    async def admin_fault(self, request: web.Request) -> web.Response:
        try:
            fault = self.state.add_fault(**await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad fault: {exc}"}, status=400)
        return web.json_response(asdict(fault))


def _command_change(command: str, args: str, mr: dict | None) -> dict[str, Any]:
    # The keys GitLab reports in commands_changes for the commands a bot could be tricked into posting.
    if command == "merge":
        return {"merge": (mr or {}).get("sha", "")}
    if command in ("close", "reopen"):
        return {"state_event": command}
    if command == "label":
        return {"add_label_names": [a.lstrip("~") for a in args.split()]}
    if command in ("approve", "unapprove", "draft", "ready", "lock", "unlock", "rebase", "submit_review"):
        return {command: True}
    return {command: args or True}


def main() -> None:
    """Serve on --host/--port until SIGTERM; seed it (tokens included) through POST /_fake/seed."""
    from tests.fakes import run_main

    run_main(FakeGitLab)


if __name__ == "__main__":
    main()
