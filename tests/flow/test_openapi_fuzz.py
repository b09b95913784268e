"""Schemathesis against the real app on loopback: no 5xx, and every answer within /openapi.json."""

from __future__ import annotations

import asyncio
import sys

from tests.dashboard_kit import GITLAB, seed
from tests.slack_kit import slack_harness

TOKEN = "fuzz-api-token"
SECRET = "fuzz-webhook-secret"
# Bounded: this many cases per operation and phase, with a fixed seed so a failure can be replayed.
MAX_EXAMPLES = 20
SEED = 15


async def run_schemathesis(url: str, cwd) -> tuple[int, str]:
    args = [
        sys.executable, "-m", "schemathesis.cli", "run", url + "/openapi.json",
        "--checks", "all",  # max_response_time is only on with a limit, and no test here depends on time
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--workers", "1",
        "--generation-database", "none",
        "--no-color",
        "--header", f"Authorization: Bearer {TOKEN}",
        "--header", f"X-Gitlab-Token: {SECRET}",
        "--request-timeout", "30",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode, out.decode(errors="replace")


async def test_schemathesis_finds_no_server_error_and_nothing_outside_the_document(database, tmp_path):
    await seed(database, days=3)  # rows to answer with, so the answers' schemas are checked on real data
    app = {"CICD_BOT_API_TOKEN": TOKEN, "GITLAB_WEBHOOK_SECRET": SECRET, "GITLAB_BASE_URL": GITLAB}
    async with slack_harness(database, worker=False, **app) as h:
        code, report = await run_schemathesis(h.url, tmp_path)
    assert code == 0, report[-30000:]
    print(report[report.find("SUMMARY") :])  # shown with -s: the phases, the operations tested, the cases generated
