"""The provider-usage ledger in the database: every model call, and what was spent today."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.core.types import ProviderCall
from storage.db import Database
from storage.models import ProviderCallRecord


class DatabaseLedger:
    """Implements bot.providers.base.UsageLedger; shared by every replica through the database."""

    def __init__(self, db: Database):
        self.db = db

    async def record(self, call: ProviderCall) -> None:
        await self.begin(call)

    async def begin(self, call: ProviderCall) -> int:
        """Insert the call's row (committed before the caller goes on); returns its id."""
        async with self.db.session() as s:
            row = ProviderCallRecord(**_values(call), created_at=call.at)
            s.add(row)
            await s.flush()
            return int(row.id)

    async def complete(self, handle: int, call: ProviderCall) -> None:
        """Overwrite the row begin() wrote with the call's real usage and outcome (its send time stays)."""
        t = ProviderCallRecord.__table__
        async with self.db.session() as s:
            await s.execute(t.update().where(t.c.id == handle).values(**_values(call)))

    async def spent_today(self, provider: str, project_path: str | None) -> tuple[int, float]:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        t = ProviderCallRecord
        query = sa.select(
            sa.func.coalesce(sa.func.sum(t.tokens_in + t.tokens_out), 0), sa.func.coalesce(sa.func.sum(t.cost_usd), 0.0)
        ).where(t.provider == provider, t.created_at >= midnight)
        if project_path is not None:
            query = query.where(t.project_path == project_path)
        async with self.db.session() as s:
            tokens, usd = (await s.execute(query)).one()
        return int(tokens), float(usd)


def _values(call: ProviderCall) -> dict:
    return dict(
        provider=call.provider,
        model=call.model,
        operation=call.operation,
        project_path=call.project_path,
        pipeline_id=call.pipeline_id,
        tokens_in=call.tokens_in,
        tokens_out=call.tokens_out,
        tokens_cached=call.tokens_cached,
        cost_usd=call.cost_usd,
        latency_ms=call.latency_ms,
        outcome=call.outcome,
        error=(call.error or None) and call.error[:2000],
    )
