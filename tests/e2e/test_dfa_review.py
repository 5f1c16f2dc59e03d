"""In the browser: the DFA review at ruta 8 – with errors, then Nej – and axe on every page."""
import os
import re

import pytest

from formservice.doctor import dfa_review

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def _shot(page, name: str) -> None:
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the page by eye
        page.screenshot(path=os.path.join(os.environ["FORMSERVICE_KEEP_ARTIFACTS"], name), full_page=True)


def test_review_with_errors_then_nej(page, live_app, live_server, make_arende):
    with live_app.app_context():
        where = dfa_review.place(live_app.extensions["catalogue"].process_map)
    _client, pid = make_arende(ruta=where.decision.id, namn="Disa Dfa")
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/steg")
    page.get_by_role("link", name="Granska läkarintyget").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Granska läkarintyget utifrån DFA-kedjan"
    assert_accessible(page)
    _shot(page, "dfa-granskning.png")

    page.get_by_label("Läkarintyget skrivs in här").check()
    page.get_by_label("Läkarintygets text (om du skriver in det)").fill("Depression. Trötthet och nedstämdhet.")
    page.get_by_label("Diagnoskod i intyget (frivilligt)").fill("F32")
    page.get_by_role("button", name="Spara granskningen").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Svara ja eller nej" in alert and "minst fyra positioner" in alert
    assert page.get_by_label("Läkarintygets text (om du skriver in det)").input_value().startswith("Depression.")
    assert_accessible(page)
    _shot(page, "dfa-granskning-fel.png")

    page.get_by_label("Diagnoskod i intyget (frivilligt)").fill("")
    for i, link in enumerate(dfa_review.LINKS, start=1):
        group = page.get_by_role("group", name=f"{i}. {link.question}")
        group.get_by_label("Nej" if link.key in ("diagnos", "funktionsnedsattning") else "Ja", exact=True).check()
    page.locator("#f-saknas_diagnos").fill("Diagnoskod saknas.")
    page.locator("#f-saknas_funktionsnedsattning").fill("Bara symtom, inga undersökningsfynd.")
    page.get_by_role("button", name="Spara granskningen").click()
    assert "inte komplett (Nej)" in page.get_by_role("status").first.inner_text()
    assert "Komplettering till läkaren" in page.locator("#h-komplettering").inner_text()
    assert re.search(r"Ruta 9", page.locator(".arende-header__where").inner_text())
    assert_accessible(page)
    _shot(page, "dfa-granskning-nej.png")
    page.goto(f"{live_server}/arenden/{pid}/steg")
    assert "inte komplett (Nej)" in page.locator("#dfa").inner_text()
    assert_accessible(page)


def test_granska_offers_the_doctors_answer_as_fks_medicinskt_underlag(page, live_app, live_server, make_arende):
    """Issue 27 item 2 in the browser: the offer on FK's Granska names the answer, is accessible, and the
    tick gives the packet its bilaga."""
    from ..data import returned_pdfs as corpus
    from ..test_dfa_answers import DEPRESSION, _pdf_values
    from ..test_doctor_answers import confirm, upload
    from ..wizard_driver import fill_blankett, step

    client, pid = make_arende(ruta="soc1.9", namn="Ulla Underlag")
    catalogue = live_app.extensions["catalogue"]
    fill_blankett(client, pid, "rehabiliteringsforfragan", catalogue)
    step(client, pid, "soc1.10")
    html = client.get(f"/arenden/{pid}").get_data(as_text=True)
    fillable_url = re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)
    doc_id = fillable_url.rsplit("/", 1)[-1].split(".")[0]
    filled = corpus.fill_with_pypdf(client.get(fillable_url).data, dict(corpus.DOCTOR_VALUES, **_pdf_values(DEPRESSION)))
    _page, res = confirm(client, upload(client, pid, doc_id, filled).headers["Location"])
    assert res.status_code == 302
    review_url = fill_blankett(client, pid, "fk_ansokan_samordning", catalogue, stop_at_review=True)["review_url"]

    login(page, live_server)
    page.goto(live_server + review_url)
    offer = page.get_by_label("Skriv ut läkarens svar som bilaga: Medicinskt underlag från läkare")
    assert not offer.is_checked()
    assert "F321 Medelsvår depressiv episod" in page.locator("#f-bifoga_lakarsvar-hint").inner_text()
    assert_accessible(page)
    _shot(page, "fk-granska-underlag.png")
    offer.check()
    page.get_by_role("button", name="Ta fram PDF och DOCX").click()
    page.wait_for_url("**/klar/**")
    assert_accessible(page)
    assert "Medicinskt underlag från läkare" in page.content()
