"""Facts of the ärende versus one document's own answers (`scope: dokument`): what a later blankett or a
second copy starts from, what the wizard shows, where Granska says each value came from, and the
confirmation before a draft is discarded."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from formservice import db
from formservice.arenden import operations, registry
from formservice.arenden.models import Arende
from formservice.blanketter import wizard
from formservice.rendering.documents import parts_of

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .test_definitions import break_file, definitions, errors_of, forms_copy  # noqa: F401 (fixtures)
from .test_doctor_answers import upload
from .wizard_driver import INDIVID, create_arende, fill_blankett

FK = "fk_ansokan_samordning"


def stored(app, pid: str) -> tuple[dict, list[dict]]:
    """(the ärende's answers, the values kept with each of its documents, newest first)."""
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        kr = app.extensions["keyring"]
        return operations.answers(arende), [kr.decrypt_json(d.values_enc) for d in registry.of(arende)]


def numbers(app, pid: str) -> list[str]:
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        return [d.document_number for d in registry.of(arende)]


def page_number(app, blankett_id: str, section_id: str) -> int:
    pages = wizard.pages(parts_of(app.extensions["catalogue"], blankett_id))
    return next(p.number for p in pages if p.section.id == section_id)


def shown_page(client, pid: str, blankett_id: str, number: int) -> str | None:
    """The page when the wizard shows it on the way through (it is counted: "sida N av M"), else None."""
    html = client.get(f"/arenden/{pid}/blankett/{blankett_id}/sida/{number}").get_data(as_text=True)
    return html if re.search(r"(steg|sida) \d+ av \d+", html) else None


def review_rows(html: str) -> dict[str, str]:
    """Granska's rows as value -> where it came from (the line under the value)."""
    rows = {}
    for dd in re.findall(r"<dt>.*?</dt>\s*<dd>(.*?)</dd>", html, re.S):
        value, _, origin = dd.partition('<br><span class="hint">')
        rows[unescape(re.sub(r"<[^>]+>", " ", value)).strip()] = unescape(re.sub(r"<[^>]+>", "", origin)).strip()
    return rows


# ---------------------------------------------------------------- a second copy asks again

@pytest.mark.db
def test_a_second_fk_ansokan_asks_for_the_consent_again(soc, app):
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.14")
    first = fill_blankett(soc, pid, FK, cat, overrides={"fk_medgivande": "1", "fk_uppgifter_muntligt": "1"})
    assert {"fk_medgivande", "fk_uppgifter_muntligt", "individ_telefon_kvall"} <= set(first["typed"])
    answers, (values,) = stored(app, pid)
    assert values["fk_medgivande"] is True and values["fk_uppgifter_muntligt"] is True  # kept with the document
    assert not {"fk_medgivande", "fk_uppgifter_muntligt", "fk_ansokan_datum", "fk_varfor_inte_arbeta"} & set(answers)
    assert answers["individ_telefon_kvall"] and answers["individ_namn"] == INDIVID["namn"]

    consent = shown_page(soc, pid, FK, page_number(app, FK, "medgivande"))
    assert consent is not None, "the consent's page is skipped"
    assert form_with(consent, "fk_medgivande")["fields"]["fk_medgivande"] is None  # not ticked

    second = fill_blankett(soc, pid, FK, cat)  # no consent this time
    assert {"fk_varfor_inte_arbeta", "fk_rehabiliteringsbehov", "fk_medicinskt_underlag"} <= set(second["typed"])
    assert not {"individ_namn", "individ_personnummer", "individ_telefon_kvall"} & set(second["typed"])
    _, (values2, values1) = stored(app, pid)
    assert values2["fk_medgivande"] is False and values2["fk_uppgifter_muntligt"] is False
    assert values1["fk_medgivande"] is True
    assert values2["individ_telefon_kvall"] == values1["individ_telefon_kvall"]  # a fact: carried over


@pytest.mark.db
def test_a_second_sip_kallelse_asks_again_for_the_meeting(soc, app):
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.14")
    first = fill_blankett(soc, pid, "sip_kallelse", cat, overrides={
        "sip_datum": "2026-12-03", "sip_starttid": "09:30", "sip_plats": "Rum Ekorren", "sip_syfte": "forsta_sip"})
    assert "2026-12-03" in first["text"] and "Rum Ekorren" in first["text"]
    second = fill_blankett(soc, pid, "sip_kallelse", cat, overrides={
        "sip_datum": "2027-01-15", "sip_starttid": "13:00", "sip_plats": "Rum Björnen", "sip_syfte": "uppfoljning"})
    # Only an empty field is typed, and a box only when it was not ticked: all were asked again.
    assert {"sip_samtycke", "sip_datum", "sip_starttid", "sip_plats", "sip_syfte"} <= set(second["typed"])
    assert "2027-01-15" in second["text"] and "Rum Björnen" in second["text"]
    assert "2026-12-03" not in second["text"] and "Rum Ekorren" not in second["text"]
    assert not {"individ_namn", "individ_adress", "handlaggare_namn", "handlaggare_telefon"} & set(second["typed"])
    answers, (values2, values1) = stored(app, pid)
    assert (values1["sip_syfte"], values2["sip_syfte"]) == ("forsta_sip", "uppfoljning")
    assert (values1["sip_starttid"], values2["sip_starttid"]) == ("09:30", "13:00")
    assert not {n for n in answers if n.startswith("sip_")}


@pytest.mark.db
def test_a_second_forandringsplan_starts_from_the_facts_only(soc, app):
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.4")
    fill_blankett(soc, pid, "forandringsplan", cat, overrides={"aktuell_situation": "Läget i november"})
    rows = review_rows(soc.get(f"/arenden/{pid}/blankett/forandringsplan/granska").get_data(as_text=True))
    assert "Läget i november" not in rows
    (number,) = numbers(app, pid)
    assert rows[INDIVID["namn"]] == "Från uppgifterna om individen."  # the record, not the earlier plan
    assert number and f"Förändringsplan {number}" not in rows[INDIVID["namn"]]
    # The plan's date is today's again, not carried over; its page is shown, not skipped.
    assert shown_page(soc, pid, "forandringsplan", page_number(app, "forandringsplan", "sokande"))
    assert "Dagens datum." in rows.values()


# ---------------------------------------------------------------- the doctor's answers

@pytest.mark.db
def test_fk_never_ticks_the_medical_certificate_on_a_page_not_shown(soc, app, forfragan):
    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    page = soc.get(res.headers["Location"]).get_data(as_text=True)
    confirmed = {k: v for k, v in form_with(page, "lakare_namn")["fields"].items() if v is not None}
    soc.post(res.headers["Location"], data=dict(confirmed, lakare_namn="Åsa Läkarsson",
                                                  vardenhet="Vårdcentralen Skärholmen"))
    answers, _ = stored(app, pid)
    # The doctor's name and vårdenhet are facts; the assessment and its date belong to the förfrågan.
    assert (answers["lakare_namn"], answers["vardenhet"]) == ("Åsa Läkarsson", "Vårdcentralen Skärholmen")
    assert not [n for n in answers if n.startswith("aktivitet_") or n in ("lakare_anpassning", "forfragan_svar_datum")]

    # "Jag bifogar ett medicinskt underlag" is the applicant's own declaration: never preselected, not even
    # from the doctor's confirmed answer.
    underlag = shown_page(soc, pid, FK, page_number(app, FK, "medicinskt_underlag"))
    assert underlag is not None
    assert form_with(underlag, "fk_medicinskt_underlag")["fields"]["fk_medicinskt_underlag"] is None
    assert "fk_medicinskt_underlag" in fill_blankett(soc, pid, FK, app.extensions["catalogue"])["typed"]

    # The doctor's name goes on to the next förfrågan's sekretessmedgivande.
    number = page_number(app, "rehabiliteringsforfragan", "parter")
    html = soc.get(f"/arenden/{pid}/blankett/rehabiliteringsforfragan/sida/{number}").get_data(as_text=True)
    assert form_with(html, "lakare_namn")["fields"]["lakare_namn"] == "Åsa Läkarsson"
    rows = review_rows(soc.get(f"/arenden/{pid}/blankett/rehabiliteringsforfragan/granska").get_data(as_text=True))
    assert rows["Åsa Läkarsson"] == "Förslag från ett tidigare svar i ärendet."  # from the confirmed answers


def test_only_live_sources_hide_a_page_and_never_a_box(definitions):
    sokande = next(p for p in wizard.pages([definitions[FK]]) if p.section.id == "sokande")
    assert not wizard.needs_input(sokande, {f.name: "kalla" for f in sokande.fields})  # the individ's record
    # A value suggested from an earlier document never hides its page.
    assert wizard.needs_input(sokande, dict({f.name: "kalla" for f in sokande.fields}, individ_adress="arende"))
    page = next(p for p in wizard.pages([definitions[FK]]) if p.section.id == "kontakter")
    assert wizard.needs_input(page, {f.name: "kalla" for f in page.fields})  # boxes ticked by a source
    texts = next(p for p in wizard.pages([definitions["finsamteam_anmalan"]]) if p.section.id == "anmalare")
    assert not wizard.needs_input(texts, {f.name: "kalla" for f in texts.fields})
    underskrift = next(p for p in wizard.pages([definitions[FK]]) if p.section.id == "underskrift")
    assert wizard.needs_input(underskrift, {f.name: "kalla" for f in underskrift.fields})  # the date is its own


@pytest.mark.db
def test_answers_stored_before_the_scope_existed_are_not_offered(soc, app):
    pid = create_arende(soc, ruta="soc1.14")
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        arende.svar_enc = app.extensions["keyring"].encrypt_json(
            {"fk_medgivande": True, "sip_datum": "2026-11-27", "individ_telefon_kvall": "08-765 43 21"})
        db.session().commit()
    consent = shown_page(soc, pid, FK, page_number(app, FK, "medgivande"))
    assert consent and form_with(consent, "fk_medgivande")["fields"]["fk_medgivande"] is None
    fill_blankett(soc, pid, FK, app.extensions["catalogue"])
    answers, (values,) = stored(app, pid)
    assert values["fk_medgivande"] is False and values["individ_telefon_kvall"] == "08-765 43 21"
    assert "fk_medgivande" not in answers and "sip_datum" not in answers  # cleaned when the facts were stored


# ---------------------------------------------------------------- Granska: where each value came from

@pytest.mark.db
def test_granska_says_where_each_value_came_from(soc, app):
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.4")
    fill_blankett(soc, pid, "forandringsplan", cat)
    (plan,) = numbers(app, pid)
    base = f"/arenden/{pid}/blankett/rehabiliteringsforfragan"
    # The caseworker's page is shown (its date is the förfrågan's own): save it unchanged.
    url = f"{base}/sida/{page_number(app, 'rehabiliteringsforfragan', 'kontakt_socialsekreterare')}"
    form = form_with(soc.get(url).get_data(as_text=True), "version")
    assert soc.post(url, data=dict({k: v or "" for k, v in form["fields"].items()}, action="next")).status_code == 302
    url = f"{base}/sida/{page_number(app, 'rehabiliteringsforfragan', 'parter')}"
    form = form_with(soc.get(url).get_data(as_text=True), "version")
    data = dict({k: v or "" for k, v in form["fields"].items() if v is not None}, lakare_namn="Doktor Testsson")
    assert soc.post(url, data=dict(data, action="next")).status_code == 302

    html = soc.get(f"{base}/granska").get_data(as_text=True)
    rows = review_rows(html)
    assert rows[INDIVID["namn"]] == "Från uppgifterna om individen."
    # shown and saved unchanged: still the account's
    assert rows["08-111 222 33"] == "Från ditt användarkonto (den som tar fram dokumentet)."
    assert rows["Doktor Testsson"] == "Ifyllt i den här blanketten."
    assert rows["Testenheten – Ekonomiskt bistånd"] == "Från enhetens uppgifter."
    assert "Organisationens text." in rows.values() and "Dagens datum." in rows.values()
    assert "Under varje svar står varifrån det kommer." in html

    # Produced, the förfrågan is where the doctor's name now comes from.
    fill_blankett(soc, pid, "rehabiliteringsforfragan", cat)
    forfragan_number = next(n for n in numbers(app, pid) if n != plan)
    rows = review_rows(soc.get(f"{base}/granska").get_data(as_text=True))
    assert rows["Doktor Testsson"].startswith(
        f"Förslag från ett tidigare dokument: Rehabiliteringsförfrågan {forfragan_number}, ")
    assert rows[INDIVID["namn"]] == "Från uppgifterna om individen."


# ---------------------------------------------------------------- discarding a draft asks first

def test_discarding_a_draft_asks_for_confirmation(soc):
    pid = create_arende(soc, ruta="soc1.4")
    base = f"/arenden/{pid}/blankett/forandringsplan"
    url = f"{base}/sida/2"
    form = form_with(soc.get(url).get_data(as_text=True), "version")
    data = {k: v or "" for k, v in form["fields"].items() if v is not None}
    assert soc.post(url, data=dict(data, aktuell_situation="Ska slängas", action="next")).status_code == 302
    review = soc.get(f"{base}/granska").get_data(as_text=True)
    assert f'<a href="{base}/kasta">Släng utkastet och börja om</a>' in review
    assert f'action="{base}/kasta"' not in review  # no one-click delete on the review page

    page = soc.get(f"{base}/kasta")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Vill du slänga utkastet?" in html and "Det går inte att ångra." in html
    assert re.search(rf'<form method="post" action="{base}/kasta">', html) and "Ja, släng utkastet" in html
    assert f'<a href="{base}/granska">Nej, tillbaka till granskningen</a>' in html
    assert "Ska slängas" in soc.get(url).get_data(as_text=True)  # asking deleted nothing

    assert soc.post(f"{base}/kasta", data={"csrf_token": "fel"}).status_code == 400
    assert "Ska slängas" in soc.get(url).get_data(as_text=True)
    res = soc.post(f"{base}/kasta", data={"csrf_token": csrf_token(html)})
    assert res.status_code == 302
    assert "Ska slängas" not in soc.get(url).get_data(as_text=True)
    assert "Det finns inget utkast att slänga" in soc.get(f"{base}/kasta").get_data(as_text=True)


# ---------------------------------------------------------------- the definitions

DOCUMENT_ONLY = {
    "sip_kallelse": {"sip_samtycke", "sip_datum", "sip_starttid", "sip_sluttid", "sip_plats", "sip_adress",
                     "sip_lank", "sip_syfte", "sip_fragestallningar", "sip_inbjudna", "sip_gemensam_kallelse"},
    FK: {"fk_uppgifter_i_bilaga", "fk_uppgifter_muntligt", "fk_medicinskt_underlag", "fk_medgivande",
         "fk_ovriga_i_bilaga", "fk_ansokan_datum"},
    "forandringsplan": {"forandringsplan_datum", "bedomning_sjalvforsorjning"},
    "finsamteam_anmalan": {"finsam_anmalan_datum", "finsam_anledning"},
    "finsamteam_samtycke": {"samtycke_part_af", "samtycke_part_vard", "finsam_samtycke_datum"},
    "sekretessmedgivande": {"sekretess_uppgifter", "sekretess_giltig_till"},
}
FACTS = {"individ_namn", "individ_personnummer", "individ_adress", "individ_telefon", "individ_telefon_kvall",
         "handlaggare_namn", "handlaggare_telefon", "handlaggare_verksamhet", "lakare_namn", "vardenhet",
         "har_kontakt_vard", "kontakt_vard", "har_kontakt_af"}


def test_each_definition_says_what_is_the_documents_own(definitions):
    for bid, names in DOCUMENT_ONLY.items():
        assert {n for n in names if definitions[bid].field(n).is_fact} == set(), bid
    for b in definitions.values():
        for f in b.fields:
            if f.name in FACTS:
                assert f.is_fact, (b.id, f.name)
            if f.type == "date":  # the date of a meeting, a document, a signature
                assert not f.is_fact, (b.id, f.name)
            if f.type == "checkbox" and not f.name.startswith("har_kontakt_"):  # a consent or a choice
                assert not f.is_fact, (b.id, f.name)
        for s in b.sections:
            for sig in s.signatures:
                assert not any(b.field(n).is_fact for n in (sig.date_field, sig.place_field) if n), (b.id, sig)


BROKEN_SCOPES = {
    "unknown": (FK, "        type: date\n        scope: dokument", "        type: date\n        scope: dokumnet",
                ["'fk_ansokan_datum'", "scope 'dokumnet' är okänd (tillåtna: arende"]),
    "unknown on a section": ("sip_kallelse", "    title: Mötet äger rum\n    scope: dokument",
                             "    title: Mötet äger rum\n    scope: mote",
                             ["avsnitt 'motet'", "scope 'mote' är okänd"]),
    "two scopes for one name": (FK, "        prefill: individ.telefon\n",
                                "        prefill: individ.telefon\n        scope: dokument\n",
                                ["'individ_telefon'", "scope 'dokument' skiljer sig från 'arende'"]),
    "a prefilled document box": (FK, "type: checkbox, prefill: lakarsvar.finns}",
                                 "type: checkbox, prefill: lakarsvar.finns, scope: dokument}",
                                 ["'har_kontakt_vard'", "förifylls aldrig"]),
    "on a column": ("sip_kallelse", "            label: Verksamhet\n            type: text\n",
                    "            label: Verksamhet\n            type: text\n            scope: dokument\n",
                    ["'verksamhet'", "scope gäller hela fältet"]),
}


@pytest.mark.parametrize("case", BROKEN_SCOPES)
def test_a_wrong_scope_is_refused_naming_file_and_field(forms_copy, case):
    bid, old, new, expected = BROKEN_SCOPES[case]
    break_file(forms_copy, bid, old, new)
    errors = errors_of(forms_copy)
    assert any(e.startswith(f"{bid}.yaml: ") and all(x in e for x in expected) for e in errors), errors
