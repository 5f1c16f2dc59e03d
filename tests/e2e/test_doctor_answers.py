"""In the browser: upload the doctor's filled PDF, confirm, and see the answers in the ärende."""
import os
import re

import pytest

from ..conftest import AuthActions
from ..data import returned_pdfs as corpus
from ..wizard_driver import INDIVID, create_arende, fill_blankett, step
from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e


def test_upload_a_filled_pdf_and_confirm(page, live_app, live_server, tmp_path):
    # Prepare an ärende with a produced förfrågan quickly through the test client.
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn="Ulla Uppladdning"), ruta="soc1.9")
    fill_blankett(client, pid, "rehabiliteringsforfragan", live_app.extensions["catalogue"])
    step(client, pid, "soc1.10")
    html = client.get(f"/arenden/{pid}").get_data(as_text=True)
    fillable = client.get(re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)).data
    filled = tmp_path / "svar-fran-lakaren.pdf"
    filled.write_bytes(corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))

    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}")
    page.get_by_role("link", name=re.compile("Registrera läkarens svar")).click()
    assert_accessible(page)
    page.get_by_role("button", name="Läs in svaren").click()  # no file chosen
    assert "Välj PDF-filen" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("PDF-fil från läkaren").set_input_files(str(filled))
    page.get_by_role("button", name="Läs in svaren").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Granska läkarens svar"
    assert page.get_by_label("Jobbtorg: omfattning i %").input_value() == "50"
    assert_accessible(page)
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the page by eye
        page.screenshot(path=os.path.join(os.environ["FORMSERVICE_KEEP_ARTIFACTS"], "svar-granska.png"),
                        full_page=True)
    page.get_by_role("button", name="Bekräfta och spara svaren").click()
    assert "Läkarens svar på" in page.get_by_role("status").first.inner_text()
    section = page.locator("#lakarsvar")
    assert "50 %" in section.inner_text() and "Korta pass med pauser" in section.inner_text()
    assert "Ruta 11" in page.locator(".arende-header__where").inner_text()
    assert_accessible(page)
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):
        page.screenshot(path=os.path.join(os.environ["FORMSERVICE_KEEP_ARTIFACTS"], "svar-arende.png"),
                        full_page=True)
