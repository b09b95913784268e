"""POST /webhooks/gitlab: authenticate, record the event, enqueue its jobs, answer at once."""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES

from config.logging import log_context
from handlers import gitlab_routing
from bot.core.webhook_auth import AuthResult, authenticate
from bot.core.intake import IntakeRecord, storage_problem
from bot.runtime.spool import SpoolFull
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64
SPOOL_FULL = "the database is unreachable and the delivery spool is full; try again later\n"
WEBHOOKS_OFF = "webhooks are off (TRIGGER_MODE=email); set TRIGGER_MODE=webhook or both"

REJECT_TEXT = {
    AuthResult.not_configured: "webhook secret not configured on the bot; set GITLAB_WEBHOOK_SECRET",
    AuthResult.missing_token: "missing X-Gitlab-Token",
    AuthResult.bad_token: "invalid X-Gitlab-Token",
    AuthResult.missing_signature: "missing webhook signature",
    AuthResult.bad_signature: "invalid webhook signature",
    AuthResult.stale_signature: "webhook timestamp outside the allowed window",
}


class BadPayload(ValueError):
    pass


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def parse_json_object(body: bytes) -> dict:
    """Strict UTF-8, a JSON object, not absurdly nested; BadPayload says what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadPayload("JSON nested too deeply") from None
    except ValueError as exc:
        raise BadPayload(f"body is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise BadPayload("JSON body is not an object")
    if _too_deep(data, MAX_JSON_DEPTH):
        raise BadPayload("JSON nested too deeply")
    return data


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is over the limit (checked before and while reading)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def scrub(payload: dict, jobs: list, redact) -> tuple[dict, list]:
    """What is stored of a delivery: no CI variables (people pass tokens that way) and redacted note text."""
    attrs = payload.get("object_attributes")
    if isinstance(attrs, dict):
        attrs = {k: v for k, v in attrs.items() if k != "variables"}
        if isinstance(attrs.get("note"), str):
            attrs["note"] = redact(attrs["note"])
        if isinstance(attrs.get("description"), str):
            attrs["description"] = redact(attrs["description"])
        payload = {**payload, "object_attributes": attrs}
    cleaned = []
    for job in jobs:
        if isinstance(job.payload.get("note"), str):
            job = dataclasses.replace(job, payload={**job.payload, "note": redact(job.payload["note"])})
        cleaned.append(job)
    return payload, cleaned


def authenticate_delivery(settings, headers: dict[str, str], body: bytes) -> AuthResult:
    """The webhook's rules (secret token or signature), shared with POST /webhooks/gitlab/test."""
    return authenticate(
        headers, body,
        secret=settings.gitlab_webhook_secret.get_secret_value() if settings.gitlab_webhook_secret else None,
        signing_token=settings.gitlab_webhook_signing_token.get_secret_value() if settings.gitlab_webhook_signing_token else None,
        allow_unsigned=settings.gitlab_webhook_allow_unsigned,
        now=time.time(),
    )


def reject_status(auth: AuthResult) -> int:
    return 503 if auth is AuthResult.not_configured else 401


def _reject(metrics, status: int, reason: str, text: str) -> web.Response:
    metrics.deliveries.labels("gitlab_webhook", f"rejected_{reason}").inc()
    return web.Response(status=status, text=text + "\n")


async def gitlab_webhook(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SERVICES].settings
    metrics = app[SERVICES].metrics
    started = time.perf_counter()

    if not settings.webhook_enabled:
        return _reject(metrics, 404, "webhooks_off", WEBHOOKS_OFF)
    body = await read_body(request, settings.gitlab_webhook_max_body_bytes)
    if body is None:
        return _reject(metrics, 413, "too_large", f"body larger than {settings.gitlab_webhook_max_body_bytes} bytes")
    headers = {k.lower(): v for k, v in request.headers.items()}

    auth = authenticate_delivery(settings, headers, body)
    if not auth.accepted:
        return _reject(metrics, reject_status(auth), auth.value, REJECT_TEXT[auth])

    event_type = headers.get("x-gitlab-event", "").strip()
    if not event_type:
        return _reject(metrics, 400, "no_event", "missing X-Gitlab-Event header")
    try:
        payload = parse_json_object(body)
    except BadPayload as exc:
        return _reject(metrics, 400, "malformed", str(exc))

    try:
        routed = gitlab_routing.route(event_type, payload, headers, body, app[SERVICES].identity.username)
    except Exception:
        # A routing bug must not make GitLab disable the hook; keep the delivery for a human.
        log.exception("could not route %s delivery", event_type)
        routed = gitlab_routing.unroutable(event_type, headers, body)

    with log_context(delivery=routed.delivery_key, project=routed.project_id, object=routed.object_id):
        if not routed.record:
            metrics.deliveries.labels("gitlab_webhook", "ignored").inc()
            log.debug("ignored %s: %s", event_type, routed.ignored_reason)
            return web.Response(status=200)
        stored, jobs = scrub(payload, routed.jobs, app[SERVICES].redactor.redact_text)
        record = IntakeRecord(
            source="gitlab_webhook", delivery_key=routed.delivery_key, event_type=event_type, payload=stored,
            received_at=utcnow(), jobs=jobs, project_id=routed.project_id, object_id=routed.object_id,
            status=routed.status, max_attempts=settings.queue_max_attempts,
        )
        problem = storage_problem(record)
        if problem:
            # Nothing GitLab sends looks like this; answering 2xx keeps a hook from being disabled over it.
            metrics.deliveries.labels("gitlab_webhook", "ignored_invalid").inc()
            log.warning("ignored %s: %s", event_type, problem)
            return web.Response(status=200)
        try:
            result = await app[SERVICES].intake.accept(record)
        except SpoolFull:
            metrics.deliveries.labels("gitlab_webhook", "error").inc()
            return web.Response(status=503, text=SPOOL_FULL)
        metrics.deliveries.labels("gitlab_webhook", result.outcome).inc()
        if result.job_ids:
            app[SERVICES].wake_workers()
        log.info("%s %s %s in %.1f ms", event_type, routed.status, result.outcome, (time.perf_counter() - started) * 1000)
    return web.Response(status=200)
