"""End to end by email only: a GitLab failure email in a real IMAP inbox ends as the MR note and Slack thread."""

from __future__ import annotations

import pytest

from tests.e2e_kit import (
    bot_notes,
    parents,
    settings_for,
    slack_settings,
    start_bot,
    wait_for,
)
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.imap_server import ImapServer
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.helpers import ROOT
from tests.scenario import seed_failed_pipeline
from tests.slack_kit import CHANNEL

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def test_email_trigger_without_any_webhook(db_url, tmp_path):
    imap = ImapServer(tmp_path).start()
    try:
        async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeSlack() as slack:
            seed_failed_pipeline(gitlab.state, 9001)  # the pipeline the email names (project 42, MR !17)
            mail = {k: str(v) for k, v in imap.settings(IMAP_CHECK_INTERVAL=5).items()}
            env = settings_for(db_url, gitlab, openai, **slack_settings(slack), TRIGGER_MODE="email", **mail)
            env.pop("GITLAB_WEBHOOK_SECRET")
            imap.append((ROOT / "tests" / "data" / "email" / "failed_mr.eml").read_bytes())
            bot = await start_bot(env, tmp_path)
            try:
                await wait_for(
                    lambda: bot_notes(gitlab) and parents(slack), timeout=40, what="the note and Slack parent"
                )
                note = bot_notes(gitlab)[0]
                assert "#9001" in note["body"] and "assert 1250.0 == 12.5" in note["body"]
                await wait_for(lambda: slack.thread(CHANNEL, parents(slack)[0].ts), what="the Slack thread")
                assert imap.unseen() == [], "the email is marked read once its job is committed"
                assert openai.calls == 1
                # Gitlab was asked about the pipeline: the email's headers are not trusted on their own.
                assert gitlab.state.calls_to(r"/projects/42/pipelines/9001$", "GET")
            finally:
                print(bot.log())
                assert await bot.stop() == 0
    finally:
        imap.stop()
