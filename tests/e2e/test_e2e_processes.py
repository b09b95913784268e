"""`serve --processes N`: children share the port and their fate, each spools on its own, the first runs the jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app import STOPPED_DURING_STARTUP
from bot.runtime.spool import Spool, SpoolBusy
from tests.botprocess import ROOT, BotProcess
from tests.e2e_kit import bot_notes, send_hook, settings_for, settled, start_bot, wait_for
from tests.fakes.gitlab_server import FakeGitLab
from tests.scenario import pipeline_hook, seed_failed_pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

# A parent of three children that write their pid and then wait for a signal; child 1 fails at once in "fail".
SUPERVISED = textwrap.dedent(
    """
    import os, signal, sys
    from bot.runtime.processes import run_processes

    where, mode = sys.argv[1], sys.argv[2]

    def child(slot):
        with open(os.path.join(where, f"child-{slot}"), "w") as f:
            f.write(str(os.getpid()))
        if mode == "fail" and slot == 1:
            return 3
        signal.pause()
        return 0

    sys.exit(run_processes(3, child))
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def supervised(tmp_path: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SUPERVISED, str(tmp_path), mode], cwd=ROOT)


def child_pids(tmp_path: Path) -> list[int]:
    return [int(p.read_text()) for p in sorted(tmp_path.glob("child-*")) if p.read_text()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_asked_of_the_parent_stops_every_child_and_exits_0(tmp_path, sig):
    parent = supervised(tmp_path, "wait")
    try:
        await wait_for(lambda: len(child_pids(tmp_path)) == 3, timeout=60, what="three children")
        parent.send_signal(sig)
        assert parent.wait(timeout=60) == 0
        assert not any(alive(pid) for pid in child_pids(tmp_path))
    finally:
        parent.kill()


async def test_a_child_that_ends_on_its_own_stops_the_others_and_the_parent_exits_with_its_code(tmp_path):
    parent = supervised(tmp_path, "fail")
    try:
        assert parent.wait(timeout=60) == 3
        assert not any(alive(pid) for pid in child_pids(tmp_path)), "no child outlives the parent"
    finally:
        parent.kill()


async def test_children_do_not_outlive_a_parent_killed_outright(tmp_path):
    parent = supervised(tmp_path, "wait")
    try:
        await wait_for(lambda: len(child_pids(tmp_path)) == 3, timeout=60, what="three children")
        parent.kill()  # SIGKILL: the parent forwards nothing
        parent.wait(timeout=60)
        await wait_for(lambda: not any(alive(pid) for pid in child_pids(tmp_path)), timeout=60, what="children gone")
    finally:
        parent.kill()


def spool_held(directory: Path) -> bool:
    spool = Spool(directory, 1_000_000)
    try:
        spool.open()
    except SpoolBusy:
        return True
    except FileNotFoundError:
        return False
    spool.close()
    return False


async def test_two_serving_processes_share_the_port_spool_apart_and_the_first_runs_the_jobs(db_url, tmp_path):
    async with FakeGitLab() as gitlab:
        env = settings_for(db_url, gitlab, WEB_PROCESSES="2", SPOOL_DIR=str(tmp_path / "spool"))
        pipelines = [seed_failed_pipeline(gitlab.state, 9300 + i) for i in range(4)]
        bot = await start_bot(env, tmp_path)
        try:
            # Both children hold their own spool: both are serving.
            await wait_for(
                lambda: spool_held(tmp_path / "spool") and spool_held(tmp_path / "spool" / "process-1"),
                timeout=60,
                what="both serving processes",
            )
            statuses = await asyncio.gather(
                *(send_hook(bot.url, pipeline_hook(p), key=f"p{p['id']}") for p in pipelines)
            )
            assert statuses == [200] * len(pipelines)
            await settled(bot.url, timeout=120)
            await wait_for(lambda: bot_notes(gitlab), what="the MR note")
            assert len(bot_notes(gitlab)) == 1, "one note, kept up to date, whichever process took each delivery"
            assert "listening on" in bot.log() and bot.log().count("reconciliation sweep") <= 1
        finally:
            code = await bot.stop()
            print(bot.log())
        assert code == 0
        assert not spool_held(tmp_path / "spool") and not spool_held(tmp_path / "spool" / "process-1"), (
            "both children ended"
        )


class SilentDatabase:
    """A server on 127.0.0.1 that takes connections and never answers: a database that hangs."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self._held: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> SilentDatabase:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        for writer in self._held:
            writer.transport.abort()
        self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.append(writer)
        self.connected.set()


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_a_stop_asked_while_start_up_waits_for_the_database_ends_the_process_cleanly(tmp_path, command):
    # `docker stop` or a rolled-back deploy while the database hangs: exit 0 at once, not death by the signal
    # (-15) nor a wait for the database's connect timeout.
    async with SilentDatabase() as database, FakeGitLab() as gitlab:
        env = settings_for(f"postgresql+asyncpg://bot@127.0.0.1:{database.port}/test", gitlab)
        bot = BotProcess(env, tmp_path / "bot.log")
        bot.spawn(command)
        try:
            await asyncio.wait_for(database.connected.wait(), 120)  # start-up is waiting for the database
            assert await bot.stop() == 0, bot.log()
            assert STOPPED_DURING_STARTUP in bot.log()
        finally:
            bot.kill()
