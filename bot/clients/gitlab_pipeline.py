"""Reading a pipeline from GitLab: its jobs (children included), project, merge request and context."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.clients.gitlab_errors import GitLabAuthError, GitLabError, GitLabNotFound
from bot.clients.ports import PipelineReader
from bot.core import pipelines
from config.settings import Settings

log = logging.getLogger(__name__)

MAX_CHILD_DEPTH = 3
MAX_CHILD_PIPELINES = 20


@dataclass
class PipelineFacts:
    project: dict
    pipeline: dict
    ci_jobs: list[dict]  # every attempt, child pipelines' CI jobs included (tagged with _pipeline_id/_project_id)
    to_analyze: list[dict]
    allowed: list[dict]
    mr: dict | None = None
    changed_files: list[str] = field(default_factory=list)
    ci_config: str = ""
    test_failures: list[str] = field(default_factory=list)

    @property
    def project_id(self) -> int:
        return int(self.project["id"])

    @property
    def project_path(self) -> str:
        return str(self.project.get("path_with_namespace") or self.project.get("path") or self.project_id)

    @property
    def default_branch(self) -> str:
        return str(self.project.get("default_branch") or "main")

    @property
    def mr_iid(self) -> int | None:
        return int(self.mr["iid"]) if self.mr else None


def _tag(ci_jobs: list[dict], project_id: int, pipeline_id: int) -> list[dict]:
    for ci_job in ci_jobs:
        ci_job.setdefault("_project_id", project_id)
        ci_job.setdefault("_pipeline_id", pipeline_id)
    return ci_jobs


async def pipeline_jobs(gl: PipelineReader, project_id: int, pipeline_id: int, *, children: bool) -> list[dict]:
    """All CI job attempts of a pipeline and, following bridges, of its failed child pipelines."""
    ci_jobs = _tag(await gl.list_pipeline_jobs(project_id, pipeline_id, include_retried=True), project_id, pipeline_id)
    if not children:
        return ci_jobs
    frontier = [(project_id, pipeline_id, 1)]
    seen = {(project_id, pipeline_id)}
    while frontier and len(seen) <= MAX_CHILD_PIPELINES:
        proj, pipe, depth = frontier.pop(0)
        try:
            bridges = await gl.list_pipeline_bridges(proj, pipe)
        except (GitLabNotFound, GitLabAuthError):
            continue
        for bridge in bridges:
            down = bridge.get("downstream_pipeline")
            if not isinstance(down, dict) or down.get("status") != "failed":
                continue
            # Only child pipelines of the same project: a multi-project downstream pipeline belongs to
            # another project, whose logs must not land in this project's MR or Slack channels.
            if int(down.get("project_id") or 0) != proj:
                continue
            key = (proj, int(down["id"]))
            if key in seen or depth > MAX_CHILD_DEPTH:
                continue
            seen.add(key)
            try:
                child = await gl.list_pipeline_jobs(key[0], key[1], include_retried=True)
            except GitLabError as exc:
                log.info("child pipeline %s not readable: %s", key[1], exc)
                continue
            ci_jobs.extend(_tag(child, *key))
            frontier.append((key[0], key[1], depth + 1))
    return ci_jobs


async def find_merge_request(
    gl: PipelineReader, project_id: int, pipeline: dict, hinted_iid: int | None
) -> dict | None:
    """The hook's MR, else the MR named by the ref, else the open MR containing the commit."""
    iid = hinted_iid or pipelines.mr_iid_from_ref(pipeline.get("ref"))
    if iid:
        try:
            return await gl.get_merge_request(project_id, iid)
        except GitLabNotFound:
            return None
    sha = pipeline.get("sha")
    if not sha:
        return None
    try:
        candidates = await gl.find_merge_requests_for_commit(project_id, sha)
    except GitLabNotFound:
        return None
    opened = [mr for mr in candidates if mr.get("state") == "opened"]
    chosen = (opened or candidates or [None])[0]
    return chosen


async def gather(
    gl: PipelineReader,
    settings: Settings,
    project_id: int | str,
    pipeline_id: int,
    *,
    mr_hint: int | None = None,
    ci_job_ids: list[int] | None = None,
) -> PipelineFacts:
    """The pipeline, its failed CI jobs (only these ids when given), its MR and what helps explain them."""
    project = await gl.get_project(project_id)
    pid = int(project["id"])
    pipeline = await gl.get_pipeline(pid, pipeline_id)
    ci_jobs = await pipeline_jobs(gl, pid, pipeline_id, children=settings.gitlab_fetch_full_pipeline)
    to_analyze, allowed = pipelines.failed_jobs(ci_jobs, settings.gitlab_analyze_allowed_failures)
    if ci_job_ids:
        wanted = set(ci_job_ids)
        to_analyze = [j for j in pipelines.latest_attempts(ci_jobs) if int(j["id"]) in wanted] or to_analyze
    facts = PipelineFacts(project=project, pipeline=pipeline, ci_jobs=ci_jobs, to_analyze=to_analyze, allowed=allowed)
    facts.mr = await find_merge_request(gl, pid, pipeline, mr_hint)
    await _context(gl, settings, facts)
    return facts


async def _context(gl: PipelineReader, settings: Settings, facts: PipelineFacts) -> None:
    """What helps a model beyond the log; each part is optional and failures only cost context."""
    pid = facts.project_id

    async def changed() -> None:
        if facts.mr:
            facts.changed_files = await gl.list_merge_request_changed_files(pid, facts.mr_iid)

    async def ci_config() -> None:
        if settings.gitlab_fetch_full_pipeline and facts.pipeline.get("sha"):
            facts.ci_config = await gl.get_file_raw(pid, ".gitlab-ci.yml", facts.pipeline["sha"]) or ""

    async def tests() -> None:
        if settings.gitlab_fetch_test_reports:
            cases = await gl.get_test_report(pid, int(facts.pipeline["id"]))
            facts.test_failures = [
                f"{c.get('classname') or c.get('suite') or ''} {c.get('name', '')}: {(c.get('system_output') or '')[:500]}".strip()
                for c in cases
            ]

    results = await asyncio.gather(changed(), ci_config(), tests(), return_exceptions=True)
    for result in results:
        if isinstance(result, GitLabError):
            log.info("context not available: %s", result)
        elif isinstance(result, BaseException):
            raise result
