"""What the bot remembers about pipelines: failed jobs, signatures seen before, analyses, preferences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from bot.core.types import AnalysisResult, Excerpt, ExcerptLine, PriorOccurrence
from storage.db import Database
from storage.models import Analysis, FailedJob, Pipeline, Preference
from storage.sql import insert_for
from storage.types import utcnow


async def upsert_pipeline(db: Database, **values) -> None:
    """Insert or refresh a pipeline row, keyed by (project_id, pipeline_id)."""
    now = utcnow()
    values = {**values, "updated_at": now}
    stmt = insert_for(db)(Pipeline.__table__).values(created_at=now, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "pipeline_id"],
        set_={k: v for k, v in values.items() if k not in ("project_id", "pipeline_id")},
    )
    async with db.session() as s:
        await s.execute(stmt)


async def pipeline_default_branch(db: Database, project_id: int, pipeline_id: int) -> str | None:
    """The default branch stored with the pipeline, if the pipeline is known."""
    async with db.session() as s:
        return (
            await s.execute(
                sa.select(Pipeline.default_branch).where(
                    Pipeline.project_id == project_id, Pipeline.pipeline_id == pipeline_id
                )
            )
        ).scalar_one_or_none()


async def mark_fixed(db: Database, project_id: int, pipeline_ids: list[int], fixed_by: int) -> None:
    async with db.session() as s:
        await s.execute(
            sa.update(Pipeline)
            .where(Pipeline.project_id == project_id, Pipeline.pipeline_id.in_(pipeline_ids))
            .values(fixed_by_pipeline_id=fixed_by, updated_at=utcnow())
        )


def excerpt_rows(excerpt: Excerpt) -> list[list]:
    return [[line.n, line.text, line.section, line.cut] for line in excerpt.lines]


def excerpt_from_rows(rows: list | None, failed_section: str | None = None) -> Excerpt:
    lines = [
        ExcerptLine(int(r[0]), str(r[1]), r[2] if len(r) > 2 else None, int(r[3]) if len(r) > 3 else 0)
        for r in rows or []
    ]
    return Excerpt(lines=lines, total_lines=lines[-1].n if lines else 0, failed_section=failed_section)


async def record_failed_job(
    db: Database, *, project_id: int, pipeline_id: int, ci_job: dict, ref: str, excerpt: Excerpt, signature: str
) -> None:
    """Store (or refresh, on a re-analysis) one failed CI job with its redacted excerpt and signature."""
    values = dict(
        project_id=project_id,
        pipeline_id=pipeline_id,
        job_id=int(ci_job["id"]),
        name=str(ci_job.get("name", ""))[:255],
        stage=str(ci_job.get("stage", ""))[:255],
        ref=ref[:512],
        failure_reason=str(ci_job.get("failure_reason") or "")[:64],
        allow_failure=bool(ci_job.get("allow_failure")),
        signature=signature,
        failed_section=(excerpt.failed_section or None) and excerpt.failed_section[:255],
        excerpt=excerpt_rows(excerpt),
        web_url=str(ci_job.get("web_url") or "")[:1024],
    )
    stmt = insert_for(db)(FailedJob.__table__).values(created_at=utcnow(), **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "job_id"],
        set_={k: v for k, v in values.items() if k not in ("project_id", "job_id")},
    )
    async with db.session() as s:
        await s.execute(stmt)


async def failed_job(db: Database, project_id: int, job_id: int) -> FailedJob | None:
    async with db.session() as s:
        return (
            await s.execute(sa.select(FailedJob).where(FailedJob.project_id == project_id, FailedJob.job_id == job_id))
        ).scalar_one_or_none()


async def failed_jobs_of(db: Database, project_id: int, pipeline_id: int) -> list[FailedJob]:
    async with db.session() as s:
        return list(
            (
                await s.execute(
                    sa.select(FailedJob)
                    .where(FailedJob.project_id == project_id, FailedJob.pipeline_id == pipeline_id)
                    .order_by(FailedJob.id)
                )
            ).scalars()
        )


@dataclass
class SignatureHistory:
    occurrences: int = 0  # other pipelines with this failure in the window
    prior: list[PriorOccurrence] = field(default_factory=list)  # oldest first, a few
    on_default_branch: bool = False


async def signature_history(
    db: Database,
    *,
    project_id: int,
    signature: str,
    exclude_pipeline: int,
    default_branch: str,
    project_web_url: str,
    days: int = 14,
    limit: int = 5,
) -> SignatureHistory:
    """Earlier pipelines of this project that failed with the same signature."""
    if not signature:
        return SignatureHistory()
    since = utcnow() - timedelta(days=days)
    where = (
        FailedJob.project_id == project_id,
        FailedJob.signature == signature,
        FailedJob.pipeline_id != exclude_pipeline,
        FailedJob.created_at >= since,
    )
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(FailedJob.pipeline_id, FailedJob.ref, sa.func.min(FailedJob.created_at).label("at"))
                .where(*where)
                .group_by(FailedJob.pipeline_id, FailedJob.ref)
                .order_by(sa.text("at"))
            )
        ).all()
        summaries = dict(
            (
                await s.execute(
                    sa.select(Analysis.pipeline_id, Analysis.summary).where(
                        Analysis.project_id == project_id,
                        Analysis.signature == signature,
                        Analysis.pipeline_id.in_([r.pipeline_id for r in rows] or [-1]),
                    )
                )
            ).all()
        )
        fixed = dict(
            (
                await s.execute(
                    sa.select(Pipeline.pipeline_id, Pipeline.fixed_by_pipeline_id).where(
                        Pipeline.project_id == project_id,
                        Pipeline.pipeline_id.in_([r.pipeline_id for r in rows] or [-1]),
                    )
                )
            ).all()
        )
    base = project_web_url.rstrip("/")
    prior = [
        PriorOccurrence(
            pipeline_id=r.pipeline_id,
            ref=r.ref,
            when=r.at.isoformat(timespec="minutes"),
            summary=summaries.get(r.pipeline_id, ""),
            fixed_by=f"pipeline #{fixed[r.pipeline_id]}" if fixed.get(r.pipeline_id) else "",
            web_url=f"{base}/-/pipelines/{r.pipeline_id}" if base else "",
        )
        for r in rows
    ]
    on_default = any(r.ref == default_branch for r in rows) if default_branch else False
    # Keep the first occurrence, one on the default branch, and the most recent ones.
    keep = prior[:1] + [p for p in prior if p.ref == default_branch][:1] + prior[-(limit - 2) :]
    seen: set[int] = set()
    chosen = [p for p in keep if not (p.pipeline_id in seen or seen.add(p.pipeline_id))]
    return SignatureHistory(
        occurrences=len(rows), prior=sorted(chosen, key=lambda p: p.when), on_default_branch=on_default
    )


async def reusable_analysis(
    db: Database,
    *,
    project_id: int,
    strict_key: str,
    days: int,
    group_path: str = "",
    visibility: str = "",
    not_by: str = "",
) -> Analysis | None:
    """A recent good answer for the very same failure (the strict key), to reuse instead of paying for a new one:
    from this project, or from a project of the same group with the same visibility; never one by `not_by`."""
    if not strict_key or days <= 0:
        return None
    since = utcnow() - timedelta(days=days)
    where = Analysis.project_id == project_id
    if group_path and visibility:
        where = sa.or_(where, sa.and_(Analysis.group_path == group_path, Analysis.visibility == visibility))
    if not_by:
        where = sa.and_(where, Analysis.provider != not_by)
    async with db.session() as s:
        return (
            await s.execute(
                sa.select(Analysis)
                .where(where, Analysis.strict_key == strict_key, Analysis.status == "ok", Analysis.created_at >= since)
                .order_by(Analysis.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()


async def pipeline_web_url(db: Database, *, project_id: int, pipeline_id: int) -> str:
    """The stored web address of a pipeline; '' when unknown."""
    async with db.session() as s:
        url = (
            await s.execute(
                sa.select(Pipeline.web_url).where(
                    Pipeline.project_id == project_id, Pipeline.pipeline_id == pipeline_id
                )
            )
        ).scalar_one_or_none()
    return str(url or "")


async def analysis_for_job(db: Database, *, project_id: int, pipeline_id: int, job_id: int) -> Analysis | None:
    """The newest answer already given for this very job (a retried or repeated analysis shows it again)."""
    async with db.session() as s:
        return (
            await s.execute(
                sa.select(Analysis)
                .where(
                    Analysis.project_id == project_id,
                    Analysis.pipeline_id == pipeline_id,
                    Analysis.job_id == job_id,
                    Analysis.status != "error",
                )
                .order_by(Analysis.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()


async def save_analysis(
    db: Database,
    *,
    project_id: int,
    project_path: str,
    pipeline_id: int,
    job_id: int | None,
    signature: str,
    trigger: str,
    result: AnalysisResult,
    status: str = "ok",
    reused_from_id: int | None = None,
    strict_key: str = "",
    group_path: str = "",
    visibility: str = "",
) -> int:
    row = Analysis(
        project_id=project_id,
        project_path=project_path,
        pipeline_id=pipeline_id,
        job_id=job_id,
        signature=signature,
        strict_key=strict_key,
        group_path=group_path[:512],
        visibility=visibility[:16],
        trigger=trigger,
        status=status,
        provider=result.provider,
        model=result.model,
        category=result.category.value,
        verdict=result.verdict.value,
        summary=result.summary[:2000],
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        tokens_cached=result.tokens_cached,
        cost_usd=result.cost_usd,
        latency_ms=result.latency_ms,
        result=result.model_dump(mode="json"),
        reused_from_id=reused_from_id,
    )
    async with db.session() as s:
        s.add(row)
        await s.flush()
        return int(row.id)


async def latest_analyses(db: Database, project_id: int, pipeline_id: int) -> list[Analysis]:
    """The newest analysis per job of a pipeline."""
    async with db.session() as s:
        rows = (
            (
                await s.execute(
                    sa.select(Analysis)
                    .where(Analysis.project_id == project_id, Analysis.pipeline_id == pipeline_id)
                    .order_by(Analysis.id)
                )
            )
            .scalars()
            .all()
        )
    newest: dict[int | None, Analysis] = {}
    for row in rows:
        newest[row.job_id] = row
    return list(newest.values())


async def get_preference(db: Database, scope: str, scope_id: str, name: str) -> str:
    async with db.session() as s:
        value = (
            await s.execute(
                sa.select(Preference.value).where(
                    Preference.scope == scope, Preference.scope_id == scope_id, Preference.name == name
                )
            )
        ).scalar_one_or_none()
    return value or ""


async def set_preference(db: Database, scope: str, scope_id: str, name: str, value: str) -> None:
    stmt = insert_for(db)(Preference.__table__).values(
        scope=scope, scope_id=scope_id, name=name, value=value, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "scope_id", "name"], set_={"value": value, "updated_at": utcnow()}
    )
    async with db.session() as s:
        await s.execute(stmt)
