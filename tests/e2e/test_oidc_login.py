"""Sign-in through the real test OpenID Provider in Chromium, log-out through it, and axe on the login
page with the provider's button."""
import pytest

from formservice import db
from formservice.accounts import login as accounts_login
from formservice.accounts.models import User
from formservice.accounts.operations import create_user

from .conftest import assert_accessible

pytestmark = pytest.mark.e2e

BUTTON = "Logga in med organisationens inloggning"


@pytest.fixture
def oidc_live(live_app, oidc_provider):
    """The shared live server with sign-in through the test provider turned on for one test."""
    settings = oidc_provider.settings()
    saved = {key: live_app.config.get(key) for key in settings}
    live_app.config.update(settings)
    with live_app.app_context():
        dbs = db.session()
        if dbs.query(User).filter_by(external_id="anna-sub-1").one_or_none() is None:
            enhet_id = dbs.query(User).filter_by(username="soc.demo").one().enhet_id
            user = create_user(username="anna.oidc", password="oanvänt-lösenord", role="socialsekreterare",
                               enhet_id=enhet_id, namn="Anna Andersson")
            user.external_id = "anna-sub-1"
            user.password_hash = accounts_login.UNUSABLE_PASSWORD
            dbs.commit()
    yield live_app.config["LIVE_URL"]
    live_app.config.update(saved)


def test_login_page_with_the_provider_is_accessible(page, oidc_live):
    page.goto(oidc_live + "/logga-in")
    assert page.get_by_role("link", name=BUTTON).is_visible()
    assert page.get_by_role("heading", level=2).inner_text() == "Logga in med användarnamn och lösenord"
    assert_accessible(page)


@pytest.fixture
def strict_page(browser):
    """A page under the app's own Content-Security-Policy (the shared `page` bypasses it for axe):
    log-out must reach the provider although the form's CSP says form-action 'self'."""
    context = browser.new_context(locale="sv-SE")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def test_sign_in_and_out_through_the_provider(strict_page, oidc_live):
    page = strict_page
    page.goto(oidc_live + "/logga-in?next=/arenden")
    page.get_by_role("link", name=BUTTON).click()
    page.get_by_label("Testkonto").select_option("anna-sub-1")
    page.get_by_role("button", name="Logga in hos testinloggningen").click()
    page.wait_for_url(oidc_live + "/arenden")
    page.goto(oidc_live + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Välkommen, Anna Andersson"
    assert page.get_by_role("link", name="Byt lösenord").count() == 0

    page.get_by_role("button", name="Logga ut").click()
    page.get_by_role("button", name="Ja, logga ut").click()  # the provider's own log-out page
    page.wait_for_url(oidc_live + "/logga-in")
    assert "Du är utloggad." in page.get_by_role("status").inner_text()
    # The provider's session ended too: its login page comes back.
    page.get_by_role("link", name=BUTTON).click()
    assert page.get_by_role("button", name="Logga in hos testinloggningen").is_visible()
