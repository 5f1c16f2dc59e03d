"""A supervisor process: forked by the server's master before gunicorn forks its workers, it keeps
its own children running (the render processes of pool.py, the job worker of server.py) and ends
with the master, even when the master is killed with SIGKILL.

Forked before gunicorn, because gunicorn's master reaps every child it has and so must never be
the one to wait for ours. The body runs until SIGTERM (from `stop`, or from Linux when the master
dies: PR_SET_PDEATHSIG) raises `Stop` in it, typically out of a blocking wait; the body's own
`finally` then ends its children.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
from pathlib import Path
from typing import Callable

_PR_SET_PDEATHSIG = 1


class Stop(Exception):
    """Raised in the supervisor by SIGTERM: time to end the children and exit."""


def _raise_stop(_sig, _frame) -> None:
    raise Stop  # out of waitpid or Popen.wait, which Python would otherwise retry after the signal


def die_with_parent(parent: int, sig: int) -> None:
    """Linux sends `sig` to this process when the process that forked it ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass  # not Linux: the children's own parent checks still end them
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(0)


def start(body: Callable[[], None]) -> int:
    """Fork a supervisor running `body` until it is stopped; returns its pid (for `stop`)."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the master, whose end then ends us
            signal.signal(signal.SIGTERM, _raise_stop)
            die_with_parent(parent, signal.SIGTERM)
            try:
                body()
            except Stop:
                pass
            code = 0
        finally:
            os._exit(code)
    return pid


def stop(pid: int | None) -> None:
    """Ask the supervisor to end its children and itself, and wait for it."""
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def limit_memory(megabytes: int) -> None:
    """This process's private writable memory (the heap: RLIMIT_DATA, counted by Linux since 4.7)
    may grow by at most `megabytes` over what it holds now; past it an allocation fails with
    MemoryError, which ends the job that asked for it instead of the machine's other services."""
    import resource

    try:
        status = Path("/proc/self/status").read_text()
        held_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmData:")))
        limit = held_kb * 1024 + megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (OSError, ValueError, StopIteration) as exc:
        logging.getLogger(__name__).warning("minnesgränsen kunde inte sättas: %s", exc)
