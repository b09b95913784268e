"""The database engine and sessions, for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# What the database layer raises when a query fails (callers above storage/ name it without importing SQLAlchemy).
DatabaseError = SQLAlchemyError


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes concurrent
    # writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """One engine per process; sessions are short and end with commit or rollback."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None):
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self.schema = schema
        # A failed statement's parameters would otherwise be in its error's text, and so in the logs: stored
        # webhook payloads, which no log may hold.
        kwargs: dict = {"echo": echo, "pool_pre_ping": True, "hide_parameters": True}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
            if schema:
                # Tests isolate themselves in a schema of their own.
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer; when writers collide its busy handler sleeps and retries, which
        # turns concurrent webhooks into long tails. One process owns a SQLite file, so queue them here.
        self._sqlite_lock: asyncio.Lock | None = None
        self._sqlite_owner: asyncio.Task | None = None

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def sqlite_turn(self) -> AsyncIterator[None]:
        """This task's turn to use the SQLite file (a no-op on PostgreSQL): sessions take it, and so does a writer
        with a connection of its own (the intake's)."""
        if self.dialect != "sqlite":
            yield
            return
        if self._sqlite_lock is None:
            self._sqlite_lock = asyncio.Lock()
        task = asyncio.current_task()
        if self._sqlite_lock.locked() and self._sqlite_owner is task:
            # Waiting here would wait for ourselves forever; say so instead.
            raise RuntimeError("nested database sessions in one task")
        async with self._sqlite_lock:
            self._sqlite_owner = task
            try:
                yield
            finally:
                self._sqlite_owner = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error (do not nest them)."""
        async with self.sqlite_turn(), self.sessionmaker() as session:
            async with session.begin():
                yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a transaction that commits on success (no ORM session: the intake's hot path)."""
        async with self.sqlite_turn(), self.engine.begin() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
