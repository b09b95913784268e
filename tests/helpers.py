"""Test helpers: settings, services and a real HTTP server on loopback."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.core.redact import Redactor
from bot.core.types import AnalysisRequest, Excerpt, ExcerptLine, JobFailure
from bot.providers.base import InMemoryLedger
from bot.providers.heuristic import HeuristicProvider
from bot.providers.router import ProviderRouter
from bot.runtime.services import Services
from config.settings import Settings

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
ROOT = TESTS.parent  # the repository


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
        await services.intake.close()
        if services.http is not None:
            await services.http.close()


@asynccontextmanager
async def bot_services(db, gitlab, openai=None, **overrides):
    """Services wired as app.py wires them, against a fake GitLab (and a fake OpenAI when given)."""
    import app as wiring
    from tests.fakes.gitlab_server import DEFAULT_TOKEN

    settings = make_settings(
        GITLAB_BASE_URL=gitlab.url,
        GITLAB_API_TOKEN=DEFAULT_TOKEN,
        **({"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": openai.url, "AI_MAX_ATTEMPTS": 2} if openai else {}),
        **overrides,
    )
    services = Services.build(settings, db=db)
    await services.start()
    await wiring.attach(services)
    try:
        yield services
    finally:
        await services.router.aclose()
        await services.http.close()


FAKE_KEY = "test-key-" + "0" * 8


LOG_LINES = [
    "$ pytest -q tests/test_api.py",
    "collected 12 items",
    "tests/test_api.py::test_login FAILED",
    "E   AssertionError: expected 200, got 500",
    "ERROR: Job failed: exit code 1",
]


def heuristic() -> HeuristicProvider:
    return HeuristicProvider()


def provider_settings(**env) -> Settings:
    """Settings for provider tests: no env file, quick retries, nothing else from the app's checks."""
    base = {"AI_MAX_ATTEMPTS": 3, "AI_RETRY_MAX_SECONDS": 10, "AI_TIMEOUT_SECONDS": 5}
    return Settings(_env_file=None, **{**base, **env})


def openai_env(fake, **extra):
    return {"OPENAI_API_KEY": FAKE_KEY, "OPENAI_BASE_URL": fake.url, "DEFAULT_AI_PROVIDER": "openai", **extra}


def anthropic_env(fake, **extra):
    return {"ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": fake.url, "DEFAULT_AI_PROVIDER": "anthropic", **extra}


def make_request(lines=LOG_LINES, **kw) -> AnalysisRequest:
    excerpt = Excerpt(lines=[ExcerptLine(n=100 + i, text=t) for i, t in enumerate(lines)], total_lines=200)
    job = JobFailure(job_id=9, name="unit-tests", stage="test", excerpt=excerpt)
    return AnalysisRequest(
        project_path="group/app", project_id=1, pipeline_id=77, ref="feature", sha="a" * 40, job=job, **kw
    )


def router_for(settings, ledger=None) -> ProviderRouter:
    return ProviderRouter(
        settings, ledger=ledger or InMemoryLedger(), redactor=Redactor.from_settings(settings), heuristic=heuristic()
    )
