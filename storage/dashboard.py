"""The dashboard's queries: failures, signatures, flaky jobs, verdicts, provider use and votes in a window."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.core.dashboard import DashboardRows, DayCount, FailureRow, FlakyRow, ProviderRow, SignatureRow
from storage.db import Database
from storage.models import Analysis, FailedJob, Pipeline, ProviderCallRecord

RECENT_FAILURES = 20
TOP_SIGNATURES = 10
MAX_PROJECTS = 1000  # paths offered in the filters

fj, p, a, calls = FailedJob, Pipeline, Analysis, ProviderCallRecord
_failed_with_pipeline = sa.and_(p.project_id == fj.project_id, p.pipeline_id == fj.pipeline_id)


def day_of(db: Database, column) -> sa.ColumnElement:
    """The UTC calendar day of a timestamp column, as the database computes it."""
    if db.is_postgres:
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.date(column)  # SQLite stores naive UTC


def _iso(day) -> str:
    return day if isinstance(day, str) else day.isoformat()


def path_filter(column, group: str | None, project: str | None) -> list[sa.ColumnElement]:
    """Conditions on a project path column; a group matches the projects under it (LIKE wildcards escaped)."""
    out = []
    if project:
        out.append(column == project)
    if group:
        out.append(column.startswith(group + "/", autoescape=True))
    return out


async def dashboard_rows(db: Database, *, since: datetime, group: str | None, project: str | None) -> DashboardRows:
    """Everything the dashboard shows, read in one session."""
    rows = DashboardRows()
    failed_where = [fj.created_at >= since, *path_filter(p.project_path, group, project)]
    analysis_where = [a.created_at >= since, *path_filter(a.project_path, group, project)]
    async with db.session() as s:
        rows.projects = await _projects(s)
        rows.recent = await _recent(s, failed_where)
        day = day_of(db, fj.created_at)
        per_day = (
            sa.select(day, p.project_path, sa.func.count(sa.distinct(fj.pipeline_id)))
            .join(p, _failed_with_pipeline)
            .where(*failed_where)
            .group_by(day, p.project_path)
        )
        rows.failed_pipelines_per_day = [DayCount(_iso(d), k, n) for d, k, n in (await s.execute(per_day)).all()]
        count = sa.select(sa.func.count()).select_from(fj).join(p, _failed_with_pipeline).where(*failed_where)
        rows.failed_jobs = int((await s.execute(count)).scalar_one())
        await _signatures(s, rows, failed_where, day, analysis_where)
        rows.flaky = await _flaky(s, failed_where, analysis_where)
        verdicts = sa.select(a.verdict, sa.func.count()).where(*analysis_where, a.status != "error").group_by(a.verdict)
        rows.verdicts = {v or "unknown": int(n) for v, n in (await s.execute(verdicts)).all()}
        failed = sa.select(sa.func.count()).select_from(a).where(*analysis_where, a.status == "error")
        rows.analyses_failed = int((await s.execute(failed)).scalar_one())
        await _providers(db, s, rows, since, group, project)
        votes = (
            sa.select(a.provider, sa.func.sum(a.feedback_up), sa.func.sum(a.feedback_down))
            .where(*analysis_where)
            .group_by(a.provider)
        )
        rows.feedback = {prov or "none": (int(u or 0), int(d or 0)) for prov, u, d in (await s.execute(votes)).all()}
    return rows


async def _projects(s) -> list[str]:
    known = sa.union(
        sa.select(p.project_path.label("path")).where(p.project_path != ""),
        sa.select(a.project_path.label("path")).where(a.project_path != ""),
    ).subquery()
    query = sa.select(known.c.path).order_by(known.c.path).limit(MAX_PROJECTS)
    return [str(path) for path in (await s.execute(query)).scalars()]


def _latest_analysis_of_failure() -> sa.ScalarSelect:
    """The newest analysis of a failed CI job: its own, or the one its signature group shared in that pipeline."""
    same_job = a.job_id == fj.job_id
    same_group = sa.and_(fj.signature != "", a.signature == fj.signature)
    return (
        sa.select(sa.func.max(a.id))
        .where(a.project_id == fj.project_id, a.pipeline_id == fj.pipeline_id, sa.or_(same_job, same_group))
        .correlate(fj)
        .scalar_subquery()
    )


async def _recent(s, failed_where) -> list[FailureRow]:
    query = (
        sa.select(
            fj.created_at,
            p.project_path,
            fj.pipeline_id,
            p.web_url,
            fj.ref,
            fj.job_id,
            fj.name,
            fj.stage,
            fj.web_url,
            fj.failure_reason,
            _latest_analysis_of_failure().label("analysis_id"),
        )
        .join(p, _failed_with_pipeline)
        .where(*failed_where)
        .order_by(fj.created_at.desc(), fj.id.desc())
        .limit(RECENT_FAILURES)
    )
    found = (await s.execute(query)).all()
    ids = [r.analysis_id for r in found if r.analysis_id is not None]
    answers = {}
    if ids:
        answers = {
            r.id: r
            for r in (
                await s.execute(
                    sa.select(a.id, a.verdict, a.category, a.summary, a.provider, a.status).where(a.id.in_(ids))
                )
            ).all()
        }
    out = []
    for r in found:
        ans = answers.get(r.analysis_id)
        out.append(
            FailureRow(
                at=r[0],
                project_path=r.project_path,
                pipeline_id=r.pipeline_id,
                pipeline_url=r[3],
                ref=r.ref,
                job_id=r.job_id,
                job_name=r.name,
                stage=r.stage,
                job_url=r[8],
                failure_reason=r.failure_reason,
                analysis_id=r.analysis_id,
                verdict=ans.verdict if ans else None,
                category=ans.category if ans else None,
                summary=ans.summary if ans else None,
                provider=ans.provider if ans else None,
                status=ans.status if ans else None,
            )
        )
    return out


async def _signatures(s, rows: DashboardRows, failed_where, day, analysis_where) -> None:
    top = (
        sa.select(
            fj.signature,
            sa.func.count().label("n"),
            sa.func.count(sa.distinct(fj.project_id)),
            sa.func.max(fj.created_at),
        )
        .join(p, _failed_with_pipeline)
        .where(*failed_where, fj.signature != "")
        .group_by(fj.signature)
        .order_by(sa.desc("n"), fj.signature)
        .limit(TOP_SIGNATURES)
    )
    found = (await s.execute(top)).all()
    signatures = [r[0] for r in found]
    if not signatures:
        return
    in_top = fj.signature.in_(signatures)
    per_day = (
        sa.select(day, fj.signature, sa.func.count())
        .join(p, _failed_with_pipeline)
        .where(*failed_where, in_top)
        .group_by(day, fj.signature)
    )
    rows.signatures_per_day = [DayCount(_iso(d), k, n) for d, k, n in (await s.execute(per_day)).all()]
    newest_job = sa.select(sa.func.max(fj.id)).join(p, _failed_with_pipeline).where(*failed_where, in_top)
    examples = {
        r.signature: r
        for r in (
            await s.execute(
                sa.select(fj.signature, fj.name, p.project_path, fj.web_url)
                .join(p, _failed_with_pipeline)
                .where(fj.id.in_(newest_job.group_by(fj.signature)))
            )
        ).all()
    }
    newest_answer = sa.select(sa.func.max(a.id)).where(
        *analysis_where, a.signature.in_(signatures), a.status != "error"
    )
    answers = {
        r.signature: r
        for r in (
            await s.execute(
                sa.select(a.signature, a.summary, a.category).where(a.id.in_(newest_answer.group_by(a.signature)))
            )
        ).all()
    }
    for sig, n, projects, last in found:
        ex, ans = examples.get(sig), answers.get(sig)
        rows.signatures.append(
            SignatureRow(
                signature=sig,
                failures=int(n),
                projects=int(projects),
                last_seen=last,
                job_name=ex.name if ex else "",
                project_path=ex.project_path if ex else "",
                job_url=ex.web_url if ex else "",
                summary=ans.summary if ans else "",
                category=ans.category if ans else "",
            )
        )


async def _flaky(s, failed_where, analysis_where) -> list[FlakyRow]:
    """CI jobs that failed and passed on retry: the pipeline was retried and passed, or the verdict was flaky."""
    found: dict[tuple[int, int], FlakyRow] = {}
    retried = (
        sa.select(fj.project_id, fj.job_id, p.project_path, fj.name, fj.created_at, fj.web_url, p.web_url)
        .join(p, _failed_with_pipeline)
        .where(*failed_where, p.fixed_by_pipeline_id == p.pipeline_id)
    )
    judged = (
        sa.select(a.project_id, a.job_id, a.project_path, fj.name, a.created_at, fj.web_url, p.web_url)
        .outerjoin(fj, sa.and_(fj.project_id == a.project_id, fj.job_id == a.job_id))
        .outerjoin(p, sa.and_(p.project_id == a.project_id, p.pipeline_id == a.pipeline_id))
        .where(*analysis_where, a.verdict == "flaky")
    )
    for query in (retried, judged):
        for project_id, job_id, path, name, at, job_url, pipeline_url in (await s.execute(query)).all():
            found.setdefault(
                (project_id, job_id or 0),
                FlakyRow(path or "", name or "", at, job_url or "", pipeline_url or ""),
            )
    return list(found.values())


async def _providers(db: Database, s, rows: DashboardRows, since, group, project) -> None:
    where = [calls.created_at >= since, *path_filter(calls.project_path, group, project)]
    errors = sa.func.sum(sa.case((calls.outcome != "ok", 1), else_=0))
    totals = (
        sa.select(
            calls.provider,
            sa.func.count(),
            errors,
            sa.func.sum(calls.tokens_in),
            sa.func.sum(calls.tokens_out),
            sa.func.sum(calls.cost_usd),
        )
        .where(*where)
        .group_by(calls.provider)
    )
    rows.providers = [
        ProviderRow(prov, int(n), int(e or 0), int(ti or 0), int(to or 0), float(c or 0))
        for prov, n, e, ti, to, c in (await s.execute(totals)).all()
    ]
    day = day_of(db, calls.created_at)
    per_day = (
        sa.select(day, calls.provider, sa.func.sum(calls.tokens_in + calls.tokens_out), sa.func.sum(calls.cost_usd))
        .where(*where)
        .group_by(day, calls.provider)
    )
    for d, prov, tokens, cost in (await s.execute(per_day)).all():
        rows.provider_tokens_per_day.append(DayCount(_iso(d), prov, float(tokens or 0)))
        rows.provider_cost_per_day.append(DayCount(_iso(d), prov, float(cost or 0)))
