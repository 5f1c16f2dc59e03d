"""A browser-like client of the live service (benchmarks/_live_server.py) and the click it makes, for
bench_click.py, bench_cold.py and bench_longjobs.py (not a benchmark itself).

``Browser``: ONE keep-alive connection (``http.client.HTTPConnection`` reused), cookies kept, redirects
followed on that same connection, every status counted. A connection the server closed while idle
(gunicorn's keep-alive timeout) is opened again before the next request, and a request that met the
server closing a reused connection as it was sent is sent once more on a new one, as a browser does;
those re-connections are counted too.

``click``: what the user waits for after pressing "Ta fram PDF och DOCX" on Granska: the page is
fetched first (CSRF token, the draft's reference), then the clock runs from the POST, through the
302 and the done page (followed on the same connection, its whole body read), to the print PDF the
done page links (downloaded whole on the same connection).

``InstanceApp``: the service's own app in this process, on the live server's instance folder (same
database, same keys), for what a benchmark prepares outside the timing: ärenden, drafts with the
sample values, and the print HTML of a produced document for the bare WeasyPrint baseline.
"""
from __future__ import annotations

import html as html_lib
import http.client
import os
import re
import select
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks._live_server import csrf

ROOT = Path(__file__).resolve().parents[1]
BENCH_INDIVID = {"namn": "Tilda Testperson", "personnummer": "191212121212", "adress": "Provgatan 12",
                 "postnummer": "123 45", "ort": "Skärholmen"}


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        found = urlsplit(self.headers.get("Location", ""))
        return found.path + (f"?{found.query}" if found.query else "")


class Browser:
    """One keep-alive connection with cookies, like one browser tab."""

    def __init__(self, port: int, timeout: float = 300):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.statuses: Counter = Counter()
        self.reconnects = self.errors = 0

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.connect()
        return self.conn

    def _idle_closed(self) -> bool:
        """The server closed the idle connection (keep-alive timeout): readable with nothing to read."""
        if self.conn is None or self.conn.sock is None:
            return True
        readable, _w, _x = select.select([self.conn.sock], [], [], 0)
        return bool(readable)

    def request(self, method: str, path: str, form: dict | None = None) -> Response:
        if self.conn is not None and self._idle_closed():
            self.close()
            self.reconnects += 1
        headers = {"Accept": "text/html,application/xhtml+xml,*/*", "User-Agent": "formservice-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                conn = self._connect()
                conn.request(method, path, body=body, headers=headers)
                res = conn.getresponse()
                data = res.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed the idle connection as we sent: a browser sends again on a new one.
                self.close()
                if not reused or attempt == 2:
                    self.errors += 1
                    raise
                self.reconnects += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                self.close()
                raise
        for cookie in res.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if res.will_close:
            self.close()
        self.statuses[res.status] += 1
        return Response(res.status, res.headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Response:
        return self.request("POST", path, form)

    def follow(self, res: Response, limit: int = 5) -> Response:
        """Follow redirects with GETs on the same connection."""
        while res.status in (301, 302, 303, 307) and limit:
            res, limit = self.get(res.location), limit - 1
        return res

    def login(self, username: str, password: str) -> None:
        page = self.get("/logga-in")
        res = self.post("/logga-in", {"username": username, "password": password, "csrf_token": csrf(page.text)})
        if res.status != 302:
            raise RuntimeError(f"login as {username} answered {res.status}")
        self.follow(res)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def server_errors(self) -> tuple[int, int]:
        """(responses ≥ 500, of them 503)."""
        return sum(n for s, n in self.statuses.items() if s >= 500), self.statuses.get(503, 0)


class ClickFailed(RuntimeError):
    pass


def click(browser: Browser, arende_id: str, blankett_id: str, ready=None) -> dict:
    """Granska fetched, then timed: POST → 302 → done page → print PDF, all on the browser's connection.
    Returns done_s, pdf_s (both from the POST), post_s (to the 302), the document's id and the PDF's size.
    ``ready``: called between the page and the POST (a barrier, so that clients click together)."""
    url = f"/arenden/{arende_id}/blankett/{blankett_id}/granska"
    page = browser.get(url)
    if page.status != 200:
        raise ClickFailed(f"GET {url} answered {page.status}")
    utkast = re.search(r'name="utkast" value="([^"]*)"', page.text)
    form = {"csrf_token": csrf(page.text), "utkast": html_lib.unescape(utkast.group(1)) if utkast else ""}
    if ready is not None:
        ready()
    t0 = time.perf_counter()
    res = browser.post(url, form)
    post_s = time.perf_counter() - t0
    if res.status != 302 or "/klar/" not in res.location:
        raise ClickFailed(f"POST {url} answered {res.status} {res.headers.get('Location')}")
    done = browser.get(res.location)
    done_s = time.perf_counter() - t0
    link = re.search(r'href="([^"]+\.pdf)"', done.text)
    if done.status != 200 or link is None:
        raise ClickFailed(f"GET {res.location} answered {done.status} (print PDF link: {bool(link)})")
    pdf = browser.get(html_lib.unescape(link.group(1)))
    pdf_s = time.perf_counter() - t0
    if pdf.status != 200 or not pdf.body.startswith(b"%PDF"):
        raise ClickFailed(f"GET {link.group(1)} answered {pdf.status}")
    return {"post_s": post_s, "done_s": done_s, "pdf_s": pdf_s, "pdf_bytes": len(pdf.body),
            "document": res.location.rsplit("/klar/", 1)[1]}


def settle(svc, inst: "InstanceApp | None" = None, quiet_cpu: float = 0.03, window: float = 0.15,
           limit: float = 60.0) -> float:
    """Wait until every document is complete (``inst`` given: no document with ``klar`` false, i.e. the rest
    of each document written) and then (``svc`` given) until the server's processes use less than
    ``quiet_cpu`` CPU seconds in ``window``; returns the seconds waited."""
    started = time.perf_counter()
    while inst is not None and inst.incomplete() and time.perf_counter() - started < limit:
        time.sleep(0.02)
    if svc is None:
        return time.perf_counter() - started
    before = svc.cpu_seconds()
    while time.perf_counter() - started < limit:
        time.sleep(window)
        now = svc.cpu_seconds()
        if now - before < quiet_cpu:
            break
        before = now
    return time.perf_counter() - started


class InstanceApp:
    """The service's app in this process on the live instance (its database and keys)."""

    def __init__(self, svc):
        os.environ["FORMSERVICE_INSTANCE_PATH"] = svc.env["FORMSERVICE_INSTANCE_PATH"]
        os.environ.pop("FORMSERVICE_DATABASE_URL", None)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from formservice import create_app

        self.app = create_app()
        self.catalogue = self.app.extensions["catalogue"]
        self.first_own_document = self._last_document() + 1  # the demo's generated ones are laid out on demand

    def _last_document(self) -> int:
        from sqlalchemy import func, select

        from formservice import db
        from formservice.arenden.models import Dokument

        with self.app.app_context():
            return db.session().scalar(select(func.max(Dokument.id))) or 0

    def _user(self, username: str):
        from sqlalchemy import select

        from formservice import db
        from formservice.accounts.models import User

        return db.session().scalar(select(User).where(User.username == username))

    def new_arende(self, username: str) -> str:
        from formservice.arenden import operations as arenden

        with self.app.app_context():
            return arenden.create(self._user(username), BENCH_INDIVID, lane="soc1", ruta="soc1.9").public_id

    def values(self, blankett_id: str) -> dict:
        """The sample values over the blankett and its bilagor, without the doctor's part (as typed)."""
        from formservice.rendering import documents
        from tests.sample_values import sample_values

        parts = documents.parts_of(self.catalogue, blankett_id)
        values = sample_values(*parts)
        return {k: v for k, v in values.items()
                if next(p for p in parts if p.has_field(k)).field(k).filled_by != "lakare"}

    def save_draft(self, username: str, arende_id: str, blankett_id: str, values: dict) -> None:
        from formservice import db
        from formservice.arenden import operations as arenden

        with self.app.app_context():
            user = self._user(username)
            a = arenden.get(user, arende_id)
            d = arenden.draft(a, blankett_id)
            arenden.save_draft(user, a, blankett_id, values, d.version if d else 0)
            db.session().commit()

    def incomplete(self) -> int:
        """Documents clicked in this benchmark whose rest (archive copy, parts, DOCX, fillable copy) is
        not written yet (the demo's generated documents are laid out on first download, never here)."""
        from sqlalchemy import func, select

        from formservice import db
        from formservice.arenden.models import Dokument

        with self.app.app_context():
            return db.session().scalar(select(func.count()).select_from(Dokument).where(
                Dokument.klar.is_(False), Dokument.id >= self.first_own_document))

    def print_html(self, username: str, arende_id: str, document_id: str) -> str:
        """Exactly the print HTML of a produced document: its stored values, number and date."""
        from formservice.arenden import operations as arenden
        from formservice.arenden import registry
        from formservice.rendering import documents, pdf

        with self.app.app_context():
            dok = registry.get(arenden.get(self._user(username), arende_id), document_id)
            values = self.app.extensions["keyring"].decrypt_json(dok.values_enc, {})
            return pdf.document_html(documents.print_parts(self.catalogue, dok.blankett_id, values),
                                     registry.context_of(dok))

    def close(self) -> None:
        self.app.extensions["db_engine"].dispose()
