"""An administrator sets up an enhet and a user in the browser; the user's first login with the
temporary password; axe on every administration page."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("FORMSERVICE_KEEP_ARTIFACTS")


def check(page, name: str) -> None:
    assert_accessible(page)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"admin-{name}.png"), full_page=True)


def test_admin_sets_up_an_enhet_and_a_user(page, live_server, browser):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    check(page, "1-oversikt")

    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Enheter").click()
    check(page, "2-enheter")
    page.get_by_role("link", name="Ny enhet").click()
    page.get_by_role("button", name="Skapa enheten").click()
    expect(page.get_by_role("alert")).to_contain_text("Skriv enhetens namn.")
    check(page, "3-enhet-fel")
    page.get_by_label("Enhetens namn", exact=True).fill("Hägersten – Ekonomiskt bistånd")
    page.get_by_label("Sorts enhet", exact=True).select_option("socialtjanst")
    page.get_by_label("Utdelningsadress", exact=True).fill("Demogatan 5")
    page.get_by_label("Postnummer", exact=True).fill("12653")
    page.get_by_label("Ort", exact=True).fill("Hägersten")
    page.get_by_role("button", name="Skapa enheten").click()
    expect(page.get_by_role("table")).to_contain_text("Hägersten – Ekonomiskt bistånd")
    expect(page.get_by_role("table")).to_contain_text("126 53 Hägersten")

    admin_nav.get_by_role("link", name="Användare").click()
    check(page, "4-anvandare")
    page.get_by_role("link", name="Ny användare").click()
    page.get_by_label("Användarnamn", exact=True).fill("hanna.demo")
    page.get_by_label("Namn", exact=True).fill("Hanna Handläggare")
    page.get_by_label("Roll", exact=True).select_option("socialsekreterare")
    page.get_by_label("Enhet", exact=True).select_option(label="Hägersten – Ekonomiskt bistånd")
    page.get_by_label("Titel", exact=True).fill("Socialsekreterare")
    page.get_by_label("Telefon", exact=True).fill("08-000 00 09")
    check(page, "5-ny-anvandare")
    page.get_by_role("button", name="Skapa användaren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hanna Handläggare är skapad")
    temporary = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", temporary)
    check(page, "6-tillfalligt-losenord")

    admin_nav.get_by_role("link", name="Organisation och texter").click()
    page.get_by_role("link", name="Ändra texterna").click()
    page.get_by_label("Lagrum för SIP").fill("16 kap. 4 § hälso- och sjukvårdslagen (2017:30)")
    page.get_by_role("button", name="Förhandsgranska").click()
    expect(page.get_by_role("status").first).to_contain_text("inte sparade")
    check(page, "7-texter-forhandsgranskning")
    admin_nav.get_by_role("link", name="API-nycklar").click()
    check(page, "8-api-nycklar")
    admin_nav.get_by_role("link", name="Språk", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Språk")
    check(page, "9-sprak")
    page.get_by_role("link", name="Arabiska", exact=True).click()
    check(page, "10-sprak-arabiska")
    page.get_by_role("button", name="Markera som granskat").click()
    expect(page.locator(".error-summary")).to_contain_text("Skriv vem som granskade")
    check(page, "11-sprak-fel")
    admin_nav.get_by_role("link", name="Granskningslogg").click()
    expect(page.get_by_role("table")).to_contain_text("Användare skapad")

    # Hanna's first login: the temporary password leads straight to a new one.
    context = browser.new_context(bypass_csp=True, locale="sv-SE")
    hanna = context.new_page()
    hanna.goto(live_server + "/logga-in")
    hanna.get_by_label("Användarnamn", exact=True).fill("hanna.demo")
    hanna.get_by_label("Lösenord").fill(temporary)
    hanna.get_by_role("button", name="Logga in").click()
    expect(hanna.get_by_role("heading", level=1)).to_have_text("Byt lösenord")
    hanna.get_by_label("Nuvarande lösenord").fill(temporary)
    hanna.get_by_label("Nytt lösenord").fill("hannas-eget-lösenord")
    hanna.get_by_label("Upprepa det nya lösenordet").fill("hannas-eget-lösenord")
    hanna.get_by_role("button", name="Spara nytt lösenord").click()
    expect(hanna.get_by_role("heading", level=1)).to_have_text("Välkommen, Hanna Handläggare")
    expect(hanna.get_by_role("main")).to_contain_text("Hägersten – Ekonomiskt bistånd, Demogatan 5, 126 53 Hägersten")
    context.close()
