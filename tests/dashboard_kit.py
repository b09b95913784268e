"""Two weeks of realistic history for the dashboard's tests and screenshots, written through storage's own functions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.core.types import AnalysisResult, Excerpt, ExcerptLine, ProviderCall
from storage import history
from storage.analyses import add_feedback
from storage.ledger import DatabaseLedger
from storage.models import Analysis, FailedJob

GITLAB = "https://gitlab.example.com"
HOSTILE_JOB = "<script>alert('job')</script>"  # GitLab lets a job be called anything; the page must show it as text

PROJECTS = [
    (101, "acme/platform/api"),
    (102, "acme/platform/web"),
    (103, "acme/data/etl"),
    (104, "acme/infra/terraform"),
    (201, "oss/tools/cli"),
]
# (signature, job name, stage, category, verdict, summary, weight)
FAILURES = [
    (
        "a1f3c0de9b7e4411",
        "unit-tests",
        "test",
        "test",
        "caused_by_change",
        "test_login fails: expected 200, got 500 after the session change",
        9,
    ),
    ("b2e4d1ef0c8f5522", "lint", "lint", "lint", "caused_by_change", "ruff: 3 unused imports in api/views.py", 6),
    ("c3f5e2f01d906633", "e2e", "test", "test", "flaky", "Cypress timed out waiting for #checkout", 5),
    (
        "d4a6f3012ea17744",
        "build",
        "build",
        "dependency",
        "broken_on_default_branch",
        "npm ERR! ERESOLVE: react@18 conflicts with @testing-library/react@12",
        4,
    ),
    (
        "e5b7a4123fb28855",
        "deploy-staging",
        "deploy",
        "infrastructure",
        "infrastructure",
        "runner lost the connection to the Docker daemon",
        3,
    ),
    ("f6c8b5234ac39966", "integration", "test", "timeout", "unknown", "job exceeded the 1h timeout", 2),
    ("a7d9c6345bd4aa77", HOSTILE_JOB, "test", "test", "caused_by_change", "<b>bold</b> & <i>tags</i> stay text", 1),
]
PROVIDERS = [
    ("openai", "gpt-4o-mini", 0.00015, 0.0006),
    ("anthropic", "claude-sonnet-4-6", 0.003, 0.015),
    ("heuristic", "rules", 0.0, 0.0),
]


@dataclass
class Seeded:
    """What was written, for the tests to compare with what the dashboard shows."""

    failed_jobs: int = 0
    pipelines: set[tuple[int, int]] = field(default_factory=set)
    per_project: dict[str, int] = field(default_factory=dict)  # failed pipelines
    flaky_jobs: set[tuple[str, str]] = field(default_factory=set)
    votes: tuple[int, int] = (0, 0)
    analyses: int = 0
    calls: int = 0


def _result(provider: tuple, category: str, verdict: str, summary: str, rng: random.Random) -> AnalysisResult:
    name, model, price_in, price_out = provider
    tokens_in, tokens_out = (rng.randint(1500, 6000), rng.randint(200, 700)) if price_in else (0, 0)
    return AnalysisResult(
        summary=summary,
        category=category,
        root_cause=summary,
        verdict=verdict,
        confidence=0.7,
        fix_steps=["look at the log"],
        provider=name,
        model=model,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=round(tokens_in / 1000 * price_in + tokens_out / 1000 * price_out, 6),
        latency_ms=rng.randint(400, 9000),
    )


async def _backdate(db, model, ids: list[int], when: datetime) -> None:
    async with db.session() as s:
        await s.execute(sa.update(model).where(model.id.in_(ids)).values(created_at=when))


async def seed(db, *, now: datetime | None = None, days: int = 14, seed_value: int = 15) -> Seeded:
    """About 80 failed pipelines over `days` days in five projects of two groups, analysed, voted on and paid for."""
    rng = random.Random(seed_value)
    now = now or datetime.now(UTC)
    out = Seeded()
    ledger = DatabaseLedger(db)
    pipeline_id = 5000
    job_id = 90000
    weights = [f[-1] for f in FAILURES]
    for day in range(days - 1, -1, -1):
        for _ in range(rng.randint(3, 9)):
            project_id, path = rng.choice(PROJECTS)
            pipeline_id += 1
            job_id += 1
            sig, name, stage, category, verdict, summary, _ = rng.choices(FAILURES, weights)[0]
            day_start = (now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
            latest = min(86_000, int((now - day_start).total_seconds()) - 120)  # inside the day, before now
            when = day_start + timedelta(seconds=rng.randint(0, max(0, latest)))
            ref = rng.choice(
                ["main", "feature/login", "fix/checkout", f"refs/merge-requests/{rng.randint(1, 99)}/head"]
            )
            await history.upsert_pipeline(
                db,
                project_id=project_id,
                project_path=path,
                pipeline_id=pipeline_id,
                ref=ref,
                sha="ab" * 20,
                status="failed",
                source="push",
                web_url=f"{GITLAB}/{path}/-/pipelines/{pipeline_id}",
                default_branch="main",
            )
            excerpt = Excerpt([ExcerptLine(10, "ERROR: Job failed: exit code 1")], total_lines=10)
            ci_job = {
                "id": job_id,
                "name": name,
                "stage": stage,
                "web_url": f"{GITLAB}/{path}/-/jobs/{job_id}",
                "failure_reason": "script_failure",
            }
            await history.record_failed_job(
                db,
                project_id=project_id,
                pipeline_id=pipeline_id,
                ci_job=ci_job,
                ref=ref,
                excerpt=excerpt,
                signature=sig,
            )
            async with db.session() as s:
                fj_id = (await s.execute(sa.select(FailedJob.id).where(FailedJob.job_id == job_id))).scalar_one()
            await _backdate(db, FailedJob, [fj_id], when)
            out.failed_jobs += 1
            out.pipelines.add((project_id, pipeline_id))
            out.per_project[path] = out.per_project.get(path, 0) + 1
            if verdict == "flaky":
                out.flaky_jobs.add((path, name))
            if rng.random() < 0.1:  # retried in the same pipeline, which then passed
                await history.mark_fixed(db, project_id, [pipeline_id], pipeline_id)
                out.flaky_jobs.add((path, name))
            provider = rng.choice(PROVIDERS)
            result = _result(provider, category, verdict, summary, rng)
            status = "error" if rng.random() < 0.05 else "ok"
            analysis_id = await history.save_analysis(
                db,
                project_id=project_id,
                project_path=path,
                pipeline_id=pipeline_id,
                job_id=job_id,
                signature=sig,
                trigger="webhook",
                result=result,
                status=status,
            )
            await _backdate(db, Analysis, [analysis_id], when + timedelta(minutes=1))
            out.analyses += 1
            await ledger.record(
                ProviderCall(
                    provider=result.provider,
                    model=result.model,
                    operation="analyze",
                    project_path=path,
                    pipeline_id=pipeline_id,
                    tokens_in=result.tokens_in,
                    tokens_out=result.tokens_out,
                    cost_usd=result.cost_usd,
                    latency_ms=result.latency_ms,
                    outcome="ok" if status == "ok" else "error",
                    at=when + timedelta(minutes=1),
                )
            )
            out.calls += 1
            up, down = out.votes
            if rng.random() < 0.4:
                direction = "up" if rng.random() < 0.75 else "down"
                await add_feedback(db, analysis_id, f"U{analysis_id}", direction)
                out.votes = (up + (direction == "up"), down + (direction == "down"))
    return out
