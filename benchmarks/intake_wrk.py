"""Durable intake throughput: the real `cicd-bot serve` under wrk, beside a bare aiohttp handler in the same run.

Usage:
  python benchmarks/intake_wrk.py [--database postgresql://postgres@127.0.0.1:5432/test | sqlite]
                                  [--connections 32,4] [--duration 10] [--threads 2] [--processes 1]

Each request is a realistic failed-pipeline delivery (tests/data/gitlab/pipeline_hook.json, about 7 kB) with a
valid X-Gitlab-Token, its own Idempotency-Key, its own pipeline id and its own text wherever two pipelines of one
project differ (times, URLs, commit message and title, branch, MR title: VARYING; a wrk Lua script), so every one
is a new event and a new job, and the texts that repeat are those that repeat in real traffic. The bot runs with workers off (only the door is measured), `--env-file /dev/null` and its
settings in the environment. After each run the inbox is counted: every 2xx must be a committed row (nothing in
the spool). On PostgreSQL a fresh database is created for the run and dropped after it.
Needs wrk (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
PAYLOAD = ROOT / "tests" / "data" / "gitlab" / "pipeline_hook.json"

LUA = r"""
local pieces = { PIECES }
local counter = 0
local started = 0

-- setup runs in the main Lua state; thread:set makes `tid` a global of that thread's own state.
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Gitlab-Event"] = "Pipeline Hook"
  wrk.headers["X-Gitlab-Token"] = "SECRET"
  base = RUN * 100000000 + tid * 10000000
end

function request()
  counter = counter + 1
  local id = base + counter
  wrk.headers["Idempotency-Key"] = "RUNKEY-" .. id
  local out = {}
  for i = 1, #pieces - 1 do
    out[#out + 1] = pieces[i]
    out[#out + 1] = id
  end
  out[#out + 1] = pieces[#pieces]
  return wrk.format(nil, "/webhooks/gitlab", nil, table.concat(out))
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT {\"requests\": %d, \"seconds\": %f, \"non2xx\": %d, \"socket_errors\": %d, "
    .. "\"p50_ms\": %f, \"p90_ms\": %f, \"p99_ms\": %f, \"max_ms\": %f}\n",
    summary.requests, summary.duration / 1e6, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""

BARE = r"""
import sys
from aiohttp import web

async def handle(request):
    await request.read()
    return web.Response(status=200)

app = web.Application(client_max_size=6 * 1024 * 1024)
app.router.add_post("/webhooks/gitlab", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def wait_port(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} did not open")


# Texts that differ from one pipeline of a project to the next (its times, URLs, commit, branch, MR title): each
# request gets its own, so a cache of texts seen before helps only with what really repeats (project, users, runners).
VARYING = frozenset(
    {"ref", "created_at", "started_at", "finished_at", "url", "title", "source_branch", "message", "timestamp"}
)
SLOT = "\x01"  # where the request's id goes; JSON writes it as \u0001
PIPELINE_ID = 777000777


def _vary(value, key: str = ""):
    if isinstance(value, dict):
        return {k: _vary(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_vary(v, key) for v in value]
    if isinstance(value, str) and key in VARYING:
        return f"{value} {SLOT}"
    return value


def template_pieces() -> list[str]:
    """The delivery cut where each request puts its id: the pipeline id and the end of every varying text."""
    payload = _vary(json.loads(PAYLOAD.read_text()))
    payload["object_attributes"]["id"] = PIPELINE_ID
    body = json.dumps(payload, separators=(",", ":"))
    assert body.count(f'"id":{PIPELINE_ID}') == 1, "the payload's pipeline id must appear once"
    return body.replace(f'"id":{PIPELINE_ID}', '"id":\\u0001').split("\\u0001")


def lua_script(run: int) -> str:
    pieces = ", ".join(f"[==[{piece}]==]" for piece in template_pieces())
    return (
        LUA.replace("PIECES", pieces)
        .replace("SECRET", SECRET)
        .replace("RUNKEY", uuid.uuid4().hex[:8])
        .replace("RUN", str(run))
    )


def wrk(url: str, connections: int, duration: int, threads: int, run: int, tmp: Path) -> dict:
    script = tmp / f"intake-{run}.lua"
    script.write_text(lua_script(run))
    out = subprocess.run(
        ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"^RESULT (.*)$", out, re.M)
    if not found:
        raise SystemExit(out)
    result = json.loads(found.group(1))
    result["per_second"] = round(result["requests"] / result["seconds"])
    return result


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process and its children (serve --processes) have used so far, from /proc
    (Linux); None elsewhere.

    Per delivery it is the door's cost that does not depend on what else the machine is doing, unlike the rate."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) or 0.0 for child in children)


async def count_inbox(database_url: str) -> int:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from storage.db import Database

    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM received_events"))).scalar()
    finally:
        await db.dispose()


async def commit_latency(database_url: str, rounds: int = 300) -> dict:
    """The database alone, in the same run: one client committing one small insert at a time (p50/p99 ms).

    A delivery cannot be answered faster than this: it is committed before its 2xx."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from storage.db import Database

    db = Database(database_url)
    times = []
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commit (x integer)"))
            await conn.commit()
            for _ in range(rounds):
                started = time.perf_counter()
                await conn.execute(text("INSERT INTO bench_commit VALUES (1)"))
                await conn.commit()
                times.append((time.perf_counter() - started) * 1000)
            await conn.execute(text("DROP TABLE bench_commit"))
            await conn.commit()
    finally:
        await db.dispose()
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 2), "p99_ms": round(times[int(len(times) * 0.99)], 2)}


def pg_admin(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-q", "-c", sql], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--connections", default="32,4")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--processes", type=int, default=1, help="serving processes of the bot (WEB_PROCESSES)")
    parser.add_argument(
        "--also", metavar="DIR", help="also measure the bot from another checkout (e.g. `git archive main`), as before"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    levels = [int(c) for c in args.connections.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="intake-wrk-"))
    bench_db = None
    if args.database == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        bench_db = "intake_bench_" + uuid.uuid4().hex[:8]
        pg_admin(args.database, f"CREATE DATABASE {bench_db}")
        database_url = args.database.rsplit("/", 1)[0] + "/" + bench_db
    cli = [str(Path(sys.executable).with_name("cicd-bot"))]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "GITLAB_WEBHOOK_SECRET": SECRET,
        "WORKER_CONCURRENCY": "0",
        "LOG_LEVEL": "WARNING",
        "SPOOL_DIR": str(tmp / "spool"),
        "RECONCILE_INTERVAL": "0",
        "WEB_PROCESSES": str(args.processes),
    }
    procs: list[subprocess.Popen] = []
    results = []
    baseline = {"p50_ms": float("nan"), "p99_ms": float("nan")}
    try:
        subprocess.run(cli + ["--env-file", "/dev/null", "db", "upgrade"], env=env, check=True, capture_output=True)
        bot_port, bare_port = free_port(), free_port()
        bot = subprocess.Popen(cli + ["--env-file", "/dev/null", "serve"], env={**env, "PORT": str(bot_port)})
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])
        procs += [bot, bare]
        targets = [("cicd-bot", bot_port, bot)]
        if args.also:
            other = Path(args.also).resolve()
            old_port = free_port()
            old = subprocess.Popen(
                [sys.executable, str(other / "app.py"), "--env-file", "/dev/null", "serve"],
                env={**env, "PORT": str(old_port), "PYTHONPATH": str(other), "SPOOL_DIR": str(tmp / "spool-also")},
                cwd=other,
            )
            procs.append(old)
            wait_http(f"http://127.0.0.1:{old_port}/health", old)
            targets.append((f"cicd-bot ({other.name})", old_port, old))
        wait_http(f"http://127.0.0.1:{bot_port}/health", bot)
        wait_port(bare_port, bare)
        print(json.dumps({"bot_pid": bot.pid, "bare_pid": bare.pid}), flush=True)
        run = 1
        for label, port, proc in (*targets, ("bare aiohttp", bare_port, bare)):
            for connections in levels:
                is_bot = label.startswith("cicd-bot")
                before = asyncio.run(count_inbox(database_url)) if is_bot else 0
                cpu_before = cpu_seconds(proc.pid)
                result = wrk(f"http://127.0.0.1:{port}", connections, args.duration, args.threads, run, tmp)
                cpu_after = cpu_seconds(proc.pid)
                if cpu_before is not None and cpu_after is not None and result["requests"]:
                    result["cpu_ms_per_request"] = round((cpu_after - cpu_before) * 1000 / result["requests"], 3)
                run += 1
                if is_bot:
                    committed = asyncio.run(count_inbox(database_url)) - before
                    result["committed"] = committed
                    # wrk stops counting at the deadline; requests still in flight then may be committed too.
                    result["all_2xx_committed"] = committed >= result["requests"] - result["non2xx"]
                results.append({"target": label, "connections": connections, **result})
                print(json.dumps(results[-1]), flush=True)
        baseline = asyncio.run(commit_latency(database_url))
        print(json.dumps({"database_alone_one_commit": baseline}), flush=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{bot_port}/health/detailed", timeout=5) as resp:
            spool = json.loads(resp.read())["spool"]
        print(json.dumps({"spool_after_run": spool}))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        if bench_db:
            pg_admin(args.database, f"DROP DATABASE IF EXISTS {bench_db}")
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(
        f"database: {'sqlite' if args.database == 'sqlite' else 'postgresql'}, {args.duration} s per run, "
        f"{args.processes} serving process(es)"
    )
    print("| target | connections | deliveries/s | p50 ms | p99 ms | CPU ms per request | non-2xx | committed = 2xx |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        ok = "" if not r["target"].startswith("cicd-bot") else ("yes" if r["all_2xx_committed"] else "NO")
        print(
            f"| {r['target']} | {r['connections']} | {r['per_second']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r.get('cpu_ms_per_request', '')} | {r['non2xx']} | {ok} |"
        )
    print(f"| the database alone: one commit | 1 | | {baseline['p50_ms']:.2f} | {baseline['p99_ms']:.2f} | | | |")


if __name__ == "__main__":
    main()
