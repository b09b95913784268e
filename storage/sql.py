"""One dialect-aware INSERT: PostgreSQL's or SQLite's, both of which know ON CONFLICT DO NOTHING / DO UPDATE."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database


def insert_for(where: Database | AsyncSession):
    """The `insert` construct for this database, or for the database this session is bound to."""
    # A session is taken too because the queue enqueues inside its caller's transaction and never sees the Database.
    dialect = where.dialect if isinstance(where, Database) else where.bind.dialect.name
    return pg_insert if dialect == "postgresql" else sqlite_insert
