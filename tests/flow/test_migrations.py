"""Migrations upgrade and downgrade cleanly, match the models, and the CLI drives them."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage import migrate
from tests.helpers import ROOT


async def test_migrated_schema_matches_the_models(database):
    def diff(conn):
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        return compare_metadata(ctx, SQLModel.metadata)

    async with database.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_downgrade_to_base_and_up_again(database):
    await migrate.downgrade(database, "base")
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    assert (await migrate.status(database)).empty
    await migrate.upgrade(database)
    assert (await migrate.status(database)).up_to_date


def test_db_cli_on_a_new_sqlite_file(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}

    def cli(*args):
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "--env-file", "/dev/null", "db", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    behind = cli("status")
    assert behind.returncode == 1 and "state: empty" in behind.stdout
    assert cli("upgrade").returncode == 0
    assert "state: up to date" in cli("status").stdout
    refused = cli("reset")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert cli("reset", "--yes").returncode == 0
    assert cli("downgrade", "base").returncode == 0
    assert "state: empty" in cli("status").stdout


async def test_serve_refuses_a_postgres_database_that_is_behind(pg_db):
    from app import StartupError, ensure_schema
    from bot.runtime.services import Services
    from tests.helpers import make_settings

    await migrate.downgrade(pg_db, "base")
    services = Services.build(make_settings(), db=pg_db)
    try:
        await ensure_schema(services.db)
    except StartupError as exc:
        assert "cicd-bot db upgrade" in str(exc)
    else:
        raise AssertionError("serve started on a database without the schema")
