"""Fake Slack Web API (and response_url) on 127.0.0.1 for the real slack_sdk; run with python -m tests.fakes.slack_server."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0BOT00001"
BOT_ID = "B0BOT00001"
TEAM_URL = "https://fake-team.slack.test/"


def fake_bot_token() -> str:
    # Built at run time so no scanner mistakes it for a real token.
    return "xoxb-" + "-".join(["0" * 10, "0" * 12, "f" * 24])


@dataclass
class Call:
    method: str
    args: dict
    token: str = ""


@dataclass
class Fault:
    """The next `times` calls of `method` fail: with HTTP `status` (429 adds Retry-After) or Slack `error`."""

    method: str
    status: int = 200
    error: str = ""
    retry_after: int = 0
    times: int = 1


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list = field(default_factory=list)
    thread_ts: str | None = None
    updates: int = 0
    metadata: dict | None = None  # chat.postMessage's message metadata, returned by history with include_all_metadata
    bot_id: str = BOT_ID


class FakeSlack:
    """`async with FakeSlack() as slack:`; give slack_sdk `slack.url` as base_url and post replies to `slack.response_url()`."""

    name = "Slack"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None):
        self.host, self.port = host, port
        self.token = token or fake_bot_token()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.responses: list[dict] = []  # bodies posted to response URLs
        self.channels: dict[str, dict] = {}  # channel id -> extra conversations.info fields (is_ext_shared, ...)
        self.missing_channels: set[str] = set()
        self.not_member: set[str] = set()  # channels the bot has not joined (conversations.info is_member false)
        self.reactions: set[tuple[str, str, str]] = set()  # (channel, message ts, emoji name)
        self.held_methods: set[str] = set()  # these methods do their work, then answer only after release()
        self.holding = 0  # answers held back right now
        self._released = asyncio.Event()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- what tests read ---

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/response/{name}"

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def top_level(self, channel: str) -> list[Message]:
        return [msg for (ch, _), msg in self.messages.items() if ch == channel and not msg.thread_ts]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        return [msg for (ch, _), msg in self.messages.items() if ch == channel and msg.thread_ts == thread_ts]

    def fault(self, method: str, *, status: int = 200, error: str = "", retry_after: int = 0, times: int = 1) -> None:
        self.faults.append(Fault(method, status, error, retry_after, times))

    def hold_after(self, method: str) -> None:
        """Calls of `method` take effect at once but are answered only after release(): Slack accepted the
        message and the caller has not heard so yet (the window a crash falls into)."""
        if self._released.is_set():
            self._released = asyncio.Event()
        self.held_methods.add(method)

    def release(self) -> None:
        self.held_methods.clear()
        self._released.set()

    def share(self, channel: str, *, external: bool = True) -> None:
        self.channels.setdefault(channel, {})["is_ext_shared" if external else "is_shared"] = True

    # --- serving ---

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.dispatch)
        app.router.add_post("/response/{name}", self.h_response)
        app.router.add_get("/_fake/calls", self.admin_calls)
        app.router.add_post("/_fake/fault", self.admin_fault)
        app.router.add_get("/_fake/messages", self.admin_messages)
        app.router.add_post("/_fake/hold", self.admin_hold)
        return app

    async def start(self) -> FakeSlack:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # --- the Web API ---

    async def _args(self, request: web.Request) -> dict:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                body = json.loads(raw)
                if isinstance(body, dict):
                    args.update(body)
            else:
                args.update(dict(parse_qsl(raw.decode())))
        for name in ("blocks", "attachments", "metadata"):
            if isinstance(args.get(name), str):
                try:
                    args[name] = json.loads(args[name])
                except ValueError:
                    pass
        return args

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else str(args.get("token") or "")
        self.calls.append(Call(method, args, "ok" if token == self.token else "bad"))
        fault = self._take_fault(method)
        if fault is not None and fault.status == 429:
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        if fault is not None and fault.status >= 400:
            return web.json_response({"ok": False, "error": "fatal_error"}, status=fault.status)
        if fault is not None and fault.error:
            return self.error(fault.error)
        if token != self.token:
            return self.error("invalid_auth")
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self.error("unknown_method")
        response = await handler(args)
        if method in self.held_methods:
            self.holding += 1
            try:
                await self._released.wait()
            finally:
                self.holding -= 1
        return response

    @staticmethod
    def ok(**data: Any) -> web.Response:
        return web.json_response({"ok": True, **data})

    @staticmethod
    def error(error: str) -> web.Response:
        return web.json_response({"ok": False, "error": error})

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _channel_ok(self, channel: Any) -> bool:
        return isinstance(channel, str) and channel[:1] in ("C", "G", "D") and channel not in self.missing_channels

    async def m_auth_test(self, args: dict) -> web.Response:
        return self.ok(
            url=TEAM_URL,
            team="Fake Team",
            user="cicd-bot",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    async def m_chat_postMessage(self, args: dict) -> web.Response:
        channel = args.get("channel")
        if not self._channel_ok(channel):
            return self.error("channel_not_found")
        if not args.get("text") and not args.get("blocks"):
            return self.error("no_text")
        if isinstance(args.get("blocks"), list) and len(args["blocks"]) > 50:
            return self.error("invalid_blocks")
        thread_ts = args.get("thread_ts") or None
        if thread_ts and (channel, thread_ts) not in self.messages:
            return self.error("thread_not_found")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return self.error("invalid_metadata_format")
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(
            channel, ts, str(args.get("text") or ""), args.get("blocks") or [], thread_ts, metadata=metadata
        )
        return self.ok(channel=channel, ts=ts, message={"text": args.get("text"), "ts": ts, "bot_id": BOT_ID})

    def _listed(self, message: Message, with_metadata: bool) -> dict:
        out = {"type": "message", "ts": message.ts, "text": message.text, "bot_id": message.bot_id}
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if with_metadata and message.metadata is not None:
            out["metadata"] = message.metadata
        return out

    def _page(self, messages: list[Message], args: dict) -> web.Response:
        """Newest first, after `oldest`, `limit` a page, with a cursor (an offset) for the next page."""
        oldest = float(args.get("oldest") or 0)
        found = sorted((m for m in messages if float(m.ts) > oldest), key=lambda m: float(m.ts), reverse=True)
        start = int(args.get("cursor") or 0)
        limit = max(1, min(999, int(args.get("limit") or 100)))
        chunk = found[start : start + limit]
        more = start + limit < len(found)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("true", "1")
        return self.ok(
            messages=[self._listed(m, with_metadata) for m in chunk],
            has_more=more,
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    async def m_conversations_history(self, args: dict) -> web.Response:
        channel = args.get("channel")
        if not self._channel_ok(channel):
            return self.error("channel_not_found")
        return self._page(self.top_level(channel), args)

    async def m_conversations_replies(self, args: dict) -> web.Response:
        channel, ts = args.get("channel"), str(args.get("ts") or "")
        if not self._channel_ok(channel):
            return self.error("channel_not_found")
        parent = self.messages.get((channel, ts))
        if parent is None:
            return self.error("thread_not_found")
        return self._page([parent, *self.thread(channel, ts)], args)

    async def m_chat_update(self, args: dict) -> web.Response:
        key = (args.get("channel"), args.get("ts"))
        message = self.messages.get(key)  # type: ignore[arg-type]
        if message is None:
            return self.error("message_not_found")
        message.text = str(args.get("text") or "")
        message.blocks = args.get("blocks") or []
        message.updates += 1
        return self.ok(channel=message.channel, ts=message.ts, text=message.text)

    async def m_chat_postEphemeral(self, args: dict) -> web.Response:
        if not self._channel_ok(args.get("channel")):
            return self.error("channel_not_found")
        if not args.get("user"):
            return self.error("user_not_in_channel")
        return self.ok(message_ts=self._next_ts())

    async def m_chat_getPermalink(self, args: dict) -> web.Response:
        channel, ts = args.get("channel"), str(args.get("message_ts") or "")
        if (channel, ts) not in self.messages:
            return self.error("message_not_found")
        return self.ok(channel=channel, permalink=f"{TEAM_URL}archives/{channel}/p{ts.replace('.', '')}")

    async def m_conversations_info(self, args: dict) -> web.Response:
        channel = args.get("channel")
        if not self._channel_ok(channel):
            return self.error("channel_not_found")
        info = {
            "id": channel,
            "name": f"chan-{str(channel).lower()}",
            "is_channel": True,
            "is_private": str(channel).startswith("G"),
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": channel not in self.not_member,
        }
        info.update(self.channels.get(channel, {}))
        return self.ok(channel=info)

    async def m_reactions_add(self, args: dict) -> web.Response:
        if not self._channel_ok(args.get("channel")):
            return self.error("channel_not_found")
        if not args.get("name") or not args.get("timestamp"):
            return self.error("invalid_name" if not args.get("name") else "bad_timestamp")
        key = (args["channel"], str(args["timestamp"]), str(args["name"]))
        if key in self.reactions:
            return self.error("already_reacted")
        self.reactions.add(key)
        return self.ok()

    async def h_response(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        self.calls.append(Call("response_url", body if isinstance(body, dict) else {}, "ok"))
        self.responses.append(body)
        return web.Response(text="ok")

    # --- admin API for tests that run the fake as a subprocess ---

    async def admin_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = [asdict(c) for c in self.calls if method is None or c.method == method]
        counts: dict[str, int] = {}
        for c in self.calls:
            counts[c.method] = counts.get(c.method, 0) + 1
        return web.json_response({"calls": calls, "counts": counts})

    async def admin_fault(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
            self.fault(
                str(body["method"]),
                status=int(body.get("status", 200)),
                error=str(body.get("error", "")),
                retry_after=int(body.get("retry_after", 0)),
                times=int(body.get("times", 1)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def admin_messages(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(m) for m in self.messages.values()])

    async def admin_hold(self, request: web.Request) -> web.Response:
        """{"method": "chat.postMessage"} holds its answers; {"release": true} lets them go."""
        body = json.loads(await request.read() or b"{}")
        if body.get("release"):
            self.release()
        elif body.get("method"):
            self.hold_after(str(body["method"]))
        return web.json_response({"ok": True, "holding": self.holding})


def main() -> None:
    """Serve on --host/--port until SIGTERM (the bot token it accepts is fake_bot_token())."""
    from tests.fakes import run_main

    run_main(FakeSlack)


if __name__ == "__main__":
    main()
