"""`cicd-bot webhook install | status` against the fake GitLab: the right hook, once, with the secret never shown."""

from __future__ import annotations

import io

from app import build_parser
from bot.cli import webhook_setup as webhook
from bot.core.hook_rules import HOOK_EVENTS
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.helpers import make_settings

SECRET = "hook-secret-" + "7" * 20
OWNER, MAINTAINER, DEVELOPER = 50, 40, 30


def seed(gitlab: FakeGitLab, *, group_level: int = OWNER, project_level: int = 0) -> None:
    state = gitlab.state
    state.add_group("acme")
    state.add_project("acme/api")
    state.add_group_member("acme", state.bot, group_level)
    if project_level:
        state.add_member("acme/api", state.bot, project_level)


async def cli(gitlab: FakeGitLab, *argv: str, **overrides: str | None) -> tuple[int, str, str]:
    base = {
        "GITLAB_BASE_URL": gitlab.url,
        "GITLAB_API_TOKEN": DEFAULT_TOKEN,
        "GITLAB_WEBHOOK_SECRET": SECRET,
        "GITLAB_GROUPS": "acme",
    }
    settings = make_settings(**{**base, **overrides})
    args = build_parser().parse_args(["webhook", *argv])
    out, err = io.StringIO(), io.StringIO()
    command = webhook.install if args.webhook_command == "install" else webhook.status
    code = await command(args, settings, out, err)
    return code, out.getvalue(), err.getvalue()


async def test_install_creates_the_hook_and_a_second_run_changes_nothing_more():
    async with FakeGitLab() as gitlab:
        seed(gitlab)
        first = await cli(gitlab, "install", "--group", "acme", "--url", "https://cicd-bot.example.com")
        second = await cli(gitlab, "install", "--group", "acme")
        third = await cli(gitlab, "install", "--group", "acme", "--url", "https://cicd-bot.example.com/webhooks/gitlab")
        hooks = gitlab.state.hooks_of("group", "acme")
    assert [code for code, _, _ in (first, second, third)] == [0, 0, 0], (first, second, third)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["url"] == "https://cicd-bot.example.com/webhooks/gitlab"
    assert all(hook[field] is True for field in HOOK_EVENTS)
    assert hook["push_events"] is False and hook["enable_ssl_verification"] is True
    assert hook["_token"] == SECRET
    assert first[1].splitlines() == [
        f"created hook #{hook['id']} on group acme: https://cicd-bot.example.com/webhooks/gitlab",
        webhook.MSG_SETTINGS.format(events=webhook.ALL_EVENTS),
    ]
    assert second[1].startswith(f"updated hook #{hook['id']} on group acme")
    assert all(SECRET not in out + err for _, out, err in (first, second, third))


async def test_install_brings_an_old_hook_up_to_date_and_follows_a_moved_bot():
    async with FakeGitLab() as gitlab:
        seed(gitlab)
        old = gitlab.state.add_hook(
            "group",
            "acme",
            "http://old-host:8080/webhooks/gitlab",
            alert_status="disabled",
            pipeline_events=True,
            enable_ssl_verification=False,
        )
        gitlab.state.add_hook("group", "acme", "https://chat.example.com/hook", note_events=True)  # not ours
        code, out, err = await cli(gitlab, "install", "--group", "acme", "--url", "https://bot.example.com")
        hooks = gitlab.state.hooks_of("group", "acme")
    assert code == 0, err
    assert [h["url"] for h in hooks] == ["https://bot.example.com/webhooks/gitlab", "https://chat.example.com/hook"]
    assert hooks[0]["id"] == old["id"] and all(hooks[0][f] is True for f in HOOK_EVENTS)
    assert hooks[0]["enable_ssl_verification"] is True and hooks[0]["_token"] == SECRET
    assert "GitLab had disabled this hook" in out and "press Test" in out
    assert hooks[1]["_token"] == "" and hooks[1]["pipeline_events"] is False  # someone else's hook, untouched


async def test_install_on_a_project_for_gitlab_free():
    async with FakeGitLab() as gitlab:
        seed(gitlab, group_level=DEVELOPER, project_level=MAINTAINER)
        gitlab.state.group_hooks_licensed = False
        free = await cli(gitlab, "install", "--group", "acme", "--url", "https://bot.example.com")
        code, out, err = await cli(gitlab, "install", "--project", "acme/api", "--url", "http://10.0.0.5:8080")
        hooks = gitlab.state.hooks_of("project", "acme/api")
    assert free[0] == 1
    assert free[2].strip() == "cicd-bot webhook: " + webhook.MSG_NO_GROUP_HOOKS.format(scope="group acme")
    assert code == 0, err
    assert [h["url"] for h in hooks] == ["http://10.0.0.5:8080/webhooks/gitlab"]
    assert "plain http" in out  # the secret crosses the network in clear text: said, not refused


async def test_install_says_what_is_missing_in_one_line():
    async with FakeGitLab() as gitlab:
        seed(gitlab)
        gitlab.state.add_token("developer-token", "dev")
        gitlab.state.add_group_member("acme", "dev", DEVELOPER)
        no_url = await cli(gitlab, "install", "--group", "acme")
        forbidden = await cli(
            gitlab, "install", "--group", "acme", "--url", "https://bot.example.com", GITLAB_API_TOKEN="developer-token"
        )
        no_secret = await cli(gitlab, "install", "--group", "acme", GITLAB_WEBHOOK_SECRET=None)
        missing = await cli(gitlab, "install", "--group", "ghost", "--url", "https://bot.example.com")
        bad_url = await cli(gitlab, "install", "--group", "acme", "--url", "bot.example.com")
        hooks = gitlab.state.hooks_of("group", "acme")
    assert hooks == []
    for code, out, err in (no_url, forbidden, no_secret, missing, bad_url):
        assert code in (1, 2) and out == "" and len(err.splitlines()) == 1, err
    assert "--url https://cicd-bot.example.com" in no_url[2]
    assert "Owner role needed" in forbidden[2] and "GITLAB_API_TOKEN=<token> cicd-bot webhook install" in forbidden[2]
    assert "set GITLAB_WEBHOOK_SECRET first" in no_secret[2]
    assert "group ghost: not found" in missing[2]
    assert "not an http(s) URL" in bad_url[2]


async def test_status_shows_each_hook_and_what_is_wrong_with_it():
    async with FakeGitLab() as gitlab:
        seed(gitlab, project_level=MAINTAINER)
        hook = gitlab.state.add_hook(
            "group",
            "acme",
            "https://bot.example.com/webhooks/gitlab",
            pipeline_events=True,
            job_events=True,
            merge_requests_events=True,
        )
        code, out, err = await cli(gitlab, "status", GITLAB_PROJECTS="acme/api")
        await cli(gitlab, "install", "--group", "acme")
        fixed = await cli(gitlab, "status", "--group", "acme")
    assert code == 1, err
    assert out.splitlines() == [
        f"group acme: hook #{hook['id']} https://bot.example.com/webhooks/gitlab",
        "  events: pipeline, job, merge request; SSL verification on; state: executable",
        "  problem: does not send note (comments) events; cicd-bot webhook install --group acme brings it up to date",
        "project acme/api: no webhook delivers to the bot; cicd-bot webhook install --project acme/api --url URL",
    ]
    assert fixed[0] == 0 and "events: pipeline, job, note (comments), merge request" in fixed[1]
