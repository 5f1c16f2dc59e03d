"""Background jobs (formservice/jobs.py) on a real instance: a `formservice jobb` process is killed
with SIGKILL in the middle of a registerutdrag, started again, and the job finishes with the right
result and one set of audit rows; `formservice run` starts the worker (a job queued meanwhile is
finished) and ends it with itself, and its supervisor restarts a dead worker. SQLite and (marked
db) PostgreSQL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from formservice import create_app, db, jobs
from formservice.accounts.models import User
from formservice.audit import AuditEntry

from .command_line import CLI, ROOT, SMALL_DEMO, environment, formservice, kill_hard
from .conftest import PG_URL, reset_postgres



def drop_job_queue(url: str) -> None:
    """DBOS's schema, dropped: no workflow of an earlier test may be recovered in this one."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS dbos CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[
    pytest.mark.db, pytest.mark.skipif(not PG_URL, reason="FORMSERVICE_TEST_DATABASE_URL saknas")])])
def settings(request) -> dict[str, str]:
    """The installation's database: the embedded SQLite default, or PostgreSQL (DBOS in schema dbos)."""
    if request.param == "postgresql":
        reset_postgres(PG_URL)
        drop_job_queue(PG_URL)
        return {"FORMSERVICE_DATABASE_URL": PG_URL}
    return {}


@pytest.fixture
def instance(tmp_path, settings) -> Path:
    """A real instance made by the service's own commands, with the demo's ärenden."""
    instance = tmp_path / "instance"
    for command in (["init-instance"], ["init-db"], SMALL_DEMO):
        done = formservice(instance, *command, **settings)
        assert done.returncode == 0, done.stderr
    return instance


@pytest.fixture
def app(instance, settings, monkeypatch):
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    application = create_app({"TESTING": True})  # the instance's config.py, keys.json and SQLite database
    yield application
    jobs.close_clients()
    application.extensions["db_engine"].dispose()


def start_worker(instance: Path, **settings: str) -> subprocess.Popen:
    # Its log goes to a file (a pipe nobody reads could fill and stall it), read back on failure.
    with open(instance.parent / "jobb.log", "a") as log:
        return subprocess.Popen(CLI + ["jobb"], env=environment(instance, **settings), cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)


def worker_log(instance: Path) -> str:
    return (instance.parent / "jobb.log").read_text()


def status(app, public_id: str) -> jobs.Jobb:
    with app.app_context():
        return db.session().scalar(select(jobs.Jobb).where(jobs.Jobb.public_id == public_id))


def wait_for(app, public_id: str, wanted: set[str], seconds: float = 90) -> jobs.Jobb:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = status(app, public_id)
        if job.status in wanted:
            return job
        time.sleep(0.1)
    raise AssertionError(f"{job.status} blev inte {wanted}")


def test_a_job_cut_off_by_kill_9_finishes_when_the_worker_starts_again(app, instance, settings):
    """The registerutdrag of the demo's Tolvan, held mid-step by the test-only pause, SIGKILLed."""
    from formservice.arenden import registerutdrag

    with app.app_context():
        admin = db.session().scalar(select(User).where(User.username == "admin.demo"))
        public_id = registerutdrag.start(admin, "191212121212", "json").public_id

    worker = start_worker(instance, FORMSERVICE_JOBB_TESTPAUS="30", **settings)  # test-only: holds the job mid-way
    try:
        assert wait_for(app, public_id, {jobs.PAGAR, jobs.KLAR, jobs.FEL}).status == jobs.PAGAR
        time.sleep(0.5)
        assert kill_hard(worker) == -signal.SIGKILL
    finally:
        kill_hard(worker)
    time.sleep(1)
    assert status(app, public_id).status == jobs.PAGAR  # nobody finished it

    again = start_worker(instance, FORMSERVICE_JOBB_TESTPAUS="1", **settings)
    try:
        job = wait_for(app, public_id, {jobs.KLAR, jobs.FEL})
        assert job.status == jobs.KLAR, (job.error, worker_log(instance))
        with app.app_context():
            data = json.loads(jobs.result(db.session().merge(job)))
            assert data["person"]["namn"] == "Tolvan Tolvansson"
            assert data["arenden"] and all(a["arende"] for a in data["arenden"])
            entries = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "registerutdrag")).all()
            # One row for the extract: the killed attempt left none behind.
            assert [(e.object_type, e.detail) for e in entries] == [("person", f"JSON, {len(data['arenden'])} ärenden")]
        again.send_signal(signal.SIGTERM)  # an orderly stop
        assert again.wait(timeout=30) == 0, worker_log(instance)
        assert "121212" not in worker_log(instance)  # the personnummer in no log line of the worker
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()


def test_a_job_over_its_time_is_stopped_and_the_queue_goes_on(app, instance, settings):
    """FORMSERVICE_JOBB_SECONDS: the worker marks the job "fel" with a Swedish message and ends
    itself (its supervisor starts a new one); the recovered workflow does not run it again, and the
    next job is done."""
    from formservice.arenden import registerutdrag

    with app.app_context():
        admin = db.session().scalar(select(User).where(User.username == "admin.demo"))
        slow = registerutdrag.start(admin, "191212121212", "json").public_id

    worker = start_worker(instance, FORMSERVICE_JOBB_SECONDS="2", FORMSERVICE_JOBB_TESTPAUS="8", **settings)
    try:
        assert worker.wait(timeout=60) == 75, worker_log(instance)  # it ended itself, for its supervisor
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = status(app, slow)
    assert job.status == jobs.FEL and "tog för lång tid" in job.error and job.result_enc is None

    with app.app_context():
        admin = db.session().scalar(select(User).where(User.username == "admin.demo"))
        quick = registerutdrag.start(admin, "191212121212", "json").public_id
    again = start_worker(instance, **settings)
    try:
        assert wait_for(app, quick, {jobs.KLAR, jobs.FEL}).status == jobs.KLAR, worker_log(instance)
        assert status(app, slow).status == jobs.FEL  # recovered, and left as it was
        with app.app_context():
            extracts = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "registerutdrag",
                                                                     AuditEntry.object_type == "person")).all()
            assert len(extracts) == 1  # the stopped job wrote nothing
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=30)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: reaped by its parent soon
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_the_server_restarts_a_dead_job_worker_and_ends_it_with_itself(tmp_path):
    from formservice.server import JobWorker

    pids = tmp_path / "pids"
    command = [sys.executable, "-c",
               f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(600)"]

    def started() -> list[int]:
        return [int(p) for p in pids.read_text().split()] if pids.exists() else []

    supervisor = JobWorker(command).start()
    try:
        deadline = time.monotonic() + 20
        while not started() and time.monotonic() < deadline:
            time.sleep(0.05)
        (first,) = started()
        os.kill(first, signal.SIGKILL)
        while len(started()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        second = started()[1]
        assert second != first and alive(second)
    finally:
        supervisor.stop()
    time.sleep(0.2)
    assert not alive(second)


def processes_of(instance: Path) -> list[int]:
    """Our processes whose environment names this instance (the server, its workers, the job worker)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if f"FORMSERVICE_INSTANCE_PATH={instance}\0".encode() in (proc / "environ").read_bytes() \
                        and alive(int(proc.name)):
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def test_formservice_run_starts_the_job_worker_and_ends_it(app, instance, settings, tmp_path):
    from formservice.arenden import registerutdrag

    from .test_server import running

    with running(instance, tmp_path / "logs", **settings) as (_port, _out, err):
        with app.app_context():
            admin = db.session().scalar(select(User).where(User.username == "admin.demo"))
            public_id = registerutdrag.start(admin, "191212121212", "pdf").public_id
        try:
            job = wait_for(app, public_id, {jobs.KLAR, jobs.FEL}, seconds=120)
        except AssertionError:
            raise AssertionError(err.read_text()[-3000:]) from None
        assert job.status == jobs.KLAR and job.mimetype == "application/pdf"
        workers = [pid for pid in processes_of(instance)
                   if (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-2:-1] == [b"jobb"])]
        assert len(workers) == 1, workers
    deadline = time.monotonic() + 20
    while processes_of(instance) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(instance) == []  # the job worker ended with the server
