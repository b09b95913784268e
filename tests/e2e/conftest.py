"""The end-to-end tests run against SQLite and, where reachable, PostgreSQL."""

from __future__ import annotations

import pytest

from tests.botprocess import database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path):
    async with database_url(request.param, tmp_path) as url:
        yield url
