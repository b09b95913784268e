"""Shared fixtures: a migrated database on SQLite and, where reachable, PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storage import migrate
from storage.db import Database

# The fake model servers' fixtures (fake_openai, fake_anthropic) for every test.
pytest_plugins = ["tests.fakes"]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
# CI sets this so that an unreachable PostgreSQL fails the run instead of skipping quietly.
REQUIRE_PG = os.environ.get("CICD_BOT_REQUIRE_POSTGRES") == "1"

_pg_reachable: bool | None = None


async def postgres_available() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        db = Database(PG_URL)
        try:
            _pg_reachable = await asyncio.wait_for(db.ping(), 5)
        except Exception:
            _pg_reachable = False
        finally:
            await db.dispose()
    return _pg_reachable


async def require_postgres() -> None:
    if await postgres_available():
        return
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable and CICD_BOT_REQUIRE_POSTGRES=1")
    pytest.skip(f"PostgreSQL at {PG_URL} is not reachable (set TEST_DATABASE_URL to run these tests)")


async def make_database(kind: str, tmp_path: Path) -> tuple[Database, callable]:
    """A freshly migrated database; returns it and an async cleanup function."""
    if kind == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await migrate.upgrade(db)

        async def cleanup() -> None:
            await db.dispose()

        return db, cleanup
    await require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = Database(PG_URL)
    from sqlalchemy import text

    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(PG_URL, schema=schema)
    await migrate.upgrade(db)

    async def cleanup() -> None:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()

    return db, cleanup


@asynccontextmanager
async def migrated(kind: str, tmp_path: Path):
    db, cleanup = await make_database(kind, tmp_path)
    try:
        yield db
    finally:
        await cleanup()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request, tmp_path):
    async with migrated(request.param, tmp_path) as db:
        yield db


@pytest.fixture
async def sqlite_db(tmp_path):
    async with migrated("sqlite", tmp_path) as db:
        yield db


@pytest.fixture
async def pg_db(tmp_path):
    async with migrated("postgres", tmp_path) as db:
        yield db
