"""What `cicd-bot webhook install | status` do: create or update the bot's GitLab webhook (idempotent), show it."""

from __future__ import annotations

import argparse
from typing import TextIO

import aiohttp

from bot.cli.checks import HTTP_TIMEOUT, gitlab_failure
from bot.clients.gitlab_admin import GitLabAdmin, Scope, configured_scopes
from bot.clients.gitlab_errors import GitLabAuthError, GitLabError, GitLabNotFound
from bot.core.hook_rules import EVENT_WORDS, HOOK_EVENTS, bot_hooks, hook_fields, hook_problems, hook_url
from config.settings import Settings

MSG_PROBLEM = "cicd-bot webhook: {problem}"
MSG_NO_TOKEN = "GITLAB_API_TOKEN is not set"
MSG_NO_SECRET = "set GITLAB_WEBHOOK_SECRET first (a long random value: openssl rand -hex 32); the hook must carry it"
MSG_NO_URL = "{scope} has no webhook for the bot yet: give its public address, e.g. --url https://cicd-bot.example.com"
MSG_NOT_FOUND = "{scope}: not found, or this token cannot see it"
MSG_FORBIDDEN = (
    "{scope}: this token may not manage webhooks there ({needed} role needed); run it once with an owner's "
    "token: GITLAB_API_TOKEN=<token> cicd-bot webhook {command} --{kind} {ref}"
)
MSG_NO_GROUP_HOOKS = (
    "{scope}: group webhooks do not exist on this GitLab (they need Premium or Ultimate); install one per "
    "project with --project PATH, or use TRIGGER_MODE=email"
)
MSG_CREATED = "created hook #{id} on {scope}: {url}"
MSG_UPDATED = "updated hook #{id} on {scope}: {url}"
MSG_SETTINGS = "  events: {events}; SSL verification on; secret token from GITLAB_WEBHOOK_SECRET"
MSG_PLAIN_HTTP = "  warning: {url} is plain http, so the secret token crosses the network in clear text; use https"
MSG_WAS_DISABLED = (
    "  GitLab had {how} this hook after failed deliveries: once the bot answers, press Test on the hook in GitLab; "
    "a 2xx answer enables it again"
)
MSG_EXTRA = "  {count} more hooks deliver to the bot ({ids}); delete the extra ones in GitLab"
MSG_NO_SCOPES = "name a group or project (--group G, --project P), or set GITLAB_GROUPS / GITLAB_PROJECTS"
MSG_STATUS_NONE = "{scope}: no webhook delivers to the bot; cicd-bot webhook install --{kind} {ref} --url URL"
MSG_STATUS_HOOK = "{scope}: hook #{id} {url}"
MSG_STATUS_DETAIL = "  events: {events}; SSL verification {ssl}; state: {state}"
MSG_STATUS_PROBLEMS = "  problem: {problems}; cicd-bot webhook install --{kind} {ref} brings it up to date"
ALL_EVENTS = ", ".join(EVENT_WORDS[f] for f in HOOK_EVENTS)


def _scopes(args: argparse.Namespace, settings: Settings) -> list[Scope]:
    if args.group:
        return [Scope("group", args.group)]
    if args.project:
        return [Scope("project", args.project)]
    return configured_scopes(settings)


def _problem(err: TextIO, text: str, code: int) -> int:
    print(MSG_PROBLEM.format(problem=text), file=err)
    return code


def _failure(exc: GitLabError, scope: Scope, admin: GitLabAdmin, command: str) -> str:
    if isinstance(exc, GitLabAuthError) and "/hooks" in exc.path:
        needed = "Owner" if scope.kind == "group" else "Maintainer"
        return MSG_FORBIDDEN.format(scope=scope, needed=needed, command=command, kind=scope.kind, ref=scope.ref)
    detail, fix = gitlab_failure(exc, admin.base_url)
    return f"{scope}: {detail}" + (f"; {fix}" if fix else "")


async def _hooks(admin: GitLabAdmin, scope: Scope) -> list[dict]:
    """The scope's hooks; GitLabNotFound is told apart: no such group/project, or no group hooks on this GitLab."""
    await admin.get_scope(scope)
    try:
        return await admin.list_hooks(scope)
    except GitLabNotFound:
        if scope.kind == "group":
            raise _NoGroupHooks() from None
        raise


class _NoGroupHooks(Exception):
    """The group exists but its hooks answer 404: GitLab Free."""


async def install(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if settings.gitlab_api_token is None:
        return _problem(err, MSG_NO_TOKEN, 2)
    secret = settings.gitlab_webhook_secret.get_secret_value() if settings.gitlab_webhook_secret else ""
    if not secret:
        return _problem(err, MSG_NO_SECRET, 2)
    try:
        url = hook_url(args.url) if args.url else None
    except ValueError as exc:
        return _problem(err, f"--url {exc}", 2)
    scope = _scopes(args, settings)[0]
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        admin = GitLabAdmin.from_settings(settings, session)
        try:
            hooks = await _hooks(admin, scope)
            mine = (bot_hooks(hooks, url) if url else []) or bot_hooks(hooks)
            if not mine and url is None:
                return _problem(err, MSG_NO_URL.format(scope=scope), 2)
            if mine:
                target = mine[0]
                fields = hook_fields(url or str(target.get("url")), secret)
                hook = await admin.update_hook(scope, int(target["id"]), fields)
                print(MSG_UPDATED.format(id=hook.get("id", target["id"]), scope=scope, url=fields["url"]), file=out)
            else:
                target = {}
                fields = hook_fields(str(url), secret)
                hook = await admin.create_hook(scope, fields)
                print(MSG_CREATED.format(id=hook.get("id"), scope=scope, url=fields["url"]), file=out)
        except GitLabNotFound:
            return _problem(err, MSG_NOT_FOUND.format(scope=scope), 1)
        except _NoGroupHooks:
            return _problem(err, MSG_NO_GROUP_HOOKS.format(scope=scope), 1)
        except GitLabError as exc:
            return _problem(err, _failure(exc, scope, admin, "install"), 1)
    print(MSG_SETTINGS.format(events=ALL_EVENTS), file=out)
    if str(fields["url"]).startswith("http://"):
        print(MSG_PLAIN_HTTP.format(url=fields["url"]), file=out)
    if target.get("alert_status") in ("disabled", "temporarily_disabled"):
        how = "disabled" if target["alert_status"] == "disabled" else "paused"
        print(MSG_WAS_DISABLED.format(how=how), file=out)
    if len(mine) > 1:
        print(MSG_EXTRA.format(count=len(mine) - 1, ids=", ".join(f"#{h.get('id')}" for h in mine[1:])), file=out)
    return 0


async def status(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if settings.gitlab_api_token is None:
        return _problem(err, MSG_NO_TOKEN, 2)
    scopes = _scopes(args, settings)
    if not scopes:
        return _problem(err, MSG_NO_SCOPES, 2)
    sound = True
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        admin = GitLabAdmin.from_settings(settings, session)
        for scope in scopes:
            try:
                mine = bot_hooks(await _hooks(admin, scope))
            except GitLabNotFound:
                _problem(err, MSG_NOT_FOUND.format(scope=scope), 1)
                sound = False
                continue
            except _NoGroupHooks:
                _problem(err, MSG_NO_GROUP_HOOKS.format(scope=scope), 1)
                sound = False
                continue
            except GitLabError as exc:
                _problem(err, _failure(exc, scope, admin, "status"), 1)
                sound = False
                continue
            if len(mine) != 1:
                sound = False
            if not mine:
                print(MSG_STATUS_NONE.format(scope=scope, kind=scope.kind, ref=scope.ref), file=out)
            for hook in mine:
                if not _show(hook, scope, out):
                    sound = False
    return 0 if sound else 1


def _show(hook: dict, scope: Scope, out: TextIO) -> bool:
    """Print one hook; True when nothing is wrong with it."""
    events = ", ".join(EVENT_WORDS[f] for f in HOOK_EVENTS if hook.get(f) is True) or "none the bot needs"
    state = str(hook.get("alert_status") or "executable")
    if hook.get("disabled_until"):
        state += f" until {hook['disabled_until']}"
    print(MSG_STATUS_HOOK.format(scope=scope, id=hook.get("id"), url=hook.get("url")), file=out)
    ssl = "on" if hook.get("enable_ssl_verification") is not False else "off"
    print(MSG_STATUS_DETAIL.format(events=events, ssl=ssl, state=state), file=out)
    problems = hook_problems(hook)
    if problems:
        print(MSG_STATUS_PROBLEMS.format(problems="; ".join(problems), kind=scope.kind, ref=scope.ref), file=out)
    return not problems
