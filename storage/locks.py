"""Named locks: PostgreSQL advisory locks across replicas, an in-process lock on SQLite."""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa

from storage.db import Database

# Weak values: a lock nobody holds or waits for is forgotten, so one per MR or thread does not pile up.
_local_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def lock_id(name: str) -> int:
    """A stable signed 64-bit id for pg_advisory_lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def named_lock(db: Database, name: str, *, wait: bool = True) -> AsyncIterator[bool]:
    """Hold the lock called name; yields False (without holding it) when wait=False and it is taken."""
    if not db.is_postgres:
        # SQLite means one process: an asyncio lock is enough.
        key = f"{db.url}|{name}"
        lock = _local_locks.get(key)
        if lock is None:
            lock = _local_locks[key] = asyncio.Lock()
        if not wait and lock.locked():
            yield False
            return
        async with lock:
            yield True
        return
    key = lock_id(name)
    async with db.engine.connect() as conn:
        if wait:
            await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = bool((await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
