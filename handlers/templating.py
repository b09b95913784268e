"""HTML pages from the package's Jinja templates (autoescaped), with the headers every page carries, and its assets."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import jinja2
from aiohttp import web

# No script anywhere; styles and images only from this server; no framing; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # GitLab links get no referrer; our own forms a real Origin
    "X-Frame-Options": "DENY",
}
# Assets served at /static/{name}: name -> content type.
ASSETS = {"cicd-bot.css": "text/css; charset=utf-8"}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("handlers", "templates"),
        autoescape=True,  # every value is text unless a pure renderer built it as markup (the charts)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def asset(name: str) -> bytes:
    return resources.files("handlers").joinpath("static", name).read_bytes()


def asset_url(name: str) -> str:
    """The asset's URL with a content hash, so browsers may cache it for long and still see a new version."""
    return f"/static/{name}?v={hashlib.sha256(asset(name)).hexdigest()[:12]}"


def render(template: str, *, status: int = 200, private: bool = True, **context) -> web.Response:
    html = environment().get_template(template).render(css_url=asset_url("cicd-bot.css"), **context)
    headers = dict(PAGE_HEADERS)
    # Pages behind the token must not linger in shared or back-button caches.
    headers["Cache-Control"] = "no-store" if private else "no-cache"
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=headers)


async def static_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        return web.json_response({"error": "not found"}, status=404)
    return web.Response(
        body=asset(name),
        headers={
            "Content-Type": ASSETS[name],
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )
