"""GET /health, /health/detailed and /metrics; they never call a model or GitLab."""

from __future__ import annotations

from aiohttp import web

from bot.providers import catalog
from handlers import reconcile
from handlers.appkeys import SERVICES
from storage import migrate
from storage.analyses import totals_by_provider
from storage.heartbeats import last_heartbeat
from storage.types import utcnow

WEBHOOK_SECRET_HELP = (
    "GitLab webhooks are refused until GITLAB_WEBHOOK_SECRET (or GITLAB_WEBHOOK_SIGNING_TOKEN) is set; "
    "use the same value as the hook's secret token in GitLab"
)

API_TOKEN_HELP = (
    "GITLAB_API_TOKEN is not set: failures are recorded but their logs cannot be read, so nothing is "
    "analysed or posted on merge requests; give the bot user's token (scope api)"
)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def health_detailed(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SERVICES].settings
    db = app[SERVICES].db
    report: dict = {"status": "ok", "environment": settings.environment}
    db_ok = await db.ping()
    report["database"] = {"reachable": db_ok, "backend": db.dialect}
    if db_ok:
        try:
            st = await migrate.status(db)
            report["database"]["migrations"] = {"current": st.current, "head": st.head, "up_to_date": st.up_to_date}
            counts = await app[SERVICES].queue.counts()
            report["queue"] = {"depth": counts["queued"] + counts["running"], **counts, "dead_letters": counts["dead"]}
            last = await last_heartbeat(db)
            report["workers"] = {
                "last_heartbeat": last.isoformat() if last else None,
                "seconds_since_heartbeat": round((utcnow() - last).total_seconds(), 1) if last else None,
            }
            report["reconcile"] = await reconcile.health(app[SERVICES])
            if not st.up_to_date or report["reconcile"].get("hooks_broken"):
                report["status"] = "degraded"
        except Exception as exc:  # a half-migrated database still gets a report
            report["database"]["error"] = str(exc)[:300]
            report["status"] = "degraded"
    else:
        report["status"] = "degraded"
    report["spool"] = app[SERVICES].intake.health()
    report["providers"] = {"configured": catalog.configured(settings), "default": catalog.default_provider(settings)}
    webhook = {
        "auth": "configured"
        if settings.webhook_auth_configured
        else ("unsigned allowed" if settings.gitlab_webhook_allow_unsigned else "refusing all deliveries")
    }
    if not settings.webhook_auth_configured and not settings.gitlab_webhook_allow_unsigned:
        webhook["help"] = WEBHOOK_SECRET_HELP
        report["status"] = "degraded"
    report["gitlab"] = {"api": settings.gitlab_api_configured, "base_url": settings.gitlab_base_url, "webhook": webhook}
    if not settings.gitlab_api_configured:
        report["gitlab"]["help"] = API_TOKEN_HELP
    report["slack"] = {"enabled": settings.slack_enabled}
    report["email"] = {"enabled": settings.email_enabled}
    return web.json_response(report, status=200 if db_ok else 503)


async def metrics_view(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[SERVICES].metrics
    try:
        counts = await app[SERVICES].queue.counts()
        for state, n in counts.items():
            metrics.queue_jobs.labels(state).set(n)
        rows = await totals_by_provider(app[SERVICES].db)
        metrics.history.snapshot = [
            {
                "provider": p or "none",
                "outcome": st,
                "count": n,
                "tokens_in": ti or 0,
                "tokens_out": to or 0,
                "tokens_cached": tc or 0,
                "cost_usd": float(c or 0),
            }
            for p, st, n, ti, to, tc, c in rows
        ]
    except Exception:
        pass  # the process metrics are still worth serving when the database is away
    return web.Response(body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
