"""Reading stored analyses for people: one by id, a filtered page, the rows behind the summaries; feedback votes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storage.db import Database
from storage.models import Analysis, FailedJob, FeedbackVote
from storage.sql import insert_for
from storage.types import utcnow

# Callers read an Analysis row's fields (the API turns them into JSON); the queries stay here.
__all__ = [
    "Analysis",
    "AnalysisPage",
    "HistoryEntry",
    "add_feedback",
    "get_analysis",
    "list_analyses",
    "recent_history",
    "summary_rows",
    "totals_by_provider",
]


@dataclass(frozen=True)
class AnalysisPage:
    total: int
    items: list[Analysis]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of /cicd history."""

    project_path: str
    pipeline_id: int
    ci_job_name: str | None
    verdict: str | None
    summary: str | None


async def get_analysis(db: Database, analysis_id: int) -> Analysis | None:
    async with db.session() as s:
        return await s.get(Analysis, analysis_id)


async def list_analyses(
    db: Database,
    *,
    page: int,
    per_page: int,
    project: str | None = None,
    status: str | None = None,
    provider: str | None = None,
) -> AnalysisPage:
    """Newest first; `project` is a project id when it is all digits, else a project path."""
    query = sa.select(Analysis)
    if project:
        query = query.where(
            Analysis.project_id == int(project) if project.isdigit() else Analysis.project_path == project
        )
    if status:
        query = query.where(Analysis.status == status)
    if provider:
        query = query.where(Analysis.provider == provider)
    async with db.session() as s:
        total = (await s.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one()
        page_query = query.order_by(Analysis.id.desc()).offset((page - 1) * per_page).limit(per_page)
        rows = (await s.execute(page_query)).scalars().all()
    return AnalysisPage(total=total, items=list(rows))


async def summary_rows(db: Database, limit: int) -> list[Any]:
    """The newest analyses' provider, status, latency, tokens, cost and votes, for /analysis/stats/summary."""
    async with db.session() as s:
        return list(
            (
                await s.execute(
                    sa.select(
                        Analysis.provider,
                        Analysis.status,
                        Analysis.latency_ms,
                        Analysis.tokens_in,
                        Analysis.tokens_out,
                        Analysis.tokens_cached,
                        Analysis.cost_usd,
                        Analysis.feedback_up,
                        Analysis.feedback_down,
                    )
                    .order_by(Analysis.id.desc())
                    .limit(limit)
                )
            ).all()
        )


async def totals_by_provider(db: Database) -> list[tuple]:
    """(provider, status, count, tokens in, tokens out, tokens cached, cost) per provider and status, for /metrics."""
    async with db.session() as s:
        return [
            tuple(r)
            for r in (
                await s.execute(
                    sa.select(
                        Analysis.provider,
                        Analysis.status,
                        sa.func.count(),
                        sa.func.sum(Analysis.tokens_in),
                        sa.func.sum(Analysis.tokens_out),
                        sa.func.sum(Analysis.tokens_cached),
                        sa.func.sum(Analysis.cost_usd),
                    ).group_by(Analysis.provider, Analysis.status)
                )
            ).all()
        ]


async def recent_history(db: Database, limit: int) -> list[HistoryEntry]:
    """The newest analyses with their failed job's name, for /cicd history."""
    query = (
        sa.select(Analysis.project_path, Analysis.pipeline_id, FailedJob.name, Analysis.verdict, Analysis.summary)
        .outerjoin(FailedJob, sa.and_(FailedJob.project_id == Analysis.project_id, FailedJob.job_id == Analysis.job_id))
        .order_by(Analysis.id.desc())
        .limit(limit)
    )
    async with db.session() as s:
        rows = (await s.execute(query)).all()
    return [HistoryEntry(*r) for r in rows]


async def add_feedback(db: Database, analysis_id: int, voter: str, direction: str) -> bool:
    """Count `voter`'s 👍 ("up") or 👎 ("down") once, however often it arrives; False when there is no such analysis."""
    column = {"up": Analysis.feedback_up, "down": Analysis.feedback_down}[direction]
    vote = (
        insert_for(db)(FeedbackVote)
        .values(analysis_id=analysis_id, voter=voter[:64], direction=direction, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["analysis_id", "voter", "direction"])
    )
    async with db.session() as s:
        if await s.get(Analysis, analysis_id) is None:
            return False
        # The vote row and the counter move in one transaction: a second click (or a job run twice) inserts nothing.
        if (await s.execute(vote)).rowcount:
            await s.execute(sa.update(Analysis).where(Analysis.id == analysis_id).values({column.key: column + 1}))
    return True
