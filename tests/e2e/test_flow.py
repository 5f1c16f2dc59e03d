"""The flow in the real browser, with axe-core on every changed page: ruta 10 and 11 around the
doctor's answer, the page after producing the förfrågan, the warning for a second ärende, a text
over a field's limit, and the ärende's pages at 320 px and at 200 % zoom (WCAG 1.4.10)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import AuthActions
from ..data import returned_pdfs as corpus
from ..test_doctor_answers import confirm, upload
from ..wizard_driver import INDIVID, create_arende, fill_blankett, step
from .conftest import DEMO_PASSWORD, assert_accessible, login
from .test_journey import luhn_digit

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("FORMSERVICE_KEEP_ARTIFACTS")  # a folder: screenshots to look at by eye
DORA_PNR = "19400404-998" + luhn_digit("400404998")  # fictitious: born 1940-04-04, check digit computed


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"flow-{name}.png"), full_page=True)


def check(page, name: str) -> None:
    shot(page, name)
    assert_accessible(page)


@pytest.fixture(scope="module")
def forfragan(live_app):
    """An ärende at ruta 10 with a produced rehabiliteringsförfrågan: (public id, document id, fillable)."""
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn="Flora Flödesprov", personnummer="19000101-0008"),
                        ruta="soc1.9")
    result = fill_blankett(client, pid, "rehabiliteringsforfragan", live_app.extensions["catalogue"])
    doc_id = result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]
    step(client, pid, "soc1.10")
    fillable = client.get(f"/arenden/{pid}/dokument/{doc_id}.ifyllbar").data
    return client, pid, doc_id, fillable


def test_done_page_and_ruta_10_offer_the_fillable_pdf_and_the_answer(page, live_server, forfragan):
    _client, pid, doc_id, _ = forfragan
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/klar/{doc_id}")
    expect(page.get_by_role("link", name="Ifyllbar PDF för läkaren")).to_have_attribute(
        "href", f"/arenden/{pid}/dokument/{doc_id}.ifyllbar")
    check(page, "klar")

    page.goto(f"{live_server}/arenden/{pid}/steg")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ruta 10: Komplettering")
    expect(page.get_by_role("link", name=re.compile("Ifyllbar PDF för läkaren"))).to_be_visible()
    check(page, "ruta-10")
    page.get_by_role("link", name=re.compile("Registrera läkarens svar")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Läkarens svar")


def test_ruta_11_shows_the_confirmed_answers(page, live_server, live_app):
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn="Elis Elvaprov", personnummer="19000101-0016"), ruta="soc1.9")
    result = fill_blankett(client, pid, "rehabiliteringsforfragan", live_app.extensions["catalogue"])
    doc_id = result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]
    step(client, pid, "soc1.10")
    filled = corpus.fill_with_pypdf(client.get(f"/arenden/{pid}/dokument/{doc_id}.ifyllbar").data,
                                    corpus.DOCTOR_VALUES)
    confirm(client, upload(client, pid, doc_id, filled).headers["Location"])

    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/steg")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ruta 11")
    answers = page.get_by_role("region", name="Läkarens svar")
    expect(answers).to_contain_text("kan personen delta i Jobbtorg på 50 %")
    check(page, "ruta-11")


def test_a_second_arende_for_the_same_personnummer_is_warned_about(page, live_server, live_app):
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    first = create_arende(client, dict(INDIVID, namn="Dora Dubblett", personnummer=DORA_PNR))
    login(page, live_server)
    page.goto(f"{live_server}/arenden/nytt")
    page.get_by_label("Namn", exact=True).fill("Dora Andra Gången")
    page.get_by_label("Personnummer eller samordningsnummer").fill(DORA_PNR.replace("-", ""))
    page.get_by_role("button", name="Skapa ärendet").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text(f"Det finns redan ett öppet ärende för {DORA_PNR} i din enhet")
    expect(warning).to_be_focused()
    expect(page.get_by_label("Namn", exact=True)).to_have_value("Dora Andra Gången")  # nothing typed is lost
    expect(page.get_by_role("button", name="Skapa ändå ett nytt ärende")).to_be_visible()
    check(page, "dubblett")
    warning.get_by_role("link", name="Ärendet för Dora Dubblett").click()
    expect(page).to_have_url(f"{live_server}/arenden/{first}")


def test_a_pasted_text_over_the_limit_is_kept_and_explained(page, live_server, forfragan, live_app):
    from formservice.blanketter import wizard
    from formservice.rendering import documents

    _client, pid, _doc, _ = forfragan
    catalogue = live_app.extensions["catalogue"]
    pages = wizard.pages(documents.parts_of(catalogue, "finsamteam_anmalan"))
    number, field = next((p.number, f) for p in pages for f in p.fields
                         if f.type == "text" and f.max_length == 200 and not f.prefill)
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/finsamteam_anmalan/sida/{number}")
    box = page.locator(f'[name="{field.name}"]')
    assert box.get_attribute("maxlength") is None
    long_text = "Kontaktperson med ett mycket långt namn " * 6  # 240 characters, as if pasted
    box.fill(long_text)
    assert box.input_value() == long_text  # the browser cuts nothing
    page.get_by_role("button", name="Spara och fortsätt").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(f"får vara högst 200 tecken, men texten har {len(long_text.strip())}")
    expect(summary).to_be_focused()
    expect(page.locator(f'[name="{field.name}"]')).to_have_value(long_text)  # kept exactly as typed
    check(page, "for-lang-text")


@pytest.mark.parametrize("width, height, scale, name", [(320, 800, 1, "320px"), (640, 450, 2, "zoom-200")])
def test_nothing_scrolls_the_page_sideways_on_narrow_screens(browser, live_server, forfragan, width, height,
                                                             scale, name):
    _client, pid, _doc, _ = forfragan
    # 200 % zoom of a 1280 px window lays the page out as a 640 px one.
    context = browser.new_context(bypass_csp=True, locale="sv-SE", viewport={"width": width, "height": height},
                                  device_scale_factor=scale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, live_server)
        for path, label in ((f"/arenden/{pid}", "oversikt"), (f"/arenden/{pid}/steg", "steg"),
                            (f"/arenden/{pid}/blankett/finsamteam_anmalan/sida/3", "guide"),
                            (f"/arenden/{pid}/blankett/finsamteam_anmalan/granska", "granska")):
            page.goto(live_server + path)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{path} at {name}: the page is {widths[0]} px wide"
            check(page, f"{name}-{label}")
    finally:
        context.close()
