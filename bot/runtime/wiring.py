"""Builds the process's clients from the settings and starts what runs in the background."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.jobs.analyze_pipeline import notify_dead_job
from bot.clients.gitlab import GitLabClient, GitLabError
from bot.providers.router import ProviderRouter
from storage.ledger import DatabaseLedger

log = logging.getLogger(__name__)

IDENTITY_TIMEOUT_SECONDS = 10


async def resolve_identity(services) -> None:
    """Learn the bot's own GitLab user, so it recognises its notes and mentions."""
    if services.gitlab is None:
        return
    try:
        user = await asyncio.wait_for(services.gitlab.current_user(), IDENTITY_TIMEOUT_SECONDS)
    except (GitLabError, asyncio.TimeoutError) as exc:
        log.warning("could not ask GitLab who the bot is (%s); using username %s", exc, services.identity.username)
        return
    configured = services.settings.gitlab_bot_username
    if configured and configured.lower() != str(user.get("username", "")).lower():
        log.warning("GITLAB_BOT_USERNAME=%s but the token belongs to %s; using %s",
                    configured, user.get("username"), user.get("username"))
    services.identity.username = str(user.get("username") or services.identity.username)
    services.identity.user_id = int(user["id"]) if user.get("id") is not None else None


async def attach(services) -> None:
    """GitLab client, provider router, Slack publisher: whatever the settings enable."""
    settings = services.settings
    if settings.gitlab_api_configured:
        services.gitlab = GitLabClient.from_settings(settings, services.http)
        await resolve_identity(services)
    services.router = ProviderRouter(settings, ledger=DatabaseLedger(services.db))
    services.on_dead_job = notify_dead_job
    if settings.slack_enabled:
        from bot.clients.slack import SlackPublisher
        from handlers import slack as slack_door

        services.extras["slack"] = SlackPublisher(services)
        services.extras.setdefault("mounts", []).append(lambda app: slack_door.mount(app, services))


async def start_background(services) -> list[Callable[[], Awaitable[None]]]:
    """Background pollers; returns their stop functions."""
    stops: list[Callable[[], Awaitable[None]]] = []
    if services.settings.email_enabled:
        from handlers.email import start_email_poller

        stops.append(start_email_poller(services))
    return stops
