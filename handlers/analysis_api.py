"""GET /analysis, /analysis/{id}, /analysis/stats/summary, behind a bearer token."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from handlers.appkeys import SERVICES
from handlers.auth import Access, requires
from handlers.schemas import MAX_ROW_ID, AnalysisListQuery, AnalysisOut, AnalysisPage, Error, StatsSummary
from storage import analyses

SUMMARY_ROWS = 100_000  # the newest analyses the summary counts


def _json(model, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json", by_alias=True), status=status)


@requires(Access.bearer)
async def get_analysis(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ROW_ID:
        return _json(Error(error="analysis id must be a number from 1 to 2147483647"), 400)
    a = await analyses.get_analysis(request.app[SERVICES].db, int(raw))
    if a is None:
        return _json(Error(error="not found"), 404)
    return _json(AnalysisOut.of(a))


@requires(Access.bearer)
async def list_analyses(request: web.Request) -> web.Response:
    try:
        q = AnalysisListQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        first = exc.errors()[0]
        return _json(Error(error=f"{'.'.join(map(str, first['loc']))}: {first['msg']}"), 400)
    found = await analyses.list_analyses(
        request.app[SERVICES].db,
        page=q.page,
        per_page=q.per_page,
        project=q.project,
        status=q.status,
        provider=q.provider,
    )
    page = AnalysisPage(
        page=q.page, per_page=q.per_page, total=found.total, items=[AnalysisOut.of(a) for a in found.items]
    )
    return _json(page)


def percentile(values: list[int], q: float) -> float | None:
    """Nearest-rank percentile of a list; None when it is empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


@requires(Access.bearer)
async def stats_summary(request: web.Request) -> web.Response:
    rows = await analyses.summary_rows(request.app[SERVICES].db, limit=SUMMARY_ROWS)
    by_provider: dict[str, dict] = {}
    latencies: list[int] = []
    errors = 0
    for r in rows:
        p = by_provider.setdefault(
            r.provider or "none",
            {
                "analyses": 0,
                "ok": 0,
                "errors": 0,
                "reused": 0,
                "tokens_in": 0,
                "tokens_out": 0,
                "tokens_cached": 0,
                "cost_usd": 0.0,
                "feedback_up": 0,
                "feedback_down": 0,
                "_lat": [],
            },
        )
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
    return _json(
        StatsSummary.model_validate(
            {
                "analyses": total,
                "success_rate": round((total - errors) / total, 4) if total else None,
                "latency_ms": {
                    "p50": percentile(latencies, 50),
                    "p90": percentile(latencies, 90),
                    "p99": percentile(latencies, 99),
                },
                "tokens": {
                    "in": sum(p["tokens_in"] for p in by_provider.values()),
                    "out": sum(p["tokens_out"] for p in by_provider.values()),
                    "cached": sum(p["tokens_cached"] for p in by_provider.values()),
                },
                "cost_usd": round(sum(p["cost_usd"] for p in by_provider.values()), 6),
                "by_provider": by_provider,
            }
        )
    )
