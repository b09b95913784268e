"""A secret printed anywhere in a CI job's log, in the lines the excerpt drops too, leaves the excerpt in every form."""

from __future__ import annotations

from bot.jobs.analysis import fetch_excerpt
from bot.runtime.services import Services
from tests.fakes.ports import InProcessGitLab
from tests.helpers import make_settings
from tests.scenario import PROJECT_ID
from tests.secrets_kit import GENERATORS, leaky_log, survivors

CI_JOB = {"id": 7001, "name": "deploy", "stage": "deploy", "status": "failed", "failure_reason": "script_failure"}


async def test_a_token_printed_far_above_the_failure_is_removed_from_its_re_prints_at_the_failure(sqlite_db):
    _, token = GENERATORS["token"]()
    services = Services.build(make_settings(), db=sqlite_db)
    gitlab = InProcessGitLab()
    gitlab.logs[CI_JOB["id"]] = leaky_log(token)
    services.gitlab = gitlab

    excerpt, why = await fetch_excerpt(services, PROJECT_ID, CI_JOB)

    text = "\n".join(line.text for line in excerpt.lines)
    assert why == "" and "returned error: 401" in text
    assert "DEPLOY_TOKEN=" not in text, "the env dump is not in the excerpt: only the whole-log reading saw the token"
    assert survivors(text, [token]) == [] and "[REDACTED:" in text
