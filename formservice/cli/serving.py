"""Serving: gunicorn with its render processes and job worker, or the development server."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from . import _create_app, main, testsigill
from .database import _refuse_keys_that_do_not_fit


# ---------------------------------------------------------------- serving
@main.command("run", with_appcontext=False)
@click.option("--host", default=lambda: os.environ.get("FORMSERVICE_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("FORMSERVICE_PORT", "5000")), show_default="5000",
              type=int)
@click.option("--workers", default=lambda: int(os.environ.get("FORMSERVICE_WORKERS", "2")), show_default="2",
              type=int, help="Antal gunicorn-processer (ungefär en per processorkärna).")
@click.option("--threads", default=lambda: int(os.environ.get("FORMSERVICE_THREADS", "4")), show_default="4",
              type=int, help="Trådar per process (långsamma klienter binder en tråd, inte en process).")
@click.option("--render-processes", default=lambda: int(os.environ.get("FORMSERVICE_RENDER_PROCESSES", _cores())),
              show_default="en per processorkärna", type=click.IntRange(min=0),
              help="Processer som lägger ut PDF:er åt alla gunicorn-processer (0: varje gunicorn-process gör det själv).")
@click.option("--dev", is_flag=True, help="Flasks utvecklingsserver med omladdning (aldrig i drift).")
def run(host, port, workers, threads, render_processes, dev):
    """Starta tjänsten med gunicorn (eller utvecklingsservern med --dev)."""
    if dev:
        os.environ.setdefault("FORMSERVICE_SESSION_COOKIE_SECURE", "0")
        app = _create_app()
        _refuse_keys_that_do_not_fit(app)
        _dev_job_worker(app)
        _dev_test_seal(app)
        # werkzeug itself: Flask's app.run() declines to serve under a Flask command group like ours.
        from werkzeug.serving import run_simple

        app.debug = True
        run_simple(host, port, app, use_reloader=True, use_debugger=True)
        return
    from ..server import serve

    app = _create_app()  # the configuration is checked here, before gunicorn forks
    _refuse_keys_that_do_not_fit(app)
    # A demo with a test seal (the `demo` command's marker in the instance folder): its TSA, OCSP and
    # CRL in a child that dies with the server, the seal settings pointed at it before the fork.
    test_seal = testsigill.start_for_run(app)
    try:
        serve(app, host=host, port=port, workers=workers, threads=threads, render_processes=render_processes)
    finally:
        if test_seal is not None:
            test_seal.stop()


def _dev_test_seal(app) -> None:
    """The demo's test seal for the development server too, in the reloader's serving process."""
    import atexit

    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    test_seal = testsigill.start_for_run(app)
    if test_seal is not None:
        atexit.register(test_seal.stop)


def _dev_job_worker(app) -> None:
    """The job worker for the development server too, or a registerutdrag would wait for ever.
    Started in the reloader's serving process only (the watching one starts that anew at each
    change), and ended with it (the supervisor dies with its parent)."""
    import atexit

    from ..server import JOB_WORKER_NICE, JobWorker

    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    worker = JobWorker(nice=JOB_WORKER_NICE).start()
    app.config["SEAL_BY_JOB_WORKER"] = True
    atexit.register(worker.stop)
    app.logger.info("jobbprocessen tar fram långa dokument (supervisor pid %d)", worker.supervisor)


@main.command("jobb")
@with_appcontext
def jobb():
    """Kör jobbprocessen: långa dokument (registerutdrag, uppföljningens PDF-rapport) tas fram här, i bakgrunden (startas av 'run')."""
    from .. import jobs
    from ..rendering import pool
    from ..rendering.supervisor import limit_memory

    _refuse_keys_that_do_not_fit(current_app)
    pool.use(None)  # long documents are laid out here, never in the render processes of the web
    # One job at a time, and what it may take (its time: jobs.JOB_SECONDS, FORMSERVICE_JOBB_SECONDS).
    limit_memory(int(os.environ.get("FORMSERVICE_JOBB_MEMORY_MB") or JOB_MEMORY_MB))
    jobs.run_worker(current_app._get_current_object())


JOB_MEMORY_MB = 3072  # over what the warm worker holds; the paged registerutdrag needs far less


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
