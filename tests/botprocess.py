"""The real `cicd-bot serve` as a subprocess, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from storage.db import Database
from tests.conftest import PG_URL, require_postgres
from tests.helpers import ROOT

WORKER_READY = "cicd-bot worker running"  # the worker's log line once its job loops run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "cicd-bot"
    return [str(script)] if script.exists() else [sys.executable, str(ROOT / "app.py")]


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path):
    """A database URL the subprocess can use: a SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
        return
    await require_postgres()
    name = "e2e_" + uuid.uuid4().hex[:10]
    admin = Database(PG_URL)
    engine = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


# A guard against a hang, not a speed check: polled every 0.1 s, so up to 3 minutes. A process that fails
# exits and is reported at once; one start took over 30 s on a 2-core machine loaded by four other processes.
START_POLLS = 1800


class BotProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        # A copy: the caller's settings often start a second process (a replica), which needs its own spool.
        self.env = dict(env)
        self.log_path = log_path
        # Each bot process its own spool (the directory is locked), kept across its restarts, never in the checkout.
        self.env.setdefault("SPOOL_DIR", str(log_path.parent / f"spool-{env['PORT']}"))
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def run_cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            cli_command() + ["--env-file", "/dev/null", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    async def start(self, *args: str) -> None:
        self.spawn("serve", *args)
        async with aiohttp.ClientSession() as client:
            for _ in range(START_POLLS):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"cicd-bot exited with {self.proc.returncode}:\n{self.log()}")
                try:
                    async with client.get(self.url + "/health") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("cicd-bot did not start:\n" + self.log())

    def spawn(self, command: str, *args: str) -> None:
        """Start `cicd-bot <command>` and return at once (start and start_worker wait until it is ready)."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            cli_command() + ["--env-file", "/dev/null", command, *args],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    async def start_worker(self, *args: str) -> None:
        """`cicd-bot worker`: job loops only, no HTTP server (another replica); returns once its loops run."""
        self.spawn("worker", *args)
        for _ in range(START_POLLS):
            if self.proc.poll() is not None:
                raise RuntimeError(f"cicd-bot worker exited with {self.proc.returncode}:\n{self.log()}")
            if WORKER_READY in self.log():
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("cicd-bot worker did not start:\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(START_POLLS):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.1)
        self.kill()
        return -9


def bot_env(database_url: str, port: int, **settings: str) -> dict[str, str]:
    """The environment of the bot process: this one without CICD settings, plus the given ones."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITLAB_", "OPENAI_", "ANTHROPIC_", "AZURE_", "SLACK_", "IMAP_", "AI_", "DATABASE_"))
    }
    return {
        **keep,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "QUEUE_POLL_SECONDS": "0.2",
        "SHUTDOWN_GRACE_SECONDS": "5",
        **settings,
    }
