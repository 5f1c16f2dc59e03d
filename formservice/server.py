"""gunicorn as the WSGI server, started from the formservice command."""
from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import time

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from .rendering import supervisor
from .security import OneLineFormatter

# %(U)s is the path without the query string: a search term must never reach the access log.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class _OneLineLogger(Logger):
    """gunicorn's error and access logs, one line per record: the access log's path (%(U)s) is
    percent-decoded, so "/%0d%0aGET /admin 200" would otherwise write a forged line."""

    def setup(self, cfg):
        super().setup(cfg)  # also on a reload (SIGHUP), which replaces the handlers
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not isinstance(handler.formatter, OneLineFormatter):
                    handler.setFormatter(OneLineFormatter(handler.formatter or logging.Formatter()))


def forwarded_allow_ips(trusted_proxies: int) -> str:
    """Whom gunicorn believes about X-Forwarded-Proto (and the other scheme headers): what
    FORMSERVICE_TRUSTED_PROXIES says, never gunicorn's own default (127.0.0.1, whatever the
    setting). 0: nobody, the headers are ignored. N > 0: the deployment puts proxies in front of
    every connection, and the app's ProxyFix already takes the scheme from the N-th hop, from
    whichever address the connection comes; gunicorn trusts no more than that."""
    return "*" if trusted_proxies > 0 else ""


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application  # built (and its configuration checked) before forking


def serve(app, host: str, port: int, workers: int, threads: int, render_processes: int = 0) -> None:
    """gunicorn with `workers` × `threads` for requests; with `render_processes`, the layouts go to
    that many render processes shared by all workers (rendering/pool.py), started here, before the
    workers are forked, and ended with the server."""
    from .rendering import pool

    job_worker = JobWorker(nice=JOB_WORKER_NICE).start()
    app.config["SEAL_BY_JOB_WORKER"] = True  # it runs: archive copies are sealed there (arenden/seal_jobs.py)
    app.logger.info("jobbprocessen tar fram långa dokument (supervisor pid %d)", job_worker.supervisor)
    render_pool = pool.RenderPool(render_processes) if render_processes > 0 else None
    if render_pool is not None:
        pool.use(render_pool.start())
        app.logger.info("%d renderprocesser lägger ut PDF:erna (supervisor pid %d)", render_processes,
                        render_pool.supervisor)
    master = os.getpid()
    try:
        _run(app, host, port, workers, threads)
    finally:
        # A gunicorn worker is a fork of this process and leaves by SystemExit through these very
        # frames: only the master stops what the master started (a worker's SIGTERM would reach the
        # supervisors twice, the second cutting short their wait for their children).
        if os.getpid() == master:
            if render_pool is not None:
                render_pool.stop()
            job_worker.stop()


# The job worker's CPU priority below the web workers and render processes (nice 10): its long
# documents, e-mails and SDK packages never slow a click, nor the server's start, when it imports
# everything at the same moment as the workers (docs/architecture.md).
JOB_WORKER_NICE = 10

# The job worker is `formservice jobb` in a fresh interpreter: DBOS starts threads and connection
# pools, which must not be inherited from the gunicorn master by a fork.
JOB_WORKER = [sys.executable, "-c", "import sys; from formservice.cli import main; sys.argv[0] = 'formservice'; "
              "sys.exit(main())", "jobb"]


class JobWorker:
    """The job worker process under a supervisor (rendering/supervisor.py) that restarts it when it
    dies, ended with the server: the supervisor asks the worker to stop, and dies with its parent."""

    def __init__(self, command: list[str] | None = None, name: str = "jobbprocessen", nice: int = 0):
        self.command = command or JOB_WORKER
        if nice:  # coreutils' nice execs the command: same pid, signals reach it unchanged
            self.command = ["nice", "-n", str(nice), *self.command]
        self.name = name  # in the log when it ends (the demo's test seal runs its services so too)
        self.supervisor: int | None = None
        self.owner: int | None = None  # the process that started it, the only one to stop it

    def start(self) -> "JobWorker":
        self.owner = os.getpid()
        self.supervisor = supervisor.start(lambda: _keep_running(self.command, self.name))
        return self

    def stop(self) -> None:
        if self.owner is not None and os.getpid() != self.owner:
            return  # a forked copy (a gunicorn worker leaving through the master's frames): not ours to stop
        supervisor.stop(self.supervisor)
        self.supervisor = None


def _keep_running(command: list[str], name: str = "jobbprocessen") -> None:
    child: subprocess.Popen | None = None
    try:
        while True:
            child = subprocess.Popen(command)
            status = child.wait()
            logging.getLogger("formservice").warning("%s avslutades (status %s) och startas om", name, status)
            time.sleep(1.0)  # a worker that dies at once must not make this loop spin
    finally:  # stopped (SIGTERM raised supervisor.Stop) or failed
        if child is not None and child.poll() is None:
            child.terminate()  # the worker stops between steps; an unfinished job is recovered at next start
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _run(app, host: str, port: int, workers: int, threads: int) -> None:
    _Gunicorn(app, {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads per worker: a slow client (or a slow upload) holds one thread, not a whole worker.
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": _OneLineLogger,
        "forwarded_allow_ips": forwarded_allow_ips(int(app.config.get("TRUSTED_PROXIES") or 0)),
        # No peer may set SCRIPT_NAME or PATH_INFO through a header (gunicorn's default lets the
        # trusted ones): no proxy of ours sends them, and a client must never choose the path.
        "forwarder_headers": "",
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # Limits on the request line and headers: a hostile client cannot make us buffer megabytes.
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        # The control socket belongs to this instance (gunicorn's default is one per home folder, so a
        # second instance on the host would take it over).
        "control_socket": os.path.join(app.instance_path, "gunicorn.ctl"),
        "preload_app": True,
        "pre_fork": _freeze,
        "post_fork": _warm_up,
    }).run()


def _freeze(_server, _worker) -> None:
    # In the master, before each fork: the loaded app's objects move to the permanent generation,
    # so a worker's garbage collector never scans them and never writes to (copies) their pages.
    gc.collect()
    gc.freeze()


def _warm_up(server, _worker) -> None:
    # Per worker, after the fork: database connections and WeasyPrint's font configuration must not
    # be shared across processes.
    server.app.application.extensions["db_engine"].dispose(close=False)
    from .rendering import pool
    from .rendering.pdf import warm_up

    warm_up(render=not pool.in_use())  # with render processes, this worker lays nothing out
