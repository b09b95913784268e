"""Fault scenarios against the real process, shared by the fault tests and benchmarks/fault_table.py.

Each scenario starts the bot (and the fake GitLab, Slack and model it needs), does its damage while a watcher asks
/health over and over, and returns a Tally of outcomes: what was delivered, accepted, analysed, lost, duplicated,
and every /health answer. Tests assert on the outcomes; only the benchmark reports how long /health took."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import sqlalchemy as sa

from storage.db import Database
from storage.models import Analysis
from tests.botprocess import free_port
from tests.e2e_kit import bot_notes, parents, send_hook, settings_for, settled, slack_settings, start_bot, wait_for
from tests.fakes import held
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.scenario import WEBHOOK_SECRET, pipeline_hook, seed_failed_pipeline
from tests.slack_kit import signing_secret

# Bounds the test, never a claim about speed: a /health answer slower than this counts as not answered.
HEALTH_CLIENT_TIMEOUT = 30.0


# --- what a scenario reports ------------------------------------------------------------------------------------


class HealthWatch:
    """Asks GET /health back to back while a fault runs; keeps every status (None: no answer) and time taken."""

    def __init__(self, url: str, pause: float = 0.05):
        self.url, self.pause = url, pause
        self.answers: list[tuple[int | None, float]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=HEALTH_CLIENT_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    async with client.get(self.url + "/health") as resp:
                        await resp.read()
                        status: int | None = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = None
                self.answers.append((status, time.perf_counter() - started))
                try:
                    await asyncio.wait_for(self._stop.wait(), self.pause)
                except TimeoutError:
                    pass

    async def __aenter__(self) -> HealthWatch:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    @property
    def all_ok(self) -> bool:
        return bool(self.answers) and all(status == 200 for status, _ in self.answers)

    @property
    def slowest(self) -> float:
        return max((t for _, t in self.answers), default=0.0)


@dataclass
class Tally:
    case: str
    delivered: int = 0  # authentic deliveries sent (one pipeline may be delivered several times)
    pipelines: int = 0  # distinct failed pipelines among them
    accepted: int = 0  # authentic deliveries answered 2xx
    analysed: int = 0  # distinct pipelines with an analysis
    duplicated: int = 0  # analyses, MR notes or Slack parents beyond one each
    hostile: Counter = field(default_factory=Counter)  # status -> count, for requests that should be refused
    health: list[HealthWatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rss_kib: dict[str, int] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.pipelines - self.analysed

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.hostile.items() if status is None or status >= 500)

    @property
    def health_ok(self) -> bool:
        return all(w.all_ok for w in self.health)

    @property
    def health_slowest(self) -> float:
        return max((w.slowest for w in self.health), default=0.0)


async def analyses_by_pipeline(db_url: str) -> Counter:
    db = Database(db_url)
    try:
        async with db.session() as s:
            return Counter(p for (p,) in (await s.execute(sa.select(Analysis.pipeline_id))).all())
    finally:
        await db.dispose()


async def count_outcomes(tally: Tally, db_url: str, gitlab, slack=None) -> None:
    per_pipeline = await analyses_by_pipeline(db_url)
    tally.analysed = len(per_pipeline)
    tally.duplicated = sum(n - 1 for n in per_pipeline.values())
    tally.duplicated += max(0, len(bot_notes(gitlab)) - 1)  # one note per merge request, edited in place
    if slack is not None:
        tally.duplicated += max(0, len(parents(slack)) - tally.analysed)  # one parent per pipeline


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- raw HTTP: bodies that never finish, headers that never end -------------------------------------------------


@dataclass
class RawConn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def status(self) -> int | None:
        """The response's status code, or None when the server closed without answering."""
        line = await asyncio.wait_for(self.reader.readline(), HEALTH_CLIENT_TIMEOUT)
        parts = line.split()
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None

    async def closed_by_server(self) -> bool:
        """Reads until the server closes the connection (True), or the generous bound runs out (False)."""
        try:
            async with asyncio.timeout(HEALTH_CLIENT_TIMEOUT * 2):
                while await self.reader.read(65536):
                    pass
            return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True

    def close(self) -> None:
        self.writer.close()


async def raw_request(url: str, path: str, headers: dict[str, str], declared: int, sent: bytes) -> RawConn:
    """A POST that declares `declared` body bytes and sends only `sent` of them, then waits."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    head = f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Length: {declared}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode() + sent)
    await writer.drain()
    return RawConn(reader, writer)


async def half_headers(url: str) -> RawConn:
    """A slowloris connection: a request line and one header, and never the end of the headers."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    writer.write(f"POST /webhooks/gitlab HTTP/1.1\r\nHost: {where.netloc}\r\nX-Slow: 1\r\n".encode())
    await writer.drain()
    return RawConn(reader, writer)


async def post(client: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> int | None:
    try:
        async with client.post(url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return None  # the server hung up without an answer (a refused flood body it would not drain)


def slack_unsigned(body: bytes) -> dict[str, str]:
    """Well-formed, current headers with a signature that is wrong: the body is read, then refused."""
    return {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
        "Content-Type": "application/json",
    }


def slack_signed(body: bytes, content_type: str = "application/json") -> dict[str, str]:
    """Signed as Slack signs (over the bytes), with the test's signing secret."""
    ts = str(int(time.time()))
    digest = hmac.new(signing_secret().encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


GITLAB_HEADERS = {
    "X-Gitlab-Event": "Pipeline Hook",
    "X-Gitlab-Token": WEBHOOK_SECRET,
    "Content-Type": "application/json",
}


# --- the scenarios ------------------------------------------------------------------------------------------------


@asynccontextmanager
async def _bot(env: dict, tmp_path, name: str):
    os.makedirs(tmp_path / name, exist_ok=True)
    bot = await start_bot({**env, "PORT": str(free_port())}, tmp_path / name)
    try:
        yield bot
    finally:
        await bot.stop()


async def two_replicas(db_url: str, tmp_path, pipelines: int = 8) -> Tally:
    """Two `serve` processes on one PostgreSQL; every pipeline delivered twice to each (group and project hook)."""
    tally = Tally("two replicas, duplicate deliveries to both")
    async with FakeGitLab() as gitlab, FakeSlack() as slack:
        env = settings_for(db_url, gitlab, REUSE_ANALYSIS_DAYS="0", **slack_settings(slack))
        seeded = [seed_failed_pipeline(gitlab.state, 9300 + i) for i in range(pipelines)]
        first = await start_bot(env, tmp_path)  # migrates PostgreSQL once
        try:
            async with _bot(env, tmp_path, "second") as second:
                async with HealthWatch(first.url) as h1, HealthWatch(second.url) as h2:
                    sends = [
                        send_hook(bot.url, pipeline_hook(p), key=f"{hook}-{p['id']}")
                        for p in seeded
                        for hook in ("group", "project")
                        for bot in (first, second)
                    ]
                    statuses = await asyncio.gather(*sends)
                    await settled(first.url, timeout=120)
                    await settled(second.url, timeout=120)
                tally.health += [h1, h2]
        finally:
            await first.stop()
        tally.delivered, tally.pipelines = len(statuses), pipelines
        tally.accepted = sum(1 for s in statuses if 200 <= s < 300)
        await count_outcomes(tally, db_url, gitlab, slack)
    return tally


async def _burst(client, url: str, junk: bytes, bodies: int) -> list[int | None]:
    wrong = {**GITLAB_HEADERS, "X-Gitlab-Token": "wrong"}
    floods = [post(client, url + "/webhooks/gitlab", junk, wrong) for _ in range(bodies)]
    floods += [post(client, url + "/slack/events", junk[: 1024 * 1023], slack_unsigned(junk)) for _ in range(bodies)]
    return await asyncio.gather(*floods)


async def flood(
    db_url: str,
    tmp_path,
    *,
    bursts: int = 3,
    bodies: int = 40,
    size: int = 1024 * 1024,
    slow: int = 12,
    slowloris: int = 40,
) -> Tally:
    """Bursts of unauthenticated large bodies to both doors at once, with slow bodies and slowloris connections
    open meanwhile; then a real delivery. RSS is read after a first real delivery (so the work's own imports and
    caches are in "before") and after each burst."""
    tally = Tally("unauthenticated flood: large bodies to both doors, slow bodies, slowloris")
    async with FakeGitLab() as gitlab, FakeSlack() as slack:
        env = settings_for(
            db_url,
            gitlab,
            REUSE_ANALYSIS_DAYS="0",
            HTTP_KEEPALIVE_SECONDS="3",
            HTTP_BODY_TIMEOUT_SECONDS="3",
            **slack_settings(slack),
        )
        warm, pipeline = seed_failed_pipeline(gitlab.state, 9400), seed_failed_pipeline(gitlab.state, 9401)
        async with _bot(env, tmp_path, "flood") as bot:
            pid = bot.proc.pid
            statuses = [await send_hook(bot.url, pipeline_hook(warm), key="warm-up")]
            await settled(bot.url, timeout=120)
            tally.rss_kib["before"] = rss_kib(pid)
            junk = os.urandom(size)
            timeout = aiohttp.ClientTimeout(total=HEALTH_CLIENT_TIMEOUT * 2)
            async with HealthWatch(bot.url) as watch, aiohttp.ClientSession(timeout=timeout) as client:
                lingering = [await half_headers(bot.url) for _ in range(slowloris)]
                trickles = [
                    await raw_request(bot.url, "/webhooks/gitlab", GITLAB_HEADERS, 1000, b"{") for _ in range(slow)
                ]
                trickles += [
                    await raw_request(bot.url, "/slack/events", slack_unsigned(b""), 1000, b"{") for _ in range(slow)
                ]
                for n in range(bursts):
                    tally.hostile.update(await _burst(client, bot.url, junk, bodies))
                    tally.rss_kib[f"after burst {n + 1}"] = rss_kib(pid)
                slow_statuses = await asyncio.gather(*(t.status() for t in trickles))
                tally.hostile.update(slow_statuses)
                closed = await asyncio.gather(*(c.closed_by_server() for c in lingering))
                tally.notes.append(f"slowloris connections closed by the server: {sum(closed)}/{slowloris}")
                tally.notes.append(f"slow bodies answered: {dict(Counter(slow_statuses))}")
                for conn in lingering + trickles:
                    conn.close()
                statuses.append(await send_hook(bot.url, pipeline_hook(pipeline), key="after-flood"))
                await settled(bot.url, timeout=120)
            tally.health.append(watch)
            tally.rss_kib["at the end"] = rss_kib(pid)
            tally.slowloris_closed = sum(closed)  # type: ignore[attr-defined]
        tally.delivered, tally.pipelines = len(statuses), 2
        tally.accepted = sum(1 for s in statuses if s == 200)
        await count_outcomes(tally, db_url, gitlab, slack)
    return tally


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def hostile_gitlab_bodies(pipeline: dict) -> list[tuple[str, bytes]]:
    """Bodies a broken or hostile sender might post with the right token; none may earn a 5xx."""
    hook = pipeline_hook(pipeline)

    def variant(**attrs) -> bytes:
        return json.dumps({**hook, "object_attributes": {**hook["object_attributes"], **attrs}}).encode()

    return [
        ("not JSON", b"{not json"),
        ("not UTF-8", b'{"a": "\xff\xfe"}'),
        ("nested 100000 deep", b"[" * 100_000 + b"]" * 100_000),
        ("objects nested 5000 deep", deep(5000)),
        ("a JSON array", b"[1, 2]"),
        ("empty", b""),
        ("null", b"null"),
        ("id is a string", variant(id="9001")),
        ("id is a list", variant(id=[1])),
        ("id is a float", variant(id=1.5)),
        ("id is negative", variant(id=-1)),
        ("status is a dict", variant(status={"x": 1})),
        ("project is a string", json.dumps({**hook, "project": "acme"}).encode()),
        ("object_attributes is null", json.dumps({**hook, "object_attributes": None}).encode()),
        ("unicode everywhere", variant(ref="réf/🚀/\u202e/\u0000", sha="ü" * 40)),
        ("a long ref", variant(ref="x" * 100_000)),
    ]


def huge_ids(pipeline: dict) -> list[tuple[str, bytes]]:
    hook = pipeline_hook(pipeline)
    return [
        (
            "pipeline id 2^63",
            json.dumps({**hook, "object_attributes": {**hook["object_attributes"], "id": 2**63}}).encode(),
        ),
        ("project id 2^64", json.dumps({**hook, "project": {**hook["project"], "id": 2**64}}).encode()),
    ]


def hostile_slack() -> list[tuple[str, bytes, dict[str, str]]]:
    """Requests a broken or hostile sender might post to /slack/events; none may earn a 5xx."""
    now = str(int(time.time()))
    good = b'{"type": "event_callback", "event": {"type": "message"}}'
    bad_ts = [
        ("timestamp " + repr(ts)[:20], good, {**slack_signed(good), "X-Slack-Request-Timestamp": ts})
        for ts in ("abc", "1e3", "", "9" * 5000, "-1", "1.5", "١٧٠٠٠٠٠٠٠٠")
    ]
    return [
        *bad_ts,
        ("no signature", good, {"X-Slack-Request-Timestamp": now, "Content-Type": "application/json"}),
        ("unsigned nested JSON", deep(100_000), slack_unsigned(b"")),
        ("unsigned huge body", b"x" * (3 * 1024 * 1024), slack_unsigned(b"")),
        ("signed, nested 50000 deep", deep(50_000), slack_signed(deep(50_000))),
        ("signed, nested 5000 deep", deep(5000), slack_signed(deep(5000))),
        ("signed, not UTF-8", b'{"a": "\xff"}', slack_signed(b'{"a": "\xff"}')),
        ("signed, not JSON", b"{oops", slack_signed(b"{oops")),
        ("signed, a JSON array", b"[1]", slack_signed(b"[1]")),
        (
            "signed, event is a string",
            b'{"type": "event_callback", "event": "x"}',
            slack_signed(b'{"type": "event_callback", "event": "x"}'),
        ),
        (
            "signed, form without payload",
            b"a=%ff%fe&b",
            slack_signed(b"a=%ff%fe&b", "application/x-www-form-urlencoded"),
        ),
        (
            "signed, payload not JSON",
            b"payload=%7Bnope",
            slack_signed(b"payload=%7Bnope", "application/x-www-form-urlencoded"),
        ),
        (
            "signed, unicode command",
            "text=explain+🚀+\u202e&command=%2Fcicd".encode(),
            slack_signed("text=explain+🚀+\u202e&command=%2Fcicd".encode(), "application/x-www-form-urlencoded"),
        ),
    ]


async def hostile_input(db_url: str, tmp_path) -> tuple[Tally, dict[str, int | None]]:
    """Every hostile body to both doors; then a real delivery must still be analysed. Returns the tally and each
    case's status (for the cases that need another branch's validation, reported apart)."""
    tally = Tally("hostile GitLab and Slack input")
    by_case: dict[str, int | None] = {}
    async with FakeGitLab() as gitlab, FakeSlack() as slack:
        env = settings_for(db_url, gitlab, REUSE_ANALYSIS_DAYS="0", **slack_settings(slack))
        pipeline = seed_failed_pipeline(gitlab.state, 9501)
        async with _bot(env, tmp_path, "hostile") as bot:
            timeout = aiohttp.ClientTimeout(total=HEALTH_CLIENT_TIMEOUT * 2)
            async with HealthWatch(bot.url) as watch, aiohttp.ClientSession(timeout=timeout) as client:
                for name, body in hostile_gitlab_bodies(pipeline):
                    by_case["gitlab: " + name] = await post(client, bot.url + "/webhooks/gitlab", body, GITLAB_HEADERS)
                for name, body, headers in hostile_slack():
                    by_case["slack: " + name] = await post(client, bot.url + "/slack/events", body, headers)
                for name, body in huge_ids(pipeline):
                    by_case["gitlab: " + name] = await post(client, bot.url + "/webhooks/gitlab", body, GITLAB_HEADERS)
                status = await send_hook(bot.url, pipeline_hook(pipeline), key="after-hostile")
                await wait_for(lambda: bot_notes(gitlab), timeout=60, what="the note after the hostile input")
                await settled(bot.url, timeout=120)
            tally.health.append(watch)
            log = bot.log()
        tally.hostile.update(s for name, s in by_case.items() if "2^6" not in name)
        tally.delivered, tally.pipelines, tally.accepted = 1, 1, int(status == 200)
        tally.log = log  # type: ignore[attr-defined]
        await count_outcomes(tally, db_url, gitlab, slack)
    return tally, by_case


async def sigkill_mid_job(db_url: str, tmp_path, pipelines: int = 6, in_flight: int = 3) -> Tally:
    """SIGKILL with model calls in flight; a second process finishes the work (see also test_e2e_crash.py)."""
    tally = Tally("SIGKILL mid-job, then restart")
    async with FakeGitLab() as gitlab, FakeOpenAI() as openai, FakeSlack() as slack:
        env = settings_for(
            db_url,
            gitlab,
            openai,
            WORKER_CONCURRENCY=str(in_flight),
            QUEUE_LEASE_SECONDS="5",
            REUSE_ANALYSIS_DAYS="0",
            **slack_settings(slack),
        )
        seeded = [seed_failed_pipeline(gitlab.state, 9600 + i) for i in range(pipelines)]
        openai.script(*[held() for _ in range(in_flight)])
        first = await start_bot(env, tmp_path)
        try:
            async with HealthWatch(first.url) as watch:
                statuses = [await send_hook(first.url, pipeline_hook(p), key=f"k{p['id']}") for p in seeded]
                await wait_for(lambda: openai.holding == in_flight, timeout=60, what="model calls in flight")
        finally:
            first.kill()
        tally.health.append(watch)
        openai.release()
        async with _bot(env, tmp_path, "restarted") as second:
            async with HealthWatch(second.url) as after:
                await settled(second.url, timeout=120)
            tally.health.append(after)
        tally.delivered, tally.pipelines = len(statuses), pipelines
        tally.accepted = sum(1 for s in statuses if s == 200)
        await count_outcomes(tally, db_url, gitlab, slack)
    return tally
