"""Typed values shared by the excerpt, the providers, the analysis and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

# The excerpt's own types live beside it, free of pydantic, so the excerpt command starts fast.
from bot.core.excerpt.lines import CUT_NOTE, Excerpt, ExcerptLine  # noqa: F401  (shared from here)


class Category(StrEnum):
    build = "build"
    test = "test"
    dependency = "dependency"
    lint = "lint"
    deploy = "deploy"
    infrastructure = "infrastructure"
    timeout = "timeout"
    out_of_memory = "out_of_memory"
    network = "network"
    configuration = "configuration"
    permissions = "permissions"
    unknown = "unknown"


class Verdict(StrEnum):
    """Who or what the failure is likely down to."""

    caused_by_change = "caused_by_change"
    flaky = "flaky"
    infrastructure = "infrastructure"
    broken_on_default_branch = "broken_on_default_branch"
    unknown = "unknown"


class Evidence(BaseModel):
    line: int = Field(description="Line number in the job log, as shown in the excerpt")
    text: str = Field(description="The quoted text of that line, exactly as in the excerpt")


class ModelAnswer(BaseModel):
    """What a provider is asked to return; the JSON schema sent to models is derived from this."""

    summary: str = Field(description="One line: what failed and why")
    category: Category
    root_cause: str = Field(description="The root cause, in a few sentences")
    verdict: Verdict = Field(
        description="Whether the change, flakiness, infrastructure or an already broken default branch is to blame"
    )
    confidence: float = Field(ge=0.0, le=1.0)
    fix_steps: list[str] = Field(description="Ordered, concrete steps, with commands or file paths where known")
    evidence: list[Evidence] = Field(default_factory=list, description="Log lines that show the failure")


class AnalysisResult(ModelAnswer):
    """A provider's answer plus who gave it and what it cost."""

    provider: str = "heuristic"
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    notes: list[str] = Field(default_factory=list, description="Why other providers did not answer, budget notices")


@dataclass(frozen=True, slots=True)
class BaselineInfo:
    """The passing run whose log the excerpt was compared with: the same job in the last passing pipeline."""

    pipeline_id: int
    pipeline_url: str = ""
    job_id: int = 0
    ref: str = ""


@dataclass(slots=True)
class JobFailure:
    """One failed job as the analysis sees it (several jobs with one signature share one analysis)."""

    job_id: int
    name: str
    stage: str
    failure_reason: str = ""
    allow_failure: bool = False
    web_url: str = ""
    excerpt: Excerpt = field(default_factory=lambda: Excerpt([]))
    signature: str = ""
    same_failure_jobs: list[str] = field(default_factory=list)  # names of other jobs failing the same way
    baseline: BaselineInfo | None = None  # the passing log the excerpt was compared with, if any


@dataclass(slots=True)
class PriorOccurrence:
    """An earlier failure with the same signature."""

    pipeline_id: int
    ref: str
    when: str
    summary: str = ""
    fixed_by: str = ""
    web_url: str = ""


@dataclass(slots=True)
class AnalysisRequest:
    """Everything a provider may be told about one failure; built by code, never by the model."""

    project_path: str
    project_id: int
    pipeline_id: int
    ref: str
    sha: str
    job: JobFailure
    default_branch: str = "main"
    mr_title: str = ""
    mr_description: str = ""
    changed_files: list[str] = field(default_factory=list)
    pipeline_jobs: list[dict] = field(default_factory=list)  # {name, stage, status, allow_failure, retried}
    ci_config: str = ""
    test_failures: list[str] = field(default_factory=list)
    history: list[PriorOccurrence] = field(default_factory=list)
    occurrences: int = 0  # how often this signature was seen recently
    provider_hint: str = ""  # the provider the user asked for, if any


@dataclass(slots=True)
class ChatMessage:
    role: str  # "user" | "assistant"
    content: str
    author: str = ""


@dataclass(slots=True)
class Conversation:
    """A follow-up conversation about one analysis."""

    question: str
    analysis: AnalysisResult | None
    excerpt: Excerpt | None
    history: list[ChatMessage] = field(default_factory=list)
    project_path: str = ""
    job_name: str = ""
    extra_log: list[ExcerptLine] = field(default_factory=list)  # more lines fetched on request


@dataclass(slots=True)
class Reply:
    text: str
    provider: str = "heuristic"
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class JobReport:
    """One failed job as shown to people, with its analysis if it has one."""

    job_id: int
    name: str
    stage: str
    web_url: str = ""
    allow_failure: bool = False
    result: AnalysisResult | None = None
    signature: str = ""
    shared_with: list[str] = field(default_factory=list)  # other jobs that failed the same way
    occurrences: int = 0  # times this signature was seen recently (including this one)
    seen_before: list[PriorOccurrence] = field(default_factory=list)
    reused_from: int | None = None  # analysis id reused instead of a new model call
    reused_from_pipeline: int | None = None  # the pipeline whose answer was reused
    reused_from_url: str = ""  # that pipeline's web address, linked in the note
    not_analysed_reason: str = ""  # e.g. "allowed to fail"
    log_unavailable: str = ""  # why its log could not be read (no model was asked about it); "" when it was read
    analysis_id: int | None = None  # the stored analysis shown for this job
    baseline: BaselineInfo | None = None  # the passing log its excerpt was compared with, if any


@dataclass(slots=True)
class PipelineReport:
    """What the MR note and the Slack thread show about one pipeline."""

    project_path: str
    project_web_url: str
    pipeline_id: int
    pipeline_url: str
    ref: str
    sha: str
    status: str  # "failed" | "success" | "running" | "analysing"
    jobs: list[JobReport] = field(default_factory=list)
    mr_iid: int | None = None
    mr_url: str = ""
    mr_title: str = ""
    author: str = ""
    fixed_in_pipeline_id: int | None = None
    fixed_in_url: str = ""
    bot_username: str = "cicd-bot"
    slack_permalink: str = ""
    note_url: str = ""  # the bot's MR note, once posted
    default_branch: str = "main"
    project_id: int | None = None
    analysis_id: int | None = None
    error: str = ""  # shown when analysis ran out of retries


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job a door asks the durable queue for; dedupe_key makes repeated asks one job."""

    kind: str
    payload: dict
    dedupe_key: str
    delay_seconds: float = 0
    hasten_existing: bool = False  # if the job already exists and waits, run it now


@dataclass(slots=True)
class ProviderCall:
    """One attempt at a provider, successful or not, as the ledger stores it."""

    provider: str
    model: str
    operation: str  # "analyze" | "answer"
    project_path: str | None = None
    pipeline_id: int | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    outcome: str = (
        "ok"  # ok | transient_error | auth_error | bad_request | invalid_output | over_budget | not_configured | error
    )
    error: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
