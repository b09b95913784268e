"""The mr_note job: a note that mentions the bot in a merge request, a command or a follow-up question."""

from __future__ import annotations

import logging
import time

from bot.clients.gitlab_errors import GitLabError, GitLabNotFound, GitLabUnavailable
from bot.clients.slack import complete_link
from bot.core import messages as m
from bot.core.followup import MrCommand, parse_mr_command
from bot.core.outcomes import PermanentFailure, RetryLater
from bot.core.render.sanitize import sanitize_gitlab_markdown
from bot.jobs.analysis import latest_mr_pipeline
from bot.jobs.analyze_pipeline import AnalyzePipelinePayload, run_analysis
from bot.jobs.conversation import answer_question
from bot.jobs.payload import JobPayload
from bot.providers import catalog
from bot.providers.catalog import PROVIDERS
from bot.runtime.services import Services
from storage import history
from storage.deliveries import get_delivery, save_delivery
from storage.locks import named_lock
from storage.queue import ClaimedJob

log = logging.getLogger(__name__)

KIND = "mr_note"

ACCESS_CACHE_SECONDS = 300
ACK_EMOJI = "eyes"

PROVIDER_SET = "From now on this project's failures are analysed with {provider}."
REANALYSED = "Analysed pipeline {pipeline} again with {provider}: {summary}. The note above is updated."
REANALYSED_NOTHING = "Pipeline {pipeline} has no failed job to analyse."
LOG_UNREADABLE = "I could not read the log of {job}, so I did not ask a model about it: {reason}."
NO_PIPELINE = "This merge request has no pipeline to analyse yet."
JOB_NOT_FOUND = "I could not find a failed job called {job} in pipeline {pipeline}."
LINKED = "Your Slack account is now linked to this GitLab account."
LINK_UNKNOWN = "That link code is unknown or has expired; ask for a new one with `/cicd link` in Slack."
HELP_PROVIDER_LINE = "- `@{bot} provider <name>`: analyse this project's failures with another provider from now on"
LEVEL_NAMES = {10: "Guest", 20: "Reporter", 30: "Developer", 40: "Maintainer", 50: "Owner"}


class MrNotePayload(JobPayload):
    """The note, where it is, and who wrote it."""

    job_kind = KIND
    project_id: int
    mr_iid: int
    note_id: int
    discussion_id: str | None = None  # answer in the note's thread when it has one
    user_id: int | None = None
    username: str = ""
    note: str = ""  # redacted before it was stored


async def _access_level(services: Services, project_id: int, user_id: int) -> int:
    """Members' access, cached briefly so a busy discussion does not hammer the API."""
    cache = services.access_cache
    key = (project_id, user_id)
    hit = cache.get(key)
    if hit and hit[1] > time.monotonic():
        return hit[0]
    level = await services.gitlab.get_member_access_level(project_id, user_id)
    cache[key] = (level, time.monotonic() + ACCESS_CACHE_SECONDS)
    return level


async def _by_a_bot(services: Services, p: MrNotePayload) -> bool:
    """GitLab's `bot` flag decides, not the name: Renovate or a project access token may be called anything, and a
    person may be called "x-bot". A note without an author id cannot be checked, so it is not answered either."""
    if p.user_id is None or await services.bot_flags.is_bot(services.gitlab, p.user_id):
        log.info("not answering a note by a bot", extra={"project": p.project_id, "note": p.note_id})
        return True
    return False


async def _post(services: Services, p: MrNotePayload, text: str) -> dict:
    body = sanitize_gitlab_markdown(text, services.settings.gitlab_base_url)
    gl = services.gitlab
    if p.discussion_id:
        return await gl.reply_to_discussion(p.project_id, p.mr_iid, p.discussion_id, body)
    return await gl.create_mr_note(p.project_id, p.mr_iid, body)


def _reply_key(p: MrNotePayload) -> str:
    return f"reply:{p.project_id}:{p.note_id}"


async def _reply(services: Services, p: MrNotePayload, text: str) -> None:
    """Answer the note once: the answer is stored before it is posted, so a retried job posts the same
    answer instead of asking the model (and paying) again, and an answer already posted is not repeated."""
    key = _reply_key(p)
    done = await get_delivery(services.db, key)
    if done is not None and done.note_id:
        return
    if done is not None and done.report and isinstance(done.report.get("text"), str):
        text = done.report["text"]
    else:
        await save_delivery(
            services.db, key, target="gitlab_reply", project_id=p.project_id, mr_iid=p.mr_iid, report={"text": text}
        )
    posted = await _post(services, p, text)
    await save_delivery(
        services.db,
        key,
        target="gitlab_reply",
        project_id=p.project_id,
        mr_iid=p.mr_iid,
        note_id=int(posted.get("id") or 0) or None,
        report={"text": text},
    )


async def _stored_answer(services: Services, p: MrNotePayload) -> str | None:
    """An answer computed by an earlier attempt of this job but not yet posted."""
    done = await get_delivery(services.db, _reply_key(p))
    if done is None:
        return None
    return "" if done.note_id else (done.report or {}).get("text")


async def _refuse_once(services: Services, p: MrNotePayload) -> None:
    """One polite refusal per person per MR; repeating it would be noise."""
    key = f"refusal:{p.project_id}:{p.mr_iid}:{p.user_id}"
    async with named_lock(services.db, key):  # two notes at once must not both be answered
        if await get_delivery(services.db, key) is not None:
            return
        await _reply(services, p, m.REFUSAL_ACCESS_LEVEL.format(user=p.username or "there"))
        await save_delivery(services.db, key, target="gitlab_refusal", project_id=p.project_id, mr_iid=p.mr_iid)


async def run(services: Services, job: ClaimedJob) -> None:
    """Answer the note: help, link, provider, reanalyze/explain, or a question about the failure."""
    p = MrNotePayload.of(job)
    gl = services.gitlab
    if gl is None:
        raise PermanentFailure("GITLAB_API_TOKEN is not set; the bot cannot answer in merge requests")
    bot = services.identity.username
    if p.username.lower() == bot.lower():
        return
    command = parse_mr_command(p.note, bot)
    try:
        if await _by_a_bot(services, p):
            return  # no emoji, no reply, no model call: two bots must not talk to each other
        try:
            await gl.award_emoji_on_note(p.project_id, p.mr_iid, p.note_id, ACK_EMOJI)
        except GitLabError as exc:
            log.info("could not acknowledge the note: %s", exc)  # the answer matters more than the emoji
        if command.name == "help":
            await _reply(services, p, m.help_gitlab(bot) + "\n" + HELP_PROVIDER_LINE.format(bot=bot))
            return
        if command.name == "link":
            await _link(services, p, command.argument)
            return
        level = await _access_level(services, p.project_id, p.user_id) if p.user_id else 0
        if level < services.settings.gitlab_min_access_level:
            await _refuse_once(services, p)
            return
        stored = await _stored_answer(services, p)
        if stored is not None:
            if stored:
                await _reply(services, p, stored)  # an earlier attempt computed it; post it now
            return
        if command.name == "provider":
            await _set_provider(services, p, command.provider)
        elif command.name in ("reanalyze", "explain"):
            await _reanalyze(services, p, command)
        else:
            await _question(services, p, command.argument)
    except GitLabUnavailable as exc:
        raise RetryLater(str(exc)) from exc
    except GitLabNotFound as exc:
        # The note, discussion or MR is gone: retrying cannot bring it back.
        raise PermanentFailure(str(exc)) from exc


def _provider_refusal(services: Services, provider: str) -> str | None:
    """Why a named provider cannot be used: unknown, or known but without the key it needs (the answer would
    otherwise come from another provider, while the reply named the one asked for)."""
    configured = catalog.configured(services.settings)
    if provider not in PROVIDERS:
        return m.REFUSAL_UNKNOWN_PROVIDER.format(provider=provider, available=", ".join(configured))
    if provider not in configured:
        return m.REFUSAL_PROVIDER_NOT_CONFIGURED.format(
            provider=m.provider_name(provider), available=", ".join(configured)
        )
    return None


async def _set_provider(services: Services, p: MrNotePayload, provider: str) -> None:
    if refusal := _provider_refusal(services, provider):
        await _reply(services, p, refusal)
        return
    await history.set_preference(services.db, "gitlab_project", str(p.project_id), "provider", provider)
    await _reply(services, p, PROVIDER_SET.format(provider=m.provider_name(provider)))


async def _reanalyze(services: Services, p: MrNotePayload, command: MrCommand) -> None:
    if command.provider and (refusal := _provider_refusal(services, command.provider)):
        await _reply(services, p, refusal)
        return
    gl = services.gitlab
    pipeline_id = await latest_mr_pipeline(gl, p.project_id, p.mr_iid)
    if pipeline_id is None:
        await _reply(services, p, NO_PIPELINE)
        return
    analysis = AnalyzePipelinePayload(
        project_id=p.project_id,
        pipeline_id=pipeline_id,
        mr_iid=p.mr_iid,
        trigger="mr_command",
        provider_hint=command.provider,
        force=command.name == "reanalyze",
    )
    if command.name == "explain" and command.argument:
        ci_jobs = await gl.list_pipeline_jobs(p.project_id, pipeline_id)
        wanted = command.argument.lstrip("#")
        chosen = [j for j in ci_jobs if j.get("name") == command.argument or str(j.get("id")) == wanted]
        if not chosen:  # "explain PyTest" for the job called pytest
            chosen = [j for j in ci_jobs if str(j.get("name") or "").casefold() == command.argument.casefold()]
        if not chosen:
            await _reply(services, p, JOB_NOT_FOUND.format(job=command.argument, pipeline=f"#{pipeline_id}"))
            return
        analysis.job_ids = [int(j["id"]) for j in chosen]
        analysis.force = True
    report = await run_analysis(services, analysis)
    if report is None or not any(j.result for j in report.jobs):
        unreadable = [j for j in (report.jobs if report else []) if j.log_unavailable]
        if unreadable:
            text = LOG_UNREADABLE.format(job=unreadable[0].name, reason=unreadable[0].log_unavailable)
        else:
            text = REANALYSED_NOTHING.format(pipeline=f"#{pipeline_id}")
        await _reply(services, p, text)
        return
    first = next(j for j in report.jobs if j.result)
    await _reply(
        services,
        p,
        REANALYSED.format(
            pipeline=f"#{pipeline_id}", provider=m.provider_name(first.result.provider), summary=first.result.summary
        ),
    )


async def _question(services: Services, p: MrNotePayload, question: str) -> None:
    pipeline_id = await latest_mr_pipeline(services.gitlab, p.project_id, p.mr_iid)
    preference = await history.get_preference(services.db, "gitlab_project", str(p.project_id), "provider")
    reply = await answer_question(
        services,
        f"gitlab:{p.project_id}:{p.mr_iid}:{p.discussion_id or p.note_id}",
        question,
        p.username,
        project_id=p.project_id,
        pipeline_id=pipeline_id,
        preference=preference,
    )
    await _reply(services, p, reply.text)


async def _link(services: Services, p: MrNotePayload, code: str) -> None:
    ok = await complete_link(services.db, code, p.user_id, p.username)
    await _reply(services, p, LINKED if ok else LINK_UNKNOWN)
