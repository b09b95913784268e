"""POST /webhooks/gitlab/test (what the webhook would do with a delivery, doing none of it) and GET /webhooks/gitlab/info."""

from __future__ import annotations

import logging

from aiohttp import web

from handlers import gitlab_routing
from handlers.appkeys import GITLAB_BODIES, SERVICES
from handlers.auth import Access, requires
from handlers.gitlab_webhooks import WEBHOOKS_OFF, BadPayload, Rejected, authenticated_body, parse_json_object
from handlers.schemas import Error, HookEvent, WebhookInfo, WebhookTestResult, WouldEnqueue
from storage.db import DatabaseError
from storage.inbox import delivery_recorded
from storage.queue import active_dedupe_keys

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/gitlab"
NO_EVENT = "missing X-Gitlab-Event header"
WOULD_QUEUE = "would be recorded and {n} job(s) queued"
WOULD_KEEP = "would be recorded for history; no job is queued for it"
WOULD_KEEP_FOR_A_HUMAN = "routing failed; the delivery would be kept for a human and nothing queued"


def _error(status: int, text: str) -> web.Response:
    return web.json_response(Error(error=text).model_dump(), status=status)


def _reason(routed: gitlab_routing.RoutedEvent) -> str:
    if not routed.record:
        return routed.ignored_reason
    if routed.status == "route_error":
        return WOULD_KEEP_FOR_A_HUMAN
    return WOULD_QUEUE.format(n=len(routed.jobs)) if routed.jobs else WOULD_KEEP


async def webhook_test(request: web.Request) -> web.Response:
    """Authenticate and route like POST /webhooks/gitlab; record and enqueue nothing."""
    services = request.app[SERVICES]
    settings = services.settings
    if not settings.webhook_enabled:
        return _error(404, WEBHOOKS_OFF)
    try:
        headers, body = await authenticated_body(request, settings, request.app[GITLAB_BODIES])
    except Rejected as exc:
        return _error(exc.status, exc.text)
    event_type = headers.get("x-gitlab-event", "").strip()
    if not event_type:
        return _error(400, NO_EVENT)
    try:
        payload = parse_json_object(body)
    except BadPayload as exc:
        return _error(400, str(exc))
    try:
        routed = gitlab_routing.route(event_type, payload, headers, body, services.identity.username)
    except Exception:
        log.exception("could not route %s delivery (dry run)", event_type)
        routed = gitlab_routing.unroutable(event_type, headers, body)
    recorded: bool | None = None
    queued: set[str] | None = None
    if routed.record:
        try:
            recorded = await delivery_recorded(services.db, routed.delivery_key)
            queued = await active_dedupe_keys(services.db, [j.dedupe_key for j in routed.jobs])
        except (DatabaseError, OSError):
            log.warning("dry run: could not look up earlier deliveries", exc_info=True)
    result = WebhookTestResult(
        event_type=event_type,
        decision="record" if routed.record else "ignore",
        reason=_reason(routed),
        delivery_key=routed.delivery_key,
        already_recorded=recorded,
        project_id=routed.project_id,
        object_id=routed.object_id,
        status=routed.status,
        jobs=[
            WouldEnqueue(
                kind=j.kind,
                dedupe_key=j.dedupe_key,
                delay_seconds=j.delay_seconds,
                hasten_existing=j.hasten_existing,
                payload=j.payload,
                already_queued=None if queued is None else j.dedupe_key in queued,
            )
            for j in routed.jobs
        ],
    )
    return web.json_response(result.model_dump(mode="json"))


def handled_events() -> list[HookEvent]:
    return [
        HookEvent(
            header=header,
            hook_setting=gitlab_routing.HOOK_SETTINGS[header],
            does=(route.__doc__ or "").strip(),
        )
        for header, route in gitlab_routing.EVENT_ROUTES.items()
    ]


@requires(Access.bearer)
async def webhook_info(request: web.Request) -> web.Response:
    """The events handled and whether the secrets are set (never their values)."""
    services = request.app[SERVICES]
    s = services.settings
    info = WebhookInfo(
        path=WEBHOOK_PATH,
        enabled=s.webhook_enabled,
        events=handled_events(),
        secret_token_set=bool(s.gitlab_webhook_secret and s.gitlab_webhook_secret.get_secret_value()),
        signing_token_set=bool(s.gitlab_webhook_signing_token and s.gitlab_webhook_signing_token.get_secret_value()),
        unsigned_allowed=s.gitlab_webhook_allow_unsigned,
        accepts_deliveries=s.webhook_enabled and (s.webhook_auth_configured or s.gitlab_webhook_allow_unsigned),
        max_body_bytes=s.gitlab_webhook_max_body_bytes,
        bot_username=services.identity.username,
    )
    return web.json_response(info.model_dump(mode="json"))
