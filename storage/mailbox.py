"""Where the IMAP poll stands: the last UID and UIDVALIDITY per folder, and one row per message seen."""
from __future__ import annotations

import sqlalchemy as sa

from storage.models import MailboxState, ProcessedEmail
from storage.sql import insert_for
from storage.types import utcnow

_state = MailboxState.__table__
_processed = ProcessedEmail.__table__


async def load_state(db, folder: str) -> tuple[int | None, int]:
    async with db.session() as session:
        row = (await session.execute(sa.select(_state.c.uidvalidity, _state.c.last_uid)
                                     .where(_state.c.folder == folder))).first()
    return (row[0], int(row[1] or 0)) if row else (None, 0)


async def save_state(db, folder: str, uidvalidity: int, last_uid: int) -> None:
    stmt = insert_for(db)(_state).values(folder=folder, uidvalidity=uidvalidity, last_uid=last_uid, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["folder"], set_={
        "uidvalidity": uidvalidity, "last_uid": last_uid, "updated_at": utcnow()})
    async with db.session() as session:
        await session.execute(stmt)


async def known_message(db, message_id: str) -> bool:
    async with db.session() as session:
        row = (await session.execute(sa.select(_processed.c.id).where(_processed.c.message_id == message_id))).first()
    return row is not None


async def mark_processed(db, *, message_id: str, folder: str, uid: int, uidvalidity: int, status: str,
                         reason: str = "", project_id: int | None = None, pipeline_id: int | None = None) -> None:
    stmt = insert_for(db)(_processed).values(
        message_id=message_id, folder=folder, uid=uid, uidvalidity=uidvalidity, status=status, reason=reason[:500],
        project_id=project_id, pipeline_id=pipeline_id, received_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["message_id"])
    async with db.session() as session:
        await session.execute(stmt)
