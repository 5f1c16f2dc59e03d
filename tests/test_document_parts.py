"""Every part of a produced document — the blankett, each bilaga, each recipient's copy — as PDF and
DOCX of its own in the ärende's document list, and the whole as a ZIP."""
from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import timedelta

import pytest
from docx import Document as WordDocument
from pypdf import PdfReader



def pdf_text(data: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


def docx_text(data: bytes) -> str:
    doc = WordDocument(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return " ".join([p.text for p in doc.paragraphs] + cells)


def test_each_part_as_pdf_and_docx_and_the_whole_as_zip(soc, forfragan):
    pid, doc_id, _ = forfragan
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    links = re.findall(rf'href="(/arenden/{pid}/dokument/{doc_id}/del/(\d)\.(pdf|docx))"', html)
    assert {(n, fmt) for _, n, fmt in links} == {("0", "pdf"), ("0", "docx"), ("1", "pdf"), ("1", "docx")}
    assert "Rehabiliteringsförfrågan: " in html and "Sekretessmedgivande: " in html

    bilaga = soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/1.pdf")
    pages = pdf_text(bilaga.data)
    assert bilaga.status_code == 200 and len(pages) == 1
    assert "Sekretessmedgivande" in pages[0] and "Sida 1 (1)" in pages[0]  # numbered within the part
    word = soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/1.docx")
    assert "Sekretessmedgivande" in docx_text(word.data) and "Tilda Testperson" in docx_text(word.data)
    assert soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/7.pdf").status_code == 404

    whole = soc.get(f"/arenden/{pid}/dokument/{doc_id}.zip")
    names = zipfile.ZipFile(io.BytesIO(whole.data)).namelist()
    assert len([n for n in names if n.endswith(".docx")]) == 2
    assert len([n for n in names if n.endswith(".pdf")]) == 4  # the packet, two parts, the archive copy


def test_the_documents_docx_is_the_whole_document(soc, forfragan):
    """"Hämta DOCX" gives every part, each a section of its own (a new page, its own header), not
    the first part again; the parts stay available one by one."""
    pid, doc_id, _ = forfragan
    whole = soc.get(f"/arenden/{pid}/dokument/{doc_id}.docx")
    first = soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/0.docx")
    bilaga = soc.get(f"/arenden/{pid}/dokument/{doc_id}/del/1.docx")
    assert whole.status_code == first.status_code == bilaga.status_code == 200
    assert whole.data not in (first.data, bilaga.data)
    doc = WordDocument(io.BytesIO(whole.data))
    assert len(doc.sections) == 2
    headers = [" ".join(c.text for t in s.header.tables for row in t.rows for c in row.cells) for s in doc.sections]
    assert "Rehabiliteringsförfrågan" in headers[0] and "Sekretessmedgivande" in headers[1]
    text = docx_text(whole.data)
    assert "Kan personen delta i aktiviteter?" in text and "Jag som lämnar samtycket" in text
    assert "Tilda Testperson" in text


@pytest.mark.db
def test_the_overview_lays_nothing_out_and_says_what_is_on_its_way(soc, app, monkeypatch):
    """A document whose rest (parts, archive, DOCX, the doctor's copy) is not written yet – its
    server restarted right after the click: the overview shows its print PDF and says the rest is on
    its way, without laying anything out in the page view; a download of the rest completes it then."""
    from sqlalchemy import delete, select

    from formservice import db
    from formservice.arenden import registry
    from formservice.arenden.models import Dokument, DokumentDel
    from formservice.rendering import pdf

    from .wizard_driver import create_arende, fill_blankett

    pid = create_arende(soc, ruta="soc1.9")
    fill_blankett(soc, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    with app.app_context():
        dok = db.session().scalar(select(Dokument))
        db.session().execute(delete(DokumentDel).where(DokumentDel.dokument_id == dok.id))
        dok.klar, dok.docx_enc, dok.archive_enc, dok.fillable_enc = False, None, None, None
        dok.created_at -= timedelta(hours=1)  # made before a restart: nobody is completing it any more
        db.session().commit()
    registry._made_here.clear()

    calls = []
    real = pdf.run_job
    monkeypatch.setattr(pdf, "run_job", lambda job: calls.append(job) or real(job))
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert not calls, "the overview laid a document out"
    assert "tas fram – ladda om sidan om en stund" in html
    fillable = re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)
    started = time.monotonic()
    assert soc.get(fillable).status_code == 200 and calls  # completed on demand, by the download
    assert time.monotonic() - started < registry.PENDING_ELSEWHERE_S  # an old one is not waited for
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "tas fram – ladda om sidan" not in html and "Sekretessmedgivande" in html


@pytest.mark.db
def test_the_rest_of_a_document_is_written_off_the_request_thread(soc, app, monkeypatch):
    """In production the rest (archive, parts, DOCX, the doctor's copy) is written in a thread of its
    own after the response: the request – and closing its response, after which the server reads the
    next request of the connection – returns while the rest is still being written; a download in
    the meantime waits for that thread instead of laying the document out again."""
    import threading

    from formservice.arenden import registry
    from formservice.rendering import pdf

    from .formparse import form_with
    from .wizard_driver import create_arende

    app.config["DOCUMENT_REST_IN_THREAD"] = True
    pid = create_arende(soc, ruta="soc1.4")
    base = f"/arenden/{pid}/blankett/forandringsplan"
    review = form_with(soc.get(f"{base}/granska").get_data(as_text=True), "utkast")["fields"]
    release, entered = threading.Event(), threading.Event()
    real_complete, layouts, real_run = registry._complete, [], pdf.run_job

    def held(dok, job):
        entered.set()
        assert release.wait(30)
        return real_complete(dok, job)

    monkeypatch.setattr(registry, "_complete", held)
    monkeypatch.setattr(pdf, "run_job", lambda job: layouts.append(job) or real_run(job))
    res = soc.post(f"{base}/granska", data=review)  # the client closes the response: the thread starts
    assert res.status_code == 302 and entered.wait(10)
    assert len(layouts) == 1  # the print PDF, once
    doc_id = res.headers["Location"].rsplit("/", 1)[-1]
    downloaded = []
    waiter = threading.Thread(target=lambda: downloaded.append(
        soc.get(f"/arenden/{pid}/dokument/{doc_id}.docx")))
    waiter.start()
    time.sleep(0.5)
    assert not downloaded  # waits for the thread that has the layout
    release.set()
    waiter.join(30)
    assert downloaded and downloaded[0].status_code == 200 and downloaded[0].data[:2] == b"PK"
    assert len(layouts) == 1  # nothing laid out a second time


@pytest.mark.db
def test_the_overview_asks_the_database_as_often_for_many_documents_as_for_one(soc, forfragan, app):
    """The document list and the doctor's answers are read in a fixed number of queries (the
    documents with their creators, the parts with their titles, the answers with their documents),
    however many documents and answers the ärende has: no query per row. Every copy still shows up
    with its own links, its parts' titles and its answer."""
    from sqlalchemy import event, select

    from formservice import db
    from formservice.arenden.models import Dokument, DokumentDel
    from formservice.arenden.operations import keyring, new_public_id
    from formservice.arenden.registry import new_document_number
    from formservice.db import utcnow
    from formservice.doctor.models import Svar

    pid, doc_id, _ = forfragan

    def answered(dok: Dokument) -> Svar:
        return Svar(public_id=new_public_id(), arende_id=dok.arende_id, dokument_id=dok.id, source="papper",
                    status="bekraftad", answers_enc=keyring().encrypt_json({"lakare_namn": "Åsa Läkarsson"}),
                    confirmed_at=utcnow())

    def statements() -> tuple[int, str]:
        seen = []
        listen = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
        event.listen(app.extensions["db_engine"], "before_cursor_execute", listen)
        try:
            html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
        finally:
            event.remove(app.extensions["db_engine"], "before_cursor_execute", listen)
        return len(seen), html

    with app.app_context():
        dbs = db.session()
        made = dbs.scalar(select(Dokument).where(Dokument.public_id == doc_id))
        dbs.add(answered(made))
        dbs.commit()
    one, _ = statements()
    with app.app_context():
        dbs = db.session()
        made = dbs.scalar(select(Dokument).where(Dokument.public_id == doc_id))
        parts = dbs.scalars(select(DokumentDel).where(DokumentDel.dokument_id == made.id)).all()
        copies = []
        for _ in range(6):
            copy = Dokument(public_id=new_public_id(), arende_id=made.arende_id, blankett_id=made.blankett_id,
                            blankett_version=made.blankett_version, document_number=new_document_number(),
                            created_by=made.created_by, pdf_enc=made.pdf_enc, values_enc=made.values_enc,
                            docx_enc=made.docx_enc, archive_enc=made.archive_enc, fillable_enc=made.fillable_enc)
            dbs.add(copy)
            dbs.flush()
            dbs.add_all([DokumentDel(dokument_id=copy.id, position=p.position, blankett_id=p.blankett_id,
                                     title_enc=p.title_enc, pdf_enc=p.pdf_enc, docx_enc=p.docx_enc) for p in parts])
            dbs.add(answered(copy))
            copies.append((copy.public_id, copy.document_number))
        dbs.commit()
    seven, html = statements()
    assert seven == one
    for copy, number in copies:
        assert f'href="/arenden/{pid}/dokument/{copy}/del/1.pdf"' in html
        assert f'action="/arenden/{pid}/dokument/{copy}/status"' in html
        assert f"<h3>{number} – pappersblankett" in html
    assert html.count("Sekretessmedgivande: <a") == 7 and html.count("Sara Handläggare</span></td>") == 7
    assert html.count("Åsa Läkarsson</dd>") == 7
