"""In the browser: upload the doctor's filled PDF, confirm, and see the answers in the ärende."""
import os
import re

import pytest

from ..conftest import AuthActions
from ..data import returned_pdfs as corpus
from ..wizard_driver import INDIVID, create_arende, fill_blankett, step
from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e


def _forfragan(live_app, namn: str):
    """An ärende waiting for the doctor's answer, made quickly through the test client:
    (client, ärende id, document id, the fillable förfrågan)."""
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn=namn), ruta="soc1.9")
    fill_blankett(client, pid, "rehabiliteringsforfragan", live_app.extensions["catalogue"])
    step(client, pid, "soc1.10")
    html = client.get(f"/arenden/{pid}").get_data(as_text=True)
    fillable_url = re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)
    return client, pid, fillable_url.rsplit("/", 1)[-1].split(".")[0], client.get(fillable_url).data


def test_upload_a_filled_pdf_and_confirm(page, live_app, live_server, tmp_path):
    _client, pid, _doc_id, fillable = _forfragan(live_app, "Ulla Uppladdning")
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


def test_unreadable_value_and_a_replacing_answer(page, live_app, live_server, tmp_path):
    """ "ca 25" is shown as written with an error; a second answer warns and replaces the first."""
    _client, pid, _doc_id, fillable = _forfragan(live_app, "Rut Robust")
    filled = tmp_path / "svar-ca.pdf"
    filled.write_bytes(corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, aktivitet_jobbtorg_omfattning="ca 25")))

    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}")
    page.get_by_role("link", name=re.compile("Registrera läkarens svar")).click()
    page.get_by_label("PDF-fil från läkaren").set_input_files(str(filled))
    page.get_by_role("button", name="Läs in svaren").click()
    box = page.get_by_label("Jobbtorg: omfattning i %")
    assert box.input_value() == "ca 25"
    assert "läkaren skrev ”ca 25”" in page.locator(".error-summary").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Bekräfta och spara svaren").click()
    assert page.get_by_label("Jobbtorg: omfattning i %").input_value() == "ca 25"  # not lost
    assert_accessible(page)
    page.get_by_label("Jobbtorg: omfattning i %").fill("25")
    page.get_by_role("button", name="Bekräfta och spara svaren").click()
    assert "25 %" in page.locator("#lakarsvar").inner_text()

    # A second answer, from paper: the upload page warns, and confirming replaces the first.
    page.get_by_role("link", name=re.compile("Registrera läkarens svar")).first.click()
    assert "Det finns redan ett bekräftat svar från" in page.get_by_role("note").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Skriv in svaren från pappersblanketten").click()
    assert "ersätter det" in page.get_by_role("note").inner_text()
    page.get_by_label("Sysselsättning: kan delta").check()
    page.get_by_label("För att kunna delta i planerade aktiviteter").fill("Andra svaret")
    assert_accessible(page)
    page.get_by_role("button", name="Bekräfta och spara svaren").click()
    section = page.locator("#lakarsvar").inner_text()
    assert "Andra svaret" in section and "25 %" not in section
    page.get_by_role("link", name=re.compile("Registrera läkarens svar")).first.click()
    assert "– ersatt" in page.get_by_role("region", name="Ersatta svar").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Svaret från")).click()
    assert "Det här svaret har ersatts" in page.get_by_role("note").inner_text()
    assert_accessible(page)


def test_every_problem_on_first_view_and_an_older_answer_asks(page, live_app, live_server, tmp_path):
    """Issue 22: the review shows every problem before "Bekräfta" and each link lands on its field;
    an answer read in before the current one asks which should count (the newer, by default)."""
    client, pid, doc_id, fillable = _forfragan(live_app, "Olga Ordning")
    older = tmp_path / "svar-aldre.pdf"  # "kan inte delta" ticked and motivated, 50 % left in Omfattning
    older.write_bytes(corpus.fill_with_pypdf(fillable, dict(
        corpus.DOCTOR_VALUES, aktivitet_sysselsattning_kan_delta="/Off", aktivitet_sysselsattning_kan_inte_delta="/on",
        aktivitet_sysselsattning_kan_inte="Svår ångest i grupp", aktivitet_sysselsattning_omfattning="50",
        lakare_anpassning="Det äldre svaret")))

    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/dokument/{doc_id}/svar")
    page.get_by_label("PDF-fil från läkaren").set_input_files(str(older))
    page.get_by_role("button", name="Läs in svaren").click()
    summary = page.locator(".error-summary")
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):
        page.screenshot(path=os.path.join(os.environ["FORMSERVICE_KEEP_ARTIFACTS"], "svar-fel.png"), full_page=True)
    assert "Sysselsättning: en omfattning i procent är ifylld men ”Kan delta” är inte ikryssat" in summary.inner_text()
    assert_accessible(page)
    review = page.url
    summary.get_by_role("link", name=re.compile("^Sysselsättning: en omfattning")).click()
    assert page.evaluate("document.activeElement.id") == "f-aktivitet_sysselsattning_kan_delta"

    # Meanwhile a newer answer is read in and confirmed (another tab, another caseworker).
    from ..test_doctor_answers import confirm, upload
    newer = corpus.fill_with_pypdf(fillable, dict(corpus.DOCTOR_VALUES, lakare_anpassning="Det nyare svaret"))
    _page, res = confirm(client, upload(client, pid, doc_id, newer).headers["Location"])
    assert res.status_code == 302

    page.goto(review)
    note = page.get_by_role("note").inner_text()
    assert "Det här svaret är äldre än det gällande svaret" in note and "lästes in 20" in note
    group = page.get_by_role("group", name="Vilket svar ska gälla?")
    assert group.get_by_role("radio", name=re.compile("^Det nyare svaret")).is_checked()
    page.get_by_label("Sysselsättning: omfattning i %").fill("")
    assert_accessible(page)
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the page by eye
        page.screenshot(path=os.path.join(os.environ["FORMSERVICE_KEEP_ARTIFACTS"], "svar-aldre.png"), full_page=True)
    page.get_by_role("button", name="Bekräfta och spara svaren").click()
    assert "sparades som ersatt" in page.get_by_role("status").first.inner_text()
    section = page.locator("#lakarsvar").inner_text()
    assert "Det nyare svaret" in section and "Det äldre svaret" not in section

    # The answered förfrågan is not moved back to "mottagen" without asking.
    page.get_by_label(re.compile("^Status för FS-")).first.select_option("mottagen")
    page.get_by_role("button", name=re.compile("^Ändra")).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ändra status bakåt?"
    assert_accessible(page)
    page.get_by_role("link", name="Nej, behåll besvarad").click()
    assert page.get_by_label(re.compile("^Status för FS-")).first.input_value() == "besvarad"
