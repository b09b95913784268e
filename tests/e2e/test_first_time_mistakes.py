"""The mistakes of a first set-up, made with the real `cicd-bot` command: one line on stderr that names the fix."""

from __future__ import annotations

import socket
import subprocess
import uuid
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from storage.db import Database
from tests.botprocess import cli_command
from tests.conftest import PG_URL, require_postgres
from tests.fakes.postgres_auth import PasswordRefusingPostgres

PG_BASE = PG_URL.rpartition("/")[0]  # postgresql://postgres@127.0.0.1:5432


@dataclass
class Mistake:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    code: int = 2
    says: tuple[str, ...] = ()  # every one of these is in the line
    never: tuple[str, ...] = ()  # and none of these
    lines: int = 1
    needs: str = ""  # postgres | refusing_postgres | busy_port | powerless_role | migrated_sqlite


MISTAKES = {
    "missing database": Mistake(
        ["db", "upgrade"],
        {"DATABASE_URL": f"{PG_BASE}/does_not_exist"},
        says=('database "does_not_exist" does not exist', "createdb", "DATABASE_URL"),
        needs="postgres",
    ),
    "missing role": Mistake(
        ["db", "upgrade"],
        {"DATABASE_URL": "postgresql://no_such_role_x@127.0.0.1:5432/test"},
        says=('role "no_such_role_x" does not exist', "createuser", "DATABASE_URL"),
        needs="postgres",
    ),
    "wrong password": Mistake(
        ["db", "upgrade"],
        {"DATABASE_URL": "postgresql://bot:wrong@127.0.0.1:{port}/cicd"},
        says=('password authentication failed for user "bot"', "fix the password in DATABASE_URL"),
        never=("wrong",),
        needs="refusing_postgres",
    ),
    "no permission": Mistake(
        ["db", "upgrade"],
        {"DATABASE_URL": "postgresql://{role}"},
        says=("permission denied", "GRANT CREATE ON SCHEMA public TO", "OWNER TO"),
        needs="powerless_role",
    ),
    "PostgreSQL not running": Mistake(
        ["serve"],
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:{port}/cicd"},
        says=("connection refused", "is it running"),
        needs="closed_port",
    ),
    "missing SQLite directory (db)": Mistake(
        ["db", "upgrade"],
        {"DATABASE_URL": "sqlite+aiosqlite:///{tmp}/missing/bot.db"},
        says=("does not exist", "mkdir -p {tmp}/missing"),
    ),
    "missing SQLite directory (serve)": Mistake(
        ["serve"],
        {"DATABASE_URL": "sqlite+aiosqlite:///{tmp}/missing/bot.db"},
        says=("mkdir -p {tmp}/missing",),
        never=("is it running",),
    ),
    "port already taken": Mistake(
        ["serve", "--host", "127.0.0.1", "--port", "{port}"],
        says=("127.0.0.1:{port}", "already in use", "--port"),
        needs="busy_port",
    ),
    "bad LOG_LEVEL": Mistake(["config"], {"LOG_LEVEL": "verbose"}, says=("LOG_LEVEL", "'verbose'", "DEBUG, INFO")),
    "GITLAB_BASE_URL without scheme": Mistake(
        ["config"], {"GITLAB_BASE_URL": "gitlab.example.com"}, says=("GITLAB_BASE_URL", "https://gitlab.example.com")
    ),
    "GITLAB_BASE_URL with /api/v4": Mistake(
        ["config"],
        {"GITLAB_BASE_URL": "https://gitlab.example.com/api/v4"},
        says=("GITLAB_BASE_URL", "https://gitlab.example.com"),
    ),
    "env file that does not exist": Mistake(
        ["--env-file", "{tmp}/prod.env", "config"], says=("--env-file {tmp}/prod.env", "no such file")
    ),
    "SLACK_CHANNEL_MAP entry without =": Mistake(
        ["serve"], {"SLACK_CHANNEL_MAP": "acme=C0123ABCD,foo"}, says=("SLACK_CHANNEL_MAP", "'foo'", "path=channel")
    ),
    "SLACK_CHANNEL_MAP with a channel name": Mistake(
        ["serve"], {"SLACK_CHANNEL_MAP": "#ci=general"}, says=("SLACK_CHANNEL_MAP", "'#ci=general'", "C0123ABCD")
    ),
    "unsigned webhooks in production": Mistake(
        ["serve"],
        {"ENVIRONMENT": "production", "GITLAB_WEBHOOK_ALLOW_UNSIGNED": "true"},
        says=("GITLAB_WEBHOOK_SECRET", "GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION=true"),
    ),
    "db downgrade without a revision": Mistake(
        ["db", "downgrade"], says=("db downgrade", "-1", "--yes"), needs="migrated_sqlite"
    ),
    "a variable of the original spec": Mistake(
        ["config"], {"GITLAB_LOG_LINES_LIMIT": "500"}, code=0, says=("GITLAB_LOG_LINES_LIMIT", "EXCERPT_BUDGET_CHARS")
    ),
    "SECRET_KEY from the original spec": Mistake(
        ["config"], {"SECRET_KEY": "s3cret"}, code=0, says=("SECRET_KEY", "GITLAB_WEBHOOK_SECRET"), never=("s3cret",)
    ),
    "no .env file where none was asked for": Mistake(["config"], code=0, lines=0),
}


@asynccontextmanager
async def powerless_role():
    """A login role and a database of this test's own, in which the role may connect but create nothing."""
    await require_postgres()
    suffix = uuid.uuid4().hex[:8]
    role, database = f"cicd_powerless_{suffix}", f"cicd_powerless_{suffix}"
    admin = Database(PG_URL)
    engine = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        await conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    owner = Database(f"{PG_BASE}/{database}").engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with owner.connect() as conn:  # what PostgreSQL 15 does by default, said for older servers too
            await conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        yield f"{role}@127.0.0.1:5432/{database}"
    finally:
        await owner.dispose()
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            await conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        await admin.dispose()


def run(argv: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command() + argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", list(MISTAKES))
async def test_a_first_time_mistake_gets_one_line_that_names_the_fix(name, tmp_path):
    mistake = MISTAKES[name]
    facts = {"tmp": str(tmp_path)}
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
    with ExitStack() as stack:
        if mistake.needs == "postgres":
            await require_postgres()
        elif mistake.needs == "refusing_postgres":
            facts["port"] = str(stack.enter_context(PasswordRefusingPostgres()).port)
        elif mistake.needs in ("busy_port", "closed_port"):
            holder = stack.enter_context(socket.socket())
            holder.bind(("127.0.0.1", 0))
            if mistake.needs == "busy_port":
                holder.listen()
            facts["port"] = str(holder.getsockname()[1])
        elif mistake.needs == "migrated_sqlite":
            assert run(["db", "upgrade"], env, tmp_path).returncode == 0
        async with powerless_role() if mistake.needs == "powerless_role" else _nothing() as role:
            facts["role"] = role or ""
            env.update({k: v.format(**facts) for k, v in mistake.env.items()})
            done = run([arg.format(**facts) for arg in mistake.argv], env, tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == mistake.code, done.stderr
    assert len(lines) == mistake.lines, done.stderr
    assert "Traceback" not in done.stderr
    for words in mistake.says:
        assert words.format(**facts) in done.stderr, done.stderr
    for words in mistake.never:
        assert words not in done.stderr
    if mistake.needs == "migrated_sqlite":
        assert "state: up to date" in run(["db", "status"], env, tmp_path).stdout  # nothing was undone


@asynccontextmanager
async def _nothing():
    yield None


async def test_debug_shows_the_traceback_the_one_line_hides(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/no/x.db"}
    plain = run(["db", "upgrade"], env, tmp_path)
    debug = run(["--debug", "db", "upgrade"], env, tmp_path)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "mkdir -p" in debug.stderr
