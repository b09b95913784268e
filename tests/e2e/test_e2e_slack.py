"""End to end with Slack: the real server process, fake GitLab, fake Slack and a fake model."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e_kit import (
    bot_notes,
    parents,
    send_hook,
    settings_for,
    slack_settings,
    start_bot,
    wait_for,
)
from tests.fakes import held
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.scenario import (
    MR_IID,
    PROJECT_ID,
    PROJECT_PATH,
    pipeline_hook,
    seed_failed_pipeline,
)
from tests.slack_kit import CHANNEL, command_body, sign

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_webhook_gives_one_mr_note_and_one_slack_thread_that_point_at_each_other(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeSlack() as slack:
        bot = await start_bot(settings_for(db_url, gitlab, openai, **slack_settings(slack)), tmp_path)
        try:
            pipeline = seed_failed_pipeline(gitlab.state, 9001)
            for key in ("a", "b"):  # a group hook and a project hook for the same pipeline
                assert await send_hook(bot.url, pipeline_hook(pipeline), key=key) == 200
            await wait_for(
                lambda: bot_notes(gitlab) and parents(slack) and slack.thread(CHANNEL, parents(slack)[0].ts),
                what="the note and the Slack thread",
            )
            await wait_for(
                lambda: "fake-team.slack.test/archives" in bot_notes(gitlab)[0]["body"], what="the permalink"
            )
            note = bot_notes(gitlab)[0]
            parent = parents(slack)[0]
            assert len(parents(slack)) == 1 and len(bot_notes(gitlab)) == 1
            assert f"/archives/{CHANNEL}/p{parent.ts.replace('.', '')}" in note["body"]
            await wait_for(lambda: f"note_{note['id']}" in str(parents(slack)[0].blocks), what="the parent's note link")
            assert "assert 1250.0 == 12.5" in str(slack.thread(CHANNEL, parent.ts)[0].blocks)
            assert PROJECT_PATH in parent.text or PROJECT_PATH in str(parent.blocks)
        finally:
            print(bot.log())
            assert await bot.stop() == 0


async def test_slash_command_is_acked_while_the_model_is_still_answering(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeSlack() as slack:
        env = settings_for(db_url, gitlab, openai, **slack_settings(slack), AI_TIMEOUT_SECONDS="60")
        bot = await start_bot(env, tmp_path)
        try:
            seed_failed_pipeline(gitlab.state, 9001)
            openai.script(held())  # the model answers only when the test says so
            body = command_body(f"explain {PROJECT_PATH}#9001", channel=CHANNEL, response_url=slack.response_url())
            async with aiohttp.ClientSession() as client:
                async with client.post(
                    bot.url + "/slack/events",
                    data=body,
                    headers={**sign(body), "Content-Type": "application/x-www-form-urlencoded"},
                ) as resp:
                    ack = await resp.text()
                    assert resp.status == 200
            assert "9001" in ack
            # The ack came back while no answer can exist yet: the door did not wait for the analysis.
            assert not any(slack.thread(CHANNEL, p.ts) for p in parents(slack))
            await wait_for(lambda: openai.holding == 1, timeout=40, what="the model call to start")
            openai.release()
            await wait_for(
                lambda: parents(slack) and slack.thread(CHANNEL, parents(slack)[0].ts),
                timeout=40,
                what="the answer in the thread",
            )
            assert openai.calls == 1
            assert len(bot_notes(gitlab)) == 1 and MR_IID and PROJECT_ID
        finally:
            print(bot.log())
            assert await bot.stop() == 0
