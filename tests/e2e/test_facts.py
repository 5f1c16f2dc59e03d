"""In the browser, with axe-core: Granska says where each value came from, and discarding a draft asks
first (WCAG 3.3.4) without any script."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..conftest import AuthActions
from ..wizard_driver import INDIVID, create_arende, fill_blankett
from .conftest import DEMO_PASSWORD, assert_accessible, login
from .test_journey import luhn_digit

pytestmark = pytest.mark.e2e
FANNY_PNR = "19500505-123" + luhn_digit("500505123")  # fictitious, used by no other test here


def test_granska_shows_origins_and_discarding_asks_first(page, live_server, live_app):
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn="Fanny Faktaprov", personnummer=FANNY_PNR), ruta="soc1.4")
    fill_blankett(client, pid, "forandringsplan", live_app.extensions["catalogue"])

    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/granska")
    expect(page.get_by_text("Från uppgifterna om individen.").first).to_be_visible()
    expect(page.get_by_text("Dagens datum.").first).to_be_visible()
    # Only looked at: there is no draft, so nothing to throw away.
    expect(page.get_by_role("link", name="Släng utkastet och börja om")).to_have_count(0)
    assert "Påbörjade blanketter" not in client.get(f"/arenden/{pid}").get_data(as_text=True)
    # Saving a page starts the draft.
    page.get_by_role("link", name="Ändra behandlande läkare").first.click()
    page.get_by_label("Behandlande läkare").fill("Doktor Prov")
    page.get_by_role("button", name="Spara och granska").click()
    expect(page.get_by_text("Ifyllt i den här blanketten.").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Släng utkastet och börja om").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vill du slänga utkastet?")
    assert_accessible(page)
    page.get_by_role("link", name="Nej, tillbaka till granskningen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Granska innan dokumentet tas fram")

    page.get_by_role("link", name="Släng utkastet och börja om").click()
    page.get_by_role("button", name="Ja, släng utkastet").click()
    expect(page.get_by_text("Utkastet är borttaget.")).to_be_visible()
    assert "Påbörjade blanketter" not in client.get(f"/arenden/{pid}").get_data(as_text=True)
