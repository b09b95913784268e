"""Webhook answer time through the real `cicd-bot serve` process: every delivery recorded and enqueued.

Usage:
  python benchmarks/webhook_latency.py [--database sqlite|postgresql://...] [--requests 2000] [--concurrency 1,20]

Starts the bot on a free port with workers off (so only the door is measured), sends Pipeline
Hook deliveries for distinct failed pipelines, and prints latency percentiles per concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payload(pipeline_id: int) -> bytes:
    return json.dumps(
        {
            "object_kind": "pipeline",
            "object_attributes": {"id": pipeline_id, "status": "failed", "ref": "main", "sha": "a" * 40},
            "project": {"id": 42, "path_with_namespace": "acme/api"},
            "user": {"id": 1, "username": "alice"},
            "builds": [{"id": pipeline_id * 10 + i, "name": f"job-{i}", "status": "failed"} for i in range(5)],
        }
    ).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def run(url: str, total: int, concurrency: int, first_id: int) -> list[float]:
    latencies: list[float] = []
    ids = iter(range(first_id, first_id + total))
    async with aiohttp.ClientSession() as client:

        async def one_worker() -> None:
            for pipeline_id in ids:
                body = payload(pipeline_id)
                started = time.perf_counter()
                async with client.post(
                    url + "/webhooks/gitlab",
                    data=body,
                    headers={
                        "X-Gitlab-Event": "Pipeline Hook",
                        "X-Gitlab-Token": SECRET,
                        "Idempotency-Key": f"bench-{pipeline_id}",
                        "Content-Type": "application/json",
                    },
                ) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,20")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    db_url = f"sqlite+aiosqlite:///{tmp}/bench.db" if args.database == "sqlite" else args.database
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WORKER_CONCURRENCY": "0",
        "GITLAB_WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    script = Path(sys.executable).parent / "cicd-bot"
    cmd = [str(script)] if script.exists() else [sys.executable, str(ROOT / "app.py")]
    if not db_url.startswith("sqlite"):
        subprocess.run(
            cmd + ["--env-file", "/dev/null", "db", "reset", "--yes"], env=env, check=True, capture_output=True
        )
    proc = subprocess.Popen(cmd + ["--env-file", "/dev/null", "serve"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(200):
                try:
                    async with client.get(url + "/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        await run(url, 50, 1, 1)  # warm-up
        print(
            f"database: {'sqlite' if db_url.startswith('sqlite') else 'postgresql'}; {args.requests} deliveries per run"
        )
        first = 1000
        for conc in (int(c) for c in args.concurrency.split(",")):
            started = time.perf_counter()
            lat = await run(url, args.requests, conc, first)
            elapsed = time.perf_counter() - started
            first += args.requests
            print(
                f"concurrency {conc:>3}: p50 {statistics.median(lat):6.1f} ms  p95 {pct(lat, 95):6.1f} ms  "
                f"p99 {pct(lat, 99):6.1f} ms  max {max(lat):6.1f} ms  ({args.requests / elapsed:.0f} deliveries/s)"
            )
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
