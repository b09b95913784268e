"""The reconciliation sweep against the fake GitLab: failures with no record are enqueued once, calls are bounded,
one replica sweeps, and a webhook GitLab stopped delivering is reported in /health/detailed and once in Slack."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import sqlalchemy as sa

from bot.clients.gitlab import GitLabClient
from bot.runtime.services import Services
from handlers import reconcile
from handlers.gitlab_routing import route
from storage.inbox import record_event
from storage.models import QueueJob, ReceivedEvent
from tests.fakes.gitlab_server import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.ports import RecordingSlack
from tests.helpers import make_settings, running_app
from tests.scenario import PROJECT_ID, PROJECT_PATH, pipeline_hook, seed_failed_pipeline
from tests.unit.test_redact import GENERATORS

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
GROUP = "acme"
CHANNEL = "C0ALERTS01"


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def recent(minutes: int = 5) -> str:
    return iso(NOW - timedelta(minutes=minutes))


def sweep_settings(gitlab: FakeGitLab, **overrides) -> dict:
    return {
        "GITLAB_BASE_URL": gitlab.url,
        "GITLAB_API_TOKEN": DEFAULT_TOKEN,
        "GITLAB_GROUPS": GROUP,
        "RECONCILE_INTERVAL": 600,
        "GITLAB_WEBHOOK_SECRET": "s3cret-for-the-door",
        **overrides,
    }


@asynccontextmanager
async def sweeper(db, gitlab: FakeGitLab, **overrides):
    services = Services.build(make_settings(**sweep_settings(gitlab, **overrides)), db=db)
    async with aiohttp.ClientSession() as http:
        services.use_gitlab(GitLabClient(http, gitlab.url, DEFAULT_TOKEN, timeout=5))
        yield services


def seed_group(state) -> None:
    state.add_group(GROUP)
    state.add_group("acme/platform")
    state.add_group_member(GROUP, state.bot, 50)  # Owner: GitLab lists a group's hooks to its owners only
    seed_failed_pipeline(state, 9000)  # acme/platform/api, the scenario's project
    state.add_project("acme/web", id=43)
    state.add_project("other/elsewhere", id=44)  # outside the group: never looked at


async def webhook_arrived(db, pipeline: dict):
    """What the door does with a Pipeline Hook for this pipeline."""
    routed = route("Pipeline Hook", pipeline_hook(pipeline), {}, str(pipeline["id"]).encode(), "cicd-bot")
    return await record_event(
        db,
        source="gitlab_webhook",
        delivery_key=routed.delivery_key,
        event_type=routed.event_type,
        payload={},
        jobs=routed.jobs,
        project_id=PROJECT_ID,
        object_id=pipeline["id"],
        status="failed",
    )


async def jobs(db) -> list[QueueJob]:
    async with db.session() as s:
        return list((await s.execute(sa.select(QueueJob).order_by(QueueJob.id))).scalars())


def pipeline_calls(gitlab: FakeGitLab) -> list[str]:
    return [c.path for c in gitlab.state.calls_to(r"/pipelines$")]


async def test_failures_with_no_record_are_enqueued_once_and_deduplicated_with_webhooks(database):
    async with FakeGitLab() as gitlab:
        state = gitlab.state
        seed_group(state)
        state.pipelines[(PROJECT_ID, 9000)]["updated_at"] = recent()
        lost = seed_failed_pipeline(state, 9001)  # its webhook never arrived
        lost["updated_at"] = recent(3)
        webhooked = seed_failed_pipeline(state, 9002)
        webhooked["updated_at"] = recent(2)
        state.add_pipeline(43, id=9100, status="failed", updated_at=recent(4))
        state.add_pipeline(43, id=9101, status="success", updated_at=recent(4))
        state.add_pipeline(43, id=9102, status="failed", updated_at=iso(NOW - timedelta(hours=3)))  # before the window
        state.add_pipeline(43, id=9103, status="failed", source="parent_pipeline", updated_at=recent(1))  # a child
        state.add_pipeline(44, id=9200, status="failed", updated_at=recent(1))  # not in a watched group
        await webhook_arrived(database, webhooked)  # the door recorded it and queued its analysis
        async with sweeper(database, gitlab) as services:
            first = await reconcile.sweep_once(services, now=NOW)
            assert first.swept and first.pass_complete and first.error == ""
            queued = {(j.payload["project_id"], j.payload["pipeline_id"]): j for j in await jobs(database)}
            assert set(queued) == {(PROJECT_ID, 9000), (PROJECT_ID, 9001), (PROJECT_ID, 9002), (43, 9100)}
            assert queued[(PROJECT_ID, 9001)].payload["trigger"] == "reconcile"
            assert queued[(PROJECT_ID, 9001)].dedupe_key == f"pipeline:{PROJECT_ID}:9001:failed"
            assert queued[(PROJECT_ID, 9002)].payload["trigger"] == "webhook", "the webhook's job, not a second one"
            assert (first.enqueued, first.known) == (3, 1)
            # Only the group's projects, with the failed filter and the window GitLab filters on.
            listed = gitlab.state.calls_to(r"/pipelines$")
            assert sorted(c.path for c in listed) == [
                f"/api/v4/projects/{PROJECT_ID}/pipelines",
                "/api/v4/projects/43/pipelines",
            ]
            assert {c.query["status"] for c in listed} == {"failed"}
            assert {c.query["updated_after"] for c in listed} == {"2026-01-10T11:48:00Z"}  # one interval and 2 min

            # GitLab touches two of them again (still failed): inside the next window, and known.
            lost["updated_at"] = state.pipelines[(43, 9100)]["updated_at"] = iso(NOW + timedelta(minutes=1))
            second = await reconcile.sweep_once(services, now=NOW + timedelta(minutes=10))
            assert (second.failed_seen, second.enqueued, second.known) == (2, 0, 2)
            # A late webhook for a pipeline the sweep enqueued joins its job instead of adding one.
            intake = await webhook_arrived(database, lost)
            assert intake.outcome == "duplicate_event" and len(await jobs(database)) == 4
            async with database.session() as s:
                sources = (await s.execute(sa.select(ReceivedEvent.source).order_by(ReceivedEvent.id))).scalars()
                assert list(sources).count("reconcile") == 3


async def test_a_swept_pipelines_branch_is_stored_without_a_secret_in_it(sqlite_db):
    token = GENERATORS["glpat"]()
    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        gitlab.state.pipelines[(PROJECT_ID, 9000)].update(updated_at=recent(), ref=f"rotate-{token}")
        async with sweeper(sqlite_db, gitlab) as services:
            assert (await reconcile.sweep_once(services, now=NOW)).enqueued == 1
        async with sqlite_db.session() as s:
            [payload] = (await s.execute(sa.select(ReceivedEvent.payload))).scalars()
    assert payload["ref"] == "rotate-[REDACTED:gitlab-token]"


async def test_a_failure_analysed_before_is_known_and_a_new_failure_of_it_is_not(database):
    from storage.history import upsert_pipeline

    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        again = gitlab.state.pipelines[(PROJECT_ID, 9000)]
        async with sweeper(database, gitlab) as services:
            await upsert_pipeline(database, project_id=PROJECT_ID, pipeline_id=9000, status="failed")
            again["updated_at"] = iso(datetime.now(UTC) - timedelta(minutes=1))  # failed before we looked
            result = await reconcile.sweep_once(services, now=datetime.now(UTC))
            assert (result.enqueued, result.known) == (0, 1)
            again["updated_at"] = iso(datetime.now(UTC) + timedelta(minutes=5))  # retried and failed again since
            result = await reconcile.sweep_once(services, now=datetime.now(UTC) + timedelta(minutes=10))
            assert result.enqueued == 1


async def test_calls_are_bounded_and_the_pass_carries_on_where_it_stopped(database, monkeypatch):
    monkeypatch.setattr(reconcile, "PER_PAGE", 2)
    monkeypatch.setattr("bot.clients.gitlab_sweep.PER_PAGE", 2)
    async with FakeGitLab() as gitlab:
        state = gitlab.state
        state.add_group(GROUP)
        for pid in range(501, 506):  # five projects: three pages of two
            state.add_project(f"acme/p{pid}", id=pid)
            state.add_pipeline(pid, id=pid * 10, status="failed", updated_at=recent())
        async with sweeper(database, gitlab, RECONCILE_MAX_API_CALLS=5) as services:
            made, enqueued = [], []
            when = NOW
            for _ in range(4):
                before = len(gitlab.calls)
                result = await reconcile.sweep_once(services, now=when)
                made.append(len(gitlab.calls) - before)
                enqueued.append(result.enqueued)
                when += timedelta(minutes=10)
                if result.pass_complete:
                    break
            assert all(n <= 5 for n in made), made
            # The hooks once, 3 listing pages and 1 project; then the 4 other projects: the pass needed two sweeps.
            assert made == [5, 4] and enqueued == [1, 4]
            assert sorted(pipeline_calls(gitlab)) == sorted(f"/api/v4/projects/{p}/pipelines" for p in range(501, 506))
            assert sorted(j.payload["pipeline_id"] for j in await jobs(database)) == [5010, 5020, 5030, 5040, 5050]
            # The next pass looks at what changed since the first began, with one more listing of the group.
            third = await reconcile.sweep_once(services, now=when)
            assert third.enqueued == 0
            assert gitlab.state.calls_to(r"/pipelines$")[-1].query["updated_after"] == "2026-01-10T11:58:00Z"


async def test_one_replica_sweeps_at_a_time_and_a_sweep_just_done_is_not_repeated(database):
    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        gitlab.state.add_fault(r"/groups/acme/hooks$", 0, hold=True)
        async with sweeper(database, gitlab) as one, sweeper(database, gitlab) as two:
            first = asyncio.create_task(reconcile.sweep_once(one, now=NOW))
            for _ in range(500):
                if gitlab.state.holding:
                    break
                await asyncio.sleep(0.01)
            assert gitlab.state.holding == 1, "the first sweep is inside GitLab, holding the lock"
            other = await reconcile.sweep_once(two, now=NOW)
            assert not other.swept
            gitlab.state.released.set()
            assert (await asyncio.wait_for(first, 30)).swept
            # Another replica's scheduler fires a moment later: it sees the sweep just done and leaves it.
            assert not (await reconcile.sweep_once(two, now=NOW + timedelta(seconds=20))).swept
            assert (await reconcile.sweep_once(two, now=NOW + timedelta(minutes=10))).swept
        assert len(gitlab.state.calls_to(r"/groups/acme/hooks$")) == 2


async def test_a_disabled_hook_is_in_health_and_told_once_in_slack_until_it_changes(database):
    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        hook = gitlab.state.add_hook("group", GROUP, url="https://bot.example/webhooks/gitlab")
        gitlab.state.add_hook("group", GROUP, url="https://ci-dashboard.example/hook", pipeline_events=True)
        overrides = sweep_settings(
            gitlab, SLACK_CHANNEL_MAP=f"acme/platform={CHANNEL}", SLACK_ALERT_CHANNEL="C0OPS00001"
        )
        async with running_app(database, **overrides) as (services, client, base):
            services.use_gitlab(GitLabClient(services.http, gitlab.url, DEFAULT_TOKEN, timeout=5))
            slack = services.slack = RecordingSlack()
            when = NOW

            async def sweep_and_health() -> dict:
                nonlocal when
                assert (await reconcile.sweep_once(services, now=when)).swept
                when += timedelta(minutes=10)
                async with client.get(base + "/health/detailed") as resp:
                    return await resp.json()

            report = await sweep_and_health()
            assert report["reconcile"]["hooks"][0]["status"] == "executable" and report["status"] == "ok"
            assert len(report["reconcile"]["hooks"]) == 1, "only the hook pointing at the bot"
            assert slack.of("post_notice") == []

            hook["alert_status"], hook["disabled_until"] = "temporarily_disabled", "2026-01-10T13:00:00.000Z"
            report = await sweep_and_health()
            assert report["status"] == "degraded" and report["reconcile"]["hooks_broken"] == [f"group:{GROUP}"]
            seen = report["reconcile"]["hooks"][0]
            assert seen["status"] == "temporarily_disabled" and seen["disabled_until"].startswith("2026-01-10T13:00")
            assert "url" not in seen, "a hook URL may carry a secret; /health/detailed is public"
            told = slack.of("post_notice")
            assert sorted(channel for channel, _ in told) == sorted([CHANNEL, "C0OPS00001"])
            assert "GitLab has stopped delivering the webhook" in told[0][1] and "`acme`" in told[0][1]

            await sweep_and_health()
            await sweep_and_health()
            assert len(slack.of("post_notice")) == 2, "not again while nothing changes"

            hook["alert_status"], hook["disabled_until"] = "disabled", None
            await sweep_and_health()
            assert len(slack.of("post_notice")) == 4 and "disabled it" in slack.of("post_notice")[-1][1]

            hook["alert_status"] = "executable"
            report = await sweep_and_health()
            assert report["status"] == "ok" and "delivers to cicd-bot again" in slack.of("post_notice")[-1][1]
            await sweep_and_health()
            assert len(slack.of("post_notice")) == 6


async def test_a_scope_without_a_hook_or_whose_hooks_cannot_be_read_is_said_in_health_only(database):
    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        gitlab.state.add_fault(r"/projects/.*/hooks$", 403, times=5)
        overrides = sweep_settings(gitlab, GITLAB_PROJECTS=PROJECT_PATH, SLACK_ALERT_CHANNEL=CHANNEL)
        async with running_app(database, **overrides) as (services, client, base):
            services.use_gitlab(GitLabClient(services.http, gitlab.url, DEFAULT_TOKEN, timeout=5))
            slack = services.slack = RecordingSlack()
            assert (await reconcile.sweep_once(services, now=NOW)).swept
            async with client.get(base + "/health/detailed") as resp:
                report = await resp.json()
        hooks = {h["scope"]: h for h in report["reconcile"]["hooks"]}
        assert hooks[f"group:{GROUP}"]["status"] == "missing"
        assert (
            hooks[f"project:{PROJECT_PATH}"]["status"] == "unreadable"
            and "403" in hooks[f"project:{PROJECT_PATH}"]["detail"]
        )
        assert report["status"] == "ok" and slack.of("post_notice") == []


async def test_without_groups_or_projects_the_sweep_is_off_with_one_clear_line(database, caplog):
    caplog.set_level(logging.INFO, logger="handlers.reconcile")
    services = Services.build(make_settings(GITLAB_API_TOKEN=DEFAULT_TOKEN), db=database)
    reconciler = reconcile.start_reconciler(services)
    assert reconciler.scheduler is None
    lines = [r.getMessage() for r in caplog.records if r.name == "handlers.reconcile"]
    assert len(lines) == 1 and "GITLAB_GROUPS and GITLAB_PROJECTS are empty" in lines[0]
    await reconciler.stop()
    report = await reconcile.health(services)
    assert report == {"enabled": False, "interval_seconds": 600, "help": lines[0]}


async def test_the_scheduler_sweeps_and_stops(database):
    async with FakeGitLab() as gitlab:
        seed_group(gitlab.state)
        async with sweeper(database, gitlab) as services:
            reconciler = reconcile.start_reconciler(services, first_run=lambda: datetime.now(UTC))
            try:
                for _ in range(500):
                    if gitlab.state.calls_to(r"/pipelines$"):
                        break
                    await asyncio.sleep(0.02)
                assert gitlab.state.calls_to(r"/pipelines$"), "the first sweep ran"
            finally:
                await reconciler.stop()
            assert not reconciler.scheduler.running
