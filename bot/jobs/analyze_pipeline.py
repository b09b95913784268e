"""The analyze_pipeline job: one pipeline, end to end (gather, cut, redact, fingerprint, ask, store, publish)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel

from bot.clients.gitlab_errors import GitLabAuthError, GitLabNotFound, GitLabUnavailable
from bot.clients.gitlab_pipeline import gather
from bot.core import pipelines
from bot.core.outcomes import Defer, PermanentFailure, RetryLater
from bot.core.types import JobReport, PipelineReport
from bot.jobs.analysis import (
    AnalysisOptions,
    analyze_ci_jobs,
    base_report,
    latest_mr_pipeline,
    publish_finish,
    publish_start,
    redacted_facts,
    store_pipeline,
)
from bot.jobs.payload import JobPayload, SlackTarget
from bot.runtime.services import Services
from storage.queue import ClaimedJob

log = logging.getLogger(__name__)

KIND = "analyze_pipeline"

# A pipeline still running is looked at again every minute, for at most this long.
RUNNING_RECHECK_SECONDS = 60
RUNNING_WAIT_LIMIT_SECONDS = 6 * 3600
NO_API_REASON = "reported by email only: without GITLAB_API_TOKEN the failure is not confirmed with GitLab and its log cannot be read"
DEAD_JOB_REASON = "the bot gave up after {attempts} attempt(s): {error}"


class EmailedCiJob(BaseModel):
    """A failed CI job as GitLab's failure email names it."""

    id: int
    name: str = ""
    stage: str = ""


class EmailFacts(BaseModel):
    """What a failure email said (bot.core.email_parse.PipelineFailureEmail.email_payload)."""

    project_path: str | None = None
    ref: str | None = None
    mr_iid: int | None = None
    failed_jobs: list[EmailedCiJob] = []
    message_id: str | None = None


class AnalyzePipelinePayload(JobPayload):
    """Which pipeline to analyse (by id, or the latest of a merge request), who asked and where to answer."""

    job_kind = KIND
    project_id: int | str | None = None  # an id, or a path from a Slack command
    project_path: str | None = None  # read when project_id is missing
    pipeline_id: int | None = None
    mr_iid: int | None = None  # the MR's latest pipeline when pipeline_id is missing; else a hint for the note
    job_ids: list[int] | None = None  # only these CI jobs (e.g. "explain <job>")
    trigger: str = ""  # webhook | email | slack | mr_command
    provider_hint: str = ""
    force: bool = False  # reanalyze: ask a model again
    slack: SlackTarget | None = None  # answer in this channel or thread, for this user
    email: EmailFacts | None = None  # what the failure email said, for a bot without GITLAB_API_TOKEN

    @property
    def options(self) -> AnalysisOptions:
        return AnalysisOptions(trigger=self.trigger, provider_hint=self.provider_hint, force=self.force)

    @property
    def slack_target(self) -> dict | None:
        return self.slack.as_target() if self.slack is not None else None


def _age_seconds(pipeline: dict) -> float:
    raw = pipeline.get("created_at")
    try:
        created = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (datetime.now(UTC) - created).total_seconds()


async def run(services: Services, job: ClaimedJob) -> None:
    """Analyse the pipeline named in the payload and publish the result."""
    await run_analysis(services, AnalyzePipelinePayload.of(job))


async def run_analysis(services: Services, p: AnalyzePipelinePayload) -> PipelineReport | None:
    """Analyse one pipeline; returns what was published, or None when there was nothing to explain."""
    settings = services.settings
    gl = services.gitlab
    if gl is None:
        if p.email is not None:
            return await report_from_email(services, p, p.email)
        raise PermanentFailure("GITLAB_API_TOKEN is not set, so the pipeline and its logs cannot be read")
    project_ref = p.project_id or p.project_path
    pipeline_id = p.pipeline_id
    try:
        if pipeline_id is None and p.mr_iid:
            pipeline_id = await latest_mr_pipeline(gl, project_ref, p.mr_iid)
        if pipeline_id is None:
            raise PermanentFailure("no pipeline to analyse")
        facts = redacted_facts(
            await gather(gl, settings, project_ref, pipeline_id, mr_hint=p.mr_iid, ci_job_ids=p.job_ids), settings
        )
    except GitLabNotFound as exc:
        raise PermanentFailure(
            f"GitLab does not know this pipeline or project (or the bot cannot see it): {exc}"
        ) from exc
    except GitLabAuthError as exc:
        raise PermanentFailure(f"GitLab refused the bot's token: {exc}") from exc
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc

    status = str(facts.pipeline.get("status") or "")
    if not pipelines.is_finished(status) and _age_seconds(facts.pipeline) < RUNNING_WAIT_LIMIT_SECONDS:
        raise Defer(RUNNING_RECHECK_SECONDS, f"pipeline is {status}")
    if status != "failed" and not facts.to_analyze:
        # The event said "failed" but GitLab disagrees (retried and passed, or a forged event): nothing to explain.
        log.info("pipeline %s is %s according to GitLab; not analysed", facts.pipeline.get("id"), status)
        await store_pipeline(services, facts, p.trigger)
        return None

    await store_pipeline(services, facts, p.trigger)
    report = base_report(facts, services, "analysing")
    await publish_start(services, report, p.slack_target)
    report.jobs = await analyze_ci_jobs(services, facts, p.options)
    report.status = "failed"
    report.analysis_id = next((j.analysis_id for j in report.jobs if j.analysis_id), None)
    await publish_finish(services, report, p.slack_target)
    return report


async def report_from_email(services: Services, p: AnalyzePipelinePayload, email: EmailFacts) -> PipelineReport:
    """Without API access only the email is known: say which CI jobs failed, where people look (Slack)."""
    if p.pipeline_id is None:
        raise PermanentFailure("no pipeline to analyse")
    base = services.settings.gitlab_base_url.rstrip("/")
    path = str(email.project_path or p.project_id)
    project_url = f"{base}/{path}"
    report = PipelineReport(
        project_path=path,
        project_web_url=project_url,
        project_id=p.project_id,
        pipeline_id=p.pipeline_id,
        pipeline_url=f"{project_url}/-/pipelines/{p.pipeline_id}",
        ref=email.ref or "",
        sha="",
        status="failed",
        mr_iid=email.mr_iid,
        mr_url=f"{project_url}/-/merge_requests/{email.mr_iid}" if email.mr_iid else "",
        bot_username=services.identity.username,
        jobs=[
            JobReport(
                job_id=ci_job.id,
                name=ci_job.name,
                stage=ci_job.stage,
                web_url=f"{project_url}/-/jobs/{ci_job.id}",
                not_analysed_reason=NO_API_REASON,
            )
            for ci_job in email.failed_jobs
        ],
    )
    slack = services.slack
    if slack is not None:
        await slack.start(report, p.slack_target)
        await slack.finish(report, p.slack_target)
    return report


async def notify_dead_job(services: Services, job: ClaimedJob, exc: BaseException) -> None:
    """When an analysis is given up, say so on the MR note (and in Slack) instead of staying silent."""
    if job.kind != KIND or services.gitlab is None:
        return
    try:
        p = AnalyzePipelinePayload.of(job)
    except PermanentFailure:
        return  # the payload names no pipeline to report on
    if p.pipeline_id is None:
        return
    try:
        facts = redacted_facts(
            await gather(services.gitlab, services.settings, p.project_id, p.pipeline_id, mr_hint=p.mr_iid),
            services.settings,
        )
    except Exception:
        return  # GitLab itself is the problem; nothing can be posted there
    report = base_report(facts, services, "failed")
    report.error = DEAD_JOB_REASON.format(attempts=job.attempts, error=str(exc)[:300])
    report.jobs = [
        JobReport(
            job_id=int(ci_job["id"]),
            name=str(ci_job.get("name", "")),
            stage=str(ci_job.get("stage", "")),
            web_url=str(ci_job.get("web_url") or ""),
            allow_failure=bool(ci_job.get("allow_failure")),
        )
        for ci_job in facts.to_analyze + facts.allowed
    ]
    await publish_finish(services, report, p.slack_target)
