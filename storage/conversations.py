"""Follow-up conversations: one row per Slack thread or MR discussion, its turns, and the analysis it is about."""
from __future__ import annotations

import sqlalchemy as sa

from bot.core.types import Reply
from storage import history
from storage.db import Database
from storage.models import Analysis, Conversation, ConversationMessage
from storage.sql import insert_for
from storage.types import utcnow


async def ensure_conversation(db: Database, key: str, *, project_id: int | None, pipeline_id: int | None,
                              job_id: int | None, analysis_id: int | None) -> Conversation:
    """The conversation with this key, created with these ids if it is new (an existing one keeps its own)."""
    now = utcnow()
    async with db.session() as s:
        await s.execute(insert_for(db)(Conversation.__table__).values(
            conversation_key=key, created_at=now, updated_at=now, summary="", project_id=project_id,
            pipeline_id=pipeline_id, job_id=job_id, analysis_id=analysis_id,
        ).on_conflict_do_nothing(index_elements=["conversation_key"]))
        return (await s.execute(sa.select(Conversation).where(Conversation.conversation_key == key))).scalar_one()


async def conversation_analysis(db: Database, conv: Conversation) -> Analysis | None:
    """The analysis the conversation is about: the one it names, else the newest of its pipeline (its job's first)."""
    async with db.session() as s:
        if conv.analysis_id:
            row = await s.get(Analysis, conv.analysis_id)
            if row is not None:
                return row
    if conv.project_id is None or conv.pipeline_id is None:
        return None
    rows = await history.latest_analyses(db, conv.project_id, conv.pipeline_id)
    if conv.job_id is not None:
        rows = [r for r in rows if r.job_id == conv.job_id] or rows
    return rows[0] if rows else None


async def recent_messages(db: Database, conversation_id: int, limit: int) -> list[ConversationMessage]:
    """The last `limit` turns, oldest first."""
    async with db.session() as s:
        rows = (await s.execute(sa.select(ConversationMessage).where(
            ConversationMessage.conversation_id == conversation_id).order_by(ConversationMessage.id.desc())
            .limit(limit))).scalars().all()
    return list(reversed(rows))


async def add_turn(db: Database, conversation_id: int, *, question: str, author: str, reply: Reply) -> None:
    """Store the question and its answer, in one transaction."""
    async with db.session() as s:
        s.add(ConversationMessage(conversation_id=conversation_id, role="user", author=author[:255], content=question))
        s.add(ConversationMessage(conversation_id=conversation_id, role="assistant", author=reply.provider,
                                  content=reply.text, provider=reply.provider, tokens_in=reply.tokens_in,
                                  tokens_out=reply.tokens_out))
        await s.execute(sa.update(Conversation).where(Conversation.id == conversation_id).values(updated_at=utcnow()))
