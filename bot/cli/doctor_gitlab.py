"""`doctor`'s GitLab checks: reachable and its version, the token (scopes, expiry), the bot's roles, the webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import aiohttp

from bot.cli.checks import FAIL, OK, SKIP, WARN, Check, gitlab_failure, role_name
from bot.clients.gitlab_admin import GitLabAdmin, Scope, configured_scopes
from bot.clients.gitlab_errors import GitLabAuthError, GitLabError, GitLabNotFound
from bot.core.hook_rules import ALERT_DISABLED, ALERT_PAUSED, bot_hooks, hook_problems, missing_events
from config.settings import Settings

DEVELOPER = 30
EXPIRY_WARNING_DAYS = 14

MSG_NO_TOKEN = "GITLAB_API_TOKEN is not set: the bot cannot read logs or post notes"
FIX_NO_TOKEN = "create a token for the bot user with scope api and set GITLAB_API_TOKEN"
MSG_VERSION = "{url} answers: GitLab {version}"
MSG_TOKEN = "user {username} (#{id}), scopes {scopes}, {expiry}"
MSG_NO_EXPIRY = "no expiry date"
MSG_EXPIRES = "expires {date} (in {days} days)"
MSG_EXPIRED = "expired on {date}"
FIX_ROTATE = "create a new token with scope api before then and put it in GITLAB_API_TOKEN"
MSG_NO_API_SCOPE = "scopes {scopes}: posting notes needs the api scope"
MSG_TOKEN_INACTIVE = "the token is revoked or inactive"
MSG_TOKEN_UNKNOWN = "user {username} (#{id}); the token's scopes and expiry cannot be read here ({reason})"
FIX_TOKEN_UNKNOWN = "check them in GitLab: the bot needs scope api and a token that does not expire unnoticed"
MSG_USERNAME = "GITLAB_BOT_USERNAME={configured} but the token belongs to {actual}"
MSG_NO_SCOPES = "GITLAB_GROUPS and GITLAB_PROJECTS are empty: roles and webhooks were not checked"
FIX_NO_SCOPES = "set them to the groups (or projects) whose pipelines the bot explains, e.g. GITLAB_GROUPS=acme"
MSG_NOT_FOUND = "{scope}: not found, or the bot's token cannot see it"
FIX_NOT_FOUND = "check the path in GITLAB_GROUPS / GITLAB_PROJECTS, and make the bot user a member"
MSG_ROLE = "{scope}: {user} is {role}"
FIX_ROLE = "make {user} a Developer (or more) in {scope}: it reads job logs and posts notes there"
MSG_HOOKS_OFF = "webhooks not used (TRIGGER_MODE={mode})"
MSG_HOOKS_FORBIDDEN = (
    "{scope}: the bot's token may not read webhooks ({needed} role needed, which the bot needs for nothing else)"
)
FIX_HOOKS_FORBIDDEN = (
    "check them with an owner's token: GITLAB_API_TOKEN=<token> cicd-bot webhook status --{kind} {ref}"
)
MSG_NO_GROUP_HOOKS = "{scope}: group webhooks do not exist on this GitLab (they need Premium or Ultimate)"
FIX_NO_GROUP_HOOKS = "add a hook to each project (cicd-bot webhook install --project PATH), or use TRIGGER_MODE=email"
MSG_NO_HOOK = "{scope}: no webhook delivers to .../webhooks/gitlab"
FIX_INSTALL = "cicd-bot webhook install --{kind} {ref}{url}"
MSG_HOOK_BAD = "{scope}: hook #{id} {url} {problems}"
MSG_HOOK_OK = "{scope}: hook #{id} {url} sends pipeline, job, note and merge request events{more}"
MSG_HOOK_SECRET = "; GitLab never shows a hook's secret (webhook install sets it from GITLAB_WEBHOOK_SECRET)"
MSG_EXTRA_HOOKS = "; {count} more hooks deliver to the bot ({ids}): delete the extra ones"
FIX_REENABLE = (
    "fix what made deliveries fail (the hook's Recent events in GitLab say), then press Test on the hook "
    "in GitLab: a 2xx answer enables it again"
)


async def gitlab_checks(settings: Settings, session: aiohttp.ClientSession) -> AsyncIterator[Check]:
    """GitLab, token, role per group or project, hook per group or project; stops early when GitLab is unusable."""
    if settings.gitlab_api_token is None:
        yield Check(FAIL, "GitLab", MSG_NO_TOKEN, FIX_NO_TOKEN)
        return
    admin = GitLabAdmin.from_settings(settings, session)
    name = "GitLab"
    try:
        version = await admin.version()
        yield Check(OK, name, MSG_VERSION.format(url=admin.base_url, version=version.get("version", "?")))
        name = "token"
        user = await admin.current_user()
    except GitLabError as exc:
        yield Check(FAIL, name, *gitlab_failure(exc, admin.base_url))
        return
    yield await _token_check(admin, user, settings)
    scopes = configured_scopes(settings)
    if not scopes:
        yield Check(WARN, "roles", MSG_NO_SCOPES, FIX_NO_SCOPES)
        return
    found = []
    for scope in scopes:
        check, exists = await _role_check(admin, scope, user)
        found += [scope] if exists else []
        yield check
    if not settings.webhook_enabled:
        yield Check(SKIP, "webhook", MSG_HOOKS_OFF.format(mode=settings.trigger_mode.value))
        return
    for scope in found:
        yield await _hook_check(admin, scope)


async def _token_check(admin: GitLabAdmin, user: dict, settings: Settings) -> Check:
    username, uid = user.get("username", "?"), user.get("id", "?")
    configured = settings.gitlab_bot_username
    if configured and configured.lower() != str(username).lower():
        return Check(
            WARN,
            "token",
            MSG_USERNAME.format(configured=configured, actual=username),
            f"set GITLAB_BOT_USERNAME={username} or leave it empty",
        )
    try:
        token = await admin.token_self()
    except GitLabError as exc:
        reason = f"GitLab answered {exc.status}" if exc.status else str(exc)
        return Check(
            WARN, "token", MSG_TOKEN_UNKNOWN.format(username=username, id=uid, reason=reason), FIX_TOKEN_UNKNOWN
        )
    scopes = [str(s) for s in token.get("scopes") or []]
    scope_text = ",".join(scopes) or "none"
    if token.get("revoked") or token.get("active") is False:
        return Check(FAIL, "token", MSG_TOKEN_INACTIVE, FIX_ROTATE)
    if "api" not in scopes:
        return Check(FAIL, "token", MSG_NO_API_SCOPE.format(scopes=scope_text), FIX_ROTATE)
    expires = _parse_date(token.get("expires_at"))
    if expires is None:
        return Check(OK, "token", MSG_TOKEN.format(username=username, id=uid, scopes=scope_text, expiry=MSG_NO_EXPIRY))
    days = (expires - date.today()).days
    if days < 0:
        return Check(FAIL, "token", MSG_EXPIRED.format(date=expires), FIX_ROTATE)
    expiry = MSG_EXPIRES.format(date=expires, days=days)
    status = WARN if days <= EXPIRY_WARNING_DAYS else OK
    return Check(
        status, "token", MSG_TOKEN.format(username=username, id=uid, scopes=scope_text, expiry=expiry), FIX_ROTATE
    )


def _parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


async def _role_check(admin: GitLabAdmin, scope: Scope, user: dict) -> tuple[Check, bool]:
    """The bot user's role there, and whether the group or project exists for the token at all."""
    username = str(user.get("username", "the bot"))
    try:
        await admin.get_scope(scope)
    except GitLabNotFound:
        return Check(FAIL, "role", MSG_NOT_FOUND.format(scope=scope), FIX_NOT_FOUND), False
    except GitLabError as exc:
        detail, fix = gitlab_failure(exc, admin.base_url)
        return Check(FAIL, "role", f"{scope}: {detail}", fix), False
    try:
        level = await admin.access_level(scope, int(user["id"]))
    except GitLabError as exc:
        detail, fix = gitlab_failure(exc, admin.base_url)
        return Check(FAIL, "role", f"{scope}: {detail}", fix), True
    status = OK if level >= DEVELOPER else FAIL
    role = MSG_ROLE.format(scope=scope, user=username, role=role_name(level))
    return Check(status, "role", role, FIX_ROLE.format(user=username, scope=scope)), True


async def _hook_check(admin: GitLabAdmin, scope: Scope) -> Check:
    install = FIX_INSTALL.format(kind=scope.kind, ref=scope.ref, url="")
    try:
        hooks = await admin.list_hooks(scope)
    except GitLabAuthError:
        needed = "Owner" if scope.kind == "group" else "Maintainer"
        return Check(
            WARN,
            "webhook",
            MSG_HOOKS_FORBIDDEN.format(scope=scope, needed=needed),
            FIX_HOOKS_FORBIDDEN.format(kind=scope.kind, ref=scope.ref),
        )
    except GitLabNotFound:
        return Check(FAIL, "webhook", MSG_NO_GROUP_HOOKS.format(scope=scope), FIX_NO_GROUP_HOOKS)
    except GitLabError as exc:
        detail, fix = gitlab_failure(exc, admin.base_url)
        return Check(FAIL, "webhook", f"{scope}: {detail}", fix)
    mine = bot_hooks(hooks)
    if not mine:
        url_hint = " --url https://<the bot's public address>"
        return Check(
            FAIL,
            "webhook",
            MSG_NO_HOOK.format(scope=scope),
            FIX_INSTALL.format(kind=scope.kind, ref=scope.ref, url=url_hint),
        )
    hook = mine[0]
    problems = hook_problems(hook)
    if problems:
        disabled = hook.get("alert_status") in (ALERT_DISABLED, ALERT_PAUSED) and not missing_events(hook)
        return Check(
            FAIL,
            "webhook",
            MSG_HOOK_BAD.format(scope=scope, id=hook.get("id"), url=hook.get("url"), problems="; ".join(problems)),
            FIX_REENABLE if disabled else install,
        )
    more = MSG_HOOK_SECRET
    if len(mine) > 1:
        ids = ", ".join(f"#{h.get('id')}" for h in mine[1:])
        return Check(
            WARN,
            "webhook",
            MSG_HOOK_OK.format(scope=scope, id=hook.get("id"), url=hook.get("url"), more="")
            + MSG_EXTRA_HOOKS.format(count=len(mine) - 1, ids=ids),
            "",
        )
    return Check(OK, "webhook", MSG_HOOK_OK.format(scope=scope, id=hook.get("id"), url=hook.get("url"), more=more))
