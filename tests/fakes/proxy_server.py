"""A forwarding HTTP proxy on loopback that records every request it carries, for the outbound-proxy tests."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

HOP_BY_HOP = {
    "host",
    "proxy-authorization",
    "proxy-connection",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
}


class FakeProxy:
    """`async with FakeProxy() as proxy:` set HTTP_PROXY=proxy.url; proxy.seen lists the absolute URLs carried."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeProxy:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        self._client = aiohttp.ClientSession()  # goes direct: no trust_env, no proxy
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        target = request.raw_path  # a proxy gets the absolute URL in the request line
        if not target.startswith("http://"):
            return web.Response(status=400, text="not a proxy request")
        self.seen.append(target)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        assert self._client is not None
        async with self._client.request(
            request.method, target, headers=headers, data=body, allow_redirects=False
        ) as upstream:
            payload = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
            return web.Response(status=upstream.status, body=payload, headers=kept)
