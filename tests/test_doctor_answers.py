"""The doctor's answers back into the ärende: fillable PDF out, upload or paper, confirm."""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice.arenden.models import Dokument
from formservice.doctor.models import Svar

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .wizard_driver import create_arende, fill_blankett, step


def upload(client, pid, doc_id, data, filename="svar.pdf"):
    page = client.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    return client.post(f"/arenden/{pid}/dokument/{doc_id}/svar",
                       data={"csrf_token": csrf_token(page), "fil": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, location):
    page = client.get(location).get_data(as_text=True)
    form = form_with(page, "lakare_namn")
    data = {k: v for k, v in form["fields"].items() if v is not None}
    return page, client.post(location, data=data)


def test_fillable_pdf_has_only_the_doctors_fields_and_is_small(forfragan):
    _pid, _doc, fillable = forfragan
    fields = PdfReader(io.BytesIO(fillable)).get_fields()
    assert "aktivitet_jobbtorg_omfattning" in fields and "lakare_anpassning" in fields
    assert "individ_namn" not in fields and "handlaggare_namn" not in fields
    assert len(fillable) <= 100 * 1024


@pytest.mark.db
@pytest.mark.parametrize("resave", [False, True], ids=["pypdf", "pikepdf-resaved"])
def test_upload_confirm_stores_answers_and_moves_the_case(soc, app, dbs, forfragan, resave):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES)
    if resave:
        filled = corpus.resave_with_pikepdf(filled)
    res = upload(soc, pid, doc_id, filled)
    assert res.status_code == 302, res.get_data(as_text=True)[-3000:]
    page, res = confirm(soc, res.headers["Location"])
    assert 'value="50' in page and "Korta pass med pauser" in page
    assert res.status_code == 302
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Läkarens svar" in html and "50 %" in html and "Korta pass med pauser" in html
    assert "Koncentrationssvårigheter under behandlingen" in html
    assert "Kompletteringen från vården har kommit in" in html
    assert "Ruta 11" in html.split("Står i:")[1][:300]
    dok = dbs.scalar(select(Dokument).where(Dokument.public_id == doc_id))
    assert dok.status == "besvarad"
    svar = dbs.scalar(select(Svar))
    archive = soc.get(f"/arenden/{pid}/svar/{svar.public_id}/arkiv.pdf").data
    reader = PdfReader(io.BytesIO(archive))
    assert not reader.get_fields()
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Korta pass med pauser" in text and "50" in text


def test_paper_answers_are_registered_with_the_same_validation(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    res = soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": csrf_token(page)})
    location = res.headers["Location"]
    form = form_with(soc.get(location).get_data(as_text=True), "lakare_namn")
    base = {k: v for k, v in form["fields"].items() if v is not None}
    assert base.get("lakare_namn")  # the doctor's name known from the förfrågan is offered
    bad = soc.post(location, data=dict(base, aktivitet_jobbtorg_omfattning="120", lakare_namn=""))
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "mellan 0 och 100" in body and "Läkare: måste fyllas i." in body
    assert 'value="120"' in body  # nothing typed is lost
    ok = soc.post(location, data=dict(base, aktivitet_jobbtorg_omfattning="75", lakare_namn="Åsa Läkarsson",
                                      vardenhet="Vårdcentralen Skärholmen"))
    assert ok.status_code == 302
    assert "75 %" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


BAD_FILES = [
    (corpus.text_file, "Filen är inte en PDF."),
    (corpus.empty, "Filen är tom."),
    (corpus.truncated, "skadad eller ofullständig"),
    (corpus.malformed, "skadad eller ofullständig"),
    (corpus.encrypted, "lösenordsskyddad"),
    (corpus.without_fields, "inga ifyllbara fält"),
    (corpus.with_javascript, "JavaScript"),
    (corpus.with_attachment, "bifogade filer"),
    (corpus.not_ours, "kommer inte från formservice"),
]


def test_bad_uploads_get_a_clear_message_and_store_nothing(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan  # one ärende for the whole corpus: producing it is the slow part
    for make_file, message in BAD_FILES:
        res = upload(soc, pid, doc_id, make_file())
        assert res.status_code == 400, make_file.__name__
        assert message in res.get_data(as_text=True), make_file.__name__
    assert dbs.scalar(select(Svar)) is None
    res = soc.post(f"/arenden/{pid}/dokument/{doc_id}/svar",
                   data={"csrf_token": csrf_token(soc.get(f"/arenden/{pid}").get_data(as_text=True))})
    assert res.status_code == 400 and "Välj PDF-filen" in res.get_data(as_text=True)


def test_a_pdf_from_another_arende_is_refused(soc, app, forfragan, dbs):
    pid, doc_id, _ = forfragan
    other_pid = create_arende(soc, ruta="soc1.9")
    fill_blankett(soc, other_pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    html = soc.get(f"/arenden/{other_pid}").get_data(as_text=True)
    other_fillable = soc.get(re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)).data
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(other_fillable, corpus.DOCTOR_VALUES))
    assert res.status_code == 400 and "hör till ett annat ärende" in res.get_data(as_text=True)
    # An altered reference is refused too.
    res = upload(soc, pid, doc_id, corpus.altered_reference())
    assert res.status_code == 400
    assert dbs.scalar(select(Svar)) is None


def test_oversized_upload_is_refused(soc, app, forfragan):
    pid, doc_id, fillable = forfragan
    app.config["UPLOAD_MAX_BYTES"] = 10 * 1024
    res = upload(soc, pid, doc_id, fillable)
    assert res.status_code == 400 and "större än 10 kB" in res.get_data(as_text=True)


def test_confirmed_answers_prefill_later_blanketter(soc, app, forfragan):
    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    confirm(soc, res.headers["Location"])
    start = soc.get(f"/arenden/{pid}/blankett/finsamteam_anmalan")
    pages = []
    location = start.headers["Location"]
    while "/sida/" in location:
        html = soc.get(location).get_data(as_text=True)
        pages.append(html)
        form = form_with(html, "version")
        data = {k: v or "" for k, v in form["fields"].items() if v is not None}
        for name in data:
            if not data[name] and name not in ("version",) and "." not in name and "datum" not in name:
                data[name] = "x"
        location = soc.post(location, data=dict(data, action="next")).headers["Location"]
    text = " ".join(pages)
    reason = re.search(r'<textarea[^>]*name="finsam_anledning"[^>]*>([^<]*)</textarea>', text).group(1)
    # The doctor's name and vårdenhet were known from the förfrågan (its sekretessmedgivande).
    who = re.match(r"Enligt läkarens bedömning \(([^)]*)\) ", reason).group(1)
    assert who.endswith(", 2026-12-01")
    assert reason.removeprefix(f"Enligt läkarens bedömning ({who}) ") == (
        "kan personen delta i Jobbtorg på 50 % och i sysselsättning på 25 %. Personen kan inte delta i "
        "språkundervisning/utbildning (motivering: Koncentrationssvårigheter under behandlingen). "
        "För att kunna delta i planerade aktiviteter behövs följande anpassning eller hänsynstagande: "
        "Korta pass med pauser.")
    assert "FS-" not in reason and ".;" not in reason and "jobbtorgets" not in reason
    fk = soc.get(soc.get(f"/arenden/{pid}/blankett/fk_ansokan_samordning").headers["Location"])
    assert fk.status_code == 200
