"""GET /dashboard (and its JSON), the login form and logout: what fails, how often, for whom, at what cost."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from aiohttp import web
from markupsafe import Markup
from pydantic import ValidationError

from bot.core import dashboard as dash
from bot.core import session
from bot.core.render import charts
from handlers.appkeys import SERVICES
from handlers.auth import (
    AUTHENTICATED_BY,
    CROSS_SITE,
    NOT_YOUR_FORM,
    SESSION_COOKIE,
    Access,
    api_token,
    clear_session_cookie,
    new_session,
    requires,
    same_origin_post,
    session_ok,
    set_session_cookie,
    tokens_match,
)
from handlers.schemas import Error, LoginForm, LogoutForm
from handlers.templating import render
from storage.dashboard import dashboard_rows

DASHBOARD_PATH = "/dashboard"
# Where a login may send the browser on: our own dashboard, nothing else (no open redirect).
_LOCAL_NEXT = re.compile(r"^/dashboard(?:[/?][^\\\s]*)?$")

CHART_FAILURES = "Failed pipelines per day, by project"
CHART_TOKENS = "Model tokens per day, by provider"
CHART_COST = "Model cost per day (USD), by provider"
CHART_VERDICTS = "Verdicts of the analyses"
CHART_FEEDBACK = "👍 and 👎 on the answers"
CHART_SIGNATURE = "Failures per day with this signature"
BAD_FILTER = "{field}: {problem}"
NOT_A_PATH = "must be a GitLab group or project path, such as acme/platform"
WRONG_TOKEN = "That is not the API token."
OFF = "The dashboard is off: set CICD_BOT_API_TOKEN to enable it."
NOT_A_FORM = "That is not the form this page sends."


def _filters(request: web.Request) -> dash.Filters:
    try:
        return dash.Filters.model_validate(dict(request.query))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "query"
        problem = NOT_A_PATH if first["type"] == "string_pattern_mismatch" else first["msg"]
        raise ValueError(BAD_FILTER.format(field=field, problem=problem)) from None


async def _dashboard(request: web.Request, filters: dash.Filters) -> dash.Dashboard:
    services = request.app[SERVICES]
    now = datetime.now(UTC)
    since = datetime.combine(now.date() - timedelta(days=filters.days - 1), time(0), tzinfo=UTC)
    rows = await dashboard_rows(services.db, since=since, group=filters.group, project=filters.project)
    return dash.build(rows, filters=filters, now=now, gitlab_base_url=services.settings.gitlab_base_url)


@requires(Access.session)
async def dashboard_data(request: web.Request) -> web.Response:
    try:
        filters = _filters(request)
    except ValueError as exc:
        return web.json_response(Error(error=str(exc)).model_dump(), status=400)
    data = await _dashboard(request, filters)
    return web.json_response(data.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


def _short_day(day: str) -> str:
    return day[5:]  # MM-DD


def chart_markup(d: dash.Dashboard) -> dict[str, Markup]:
    """Every chart of the page as SVG; the renderers escape what they draw, so the markup may go in as is."""
    days = [_short_day(x) for x in d.days]
    per_project = [charts.Series(s.label, s.values) for s in d.failures_per_day.projects]
    tokens = [charts.Series(p.provider, p.daily_tokens) for p in d.providers]
    cost = [charts.Series(p.provider, p.daily_cost) for p in d.providers]
    out = {
        "failures": charts.stacked_bars(days, per_project, title=CHART_FAILURES, width=charts.WIDE),
        "tokens": charts.stacked_bars(days, tokens, title=CHART_TOKENS, axis_fmt=charts.compact),
        "cost": charts.stacked_bars(days, cost, title=CHART_COST, fmt=lambda v: f"${v:,.2f}"),
        "verdicts": charts.share_bar([(v.label, v.count) for v in d.verdicts], title=CHART_VERDICTS),
        "feedback": charts.share_bar([("👍", d.feedback.up), ("👎", d.feedback.down)], title=CHART_FEEDBACK),
    }
    for i, s in enumerate(d.top_signatures):
        out[f"signature{i}"] = charts.sparkline(s.daily, title=CHART_SIGNATURE)
    return {k: Markup(v) for k, v in out.items()}


@requires(Access.page)
async def dashboard_page(request: web.Request) -> web.Response:
    try:
        filters = _filters(request)
    except ValueError as exc:
        return render("dashboard_error.html", status=400, message=str(exc))
    data = await _dashboard(request, filters)
    csrf = None
    if request.get(AUTHENTICATED_BY) == "session":
        csrf = session.csrf_token(session.session_key(api_token(request)), request.cookies[SESSION_COOKIE])
    return render(
        "dashboard.html",
        d=data,
        charts=chart_markup(data),
        legends={
            "failures": [(s.label, f"{s.total:,.0f}") for s in data.failures_per_day.projects],
            "verdicts": [(v.label, f"{v.count:,}") for v in data.verdicts],
        },
        colour=charts.colour_class,
        csrf=csrf,
    )


def _next(value: str | None) -> str:
    return value if value and _LOCAL_NEXT.match(value) and not value.startswith("//") else DASHBOARD_PATH


async def login_form(request: web.Request) -> web.Response:
    token = api_token(request)
    if not token:
        return render("login.html", status=404, private=False, error=OFF, next=DASHBOARD_PATH)
    target = _next(request.query.get("next"))
    if session_ok(request, token):
        raise web.HTTPSeeOther(target)
    return render("login.html", private=False, error=None, next=target)


async def login(request: web.Request) -> web.Response:
    token = api_token(request)
    if not token:
        return web.json_response(Error(error=OFF).model_dump(), status=404)
    if not same_origin_post(request):
        return render("dashboard_error.html", status=403, message=CROSS_SITE)
    try:
        form = LoginForm.model_validate(dict(await request.post()))
    except (ValidationError, ValueError):
        return render("login.html", status=400, private=False, error=NOT_A_FORM, next=DASHBOARD_PATH)
    target = _next(form.next)
    if not tokens_match(form.token, token):
        return render("login.html", status=401, private=False, error=WRONG_TOKEN, next=target)
    response = web.HTTPSeeOther(target)
    set_session_cookie(request, response, new_session(token))
    raise response


async def logout(request: web.Request) -> web.Response:
    if not same_origin_post(request):
        return render("dashboard_error.html", status=403, message=CROSS_SITE)
    try:
        form = LogoutForm.model_validate(dict(await request.post()))
    except (ValidationError, ValueError):
        return render("dashboard_error.html", status=400, message=NOT_A_FORM)
    token = api_token(request)
    if token and session_ok(request, token):
        if not session.csrf_ok(session.session_key(token), request.cookies.get(SESSION_COOKIE), form.csrf):
            return render("dashboard_error.html", status=403, message=NOT_YOUR_FORM)
    response = web.HTTPSeeOther("/dashboard/login")
    clear_session_cookie(request, response)
    raise response
