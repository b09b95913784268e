"""A secret printed anywhere in a CI job's log, in the lines the excerpt drops too, leaves the excerpt in every form."""

from __future__ import annotations

from bot.jobs.analysis import fetch_excerpt
from bot.runtime.services import Services
from tests.fakes.ports import InProcessGitLab
from tests.helpers import make_settings
from tests.scenario import PROJECT_ID
from tests.secrets_kit import GENERATORS, encoded, survivors

CI_JOB = {"id": 7001, "name": "deploy", "stage": "deploy", "status": "failed", "failure_reason": "script_failure"}


def leaky_log(token: str) -> str:
    """An env dump prints the token in clear near the top; 3,000 lines later, at the failure, it is re-printed."""
    return "\n".join(
        [
            "\x1b[0KRunning with gitlab-runner 17.5.0 (abc123)",
            "$ env | sort",
            "HOME=/root",
            f"\x1b[32mDEPLOY_TOKEN={token}\x1b[0m",
            "PATH=/usr/local/bin:/usr/bin",
            *(f"Step {i}/3000: compiling module_{i}.c" for i in range(3000)),
            "$ echo $DEPLOY_TOKEN | base64 && curl -fsS -H @auth.hdr https://deploy.example.com/api/releases",
            encoded(token)["base64"],
            f"curl: (22) The requested URL returned error: 401 (sent {encoded(token)['hex']})",
            "ERROR: Job failed: exit code 22",
        ]
    )


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
