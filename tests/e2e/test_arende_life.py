"""An ärende's life in the browser: an honest end state, closing, the read-only closed ärende,
reopening; a consent recorded, listed on the start page as running out, revoked; an admin's
registerutdrag page. axe on every new page and state (0 violations)."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from formservice import tid
from formservice.arenden.consents import add_months

from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e


def new_arende(page, live_server, namn, ruta_id):
    """A new ärende placed at a ruta of Soc 1 through "Var står ärendet?"."""
    page.goto(f"{live_server}/arenden/nytt")
    page.get_by_label("Namn", exact=True).fill(namn)
    page.get_by_label("Personnummer eller samordningsnummer").fill("20000101-0008")
    page.get_by_role("button", name="Skapa ärendet").click()
    if page.get_by_role("button", name="Skapa ändå ett nytt ärende").count():
        page.get_by_role("button", name="Skapa ändå ett nytt ärende").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Översikt")
    page.get_by_role("link", name="Ärendet står någon annanstans – ändra").click()
    page.locator(f'[id="r-{ruta_id}"]').check()
    page.get_by_role("button", name="Spara och gå till steget").click()
    page.get_by_role("link", name="Översikt").click()


def test_close_from_an_honest_end_state_and_reopen(page, live_server):
    login(page, live_server)
    new_arende(page, live_server, "Stina Sluttest", "soc1.16")
    page.get_by_role("link", name="Fortsätt i processen").click()
    page.get_by_label("Inget behov just nu", exact=False).check()
    page.get_by_role("button", name="Spara beslutet och gå vidare").click()
    expect(page.get_by_role("heading", name="Processen är slut här")).to_be_visible()
    expect(page.get_by_label("Slutläge: Inget behov av samordnad rehabilitering just nu")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.get_by_role("heading", name="Ärendet är avslutat")).to_be_visible()
    expect(page.get_by_text("Inget behov av samordnad rehabilitering just nu").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Öppna ärendet igen").click()  # no reason: refused, said at the field
    field = page.get_by_label("Skäl att öppna ärendet igen")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    field.fill("Hälsan har förbättrats")
    page.get_by_role("button", name="Öppna ärendet igen").click()
    expect(page.get_by_role("link", name="Avsluta ärendet")).to_be_visible()

    # Reopened, it still stands in the end state; the caseworker moves it back into the process.
    page.get_by_role("link", name="Ärendet står någon annanstans – ändra").click()
    page.locator('[id="r-soc1.3"]').check()
    page.get_by_role("button", name="Spara och gå till steget").click()
    page.get_by_role("link", name="Översikt").click()
    page.get_by_role("link", name="Avsluta ärendet").click()  # closing anywhere: a general reason
    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.get_by_role("alert")).to_contain_text("Välj varför ärendet avslutas.")
    assert_accessible(page)
    page.get_by_label("Individen har flyttat från kommunen").check()
    page.get_by_role("button", name="Avsluta ärendet").click()
    page.goto(f"{live_server}/arenden?status=avslutat")
    expect(page.get_by_role("table")).to_contain_text("Stina Sluttest")
    assert_accessible(page)


def test_a_consent_is_recorded_listed_as_running_out_and_revoked(page, live_server):
    login(page, live_server)
    new_arende(page, live_server, "Sam Samtyckesson", "soc1.9")
    page.get_by_role("link", name="utan dokument").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrera samtycke")
    expect(page.get_by_text("Sekretessmedgivande").first).to_be_visible()  # the kind Soc 1 sends out
    assert_accessible(page)
    page.get_by_label("Hälso- och sjukvården").uncheck()
    page.get_by_label("Socialtjänsten", exact=True).uncheck()
    page.get_by_role("button", name="Registrera samtycket").click()
    expect(page.get_by_role("alert")).to_contain_text("Kryssa för minst en part")
    expect(page.get_by_role("alert")).to_contain_text("Skriv datumet för underskriften")
    assert_accessible(page)
    page.get_by_label("Socialtjänsten", exact=True).check()
    page.get_by_label("Hälso- och sjukvården").check()
    page.get_by_label("Samtycket lämnades av").fill("Sam Samtyckesson")
    signed = add_months(tid.today(), -12) + timedelta(days=10)
    page.get_by_label("Datum för underskriften").fill(signed.isoformat())
    page.get_by_role("button", name="Registrera samtycket").click()
    expect(page.locator("#samtycken")).to_contain_text("Aktivt")

    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Samtycken som löper ut inom 30 dagar")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sam Samtyckesson").first.click()
    page.get_by_role("link", name="Registrera återkallelse").click()
    assert_accessible(page)
    page.get_by_role("button", name="Registrera återkallelsen").click()
    expect(page.locator("#samtycken")).to_contain_text("Återkallat")
    assert_accessible(page)


def test_registerutdrag_page(page, live_server, live_app):
    """The extract is a background job: the page says "Tas fram…", its script notices when the job
    worker is done and offers the download, without a reload; axe on each state."""
    from formservice import jobs

    from ..conftest import outside_event_loop

    jobs.migrate(live_app)
    outside_event_loop(jobs.start_worker, live_app)
    try:
        _registerutdrag(page, live_server)
    finally:
        outside_event_loop(jobs.stop_worker)


def _registerutdrag(page, live_server):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/admin")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Registerutdrag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registerutdrag")
    assert_accessible(page)
    page.get_by_label("Personnummer eller samordningsnummer").fill("19121212-1213")
    page.get_by_role("button", name="Ta fram som PDF").click()
    expect(page.get_by_role("alert")).to_contain_text("Personnummer")
    assert_accessible(page)
    page.get_by_label("Personnummer eller samordningsnummer").fill("19121212-1212")
    page.get_by_role("button", name="Ta fram som JSON").click()
    assert "19121212" not in page.url and "/jobb/" in page.url
    status = page.get_by_role("status")
    expect(status).to_contain_text("Klar – hämta", timeout=60_000)  # the page's script, no reload
    assert_accessible(page)
    with page.expect_download() as download:
        status.get_by_role("link", name="Hämta registerutdraget").click()
    assert download.value.suggested_filename.startswith("registerutdrag-")
