"""The checks of `cicd-bot doctor` (settings, database, Slack, models, IMAP; GitLab's are in doctor_gitlab) and the run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.cli.checks import FAIL, HTTP_TIMEOUT, OK, SKIP, WARN, Check
from bot.cli.doctor_gitlab import gitlab_checks
from bot.clients.slack import make_client
from bot.core.channel_map import OPEN_GRANT, parse_channel_map
from bot.providers import catalog
from bot.providers.base import AuthError, BadRequestError, InvalidOutputError, ProviderError
from bot.providers.router import build_backends
from config.settings import Settings, mask_url_password, unsigned_webhooks_problem
from storage import migrate
from storage.db import Database
from storage.errors import DatabaseProblem, check_connection, sqlite_directory_problem
from storage.inbox import last_received_at

MSG_SUMMARY_OK = "all {count} checks passed{warnings}"
MSG_SUMMARY_FAIL = "{failed} of {count} checks failed{warnings}"
MSG_WARNINGS = " ({count} to look at)"

MSG_SECRET_OK = "webhooks are authenticated with {what}"
MSG_SECRET_MISSING = "webhooks are refused: GITLAB_WEBHOOK_SECRET is not set"
FIX_SECRET = (
    "set GITLAB_WEBHOOK_SECRET to a long random value (openssl rand -hex 32); webhook install gives the hook it"
)
MSG_UNSIGNED = (
    "GITLAB_WEBHOOK_ALLOW_UNSIGNED=true: anyone who reaches the bot can make it analyse (and pay for) pipelines"
)
MSG_WEBHOOK_OFF = "webhooks not used (TRIGGER_MODE={mode})"

MSG_DB_OK = "{where}: schema {current} (up to date); {last}"
MSG_DB_NEW_SQLITE = "{path} does not exist yet: serve creates and migrates it"
MSG_DB_SQLITE_BEHIND = "{where}: schema {current} of {head}: serve brings SQLite up to date when it starts"
MSG_DB_BEHIND = "{where}: the schema is at {current} but this version needs {head}"
FIX_DB_BEHIND = "cicd-bot db upgrade"
MSG_LAST_HOOK = "last GitLab webhook accepted {when:%Y-%m-%d %H:%M} UTC"
MSG_NO_HOOK_YET = "no GitLab webhook accepted yet"

MSG_SLACK_OFF = "Slack off (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set)"
MSG_SLACK_OK = "authenticated as {user} in {team} ({team_id})"
MSG_SLACK_REFUSED = "Slack refused SLACK_BOT_TOKEN ({error})"
FIX_SLACK_TOKEN = "copy the Bot User OAuth Token (xoxb-...) from the app's Install App page into SLACK_BOT_TOKEN"
MSG_SLACK_DOWN = "cannot reach Slack at {url}: {detail}"
FIX_SLACK_DOWN = "check SLACK_API_URL, firewalls, and HTTPS_PROXY / NO_PROXY"
MSG_NO_CHANNELS = "SLACK_CHANNEL_MAP names no channel: failures reach Slack only where someone runs /cicd subscribe"
FIX_NO_CHANNELS = "map paths to channel ids, e.g. SLACK_CHANNEL_MAP=acme/*=C0123ABCD"
MSG_CHANNEL_OK = "{channel} (#{name}): the bot is a member"
MSG_CHANNEL_OUT = "{channel} (#{name}): the bot is not a member"
FIX_CHANNEL_OUT = "invite it there (/invite @{bot}): it posts there and hears follow-up questions in its threads"
MSG_CHANNEL_MISSING = "{channel}: not found (a wrong id, or a private channel the bot is not in)"
FIX_CHANNEL_MISSING = "copy the id from the channel's details (C0123ABCD) and /invite @{bot} in private channels"
MSG_CHANNEL_ERROR = "{channel}: Slack answered {error}"
FIX_SCOPES = "reinstall the app from config/slack-manifest.yml, which asks for channels:read and groups:read"

MSG_OFFLINE_ONLY = "only the offline analyzer is configured; it needs no network"
MSG_PROVIDERS_NOT_ASKED = "{names} not asked: run doctor --providers to send each a one-token request (it costs)"
MSG_PROVIDER_OK = "{name} ({model}) answered a one-token request"
MSG_PROVIDER_FAILED = "{name} ({model}): {error}"
FIX_PROVIDER_DOWN = "check the network path (HTTPS_PROXY / NO_PROXY) and the provider's status page"
PING_SYSTEM = "Reply with the single word OK."
PING_MESSAGES = [{"role": "user", "content": "OK?"}]
PROVIDER_FIXES = {
    "openai": ("OPENAI_API_KEY", "OPENAI_MODEL (and OPENAI_BASE_URL for a compatible server)"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_MODEL"),
    "azure_openai": ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and the API version"),
}

MSG_IMAP_OFF = "email trigger off"
MSG_IMAP_OK = "logged in to {server}:{port} as {user}; {folder} holds {count} messages"


async def diagnose(settings: Settings, *, providers: bool, out: TextIO) -> int:
    checks: list[Check] = []
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        for source in (
            _one(webhook_secret_check(settings)),
            _one(database_check(settings)),
            gitlab_checks(settings, session),
            slack_checks(settings, session),
            provider_checks(settings, ask=providers),
            _one(imap_check(settings)),
        ):
            async for check in source:
                checks.append(check)
                print(check.line(), file=out, flush=True)
    failed = sum(check.failed for check in checks)
    warned = sum(check.status == WARN for check in checks)
    warnings = MSG_WARNINGS.format(count=warned) if warned else ""
    if failed:
        print(MSG_SUMMARY_FAIL.format(failed=failed, count=len(checks), warnings=warnings), file=out)
        return 1
    print(MSG_SUMMARY_OK.format(count=len(checks), warnings=warnings), file=out)
    return 0


async def _one(check: Any) -> AsyncIterator[Check]:
    yield await check


async def webhook_secret_check(settings: Settings) -> Check:
    refusal = unsigned_webhooks_problem(settings)
    if refusal:
        return Check(FAIL, "settings", refusal)
    if not settings.webhook_enabled:
        return Check(SKIP, "settings", MSG_WEBHOOK_OFF.format(mode=settings.trigger_mode.value))
    if settings.gitlab_webhook_allow_unsigned:
        return Check(
            WARN, "settings", MSG_UNSIGNED, "set GITLAB_WEBHOOK_SECRET and GITLAB_WEBHOOK_ALLOW_UNSIGNED=false"
        )
    if not settings.webhook_auth_configured:
        return Check(FAIL, "settings", MSG_SECRET_MISSING, FIX_SECRET)
    what = "GITLAB_WEBHOOK_SIGNING_TOKEN" if settings.gitlab_webhook_signing_token else "GITLAB_WEBHOOK_SECRET"
    return Check(OK, "settings", MSG_SECRET_OK.format(what=what))


async def database_check(settings: Settings) -> Check:
    """Reachable and migrated; a SQLite file that does not exist yet is fine (and is not created here)."""
    db = Database(settings.database_url)
    if db.dialect == "sqlite":
        where = f"SQLite {Path(db.engine.url.database or '').expanduser().resolve()}"
    else:
        where = f"PostgreSQL {mask_url_password(settings.database_url).split('://', 1)[-1]}"
    try:
        if db.dialect == "sqlite":
            problem = sqlite_directory_problem(db.url)
            if problem:
                return Check(FAIL, "database", problem)
            path = Path(db.engine.url.database or "").expanduser().resolve()
            if not path.exists():
                return Check(OK, "database", MSG_DB_NEW_SQLITE.format(path=path))
        await check_connection(db)
        status = await migrate.status(db)
        if status.up_to_date:
            last = await last_received_at(db, "gitlab_webhook")
            seen = MSG_LAST_HOOK.format(when=last) if last else MSG_NO_HOOK_YET
            return Check(OK, "database", MSG_DB_OK.format(where=where, current=status.current, last=seen))
        current = status.current or "empty"
        if db.dialect == "sqlite":
            return Check(OK, "database", MSG_DB_SQLITE_BEHIND.format(where=where, current=current, head=status.head))
        return Check(
            FAIL, "database", MSG_DB_BEHIND.format(where=where, current=current, head=status.head), FIX_DB_BEHIND
        )
    except DatabaseProblem as exc:
        return Check(FAIL, "database", str(exc))
    finally:
        await db.dispose()


async def slack_checks(settings: Settings, session: aiohttp.ClientSession) -> AsyncIterator[Check]:
    """auth.test, then conversations.info of every channel SLACK_CHANNEL_MAP names: is the bot in it."""
    from slack_sdk.errors import SlackApiError

    if not settings.slack_enabled:
        yield Check(SKIP, "Slack", MSG_SLACK_OFF)
        return
    client = make_client(settings, session)
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        yield Check(FAIL, "Slack", MSG_SLACK_REFUSED.format(error=exc.response.get("error")), FIX_SLACK_TOKEN)
        return
    except (aiohttp.ClientError, TimeoutError) as exc:
        detail = str(exc) or type(exc).__name__
        yield Check(FAIL, "Slack", MSG_SLACK_DOWN.format(url=settings.slack_api_url, detail=detail), FIX_SLACK_DOWN)
        return
    bot = auth.get("user") or "cicd-bot"
    yield Check(OK, "Slack", MSG_SLACK_OK.format(user=bot, team=auth.get("team"), team_id=auth.get("team_id")))
    rules, _ = parse_channel_map(settings.slack_channel_map)
    channels = list(dict.fromkeys(rule.channel for rule in rules if rule.channel != OPEN_GRANT))
    if not channels:
        yield Check(WARN, "channel", MSG_NO_CHANNELS, FIX_NO_CHANNELS)
    for channel in channels:
        try:
            info = (await client.conversations_info(channel=channel)).get("channel") or {}
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error == "channel_not_found":
                yield Check(
                    FAIL, "channel", MSG_CHANNEL_MISSING.format(channel=channel), FIX_CHANNEL_MISSING.format(bot=bot)
                )
            else:
                fix = FIX_SCOPES if error == "missing_scope" else ""
                yield Check(FAIL, "channel", MSG_CHANNEL_ERROR.format(channel=channel, error=error), fix)
            continue
        name = info.get("name") or channel
        if info.get("is_member"):
            yield Check(OK, "channel", MSG_CHANNEL_OK.format(channel=channel, name=name))
        else:
            yield Check(
                FAIL, "channel", MSG_CHANNEL_OUT.format(channel=channel, name=name), FIX_CHANNEL_OUT.format(bot=bot)
            )


async def provider_checks(settings: Settings, *, ask: bool) -> AsyncIterator[Check]:
    """With ask: one request per configured model, answer limited to one token; otherwise only say who is there."""
    remote = [name for name in catalog.configured(settings) if name != "heuristic"]
    if not remote:
        yield Check(OK, "providers", MSG_OFFLINE_ONLY)
        return
    if not ask:
        yield Check(SKIP, "providers", MSG_PROVIDERS_NOT_ASKED.format(names=", ".join(remote)))
        return
    backends = build_backends(settings.model_copy(update={"ai_max_output_tokens": 1}))
    for name, backend in backends.items():
        try:
            failure = await _ping(name, backend, settings.ai_timeout_seconds + 5)
        finally:
            await backend.aclose()
        if failure is None:
            yield Check(OK, "provider", MSG_PROVIDER_OK.format(name=name, model=backend.model))
        else:
            error, fix = failure
            yield Check(FAIL, "provider", MSG_PROVIDER_FAILED.format(name=name, model=backend.model, error=error), fix)


async def _ping(name: str, backend: Any, timeout: float) -> tuple[str, str] | None:
    """None when the model answered; else (what went wrong, the fix)."""
    key_var, model_vars = PROVIDER_FIXES.get(name, ("its API key", "its model"))
    try:
        await asyncio.wait_for(backend.complete(PING_SYSTEM, PING_MESSAGES), timeout)
    except InvalidOutputError:  # cut off at one token, as asked: it answered
        return None
    except AuthError as exc:
        return str(exc), f"check {key_var}"
    except BadRequestError as exc:
        return str(exc), f"check {model_vars}"
    except (ProviderError, TimeoutError) as exc:
        return str(exc) or "no answer in time", FIX_PROVIDER_DOWN
    return None


async def imap_check(settings: Settings) -> Check:
    """Log in and open the folder, as the poller does; nothing is read or marked."""
    if not settings.email_enabled:
        return Check(SKIP, "IMAP", MSG_IMAP_OFF)
    from bot.clients.mailbox import ImapMailbox, classify_error

    mailbox = ImapMailbox(settings)
    try:
        info = await asyncio.to_thread(mailbox.open)
    except Exception as exc:
        return Check(FAIL, "IMAP", str(classify_error(exc, settings)))
    finally:
        await asyncio.to_thread(mailbox.close)
    return Check(
        OK,
        "IMAP",
        MSG_IMAP_OK.format(
            server=settings.imap_server,
            port=settings.imap_port,
            user=settings.imap_user,
            folder=settings.imap_folder,
            count=info.messages,
        ),
    )
