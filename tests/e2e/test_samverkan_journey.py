"""Issue 26, "Done when", in the browser: one individ walked from Soc 1 by a socialsekreterare through
the rehabiliteringsförfrågan answered online by the doctor, the Finsamteam anmälan accepted by the
koordinator with a gemensam plan, a SIP-kallelse answered by two invitees and Försäkringskassan's
receipt and decision – five users in five organisations of one förbund, each in a browser of their
own. Every status on the sender's ärende page is set by the recipient's action, every party's ruta is
on every party's "Vem gör vad nu", sending without samtycke is refused, and axe finds nothing on any
of the new pages (also in their error states).

Runs on SQLite, and on PostgreSQL with FORMSERVICE_TEST_DATABASE_URL (marker `db`): the live app here
is built on the `database_url` fixture, not on the session's shared SQLite `live_app`."""
from __future__ import annotations

import os
import re
import tempfile

import pytest

from formservice import create_app, tid

from ..conftest import TEST_KEYS, AuthActions, ClosingClient
from ..wizard_driver import INDIVID, create_arende, fill_blankett, place, step
from .conftest import assert_accessible, login, open_page, serving

pytestmark = [pytest.mark.e2e, pytest.mark.db]

PASSWORD = "samverkan-e2e-2026"
INDIVIDEN = dict(INDIVID, namn="Tove Samverkansson", personnummer="19121212-1212")
# Pictures of the pages to look at (FORMSERVICE_SCREENSHOTS=<dir>); none by default.
SCREENSHOTS = os.path.join(os.environ.get("FORMSERVICE_SCREENSHOTS") or tempfile.gettempdir(), "samverkan-{}.png")

# (username, role, namn, titel, organisation, organisation typ, enhet, enhet typ)
PARTIES = {
    "soc": ("e2e.soc", "socialsekreterare", "Sara Socialsekreterare", "Socialsekreterare",
            "Provstads kommun", "kommun", "Försörjningsstöd Provstaden", "socialtjanst"),
    "vard": ("e2e.lakare", "vardpersonal", "Åsa Läkarsson", "Läkare",
             "Region Provland", "region", "Vårdcentral Provberga", "vard"),
    "finsam": ("e2e.koord", "koordinator", "Kim Koordinator", "Koordinator",
               "Samordningsförbundet Provstaden", "samordningsforbund", "Finsamteam Provstaden", "finsam"),
    "fk": ("e2e.fk", "handlaggare", "Fia Handläggare", "Handläggare",
           "Försäkringskassan", "myndighet", "Lokalt försäkringscenter Provstaden", "forsakringskassan"),
    "af": ("e2e.af", "arbetsformedlare", "Alf Arbetsförmedlare", "Arbetsförmedlare",
           "Arbetsförmedlingen", "myndighet", "Arbetsförmedlingen Provstaden", "arbetsformedlingen"),
}


def label(party: str) -> str:
    """How the app names an enhet to other parties: "Enhet (Organisation)"."""
    p = PARTIES[party]
    return f"{p[6]} ({p[4]})"


@pytest.fixture
def samverkan_app(database_url, tmp_path, monkeypatch):
    """A live server of its own on `database_url` (SQLite, or PostgreSQL for tests marked db) with one
    förbund: a kommun, a region, Försäkringskassan, Arbetsförmedlingen and the förbund's Finsamteam,
    one enhet and one user each. No funktionsadress: e-mail is tested elsewhere (test_notifications)."""
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e-samverkan", "DATABASE_URL": database_url,
                      "SESSION_COOKIE_SECURE": False, "ORGANISATION_NAME": "Provstads kommun",
                      "KEYS": TEST_KEYS, "DOCUMENT_REST_IN_THREAD": False})
    app.test_client_class = ClosingClient
    with app.app_context():
        from formservice import db
        from formservice.accounts import operations as accounts
        from formservice.accounts.models import Enhet, Organisation

        dbs = db.session()
        forbund = Organisation(namn=PARTIES["finsam"][4], typ="samordningsforbund")
        dbs.add(forbund)
        dbs.flush()
        enheter = {}
        for key, (_u, _r, _n, _t, org_namn, org_typ, enhet_namn, enhet_typ) in PARTIES.items():
            org = forbund if key == "finsam" else Organisation(namn=org_namn, typ=org_typ, forbund_id=forbund.id)
            dbs.add(org)
            dbs.flush()
            enhet = Enhet(organisation_id=org.id, namn=enhet_namn, typ=enhet_typ, utdelningsadress="Provgatan 1",
                          postnummer="111 11", ort="Provstaden")
            dbs.add(enhet)
            dbs.flush()
            enheter[key] = enhet.id
        dbs.commit()
        for key, (username, role, namn, titel, *_rest) in PARTIES.items():
            accounts.create_user(username=username, password=PASSWORD, role=role, enhet_id=enheter[key],
                                 namn=namn, titel=titel, telefon="08-100 100 10")
        app.config["E2E_ENHETER"] = enheter
    with serving(app):
        yield app
    app.extensions["db_session"].remove()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def users(browser, samverkan_app):
    """One signed-in browser page per party."""
    base = samverkan_app.config["LIVE_URL"]
    contexts, pages = [], {}
    for key, (username, *_rest) in PARTIES.items():
        context, pg = open_page(browser)
        contexts.append(context)
        login(pg, base, username, PASSWORD)
        pages[key] = pg
    yield pages
    for context in contexts:
        context.close()


# ---------------------------------------------------------------- helpers
def doc_id_of(client, pid: str, blankett_title: str) -> str:
    """The public id of the ärende's document of that blankett (its send link on the ärende page)."""
    html = client.get(f"/arenden/{pid}").get_data(as_text=True)
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S) if blankett_title in r]
    assert rows, f"no document {blankett_title} on the ärende page"
    return re.search(r'/dokument/([^/"]+)/skicka', rows[-1]).group(1)


def sent_row(page, party: str):
    """The row of the Samverkan section's "Skickat till andra parter" for the recipient party,
    newest first (the latest hand-over to it)."""
    return page.locator("#samverkan table").first.locator("tbody tr", has_text=label(party)).first


def sent_status(page, party: str, document_number: str) -> str:
    row = page.locator("#samverkan table").first.locator("tbody tr").filter(has_text=label(party)) \
        .filter(has_text=document_number)
    assert row.count() == 1, f"{document_number} to {label(party)}: {row.count()} rows"
    return row.locator("td").nth(3).inner_text().splitlines()[0]  # (a second line: "mottagen <when>")


def document_status(page, doc_id: str) -> str:
    """The status the Dokument table shows: a select while the sender may set it, text once the
    document is sent in formservice (the recipient sets it)."""
    select = page.locator(f"#status-{doc_id}")
    if select.count():
        return select.input_value()
    return page.locator(f"#dok-{doc_id} td").nth(3).inner_text().splitlines()[0].strip().lower()


def document_number(page, doc_id: str) -> str:
    """The document's number as the Dokument table shows it (the row whose status select is its)."""
    row = page.locator(f"#dok-{doc_id}")
    return row.locator("td").nth(1).inner_text().strip()


def vem_gor_vad(page) -> str:
    section = page.locator("#vem-gor-vad")
    assert section.count() == 1, f"no 'Vem gör vad nu' on {page.url}"
    return section.locator("table.parter-tabell").inner_text()


def assert_every_party_on_map(page, parties) -> None:
    """Each party's row in the table, and its marker on the drawn map (the viewer's own: "Ni")."""
    table = vem_gor_vad(page)
    for party in parties:
        assert label(party) in table, f"{label(party)} missing from 'Vem gör vad nu' on {page.url}:\n{table}"
    drawn = page.locator("#vem-gor-vad svg.karta--parter")
    assert drawn.locator("g.parter__markering").count() == len(parties), page.url
    assert drawn.locator("g.parter__markering--egen").count() == 1, page.url


def record_consent(page, base: str, pid: str, blankett: str, parties: list[str]) -> None:
    page.goto(f"{base}/arenden/{pid}/samtycke/nytt?blankett={blankett}")
    for box in page.locator('input[name="parties"]').all():
        box.set_checked(box.get_attribute("value") in parties)
    page.get_by_label("Samtycket lämnades av").fill(INDIVIDEN["namn"])
    page.get_by_label("Datum för underskriften").fill(tid.today().isoformat())
    page.get_by_role("button", name="Registrera samtycket").click()
    page.wait_for_url(re.compile(rf"/arenden/{pid}(#.*)?$"))
    assert "Samtycket är registrerat" in page.get_by_role("status").first.inner_text()


def open_send_page(page, base: str, pid: str, doc_id: str) -> None:
    page.goto(f"{base}/arenden/{pid}")
    page.locator(f'a[href="/arenden/{pid}/dokument/{doc_id}/skicka"]').click()
    page.wait_for_url(f"{base}/arenden/{pid}/dokument/{doc_id}/skicka")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Skicka")


def choose_recipients(page, parties) -> None:
    for party in parties:
        page.get_by_label(label(party)).check()
    page.get_by_role("button", name="Skicka", exact=True).click()


def expect_sent(page, pid: str) -> None:
    """After "Skicka": back on the ärende page at its Samverkan section (else say what the page said)."""
    try:
        page.wait_for_url(re.compile(rf"/arenden/{pid}#samverkan$"))
    except Exception as exc:  # noqa: BLE001 — re-raised with the page's own words
        raise AssertionError(f"not sent; {page.url} says:\n{page.content()[:3000]}") from exc


def open_incoming(page, base: str, individ_namn: str, blankett_title: str) -> str:
    """From the inbox, the waiting hand-over; returns its public id."""
    page.goto(f"{base}/inkommande")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Inkommande till")
    row = page.locator("tbody tr", has_text=blankett_title).filter(has_text=individ_namn)
    assert row.count() == 1, page.locator("main").inner_text()
    assert "Väntar på mottagaren" in row.inner_text()
    assert_accessible(page)
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/inkommande/[^/]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == blankett_title
    assert INDIVIDEN["namn"] in page.locator("main").inner_text()
    assert "19121212-1212" in page.locator("main").inner_text()
    return page.url.rsplit("/", 1)[-1]


def take_in(page) -> None:
    page.get_by_role("button", name="Ta emot").click()
    assert "är mottagen och kopplad till ert ärende" in page.get_by_role("status").first.inner_text()


# ---------------------------------------------------------------- the journey
def test_one_individ_through_forfragan_anmalan_sip_and_fk(samverkan_app, users):
    base = samverkan_app.config["LIVE_URL"]
    soc, vard, koord, fk, af = (users[k] for k in ("soc", "vard", "finsam", "fk", "af"))
    catalogue = samverkan_app.extensions["catalogue"]
    client = samverkan_app.test_client()  # the socialsekreterare's documents are produced through it
    AuthActions(client).login(username=PARTIES["soc"][0], password=PASSWORD)

    # ---- 1. the rehabiliteringsförfrågan, refused without samtycke, sent under the sekretessmedgivande
    pid = create_arende(client, INDIVIDEN, ruta="soc1.9")
    fill_blankett(client, pid, "rehabiliteringsforfragan", catalogue)
    step(client, pid, "soc1.10")
    forfragan = doc_id_of(client, pid, catalogue.blanketter["rehabiliteringsforfragan"].title)

    open_send_page(soc, base, pid, forfragan)
    assert "Kan inte skickas" in soc.locator("form").filter(has=soc.locator('[name="till"]')).inner_text()
    assert_accessible(soc)
    choose_recipients(soc, ["vard"])
    alert = soc.get_by_role("alert").inner_text()
    assert "inget gällande samtycke omfattar Hälso- och sjukvården" in alert, alert
    assert soc.title().startswith("Fel:")
    # the way on: the link to record the samtycke (the error summary's link goes to the field)
    assert soc.get_by_role("link", name="Registrera individens samtycke", exact=True) \
        .get_attribute("href").endswith(f"/arenden/{pid}/samtycke/nytt")
    assert_accessible(soc)  # the refused state
    soc.goto(f"{base}/arenden/{pid}")
    assert soc.locator("#samverkan").count() == 0  # nothing was sent
    assert document_status(soc, forfragan) != "skickad"
    forfragan_nr = document_number(soc, forfragan)

    record_consent(soc, base, pid, "sekretessmedgivande", ["socialtjanst", "vard"])
    open_send_page(soc, base, pid, forfragan)
    choose_recipients(soc, ["vard"])
    expect_sent(soc, pid)
    assert "är skickad till " + label("vard") in soc.get_by_role("status").first.inner_text()
    assert sent_status(soc, "vard", forfragan_nr) == "Väntar på mottagaren"
    assert document_status(soc, forfragan) == "skickad"
    assert_accessible(soc)  # the ärende page with the Samverkan section, before anyone is linked

    # The doctor: inbox, the hand-over, "Ta emot" – the sender sees "Mottagen".
    forfragan_ov = open_incoming(vard, base, INDIVIDEN["namn"], catalogue.blanketter["rehabiliteringsforfragan"].title)
    assert_accessible(vard)
    take_in(vard)
    soc.reload()
    assert sent_status(soc, "vard", forfragan_nr) == "Mottagen"
    assert document_status(soc, forfragan) == "mottagen"
    assert_every_party_on_map(soc, ["soc", "vard"])
    assert_accessible(soc)  # with the map

    # The doctor answers online: first with errors, then as it should be.
    assert_every_party_on_map(vard, ["soc", "vard"])
    assert_accessible(vard)  # the item page, accepted, with the map
    vard.get_by_role("link", name="Besvara förfrågan").click()
    vard.wait_for_url(f"{base}/inkommande/{forfragan_ov}/svara")
    assert_accessible(vard)
    vard.get_by_label("Läkare", exact=True).fill("")
    vard.get_by_label("Vårdenhet", exact=True).fill("")
    vard.get_by_label("Jobbtorg: omfattning i %").fill("120")
    # A diagnosis code starts the DFA part: its rules apply, and the code's kapitel is shown.
    vard.get_by_label("Huvuddiagnos, kod (ICD-10-SE)").fill("f32.1")
    vard.get_by_role("button", name=re.compile("Skicka svaret")).click()
    errors = vard.get_by_role("alert").inner_text()
    assert "Det finns fel i formuläret" in errors and vard.title().startswith("Fel:"), errors
    assert "Huvuddiagnos, text: skriv diagnosens text till koden." in errors, errors
    assert "Kapitel V: Psykiska sjukdomar" in vard.locator("main").inner_text()
    assert_accessible(vard)  # the doctor's form with errors shown
    vard.get_by_label("Huvuddiagnos, kod (ICD-10-SE)").fill("")  # answered without the DFA part
    vard.get_by_label("Läkare", exact=True).fill("Åsa Läkarsson")
    vard.get_by_label("Vårdenhet", exact=True).fill(PARTIES["vard"][6])
    vard.get_by_label("Jobbtorg: kan delta").check()
    vard.get_by_label("Jobbtorg: omfattning i %").fill("50")
    vard.get_by_role("button", name=re.compile("Skicka svaret")).click()
    vard.wait_for_url(f"{base}/inkommande/{forfragan_ov}")
    assert "är skickat till " + label("soc") in vard.get_by_role("status").first.inner_text()
    assert "Ert svar" in vard.locator("main").inner_text()
    assert_accessible(vard)  # the answered item

    soc.reload()
    assert sent_status(soc, "vard", forfragan_nr) == "Besvarad"
    assert document_status(soc, forfragan) == "besvarad"
    assert soc.locator("#samverkan").get_by_role("link", name="Läkarens svar").count() == 1
    seen = soc.locator("#samverkan").inner_text()
    assert "Vem har sett vad" in seen and "Åsa Läkarsson" in seen, seen

    # ---- 2. the Finsamteam anmälan: the sekretessmedgivande does not cover it; the Finsamteam samtycke does
    place(client, pid, "soc1.13")
    fill_blankett(client, pid, "finsamteam_anmalan", catalogue)
    anmalan = doc_id_of(client, pid, catalogue.blanketter["finsamteam_anmalan"].title)
    open_send_page(soc, base, pid, anmalan)
    choose_recipients(soc, ["finsam"])
    alert = soc.get_by_role("alert").inner_text()
    assert "inget gällande samtycke omfattar" in alert and "Försäkringskassan" in alert, alert
    assert_accessible(soc)
    record_consent(soc, base, pid, "finsamteam_samtycke", ["af", "fk", "jobbtorg", "socialtjanst", "vard"])
    open_send_page(soc, base, pid, anmalan)
    choose_recipients(soc, ["finsam"])
    expect_sent(soc, pid)
    anmalan_nr = document_number(soc, anmalan)
    assert sent_status(soc, "finsam", anmalan_nr) == "Väntar på mottagaren"
    assert document_status(soc, anmalan) == "skickad"

    anmalan_ov = open_incoming(koord, base, INDIVIDEN["namn"], catalogue.blanketter["finsamteam_anmalan"].title)
    take_in(koord)
    soc.reload()
    assert sent_status(soc, "finsam", anmalan_nr) == "Mottagen"
    assert document_status(soc, anmalan) == "mottagen"
    koord.get_by_role("link", name="Finsamteamets beslut").click()
    koord.wait_for_url(f"{base}/inkommande/{anmalan_ov}/svara")
    assert_accessible(koord)
    koord.get_by_role("button", name="Skicka svaret").click()  # nothing chosen
    assert "Välj ett svar" in koord.get_by_role("alert").inner_text()
    assert_accessible(koord)  # the generic answer form with errors shown
    koord.get_by_label("Ja, individen tas emot och en gemensam plan är upprättad").check()
    koord.get_by_role("button", name="Skicka svaret").click()  # antagen needs the plan
    assert "Fyll i gemensam plan" in koord.get_by_role("alert").inner_text()
    assert_accessible(koord)
    plan = "Mål: arbetsträning 25 % inom tre månader. Vården: fysioterapi. AF: kartläggning. Soc: försörjningsstöd."
    koord.get_by_role("textbox", name="Gemensam plan").fill(plan)
    koord.get_by_role("button", name="Skicka svaret").click()
    koord.wait_for_url(f"{base}/inkommande/{anmalan_ov}")
    assert plan in koord.locator("main").inner_text()
    assert_accessible(koord)

    soc.reload()
    assert sent_status(soc, "finsam", anmalan_nr) == "Besvarad"
    assert document_status(soc, anmalan) == "besvarad"
    assert plan in sent_row(soc, "finsam").inner_text()

    # ---- 3. the SIP-kallelse to vården and Arbetsförmedlingen, and FK's ansökan
    place(client, pid, "soc1.14")
    fill_blankett(client, pid, "sip_kallelse", catalogue)
    fill_blankett(client, pid, "fk_ansokan_samordning", catalogue)
    sip = doc_id_of(client, pid, catalogue.blanketter["sip_kallelse"].title)
    ansokan = doc_id_of(client, pid, catalogue.blanketter["fk_ansokan_samordning"].title)

    open_send_page(soc, base, pid, sip)
    assert_accessible(soc)  # the send page with several recipients (checkboxes)
    choose_recipients(soc, ["vard", "af"])
    expect_sent(soc, pid)
    sip_nr = document_number(soc, sip)
    assert sent_status(soc, "vard", sip_nr) == "Väntar på mottagaren"
    assert sent_status(soc, "af", sip_nr) == "Väntar på mottagaren"
    assert document_status(soc, sip) == "skickad"

    open_send_page(soc, base, pid, ansokan)
    choose_recipients(soc, ["fk"])
    expect_sent(soc, pid)
    ansokan_nr = document_number(soc, ansokan)
    assert sent_status(soc, "fk", ansokan_nr) == "Väntar på mottagaren"

    # Vården answers the kallelse "ja" at once (answering takes it in).
    sip_title = catalogue.blanketter["sip_kallelse"].title
    sip_vard = open_incoming(vard, base, INDIVIDEN["namn"], sip_title)
    vard.get_by_role("link", name="Svar på kallelse till SIP").click()
    vard.wait_for_url(f"{base}/inkommande/{sip_vard}/svara")
    vard.get_by_label("Ja, vi deltar").check()
    vard.get_by_role("button", name="Skicka svaret").click()
    vard.wait_for_url(f"{base}/inkommande/{sip_vard}")
    soc.reload()
    assert sent_status(soc, "vard", sip_nr) == "Besvarad"
    assert sent_status(soc, "af", sip_nr) == "Väntar på mottagaren"
    assert document_status(soc, sip) == "mottagen"  # besvarad only when every invitee has answered

    # Arbetsförmedlingen takes it in, then sends another person.
    open_incoming(af, base, INDIVIDEN["namn"], sip_title)
    take_in(af)
    soc.reload()
    assert sent_status(soc, "af", sip_nr) == "Mottagen"
    af.get_by_role("link", name="Svar på kallelse till SIP").click()
    af.get_by_label("En annan person deltar i stället").check()
    af.get_by_role("button", name="Skicka svaret").click()
    assert "Fyll i vem deltar i stället" in af.get_by_role("alert").inner_text()
    assert_accessible(af)
    af.get_by_label(re.compile("^Vem deltar i stället")).fill("Bo Ersättare, arbetsförmedlare")
    af.get_by_role("button", name="Skicka svaret").click()
    af.wait_for_url(re.compile(r"/inkommande/[^/]+$"))
    soc.reload()
    assert sent_status(soc, "af", sip_nr) == "Besvarad"
    assert "Bo Ersättare" in soc.locator("#samverkan table").first.locator("tbody tr") \
        .filter(has_text=label("af")).filter(has_text=sip_nr).inner_text()
    assert document_status(soc, sip) == "besvarad"

    # Försäkringskassan: the receipt ("Mottagen" on the sender's side), then the decision.
    fk_ov = open_incoming(fk, base, INDIVIDEN["namn"], catalogue.blanketter["fk_ansokan_samordning"].title)
    # (the return page, and its error, looked at on the way – nothing is returned)
    fk.get_by_role("link", name="Returnera till avsändaren").click()
    fk.wait_for_url(f"{base}/inkommande/{fk_ov}/returnera")
    assert_accessible(fk)
    fk.get_by_role("button", name="Returnera").click()
    assert "Skriv varför handlingen returneras" in fk.get_by_role("alert").inner_text()
    assert_accessible(fk)
    fk.get_by_role("link", name="Tillbaka till handlingen").click()
    fk.wait_for_url(f"{base}/inkommande/{fk_ov}")
    take_in(fk)
    soc.reload()
    assert sent_status(soc, "fk", ansokan_nr) == "Mottagen"
    assert document_status(soc, ansokan) == "mottagen"
    fk.get_by_role("link", name="Försäkringskassans beslut").click()
    fk.wait_for_url(f"{base}/inkommande/{fk_ov}/svara")
    assert_accessible(fk)
    fk.get_by_label("Avslag på ansökan").check()
    fk.get_by_label("Beslutsdatum").fill("2026-13-45")
    fk.get_by_role("button", name="Skicka svaret").click()
    errors = fk.get_by_role("alert").inner_text()
    assert "kommentar" in errors.lower() and "Beslutsdatum" in errors, errors
    assert_accessible(fk)  # with a date error and a missing comment
    fk.get_by_label("Rätt till samordning av rehabiliteringsinsatser").check()
    fk.get_by_label("Beslutsdatum").fill(tid.today().isoformat())
    fk.get_by_role("button", name="Skicka svaret").click()
    fk.wait_for_url(f"{base}/inkommande/{fk_ov}")
    soc.reload()
    assert sent_status(soc, "fk", ansokan_nr) == "Besvarad"
    assert document_status(soc, ansokan) == "besvarad"

    # ---- 4. every party's ruta on every party's map
    everyone = list(PARTIES)
    soc.goto(f"{base}/arenden/{pid}")
    assert_every_party_on_map(soc, everyone)
    assert_accessible(soc)  # the ärende page with the Samverkan section and the map, all answered
    soc.screenshot(path=SCREENSHOTS.format("arende-avsandare"), full_page=True)
    for pg, ov in ((vard, forfragan_ov), (koord, anmalan_ov), (fk, fk_ov)):
        pg.goto(f"{base}/inkommande/{ov}")
        assert_every_party_on_map(pg, everyone)
        assert_accessible(pg)
    fk.screenshot(path=SCREENSHOTS.format("inkommande-fk"), full_page=True)
    vard.goto(f"{base}/inkommande/{sip_vard}")
    assert_every_party_on_map(vard, everyone)
    vard.screenshot(path=SCREENSHOTS.format("inkommande-vard-sip"), full_page=True)
    # Each recipient's own ärende for the individ shows the same map.
    for pg in (vard, koord, fk, af):
        pg.goto(f"{base}/inkommande?visa=alla")
        assert_accessible(pg)
        pg.locator("tbody tr").first.get_by_role("link").click()
        pg.get_by_role("link", name="Öppna ert ärende för individen").click()
        pg.wait_for_url(re.compile(r"/arenden/[^/#]+$"))
        assert_every_party_on_map(pg, everyone)
        assert_accessible(pg)
    koord.screenshot(path=SCREENSHOTS.format("arende-finsam"), full_page=True)

    # ---- 5. the address book
    for pg in (soc, koord):
        pg.goto(f"{base}/adressbok")
        book = pg.locator("main").inner_text()
        for party in everyone:
            assert PARTIES[party][6] in book, book
        assert_accessible(pg)

    # ---- 6. the sender reads each answer as the recipient gave it (the labels, not the stored codes)
    soc.goto(f"{base}/arenden/{pid}")
    fk_answer = sent_row(soc, "fk").locator("td").nth(4).inner_text()
    assert "Rätt till samordning av rehabiliteringsinsatser" in fk_answer, fk_answer
    finsam_answer = sent_row(soc, "finsam").locator("td").nth(4).inner_text()
    assert "Ja, individen tas emot" in finsam_answer and plan in finsam_answer, finsam_answer
    sip_rows = soc.locator("#samverkan table").first.locator("tbody tr").filter(has_text=sip_nr)
    vard_answer = sip_rows.filter(has_text=label("vard")).locator("td").nth(4).inner_text()
    assert "Ja, vi deltar" in vard_answer, vard_answer
    af_answer = sip_rows.filter(has_text=label("af")).locator("td").nth(4).inner_text()
    assert "En annan person deltar i stället" in af_answer and "Bo Ersättare" in af_answer, af_answer
