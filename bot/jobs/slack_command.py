"""The slack_command job: explain / reanalyze, typed or from a button; check who asks, then queue the analysis."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt
from slack_sdk.errors import SlackApiError

from bot.clients.gitlab_errors import GitLabError, GitLabNotFound, GitLabUnavailable
from bot.core import messages as m
from bot.core.outcomes import PermanentFailure, RetryLater
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload
from bot.jobs.payload import JobPayload, SlackTarget
from bot.jobs.slack_support import PREFERENCE_PROVIDER, PREFERENCE_SCOPE, publisher, refusal_for_user, slack_failure
from bot.providers import catalog
from bot.runtime.services import Services
from storage.history import get_preference
from storage.queue import ClaimedJob, enqueue

KIND = "slack_command"


class SlackCommandPayload(JobPayload):
    """What was asked for (a pipeline, a CI job or a merge request of a project), by whom, and where."""

    job_kind = KIND
    command: str = ""  # explain | reanalyze
    project: str = Field(min_length=1)  # the project's path
    kind: Literal["pipeline", "job", "merge_request"]  # "job": a CI job, whose pipeline is analysed for it alone
    number: StrictInt
    provider: str = ""
    slack: SlackTarget = Field(default_factory=SlackTarget)
    request_key: str = ""  # the door's delivery key; the analysis's dedupe key is built from it
    announce: bool = False  # a button click: say that the work started


async def _pipeline_of_ci_job(services: Services, project: str, ci_job_id: int) -> int:
    gitlab = services.gitlab
    if gitlab is None:
        raise PermanentFailure("GITLAB_API_TOKEN is not set, so the job cannot be looked up")
    try:
        ci_job = await gitlab.get_job(project, ci_job_id)
    except GitLabNotFound:
        return 0
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    except GitLabError as exc:
        raise PermanentFailure(str(exc)) from exc
    pipeline = ci_job.get("pipeline") if isinstance(ci_job.get("pipeline"), dict) else {}
    try:
        return int(pipeline.get("id") or 0)
    except (TypeError, ValueError):
        return 0


async def run(services: Services, job: ClaimedJob) -> None:
    """Refuse who may not ask; else queue the analysis, to be answered where it was asked."""
    p = SlackCommandPayload.of(job)
    target = p.slack.as_target()
    pub = publisher(services)
    try:
        refusal = await refusal_for_user(services, str(p.slack.user or ""), p.project)
        if refusal:
            await pub.tell_user(target, refusal)
            return
        if (
            p.slack.channel
            and not services.settings.slack_allow_shared_channels
            and await pub.channel_is_shared(p.slack.channel)
        ):
            await pub.tell_user(target, m.REFUSAL_SHARED_CHANNEL)
            return
        provider = p.provider or await get_preference(
            services.db, PREFERENCE_SCOPE, str(p.slack.channel or ""), PREFERENCE_PROVIDER
        )
        analysis = AnalyzePipelinePayload(
            project_id=p.project, trigger="slack", provider_hint=provider, force=p.command == "reanalyze", slack=p.slack
        )
        if p.kind == "pipeline":
            analysis.pipeline_id = p.number
        elif p.kind == "merge_request":
            analysis.mr_iid = p.number
        else:
            pipeline_id = await _pipeline_of_ci_job(services, p.project, p.number)
            if not pipeline_id:
                await pub.tell_user(target, m.REFUSAL_UNKNOWN_PIPELINE.format(reference=f"{p.project} job {p.number}"))
                return
            analysis.pipeline_id = pipeline_id
            analysis.job_ids = [p.number]
    except SlackApiError as exc:
        raise slack_failure(exc) from exc
    if p.announce:
        # a button click has no other visible answer; a typed command was answered when it arrived
        shown = m.provider_name(provider or catalog.default_provider(services.settings))
        await pub.tell_user(target, m.ACK_REANALYZE.format(provider=shown))
    async with services.db.session() as s:
        await enqueue(
            s,
            analysis.job_kind,
            analysis.to_json(),
            dedupe_key=f"{p.request_key or job.id}:analyze",
            max_attempts=services.settings.queue_max_attempts,
        )
    services.wake_workers()
