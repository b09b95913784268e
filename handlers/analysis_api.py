"""GET /analysis, /analysis/{id}, /analysis/stats/summary, behind a bearer token."""
from __future__ import annotations

import hmac

from aiohttp import web

from handlers.appkeys import SERVICES

from storage import analyses
from storage.analyses import Analysis

MAX_PER_PAGE = 100
SUMMARY_ROWS = 100_000  # the newest analyses the summary counts


@web.middleware
async def require_api_token(request: web.Request, handler):
    if not request.path.startswith("/analysis"):
        return await handler(request)
    token = request.app[SERVICES].settings.api_token
    if token is None or not token.get_secret_value():
        return web.json_response({"error": "the analysis API is off; set CICD_BOT_API_TOKEN to enable it"}, status=404)
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        return web.json_response({"error": "missing or invalid bearer token"}, status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    return await handler(request)


def analysis_json(a: Analysis) -> dict:
    return {
        "id": a.id, "project_id": a.project_id, "project_path": a.project_path, "pipeline_id": a.pipeline_id,
        "job_id": a.job_id, "signature": a.signature, "trigger": a.trigger, "status": a.status,
        "provider": a.provider, "model": a.model, "category": a.category, "verdict": a.verdict,
        "summary": a.summary, "tokens_in": a.tokens_in, "tokens_out": a.tokens_out,
        "tokens_cached": a.tokens_cached, "cost_usd": a.cost_usd, "latency_ms": a.latency_ms,
        "feedback": {"up": a.feedback_up, "down": a.feedback_down}, "reused_from_id": a.reused_from_id,
        "created_at": a.created_at.isoformat(), "result": a.result,
    }


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None
    return max(lo, min(hi, value))


async def get_analysis(request: web.Request) -> web.Response:
    try:
        analysis_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPBadRequest(text="analysis id must be a number") from None
    a = await analyses.get_analysis(request.app[SERVICES].db, analysis_id)
    if a is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(analysis_json(a))


async def list_analyses(request: web.Request) -> web.Response:
    page = _int_param(request, "page", 1, 1, 10**6)
    per_page = _int_param(request, "per_page", 20, 1, MAX_PER_PAGE)
    found = await analyses.list_analyses(
        request.app[SERVICES].db, page=page, per_page=per_page, project=request.query.get("project"),
        status=request.query.get("status"), provider=request.query.get("provider"))
    return web.json_response({"page": page, "per_page": per_page, "total": found.total,
                              "items": [analysis_json(a) for a in found.items]})


def percentile(values: list[int], q: float) -> float | None:
    """Nearest-rank percentile of a list; None when it is empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


async def stats_summary(request: web.Request) -> web.Response:
    rows = await analyses.summary_rows(request.app[SERVICES].db, limit=SUMMARY_ROWS)
    by_provider: dict[str, dict] = {}
    latencies: list[int] = []
    errors = 0
    for r in rows:
        p = by_provider.setdefault(r.provider or "none", {
            "analyses": 0, "ok": 0, "errors": 0, "reused": 0, "tokens_in": 0, "tokens_out": 0,
            "tokens_cached": 0, "cost_usd": 0.0, "feedback_up": 0, "feedback_down": 0, "_lat": []})
        p["analyses"] += 1
        p["ok" if r.status == "ok" else "errors" if r.status == "error" else "reused"] += 1
        for k in ("tokens_in", "tokens_out", "tokens_cached", "feedback_up", "feedback_down"):
            p[k] += getattr(r, k) or 0
        p["cost_usd"] += r.cost_usd or 0.0
        if r.status == "error":
            errors += 1
        if r.status == "ok":
            p["_lat"].append(r.latency_ms)
            latencies.append(r.latency_ms)
    for p in by_provider.values():
        lat = p.pop("_lat")
        p["cost_usd"] = round(p["cost_usd"], 6)
        p["latency_ms"] = {"p50": percentile(lat, 50), "p95": percentile(lat, 95)}
    total = len(rows)
    return web.json_response({
        "analyses": total,
        "success_rate": round((total - errors) / total, 4) if total else None,
        "latency_ms": {"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
                       "p99": percentile(latencies, 99)},
        "tokens": {"in": sum(p["tokens_in"] for p in by_provider.values()),
                   "out": sum(p["tokens_out"] for p in by_provider.values()),
                   "cached": sum(p["tokens_cached"] for p in by_provider.values())},
        "cost_usd": round(sum(p["cost_usd"] for p in by_provider.values()), 6),
        "by_provider": by_provider,
    })
