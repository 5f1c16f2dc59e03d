"""The uppföljare's page in the browser: charts and tables, accessible, no ärende data."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from formservice import tid

from .conftest import DEMO_PASSWORD, assert_accessible

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def generated(live_app):
    from formservice import db
    from formservice.accounts.models import Enhet
    from formservice.arenden import demo
    from formservice.uppfoljning import exempeldata

    with live_app.app_context():
        enhet = db.session().scalar(select(Enhet).where(Enhet.namn == demo.DEMO_ENHETER[demo.EXAMPLE_ENHET][1]))
        exempeldata.generate(live_app.extensions["catalogue"].process_map, [enhet.id], 600, today=tid.today(),
                             documents=True)


def test_the_uppfoljare_sees_charts_and_tables_and_nothing_personal(page, live_server, generated):
    page.goto(live_server + "/logga-in")
    page.get_by_label("Användarnamn").fill("uppf.demo")
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(live_server + "/uppfoljning")  # an uppföljare starts on the follow-up
    assert page.get_by_role("heading", level=1).inner_text() == "Uppföljning"
    assert page.get_by_role("img", name="Diagram: Öppna ärenden per processbana").count() == 1
    assert page.locator("#t-oppna-per-bana tbody tr").count() == 8
    assert page.get_by_role("link", name="Ärenden", exact=True).count() == 0  # no ärenden for an uppföljare
    assert "Exempel Exempelsson" not in page.content() and "191212" not in page.content()
    # Every count rounded to a multiple of five and said so; no false "färre än 5" (issue 24).
    assert "avrundade till jämna femtal" in page.locator("#om-talen").inner_text()
    assert "färre än" not in page.content()
    counts = page.locator("table.tabell:not(#t-tid-per-ruta):not(#t-ledtider) td.tal, "
                          "#t-tid-per-ruta td:nth-child(2), #t-ledtider td:nth-child(2)")  # not the medians
    for text in counts.all_inner_texts():
        value = text.replace("\u00a0", "").replace(" ", "")
        assert not value.isdigit() or int(value) % 5 == 0, text
    # SUS before and after for the Finsam participants (issue 24), as a table with its caption.
    assert page.get_by_role("heading", name="Försörjning före och efter (SUS)").count() == 1
    assert page.locator("#t-sus-forsorjning thead th").all_inner_texts() == ["Försörjning", "Vid anmälan", "Vid avslut"]
    assert_accessible(page)
    page.get_by_label("Kön").select_option("K")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_url("**/uppfoljning?*kon=K*")
    page.wait_for_load_state("load")  # the URL changes before the new page's content is there
    expect(page.locator("main")).to_contain_text("kvinnor")
    assert_accessible(page)
