"""Operations that take seconds say so at once (issue 25): "Ta fram PDF och DOCX" on Granska, the
uppföljning report and the registerutdrag. Right after the click the button says "Tar fram…", is
aria-disabled and a polite live region says what is happening; a double click sends one request;
Back restores the button; without JavaScript the forms post as before; the job page announces
"Klar – hämta" in its live region."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, login

pytestmark = pytest.mark.e2e

# Two clicks in one task, the state read between them: what the user sees the moment after clicking,
# before any answer can have come.
CLICK_TWICE = """button => {
  button.click();
  const live = button.form.querySelector("[data-busy-status]");
  const seen = [button.textContent.trim(), button.getAttribute("aria-disabled"), live.getAttribute("role"),
                live.textContent];
  button.click();
  return seen;
}"""


@pytest.fixture(scope="module")
def job_queue(live_app):
    """The job queue's tables, so that the report and the registerutdrag can be queued. No worker
    takes them: the job page stays at "Tas fram…" unless a test answers its status itself."""
    from formservice import jobs

    jobs.migrate(live_app)


def posts_to(page, path: str) -> list:
    """The POST requests the page sends to `path`, collected as they happen."""
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and r.url.split("?")[0].endswith(path) else None)
    return sent


def test_granska_says_it_is_working_at_once(page, live_server, make_arende):
    _client, pid = make_arende(namn="Bea Bråttom")
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/granska")
    button = page.get_by_role("button", name="Ta fram PDF och DOCX")
    seen = button.evaluate(CLICK_TWICE)
    assert seen == ["Tar fram…", "true", "status", "Tar fram dokumentet, vänta…"]
    page.wait_for_url("**/klar/*")


def test_a_double_click_on_granska_sends_one_request(page, live_server, make_arende):
    """A user's double click, about 0.2 s between the clicks, while the document (over a second) is
    made: without the guard Chromium drops the first request and sends a second."""
    client, pid = make_arende(namn="Dubbel Klick")
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/granska")
    sent = posts_to(page, "/granska")
    page.get_by_role("button", name="Ta fram PDF och DOCX").click(click_count=2, delay=100)
    page.wait_for_url("**/klar/*")
    assert len(sent) == 1
    overview = client.get(f"/arenden/{pid}").get_data(as_text=True)
    assert overview.count('<caption class="visually-hidden">Dokument i ärendet</caption>') == 1
    assert overview.count("(version ") == 1  # one row in the documents table: one document made


def test_the_report_sends_once_the_job_page_announces_and_back_restores(page, live_server, job_queue):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/uppfoljning")
    sent = posts_to(page, "/uppfoljning/rapport")
    button = page.get_by_role("button", name="Ta fram rapport (PDF)")
    button.click(click_count=2, delay=100)
    page.wait_for_url("**/jobb/*")
    assert len(sent) == 1
    status = page.get_by_role("status").filter(has_text="Tas fram…")
    expect(status).to_have_attribute("aria-live", "polite")

    page.go_back()  # from the back/forward cache or loaded again: either way the button is as before
    button = page.get_by_role("button", name="Ta fram rapport (PDF)")
    expect(button).to_be_visible()
    expect(button).not_to_have_attribute("aria-disabled", "true")


def test_pageshow_restores_a_busy_form(page, live_server):
    """The back/forward cache keeps the page as it was left, busy; its pageshow must undo that."""
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/uppfoljning")
    page.evaluate("""() => document.querySelector("form[data-busy]")
                        .addEventListener("submit", e => e.preventDefault())""")  # stay on the page
    button = page.locator("form[data-busy] button[type=submit]")
    button.click()
    expect(button).to_have_text("Tar fram…")
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(button).to_have_text("Ta fram rapport (PDF)")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    assert page.locator("[data-busy-status]").inner_text() == ""


def test_registerutdrag_keeps_the_chosen_format_and_sends_once(page, live_server, job_queue):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/admin/registerutdrag")
    sent = posts_to(page, "/admin/registerutdrag")
    page.get_by_label("Personnummer eller samordningsnummer").fill("19121212-1212")
    button = page.get_by_role("button", name="Ta fram som PDF")
    seen = button.evaluate(CLICK_TWICE)
    assert seen == ["Tar fram…", "true", "status", "Tar fram utdraget, vänta…"]
    page.wait_for_url("**/jobb/*")
    assert len(sent) == 1 and "format=pdf" in sent[0].post_data  # aria-disabled, not disabled: the value goes


def test_the_job_page_announces_when_it_is_ready(page, live_server, job_queue):
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.goto(f"{live_server}/uppfoljning")
    page.route("**/jobb/*/status", lambda route: route.fulfill(
        content_type="application/json",
        body=json.dumps({"status": "klar", "text": "Klar – hämta", "download": "/jobb/x/hamta", "error": None,
                         "note": None})))
    page.get_by_role("button", name="Ta fram rapport (PDF)").click()
    page.wait_for_url("**/jobb/*")
    region = page.locator("#jobb-status")
    expect(region).to_have_attribute("role", "status")
    expect(region).to_contain_text("Klar – hämta")
    expect(region.get_by_role("link")).to_have_attribute("href", "/jobb/x/hamta")
    expect(page).to_have_title("Uppföljning som PDF: Klar – hämta – formservice")


def test_without_javascript_the_forms_still_post(browser, live_server, make_arende):
    _client, pid = make_arende(namn="Nils Noscript")
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    page = context.new_page()
    try:
        login(page, live_server)
        page.goto(f"{live_server}/arenden/{pid}/blankett/rehabiliteringsforfragan/granska")
        page.get_by_role("button", name="Ta fram PDF och DOCX").click()
        page.wait_for_url("**/klar/*")
    finally:
        context.close()
