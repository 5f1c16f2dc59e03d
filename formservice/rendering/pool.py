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
and the print PDF, and while no click's print is being laid out), or after a while, or when it
holds a few of them (render_process.py: the render process's side); meanwhile it takes any click
first, so neither a burst of clicks nor the pages that follow a click share the CPU with a rest; work nobody waits for
(`background()`) comes last. Which render processes are laying out a click's print right now is
in a small shared map (`printing_now`), so that a web worker's own share of a rest (the DOCX)
waits for them too (`yield_to_prints`). When no render process answers (none configured, the pool
stopped or restarted), the job runs in the calling process instead: rendering never depends on
the pool being up.

The socket is in Linux's abstract namespace (no path to clean up or to outgrow 108 bytes), and a
render process serves only connections from its own user (SO_PEERCRED).
"""
from __future__ import annotations

import json
import logging
import mmap
import os
import queue
import secrets
import signal
import socket
import struct
import threading
import time
from contextlib import contextmanager, suppress
from typing import Iterator

from .supervisor import start as start_supervisor, stop as stop_supervisor

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
_GO = b"G"  # the web side's word on a held rest: write it now (render_process.py)
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
        try:
            yield first
        except GeneratorExit:  # dropped before the rest was asked for: the render process drops the layout
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # (also wakes the drain thread, which a close would not)
            raise
        yield_to_prints()
        with suppress(OSError):  # it went away: the drain thread has the reason
            conn.sendall(_GO)  # the render process may write the rest now
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
    processes = len(printing)
    me = os.getpid()
    children: dict[int, int] = {}  # pid -> its slot in _printing
    try:
        while True:
            for slot in sorted(set(range(processes)) - set(children.values())):
                pid = os.fork()
                if pid == 0:
                    _child(listeners, me, limits, (printing, slot))
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


def _child(listeners: tuple[socket.socket, socket.socket], supervisor: int, limits: tuple[float, int],
           slot: tuple[mmap.mmap, int]) -> None:
    from . import render_process

    code = 1
    try:
        render_process.serve(listeners, supervisor, limits, slot)
        code = 0
    except render_process.Replace as exc:
        log.warning("renderprocessen ersätts: %s", exc)
    except BaseException:  # noqa: BLE001
        log.exception("renderprocessen avslutades av ett fel")
    finally:
        os._exit(code)
