"""The flow between the steps: the doctor's answer at ruta 10 and 11, the page after producing a
document, wizard headings and progress, names on buttons, the generated reason text, a second ärende
for the same personnummer, and text over a field's limit (a message, never a silent cut)."""
import re

import pytest
from sqlalchemy import func, select

from formservice.arenden.models import Arende
from formservice.blanketter import wizard
from formservice.blanketter.catalogue import load_catalogue
from formservice.crypto import Keyring
from formservice.doctor.answers import ruta_after_answer, summary
from formservice.paths import FORMS_DIR
from formservice.rendering import documents

from .conftest import AuthActions, csrf_token
from .data import returned_pdfs as corpus
from .formparse import form_with
from .test_doctor_answers import confirm, upload
from .wizard_driver import INDIVID, create_arende, fill_blankett, place, step


@pytest.fixture
def soc(client, auth, make_user, make_enhet):
    enhet = make_enhet(namn="Skärholmen – Ekonomiskt bistånd")
    make_user(username="sara", enhet_id=enhet, namn="Sara Handläggare", telefon="08-111 222 33",
              epost="sara@example.se")
    auth.login(username="sara")
    client.enhet_id = enhet
    return client


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(FORMS_DIR)


def rutor_around_the_answer(catalogue):
    """(the ruta sending the förfrågan, the one waiting for the answer, the one after), from the map."""
    pm = catalogue.process_map
    sender = next(r for r in pm.rutor.values() if "rehabiliteringsforfragan" in r.blankett_ids)
    return sender.id, sender.next, ruta_after_answer(pm, "rehabiliteringsforfragan", sender.next)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# ---------------------------------------------------------------- ruta 10, the done page, ruta 11
def test_the_doctors_answer_from_the_done_page_through_ruta_10_to_ruta_11(soc, app, catalogue):
    sender, waiting, after = rutor_around_the_answer(catalogue)
    assert (sender, waiting, after) == ("soc1.9", "soc1.10", "soc1.11")
    pid = create_arende(soc, ruta=sender)
    result = fill_blankett(soc, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    doc_id = result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]

    # The page after producing the förfrågan offers the fillable PDF and says what to do with it.
    done = soc.get(f"/arenden/{pid}/blankett/rehabiliteringsforfragan/klar/{doc_id}").get_data(as_text=True)
    fillable_url = f"/arenden/{pid}/dokument/{doc_id}.ifyllbar"
    assert f'href="{fillable_url}"' in done and "Ifyllbar PDF för läkaren" in done
    assert "Skicka den ifyllbara PDF-filen till läkaren" in done
    assert "”Registrera läkarens svar” i Ruta 10 (Komplettering)" in done
    assert soc.get(fillable_url).status_code == 200

    # Ruta 10 links to registering the answer and to the fillable PDF of that document.
    step(soc, pid, waiting)
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert f'href="/arenden/{pid}/dokument/{doc_id}/svar"' in page
    assert "Registrera läkarens svar" in page and f'href="{fillable_url}"' in page

    # The answer confirmed: the case is at ruta 11, whose step page shows what the doctor answered.
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(soc.get(fillable_url).data, corpus.DOCTOR_VALUES))
    confirm(soc, res.headers["Location"])
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert "Ruta 11" in page.split("<h1>")[1][:40]
    answers = text_of(page.split('id="h-lakarsvar"')[1].split("</section>")[0])
    assert "kan personen delta i Jobbtorg på 50 % och i sysselsättning på 25 %" in answers
    assert "Koncentrationssvårigheter under behandlingen" in answers
    assert "Registrera läkarens svar" not in answers  # nothing left waiting
    assert f'/arenden/{pid}#lakarsvar' in page


def test_ruta_10_without_a_forfragan_offers_to_fill_one_in(soc):
    pid = create_arende(soc, ruta="soc1.9")
    step(soc, pid, "soc1.10")
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert "Ingen rehabiliteringsförfrågan är framtagen i ärendet ännu." in page
    assert f'href="/arenden/{pid}/blankett/rehabiliteringsforfragan"' in page


def test_a_document_without_a_doctors_part_has_no_fillable_pdf(soc, app):
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    doc_id = result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]
    done = soc.get(f"/arenden/{pid}/blankett/forandringsplan/klar/{doc_id}").get_data(as_text=True)
    assert "ifyllbar" not in done.lower()


# ---------------------------------------------------------------- wizard headings and progress
def test_wizard_headings_number_only_the_pages_shown_and_say_what_was_skipped(soc, catalogue):
    pid = create_arende(soc, ruta="soc1.9")
    sections = {(b.title, s.title): s for b in catalogue.blanketter.values() for s in b.sections}
    url = soc.get(f"/arenden/{pid}/blankett/rehabiliteringsforfragan").headers["Location"]
    seen, notes = [], []
    while "/sida/" in url:
        html = soc.get(url).get_data(as_text=True)
        caption = text_of(re.search(r'<p class="caption">(.*?)</p>', html).group(1))
        part = caption.split(" · ")[1] if caption.count(" · ") == 2 else "Rehabiliteringsförfrågan"
        heading = re.search(r"<h1>(.*?)</h1>", html).group(1)
        section = next(s for (b, title), s in sections.items() if b == part and heading.endswith(title))
        # No paper section number ("2." first when section 1 is filled in from the ärende): the caption counts.
        assert heading == section.title and not re.match(r"\d", heading)
        number, total = map(int, re.search(r"sida (\d+) av (\d+) att fylla i", caption).groups())
        seen.append(number)
        if 'class="hint passed-over"' in html:
            notes.append(text_of(html.split('class="hint passed-over">')[1].split("</p>")[0]))
        form = form_with(html, "version")
        data = {k: v or "" for k, v in form["fields"].items() if v is not None}
        for name in data:
            if not data[name] and name not in ("version", "csrf_token"):
                data[name] = "2026-12-01" if "datum" in name or "till" in name else "Stockholm"
        res = soc.post(url, data=dict(data, action="next"))
        assert res.status_code == 302, text_of(res.get_data(as_text=True))[:1500]
        url = res.headers["Location"]
    assert seen == list(range(1, total + 1))  # every page asked counts once, in order
    assert notes[0].startswith("Redan ifyllt från ärendet") and "Förfrågan gäller" in notes[0]
    # The doctor's part: the DFA blocks first, then the activity table.
    assert any("Fylls i av läkaren: Rehabiliteringsförfrågan: Grund för bedömningen;" in n
               and "Rehabiliteringsförfrågan: Kan personen delta i aktiviteter?" in n for n in notes), notes


# ---------------------------------------------------------------- names on buttons and headings
def test_blankett_names_keep_their_capitals_on_buttons(soc, client):
    pid = create_arende(soc, ruta="soc1.14")
    page = text_of(soc.get(f"/arenden/{pid}/steg").get_data(as_text=True))
    assert "Fyll i kallelse till samordnad individuell plan (SIP)" in page
    assert "Fyll i ansökan – Samordning av rehabiliteringsinsatser" in page
    place(soc, pid, "soc1.13")
    page = text_of(soc.get(f"/arenden/{pid}/steg").get_data(as_text=True))
    assert "Fyll i anmälan till Finsamteam" in page
    ruta = text_of(soc.get("/processkarta/soc1.13").get_data(as_text=True))
    assert "med samtycke till att bryta sekretessen i Finsamteamet" in ruta
    assert "(sip)" not in page and "finsamteamet" not in ruta


# ---------------------------------------------------------------- the generated reason text
def answers(**values):
    base = {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen",
            "forfragan_svar_datum": "2026-11-20"}
    return dict(base, **values)


def test_summary_is_natural_swedish(catalogue):
    forfragan = catalogue.blanketter["rehabiliteringsforfragan"]
    text = summary(forfragan, answers(aktivitet_jobbtorg_kan_delta=True, aktivitet_jobbtorg_omfattning=50,
                                      aktivitet_medicinsk_rehabilitering_kan_delta=True,
                                      aktivitet_arbetssokande_kan_delta=True,
                                      aktivitet_sysselsattning_kan_inte="Orkar inte resor.;",
                                      lakare_anpassning="Korta pass.", lakare_kommentar="Ny bedömning i mars"))
    assert text == (
        "Enligt läkarens bedömning (Åsa Läkarsson, Vårdcentralen Skärholmen, 2026-11-20) kan personen delta i "
        "Jobbtorg på 50 %, i medicinsk rehabilitering och söka arbete. Personen kan inte delta i sysselsättning "
        "(motivering: Orkar inte resor). För att kunna delta i planerade aktiviteter behövs följande anpassning "
        "eller hänsynstagande: Korta pass. Läkarens kommentar: Ny bedömning i mars.")


@pytest.mark.parametrize("values, expected", [
    ({"aktivitet_forrehabilitering_kan_inte_delta": True, "aktivitet_arbetssokande_kan_inte_delta": True},
     "kan personen inte delta i förrehabiliterande insats eller söka arbete."),
    ({"aktivitet_annat_vad": "Simträning", "aktivitet_annat_kan_delta": True, "aktivitet_sprak_kan_delta": True,
      "aktivitet_sprak_omfattning": 25},
     "kan personen delta i språkundervisning/utbildning på 25 % och i simträning."),
])
def test_summary_lists_activities_with_commas_and_one_full_stop(catalogue, values, expected):
    text = summary(catalogue.blanketter["rehabiliteringsforfragan"], answers(**values))
    assert text.endswith(expected)
    assert not re.search(r"FS-|\.;|\.\.|jobbtorgets", text)


# ---------------------------------------------------------------- a second ärende for one personnummer
def new_arende(client, **overrides):
    page = client.get("/arenden/nytt").get_data(as_text=True)
    return client.post("/arenden/nytt", data=dict(INDIVID, ruta="soc1.1a", csrf_token=csrf_token(page), **overrides))


def count(dbs):
    return dbs.scalar(select(func.count()).select_from(Arende))


def test_a_second_arende_for_the_same_personnummer_warns_and_links_to_the_first(soc, dbs):
    first = create_arende(soc)
    res = new_arende(soc, namn="Tilda Ny Stavning", adress="Nygatan 1", personnummer="191212121212")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and count(dbs) == 1
    warning = text_of(html.split('id="duplicate-title"')[1].split("</div>")[0])
    assert "Det finns redan ett öppet ärende för 19121212-1212 i din enhet" in warning
    assert f'href="/arenden/{first}"' in html and "Ärendet för Tilda Testperson" in warning
    # Nothing typed is lost, and creating needs the explicit confirmation for this personnummer.
    assert 'value="Tilda Ny Stavning"' in html and 'value="Nygatan 1"' in html
    assert 'name="skapa_anda" value="191212121212"' in html and "Skapa ändå ett nytt ärende" in html
    res = new_arende(soc, skapa_anda="190001010008")  # confirmed for another number: asks again
    assert res.status_code == 200 and count(dbs) == 1
    res = new_arende(soc, namn="Tilda Ny Stavning", skapa_anda="191212121212")
    assert res.status_code == 302 and count(dbs) == 2


def test_no_warning_for_another_enhet_or_a_closed_arende(soc, app, dbs, make_user, make_enhet):
    pid = create_arende(soc)
    make_user(username="olle", enhet_id=make_enhet(namn="Farsta – Ekonomiskt bistånd"))
    olle = app.test_client()
    AuthActions(olle).login(username="olle")
    assert new_arende(olle).status_code == 302
    dbs.execute(Arende.__table__.update().where(Arende.public_id == pid).values(status="avslutat"))
    dbs.commit()
    assert new_arende(soc).status_code == 302


def test_the_duplicate_check_decrypts_only_the_matches(soc, app, monkeypatch):
    from formservice.accounts.models import User
    from formservice.arenden import operations

    create_arende(soc)
    for pnr in ("19000101-0008", "19000101-0016", "19121212-1212"):
        create_arende(soc, dict(INDIVID, personnummer=pnr))
    calls = []
    original = Keyring.decrypt_json
    monkeypatch.setattr(Keyring, "decrypt_json", lambda self, *a, **kw: calls.append(1) or original(self, *a, **kw))
    with app.app_context():
        from formservice import db

        user = db.session().scalar(select(User).where(User.username == "sara"))
        rows = operations.open_in_enhet(user, "191212121212")
    assert len(rows) == 2 and len(calls) == 2


# ---------------------------------------------------------------- text over a field's limit
def test_a_too_long_text_in_the_wizard_gets_a_message_and_is_kept_whole(soc, catalogue):
    pid = create_arende(soc, ruta="soc1.13")
    pages = wizard.pages(documents.parts_of(catalogue, "finsamteam_anmalan"))
    number, name = next((p.number, f.name) for p in pages for f in p.fields if f.type == "text"
                        and f.max_length == 200 and not f.prefill)
    url = f"/arenden/{pid}/blankett/finsamteam_anmalan/sida/{number}"
    html = soc.get(url).get_data(as_text=True)
    assert "maxlength" not in html
    form = form_with(html, "version")
    data = {k: v or "" for k, v in form["fields"].items() if v is not None}
    long_text = "Å" * 230
    res = soc.post(url, data=dict(data, **{name: long_text}, action="next"))
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "får vara högst 200 tecken, men texten har 230. Korta den med 30 tecken." in body
    assert f'value="{long_text}"' in body


def test_a_too_long_name_on_the_individ_form_gets_a_message_and_is_kept(soc, dbs):
    html = soc.get("/arenden/nytt").get_data(as_text=True)
    assert "maxlength" not in html
    res = new_arende(soc, namn="Tilda " + "x" * 250)
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and count(dbs) == 0
    assert "Namn: får vara högst 200 tecken, men texten har 256. Korta den med 56 tecken." in body
    assert 'value="Tilda ' + "x" * 250 + '"' in body


def test_a_too_long_note_on_the_step_keeps_the_note_and_the_choice(soc):
    pid = create_arende(soc, ruta="soc1.5")
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert "maxlength" not in page
    form = form_with(page, "val")
    value = re.findall(r'name="val" value="([^"]+)"', page)[0]
    note = "Lång anteckning. " * 70
    res = soc.post(f"/arenden/{pid}/steg", data={"csrf_token": form["fields"]["csrf_token"], "val": value,
                                                 "version": form["fields"]["version"], "note": note})
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    typed = f"{len(note.strip()):,}".replace(",", "\u00a0")
    assert f"Anteckningen får vara högst 1\u00a0000 tecken, men texten har {typed}." in body
    assert note.strip() in body and f'value="{value}" checked' in body
