"""The slack_followup job: a question in a bot thread, answered in the thread with the conversation's memory."""
from __future__ import annotations

import logging
from typing import Any

from pydantic import Field
from slack_sdk.errors import SlackApiError

from bot.clients.slack import reply_key
from bot.core import slack_commands as texts
from bot.core.outcomes import PermanentFailure, RetryLater
from bot.core.render.sanitize import host_of
from bot.jobs import conversation
from bot.jobs.payload import JobPayload
from bot.jobs.slack_support import PREFERENCE_PROVIDER, PREFERENCE_SCOPE, publisher, refusal_for_user, slack_failure
from bot.runtime.services import Services
from storage.deliveries import get_delivery, save_delivery
from storage.history import get_preference
from storage.queue import ClaimedJob

log = logging.getLogger(__name__)

KIND = "slack_followup"
SEEN_REACTION = "eyes"


class SlackFollowupPayload(JobPayload):
    """The question, the thread it was asked in, and the pipeline the thread is about."""

    job_kind = KIND
    channel: str = Field(min_length=1)
    thread_ts: str = Field(min_length=1)
    ts: str = Field(min_length=1)  # the question's own message
    user: str = ""
    team_id: str = ""
    text: str = ""  # redacted before it was stored
    project_id: int | None = None
    pipeline_id: int | None = None
    project_path: str = ""


async def run(services: Services, job: ClaimedJob) -> None:
    """Answer once: an answer computed by an earlier attempt is posted as it is, not asked again."""
    p = SlackFollowupPayload.of(job)
    question = p.text.strip()
    if not question:
        return
    pub = publisher(services)
    target = {"channel": p.channel, "user": p.user, "thread_ts": p.thread_ts, "team_id": p.team_id}
    if await get_delivery(services.db, reply_key(p.channel, p.ts)) is not None:
        return  # answered already; this is a retry after the answer was posted
    try:
        project_label = p.project_path or str(p.project_id or "")
        refusal = await refusal_for_user(services, p.user, project_label) if project_label else ""
        if refusal:
            await pub.tell_user(target, refusal)
            return
        answer_key = reply_key(p.channel, p.ts) + ":answer"
        stored = await get_delivery(services.db, answer_key)
        text = (stored.report or {}).get("text") if stored is not None else None
        if not isinstance(text, str):
            # 👀 on the question, so the asker knows it arrived while the model thinks.
            await pub.react(p.channel, p.ts, SEEN_REACTION)
            preference = await get_preference(services.db, PREFERENCE_SCOPE, p.channel, PREFERENCE_PROVIDER)
            kwargs: dict[str, Any] = {"preference": preference} if preference else {}
            try:
                reply = await conversation.answer_question(
                    services, conversation_key=f"slack:{p.channel}:{p.thread_ts}", question=question,
                    author=p.user, project_id=p.project_id, pipeline_id=p.pipeline_id, ci_job_id=None, **kwargs)
                text = reply.text
            except (PermanentFailure, RetryLater, SlackApiError):
                raise
            except Exception as exc:
                if job.attempts < job.max_attempts:
                    raise RetryLater(f"answering failed: {exc}") from exc
                # the last attempt: say so in the thread instead of leaving the question unanswered
                log.warning("follow-up not answered after %d attempts: %s", job.attempts, exc)
                text = texts.FOLLOWUP_FAILED.format(reason=str(exc)[:200] or type(exc).__name__)
            await save_delivery(services.db, answer_key, target="slack_answer", channel=p.channel, ts=p.ts,
                                thread_ts=p.thread_ts, report={"text": text})
        allowed_host = host_of(services.settings.gitlab_base_url)
        await pub.post_reply(p.channel, p.thread_ts, p.ts, text, allowed_host=allowed_host)
    except SlackApiError as exc:
        raise slack_failure(exc) from exc
