"""One pipeline, end to end: gather, cut, redact, fingerprint, ask, store, publish."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from bot.core import pipelines
from bot.core.evidence import check_evidence
from bot.core.fingerprint import signature as failure_signature
from bot.clients.gitlab_pipeline import PipelineFacts, find_merge_request, gather
from bot.clients.gitlab import GitLabAuthError, GitLabError, GitLabNotFound, GitLabUnavailable
from bot.clients.log_fetch import excerpt_from_stream
from bot.clients.gitlab_notes import mr_delivery_key
from storage.deliveries import get_delivery
from bot.core.report_codec import report_from_dict
from bot.core.redact import Redactor
from bot.core.types import (
    AnalysisRequest, AnalysisResult, Excerpt, JobFailure, JobReport, PipelineReport,
)
from bot.core.verdict import decide_verdict
from bot.core.outcomes import Defer, PermanentFailure, RetryLater
from config.settings import CommentOn
from storage import history
from storage.queue import ClaimedJob

log = logging.getLogger(__name__)

# A pipeline still running is looked at again every minute, for at most this long.
RUNNING_RECHECK_SECONDS = 60
RUNNING_WAIT_LIMIT_SECONDS = 6 * 3600
MAX_PARALLEL_LOGS = 4
LOG_UNAVAILABLE = "log unavailable: {reason}"
LOGS_OFF = "GITLAB_AUTO_FETCH_LOGS is off"
NO_API_REASON = "reported by email only: without GITLAB_API_TOKEN the failure is not confirmed with GitLab and its log cannot be read"
DEAD_JOB_REASON = "the bot gave up after {attempts} attempt(s): {error}"
SIGNATURE_HISTORY_DAYS = 14


def _age_seconds(pipeline: dict) -> float:
    raw = pipeline.get("created_at")
    try:
        created = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (datetime.now(timezone.utc) - created).total_seconds()


async def fetch_excerpt(services, project_id: int, job: dict) -> tuple[Excerpt, str]:
    """The redacted failure excerpt of one job; ('', reason) when its log cannot be read."""
    settings = services.settings
    if not settings.gitlab_auto_fetch_logs:
        return Excerpt([]), LOG_UNAVAILABLE.format(reason=LOGS_OFF)
    redactor = Redactor.from_settings(settings)  # stateful across lines: one per log
    try:
        excerpt = await excerpt_from_stream(
            services.gitlab.stream_trace(project_id, int(job["id"])),
            budget_chars=settings.excerpt_budget_chars,
            max_bytes=int(settings.gitlab_max_log_size_mb * 1024 * 1024),
            line_filter=redactor.redact_line,
        )
    except GitLabNotFound:
        return Excerpt([]), LOG_UNAVAILABLE.format(reason="GitLab has no log for this job")
    except (GitLabUnavailable, GitLabAuthError):
        raise
    except GitLabError as exc:
        return Excerpt([]), LOG_UNAVAILABLE.format(reason=str(exc)[:200])
    return excerpt, ""


def base_report(facts: PipelineFacts, services, status: str) -> PipelineReport:
    p = facts.pipeline
    project_url = str(facts.project.get("web_url") or "")
    user = p.get("user") if isinstance(p.get("user"), dict) else {}
    return PipelineReport(
        project_path=facts.project_path, project_web_url=project_url, project_id=facts.project_id,
        pipeline_id=int(p["id"]), pipeline_url=str(p.get("web_url") or f"{project_url}/-/pipelines/{p['id']}"),
        ref=str(p.get("ref") or ""), sha=str(p.get("sha") or ""), status=status,
        mr_iid=facts.mr_iid, mr_url=str((facts.mr or {}).get("web_url") or ""),
        mr_title=str((facts.mr or {}).get("title") or ""), author=str(user.get("username") or ""),
        bot_username=services.identity.username, default_branch=facts.default_branch,
    )


async def _publish(services, report: PipelineReport, phase: str, target: dict | None) -> None:
    """Post where people are; a publisher that fails is logged and retried with the job."""
    slack = services.slack
    settings = services.settings
    if phase == "start":
        if slack is not None:
            await slack.start(report, target)
        return
    notes = services.notes
    if notes is not None and report.mr_iid is not None and settings.gitlab_comment_on != CommentOn.none:
        note = await notes.upsert(report)
        if note:
            report.note_url = note["url"]
    elif notes is not None and report.mr_iid is None and settings.gitlab_comment_on == CommentOn.mr_and_commit:
        await notes.post_commit_comment(report)
    if slack is not None:
        await slack.finish(report, target)


async def analyze_pipeline(services, job: ClaimedJob) -> None:
    """The queue job: analyse the pipeline named in the payload and publish the result."""
    await run_analysis(services, job.payload)


async def run_analysis(services, p: dict) -> PipelineReport | None:
    """Analyse one pipeline; returns what was published, or None when there was nothing to explain."""
    settings = services.settings
    gl = services.gitlab
    if gl is None:
        if p.get("email"):
            return await report_from_email(services, p)
        raise PermanentFailure("GITLAB_API_TOKEN is not set, so the pipeline and its logs cannot be read")
    project_ref = p.get("project_id") or p.get("project_path")
    pipeline_id = p.get("pipeline_id")
    try:
        if pipeline_id is None and p.get("mr_iid"):
            pipeline_id = await latest_mr_pipeline(gl, project_ref, int(p["mr_iid"]))
        if pipeline_id is None:
            raise PermanentFailure("no pipeline to analyse")
        facts = await gather(gl, settings, project_ref, int(pipeline_id), mr_hint=p.get("mr_iid"),
                             job_ids=p.get("job_ids"))
    except GitLabNotFound as exc:
        raise PermanentFailure(f"GitLab does not know this pipeline or project (or the bot cannot see it): {exc}") from exc
    except GitLabAuthError as exc:
        raise PermanentFailure(f"GitLab refused the bot's token: {exc}") from exc
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc

    status = str(facts.pipeline.get("status") or "")
    if not pipelines.is_finished(status) and _age_seconds(facts.pipeline) < RUNNING_WAIT_LIMIT_SECONDS:
        raise Defer(RUNNING_RECHECK_SECONDS, f"pipeline is {status}")
    if status != "failed" and not facts.to_analyse:
        # The event said "failed" but GitLab disagrees (retried and passed, or a forged event): nothing to explain.
        log.info("pipeline %s is %s according to GitLab; not analysed", facts.pipeline.get("id"), status)
        await _store_pipeline(services, facts, p.get("trigger", ""))
        return None

    await _store_pipeline(services, facts, p.get("trigger", ""))
    report = base_report(facts, services, "analysing")
    target = p.get("slack")
    await _publish(services, report, "start", target)
    report.jobs = await analyse_jobs(services, facts, p)
    report.status = "failed"
    report.analysis_id = next((j.analysis_id for j in report.jobs if j.analysis_id), None)
    await _publish(services, report, "finish", target)
    return report


async def report_from_email(services, p: dict) -> PipelineReport:
    """Without API access only the email is known: say which jobs failed, where people look (Slack)."""
    email = p["email"]
    base = services.settings.gitlab_base_url.rstrip("/")
    path = str(email.get("project_path") or p.get("project_id"))
    project_url = f"{base}/{path}"
    report = PipelineReport(
        project_path=path, project_web_url=project_url, project_id=p.get("project_id"),
        pipeline_id=int(p["pipeline_id"]), pipeline_url=f"{project_url}/-/pipelines/{p['pipeline_id']}",
        ref=str(email.get("ref") or ""), sha="", status="failed", mr_iid=email.get("mr_iid"),
        mr_url=f"{project_url}/-/merge_requests/{email['mr_iid']}" if email.get("mr_iid") else "",
        bot_username=services.identity.username,
        jobs=[JobReport(job_id=int(j["id"]), name=str(j.get("name", "")), stage=str(j.get("stage", "")),
                        web_url=f"{project_url}/-/jobs/{j['id']}", not_analysed_reason=NO_API_REASON)
              for j in email.get("failed_jobs") or []],
    )
    slack = services.slack
    if slack is not None:
        await slack.start(report, p.get("slack"))
        await slack.finish(report, p.get("slack"))
    return report


async def latest_mr_pipeline(gl, project_ref, mr_iid: int) -> int | None:
    mr = await gl.get_merge_request(project_ref, mr_iid)
    head = mr.get("head_pipeline") or mr.get("pipeline")
    if not isinstance(head, dict) or not head.get("id"):
        return None
    if head.get("project_id") not in (None, mr.get("project_id"), mr.get("target_project_id")):
        return None  # a fork's pipeline lives in the fork, whose logs this project's MR must not show
    return int(head["id"])


async def _store_pipeline(services, facts: PipelineFacts, trigger: str) -> None:
    p = facts.pipeline
    user = p.get("user") if isinstance(p.get("user"), dict) else {}
    await history.upsert_pipeline(
        services.db, project_id=facts.project_id, project_path=facts.project_path, pipeline_id=int(p["id"]),
        ref=str(p.get("ref") or "")[:512], sha=str(p.get("sha") or "")[:64], status=str(p.get("status") or ""),
        source=str(p.get("source") or trigger)[:64], mr_iid=facts.mr_iid, author=str(user.get("username") or "")[:255],
        web_url=str(p.get("web_url") or "")[:1024], default_branch=facts.default_branch[:255],
    )


async def analyse_jobs(services, facts: PipelineFacts, payload: dict) -> list[JobReport]:
    """Excerpt every failed job, then analyse each distinct failure once."""
    semaphore = asyncio.Semaphore(MAX_PARALLEL_LOGS)
    ref = str(facts.pipeline.get("ref") or "")

    async def one(job: dict) -> tuple[dict, Excerpt, str, str]:
        async with semaphore:
            excerpt, problem = await fetch_excerpt(services, int(job.get("_project_id") or facts.project_id), job)
        sig = failure_signature(excerpt) if excerpt.lines else ""
        await history.record_failed_job(services.db, project_id=facts.project_id, pipeline_id=int(facts.pipeline["id"]),
                                        job=job, ref=ref, excerpt=excerpt, signature=sig)
        return job, excerpt, sig, problem

    gathered = await asyncio.gather(*(one(j) for j in facts.to_analyse))
    groups: dict[str, list[tuple[dict, Excerpt, str, str]]] = {}
    for item in gathered:
        key = item[2] or f"job:{item[0]['id']}"
        groups.setdefault(key, []).append(item)

    reports: list[JobReport] = []
    for members in groups.values():
        reports.extend(await _analyse_group(services, facts, payload, members))
    for job in facts.allowed:
        reports.append(JobReport(job_id=int(job["id"]), name=str(job.get("name", "")), stage=str(job.get("stage", "")),
                                 web_url=str(job.get("web_url") or ""), allow_failure=True,
                                 not_analysed_reason="allowed to fail"))
    return reports


async def _analyse_group(services, facts: PipelineFacts, payload: dict, members: list) -> list[JobReport]:
    settings = services.settings
    job, excerpt, sig, problem = members[0]
    names = [str(m[0].get("name", "")) for m in members]
    pipeline_id = int(facts.pipeline["id"])
    ref = str(facts.pipeline.get("ref") or "")
    hist = await history.signature_history(
        services.db, project_id=facts.project_id, signature=sig, exclude_pipeline=pipeline_id,
        default_branch=facts.default_branch, project_web_url=str(facts.project.get("web_url") or ""),
        days=SIGNATURE_HISTORY_DAYS,
    )
    failure = JobFailure(
        job_id=int(job["id"]), name=names[0], stage=str(job.get("stage", "")),
        failure_reason=str(job.get("failure_reason") or ""), allow_failure=bool(job.get("allow_failure")),
        web_url=str(job.get("web_url") or ""), excerpt=excerpt, signature=sig, same_failure_jobs=names[1:],
    )
    reused_from = None
    result: AnalysisResult | None = None
    status = "ok"
    analysis_id: int | None = None
    forced = bool(payload.get("force"))
    if not forced:
        # This job was already answered (a repeated delivery, or a retry after a crash): show that answer again.
        done = await history.analysis_for_job(services.db, project_id=facts.project_id, pipeline_id=pipeline_id,
                                              job_id=failure.job_id)
        if done is not None and done.result:
            result = AnalysisResult.model_validate(done.result)
            analysis_id, reused_from = done.id, done.reused_from_id
    if result is None and not forced and sig:
        earlier = await history.reusable_analysis(services.db, project_id=facts.project_id, signature=sig,
                                                  days=settings.reuse_analysis_days)
        if earlier is not None and earlier.result:
            result = AnalysisResult.model_validate(earlier.result)
            result.tokens_in = result.tokens_out = result.tokens_cached = 0
            result.cost_usd = 0.0
            # The earlier answer quoted another job's log: keep only quotes that are in this one, at these lines.
            result.evidence, _ = check_evidence(result.evidence, excerpt)
            reused_from = earlier.id
            status = "reused"
    if result is None:
        request = AnalysisRequest(
            project_path=facts.project_path, project_id=facts.project_id, pipeline_id=pipeline_id, ref=ref,
            sha=str(facts.pipeline.get("sha") or ""), job=failure, default_branch=facts.default_branch,
            mr_title=str((facts.mr or {}).get("title") or ""),
            mr_description=str((facts.mr or {}).get("description") or ""), changed_files=facts.changed_files,
            pipeline_jobs=pipelines.pipeline_job_rows(facts.jobs), ci_config=facts.ci_config,
            test_failures=facts.test_failures, history=hist.prior, occurrences=hist.occurrences + 1,
            provider_hint=str(payload.get("provider_hint") or ""),
        )
        preference = await history.get_preference(services.db, "gitlab_project", str(facts.project_id), "provider")
        result = await services.router.analyze(request, preference=preference)
    if analysis_id is not None:
        return _job_reports(members, names, result, sig, hist, reused_from, analysis_id)
    verdict, why = decide_verdict(
        result.verdict, failure_reason=failure.failure_reason,
        flaky=pipelines.was_flaky(facts.jobs, failure.name),
        signature_on_default_branch=hist.on_default_branch, ref=ref, default_branch=facts.default_branch,
    )
    if why and verdict != result.verdict:
        result.verdict = verdict
        result.notes.append(why)
    analysis_id = await history.save_analysis(
        services.db, project_id=facts.project_id, project_path=facts.project_path, pipeline_id=pipeline_id,
        job_id=failure.job_id, signature=sig, trigger=str(payload.get("trigger") or ""), result=result,
        status=status, reused_from_id=reused_from,
    )
    return _job_reports(members, names, result, sig, hist, reused_from, analysis_id)


def _job_reports(members, names, result, sig, hist, reused_from, analysis_id) -> list[JobReport]:
    reports = []
    for i, (member_job, _, _, member_problem) in enumerate(members):
        reports.append(JobReport(
            job_id=int(member_job["id"]), name=names[i], stage=str(member_job.get("stage", "")),
            web_url=str(member_job.get("web_url") or ""), allow_failure=bool(member_job.get("allow_failure")),
            result=result, signature=sig, shared_with=[n for n in names if n != names[i]] if i == 0 else [],
            occurrences=hist.occurrences + 1, seen_before=list(hist.prior), reused_from=reused_from,
            not_analysed_reason=member_problem, analysis_id=analysis_id,
        ))
    return reports


async def pipeline_passed(services, job: ClaimedJob) -> None:
    """A pipeline passed: if the MR's note showed an earlier failure, say it is fixed."""
    gl = services.gitlab
    if gl is None:
        return
    p = job.payload
    try:
        project = await gl.get_project(p["project_id"])
        pipeline = await gl.get_pipeline(int(project["id"]), int(p["pipeline_id"]))
    except GitLabNotFound:
        return
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    if pipeline.get("status") != "success":
        return
    project_id = int(project["id"])
    mr = await find_merge_request(gl, project_id, pipeline, p.get("mr_iid"))
    fixed_id = int(pipeline["id"])
    fixed_url = str(pipeline.get("web_url") or "")
    previous = None
    if mr is not None:
        delivery = await get_delivery(services.db, mr_delivery_key(project_id, int(mr["iid"])))
        if delivery is not None and delivery.report:
            previous = report_from_dict(delivery.report)
    # `<=`: a failed job retried in the same pipeline that now passes also fixes it.
    if previous is not None and previous.fixed_in_pipeline_id is None and previous.pipeline_id <= fixed_id:
        previous.fixed_in_pipeline_id = fixed_id
        previous.fixed_in_url = fixed_url
        if services.notes is not None:
            await services.notes.upsert(previous)
        await history.mark_fixed(services.db, project_id, [previous.pipeline_id], fixed_id)
    slack = services.slack
    if slack is not None:
        ref_report = previous or PipelineReport(
            project_path=str(project.get("path_with_namespace") or ""), project_web_url=str(project.get("web_url") or ""),
            pipeline_id=fixed_id, pipeline_url=fixed_url, ref=str(pipeline.get("ref") or ""),
            sha=str(pipeline.get("sha") or ""), status="success", project_id=project_id,
            mr_iid=int(mr["iid"]) if mr else None, mr_url=str((mr or {}).get("web_url") or ""))
        await slack.fixed(ref_report, fixed_id, fixed_url)


async def notify_dead_job(services, job: ClaimedJob, exc: BaseException) -> None:
    """When an analysis is given up, say so on the MR note (and in Slack) instead of staying silent."""
    if job.kind != "analyze_pipeline" or services.gitlab is None:
        return
    p = job.payload
    try:
        facts = await gather(services.gitlab, services.settings, p.get("project_id"), int(p["pipeline_id"]),
                             mr_hint=p.get("mr_iid"))
    except Exception:
        return  # GitLab itself is the problem; nothing can be posted there
    report = base_report(facts, services, "failed")
    report.error = DEAD_JOB_REASON.format(attempts=job.attempts, error=str(exc)[:300])
    report.jobs = [JobReport(job_id=int(j["id"]), name=str(j.get("name", "")), stage=str(j.get("stage", "")),
                             web_url=str(j.get("web_url") or ""), allow_failure=bool(j.get("allow_failure")))
                   for j in facts.to_analyse + facts.allowed]
    await _publish(services, report, "finish", p.get("slack"))
