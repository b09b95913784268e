"""The Slack door through a real server: signatures, commands acked fast with the work queued, events, buttons."""

from __future__ import annotations

import asyncio
import json
import time

# --- the tests ------------------------------------------------------------------------------
import sqlalchemy as sa

from bot.core import messages as m
from bot.core import slack_commands as texts
from bot.jobs import slack_command, slack_followup
from handlers import slack as slack_door
from storage.models import Analysis, ChannelSubscription, ReceivedEvent
from tests.fakes.ports import MemoryRouter
from tests.slack_kit import (
    APP_ID,
    CHANNEL,
    GITLAB,
    OTHER_CHANNEL,
    TEAM,
    Harness,
    action_body,
    command_body,
    sample_report,
    sign,
    slack_harness,
    thread_event,
)


async def inbox_rows(h: Harness) -> list:
    async with h.services.db.session() as s:
        return list((await s.execute(sa.select(ReceivedEvent))).scalars())


async def test_bad_signature_is_refused_and_nothing_recorded(database):
    async with slack_harness(database, worker=False) as h:
        body = command_body("explain group/app#42")
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="wrong-secret")}
        async with h.client.post(h.url + "/slack/events", data=body, headers=headers) as resp:
            assert resp.status == 401
        async with h.client.post(
            h.url + "/slack/events", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ) as resp:
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
            "project_id": "group/app",
            "pipeline_id": 42,
            "trigger": "slack",
            "provider_hint": "",
            "force": False,
        }
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
        results = await asyncio.gather(
            *(h.command(f"explain group/app#{100 + i}", trigger=f"trig-{i}") for i in range(30))
        )
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
        status, _ = await h.event(
            {"type": "message", "channel": CHANNEL, "user": "U1", "text": "hi", "ts": "2.0", "thread_ts": "1.0"},
            team="T0STRANGER",
        )
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
            s.add(
                Analysis(
                    project_id=7,
                    project_path="group/app",
                    pipeline_id=42,
                    job_id=None,
                    verdict="flaky",
                    summary="Timeout talking to db",
                    provider="heuristic",
                )
            )
            s.add(
                Analysis(
                    project_id=8,
                    project_path="secret/vault",
                    pipeline_id=9,
                    verdict="caused_by_change",
                    summary="leaky",
                    provider="heuristic",
                )
            )
        _, text = await h.command("history")
        assert text == "*Recent failures*\n• group/app #42 · pipeline · *flaky, retry*: Timeout talking to db"
        _, text = await h.command("history secret/vault")
        assert text == m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project="secret/vault")

        # the waiting explain is public/docs's: counted where public/docs is seen, and only there
        _, text = await h.command("status", channel=OTHER_CHANNEL)
        assert "queue: 1 waiting, 0 running, 0 dead letters" in text
        _, text = await h.command("status")
        assert "queue: 0 waiting, 0 running, 0 dead letters" in text
        assert "spent today: $0.0000 in 0 model calls" in text

        _, text = await h.command("unsubscribe public/docs", channel=OTHER_CHANNEL)
        assert text == "This channel no longer gets failures of `public/docs`."
        async with h.services.db.session() as s:
            assert (await s.execute(sa.select(ChannelSubscription))).scalars().all() == []

        _, text = await h.command("link")
        assert "post this as a comment on any merge request within 60 minutes" in text
        assert "@⁠cicd-bot link cicd-" in text or "@cicd-bot link cicd-" in text


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
        assert (
            await h.event(
                event, event_id="EvSame", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            )
        )[0] == 200
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
            status, _ = await h.post(
                action_body("feedback_up", value, trigger=trigger, response_url=h.slack.response_url())
            )
            assert status == 200
        await h.post(action_body("feedback_down", value, trigger="a3", user="U0SOMEONE1"))
        await h.post(action_body("reanalyze_with:openai", value, trigger="a4"))
        await h.post(
            action_body(
                "reanalyze", {**value, "project": "secret/vault"}, trigger="a5", response_url=h.slack.response_url("r5")
            )
        )
        await h.settle()
        # the same vote again after the first one's job has finished (no queued job left to dedupe against)
        await h.post(action_body("feedback_up", value, trigger="a6"))
        await h.settle()
        async with h.services.db.session() as s:
            row = await s.get(Analysis, analysis_id)
        assert (row.feedback_up, row.feedback_down) == (1, 1)
        assert {"response_type": "ephemeral", "replace_original": False, "text": m.ACK_FEEDBACK} in h.slack.responses
        assert [p["provider_hint"] for p in h.analyses] == ["openai"] and h.analyses[0]["force"] is True
        # the click had no response_url, so the "analysing again" note went out as an ephemeral message
        assert ("U0HUMAN001", "Analysing again with OpenAI…") in [
            (c.args["user"], c.args["text"]) for c in h.slack.calls_of("chat.postEphemeral")
        ]
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
        mention = {
            "type": "app_mention",
            "channel": CHANNEL,
            "user": "U0HUMAN001",
            "ts": f"{root}9",
            "thread_ts": root,
            "text": "<@U0BOT00001> explain group/app#42",
        }
        assert (await h.event(mention, event_id="EvM1"))[0] == 200
        await h.settle()
        assert len(h.analyses) == 1 and h.analyses[0]["slack"]["thread_ts"] == root
        in_thread = h.slack.thread(CHANNEL, root)
        assert [msg.text.split(":")[0] for msg in in_thread] == [
            "❌ Pipeline #42 failed",
            "Analysis of pipeline #42 in group/app",
        ]
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
        assert (
            h.slack.thread(CHANNEL, parent.ts)[-1].text
            == "Sorry, I could not answer that: the model did not answer in time"
        )
