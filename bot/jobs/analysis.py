"""The steps of analysing a pipeline: read the failed CI jobs' logs, ask once per distinct failure, store, publish."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.clients.baseline_logs import FoundBaseline
from bot.clients.gitlab_errors import GitLabError, GitLabTransient, GitLabUnavailable
from bot.clients.gitlab_pipeline import PipelineFacts
from bot.clients.ports import GitLab
from bot.core import pipelines
from bot.core.evidence import check_evidence
from bot.core.excerpt.baseline import Baseline
from bot.core.fingerprint import FailureKeys, failure_keys
from bot.core.log_access import LogProblem, classify, describe
from bot.core.redact import Redactor
from bot.core.redact_learn import LogLearner, without_known_secrets
from bot.core.redact_payload import redact_payload
from bot.core.types import (
    AnalysisRequest,
    AnalysisResult,
    BaselineInfo,
    Excerpt,
    JobFailure,
    JobReport,
    PipelineReport,
)
from bot.core.verdict import decide_verdict
from bot.providers.heuristic import HeuristicProvider
from bot.runtime.services import Services
from config.settings import CommentOn
from storage import history

log = logging.getLogger(__name__)

MAX_PARALLEL_LOGS = 4
SIGNATURE_HISTORY_DAYS = 14


@dataclass(frozen=True)
class AnalysisOptions:
    """What the request for an analysis says besides the pipeline: who asked, which provider, whether to ask anew."""

    trigger: str = ""
    provider_hint: str = ""
    force: bool = False  # ask a model again instead of showing an earlier or a reused answer


@dataclass(frozen=True)
class Reuse:
    """Where a reused answer was first given: its pipeline and that pipeline's web address."""

    pipeline_id: int | None = None
    web_url: str = ""


@dataclass(frozen=True)
class FailedCiJob:
    """One failed CI job as read: GitLab's job, its redacted excerpt, its failure signature, and why its log
    could not be read ('' when it could: then no model is asked about it)."""

    ci_job: dict
    excerpt: Excerpt
    signature: str  # the family key: "seen before" and statistics
    problem: str
    strict: str = ""  # the strict key: CI jobs share an answer, and reuse one, only when it matches
    baseline: BaselineInfo | None = None  # the passing log its excerpt was compared with

    @property
    def name(self) -> str:
        return str(self.ci_job.get("name", ""))


async def find_baseline(
    services: Services, facts: PipelineFacts, project_id: int, ci_job: dict
) -> FoundBaseline | None:
    """The same CI job's log in the newest passing pipeline of this ref, or of the MR's target branch."""
    settings = services.settings
    if not (settings.gitlab_baseline_logs and settings.gitlab_auto_fetch_logs) or services.gitlab is None:
        return None
    refs = [str(facts.pipeline.get("ref") or ""), str((facts.mr or {}).get("target_branch") or "")]
    return await services.baseline_logs.find(
        services.gitlab,
        project_id,
        str(ci_job.get("name") or ""),
        refs,
        max_bytes=int(settings.gitlab_max_log_size_mb * 1024 * 1024),
    )


async def fetch_excerpt(
    services: Services, project_id: int, ci_job: dict, baseline: Baseline | None = None
) -> tuple[Excerpt, str]:
    """The redacted failure excerpt of one CI job; (excerpt, why) when its log cannot be read."""
    settings = services.settings
    if not settings.gitlab_auto_fetch_logs:
        return Excerpt([]), describe(LogProblem.not_fetched, ci_job)
    redactor = Redactor.from_settings(settings)  # stateful across lines: one per log
    max_bytes = int(settings.gitlab_max_log_size_mb * 1024 * 1024)
    # The kept lines' redactor sees only them; this one reads every line for the secrets printed elsewhere.
    whole_log = LogLearner(redactor.fresh(), max_bytes)
    extra = {"baseline": baseline} if baseline is not None else {}
    try:
        excerpt = await services.excerpt_log(
            services.gitlab.stream_trace(project_id, int(ci_job["id"])),
            budget_chars=settings.excerpt_budget_chars,
            max_bytes=max_bytes,
            line_filter=redactor.redact_line,
            learner=whole_log,
            **extra,
        )
    except (GitLabUnavailable, GitLabTransient):
        raise  # GitLab or the connection failed for a moment (or mid-log): the job is tried again
    except GitLabError as exc:
        if exc.status == 401:
            raise  # the token itself is refused: no log can be read, which is not this CI job's problem
        problem = classify(ci_job, status=exc.status, empty=True, now=datetime.now(UTC))
        return Excerpt([]), describe(problem or LogProblem.other, ci_job, exc.status)
    whole_log.close()
    excerpt = without_known_secrets(excerpt, redactor, whole_log)
    empty = not any(line.text.strip() for line in excerpt.lines)  # an empty log reads as one blank line
    problem = classify(ci_job, status=None, empty=empty, now=datetime.now(UTC))
    if problem is not None:
        return Excerpt([], total_lines=excerpt.total_lines, bytes_read=excerpt.bytes_read), describe(problem, ci_job)
    return excerpt, ""


def redacted_facts(facts: PipelineFacts, settings: Any) -> PipelineFacts:
    """The pipeline as GitLab reports it, its free text (branch and tag names, MR title and description, commit
    messages, CI job names, CI config) without secrets: it is stored, posted and shown to a model."""
    jobs = {id(j): j for j in facts.ci_jobs + facts.to_analyze + facts.allowed}
    # All of it in one walk with one redactor: a secret recognised in the MR description (DEPLOY_TOKEN=...)
    # is removed from the branch name that holds it bare.
    clean = redact_payload(
        {
            "pipeline": facts.pipeline,
            "mr": facts.mr,
            "jobs": jobs,
            "files": facts.changed_files,
            "config": facts.ci_config,
            "tests": facts.test_failures,
        },
        Redactor.from_settings(settings).redact_text,
    )
    return dataclasses.replace(
        facts,
        pipeline=clean["pipeline"],
        mr=clean["mr"],
        ci_jobs=[clean["jobs"][id(j)] for j in facts.ci_jobs],
        to_analyze=[clean["jobs"][id(j)] for j in facts.to_analyze],
        allowed=[clean["jobs"][id(j)] for j in facts.allowed],
        changed_files=clean["files"],
        ci_config=clean["config"],
        test_failures=clean["tests"],
    )


def base_report(facts: PipelineFacts, services: Services, status: str) -> PipelineReport:
    p = facts.pipeline
    project_url = str(facts.project.get("web_url") or "")
    user = p.get("user") if isinstance(p.get("user"), dict) else {}
    return PipelineReport(
        project_path=facts.project_path,
        project_web_url=project_url,
        project_id=facts.project_id,
        pipeline_id=int(p["id"]),
        pipeline_url=str(p.get("web_url") or f"{project_url}/-/pipelines/{p['id']}"),
        ref=str(p.get("ref") or ""),
        sha=str(p.get("sha") or ""),
        status=status,
        mr_iid=facts.mr_iid,
        mr_url=str((facts.mr or {}).get("web_url") or ""),
        mr_title=str((facts.mr or {}).get("title") or ""),
        author=str(user.get("username") or ""),
        bot_username=services.identity.username,
        default_branch=facts.default_branch,
    )


async def publish_start(services: Services, report: PipelineReport, target: dict | None) -> None:
    """Say in Slack that the analysis runs (the MR note waits for the answer)."""
    if services.slack is not None:
        await services.slack.start(report, target)


async def publish_finish(services: Services, report: PipelineReport, target: dict | None) -> None:
    """Post where people are; a publisher that fails is logged and retried with the job."""
    notes = services.notes
    comment_on = services.settings.gitlab_comment_on
    if notes is not None and report.mr_iid is not None and comment_on != CommentOn.none:
        note = await notes.upsert(report)
        if note:
            report.note_url = note["url"]
    elif notes is not None and report.mr_iid is None and comment_on == CommentOn.mr_and_commit:
        await notes.post_commit_comment(report)
    if services.slack is not None:
        await services.slack.finish(report, target)


async def latest_mr_pipeline(gl: GitLab, project_ref: int | str, mr_iid: int) -> int | None:
    mr = await gl.get_merge_request(project_ref, mr_iid)
    head = mr.get("head_pipeline") or mr.get("pipeline")
    if not isinstance(head, dict) or not head.get("id"):
        return None
    if head.get("project_id") not in (None, mr.get("project_id"), mr.get("target_project_id")):
        return None  # a fork's pipeline lives in the fork, whose logs this project's MR must not show
    return int(head["id"])


async def store_pipeline(services: Services, facts: PipelineFacts, trigger: str) -> None:
    p = facts.pipeline
    user = p.get("user") if isinstance(p.get("user"), dict) else {}
    await history.upsert_pipeline(
        services.db,
        project_id=facts.project_id,
        project_path=facts.project_path,
        pipeline_id=int(p["id"]),
        ref=str(p.get("ref") or "")[:512],
        sha=str(p.get("sha") or "")[:64],
        status=str(p.get("status") or ""),
        source=str(p.get("source") or trigger)[:64],
        mr_iid=facts.mr_iid,
        author=str(user.get("username") or "")[:255],
        web_url=str(p.get("web_url") or "")[:1024],
        default_branch=facts.default_branch[:255],
    )


async def analyze_ci_jobs(services: Services, facts: PipelineFacts, options: AnalysisOptions) -> list[JobReport]:
    """Excerpt every failed CI job, then analyse each distinct failure once."""
    semaphore = asyncio.Semaphore(MAX_PARALLEL_LOGS)
    ref = str(facts.pipeline.get("ref") or "")

    async def read(ci_job: dict) -> FailedCiJob:
        project_id = int(ci_job.get("_project_id") or facts.project_id)
        async with semaphore:
            found = await find_baseline(services, facts, project_id, ci_job)
            excerpt, problem = await fetch_excerpt(services, project_id, ci_job, found.baseline if found else None)
        keys = failure_keys(excerpt) if excerpt.lines else FailureKeys("", "")
        await history.record_failed_job(
            services.db,
            project_id=facts.project_id,
            pipeline_id=int(facts.pipeline["id"]),
            ci_job=ci_job,
            ref=ref,
            excerpt=excerpt,
            signature=keys.family,
        )
        return FailedCiJob(ci_job, excerpt, keys.family, problem, keys.strict, found.info if found else None)

    failures = await asyncio.gather(*(read(j) for j in facts.to_analyze))
    groups: dict[str, list[FailedCiJob]] = {}
    for failure in failures:
        if not failure.problem:
            groups.setdefault(failure.strict or f"job:{failure.ci_job['id']}", []).append(failure)

    reports: list[JobReport] = []
    for members in groups.values():
        reports.extend(await _analyze_group(services, facts, options, members))
    # Nothing to show a model: say why the log could not be read instead of asking about an empty one.
    reports.extend(_unreadable(failure) for failure in failures if failure.problem)
    for ci_job in facts.allowed:
        reports.append(
            JobReport(
                job_id=int(ci_job["id"]),
                name=str(ci_job.get("name", "")),
                stage=str(ci_job.get("stage", "")),
                web_url=str(ci_job.get("web_url") or ""),
                allow_failure=True,
                not_analysed_reason="allowed to fail",
            )
        )
    return reports


def _unreadable(failure: FailedCiJob) -> JobReport:
    ci_job = failure.ci_job
    return JobReport(
        job_id=int(ci_job["id"]),
        name=failure.name,
        stage=str(ci_job.get("stage", "")),
        web_url=str(ci_job.get("web_url") or ""),
        allow_failure=bool(ci_job.get("allow_failure")),
        log_unavailable=failure.problem,
    )


async def _analyze_group(
    services: Services, facts: PipelineFacts, options: AnalysisOptions, members: list[FailedCiJob]
) -> list[JobReport]:
    """One answer for CI jobs that failed the same way: shown again, reused, or asked of a model."""
    settings = services.settings
    first = members[0]
    ci_job, excerpt, sig = first.ci_job, first.excerpt, first.signature
    names = [m.name for m in members]
    pipeline_id = int(facts.pipeline["id"])
    ref = str(facts.pipeline.get("ref") or "")
    hist = await history.signature_history(
        services.db,
        project_id=facts.project_id,
        signature=sig,
        exclude_pipeline=pipeline_id,
        default_branch=facts.default_branch,
        project_web_url=str(facts.project.get("web_url") or ""),
        days=SIGNATURE_HISTORY_DAYS,
    )
    failure = JobFailure(
        job_id=int(ci_job["id"]),
        name=names[0],
        stage=str(ci_job.get("stage", "")),
        failure_reason=str(ci_job.get("failure_reason") or ""),
        allow_failure=bool(ci_job.get("allow_failure")),
        web_url=str(ci_job.get("web_url") or ""),
        excerpt=excerpt,
        signature=sig,
        same_failure_jobs=names[1:],
        baseline=first.baseline,
    )
    reused_from = None
    reused = Reuse()
    namespace = facts.project.get("namespace") if isinstance(facts.project.get("namespace"), dict) else {}
    group_path, visibility = str(namespace.get("full_path") or ""), str(facts.project.get("visibility") or "")
    result: AnalysisResult | None = None
    status = "ok"
    analysis_id: int | None = None
    if not options.force:
        # This CI job was already answered (a repeated delivery, or a retry after a crash): show that answer again.
        done = await history.analysis_for_job(
            services.db, project_id=facts.project_id, pipeline_id=pipeline_id, job_id=failure.job_id
        )
        if done is not None and done.result:
            result = AnalysisResult.model_validate(done.result)
            analysis_id, reused_from = done.id, done.reused_from_id
    if result is None and not options.force and first.strict:
        earlier = await history.reusable_analysis(
            services.db,
            project_id=facts.project_id,
            strict_key=first.strict,
            days=settings.reuse_analysis_days,
            group_path=group_path,
            visibility=visibility,
            # Reuse saves a model call. The offline analyzer costs nothing to run again, and its answer may stand
            # in for a model that was down or not configured yet: reusing it would keep the model out for days.
            not_by=HeuristicProvider.name,
        )
        if earlier is not None and earlier.result:
            result = AnalysisResult.model_validate(earlier.result)
            result.tokens_in = result.tokens_out = result.tokens_cached = 0
            result.cost_usd = 0.0
            # The earlier answer quoted another CI job's log: keep only quotes that are in this one, at these lines.
            result.evidence, _ = check_evidence(result.evidence, excerpt)
            reused_from = earlier.id
            reused = Reuse(
                earlier.pipeline_id,
                await history.pipeline_web_url(
                    services.db, project_id=earlier.project_id, pipeline_id=earlier.pipeline_id
                ),
            )
            status = "reused"
    if result is None:
        request = AnalysisRequest(
            project_path=facts.project_path,
            project_id=facts.project_id,
            pipeline_id=pipeline_id,
            ref=ref,
            sha=str(facts.pipeline.get("sha") or ""),
            job=failure,
            default_branch=facts.default_branch,
            mr_title=str((facts.mr or {}).get("title") or ""),
            mr_description=str((facts.mr or {}).get("description") or ""),
            changed_files=facts.changed_files,
            pipeline_jobs=pipelines.pipeline_job_rows(facts.ci_jobs),
            ci_config=facts.ci_config,
            test_failures=facts.test_failures,
            history=hist.prior,
            occurrences=hist.occurrences + 1,
            provider_hint=options.provider_hint,
        )
        preference = await history.get_preference(services.db, "gitlab_project", str(facts.project_id), "provider")
        result = await services.router.analyze(request, preference=preference)
    if analysis_id is not None:
        return _ci_job_reports(members, result, hist, reused_from, analysis_id, reused)
    verdict, why = decide_verdict(
        result.verdict,
        failure_reason=failure.failure_reason,
        flaky=pipelines.was_flaky(facts.ci_jobs, failure.name),
        signature_on_default_branch=hist.on_default_branch,
        ref=ref,
        default_branch=facts.default_branch,
    )
    if why and verdict != result.verdict:
        result.verdict = verdict
        result.notes.append(why)
    analysis_id = await history.save_analysis(
        services.db,
        project_id=facts.project_id,
        project_path=facts.project_path,
        pipeline_id=pipeline_id,
        job_id=failure.job_id,
        signature=sig,
        trigger=options.trigger,
        result=result,
        status=status,
        reused_from_id=reused_from,
        strict_key=first.strict,
        group_path=group_path,
        visibility=visibility,
    )
    return _ci_job_reports(members, result, hist, reused_from, analysis_id, reused)


def _ci_job_reports(
    members: list[FailedCiJob],
    result: AnalysisResult,
    hist: history.SignatureHistory,
    reused_from: int | None,
    analysis_id: int,
    reused: Reuse | None = None,
) -> list[JobReport]:
    """The shared answer on every CI job of the group; the first one names the others."""
    names = [m.name for m in members]
    return [
        JobReport(
            job_id=int(m.ci_job["id"]),
            name=names[i],
            stage=str(m.ci_job.get("stage", "")),
            web_url=str(m.ci_job.get("web_url") or ""),
            allow_failure=bool(m.ci_job.get("allow_failure")),
            result=result,
            signature=members[0].signature,
            shared_with=[n for n in names if n != names[i]] if i == 0 else [],
            occurrences=hist.occurrences + 1,
            seen_before=list(hist.prior),
            reused_from=reused_from,
            reused_from_pipeline=reused.pipeline_id if reused else None,
            reused_from_url=reused.web_url if reused else "",
            analysis_id=analysis_id,
            baseline=m.baseline,
        )
        for i, m in enumerate(members)
    ]
