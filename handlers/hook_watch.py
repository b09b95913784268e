"""Whether GitLab still delivers to the bot: each watched group's and project's webhook, said once in Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from bot.clients import gitlab_sweep
from bot.clients.gitlab_errors import GitLabAuthError, GitLabNotFound
from bot.clients.gitlab_sweep import PageReader, gitlab_time
from bot.clients.slack import load_rules
from bot.core import channel_map
from bot.runtime.services import Services
from storage.sweep import HookSeen, all_hooks, mark_told, save_hooks

log = logging.getLogger(__name__)

BOT_PATH = "/webhooks/gitlab"  # where the bot's door is mounted (app.py): a hook pointing there is ours
EXECUTABLE = "executable"
BROKEN = ("temporarily_disabled", "disabled")  # GitLab's alert_status for a hook it stopped delivering through
MISSING, UNREADABLE = "missing", "unreadable"

DETAIL_MISSING = "no webhook of this {kind} sends pipeline or job events to the bot"
DETAIL_UNREADABLE = (
    "the bot's token cannot list this {kind}'s webhooks ({error}); group hooks need the Owner role "
    "(and GitLab Premium), project hooks Maintainer"
)
TOLD_BROKEN = (
    ":warning: GitLab has stopped delivering the webhook {hook} of {kind} `{ref}` to cicd-bot: {why}. "
    "Until it works again, failures there reach the bot only through its sweep every {minutes} min. "
    "Re-enable it in GitLab under Settings > Webhooks."
)
WHY_PAUSED = "it failed several times in a row and GitLab pauses it until {until}"
WHY_DISABLED = "it kept failing and GitLab has disabled it until someone enables it again"
TOLD_RECOVERED = "The webhook {hook} of {kind} `{ref}` delivers to cicd-bot again."
LOG_CHANGED = "webhook %s of %s is %s (Slack was last told %r)"
LOG_NOT_TOLD = "could not tell Slack channel %s about webhook %s of %s: %s"


def scopes(services: Services) -> list[tuple[str, str]]:
    """(kind, ref) of every watched group and project, as configured."""
    settings = services.settings
    return [("group", g) for g in settings.gitlab_groups] + [("project", p) for p in settings.gitlab_projects]


def scope_name(kind: str, ref: str) -> str:
    return f"{kind}:{ref}"


def ours(listed: list[dict]) -> list[dict]:
    """The hooks that deliver to the bot: those pointing at its door, else those sending pipeline or job events."""
    pointing = [h for h in listed if urlsplit(str(h.get("url") or "")).path.rstrip("/").endswith(BOT_PATH)]
    return pointing or [h for h in listed if h.get("pipeline_events") or h.get("job_events")]


async def check(services: Services, gl: PageReader, spend: Callable[[], None], cursor: dict) -> list[HookSeen]:
    """Look at the watched scopes' hooks (one API call each) from cursor["hooks"] on, store what was seen and tell
    Slack of changes; the cursor moves past each scope done, so a pass whose calls ran out carries on there."""
    found: list[HookSeen] = []
    watched = scopes(services)
    while cursor.get("hooks", 0) < len(watched):
        kind, ref = watched[cursor.get("hooks", 0)]
        scope = scope_name(kind, ref)
        spend()
        try:
            listed = await gitlab_sweep.hooks(gl, kind, ref)
        except (GitLabAuthError, GitLabNotFound) as exc:
            seen = [HookSeen(scope, 0, UNREADABLE, detail=DETAIL_UNREADABLE.format(kind=kind, error=exc.status))]
        else:
            seen = [
                HookSeen(
                    scope, int(h["id"]), str(h.get("alert_status") or "unknown"), gitlab_time(h.get("disabled_until"))
                )
                for h in ours(listed)
                if isinstance(h.get("id"), int)
            ] or [HookSeen(scope, 0, MISSING, detail=DETAIL_MISSING.format(kind=kind))]
        told = await save_hooks(services.db, scope, seen)
        for hook in seen:
            await _tell(services, kind, ref, hook, told.get(hook.hook_id, ""))
        found += seen
        cursor["hooks"] = cursor.get("hooks", 0) + 1
    return found


async def _tell(services: Services, kind: str, ref: str, hook: HookSeen, told: str) -> None:
    """Say in Slack, once, that a hook broke or works again; nothing while it stays as Slack last heard."""
    status = hook.alert_status
    if status in BROKEN and status != told:
        why = (
            WHY_PAUSED.format(until=hook.disabled_until or "later")
            if status == "temporarily_disabled"
            else WHY_DISABLED
        )
        minutes = max(1, round(services.settings.reconcile_interval / 60))
        text = TOLD_BROKEN.format(hook=hook.hook_id, kind=kind, ref=ref, why=why, minutes=minutes)
    elif status == EXECUTABLE and told in BROKEN:
        text = TOLD_RECOVERED.format(hook=hook.hook_id, kind=kind, ref=ref)
    else:
        if status == EXECUTABLE and told != EXECUTABLE:
            await mark_told(services.db, hook.scope, hook.hook_id, status)  # the first look: nothing to say
        return
    log.warning(LOG_CHANGED, hook.hook_id, hook.scope, status, told)
    channels = await alert_channels(services, kind, ref)
    delivered = not channels  # nowhere to say it: /health/detailed and this log carry it
    for channel in channels:
        try:
            await services.slack.post_notice(channel, text)  # type: ignore[union-attr]
            delivered = True
        except Exception as exc:  # one channel's trouble must not stop the sweep
            log.warning(LOG_NOT_TOLD, channel, hook.hook_id, hook.scope, exc)
    if delivered:
        await mark_told(services.db, hook.scope, hook.hook_id, status)


async def alert_channels(services: Services, kind: str, ref: str) -> list[str]:
    """Channels told about this group's or project's failures (for a group: any project inside it), and
    SLACK_ALERT_CHANNEL; a scope given by id is known to SLACK_ALERT_CHANNEL only."""
    if services.slack is None:
        return []
    channels: list[str] = []
    if not ref.isdigit():
        rules = await load_rules(services.settings, services.db)
        if kind == "project":
            channels = channel_map.channels_for(ref, rules)
        else:
            channels = [
                r.channel
                for r in rules
                if r.channel != channel_map.OPEN_GRANT and channel_map.patterns_overlap(r.pattern, ref)
            ]
    if services.settings.slack_alert_channel:
        channels.append(services.settings.slack_alert_channel)
    return list(dict.fromkeys(channels))


async def health(services: Services) -> list[dict]:
    """The webhooks as last seen, for /health/detailed (no URLs: they may carry secrets)."""
    return [
        {
            "scope": row.scope,
            "hook_id": row.hook_id or None,
            "status": row.alert_status,
            "disabled_until": row.disabled_until.isoformat() if row.disabled_until else None,
            "detail": row.detail or None,
            "checked_at": row.checked_at.isoformat(),
        }
        for row in await all_hooks(services.db)
    ]
