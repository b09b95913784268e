"""The JSON the HTTP API answers with, as pydantic models: handlers build their answers from these, /openapi.json describes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from storage.analyses import Analysis

# A row id in the database; larger numbers cannot name a row (PostgreSQL's integer).
MAX_ROW_ID = 2**31 - 1


class Error(BaseModel):
    error: str


# --- the analysis API ---------------------------------------------------------------------------------------


class AnalysisListQuery(BaseModel):
    """Query parameters of GET /analysis."""

    model_config = ConfigDict(extra="ignore")
    page: int = Field(1, ge=1, le=10**6, description="1-based page number")
    per_page: int = Field(20, ge=1, le=100, description="Items per page")
    project: str | None = Field(None, max_length=512, description="A project id (digits) or a project path")
    status: str | None = Field(None, max_length=16, description="ok, reused or error")
    provider: str | None = Field(None, max_length=32, description="openai, anthropic, azure_openai, heuristic, ...")


class Votes(BaseModel):
    up: int
    down: int


class AnalysisOut(BaseModel):
    """One stored analysis."""

    id: int
    project_id: int
    project_path: str
    pipeline_id: int
    job_id: int | None
    signature: str
    trigger: str = Field(description="webhook, email, slack, mr_command or cli")
    status: str = Field(description="ok, reused or error")
    provider: str
    model: str
    category: str
    verdict: str
    summary: str
    tokens_in: int
    tokens_out: int
    tokens_cached: int
    cost_usd: float
    latency_ms: int
    feedback: Votes
    reused_from_id: int | None
    created_at: str = Field(description="ISO 8601, UTC")
    result: dict[str, Any] | None = Field(description="The full answer as stored (an AnalysisResult when written)")

    @classmethod
    def of(cls, a: Analysis) -> AnalysisOut:
        return cls(
            **{name: getattr(a, name) for name in cls.model_fields if name not in ("feedback", "created_at")},
            feedback=Votes(up=a.feedback_up, down=a.feedback_down),
            created_at=a.created_at.isoformat(),
        )


class AnalysisPage(BaseModel):
    page: int
    per_page: int
    total: int
    items: list[AnalysisOut]


class Percentiles(BaseModel):
    p50: float | None
    p95: float | None


class ProviderSummary(BaseModel):
    analyses: int
    ok: int
    errors: int
    reused: int
    tokens_in: int
    tokens_out: int
    tokens_cached: int
    cost_usd: float
    feedback_up: int
    feedback_down: int
    latency_ms: Percentiles


class LatencySummary(BaseModel):
    p50: float | None
    p90: float | None
    p99: float | None


class TokenSummary(BaseModel):
    in_: int = Field(alias="in")
    out: int
    cached: int


class StatsSummary(BaseModel):
    analyses: int
    success_rate: float | None
    latency_ms: LatencySummary
    tokens: TokenSummary
    cost_usd: float
    by_provider: dict[str, ProviderSummary]


# --- health (other fields may be added by newer versions: the objects stay open) ----------------------------


class Health(BaseModel):
    status: Literal["ok"]


class HealthDetailed(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: Literal["ok", "degraded"]
    environment: str
    database: dict[str, Any]
    providers: dict[str, Any]
    gitlab: dict[str, Any]
    slack: dict[str, Any]
    email: dict[str, Any]
    queue: dict[str, Any] | None = None
    workers: dict[str, Any] | None = None


# --- the GitLab webhook's helpers ---------------------------------------------------------------------------


class WouldEnqueue(BaseModel):
    kind: str = Field(description="The queue job kind, e.g. analyze_pipeline")
    dedupe_key: str = Field(description="Jobs with the same key while one waits or runs are one job")
    delay_seconds: float
    hasten_existing: bool = Field(description="If such a job already waits, it would be run now instead")
    payload: dict[str, Any]
    already_queued: bool | None = Field(
        description="A job with this key waits or runs now, so none would be added (null: database unreachable)"
    )


class WebhookTestResult(BaseModel):
    """What POST /webhooks/gitlab would do with this delivery; nothing is recorded or enqueued."""

    event_type: str
    decision: Literal["record", "ignore"]
    reason: str = Field(description="Why the delivery would be ignored, or what recording it means")
    delivery_key: str = Field(description="GitLab's retries of one delivery share this key and are stored once")
    already_recorded: bool | None = Field(
        description="A delivery with this key was stored before, so this one would be a duplicate (null: unknown)"
    )
    project_id: int | None
    object_id: int | None
    status: str
    jobs: list[WouldEnqueue]


class HookEvent(BaseModel):
    header: str = Field(description="The X-Gitlab-Event value")
    hook_setting: str = Field(description="The GitLab hook's trigger to enable for it")
    does: str


class WebhookInfo(BaseModel):
    """The webhook as this bot is configured to receive it; secrets are only ever said to be set or not."""

    path: str
    enabled: bool = Field(description="False when TRIGGER_MODE=email")
    events: list[HookEvent]
    secret_token_set: bool = Field(description="GITLAB_WEBHOOK_SECRET (X-Gitlab-Token) is set")
    signing_token_set: bool = Field(description="GITLAB_WEBHOOK_SIGNING_TOKEN (webhook-signature) is set")
    unsigned_allowed: bool
    accepts_deliveries: bool = Field(description="Enabled, and either a secret is set or unsigned deliveries allowed")
    max_body_bytes: int
    bot_username: str = Field(description="Notes that mention @this user get an answer")


# --- the dashboard's forms ----------------------------------------------------------------------------------


class LoginForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    token: str = Field(max_length=4096, description="CICD_BOT_API_TOKEN")
    next: str | None = Field(None, max_length=2000, description="Where to go after login (a /dashboard path)")


class LogoutForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    csrf: str | None = Field(
        None, max_length=200, description="The session's CSRF token, from the dashboard page (needed with a session)"
    )
