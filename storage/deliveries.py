"""Where the bot posted, keyed by a delivery key: found again instead of posting twice."""
from __future__ import annotations

import sqlalchemy as sa

from storage.db import Database
from storage.models import Delivery
from storage.sql import insert_for
from storage.types import utcnow


async def get_delivery(db: Database, key: str) -> Delivery | None:
    async with db.session() as s:
        return (await s.execute(sa.select(Delivery).where(Delivery.delivery_key == key))).scalar_one_or_none()


async def save_delivery(db: Database, key: str, **values) -> None:
    """Insert or update the delivery row with this key (an update changes only the values given)."""
    now = utcnow()
    first = {"target": "", **values}
    stmt = insert_for(db)(Delivery.__table__).values(delivery_key=key, created_at=now, updated_at=now, **first)
    stmt = stmt.on_conflict_do_update(index_elements=["delivery_key"], set_={**values, "updated_at": now})
    async with db.session() as s:
        await s.execute(stmt)


async def latest_in_thread(db: Database, target: str, channel: str, thread_ts: str) -> Delivery | None:
    """The newest delivery of this kind in the channel that is the thread's parent (its ts) or sits in it."""
    async with db.session() as s:
        return (await s.execute(
            sa.select(Delivery).where(Delivery.target == target, Delivery.channel == channel,
                                      sa.or_(Delivery.ts == thread_ts, Delivery.thread_ts == thread_ts))
            .order_by(Delivery.id.desc()).limit(1))).scalar_one_or_none()


async def up_to_pipeline(db: Database, target: str, pipeline_id: int, project_id: int | None,
                         limit: int) -> list[Delivery]:
    """Deliveries of this kind about this pipeline or earlier ones (of the project, when given), newest first."""
    query = sa.select(Delivery).where(Delivery.target == target, Delivery.pipeline_id <= pipeline_id)
    if project_id is not None:
        query = query.where(Delivery.project_id == project_id)
    async with db.session() as s:
        return list((await s.execute(query.order_by(Delivery.id.desc()).limit(limit))).scalars().all())
