"""Scriptable fake model servers on 127.0.0.1 that the real SDKs talk to, with helpers and pytest fixtures."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
from typing import Any

import pytest_asyncio
from aiohttp import web

ERROR_WORDS = re.compile(r"error|fail|fatal|exception|denied|not found|cannot|could not|killed", re.IGNORECASE)
# The runner's closing line names no cause; a model would quote the error above it.
EXIT_LINE = re.compile(r"Job failed: exit code|exited with", re.IGNORECASE)
# An exception or "error:" line says the cause more precisely than a summary line does.
CAUSE_LINE = re.compile(r"\w+(?:Error|Exception)\b|\berror(?:\[\w+\])?:|fatal:|ERR!", re.IGNORECASE)
NUMBERED_LINE = re.compile(r"^(\d+): (.*)$", re.MULTILINE)


# --- behaviours: plain dicts so they travel through the admin API as JSON -----------
def good(answer: dict | None = None, cached: int = 0) -> dict:
    """A valid answer: the given one, or one derived from the request's excerpt."""
    return {"kind": "answer", "answer": answer, "cached": cached}


def reply(text: str) -> dict:
    """A plain text reply (follow-up questions)."""
    return {"kind": "text", "text": text}


def malformed() -> dict:
    """A reply that does not validate as the answer schema."""
    return {"kind": "malformed"}


def rate_limited(retry_after: str | None = "0.2") -> dict:
    return {"kind": "status", "status": 429, "retry_after": retry_after}


def server_error(status: int = 500) -> dict:
    return {"kind": "status", "status": status}


def overloaded() -> dict:
    return {"kind": "status", "status": 529}


def unauthorized() -> dict:
    return {"kind": "status", "status": 401}


def slow(seconds: float, then: dict | None = None) -> dict:
    """Wait before answering (longer than the client's timeout to simulate one)."""
    return {"kind": "delay", "seconds": seconds, "then": then or good()}


def held(then: dict | None = None) -> dict:
    """Answer only once the test calls release(): a model call that is provably still running."""
    return {"kind": "hold", "then": then or good()}


def derive_answer(prompt_text: str) -> dict:
    """A plausible answer that quotes a real line of the excerpt in the request, so end-to-end checks can follow it."""
    lines = [(int(n), text) for n, text in NUMBERED_LINE.findall(prompt_text)]
    causes = [item for item in lines if ERROR_WORDS.search(item[1]) and not EXIT_LINE.search(item[1])]
    errors = [item for item in lines if ERROR_WORDS.search(item[1])]
    precise = [item for item in causes if CAUSE_LINE.search(item[1])]
    chosen = precise[0] if precise else (causes or errors or lines or [None])[-1]
    evidence = [{"line": chosen[0], "text": chosen[1]}] if chosen else []
    quoted = chosen[1].strip() if chosen else "the log"
    return {
        "summary": f"The job failed at: {quoted[:120]}",
        "category": "unknown",
        "root_cause": f"The log shows {quoted[:200]!r}, which stops the job.",
        "verdict": "unknown",
        "confidence": 0.5,
        "fix_steps": ["Reproduce the failing command locally.", "Fix the cause shown in the quoted line."],
        "evidence": evidence,
    }


def derive_text(prompt_text: str) -> str:
    lines = NUMBERED_LINE.findall(prompt_text)
    if not lines:
        return "The log shown does not say more about this."
    n, text = next((item for item in reversed(lines) if ERROR_WORDS.search(item[1])), lines[-1])
    return f"Line {n} is the one to look at: {text.strip()[:200]}"


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeModelServer:
    """Shared machinery: the behaviour queue, the request record and the admin API."""

    name = "fake"
    url_suffix = ""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.queue: list[dict] = []
        self.requests: list[dict] = []
        self.calls = 0
        self.holding = 0  # requests waiting in a held() behaviour right now
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # scripting
    def script(self, *behaviours: dict) -> None:
        self.queue.extend(behaviours)

    def release(self) -> None:
        """Let every held() request answer."""
        self._released.set()

    def reset(self) -> None:
        self.queue.clear()
        self.requests.clear()
        self.calls = 0

    def bodies(self) -> list[str]:
        """Every request body as received, for "this never left the bot" checks."""
        return [r["raw"] for r in self.requests]

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """What to give the SDK as base_url."""
        return self.base + self.url_suffix

    # serving
    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.add_routes(self.routes())
        app.add_routes(
            [
                web.post("/_fake/script", self._admin_script),
                web.get("/_fake/requests", self._admin_requests),
                web.post("/_fake/reset", self._admin_reset),
            ]
        )
        return app

    async def start(self) -> FakeModelServer:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeModelServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def take(self, request: web.Request) -> tuple[dict, dict | None]:
        """Record the request and return (behaviour, parsed body or None)."""
        raw = await request.text()
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        self.calls += 1
        self.requests.append(
            {
                "path": request.path,
                "query": dict(request.query),
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": body,
                "raw": raw,
            }
        )
        behaviour = self.queue.pop(0) if self.queue else good()
        while behaviour.get("kind") in ("delay", "hold"):
            if behaviour["kind"] == "hold":
                self.holding += 1
                try:
                    await self._released.wait()
                finally:
                    self.holding -= 1
            else:
                await asyncio.sleep(float(behaviour.get("seconds", 0)))
            behaviour = behaviour.get("then") or good()
        return behaviour, body

    async def _admin_script(self, request: web.Request) -> web.Response:
        data = await request.json()
        if data.get("replace"):
            self.queue.clear()
        self.queue.extend(data.get("behaviours", []))
        return web.json_response({"queued": len(self.queue)})

    async def _admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"calls": self.calls, "requests": self.requests})

    async def _admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


def run_main(server_class: type[FakeModelServer]) -> None:
    """Serve a fake until SIGTERM/SIGINT; prints 'listening on URL' once ready."""
    parser = argparse.ArgumentParser(description=f"Fake {server_class.name} server for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def serve() -> None:
        server = server_class(args.host, args.port)
        await server.start()
        print(f"listening on {server.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())


@pytest_asyncio.fixture
async def fake_openai() -> Any:
    from tests.fakes.openai_server import FakeOpenAI

    async with FakeOpenAI() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_anthropic() -> Any:
    from tests.fakes.anthropic_server import FakeAnthropic

    async with FakeAnthropic() as fake:
        yield fake
