"""Slack test kit: signed requests as Slack sends them, a sample report, and the real app with a fake Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from bot.core.types import AnalysisResult, Category, JobReport, PipelineReport, Verdict
from bot.jobs import registry
from bot.jobs.analyze_pipeline import KIND as ANALYZE_PIPELINE
from bot.runtime.services import Services
from bot.runtime.worker import Worker
from tests.fakes.ports import InProcessGitLab
from tests.fakes.slack_server import FakeSlack
from tests.helpers import make_settings

GITLAB = "https://gitlab.example.com"


CHANNEL = "C0ALLOWED1"


OTHER_CHANNEL = "C0OTHER001"


TEAM = "T0FAKE0001"


APP_ID = "A0CICDBOT1"


def signing_secret() -> str:
    return "s3cret-" + "x" * 25


def sign(body: str, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
    """Slack's v0 request signature, computed here rather than with Bolt's own helper."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new((secret or signing_secret()).encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(
    text: str,
    *,
    trigger: str = "trig-1",
    channel: str = CHANNEL,
    user: str = "U0HUMAN001",
    team: str = TEAM,
    response_url: str = "",
    app_id: str = APP_ID,
) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "ci",
            "user_id": user,
            "user_name": "dev",
            "command": "/cicd",
            "text": text,
            "api_app_id": app_id,
            "response_url": response_url,
            "trigger_id": trigger,
        }
    )


def event_body(event: dict, *, event_id: str = "Ev0001", team: str = TEAM) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": "U0BOT00001", "is_bot": True}],
        }
    )


def action_body(
    action_id: str,
    value: dict,
    *,
    trigger: str = "trig-a1",
    channel: str = CHANNEL,
    user: str = "U0HUMAN001",
    message_ts: str = "1.000001",
    response_url: str = "",
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user},
        "api_app_id": APP_ID,
        "trigger_id": trigger,
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "message": {"ts": message_ts, "thread_ts": message_ts, "text": "x"},
        "response_url": response_url,
        "actions": [
            {"action_id": action_id, "block_id": "b", "type": "button", "value": json.dumps(value), "action_ts": "1"}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def sample_report(
    pipeline_id: int = 42,
    *,
    project_id: int = 7,
    mr_iid: int | None = 3,
    verdict: Verdict = Verdict.caused_by_change,
    with_result: bool = True,
) -> PipelineReport:
    result = (
        AnalysisResult(
            summary="assert 1 == 2 in test_math",
            category=Category.test,
            verdict=verdict,
            root_cause="The change broke add().",
            confidence=0.8,
            fix_steps=["Fix add()"],
            provider="heuristic",
        )
        if with_result
        else None
    )
    return PipelineReport(
        project_path="group/app",
        project_web_url=f"{GITLAB}/group/app",
        project_id=project_id,
        pipeline_id=pipeline_id,
        pipeline_url=f"{GITLAB}/group/app/-/pipelines/{pipeline_id}",
        ref="feature",
        sha="abc123",
        status="failed" if with_result else "analysing",
        mr_iid=mr_iid,
        mr_url=f"{GITLAB}/group/app/-/merge_requests/{mr_iid}" if mr_iid else "",
        mr_title="Add maths",
        author="dev",
        analysis_id=None,
        jobs=[
            JobReport(job_id=100, name="unit", stage="test", web_url=f"{GITLAB}/group/app/-/jobs/100", result=result)
        ],
    )


@dataclass
class Harness:
    services: Services
    slack: FakeSlack
    client: aiohttp.ClientSession
    url: str
    analyses: list[dict] = field(default_factory=list)

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **sign(body, timestamp), **(headers or {})}
        async with self.client.post(self.url + "/slack/events", data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
            return resp.status, text

    async def command(self, text: str, **kw: Any) -> tuple[int, str]:
        status, body = await self.post(command_body(text, **kw))
        return status, (json.loads(body).get("text", "") if body.startswith("{") else body)

    async def event(self, event: dict, **kw: Any) -> tuple[int, str]:
        headers = kw.pop("headers", None)
        return await self.post(event_body(event, **kw), content_type="application/json", headers=headers)

    async def jobs(self, kind: str | None = None) -> list:
        import sqlalchemy as sa

        from storage.models import QueueJob

        async with self.services.db.session() as s:
            q = sa.select(QueueJob).order_by(QueueJob.id)
            if kind:
                q = q.where(QueueJob.kind == kind)
            return list((await s.execute(q)).scalars())

    async def settle(self, timeout: float = 10) -> None:
        """Wait until no job is queued or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = await self.services.queue.counts()
            if counts["queued"] == 0 and counts["running"] == 0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"queue did not settle: {await self.services.queue.counts()}")


@asynccontextmanager
async def slack_harness(db, *, worker: bool = True, **overrides: Any):
    """The real app with POST /slack/events on loopback, a fake Slack, and (optionally) a worker running
    the Slack jobs plus a stand-in analyze_pipeline that publishes a canned report through the SlackPublisher."""
    from app import create_app

    async with FakeSlack() as slack:
        settings = make_settings(
            **{
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_SIGNING_SECRET": signing_secret(),
                "SLACK_API_URL": slack.url,
                "SLACK_CHANNEL_MAP": f"group/*={CHANNEL}",
                "GITLAB_BASE_URL": GITLAB,
                "QUEUE_BACKOFF_BASE_SECONDS": 0.05,
                **overrides,
            }
        )
        services = Services.build(settings, db=db)
        await services.start()
        services.use_gitlab(InProcessGitLab.with_project())
        services.use_slack()
        app = create_app(services)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        analyses: list[dict] = []

        async def stand_in_analysis(svc, job) -> None:
            analyses.append(job.payload)
            report = sample_report(int(job.payload.get("pipeline_id") or 42), with_result=False)
            await svc.slack.start(report, job.payload.get("slack"))
            done = sample_report(int(job.payload.get("pipeline_id") or 42))
            await svc.slack.finish(done, job.payload.get("slack"))

        task = runner = None
        if worker:
            runner = Worker(
                services,
                {**registry.HANDLERS, ANALYZE_PIPELINE: stand_in_analysis},
                concurrency=4,
                poll_seconds=0.05,
                grace_seconds=2,
            )
            services.wakers.append(runner.wake)
            task = asyncio.create_task(runner.run())
        try:
            async with aiohttp.ClientSession() as client:
                yield Harness(services, slack, client, str(server.make_url("")).rstrip("/"), analyses)
        finally:
            if runner is not None:
                runner.stop()
                await task
            await server.close()
            await services.http.close()
            services.http = None


def thread_event(text: str, ts: str, thread_ts: str, *, user: str = "U0HUMAN001", **extra) -> dict:
    return {
        "type": "message",
        "channel": CHANNEL,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
        **extra,
    }
