"""Background jobs: long documents (the registerutdrag first) run as durable DBOS workflows in a job
worker process of their own (`formservice jobb`, started and supervised by `formservice run`), never
in a web worker and never in the render processes that serve interactive layouts.

DBOS keeps its queue and the workflows' progress in the installation's own database: in schema
"dbos" of the PostgreSQL database, or, with the embedded SQLite default, in instance/jobb.sqlite
beside formservice.sqlite (SQLite serialises writers, so the queue's polling must not contend with
the web's writes). A workflow that was running when the worker died, even by kill -9, is recovered
and finished when the worker starts again with the same executor id and application version.

What the user sees is a row of `Jobb` in the app's database: who asked, its state, the encrypted
parameters and result. DBOS itself is only ever given the job's public id, so no personal data
reaches its tables (which are neither encrypted nor gallrade).
"""
from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, delete, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from . import db
from .db import Base, utcnow

QUEUE = "langa"
# Every queue the worker takes workflows from, and how many of each it runs at once: "langa" one at
# a time; a module adds a queue of its own with queue() when it is imported (samverkan's e-mail, which
# must never wait behind a long document).
_queues: dict[str, int | None] = {QUEUE: 1}
# What the worker does when it has launched DBOS, besides queueing again the users' unfinished jobs:
# a module's own requeue (samverkan's SDK packages), added with at_start() when it is imported.
_at_start: list[Callable[[Any], Any]] = []
# Stable across deploys: DBOS recovers only the workflows of its own executor id and application
# version, so a version taken from the code would orphan a job that was running at a redeploy.
# Change it only together with an incompatible change of a workflow's steps.
APPLICATION_VERSION = "formservice-jobb-2"  # 2: every kind's steps made by jobs.workflow
EXECUTOR_ID = "formservice-jobb"


def executor_id() -> str:
    """This host's executor id. DBOS's recovery at launch takes back every unfinished workflow of its
    executor id, so two hosts on one database must each have one of their own (stable across
    restarts), or a worker starting on one host would run again a job the other is running now."""
    return os.environ.get("FORMSERVICE_JOBB_EXECUTOR") or EXECUTOR_ID


VANTAR, PAGAR, KLAR, FEL = "väntar", "pågår", "klar", "fel"
STATUS_TEXT = {VANTAR: "Tas fram…", PAGAR: "Tas fram…", KLAR: "Klar – hämta", FEL: "Det gick inte att ta fram"}
# A result is personal data: gone a day after it was downloaded, a week after it was made at the latest.
KEEP_AFTER_DOWNLOAD = timedelta(hours=24)
KEEP_AT_MOST = timedelta(days=7)


class Jobb(Base):
    """A job a user asked for and will come back to: its state and, when done, its file."""

    __tablename__ = "jobb"
    __encrypted__ = ("params_enc", "result_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # the workflow's name, e.g. "registerutdrag"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=VANTAR)
    params_enc: Mapped[bytes] = mapped_column(LargeBinary)
    result_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    filename: Mapped[str | None] = mapped_column(String(120), nullable=True)
    mimetype: Mapped[str | None] = mapped_column(String(80), nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)  # Swedish, for the user
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# ------------------------------------------------------------------ configuration

def system_database_url(app) -> str:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)
        return "sqlite:///" + os.path.join(app.instance_path, "jobb.sqlite")
    return url  # DBOS keeps its tables in schema "dbos" and itself uses the psycopg driver


def dbos_config(app) -> dict:
    return {"name": "formservice", "system_database_url": system_database_url(app),
            "application_version": APPLICATION_VERSION, "executor_id": executor_id(),
            "run_admin_server": False}


def migrate(app) -> None:
    """Create or update DBOS's own tables (the web's client needs them before any worker ran)."""
    from dbos import DBOS

    DBOS.migrate(system_database_url(app), schema="dbos")


_clients: dict[tuple[int, str], Any] = {}
_clients_lock = threading.Lock()


def client(app):
    # One client per process and database: gunicorn forks its workers, and a connection pool
    # must never be shared across a fork.
    from dbos import DBOSClient

    key = (os.getpid(), system_database_url(app))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = DBOSClient(system_database_url=key[1])
        return _clients[key]


def close_clients() -> None:
    """Tests: close this process's clients (each test has a database of its own)."""
    with _clients_lock:
        for client in _clients.values():
            client.destroy()
        _clients.clear()


def workflow_id(public_id: str) -> str:
    """The job's workflow id in DBOS: derived from the job, so queueing a job again is a no-op while
    DBOS still knows it (DBOS's "return-existing" on a workflow id in use)."""
    return f"jobb-{public_id}"


def enqueue(app, workflow_name: str, public_id: str) -> str:
    """Put the job's workflow on the long queue; returns DBOS's workflow id."""
    handle = client(app).enqueue({"queue_name": QUEUE, "workflow_name": workflow_name,
                                   "workflow_id": workflow_id(public_id)}, public_id)
    return handle.get_workflow_id()


def requeue_unfinished(app) -> int:
    """Queue again every job the user still waits for. DBOS keeps what it knows (a job it has is
    left as it is); a job DBOS has lost — its queue restored from an older backup than the
    database, or instance/jobb.sqlite deleted — is queued anew instead of waiting for ever.
    Called by the worker at start."""
    with app.app_context():
        waiting = db.session().execute(select(Jobb.kind, Jobb.public_id)
                                       .where(Jobb.status.in_((VANTAR, PAGAR)))).all()
    for kind, public_id in waiting:
        enqueue(app, kind, public_id)
    return len(waiting)


def at_start(requeue: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Have the worker call `requeue(app)` each time it starts (after DBOS is launched): for a module
    whose work is recorded in the app's database, to queue again what DBOS does not know (its
    enqueue failed, or DBOS's tables are older than the database). Call it at import."""
    if requeue not in _at_start:
        _at_start.append(requeue)
    return requeue


def queue(name: str, worker_concurrency: int | None = None) -> str:
    """Declare a queue of its own for the worker (registered when it launches DBOS); call it at
    import, as jobs.workflow. Returns the name, for the enqueueing."""
    _queues[name] = worker_concurrency
    return name


# ------------------------------------------------------------------ the user's job

def create(user, kind: str, params: dict[str, Any]) -> Jobb:
    """A job row for `user`, its parameters encrypted; committed so the worker can read it, then
    queued. The workflow gets the public id only."""
    from flask import current_app

    job = Jobb(public_id=secrets.token_urlsafe(18), kind=kind, user_id=user.id, status=VANTAR,
               params_enc=current_app.extensions["keyring"].encrypt_json(params))
    dbs = db.session()
    dbs.add(job)
    dbs.commit()
    enqueue(current_app, kind, job.public_id)
    return job


def own(user, public_id: str) -> Jobb | None:
    """The job, if it is this user's: anyone else, an admin too, gets None (and a 404)."""
    job = db.session().scalar(select(Jobb).where(Jobb.public_id == public_id))
    return job if job is not None and job.user_id == user.id else None


def params(job: Jobb) -> dict[str, Any]:
    from flask import current_app

    return current_app.extensions["keyring"].decrypt_json(job.params_enc, {})


def result(job: Jobb) -> bytes | None:
    from flask import current_app

    if job.status != KLAR or job.result_enc is None:
        return None
    return current_app.extensions["keyring"].decrypt(job.result_enc)


def mark_downloaded(job: Jobb) -> None:
    if job.downloaded_at is None:
        job.downloaded_at = utcnow()
        db.session().commit()


def purge(now: datetime | None = None) -> int:
    """Delete finished jobs whose result has been downloaded a day ago, and every job a week old
    (its parameters are personal data too). Run by `formservice gallra`."""
    now = now or utcnow()
    dbs = db.session()
    gone = dbs.execute(delete(Jobb).where(or_(Jobb.downloaded_at < now - KEEP_AFTER_DOWNLOAD,
                                              Jobb.created_at < now - KEEP_AT_MOST)))
    dbs.commit()
    return gone.rowcount or 0


# ------------------------------------------------------------------ the worker side

_app = None


def app():
    """The Flask app of the job worker; workflows run their steps in its app context."""
    if _app is None:
        raise RuntimeError("no job worker runs in this process")
    return _app


def started(public_id: str) -> Jobb | None:
    """In a workflow step: the job, marked "pågår" (committed, so the status page shows it), and
    its time limit running. None for a job that has failed: one stopped for taking too long is not
    tried again when DBOS recovers its workflow."""
    dbs = db.session()
    job = dbs.scalar(select(Jobb).where(Jobb.public_id == public_id))
    if job is None or job.status == FEL:
        return None
    if job.status != KLAR:
        job.status = PAGAR
        dbs.commit()
        _time_limit.arm(public_id)
    test_pause()
    return job


def finish(job: Jobb, body: bytes, filename: str, mimetype: str) -> None:
    """Store the result, encrypted; the caller commits (with its audit rows, in one transaction)."""
    from flask import current_app

    _time_limit.disarm()
    job.result_enc = current_app.extensions["keyring"].encrypt(body)
    job.filename, job.mimetype = filename, mimetype
    job.status, job.finished_at = KLAR, utcnow()


def fail(public_id: str, text: str) -> None:
    _time_limit.disarm()
    dbs = db.session()
    dbs.rollback()
    job = dbs.scalar(select(Jobb).where(Jobb.public_id == public_id))
    if job is not None:
        job.status, job.error, job.finished_at = FEL, text, utcnow()
        dbs.commit()


def workflow(kind: str, produce: Callable[[Jobb], tuple[bytes, str, str]], failed: str):
    """Register the DBOS workflow of a job kind and return it. `produce(job)` gives (body, file name,
    mimetype) and may add rows to the session (its audit rows): one step, retried, commits them with
    the result in one transaction, so a step cut off by kill -9 leaves nothing and runs again after
    recovery. When the retries are spent the job becomes "fel" with the Swedish text `failed`; the
    cause goes to the log. The module that calls this must be imported before the worker launches
    DBOS (the app's blueprints import every kind's module)."""
    from dbos import DBOS

    @DBOS.step(name=f"{kind}.produce", retries_allowed=True, max_attempts=3)
    def produce_step(public_id: str) -> None:
        with app().app_context():
            job = started(public_id)
            if job is None or job.status == KLAR:
                return
            finish(job, *produce(job))
            db.session().commit()

    @DBOS.step(name=f"{kind}.failed")
    def failed_step(public_id: str) -> None:
        with app().app_context():
            fail(public_id, failed)

    @DBOS.workflow(name=kind)
    def run(public_id: str) -> None:
        try:
            produce_step(public_id)
        except Exception:  # noqa: BLE001 — retries are spent: the user sees `failed`, the log the cause
            DBOS.logger.exception("%s %s misslyckades", kind, public_id)
            failed_step(public_id)

    return run


def test_pause() -> None:
    """TEST ONLY: FORMSERVICE_JOBB_TESTPAUS=<seconds> holds every job step that long after it is
    marked "pågår", so a test can kill the worker mid-job deterministically. Never set in production."""
    pause = float(os.environ.get("FORMSERVICE_JOBB_TESTPAUS") or 0)
    if pause > 0:
        time.sleep(pause)


def start_worker(flask_app) -> None:
    """Launch DBOS in this process: it recovers this executor's unfinished workflows and takes
    jobs from the long queue, one at a time (a long document may need gigabytes), and from every
    queue declared with queue()."""
    global _app
    from dbos import DBOS

    _app = flask_app
    DBOS(config=dbos_config(flask_app))
    DBOS.launch()
    for name, concurrency in _queues.items():
        DBOS.register_queue(name, worker_concurrency=concurrency)
    requeue_unfinished(flask_app)
    for requeue in _at_start:
        requeue(flask_app)


def stop_worker() -> None:
    global _app
    from dbos import DBOS

    DBOS.destroy(destroy_registry=False)  # the workflows stay registered for a next launch
    _app = None


TOO_LONG = ("Det tog för lång tid att ta fram dokumentet ({minutes} minuter), så det avbröts. Försök igen "
            "med ett mindre urval, eller kontakta den som sköter formservice.")


class _TimeLimit:
    """What one job may take in the worker process (`formservice jobb`, FORMSERVICE_JOBB_SECONDS).
    A layout cannot be interrupted from outside, so a job over its time is marked "fel" and the
    process ends itself: its supervisor (`formservice run`, or systemd) starts a new one, DBOS
    recovers the workflow, and the step finds the job failed and does nothing. The queue goes on
    with the next job instead of waiting behind one that never ends. Armed only in a worker process
    of its own (never in a test's or a web worker's process)."""

    def __init__(self):
        self.seconds: float | None = None
        self._timer: threading.Timer | None = None

    def arm(self, public_id: str) -> None:
        self.disarm()
        if self.seconds:
            self._timer = threading.Timer(self.seconds, self._overdue, (public_id,))
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _overdue(self, public_id: str) -> None:
        import logging

        try:
            with app().app_context():
                fail(public_id, TOO_LONG.format(minutes=max(1, round(self.seconds / 60))))
                db.session().remove()
        finally:
            logging.getLogger("formservice").error(
                "jobbet %s tog mer än %d s och avbröts; jobbprocessen startar om", public_id, self.seconds)
            os._exit(75)  # EX_TEMPFAIL: the supervisor starts the worker again


_time_limit = _TimeLimit()
JOB_SECONDS = 30 * 60  # the registerutdrag of a person with a thousand ärenden takes minutes


def run_worker(flask_app) -> None:
    """`formservice jobb`: the worker until SIGTERM or SIGINT. A job cut off here is recovered at
    the next start (DBOS resumes it from its last finished step)."""
    _time_limit.seconds = float(os.environ.get("FORMSERVICE_JOBB_SECONDS") or JOB_SECONDS)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    start_worker(flask_app)
    flask_app.logger.info("jobbprocessen är igång (kö %r)", QUEUE)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        stop_worker()
