"""Every error state of every form a user can reach, in the browser (issue 25): after the submit focus
is on the error summary and the title starts with "Fel:"; every link in the summary leads to an
element that exists and, followed, puts focus on a form control in it (a radio group's first
button, not nothing); submitting again from an address with a fragment (as after following a
link without JavaScript) lands on the summary again, not on the field. The summary's links are
collected from the page, never listed here, so a new field or a renamed id is covered as it comes."""
from __future__ import annotations

from urllib.parse import urljoin

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from formservice.blanketter import wizard
from formservice.rendering import documents

from ..wizard_driver import fill_blankett, step
from .conftest import DEMO_PASSWORD, assert_accessible, login
from .test_journey import luhn_digit

pytestmark = pytest.mark.e2e

CONTROL = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
# Focus on a form control that is the link's target or inside it.
FOCUS_IN = """([id, control]) => {
  const target = document.getElementById(id), active = document.activeElement;
  return !!target && !!active && active.matches(control) && (active === target || target.contains(active));
}"""
# Everything the user can type or choose in a form emptied, so that every required field is missing.
EMPTY_FORM = """form => {
  form.querySelectorAll("input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea")
      .forEach(e => { e.value = ""; });
  form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(e => { e.checked = false; });
  form.querySelectorAll("select").forEach(s => { s.selectedIndex = 0; });
}"""


def assert_focus_on_field(page, href: str) -> None:
    target = href.split("#", 1)[1]
    assert page.locator(f"[id='{target}']").count() == 1, f"{page.url}: no single element has the id {target}"
    try:
        page.wait_for_function(FOCUS_IN, arg=[target, CONTROL], timeout=3_000)
    except PlaywrightError:
        focused = page.evaluate("document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : ''")
        pytest.fail(f"{page.url}: the link {href} left focus on {focused or 'nothing'}, not on a form control")


def assert_summary_focused(page) -> None:
    # After "load": the browser's own move to a fragment in the address comes late and would win.
    page.wait_for_load_state("load")
    expect(page.locator("[data-autofocus]").first).to_be_focused()


def assert_error_page(page, submit, *, links: bool = True) -> list[str]:
    """Submit with `submit` (a function that sends the form) and check the error state as described
    above; returns the summary's links. `links`: the state names fields (not a 409 about the whole form)."""
    submit()
    assert_summary_focused(page)
    assert page.title().startswith("Fel:"), f"{page.url}: title {page.title()!r}"
    actions = page.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.getAttribute('action'))")
    assert all(a and "#" not in a for a in actions), f"{page.url}: a form posts back with a fragment: {actions}"
    assert_accessible(page)
    summary = page.locator("[data-autofocus]").first
    hrefs = summary.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    if links:
        assert any("#" in h for h in hrefs), f"{page.url}: the summary links to no field: {hrefs}"
    here = [h for h in hrefs if h.startswith("#")]
    for i, href in enumerate(hrefs):
        if href.startswith("#"):
            summary.locator("a").nth(i).click()
            assert_focus_on_field(page, href)
    if here:
        # The address as after following a link without JavaScript: the next answer must still open
        # at its summary.
        page.evaluate("h => { window.location.hash = h; }", here[-1])
        submit()
        assert_summary_focused(page)
        assert page.title().startswith("Fel:")
    for href in hrefs:  # links to another page (Granska's to the wizard pages) last: they leave this one
        if not href.startswith("#") and "#" in href:
            page.goto(urljoin(page.url, href))
            assert_focus_on_field(page, href)
    return hrefs


def click(page, name: str):
    return lambda: page.get_by_role("button", name=name, exact=True).click()


def empty_and_click(page, form: str, name: str | None = None):
    """A submit that empties the form `form` (a selector) first, every time: a page shown again
    after an error may have chosen something again (a single way on is checked from the start)."""
    def submit():
        page.locator(form).evaluate(EMPTY_FORM)
        buttons = page.locator(form).locator("button[type=submit]")
        (buttons.get_by_text(name, exact=True) if name else buttons.first).click()
    return submit


def test_wizard_pages_with_required_fields_and_granska(page, live_server, live_app, make_arende):
    _client, pid = make_arende(namn="Fanny Felsida")
    catalogue = live_app.extensions["catalogue"]
    login(page, live_server)
    checked = 0
    for blankett_id in sorted(catalogue.main_blanketter):
        for pg in wizard.pages(documents.parts_of(catalogue, blankett_id)):
            if not any(f.required for f in pg.fields):
                continue
            page.goto(f"{live_server}/arenden/{pid}/blankett/{blankett_id}/sida/{pg.number}")
            assert_error_page(page, empty_and_click(page, "form:has(input[name=version])", "Spara och fortsätt"))
            checked += 1
    assert checked >= 10, "the blanketter have fewer pages with required fields than expected"
    # Granska of a blankett with required answers missing: its links lead to the wizard's pages.
    page.goto(f"{live_server}/arenden/{pid}/blankett/sip_kallelse/granska")
    hrefs = assert_error_page(page, click(page, "Ta fram PDF och DOCX"))
    assert any("#f-sip_syfte" in h for h in hrefs)  # a radio group: focus on its first button


def test_the_409_pages_are_error_pages(page, live_server, make_arende):
    """The wizard's page and Granska changed in another tab, and the individ's details changed by
    someone else: nothing is saved, and the page says so as an error."""
    _client, pid = make_arende(namn="Kurt Krock")
    login(page, live_server)
    other = page.context.new_page()
    wizard_page = f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/sida/4"  # has text fields

    page.goto(wizard_page)
    other.goto(wizard_page)
    other.get_by_role("button", name="Spara och fortsätt").click()
    other.wait_for_load_state()
    assert_error_page(page, click(page, "Spara och fortsätt"), links=False)
    expect(page.get_by_role("alert")).to_contain_text("sparades inte")

    review = f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/granska"
    page.goto(review)
    other.goto(wizard_page)
    other.locator("form:has(input[name=version]) textarea, form:has(input[name=version]) input[type=text]") \
        .first.fill("Ändrat i en annan flik")
    other.get_by_role("button", name="Spara och fortsätt").click()
    other.wait_for_load_state()
    assert_error_page(page, click(page, "Ta fram PDF och DOCX"), links=False)
    expect(page.get_by_role("alert")).to_contain_text("inget dokument togs fram")

    details = f"{live_server}/arenden/{pid}/uppgifter"
    page.goto(details)
    other.goto(details)
    other.locator("#f-ort").fill("Farsta")
    other.get_by_role("button", name="Spara").click()
    other.wait_for_load_state()
    page.locator("#f-ort").fill("Vällingby")
    assert_error_page(page, click(page, "Spara"), links=False)

    # Closed in another tab while a form was open: what was typed is shown, nothing saved.
    page.goto(f"{live_server}/arenden/{pid}/samtycke/nytt")
    other.goto(f"{live_server}/arenden/{pid}/avsluta")
    other.locator("form.close-form input[type=radio]").first.check()
    other.locator("form.close-form button[type=submit]").first.click()
    other.wait_for_load_state()
    assert_error_page(page, click(page, "Registrera samtycket"), links=False)
    other.close()


def test_the_general_409_page_is_an_error_page(live_app):
    """Two requests changing the same row at once (StaleDataError): the error page every view shares."""
    from formservice.web.errors import MESSAGES, _page

    with live_app.test_request_context("/arenden/x/steg", method="POST"):
        html, status, _headers = _page(409, *MESSAGES[409])
    assert status == 409 and "<title>Fel: " in html
    assert 'role="alert"' in html and "data-autofocus" in html


def test_new_arende_bad_personnummer_and_the_duplicate_warning(page, live_server, make_arende):
    pnr = "19400505-998" + luhn_digit("400505998")
    make_arende(namn="Dagny Dubbel", personnummer=pnr)
    login(page, live_server)
    page.goto(f"{live_server}/arenden/nytt")
    page.get_by_label("Personnummer eller samordningsnummer").fill("19400505-0000")
    hrefs = assert_error_page(page, click(page, "Skapa ärendet"))
    assert "#f-personnummer" in hrefs and "#f-namn" in hrefs
    # Corrected after following the link: the duplicate warning takes focus, not the field.
    page.locator("[data-autofocus] a[href='#f-personnummer']").click()
    page.evaluate("() => { window.location.hash = 'f-personnummer'; }")
    page.get_by_label("Namn", exact=True).fill("Dagny Andra")
    page.get_by_label("Personnummer eller samordningsnummer").fill(pnr)
    page.get_by_role("button", name="Skapa ärendet").click()
    expect(page.get_by_role("alert")).to_contain_text("Det finns redan ett öppet ärende")
    assert_summary_focused(page)


def test_samtycke_step_and_closing(page, live_server, make_arende):
    _client, pid = make_arende(namn="Sam Samtycke")
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/samtycke/nytt")
    assert_error_page(page, empty_and_click(page, "form:has(input[name=blankett][type=hidden])"))
    page.goto(f"{live_server}/arenden/{pid}/steg")
    assert_error_page(page, empty_and_click(page, "form.step-form"))
    page.goto(f"{live_server}/arenden/{pid}/avsluta")
    assert_error_page(page, empty_and_click(page, "form.close-form"))


def test_the_doctors_answer(page, live_server, live_app, make_arende):
    client, pid = make_arende(namn="Lars Läkarsvar", ruta="soc1.9")
    result = fill_blankett(client, pid, "rehabiliteringsforfragan", live_app.extensions["catalogue"])
    doc_id = result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]
    step(client, pid, "soc1.10")
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/dokument/{doc_id}/svar")
    assert_error_page(page, click(page, "Läs in svaren"))  # no file chosen
    page.get_by_role("button", name="Skriv in svaren från pappersblanketten").click()
    page.wait_for_url("**/svar/*")
    hrefs = assert_error_page(page, click(page, "Bekräfta och spara svaren"))
    assert "#f-aktiviteter" in hrefs  # no activity answered: the grid's first box takes focus


def test_admin_forms(page, live_server):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/admin/anvandare/ny")
    assert_error_page(page, click(page, "Skapa användaren"))
    page.goto(f"{live_server}/admin/registerutdrag")
    page.get_by_label("Personnummer eller samordningsnummer").fill("12345")
    assert_error_page(page, click(page, "Ta fram som JSON"))


def test_login(page, live_server):
    page.goto(f"{live_server}/logga-in")
    assert_error_page(page, click(page, "Logga in"))
