"""One render process (rendering/pool.py starts them, under a supervisor): it warms its own
WeasyPrint, then takes jobs from the two listening sockets it shares with the others – a click's print
first, work nobody waits for last – lays each out once and sends its outputs back in order: the first
at once; the rest (archive copy, parts) when the web side asks for it ("G"), after `GO_WAIT_S`, or when
it holds `MAX_PENDING` laid-out documents, taking any click first meanwhile. While it lays out a
click's print its byte in the pool's shared map is 1 (`pool.printing_now`). Every job has a time and a
memory limit; a job cut off mid-layout, or whose caller gave up, replaces the process (`Replace`)."""
from __future__ import annotations

import gc
import json
import logging
import mmap
import os
import select
import signal
import socket
import struct
import time
from collections import deque
from contextlib import contextmanager
from typing import Iterator

from .pool import _GO, _LENGTH, CLIENT_TIMEOUT_S, MAX_JOB_BYTES, JobOverLimit, _read_exactly
from .supervisor import die_with_parent, limit_memory

log = logging.getLogger(__name__)

_my_slot: tuple[mmap.mmap, int] | None = None  # this render process's map and its byte in it


@contextmanager
def collector_paused():
    """In a render process, no pause of Python's cycle collector in what the caller waits for. A
    layout makes hundreds of thousands of objects, which set off collections in the middle of the
    print PDF (measured: 3–6 % of a förfrågan's), so the collector is switched off here and left
    off for the rest of the job; the process collects when it is idle, or after a few jobs in a row
    (`_tidy`). A collection then walks only what the jobs left: the long-lived rest (the app, the
    fonts, the CSS) was frozen when the process started. Elsewhere (a web process laying out because
    no render process answered) nothing changes: nobody there would collect later."""
    if _tidy_when_idle:
        gc.disable()
    yield


_tidy_when_idle = False  # set in a render process (`serve`)
TIDY_AFTER_JOBS = 3  # a render process busy for longer collects between jobs all the same


def _tidy() -> None:
    """What the jobs since the last time left (the frozen start-up objects are not walked)."""
    gc.collect()
    gc.enable()


class Replace(Exception):
    """This render process stops and the supervisor starts a new one (a job was cut off)."""


def serve(listeners: tuple[socket.socket, socket.socket], supervisor: int, limits: tuple[float, int],
          slot: tuple[mmap.mmap, int] | None = None) -> None:
    """A render process's life: warm up, then take jobs until the supervisor is gone (or `Replace`)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(supervisor, signal.SIGKILL)
    from . import pdf

    pdf.fresh_lock_after_fork()
    pdf.reset_engine(after_fork=True)  # fonts and CSS of its own, not the copy forked from the master
    pdf.warm_up(render=True)
    # The app forked from the master and the warm engine live as long as this process: out of the
    # collector's sight, so that a full collection during a render does not walk them every time.
    gc.collect()
    gc.freeze()
    global _tidy_when_idle, _my_slot
    _tidy_when_idle, _my_slot = True, slot
    limit_memory(limits[1])
    me = os.getuid()
    interactive, bg = listeners
    pending: deque[_Task] = deque()  # documents whose print PDF is sent and whose rest is still to write
    untidy = 0  # jobs ended since the last collection
    while os.getppid() == supervisor:
        now = time.monotonic()
        ready = [t for t in pending if t.go or now >= t.go_by]  # rests that may be written now
        held = [t for t in pending if t not in ready]
        wait = 0.0 if ready or untidy else min([t.go_by - now for t in held] + [1.0])
        readable, _, _ = select.select([interactive, bg, *(t.conn for t in held)], [], [], max(wait, 0.0))
        heard = [t for t in held if t.conn in readable]
        for task in heard:
            if not _heard_go(task):  # its caller gave up: the layout is dropped
                pending.remove(task)
                task.conn.close()
                untidy += 1
        if heard:
            continue
        if untidy and ((not readable and not ready) or untidy >= TIDY_AFTER_JOBS):
            _tidy()  # the finished jobs' objects, while no one waits (collector_paused)
            untidy = 0
            continue
        if interactive in readable and ready:
            # An idle render process takes it first, if there is one: this one has work to go back to.
            time.sleep(_IDLE_FIRST_S)
            readable, _, _ = select.select([interactive, bg], [], [], 0)
        if interactive in readable and len(pending) < MAX_PENDING:
            listener = interactive  # a click's print PDF goes before any rest
        elif ready or (pending and interactive in readable):  # full: the oldest rest goes first
            task = ready[0] if ready else pending[0]
            if not _step(task):
                pending.remove(task)
                task.conn.close()
                untidy += 1
            continue
        elif bg in readable:
            listener = bg
        else:
            continue
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            continue  # another render process took it
        _mark_printing(listener is interactive)
        try:
            task = _accept(conn, me, pdf, limits[0])
            first_sent = task is not None and _step(task)
        finally:
            _mark_printing(False)
        if first_sent:
            task.go_by = time.monotonic() + GO_WAIT_S
            pending.append(task)  # its rest waits for the web side's word, and for every click meanwhile
        elif task is not None:
            conn.close()
            untidy += 1


def _mark_printing(printing: bool) -> None:
    """This render process's byte in its pool's shared map."""
    if _my_slot is not None:
        _my_slot[0][_my_slot[1]] = 1 if printing else 0


def _heard_go(task: "_Task") -> bool:
    """What the web side said on a held rest's connection: "G" (write it now) -> True; end of file
    (the caller gave up, or went away) -> False."""
    try:
        said = task.conn.recv(1, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False
    task.go = said == _GO
    return task.go


# What a render process holds back for a click that comes meanwhile: each is a laid-out document
# (tens of MB at most), so a few; past that the oldest rest is written first.
MAX_PENDING = 3
_IDLE_FIRST_S = 0.005
# A held rest is written when the web side asks (`_GO`), or after this: a web worker that never asks
# (it died, or it is stuck) must not keep the layout for ever. Its outputs are read all the same.
GO_WAIT_S = 5.0


class _Task:
    """One job in a render process: its connection, its outputs still to write (lazily, from one
    layout), and how much of its time limit is left."""

    def __init__(self, conn: socket.socket, outputs: Iterator[bytes], seconds: float, rest: int = 0):
        self.conn, self.outputs, self.left = conn, outputs, seconds
        self.go = rest == 0  # nothing to hold: its end is written (and the connection closed) at once
        self.go_by = 0.0     # set when the first output is sent


def _accept(conn: socket.socket, me: int, pdf, seconds: float) -> _Task | None:
    """The job sent on `conn` as a task, or None (another user, or nonsense: the connection closed)."""
    try:
        conn.setblocking(True)
        conn.settimeout(CLIENT_TIMEOUT_S)
        uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
        if uid != me:
            log.warning("renderprocessen vägrade en anslutning från användare %s", uid)
        else:
            job = _read_job(conn, pdf)
            return _Task(conn, pdf.run_job(job), seconds, rest=int(job.archive) + job.parts)
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        pass  # the web side went away or sent nonsense: the next job
    conn.close()
    return None


class _CallerGone(Exception):
    pass


def _caller_gone(conn: socket.socket) -> bool:
    """The web side closed the connection (it gave up): it has sent all it will send, so a readable
    socket means end of file."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _watch(conn: socket.socket, seconds: float):
    """Once a second during the job: stop it when it has run `seconds`, or when its caller has gone
    (a cancelled request must not keep a render process from the next caller)."""
    started = time.monotonic()

    def tick(_sig, _frame) -> None:
        if time.monotonic() - started > seconds:
            raise JobOverLimit(f"dokumentet tog mer än {seconds:g} s att lägga ut")
        if _caller_gone(conn):
            raise _CallerGone

    signal.signal(signal.SIGALRM, tick)
    signal.setitimer(signal.ITIMER_REAL, 1.0, 1.0)


def _read_job(conn: socket.socket, pdf):
    header_size = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))[0]
    if header_size > 4096:
        raise ValueError("header too large")
    header = json.loads(_read_exactly(conn, header_size))
    html_size = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))[0]
    if html_size > MAX_JOB_BYTES:
        raise ValueError("job too large")
    return pdf.Job(_read_exactly(conn, html_size).decode("utf-8"), forms=bool(header["forms"]),
                   report=bool(header["report"]), variant=str(header["variant"]),
                   archive=bool(header["archive"]), parts=int(header["parts"]))


def _step(task: _Task) -> bool:
    """Write and send the task's next output; False when it has no more, or failed (the caller
    heard why). A job cut off mid-layout (over a limit, its caller gone) replaces the process."""
    _watch(task.conn, task.left)
    begun = time.monotonic()
    try:
        output = next(task.outputs)
        task.conn.sendall(b"O" + _LENGTH.pack(len(output)) + output)
        return True
    except StopIteration:
        return False
    except (OSError, EOFError):
        return False  # the web side went away between outputs: nothing is cut off
    except _CallerGone:
        raise Replace("den som väntade på dokumentet gav upp; jobbet avbröts") from None
    except (JobOverLimit, MemoryError) as exc:
        what = str(exc) if isinstance(exc, JobOverLimit) else "dokumentet behövde mer minne än ett jobb får ta"
        _send_quietly(task.conn, b"L", what)
        raise Replace(what) from None
    except Exception as exc:  # noqa: BLE001 — the web side raises it as a RenderError
        log.exception("renderprocessen kunde inte skriva dokumentet")
        _send_quietly(task.conn, b"E", f"{type(exc).__name__}: {exc}")
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        task.left -= time.monotonic() - begun


def _send_quietly(conn: socket.socket, kind: bytes, message: str) -> None:
    """An error to the caller, who may have gone already."""
    body = message.encode("utf-8", "replace")[:4000]
    try:
        conn.sendall(kind + _LENGTH.pack(len(body)) + body)
    except OSError:
        pass
