"""The DFA review of a läkarintyg at rutor 7–8: Nej names the missing links in the history and
prepares a komplettering naming exactly those; the doctor's answer comes back; the review done
again gives Ja and the ärende moves on. Also: Ja directly, another enhet's 404, bad input, the
uploaded intyg, and the FMB links."""
import io
import os
import re

import pytest
from pypdf import PdfReader

from formservice.doctor import dfa_review, fmb

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .test_doctor_answers import confirm, upload
from .wizard_driver import INDIVID, create_arende, current_ruta

# Fictitious, shaped like Inera's LISJP fixtures (our own wording): an intyg that names the illness
# in words only and describes symptoms, not findings.
INCOMPLETE = ("Diagnos: depression.\nPatienten uppger trötthet, nedstämdhet och sömnsvårigheter sedan två "
              "månader.\nKan inte arbeta. Sjukskriven 100 % 2026-11-23 – 2027-01-31. Prognos: oklar.")
MISSING = {"diagnos": "Diagnoskod saknas, diagnosen anges bara i ord.",
           "funktionsnedsattning": "Bara patientens egna besvär; inga undersökningsfynd eller testresultat."}


@pytest.fixture
def place(app):
    with app.app_context():
        return dfa_review.place(app.extensions["catalogue"].process_map)


def ruta_7(place, app):
    pm = app.extensions["catalogue"].process_map
    return next(r for r in sorted(place.before) if pm.rutor[r].lane == place.decision.lane)


def review_form(client, pid, **values):
    page = client.get(f"/arenden/{pid}/dfa-granskning")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "version": re.search(r'name="version" value="(\d+)"', html).group(1)}
    for link in dfa_review.LINKS:
        data[f"lank_{link.key}"] = "ja"
    data.update(values)
    return html, data


def post_review(client, pid, **values):
    _html, data = review_form(client, pid, **values)
    return client.post(f"/arenden/{pid}/dfa-granskning", data=data, content_type="multipart/form-data")


def nej(**missing):
    out = {}
    for key, text in missing.items():
        out[f"lank_{key}"] = "nej"
        out[f"saknas_{key}"] = text
    return out


def history_text(client, pid):
    return " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/arenden/{pid}").get_data(as_text=True)).split())


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)


def produce_komplettering(client, pid):
    """The komplettering from its Granska page (everything is prefilled: the individ, the caseworker
    and the missing links from the review); returns (document id, print PDF text)."""
    url = f"/arenden/{pid}/blankett/{dfa_review.KOMPLETTERING}/granska"
    page = client.get(url).get_data(as_text=True)
    res = client.post(url, data=form_with(page, "utkast")["fields"])
    assert res.status_code == 302, re.sub(r"\s+", " ", res.get_data(as_text=True))[:3000]
    doc_id = res.headers["Location"].rsplit("/", 1)[-1]
    pdf = client.get(f"/arenden/{pid}/dokument/{doc_id}.pdf").data
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the pages by eye
        keep = os.environ["FORMSERVICE_KEEP_ARTIFACTS"]
        with open(os.path.join(keep, "komplettering.pdf"), "wb") as out:
            out.write(pdf)
        with open(os.path.join(keep, "komplettering-ifyllbar.pdf"), "wb") as out:
            out.write(client.get(f"/arenden/{pid}/dokument/{doc_id}.ifyllbar").data)
    return doc_id, pdf_text(pdf)


# ---------------------------------------------------------------- the round trip
def test_incomplete_intyg_gives_nej_a_komplettering_naming_the_missing_links_and_then_ja(soc, app, place):
    pid = create_arende(soc, ruta=ruta_7(place, app))
    step_page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert f'href="/arenden/{pid}/dfa-granskning"' in step_page

    res = post_review(soc, pid, kalla="inskrivet", intyg_text=INCOMPLETE, intyg_beskrivning="Läkarintyg VC Test 2026-11-23",
                      **nej(**MISSING))
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    # Ruta 8's decision, Nej, through the same move as the step page: the ärende waits for the komplettering.
    assert current_ruta(soc, pid) == place.decision.decision.no
    history = history_text(soc, pid)
    assert "Läkarintyg komplett? Nej (DFA-granskning; saknas: diagnoskod, undersökningsfynd)" in history
    assert MISSING["diagnos"] in history  # the caseworker's words, in the encrypted note
    shown = soc.get(res.headers["Location"]).get_data(as_text=True)
    assert "Läkarintyg komplett? <strong>Nej</strong>" in shown and "Komplettering till läkaren" in shown

    doc_id, text = produce_komplettering(soc, pid)
    asked = text.split("Det här saknas i läkarintyget")[1].split("Läkarens komplettering")[0]
    assert "Diagnos med diagnoskod (ICD-10-SE)" in asked and MISSING["diagnos"] in asked
    assert "Funktionsnedsättning beskriven med undersökningsfynd" in asked
    for absent in ("Aktivitetsbegränsning i förhållande", "Sammanhang mellan", "Grad av nedsättning"):
        assert absent not in asked
    assert INDIVID["namn"] in text and "Sara Handläggare" in text and "Läkarintyg VC Test 2026-11-23" in text

    # The doctor answers in the fillable PDF; it is read back and confirmed like a förfrågan.
    fillable = soc.get(f"/arenden/{pid}/dokument/{doc_id}.ifyllbar").data
    fields = PdfReader(io.BytesIO(fillable)).get_fields()
    assert "komplettering_diagnos" in fields and "saknas_diagnos" not in fields
    filled = corpus.fill_with_pypdf(fillable, {
        "komplettering_diagnos": "F32.1 Medelsvår depressiv episod",
        "komplettering_funktionsnedsattning": "Sänkt affekt, psykomotoriskt långsam, MADRS-S 28.",
        "lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen",
        "komplettering_svar_datum": "2026-12-01"})
    res = upload(soc, pid, doc_id, filled)
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    _page, res = confirm(soc, res.headers["Location"])
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    assert current_ruta(soc, pid) == place.decision.decision.no  # still waiting for the new review

    html, _data = review_form(soc, pid)
    assert "Läkarens svar på Komplettering av läkarintyg" in html and "MADRS-S 28" in html
    svar_choice = re.search(r'name="kalla" value="(svar:[^"]+)"', html).group(1)
    res = post_review(soc, pid, kalla=svar_choice, diagnoskod="F32.1")
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    assert current_ruta(soc, pid) == place.decision.decision.yes
    assert "Läkarintyg komplett? Ja (DFA-granskning)" in history_text(soc, pid)
    shown = soc.get(res.headers["Location"]).get_data(as_text=True)
    assert 'href="https://roi.socialstyrelsen.se/fmb/depressiv-episod/508" class="extern"' in shown


def test_complete_intyg_gives_ja_directly(soc, app, place):
    pid = create_arende(soc, ruta=place.decision.id)
    res = post_review(soc, pid, kalla="inskrivet", intyg_text="M54.5 Lumbago. Nedsatt rörlighet i ländrygg …",
                      diagnoskod="M54.5")
    assert res.status_code == 302
    assert current_ruta(soc, pid) == place.decision.decision.yes
    assert "Läkarintyg komplett? Ja (DFA-granskning)" in history_text(soc, pid)
    with app.app_context():
        from formservice.arenden.models import Utkast
        from formservice import db
        assert not db.session().query(Utkast).filter_by(blankett_id=dfa_review.KOMPLETTERING).count()


def test_the_review_is_offered_only_at_rutor_7_and_8_and_while_waiting(soc, app, place):
    pid = create_arende(soc, ruta=place.decision.decision.yes)
    res = soc.get(f"/arenden/{pid}/dfa-granskning")
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/arenden/{pid}")
    assert "/dfa-granskning" not in soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)


def test_another_enhet_gets_404(soc, app, place, auth, make_user, make_enhet):
    pid = create_arende(soc, ruta=place.decision.id)
    res = post_review(soc, pid, kalla="inskrivet", intyg_text=INCOMPLETE, **nej(**MISSING))
    review_url = res.headers["Location"]
    _html, data = review_form(soc, pid)
    auth.logout()
    make_user(username="olle", enhet_id=make_enhet(namn="Annan enhet"), namn="Olle Annan")
    auth.login(username="olle")
    assert soc.get(f"/arenden/{pid}/dfa-granskning").status_code == 404
    page = soc.get("/").get_data(as_text=True)
    assert soc.post(f"/arenden/{pid}/dfa-granskning", data=dict(data, csrf_token=csrf_token(page))).status_code == 404
    assert soc.get(review_url).status_code == 404
    assert soc.get(review_url + "/lakarintyg.pdf").status_code == 404


def test_bad_input_gets_swedish_messages_and_keeps_what_was_typed(soc, app, place):
    pid = create_arende(soc, ruta=place.decision.id)
    _html, data = review_form(soc, pid, kalla="inskrivet", intyg_text=INCOMPLETE, diagnoskod="F32",
                              lank_funktionsnedsattning="nej", saknas_funktionsnedsattning="x" * 501,
                              lank_aktivitetsbegransning="nej", saknas_aktivitetsbegransning="")
    del data["lank_diagnos"]
    res = soc.post(f"/arenden/{pid}/dfa-granskning", data=data, content_type="multipart/form-data")
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert "Svara ja eller nej: Är diagnosen angiven med diagnoskod (ICD-10-SE)?" in html
    assert "Texten är för lång: högst 500 tecken (nu 501)." in html
    assert "Skriv kort vad som saknas" in html
    assert "En psykiatrisk diagnoskod (F) ska ha minst fyra positioner" in html
    assert "x" * 501 in html and "sömnsvårigheter sedan två" in html and 'value="F32"' in html
    assert 'id="f-lank_funktionsnedsattning-nej" name="lank_funktionsnedsattning" value="nej" checked' in html
    assert current_ruta(soc, pid) == place.decision.id  # nothing decided


def test_an_uploaded_intyg_is_checked_stored_encrypted_and_downloadable(soc, app, place):
    pid = create_arende(soc, ruta=place.decision.id)
    res = post_review(soc, pid, kalla="uppladdat", intyg_beskrivning="Skannat intyg",
                      fil=(io.BytesIO(b"not a pdf at all"), "intyg.pdf"))
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert "Filen är inte en PDF. Välj filen igen." in html and 'value="Skannat intyg"' in html
    intyg = _blank_pdf()
    res = post_review(soc, pid, kalla="uppladdat", fil=(io.BytesIO(intyg), "intyg.pdf"))
    assert res.status_code == 302
    got = soc.get(res.headers["Location"] + "/lakarintyg.pdf")
    assert got.status_code == 200 and got.data == intyg and got.headers["Content-Disposition"].startswith("attachment")
    with app.app_context():
        from formservice import db
        from formservice.doctor.dfa_review_models import DfaGranskning
        row = db.session().query(DfaGranskning).one()
        assert intyg not in row.pdf_enc and b"Skannat" not in row.intyg_enc


def _blank_pdf() -> bytes:
    """A one-page PDF as a scanned intyg would be: no form fields."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- FMB
@pytest.mark.parametrize("code, url", [
    ("F32.1", "https://roi.socialstyrelsen.se/fmb/depressiv-episod/508"),
    ("f331", "https://roi.socialstyrelsen.se/fmb/recidiverande-depressioner/528"),
    ("F43.8A", "https://roi.socialstyrelsen.se/fmb/utmattningssyndrom/546"),
    ("M54.5", "https://roi.socialstyrelsen.se/fmb/akut-lumbago/259"),
    ("M51.1", "https://roi.socialstyrelsen.se/fmb/lumbago-ischias-diskbrack/317"),
])
def test_fmb_links_by_the_longest_prefix(code, url):
    link = fmb.link_for(code)
    assert link.url == url and link.specific


def test_fmb_without_an_entry_links_to_the_start_page():
    link = fmb.link_for("J45")
    assert link.url == "https://roi.socialstyrelsen.se/fmb" and not link.specific and link.code == "J45"


@pytest.mark.parametrize("code, ok", [("F321", True), ("U07.1", True), ("M545", True), ("F32", False),
                                      ("Z73", False), ("32.1", False), ("M54.55X", False), ("", True)])
def test_code_format(code, ok):
    assert (fmb.code_error(code) is None) == ok


# ---------------------------------------------------------------- answered online, via samverkan
@pytest.mark.db
def test_komplettering_sent_to_varden_and_answered_online(soc, app, place, make_user):
    from .test_samverkan import _doctor_client, _record_consent, _send, make_forbund

    from formservice import db
    from formservice.samverkan.models import Overlamning

    vc_id, _other = make_forbund(app)
    pid = create_arende(soc, ruta=place.decision.id)
    post_review(soc, pid, kalla="inskrivet", intyg_text=INCOMPLETE, **nej(**MISSING))
    doc_id, _text = produce_komplettering(soc, pid)
    _record_consent(soc, pid)
    assert _send(soc, pid, doc_id, [vc_id]).status_code == 302
    with app.app_context():
        ov_id = db.session().query(Overlamning).one().public_id

    doctor = _doctor_client(app, make_user, vc_id)
    form_url = f"/inkommande/{ov_id}/svara"
    form = doctor.get(form_url).get_data(as_text=True)
    assert 'name="komplettering_diagnos"' in form
    good = doctor.post(form_url, data={"csrf_token": csrf_token(form), "lakare_namn": "Åsa Läkarsson",
                                       "vardenhet": "Vårdcentral Prov",
                                       "komplettering_diagnos": "F32.1 Medelsvår depressiv episod",
                                       "komplettering_funktionsnedsattning": "Sänkt affekt, MADRS-S 28."})
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]
    assert current_ruta(soc, pid) == place.decision.decision.no  # the review decides, not the answer

    html, _data = review_form(soc, pid)
    svar_choice = re.search(r'name="kalla" value="(svar:[^"]+)"', html).group(1)
    assert post_review(soc, pid, kalla=svar_choice).status_code == 302
    assert current_ruta(soc, pid) == place.decision.decision.yes


# ---------------------------------------------------------------- registerutdrag, gallring, key rotation
def test_reviews_are_in_the_registerutdrag_gallring_and_key_rotation(soc, app, place):
    pid = create_arende(soc, ruta=place.decision.id)
    post_review(soc, pid, kalla="inskrivet", intyg_text=INCOMPLETE, **nej(**MISSING))
    with app.app_context():
        from formservice import db
        from formservice.arenden import gallring, keyrotation
        from formservice.arenden.models import Arende
        from formservice.doctor.dfa_review_models import DfaGranskning

        assert (DfaGranskning, ("answers_enc", "intyg_enc", "pdf_enc")) in keyrotation.encrypted_columns()
        arende = db.session().query(Arende).filter_by(public_id=pid).one()
        rows, ids = dfa_review.extract_rows(arende, app.extensions["catalogue"])
        assert len(rows) == len(ids) == 1 and rows[0]["komplett"] == "Nej"
        assert any(MISSING["diagnos"] in line for line in rows[0]["saknas"])
        gallring.delete_arenden(db.session(), [arende.id])
        db.session().commit()
        assert db.session().query(DfaGranskning).count() == 0
