import logging

from .conftest import PASSWORD, TEST_PERSONNUMMER, csrf_token


def test_security_headers_on_a_page(client):
    res = client.get("/logga-in")
    csp = res.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert res.headers["Referrer-Policy"] == "same-origin"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["Cache-Control"] == "no-store"


def test_security_headers_on_errors_and_static(client):
    for path in ("/finns-inte", "/static/css/app.css"):
        res = client.get(path)
        assert "default-src 'self'" in res.headers["Content-Security-Policy"]
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        res.close()


def test_404_is_swedish(client):
    res = client.get("/finns-inte")
    assert res.status_code == 404
    assert "Sidan finns inte" in res.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user()
    res = client.post("/logga-in", data={"username": "testare", "password": "x"})
    assert res.status_code == 400
    assert "Formuläret har gått ut" in res.get_data(as_text=True)


def test_logout_without_csrf_is_refused(client, auth, make_user):
    make_user()
    auth.login()
    assert client.post("/logga-ut").status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_session_cookie_flags(app, client, make_user, auth):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user()
    page = client.get("/logga-in")
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_no_inline_script_or_style(client, auth, make_user):
    make_user()
    auth.login()
    for path in ("/logga-in", "/", "/konto/losenord"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "http://" not in html and "https://" not in html  # no CDN


def test_logs_hold_no_personnummer_or_form_values(client, auth, make_user, caplog):
    make_user()
    caplog.set_level(logging.DEBUG)
    page = client.get("/logga-in")
    client.post("/logga-in", data={"username": TEST_PERSONNUMMER, "password": "hemligt-värde",
                                   "csrf_token": csrf_token(page.get_data(as_text=True))})
    auth.login()
    text = caplog.text
    assert TEST_PERSONNUMMER not in text and "hemligt-värde" not in text
    assert "login user_id=" in text


def test_healthz(client):
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.get_json() == {"status": "ok", "database": "reachable"}


def test_healthz_reports_unreachable_database(app_config, tmp_path, monkeypatch):
    from formservice import create_app

    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "i"))
    cfg = dict(app_config, DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite")
    res = create_app(cfg).test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json()["database"] == "unreachable"


def test_every_log_line_is_one_line_whatever_the_request_put_in_it():
    """A percent-encoded CR/LF in a path reaches the log decoded: escaped, it cannot forge a line."""
    from formservice.security import OneLineFormatter

    formatter = OneLineFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    forged = "/a\r\n127.0.0.1 - GET /admin 200\x1b[2J\u2028x\x85y\x00"
    record = logging.LogRecord("formservice", logging.WARNING, __file__, 1, "path %s", (forged,), None)
    assert formatter.format(record) == ("WARNING formservice: path /a\\r\\n127.0.0.1 - GET /admin 200\\x1b[2J"
                                        "\\u2028x\\x85y\\x00")
    try:
        raise ValueError("bad\nFORGED line")
    except ValueError:
        import sys

        record = logging.LogRecord("formservice", logging.ERROR, __file__, 1, "Exception on %s", (forged,),
                                   sys.exc_info())
    text = formatter.format(record)
    assert "\n" not in text and "\r" not in text
    assert "Traceback (most recent call last):\\n" in text and "ValueError: bad\\nFORGED line" in text


def test_the_return_address_after_login_is_bounded(client):
    """Whatever a request's address, the redirect to the login page stays short: with the query when
    it fits, the path alone when not, the start page when even that is too long."""
    from formservice.security import LOGIN_URL_MAX

    res = client.get("/arenden?status=oppet")
    assert res.status_code == 302 and res.headers["Location"] == "/logga-in?next=/arenden?status%3Doppet"
    res = client.get("/arenden?q=" + "å" * 6000)
    assert res.status_code == 302 and res.headers["Location"] == "/logga-in?next=/arenden"
    res = client.get("/arenden/" + "ö" * 3000)
    assert res.status_code == 302 and len(res.headers["Location"]) <= LOGIN_URL_MAX
    assert res.headers["Location"] == "/logga-in"


def test_forms_work_over_https_as_a_browser_posts_them(client, make_user):
    """Behind TLS Flask-WTF checks that a post's Referer is this host. The browser sends one only if
    the Referrer-Policy lets it (same-origin); a post from another site, or without one, is refused."""
    make_user(username="tls.user")
    base = "https://formservice.example.se"
    page = client.get(base + "/logga-in")
    assert page.headers["Referrer-Policy"] == "same-origin"
    data = {"username": "tls.user", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert client.post(base + "/logga-in", data=data, headers={"Referer": "https://annan.example.se/"}).status_code == 400
    assert client.post(base + "/logga-in", data=data).status_code == 400  # no Referer at all
    res = client.post(base + "/logga-in", data=data, headers={"Referer": base + "/logga-in"})
    assert res.status_code == 302
