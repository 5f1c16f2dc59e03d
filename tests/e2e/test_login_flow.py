import pytest

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_login_page_is_accessible(page, live_server):
    page.goto(live_server + "/logga-in")
    assert page.title() == "Logga in – formservice"
    assert page.locator("html").get_attribute("lang") == "sv"
    assert_accessible(page)


def test_login_error_summary_is_accessible(page, live_server):
    page.goto(live_server + "/logga-in")
    page.get_by_role("button", name="Logga in").click()
    summary = page.get_by_role("alert")
    assert "Skriv ditt användarnamn." in summary.inner_text()
    summary.get_by_role("link", name="Skriv ditt användarnamn.").click()
    assert page.evaluate("document.activeElement.id") == "username"
    assert_accessible(page)


def test_login_start_page_logout(page, live_server):
    login(page, live_server)
    assert page.get_by_role("heading", level=1).inner_text() == "Välkommen, Sara Socialsekreterare"
    assert page.title() == "Start – formservice"
    assert_accessible(page)
    page.get_by_role("button", name="Logga ut").click()
    assert "Du är utloggad." in page.content()


def test_skip_link_is_first_and_works_with_keyboard(page, live_server):
    page.goto(live_server + "/logga-in")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hoppa till huvudinnehållet"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_the_accessibility_statement_is_accessible_without_login(page, live_server):
    page.goto(live_server + "/logga-in")
    page.get_by_role("link", name="Tillgänglighetsredogörelse").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tillgänglighetsredogörelse"
    assert_accessible(page)


def test_a_warning_before_the_idle_logout_lets_the_user_continue(page, live_server):
    login(page, live_server)
    page.evaluate("window.formserviceIdle.warnNow()")  # as when the idle time is nearly up
    dialog = page.get_by_role("dialog", name="Du loggas snart ut")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Fortsätt vara inloggad"
    assert_accessible(page)
    with page.expect_response(lambda r: r.url.endswith("/sessionen/forlang")) as answer:
        page.keyboard.press("Escape")  # Esc, like the first button, continues
    assert answer.value.status == 204
    assert not dialog.is_visible()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Välkommen")
