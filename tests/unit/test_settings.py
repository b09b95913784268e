"""Settings: defaults that run on one machine, clear errors naming the variable, secrets never shown."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app import load as load_settings
from bot.providers import catalog
from config.settings import Settings, SettingsError, retired_variables, unsigned_webhooks_problem
from tests.helpers import ROOT


def test_defaults_run_on_one_machine_with_nothing_configured(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(None)
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert catalog.default_provider(s) == "heuristic"
    assert not s.slack_enabled and not s.email_enabled and s.webhook_enabled


def test_every_setting_is_documented_in_example_env():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / "config" / "example.env").read_text(), re.M))
    assert {f.alias for f in Settings.model_fields.values()} == documented


def test_example_env_can_be_copied_to_env_for_any_reader():
    # docker-compose 1.x reads `KEY=   # comment` as the value "# comment"; so: comments on their own lines only.
    for number, line in enumerate((ROOT / "config" / "example.env").read_text().splitlines(), 1):
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z_]+=\S*", line), f"example.env line {number}: {line!r}"


def test_example_env_loads_as_the_defaults():
    s = load_settings(ROOT / "config" / "example.env")
    assert s.gitlab_api_token is None and s.openai_api_key is None and not s.slack_enabled


@pytest.mark.parametrize(
    "overrides, variable",
    [
        ({"TRIGGER_MODE": "email"}, "IMAP_SERVER"),
        ({"TRIGGER_MODE": "both", "IMAP_SERVER": "imap.example.com"}, "IMAP_USER"),
        ({"TRIGGER_MODE": "pigeon"}, "TRIGGER_MODE"),
        ({"PORT": "eighty"}, "PORT"),
        ({"DEFAULT_AI_PROVIDER": "openai"}, "DEFAULT_AI_PROVIDER"),
        ({"DEFAULT_AI_PROVIDER": "gpt"}, "DEFAULT_AI_PROVIDER"),
        ({"AI_FALLBACK": "anthropic,bard"}, "AI_FALLBACK"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"AZURE_OPENAI_API_KEY": "k"}, "AZURE_OPENAI_ENDPOINT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDACT_EXTRA_PATTERNS": "(unclosed"}, "REDACT_EXTRA_PATTERNS"),
        ({"AI_PRICES": "{not json"}, "AI_PRICES"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        ({"GITLAB_BASE_URL": "gitlab.example.com"}, "GITLAB_BASE_URL"),
        ({"GITLAB_BASE_URL": "ftp://gitlab.example.com"}, "GITLAB_BASE_URL"),
        ({"GITLAB_BASE_URL": "https://gitlab.example.com/api/v4/"}, "GITLAB_BASE_URL"),
        ({"SLACK_CHANNEL_MAP": "acme=C0123ABCD,foo"}, "SLACK_CHANNEL_MAP"),
        ({"SLACK_CHANNEL_MAP": "#ci=general"}, "SLACK_CHANNEL_MAP"),
    ],
)
def test_bad_settings_name_the_variable(overrides, variable):
    with pytest.raises(SettingsError) as err:
        load_settings(None, **overrides)
    assert err.value.variable == variable


def test_config_command_masks_secrets_and_bad_settings_stop_with_one_line(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITLAB_API_TOKEN": "glpat-" + "a" * 20,
        "OPENAI_API_KEY": "sk-" + "b" * 30,
        "DATABASE_URL": "postgresql://bot:hunter2@db/cicd",
    }
    out = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--env-file", "/dev/null", "config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "GITLAB_API_TOKEN=********" in out.stdout and "DATABASE_URL=postgresql://bot:***@db/cicd" in out.stdout
    assert "a" * 20 not in out.stdout and "hunter2" not in out.stdout and "b" * 30 not in out.stdout
    bad = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--env-file", "/dev/null", "serve"],
        env={**env, "TRIGGER_MODE": "email"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "cicd-bot: configuration error: IMAP_SERVER: TRIGGER_MODE=email (or IMAP_ENABLED) needs IMAP_SERVER"
    ]


def test_a_log_level_is_read_in_any_case_and_a_base_url_keeps_its_path():
    s = load_settings(None, LOG_LEVEL="debug", GITLAB_BASE_URL="https://example.com/gitlab")
    assert s.log_level == "debug" and s.gitlab_base_url == "https://example.com/gitlab"


def test_bad_channel_map_entries_are_named_in_one_line():
    with pytest.raises(SettingsError) as err:
        load_settings(None, SLACK_CHANNEL_MAP="acme/*=C0123ABCD,#ci=general,foo")
    assert str(err.value) == (
        "SLACK_CHANNEL_MAP: entry '#ci=general': 'general' is not a channel id such as C0123ABCD "
        "(or * for any channel); entry 'foo': not path=channel"
    )


def test_unsigned_webhooks_in_production_need_the_second_setting():
    allowed = {"GITLAB_WEBHOOK_ALLOW_UNSIGNED": "true"}
    assert unsigned_webhooks_problem(load_settings(None, **allowed)) is None
    assert "GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION" in unsigned_webhooks_problem(
        load_settings(None, ENVIRONMENT="Production", **allowed)
    )
    confirmed = load_settings(
        None, ENVIRONMENT="production", GITLAB_WEBHOOK_ALLOW_UNSIGNED_IN_PRODUCTION="true", **allowed
    )
    assert unsigned_webhooks_problem(confirmed) is None


def test_variables_of_the_original_spec_are_named_with_what_replaces_them(tmp_path):
    env_file = tmp_path / "bot.env"
    env_file.write_text("GITLAB_FETCH_ARTIFACTS=true\nGITLAB_LOG_CONTEXT_LINES=20\n")
    warnings = retired_variables(env_file, environ={"secret_key": "x", "PATH": "/bin"})
    assert [w.split(" ", 1)[0] for w in warnings] == [
        "SECRET_KEY",
        "GITLAB_FETCH_ARTIFACTS",
        "GITLAB_LOG_CONTEXT_LINES",
    ]
    assert "GITLAB_FETCH_TEST_REPORTS" in warnings[1] and "EXCERPT_BUDGET_CHARS" in warnings[2]
    assert retired_variables(tmp_path / "missing.env", environ={}) == []
