"""The pipeline_passed job: a pipeline passed; if the MR's note showed an earlier failure, say it is fixed."""

from __future__ import annotations

from bot.clients.gitlab_errors import GitLabNotFound, GitLabUnavailable
from bot.clients.gitlab_notes import mr_delivery_key
from bot.clients.gitlab_pipeline import find_merge_request
from bot.core.outcomes import RetryLater
from bot.core.report_codec import report_from_dict
from bot.core.types import PipelineReport
from bot.jobs.payload import JobPayload
from bot.runtime.services import Services
from storage import history
from storage.deliveries import get_delivery
from storage.queue import ClaimedJob

KIND = "pipeline_passed"


class PipelinePassedPayload(JobPayload):
    """The pipeline that passed."""

    job_kind = KIND
    project_id: int | str
    pipeline_id: int
    mr_iid: int | None = None  # the MR it belongs to, when the producer knows
    trigger: str = ""


async def run(services: Services, job: ClaimedJob) -> None:
    """Mark the earlier failure fixed on the MR note and in Slack."""
    p = PipelinePassedPayload.of(job)
    gl = services.gitlab
    if gl is None:
        return
    try:
        project = await gl.get_project(p.project_id)
        pipeline = await gl.get_pipeline(int(project["id"]), p.pipeline_id)
    except GitLabNotFound:
        return
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    if pipeline.get("status") != "success":
        return
    project_id = int(project["id"])
    mr = await find_merge_request(gl, project_id, pipeline, p.mr_iid)
    fixed_id = int(pipeline["id"])
    fixed_url = str(pipeline.get("web_url") or "")
    previous = None
    if mr is not None:
        delivery = await get_delivery(services.db, mr_delivery_key(project_id, int(mr["iid"])))
        if delivery is not None and delivery.report:
            previous = report_from_dict(delivery.report)
    # `<=`: a failed CI job retried in the same pipeline that now passes also fixes it.
    if previous is not None and previous.fixed_in_pipeline_id is None and previous.pipeline_id <= fixed_id:
        previous.fixed_in_pipeline_id = fixed_id
        previous.fixed_in_url = fixed_url
        if services.notes is not None:
            await services.notes.upsert(previous)
        await history.mark_fixed(services.db, project_id, [previous.pipeline_id], fixed_id)
    slack = services.slack
    if slack is not None:
        ref_report = previous or PipelineReport(
            project_path=str(project.get("path_with_namespace") or ""),
            project_web_url=str(project.get("web_url") or ""),
            pipeline_id=fixed_id,
            pipeline_url=fixed_url,
            ref=str(pipeline.get("ref") or ""),
            sha=str(pipeline.get("sha") or ""),
            status="success",
            project_id=project_id,
            mr_iid=int(mr["iid"]) if mr else None,
            mr_url=str((mr or {}).get("web_url") or ""),
        )
        await slack.fixed(ref_report, fixed_id, fixed_url)
