"""SlackPublisher against the fake Slack through the real slack_sdk: one parent per pipeline, threads, fixed, limits."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request

import sqlalchemy as sa

from bot.clients.slack import parent_key
from bot.core.types import Verdict
from bot.runtime.services import Services
from storage.models import Delivery
from tests.fakes.ports import InProcessGitLab
from tests.fakes.slack_server import FakeSlack
from tests.helpers import make_settings
from tests.slack_kit import CHANNEL, GITLAB, sample_report

OTHER = "C0SECOND01"


def build(db, slack: FakeSlack, **overrides) -> Services:
    settings = make_settings(
        **{
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": "x" * 32,
            "SLACK_API_URL": slack.url,
            "SLACK_CHANNEL_MAP": f"group/*={CHANNEL},group/app={OTHER}",
            "GITLAB_BASE_URL": GITLAB,
            **overrides,
        }
    )
    services = Services.build(settings, db=db)
    services.use_gitlab(InProcessGitLab.with_project())
    return services


async def deliveries(db) -> list[Delivery]:
    async with db.session() as s:
        return list((await s.execute(sa.select(Delivery).order_by(Delivery.id))).scalars())


async def test_one_parent_per_pipeline_and_channel_even_after_a_restart(database):
    async with FakeSlack() as slack:
        services = build(database, slack)
        pub = services.use_slack()
        await pub.start(sample_report(with_result=False))
        await pub.start(sample_report(with_result=False))  # a retried job
        assert slack.count("chat.postMessage") == 2  # one per mapped channel
        assert [len(slack.top_level(c)) for c in (CHANNEL, OTHER)] == [1, 1]

        restarted = build(database, slack).use_slack()  # a new process: only the database remembers
        report = sample_report()
        await restarted.finish(report)
        await restarted.finish(report)
        for channel in (CHANNEL, OTHER):
            parents = slack.top_level(channel)
            assert len(parents) == 1
            assert parents[0].text.startswith("❌ Pipeline #42 failed")
            assert len(slack.thread(channel, parents[0].ts)) == 1
        # the second finish changed nothing, so Slack was not asked again
        assert slack.count("chat.update") == 2
        assert report.slack_permalink.startswith("https://fake-team.slack.test/archives/")
        keys = {d.delivery_key for d in await deliveries(database)}
        assert parent_key(CHANNEL, report) == f"slack:{CHANNEL}:7:42" and parent_key(CHANNEL, report) in keys
        parent_ts = slack.top_level(CHANNEL)[0].ts
        assert f"slack-thread:{CHANNEL}:{parent_ts}" in keys


async def test_concurrent_starts_post_one_parent(database):
    async with FakeSlack() as slack:
        pub_a, pub_b = build(database, slack).use_slack(), build(database, slack).use_slack()
        await asyncio.gather(*(p.start(sample_report(with_result=False)) for p in (pub_a, pub_b, pub_a, pub_b)))
        assert len(slack.top_level(CHANNEL)) == 1 and len(slack.top_level(OTHER)) == 1


async def test_a_later_passing_pipeline_marks_earlier_parents_fixed(database):
    async with FakeSlack() as slack:
        pub = build(database, slack).use_slack()
        await pub.finish(sample_report(40))
        await pub.finish(sample_report(41))
        other_mr = sample_report(39, mr_iid=9)
        await pub.finish(other_mr)
        await pub.fixed(sample_report(50), 50, f"{GITLAB}/group/app/-/pipelines/50")
        texts = sorted(m.text for m in slack.top_level(CHANNEL))
        assert sum(t.startswith("✅ Fixed in pipeline #50") for t in texts) == 2
        assert any(t.startswith("❌ Pipeline #39 failed") for t in texts)  # another MR stays failed
        updates_before = slack.count("chat.update")
        await pub.fixed(sample_report(50), 50, f"{GITLAB}/group/app/-/pipelines/50")
        assert slack.count("chat.update") == updates_before  # already marked


async def test_branch_filter_and_minimum_severity_decide_what_is_posted(database):
    async with FakeSlack() as slack:
        pub = build(database, slack, SLACK_BRANCH_FILTER="default").use_slack()
        await pub.finish(sample_report(60))  # ref "feature", default branch unknown -> not the default branch
        assert slack.count("chat.postMessage") == 0
        pub = build(database, slack, SLACK_MIN_SEVERITY="high").use_slack()
        await pub.start(sample_report(61, with_result=False))  # severity not known yet: wait for the answer
        assert slack.count("chat.postMessage") == 0
        await pub.finish(sample_report(61, verdict=Verdict.flaky))  # low: stays quiet
        assert slack.count("chat.postMessage") == 0
        await pub.finish(sample_report(62, verdict=Verdict.caused_by_change))  # high: parent and thread at once
        parents = slack.top_level(CHANNEL)
        assert len(parents) == 1 and parents[0].text.startswith("❌ Pipeline #62 failed")
        # an explicit request is answered whatever the filters say
        await pub.finish(sample_report(61, verdict=Verdict.flaky), {"channel": CHANNEL, "user": "U1"})
        assert len(slack.top_level(CHANNEL)) == 2


async def test_shared_channels_get_no_private_project_details(database):
    async with FakeSlack() as slack:
        slack.share(OTHER)
        services = build(database, slack)
        pub = services.use_slack()
        await pub.finish(sample_report(), {"channel": OTHER, "user": "U1", "response_url": slack.response_url()})
        await pub.finish(sample_report(43))
        assert slack.top_level(OTHER) == [] and len(slack.top_level(CHANNEL)) == 1
        # no HTTP session for response_url here, so the refusal goes out as an ephemeral message
        ephemeral = slack.calls_of("chat.postEphemeral")[-1].args
        assert (ephemeral["user"], ephemeral["text"]) == (
            "U1",
            "I do not answer in channels shared with other workspaces.",
        )
        services.gitlab.projects[7]["visibility"] = "public"
        await services.use_slack().finish(sample_report(44))
        assert len(slack.top_level(OTHER)) == 1
        allowed = build(database, slack, SLACK_ALLOW_SHARED_CHANNELS=True).use_slack()
        await allowed.finish(sample_report(45))
        assert len(slack.top_level(OTHER)) == 2


async def test_rate_limits_are_waited_out_via_retry_after(database):
    async with FakeSlack() as slack:
        slack.fault("chat.postMessage", status=429, retry_after=0, times=2)
        pub = build(database, slack, SLACK_CHANNEL_MAP=f"group/*={CHANNEL}").use_slack()
        await pub.start(sample_report(with_result=False))
        assert slack.count("chat.postMessage") == 3 and len(slack.top_level(CHANNEL)) == 1


async def test_hostile_text_is_defused_and_messages_stay_within_slack_limits(database):
    async with FakeSlack() as slack:
        pub = build(database, slack, SLACK_CHANNEL_MAP=f"group/*={CHANNEL}").use_slack()
        report = sample_report()
        report.jobs[0].result.summary = "<!channel> @here see <https://evil.example|here> " + "x" * 5000
        report.jobs[0].result.root_cause = "<@U0BOSS> " * 2000
        await pub.finish(report)
        for call in slack.calls_of("chat.postMessage") + slack.calls_of("chat.update"):
            dumped = json.dumps(call.args)
            assert "<!channel>" not in dumped and "<@U0BOSS>" not in dumped and "<https://evil" not in dumped
            assert len(call.args["blocks"]) <= 50
            for block in call.args["blocks"]:
                if block["type"] == "section":
                    assert len(block["text"]["text"]) <= 3000


async def test_the_fake_runs_as_a_subprocess_with_an_admin_api():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.slack_server", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        base = url.rsplit("/api/", 1)[0]
        fault = json.dumps({"method": "auth.test", "error": "invalid_auth"}).encode()
        urllib.request.urlopen(urllib.request.Request(base + "/_fake/fault", data=fault, method="POST"))
        from slack_sdk.errors import SlackApiError
        from slack_sdk.web.async_client import AsyncWebClient

        from tests.fakes.slack_server import fake_bot_token

        client = AsyncWebClient(token=fake_bot_token(), base_url=url)
        try:
            await client.auth_test()
            raise AssertionError("the fault was not applied")
        except SlackApiError as exc:
            assert exc.response["error"] == "invalid_auth"
        assert (await client.auth_test())["user_id"] == "U0BOT00001"
        calls = json.loads(urllib.request.urlopen(base + "/_fake/calls").read())
        assert calls["counts"] == {"auth.test": 2}
    finally:
        proc.terminate()
        proc.wait(10)
