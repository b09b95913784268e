"""The one typed settings object, read from the environment and an optional .env file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.channel_map import parse_channel_map


class TriggerMode(StrEnum):
    webhook = "webhook"
    email = "email"
    both = "both"


class CommentOn(StrEnum):
    mr = "mr"
    mr_and_commit = "mr_and_commit"
    none = "none"


CommaList = Annotated[list[str], NoDecode]


class SettingsError(Exception):
    """A setting is missing, malformed or contradicts another; the message names the variable."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,  # "KEY=" in a copied example.env means "not set", not "set to empty"
    )

    # --- service -------------------------------------------------------------
    environment: str = Field("development", alias="ENVIRONMENT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: str = Field("text", alias="LOG_FORMAT")  # text | json
    host: str = Field("0.0.0.0", alias="HOST")
    port: int = Field(8080, ge=0, le=65535, alias="PORT")
    database_url: str = Field("sqlite+aiosqlite:///./cicd-bot.db", alias="DATABASE_URL")
    trigger_mode: TriggerMode = Field(TriggerMode.webhook, alias="TRIGGER_MODE")
    api_token: SecretStr | None = Field(None, alias="CICD_BOT_API_TOKEN")
    # The doors' reading limits: connections idle or still sending their headers are closed after the keep-alive
    # time; a body must arrive within the body timeout; each door reads at most this many bodies at once.
    http_keepalive_seconds: float = Field(75.0, gt=0, alias="HTTP_KEEPALIVE_SECONDS")
    http_body_timeout_seconds: float = Field(10.0, gt=0, alias="HTTP_BODY_TIMEOUT_SECONDS")
    http_max_body_reads: int = Field(16, ge=1, le=1024, alias="HTTP_MAX_BODY_READS")

    # Serving processes sharing the port (SO_REUSEPORT): one per core for a busy door; the first runs the workers.
    web_processes: int = Field(1, ge=1, le=64, alias="WEB_PROCESSES")

    # --- queue and workers ------------------------------------------------------
    worker_concurrency: int = Field(2, ge=0, le=64, alias="WORKER_CONCURRENCY")
    queue_max_attempts: int = Field(5, ge=1, le=50, alias="QUEUE_MAX_ATTEMPTS")
    queue_lease_seconds: int = Field(30, ge=5, alias="QUEUE_LEASE_SECONDS")
    queue_backoff_base_seconds: float = Field(5.0, ge=0, alias="QUEUE_BACKOFF_BASE_SECONDS")
    queue_backoff_max_seconds: float = Field(900.0, ge=0, alias="QUEUE_BACKOFF_MAX_SECONDS")
    queue_poll_seconds: float = Field(1.0, gt=0, alias="QUEUE_POLL_SECONDS")
    shutdown_grace_seconds: float = Field(20.0, ge=0, alias="SHUTDOWN_GRACE_SECONDS")
    # Deliveries the database cannot take are kept here (fsynced) and replayed; one directory per process.
    spool_dir: str | None = Field(None, alias="SPOOL_DIR")
    spool_max_mb: int = Field(256, ge=1, alias="SPOOL_MAX_MB")

    # --- GitLab -------------------------------------------------------------
    gitlab_base_url: str = Field("https://gitlab.com", alias="GITLAB_BASE_URL")
    gitlab_api_token: SecretStr | None = Field(None, alias="GITLAB_API_TOKEN")
    gitlab_webhook_secret: SecretStr | None = Field(None, alias="GITLAB_WEBHOOK_SECRET")
    gitlab_webhook_signing_token: SecretStr | None = Field(None, alias="GITLAB_WEBHOOK_SIGNING_TOKEN")
    gitlab_webhook_allow_unsigned: bool = Field(False, alias="GITLAB_WEBHOOK_ALLOW_UNSIGNED")
    gitlab_webhook_allow_unsigned_in_production: bool = Field(
        False, alias="GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION"
    )
    gitlab_webhook_max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024, alias="GITLAB_WEBHOOK_MAX_BODY_BYTES")
    gitlab_auto_fetch_logs: bool = Field(True, alias="GITLAB_AUTO_FETCH_LOGS")
    gitlab_fetch_full_pipeline: bool = Field(True, alias="GITLAB_FETCH_FULL_PIPELINE")
    gitlab_fetch_test_reports: bool = Field(False, alias="GITLAB_FETCH_TEST_REPORTS")
    gitlab_max_log_size_mb: float = Field(20.0, gt=0, alias="GITLAB_MAX_LOG_SIZE_MB")
    # Compare a failed CI job's log with the same job's log in the last passing pipeline (the excerpt's baseline).
    gitlab_baseline_logs: bool = Field(True, alias="GITLAB_BASELINE_LOGS")
    gitlab_bot_username: str = Field("", alias="GITLAB_BOT_USERNAME")
    gitlab_comment_on: CommentOn = Field(CommentOn.mr, alias="GITLAB_COMMENT_ON")
    gitlab_analyze_allowed_failures: bool = Field(False, alias="GITLAB_ANALYZE_ALLOWED_FAILURES")
    gitlab_min_access_level: int = Field(30, alias="GITLAB_MIN_ACCESS_LEVEL")
    gitlab_timeout_seconds: float = Field(30.0, gt=0, alias="GITLAB_TIMEOUT_SECONDS")
    reuse_analysis_days: int = Field(7, ge=0, alias="REUSE_ANALYSIS_DAYS")
    # The groups and projects the bot serves (paths or ids): what `doctor` checks and the reconciliation sweep reads.
    gitlab_groups: CommaList = Field(default_factory=list, alias="GITLAB_GROUPS")
    gitlab_projects: CommaList = Field(default_factory=list, alias="GITLAB_PROJECTS")
    reconcile_interval: int = Field(600, ge=0, alias="RECONCILE_INTERVAL")  # seconds; 0 = no sweep
    reconcile_max_api_calls: int = Field(200, ge=5, alias="RECONCILE_MAX_API_CALLS")

    # --- AI providers -----------------------------------------------------------
    default_ai_provider: str = Field("", alias="DEFAULT_AI_PROVIDER")
    ai_fallback: CommaList = Field(default_factory=list, alias="AI_FALLBACK")
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str = Field("", alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    openai_structured_output: str = Field("json_schema", alias="OPENAI_STRUCTURED_OUTPUT")
    anthropic_api_key: SecretStr | None = Field(None, alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str = Field("", alias="ANTHROPIC_BASE_URL")
    anthropic_model: str = Field("claude-sonnet-4-6", alias="ANTHROPIC_MODEL")
    azure_openai_api_key: SecretStr | None = Field(None, alias="AZURE_OPENAI_API_KEY")
    azure_openai_endpoint: str = Field("", alias="AZURE_OPENAI_ENDPOINT")
    azure_openai_deployment: str = Field("", alias="AZURE_OPENAI_DEPLOYMENT")
    azure_openai_api_version: str = Field("2024-10-21", alias="AZURE_OPENAI_API_VERSION")
    ai_timeout_seconds: float = Field(60.0, gt=0, alias="AI_TIMEOUT_SECONDS")
    ai_max_attempts: int = Field(3, ge=1, le=10, alias="AI_MAX_ATTEMPTS")
    ai_retry_max_seconds: float = Field(120.0, gt=0, alias="AI_RETRY_MAX_SECONDS")
    ai_max_concurrency: int = Field(4, ge=1, alias="AI_MAX_CONCURRENCY")
    ai_max_output_tokens: int = Field(1500, ge=100, alias="AI_MAX_OUTPUT_TOKENS")
    ai_daily_token_budget: int = Field(0, ge=0, alias="AI_DAILY_TOKEN_BUDGET")
    ai_daily_cost_budget_usd: float = Field(0.0, ge=0, alias="AI_DAILY_COST_BUDGET_USD")
    ai_project_daily_token_budget: int = Field(0, ge=0, alias="AI_PROJECT_DAILY_TOKEN_BUDGET")
    ai_project_daily_cost_budget_usd: float = Field(0.0, ge=0, alias="AI_PROJECT_DAILY_COST_BUDGET_USD")
    ai_prices: dict[str, tuple[float, float, float]] = Field(default_factory=dict, alias="AI_PRICES")
    prompt_max_tokens: int = Field(6000, ge=500, alias="PROMPT_MAX_TOKENS")
    excerpt_budget_chars: int = Field(8000, ge=500, alias="EXCERPT_BUDGET_CHARS")
    conversation_max_tokens: int = Field(6000, ge=500, alias="CONVERSATION_MAX_TOKENS")

    # --- redaction --------------------------------------------------------------
    redact_extra_patterns: CommaList = Field(default_factory=list, alias="REDACT_EXTRA_PATTERNS")
    redact_literals: CommaList = Field(default_factory=list, alias="REDACT_LITERALS")

    # --- Slack --------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_channel_map: CommaList = Field(default_factory=list, alias="SLACK_CHANNEL_MAP")
    slack_branch_filter: str = Field("all", alias="SLACK_BRANCH_FILTER")
    slack_min_severity: str = Field("all", alias="SLACK_MIN_SEVERITY")
    slack_allowed_team_ids: CommaList = Field(default_factory=list, alias="SLACK_ALLOWED_TEAM_IDS")
    slack_app_id: str = Field("", alias="SLACK_APP_ID")
    slack_allow_shared_channels: bool = Field(False, alias="SLACK_ALLOW_SHARED_CHANNELS")
    slack_require_gitlab_link: bool = Field(False, alias="SLACK_REQUIRE_GITLAB_LINK")
    slack_alert_channel: str = Field("", alias="SLACK_ALERT_CHANNEL")

    # --- IMAP ---------------------------------------------------------------
    imap_enabled: bool = Field(False, alias="IMAP_ENABLED")
    imap_server: str = Field("", alias="IMAP_SERVER")
    imap_port: int = Field(993, ge=1, le=65535, alias="IMAP_PORT")
    imap_use_ssl: bool = Field(True, alias="IMAP_USE_SSL")
    imap_starttls: bool = Field(False, alias="IMAP_STARTTLS")
    imap_user: str = Field("", alias="IMAP_USER")
    imap_app_password: SecretStr | None = Field(None, alias="IMAP_APP_PASSWORD")
    imap_folder: str = Field("INBOX", alias="IMAP_FOLDER")
    imap_check_interval: int = Field(60, ge=5, alias="IMAP_CHECK_INTERVAL")
    imap_gitlab_email: str = Field("gitlab@mg.gitlab.com", alias="IMAP_GITLAB_EMAIL")
    imap_timeout_seconds: float = Field(30.0, gt=0, alias="IMAP_TIMEOUT_SECONDS")
    imap_since_days: int = Field(7, ge=1, alias="IMAP_SINCE_DAYS")
    imap_max_message_bytes: int = Field(2 * 1024 * 1024, ge=1024, alias="IMAP_MAX_MESSAGE_BYTES")

    @field_validator(
        "ai_fallback",
        "redact_extra_patterns",
        "redact_literals",
        "slack_channel_map",
        "slack_allowed_team_ids",
        "gitlab_groups",
        "gitlab_projects",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("ai_prices", mode="before")
    @classmethod
    def _parse_prices(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    # --- derived ------------------------------------------------------------
    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def email_enabled(self) -> bool:
        return self.trigger_mode in (TriggerMode.email, TriggerMode.both) or self.imap_enabled

    @property
    def webhook_enabled(self) -> bool:
        return self.trigger_mode in (TriggerMode.webhook, TriggerMode.both)

    @property
    def webhook_auth_configured(self) -> bool:
        return bool(self.gitlab_webhook_secret or self.gitlab_webhook_signing_token)

    @property
    def gitlab_api_configured(self) -> bool:
        return self.gitlab_api_token is not None

    def masked(self) -> dict[str, Any]:
        """Effective settings by variable name, with every secret masked."""
        out: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name == "database_url":
                value = mask_url_password(value)
            elif isinstance(value, StrEnum):
                value = value.value
            out[field.alias or name.upper()] = value
        return out


def mask_url_password(url: str) -> str:
    """postgresql://user:pw@host/db -> postgresql://user:***@host/db."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")
PRODUCTION_NAMES = ("production", "prod")

MSG_BASE_URL_NO_SCHEME = "{value!r} has no scheme; write https://{value} (or http:// if your GitLab has no TLS)"
MSG_BASE_URL_BAD = "{value!r} is not a GitLab address; write it as https://gitlab.example.com"
MSG_BASE_URL_API = "{value!r} ends with /api/v4; give GitLab's own address, {base}"
MSG_UNSIGNED_IN_PRODUCTION = (
    "GITLAB_WEBHOOK_ALLOW_UNSIGNED=true accepts webhooks from anyone, and ENVIRONMENT={environment}; "
    "set GITLAB_WEBHOOK_SECRET instead, or confirm with GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION=true"
)

# Variables of the original specification that this bot does not read, and what does their job here.
RETIRED_VARIABLES = {
    "SECRET_KEY": "nothing is signed with it; webhooks are checked with GITLAB_WEBHOOK_SECRET "
    "(or GITLAB_WEBHOOK_SIGNING_TOKEN) and the API with CICD_BOT_API_TOKEN",
    "GITLAB_FETCH_ARTIFACTS": "the bot reads job logs, not artifacts; failed test cases come from the "
    "pipeline's test report with GITLAB_FETCH_TEST_REPORTS=true",
    "GITLAB_LOG_LINES_LIMIT": "the excerpt is sized in characters with EXCERPT_BUDGET_CHARS, and "
    "GITLAB_MAX_LOG_SIZE_MB bounds how much of a log is read",
    "GITLAB_LOG_CONTEXT_LINES": "the excerpt chooses the lines around each failure itself, within EXCERPT_BUDGET_CHARS",
}
MSG_RETIRED = "{name} is set but cicd-bot does not use it: {instead}"


def check_gitlab_base_url(value: str) -> None:
    """GITLAB_BASE_URL must say its scheme: it decides where the token is sent, so it is never guessed."""
    parts = urlsplit(value.strip())
    if "://" not in value:
        raise SettingsError("GITLAB_BASE_URL", MSG_BASE_URL_NO_SCHEME.format(value=value.strip().rstrip("/")))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("GITLAB_BASE_URL", MSG_BASE_URL_BAD.format(value=value))
    path = parts.path.rstrip("/")
    if path.endswith("/api/v4"):
        base = f"{parts.scheme}://{parts.netloc}{path[: -len('/api/v4')]}"
        raise SettingsError("GITLAB_BASE_URL", MSG_BASE_URL_API.format(value=value, base=base))


def unsigned_webhooks_problem(s: Settings) -> str | None:
    """Why `serve` must not start: unauthenticated webhooks in production without the second, explicit yes."""
    production = s.environment.strip().lower() in PRODUCTION_NAMES
    if s.gitlab_webhook_allow_unsigned and production and not s.gitlab_webhook_allow_unsigned_in_production:
        return MSG_UNSIGNED_IN_PRODUCTION.format(environment=s.environment)
    return None


def retired_variables(env_file: str | Path | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per variable of the original specification found in the environment or the env file."""
    names = {key.upper() for key in (os.environ if environ is None else environ)}
    if env_file is not None and Path(env_file).is_file():
        names |= {key.upper() for key in dotenv_values(env_file)}
    return [
        MSG_RETIRED.format(name=name, instead=instead) for name, instead in RETIRED_VARIABLES.items() if name in names
    ]


def check_settings(s: Settings) -> None:
    """Reject contradictory combinations; raises SettingsError naming the variable."""
    if s.email_enabled:
        for var, value in (("IMAP_SERVER", s.imap_server), ("IMAP_USER", s.imap_user)):
            if not value:
                raise SettingsError(var, f"TRIGGER_MODE={s.trigger_mode.value} (or IMAP_ENABLED) needs {var}")
        if s.imap_app_password is None:
            raise SettingsError(
                "IMAP_APP_PASSWORD", f"TRIGGER_MODE={s.trigger_mode.value} (or IMAP_ENABLED) needs IMAP_APP_PASSWORD"
            )
        if s.imap_use_ssl and s.imap_starttls:
            raise SettingsError("IMAP_STARTTLS", "IMAP_USE_SSL and IMAP_STARTTLS cannot both be true")
    if bool(s.slack_bot_token) != bool(s.slack_signing_secret):
        missing = "SLACK_SIGNING_SECRET" if s.slack_bot_token else "SLACK_BOT_TOKEN"
        raise SettingsError(missing, "Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
    if not s.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL", "use sqlite+aiosqlite:///path.db or postgresql://user@host/db")
    if s.log_level.strip().upper() not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"{s.log_level!r} is not a level; use DEBUG, INFO, WARNING or ERROR")
    if s.log_format not in ("text", "json"):
        raise SettingsError("LOG_FORMAT", "use text or json")
    check_gitlab_base_url(s.gitlab_base_url)
    if s.slack_branch_filter not in ("all", "default_and_mr", "default"):
        raise SettingsError("SLACK_BRANCH_FILTER", "use all, default_and_mr or default")
    if s.slack_min_severity not in ("all", "low", "medium", "high", "critical"):
        raise SettingsError("SLACK_MIN_SEVERITY", "use all, low, medium, high or critical")
    _, problems = parse_channel_map(s.slack_channel_map)
    if problems:
        # A skipped entry would leave a team without its notices and nobody told; stop and name it instead.
        raise SettingsError("SLACK_CHANNEL_MAP", "; ".join(f"entry {p}" for p in problems))
    for pattern in s.redact_extra_patterns:
        import re

        try:
            re.compile(pattern)
        except re.error as exc:
            raise SettingsError("REDACT_EXTRA_PATTERNS", f"bad pattern {pattern!r}: {exc}") from None


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Load and check settings once; raise SettingsError with one clear line on any problem."""
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc") or ("?",)
        field_name = str(loc[0])
        field = Settings.model_fields.get(field_name)
        variable = (field.alias if field and field.alias else field_name).upper()
        raise SettingsError(variable, err.get("msg", "invalid value")) from None
    except json.JSONDecodeError as exc:
        raise SettingsError("AI_PRICES", f"not valid JSON: {exc}") from None
    check_settings(settings)
    return settings
