"""SUS: the before-values recorded on the anmälan to Finsamteam, the after-values at closing, the SUS
samtycke, and the SUS-underlag — naming the person only with that samtycke and never with
skyddade personuppgifter."""
import csv
import io
import re

import pytest
from sqlalchemy import select

from formservice import tid
from formservice.arenden import operations, sus
from formservice.arenden.models import Arende
from formservice.audit import AuditEntry
from formservice.blanketter import sus_categories

from .conftest import csrf_token
from .formparse import form_with
from .wizard_driver import INDIVID, create_arende, fill_blankett, place

pytestmark = pytest.mark.db  # also run against PostgreSQL in CI

FORE = {"sus_forsorjning_fore": "forsorjningsstod", "sus_sysselsattning_fore": "aktivt_arbetssokande",
        "sus_tid_offentlig_forsorjning": "ar_3_till_5", "sus_utbildningsniva": "gymnasium"}
EFTER = {"sus_forsorjning_efter": "ingen_offentlig", "sus_sysselsattning_efter": "forvarvsarbete",
         "sus_arbete_studier_okat": "ja"}
# Every way the individ's identity could appear on a page or in a file.
PERSONAL = (INDIVID["namn"], "Tilda", "Testperson", "19121212-1212", "191212121212", "121212-1212", "1212121212",
            INDIVID["adress"], "tilda@example.se", "070-123 45 67")


def arende(dbs, pid) -> Arende:
    dbs.expire_all()
    return dbs.scalar(select(Arende).where(Arende.public_id == pid))


def anmalan(client, app, ruta="finsamteam.3") -> str:
    """An ärende in Finsamteam whose anmälan was produced through the wizard with SUS's before-values."""
    pid = create_arende(client, ruta=ruta)
    result = fill_blankett(client, pid, "finsamteam_anmalan", app.extensions["catalogue"], overrides=FORE)
    # On paper as well: the answer's label, as the Finsamteam's koordinator reads it.
    assert "Försörjningsstöd (ekonomiskt bistånd)" in result["text"]
    return pid


def record_sus_consent(client, pid):
    location = f"/arenden/{pid}/samtycke/nytt?blankett=sus_samtycke"
    page = client.get(location).get_data(as_text=True)
    assert "Samtycke till registrering i SUS" in page
    form = form_with(page, "given_by")["fields"]
    res = client.post(location, data={"csrf_token": form["csrf_token"], "blankett": "sus_samtycke",
                                      "parties": ["sus"], "given_by": INDIVID["namn"], "scope": "",
                                      "valid_from": tid.today().isoformat(), "valid_until": ""})
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]


def close(client, pid, **data):
    page = client.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    form = form_with(page, "reason")["fields"]
    return page, client.post(f"/arenden/{pid}/avsluta", data={
        "csrf_token": form["csrf_token"], "version": form["version"], "reason": form.get("reason") or "",
        "datum": tid.today().isoformat(), "note": "", **data})


def csv_rows(client, pid):
    res = client.get(f"/arenden/{pid}/sus/csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    text = res.get_data(as_text=True).lstrip("\ufeff")
    return text, list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_yaml_offers_sus_own_categories():
    """The anmälan's choices are the lists the closing form and the underlag use (written twice: keep equal)."""
    from formservice import paths
    from formservice.blanketter.loader import load_definitions

    anmalan_def = load_definitions(paths.FORMS_DIR)["finsamteam_anmalan"]
    for name, categories in sus_categories.FORE.items():
        field = anmalan_def.field(name)
        assert {c.value: c.label for c in field.choices} == categories, name
        assert not field.required  # "uppgift saknas" is always an answer: nothing new blocks the anmälan
    assert list(sus_categories.SYSSELSATTNING)[:4] == ["forvarvsarbete", "studier", "aktivt_arbetssokande", "ovriga"]
    assert "felregistrering" in sus_categories.AVSLUTSANLEDNING


def test_before_at_the_anmälan_after_at_closing_and_a_full_underlag_with_samtycke(soc, app, dbs):
    pid = anmalan(soc, app)
    with app.test_request_context():
        a = arende(dbs, pid)
        assert sus.recorded(a).fore == FORE
        assert operations.individ(a)["utbildningsniva"] == "gymnasium"  # an individ fact: asked once
    # The individ's record offers it from now on, on the individ's own page as well.
    individ_page = soc.get(f"/arenden/{pid}/uppgifter").get_data(as_text=True)
    assert re.search(r'<option value="gymnasium" selected>', individ_page)

    record_sus_consent(soc, pid)
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert f"/arenden/{pid}/sus" in show and "SUS-underlag" in show

    place(soc, pid, "finsamteam.slut-genomford")
    # The end state's step page carries the same closing form, SUS's questions included.
    assert "Uppgifter för uppföljningen i SUS" in soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    page, res = close(soc, pid, **EFTER)
    # The closing form asks "efter", shows "före", and proposes the avslutsanledning from the end state.
    assert "Uppgifter för uppföljningen i SUS" in page and "Vid anmälan: Försörjningsstöd" in page
    assert "Enligt skälet ovan (Insatsen avslutad enligt plan)" in page
    assert res.status_code == 302, res.get_data(as_text=True)[:3000]
    with app.test_request_context():
        rec = sus.recorded(arende(dbs, pid))
        assert rec.efter == {**EFTER, "sus_avslutsanledning": "planen_genomford"}
        assert sus.recorded_many([rec.arende_id])[rec.arende_id] == rec

    html = soc.get(f"/arenden/{pid}/sus").get_data(as_text=True)
    assert "anonym" not in html.lower().split("<main")[-1].split("samordningsförbundets")[0]
    for _key, label, _personal in sus.FIELD_ORDER:
        assert label in html, label
    for text in ("19121212-1212", INDIVID["namn"], "Kvinna" if int("191212121212"[10]) % 2 == 0 else "Man",
                 "Gymnasieskola", "Försörjningsstöd (ekonomiskt bistånd)", "Aktivt arbetssökande",
                 "3 år till mindre än 5 år", "Insatsen avslutad enligt plan", "Förvärvsarbete",
                 "Ja, har börjat eller ökat arbete eller studier", tid.today().isoformat()):
        assert text in html, text

    _text, rows = csv_rows(soc, pid)
    assert rows[0] == [label for _key, label, _personal in sus.FIELD_ORDER]  # SUS's order, every variable
    values = dict(zip(rows[0], rows[1]))
    assert values["Personnummer"] == "19121212-1212" and values["Namn"] == INDIVID["namn"]
    assert values["Avslutsanledning"] == "Insatsen avslutad enligt plan"
    assert values["Sysselsättning före"] == "Aktivt arbetssökande" and values["Sysselsättning efter"] == "Förvärvsarbete"
    assert values["Ålder vid start"].isdigit()

    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "sus_underlag")).all()
    assert [e.detail for e in entries] == ["sida, med personuppgifter", "CSV, med personuppgifter"]


def test_without_samtycke_the_underlag_is_anonymous(soc, app):
    pid = anmalan(soc, app)
    html = soc.get(f"/arenden/{pid}/sus").get_data(as_text=True)
    text, rows = csv_rows(soc, pid)
    assert "anonym" in html and "Inget aktivt samtycke" in html
    for personal in PERSONAL:
        assert personal not in html and personal not in text, personal
    # What SUS registers for an anonymous participant: kön and the budgetår, nothing else.
    assert rows[0] == ["Kön", "Budgetår då deltagaren startade"]
    assert rows[1][1] == str(tid.today().year)


def test_skyddade_personuppgifter_make_it_anonymous_even_with_samtycke(soc, app):
    pid = anmalan(soc, app)
    record_sus_consent(soc, pid)
    page = soc.get(f"/arenden/{pid}/uppgifter").get_data(as_text=True)
    form = form_with(page, "namn")["fields"]
    data = {k: v or "" for k, v in form.items() if k != "skyddade_personuppgifter"}
    res = soc.post(f"/arenden/{pid}/uppgifter", data=dict(data, skyddade_personuppgifter="ja"))
    assert res.status_code == 302
    html = soc.get(f"/arenden/{pid}/sus").get_data(as_text=True)
    text, _rows = csv_rows(soc, pid)
    assert "skyddade personuppgifter" in html
    for personal in PERSONAL:
        assert personal not in html and personal not in text, personal


def test_another_organisations_caseworker_gets_404(soc, app, auth, make_user, make_enhet):
    pid = anmalan(soc, app)
    make_user(username="olle", enhet_id=make_enhet(namn="Annan enhet", organisation="Annanstaden"))
    auth.logout()
    auth.login(username="olle")
    for url in (f"/arenden/{pid}/sus", f"/arenden/{pid}/sus/csv"):
        assert soc.get(url).status_code == 404, url


def test_an_option_not_in_the_list_is_a_swedish_message_and_keeps_what_was_typed(soc, app, dbs):
    pid = anmalan(soc, app)
    page, res = close(soc, pid, reason="flyttat", note="Flyttar till Malmö i januari",
                      sus_forsorjning_efter="lotterivinst", sus_sysselsattning_efter="studier")
    html = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Försörjning efter: välj ett av alternativen i listan." in html
    assert "Flyttar till Malmö i januari" in html
    assert re.search(r'<option value="studier" selected>', html)
    assert arende(dbs, pid).status == "oppet"
    # The individ's page alike.
    page = soc.get(f"/arenden/{pid}/uppgifter").get_data(as_text=True)
    form = {k: v or "" for k, v in form_with(page, "namn")["fields"].items()}
    res = soc.post(f"/arenden/{pid}/uppgifter", data=dict(form, utbildningsniva="doktor", telefon="070-999 99 99"))
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and "Högsta slutförda utbildningsnivå: välj ett av alternativen i listan." in html
    assert "070-999 99 99" in html


def test_a_general_reason_proposes_its_avslutsanledning_and_the_caseworker_may_correct_it(soc, app, dbs):
    pid = anmalan(soc, app)
    _page, res = close(soc, pid, reason="avbojt", sus_avslutsanledning="felregistrering")
    assert res.status_code == 302
    with app.test_request_context():
        assert sus.recorded(arende(dbs, pid)).efter["sus_avslutsanledning"] == "felregistrering"
    assert sus.proposed_avslut("avbojt") == "eget_val"
    assert sus.proposed_avslut("finsaminsats.slut-insats") == "overlamnad"


def test_an_ärende_outside_finsam_is_closed_without_sus_questions(soc):
    pid = create_arende(soc, ruta="soc1.3")
    page, res = close(soc, pid, reason="flyttat")
    assert "SUS" not in page.split("<main")[-1] and res.status_code == 302
    assert csrf_token(page)


def test_closing_again_after_reopening_starts_from_the_earlier_answers(soc, app, dbs):
    pid = anmalan(soc, app)
    _page, res = close(soc, pid, reason="flyttat", **EFTER)
    assert res.status_code == 302
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    form = form_with(show, "note")["fields"]
    assert soc.post(f"/arenden/{pid}/oppna", data=dict(form, note="Flytten blev inte av")).status_code == 302
    page = soc.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    assert re.search(r'<option value="forvarvsarbete" selected>', page)


def test_a_closing_counts_once_in_the_before_after_tables_and_reopening_takes_it_back(soc, app, dbs):
    """The uppföljning's SUS tables count each closed Finsam participant once, in the closing's month,
    from the answers given; reopening takes the count back and closing again counts the new answers –
    always what a rebuild from the ärenden gives. An ärende outside Finsam is not counted."""
    from formservice.arenden.models import Statistik
    from formservice.uppfoljning import exempeldata

    def sus_rows():
        dbs.expire_all()
        return sorted((r.manad, r.nyckel, r.antal) for r in dbs.scalars(select(Statistik).where(Statistik.slag == "sus")))

    def rebuilt():
        with app.app_context():
            exempeldata.rebuild_counts(app.extensions["catalogue"].process_map)
        return sus_rows()

    outside = create_arende(soc, ruta="soc1.3")
    assert close(soc, outside, reason="flyttat")[1].status_code == 302
    assert sus_rows() == []

    pid = anmalan(soc, app)
    assert close(soc, pid, reason="flyttat", **EFTER)[1].status_code == 302
    month = tid.today().strftime("%Y-%m")
    counted = sus_rows()
    assert counted == sorted((month, key, 1) for key in (
        "sus_forsorjning_fore:forsorjningsstod", "sus_sysselsattning_fore:aktivt_arbetssokande",
        "sus_forsorjning_efter:ingen_offentlig", "sus_sysselsattning_efter:forvarvsarbete",
        "sus_arbete_studier_okat:ja", "sus_avslutsanledning:flyttat"))
    assert rebuilt() == counted

    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    form = form_with(show, "note")["fields"]
    assert soc.post(f"/arenden/{pid}/oppna", data=dict(form, note="Flytten blev inte av")).status_code == 302
    assert sus_rows() == [] == rebuilt()

    assert close(soc, pid, reason="avbojt", **dict(EFTER, sus_sysselsattning_efter="studier"))[1].status_code == 302
    again = sus_rows()
    assert (month, "sus_sysselsattning_efter:studier", 1) in again and (month, "sus_avslutsanledning:eget_val", 1) in again
    assert len(again) == 6 and rebuilt() == again
