"""Several serving processes on one port: forked children that share their fate, each with its own slot number.

Python runs one request at a time per process, so on a machine with several cores `serve --processes N` forks N
children that each bind the port with SO_REUSEPORT (the kernel spreads connections over them). The parent only
forwards SIGTERM/SIGINT and waits: when one child ends on its own, the others are stopped and the parent exits with
that child's code, so whatever restarts the bot (systemd, Kubernetes, compose) restarts all of it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable

from bot.runtime.native import libc_function

log = logging.getLogger(__name__)

_FORWARDED = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def run_processes(count: int, child: Callable[[int], int]) -> int:
    """Fork `count` children running child(slot) for slots 0..count-1; return 0 after a requested stop, else the
    exit code of the first child that ended on its own (the others are stopped then)."""
    stopping = False
    children: dict[int, int] = {}  # pid -> slot
    parent = os.getpid()

    def stop_all(signum: int, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    # Signals wait (blocked, not lost) until every child is forked and the parent's handler is in place.
    signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
    previous = {sig: signal.getsignal(sig) for sig in _FORWARDED}
    try:
        for slot in range(count):
            pid = os.fork()
            if pid == 0:  # the child: default handling until its event loop sets up its own
                for sig in _FORWARDED:
                    signal.signal(sig, signal.SIG_DFL)
                _stop_with_parent(parent)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
                code = 1
                try:
                    code = child(slot)
                except BaseException:  # a child must never return into the parent's code
                    log.exception("serving process %d failed", slot)
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            children[pid] = slot
        for sig in _FORWARDED:
            signal.signal(sig, stop_all)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
        result = 0
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            slot = children.pop(pid, None)
            if slot is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if not stopping:
                log.error("serving process %d (pid %d) ended with code %d; stopping the others", slot, pid, code)
                result = code if code > 0 else 1
                stopping = True
                for other in children:
                    _signal(other, signal.SIGTERM)
        return result
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_with_parent(parent: int) -> None:
    """Ask Linux for a SIGTERM when the parent dies (even by SIGKILL), so no child keeps serving the port alone."""
    prctl = libc_function("prctl")
    if prctl is None:
        return  # not Linux: the parent's SIGTERM still reaches the children
    prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass  # it has just ended; the wait loop collects it
