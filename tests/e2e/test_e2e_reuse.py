"""Answer reuse through the real process: a true repeat is answered from the first analysis, a new value is not."""

from __future__ import annotations

import pytest

from tests.e2e_kit import bot_notes, send_hook, settings_for, settled, start_bot, wait_for
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.scenario import PYTEST_TRACE, pipeline_hook, seed_failed_pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def failing_with(value: str) -> str:
    return PYTEST_TRACE.replace("1250.0 == 12.5", value)


async def test_a_repeat_reuses_the_answer_and_a_failure_differing_in_a_value_gets_its_own(db_url, tmp_path):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        bot = await start_bot(settings_for(db_url, gitlab, openai), tmp_path)
        try:
            first = seed_failed_pipeline(gitlab.state, 9001, trace=failing_with("404 == 200"))
            assert await send_hook(bot.url, pipeline_hook(first), key="p1") == 200
            await wait_for(lambda: "#9001" in "".join(n["body"] for n in bot_notes(gitlab)), what="the first note")
            assert openai.calls == 1

            # The same failure again (other times, other job ids): no model call, the note says where it came from.
            again = seed_failed_pipeline(gitlab.state, 9002, trace=failing_with("404 == 200"))
            assert await send_hook(bot.url, pipeline_hook(again), key="p2") == 200
            await wait_for(lambda: "#9002" in bot_notes(gitlab)[0]["body"], what="the note for the repeat")
            await settled(bot.url)
            body = bot_notes(gitlab)[0]["body"]
            assert openai.calls == 1
            assert "answer reused from there" in body and f"[#9001]({first['web_url']})" in body

            # Only a value differs (500 instead of 404): its own model call, and its own value in the note.
            other = seed_failed_pipeline(gitlab.state, 9003, trace=failing_with("500 == 200"))
            assert await send_hook(bot.url, pipeline_hook(other), key="p3") == 200
            await wait_for(lambda: "#9003" in bot_notes(gitlab)[0]["body"], what="the note for the new value")
            await settled(bot.url)
            body = bot_notes(gitlab)[0]["body"]
            assert openai.calls == 2
            assert "answer reused" not in body and "500 == 200" in body and "404 == 200" not in body
        finally:
            print(bot.log())  # shown by pytest when the test fails
            assert await bot.stop() == 0, bot.log()
