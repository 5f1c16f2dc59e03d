"""The gallring page in the browser: the rules, a refused period with its message next to the
field, saving, a gallringsstopp set and lifted; axe on every state (0 violations)."""
import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e


def test_admin_manages_gallring(page, live_server):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/admin")
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Gallring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gallring")
    expect(page.get_by_role("region", name="Gallringsregler")).to_contain_text("socialtjänstlagen (2025:400)")
    assert_accessible(page)

    field = page.get_by_label("Avslutade ärenden med dokument, svar, samtycken och historik (år)")
    field.fill("3")
    page.get_by_role("button", name="Spara gallringsreglerna").click()
    expect(page.get_by_role("alert")).to_contain_text("minst 5 år")
    expect(field).to_have_value("3")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    field.fill("6")
    page.get_by_label("Bevara personer födda dessa dagar i månaden").fill("5, 15, 25")
    page.get_by_role("button", name="Spara gallringsreglerna").click()
    expect(page.get_by_role("status")).to_contain_text("Gallringsreglerna är sparade")
    expect(field).to_have_value("6")

    page.get_by_role("link", name="Ärenden").first.click()
    page.locator("a[href^='/arenden/']").filter(has_text="Tolvan").first.click()
    page.get_by_label("Skäl till gallringsstopp").fill("Begäran om utlämnande")
    page.get_by_role("button", name="Sätt gallringsstopp").click()
    expect(page.get_by_role("status")).to_contain_text("Ärendet har gallringsstopp")
    assert_accessible(page)
    page.goto(f"{live_server}/admin/gallring")
    expect(page.get_by_role("region", name="Ärenden med gallringsstopp")).to_contain_text("Begäran om utlämnande")
    assert_accessible(page)
    page.get_by_role("button", name="Häv gallringsstoppet för ärende").click()
    expect(page.get_by_text("Inga ärenden har gallringsstopp.")).to_be_visible()
