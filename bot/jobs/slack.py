"""Queue jobs for Slack work: slow /cicd commands and buttons, thread follow-ups, feedback votes."""
from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core import messages as m
from bot.core import slack_commands as texts
from bot.core.render.sanitize import host_of
from bot.clients.slack import SlackPublisher, reply_key
from storage.deliveries import get_delivery, save_delivery
from bot.core.outcomes import PermanentFailure, RetryLater
from bot.jobs.kinds import ANALYZE_PIPELINE
from storage.history import get_preference
from storage.analyses import add_feedback
from storage.slack import linked_gitlab_user
from bot.runtime.services import Services
from storage.queue import ClaimedJob, enqueue
from bot.providers import catalog

log = logging.getLogger(__name__)

SLACK_COMMAND = "slack_command"
SLACK_FOLLOWUP = "slack_followup"
SLACK_FEEDBACK = "slack_feedback"

SEEN_REACTION = "eyes"
PREFERENCE_SCOPE = "slack_channel"
PREFERENCE_PROVIDER = "provider"
# Slack errors that another attempt cannot fix.
PERMANENT_SLACK_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive",
                          "token_revoked", "missing_scope", "thread_not_found", "msg_too_long", "invalid_blocks"}


def publisher(services: Services) -> SlackPublisher:
    """The process's Slack publisher; a Slack job in a process without Slack settings cannot run at all."""
    if services.slack is None:
        raise PermanentFailure("Slack is not configured in this process (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)")
    return services.slack


def _slack_failure(exc: SlackApiError) -> Exception:
    error = str(exc.response.get("error") or "") if exc.response is not None else ""
    if error in PERMANENT_SLACK_ERRORS:
        return PermanentFailure(f"Slack refused: {error}")
    return RetryLater(f"Slack call failed: {error or exc}")


async def refusal_for_user(services: Any, user: str, project: str) -> str:
    """'' when the Slack user may act on the project; else the refusal to show (SLACK_REQUIRE_GITLAB_LINK)."""
    if not services.settings.slack_require_gitlab_link:
        return ""
    link = await linked_gitlab_user(services.db, user)
    if link is None:
        return texts.REFUSAL_NOT_LINKED
    gitlab = getattr(services, "gitlab", None)
    if gitlab is None:
        raise PermanentFailure("SLACK_REQUIRE_GITLAB_LINK needs GITLAB_API_TOKEN to check access")
    from bot.clients.gitlab import GitLabError, GitLabNotFound, GitLabUnavailable

    try:
        level = await gitlab.get_member_access_level(project, int(link.gitlab_user_id))
    except GitLabNotFound:
        level = 0
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    except GitLabError as exc:
        raise PermanentFailure(f"could not check access: {exc}") from exc
    if level < services.settings.gitlab_min_access_level:
        return texts.REFUSAL_NO_ACCESS.format(username=link.gitlab_username, project=project)
    return ""


async def _pipeline_of_job(services: Any, project: str, job_id: int) -> int:
    gitlab = getattr(services, "gitlab", None)
    if gitlab is None:
        raise PermanentFailure("GITLAB_API_TOKEN is not set, so the job cannot be looked up")
    from bot.clients.gitlab import GitLabError, GitLabNotFound, GitLabUnavailable

    try:
        job = await gitlab.get_job(project, job_id)
    except GitLabNotFound:
        return 0
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    except GitLabError as exc:
        raise PermanentFailure(str(exc)) from exc
    pipeline = job.get("pipeline") if isinstance(job.get("pipeline"), dict) else {}
    try:
        return int(pipeline.get("id") or 0)
    except (TypeError, ValueError):
        return 0


async def slack_command(services: Any, job: ClaimedJob) -> None:
    """explain / reanalyze (typed or from a button): check who asks, then queue the analysis."""
    p = job.payload
    target = p.get("slack") or {}
    project = str(p.get("project") or "")
    kind, number = str(p.get("kind") or ""), p.get("number")
    if not project or kind not in ("pipeline", "job", "merge_request") or not isinstance(number, int):
        raise PermanentFailure(f"bad slack_command payload: {sorted(p)}")
    pub = publisher(services)
    try:
        refusal = await refusal_for_user(services, str(target.get("user") or ""), project)
        if refusal:
            await pub.tell_user(target, refusal)
            return
        if (target.get("channel") and not services.settings.slack_allow_shared_channels
                and await pub.channel_is_shared(str(target["channel"]))):
            await pub.tell_user(target, m.REFUSAL_SHARED_CHANNEL)
            return
        provider = str(p.get("provider") or "") or await get_preference(
            services.db, PREFERENCE_SCOPE, str(target.get("channel") or ""), PREFERENCE_PROVIDER)
        payload: dict[str, Any] = {"project_id": project, "trigger": "slack", "provider_hint": provider,
                                   "force": p.get("command") == "reanalyze", "slack": target}
        if kind == "pipeline":
            payload["pipeline_id"] = number
        elif kind == "merge_request":
            payload["mr_iid"] = number
        else:
            pipeline_id = await _pipeline_of_job(services, project, number)
            if not pipeline_id:
                await pub.tell_user(target, m.REFUSAL_UNKNOWN_PIPELINE.format(reference=f"{project} job {number}"))
                return
            payload["pipeline_id"] = pipeline_id
            payload["job_ids"] = [number]
    except SlackApiError as exc:
        raise _slack_failure(exc) from exc
    if p.get("announce"):
        # a button click has no other visible answer; a typed command was answered when it arrived
        shown = m.provider_name(provider or catalog.default_provider(services.settings))
        await pub.tell_user(target, m.ACK_REANALYZE.format(provider=shown))
    async with services.db.session() as s:
        await enqueue(s, ANALYZE_PIPELINE, payload, dedupe_key=f"{p.get('request_key') or job.id}:analyze",
                      max_attempts=services.settings.queue_max_attempts)
    services.wake_workers()


async def slack_followup(services: Any, job: ClaimedJob) -> None:
    """A question in a bot thread: answer it with the conversation's memory, in the thread."""
    p = job.payload
    channel, thread_ts, ts = str(p.get("channel") or ""), str(p.get("thread_ts") or ""), str(p.get("ts") or "")
    question = str(p.get("text") or "").strip()
    if not channel or not thread_ts or not ts:
        raise PermanentFailure("bad slack_followup payload")
    if not question:
        return
    pub = publisher(services)
    target = {"channel": channel, "user": p.get("user"), "thread_ts": thread_ts, "team_id": p.get("team_id")}
    if await get_delivery(services.db, reply_key(channel, ts)) is not None:
        return  # answered already; this is a retry after the answer was posted
    try:
        project_label = str(p.get("project_path") or p.get("project_id") or "")
        refusal = await refusal_for_user(services, str(p.get("user") or ""), project_label) if project_label else ""
        if refusal:
            await pub.tell_user(target, refusal)
            return
        from bot.jobs import conversation

        # An answer computed by an earlier attempt whose posting failed is posted as it is, not asked again.
        answer_key = reply_key(channel, ts) + ":answer"
        stored = await get_delivery(services.db, answer_key)
        text = (stored.report or {}).get("text") if stored is not None else None
        if not isinstance(text, str):
            await _mark_seen(pub, channel, ts)
            preference = await get_preference(services.db, PREFERENCE_SCOPE, channel, PREFERENCE_PROVIDER)
            kwargs: dict[str, Any] = {"preference": preference} if preference else {}
            try:
                reply = await conversation.answer_question(
                    services, conversation_key=f"slack:{channel}:{thread_ts}", question=question,
                    author=str(p.get("user") or ""), project_id=p.get("project_id"), pipeline_id=p.get("pipeline_id"),
                    ci_job_id=None, **kwargs)
                text = reply.text
            except (PermanentFailure, RetryLater, SlackApiError):
                raise
            except Exception as exc:
                if job.attempts < job.max_attempts:
                    raise RetryLater(f"answering failed: {exc}") from exc
                # the last attempt: say so in the thread instead of leaving the question unanswered
                log.warning("follow-up not answered after %d attempts: %s", job.attempts, exc)
                text = texts.FOLLOWUP_FAILED.format(reason=str(exc)[:200] or type(exc).__name__)
            await save_delivery(services.db, answer_key, target="slack_answer", channel=channel, ts=ts,
                                thread_ts=thread_ts, report={"text": text})
        await pub.post_reply(channel, thread_ts, ts, text, allowed_host=host_of(services.settings.gitlab_base_url))
    except SlackApiError as exc:
        raise _slack_failure(exc) from exc


async def _mark_seen(pub: SlackPublisher, channel: str, ts: str) -> None:
    """👀 on the question, so the asker knows it arrived while the model thinks."""
    try:
        await pub.client.reactions_add(channel=channel, timestamp=ts, name=SEEN_REACTION)
    except SlackApiError as exc:  # already_reacted on a retry, or the scope is missing: not worth failing for
        log.info("could not react to the question: %s", exc.response.get("error") if exc.response else exc)


async def slack_feedback(services: Any, job: ClaimedJob) -> None:
    """👍/👎 on an analysis: one vote per user and direction (the dedupe key sees to that)."""
    p = job.payload
    direction = p.get("direction")
    analysis_id = p.get("analysis_id")
    if direction not in ("up", "down") or not isinstance(analysis_id, int):
        raise PermanentFailure("bad slack_feedback payload")
    counted = await add_feedback(services.db, analysis_id, direction)
    target = p.get("slack") or {}
    try:
        await publisher(services).tell_user(target, m.ACK_FEEDBACK if counted else m.REFUSAL_NO_ANALYSIS)
    except SlackApiError as exc:  # the vote is stored; a lost "thanks" is not worth a retry
        log.info("could not thank for feedback: %s", exc)


HANDLERS = {
    SLACK_COMMAND: slack_command,
    SLACK_FOLLOWUP: slack_followup,
    SLACK_FEEDBACK: slack_feedback,
}
