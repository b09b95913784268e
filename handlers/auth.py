"""Who may read the API and the dashboard: the bearer token (CICD_BOT_API_TOKEN) or a dashboard session signed with it."""

from __future__ import annotations

import hmac
import secrets
import time
from enum import StrEnum
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.core import session
from handlers.appkeys import SERVICES

API_OFF = "the API and the dashboard are off; set CICD_BOT_API_TOKEN to enable them"
BAD_TOKEN = "missing or invalid bearer token"
CROSS_SITE = "Cross-site form posts are refused."
NOT_YOUR_FORM = "This form is not from your session; reload the page and try again."

SESSION_COOKIE = "cicd_bot_session"
COOKIE_PATH = "/dashboard"
LOGIN_PATH = "/dashboard/login"
# How the request was let in: "bearer" or "session".
AUTHENTICATED_BY = web.RequestKey("authenticated_by", str)

_ACCESS_ATTR = "__cicd_bot_access__"


class Access(StrEnum):
    """What a handler asks of its caller; the OpenAPI document reads the same mark."""

    bearer = "bearer"  # the bearer token in the Authorization header
    session = "session"  # the bearer token, or a dashboard session cookie (JSON: 401 without either)
    page = "page"  # like session, but a browser without either is sent to the login form


def requires(access: Access):
    """Mark a handler; the middleware below enforces the mark."""

    def mark(handler):
        setattr(handler, _ACCESS_ATTR, access)
        return handler

    return mark


def access_of(handler) -> Access | None:
    return getattr(handler, _ACCESS_ATTR, None)


def api_token(request: web.Request) -> str:
    token = request.app[SERVICES].settings.api_token
    return token.get_secret_value() if token is not None else ""


def tokens_match(given: str, token: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), token.encode())


def bearer_ok(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and tokens_match(given, token)


def session_ok(request: web.Request, token: str) -> bool:
    value = request.cookies.get(SESSION_COOKIE)
    return session.verify(session.session_key(token), value, now=int(time.time()))


def new_session(token: str) -> str:
    return session.issue(session.session_key(token), now=int(time.time()), nonce=secrets.token_hex(16))


def is_https(request: web.Request) -> bool:
    """HTTPS here or at the reverse proxy in front (a forged header can only add Secure, which is harmless)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    # Lax, not Strict: every GET under /dashboard only reads, and a link from Slack or GitLab should open the
    # dashboard without a second login; the only POSTs (login, logout) check Origin and a CSRF token.
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=session.SESSION_MAX_AGE_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH, samesite="Lax", secure=is_https(request), httponly=True)


def same_origin_post(request: web.Request) -> bool:
    """A form post from our own pages: Sec-Fetch-Site and Origin, where the browser sends them, say so."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:  # a browser sets it and no page can forge it
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or an old one: the session's CSRF token still guards logout
    hosts = {request.host.lower(), request.headers.get("X-Forwarded-Host", "").split(",")[0].strip().lower()}
    return urlsplit(origin).netloc.lower() in hosts - {""}


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}")


@web.middleware
async def require_auth(request: web.Request, handler):
    """Enforce the handler's mark; fail closed: no token configured means the protected routes are off."""
    access = access_of(request.match_info.handler)
    if access is None:
        return await handler(request)
    token = api_token(request)
    if not token:
        return web.json_response({"error": API_OFF}, status=404)
    if bearer_ok(request, token):
        request[AUTHENTICATED_BY] = "bearer"
        return await handler(request)
    if access is not Access.bearer and session_ok(request, token):
        request[AUTHENTICATED_BY] = "session"
        return await handler(request)
    if access is Access.page and "Authorization" not in request.headers:
        raise login_redirect(request)
    return web.json_response({"error": BAD_TOKEN}, status=401, headers={"WWW-Authenticate": "Bearer"})
