"""What each HTTP route is for, in words, with its parameters and answers by model: the text of /openapi.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.core.dashboard import Dashboard, Filters
from handlers.schemas import (
    AnalysisListQuery,
    AnalysisOut,
    AnalysisPage,
    Error,
    Health,
    HealthDetailed,
    LoginForm,
    LogoutForm,
    StatsSummary,
    WebhookInfo,
    WebhookTestResult,
)
from handlers.templating import ASSETS

JSON = "application/json"
HTML = "text/html"
TEXT = "text/plain"
FORM = "application/x-www-form-urlencoded"
METHOD_ORDER = ("get", "post")

TAGS = {
    "webhooks": "What GitLab and Slack call",
    "analysis": "Stored analyses, for scripts (bearer token)",
    "dashboard": "The dashboard, for people (bearer token or a login session)",
    "operations": "Health, metrics and this document",
}


@dataclass(frozen=True)
class Resp:
    description: str
    model: type[BaseModel] | None = None
    media: str = JSON
    schema: dict | None = None  # for a body that is not one of the models
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Op:
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, Resp]
    description: str = ""
    query: type[BaseModel] | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: tuple[str, type[BaseModel] | dict] | None = None
    body_required: bool = True
    security: list[dict] = field(default_factory=list)  # for routes without an auth mark; [] is public


def header(name: str, description: str, *, required: bool = False, examples: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if required:
        schema.update(minLength=1, pattern=r"\S")  # blank is missing
    if examples:
        schema["examples"] = examples
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


GITLAB_AUTH = [{"gitlabToken": []}, {"gitlabSignature": []}]
GITLAB_HEADERS = [
    header(
        "X-Gitlab-Event",
        "The kind of event; the bot acts on the ones GET /webhooks/gitlab/info lists and ignores the rest",
        required=True,
        examples=["Pipeline Hook", "Job Hook", "Merge Request Hook", "Note Hook"],
    ),
    header("Idempotency-Key", "Same on GitLab's retries of one delivery (GitLab 17.4 and later)"),
    header("X-Gitlab-Event-UUID", "The delivery's id (older GitLab)"),
    header("webhook-id", "Standard Webhooks: the message id, signed"),
    header("webhook-timestamp", "Standard Webhooks: seconds since the epoch, signed; at most 5 minutes off"),
]
GITLAB_BODY = (JSON, {"type": "object", "description": "GitLab's hook payload, as GitLab sends it"})
GITLAB_REFUSALS = {
    400: "No X-Gitlab-Event header, or a body that is not a JSON object",
    401: "Wrong or missing X-Gitlab-Token, or a bad, missing or stale signature",
    404: "Webhooks are off (TRIGGER_MODE=email)",
    413: "The body is larger than GITLAB_WEBHOOK_MAX_BODY_BYTES",
    503: "No secret is configured and unsigned deliveries are not allowed (the bot fails closed)",
}
ANY_OBJECT = {"type": "object"}

OPERATIONS: dict[tuple[str, str], Op] = {
    ("POST", "/webhooks/gitlab"): Op(
        "gitlabWebhook",
        "Receive a GitLab hook delivery",
        "webhooks",
        {200: Resp("Accepted: recorded and queued, a duplicate, or ignored (no body)", None, "")}
        | {code: Resp(text, None, TEXT, {"type": "string"}) for code, text in GITLAB_REFUSALS.items()},
        description="Point a GitLab group or project hook here, with a secret token. The answer comes at once; "
        "analysis runs in the workers.",
        parameters=GITLAB_HEADERS,
        body=GITLAB_BODY,
        security=GITLAB_AUTH,
    ),
    ("POST", "/webhooks/gitlab/test"): Op(
        "gitlabWebhookTest",
        "Say what the bot would do with a GitLab delivery (a dry run)",
        "webhooks",
        {200: Resp("The routing decision and the jobs it would queue", WebhookTestResult)}
        | {code: Resp(text, Error) for code, text in GITLAB_REFUSALS.items()},
        description="Authenticated exactly like POST /webhooks/gitlab (same secret or signature). Nothing is "
        "recorded or queued: send a payload from GitLab's 'Recent events' to see why it was acted on or not.",
        parameters=GITLAB_HEADERS,
        body=GITLAB_BODY,
        security=GITLAB_AUTH,
    ),
    ("GET", "/webhooks/gitlab/info"): Op(
        "gitlabWebhookInfo",
        "The GitLab events handled and whether a secret is set",
        "webhooks",
        {200: Resp("How the webhook is configured; secrets are only said to be set or not", WebhookInfo)},
    ),
    ("POST", "/slack/events"): Op(
        "slackEvents",
        "Slack slash commands, events and button clicks",
        "webhooks",
        {
            200: Resp("Handled (an acknowledgement, or a message for the user)", None, JSON, ANY_OBJECT),
            401: Resp("Bad or missing Slack signature", None, JSON, ANY_OBJECT),
            403: Resp("A workspace that is not allowed (SLACK_ALLOWED_TEAM_IDS)", None, TEXT, {"type": "string"}),
        },
        description="Only mounted when Slack is configured. The Request URL for commands, events and "
        "interactivity in the Slack app.",
        parameters=[header("X-Slack-Request-Timestamp", "Signed with the body", required=True)],
        body=(FORM, ANY_OBJECT),
        security=[{"slackSignature": []}],
    ),
    ("GET", "/health"): Op("health", "Liveness: the process answers", "operations", {200: Resp("Alive", Health)}),
    ("GET", "/health/detailed"): Op(
        "healthDetailed",
        "Readiness: database, migrations, queue, workers and configuration",
        "operations",
        {
            200: Resp("The database is reachable (status says ok or degraded)", HealthDetailed),
            503: Resp("The database is not reachable", HealthDetailed),
        },
    ),
    ("GET", "/metrics"): Op(
        "metrics",
        "Prometheus metrics",
        "operations",
        {200: Resp("Prometheus text format 0.0.4", None, TEXT, {"type": "string"})},
    ),
    ("GET", "/openapi.json"): Op(
        "openapi", "This document", "operations", {200: Resp("OpenAPI 3.1", None, JSON, ANY_OBJECT)}
    ),
    ("GET", "/docs"): Op(
        "docs", "This document as a page", "operations", {200: Resp("HTML", None, HTML, {"type": "string"})}
    ),
    ("GET", "/static/{name}"): Op(
        "staticAsset",
        "The pages' stylesheet",
        "operations",
        {
            200: Resp("The asset", None, "text/css", {"type": "string"}),
            404: Resp("No such asset", Error),
        },
        parameters=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": [*ASSETS]}}],
    ),
    ("GET", "/analysis"): Op(
        "listAnalyses",
        "Stored analyses, newest first",
        "analysis",
        {200: Resp("One page", AnalysisPage), 400: Resp("A query parameter out of range", Error)},
        query=AnalysisListQuery,
    ),
    ("GET", "/analysis/stats/summary"): Op(
        "analysisSummary",
        "Counts, latency, tokens and cost of the newest 100,000 analyses, by provider",
        "analysis",
        {200: Resp("The summary", StatsSummary)},
    ),
    ("GET", "/analysis/{id}"): Op(
        "getAnalysis",
        "One analysis, with the full answer",
        "analysis",
        {
            200: Resp("The analysis", AnalysisOut),
            400: Resp("The id is not a row id", Error),
            404: Resp("No such analysis (or the API is off)", Error),
        },
        parameters=[
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            }
        ],
    ),
    ("GET", "/dashboard"): Op(
        "dashboard",
        "The dashboard page",
        "dashboard",
        {
            200: Resp("HTML, with charts drawn as inline SVG", None, HTML, {"type": "string"}),
            400: Resp("A filter that is not a GitLab path", None, HTML, {"type": "string"}),
        },
        query=Filters,
    ),
    ("GET", "/dashboard/data"): Op(
        "dashboardData",
        "What the dashboard shows, as JSON",
        "dashboard",
        {200: Resp("The numbers behind the page", Dashboard), 400: Resp("A filter that is not a GitLab path", Error)},
        query=Filters,
    ),
    ("GET", "/dashboard/login"): Op(
        "loginForm",
        "The login form",
        "dashboard",
        {200: Resp("HTML", None, HTML, {"type": "string"})},
        parameters=[
            {
                "name": "next",
                "in": "query",
                "required": False,
                "description": "Where to go after login; anything but a /dashboard path is taken as /dashboard",
                "schema": {"type": "string"},
            }
        ],
    ),
    ("POST", "/dashboard/login"): Op(
        "login",
        "Log in with the API token",
        "dashboard",
        {
            303: Resp(
                "Logged in: a session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and on to `next`",
                None,
                "",
                headers=[("Set-Cookie", "cicd_bot_session"), ("Location", "")],
            ),
            400: Resp("Not a login form", None, HTML, {"type": "string"}),
            401: Resp("Wrong token: the form again, with a message", None, HTML, {"type": "string"}),
            403: Resp("A form posted from another site", None, HTML, {"type": "string"}),
            404: Resp("CICD_BOT_API_TOKEN is not set", Error),
        },
        body=(FORM, LoginForm),
    ),
    ("POST", "/dashboard/logout"): Op(
        "logout",
        "Log out",
        "dashboard",
        {
            303: Resp("The session cookie is removed; on to the login form", None, "", headers=[("Location", "")]),
            400: Resp("Not a logout form", None, HTML, {"type": "string"}),
            403: Resp(
                "A form posted from another site, or without this session's CSRF token", None, HTML, {"type": "string"}
            ),
        },
        body=(FORM, LogoutForm),
        body_required=False,  # needed only with a session: without one there is nothing to end
    ),
}
