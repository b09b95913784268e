"""Follow-up questions: the stored conversation, the analysis and excerpt it is about, and the answer."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator

from bot.clients.log_fetch import line_range_from_stream
from bot.core.followup import requested_lines
from bot.core.redact import Redactor
from bot.core.redact_learn import LogLearner, forgetting
from bot.core.types import AnalysisResult, ChatMessage, Conversation, Excerpt, ExcerptLine, Reply
from bot.runtime.services import Services
from storage import conversations, history

log = logging.getLogger(__name__)

MAX_STORED_TURNS = 200


async def _bounded(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    """At most max_bytes of a trace, handing control back to the event loop after every chunk."""
    seen = 0
    async for chunk in chunks:
        yield chunk
        seen += len(chunk)
        if seen >= max_bytes:
            return
        await asyncio.sleep(0)


async def _more_log(
    services: Services, project_id: int, ci_job_id: int, question: str, log_lines: int, redactor: Redactor
) -> tuple[list[ExcerptLine], LogLearner | None]:
    """The lines the question asks for, read through redactor from the log's first line, and what the whole log
    taught a learner: the secrets the log prints anywhere, to remove in every form for the rest of the
    conversation (the lines shown, the question, the earlier turns, the answer)."""
    wanted = requested_lines(question)
    if wanted is None or services.gitlab is None or (log_lines and wanted[0] > log_lines):
        return [], None  # no request, or past the end of the log (the stored excerpt always ends at its last line)
    max_bytes = int(services.settings.gitlab_max_log_size_mb * 1024 * 1024)
    whole_log = LogLearner(redactor.fresh(), max_bytes)
    try:
        lines = await line_range_from_stream(
            _bounded(services.gitlab.stream_trace(project_id, ci_job_id), max_bytes),
            wanted[0],
            wanted[1],
            line_filter=redactor.redact_line,
            learner=whole_log,
        )
    except Exception as exc:  # showing more is a bonus; the question is still answered
        log.info("could not fetch more of the log: %s", exc)
        return [], None
    whole_log.close()
    known = forgetting(redactor, whole_log)
    return [dataclasses.replace(line, text=known(line.text)) for line in lines], whole_log


async def answer_question(
    services: Services,
    conversation_key: str,
    question: str,
    author: str,
    *,
    project_id: int | None,
    pipeline_id: int | None,
    ci_job_id: int | None = None,
    analysis_id: int | None = None,
    provider_hint: str = "",
    preference: str = "",
) -> Reply:
    """Answer one question with the memory of the conversation, and store both turns."""
    db = services.db
    conv = await conversations.ensure_conversation(
        db, conversation_key, project_id=project_id, pipeline_id=pipeline_id, job_id=ci_job_id, analysis_id=analysis_id
    )
    analysis = await conversations.conversation_analysis(db, conv)
    result = AnalysisResult.model_validate(analysis.result) if analysis and analysis.result else None
    excerpt: Excerpt | None = None
    ci_job_name = ""
    the_ci_job = ci_job_id or (analysis.job_id if analysis else None)
    if the_ci_job is not None and conv.project_id is not None:
        failed = await history.failed_job(db, conv.project_id, the_ci_job)
        if failed is not None:
            excerpt = history.excerpt_from_rows(failed.excerpt, failed.failed_section)
            ci_job_name = failed.name
    log_lines = excerpt.lines[-1].n if excerpt and excerpt.lines else 0
    redactor = Redactor.from_settings(services.settings)  # one for the conversation and the log it is about
    extra, whole_log = (
        await _more_log(services, conv.project_id, the_ci_job, question, log_lines, redactor)
        if (the_ci_job and conv.project_id)
        else ([], None)
    )
    known = forgetting(redactor, whole_log)
    earlier = await conversations.recent_messages(db, conv.id, MAX_STORED_TURNS)
    clean_question = known(redactor.redact_text(question))
    conversation = Conversation(
        question=clean_question,
        analysis=result,
        excerpt=excerpt,
        history=[ChatMessage(m.role, known(m.content), m.author) for m in earlier],
        project_path=analysis.project_path if analysis else "",
        job_name=ci_job_name,
        extra_log=extra,
    )
    reply = await services.router.answer(conversation, provider_hint=provider_hint, preference=preference)
    reply = dataclasses.replace(reply, text=known(redactor.redact_text(reply.text)))
    await conversations.add_turn(db, conv.id, question=clean_question, author=author, reply=reply)
    return reply
