"""The render processes (rendering/pool.py): real processes on a real socket, and the server
(`formservice run`) that starts them before its workers and ends them with itself."""
from __future__ import annotations

import io
import re
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice.blanketter.catalogue import load_catalogue
from formservice.rendering import documents, pdf, pool
from formservice.rendering.pdf import DocumentContext
from tests.command_line import SMALL_DEMO
from tests.sample_values import sample_values

from .formparse import form_with

ROOT = Path(__file__).resolve().parents[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def server_nice() -> int:
    return os.nice(0)  # the server inherits the test's own niceness


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def render_pool():
    started = pool.RenderPool(2)
    pool.use(started.start())
    yield started
    pool.use(None)
    started.stop()


@pytest.fixture
def only_remote(monkeypatch, render_pool):
    """Laying out in this (the test) process fails: whatever succeeds was rendered by the pool."""
    def refuse(job):
        raise AssertionError("rendered in the web process, not in a render process")
        yield  # pragma: no cover

    monkeypatch.setattr(pdf, "run_job", refuse)
    return render_pool


def test_a_document_and_what_follows_come_from_the_render_processes(only_remote):
    catalogue = load_catalogue()
    values = documents.validate(catalogue, "rehabiliteringsforfragan",
                                sample_values(*documents.parts_of(catalogue, "rehabiliteringsforfragan")))
    printed, job = documents.produce_print(catalogue, "rehabiliteringsforfragan", values,
                                           DocumentContext(organisation="Teststaden"))
    archive, parts = documents.finish_print(job)
    whole = pages_text(printed.content)
    assert len(parts) == 2 and "Sekretessmedgivande" in "".join(pages_text(parts[1].pdf))
    assert sum(len(pages_text(p.pdf)) for p in parts) == len(whole)  # the parts split the one layout
    assert pages_text(archive) == whole
    with pikepdf.open(io.BytesIO(archive)) as doc:  # the archive variant, not a second print copy
        assert doc.open_metadata().get("pdfaid:part") == "2" and "/OutputIntents" in doc.Root


def test_reports_and_fillable_copies_too(only_remote):
    assert "Åäö" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>Åäö</p></html>', forms=True))[0]


def test_a_render_error_reaches_the_caller(render_pool):
    with pytest.raises(pool.RenderError, match="KeyError"):
        next(pdf.outputs(pdf.Job("<p>x</p>", variant="ingen-sådan")))
    assert pdf.html_to_pdf("<p>Nästa jobb</p>").startswith(b"%PDF")  # the process serves on


def test_a_render_process_that_dies_is_replaced(render_pool):
    before = children(render_pool.supervisor)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = children(render_pool.supervisor)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no new render process: {children(render_pool.supervisor)}")
    for _ in range(4):  # both processes answer, whichever takes the job
        assert pdf.html_to_pdf("<p>igen</p>").startswith(b"%PDF")


def test_without_render_processes_the_caller_renders(monkeypatch, caplog):
    monkeypatch.setattr(pool, "_address", "\0formservice-render-ingen-lyssnar")
    monkeypatch.setattr(pool, "_last_warning", 0.0)
    assert pdf.html_to_pdf("<p>lokalt</p>").startswith(b"%PDF")
    assert "svarar inte" in caplog.text


def test_another_user_is_refused(render_pool):
    """A render process serves only its own user (the socket has no file permissions)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # as nobody: connect and ask for a PDF
        os.close(read)
        answer = b"refused"
        try:
            try:
                os.setgid(65534)
                os.setuid(65534)
            except PermissionError:
                answer = b"not root"
                raise
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(20)
                conn.connect(pool._address)
                header = json.dumps({"forms": False, "report": False, "variant": pdf.PDF_VARIANT,
                                     "archive": False, "parts": 0}).encode()
                html = b"<p>x</p>"
                conn.sendall(pool._LENGTH.pack(len(header)) + header + pool._LENGTH.pack(len(html)) + html)
                if conn.recv(1):
                    answer = b"answered"
        except OSError:
            pass
        finally:
            os.write(write, answer)
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 20)
    os.close(read)
    if answer == b"not root":
        pytest.skip("acting as another user needs root (CI runs as root)")
    assert answer == b"refused"


def test_the_server_starts_its_render_processes_and_ends_them(tmp_path):
    """`formservice run`: an API render answered through the render processes; Ctrl+C (SIGINT) on
    the server leaves no process behind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVICE_")}
    env.update(FORMSERVICE_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    cli = [sys.executable, "-c", "import sys; from formservice.cli import main; sys.exit(main())"]
    for command in (["init-instance"], ["init-db"], SMALL_DEMO):
        subprocess.run(cli + command, env=env, check=True, capture_output=True, cwd=ROOT)
    token = subprocess.run(cli + ["create-token", "--username", "soc.demo", "--name", "test"], env=env,
                           check=True, capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(cli + ["run", "--port", str(port), "--workers", "1", "--threads", "2",
                                     "--render-processes", "2"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        catalogue = load_catalogue()
        body = json.dumps(sample_values(*documents.parts_of(catalogue, "forandringsplan"))).encode()
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/blanketter/forandringsplan/pdf", data=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    data = response.read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert "Förändringsplan" in pages_text(data)[0]
        # One web worker and three supervisors: the render supervisor's two children render, the job
        # supervisor's one child is `formservice jobb`, and – the instance is a demo – the test seal
        # supervisor's one child serves its TSA, OCSP and CRL (formservice/cli/testsigill.py).
        processes = children(server.pid)
        render = [p for child in processes for p in children(child)]
        assert len(processes) == 4 and len(render) == 4
        # The job worker and the test seal's services run below the others' CPU priority (their
        # work never slows a click, nor the server's start); the render processes and the web worker
        # at the server's own.
        niceness = {pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]) for pid in render}
        command = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in render}
        below = [pid for pid in render if b"jobb" in command[pid] or b"testsigill" in command[pid]]
        assert len(below) == 2 and all(niceness[pid] == server_nice() + 10 for pid in below), (niceness, command)
        assert all(n == server_nice() for pid, n in niceness.items() if pid not in below), niceness
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in processes + render):
            assert time.monotonic() < deadline, "a process of the server outlived it"
            time.sleep(0.1)
        assert "renderprocesserna svarar inte" not in server.stderr.read().decode()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        server.stderr.close()


def test_the_wizard_click_and_everything_after_it(only_remote, forfragan, soc):
    """The caseworker's click, the parts, the archive copy and the doctor's fillable copy: all laid
    out by the render processes (this process refuses to), all there for the ärende."""
    import zipfile

    pid, doc_id, fillable = forfragan
    with pikepdf.open(io.BytesIO(fillable)) as doc:
        assert "/AcroForm" in doc.Root and len(doc.Root.AcroForm.Fields) > 5
    bilaga = soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/1.pdf")
    assert bilaga.status_code == 200 and "Sekretessmedgivande" in pages_text(bilaga.data)[0]
    names = zipfile.ZipFile(io.BytesIO(soc.get(f"/arenden/{pid}/dokument/{doc_id}.zip").data)).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 4  # the packet, two parts, the archive copy


def test_the_click_writes_to_the_database_only_after_its_print_pdf(only_remote, soc, app, monkeypatch):
    """Issue 23: the job is handed to a render process first, and the ärende's writes come only when
    the print PDF is in: a transaction that writes holds SQLite's one write lock until its commit,
    so writing while the render process lays out made every other click wait (measured: four clients
    at once ×3.6 of one). The order is what is asserted (a timing would be noise). The draft goes in
    the same transaction as the document."""
    from formservice.arenden import registry

    from .wizard_driver import create_arende, fill_blankett

    events = []
    hand_over, outputs = pool.hand_over, pool.HandedOver.outputs
    individ_from_document = registry.individ_from_document
    monkeypatch.setattr(pool, "hand_over", lambda job: events.append("handed over") or hand_over(job))
    monkeypatch.setattr(pool.HandedOver, "outputs", lambda self: events.append("waited") or outputs(self))
    monkeypatch.setattr(registry, "individ_from_document",
                        lambda *a, **k: events.append("database") or individ_from_document(*a, **k))
    pid = create_arende(soc, ruta="soc1.4")
    fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    assert events[:3] == ["handed over", "waited", "database"]
    with app.app_context():
        from formservice import db
        from formservice.arenden.models import Arende, Utkast

        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        assert db.session().scalar(select(Utkast).where(Utkast.arende_id == arende.id)) is None


def test_the_rest_of_a_document_starts_when_its_done_page_and_print_pdf_are_served(soc, app, monkeypatch):
    """Issue 23: after the click the rest (every part's DOCX, the commit) would share the web
    worker's GIL with the done page the browser asks for next on the same connection, and then
    with the print PDF the user opens from it; it starts when both are served – or after
    registry.REST_WAIT_S for each when nobody asks."""
    import threading

    from formservice.arenden import registry

    from .wizard_driver import create_arende, fill_blankett

    app.config["DOCUMENT_REST_IN_THREAD"] = True
    events, rested = [], threading.Event()
    ensure_complete, shown, served = registry.ensure_complete, registry.done_page_shown, registry.file_asked_for

    def rest(*a, **k):
        events.append("rest")
        try:
            return ensure_complete(*a, **k)
        finally:
            rested.set()
    monkeypatch.setattr(registry, "ensure_complete", rest)
    monkeypatch.setattr(registry, "done_page_shown", lambda dok: events.append("done page") or shown(dok))
    monkeypatch.setattr(registry, "file_asked_for", lambda dok: events.append("file") or served(dok))
    monkeypatch.setattr(registry, "REST_WAIT_S", 5.0)  # longer than this test takes to ask

    def click(*, follow: bool):
        review = fill_blankett(soc, create_arende(soc, ruta="soc1.4"), "forandringsplan",
                               app.extensions["catalogue"], stop_at_review=True)
        posted = {k: v for k, v in form_with(review["review"], "utkast")["fields"].items() if v is not None}
        res = soc.post(review["review_url"], data=posted)
        assert res.status_code == 302
        if follow:
            page = soc.get(res.location)
            return re.search(r'href="([^"]+)\.pdf"', page.get_data(as_text=True)).group(1)

    stem = click(follow=True)
    assert not rested.wait(0.5) and events == ["done page"], events  # waiting for the print PDF
    assert soc.get(stem + ".pdf").data.startswith(b"%PDF")
    assert rested.wait(10)
    assert events[:3] == ["done page", "file", "rest"], events
    # The DOCX asked for first: the rest starts at once (the download waits for it), not REST_WAIT_S later.
    events.clear()
    rested.clear()
    stem = click(follow=True)
    begun = time.monotonic()
    assert soc.get(stem + ".docx").data.startswith(b"PK")
    assert time.monotonic() - begun < registry.REST_WAIT_S and events[:3] == ["done page", "file", "rest"], events

    # Nobody asks for the done page (a client that does not follow the redirect): the rest comes all the same.
    monkeypatch.setattr(registry, "REST_WAIT_S", 0.2)
    events.clear()
    rested.clear()
    click(follow=False)
    assert rested.wait(10) and events == ["rest"], events
    # The done page but not the print PDF: the rest starts REST_WAIT_S after the page.
    events.clear()
    rested.clear()
    click(follow=True)
    assert rested.wait(10) and events == ["done page", "rest"], events


def _silent_pool(monkeypatch, answer):
    """A socket where the render pool should be, whose one "process" does `answer(conn)`."""
    import threading

    address = f"\0formservice-render-test-{os.getpid()}-{time.monotonic_ns()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setattr(pool, "_address", address)
    monkeypatch.setattr(pool, "_last_warning", 0.0)
    return listener


def test_a_render_process_that_ends_mid_job_leaves_the_document_to_the_caller(monkeypatch, caplog):
    listener = _silent_pool(monkeypatch, lambda conn: (conn.recv(1 << 16), conn.close()))
    try:
        assert "mitt i jobbet" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>mitt i jobbet</p></html>'))[0]
        assert "renderprocesserna svarar inte" in caplog.text
    finally:
        listener.close()


def test_a_render_process_still_at_work_is_not_doubled(monkeypatch):
    """The job was handed over and is not answered in time: an error, not a second layout here."""
    held = []
    listener = _silent_pool(monkeypatch, held.append)  # accepts, keeps the job, never answers
    monkeypatch.setattr(pool, "CLIENT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(pdf, "run_job", lambda job: pytest.fail("laid out a second time"))
    try:
        with pytest.raises(pool.RenderError, match="svarade inte"):
            pdf.html_to_pdf("<p>långsam</p>")
    finally:
        listener.close()
        for conn in held:
            conn.close()


@pytest.mark.db
def test_busy_render_processes_give_a_swedish_503_and_lose_nothing(monkeypatch, soc, app):
    """The caseworker's "Ta fram" while the render processes are all busy past the limit: no 500,
    a page that says to try again with Retry-After, no document filed, the draft still there."""
    from sqlalchemy import func, select

    from formservice import db
    from formservice.arenden.models import Dokument

    from .formparse import form_with
    from .wizard_driver import create_arende

    pid = create_arende(soc, ruta="soc1.4")
    base = f"/arenden/{pid}/blankett/forandringsplan"
    url = f"{base}/sida/2"
    form = form_with(soc.get(url).get_data(as_text=True), "version")["fields"]
    data = {k: v or "" for k, v in form.items() if v is not None}
    assert soc.post(url, data=dict(data, aktuell_situation="Får inte försvinna", action="next")).status_code == 302
    review = form_with(soc.get(f"{base}/granska").get_data(as_text=True), "utkast")["fields"]
    held = []
    listener = _silent_pool(monkeypatch, held.append)
    monkeypatch.setattr(pool, "CLIENT_TIMEOUT_S", 0.5)
    try:
        res = soc.post(f"{base}/granska", data=review)
    finally:
        listener.close()
        for conn in held:
            conn.close()
    html = res.get_data(as_text=True)
    assert res.status_code == 503 and res.headers["Retry-After"] == "30"
    assert "försök igen om en stund" in html and "<title>" in html
    with app.app_context():
        from formservice.arenden.models import Handelse

        assert db.session().scalar(select(func.count()).select_from(Dokument)) == 0
        # The database work done while the job was out (the history, the draft's deletion) undone.
        assert db.session().scalar(select(func.count()).select_from(Handelse).where(Handelse.kind == "dokument")) == 0
    assert "Får inte försvinna" in soc.get(url).get_data(as_text=True)


@pytest.mark.db
def test_a_document_over_the_job_limit_is_a_swedish_503(monkeypatch, soc, app):
    """A render process that stopped the job at its limit answers "L": the caseworker gets a page that
    says what happened, never a 500, and nothing is filed."""
    from .wizard_driver import create_arende
    from .formparse import form_with

    pid = create_arende(soc, ruta="soc1.4")
    base = f"/arenden/{pid}/blankett/forandringsplan"
    review = form_with(soc.get(f"{base}/granska").get_data(as_text=True), "utkast")["fields"]

    def over_limit(conn):
        conn.recv(1 << 20)
        body = "dokumentet tog mer än 100 s att lägga ut".encode()
        conn.sendall(b"L" + pool._LENGTH.pack(len(body)) + body)
        conn.close()

    listener = _silent_pool(monkeypatch, over_limit)
    try:
        res = soc.post(f"{base}/granska", data=review)
    finally:
        listener.close()
    html = res.get_data(as_text=True)
    assert res.status_code == 503 and res.headers["Retry-After"] == "60"
    assert "Dokumentet kunde inte tas fram" in html and "Inget dokument skapades" in html
    assert soc.get(f"/arenden/{pid}").status_code == 200


def test_weasyprint_never_lays_out_in_two_threads_of_one_process(monkeypatch):
    """Without render processes two requests of one worker render in turn, never at once (Pango and
    GLib are not safe in two threads: measured corruption under bursts)."""
    import threading

    monkeypatch.setattr(pool, "_address", None)
    inside, most = [0], [0]
    real_layout = pdf.layout

    def counted(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.05)
            return real_layout(*args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(pdf, "layout", counted)
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(
        pages_text(pdf.html_to_pdf(f'<html lang="sv"><p>tråd {n}</p></html>'))[0])) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert sorted(re.search(r"tråd (\d)", r).group(1) for r in results) == ["0", "1", "2", "3"]


# ---------------------------------------------------------------- limits of one render job
def _heavy_html(paragraphs: int) -> str:
    return '<html lang="sv"><body>' + "".join(f"<p>Stycke {n} med lite text att lägga ut.</p>"
                                               for n in range(paragraphs)) + "</body></html>"


def _answering_pool(processes: int, **limits) -> pool.RenderPool:
    """A pool whose render process has answered a small job. The suite forks it from a process with
    many threads (the browser driver's, earlier tests' workers); a child forked while one of them was
    inside fontconfig or Pango can inherit a lock that is never released, and never answer. The
    server forks its render processes before any thread exists, so that is this harness's hazard,
    not the service's: a pool that does not answer within 20 s is started again."""
    for _attempt in range(3):
        started = pool.RenderPool(processes, **limits)
        pool.use(started.start())
        answered = threading.Event()

        def ask() -> None:
            try:
                pdf.html_to_pdf('<html lang="sv"><p>redo</p></html>')
                answered.set()
            except Exception:  # noqa: BLE001 — the stuck pool's answer, after it was replaced
                pass

        threading.Thread(target=ask, daemon=True).start()
        if answered.wait(20):
            return started
        pool.use(None)
        started.stop()
    raise AssertionError("no render process answered")


@pytest.fixture
def limited_pool():
    started = _answering_pool(1, job_seconds=1, job_memory_mb=2048)
    yield started
    pool.use(None)
    started.stop()


def _render_process(supervisor: int) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        kids = [k for k in children(supervisor) if alive(k)]
        if kids:
            return kids[0]
        time.sleep(0.1)
    raise AssertionError("no render process")


def test_a_job_over_its_time_is_stopped_and_its_process_replaced(limited_pool):
    first = _render_process(limited_pool.supervisor)
    started = time.monotonic()
    with pytest.raises(pool.JobOverLimit, match="mer än 1 s"):
        pdf.html_to_pdf(_heavy_html(20000))
    assert time.monotonic() - started < 10
    # The next caller gets a fresh render process and its document.
    assert "efteråt" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>efteråt</p></html>'))[0]
    assert _render_process(limited_pool.supervisor) != first


def test_a_job_over_its_memory_is_stopped():
    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=40)
    pool.use(started.start())
    try:
        with pytest.raises(pool.JobOverLimit, match="minne"):
            pdf.html_to_pdf(_heavy_html(20000))
        assert "liten" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>liten</p></html>'))[0]
    finally:
        pool.use(None)
        started.stop()


def test_a_job_whose_caller_gave_up_frees_the_render_process():
    """A cancelled request does not keep the only render process from the next caller."""
    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=2048)
    address = started.start()
    pool.use(address)
    try:
        _render_process(started.supervisor)
        job = pdf.Job(_heavy_html(20000))
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(address)
        header = json.dumps({"forms": False, "report": False, "variant": job.variant, "archive": False,
                             "parts": 0}).encode()
        html = job.html.encode()
        conn.sendall(pool._LENGTH.pack(len(header)) + header + pool._LENGTH.pack(len(html)) + html)
        time.sleep(1.0)
        conn.close()  # the caller gives up
        begun = time.monotonic()
        assert "nästa" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>nästa</p></html>'))[0]
        assert time.monotonic() - begun < 8  # not after the abandoned layout (tens of seconds)
    finally:
        pool.use(None)
        started.stop()


def test_background_work_waits_for_every_waiting_click():
    """The doctor's fillable copy, written after the click's response, goes to the render processes'
    background socket: a click queued after it is laid out first."""
    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=2048)
    pool.use(started.start())
    finished: list[str] = []

    def render(name: str, paragraphs: int, in_background: bool) -> None:
        if in_background:
            with pool.background():
                pdf.html_to_pdf(_heavy_html(paragraphs))
        else:
            pdf.html_to_pdf(_heavy_html(paragraphs))
        finished.append(name)

    try:
        _render_process(started.supervisor)
        import threading

        busy = threading.Thread(target=render, args=("busy", 4000, False))
        busy.start()  # the only render process is at work
        time.sleep(0.5)
        later = [threading.Thread(target=render, args=(f"bakgrund {i}", 300, True)) for i in range(2)]
        for thread in later:
            thread.start()
            time.sleep(0.2)
        click = threading.Thread(target=render, args=("klick", 300, False))
        click.start()  # queued last
        for thread in [busy, *later, click]:
            thread.join(timeout=120)
        assert finished[0] == "busy" and finished[1] == "klick", finished
        assert sorted(finished[2:]) == ["bakgrund 0", "bakgrund 1"]
    finally:
        pool.use(None)
        started.stop()


def test_a_click_is_laid_out_before_the_rest_of_the_document_ahead_of_it():
    """A render process that has sent a document's print PDF takes the next click before it writes
    that document's archive copy: four clicks at once on two processes do not queue behind three
    documents' rests."""
    import threading

    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=2048)
    pool.use(started.start())
    done: dict[str, float] = {}
    try:
        _render_process(started.supervisor)
        def document() -> None:
            outputs = pool.submit(pdf.Job(_heavy_html(3000), archive=True))
            done["print"] = time.monotonic()
            assert len(list(outputs)) == 2  # the print PDF and the archive copy
            done["rest"] = time.monotonic()

        def click() -> None:
            assert "nästa" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>nästa</p></html>'))[0]
            done["click"] = time.monotonic()

        threads = [threading.Thread(target=document), threading.Thread(target=click)]
        threads[0].start()
        time.sleep(0.5)  # the document is being laid out: the click waits for the process
        threads[1].start()
        for thread in threads:
            thread.join(timeout=120)
        assert done["print"] < done["click"] < done["rest"], done
    finally:
        pool.use(None)
        started.stop()


def test_a_render_process_forked_while_another_thread_lays_out_is_not_stuck():
    """The layout lock, held by another thread at the fork, is a fresh one in the render process."""
    import threading

    release = threading.Event()
    holder = threading.Thread(target=lambda: (pdf._ONE_AT_A_TIME.acquire(), release.wait(60),
                                              pdf._ONE_AT_A_TIME.release()))
    holder.start()
    started = pool.RenderPool(1, job_seconds=30, job_memory_mb=2048)
    try:
        time.sleep(0.2)  # the lock is held in this process when the pool forks
        pool.use(started.start())
        assert "fri" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>fri</p></html>'))[0]
    finally:
        pool.use(None)
        release.set()
        holder.join()
        started.stop()


def test_a_render_process_leaves_the_fonts_of_the_process_that_forked_it(monkeypatch):
    """A render process replaces the engine it was forked with, and WeasyPrint deletes a font
    configuration's temporary folder when it is collected: that folder is the parent's, so the
    parent drew a font it had not used yet (Arabic) in a fallback after the first pool started."""
    monkeypatch.setattr(pool, "_address", None)
    pdf.html_to_pdf('<html lang="sv"><p>före</p></html>')  # this process's engine, fonts in a temp folder
    started = _answering_pool(1, job_seconds=60, job_memory_mb=2048)
    pool.use(None)
    started.stop()
    arabic = "موافقة على رفع السرية"
    html = f'<html lang="ar" dir="rtl"><p style="font-family: \'Formservice Arabic\'">{arabic}</p></html>'
    assert arabic in pages_text(pdf.html_to_pdf(html))[0]


def _raw_job(address: str, job: pdf.Job) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(60)
    conn.connect(address)
    header = json.dumps({"forms": job.forms, "report": job.report, "variant": job.variant,
                         "archive": job.archive, "parts": job.parts}).encode()
    html = job.html.encode()
    conn.sendall(pool._LENGTH.pack(len(header)) + header + pool._LENGTH.pack(len(html)) + html)
    return conn


def _pdfa(data: bytes) -> str:
    with pikepdf.open(io.BytesIO(data)) as doc:
        return doc.open_metadata().pdfa_status


def _nothing_comes(conn: socket.socket, seconds: float) -> bool:
    import select

    return not select.select([conn], [], [], seconds)[0]


def test_a_render_process_writes_a_rest_only_when_the_web_side_asks(render_pool, monkeypatch):
    """Issue 23: the archive copy is not written while the user's done page and print PDF are served
    (it shared the two cores with them): the render process holds the layout until the web side
    says "G" – and meanwhile takes any click."""
    monkeypatch.setattr(pool, "_address", render_pool.address)  # an earlier test may have let it go
    conn = _raw_job(render_pool.address, pdf.Job(_heavy_html(300), archive=True))
    try:
        assert pool._read_output(conn).startswith(b"%PDF")
        assert _nothing_comes(conn, 1.0)  # held
        assert "emellan" in pages_text(pdf.html_to_pdf('<html lang="sv"><p>emellan</p></html>'))[0]
        conn.sendall(pool._GO)
        assert _pdfa(pool._read_output(conn))  # the PDF/A copy, from the same layout
    finally:
        conn.close()


def test_a_rest_nobody_asks_for_is_written_after_a_while(monkeypatch):
    """A web worker that never says "G" (it died, or hangs) does not hold a layout for ever."""
    from formservice.rendering import render_process

    monkeypatch.setattr(render_process, "GO_WAIT_S", 1.0)  # the render process is forked with it
    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=2048)
    address = started.start()
    try:
        conn = _raw_job(address, pdf.Job(_heavy_html(50), archive=True))
        assert pool._read_output(conn).startswith(b"%PDF")
        begun = time.monotonic()
        assert _pdfa(pool._read_output(conn))
        assert 0.5 < time.monotonic() - begun < 10
        conn.close()
    finally:
        started.stop()


def test_the_rest_of_a_document_goes_after_every_print_in_progress(render_pool, monkeypatch):
    """The shared map of who prints: 1 while a render process lays out a click's print, 0 after; a
    rest (in pool.background) waits for it, a user's own request does not."""
    monkeypatch.setattr(pool, "_address", render_pool.address)  # an earlier test may have let it go
    seen, handed = [], pool.hand_over(pdf.Job(_heavy_html(3000)))
    deadline = time.monotonic() + 30
    while not seen and time.monotonic() < deadline:
        if pool.printing_now():
            seen.append(time.monotonic())
        time.sleep(0.005)
    assert seen, "no render process said it was printing"
    begun = time.monotonic()
    pool.yield_to_prints()  # not in background work: returns at once
    assert time.monotonic() - begun < 0.05
    with pool.background():
        pool.yield_to_prints(limit_s=60)
    waited = time.monotonic()
    assert pool.printing_now() == 0
    first = next(handed.outputs())
    assert first.startswith(b"%PDF") and waited - begun > 0.05


def test_a_render_process_killed_mid_print_leaves_no_one_printing():
    """The supervisor clears the slot of a render process that died laying a print out."""
    started = pool.RenderPool(1, job_seconds=60, job_memory_mb=2048)
    address = started.start()
    pool.use(address)
    try:
        victim = _render_process(started.supervisor)
        conn = _raw_job(address, pdf.Job(_heavy_html(20000)))
        deadline = time.monotonic() + 30
        while not pool.printing_now() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.printing_now() == 1
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pool.printing_now() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.printing_now() == 0
        conn.close()
        assert _render_process(started.supervisor) != victim
    finally:
        pool.use(None)
        started.stop()


def test_a_rest_nobody_will_take_is_dropped_at_once(render_pool, monkeypatch):
    """The click's request failed after its print PDF (a double click that lost): the outputs are
    dropped, the render process hears it and lets the layout go, and no thread waits for them."""
    monkeypatch.setattr(pool, "_address", render_pool.address)
    outputs = pool.submit(pdf.Job(_heavy_html(300), archive=True))
    assert next(outputs).startswith(b"%PDF")
    drains = [t for t in threading.enumerate() if t.name == "render-outputs"]
    assert drains
    outputs.close()
    for thread in drains:
        thread.join(timeout=3)  # not after the render process's own wait for the web side (GO_WAIT_S, 5 s)
        assert not thread.is_alive()
