"""What the bot's GitLab webhook must look like, and what is wrong with one as GitLab describes it (pure)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

WEBHOOK_PATH = "/webhooks/gitlab"

# The hook's event switches (GitLab's API field names) and the X-Gitlab-Event each one delivers.
HOOK_EVENTS: dict[str, str] = {
    "pipeline_events": "Pipeline Hook",
    "job_events": "Job Hook",
    "note_events": "Note Hook",
    "merge_requests_events": "Merge Request Hook",
}
EVENT_WORDS = {
    "pipeline_events": "pipeline",
    "job_events": "job",
    "note_events": "note (comments)",
    "merge_requests_events": "merge request",
}
# Switched off explicitly: GitLab turns push events on for a new hook, and the bot ignores them.
HOOK_EVENTS_OFF = ("push_events", "tag_push_events")

ALERT_DISABLED = "disabled"
ALERT_PAUSED = "temporarily_disabled"


def hook_url(url: str) -> str:
    """The webhook URL for what people type: the bot's base address gets /webhooks/gitlab appended."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL such as https://cicd-bot.example.com")
    path = parts.path.rstrip("/")
    if not path.endswith(WEBHOOK_PATH):
        path += WEBHOOK_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def hook_fields(url: str, secret: str) -> dict[str, object]:
    """What `webhook install` sends: the URL, the secret token, the events on, push off, SSL verification on."""
    fields: dict[str, object] = {"url": url, "token": secret, "enable_ssl_verification": True}
    fields.update(dict.fromkeys(HOOK_EVENTS, True))
    fields.update(dict.fromkeys(HOOK_EVENTS_OFF, False))
    return fields


def is_bot_hook(hook: dict, url: str | None = None) -> bool:
    """A hook that delivers to this bot: the given URL, or else any URL ending in /webhooks/gitlab."""
    target = str(hook.get("url") or "")
    if url is not None:
        return target.rstrip("/") == url.rstrip("/")
    try:
        return urlsplit(target).path.rstrip("/").endswith(WEBHOOK_PATH)
    except ValueError:
        return False


def bot_hooks(hooks: list[dict], url: str | None = None) -> list[dict]:
    """The bot's hooks among a group's or project's, oldest first."""
    found = [hook for hook in hooks if isinstance(hook, dict) and is_bot_hook(hook, url)]
    return sorted(found, key=lambda hook: hook.get("id") or 0)


def missing_events(hook: dict) -> list[str]:
    """The events the bot needs that this hook does not send, in words."""
    return [EVENT_WORDS[field] for field in HOOK_EVENTS if hook.get(field) is not True]


def hook_problems(hook: dict) -> list[str]:
    """Everything about a hook that stops or weakens delivery to the bot, in words; empty when it is right."""
    problems = []
    missing = missing_events(hook)
    if missing:
        problems.append("does not send " + ", ".join(missing) + " events")
    status = hook.get("alert_status")
    if status == ALERT_DISABLED:
        problems.append("GitLab disabled it after failed deliveries")
    elif status == ALERT_PAUSED:
        until = hook.get("disabled_until") or "later"
        problems.append(f"GitLab paused it after failed deliveries until {until}")
    if hook.get("enable_ssl_verification") is False and str(hook.get("url", "")).startswith("https://"):
        problems.append("SSL verification is off")
    return problems
