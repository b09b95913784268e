"""`cicd-bot excerpt` starts without the server: what it imports, and the settings it still honours."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bot.cli import excerpt as cli
from bot.core.excerpt.read import DEFAULT_BUDGET
from config.settings import Settings
from tests.helpers import ROOT

LOG = ROOT / "tests" / "data" / "ci-logs" / "jest-coupon.gitlab.log"
CHECK = (
    "import json, sys, console\n"
    "code = console.main(sys.argv[1:])\n"
    "heavy = sorted(m for m in ('app', 'aiohttp', 'pydantic', 'sqlalchemy', 'config.settings') if m in sys.modules)\n"
    "print(json.dumps({'code': code, 'heavy': heavy}))\n"
)


def run_console(args: list[str], env: dict[str, str] | None = None, cwd=ROOT) -> tuple[list[str], str]:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in cli.SETTINGS_VARIABLES}
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    lines = proc.stdout.strip().splitlines()
    return lines, proc.stderr


def test_the_excerpt_command_loads_neither_the_server_nor_the_settings_it_does_not_need(tmp_path):
    lines, _ = run_console(["excerpt", "--json", str(LOG)], cwd=tmp_path)
    record, status = json.loads(lines[0]), json.loads(lines[-1])
    assert status == {"code": 0, "heavy": []}
    assert any("Expected: 1200" in line["text"] for line in record["lines"])


def test_the_excerpt_command_still_reads_its_settings_from_the_environment_and_the_env_file(tmp_path):
    lines, _ = run_console(["excerpt", "--json", str(LOG)], env={"EXCERPT_BUDGET_CHARS": "600"}, cwd=tmp_path)
    assert sum(len(x["text"]) + 1 for x in json.loads(lines[0])["lines"]) <= 600
    (tmp_path / ".env").write_text("excerpt_budget_chars=700\n")
    lines, _ = run_console(["excerpt", "--json", str(LOG)], cwd=tmp_path)
    used = sum(len(x["text"]) + 1 for x in json.loads(lines[0])["lines"])
    assert 600 < used <= 700
    lines, err = run_console(["excerpt", str(LOG)], env={"EXCERPT_BUDGET_CHARS": "6"}, cwd=tmp_path)
    assert json.loads(lines[-1])["code"] == 2 and "EXCERPT_BUDGET_CHARS" in err


def test_the_defaults_without_settings_are_the_settings_defaults():
    assert cli.DEFAULT_MAX_LOG_MB == Settings.model_fields["gitlab_max_log_size_mb"].default
    assert DEFAULT_BUDGET == Settings.model_fields["excerpt_budget_chars"].default


def test_other_commands_go_to_the_server_command_line():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, console; sys.exit(console.main(['--help']))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "serve" in proc.stdout and "excerpt" in proc.stdout
