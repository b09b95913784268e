"""Test helpers: settings, services and a real HTTP server on loopback."""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.runtime.services import Services

DATA = Path(__file__).resolve().parent / "data"


def gitlab_payload(name: str) -> dict:
    return json.loads((DATA / "gitlab" / f"{name}.json").read_text())


def make_settings(**overrides):
    base = {"DATABASE_URL": "sqlite+aiosqlite:///unused.db", "WORKER_CONCURRENCY": 0}
    base.update(overrides)
    from app import load

    return load(None, **base)


@asynccontextmanager
async def running_app(db, **overrides):
    """The real aiohttp application on 127.0.0.1 with the given database; yields (services, client, base_url)."""
    from app import create_app

    settings = make_settings(**overrides)
    services = Services.build(settings, db=db)
    await services.start()
    app = create_app(services)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as client:
            yield services, client, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        if services.http is not None:
            await services.http.close()
