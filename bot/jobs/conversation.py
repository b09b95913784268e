"""Follow-up questions: the stored conversation, the analysis and excerpt it is about, and the answer."""
from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.core.followup import requested_lines
from bot.core.excerpt.read import read_line_range
from bot.core.redact import Redactor
from bot.core.types import AnalysisResult, ChatMessage, Conversation as ConversationInput, Excerpt, Reply
from storage import history
from storage.models import Analysis, Conversation, ConversationMessage
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_STORED_TURNS = 200


async def _conversation_row(db, key: str, **ids) -> Conversation:
    insert = pg_insert if db.is_postgres else sqlite_insert
    now = utcnow()
    async with db.session() as s:
        await s.execute(insert(Conversation.__table__).values(conversation_key=key, created_at=now, updated_at=now,
                                                              summary="", **ids)
                        .on_conflict_do_nothing(index_elements=["conversation_key"]))
        return (await s.execute(sa.select(Conversation).where(Conversation.conversation_key == key))).scalar_one()


async def find_conversation(db, key: str) -> Conversation | None:
    async with db.session() as s:
        return (await s.execute(sa.select(Conversation).where(Conversation.conversation_key == key))).scalar_one_or_none()


async def _analysis_for(db, conv: Conversation) -> Analysis | None:
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


async def _messages(db, conversation_id: int) -> list[ConversationMessage]:
    async with db.session() as s:
        rows = (await s.execute(sa.select(ConversationMessage).where(
            ConversationMessage.conversation_id == conversation_id).order_by(ConversationMessage.id.desc())
            .limit(MAX_STORED_TURNS))).scalars().all()
    return list(reversed(rows))


async def _bounded(chunks, max_bytes: int):
    """At most max_bytes of a trace, handing control back to the event loop after every chunk."""
    seen = 0
    async for chunk in chunks:
        yield chunk
        seen += len(chunk)
        if seen >= max_bytes:
            return
        await asyncio.sleep(0)


async def _more_log(services, project_id: int, job_id: int, question: str, log_lines: int):
    wanted = requested_lines(question)
    if wanted is None or services.gitlab is None or (log_lines and wanted[0] > log_lines):
        return []  # no request, or past the end of the log (the stored excerpt always ends at its last line)
    redactor = Redactor.from_settings(services.settings)
    max_bytes = int(services.settings.gitlab_max_log_size_mb * 1024 * 1024)
    try:
        return await read_line_range(_bounded(services.gitlab.stream_trace(project_id, job_id), max_bytes),
                                     wanted[0], wanted[1], line_filter=redactor.redact_line)
    except Exception as exc:  # showing more is a bonus; the question is still answered
        log.info("could not fetch more of the log: %s", exc)
        return []


async def answer_question(services, conversation_key: str, question: str, author: str, *, project_id: int | None,
                          pipeline_id: int | None, job_id: int | None = None, analysis_id: int | None = None,
                          provider_hint: str = "", preference: str = "") -> Reply:
    """Answer one question with the memory of the conversation, and store both turns."""
    db = services.db
    conv = await _conversation_row(db, conversation_key, project_id=project_id, pipeline_id=pipeline_id,
                                   job_id=job_id, analysis_id=analysis_id)
    analysis = await _analysis_for(db, conv)
    result = AnalysisResult.model_validate(analysis.result) if analysis and analysis.result else None
    excerpt: Excerpt | None = None
    job_name = ""
    the_job = job_id or (analysis.job_id if analysis else None)
    if the_job is not None and conv.project_id is not None:
        failed = await history.failed_job(db, conv.project_id, the_job)
        if failed is not None:
            excerpt = history.excerpt_from_rows(failed.excerpt, failed.failed_section)
            job_name = failed.name
    log_lines = excerpt.lines[-1].n if excerpt and excerpt.lines else 0
    extra = await _more_log(services, conv.project_id, the_job, question, log_lines) if (the_job and conv.project_id) else []
    earlier = await _messages(db, conv.id)
    clean_question = Redactor.from_settings(services.settings).redact_text(question)
    conversation = ConversationInput(
        question=clean_question, analysis=result, excerpt=excerpt,
        history=[ChatMessage(m.role, m.content, m.author) for m in earlier],
        project_path=analysis.project_path if analysis else "", job_name=job_name, extra_log=extra,
    )
    reply = await services.router.answer(conversation, provider_hint=provider_hint, preference=preference)
    async with db.session() as s:
        s.add(ConversationMessage(conversation_id=conv.id, role="user", author=author[:255], content=clean_question))
        s.add(ConversationMessage(conversation_id=conv.id, role="assistant", author=reply.provider, content=reply.text,
                                  provider=reply.provider, tokens_in=reply.tokens_in, tokens_out=reply.tokens_out))
        await s.execute(sa.update(Conversation).where(Conversation.id == conv.id).values(updated_at=utcnow()))
    return reply
