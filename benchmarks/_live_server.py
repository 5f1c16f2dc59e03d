"""The real service over HTTP, for the benchmarks that drive `formservice run` (not a benchmark itself).

``LiveService`` sets up a throw-away instance in a temporary folder with the service's own commands
(``formservice init-instance``, ``init-db``, ``demo``), files one rehabiliteringsförfrågan in the demo
ärende (Tolvan Tolvansson) through the document registry, starts ``formservice run`` (gunicorn,
gthread) on a free port and, on exit, stops the server (its own process group) and deletes the folder.
The steps are also there one by one (``prepare``, ``start``, ``stop``), so a benchmark can start the same
prepared instance again and again (bench_cold.py).
The code run is the code of this checkout (PYTHONPATH), whatever the venv's editable install points at.
Needs only what the service installs (requests is a service dependency).
"""
from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from formservice.cli import main; sys.argv[0] = 'formservice'; sys.exit(main())"
DEMO_USER = "soc.demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz(port: int, timeout: float = 10.0) -> tuple[float, int | None]:
    """One GET /healthz on a new connection: (seconds, status), status None on a timeout or error."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        conn.close()
    return time.perf_counter() - started, status


def percentile(values, q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class LiveService:
    def __init__(self, workers: int = 2, threads: int = 4, log_requests: bool = False,
                 render_processes: int | None = None, seed_document: bool = True):
        self.workers, self.threads, self.log_requests = workers, threads, log_requests
        self.seed_document = seed_document
        self.render_processes = render_processes  # None: the service's default (one per core)
        self.folder = Path(tempfile.mkdtemp(prefix="formservice-live-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = None
        self.arende_id = self.document_id = None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("FORMSERVICE_") and k not in ("PYTHONPATH",)}
        self.env.update(FORMSERVICE_INSTANCE_PATH=str(self.folder / "instance"), FORMSERVICE_SESSION_COOKIE_SECURE="0",
                        PYTHONPATH=str(ROOT))

    # ------------------------------------------------------------------ set-up
    def _cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-c", CLI, *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"formservice {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self) -> None:
        """The instance: keys, migrated database, demo data and (``seed_document``) the filed förfrågan."""
        self._cli("init-instance")
        self._cli("init-db")
        self._cli("demo")
        if self.seed_document:
            seeded = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed-document"], cwd=ROOT,
                                    env=self.env, capture_output=True, text=True, timeout=300)
            if seeded.returncode != 0:
                raise RuntimeError("seeding the document failed:\n" + seeded.stderr[-3000:])
            ids = json.loads(seeded.stdout.strip().splitlines()[-1])
            self.arende_id, self.document_id = ids["arende"], ids["dokument"]

    def start(self, poll: float = 0.2, limit: float = 90) -> float:
        """Spawn ``formservice run``; returns the seconds from the spawn to the first /healthz 200."""
        if getattr(self, "log", None) is None:
            self.log = open(self.folder / "server.log", "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI, "run", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--threads", str(self.threads),
             *(["--render-processes", str(self.render_processes)] if self.render_processes is not None else [])],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - started < limit:
            if self.process.poll() is not None:
                raise RuntimeError("the server stopped:\n" + self.server_log()[-3000:])
            if healthz(self.port, timeout=2)[1] == 200:
                return time.perf_counter() - started
            time.sleep(poll)
        raise RuntimeError(f"the server did not answer /healthz within {limit} s")

    def __enter__(self) -> "LiveService":
        try:
            self.prepare()
            self.start()
            # Both workers warm (fonts, first database connection): a few requests more.
            for _ in range(20):
                healthz(self.port)
            return self
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def server_log(self) -> str:
        try:
            return (self.folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server: master, workers, render processes, with the children
        they have reaped (the PDF parsers)."""
        total = 0
        for pid in [self.process.pid, *self.descendant_pids()] if self.process else []:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        return total / os.sysconf("SC_CLK_TCK")

    def worker_pids(self) -> list[int]:
        """The master's children: the gunicorn workers and the render pool's supervisor."""
        return self._children(self.process.pid) if self.process is not None else []

    def render_pids(self) -> list[int]:
        """The render processes (the children of the master's children)."""
        return [pid for child in self.worker_pids() for pid in self._children(child)]

    def descendant_pids(self) -> list[int]:
        return self.worker_pids() + self.render_pids()

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        except OSError:
            return []
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        """Stop the server (its own process group), leaving the instance folder."""
        if self.process is not None and self.process.poll() is None:
            # gunicorn: SIGINT is a quick shutdown (SIGTERM would wait up to 30 s for slow clients).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None:
            try:  # the server's process group, which this object created (start_new_session): workers, children
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.process = None

    def __exit__(self, *exc) -> None:
        self.stop()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------ a signed-in browser
    def session(self):
        """A requests session signed in as the demo socialsekreterare."""
        import requests

        from formservice.cli import DEMO_PASSWORD

        s = requests.Session()
        page = s.get(f"{self.base}/logga-in", timeout=30).text
        res = s.post(f"{self.base}/logga-in", data={"username": DEMO_USER, "password": DEMO_PASSWORD,
                                                     "csrf_token": csrf(page)}, allow_redirects=False, timeout=30)
        if res.status_code != 302:
            raise RuntimeError(f"login failed: {res.status_code}")
        return s

    @property
    def upload_url(self) -> str:
        return f"{self.base}/arenden/{self.arende_id}/dokument/{self.document_id}/svar"

    def fillable_pdf(self, session) -> bytes:
        res = session.get(f"{self.base}/arenden/{self.arende_id}/dokument/{self.document_id}.ifyllbar", timeout=60)
        res.raise_for_status()
        return res.content


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def upload(session, url: str, data: bytes, timeout: float = 120, token: str | None = None
           ) -> tuple[float, int, str]:
    """Post ``data`` as the doctor's PDF to the upload page: (seconds, status, message shown or '').
    ``token``: the session's CSRF token (fetched from the page when not given)."""
    token = token or csrf(session.get(url, timeout=timeout).text)
    started = time.perf_counter()
    res = session.post(url, data={"csrf_token": token}, files={"fil": ("svar.pdf", data, "application/pdf")},
                       allow_redirects=False, timeout=timeout)
    elapsed = time.perf_counter() - started
    message = ""
    if res.status_code == 400:
        found = re.search(r'error-summary__list"><li><a href="#fil">([^<]+)</a>', res.text)
        message = html.unescape(" ".join(found.group(1).split())) if found else ""
    return elapsed, res.status_code, message


# ---------------------------------------------------------------------- seeding (run in a subprocess)
def _seed_document() -> None:
    """In the instance of FORMSERVICE_INSTANCE_PATH: a rehabiliteringsförfrågan in the demo ärende,
    produced through the registry (as the wizard's last step does). Prints the ids as JSON."""
    from sqlalchemy import select

    from formservice import create_app, db
    from formservice.accounts.models import User
    from formservice.arenden import registry
    from formservice.arenden.models import Arende
    from formservice.rendering import documents

    sys.path.insert(0, str(ROOT))
    from tests.sample_values import sample_values

    app = create_app()
    with app.app_context():
        catalogue = app.extensions["catalogue"]
        user = db.session().scalar(select(User).where(User.username == DEMO_USER))
        arende = db.session().scalar(select(Arende).where(Arende.handlaggare_id == user.id))
        parts = documents.parts_of(catalogue, "rehabiliteringsforfragan")
        values = {k: v for k, v in sample_values(*parts).items()
                  if next(p for p in parts if p.has_field(k)).field(k).filled_by != "lakare"}
        dok, finish = registry.produce(user, arende, catalogue, "rehabiliteringsforfragan", values,
                                       app.extensions.get("official_pdfs"))
        finish()  # the fillable copy and the rest, as after the response
        print(json.dumps({"arende": arende.public_id, "dokument": dok.public_id}))
    app.extensions["db_engine"].dispose()


if __name__ == "__main__" and sys.argv[1:] == ["--seed-document"]:
    _seed_document()
