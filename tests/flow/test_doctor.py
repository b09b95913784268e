"""`cicd-bot doctor` against the fake GitLab, the fake Slack, fake model servers, a real IMAP server and real databases."""

from __future__ import annotations

import io
import json
import ssl
from contextlib import asynccontextmanager
from datetime import date, timedelta

import pytest
from aiohttp import web

from bot.cli.doctor_checks import diagnose
from storage import migrate
from storage.db import Database
from tests.botprocess import database_url, free_port
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.imap_server import ImapServer, self_signed_cert
from tests.fakes.slack_server import FakeSlack
from tests.helpers import make_settings

CHANNEL = "C0123ABCD"
HOOK_URL = "https://cicd-bot.example.com/webhooks/gitlab"
ALL_EVENTS = {"pipeline_events": True, "job_events": True, "note_events": True, "merge_requests_events": True}
OWNER, DEVELOPER, REPORTER = 50, 30, 20


def seed(gitlab: FakeGitLab, *, bot_level: int = OWNER, hook: dict | None = ALL_EVENTS) -> None:
    """A group acme with a project, the bot user in it, and the bot's group hook."""
    state = gitlab.state
    state.add_group("acme")
    state.add_project("acme/api")
    state.add_group_member("acme", state.bot, bot_level)
    if hook is not None:
        state.add_hook("group", "acme", HOOK_URL, token="s3cret", push_events=False, **hook)


@asynccontextmanager
async def world(tmp_path, *, bot_level: int = OWNER, hook: dict | None = ALL_EVENTS):
    async with FakeGitLab() as gitlab, FakeSlack() as slack:
        seed(gitlab, bot_level=bot_level, hook=hook)
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
        await migrate.upgrade(db)
        await db.dispose()
        settings = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "GITLAB_BASE_URL": gitlab.url,
            "GITLAB_API_TOKEN": DEFAULT_TOKEN,
            "GITLAB_WEBHOOK_SECRET": "s3cret",
            "GITLAB_GROUPS": "acme",
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": "signing",
            "SLACK_API_URL": slack.url,
            "SLACK_CHANNEL_MAP": f"acme/*={CHANNEL}",
        }
        yield gitlab, slack, settings


async def doctor(settings: dict, providers: bool = False) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = await diagnose(make_settings(**settings), providers=providers, out=out)
    return code, out.getvalue().splitlines()


def line_of(lines: list[str], name: str) -> str:
    found = [line for line in lines if line.split()[1:2] == [name]]
    assert len(found) == 1, lines
    return found[0]


async def test_a_sound_set_up_passes_every_check(tmp_path):
    async with world(tmp_path) as (_, _, settings):
        code, lines = await doctor(settings)
    assert code == 0, lines
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * 9 + ["skip"], lines
    assert [line.split()[1] for line in lines[:-1]] == [
        "settings",
        "database",
        "GitLab",
        "token",
        "role",
        "webhook",
        "Slack",
        "channel",
        "providers",
        "IMAP",
    ]
    assert "GitLab 17.5.1-ee" in line_of(lines, "GitLab")
    assert "user cicd-bot (#99), scopes api, no expiry date" in line_of(lines, "token")
    assert "group acme: cicd-bot is Owner (50)" in line_of(lines, "role")
    assert "no GitLab webhook accepted yet" in line_of(lines, "database")
    assert lines[-1] == "all 10 checks passed"
    assert "s3cret" not in "\n".join(lines)


async def test_a_hook_without_note_events_fails_with_the_command_that_fixes_it(tmp_path):
    async with world(tmp_path, hook={**ALL_EVENTS, "note_events": False}) as (gitlab, _, settings):
        code, lines = await doctor(settings)
        hook_id = gitlab.state.hooks_of("group", "acme")[0]["id"]
    assert code == 1
    assert line_of(lines, "webhook") == (
        f"FAIL  webhook   group acme: hook #{hook_id} {HOOK_URL} does not send note (comments) events; "
        "fix: cicd-bot webhook install --group acme"
    )
    assert lines[-1] == "1 of 10 checks failed"


def _expires(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "breakage, name, status, words",
    [
        ("read_api token", "token", "FAIL", ["scopes read_api", "api scope", "fix: create a new token"]),
        ("token expires soon", "token", "warn", ["expires", "(in 3 days)", "fix: create a new token"]),
        ("token expired", "token", "FAIL", ["expired on"]),
        ("token unreadable", "token", "warn", ["cannot be read here (GitLab answered 404)", "fix: check them"]),
        ("bot is a Reporter", "role", "FAIL", ["cicd-bot is Reporter (20)", "fix: make cicd-bot a Developer"]),
        ("unknown group", "role", "FAIL", ["group ghost: not found", "fix: check the path in GITLAB_GROUPS"]),
        ("no hook", "webhook", "FAIL", ["no webhook delivers", "fix: cicd-bot webhook install --group acme --url"]),
        ("hook disabled", "webhook", "FAIL", ["GitLab disabled it after failed deliveries", "press Test"]),
        ("hook paused", "webhook", "FAIL", ["paused it after failed deliveries until 2030-01-01", "press Test"]),
        ("hooks unreadable", "webhook", "warn", ["Owner role needed", "webhook status --group acme"]),
        ("GitLab Free", "webhook", "FAIL", ["need Premium", "webhook install --project PATH"]),
        ("wrong GitLab token", "GitLab", "FAIL", ["refused the token (401)", "fix: GITLAB_API_TOKEN is wrong"]),
        ("GitLab down", "GitLab", "FAIL", ["cannot reach", "HTTPS_PROXY"]),
        ("no GitLab token", "GitLab", "FAIL", ["GITLAB_API_TOKEN is not set"]),
        ("no webhook secret", "settings", "FAIL", ["webhooks are refused", "fix: set GITLAB_WEBHOOK_SECRET"]),
        ("unsigned in production", "settings", "FAIL", ["GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION=true"]),
        ("bot not in channel", "channel", "FAIL", [f"{CHANNEL} (#chan-", "not a member", "/invite @cicd-bot"]),
        ("unknown channel", "channel", "FAIL", [f"{CHANNEL}: not found", "fix: copy the id"]),
        ("Slack token refused", "Slack", "FAIL", ["refused SLACK_BOT_TOKEN (invalid_auth)", "Install App"]),
        ("database directory missing", "database", "FAIL", ["does not exist", "mkdir -p"]),
    ],
)
async def test_each_broken_thing_is_one_line_with_its_fix(tmp_path, breakage, name, status, words):
    hook = {**ALL_EVENTS, "alert_status": "executable"}
    if breakage == "hook disabled":
        hook["alert_status"] = "disabled"
    elif breakage == "hook paused":
        hook.update(alert_status="temporarily_disabled", disabled_until="2030-01-01T00:00:00.000Z")
    level = {"bot is a Reporter": REPORTER, "hooks unreadable": DEVELOPER}.get(breakage, OWNER)
    async with world(tmp_path, bot_level=level, hook=None if breakage == "no hook" else hook) as (gitlab, slack, s):
        state = gitlab.state
        if breakage == "read_api token":
            state.set_token_details(DEFAULT_TOKEN, scopes=["read_api"])
        elif breakage == "token expires soon":
            state.set_token_details(DEFAULT_TOKEN, expires_at=_expires(3))
        elif breakage == "token expired":
            state.set_token_details(DEFAULT_TOKEN, expires_at=_expires(-1))
        elif breakage == "token unreadable":
            state.add_fault("^/personal_access_tokens/self$", 404, times=5)
        elif breakage == "unknown group":
            s["GITLAB_GROUPS"] = "ghost"
        elif breakage == "GitLab Free":
            state.group_hooks_licensed = False
        elif breakage == "wrong GitLab token":
            s["GITLAB_API_TOKEN"] = "not-a-token"
        elif breakage == "GitLab down":
            s["GITLAB_BASE_URL"] = f"http://127.0.0.1:{free_port()}"
        elif breakage == "no GitLab token":
            del s["GITLAB_API_TOKEN"]
        elif breakage == "no webhook secret":
            del s["GITLAB_WEBHOOK_SECRET"]
        elif breakage == "unsigned in production":
            s.update(ENVIRONMENT="production", GITLAB_WEBHOOK_ALLOW_UNSIGNED="true")
        elif breakage == "bot not in channel":
            slack.not_member.add(CHANNEL)
        elif breakage == "unknown channel":
            slack.missing_channels.add(CHANNEL)
        elif breakage == "Slack token refused":
            slack.fault("auth.test", error="invalid_auth")
        elif breakage == "database directory missing":
            s["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/gone/bot.db"
        code, lines = await doctor(s)
    line = line_of(lines, name)
    assert line.split()[0] == status, lines
    for word in words:
        assert word in line, line
    assert code == (1 if status == "FAIL" else 0)
    assert all(len(line.splitlines()) == 1 for line in lines)


async def test_a_new_sqlite_file_is_not_created_by_looking_at_it(tmp_path):
    async with world(tmp_path) as (_, _, settings):
        settings["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        code, lines = await doctor(settings)
    assert code == 0
    assert "does not exist yet: serve creates and migrates it" in line_of(lines, "database")
    assert not (tmp_path / "fresh.db").exists()


@pytest.mark.postgres
async def test_a_postgresql_database_that_is_behind_says_run_db_upgrade(tmp_path):
    async with world(tmp_path) as (_, _, settings), database_url("postgres", tmp_path) as url:
        settings["DATABASE_URL"] = url
        code, lines = await doctor(settings)
    assert code == 1
    line = line_of(lines, "database")
    assert (
        line.startswith("FAIL")
        and f"needs {migrate.head_revision()}" in line
        and line.endswith("fix: cicd-bot db upgrade")
    )


async def test_providers_are_asked_only_with_the_flag(tmp_path, fake_openai, fake_anthropic):
    async with world(tmp_path) as (_, _, settings):
        settings.update(
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=fake_openai.url,
            ANTHROPIC_API_KEY="ak-test",
            ANTHROPIC_BASE_URL=fake_anthropic.url,
        )
        code, lines = await doctor(settings)
        assert code == 0
        assert "openai, anthropic not asked: run doctor --providers" in line_of(lines, "providers")
        assert fake_openai.requests == [] and fake_anthropic.requests == []
        code, lines = await doctor(settings, providers=True)
    provider_lines = [line for line in lines if line.split()[1] == "provider"]
    assert code == 0, lines
    assert [line.split()[0] for line in provider_lines] == ["ok", "ok"]
    assert "openai (gpt-4o-mini) answered a one-token request" in provider_lines[0]
    sent = [json.loads(body) for body in fake_openai.bodies() + fake_anthropic.bodies()]
    assert [body["max_tokens"] for body in sent] == [1, 1]


async def test_a_refused_provider_key_fails_with_the_variable_to_fix(tmp_path, fake_openai):
    from tests.fakes import unauthorized

    fake_openai.script(unauthorized())
    async with world(tmp_path) as (_, _, settings):
        settings.update(OPENAI_API_KEY="sk-wrong", OPENAI_BASE_URL=fake_openai.url)
        code, lines = await doctor(settings, providers=True)
    line = line_of(lines, "provider")
    assert code == 1 and line.startswith("FAIL") and line.endswith("fix: check OPENAI_API_KEY")


async def test_the_imap_login_is_checked_when_email_is_on(tmp_path):
    server = ImapServer(tmp_path).start()
    try:
        async with world(tmp_path) as (_, _, settings):
            settings.update({k: str(v) for k, v in server.settings(TRIGGER_MODE="both").items()})
            code, lines = await doctor(settings)
            assert code == 0, lines
            assert "logged in to 127.0.0.1" in line_of(lines, "IMAP")
            settings["IMAP_APP_PASSWORD"] = "wrong"
            code, lines = await doctor(settings)
    finally:
        server.stop()
    line = line_of(lines, "IMAP")
    assert code == 1 and line.startswith("FAIL") and "IMAP_APP_PASSWORD" in line


async def test_a_gitlab_with_an_untrusted_certificate_points_at_ssl_cert_file(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        code, lines = await doctor(
            {
                "GITLAB_BASE_URL": f"https://127.0.0.1:{port}",
                "GITLAB_API_TOKEN": "t",
                "GITLAB_WEBHOOK_SECRET": "s",
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/b.db",
            }
        )
    finally:
        await runner.cleanup()
    line = line_of(lines, "GitLab")
    assert code == 1 and "certificate verify failed" in line and "SSL_CERT_FILE" in line
