"""Database problems a first set-up runs into, each said in one line with its fix: no server, database, role or rights."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy is imported when a URL is read: the CLI names DatabaseProblem without paying for it
    from storage.db import Database

MSG_NO_DATABASE = (
    'database "{database}" does not exist on {where}; create it (createdb -h {host} -p {port} -U postgres '
    "-O {user} {database}) or fix the database name in DATABASE_URL"
)
MSG_NO_ROLE = (
    'role "{user}" does not exist on {where}; create it (createuser -h {host} -p {port} -U postgres --pwprompt '
    "{user}) or fix the user name in DATABASE_URL"
)
MSG_HBA = "{where} refused the connection: {detail}; allow this host and user in the server's pg_hba.conf"
MSG_PASSWORD = (
    'password authentication failed for user "{user}" on {where}; fix the password in DATABASE_URL '
    "(percent-encode @ : / # in it)"
)
MSG_PRIVILEGE = (
    'the database user "{user}" lacks a privilege on {where} ({detail}); make it the owner of the database '
    "(ALTER DATABASE {database} OWNER TO {user}) or GRANT CREATE ON SCHEMA public TO {user}"
)
MSG_STARTING = "PostgreSQL at {where} is starting up or shutting down; try again in a moment"
MSG_TOO_MANY = (
    "PostgreSQL at {where} has no free connections; each bot process keeps up to 20, so lower the number "
    "of replicas or raise max_connections"
)
MSG_REFUSED = (
    "cannot connect to PostgreSQL at {where} (connection refused); is it running, and are the host and port "
    "in DATABASE_URL right?"
)
MSG_DNS = "cannot resolve the database host {host!r} in DATABASE_URL"
MSG_TIMEOUT = "no answer from PostgreSQL at {where}; check the host and port in DATABASE_URL and any firewall"
MSG_POSTGRES_OTHER = "PostgreSQL at {where}: {detail}"
MSG_SQLITE_NO_DIR = (
    "the directory {directory} for the SQLite database does not exist; create it (mkdir -p {directory}) "
    "or point DATABASE_URL elsewhere"
)
MSG_SQLITE_NOT_WRITABLE = (
    "the SQLite database {path} cannot be written (permission denied); let the bot's user write to "
    "{directory} or point DATABASE_URL elsewhere"
)
MSG_SQLITE_OTHER = "cannot open the SQLite database {path}: {detail}"


class DatabaseProblem(Exception):
    """The database cannot be used as configured; the message is one line that says what to do."""


def _detail(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or getattr(current, "orig", None) or current.__context__
    return seen


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def sqlite_directory_problem(url: str) -> str | None:
    """Before SQLite is touched: the file's directory must exist and be writable (SQLite makes the file, not it)."""
    path = _sqlite_path(url)
    if path is None:
        return None
    directory = path.parent
    if not directory.is_dir():
        return MSG_SQLITE_NO_DIR.format(directory=directory)
    target = path if path.exists() else directory
    if not os.access(target, os.W_OK):
        return MSG_SQLITE_NOT_WRITABLE.format(path=path, directory=directory)
    return None


def describe(exc: BaseException, url: str) -> str | None:
    """One line for a database error a set-up can cause, or None when the error is not one of those."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _describe_sqlite(exc, url)
    host = parsed.host or "localhost"
    port = parsed.port or 5432
    facts = {
        "host": host,
        "port": port,
        "where": f"{host}:{port}",
        "user": parsed.username or os.environ.get("USER", "postgres"),
        "database": parsed.database or parsed.username or "postgres",
    }
    for link in _chain(exc):
        sqlstate = getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate:
            return _describe_sqlstate(sqlstate, _detail(link), facts)
    for link in _chain(exc):
        if isinstance(link, socket.gaierror):
            return MSG_DNS.format(**facts)
        if isinstance(link, ConnectionRefusedError) or (
            isinstance(link, OSError) and link.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)
        ):
            return MSG_REFUSED.format(**facts)
        if isinstance(link, TimeoutError):
            return MSG_TIMEOUT.format(**facts)
    return None


def _describe_sqlstate(sqlstate: str, detail: str, facts: dict) -> str:
    if sqlstate == "3D000":
        return MSG_NO_DATABASE.format(**facts)
    if sqlstate == "28P01":
        return MSG_PASSWORD.format(**facts)
    if sqlstate == "28000":
        if "does not exist" in detail:
            return MSG_NO_ROLE.format(**facts)
        return MSG_HBA.format(detail=detail, **facts)
    if sqlstate == "42501":
        return MSG_PRIVILEGE.format(detail=detail, **facts)
    if sqlstate in ("57P03", "57P01"):
        return MSG_STARTING.format(**facts)
    if sqlstate == "53300":
        return MSG_TOO_MANY.format(**facts)
    return MSG_POSTGRES_OTHER.format(detail=detail, **facts)


def _describe_sqlite(exc: BaseException, url: str) -> str | None:
    problem = sqlite_directory_problem(url)
    if problem:
        return problem
    path = _sqlite_path(url)
    for link in _chain(exc):
        if type(link).__module__.startswith("sqlite3"):
            return MSG_SQLITE_OTHER.format(path=path or url, detail=_detail(link))
    return None


async def check_connection(db: Database) -> None:
    """Connect once and run a trivial query; raise DatabaseProblem with the one-line reason when that fails."""
    from sqlalchemy import text

    if db.dialect == "sqlite":
        problem = sqlite_directory_problem(db.url)
        if problem:
            raise DatabaseProblem(problem)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        line = describe(exc, db.url)
        if line is None:
            raise
        raise DatabaseProblem(line) from exc
