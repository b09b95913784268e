"""`/cicd status` and `/cicd subscribe` through the Slack door: a channel sees its own projects' numbers, and a
subscription says what it really grants."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.core import slack_commands as texts
from bot.core.channel_status import job_project
from bot.core.render.slack import render_slack_ephemeral
from bot.jobs.registry import KINDS
from storage.models import ChannelSubscription, Pipeline, ProviderCallRecord, QueueJob
from storage.types import utcnow
from tests.slack_kit import CHANNEL, OTHER_CHANNEL, slack_harness

MAP = f"group/*={CHANNEL},public/*=*"


async def seed(db, *rows) -> list:
    async with db.session() as s:
        s.add_all(rows)
        await s.flush()
        return [getattr(r, "id", None) for r in rows]


def job(job_kind: str, state: str, **payload) -> QueueJob:
    return QueueJob(kind=job_kind, state=state, payload=payload)


def call(path: str | None, cost: float, days_ago: int = 0) -> ProviderCallRecord:
    return ProviderCallRecord(
        provider="openai", project_path=path, cost_usd=cost, created_at=utcnow() - timedelta(days=days_ago)
    )


async def subscriptions(db) -> list[tuple[str, str]]:
    async with db.session() as s:
        rows = (await s.execute(sa.select(ChannelSubscription).order_by(ChannelSubscription.id))).scalars()
        return [(r.channel, r.path_pattern) for r in rows]


async def test_status_counts_only_the_projects_the_channel_sees(database):
    async with slack_harness(database, worker=False, SLACK_CHANNEL_MAP=MAP) as h:
        await seed(
            database,
            Pipeline(project_id=7, project_path="group/app", pipeline_id=1),
            Pipeline(project_id=8, project_path="secret/vault", pipeline_id=2),
            call("group/app", 0.25),
            call("group/app", 0.5, days_ago=1),  # yesterday's
            call("secret/vault", 5.0),
            call(None, 1.0),  # a call that names no project counts nowhere
        )
        mine_dead, secret_dead = await seed(
            database,
            job("pipeline_passed", "dead", project_id=7, pipeline_id=1),
            job("analyze_pipeline", "dead", project_id=8, pipeline_id=2),
        )
        await seed(
            database,
            job("analyze_pipeline", "queued", project_id=7, pipeline_id=3),
            job("slack_command", "running", project="group/app", kind="pipeline", number=3),
            job("mr_note", "queued", project_id=8, mr_iid=1, note_id=1),
            job("analyze_pipeline", "running", project_id="secret/vault", pipeline_id=4),
            job(
                "analyze_pipeline", "queued", project_id=99, pipeline_id=5
            ),  # a project never seen: its path is unknown
            job("slack_feedback", "queued", analysis_id=1, direction="up"),  # names no project
            job("analyze_pipeline", "done", project_id=7, pipeline_id=6),
        )

        _, text = await h.command("status")
        assert text == (
            "*cicd-bot status for the projects of this channel*\n"
            "• queue: 1 waiting, 1 running, 1 dead letters\n"
            "• providers: offline rules (default offline rules)\n"
            "• spent today: $0.2500 in 1 model calls\n"
            f"• dead letter {mine_dead} (pipeline_passed)"
        )
        assert f"dead letter {secret_dead} " not in text

        # a channel mapped to nothing gets no numbers at all, and is told how to subscribe
        _, text = await h.command("status", channel=OTHER_CHANNEL, trigger="t2")
        assert text == render_slack_ephemeral(texts.STATUS_NOTHING_MAPPED)["text"]

        await seed(database, job("analyze_pipeline", "queued", project_id="public/docs", pipeline_id=7))
        _, text = await h.command("subscribe public/docs", channel=OTHER_CHANNEL, trigger="t3")
        assert text == texts.SUBSCRIBED.format(path="public/docs")
        _, text = await h.command("status", channel=OTHER_CHANNEL, trigger="t4")
        assert "• queue: 1 waiting, 0 running, 0 dead letters" in text and "$0.0000 in 0 model calls" in text


async def test_subscribe_says_so_when_it_would_grant_nothing_or_less_than_it_names(database):
    async with slack_harness(database, worker=False, SLACK_CHANNEL_MAP=MAP) as h:
        _, text = await h.command("subscribe **", channel=OTHER_CHANNEL)
        assert text == texts.SUBSCRIBE_TOO_BROAD.format(path="**", grants="`public/*`", example="public/*")
        assert "now gets failures" not in text
        _, text = await h.command("subscribe */docs", channel=OTHER_CHANNEL, trigger="t2")
        assert text.startswith("`*/docs` reaches beyond what SLACK_CHANNEL_MAP lets any channel subscribe to")
        _, text = await h.command("subscribe secret/*", channel=OTHER_CHANNEL, trigger="t3")
        assert text == texts.SUBSCRIBE_NOT_ALLOWED.format(path="secret/*", channel=OTHER_CHANNEL)
        # the channel's own mapping already covers it: a subscription would add nothing
        _, text = await h.command("subscribe group/app", trigger="t4")
        assert text == texts.SUBSCRIBE_COVERED.format(path="group/app", covering="group/*")
        assert await subscriptions(database) == []

        _, text = await h.command("subscribe public/docs", channel=OTHER_CHANNEL, trigger="t5")
        assert text == texts.SUBSCRIBED.format(path="public/docs")
        _, text = await h.command("subscribe public/docs/api", channel=OTHER_CHANNEL, trigger="t6")
        assert text == texts.SUBSCRIBE_COVERED.format(path="public/docs/api", covering="public/docs")
        _, text = await h.command("subscribe public/docs", channel=OTHER_CHANNEL, trigger="t7")
        assert text == texts.ALREADY_SUBSCRIBED.format(path="public/docs")
        assert await subscriptions(database) == [(OTHER_CHANNEL, "public/docs")]


async def test_without_an_open_grant_nothing_can_be_subscribed(database):
    async with slack_harness(database, worker=False, SLACK_CHANNEL_MAP=f"group/*={CHANNEL}") as h:
        # before, `**` overlapped the channel's own mapping and was stored, granting nothing
        for i, pattern in enumerate(("**", "group/*", "other/*")):
            _, text = await h.command(f"subscribe {pattern}", trigger=f"s{i}")
            if pattern == "group/*":
                assert text == texts.ALREADY_SUBSCRIBED.format(path="group/*")
            else:
                assert text == texts.SUBSCRIBE_NOT_ALLOWED.format(path=pattern, channel=CHANNEL)
        assert await subscriptions(database) == []

        # a subscription left from when an open grant existed gives the channel nothing, and it is told so
        await seed(database, ChannelSubscription(channel=OTHER_CHANNEL, path_pattern="public/*"))
        _, text = await h.command("status", channel=OTHER_CHANNEL, trigger="s3")
        assert text == render_slack_ephemeral(texts.STATUS_NOTHING_MAPPED)["text"]
        _, text = await h.command("history", channel=OTHER_CHANNEL, trigger="s4")
        assert text == render_slack_ephemeral(texts.HISTORY_NOTHING_VISIBLE)["text"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_job_kind_names_its_project_for_status(kind):
    fields = set(KINDS[kind].payload.model_fields)
    if kind == "slack_feedback":
        assert not fields & {"project_id", "project_path", "project"}, "names an analysis, counted nowhere"
        return
    assert fields & {"project_id", "project_path", "project"}, f"{kind}: /cicd status cannot place its jobs"
    assert job_project({"project_id": 7}) == 7 and job_project({"project": "g/app"}) == "g/app"
