from datetime import timedelta

import pytest
from sqlalchemy import select

from formservice.accounts.models import LoginAttempt, WebSession
from formservice.db import utcnow

from .conftest import PASSWORD, csrf_token


@pytest.fixture
def user_id(make_user):
    return make_user()


def test_login_page_renders(client):
    res = client.get("/logga-in")
    assert res.status_code == 200
    assert 'lang="sv"' in res.get_data(as_text=True)


def test_start_page_requires_login(client):
    res = client.get("/")
    assert res.status_code == 302
    assert "/logga-in?next=/" in res.headers["Location"]


@pytest.mark.db
def test_login_and_logout(client, auth, user_id):
    res = auth.login()
    assert res.status_code == 302 and res.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Välkommen, Test Testsson" in page.get_data(as_text=True)
    auth.logout()
    assert client.get("/").status_code == 302


@pytest.mark.db
def test_logout_deletes_server_side_session(app, client, auth, user_id, dbs):
    auth.login()
    assert dbs.scalar(select(WebSession).where(WebSession.user_id == user_id)) is not None
    auth.logout()
    dbs.expire_all()
    assert dbs.scalar(select(WebSession).where(WebSession.user_id == user_id)) is None


@pytest.mark.db
def test_wrong_password(client, auth, user_id):
    res = auth.login(password="fel-lösenord")
    assert res.status_code == 401
    assert "Fel användarnamn eller lösenord." in res.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_same_message(client, auth):
    res = auth.login(username="finns-inte")
    assert res.status_code == 401
    assert "Fel användarnamn eller lösenord." in res.get_data(as_text=True)


def test_empty_form_shows_error_summary(client):
    page = client.get("/logga-in")
    res = client.post("/logga-in", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    html = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Det finns fel i formuläret" in html
    assert 'href="#username"' in html and "Skriv ditt användarnamn." in html
    assert "<title>Fel: Logga in" in html


@pytest.mark.db
def test_rate_limit_per_account(client, auth, user_id, dbs):
    for _ in range(5):
        assert auth.login(password="fel").status_code == 401
    res = auth.login()  # even the right password is refused while locked
    assert res.status_code == 429
    assert "För många misslyckade inloggningsförsök" in res.get_data(as_text=True)
    # The attempts are stored under keyed hashes, never the typed username.
    keys = dbs.scalars(select(LoginAttempt.account_key)).all()
    assert keys and all("testare" not in k for k in keys)


@pytest.mark.db
def test_rate_limit_expires(client, auth, user_id, dbs):
    for _ in range(5):
        auth.login(password="fel")
    for attempt in dbs.scalars(select(LoginAttempt)):
        attempt.at = utcnow() - timedelta(minutes=16)
    dbs.commit()
    assert auth.login().status_code == 302


def test_rate_limit_per_client(app, client, auth, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_CLIENT"] = 3
    make_user()
    for name in ("a", "b", "c"):
        auth.login(username=name, password="fel")
    res = auth.login()  # a different, valid account from the same client
    assert res.status_code == 429


@pytest.mark.db
def test_session_id_rotates_at_login(client, auth, user_id):
    client.get("/logga-in")
    before = client.get_cookie("formservice_session")
    auth.login()
    after = client.get_cookie("formservice_session")
    assert after is not None
    assert before is None or before.value != after.value


def test_safe_next_only(client, auth, make_user):
    make_user()
    res = auth.login(next_url="https://evil.example/")
    assert res.headers["Location"] == "/"


def test_login_returns_to_next(client, auth, make_user):
    make_user()
    res = auth.login(next_url="/konto/losenord")
    assert res.headers["Location"] == "/konto/losenord"


@pytest.mark.db
def test_idle_timeout_logs_out_and_returns(app, client, auth, user_id, dbs):
    auth.login()
    assert client.get("/konto/losenord").status_code == 200
    for row in dbs.scalars(select(WebSession)):
        row.last_seen = utcnow() - timedelta(minutes=31)
    dbs.commit()
    res = client.get("/konto/losenord")
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/logga-in?next=/konto/losenord")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "inaktiv i mer än 30 minuter" in page
    res = auth.login(next_url="/konto/losenord")
    assert res.headers["Location"] == "/konto/losenord"


def test_change_password(client, auth, make_user, app):
    make_user()
    auth.login()
    page = client.get("/konto/losenord")
    token = csrf_token(page.get_data(as_text=True))
    bad = client.post("/konto/losenord", data={"csrf_token": token, "current_password": "fel",
                                               "new_password": "kort", "repeat_password": "annat"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Nuvarande lösenord stämmer inte." in html and "minst 10 tecken" in html
    ok = client.post("/konto/losenord", data={"csrf_token": token, "current_password": PASSWORD,
                                              "new_password": "ett-helt-nytt-lösenord",
                                              "repeat_password": "ett-helt-nytt-lösenord"})
    assert ok.status_code == 302
    auth.logout()
    assert auth.login().status_code == 401
    assert auth.login(password="ett-helt-nytt-lösenord").status_code == 302


def test_password_is_hashed_with_scrypt(app, make_user, dbs):
    from formservice.accounts.models import User

    make_user()
    user = dbs.scalar(select(User))
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


@pytest.mark.db
def test_login_forgets_long_expired_sessions_and_old_attempts(client, auth, user_id, dbs):
    dbs.add(WebSession(id="x" * 64, data="", created_at=utcnow() - timedelta(days=3),
                       last_seen=utcnow() - timedelta(days=2)))
    dbs.add(LoginAttempt(account_key="a", client_key="c", at=utcnow() - timedelta(days=2), success=False))
    dbs.commit()
    auth.login()
    dbs.expire_all()
    assert dbs.get(WebSession, "x" * 64) is None
    assert dbs.scalar(select(LoginAttempt).where(LoginAttempt.account_key == "a")) is None
