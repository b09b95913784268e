"""The Slack door through a real server: signatures, commands acked fast with the work queued, events, buttons."""
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

from bot.jobs import registry, slack_command, slack_followup
from bot.runtime.services import Services
from bot.clients.slack import SlackPublisher
from bot.core.types import AnalysisResult, Category, JobReport, PipelineReport, Verdict
from bot.runtime.worker import Worker
from bot.jobs.analyze_pipeline import KIND as ANALYZE_PIPELINE
from handlers import slack as slack_door
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


def command_body(text: str, *, trigger: str = "trig-1", channel: str = CHANNEL, user: str = "U0HUMAN001",
                 team: str = TEAM, response_url: str = "", app_id: str = APP_ID) -> str:
    return urlencode({
        "token": "unused", "team_id": team, "team_domain": "fake", "channel_id": channel, "channel_name": "ci",
        "user_id": user, "user_name": "dev", "command": "/cicd", "text": text, "api_app_id": app_id,
        "response_url": response_url, "trigger_id": trigger,
    })


def event_body(event: dict, *, event_id: str = "Ev0001", team: str = TEAM) -> str:
    return json.dumps({"token": "unused", "team_id": team, "api_app_id": APP_ID, "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": team, "user_id": "U0BOT00001", "is_bot": True}]})


def action_body(action_id: str, value: dict, *, trigger: str = "trig-a1", channel: str = CHANNEL,
                user: str = "U0HUMAN001", message_ts: str = "1.000001", response_url: str = "") -> str:
    payload = {"type": "block_actions", "team": {"id": TEAM, "domain": "fake"}, "user": {"id": user},
               "api_app_id": APP_ID, "trigger_id": trigger, "channel": {"id": channel},
               "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
               "message": {"ts": message_ts, "thread_ts": message_ts, "text": "x"}, "response_url": response_url,
               "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": json.dumps(value),
                            "action_ts": "1"}]}
    return urlencode({"payload": json.dumps(payload)})


def sample_report(pipeline_id: int = 42, *, project_id: int = 7, mr_iid: int | None = 3,
                  verdict: Verdict = Verdict.caused_by_change, with_result: bool = True) -> PipelineReport:
    result = AnalysisResult(summary="assert 1 == 2 in test_math", category=Category.test, verdict=verdict,
                            root_cause="The change broke add().", confidence=0.8, fix_steps=["Fix add()"],
                            provider="heuristic") if with_result else None
    return PipelineReport(
        project_path="group/app", project_web_url=f"{GITLAB}/group/app", project_id=project_id,
        pipeline_id=pipeline_id, pipeline_url=f"{GITLAB}/group/app/-/pipelines/{pipeline_id}",
        ref="feature", sha="abc123", status="failed" if with_result else "analysing", mr_iid=mr_iid,
        mr_url=f"{GITLAB}/group/app/-/merge_requests/{mr_iid}" if mr_iid else "", mr_title="Add maths",
        author="dev", analysis_id=None,
        jobs=[JobReport(job_id=100, name="unit", stage="test", web_url=f"{GITLAB}/group/app/-/jobs/100",
                        result=result)])


class RecordingGitLab:
    """Stands in for the GitLab client and remembers every call, so tests can say 'GitLab was not asked'."""

    def __init__(self, access: dict[int, int] | None = None, visibility: str = "private"):
        self.calls: list[tuple[str, tuple]] = []
        self.access = access or {}
        self.visibility = visibility

    async def get_member_access_level(self, project, user_id):
        self.calls.append(("get_member_access_level", (project, user_id)))
        return self.access.get(user_id, 0)

    async def get_project(self, project):
        self.calls.append(("get_project", (project,)))
        return {"id": 7, "path_with_namespace": "group/app", "visibility": self.visibility}

    async def get_job(self, project, job_id):
        self.calls.append(("get_job", (project, job_id)))
        return {"id": job_id, "pipeline": {"id": 42}}


@dataclass
class Harness:
    services: Services
    slack: FakeSlack
    client: aiohttp.ClientSession
    url: str
    analyses: list[dict] = field(default_factory=list)

    async def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
                   headers: dict | None = None, timestamp: int | None = None) -> tuple[int, str]:
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
        settings = make_settings(**{
            "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": signing_secret(), "SLACK_API_URL": slack.url,
            "SLACK_CHANNEL_MAP": f"group/*={CHANNEL}", "GITLAB_BASE_URL": GITLAB, "QUEUE_BACKOFF_BASE_SECONDS": 0.05,
            **overrides})
        services = Services.build(settings, db=db)
        await services.start()
        services.use_gitlab(RecordingGitLab())
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
            runner = Worker(services, {**registry.HANDLERS, ANALYZE_PIPELINE: stand_in_analysis}, concurrency=4,
                            poll_seconds=0.05, grace_seconds=2)
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


# --- the tests ------------------------------------------------------------------------------

import sqlalchemy as sa  # noqa: E402

from bot.core import messages as m  # noqa: E402
from bot.core import slack_commands as texts  # noqa: E402
from storage.models import Analysis, ChannelSubscription, ReceivedEvent  # noqa: E402


async def inbox_rows(h: Harness) -> list:
    async with h.services.db.session() as s:
        return list((await s.execute(sa.select(ReceivedEvent))).scalars())


async def test_bad_signature_is_refused_and_nothing_recorded(database):
    async with slack_harness(database, worker=False) as h:
        body = command_body("explain group/app#42")
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="wrong-secret")}
        async with h.client.post(h.url + "/slack/events", data=body, headers=headers) as resp:
            assert resp.status == 401
        async with h.client.post(h.url + "/slack/events", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
            assert resp.status == 401
        assert await inbox_rows(h) == [] and await h.jobs() == []


async def test_stale_timestamp_is_refused(database):
    async with slack_harness(database, worker=False) as h:
        status, _ = await h.post(command_body("explain group/app#42"), timestamp=int(time.time()) - 6 * 60)
        assert status == 401
        assert await h.jobs() == []


async def test_explain_is_acked_and_the_analysis_runs_through_the_queue(database):
    async with slack_harness(database) as h:
        status, text = await h.command("explain group/app#42", response_url=h.slack.response_url())
        assert status == 200
        assert text == ("Got it: analysing pipeline #42 of group/app. The answer will appear in this channel.")
        await h.settle()
        assert len(h.analyses) == 1
        payload = h.analyses[0]
        assert {k: payload[k] for k in ("project_id", "pipeline_id", "trigger", "provider_hint", "force")} == {
            "project_id": "group/app", "pipeline_id": 42, "trigger": "slack", "provider_hint": "", "force": False}
        assert payload["slack"]["channel"] == CHANNEL and payload["slack"]["user"] == "U0HUMAN001"
        # the parent went to the asking channel, analysing first and then updated in place; details in its thread
        parents = h.slack.top_level(CHANNEL)
        assert len(parents) == 1 and parents[0].updates == 1
        assert parents[0].text.startswith("❌ Pipeline #42 failed")
        thread = h.slack.thread(CHANNEL, parents[0].ts)
        assert len(thread) == 1 and "Analysis of pipeline #42 in group/app" in thread[0].text
        posted = h.slack.calls_of("chat.postMessage")[0].args
        assert posted["unfurl_links"] is False and posted["unfurl_media"] is False


async def test_reanalyze_with_provider_and_job_url_and_mr_url(database):
    async with slack_harness(database) as h:
        await h.command("reanalyze group/app#42 heuristic", trigger="t1")
        await h.command(f"explain {GITLAB}/group/app/-/jobs/100", trigger="t2")
        await h.command(f"explain {GITLAB}/group/app/-/merge_requests/3", trigger="t3")
        await h.settle()
        by_kind = sorted(h.analyses, key=lambda p: (p.get("mr_iid") or 0, len(p.get("job_ids") or [])))
        assert by_kind[0]["force"] is True and by_kind[0]["provider_hint"] == "heuristic"
        assert by_kind[1]["job_ids"] == [100] and by_kind[1]["pipeline_id"] == 42
        assert by_kind[2]["mr_iid"] == 3 and "pipeline_id" not in by_kind[2]
        # one pipeline, one channel: still one parent whoever asked how
        assert len(h.slack.top_level(CHANNEL)) == 1


async def test_thirty_concurrent_commands_are_all_acked_with_no_worker_running(database):
    # No worker runs: every ack comes from the door alone, whatever the work behind it costs.
    async with slack_harness(database, worker=False) as h:
        results = await asyncio.gather(*(h.command(f"explain group/app#{100 + i}", trigger=f"trig-{i}")
                                         for i in range(30)))
        assert all(status == 200 and "Got it" in text for status, text in results)
        assert len(await h.jobs(slack_command.KIND)) == 30


async def test_project_outside_the_channel_mapping_is_refused_before_anything_is_fetched(database):
    async with slack_harness(database) as h:
        status, text = await h.command("explain secret/vault#9")
        assert status == 200
        assert text == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="secret/vault")
        status, text = await h.command("explain group/app#9", channel=OTHER_CHANNEL)
        assert text == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="group/app")
        await h.settle()
        assert await h.jobs() == [] and h.services.gitlab.calls == [] and h.analyses == []


async def test_unknown_workspace_and_app_are_refused(database):
    async with slack_harness(database, worker=False, SLACK_ALLOWED_TEAM_IDS=TEAM, SLACK_APP_ID=APP_ID) as h:
        status, text = await h.command("explain group/app#1", team="T0STRANGER")
        assert (status, text) == (200, m.REFUSAL_UNKNOWN_WORKSPACE)
        status, text = await h.command("explain group/app#1", app_id="A0OTHERAPP")
        assert text == m.REFUSAL_UNKNOWN_WORKSPACE
        status, _ = await h.event({"type": "message", "channel": CHANNEL, "user": "U1", "text": "hi",
                                      "ts": "2.0", "thread_ts": "1.0"}, team="T0STRANGER")
        assert status == 403
        assert await h.jobs() == []


async def test_bad_input_gets_usage_not_a_stack_trace(database):
    async with slack_harness(database, worker=False) as h:
        _, text = await h.command("explain")
        assert text == texts.USAGE["explain"].replace("<", "&lt;").replace(">", "&gt;")
        _, text = await h.command("")
        assert text.startswith("*cicd-bot* explains failed GitLab pipelines.")
        _, text = await h.command("provider gpt9")
        assert "I don't know the provider 'gpt9'" in text


async def test_provider_subscribe_history_status_and_link_commands(database):
    async with slack_harness(database, worker=False, SLACK_CHANNEL_MAP=f"group/*={CHANNEL},public/*=*") as h:
        _, text = await h.command("provider")
        assert text == "This channel uses offline rules (the bot's default). Configured: heuristic."
        _, text = await h.command("provider heuristic")
        assert text == "This channel now prefers offline rules."
        _, text = await h.command("provider")
        assert text.startswith("This channel uses offline rules. ")

        _, text = await h.command("subscribe secret/*", channel=OTHER_CHANNEL)
        assert text.startswith("Subscribing to `secret/*` is not allowed here.")
        _, text = await h.command("subscribe public/docs", channel=OTHER_CHANNEL)
        assert text == "This channel now gets failures of `public/docs`."
        _, text = await h.command("subscribe public/docs", channel=OTHER_CHANNEL)
        assert text == "This channel already gets failures of `public/docs`."
        # the subscription makes public/docs explainable there, and nothing else
        _, text = await h.command("explain public/docs#5", channel=OTHER_CHANNEL, trigger="s1")
        assert text.startswith("Got it: analysing pipeline #5 of public/docs")
        _, text = await h.command("explain public/other#5", channel=OTHER_CHANNEL, trigger="s2")
        assert text == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="public/other")

        async with h.services.db.session() as s:
            s.add(Analysis(project_id=7, project_path="group/app", pipeline_id=42, job_id=None, verdict="flaky",
                           summary="Timeout talking to db", provider="heuristic"))
            s.add(Analysis(project_id=8, project_path="secret/vault", pipeline_id=9, verdict="caused_by_change",
                           summary="leaky", provider="heuristic"))
        _, text = await h.command("history")
        assert text == "*Recent failures*\n• group/app #42 · pipeline · *flaky, retry*: Timeout talking to db"
        _, text = await h.command("history secret/vault")
        assert text == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="secret/vault")

        _, text = await h.command("status")
        assert "queue: 1 waiting, 0 running, 0 done, 0 dead letters" in text
        assert "spent today: $0.0000 in 0 model calls" in text

        _, text = await h.command("unsubscribe public/docs", channel=OTHER_CHANNEL)
        assert text == "This channel no longer gets failures of `public/docs`."
        async with h.services.db.session() as s:
            assert (await s.execute(sa.select(ChannelSubscription))).scalars().all() == []

        _, text = await h.command("link")
        assert "post this as a comment on any merge request within 60 minutes" in text
        assert "@⁠cicd-bot link cicd-" in text or "@cicd-bot link cicd-" in text


def thread_event(text: str, ts: str, thread_ts: str, *, user: str = "U0HUMAN001", **extra) -> dict:
    return {"type": "message", "channel": CHANNEL, "user": user, "text": text, "ts": ts, "thread_ts": thread_ts,
            "channel_type": "channel", **extra}


class MemoryRouter:
    """Stands in for the model: answers with how many earlier turns it was shown, and the latest question."""

    def __init__(self):
        self.seen: list[list[str]] = []

    async def answer(self, conversation, provider_hint: str = "", preference: str = ""):
        from bot.core.types import Reply

        self.seen.append([msg.content for msg in conversation.history])
        return Reply(text=f"turn {len(conversation.history) // 2 + 1}: you asked {conversation.question!r}",
                     provider="heuristic")


async def test_follow_up_questions_over_three_turns_remember_the_conversation(database):
    async with slack_harness(database) as h:
        h.services.router = MemoryRouter()
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]
        questions = ["why did unit fail?", "is it flaky?", "@channel what should I change?"]
        for i, question in enumerate(questions, 1):
            status, _ = await h.event(thread_event(question, f"{parent.ts}{i}", parent.ts), event_id=f"Ev{i}")
            assert status == 200
            await h.settle()
        replies = [msg for msg in h.slack.thread(CHANNEL, parent.ts) if msg.text.startswith("turn")]
        assert [r.text.split(":")[0] for r in replies] == ["turn 1", "turn 2", "turn 3"]
        assert h.services.router.seen[2][0] == "why did unit fail?"
        assert {(CHANNEL, f"{parent.ts}{i}", "eyes") for i in (1, 2, 3)} <= h.slack.reactions
        assert h.services.router.seen[2][2] == "is it flaky?"
        # a ping in the question is not a ping in the answer
        assert "<!channel>" not in replies[2].text and "@channel" not in replies[2].text


async def test_a_slack_retry_of_the_same_event_is_processed_once(database):
    async with slack_harness(database) as h:
        h.services.router = MemoryRouter()
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]
        event = thread_event("why?", "9.000001", parent.ts)
        assert (await h.event(event, event_id="EvSame"))[0] == 200
        assert (await h.event(event, event_id="EvSame", headers={"X-Slack-Retry-Num": "1",
                                                                  "X-Slack-Retry-Reason": "http_timeout"}))[0] == 200
        # the same reply also arrives as an app_mention with its own event id: still one job
        mention = {**event, "type": "app_mention", "text": "<@U0BOT00001> why?"}
        assert (await h.event(mention, event_id="EvMention"))[0] == 200
        await h.settle()
        assert len(await h.jobs(slack_followup.KIND)) == 1
        assert len(h.services.router.seen) == 1
        assert len([m_ for m_ in h.slack.thread(CHANNEL, parent.ts) if m_.text.startswith("turn")]) == 1


async def test_questions_outside_bot_threads_and_bot_messages_are_ignored(database):
    async with slack_harness(database) as h:
        h.services.router = MemoryRouter()
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]
        await h.event(thread_event("why?", "5.000002", "5.000001"), event_id="E1")  # someone else's thread
        await h.event({**thread_event("hello", "5.000003", "5.000003")}, event_id="E2")  # not a reply
        await h.event(thread_event("bot says", "5.000004", parent.ts, bot_id="B0OTHER"), event_id="E3")
        await h.event(thread_event("bot says", "5.000005", parent.ts, subtype="bot_message"), event_id="E4")
        await h.event(thread_event("me", "5.000006", parent.ts, user="U0BOT00001"), event_id="E5")
        await h.event(thread_event("edited", "5.000007", parent.ts, subtype="message_changed"), event_id="E6")
        await h.settle()
        assert await h.jobs() == [] and h.services.router.seen == []


async def test_feedback_buttons_count_once_per_user_and_reanalyze_button_queues(database):
    async with slack_harness(database) as h:
        async with h.services.db.session() as s:
            row = Analysis(project_id=7, project_path="group/app", pipeline_id=42, provider="heuristic")
            s.add(row)
            await s.flush()
            analysis_id = row.id
        value = {"analysis_id": analysis_id, "project": "group/app", "pipeline": 42}
        for trigger in ("a1", "a2"):  # a double click
            status, _ = await h.post(action_body("feedback_up", value, trigger=trigger,
                                                          response_url=h.slack.response_url()))
            assert status == 200
        await h.post(action_body("feedback_down", value, trigger="a3", user="U0SOMEONE1"))
        await h.post(action_body("reanalyze_with:openai", value, trigger="a4"))
        await h.post(action_body("reanalyze", {**value, "project": "secret/vault"}, trigger="a5",
                                 response_url=h.slack.response_url("r5")))
        await h.settle()
        async with h.services.db.session() as s:
            row = await s.get(Analysis, analysis_id)
        assert (row.feedback_up, row.feedback_down) == (1, 1)
        assert {"response_type": "ephemeral", "replace_original": False, "text": m.ACK_FEEDBACK} in h.slack.responses
        assert [p["provider_hint"] for p in h.analyses] == ["openai"] and h.analyses[0]["force"] is True
        # the click had no response_url, so the "analysing again" note went out as an ephemeral message
        assert ("U0HUMAN001", "Analysing again with OpenAI…") in [
            (c.args["user"], c.args["text"]) for c in h.slack.calls_of("chat.postEphemeral")]
        assert any(r["text"] == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="secret/vault") for r in h.slack.responses)


async def test_require_gitlab_link_refuses_unlinked_users_and_checks_access(database):
    from bot.clients.slack import complete_link, start_link

    async with slack_harness(database, SLACK_REQUIRE_GITLAB_LINK=True) as h:
        h.services.gitlab.access = {501: 30, 502: 20}
        await h.command("explain group/app#42", trigger="l1", response_url=h.slack.response_url())
        await h.settle()
        assert h.analyses == [] and h.slack.responses[-1]["text"] == texts.REFUSAL_NOT_LINKED.replace("`", "`")

        code = await start_link(h.services.db, TEAM, "U0HUMAN001")
        assert await complete_link(h.services.db, "cicd-wrong", 501, "dev") is None
        assert await complete_link(h.services.db, code, 501, "dev") == "U0HUMAN001"
        assert await complete_link(h.services.db, code, 501, "dev") is None  # one-time
        await h.command("explain group/app#42", trigger="l2")
        await h.settle()
        assert len(h.analyses) == 1

        code = await start_link(h.services.db, TEAM, "U0REPORTER")
        await complete_link(h.services.db, code, 502, "rep")
        await h.command("explain group/app#43", trigger="l3", user="U0REPORTER", response_url=h.slack.response_url())
        await h.settle()
        assert len(h.analyses) == 1
        assert h.slack.responses[-1]["text"] == texts.REFUSAL_NO_ACCESS.format(username="rep", project="group/app")


async def test_a_mention_with_a_command_asks_the_bot_into_that_thread(database):
    async with slack_harness(database) as h:
        h.services.router = MemoryRouter()
        # someone's message, and a thread under it where the bot is asked to explain
        root = (await h.services.slack.client.chat_postMessage(channel=CHANNEL, text="CI is red again"))["ts"]
        mention = {"type": "app_mention", "channel": CHANNEL, "user": "U0HUMAN001", "ts": f"{root}9",
                   "thread_ts": root, "text": "<@U0BOT00001> explain group/app#42"}
        assert (await h.event(mention, event_id="EvM1"))[0] == 200
        await h.settle()
        assert len(h.analyses) == 1 and h.analyses[0]["slack"]["thread_ts"] == root
        in_thread = h.slack.thread(CHANNEL, root)
        assert [msg.text.split(":")[0] for msg in in_thread] == ["❌ Pipeline #42 failed", "Analysis of pipeline #42 in group/app"]
        # the bot was asked into this thread, so it answers questions there now
        await h.event(thread_event("why?", f"{root}99", root), event_id="EvM2")
        await h.settle()
        assert h.slack.thread(CHANNEL, root)[-1].text == "turn 1: you asked 'why?'"
        # a mention that is not a command, outside a bot thread, is left alone
        await h.event({**mention, "ts": "7.1", "thread_ts": "7.0", "text": "<@U0BOT00001> hello"}, event_id="EvM3")
        await h.settle()
        assert len(await h.jobs(slack_command.KIND)) == 1


async def test_when_the_database_is_down_slack_is_told_to_retry(database, monkeypatch):
    async with slack_harness(database, worker=False) as h:
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]

        async def broken(*args, **kwargs):
            raise ConnectionError("database unreachable")

        monkeypatch.setattr(slack_door, "record_event", broken)
        status, _ = await h.event(thread_event("why?", "8.1", parent.ts), event_id="EvDown")
        assert status == 500
        _, text = await h.command("explain group/app#42")
        assert text == slack_door.GENERIC_ERROR


async def test_url_verification_is_answered_even_with_a_workspace_allow_list(database):
    async with slack_harness(database, worker=False, SLACK_ALLOWED_TEAM_IDS=TEAM) as h:
        body = json.dumps({"token": "unused", "challenge": "c-123", "type": "url_verification"})
        status, text = await h.post(body, content_type="application/json")
        assert status == 200 and json.loads(text) == {"challenge": "c-123"}


async def test_a_follow_up_that_keeps_failing_is_answered_with_the_reason_on_the_last_attempt(database, monkeypatch):
    from bot.jobs import conversation

    async with slack_harness(database, QUEUE_MAX_ATTEMPTS=2) as h:
        calls = []

        async def failing(*args, **kwargs):
            calls.append(kwargs["question"])
            raise TimeoutError("the model did not answer in time")

        monkeypatch.setattr(conversation, "answer_question", failing)
        await h.services.slack.start(sample_report(with_result=False))
        parent = h.slack.top_level(CHANNEL)[0]
        await h.event(thread_event("why?", "8.2", parent.ts), event_id="EvFail")
        await h.settle()
        assert calls == ["why?", "why?"]
        assert h.slack.thread(CHANNEL, parent.ts)[-1].text == "Sorry, I could not answer that: the model did not answer in time"
