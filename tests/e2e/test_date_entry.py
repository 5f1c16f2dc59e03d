"""Dates typed with the keyboard alone in an English-locale Chromium (issue 25): a native date input
showed mm/dd/yyyy there and turned the ÅÅÅÅ-MM-DD the page asks for into year 61215, so a keyboard
user looped on the same error. Every date field of every blankett, the samtycke forms and the
closing form take the date as the hint says, on the first submit, and store it as ISO."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from formservice.arenden.operations import local_today
from formservice.blanketter import wizard

from ..conftest import AuthActions
from ..wizard_driver import INDIVID, create_arende
from .conftest import DEMO_PASSWORD, assert_accessible, open_page

pytestmark = pytest.mark.e2e

HINT = "Skriv datumet som ÅÅÅÅ-MM-DD"


@pytest.fixture
def en_page(browser):
    """A page in a browser set to US English: where the native date input showed mm/dd/yyyy."""
    context, pg = open_page(browser, "en-US")
    yield pg
    context.close()


@pytest.fixture
def make_arende(live_app):
    """Factory: a new ärende of soc.demo's at a ruta, made through the test client (quick); its public id."""
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)

    def make(namn: str, personnummer: str, ruta: str = "soc1.9") -> str:
        return create_arende(client, dict(INDIVID, namn=namn, personnummer=personnummer), ruta=ruta)
    return make


def tab_to(page, target, limit: int = 250) -> None:
    """Press Tab until `target` has focus: the control is reached the way a keyboard user reaches it."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def type_into(page, field, text: str) -> None:
    """Tab to the field, replace what is there, and type `text` key by key."""
    tab_to(page, field)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    page.keyboard.type(text)


def press_button(page, name: str) -> None:
    tab_to(page, page.get_by_role("button", name=name, exact=True))
    with page.expect_navigation():  # the form posts; wait for its answer before looking
        page.keyboard.press("Enter")


def keyboard_login(page, base_url: str) -> None:
    page.goto(base_url + "/logga-in")
    type_into(page, page.get_by_label("Användarnamn"), "soc.demo")
    type_into(page, page.get_by_label("Lösenord"), DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base_url + "/")


def expect_date_field(field) -> None:
    """A plain text field whose format hint is read with it (shown before any error). No numeric
    keyboard: a phone's keypad has no "-" and the hint asks for one."""
    expect(field).to_have_attribute("type", "text")
    expect(field).not_to_have_attribute("inputmode", "numeric")
    expect(field).to_have_accessible_description(re.compile("ÅÅÅÅ-MM-DD"))


def date_pages(catalogue):
    """(blankett id, page number, date field names) for every wizard page that asks for a date."""
    for blankett in (catalogue.blanketter[b] for b in catalogue.main_blanketter):  # bilagor come with theirs
        parts = [blankett] + [catalogue.blanketter[a] for a in blankett.attachments]
        for pg in wizard.pages(parts):
            names = [f.name for f in pg.fields if f.type == "date"]
            if names:
                yield blankett.id, pg.number, names


def test_every_blankett_date_is_taken_as_typed_on_the_first_submit(en_page, live_server, live_app, make_arende):
    page = en_page
    pid = make_arende("Dana Datumprov", "19121212-1212")
    keyboard_login(page, live_server)
    pages = list(date_pages(live_app.extensions["catalogue"]))
    assert pages, "no blankett asks for a date: the test would prove nothing"
    for blankett_id, number, names in pages:
        url = f"{live_server}/arenden/{pid}/blankett/{blankett_id}/sida/{number}"
        page.goto(url)
        for name in names:
            field = page.locator(f'[id="f-{name}"]')
            expect_date_field(field)
            type_into(page, field, "2026-12-15")
        press_button(page, "Spara och fortsätt")
        if page.url.endswith(f"/sida/{number}"):  # still here: other fields may be asked for, never the date
            for name in names:
                assert page.locator(f'[id="f-{name}"]').get_attribute("aria-invalid") is None, (blankett_id, name)
        page.goto(url)
        for name in names:
            expect(page.locator(f'[id="f-{name}"]'), f"{blankett_id} {name}").to_have_value("2026-12-15")


def test_a_date_that_does_not_exist_is_a_swedish_error_that_keeps_what_was_typed(en_page, live_server, make_arende):
    page = en_page
    pid = make_arende("Dino Datumfel", "19121212-1212")
    keyboard_login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/sip_kallelse/sida/4")
    field = page.get_by_label("Datum", exact=True)
    expect(page.get_by_text(HINT)).to_be_visible()  # the format is said before anything goes wrong
    type_into(page, field, "2026-13-40")
    press_button(page, "Spara och fortsätt")
    expect(page.get_by_role("alert")).to_contain_text("Datum: månad 13 finns inte")
    expect(field).to_have_value("2026-13-40")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    type_into(page, field, "12/15/2026")  # the US order: refused, with the reason, never guessed
    press_button(page, "Spara och fortsätt")
    expect(page.get_by_role("alert")).to_contain_text("Datum: skriv året först, som ÅÅÅÅ-MM-DD")
    expect(field).to_have_value("12/15/2026")


def test_a_consent_and_its_revocation_take_typed_dates(en_page, live_server, make_arende):
    page = en_page
    pid = make_arende("Sam Datumsamtycke", "19121212-1212")
    today = local_today()
    until = today + timedelta(days=8)
    keyboard_login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/samtycke/nytt")
    signed, last = page.get_by_label("Datum för underskriften"), page.get_by_label("Gäller till och med")
    expect_date_field(signed)
    expect_date_field(last)
    type_into(page, signed, today.isoformat())
    type_into(page, last, until.isoformat())
    press_button(page, "Registrera samtycket")
    expect(page.locator("#samtycken")).to_contain_text(f"{today.isoformat()} – {until.isoformat()}")

    tab_to(page, page.get_by_role("link", name="Registrera återkallelse"))
    page.keyboard.press("Enter")
    field = page.get_by_label("Återkallat från och med")
    expect_date_field(field)
    type_into(page, field, today.strftime("%Y%m%d"))  # without dashes: read all the same, stored as ISO
    press_button(page, "Registrera återkallelsen")
    expect(page.locator("#samtycken")).to_contain_text("Återkallat")


def test_closing_takes_a_typed_date_and_refuses_one_that_does_not_exist(en_page, live_server, make_arende):
    page = en_page
    pid = make_arende("Stig Datumstangning", "19121212-1212", ruta="soc1.3")
    today = local_today().isoformat()
    keyboard_login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/avsluta")
    field = page.get_by_label("Datum då ärendet avslutas")
    expect_date_field(field)
    tab_to(page, page.locator('input[name="reason"]').first)
    page.keyboard.press("Space")
    type_into(page, field, "2026-13-40")
    press_button(page, "Avsluta ärendet")
    expect(page.get_by_role("alert")).to_contain_text("Datum då ärendet avslutas: månad 13 finns inte")
    expect(field).to_have_value("2026-13-40")
    assert_accessible(page)
    type_into(page, field, today)
    press_button(page, "Avsluta ärendet")
    expect(page.get_by_text(f"Avslutat {today}").first).to_be_visible()
