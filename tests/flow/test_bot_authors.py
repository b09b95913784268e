"""Notes by bots get no model call and no reply: GitLab's `bot` flag decides (cached), never the author's name."""

from __future__ import annotations

import aiohttp
import pytest

from bot.clients.bot_flags import BotFlags
from bot.clients.gitlab import GitLabClient
from bot.jobs import mr_note
from tests.e2e_kit import bot_notes
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import bot_services
from tests.scenario import PROJECT_ID, mr_note_job, seed_failed_pipeline

USERS = r"/users/\d+$"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_flag_is_asked_once_per_user_until_it_expires_and_an_unknown_user_counts_as_a_bot():
    async with FakeGitLab() as gitlab, aiohttp.ClientSession() as session:
        renovate = gitlab.state.add_user("renovate", bot=True)
        jane = gitlab.state.add_user("robot-jane")
        client = GitLabClient(session, gitlab.url, DEFAULT_TOKEN)
        clock = Clock()
        flags = BotFlags(ttl_seconds=60, clock=clock)
        assert await flags.is_bot(client, renovate["id"]) is True
        assert await flags.is_bot(client, jane["id"]) is False
        assert await flags.is_bot(client, renovate["id"]) is True
        assert len(gitlab.state.calls_to(USERS)) == 2, "the second look is answered from the cache"
        clock.now += 61
        assert await flags.is_bot(client, renovate["id"]) is True
        assert len(gitlab.state.calls_to(USERS)) == 3, "asked again once the entry expired"
        assert await flags.is_bot(client, 999_999) is True, "a user GitLab does not show is not answered"


async def test_the_cache_stays_within_its_size():
    async with FakeGitLab() as gitlab, aiohttp.ClientSession() as session:
        ids = [gitlab.state.add_user(f"user{i}")["id"] for i in range(5)]
        flags = BotFlags(max_users=3)
        client = GitLabClient(session, gitlab.url, DEFAULT_TOKEN)
        for user_id in ids:
            assert await flags.is_bot(client, user_id) is False
        assert len(flags._known) == 3 and set(flags._known) == set(ids[-3:])


async def test_a_bot_with_an_ordinary_name_gets_no_model_call_no_emoji_and_no_reply(database):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001)
        gitlab.state.add_user("renovate", bot=True)
        gitlab.state.add_member(PROJECT_ID, "renovate", 40)  # even a Maintainer
        async with bot_services(database, gitlab, openai) as services:
            for i, text in enumerate(("@cicd-bot why did pytest fail?", "@cicd-bot help", "@cicd-bot reanalyze")):
                await mr_note.run(services, mr_note_job(gitlab.state, "renovate", text, i + 1))
            anonymous = mr_note_job(gitlab.state, "alice", "@cicd-bot help", 9)
            del anonymous.payload["user_id"]  # nobody to ask GitLab about: not answered either
            await mr_note.run(services, anonymous)
        assert openai.calls == 0 and bot_notes(gitlab) == []
        assert gitlab.state.award_emoji == {} and gitlab.state.calls_to(r"/award_emoji$") == []
        assert len(gitlab.state.calls_to(USERS)) == 1, "GitLab is asked once; the flag is remembered"


@pytest.mark.parametrize("name", ["robot-jane", "x-bot"])
async def test_a_person_whose_name_looks_like_a_bot_is_answered(database, name):
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai:
        seed_failed_pipeline(gitlab.state, 9001)
        gitlab.state.add_user(name, bot=False)
        gitlab.state.add_member(PROJECT_ID, name, 30)
        openai.script({"kind": "text", "text": "The parser reads the comma as a thousands separator."})
        async with bot_services(database, gitlab, openai) as services:
            await mr_note.run(services, mr_note_job(gitlab.state, name, "@cicd-bot why did pytest fail?"))
        assert openai.calls == 1
        assert [n["body"] for n in bot_notes(gitlab)] == ["The parser reads the comma as a thousands separator."]
