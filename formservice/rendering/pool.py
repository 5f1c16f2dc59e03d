"""Render processes shared by every web worker: one first-come queue for all layouts.

Laying out a PDF is pure CPU. Rendered inside the web workers, two renders in one worker take
turns on its GIL, and a worker that already renders can still accept the next request while the
other worker idles (measured: p95 at four clients on two cores 4 × the single render, 1.1–1.25 ×
bare WeasyPrint's CPU per document). Here the renders go to `processes` single-threaded processes
that all block in accept() on one socket: the kernel hands each waiting job to whichever process
is free, in order, so no render waits behind another while a core is idle, and the web workers
keep their threads for slow clients and pages.

The web side sends a `pdf.Job` (the HTML and what to write from its one layout) and gets the
outputs back in the job's order: the first as soon as it is written (what the user waits for),
the rest read by a background thread so that the render process never waits for a web worker
that is still sending its response. A render process that has sent a document's first output
holds the layout and writes the rest (archive copy, parts) only when the web side asks for it
(a "G" on the connection, sent when the document's rest starts: after the user has the done page
and the print PDF, and while no click's print is being laid out), or after `GO_WAIT_S`, or when
it holds `MAX_PENDING` of them; meanwhile it takes any click first, so neither a burst of clicks
nor the pages that follow a click share the CPU with a rest; work nobody waits for
(`background()`) comes last. Which render processes are laying out a click's print right now is
in a small shared map (`printing_now`), so that a web worker's own share of a rest (the DOCX)
waits for them too (`yield_to_prints`). When no render process answers (none configured, the pool
stopped or restarted), the job runs in the calling process instead: rendering never depends on
the pool being up.

The socket is in Linux's abstract namespace (no path to clean up or to outgrow 108 bytes), and a
render process serves only connections from its own user (SO_PEERCRED).
"""
from __future__ import annotations

import gc
import json
import logging
import mmap
import os
import queue
import secrets
import select
import signal
import socket
import struct
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Iterator

from .supervisor import die_with_parent, limit_memory, start as start_supervisor, stop as stop_supervisor

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
MAX_JOB_BYTES = 64 * 1024 * 1024  # the HTML of the largest packet is a few hundred kB
CLIENT_TIMEOUT_S = 120            # a job queued behind a full pool, then laid out
# What one job may take in a render process (FORMSERVICE_RENDER_JOB_SECONDS, _MEMORY_MB): under the
# caller's timeout, so that the caller hears why; over it the process stops the job, answers, and is
# replaced (a layout cut off mid-way may leave Pango's state half-done).
JOB_SECONDS = 100
JOB_MEMORY_MB = 1536

_address: str | None = None  # where the web side sends jobs; set in the server before it forks
# Per pool, one byte per render process, 1 while it lays out a click's print: shared (an anonymous
# shared mapping made in the server before it forks) by the render processes, which write it, and
# the web workers, which read it. A process that dies is replaced in its slot, which the supervisor clears.
_printing: dict[str, mmap.mmap] = {}  # pool address -> its map
_my_slot: tuple[mmap.mmap, int] | None = None  # in a render process: its map and its byte in it


class RenderError(RuntimeError):
    """A render process could not write the document (its message says why)."""


class JobOverLimit(RenderError):
    """The document needed more time or memory than one render job may take (the render process
    stopped it and was replaced): the web answers 503 with a Swedish message, never a 500."""

    retry_after = 60


class RendererBusy(RenderError):
    """The render processes had the job and did not answer in time: the service is overloaded, not
    broken. The web answers 503 with Retry-After and a Swedish "försök igen om en stund"."""

    retry_after = 30


def use(address: str | None) -> None:
    """Send render jobs to the pool at `address` (None: render in this process)."""
    global _address
    _address = address


def in_use() -> bool:
    return _address is not None


PRINT_YIELD_S = 2.0  # the longest a rest's step waits for clicks' prints: a stream of them never starves it
_YIELD_POLL_S = 0.01


def printing_now() -> int:
    """How many render processes are laying out a click's print at this moment."""
    printing = _printing.get(_address) if _address is not None else None
    return 0 if printing is None else sum(printing[:])


def yield_to_prints(limit_s: float = PRINT_YIELD_S) -> None:
    """In work nobody waits for (inside `background()`): wait, at most `limit_s`, until no render
    process lays out a click's print – the rest of a document goes after every print in progress,
    also the part of it a web worker does itself. Elsewhere (a user waits) it returns at once."""
    if not getattr(_background, "active", False):
        return
    deadline = time.monotonic() + limit_s
    while printing_now() and time.monotonic() < deadline:
        time.sleep(_YIELD_POLL_S)


# Work nobody is waiting for (the doctor's fillable copy, written after the click's response) goes to
# a second socket of the same render processes, which take a job from it only when no interactive
# job ("Ta fram", a part, a preview) is waiting: it never delays a click behind it.
_BACKGROUND = "-bakgrund"
_background = threading.local()


@contextmanager
def background():
    """Render jobs submitted by this thread inside the block are background work."""
    previous = getattr(_background, "active", False)
    _background.active = True
    try:
        yield
    finally:
        _background.active = previous


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


_tidy_when_idle = False  # set in a render process (`_serve`)
TIDY_AFTER_JOBS = 3  # a render process busy for longer collects between jobs all the same


def _tidy() -> None:
    """What the jobs since the last time left (the frozen start-up objects are not walked)."""
    gc.collect()
    gc.enable()


# ------------------------------------------------------------------------------ client side


def submit(job) -> Iterator[bytes] | None:
    """The outputs of `job` from the pool, or None when no render process takes it (run it here).
    The first output is read before this returns, so an error surfaces in the caller's request."""
    handed = hand_over(job)
    return None if handed is None else handed.outputs()


def hand_over(job) -> "HandedOver | None":
    """`job` sent to a render process, which starts on it while the caller does other work (the
    click's database work while its print PDF is laid out); None when no render process takes it."""
    address = _address
    if address is None:
        return None
    if getattr(_background, "active", False):
        yield_to_prints()  # and then the render processes take it only when no click waits
        address += _BACKGROUND
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(CLIENT_TIMEOUT_S)
    header = json.dumps({"forms": job.forms, "report": job.report, "variant": job.variant,
                         "archive": job.archive, "parts": job.parts}).encode()
    html = job.html.encode("utf-8")
    try:
        try:
            conn.connect(address)
        except OSError as exc:  # no pool listening, or its queue full: the job was never handed over
            raise ConnectionError(str(exc)) from exc
        conn.sendall(_LENGTH.pack(len(header)) + header + _LENGTH.pack(len(html)) + html)
    except (EOFError, ConnectionError) as exc:
        conn.close()
        _warn_unreachable(exc)
        return None
    except TimeoutError:  # queued, but no render process read it in time: all busy
        conn.close()
        raise RendererBusy(f"renderprocesserna svarade inte på {CLIENT_TIMEOUT_S} s") from None
    except BaseException:
        conn.close()
        raise
    return HandedOver(conn, (1 if job.archive else 0) + job.parts)


class HandedOver:
    """A job a render process has: `outputs()` waits for the first, `cancel()` gives it up."""

    def __init__(self, conn: socket.socket, rest: int) -> None:
        self.conn, self.rest = conn, rest

    def outputs(self) -> Iterator[bytes] | None:
        """The job's outputs, the first read now; None when its render process ended mid-job
        (killed, restarted): nobody else is laying this document out, so the caller does."""
        conn = self.conn
        try:
            first = _read_output(conn)
        except (EOFError, ConnectionError) as exc:
            conn.close()
            _warn_unreachable(exc)
            return None
        except TimeoutError:  # a render process has the job and is still at it: do not start a second
            conn.close()
            raise RendererBusy(f"renderprocesserna svarade inte på {CLIENT_TIMEOUT_S} s") from None
        except BaseException:  # the render process's own error: the caller's
            conn.close()
            raise
        return _outputs(conn, first, self.rest)

    def cancel(self) -> None:
        """The caller will not take the outputs: the render process sees the closed connection
        and drops the job (`_caller_gone`, or its next send fails)."""
        self.conn.close()


_last_warning = 0.0


def _warn_unreachable(exc: BaseException) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:  # once a minute, not once per document
        _last_warning = time.monotonic()
        log.warning("renderprocesserna svarar inte (%s): dokumenten skapas i webbprocessen", type(exc).__name__)


def _outputs(conn: socket.socket, first: bytes, expected: int) -> Iterator[bytes]:
    """The first output, then the rest as a background thread reads them: it starts now, so the
    render process writes on at its own pace, whatever the web side does meanwhile."""
    if not expected:
        conn.close()
        return iter([first])
    rest: queue.Queue = queue.Queue()

    def drain() -> None:
        try:
            for _ in range(expected):
                rest.put(_read_output(conn))
        except BaseException as exc:  # noqa: BLE001 — handed to whoever takes the next output
            rest.put(exc)
        finally:
            conn.close()

    threading.Thread(target=drain, name="render-outputs", daemon=True).start()

    def taken() -> Iterator[bytes]:
        yield first
        yield_to_prints()
        try:
            conn.sendall(_GO)  # the render process may write the rest now
        except OSError:
            pass  # it went away: the drain thread has the reason
        for _ in range(expected):
            item = rest.get()
            if isinstance(item, BaseException):
                raise RenderError(f"renderprocessen avbröt: {item}") from item
            yield item

    return taken()


def _read_output(conn: socket.socket) -> bytes:
    kind = _read_exactly(conn, 1)
    body = _read_exactly(conn, _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))[0])
    if kind == b"E":
        raise RenderError(body.decode("utf-8", "replace"))
    if kind == b"L":
        raise JobOverLimit(body.decode("utf-8", "replace"))
    return body


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------------------ server side


class RenderPool:
    """The render processes, under a supervisor process that restarts any that dies. Start it in
    the server's master before the web workers are forked; it ends when that process ends."""

    def __init__(self, processes: int, *, job_seconds: float | None = None, job_memory_mb: int | None = None):
        self.processes = processes
        self.limits = (float(job_seconds or os.environ.get("FORMSERVICE_RENDER_JOB_SECONDS") or JOB_SECONDS),
                       int(job_memory_mb or os.environ.get("FORMSERVICE_RENDER_JOB_MEMORY_MB") or JOB_MEMORY_MB))
        self.address = f"\0formservice-render-{os.getpid()}-{secrets.token_hex(8)}"
        self.supervisor: int | None = None

    def start(self) -> str:
        """The render processes started; returns their address, for `use`. The map of who prints
        now is made here too, before the web workers are forked, so that they all share it."""
        printing = _printing[self.address] = mmap.mmap(-1, self.processes, flags=mmap.MAP_SHARED)
        listeners = []
        for address in (self.address, self.address + _BACKGROUND):
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(address)
            listener.listen(128)
            listener.setblocking(False)  # every render process waits on both; one of them takes a job
            listeners.append(listener)
        interactive, bg = listeners
        self.supervisor = start_supervisor(lambda: _supervise((interactive, bg), printing, self.limits))
        for listener in listeners:
            listener.close()  # only the render processes accept; the web workers must not inherit them
        return self.address

    def stop(self) -> None:
        stop_supervisor(self.supervisor)
        self.supervisor = None
        _printing.pop(self.address, None)


def _supervise(listeners: tuple[socket.socket, socket.socket], printing: mmap.mmap, limits: tuple[float, int]) -> None:
    global _my_slot
    processes = len(printing)
    me = os.getpid()
    children: dict[int, int] = {}  # pid -> its slot in _printing
    try:
        while True:
            for slot in sorted(set(range(processes)) - set(children.values())):
                pid = os.fork()
                if pid == 0:
                    _my_slot = (printing, slot)
                    _child(listeners, me, limits)
                children[pid] = slot
            pid, status = os.waitpid(-1, 0)
            if pid in children:
                printing[children.pop(pid)] = 0  # it may have died mid-print
                log.warning("en renderprocess avslutades (status %s) och startas om", status)
                time.sleep(0.2)  # a process that dies at once must not make this loop spin
    finally:  # stopped (SIGTERM raised supervisor.Stop) or failed: no render process outlives us
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _child(listeners: tuple[socket.socket, socket.socket], supervisor: int, limits: tuple[float, int]) -> None:
    code = 1
    try:
        _serve(listeners, supervisor, limits)
        code = 0
    except _Replace as exc:
        log.warning("renderprocessen ersätts: %s", exc)
    except BaseException:  # noqa: BLE001
        log.exception("renderprocessen avslutades av ett fel")
    finally:
        os._exit(code)


class _Replace(Exception):
    """This render process stops and the supervisor starts a new one (a job was cut off)."""


def _serve(listeners: tuple[socket.socket, socket.socket], supervisor: int,
           limits: tuple[float, int] = (JOB_SECONDS, JOB_MEMORY_MB)) -> None:
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
    global _tidy_when_idle
    _tidy_when_idle = True
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
_GO = b"G"


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
        raise _Replace("den som väntade på dokumentet gav upp; jobbet avbröts") from None
    except (JobOverLimit, MemoryError) as exc:
        what = str(exc) if isinstance(exc, JobOverLimit) else "dokumentet behövde mer minne än ett jobb får ta"
        _send_quietly(task.conn, b"L", what)
        raise _Replace(what) from None
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
