"""Issue 27 item 2: the doctor's confirmed answer with the DFA chain as Försäkringskassan's medicinskt
underlag – a bilaga "Medicinskt underlag från läkare" in the ansökan's packet, printed as the doctor
gave it, offered only where the ärende has such an answer, never in another ärende."""
import io
import re

from docx import Document as WordDocument
from pypdf import PdfReader

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .test_dfa_answers import DEPRESSION, _pdf_values
from .test_doctor_answers import confirm, upload
from .wizard_driver import INDIVID, create_arende, fill_blankett

TITLE = "Medicinskt underlag från läkare"


def answered(soc, forfragan, answers: dict) -> str:
    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, **_pdf_values(answers))))
    _page, res = confirm(soc, res.headers["Location"])
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    return pid


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_confirmed_dfa_answer_is_printed_as_fks_medicinskt_underlag(soc, app, forfragan):
    pid = answered(soc, forfragan, DEPRESSION)
    catalogue = app.extensions["catalogue"]
    review = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, stop_at_review=True)["review"]
    assert TITLE in review and "diagnos F321 Medelsvår depressiv episod" in review
    assert not re.search(r'name="bifoga_lakarsvar"[^>]*checked', review)  # offered, never ticked for the individ

    made = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, review_extra={"bifoga_lakarsvar": "1"})
    reader = PdfReader(io.BytesIO(made["pdf"]))
    assert [o.title for o in reader.outline if not isinstance(o, list)][-1] == TITLE  # a part after FK's blankett
    fk_text, underlag = made["text"].split("Sida 1 av", 1)[0], made["text"].split(TITLE, 1)[1]
    assert "MADRS-S 28" not in fk_text.split(TITLE)[0]
    # The doctor's words and FK's codes as the doctor gave them, about this individ.
    for said in ("Medelsvår depressiv episod", "MADRS-S 28", "KBT via vårdcentralens psykolog",
                 "Åsa Läkarsson", "Vårdcentralen Skärholmen", INDIVID["namn"], "19121212-1212",
                 "Koncentrationssvårigheter under behandlingen", "Korta pass med pauser"):
        assert said in underlag, said
    assert re.search(r"F32\.?1", underlag)
    assert "Underskrift, läkare" not in underlag  # the doctor signed the answer, not this copy

    # The same bilaga in the Word document of the whole packet.
    done = made["done"]
    docx_url = re.search(r'href="([^"]+\.docx)"', done).group(1)
    word = WordDocument(io.BytesIO(soc.get(docx_url).data))
    words = "\n".join(p.text for p in word.paragraphs) + "\n".join(
        c.text for t in word.tables for r in t.rows for c in r.cells)
    assert "MADRS-S 28" in words


def test_not_ticked_or_without_dfa_or_in_another_arende_nothing_is_carried(soc, app, forfragan):
    catalogue = app.extensions["catalogue"]
    pid = answered(soc, forfragan, {})  # an answer to the activity table only: no DFA chain
    review = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, stop_at_review=True)["review"]
    assert 'name="bifoga_lakarsvar"' not in review
    # A stale page (or a forged post) that asks for it anyway gets a Swedish message, and nothing is made.
    at_review = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, stop_at_review=True)
    res = soc.post(at_review["review_url"], data={
        "csrf_token": csrf_token(at_review["review"]), "bifoga_lakarsvar": "1",
        "utkast": re.search(r'name="utkast" value="([^"]*)"', at_review["review"]).group(1)})
    assert res.status_code == 400
    page = res.get_data(as_text=True)
    assert "Det finns inget bekräftat läkarsvar med diagnoskod" in page and 'href="#f-bifoga_lakarsvar"' in page

    made = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue)
    assert TITLE not in made["text"] and "Koncentrationssvårigheter" not in made["text"]


def test_another_arendes_answer_is_never_offered(soc, app, forfragan):
    answered(soc, forfragan, DEPRESSION)
    other = create_arende(soc, ruta="soc1.9")  # the same individ, a second ärende of the enhet
    catalogue = app.extensions["catalogue"]
    at_review = fill_blankett(soc, other, "fk_ansokan_samordning", catalogue, stop_at_review=True)
    assert 'name="bifoga_lakarsvar"' not in at_review["review"] and "F321" not in at_review["review"]
    res = soc.post(at_review["review_url"], data={
        "csrf_token": csrf_token(at_review["review"]), "bifoga_lakarsvar": "1",
        "utkast": re.search(r'name="utkast" value="([^"]*)"', at_review["review"]).group(1)})
    assert res.status_code == 400 and "MADRS" not in res.get_data(as_text=True)


def test_a_document_keeps_the_answer_it_carried_and_a_new_one_carries_the_newer(soc, app, forfragan):
    from .test_dfa_answers import LUMBAGO

    catalogue = app.extensions["catalogue"]
    pid = answered(soc, forfragan, DEPRESSION)
    first = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, review_extra={"bifoga_lakarsvar": "1"})
    answered(soc, forfragan, LUMBAGO)  # a newer answer to the same förfrågan becomes the current one
    second = fill_blankett(soc, pid, "fk_ansokan_samordning", catalogue, review_extra={"bifoga_lakarsvar": "1"})
    assert "Lumbago" in second["text"] and "MADRS-S 28" not in second["text"]
    again = text_of(soc.get(first["pdf_url"]).data)  # the first ansökan, fetched again: as it was made
    assert "MADRS-S 28" in again and "Lumbago" not in again
