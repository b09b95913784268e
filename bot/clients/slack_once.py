"""Posting a Slack message once across crashes: the intent is recorded first, the message is tagged, orphans adopted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from storage.db import Database
from storage.deliveries import Delivery, save_delivery

log = logging.getLogger(__name__)

# Slack message metadata (https://docs.slack.dev/messaging/message-metadata): apps read it back with
# conversations.history / conversations.replies and include_all_metadata.
EVENT_TYPE = "cicd_bot_pipeline"
POSTING, POSTED = "posting", "posted"
HISTORY_PAGES = 3  # at most this many pages of a channel's recent history are read to find an orphan
HISTORY_PAGE_SIZE = 200
CLOCK_MARGIN_SECONDS = 600  # Slack's clock and ours may disagree: look this much further back than the intent
# Slack's answers that say the history cannot be read at all (a scope missing, a public channel the bot posts in
# without being a member); anything else (rate limited, Slack down) fails the attempt, and the job tries again.
NO_HISTORY = frozenset(
    {"missing_scope", "not_in_channel", "channel_not_found", "access_denied", "not_allowed_token_type"}
)

LOG_LOOKUP_FAILED = "could not look for an earlier message %s in %s (%s); posting it again"
LOG_ADOPTED = "adopted Slack message %s in %s for %s: posted before a crash, never recorded"


def tag(key: str, **facts: Any) -> dict:
    """The metadata our message carries: its delivery key, and the project and pipeline it is about."""
    payload = {"key": key, **{name: value for name, value in facts.items() if value is not None}}
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def _ours(message: dict, key: str, bot_id: str | None) -> bool:
    meta = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    payload = meta.get("event_payload") if isinstance(meta.get("event_payload"), dict) else {}
    if meta.get("event_type") != EVENT_TYPE or payload.get("key") != key or not message.get("ts"):
        return False
    # Only apps can attach metadata; of those, only our own message can be edited by us.
    return bot_id is None or message.get("bot_id") in (None, bot_id)


async def find_tagged(
    client: AsyncWebClient,
    channel: str,
    key: str,
    *,
    thread_ts: str | None,
    since: datetime | None,
    bot_id: str | None,
) -> str | None:
    """The ts of our message tagged with this key in the channel (or thread) since the intent, or None."""
    args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": HISTORY_PAGE_SIZE}
    if since is not None:
        args["oldest"] = f"{since.timestamp() - CLOCK_MARGIN_SECONDS:.6f}"
    for _ in range(HISTORY_PAGES):
        if thread_ts:
            resp = await client.conversations_replies(ts=thread_ts, **args)
        else:
            resp = await client.conversations_history(**args)
        for message in resp.get("messages") or []:
            if isinstance(message, dict) and _ours(message, key, bot_id):
                return str(message["ts"])
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
        args["cursor"] = cursor
    return None


async def post_once(
    client: AsyncWebClient,
    db: Database,
    key: str,
    row: Delivery | None,
    *,
    channel: str,
    thread_ts: str | None,
    text: str,
    blocks: list[dict],
    record: dict[str, Any],
    own_bot_id: Callable[[], Awaitable[str | None]],
) -> tuple[str, bool]:
    """Post the message recorded as `key` unless an earlier attempt did; returns (ts, posted now).

    The caller holds the key's named lock and records the ts (state "posted") afterwards. A row in state
    "posting" means an earlier attempt may have posted and died before recording it: that message is
    looked for by its metadata and adopted, so a crash between Slack's answer and our commit posts nothing twice.
    """
    if row is not None and row.state == POSTING:
        try:
            bot_id = await own_bot_id()
            found = await find_tagged(client, channel, key, thread_ts=thread_ts, since=row.updated_at, bot_id=bot_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "") if exc.response is not None else ""
            if error not in NO_HISTORY:
                raise
            # Without the history a second message beats none.
            log.warning(LOG_LOOKUP_FAILED, key, channel, error)
            found = None
        if found is not None:
            log.warning(LOG_ADOPTED, found, channel, key)
            return found, False
    else:
        await save_delivery(db, key, state=POSTING, channel=channel, thread_ts=thread_ts, **record)
    kwargs: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
    metadata = tag(key, project_id=record.get("project_id"), pipeline_id=record.get("pipeline_id"))
    resp = await client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
        metadata=metadata,
        **kwargs,
    )
    return str(resp["ts"]), True
