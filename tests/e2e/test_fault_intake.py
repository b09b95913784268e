"""Fault: PostgreSQL cut in the middle of a burst of deliveries to the real process; nothing lost or doubled."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
import sqlalchemy as sa

from storage.db import Database
from tests.botprocess import BotProcess, database_url
from tests.conftest import PG_URL
from tests.e2e_kit import settings_for
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.tcp_proxy import TcpProxy
from tests.scenario import WEBHOOK_SECRET, pipeline_hook, seed_failed_pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.fault, pytest.mark.postgres, pytest.mark.timeout(240)]


class HealthWatch:
    """Asks /health over and over while the test runs: how many answers, how many were not 200, the slowest."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers = 0
        self.failures = 0
        self.slowest = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
            while True:
                started = time.perf_counter()
                try:
                    async with client.get(self.url + "/health") as resp:
                        ok = resp.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                self.answers += ok
                self.failures += not ok
                self.slowest = max(self.slowest, time.perf_counter() - started)
                await asyncio.sleep(0.05)

    def __enter__(self) -> HealthWatch:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


async def send_all(client: aiohttp.ClientSession, url: str, deliveries: list[tuple[str, bytes]]) -> list[int]:
    """Send deliveries eight at a time; their answers in order."""
    gate = asyncio.Semaphore(8)

    async def one(key: str, body: bytes) -> int:
        headers = {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": WEBHOOK_SECRET, "Idempotency-Key": key}
        async with gate, client.post(url + "/webhooks/gitlab", data=body, headers=headers) as resp:
            return resp.status

    return list(await asyncio.gather(*(one(key, body) for key, body in deliveries)))


async def wait_until(check, what: str, attempts: int = 1200) -> None:
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_postgres_cut_during_a_burst_loses_and_doubles_nothing(tmp_path):
    async with database_url("postgres", tmp_path) as url, FakeGitLab() as gitlab:
        port = int(PG_URL.rsplit(":", 1)[1].split("/")[0])
        async with TcpProxy("127.0.0.1", port) as proxy:
            env = settings_for(
                proxy.url(url),
                gitlab,
                SPOOL_DIR=str(tmp_path / "spool"),
                QUEUE_BACKOFF_BASE_SECONDS="0.2",
                QUEUE_BACKOFF_MAX_SECONDS="1",
                RECONCILE_INTERVAL="0",
            )
            bot = BotProcess(env, tmp_path / "bot.log")
            # Migrated straight, not through the proxy: run_cli blocks this loop, which runs the proxy.
            migrated = BotProcess({**env, "DATABASE_URL": url}, tmp_path / "migrate.log").run_cli("db", "upgrade")
            assert migrated.returncode == 0, migrated.stderr
            await bot.start()
            direct = Database(url)
            try:
                pipelines = {pid: seed_failed_pipeline(gitlab.state, pid) for pid in range(7001, 7041)}
                delivery = {pid: (f"d-{pid}", json.dumps(pipeline_hook(p)).encode()) for pid, p in pipelines.items()}
                ids = list(pipelines)
                sent: list[int] = []
                async with aiohttp.ClientSession() as client:
                    with HealthWatch(bot.url) as watch:
                        sent += await send_all(client, bot.url, [delivery[p] for p in ids[:10]])
                        proxy.cut()
                        during = [delivery[p] for p in ids[10:30]] + [delivery[p] for p in ids[:5] + ids[10:15]]
                        sent += await send_all(client, bot.url, during)
                        async with client.get(bot.url + "/health/detailed") as resp:
                            spooled = (await resp.json())["spool"]["depth"]
                        proxy.restore()
                        sent += await send_all(
                            client, bot.url, [delivery[p] for p in ids[30:]] + [delivery[p] for p in ids[25:30]]
                        )

                        async def done() -> bool:
                            async with direct.engine.connect() as conn:
                                finished = await conn.scalar(
                                    sa.text("SELECT count(*) FROM queue_jobs WHERE state IN ('done', 'dead')")
                                )
                            async with client.get(bot.url + "/health/detailed") as resp:
                                spool = (await resp.json())["spool"]
                            return spool["depth"] == 0 and finished >= len(ids)

                        await wait_until(done, "the spool to drain and every job to finish")
                async with direct.engine.connect() as conn:
                    events = (await conn.execute(sa.text("SELECT delivery_key FROM received_events"))).scalars().all()
                    jobs = (
                        await conn.execute(
                            sa.text(
                                "SELECT payload->>'pipeline_id', state FROM queue_jobs WHERE kind = 'analyze_pipeline'"
                            )
                        )
                    ).all()
                    analysed = (
                        (await conn.execute(sa.text("SELECT DISTINCT pipeline_id FROM analyses"))).scalars().all()
                    )
                recorded = {key.removeprefix("gitlab:idem:d-") for key in events}
                figures = {
                    "delivered": len(sent),
                    "accepted": sum(200 <= s < 300 for s in sent),
                    "spooled_during_cut": spooled,
                    "recorded": len(events),
                    "analysed": len(set(analysed)),
                    "lost": len({str(p) for p in ids} - recorded),
                    "duplicated": len(events) - len(recorded) + len(jobs) - len({pid for pid, _ in jobs}),
                    "health_answers": watch.answers,
                    "health_failures": watch.failures,
                    "health_slowest_s": round(watch.slowest, 3),
                }
                print("FAULT database-cut", json.dumps(figures))
                assert sent == [200] * len(sent)
                assert spooled > 0, "the cut came before the deliveries that were meant to meet it"
                assert figures["lost"] == 0 and figures["duplicated"] == 0
                assert sorted(analysed) == ids and all(state == "done" for _, state in jobs)
                assert watch.failures == 0
            finally:
                await direct.dispose()
                print(bot.log()[-5000:])
                assert await bot.stop() == 0
