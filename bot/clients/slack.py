"""Posting and updating Slack messages: the SlackPublisher, replies, ephemeral answers and the GitLab link flow."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.clients.ports import GitLab
from bot.clients.proxy import proxy_for
from bot.clients.slack_once import POSTED, post_once
from bot.core import channel_map
from bot.core.messages import REFUSAL_SHARED_CHANNEL
from bot.core.render.sanitize import host_of, sanitize_slack_mrkdwn
from bot.core.render.slack import render_slack_analysis, render_slack_parent, render_slack_reply
from bot.core.report_codec import report_from_dict, report_to_dict
from bot.core.types import PipelineReport
from config.settings import Settings
from storage import deliveries
from storage import slack as slack_state
from storage.db import Database
from storage.deliveries import Delivery, get_delivery, save_delivery
from storage.history import pipeline_default_branch
from storage.locks import named_lock
from storage.types import utcnow

log = logging.getLogger(__name__)

PARENT = "slack_parent"
THREAD = "slack_thread"
REPLY = "slack_reply"
SHARED_CACHE_SECONDS = 600
LINK_CODE_MINUTES = 60
RESPONSE_URL_HOSTS = ("hooks.slack.com",)
RATE_LIMIT_RETRIES = 3


# --- clients and small helpers ----------------------------------------------------------


def make_client(
    settings: Settings, session: aiohttp.ClientSession | None = None, *, unsure_retries: bool = True
) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL as base, retrying 429 (after Retry-After), 500/503 and dropped connections.

    unsure_retries=False keeps only the retries that cannot post twice (429, a connection never made): for a
    message that must exist once, a request that may have reached Slack is left to the job's retry, which finds
    the message by its metadata."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if unsure_retries:
        handlers = [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    else:
        # A request that may have reached Slack is not sent again here: the job's retry finds it by its metadata.
        handlers = [
            AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[aiohttp.ClientConnectorError]),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ]
    proxy = proxy_for(settings.slack_api_url)
    client = AsyncWebClient(
        token=token, base_url=settings.slack_api_url, session=session, timeout=15, proxy=proxy, retry_handlers=handlers
    )
    # Given no proxy, the SDK takes HTTPS_PROXY itself and ignores NO_PROXY; say "direct" when NO_PROXY says so.
    client.proxy = proxy
    return client


def parent_key(channel: str, report: PipelineReport) -> str:
    project = report.project_id if report.project_id is not None else report.project_path
    return f"slack:{channel}:{project}:{report.pipeline_id}"


def thread_key(channel: str, parent_ts: str, part: int = 1) -> str:
    return f"slack-thread:{channel}:{parent_ts}" + (f":{part}" if part > 1 else "")


def reply_key(channel: str, question_ts: str) -> str:
    return f"slack-reply:{channel}:{question_ts}"


def _hash(blocks: list[dict], text: str) -> str:
    return hashlib.sha256(json.dumps([text, blocks], sort_keys=True).encode()).hexdigest()


def response_url_allowed(url: str, settings: Settings) -> bool:
    """Only Slack's own hooks (or the host SLACK_API_URL points at) get our answers: no SSRF via a forged URL."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        return False
    if parts.scheme == "https" and parts.hostname.lower() in RESPONSE_URL_HOSTS:
        return True
    return host_of(url) == host_of(settings.slack_api_url)


async def load_rules(settings: Settings, db: Database) -> list[channel_map.ChannelRule]:
    """Settings mapping plus the stored subscriptions."""
    rules, problems = channel_map.parse_channel_map(settings.slack_channel_map)
    for problem in problems:
        log.warning("SLACK_CHANNEL_MAP entry skipped: %s", problem)
    return rules + channel_map.subscription_rules(await slack_state.all_subscriptions(db))


async def find_bot_thread(db: Database, channel: str, thread_ts: str) -> Delivery | None:
    """The parent message the bot posted that owns this thread (it started it, or was asked into it)."""
    return await deliveries.latest_in_thread(db, PARENT, channel, thread_ts)


# --- the publisher ------------------------------------------------------------------------


class SlackPublisher:
    """One parent message per failed pipeline and channel, updated in place; the analysis in its thread."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        http: aiohttp.ClientSession | None = None,
        gitlab: GitLab | None = None,
        providers: list[str] | None = None,
        client: AsyncWebClient | None = None,
    ):
        self.settings = settings
        self.db = db
        self.http = http
        self.gitlab = gitlab
        self.providers = providers or ["heuristic"]  # offered as "reanalyze with" buttons
        self._client = client
        self._once_client = client
        self._shared: dict[str, tuple[float, bool]] = {}
        self._public: dict[str, bool] = {}
        self._team_url: str | None = None
        self._bot_id: str | None = None

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            self._client = make_client(self.settings, self.http)
        return self._client

    @property
    def once_client(self) -> AsyncWebClient:
        """For posts that must happen once (post_once): no retry that could post a second message."""
        if self._once_client is None:
            self._once_client = make_client(self.settings, self.http, unsure_retries=False)
        return self._once_client

    # --- the three hooks the analysis calls ---

    async def start(self, report: PipelineReport, target: dict | None = None) -> None:
        """Post (or find again) the 'analysing…' parent in each channel the pipeline goes to."""
        shown = report if report.status in ("analysing", "running") else dataclasses.replace(report, status="analysing")
        for channel, in_thread in await self._destinations(report, target, final=False):
            row = await self._ensure_parent(channel, in_thread, shown)
            if row is not None:
                await self._remember_permalink(report, channel, row.ts)

    async def finish(self, report: PipelineReport, target: dict | None = None) -> None:
        """Update each parent to its done state and put the analysis in its thread (edited, never posted twice)."""
        for channel, in_thread in await self._destinations(report, target, final=True):
            row = await self._ensure_parent(channel, in_thread, report)
            if row is None or not row.ts:
                continue
            await self._remember_permalink(report, channel, row.ts)
            await self._post_thread(channel, row, report)

    async def fixed(self, report: PipelineReport, fixed_pipeline_id: int, fixed_url: str) -> None:
        """A later pipeline of the same MR or branch passed: earlier parents say 'fixed in #N'."""
        rows = await deliveries.up_to_pipeline(self.db, PARENT, fixed_pipeline_id, report.project_id, limit=200)
        for row in rows:
            if not row.report or not row.ts or not row.channel:
                continue
            shown = report_from_dict(row.report)
            same_mr = report.mr_iid is not None and shown.mr_iid == report.mr_iid
            same_ref = report.mr_iid is None and shown.mr_iid is None and shown.ref == report.ref
            if shown.project_path != report.project_path and report.project_id is None:
                continue
            if not (same_mr or same_ref) or shown.fixed_in_pipeline_id is not None:
                continue
            shown.fixed_in_pipeline_id = fixed_pipeline_id
            shown.fixed_in_url = fixed_url
            text, blocks = render_slack_parent(shown)
            try:
                await self.client.chat_update(channel=row.channel, ts=row.ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                log.warning("could not mark the Slack message %s in %s fixed: %s", row.ts, row.channel, _error(exc))
                continue
            await save_delivery(
                self.db, row.delivery_key, report=report_to_dict(shown), content_hash=_hash(blocks, text)
            )

    # --- replies and answers only one user sees ---

    async def post_reply(
        self, channel: str, thread_ts: str, question_ts: str, text: str, *, allowed_host: str = ""
    ) -> str:
        """A follow-up answer in the thread, once per question even when the job runs again."""
        key = reply_key(channel, question_ts)
        async with named_lock(self.db, key):
            existing = await get_delivery(self.db, key)
            if existing is not None and existing.ts:
                return existing.ts
            fallback, blocks = render_slack_reply(text, allowed_host=allowed_host)
            ts, _ = await post_once(
                self.once_client,
                self.db,
                key,
                existing,
                channel=channel,
                thread_ts=thread_ts,
                text=fallback,
                blocks=blocks,
                record={"target": REPLY},
                own_bot_id=self._own_bot_id,
            )
            await save_delivery(
                self.db,
                key,
                target=REPLY,
                channel=channel,
                ts=ts,
                thread_ts=thread_ts,
                content_hash=_hash(blocks, fallback),
                state=POSTED,
            )
            return ts

    async def tell_user(self, target: dict, text: str) -> None:
        """An answer only the asking user sees: through response_url when Slack gave one, else chat.postEphemeral."""
        body = sanitize_slack_mrkdwn(text, max_chars=3000)
        url = str(target.get("response_url") or "")
        if url and response_url_allowed(url, self.settings) and self.http is not None:
            payload = {"response_type": "ephemeral", "replace_original": False, "text": body}
            try:
                async with self.http.post(
                    url, json=payload, timeout=aiohttp.ClientTimeout(total=10), proxy=proxy_for(url)
                ) as resp:
                    if resp.status < 400:
                        return
                    log.warning("response_url answered %s", resp.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("response_url failed: %s", exc)
        channel, user = target.get("channel"), target.get("user")
        if not channel or not user:
            return
        kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": body}
        if target.get("thread_ts"):
            kwargs["thread_ts"] = target["thread_ts"]
        try:
            await self.client.chat_postEphemeral(**kwargs)
        except SlackApiError as exc:
            log.warning("could not tell %s in %s: %s", user, channel, _error(exc))

    async def post_notice(self, channel: str, text: str) -> str:
        """A one-off message in the channel (e.g. GitLab disabled the bot's webhook); the caller keeps it from
        repeating."""
        body = sanitize_slack_mrkdwn(text, max_chars=3000)
        resp = await self.client.chat_postMessage(channel=channel, text=body, unfurl_links=False, unfurl_media=False)
        return str(resp["ts"])

    async def react(self, channel: str, ts: str, name: str) -> None:
        """An emoji on a message; one Slack refuses (already there on a retry, scope missing) is only logged."""
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:  # not worth failing the job for
            log.info("could not react to %s in %s: %s", ts, channel, _error(exc))

    async def channel_is_shared(self, channel: str) -> bool:
        """Slack Connect (or org-shared) channels; when Slack will not say, assume shared (fail closed)."""
        cached = self._shared.get(channel)
        if cached and time.monotonic() - cached[0] < SHARED_CACHE_SECONDS:
            return cached[1]
        try:
            info = (await self.client.conversations_info(channel=channel)).get("channel") or {}
            shared = bool(info.get("is_ext_shared") or info.get("is_shared") or info.get("is_org_shared"))
        except SlackApiError as exc:
            log.warning("conversations.info for %s failed (%s); treating it as shared", channel, _error(exc))
            return True
        self._shared[channel] = (time.monotonic(), shared)
        return shared

    # --- internals ---

    async def _destinations(
        self, report: PipelineReport, target: dict | None, *, final: bool
    ) -> list[tuple[str, str | None]]:
        """(channel, thread to post in) pairs allowed to show this report."""
        rules = await load_rules(self.settings, self.db)
        if target and target.get("channel"):
            wanted = [(str(target["channel"]), target.get("thread_ts") or None)]
        else:
            branch = await self._default_branch(report)
            if not channel_map.branch_allowed(self.settings.slack_branch_filter, report.ref, branch, report.mr_iid):
                return []
            severity = channel_map.report_severity(report, branch)
            if not channel_map.severity_allowed(self.settings.slack_min_severity, severity):
                return []
            wanted = [(c, None) for c in channel_map.channels_for(report.project_path, rules)]
        out = []
        for channel, in_thread in wanted:
            if not channel_map.channel_sees(channel, report.project_path, rules):
                log.warning("channel %s may not see %s; not posting", channel, report.project_path)
                continue
            if not await self._may_post_details(channel, report):
                if target and final:
                    await self.tell_user(target, REFUSAL_SHARED_CHANNEL)
                continue
            out.append((channel, in_thread))
        return out

    async def _may_post_details(self, channel: str, report: PipelineReport) -> bool:
        if self.settings.slack_allow_shared_channels or not await self.channel_is_shared(channel):
            return True
        return await self._project_is_public(report)

    async def _project_is_public(self, report: PipelineReport) -> bool:
        key = str(report.project_id or report.project_path)
        if key in self._public:
            return self._public[key]
        gitlab = self.gitlab
        public = False
        if gitlab is not None:
            try:
                project = await gitlab.get_project(report.project_id or report.project_path)
                public = project.get("visibility") == "public"
            except Exception as exc:  # any GitLab trouble: treat it as private
                log.warning("could not read the visibility of %s: %s", key, exc)
                return False
        self._public[key] = public
        return public

    async def _default_branch(self, report: PipelineReport) -> str:
        branch = getattr(report, "default_branch", "") or ""
        if branch or report.project_id is None:
            return branch
        return await pipeline_default_branch(self.db, report.project_id, report.pipeline_id) or ""

    async def _ensure_parent(self, channel: str, in_thread: str | None, report: PipelineReport) -> Delivery | None:
        """Find the parent by its Delivery row and edit it, or post it; the named lock keeps replicas from racing."""
        db = self.db
        key = parent_key(channel, report)
        text, blocks = render_slack_parent(report, default_branch=await self._default_branch(report) or None)
        digest = _hash(blocks, text)
        async with named_lock(db, key):
            row = await get_delivery(db, key)
            thread = row.thread_ts if row is not None and row.ts else in_thread
            try:
                ts = await self._show(key, row, PARENT, report, channel, in_thread, text, blocks, digest)
            except SlackApiError as exc:
                if _error(exc) in (
                    "channel_not_found",
                    "not_in_channel",
                    "is_archived",
                    "msg_too_long",
                    "invalid_blocks",
                ):
                    log.warning("cannot post in Slack channel %s: %s", channel, _error(exc))
                    return None
                raise
            await save_delivery(
                db,
                key,
                target=PARENT,
                project_id=report.project_id,
                pipeline_id=report.pipeline_id,
                mr_iid=report.mr_iid,
                channel=channel,
                ts=ts,
                thread_ts=thread,
                content_hash=digest,
                analysis_id=report.analysis_id,
                report=report_to_dict(report),
                state=POSTED,
            )
        return await get_delivery(db, key)

    async def _post_thread(self, channel: str, parent: Delivery, report: PipelineReport) -> None:
        db = self.db
        used = {j.result.provider for j in report.jobs if j.result is not None}
        others = [p for p in self.providers if p not in used]
        root = parent.thread_ts or parent.ts
        messages = render_slack_analysis(report, others, default_branch=await self._default_branch(report) or None)
        for part, (text, blocks) in enumerate(messages, 1):
            key = thread_key(channel, parent.ts, part)
            digest = _hash(blocks, text)
            async with named_lock(db, key):
                row = await get_delivery(db, key)
                ts = await self._show(key, row, THREAD, report, channel, root, text, blocks, digest)
                await save_delivery(
                    db,
                    key,
                    target=THREAD,
                    project_id=report.project_id,
                    pipeline_id=report.pipeline_id,
                    channel=channel,
                    ts=ts,
                    thread_ts=root,
                    content_hash=digest,
                    analysis_id=report.analysis_id,
                    state=POSTED,
                )

    async def _show(
        self,
        key: str,
        row: Delivery | None,
        target: str,
        report: PipelineReport,
        channel: str,
        thread_ts: str | None,
        text: str,
        blocks: list[dict],
        digest: str,
    ) -> str:
        """The message under key: edited when what it shows changed, else posted once across crashes; its ts."""
        if row is not None and row.ts:
            if row.content_hash != digest:
                await self.client.chat_update(channel=channel, ts=row.ts, text=text, blocks=blocks)
            return row.ts
        record = {"target": target, "project_id": report.project_id, "pipeline_id": report.pipeline_id}
        ts, fresh = await post_once(
            self.once_client,
            self.db,
            key,
            row,
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            record=record,
            own_bot_id=self._own_bot_id,
        )
        if not fresh:  # an orphan of a crashed attempt: it shows what was current then
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        return ts

    async def _own_bot_id(self) -> str | None:
        """The bot's own bot id (auth.test), so only its own messages are adopted; None when Slack will not say."""
        if self._bot_id is None:
            try:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            except SlackApiError:
                return None
        return self._bot_id or None

    async def _remember_permalink(self, report: PipelineReport, channel: str, ts: str | None) -> None:
        if not ts or report.slack_permalink:
            return
        try:
            report.slack_permalink = str(
                (await self.client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"]
            )
            return
        except (SlackApiError, KeyError) as exc:
            log.info("chat.getPermalink failed (%s); building the link from the team URL", exc)
        if self._team_url is None:
            try:
                self._team_url = str((await self.client.auth_test()).get("url") or "")
            except SlackApiError:
                self._team_url = ""
        if self._team_url:
            report.slack_permalink = f"{self._team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def _error(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or exc)
    except Exception:
        return str(exc)


# --- linking a Slack user to a GitLab account ------------------------------------------------


def new_link_code() -> str:
    return "cicd-" + secrets.token_hex(5)


async def start_link(db: Database, team_id: str, slack_user_id: str) -> str:
    """A fresh one-time code for this Slack user (an earlier code stops working)."""
    code = new_link_code()
    await slack_state.issue_link_code(db, team_id, slack_user_id, code)
    return code


async def complete_link(db: Database, code: str, gitlab_user_id: int, gitlab_username: str) -> str | None:
    """Called when '@bot link <code>' is posted in GitLab; returns the linked Slack user id, or None for a bad/old code."""
    if not isinstance(code, str) or not code.startswith("cicd-") or len(code) > 64:
        return None
    oldest = utcnow() - timedelta(minutes=LINK_CODE_MINUTES)
    return await slack_state.redeem_link_code(
        db, code, issued_after=oldest, gitlab_user_id=gitlab_user_id, gitlab_username=gitlab_username
    )
