"""The dashboard's numbers: rows from storage turned into one typed, JSON-ready picture (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core.messages import verdict_label
from bot.core.render.sanitize import is_allowed_url

DEFAULT_DAYS = 14
TOP_PROJECTS = 6  # projects drawn on their own in the failures chart; the rest are "other"
OTHER = "other projects"
MAX_FILTER_CHARS = 255

# A GitLab group or project path (segments of GitLab's allowed characters), or empty for no filter.
PATH_PATTERN = r"^(?:[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*)?$"
MAX_DAYS = 90


# --- rows, as storage reads them -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailureRow:
    at: datetime
    project_path: str
    pipeline_id: int
    pipeline_url: str
    ref: str
    job_id: int
    job_name: str
    stage: str
    job_url: str
    failure_reason: str
    analysis_id: int | None = None
    verdict: str | None = None
    category: str | None = None
    summary: str | None = None
    provider: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class DayCount:
    day: str  # YYYY-MM-DD, UTC
    key: str  # a project path, a signature or a provider
    count: float


@dataclass(frozen=True, slots=True)
class SignatureRow:
    signature: str
    failures: int
    projects: int
    last_seen: datetime
    job_name: str = ""
    project_path: str = ""
    job_url: str = ""
    summary: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class FlakyRow:
    project_path: str
    job_name: str
    at: datetime
    job_url: str
    pipeline_url: str


@dataclass(frozen=True, slots=True)
class ProviderRow:
    provider: str
    calls: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass(slots=True)
class DashboardRows:
    """Everything storage reads for one dashboard, in the window and under the filters."""

    recent: list[FailureRow] = field(default_factory=list)
    failed_pipelines_per_day: list[DayCount] = field(default_factory=list)  # key: project path
    failed_jobs: int = 0
    signatures: list[SignatureRow] = field(default_factory=list)
    signatures_per_day: list[DayCount] = field(default_factory=list)  # key: signature
    flaky: list[FlakyRow] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    analyses_failed: int = 0
    providers: list[ProviderRow] = field(default_factory=list)
    provider_tokens_per_day: list[DayCount] = field(default_factory=list)  # key: provider
    provider_cost_per_day: list[DayCount] = field(default_factory=list)  # key: provider
    feedback: dict[str, tuple[int, int]] = field(default_factory=dict)  # provider -> (up, down)
    projects: list[str] = field(default_factory=list)  # every project path known, for the filters


# --- the picture ------------------------------------------------------------------------------------------


class Trend(StrEnum):
    new = "new"
    rising = "rising"
    falling = "falling"
    steady = "steady"


class Filters(BaseModel):
    """The dashboard's query parameters; a path that is not a GitLab path is refused before any query runs."""

    model_config = ConfigDict(extra="ignore")
    group: str | None = Field(
        None, max_length=MAX_FILTER_CHARS, pattern=PATH_PATTERN, description="Only projects under this group path"
    )
    project: str | None = Field(
        None, max_length=MAX_FILTER_CHARS, pattern=PATH_PATTERN, description="Only this project path"
    )
    days: int = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="The window in days, up to today (UTC)")

    @field_validator("group", "project")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class RecentFailure(BaseModel):
    at: datetime
    project_path: str
    pipeline_id: int
    pipeline_url: str | None = Field(description="Only links to the GitLab the bot serves")
    ref: str
    job_id: int
    job_name: str
    stage: str
    job_url: str | None
    failure_reason: str
    analysis_id: int | None
    verdict: str | None
    verdict_label: str | None
    category: str | None
    summary: str | None
    provider: str | None


class DailyCounts(BaseModel):
    label: str
    values: list[float] = Field(description="One value per day of `days`")
    total: float


class FailuresPerDay(BaseModel):
    projects: list[DailyCounts] = Field(description=f"Failed pipelines per day, the top {TOP_PROJECTS} projects")
    totals: list[int]


class TopSignature(BaseModel):
    signature: str
    failures: int = Field(description="Failed CI jobs with this signature in the window")
    projects: int
    last_seen: datetime
    job_name: str
    project_path: str
    job_url: str | None
    summary: str
    category: str
    daily: list[int]
    trend: Trend = Field(description="The last 7 days against the 7 before")
    change: float | None = Field(description="Relative change of the last 7 days against the 7 before")


class FlakyJob(BaseModel):
    project_path: str
    job_name: str
    occurrences: int
    last_seen: datetime
    job_url: str | None
    pipeline_url: str | None


class VerdictCount(BaseModel):
    verdict: str
    label: str
    count: int


class ProviderUsage(BaseModel):
    provider: str
    calls: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    daily_tokens: list[float]
    daily_cost: list[float]
    feedback_up: int
    feedback_down: int


class Feedback(BaseModel):
    up: int
    down: int
    up_share: float | None = Field(description="👍 / (👍 + 👎); null before any vote")


class Totals(BaseModel):
    failed_pipelines: int
    failed_jobs: int
    analyses: int
    analyses_failed: int
    flaky_jobs: int
    tokens: int
    cost_usd: float


class Dashboard(BaseModel):
    """What /dashboard shows, as JSON (GET /dashboard/data)."""

    generated_at: datetime
    filters: Filters
    days: list[str] = Field(description="The days of the window, oldest first (UTC)")
    groups: list[str] = Field(description="Groups that can be filtered by")
    projects: list[str] = Field(description="Projects that can be filtered by")
    totals: Totals
    recent_failures: list[RecentFailure]
    failures_per_day: FailuresPerDay
    top_signatures: list[TopSignature]
    flaky_jobs: list[FlakyJob]
    verdicts: list[VerdictCount]
    providers: list[ProviderUsage]
    feedback: Feedback


def day_axis(today: date, days: int) -> list[str]:
    return [(today - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


def _by_key(axis: list[str], rows: list[DayCount]) -> dict[str, list[float]]:
    index = {d: i for i, d in enumerate(axis)}
    out: dict[str, list[float]] = {}
    for row in rows:
        if row.day in index:
            out.setdefault(row.key, [0.0] * len(axis))[index[row.day]] += row.count
    return out


def failures_per_day(axis: list[str], rows: list[DayCount], top: int = TOP_PROJECTS) -> FailuresPerDay:
    series = _by_key(axis, rows)
    ranked = sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    shown = [DailyCounts(label=k, values=v, total=sum(v)) for k, v in ranked[:top]]
    rest = ranked[top:]
    if rest:
        other = [sum(v[i] for _, v in rest) for i in range(len(axis))]
        shown.append(DailyCounts(label=OTHER, values=other, total=sum(other)))
    totals = [int(sum(v[i] for v in series.values())) for i in range(len(axis))]
    return FailuresPerDay(projects=shown, totals=totals)


def trend(daily: list[int]) -> tuple[Trend, float | None]:
    """The last 7 days against the 7 before them: new, rising, falling or steady (within ±20%)."""
    last, before = sum(daily[-7:]), sum(daily[-14:-7])
    if before == 0:
        return (Trend.new, None) if last else (Trend.steady, None)
    change = (last - before) / before
    if change > 0.2:
        return Trend.rising, round(change, 3)
    if change < -0.2:
        return Trend.falling, round(change, 3)
    return Trend.steady, round(change, 3)


def link(url: str | None, gitlab_base_url: str) -> str | None:
    """A link only to the GitLab the bot serves; anything else is not linked."""
    return url if url and is_allowed_url(url, gitlab_base_url) else None


def groups_of(projects: list[str]) -> list[str]:
    """Every namespace above the projects: acme/platform/api gives acme and acme/platform."""
    found: set[str] = set()
    for path in projects:
        parts = path.split("/")
        found.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return sorted(found)


def flaky_jobs(rows: list[FlakyRow], gitlab_base_url: str, limit: int = 15) -> list[FlakyJob]:
    grouped: dict[tuple[str, str], list[FlakyRow]] = {}
    for row in rows:
        grouped.setdefault((row.project_path, row.job_name), []).append(row)
    out = []
    for (project, name), items in grouped.items():
        latest = max(items, key=lambda r: r.at)
        out.append(
            FlakyJob(
                project_path=project,
                job_name=name,
                occurrences=len(items),
                last_seen=latest.at,
                job_url=link(latest.job_url, gitlab_base_url),
                pipeline_url=link(latest.pipeline_url, gitlab_base_url),
            )
        )
    out.sort(key=lambda f: (-f.occurrences, -f.last_seen.timestamp(), f.project_path, f.job_name))
    return out[:limit]


def _recent(row: FailureRow, base: str) -> RecentFailure:
    return RecentFailure(
        at=row.at,
        project_path=row.project_path,
        pipeline_id=row.pipeline_id,
        pipeline_url=link(row.pipeline_url, base),
        ref=row.ref,
        job_id=row.job_id,
        job_name=row.job_name,
        stage=row.stage,
        job_url=link(row.job_url, base),
        failure_reason=row.failure_reason,
        analysis_id=row.analysis_id,
        verdict=row.verdict or None,
        verdict_label=verdict_label(row.verdict) if row.verdict else None,
        category=row.category or None,
        summary=row.summary or None,
        provider=row.provider or None,
    )


def _providers(axis: list[str], rows: DashboardRows) -> list[ProviderUsage]:
    tokens = _by_key(axis, rows.provider_tokens_per_day)
    cost = _by_key(axis, rows.provider_cost_per_day)
    zeros = [0.0] * len(axis)
    out = []
    for p in sorted(rows.providers, key=lambda p: (-p.calls, p.provider)):
        up, down = rows.feedback.get(p.provider, (0, 0))
        out.append(
            ProviderUsage(
                provider=p.provider,
                calls=p.calls,
                errors=p.errors,
                tokens_in=p.tokens_in,
                tokens_out=p.tokens_out,
                cost_usd=round(p.cost_usd, 6),
                daily_tokens=tokens.get(p.provider, zeros),
                daily_cost=[round(c, 6) for c in cost.get(p.provider, zeros)],
                feedback_up=up,
                feedback_down=down,
            )
        )
    return out


def build(rows: DashboardRows, *, filters: Filters, now: datetime, gitlab_base_url: str) -> Dashboard:
    """The whole picture; links only to the GitLab the bot serves."""
    axis = day_axis(now.date(), filters.days)
    per_signature = _by_key(axis, rows.signatures_per_day)
    signatures = []
    for s in rows.signatures:
        daily = [int(v) for v in per_signature.get(s.signature, [0.0] * len(axis))]
        direction, change = trend(daily)
        signatures.append(
            TopSignature(
                signature=s.signature,
                failures=s.failures,
                projects=s.projects,
                last_seen=s.last_seen,
                job_name=s.job_name,
                project_path=s.project_path,
                job_url=link(s.job_url, gitlab_base_url),
                summary=s.summary,
                category=s.category,
                daily=daily,
                trend=direction,
                change=change,
            )
        )
    verdicts = [
        VerdictCount(verdict=v, label=verdict_label(v), count=n)
        for v, n in sorted(rows.verdicts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    providers = _providers(axis, rows)
    up = sum(u for u, _ in rows.feedback.values())
    down = sum(d for _, d in rows.feedback.values())
    per_day = failures_per_day(axis, rows.failed_pipelines_per_day)
    flaky = flaky_jobs(rows.flaky, gitlab_base_url)
    return Dashboard(
        generated_at=now,
        filters=filters,
        days=axis,
        groups=groups_of(rows.projects),
        projects=rows.projects,
        totals=Totals(
            failed_pipelines=sum(per_day.totals),
            failed_jobs=rows.failed_jobs,
            analyses=sum(rows.verdicts.values()) + rows.analyses_failed,
            analyses_failed=rows.analyses_failed,
            flaky_jobs=len(flaky),
            tokens=sum(p.tokens_in + p.tokens_out for p in providers),
            cost_usd=round(sum(p.cost_usd for p in providers), 6),
        ),
        recent_failures=[_recent(r, gitlab_base_url) for r in rows.recent],
        failures_per_day=per_day,
        top_signatures=signatures,
        flaky_jobs=flaky,
        verdicts=verdicts,
        providers=providers,
        feedback=Feedback(up=up, down=down, up_share=round(up / (up + down), 4) if up + down else None),
    )
