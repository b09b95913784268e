"""End to end: secrets planted in a job log, the webhook delivery, the MR and a follow-up question reach no model
request, stored row, log line, MR note or Slack message, in any form."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from storage.db import Database
from tests.e2e_kit import (
    bot_notes,
    note_hook,
    parents,
    send_hook,
    settings_for,
    settled,
    slack_settings,
    start_bot,
    wait_for,
)
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.scenario import MR_IID, PROJECT_ID, PYTEST_TRACE, pipeline_hook, seed_failed_pipeline
from tests.secrets_kit import GENERATORS, encoded, survivors
from tests.slack_kit import CHANNEL

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def leaky_trace(key_id: str, aws: str, password: str) -> str:
    """The scenario's pytest log with secrets printed where the failure is, in clear and re-encoded."""
    failure = "$ pytest -q tests/\n"
    planted = "\n".join(
        [
            f"$ git clone https://{key_id}:{aws}@git-codecommit.eu-west-1.amazonaws.com/v1/repos/fixtures",
            "$ echo $AWS_SECRET_ACCESS_KEY | base64",
            encoded(aws)["base64"],
            f"$ docker run -d -e DB_PASSWORD={password} -p 5432:5432 postgres:16",
            f"E       ConnectionError: postgres://app:{encoded(password)['url']}@127.0.0.1/app refused",
            f"E       (hex of the password the fixture used: {encoded(password)['hex']})",
        ]
    )
    return PYTEST_TRACE.replace(failure, failure + planted + "\n")


async def stored_text(db_url: str) -> str:
    db = Database(db_url)
    try:
        async with db.session() as session:
            parts = []
            for table in SQLModel.metadata.sorted_tables:
                rows = (await session.execute(sa.select(table))).all()
                parts.append(f"{table.name}: {rows!r}")
        return "\n".join(parts)
    finally:
        await db.dispose()


async def test_planted_secrets_reach_no_model_row_log_note_or_slack_message(db_url, tmp_path):
    key_id, aws = GENERATORS["aws"]()
    _, password = GENERATORS["password"]()
    _, token = GENERATORS["token"]()
    secrets = [aws, password, token, key_id]
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeSlack() as slack:
        bot = await start_bot(settings_for(db_url, gitlab, openai, **slack_settings(slack)), tmp_path)
        try:
            pipeline = seed_failed_pipeline(gitlab.state, 9001, trace=leaky_trace(key_id, aws, password))
            mr = gitlab.state.mrs[(PROJECT_ID, MR_IID)]
            mr["description"] = f"Rotates the deploy token.\n\nexport DEPLOY_TOKEN={token}\n"
            mr["source_branch"] = f"rotate-{token}"
            hook = pipeline_hook(pipeline)
            hook["object_attributes"]["ref"] = f"rotate-{token}"  # the token itself, bare, as a branch name
            hook["commit"] = {
                "id": pipeline["sha"],
                "message": f"ci: new key\n\nAWS_SECRET_ACCESS_KEY={aws}\nDEPLOY_TOKEN={token}\n",
            }
            hook["merge_request"]["title"] = f"Rotate keys (DB_PASSWORD={password})"
            assert await send_hook(bot.url, hook, key="p1") == 200
            await wait_for(lambda: bot_notes(gitlab) and parents(slack), what="the MR note and the Slack post")
            await settled(bot.url)

            question = f"@cicd-bot does `export AWS_SECRET_ACCESS_KEY={aws}` matter? show lines 1-40"
            discussion = gitlab.state.add_discussion(PROJECT_ID, MR_IID, question, author="alice")
            note = discussion["notes"][0]
            asked = note_hook(
                question,
                user="alice",
                user_id=gitlab.state.user("alice")["id"],
                note_id=note["id"],
                discussion_id=discussion["id"],
            )
            assert await send_hook(bot.url, asked, "Note Hook", key="n1") == 200
            await wait_for(lambda: openai.calls >= 2, what="the follow-up to reach the model")
            await settled(bot.url)
        finally:
            print(bot.log())  # shown by pytest when the test fails
            assert await bot.stop() == 0, bot.log()
        places = {
            "model requests": "\n".join(openai.bodies()),
            "stored rows": await stored_text(db_url),
            "log lines": bot.log(),
            "MR notes": repr(bot_notes(gitlab)),
            "Slack messages": repr([(m.text, m.blocks) for m in slack.messages.values()]),
        }
        assert "[REDACTED:" in places["model requests"] and "[REDACTED:" in places["stored rows"]
        assert "rotate-[REDACTED:token]" in places["stored rows"], "the branch name is kept, its secret is not"
        for where, text in places.items():
            assert survivors(text, secrets) == [], where
        assert CHANNEL in repr(list(slack.messages))
