"""The doctor's DFA part of the rehabiliteringsförfrågan (issue 27): FK's question ids and codes in
the definition, the diagnosis code as FK stores it, the rules of doctor/dfa.py, and realistic
fictitious answers (shaped like Inera's Webcert fixtures; invented text) through the fillable PDF and
the online answer, read back into the coded fields."""
from __future__ import annotations

import io
import re
import string
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from formservice import tid
from formservice.blanketter.fk_ids import diagnos_kapitel, diagnoskod, fk_parts
from formservice.doctor import dfa, readback
from formservice.doctor.models import Svar

from .conftest import csrf_token
from .data import returned_pdfs as corpus
from .test_doctor_answers import confirm, upload
from .test_samverkan import _doctor_client, _record_consent, _send, forbund  # noqa: F401 (a fixture)

BLANKETT = corpus.forfragan()
TODAY = date(2026, 12, 7)
WHO = {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen"}
ACTIVITY = {"aktivitet_jobbtorg_kan_delta": True, "aktivitet_jobbtorg_omfattning": "25"}

# A – depression, complete (the facts' case A, without sysselsättning, which the förfrågan does not ask).
DEPRESSION = {
    "grund_undersokning_datum": "2026-11-23", "grund_journaluppgifter_datum": "2026-10-02",
    "diagnos_kod": "F32.1", "diagnos_text": "Medelsvår depressiv episod",
    "funktionsnedsattning": "Nedstämd, sänkt affekt, psykomotoriskt långsam. Uppger sömnstörning sedan två "
                            "månader. MADRS-S 28. Koncentrationssvårigheter vid samtal.",
    "aktivitetsbegransning": "Klarar inte att hålla fokus mer än korta stunder eller att hantera flera ärenden "
                             "samtidigt; undviker telefonsamtal. Bygger på undersökning och patientens egen "
                             "beskrivning.",
    "behandling_pagaende": "SSRI sedan 2026-10, uppföljning vårdcentral var fjärde vecka.",
    "behandling_planerad": "KBT via vårdcentralens psykolog, start december, 10 sessioner.",
    "prognos": "ATER_X_ANTAL_DGR", "prognos_dagar": "NITTIO_DGR",
    "atgard_arbetsanpassning": True, "atgard_kontakt_fhv": True,
}
# B – low back pain, complete.
LUMBAGO = {
    "grund_undersokning_datum": "2026-11-30", "diagnos_kod": "M545", "diagnos_text": "Lumbago",
    "funktionsnedsattning": "Nedsatt rörlighet i ländrygg, smärta vid flexion, palpationsöm paravertebralt. "
                            "Neurologiskt status u.a., Lasègue neg.",
    "aktivitetsbegransning": "Kan inte lyfta över ca 5 kg eller stå böjd längre stunder; klarar inte "
                             "förflyttningsmoment i arbetet.",
    "behandling_pagaende": "Smärtlindring, sjukgymnastik med hemövningar.",
    "prognos": "STOR_SANNOLIKHET", "atgard_ergonomisk": True, "atgard_omfordelning": True,
}


def check(values: dict, today: date = TODAY) -> tuple[dict, dict]:
    return readback.validate_doctor_answers(BLANKETT, values, today=today)


# ------------------------------------------------------------------ the definition


def test_every_dfa_field_carries_fks_id_and_choices_are_fks_codes():
    ids = {f.name: f.fk for f in BLANKETT.fields if f.fk}
    assert ids == {
        "grund_undersokning_datum": "1.2 UNDERSOKNING", "grund_telefonkontakt_datum": "1.2 TELEFONKONTAKT",
        "grund_journaluppgifter_datum": "1.2 JOURNALUPPGIFTER", "grund_annat_datum": "1.2 ANNAT",
        "grund_annat_beskrivning": "1.3",
        "diagnos_kod": "6.2", "diagnos_text": "6.1", "bidiagnos_1_kod": "6.4", "bidiagnos_1_text": "6.3",
        "bidiagnos_2_kod": "6.6", "bidiagnos_2_text": "6.5",
        "funktionsnedsattning": "35.1", "aktivitetsbegransning": "17.1",
        "behandling_pagaende": "19.1", "behandling_planerad": "20.1",
        "prognos": "39.1", "prognos_dagar": "39.3",
        **{f"atgard_{n}": f"40.1 {c}" for n, c in (
            ("ej_aktuellt", "EJ_AKTUELLT"), ("arbetstraning", "ARBETSTRANING"),
            ("arbetsanpassning", "ARBETSANPASSNING"), ("soka_nytt_arbete", "SOKA_NYTT_ARBETE"),
            ("besok_arbetsplats", "BESOK_ARBETSPLATS"), ("ergonomisk", "ERGONOMISK"), ("hjalpmedel", "HJALPMEDEL"),
            ("konflikthantering", "KONFLIKTHANTERING"), ("kontakt_fhv", "KONTAKT_FHV"),
            ("omfordelning", "OMFORDELNING"), ("ovriga", "OVRIGA_ATGARDER"))},
    }
    assert [c.value for c in BLANKETT.field("prognos").choices] == [
        "STOR_SANNOLIKHET", "ATER_X_ANTAL_DGR", "SANNOLIKT_INTE", "PROGNOS_OKLAR"]
    assert [c.value for c in BLANKETT.field("prognos_dagar").choices] == [
        "TRETTIO_DGR", "SEXTIO_DGR", "NITTIO_DGR", "HUNDRAATTIO_DAGAR", "TREHUNDRASEXTIOFEM_DAGAR"]
    # The DFA blocks come before the activity table, which stays; all are the doctor's.
    order = [s.id for s in BLANKETT.sections]
    assert order.index("grund") < order.index("diagnos") < order.index("aktiviteter")
    assert all(s.filled_by == "lakare" for s in BLANKETT.sections if any(f.fk for f in s.fields))
    assert fk_parts("40.1 EJ_AKTUELLT") == ("40.1", "EJ_AKTUELLT") and fk_parts(None) == (None, None)


def test_the_api_schema_names_fks_ids():
    from formservice.blanketter.schema import blankett_schema

    props = blankett_schema([BLANKETT])["properties"]
    assert props["prognos"]["x-fk"] == "39.1" and "ATER_X_ANTAL_DGR" in props["prognos"]["enum"]
    assert props["atgard_ovriga"]["x-fk"] == "40.1 OVRIGA_ATGARDER"
    assert "x-fk" not in props["individ_namn"]


def test_a_bad_fk_attribute_is_a_definition_error(tmp_path):
    from formservice.blanketter.loader import load_definitions
    from formservice.blanketter.model import DefinitionError

    (tmp_path / "prov.yaml").write_text(
        "id: prov\ntitle: Prov\nversion: '1'\nissuer: X\nkind: blankett\nsections:\n"
        "  - id: a\n    title: A\n    fields:\n"
        "      - {name: x, label: X, type: text, fk: 'trettionio'}\n"
        "      - {name: y, label: Y, type: choice, choices: [{value: KOD, label: K}]}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definitions(tmp_path)
    text = "\n".join(info.value.errors)
    assert "fk 'trettionio' ska vara Försäkringskassans delsvar-id" in text
    assert "'KOD' ska vara snake_case" in text  # FK's upper-case codes only in a field with fk


# ------------------------------------------------------------------ the diagnosis code


@pytest.mark.parametrize("typed, stored", [
    ("F32.1", "F321"), ("f321", "F321"), (" M54.5 ", "M545"), ("U07.1", "U071"), ("A11.1X", "A111X"),
    ("A1111", "A1111"), ("Z730", "Z730"), ("Z76", "Z76"), ("J45", "J45"), ("S82.1", "S821")])
def test_a_valid_code_is_stored_as_fk_stores_it(typed, stored):
    assert diagnoskod(typed) == (stored, None)


@pytest.mark.parametrize("typed, problem", [
    ("F32", "minst fyra positioner"), ("Z73", "minst fyra positioner"), ("F3", "inte en diagnoskod"),
    ("32.1", "inte en diagnoskod"), ("F32.1.1", "inte en diagnoskod"), ("F3 2.1", "inte en diagnoskod"),
    ("M54.55X", "inte en diagnoskod"), ("F32,1", "inte en diagnoskod"), ("Depression", "inte en diagnoskod"),
    ("M5.45", "inte en diagnoskod")])
def test_an_invalid_code_is_named_in_swedish(typed, problem):
    stored, message = diagnoskod(typed)
    assert stored is None and problem in message


def test_the_chapter_of_a_code():
    assert diagnos_kapitel("F32.1") == "Kapitel V: Psykiska sjukdomar och syndrom samt beteendestörningar"
    assert diagnos_kapitel("M545") == "Kapitel XIII: Sjukdomar i muskuloskeletala systemet och bindväven"
    assert diagnos_kapitel("T14") .startswith("Kapitel XIX") and diagnos_kapitel("D50").startswith("Kapitel III")
    assert diagnos_kapitel("F32") is None and diagnos_kapitel(None) is None
    assert dfa.kapitel_hints(readback.doctor_fields(BLANKETT), {"diagnos_kod": "m54.5", "bidiagnos_1_kod": "F32"}) == {
        "diagnos_kod": "Kapitel XIII: Sjukdomar i muskuloskeletala systemet och bindväven"}


# ------------------------------------------------------------------ the rules


@pytest.mark.parametrize("case", [DEPRESSION, LUMBAGO], ids=["depression", "lumbago"])
def test_the_complete_cases_are_accepted_with_codes_stored(case):
    clean, errors = check(dict(WHO, **ACTIVITY, **case))
    assert errors == {}
    assert clean["diagnos_kod"] in ("F321", "M545")
    assert clean["prognos"] == case["prognos"]


def test_an_answer_without_the_dfa_part_is_still_an_answer():
    assert check(dict(WHO, **ACTIVITY))[1] == {}


def test_the_incomplete_case_names_every_missing_link():
    """The facts' case C: annat in the future and not described, F32 with three positions,
    aktivitetsbegränsning empty, "åter inom" without the time, "Inte aktuellt" with arbetsträning."""
    _clean, errors = check(dict(WHO, **ACTIVITY, grund_annat_datum="2027-01-15", diagnos_kod="F32",
                                diagnos_text="Depressiv episod", funktionsnedsattning="Nedstämd.",
                                prognos="ATER_X_ANTAL_DGR", atgard_ej_aktuellt=True, atgard_arbetstraning=True))
    assert errors == {
        "grund_annat_datum": "Annat: datumet ligger i framtiden. Ange när det skedde (ÅÅÅÅ-MM-DD).",
        "grund_annat_beskrivning": "Annat: ange vad: beskriv vad ”annat” är.",
        "diagnos_kod": "Huvuddiagnos, kod (ICD-10-SE): ”F32” psykiatriska diagnoser (F-koder) och Z73 anges med "
                       "minst fyra positioner, t.ex. F32.1.",
        "aktivitetsbegransning": BLANKETT.field("aktivitetsbegransning").label
                                 + ": måste fyllas i när medicinskt underlag lämnas.",
        "prognos_dagar": "Återgång inom: välj inom hur lång tid patienten förväntas kunna återgå.",
        "atgard_ej_aktuellt": "Inte aktuellt: kan inte kombineras med andra åtgärder. Kryssa i antingen ”Inte "
                              "aktuellt” eller de åtgärder som gäller.",
    }


def test_a_bidiagnos_only_with_a_huvuddiagnos_and_text_with_every_code():
    _clean, errors = check(dict(WHO, **ACTIVITY, **{k: v for k, v in DEPRESSION.items() if not k.startswith("diagnos")},
                                bidiagnos_1_kod="F41.1", bidiagnos_2_text="Sömnstörning"))
    assert errors["diagnos_kod"].endswith("en bidiagnos kan bara anges tillsammans med en huvuddiagnos. Ange "
                                          "huvuddiagnosen först.")
    assert errors["bidiagnos_1_text"] == "Bidiagnos 1, text: skriv diagnosens text till koden."
    assert errors["bidiagnos_2_kod"] == "Bidiagnos 2, kod: ange diagnoskoden (ICD-10-SE) till diagnosen."


def test_days_belong_to_ater_inom_only():
    _clean, errors = check(dict(WHO, **ACTIVITY, **dict(LUMBAGO, prognos_dagar="SEXTIO_DGR")))
    assert errors == {"prognos_dagar": "Återgång inom: anges bara med prognosen ”Patienten förväntas kunna återgå "
                                       "helt i nuvarande sysselsättning inom”. Välj den prognosen eller ta bort tiden."}


# ------------------------------------------------------------------ (c) property: the validator

CODES = ["F32.1", "F321", "F32", "M54.5", "M545", "Z73", "Z730", "Z76", "U07.1", "A11.1X", "32.1", "F32.1.1", ""]
GROUNDS = ["grund_undersokning_datum", "grund_telefonkontakt_datum", "grund_journaluppgifter_datum",
           "grund_annat_datum"]
ATGARDER = [f.name for f in BLANKETT.fields if (f.fk or "").startswith("40.1 ")]
PROGNOSER = [None, "STOR_SANNOLIKHET", "ATER_X_ANTAL_DGR", "SANNOLIKT_INTE", "PROGNOS_OKLAR"]
DAGAR = [None, "TRETTIO_DGR", "SEXTIO_DGR", "NITTIO_DGR", "HUNDRAATTIO_DAGAR", "TREHUNDRASEXTIOFEM_DAGAR"]
TICKS = [None, False, True]
SHARES = [None, "", "25", "100", "ca 25", "120"]
MOTIVATIONS = [None, "", "  ", "Orkar inte resor."]
ACTIVITIES = ["jobbtorg", "sysselsattning", "medicinsk_rehabilitering", "sprak", "arbetssokande",
              "forrehabilitering", "annat"]
ENGLISH = re.compile(r"\b(must|required|invalid|error|field|please)\b", re.I)


def fk_code_ok(typed: str) -> bool:
    """FK's rule written out by hand: a letter, two digits, optionally a dot after them, then an
    optional digit and an optional digit-or-letter (Webcert's ICD-10-SE check: A11, A11.1X, A11X);
    F and Z73 need a fourth position."""
    s = typed.strip().upper()
    if len(s) < 3 or not ("A" <= s[0] <= "Z") or not all("0" <= c <= "9" for c in s[1:3]):
        return False
    rest = s[3:]
    if rest.startswith("."):
        rest = rest[1:]
    def digit(c: str) -> bool:
        return "0" <= c <= "9"

    if len(rest) > 2 or (len(rest) == 2 and not digit(rest[0])):
        return False
    if rest and not (digit(rest[-1]) or "A" <= rest[-1] <= "Z"):
        return False
    return not (s[0] == "F" or s[:3] == "Z73") or len(rest) >= 1


def given_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def expected_dfa_errors(v: dict) -> set[str]:
    """Which DFA fields must carry an error (the rules of the brief, written out again)."""
    dfa_names = {f.name for f in BLANKETT.fields if f.fk}
    if not any(v.get(n) is True or given_text(v.get(n)) for n in dfa_names):
        return set()
    out = set()
    for g in GROUNDS:
        if given_text(v.get(g)) and v[g] > TODAY.isoformat():
            out.add(g)
    if given_text(v.get("grund_annat_datum")) and not given_text(v.get("grund_annat_beskrivning")):
        out.add("grund_annat_beskrivning")
    if given_text(v.get("grund_annat_beskrivning")) and not given_text(v.get("grund_annat_datum")):
        out.add("grund_annat_datum")
    if not any(given_text(v.get(g)) for g in GROUNDS) and "grund_annat_datum" not in out:
        out.add("grund_undersokning_datum")  # one message leads to a ground
    for code, text in (("diagnos_kod", "diagnos_text"), ("bidiagnos_1_kod", "bidiagnos_1_text")):
        if given_text(v.get(code)):
            if not fk_code_ok(v[code]):
                out.add(code)
            if not given_text(v.get(text)):
                out.add(text)
        elif given_text(v.get(text)):
            out.add(code)
    if not given_text(v.get("diagnos_kod")):
        out.add("diagnos_kod")
    for name in ("funktionsnedsattning", "aktivitetsbegransning"):
        if not given_text(v.get(name)):
            out.add(name)
    if (v.get("prognos") == "ATER_X_ANTAL_DGR") != bool(v.get("prognos_dagar")):
        out.add("prognos_dagar")
    if v.get("atgard_ej_aktuellt") is True and any(v.get(a) is True for a in ATGARDER if a != "atgard_ej_aktuellt"):
        out.add("atgard_ej_aktuellt")
    return out


def activity_ok(can, share, cannot, why) -> tuple[bool, bool]:
    """(valid, answered) for one activity row, by the table's rules."""
    share_given = given_text(share)
    motivated = given_text(why)
    share_ok = not share_given or (share.strip().rstrip(" %").isdigit() and int(share.strip().rstrip(" %")) <= 100)
    valid = (share_ok and not (can is True and (cannot is True or motivated))
             and not (cannot is True and not motivated) and not (share_given and can is not True))
    return valid, can is True or cannot is True or motivated or share_given


def dates():
    return st.one_of(st.none(), st.sampled_from(["", "2026-11-23", "2026-12-07", "2026-12-08", "2027-01-15"]))


dfa_values = st.fixed_dictionaries({}, optional={
    **{g: dates() for g in GROUNDS},
    "grund_annat_beskrivning": st.sampled_from(["", " ", "Intyg från sjukgymnast"]),
    "diagnos_kod": st.one_of(st.sampled_from(CODES), st.text(alphabet="FMZAUX0123456789.- ", max_size=7)),
    "diagnos_text": st.sampled_from(["", "Medelsvår depressiv episod"]),
    "bidiagnos_1_kod": st.one_of(st.sampled_from(CODES), st.text(alphabet="FMZ0123456789.", max_size=6)),
    "bidiagnos_1_text": st.sampled_from(["", "Generaliserat ångestsyndrom"]),
    "funktionsnedsattning": st.sampled_from(["", "  ", "Sänkt affekt."]),
    "aktivitetsbegransning": st.sampled_from(["", "Klarar inte telefonsamtal."]),
    "prognos": st.sampled_from(PROGNOSER),
    "prognos_dagar": st.sampled_from(DAGAR),
    **{a: st.sampled_from(TICKS) for a in ATGARDER},
})
table_values = st.dictionaries(st.sampled_from(ACTIVITIES), st.tuples(
    st.sampled_from(TICKS), st.sampled_from(SHARES), st.sampled_from(TICKS), st.sampled_from(MOTIVATIONS)))


@settings(max_examples=600, deadline=None, database=None)
@given(dfa_values, table_values)
def test_the_validator_accepts_exactly_the_valid_answers(dfa_part, table):
    raw = dict(WHO, **{k: v for k, v in dfa_part.items() if v is not None})
    valid_rows, answered = True, False
    for key, (can, share, cannot, why) in table.items():
        row = {f"aktivitet_{key}_kan_delta": can, f"aktivitet_{key}_omfattning": share,
               f"aktivitet_{key}_kan_inte_delta": cannot, f"aktivitet_{key}_kan_inte": why}
        raw.update({k: v for k, v in row.items() if v is not None})
        ok, said = activity_ok(can, share, cannot, why)
        valid_rows, answered = valid_rows and ok, answered or said
    _clean, errors = check(raw)  # never raises
    dfa_names = {f.name for f in BLANKETT.fields if f.fk}
    assert {k for k in errors if k in dfa_names} == expected_dfa_errors(raw), errors
    table_errors = {k: v for k, v in errors.items() if k not in dfa_names}
    assert (not table_errors) == (valid_rows and answered), (table, table_errors)
    for message in errors.values():  # a Swedish sentence naming its field
        assert isinstance(message, str) and message[:1].isupper() and message.rstrip().endswith(".")
        assert not ENGLISH.search(message), message
        assert re.search(r"[åäöÅÄÖ]|\b(ange|kan|ska|och|inte|skriv|till|med)\b", message), message


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + ".-, ", max_size=8))
def test_the_code_check_agrees_with_fks_rule_for_any_string(typed):
    stored, problem = diagnoskod(typed)
    assert (stored is not None) == fk_code_ok(typed)
    if stored:
        assert "." not in stored and 3 <= len(stored) <= 5 and stored == stored.upper()
    else:
        assert problem and not ENGLISH.search(problem)


# ------------------------------------------------------------------ (a) the fillable PDF, uploaded


def _pdf_values(case: dict) -> dict:
    """What a doctor types into the fillable PDF: text as text, a choice by ticking its option's box."""
    out = {}
    for name, value in case.items():
        field = BLANKETT.field(name)
        if field.type == "choice":
            out[readback.choice_box(field, value)] = "/on"
        elif value is True:
            out[name] = "/on"
        else:
            out[name] = value
    return out


def test_typed_into_the_fillable_pdf_and_read_back_into_coded_fields():
    filled = corpus.fill_with_pypdf(corpus.issued(), dict(corpus.DOCTOR_VALUES, **_pdf_values(DEPRESSION)))
    raw = readback.doctor_answers(BLANKETT, readback.open_returned(filled).fields)
    assert raw["prognos"] == "ATER_X_ANTAL_DGR" and raw["prognos_dagar"] == "NITTIO_DGR"
    assert raw["atgard_kontakt_fhv"] is True and raw["atgard_ej_aktuellt"] is False
    clean, errors = readback.validate_doctor_answers(BLANKETT, raw)
    assert errors == {}
    assert clean["diagnos_kod"] == "F321" and clean["grund_journaluppgifter_datum"] == "2026-10-02"


def test_two_ticked_options_are_named_not_guessed():
    filled = corpus.fill_with_pypdf(corpus.issued(), dict(
        corpus.DOCTOR_VALUES, **_pdf_values(LUMBAGO), prognos__PROGNOS_OKLAR="/on"))
    raw = readback.doctor_answers(BLANKETT, readback.open_returned(filled).fields)
    assert raw["prognos"] == ("STOR_SANNOLIKHET", "PROGNOS_OKLAR")
    _clean, errors = readback.validate_doctor_answers(BLANKETT, raw)
    assert errors == {"prognos": "Prognos för arbetsförmåga utifrån aktuellt undersökningstillfälle: läkaren "
                                 "kryssade i flera alternativ (”Patienten förväntas kunna återgå helt i nuvarande "
                                 "sysselsättning efter denna sjukskrivning.”, ”Återgång i nuvarande sysselsättning "
                                 "är oklar.”). Välj ett."}


@pytest.mark.parametrize("case, code", [(DEPRESSION, "F321"), (LUMBAGO, "M545")], ids=["depression", "lumbago"])
def test_uploaded_reviewed_and_confirmed(soc, forfragan, dbs, case, code):
    pid, doc_id, fillable = forfragan
    filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, **_pdf_values(case)))
    location = upload(soc, pid, doc_id, filled).headers["Location"]
    page, res = confirm(soc, location)
    assert "Kapitel" in page  # the diagnosis code's chapter is shown at review
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    svar = dbs.scalar(select(Svar))
    from formservice.doctor import answers as doctor_answers

    with soc.application.app_context():
        stored = doctor_answers.pending_answers(svar)
    assert svar.status == "bekraftad"
    assert stored["diagnos_kod"] == code and stored["prognos"] == case["prognos"]
    assert {k for k, v in stored.items() if k.startswith("atgard_") and v is True} == {
        k for k, v in case.items() if k.startswith("atgard_")}


def test_an_upload_with_an_incomplete_dfa_part_is_not_confirmed(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    case = dict(DEPRESSION, diagnos_kod="F32", aktivitetsbegransning="")
    filled = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, **_pdf_values(case)))
    location = upload(soc, pid, doc_id, filled).headers["Location"]
    page = soc.get(location).get_data(as_text=True)
    assert "psykiatriska diagnoser (F-koder) och Z73 anges med minst fyra positioner" in page
    assert 'href="#f-diagnos_kod"' in page and 'href="#f-aktivitetsbegransning"' in page
    _page, res = confirm(soc, location)
    assert res.status_code == 400 and dbs.scalar(select(Svar)).status == "granskas"


# ------------------------------------------------------------------ (b) the online answer


def _form_values(case: dict) -> dict:
    return {k: ("ja" if v is True else v) for k, v in case.items()}


@pytest.mark.db
def test_answered_online_into_coded_fields(app, soc, forfragan, forbund, make_user):  # noqa: F811
    from formservice import db
    from formservice.doctor import answers as doctor_answers
    from formservice.samverkan.models import Overlamning

    pid, doc_id, _pdf = forfragan
    vc_id, _other = forbund()
    _record_consent(soc, pid)
    assert _send(soc, pid, doc_id, [vc_id]).status_code == 302
    with app.app_context():
        ov_id = db.session().query(Overlamning).one().public_id
    doctor = _doctor_client(app, make_user, vc_id)
    form_url = f"/inkommande/{ov_id}/svara"
    form = doctor.get(form_url).get_data(as_text=True)
    assert 'name="prognos"' in form and 'value="ATER_X_ANTAL_DGR"' in form and 'name="atgard_ej_aktuellt"' in form
    base = {"csrf_token": csrf_token(form), "lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentral Prov",
            "aktivitet_jobbtorg_kan_delta": "ja", "aktivitet_jobbtorg_omfattning": "25"}
    bad = doctor.post(form_url, data=dict(base, **_form_values(dict(DEPRESSION, prognos="PROGNOS_OKLAR"))))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'href="#f-prognos_dagar"' in text and "Välj den prognosen" in text
    assert "Kapitel V: Psykiska sjukdomar och syndrom samt beteendestörningar" in text
    good = doctor.post(form_url, data=dict(base, **_form_values(DEPRESSION)))
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]
    with app.app_context():
        from formservice.arenden.models import Dokument

        dok = db.session().query(Dokument).filter_by(public_id=doc_id).one()
        stored = doctor_answers.pending_answers(doctor_answers.current_answer(dok))
    assert stored["diagnos_kod"] == "F321" and stored["prognos_dagar"] == "NITTIO_DGR"
    assert stored["atgard_arbetsanpassning"] is True and stored["atgard_ej_aktuellt"] is False
    assert stored["grund_undersokning_datum"] == "2026-11-23"


def test_future_dates_are_refused_on_todays_date():
    tomorrow = (tid.today() + timedelta(days=2)).isoformat()
    _clean, errors = readback.validate_doctor_answers(BLANKETT, dict(WHO, **ACTIVITY, **dict(
        LUMBAGO, grund_undersokning_datum=tomorrow)))
    assert errors == {"grund_undersokning_datum": "Min undersökning av patienten: datumet ligger i framtiden. Ange "
                                                  "när det skedde (ÅÅÅÅ-MM-DD)."}


def _small_text(pdf: bytes, pages: range) -> list[tuple[int, float, str]]:
    """Text drawn below 9 pt on the given pages (1-based), page furniture (the running header and
    footer, in the top and bottom 60 pt) left out: (page, size, text)."""
    reader = PdfReader(io.BytesIO(pdf))
    small = []
    for number in pages:
        page = reader.pages[number - 1]
        height = float(page.mediabox.height)

        def visit(text, cm, tm, _font, size, number=number):
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
            if text.strip() and 60 < y < height - 60 and size * scale < 8.95:
                small.append((number, round(size * scale, 2), text.strip()))

        page.extract_text(visitor_text=visit)
    return small


@pytest.mark.parametrize("fillable", [False, True], ids=["print", "fillable"])
def test_the_doctors_part_is_pages_2_to_5_with_no_text_under_9_pt(fillable):
    """Issue 27's Done-when: the doctor's part fits on the pages chosen (2–5, README), text ≥ 9 pt."""
    pdf = corpus.fillable() if fillable else corpus.printed()
    reader = PdfReader(io.BytesIO(pdf))
    texts = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    first = next(n for n, t in enumerate(texts, 1) if "Grund för bedömningen" in t)
    last = next(n for n, t in enumerate(texts, 1) if "Underskrift, läkare" in t)
    assert (first, last) == (2, 5)
    assert _small_text(pdf, range(first, last + 1)) == []
