"""POST /webhooks/gitlab: authenticate, record the event, enqueue its jobs, answer at once."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

import orjson
from aiohttp import web

from bot.core.intake import IntakeRecord, storage_problem
from bot.core.redact_payload import redact_payload
from bot.core.webhook_auth import AuthResult, authenticate_headers, verify_signature
from bot.runtime.spool import SpoolFull
from config.logging import log_context
from handlers import gitlab_routing
from handlers.appkeys import GITLAB_BODIES, SERVICES
from handlers.body import BodyReader, BodyRefused, describe
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64
SPOOL_FULL = "the database is unreachable and the delivery spool cannot keep the delivery (full, or its disk fails); try again later\n"
WEBHOOKS_OFF = "webhooks are off (TRIGGER_MODE=email); set TRIGGER_MODE=webhook or both"
# orjson reads an integer outside -2**63 .. 2**64 - 1 as a float; the standard parser keeps it an integer, which the
# checks of ids expect. Such a number is a run of 20 digits or more, or of 19 after a minus sign (-2**63 has 19),
# after `:`, `,` or `[`. Runs are found in the body with every digit turned into "0" and everything else into " "
# (bytes operations in C; a regex scan costs ten times more).
_DIGIT_MASK = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord(" ") for b in range(256))
_RUN = b"0" * 19
_NEGATIVE = ord("-")


def _has_long_number(body: bytes) -> bool:
    mask = body.translate(_DIGIT_MASK)
    at = mask.find(_RUN)
    while at >= 0:  # most bodies have none; a sha of zeros has its run inside a string
        end = mask.find(b" ", at)
        if end < 0:
            end = len(body)
        i = at - 1
        negative = i >= 0 and body[i] == _NEGATIVE
        if negative or end - at >= 20:
            i -= negative
            while i >= 0 and body[i] in b" \t\r\n":
                i -= 1
            if i >= 0 and body[i] in b":,[":
                return True
        at = mask.find(_RUN, end)
    return False


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
    """Whether a value lies more than `limit` levels down (the top is level 1), walked a level at a time."""
    level = [value]
    for depth in range(1, limit + 1):
        below: list = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if depth == limit and children:
                return True
            below += [c for c in children if isinstance(c, (dict, list))]
        if not below:
            return False
        level = below
    return False


def parse_json_object(body: bytes) -> dict:
    """Strict UTF-8, a JSON object, not absurdly nested; BadPayload says what is wrong."""
    if _has_long_number(body):
        data = _parse_slowly(body)
    else:
        try:
            data = orjson.loads(body)  # the fast parser for what GitLab sends
        except orjson.JSONDecodeError:
            data = _parse_slowly(body)  # the standard one for the rest: its verdicts and messages, NaN
    if not isinstance(data, dict):
        raise BadPayload("JSON body is not an object")
    # A value can lie no deeper than the brackets opened before it: most bodies are cleared by counting them.
    if body.count(b"{") + body.count(b"[") >= MAX_JSON_DEPTH and _too_deep(data, MAX_JSON_DEPTH):
        raise BadPayload("JSON nested too deeply")
    return data


def _parse_slowly(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("body is not valid UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise BadPayload("JSON nested too deeply") from None
    except ValueError as exc:
        raise BadPayload(f"body is not JSON: {exc.msg}") from None


def scrub(payload: dict, jobs: list, redactor) -> tuple[dict, list]:
    """What is stored of a delivery: no CI variables (people pass tokens that way), every free text redacted
    (commit messages, MR title and description, branch names, note text), ids, urls and shape kept."""
    redact, changeable = redactor.redact_text, redactor.changeable
    attrs = payload.get("object_attributes")
    if isinstance(attrs, dict):
        for variable in attrs.get("variables") or []:
            if isinstance(variable, dict):  # not kept, but a value named like a secret is known to redact now
                redact(f"{variable.get('key')}={variable.get('value')}")
        payload = {**payload, "object_attributes": {k: v for k, v in attrs.items() if k != "variables"}}
    cleaned = []
    for job in jobs:  # a job's payload is mostly ids and the door's own words: returned as it is, kept as it is
        kept = redact_payload(job.payload, redact, changeable)
        cleaned.append(job if kept is job.payload else dataclasses.replace(job, payload=kept))
    return redact_payload(payload, redact, changeable), cleaned


def _auth_settings(settings) -> dict:
    return {
        "secret": settings.gitlab_webhook_secret.get_secret_value() if settings.gitlab_webhook_secret else None,
        "signing_token": (
            settings.gitlab_webhook_signing_token.get_secret_value() if settings.gitlab_webhook_signing_token else None
        ),
        "allow_unsigned": settings.gitlab_webhook_allow_unsigned,
    }


class Rejected(Exception):
    """A delivery refused before routing: the status, a reason for metrics, the text to answer."""

    def __init__(self, status: int, reason: str, text: str):
        super().__init__(text)
        self.status, self.reason, self.text = status, reason, text


async def authenticated_body(request: web.Request, settings, reader: BodyReader) -> tuple[dict[str, str], bytes]:
    """The lowered headers and the body of an authenticated delivery, else Rejected.

    The secret token is in the headers, so an unauthenticated caller is refused before a byte of its body is read;
    only a signed delivery needs its body read (under the reader's size, time and concurrency limits) first."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    auth = _auth_settings(settings)
    early = authenticate_headers(headers, now=time.time(), **auth)
    if early is not None and not early.accepted:
        raise Rejected(reject_status(early), early.value, REJECT_TEXT[early])
    try:
        body = await reader.read(request, settings.gitlab_webhook_max_body_bytes)
    except BodyRefused as exc:
        raise Rejected(exc.status, exc.reason, exc.text) from None
    if early is None:
        late = verify_signature(auth["signing_token"], headers, body, time.time())
        if not late.accepted:
            log.info("refused a GitLab delivery: %s (%s)", late.value, describe(body))
            raise Rejected(reject_status(late), late.value, REJECT_TEXT[late])
    return headers, body


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
    try:
        headers, body = await authenticated_body(request, settings, app[GITLAB_BODIES])
    except Rejected as exc:
        return _reject(metrics, exc.status, exc.reason, exc.text)

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
        stored, jobs = scrub(payload, routed.jobs, app[SERVICES].redactor.fresh())
        record = IntakeRecord(
            source="gitlab_webhook",
            delivery_key=routed.delivery_key,
            event_type=event_type,
            payload=stored,
            received_at=utcnow(),
            jobs=jobs,
            project_id=routed.project_id,
            object_id=routed.object_id,
            status=routed.status,
            max_attempts=settings.queue_max_attempts,
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
        log.info(
            "%s %s %s in %.1f ms", event_type, routed.status, result.outcome, (time.perf_counter() - started) * 1000
        )
    return web.Response(status=200)
