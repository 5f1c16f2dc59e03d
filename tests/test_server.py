"""The server as started by `formservice run` (server.py): a real gunicorn in a process of its own,
on an instance made by the service's own commands (demo data included). Its log lines cannot be
forged by a request, and whom it believes about X-Forwarded-Proto follows FORMSERVICE_TRUSTED_PROXIES."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .command_line import CLI, ROOT, demo_instance, environment
from .oidc.server import free_port



def _env(instance: Path, **settings: str) -> dict:
    return environment(instance, FORMSERVICE_SESSION_COOKIE_SECURE="0", **settings)


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    return demo_instance(tmp_path_factory.mktemp("server") / "instance")


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@contextmanager
def running(instance: Path, logs: Path, **settings: str):
    """`formservice run` until healthy; yields (port, stdout file, stderr file); stopped with Ctrl+C."""
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "stdout.log", logs / "stderr.log"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        server = subprocess.Popen(CLI + ["run", "--port", str(port), "--workers", "1", "--threads", "2",
                                         "--render-processes", "0"], env=_env(instance, **settings), cwd=ROOT,
                                  stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz").status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.2)
        yield port, out, err
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def test_a_percent_encoded_line_break_in_a_path_cannot_forge_an_access_log_line(instance, tmp_path):
    with running(instance, tmp_path) as (port, out, _err):
        assert get(port, "/x%0d%0a127.0.0.1%20-%20FORGED%20200%1b%5b2J").status == 404
        time.sleep(0.2)
        lines = out.read_text().splitlines()
    [line] = [line for line in lines if "FORGED" in line]
    assert line.startswith("127.0.0.1 ") and "/x\\r\\n127.0.0.1 - FORGED 200\\x1b[2J" in line and '" 404 ' in line
    assert not any(line.startswith("FORGED") or "\x1b" in line for line in lines)


def test_the_apps_own_log_lines_are_one_line_each(instance):
    """The logging create_app sets up for a server or command (not a test's app): message,
    arguments and traceback on one line."""
    code = ("import logging; from formservice import create_app; app = create_app()\n"
            "app.logger.warning('sökväg %s', '/a\\r\\nFORGED line')\n"
            "try:\n    raise ValueError('bad\\nFORGED too')\n"
            "except ValueError:\n    app.logger.exception('fel på %s', '/b\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], env=_env(instance), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("WARNING formservice: sökväg /a\\r\\nFORGED line")
    assert "ERROR formservice: fel på /b\\nTraceback (most recent call last):\\n" in lines[1]
    assert lines[1].endswith("ValueError: bad\\nFORGED too")


def _oidc_redirect_uri(port: int, headers: dict) -> str:
    res = get(port, "/logga-in/oidc", headers)
    assert res.status == 302
    return parse_qs(urlsplit(res.headers["Location"]).query)["redirect_uri"][0]


@pytest.mark.parametrize("trusted", ["0", "1"])
def test_forwarded_headers_are_believed_only_as_trusted_proxies_says(instance, tmp_path, oidc_provider, trusted):
    """The scheme of the address given to the identity provider: from X-Forwarded-Proto only with
    FORMSERVICE_TRUSTED_PROXIES > 0 (gunicorn believed 127.0.0.1 whatever the setting). No peer may
    set SCRIPT_NAME through a header (gunicorn let its trusted peers do so)."""
    settings = {f"FORMSERVICE_{k}": v for k, v in oidc_provider.settings().items()}
    with running(instance, tmp_path, FORMSERVICE_TRUSTED_PROXIES=trusted, **settings) as (port, _out, _err):
        plain = _oidc_redirect_uri(port, {})
        forwarded = _oidc_redirect_uri(port, {"X-Forwarded-Proto": "https"})
        prefixed = get(port, "/arenden", {"SCRIPT_NAME": "/annan"}).headers["Location"]
    assert plain == f"http://127.0.0.1:{port}/logga-in/oidc/svar"
    assert forwarded == (f"https://127.0.0.1:{port}/logga-in/oidc/svar" if trusted == "1" else plain)
    assert prefixed == "/logga-in?next=/arenden"
