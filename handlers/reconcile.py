"""The reconciliation sweep (APScheduler): failed pipelines that never reached a door are found in GitLab and enqueued."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clients import gitlab_sweep
from bot.clients.gitlab_errors import GitLabAuthError, GitLabError, GitLabNotFound
from bot.clients.gitlab_sweep import PER_PAGE, PageReader, gitlab_time
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload
from bot.runtime.services import Services
from config.logging import log_context
from handlers import hook_watch
from handlers.gitlab_routing import pipeline_key
from storage.inbox import record_event
from storage.locks import named_lock
from storage.sweep import SweepRecord, known_failures, load_sweep, save_sweep
from storage.types import utcnow

log = logging.getLogger(__name__)

NAME = "reconcile"  # the sweep's row in sweep_state and its replica lock
SOURCE = "reconcile"
EVENT_TYPE = "Pipeline Reconciled"
JOB_ID = "reconcile-sweep"
# GitLab's clock and ours may disagree: each window starts this much before the last one ended, and a failure is
# known when the bot looked at it no earlier than this before GitLab's last update of it.
OVERLAP = timedelta(minutes=2)
MAX_LOOKBACK = timedelta(hours=24)  # after a long outage, older failures are left alone rather than analysed late
CHILD_SOURCE = "parent_pipeline"  # a child pipeline is analysed with its parent, which the sweep lists itself

LOG_OFF_NO_SCOPE = (
    "reconciliation sweep off: GITLAB_GROUPS and GITLAB_PROJECTS are empty, so failures that never reach "
    "the webhook (bot down, hook disabled) are not looked for; set them to the groups/projects the bot serves"
)
LOG_OFF_NO_TOKEN = "reconciliation sweep off: it needs GITLAB_API_TOKEN"
LOG_OFF_INTERVAL = "reconciliation sweep off: RECONCILE_INTERVAL=0"
LOG_ON = "reconciliation sweep every %ds over %d group(s) and %d project(s), at most %d GitLab calls a sweep"
LOG_LOCKED = "reconciliation sweep skipped: another replica is sweeping"
LOG_RECENT = "reconciliation sweep skipped: another replica swept %.0fs ago"
LOG_SWEPT = (
    "reconciliation sweep: %d call(s), %d project(s) looked at, %d failed pipeline(s) seen, %d enqueued, "
    "%d already known; pass %s"
)
LOG_SKIPPED = "reconciliation sweep skips %s %s: %s"
LOG_FAILED = "reconciliation sweep failed: %s; it carries on at the next sweep"
LOG_ENQUEUED = "pipeline %s of project %s failed with no record; enqueued"


class OutOfCalls(Exception):
    """This sweep has made the GitLab calls it may; the pass goes on at the next sweep."""


@dataclass
class SweepResult:
    swept: bool = True  # False when another replica held the lock or swept a moment ago
    calls: int = 0
    projects: int = 0
    failed_seen: int = 0
    enqueued: int = 0
    known: int = 0
    pass_complete: bool = False
    error: str = ""
    job_ids: list[int] | None = None


class Budget:
    def __init__(self, limit: int, result: SweepResult):
        self.limit, self.result = limit, result

    def spend(self) -> None:
        if self.result.calls >= self.limit:
            raise OutOfCalls
        self.result.calls += 1


def disabled_reason(services: Services) -> str:
    """Why the sweep does not run ('' when it does)."""
    settings = services.settings
    if settings.reconcile_interval <= 0:
        return LOG_OFF_INTERVAL
    if not settings.gitlab_groups and not settings.gitlab_projects:
        return LOG_OFF_NO_SCOPE
    if services.gitlab is None:
        return LOG_OFF_NO_TOKEN
    return ""


def _ref(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _watching(services: Services) -> list[str]:
    return [f"group:{g}" for g in services.settings.gitlab_groups] + [
        f"project:{p}" for p in services.settings.gitlab_projects
    ]


def _new_pass(services: Services, record: SweepRecord, now: datetime) -> None:
    # The next window starts where the last pass started; the very first one looks back one interval.
    record.since = record.since or now - timedelta(seconds=services.settings.reconcile_interval)
    record.pass_started_at = now
    record.cursor = {
        "watching": _watching(services),
        "hooks": 0,  # the next watched group or project whose webhooks are looked at, once a pass
        "projects": [_ref(p) for p in services.settings.gitlab_projects],
        "group": 0,
        "group_page": 1,
        "index": 0,
        "page": 1,
    }


async def _list_groups(services: Services, gl: PageReader, cursor: dict, budget: Budget) -> None:
    """Add the groups' projects to the pass's list, a page at a time (the list is then fixed for the pass)."""
    groups = services.settings.gitlab_groups
    seen = set(cursor["projects"])
    while cursor["group"] < len(groups):
        group = groups[cursor["group"]]
        budget.spend()
        try:
            page = await gitlab_sweep.group_projects(gl, _ref(group), cursor["group_page"])
        except (GitLabAuthError, GitLabNotFound) as exc:
            log.warning(LOG_SKIPPED, "group", group, exc)
            page = []
        for project in page:
            if isinstance(project.get("id"), int) and project["id"] not in seen:
                seen.add(project["id"])
                cursor["projects"].append(project["id"])
        if len(page) < PER_PAGE:
            cursor["group"], cursor["group_page"] = cursor["group"] + 1, 1
        else:
            cursor["group_page"] += 1


async def _scan(services: Services, gl: PageReader, record: SweepRecord, budget: Budget, result: SweepResult) -> None:
    cursor = record.cursor
    window = max(record.since - OVERLAP, record.pass_started_at - MAX_LOOKBACK)
    while cursor["index"] < len(cursor["projects"]):
        project = cursor["projects"][cursor["index"]]
        budget.spend()
        try:
            page = await gitlab_sweep.failed_pipelines(gl, project, window, cursor["page"])
        except (GitLabAuthError, GitLabNotFound) as exc:
            log.warning(LOG_SKIPPED, "project", project, exc)
            page = []
        if cursor["page"] == 1:
            result.projects += 1
        await _enqueue_unknown(services, page, result)
        if len(page) < PER_PAGE:
            cursor["index"], cursor["page"] = cursor["index"] + 1, 1
        else:
            cursor["page"] += 1


async def _enqueue_unknown(services: Services, page: list[dict], result: SweepResult) -> None:
    """Enqueue the failed pipelines of one page that the bot has no record of, as the webhook would have."""
    failed = [
        p
        for p in page
        if isinstance(p.get("id"), int) and isinstance(p.get("project_id"), int) and p.get("source") != CHILD_SOURCE
    ]
    result.failed_seen += len(failed)
    by_project: dict[int, list[dict]] = {}
    for pipeline in failed:
        by_project.setdefault(pipeline["project_id"], []).append(pipeline)
    for project_id, pipelines in by_project.items():
        keys = {p["id"]: pipeline_key(project_id, p["id"], "failed") for p in pipelines}
        updated = {p["id"]: gitlab_time(p.get("updated_at")) for p in pipelines}
        known = await known_failures(services.db, project_id, updated, keys, OVERLAP)
        result.known += len(known)
        for pipeline in pipelines:
            if pipeline["id"] in known:
                continue
            await _enqueue(services, project_id, pipeline, keys[pipeline["id"]], result)


async def _enqueue(services: Services, project_id: int, pipeline: dict, key: str, result: SweepResult) -> None:
    pipeline_id = pipeline["id"]
    analyze = AnalyzePipelinePayload(project_id=project_id, pipeline_id=pipeline_id, trigger=SOURCE)
    with log_context(project=project_id, pipeline=pipeline_id):
        intake = await record_event(
            services.db,
            source=SOURCE,
            delivery_key=f"reconcile:{project_id}:{pipeline_id}:{str(pipeline.get('updated_at') or '')[:40]}",
            event_type=EVENT_TYPE,
            payload={
                "project_id": project_id,
                "pipeline_id": pipeline_id,
                "updated_at": pipeline.get("updated_at"),
                # A branch name is free text and may be a pasted token: stored as a webhook's is, redacted.
                "ref": services.redactor.fresh().redact_text(str(pipeline.get("ref") or "")[:255]),
            },
            jobs=[analyze.job_spec(key, hasten_existing=True)],
            project_id=project_id,
            object_id=pipeline_id,
            status="failed",
            max_attempts=services.settings.queue_max_attempts,
        )
        if intake.job_ids:
            result.enqueued += 1
            result.job_ids = (result.job_ids or []) + intake.job_ids
            log.info(LOG_ENQUEUED, pipeline_id, project_id)
        else:
            result.known += 1
        services.metrics.deliveries.labels(SOURCE, intake.outcome).inc()


async def sweep_once(services: Services, *, now: datetime | None = None) -> SweepResult:
    """One sweep under the replica lock: a pass looks at the webhooks, lists the groups' projects and their failed
    pipelines, as far as the call budget goes; the next sweep carries on where this one stopped."""
    settings, db = services.settings, services.db
    gl: PageReader = services.gitlab  # type: ignore[assignment]
    async with named_lock(db, f"sweep:{NAME}", wait=False) as acquired:
        if not acquired:
            log.info(LOG_LOCKED)
            return SweepResult(swept=False)
        now = now or utcnow()
        record = await load_sweep(db, NAME)
        if record.last_sweep_at is not None:
            ago = (now - record.last_sweep_at).total_seconds()
            # Every replica's scheduler fires once an interval; the first one sweeps for all of them.
            if 0 <= ago < settings.reconcile_interval / 2:
                log.debug(LOG_RECENT, ago)
                return SweepResult(swept=False)
        result = SweepResult()
        budget = Budget(settings.reconcile_max_api_calls, result)
        if record.pass_started_at is None or record.cursor.get("watching") != _watching(services):
            _new_pass(services, record, now)  # a pass whose groups or projects were changed starts again
        try:
            await hook_watch.check(services, gl, budget.spend, record.cursor)
            await _list_groups(services, gl, record.cursor, budget)
            await _scan(services, gl, record, budget, result)
        except OutOfCalls:
            pass
        except Exception as exc:  # GitLab unavailable, the database away: the cursor keeps what was done
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(LOG_FAILED, result.error, exc_info=not isinstance(exc, GitLabError))
        else:
            result.pass_complete = True
            record.since, record.pass_started_at, record.cursor = record.pass_started_at, None, {}
            record.last_pass_completed_at = now
        record.last_sweep_at = now
        record.last_result = {k: v for k, v in asdict(result).items() if k not in ("job_ids", "swept")}
        await save_sweep(db, NAME, record)
    if result.job_ids:
        services.wake_workers()
    log.info(
        LOG_SWEPT,
        result.calls,
        result.projects,
        result.failed_seen,
        result.enqueued,
        result.known,
        "complete" if result.pass_complete else "continues at the next sweep",
    )
    return result


async def health(services: Services) -> dict:
    """The sweep's part of /health/detailed: whether it runs, how far its pass is, and the webhooks."""
    reason = disabled_reason(services)
    report: dict = {"enabled": not reason, "interval_seconds": services.settings.reconcile_interval}
    if reason:
        report["help"] = reason
        return report
    record = await load_sweep(services.db, NAME)
    cursor = record.cursor or {}
    report.update(
        last_sweep_at=record.last_sweep_at.isoformat() if record.last_sweep_at else None,
        last_pass_completed_at=record.last_pass_completed_at.isoformat() if record.last_pass_completed_at else None,
        pass_in_progress={"projects": len(cursor.get("projects", [])), "next": cursor.get("index", 0)}
        if record.pass_started_at
        else None,
        last_result=record.last_result or None,
        hooks=await hook_watch.health(services),
    )
    report["hooks_broken"] = [h["scope"] for h in report["hooks"] if h["status"] in hook_watch.BROKEN]
    return report


class Reconciler:
    """What the scheduler runs: one sweep per tick, never two at once in this process."""

    def __init__(self, services: Services):
        self.services = services
        self.scheduler: AsyncIOScheduler | None = None
        self.stopped = False
        self._running: asyncio.Task | None = None

    async def tick(self) -> SweepResult | None:
        if self.stopped:
            return None
        self._running = asyncio.current_task()
        try:
            return await sweep_once(self.services)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lock or the state could not be reached: the next tick tries again
            log.exception("reconciliation sweep could not run")
            return None
        finally:
            self._running = None

    async def stop(self) -> None:
        """No new sweep; a running one is given a moment, then cancelled (its pass resumes from the database)."""
        self.stopped = True
        task = self._running
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), self.services.settings.gitlab_timeout_seconds + 5)
            except TimeoutError:
                task.cancel()
            except Exception:
                pass
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)


def start_reconciler(services: Services, *, first_run: Callable[[], datetime] | None = None) -> Reconciler:
    """Sweep every RECONCILE_INTERVAL seconds (the first a little after start-up), or say once why not."""
    reconciler = Reconciler(services)
    reason = disabled_reason(services)
    if reason:
        log.info(reason)
        return reconciler
    settings = services.settings
    interval = settings.reconcile_interval
    log.info(
        LOG_ON, interval, len(settings.gitlab_groups), len(settings.gitlab_projects), settings.reconcile_max_api_calls
    )
    scheduler = AsyncIOScheduler(timezone=UTC)
    # coalesce + one instance: a slow sweep is never doubled; the first waits a minute so start-up stays quiet.
    start = first_run() if first_run else datetime.now(UTC) + timedelta(seconds=min(60, interval))
    scheduler.add_job(
        reconciler.tick,
        "interval",
        seconds=interval,
        id=JOB_ID,
        name="reconciliation sweep",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
        next_run_time=start,
    )
    scheduler.start()
    reconciler.scheduler = scheduler
    return reconciler
