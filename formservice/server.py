"""gunicorn as the WSGI server, started from the formservice command."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

# %(U)s is the path without the query string: a search term must never reach the access log.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def serve(host: str, port: int, workers: int) -> None:
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "timeout": 60,
        "preload_app": True,  # fail fast on a broken configuration, before forking
        "post_fork": _warm_up,
    }).run()


def _warm_up(_server, _worker) -> None:
    # Per worker, after the fork: WeasyPrint's font configuration must not be shared across processes.
    from .rendering.pdf import warm_up

    warm_up()
