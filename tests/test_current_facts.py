"""Every document states what is true when it is produced: the caseworker who produces it (not the one
who produced an earlier document or typed the draft), the individ's current address, the account's
current phone — and looking at the wizard stores nothing. Driven through the real views, as two
caseworkers in one enhet, an admin and an individ who moves."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from formservice import db
from formservice.arenden import operations, registry
from formservice.arenden.models import Arende, Dokument, Handelse, Utkast
from formservice.blanketter import wizard
from formservice.rendering.documents import parts_of

from .conftest import csrf_token
from .formparse import form_with
from .test_definitions import definitions, forms_copy  # noqa: F401 (fixtures)
from .test_facts import review_rows
from .wizard_driver import INDIVID, create_arende, fill_blankett

SIP, FK, FORFRAGAN = "sip_kallelse", "fk_ansokan_samordning", "rehabiliteringsforfragan"
SARA = dict(username="sara", namn="Sara Socialsekreterare", telefon="08-111 222 33", epost="sara@example.se")
KALLE = dict(username="kalle", namn="Kalle Kollega", telefon="08-999 888 77", epost="kalle@example.se")


@pytest.fixture
def enhet(make_enhet):
    return make_enhet()


@pytest.fixture
def sara(app, client, auth, make_user, enhet):
    make_user(enhet_id=enhet, **SARA)
    auth.login(username="sara")
    return client


@pytest.fixture
def kalle(app, make_user, enhet):
    from .conftest import AuthActions

    make_user(enhet_id=enhet, **KALLE)
    other = app.test_client()
    AuthActions(other).login(username="kalle")
    return other


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)


def sip(client, pid, app, **over):
    values = {"sip_datum": "2026-12-15", "sip_starttid": "09:30", "sip_plats": "Rum Ekorren", "sip_syfte": "forsta_sip",
              "sip_inbjudna.1.verksamhet": "Jobbtorg Skärholmen"}
    return fill_blankett(client, pid, SIP, app.extensions["catalogue"], overrides=dict(values, **over))


def move(client, pid, **changes):
    """The individ moves: changed under "Uppgifter om individen"."""
    html = client.get(f"/arenden/{pid}/uppgifter").get_data(as_text=True)
    data = {k: v or "" for k, v in form_with(html, "namn")["fields"].items() if v is not None}
    res = client.post(f"/arenden/{pid}/uppgifter", data=dict(data, **changes))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]


@pytest.mark.db
def test_each_document_names_the_caseworker_who_produces_it(app, sara, kalle):
    pid = create_arende(sara, ruta="soc1.14")
    first = sip(sara, pid, app)
    assert "Sara Socialsekreterare" in first["text"] and "08-111 222 33" in first["text"]

    # Kalle's förfrågan: Granska names Kalle, from his account, and says the SIP-kallelse said Sara.
    html = kalle.get(f"/arenden/{pid}/blankett/{FORFRAGAN}/granska").get_data(as_text=True)
    rows = review_rows(html)
    assert rows["Kalle Kollega"].startswith("Från ditt användarkonto")
    assert "Sara Socialsekreterare" not in rows
    assert re.search(r"Ändrat sedan Kallelse till samordnad individuell plan \(SIP\) FS-[A-Z0-9-]+, "
                     r"\d{4}-\d\d-\d\d: Sara Socialsekreterare → Kalle Kollega", html)

    # The second caseworker of the enhet: the "Sammankallande" page is theirs, not Sara's.
    second = sip(kalle, pid, app, sip_datum="2027-01-20")
    assert "Kalle Kollega" in second["text"] and "08-999 888 77" in second["text"] and "kalle@example.se" in second["text"]
    assert "Sara Socialsekreterare" not in second["text"] and "08-111 222 33" not in second["text"]
    assert "sara@example.se" not in second["text"]
    # The earlier document stays exactly as it was produced.
    assert "Sara Socialsekreterare" in pdf_text(sara.get(first["pdf_url"]).data)


@pytest.mark.db
def test_a_draft_typed_by_one_caseworker_is_signed_by_the_one_who_produces_it(app, sara, kalle):
    pid = create_arende(sara, ruta="soc1.14")
    cat = app.extensions["catalogue"]
    pages = wizard.pages(parts_of(cat, SIP))
    number = next(p.number for p in pages if p.section.id == "sammankallande")
    url = f"/arenden/{pid}/blankett/{SIP}/sida/{number}"
    form = form_with(sara.get(url).get_data(as_text=True), "version")
    data = {k: v or "" for k, v in form["fields"].items() if v is not None}
    assert data["handlaggare_namn"] == "Sara Socialsekreterare"
    # Sara saves the page with her own mobile instead of the account's phone.
    assert sara.post(url, data=dict(data, handlaggare_telefon="070-111 11 11", action="next")).status_code == 302
    assert form_with(sara.get(url).get_data(as_text=True), "version")["fields"]["handlaggare_telefon"] == "070-111 11 11"

    # Kalle takes over the draft: the page shows him, and his document names him with his phone.
    shown = form_with(kalle.get(url).get_data(as_text=True), "version")["fields"]
    assert (shown["handlaggare_namn"], shown["handlaggare_telefon"]) == ("Kalle Kollega", "08-999 888 77")
    done = sip(kalle, pid, app)
    assert "Kalle Kollega" in done["text"] and "08-999 888 77" in done["text"]
    assert "070-111 11 11" not in done["text"] and "Sara Socialsekreterare" not in done["text"]


@pytest.mark.db
def test_a_changed_phone_reaches_the_next_document(app, sara, client, make_user, enhet):
    from .conftest import AuthActions

    pid = create_arende(sara, ruta="soc1.14")
    assert "08-111 222 33" in sip(sara, pid, app)["text"]
    make_user(username="admin", role="admin", enhet_id=enhet, namn="Ada Admin")
    admin = app.test_client()
    AuthActions(admin).login(username="admin")
    with app.app_context():
        from formservice.accounts.models import User
        sara_id = db.session().scalar(select(User.id).where(User.username == "sara"))
    html = admin.get(f"/admin/anvandare/{sara_id}").get_data(as_text=True)
    form = form_with(html, "telefon")["fields"]
    res = admin.post(f"/admin/anvandare/{sara_id}", data=dict({k: v or "" for k, v in form.items() if v is not None},
                                                            telefon="08-555 666 77"))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    text = sip(sara, pid, app, sip_datum="2027-02-01")["text"]
    assert "08-555 666 77" in text and "08-111 222 33" not in text


@pytest.mark.db
def test_the_individs_move_reaches_every_later_document(app, sara):
    pid = create_arende(sara, ruta="soc1.14")
    fk1 = fill_blankett(sara, pid, FK, app.extensions["catalogue"])
    assert "Provgatan 12" in fk1["text"]
    move(sara, pid, adress="Nya gatan 5", postnummer="123 99", ort="Farsta")

    html = sara.get(f"/arenden/{pid}/blankett/{FK}/granska").get_data(as_text=True)
    rows = review_rows(html)
    assert rows["Nya gatan 5"].startswith("Från uppgifterna om individen.")
    assert re.search(r"Ändrat sedan Ansökan – Samordning av rehabiliteringsinsatser FS-[A-Z0-9-]+, "
                     r"\d{4}-\d\d-\d\d: Provgatan 12 → Nya gatan 5", html)
    # The SIP page with the address is not skipped as "already known" with the old one: it reads the record.
    fk2 = fill_blankett(sara, pid, FK, app.extensions["catalogue"])
    kallelse = sip(sara, pid, app)
    for text in (fk2["text"], kallelse["text"]):
        assert "Nya gatan 5" in text and "123 99 Farsta" in text
        assert "Provgatan 12" not in text
    assert "Provgatan 12" in pdf_text(sara.get(fk1["pdf_url"]).data)  # the earlier ansökan as produced


@pytest.mark.db
def test_an_address_typed_on_a_document_becomes_the_individs(app, sara):
    pid = create_arende(sara, ruta="soc1.14")
    cat = app.extensions["catalogue"]
    number = next(p.number for p in wizard.pages(parts_of(cat, FK)) if p.section.id == "sokande")
    url = f"/arenden/{pid}/blankett/{FK}/sida/{number}"
    form = form_with(sara.get(url).get_data(as_text=True), "version")["fields"]
    data = {k: v or "" for k, v in form.items() if v is not None}
    assert sara.post(url, data=dict(data, individ_adress="Ängsvägen 3", individ_postnummer_ort="145 60 Norsborg",
                                    action="next")).status_code == 302
    review = sara.get(f"/arenden/{pid}/blankett/{FK}/granska").get_data(as_text=True)
    assert "Sparas också i uppgifterna om individen" in review
    fill_blankett(sara, pid, FK, cat)
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        record = operations.individ(arende)
        history = [h.beslut for h, _ in operations.history(arende)]
    assert (record["adress"], record["postnummer"], record["ort"]) == ("Ängsvägen 3", "145 60", "Norsborg")
    assert any(b and b.startswith("Uppgifter om individen (utdelningsadress, postnummer, ort) från Ansökan") for b in history)
    assert "Ängsvägen 3" in sip(sara, pid, app)["text"]


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        dbs = db.session()
        return tuple(dbs.scalar(select(func.count()).select_from(model)) for model in (Utkast, Dokument, Handelse))


@pytest.mark.db
def test_looking_stores_nothing(app, sara):
    """A plain GET of any wizard page or of Granska creates no draft, document or history entry (a
    "påbörjad blankett" nobody started would show on the overview and in the registerutdrag)."""
    cat = app.extensions["catalogue"]
    pid = create_arende(sara, ruta="soc1.14")
    before = _counts(app)
    for blankett_id in cat.main_blanketter:
        base = f"/arenden/{pid}/blankett/{blankett_id}"
        assert sara.get(base).status_code == 302
        for page in wizard.pages(parts_of(cat, blankett_id)):
            assert sara.get(f"{base}/sida/{page.number}").status_code == 200
        assert sara.get(f"{base}/granska").status_code == 200
    assert _counts(app) == before
    overview = sara.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Påbörjade blanketter" not in overview


@pytest.mark.db
def test_granska_without_a_draft_produces_once_and_sees_a_change(app, sara, kalle):
    """Producing straight from Granska (everything known) makes one document for a double click, and
    a change in between (the individ moved) shows Granska again instead of a document nobody saw."""
    pid = create_arende(sara, ruta="soc1.14")
    fill_blankett(sara, pid, FK, app.extensions["catalogue"])  # the first ansökan: everything known after it
    url = f"/arenden/{pid}/blankett/{FK}/granska"
    form = form_with(sara.get(url).get_data(as_text=True), "utkast")["fields"]
    move(kalle, pid, adress="Nya gatan 5")
    res = sara.post(url, data=form)
    assert res.status_code == 409 and "Nya gatan 5" in res.get_data(as_text=True)
    form = form_with(res.get_data(as_text=True), "utkast")["fields"]
    first, second = sara.post(url, data=form), sara.post(url, data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same document
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        assert len(registry.of(arende)) == 2


@pytest.mark.db
def test_socialtjanstens_contact_is_the_caseworker_on_finsam_and_fk(app, sara):
    pid = create_arende(sara, ruta="soc1.14")
    text = fill_blankett(sara, pid, "finsamteam_anmalan", app.extensions["catalogue"])["text"]
    assert re.search(r"Socialtjänsten: kontaktperson och telefon.{0,40}Sara Socialsekreterare", text) or \
        "Sara Socialsekreterare, Testenheten – Ekonomiskt bistånd, 08-111 222 33" in text
    fk = fill_blankett(sara, pid, FK, app.extensions["catalogue"])["text"]
    assert "Sara Socialsekreterare, Testenheten – Ekonomiskt bistånd, 08-111 222 33" in fk
    # A box ticked by the same source again is no change ("Ja → Ja" was shown once).
    html = sara.get(f"/arenden/{pid}/blankett/{FK}/granska").get_data(as_text=True)
    assert "Ändrat sedan" not in html


def test_the_individ_record_and_the_new_address_in_sources(app):
    from types import SimpleNamespace

    from formservice.blanketter import prefill

    defs = app.extensions["catalogue"].blanketter
    parts = [defs[FK]]
    record = dict(namn=INDIVID["namn"], adress="Provgatan 12", postnummer="123 45", ort="Skärholmen")
    assert prefill.individ_updates(parts, {"individ_adress": "Provgatan 12", "individ_postnummer_ort": "123 45 Skärholmen"},
                                   record) == {}
    assert prefill.individ_updates(parts, {"individ_postnummer_ort": "12399 Farsta"}, record) == \
        {"postnummer": "123 99", "ort": "Farsta"}
    assert prefill.individ_updates(parts, {"individ_postnummer_ort": "Farsta"}, record) == {}  # cannot be split
    enhet = SimpleNamespace(namn="Vårdcentral Demo", utdelningsadress="", postadress="", typ="vard",
                            organisation=SimpleNamespace(namn="Region"))
    user = SimpleNamespace(namn="Vera Vård", titel="", telefon="", epost="", enhet=enhet)
    sources = prefill.sources(individ=record, user=user, settings={})
    assert "socialtjanst.kontakt" not in sources  # only socialtjänsten's own staff are its contact


# ---------------------------------------------------------------- declarations are never prefilled
def _every_source(field) -> dict:
    from formservice.blanketter.model import KNOWN_PREFILL_SOURCES, ROW_SOURCES

    return {key: ([{"verksamhet": "x"}] if key in ROW_SOURCES else "1") for key in KNOWN_PREFILL_SOURCES}


def test_no_declaration_is_ever_prefilled(definitions):
    """Walks every definition: a declaration (the applicant's or signer's own statement) starts empty on
    every copy, whatever the sources and the ärende's earlier answers say; and every statement in the
    first person ("Jag …"), every consent's choice of parties and every choice of the medical underlag is
    declared as one."""
    from formservice.blanketter import prefill

    declared = 0
    for b in definitions.values():
        consent_fields = {name for name, _party in (b.consent.party_fields if b.consent else ())}
        for f in b.fields:
            first_person = f.label.startswith("Jag ") or any(c.label.startswith("Jag ") for c in f.choices)
            if first_person or f.name in consent_fields:
                assert f.declaration, (b.id, f.name)
            if not f.declaration:
                continue
            declared += 1
            assert f.prefill is None and not f.is_fact, (b.id, f.name)
            answers = {f.name: True if f.type == "checkbox" else (f.choices[0].value if f.choices else "x")}
            values, _ = prefill.resolve([b], sources=_every_source(f), answers=answers, draft={})
            assert f.name not in values, (b.id, f.name)
    assert declared >= 12


def test_a_prefilled_declaration_is_refused(forms_copy):
    from .test_definitions import break_file, errors_of

    break_file(forms_copy, FK, "        declaration: true\n        label: Medicinskt underlag\n",
               "        declaration: true\n        prefill: today\n        label: Medicinskt underlag\n")
    errors = errors_of(forms_copy)
    assert any("fk_medicinskt_underlag" in e and "förifylls aldrig" in e for e in errors), errors


@pytest.mark.db
def test_the_sip_kallelse_suggests_the_doctor_known_in_the_arende(app, sara):
    cat = app.extensions["catalogue"]
    pid = create_arende(sara, ruta="soc1.9")
    fill_blankett(sara, pid, FORFRAGAN, cat, overrides={"lakare_namn": "Åsa Läkarsson",
                                                        "vardenhet": "Vårdcentralen Skärholmen"})
    number = next(p.number for p in wizard.pages(parts_of(cat, SIP)) if p.section.id == "inbjudna")
    fields = form_with(sara.get(f"/arenden/{pid}/blankett/{SIP}/sida/{number}").get_data(as_text=True),
                       "version")["fields"]
    assert (fields["sip_inbjudna.1.verksamhet"], fields["sip_inbjudna.1.namn"]) == \
        ("Vårdcentralen Skärholmen", "Åsa Läkarsson")
    text = sip(sara, pid, app)["text"]
    assert "Till: Vårdcentralen Skärholmen" in text and "Åsa Läkarsson" in text


def test_no_doctor_known_no_row_suggested(app):
    from types import SimpleNamespace

    from formservice.blanketter import prefill

    enhet = SimpleNamespace(namn="E", utdelningsadress="", postadress="", typ="socialtjanst",
                            organisation=SimpleNamespace(namn="O"))
    user = SimpleNamespace(namn="S", titel="", telefon="", epost="", enhet=enhet)
    assert "arende.vard_rad" not in prefill.sources(individ={}, user=user, settings={}, answers={})
    rows = prefill.sources(individ={}, user=user, settings={}, answers={"vardenhet": "VC"})["arende.vard_rad"]
    assert rows == [{"verksamhet": "VC", "namn": "", "kontakt": ""}]
