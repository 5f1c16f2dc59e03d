"""Sign-in with OpenID Connect against a real OpenID Provider (tests/oidc/provider.mjs, panva's
oidc-provider on 127.0.0.1): our side through the Flask test client, the person's browser at the
provider through requests. Nothing of the protocol is mocked."""
from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import select

from formservice.accounts import login, oidc
from formservice.accounts.models import User
from formservice.accounts.providers import LoginFailed
from formservice.audit import AuditEntry

from .conftest import PASSWORD, csrf_token
from .oidc.server import CLIENT_SECRET, OTHER_CLIENT_ID, ProviderBrowser, free_port

CALLBACK = "http://localhost/logga-in/oidc/svar"


@pytest.fixture
def app_config(app_config, oidc_provider):
    return {**app_config, **oidc_provider.settings()}


@pytest.fixture
def person(oidc_provider):
    """The person's browser at the provider (a requests session with the provider's cookies)."""
    with ProviderBrowser(oidc_provider.issuer) as browser:
        yield browser


@pytest.fixture
def make_external_user(make_user, dbs):
    """A user known by the provider's value of the configured claim, without a password of their own."""
    def make(external_id, username="anna", active=True, password=False, **kw):
        user = dbs.get(User, make_user(username=username, **kw))
        user.external_id = external_id
        user.active = active
        if not password:
            user.password_hash = login.UNUSABLE_PASSWORD
        dbs.commit()
        return user.id

    return make


def start(client, next_url=None) -> str:
    res = client.get("/logga-in/oidc" + (f"?{urlencode({'next': next_url})}" if next_url else ""))
    assert res.status_code == 302, res.get_data(as_text=True)
    return res.headers["Location"]


def back(client, callback_url: str):
    """The browser arrives back at our callback."""
    parts = urlsplit(callback_url)
    assert f"http://{parts.netloc}{parts.path}" == CALLBACK, callback_url
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, person, account="anna-sub-1", next_url=None):
    return back(client, person.login(start(client, next_url), account))


def sign_in_again(client, person):
    """The provider still has its session: it sends the browser straight back."""
    return back(client, person.follow(start(client)))


def with_param(url: str, name: str, value: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if value is None:
        query.pop(name, None)
    else:
        query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def last_audit(dbs, action):
    dbs.expire_all()
    return dbs.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())).first()


def refused(res, status, message):
    html = unescape(res.get_data(as_text=True))
    assert res.status_code == status, html
    assert 'role="alert"' in html and message in html
    assert "<title>Fel: Logga in" in html


# ---------------------------------------------------------------- the login page and the request
def test_login_page_offers_the_provider_beside_the_password(client):
    html = client.get("/logga-in?next=/arenden").get_data(as_text=True)
    assert re.search(r'<a class="button" href="/logga-in/oidc\?next=/arenden">Logga in med organisationens '
                     r'inloggning</a>', html)
    assert 'name="password"' in html and "Logga in med användarnamn och lösenord" in html


def test_authorization_request_uses_pkce_state_and_nonce(client, oidc_provider):
    url = start(client)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert url.startswith(oidc_provider.issuer + "/auth?")
    assert query["response_type"] == "code" and query["client_id"] == "formservice"
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["scope"].split() == ["openid", "profile", "email", "hsa"]


def test_not_configured_means_no_button_and_no_route(app, client):
    app.config["OIDC_ISSUER"] = None
    assert "/logga-in/oidc" not in client.get("/logga-in").get_data(as_text=True)
    assert client.get("/logga-in/oidc").status_code == 404
    assert client.get("/logga-in/saml").status_code == 404


# ---------------------------------------------------------------- successful sign-in
def test_sign_in_matched_on_sub(client, person, make_external_user, dbs):
    user_id = make_external_user("anna-sub-1")
    client.get("/logga-in")
    before = client.get_cookie("formservice_session")
    res = sign_in(client, person, next_url="/arenden")
    assert res.status_code == 302 and res.headers["Location"] == "/arenden"
    after = client.get_cookie("formservice_session")
    assert before is None or before.value != after.value  # a new session id at login
    page = client.get("/").get_data(as_text=True)
    assert "Välkommen, Test Testsson" in page
    assert "Byt lösenord" not in page  # no password of their own to change
    assert client.get("/konto/losenord").headers["Location"] == "/"
    entry = last_audit(dbs, "login")
    assert entry.user_id == user_id and entry.detail == "oidc"


@pytest.mark.parametrize("claim, external_id, account", [
    ("employeeHsaId", "SE0000000000-TEST2", "bertil-sub-2"),
    ("email", "Bertil.Berg@example.se", "bertil-sub-2"),
])
def test_sign_in_matched_on_another_claim(app, client, person, make_external_user, claim, external_id, account):
    # Bertil's profile claims come from the userinfo endpoint (the ID token of a code flow has only sub).
    app.config["OIDC_USER_CLAIM"] = claim
    make_external_user(external_id)
    assert sign_in(client, person, account).headers["Location"] == "/"
    assert "Välkommen, Test Testsson" in client.get("/").get_data(as_text=True)


def test_unverified_email_is_not_used_to_match(app, client, person, make_external_user):
    app.config["OIDC_USER_CLAIM"] = "email"
    make_external_user("cecilia.ceder@example.se")
    refused(sign_in(client, person, "cecilia-sub-3"), 403, "har inte bekräftat din e-postadress")


def test_missing_claim_is_refused(app, client, person, make_external_user):
    app.config["OIDC_USER_CLAIM"] = "personnummer"
    refused(sign_in(client, person), 403, "(personnummer)")


def test_unsafe_next_is_ignored(client, person, make_external_user):
    make_external_user("anna-sub-1")
    assert sign_in(client, person, next_url="https://evil.example/").headers["Location"] == "/"


def test_user_with_a_password_too_can_still_change_it(client, person, make_external_user, auth):
    make_external_user("anna-sub-1", password=True)
    sign_in(client, person)
    assert "Byt lösenord" in client.get("/").get_data(as_text=True)
    assert client.get("/konto/losenord").status_code == 200


# ---------------------------------------------------------------- the answer is checked
def test_wrong_or_missing_state_is_refused(client, person, make_external_user, dbs):
    make_external_user("anna-sub-1")
    callback = person.login(start(client), "anna-sub-1")
    refused(back(client, with_param(callback, "state", "fel-state")), 400, "hör inte till en inloggning")
    refused(back(client, with_param(callback, "state", None)), 400, "hör inte till en inloggning")
    assert last_audit(dbs, "login_failed").detail == "oidc: state unknown or missing"
    assert client.get("/").status_code == 302  # not signed in


def test_an_answer_is_used_once(client, person, make_external_user):
    make_external_user("anna-sub-1")
    callback = person.login(start(client), "anna-sub-1")
    assert back(client, callback).status_code == 302
    refused(back(client, callback), 400, "hör inte till en inloggning")


def test_answer_without_a_started_login_is_refused(client, person, make_external_user):
    make_external_user("anna-sub-1")
    callback = person.login(start(client), "anna-sub-1")
    client.delete_cookie("formservice_session")
    refused(back(client, callback), 400, "hör inte till en inloggning")


def test_wrong_nonce_is_refused(client, person, make_external_user, dbs):
    # The provider signs whatever nonce the request carried: as if the answer came from another request.
    make_external_user("anna-sub-1")
    url = with_param(start(client), "nonce", "en-annan-nonce-" + "x" * 20)
    refused(back(client, person.login(url, "anna-sub-1")), 401, "intyget från inloggningstjänsten")
    assert "nonce" in last_audit(dbs, "login_failed").detail
    assert client.get("/").status_code == 302


def test_expired_id_token_is_refused(client, person, make_external_user, oidc_provider, dbs):
    make_external_user("anna-sub-1")
    callback = person.login(start(client), "anna-sub-1")
    oidc_provider.set_clock(-2 * 3600)  # the token endpoint dates the one-hour ID token two hours back
    try:
        res = back(client, callback)
    finally:
        oidc_provider.set_clock(0)
    refused(res, 401, "intyget från inloggningstjänsten")
    assert "expired" in last_audit(dbs, "login_failed").detail


def test_error_from_the_provider(client, person, dbs):
    refused(back(client, person.abort(start(client))), 401, "avbröts eller nekades")
    assert last_audit(dbs, "login_failed").detail == "oidc: provider error access_denied"


def test_provider_unreachable(app, client, dbs):
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    refused(client.get("/logga-in/oidc"), 502, "svarar inte just nu")
    assert "Logga in med organisationens inloggning" in client.get("/logga-in").get_data(as_text=True)


def test_issuer_must_be_the_one_discovery_names(app, client, oidc_provider):
    app.config["OIDC_ISSUER"] = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    refused(client.get("/logga-in/oidc"), 502, "felaktigt inställd")


class TestIdTokenVerification:
    """ID tokens the real provider signed, held against our checks directly."""

    @pytest.fixture
    def other_token(self, oidc_provider, person):
        """An ID token the provider issued to another client (its audience is not us)."""
        other = oidc.OidcProvider(issuer=oidc_provider.issuer, client_id=OTHER_CLIENT_ID,
                                  client_secret=CLIENT_SECRET)
        store = {}
        url = other.start(store, CALLBACK)
        nonce = next(iter(store[oidc.SESSION_KEY].values()))["nonce"]
        params = {k: v[0] for k, v in parse_qs(urlsplit(person.login(url, "anna-sub-1")).query).items()}
        identity = other.finish(store, params, CALLBACK)
        return other, identity.logout_data["id_token"], nonce

    @pytest.fixture
    def ours(self, oidc_provider):
        return oidc.OidcProvider(issuer=oidc_provider.issuer, client_id="formservice", client_secret=CLIENT_SECRET)

    def test_the_other_clients_token_is_valid_for_it(self, other_token):
        other, token, nonce = other_token
        assert other.verify_id_token(token, nonce)["sub"] == "anna-sub-1"

    def test_wrong_audience(self, ours, other_token):
        _, token, nonce = other_token
        with pytest.raises(LoginFailed, match="aud"):
            ours.verify_id_token(token, nonce)

    def test_bad_signature(self, other_token):
        other, token, nonce = other_token
        head, body, signature = token.split(".")
        forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        forged["sub"] = "bertil-sub-2"
        body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        with pytest.raises(LoginFailed, match="bad_signature") as exc:
            other.verify_id_token(f"{head}.{body}.{signature}", nonce)
        assert exc.value.status == 401

    def test_unsigned_token(self, other_token):
        other, token, nonce = other_token
        head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        with pytest.raises(LoginFailed, match="id_token"):
            other.verify_id_token(f"{head}.{token.split('.')[1]}.", nonce)

    def test_not_a_token(self, other_token):
        other, _, nonce = other_token
        with pytest.raises(LoginFailed, match="id_token"):
            other.verify_id_token("inte-en-token", nonce)


# ---------------------------------------------------------------- who may come in
def test_unknown_user_refused(client, person, dbs):
    refused(sign_in(client, person), 403, "Du har inget konto i formservice")
    assert dbs.scalar(select(User).where(User.external_id == "anna-sub-1")) is None
    assert last_audit(dbs, "login_failed").detail == "oidc: okänd användare"


def test_unknown_user_pending_is_created_for_approval(app, client, person, make_enhet, dbs, auth):
    app.config.update(OIDC_UNKNOWN_USERS="pending", OIDC_PENDING_ENHET_ID=make_enhet())
    res = sign_in(client, person)
    refused(res, 403, "En administratör måste godkänna det")
    assert "Kontot väntar på godkännande" in res.get_data(as_text=True)
    user = dbs.scalar(select(User).where(User.external_id == "anna-sub-1"))
    assert (user.active, user.pending_approval) == (False, True)
    assert (user.username, user.namn, user.epost) == ("anna.andersson@example.se", "Anna Andersson",
                                                      "anna.andersson@example.se")
    assert user.role == "socialsekreterare" and not login.has_password(user)
    assert last_audit(dbs, "user_created").object_id == str(user.id)
    # No way in with a password, and no error either.
    assert auth.login(username=user.username, password=login.UNUSABLE_PASSWORD).status_code == 401
    # Signing in again before approval: still waiting, no second account.
    refused(sign_in_again(client, person), 403, "väntar på att en administratör godkänner")
    assert len(dbs.scalars(select(User).where(User.external_id == "anna-sub-1")).all()) == 1
    # Approved: in.
    user.active, user.pending_approval = True, False
    dbs.commit()
    assert sign_in_again(client, person).headers["Location"] == "/"


def test_pending_users_get_a_free_username(app, client, person, make_enhet, make_user):
    make_user(username="anna.andersson@example.se")
    app.config.update(OIDC_UNKNOWN_USERS="pending", OIDC_PENDING_ENHET_ID=make_enhet(namn="Nya"))
    refused(sign_in(client, person), 403, "En administratör måste godkänna det")
    with app.app_context():
        from formservice import db

        user = db.session().scalar(select(User).where(User.external_id == "anna-sub-1"))
        assert user.username == "anna.andersson@example.se-2"


def test_pending_without_an_enhet_is_refused_with_a_hint(app, client, person, dbs):
    app.config.update(OIDC_UNKNOWN_USERS="pending", OIDC_PENDING_ENHET_ID=None)
    refused(sign_in(client, person), 403, "FORMSERVICE_OIDC_PENDING_ENHET_ID")
    assert dbs.scalar(select(User).where(User.external_id == "anna-sub-1")) is None


def test_deactivated_user_refused(client, person, make_external_user, dbs):
    user_id = make_external_user("anna-sub-1", active=False)
    refused(sign_in(client, person), 403, "Ditt konto i formservice är inaktiverat")
    entry = last_audit(dbs, "login_failed")
    assert entry.user_id == user_id and entry.detail == "oidc: inaktiverat konto"
    assert client.get("/").status_code == 302


# ---------------------------------------------------------------- log-out
def provider_logout_url(res) -> str:
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    url = unescape(re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', html).group(1))
    assert f'<a href="{url}"'.replace("&", "&amp;") in html  # the same place as a link
    return url


def test_logout_ends_the_provider_session(client, person, make_external_user, oidc_provider):
    make_external_user("anna-sub-1")
    sign_in(client, person)
    # While the provider session lives, a new sign-in needs no login page there.
    assert person.follow(start(client)).startswith(CALLBACK)
    res = client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    url = provider_logout_url(res)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(oidc_provider.issuer + "/session/end?")
    assert query["post_logout_redirect_uri"] == "http://localhost/logga-in" and query["id_token_hint"]
    assert client.get("/").status_code == 302  # our session is gone already
    landing = person.logout(url)
    assert landing == "http://localhost/logga-in"
    assert "Du är utloggad." in client.get("/logga-in").get_data(as_text=True)
    # The provider session is gone too: signing in again means its login page again.
    assert "/interaction/" in person.follow(start(client))


def test_logout_is_local_when_the_provider_is_unreachable(app, client, person, make_external_user):
    make_external_user("anna-sub-1")
    sign_in(client, person)
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"
    res = client.post("/logga-ut", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    assert res.status_code == 302 and res.headers["Location"] == "/logga-in"
    assert client.get("/").status_code == 302


def test_password_user_logs_out_locally(client, auth, make_user):
    make_user()
    auth.login()
    res = auth.logout()
    assert res.status_code == 302 and res.headers["Location"] == "/logga-in"


# ---------------------------------------------------------------- password login turned off
def test_password_login_off(app, client, make_user):
    make_user()
    token = csrf_token(client.get("/logga-in").get_data(as_text=True))  # a form from before it was turned off
    app.config["PASSWORD_LOGIN"] = False
    page = client.get("/logga-in")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="password"' not in html and "Logga in med organisationens inloggning" in html
    res = client.post("/logga-in", data={"username": "testare", "password": PASSWORD, "csrf_token": token})
    refused(res, 403, "Inloggning med lösenord är avstängd")
    assert client.get("/").status_code == 302


def test_password_login_off_without_a_provider_says_so(app, client):
    app.config.update(PASSWORD_LOGIN=False, OIDC_ISSUER=None)
    assert "Ingen inloggning är inställd" in client.get("/logga-in").get_data(as_text=True)


def test_password_login_and_pending_enhet_from_the_environment():
    from formservice.config import from_environment

    assert from_environment({"FORMSERVICE_PASSWORD_LOGIN": "0", "FORMSERVICE_OIDC_PENDING_ENHET_ID": "7"}) == {
        "PASSWORD_LOGIN": False, "OIDC_PENDING_ENHET_ID": 7}
