"""POST /slack/events: the Bolt app for /cicd commands, thread replies and buttons; records and enqueues, answers fast."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.clients.slack import LINK_CODE_MINUTES, find_bot_thread, load_rules, make_client, start_link
from bot.core import channel_map, slack_auth
from bot.core import messages as m
from bot.core import slack_commands as texts
from bot.core.channel_status import channel_status, job_project
from bot.core.render.slack import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_REANALYZE,
    ACTION_REANALYZE_WITH_PREFIX,
    render_slack_ephemeral,
)
from bot.core.slack_auth import SlackAuth
from bot.core.slack_commands import Command, UsageError, parse_command
from bot.core.types import JobSpec
from bot.jobs.payload import SlackTarget
from bot.jobs.slack_command import SlackCommandPayload
from bot.jobs.slack_feedback import SlackFeedbackPayload
from bot.jobs.slack_followup import SlackFollowupPayload
from bot.jobs.slack_support import PREFERENCE_PROVIDER, PREFERENCE_SCOPE, publisher
from bot.providers import catalog
from bot.providers.catalog import PROVIDERS
from bot.runtime.services import Services
from handlers.appkeys import SLACK_BODIES
from handlers.body import BodyReader, BodyRefused, describe
from storage import slack as slack_state
from storage.analyses import recent_history
from storage.channel_status import open_jobs, project_paths, spend_by_project
from storage.history import get_preference, set_preference
from storage.inbox import record_event
from storage.types import utcnow

log = logging.getLogger(__name__)

SOURCE = "slack"
# Slack's requests are small (a button click carries its message's blocks: tens of kilobytes); more is not Slack.
MAX_BODY_BYTES = 1024 * 1024
HISTORY_LIMIT = 10
HISTORY_SCAN = 300
STATUS_SCAN_JOBS = 5000  # open and dead jobs looked at for /cicd status, newest first
GENERIC_ERROR = "Something went wrong on my side; please try again in a minute."
# Message subtypes that are people writing; edits, joins, deletions and bot posts are not questions.
HUMAN_SUBTYPES = (None, "thread_broadcast", "file_share")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_ACTIONS = re.compile(
    rf"^(?:{ACTION_REANALYZE}|{re.escape(ACTION_REANALYZE_WITH_PREFIX)}[a-z0-9_]{{1,40}}|"
    rf"{ACTION_FEEDBACK_UP}|{ACTION_FEEDBACK_DOWN})$"
)


def _ephemeral(text: str) -> dict:
    return render_slack_ephemeral(text)


def _request_key(team: str, body: dict) -> str:
    """Slack sends a trigger_id with every command and click; a body hash stands in if it is missing."""
    trigger = str(body.get("trigger_id") or "")[:120]
    if not trigger:
        trigger = "h" + hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"slack:{team or '-'}:{trigger}"


def workspace_allowed(settings, body: dict) -> bool:
    """SLACK_ALLOWED_TEAM_IDS (team or Enterprise Grid org) and SLACK_APP_ID, when set, must match the request."""
    if settings.slack_app_id:
        app_id = body.get("api_app_id")
        if app_id is not None and app_id != settings.slack_app_id:
            return False
    allowed = set(settings.slack_allowed_team_ids)
    if not allowed:
        return True
    team = body.get("team_id") or (body["team"].get("id") if isinstance(body.get("team"), dict) else None)
    enterprise = body.get("enterprise_id") or (
        body["enterprise"].get("id") if isinstance(body.get("enterprise"), dict) else None
    )
    return bool({team, enterprise} & allowed)


class SlackDoor:
    """The listeners, bound to the process's services."""

    def __init__(self, services: Services):
        self.services = services
        self.settings = services.settings

    # --- shared ---

    def _redact(self, text: str) -> str:
        """Questions are stored in the inbox and queue: secrets pasted into Slack are not."""
        return self.services.redactor.redact_text(text)

    async def _enqueue(self, delivery_key: str, event_type: str, payload: dict, job: JobSpec) -> str:
        result = await record_event(
            self.services.db,
            source=SOURCE,
            delivery_key=delivery_key,
            event_type=event_type,
            payload=payload,
            jobs=[job],
            max_attempts=self.settings.queue_max_attempts,
        )
        self.services.metrics.deliveries.labels("slack", result.outcome).inc()
        if result.job_ids:
            self.services.wake_workers()
        return result.outcome

    # --- /cicd ---

    async def on_command(self, ack, body: dict) -> None:
        try:
            text = await self.command_answer(body)
        except Exception:
            log.exception("slash command failed")
            text = GENERIC_ERROR
        await ack(_ephemeral(text))

    async def command_answer(self, body: dict) -> str:
        providers = catalog.configured(self.settings)
        try:
            command = parse_command(str(body.get("text") or ""), self.settings.gitlab_base_url, list(PROVIDERS))
        except UsageError as exc:
            return str(exc)
        if command.provider and command.provider not in providers:
            return m.REFUSAL_UNKNOWN_PROVIDER.format(provider=command.provider, available=", ".join(providers))
        channel = str(body.get("channel_id") or "")
        handler = getattr(self, f"cmd_{command.name}")
        return await handler(command, body, channel)

    async def cmd_help(self, command: Command, body: dict, channel: str) -> str:
        return texts.HELP_TEXT

    async def cmd_explain(self, command: Command, body: dict, channel: str) -> str:
        reference = command.reference
        assert reference is not None
        project = reference.project_path.lower()
        rules = await load_rules(self.settings, self.services.db)
        if not channel_map.channel_sees(channel, project, rules):
            return m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project=project)
        team = str(body.get("team_id") or "")
        key = _request_key(team, body)
        target = SlackTarget(
            channel=channel,
            user=body.get("user_id"),
            thread_ts=None,
            response_url=body.get("response_url"),
            team_id=team,
        )
        asked = SlackCommandPayload(
            command=command.name,
            project=project,
            kind=reference.kind,
            number=reference.number,
            provider=command.provider,
            slack=target,
            request_key=key,
        )
        outcome = await self._enqueue(
            key,
            "slash_command",
            {"text": self._redact(str(body.get("text") or "")[:2000]), "channel": channel, "user": body.get("user_id")},
            asked.job_spec(key),
        )
        if outcome.startswith("duplicate"):
            return texts.ACK_DUPLICATE
        return texts.ack_text(command, project)

    cmd_reanalyze = cmd_explain

    async def cmd_provider(self, command: Command, body: dict, channel: str) -> str:
        configured = catalog.configured(self.settings)
        if command.action == "set":
            await set_preference(self.services.db, PREFERENCE_SCOPE, channel, PREFERENCE_PROVIDER, command.provider)
            return texts.PROVIDER_SET.format(provider=m.provider_name(command.provider))
        current = await get_preference(self.services.db, PREFERENCE_SCOPE, channel, PREFERENCE_PROVIDER)
        return texts.format_provider(current, catalog.default_provider(self.settings), configured)

    async def cmd_subscribe(self, command: Command, body: dict, channel: str) -> str:
        rules = await load_rules(self.settings, self.services.db)
        # A subscription is kept only when it grants what the answer says: not nothing, not less than its pattern.
        verdict, patterns = channel_map.check_subscription(command.path, rules, channel)
        refusal = texts.subscribe_refusal(verdict, command.path, channel, patterns)
        if refusal:
            return refusal
        added = await slack_state.add_subscription(
            self.services.db, channel, command.path, created_by=str(body.get("user_id") or "")
        )
        if not added:
            return texts.ALREADY_SUBSCRIBED.format(path=command.path)
        return texts.SUBSCRIBED.format(path=command.path)

    async def cmd_unsubscribe(self, command: Command, body: dict, channel: str) -> str:
        db = self.services.db
        if await slack_state.remove_subscription(db, channel, command.path):
            return texts.UNSUBSCRIBED.format(path=command.path)
        current = await slack_state.channel_subscriptions(db, channel)
        return texts.NOT_SUBSCRIBED.format(path=command.path, current=", ".join(current) or "none")

    async def cmd_history(self, command: Command, body: dict, channel: str) -> str:
        rules = await load_rules(self.settings, self.services.db)
        if command.path and not channel_map.channel_sees(channel, command.path, rules):
            return m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project=command.path)
        if not channel_map.has_scope(channel, rules):
            return texts.HISTORY_NOTHING_VISIBLE
        rows = await recent_history(self.services.db, HISTORY_SCAN)
        shown = [
            texts.HistoryRow(r.project_path, r.pipeline_id, r.ci_job_name or "", r.verdict or "", r.summary or "")
            for r in rows
            if channel_map.channel_sees(channel, r.project_path, rules)
            and (not command.path or channel_map.pattern_matches(command.path, r.project_path))
        ]
        return texts.format_history(shown[:HISTORY_LIMIT], command.path)

    async def cmd_status(self, command: Command, body: dict, channel: str) -> str:
        """Only what this channel may see: the queue and spend of its projects; no global numbers anywhere."""
        db = self.services.db
        rules = await load_rules(self.settings, db)
        status = None
        if channel_map.has_scope(channel, rules):
            jobs = await open_jobs(db, STATUS_SCAN_JOBS)
            ids = [p for p in (job_project(payload) for *_, payload in jobs) if isinstance(p, int)]
            midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
            status = channel_status(
                channel,
                rules,
                jobs,
                await project_paths(db, ids),
                await spend_by_project(db, midnight),
                complete=len(jobs) < STATUS_SCAN_JOBS,
            )
        return texts.format_status(
            status, catalog.configured(self.settings), catalog.default_provider(self.settings), STATUS_SCAN_JOBS
        )

    async def cmd_link(self, command: Command, body: dict, channel: str) -> str:
        code = await start_link(self.services.db, str(body.get("team_id") or ""), str(body.get("user_id") or ""))
        return texts.LINK_START.format(minutes=LINK_CODE_MINUTES, bot=self.services.identity.username, code=code)

    # --- events ---

    async def on_message(self, body: dict, event: dict, context) -> None:
        try:
            await self.handle_message(body, event, bot_user_id=getattr(context, "bot_user_id", None))
        except Exception:
            # Bolt answers 500, so Slack sends the event again later (the inbox keeps it to one job).
            log.exception("Slack message event failed")
            raise

    async def handle_message(self, body: dict, event: dict, *, bot_user_id: str | None) -> str:
        """Returns what was done ('ignored: …' or the inbox outcome), for logs and tests."""
        if event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES or event.get("app_id"):
            return "ignored: bot or non-human message"
        user = str(event.get("user") or "")
        if not user or user == bot_user_id:
            return "ignored: own message"
        channel, ts, thread_ts = str(event.get("channel") or ""), str(event.get("ts") or ""), event.get("thread_ts")
        question = _MENTION.sub("", str(event.get("text") or "")).strip()
        if event.get("type") == "app_mention" and (not thread_ts or thread_ts == ts):
            return await self.mention_command(body, event, question, thread=ts)
        if not thread_ts or thread_ts == ts:
            return "ignored: not a thread reply"
        parent = await find_bot_thread(self.services.db, channel, str(thread_ts))
        if parent is None:
            if event.get("type") == "app_mention":
                return await self.mention_command(body, event, question, thread=str(thread_ts))
            return "ignored: not a bot thread"
        if not question:
            return "ignored: empty"
        team = str(body.get("team_id") or event.get("team") or "")
        report = parent.report or {}
        project_path = str(report.get("project_path") or "")
        if project_path and not channel_map.channel_sees(
            channel, project_path, await load_rules(self.settings, self.services.db)
        ):
            return "ignored: the channel no longer sees this project"
        question_job = SlackFollowupPayload(
            channel=channel,
            thread_ts=str(thread_ts),
            ts=ts,
            user=user,
            team_id=team,
            text=self._redact(question[:4000]),
            project_id=parent.project_id,
            pipeline_id=parent.pipeline_id,
            project_path=project_path,
        )
        event_id = str(body.get("event_id") or f"{channel}:{ts}:{event.get('type')}")
        # A reply that mentions the bot arrives twice (message and app_mention): one job, keyed by the message.
        job = question_job.job_spec(f"slack-followup:{channel}:{ts}")
        return await self._enqueue(
            f"slack:{team or '-'}:event:{event_id}"[:255],
            str(event.get("type") or "message"),
            {"channel": channel, "ts": ts, "thread_ts": thread_ts, "user": user},
            job,
        )

    async def mention_command(self, body: dict, event: dict, text: str, *, thread: str) -> str:
        """'@cicd-bot explain <ref>' outside a bot thread asks the bot into this thread; anything else is left alone."""
        try:
            command = parse_command(text, self.settings.gitlab_base_url, list(PROVIDERS))
        except UsageError:
            return "ignored: not a command"
        if command.name not in ("explain", "reanalyze") or command.reference is None:
            return "ignored: not a command"
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        project = command.reference.project_path.lower()
        team = str(body.get("team_id") or "")
        target = SlackTarget(channel=channel, user=user, thread_ts=thread, response_url=None, team_id=team)
        rules = await load_rules(self.settings, self.services.db)
        if not channel_map.channel_sees(channel, project, rules):
            await publisher(self.services).tell_user(
                target.as_target(), m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project=project)
            )
            return "refused"
        key = f"slack:{team or '-'}:event:{body.get('event_id') or channel + ':' + str(event.get('ts'))}"[:255]
        asked = SlackCommandPayload(
            command=command.name,
            project=project,
            kind=command.reference.kind,
            number=command.reference.number,
            provider=command.provider,
            slack=target,
            request_key=key,
        )
        return await self._enqueue(
            key,
            "app_mention",
            {"channel": channel, "user": user, "text": self._redact(text[:2000])},
            asked.job_spec(key),
        )

    # --- buttons ---

    async def on_action(self, ack, body: dict, action: dict) -> None:
        # Recorded before the answer: if the database is down, Slack shows the click failed.
        await self.handle_action(body, action)
        await ack()

    async def handle_action(self, body: dict, action: dict) -> str:
        try:
            value = json.loads(str(action.get("value") or "{}"))
        except ValueError:
            return "ignored: bad value"
        if not isinstance(value, dict):
            return "ignored: bad value"
        channel = str((body.get("channel") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id") or "")
        message = body.get("message") or {}
        team = str((body.get("team") or {}).get("id") or body.get("team_id") or "")
        key = _request_key(team, body)
        target = SlackTarget(
            channel=channel,
            user=user,
            thread_ts=message.get("thread_ts") or message.get("ts"),
            response_url=body.get("response_url"),
            team_id=team,
        )
        action_id = str(action.get("action_id") or "")
        if action_id in (ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN):
            analysis_id = value.get("analysis_id")
            if not isinstance(analysis_id, int):
                return "ignored: no analysis"
            direction = "up" if action_id == ACTION_FEEDBACK_UP else "down"
            vote = SlackFeedbackPayload(analysis_id=analysis_id, direction=direction, slack=target)
            job = vote.job_spec(f"slack-feedback:{analysis_id}:{user}:{direction}")
            return await self._enqueue(key, "block_actions", {"action": action_id, "user": user}, job)
        project, pipeline = value.get("project"), value.get("pipeline")
        if not isinstance(project, str) or not isinstance(pipeline, int):
            return "ignored: no pipeline"
        rules = await load_rules(self.settings, self.services.db)
        if not channel_map.channel_sees(channel, project, rules):
            await publisher(self.services).tell_user(
                target.as_target(), m.REFUSAL_NOT_ALLOWED_CHANNEL.format(project=project)
            )
            return "refused"
        provider = (
            action_id[len(ACTION_REANALYZE_WITH_PREFIX) :] if action_id.startswith(ACTION_REANALYZE_WITH_PREFIX) else ""
        )
        target.thread_ts = None  # as for a typed command: the report goes to the channel, not under this message
        asked = SlackCommandPayload(
            command="reanalyze",
            project=project.lower(),
            kind="pipeline",
            number=pipeline,
            provider=provider,
            slack=target,
            request_key=key,
            announce=True,
        )
        return await self._enqueue(key, "block_actions", {"action": action_id, "user": user}, asked.job_spec(key))


def _same_token_warning(record: logging.LogRecord) -> bool:
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that the given client's token wins;
    it is the same token from the same settings, so the warning only confuses operators."""
    return "`token` will be unused" not in record.getMessage()


def build_bolt_app(services: Services) -> AsyncApp:
    """The Bolt app: workspace and app checked here, then the listeners (the door has checked the signature)."""
    settings = services.settings
    door = SlackDoor(services)
    bolt_logger = logging.getLogger("cicd_bot.slack_bolt")
    bolt_logger.addFilter(_same_token_warning)
    bolt = AsyncApp(
        client=make_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
        # The door checks the signature on the raw bytes before Bolt parses anything (signed_body); Bolt's own
        # check would only repeat it, and it logs the whole body of a request it refuses.
        request_verification_enabled=False,
        # The listener records and enqueues before Slack gets its answer: no work is lost on a crash.
        process_before_response=True,
        logger=bolt_logger,
    )

    @bolt.middleware
    async def only_allowed_workspaces(req, resp, next):
        if workspace_allowed(settings, req.body or {}):
            return await next()
        services.metrics.deliveries.labels("slack", "rejected_workspace").inc()
        if (req.body or {}).get("command"):
            return BoltResponse(
                status=200,
                body=json.dumps(_ephemeral(m.REFUSAL_UNKNOWN_WORKSPACE)),
                headers={"content-type": "application/json"},
            )
        return BoltResponse(status=403, body=m.REFUSAL_UNKNOWN_WORKSPACE)

    bolt.command(re.compile(r"^/"))(door.on_command)
    bolt.event("message")(door.on_message)
    bolt.event("app_mention")(door.on_message)
    bolt.action(_ACTIONS)(door.on_action)
    return bolt


def _refuse(services: Services, status: int, reason: str, error: str = "invalid request") -> web.Response:
    services.metrics.deliveries.labels("slack", f"rejected_{reason}").inc()
    return web.json_response({"error": error}, status=status)


async def signed_body(request: web.Request, services: Services, reader: BodyReader) -> bytes | web.Response:
    """The body of a request Slack signed, or the refusal to answer.

    The headers are checked first (a malformed, stale or missing timestamp or signature is refused unread); then the
    body is read under the reader's limits and its signature checked on the bytes as received, before anything
    parses it. Refusals are logged with the body's size and hash, never its content."""
    secret = services.settings.slack_signing_secret
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    given = request.headers.get("X-Slack-Signature")
    problem = slack_auth.check_headers(timestamp, given, time.time())
    if problem is not None or secret is None:
        return _refuse(services, 401, (problem or SlackAuth.missing).value)
    try:
        body = await reader.read(request, MAX_BODY_BYTES)
    except BodyRefused as exc:
        return _refuse(services, exc.status, exc.reason, exc.text)
    verdict = slack_auth.verify(secret.get_secret_value(), timestamp, given, body, time.time())
    if verdict is not SlackAuth.ok:
        log.info("refused a Slack request: %s (%s)", verdict.value, describe(body))
        return _refuse(services, 401, verdict.value)
    return body


_PARTS = ("team", "user", "channel", "message", "enterprise", "container")


def well_shaped(body) -> bool:
    """Bolt reads these parts without checking their types: a signed body where they are odd would be a 500."""
    if not isinstance(body, dict) or not isinstance(body.get("event", {}), dict):
        return False
    return all(body.get(key) is None or isinstance(body[key], dict | str) for key in _PARTS)


def mount(app: web.Application, services: Services) -> None:
    """Add POST /slack/events (commands, events and interactivity share the one URL)."""
    bolt = build_bolt_app(services)

    async def slack_events(request: web.Request) -> web.Response:
        body = await signed_body(request, services, request.app[SLACK_BODIES])
        if isinstance(body, web.Response):
            return body
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"), query=request.query_string, headers=dict(request.headers)
            )
        except (ValueError, RecursionError, AttributeError, TypeError) as exc:
            # Signed, so from Slack, yet unreadable: a 400 Slack shows as failed, never a 500 with a traceback.
            log.warning("unreadable Slack request: %s (%s)", type(exc).__name__, describe(body))
            return _refuse(services, 400, "malformed", "unreadable body")
        if not well_shaped(bolt_request.body):
            log.warning("unexpected Slack request shape (%s)", describe(body))
            return _refuse(services, 400, "malformed", "unexpected body")
        try:
            bolt_response = await bolt.async_dispatch(bolt_request)
        except (AttributeError, TypeError, KeyError) as exc:
            # Listener failures come back as Bolt's own 500 (so Slack retries); these are Bolt reading odd input.
            log.warning("Slack request Bolt could not read: %s (%s)", type(exc).__name__, describe(body))
            return _refuse(services, 400, "malformed", "unexpected body")
        return await to_aiohttp_response(bolt_response)

    app.router.add_post("/slack/events", slack_events)
