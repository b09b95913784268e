"""What Slack users set up: channel subscriptions to GitLab paths, and Slack users linked to GitLab accounts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.db import Database
from storage.models import ChannelSubscription, UserLink
from storage.types import utcnow

# --- channel subscriptions ------------------------------------------------------------


async def all_subscriptions(db: Database) -> list[tuple[str, str]]:
    """Every (channel, path pattern) subscribed with /cicd subscribe."""
    async with db.session() as s:
        rows = (await s.execute(sa.select(ChannelSubscription.channel, ChannelSubscription.path_pattern))).all()
    return [(r[0], r[1]) for r in rows]


async def add_subscription(db: Database, channel: str, path: str, *, created_by: str) -> bool:
    """Subscribe the channel to the path; False when it already was."""
    async with db.session() as s:
        exists = (await s.execute(sa.select(ChannelSubscription.id).where(
            ChannelSubscription.channel == channel, ChannelSubscription.path_pattern == path))).first()
        if exists:
            return False
        s.add(ChannelSubscription(channel=channel, path_pattern=path, created_by=created_by[:64], created_at=utcnow()))
    return True


async def remove_subscription(db: Database, channel: str, path: str) -> bool:
    """Unsubscribe the channel from the path; False when it was not subscribed."""
    async with db.session() as s:
        gone = await s.execute(sa.delete(ChannelSubscription).where(
            ChannelSubscription.channel == channel, ChannelSubscription.path_pattern == path))
    return bool(gone.rowcount)


async def channel_subscriptions(db: Database, channel: str) -> list[str]:
    """The path patterns this channel is subscribed to."""
    async with db.session() as s:
        return list((await s.execute(sa.select(ChannelSubscription.path_pattern).where(
            ChannelSubscription.channel == channel))).scalars().all())


# --- Slack users linked to GitLab accounts ----------------------------------------------


async def issue_link_code(db: Database, team_id: str, slack_user_id: str, code: str) -> None:
    """Give the Slack user this one-time code (an earlier code stops working)."""
    now = utcnow()
    async with db.session() as s:
        row = (await s.execute(sa.select(UserLink).where(UserLink.slack_user_id == slack_user_id))).scalar_one_or_none()
        if row is None:
            s.add(UserLink(slack_team_id=team_id, slack_user_id=slack_user_id, link_code=code, created_at=now))
        else:
            # created_at doubles as the time the current code was issued
            row.link_code, row.created_at, row.slack_team_id = code, now, team_id


async def redeem_link_code(db: Database, code: str, *, issued_after: datetime, gitlab_user_id: int,
                           gitlab_username: str) -> str | None:
    """Link the code's Slack user to this GitLab account and spend the code; None for an unknown or old code."""
    async with db.session() as s:
        row = (await s.execute(sa.select(UserLink).where(UserLink.link_code == code))).scalar_one_or_none()
        if row is None or row.created_at < issued_after:
            return None
        row.gitlab_user_id = int(gitlab_user_id)
        row.gitlab_username = str(gitlab_username)[:255]
        row.linked_at = utcnow()
        row.link_code = None
        return row.slack_user_id


async def linked_gitlab_user(db: Database, slack_user_id: str) -> UserLink | None:
    async with db.session() as s:
        return (await s.execute(sa.select(UserLink).where(
            UserLink.slack_user_id == slack_user_id, UserLink.gitlab_user_id.is_not(None)))).scalar_one_or_none()
