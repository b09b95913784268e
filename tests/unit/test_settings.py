"""Settings: defaults that run on one machine, clear errors naming the variable, secrets never shown."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app import load as load_settings
from bot.providers import catalog
from config.settings import Settings, SettingsError
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
        [sys.executable, str(ROOT / "app.py"), "--env-file", "/nonexistent", "config"],
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
        [sys.executable, str(ROOT / "app.py"), "--env-file", "/nonexistent", "serve"],
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
