"""The SUS questions and the SUS-underlag in the browser: a Finsam ärende's closing form asks the
after-values, the underlag page of a participant without SUS samtycke is anonymous; axe on each
(0 violations)."""
import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_a_finsam_participants_closing_asks_sus_and_the_underlag_is_anonymous_without_samtycke(page, live_server):
    login(page, live_server)
    page.goto(f"{live_server}/arenden/nytt")
    page.get_by_label("Namn", exact=True).fill("Sune Susson")
    page.get_by_label("Personnummer eller samordningsnummer").fill("20000101-0008")
    page.get_by_role("button", name="Skapa ärendet").click()
    if page.get_by_role("button", name="Skapa ändå ett nytt ärende").count():
        page.get_by_role("button", name="Skapa ändå ett nytt ärende").click()
    overview = page.url
    page.goto(f"{overview}/var?bana=finsamteam")  # the ärende is with the Finsamteam
    page.locator('[id="r-finsamteam.3"]').check()
    page.get_by_role("button", name="Spara och gå till steget").click()
    page.goto(overview)
    page.get_by_role("link", name="SUS-underlag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SUS-underlag – anonym deltagare")
    expect(page.locator("main")).not_to_contain_text("Sune Susson")
    expect(page.locator("main")).not_to_contain_text("20000101")
    assert_accessible(page)

    page.goto(overview)
    page.get_by_role("link", name="Avsluta ärendet").click()
    questions = page.get_by_role("group", name="Uppgifter för uppföljningen i SUS (frivilligt)")
    expect(questions).to_be_visible()
    assert_accessible(page)
