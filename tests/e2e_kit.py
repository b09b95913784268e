"""Helpers for the end-to-end tests: the bot as a real process, webhooks sent to it, waiting on what it did."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.botprocess import BotProcess, bot_env, free_port
from tests.fakes.gitlab_server import DEFAULT_TOKEN
from tests.scenario import MR_IID, PROJECT_ID, PROJECT_PATH, WEBHOOK_SECRET
from tests.slack_kit import CHANNEL, signing_secret


def bot_notes(gitlab):
    return [n for n in gitlab.notes_for(PROJECT_ID, MR_IID) if n["author"]["username"] == "cicd-bot"]


# A guard against a hang, not a speed check: a loaded 2-core machine can take tens of seconds for one job.
async def wait_for(predicate, timeout=120.0, what="condition"):
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def send_hook(url: str, body: dict, event: str = "Pipeline Hook", key: str | None = None) -> int:
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    async with aiohttp.ClientSession() as client:
        async with client.post(url + "/webhooks/gitlab", data=json.dumps(body), headers=headers) as resp:
            return resp.status


async def health(url: str) -> dict:
    async with aiohttp.ClientSession() as client:
        async with client.get(url + "/health/detailed") as resp:
            return await resp.json()


async def settled(url: str, timeout: float = 60.0) -> dict:
    """Wait until no job waits or runs, so "nothing more happened" is a fact and not a guess about time."""
    for _ in range(int(timeout / 0.1)):
        queue = (await health(url))["queue"]
        if queue.get("queued", 0) == 0 and queue.get("running", 0) == 0:
            return queue
        await asyncio.sleep(0.1)
    raise AssertionError(f"the queue did not settle: {queue}")


def note_hook(note: str, *, user: str, user_id: int, note_id: int, discussion_id: str = "d1") -> dict:
    return {
        "object_kind": "note",
        "event_type": "note",
        "user": {"id": user_id, "username": user, "name": user},
        "project_id": PROJECT_ID,
        "project": {"id": PROJECT_ID, "path_with_namespace": PROJECT_PATH},
        "object_attributes": {
            "id": note_id,
            "note": note,
            "noteable_type": "MergeRequest",
            "author_id": user_id,
            "discussion_id": discussion_id,
        },
        "merge_request": {"iid": MR_IID, "title": "Parse amounts with a decimal comma"},
    }


def human_note(gitlab, text: str, user: str) -> dict:
    """A note written in the MR (so GitLab knows it) and the Note Hook GitLab sends for it."""
    discussion = gitlab.state.add_discussion(PROJECT_ID, MR_IID, text, author=user)
    note = discussion["notes"][0]
    return note_hook(
        text, user=user, user_id=gitlab.state.user(user)["id"], note_id=note["id"], discussion_id=discussion["id"]
    )


def settings_for(db: str, gitlab, openai=None, anthropic=None, **extra) -> dict[str, str]:
    env = bot_env(
        db,
        free_port(),
        GITLAB_BASE_URL=gitlab.url,
        GITLAB_API_TOKEN=DEFAULT_TOKEN,
        GITLAB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        **{"WORKER_CONCURRENCY": "2", **extra},
    )
    if openai:
        env.update(OPENAI_API_KEY="sk-test-openai", OPENAI_BASE_URL=openai.url)
    if anthropic:
        env.update(ANTHROPIC_API_KEY="sk-ant-test", ANTHROPIC_BASE_URL=anthropic.url)
    return env


async def start_bot(env, tmp_path) -> BotProcess:
    bot = BotProcess(env, tmp_path / "bot.log")
    if not env["DATABASE_URL"].startswith("sqlite"):
        result = bot.run_cli("db", "upgrade")  # PostgreSQL is migrated on purpose, never by serve
        assert result.returncode == 0, result.stderr
    await bot.start()
    return bot


def slack_settings(slack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": signing_secret(),
        "SLACK_API_URL": slack.url,
        "SLACK_CHANNEL_MAP": f"acme/platform={CHANNEL}",
    }


def parents(slack):
    return slack.top_level(CHANNEL)
