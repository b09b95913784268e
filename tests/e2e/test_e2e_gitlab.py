"""End to end through the real `cicd-bot serve` process, a fake GitLab and fake model servers."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.botprocess import BotProcess, database_url
from tests.e2e_kit import (
    bot_notes,
    health,
    human_note,
    note_hook,
    send_hook,
    settings_for,
    settled,
    start_bot,
    wait_for,
)
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.scenario import (
    INJECTION_TRACE,
    MR_IID,
    pipeline_hook,
    seed_failed_pipeline,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
QUICK_ACTION = re.compile(r"^\s*/[a-z0-9_]+", re.M | re.I)


async def test_webhooks_to_one_note_edited_then_fixed(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        env = settings_for(db_url, gitlab, openai, CICD_BOT_API_TOKEN="stats-token")
        bot = await start_bot(env, tmp_path)
        try:
            first = seed_failed_pipeline(gitlab.state, 9001)
            assert await send_hook(bot.url, pipeline_hook(first), key="h1") == 200
            await wait_for(lambda: bot_notes(gitlab), what="the MR note")
            note = bot_notes(gitlab)[0]
            assert "#9001" in note["body"] and "AssertionError: assert 1250.0 == 12.5" in note["body"]

            second = seed_failed_pipeline(gitlab.state, 9002, trace=INJECTION_TRACE)
            statuses = await asyncio.gather(*(send_hook(bot.url, pipeline_hook(second), key="same") for _ in range(5)))
            assert statuses == [200] * 5
            await wait_for(lambda: "#9002" in bot_notes(gitlab)[0]["body"], what="the note to be edited")
            assert len(bot_notes(gitlab)) == 1 and bot_notes(gitlab)[0]["id"] == note["id"]
            body = bot_notes(gitlab)[0]["body"]
            assert gitlab.state.quick_actions == [] and not QUICK_ACTION.search(body)
            assert "@all" not in body and "](https://evil.example" not in body and "<img" not in body

            passed = seed_failed_pipeline(gitlab.state, 9003, status="success")
            assert await send_hook(bot.url, pipeline_hook(passed), key="h3") == 200
            await wait_for(lambda: "Fixed in pipeline" in bot_notes(gitlab)[0]["body"], what="the fixed note")
            assert len(bot_notes(gitlab)) == 1
            assert openai.calls == 2
            async with aiohttp.ClientSession() as client:
                async with client.get(
                    bot.url + "/analysis/stats/summary", headers={"Authorization": "Bearer stats-token"}
                ) as resp:
                    stats = await resp.json()
            openai_stats = stats["by_provider"]["openai"]
            assert openai_stats["analyses"] == 2 and openai_stats["tokens_in"] > 0 and openai_stats["cost_usd"] > 0
        finally:
            print(bot.log())  # shown by pytest when the test fails
            assert await bot.stop() == 0, bot.log()


async def test_mr_commands_and_follow_ups(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeAnthropic() as anthropic:
        env = settings_for(db_url, gitlab, openai, anthropic, DEFAULT_AI_PROVIDER="openai")
        bot = await start_bot(env, tmp_path)
        try:
            pipeline = seed_failed_pipeline(gitlab.state, 9001)
            await send_hook(bot.url, pipeline_hook(pipeline), key="p1")
            await wait_for(lambda: bot_notes(gitlab), what="the MR note")
            assert anthropic.calls == 0

            await send_hook(
                bot.url, human_note(gitlab, "@cicd-bot reanalyze with anthropic", "alice"), "Note Hook", key="n1"
            )
            await wait_for(lambda: anthropic.calls == 1, what="anthropic to be asked")
            await wait_for(
                lambda: "anthropic" in bot_notes(gitlab)[0]["body"].lower(), what="the note to name anthropic"
            )
            assert len([n for n in bot_notes(gitlab) if n["body"].startswith("<!-- cicd-bot")]) == 1

            openai.script({"kind": "text", "text": "The parser treats the comma as a thousands separator."})
            await send_hook(
                bot.url,
                human_note(gitlab, "@cicd-bot why does parse_amount return 1250?", "alice"),
                "Note Hook",
                key="n2",
            )
            await wait_for(
                lambda: any("thousands separator" in n["body"] for n in bot_notes(gitlab)),
                what="the answer in the thread",
            )

            before = openai.calls + anthropic.calls
            for i in range(2):
                await send_hook(
                    bot.url, human_note(gitlab, "@cicd-bot reanalyze", "guest-gary"), "Note Hook", key=f"g{i}"
                )
            await wait_for(lambda: any("Developer access" in n["body"] for n in bot_notes(gitlab)), what="the refusal")
            await settled(bot.url)
            assert sum("Developer access" in n["body"] for n in bot_notes(gitlab)) == 1, "refused once"
            assert openai.calls + anthropic.calls == before

            count = len(bot_notes(gitlab))
            await send_hook(
                bot.url,
                note_hook("@cicd-bot reanalyze", user="cicd-bot", user_id=99, note_id=520),
                "Note Hook",
                key="own",
            )
            await settled(bot.url)
            assert len(bot_notes(gitlab)) == count and openai.calls + anthropic.calls == before
        finally:
            print(bot.log())  # shown by pytest when the test fails
            assert await bot.stop() == 0, bot.log()


async def test_a_bot_by_gitlab_s_flag_is_not_answered_and_a_person_named_like_one_is(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        env = settings_for(db_url, gitlab, openai)
        bot = await start_bot(env, tmp_path)
        try:
            seed_failed_pipeline(gitlab.state, 9001)
            gitlab.state.add_user("renovate", bot=True)  # an ordinary name; GitLab says it is a bot
            gitlab.state.add_user("robot-jane", bot=False)  # a name that looks like a bot's; a person
            for name in ("renovate", "robot-jane"):
                gitlab.state.add_member(gitlab.state.project("acme/platform/api"), name, 30)

            await send_hook(bot.url, human_note(gitlab, "@cicd-bot why did pytest fail?", "renovate"), "Note Hook")
            await settled(bot.url)
            assert openai.calls == 0 and bot_notes(gitlab) == [], "no model call and no reply for a bot"
            assert len(gitlab.state.calls_to(r"/users/\d+$")) == 1, "the job asked GitLab, not the name"

            openai.script({"kind": "text", "text": "The parser reads the comma as a thousands separator."})
            await send_hook(bot.url, human_note(gitlab, "@cicd-bot why did pytest fail?", "robot-jane"), "Note Hook")
            await wait_for(lambda: bot_notes(gitlab), what="the answer to robot-jane")
            assert openai.calls == 1 and "thousands separator" in bot_notes(gitlab)[0]["body"]
        finally:
            print(bot.log())  # shown by pytest when the test fails
            assert await bot.stop() == 0, bot.log()


async def test_worker_killed_between_posting_and_recording_leaves_one_note(db_url, tmp_path):
    async with FakeGitLab() as gitlab:
        env = settings_for(db_url, gitlab, QUEUE_LEASE_SECONDS="5")
        bot = await start_bot(env, tmp_path)
        pipeline = seed_failed_pipeline(gitlab.state, 9001)
        # GitLab creates the note but the bot never hears back: it is killed while waiting.
        gitlab.state.add_fault(r"/merge_requests/\d+/notes$", 0, method="POST", delay_after=10)
        await send_hook(bot.url, pipeline_hook(pipeline), key="k1")
        await wait_for(lambda: bot_notes(gitlab), what="the note to be created")
        bot.kill()
        gitlab.state.faults.clear()
        bot2 = BotProcess(env, tmp_path / "bot2.log")
        await bot2.start()
        try:
            for _ in range(400):
                queue = (await health(bot2.url))["queue"]
                if queue["done"] >= 1 and queue["queued"] == queue["running"] == 0:
                    break
                await asyncio.sleep(0.1)
            assert queue["done"] == 1 and queue["dead"] == 0, queue
            assert len(bot_notes(gitlab)) == 1
            # The restarted worker looked for its note by the marker instead of posting again.
            assert len(gitlab.state.calls_to(rf"/merge_requests/{MR_IID}/notes$", "POST")) == 1
        finally:
            assert await bot2.stop() == 0, bot2.log()


async def test_replicas_share_one_postgresql(tmp_path):
    """A web process without workers and two worker processes: every pipeline analysed once, one note."""
    async with database_url("postgres", tmp_path) as db, FakeGitLab() as gitlab:
        env = settings_for(db, gitlab, WORKER_CONCURRENCY="0")
        web = await start_bot(env, tmp_path)
        workers = [BotProcess({**env, "WORKER_CONCURRENCY": "2"}, tmp_path / f"worker{i}.log") for i in range(2)]
        await asyncio.gather(*(w.start_worker() for w in workers))
        try:
            for pipeline_id in range(9001, 9006):
                pipeline = seed_failed_pipeline(gitlab.state, pipeline_id)
                assert await send_hook(web.url, pipeline_hook(pipeline), key=f"r{pipeline_id}") == 200
            for _ in range(300):
                queue = (await health(web.url))["queue"]
                if queue["done"] == 5:
                    break
                await asyncio.sleep(0.1)
            assert queue["done"] == 5 and queue["dead"] == 0, queue
            assert len(bot_notes(gitlab)) == 1
            traces = gitlab.state.calls_to(r"/jobs/\d+/trace$", "GET")
            assert len(traces) == 5, "each failed job's log was read once, by one of the workers"
        finally:
            for w in workers:
                assert await w.stop() == 0, w.log()
            assert await web.stop() == 0, web.log()
