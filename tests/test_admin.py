"""Administration: organisations, enheter, users, texts, API tokens — CLI and browser; the proxy."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice.accounts.models import ApiToken, Enhet, User, WebSession
from formservice.audit import AuditEntry
from formservice.cli import main
from formservice.db import utcnow

from .conftest import PASSWORD, AuthActions, csrf_token
from .formparse import form_with
from .wizard_driver import create_arende


@pytest.fixture
def admin(client, auth, make_user, make_enhet):
    enhet = make_enhet(namn="Förvaltningen")
    make_user(username="adam", role="admin", enhet_id=enhet, namn="Adam Admin")
    auth.login(username="adam")
    client.enhet_id = enhet
    return client


def post_form(client, url: str, field: str, values: dict, follow=False):
    """Submit the form on ``url`` that has ``field``, as a browser would, with ``values`` typed in."""
    page = client.get(url).get_data(as_text=True)
    form = form_with(page, field)
    data = {k: v for k, v in form["fields"].items() if v is not None}
    data.update(values)
    return client.post(form["action"] or url, data=data, follow_redirects=follow)


def action(client, url: str):
    token = csrf_token(client.get("/admin").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def new_user(client, enhet_id: int, username="nina", **extra) -> tuple[int, str]:
    res = post_form(client, "/admin/anvandare/ny", "username", dict(
        username=username, namn="Nina Ny", role="socialsekreterare", enhet_id=str(enhet_id), titel="Socialsekreterare",
        telefon="08-123 456", epost="nina@example.se", **extra))
    assert res.status_code == 200, res.get_data(as_text=True)[:3000]
    html = res.get_data(as_text=True)
    temporary = re.search(r'<code class="secret">([^<]+)</code>', html)
    uid = int(re.search(r"/admin/anvandare/(\d+)", html).group(1))
    return uid, temporary.group(1) if temporary else ""


def audit_actions(dbs) -> list[str]:
    dbs.expire_all()
    return [e.action for e in dbs.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# ---------------------------------------------------------------- the command line
def test_an_empty_database_gets_its_first_admin_from_the_command_line(runner, dbs):
    res = runner.invoke(main, ["create-organisation", "--namn", "Huddinge kommun", "--typ", "kommun"])
    assert res.exit_code == 0, res.output
    org_id = int(re.search(r"id (\d+)", res.output).group(1))
    res = runner.invoke(main, ["create-enhet", "--organisation-id", str(org_id), "--namn", "Socialtjänsten",
                               "--postnummer", "14185", "--ort", "Huddinge"])
    assert res.exit_code == 0, res.output
    enhet_id = int(re.search(r"id (\d+)", res.output).group(1))
    assert dbs.get(Enhet, enhet_id).postnummer == "141 85"
    res = runner.invoke(main, ["create-user", "--username", "Admin.Huddinge", "--namn", "Ada Admin", "--role", "admin",
                               "--enhet-id", str(enhet_id), "--password", "ett-långt-lösenord"])
    assert res.exit_code == 0, res.output
    listing = runner.invoke(main, ["list-enheter"]).output
    assert "Huddinge kommun" in listing and "Socialtjänsten" in listing
    assert dbs.scalar(select(User).where(User.username == "admin.huddinge")).role == "admin"
    # Each of these is in the organisation's audit log, though no one was logged in.
    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.organisation_id == org_id)).all()
    assert [e.action for e in entries] == ["organisation_created", "enhet_created", "user_created"]


def test_cli_refuses_duplicates_and_unknown_organisation(runner):
    runner.invoke(main, ["create-organisation", "--namn", "Solna stad", "--typ", "kommun"])
    res = runner.invoke(main, ["create-organisation", "--namn", "Solna stad", "--typ", "kommun"])
    assert res.exit_code != 0 and "finns redan" in res.output
    res = runner.invoke(main, ["create-enhet", "--organisation-id", "999", "--namn", "X"])
    assert res.exit_code != 0 and "ingen organisation med id 999" in res.output


def test_deactivate_user_from_the_cli_ends_sessions_and_tokens(app, runner, make_user, client, auth, dbs):
    make_user(username="sara")
    auth.login(username="sara")
    assert client.get("/").status_code == 200
    token = runner.invoke(main, ["create-token", "--username", "sara", "--name", "System"]).output.strip()
    assert client.get("/api/v1/blanketter", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    res = runner.invoke(main, ["deactivate-user", "--username", "sara"])
    assert res.exit_code == 0, res.output
    assert client.get("/").status_code == 302  # out at once
    assert client.get("/api/v1/blanketter", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    user = dbs.scalar(select(User).where(User.username == "sara"))
    assert not user.active and user.deactivated_at is not None
    assert dbs.scalar(select(WebSession).where(WebSession.user_id == user.id)) is None


# ---------------------------------------------------------------- enheter and users in the browser
def test_admin_creates_an_enhet_and_a_user_who_must_change_the_temporary_password(app, admin, dbs):
    res = post_form(admin, "/admin/enheter/ny", "namn", dict(
        namn="Farsta – Ekonomiskt bistånd", typ="socialtjanst", utdelningsadress="Farstagången 1",
        postnummer="12347", ort="Farsta", telefon="08-508 000 00"))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    enhet = dbs.scalar(select(Enhet).where(Enhet.namn == "Farsta – Ekonomiskt bistånd"))
    assert enhet.postnummer == "123 47"
    uid, temporary = new_user(admin, enhet.id)
    assert len(temporary) >= 16
    assert dbs.get(User, uid).must_change_password

    nina = app.test_client()
    res = AuthActions(nina).login(username="nina", password=temporary)
    assert res.status_code == 302
    for url in ("/", "/arenden", "/processkarta"):
        assert nina.get(url).headers["Location"].endswith("/konto/losenord")
    res = post_form(nina, "/konto/losenord", "new_password", dict(
        current_password=temporary, new_password="nytt-lösenord-för-nina", repeat_password="nytt-lösenord-för-nina"))
    assert res.status_code == 302
    assert nina.get("/").status_code == 200
    dbs.expire_all()
    assert not dbs.get(User, uid).must_change_password
    # Nina's contact details are what her blanketter will print.
    assert "08-123 456" in nina.get("/").get_data(as_text=True)


def test_admin_form_errors_keep_what_was_typed(admin):
    res = post_form(admin, "/admin/enheter/ny", "namn", dict(namn="Enheten", postnummer="12"))
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    assert "fem siffror" in html and 'value="Enheten"' in html


def test_username_taken_and_bad_email_are_refused(admin):
    new_user(admin, admin.enhet_id, username="nina")
    res = post_form(admin, "/admin/anvandare/ny", "username", dict(
        username="Nina", namn="Nina Två", role="socialsekreterare", enhet_id=str(admin.enhet_id), epost="inte-epost"))
    assert res.status_code == 400
    assert "giltig e-postadress" in res.get_data(as_text=True)
    res = post_form(admin, "/admin/anvandare/ny", "username", dict(
        username="Nina", namn="Nina Två", role="socialsekreterare", enhet_id=str(admin.enhet_id)))
    assert res.status_code == 400 and "upptaget" in res.get_data(as_text=True)


def test_deactivate_reactivate_and_the_audit_log(app, admin, dbs):
    uid, temporary = new_user(admin, admin.enhet_id)
    nina = app.test_client()
    AuthActions(nina).login(username="nina", password=temporary)
    assert action(admin, f"/admin/anvandare/{uid}/inaktivera").status_code == 302
    assert AuthActions(nina).login(username="nina", password=temporary).status_code == 401
    assert action(admin, f"/admin/anvandare/{uid}/aktivera").status_code == 302
    dbs.expire_all()
    assert dbs.get(User, uid).active
    assert [a for a in audit_actions(dbs) if a.startswith("user_")] == [
        "user_created", "user_created", "user_deactivated", "user_reactivated"]


def test_admin_cannot_deactivate_themselves(admin, dbs):
    me = dbs.scalar(select(User).where(User.username == "adam"))
    res = action(admin, f"/admin/anvandare/{me.id}/inaktivera")
    assert res.status_code == 302
    dbs.expire_all()
    assert dbs.get(User, me.id).active


def test_unlock_after_the_login_limit(app, admin, make_user, dbs):
    uid = make_user(username="sara", enhet_id=admin.enhet_id)
    sara = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        AuthActions(sara).login(username="sara", password="fel")
    assert AuthActions(sara).login(username="sara").status_code == 429
    assert "Spärrad" in admin.get("/admin/anvandare").get_data(as_text=True)
    assert "Häv spärren" in admin.get(f"/admin/anvandare/{uid}").get_data(as_text=True)
    assert action(admin, f"/admin/anvandare/{uid}/hav-sparr").status_code == 302
    assert AuthActions(sara).login(username="sara").status_code == 302
    assert "user_unlocked" in audit_actions(dbs)


def test_reset_password_ends_the_users_sessions(app, admin, make_user, dbs):
    uid = make_user(username="sara", enhet_id=admin.enhet_id)
    sara = app.test_client()
    AuthActions(sara).login(username="sara")
    assert sara.get("/").status_code == 200
    res = action(admin, f"/admin/anvandare/{uid}/tillfalligt-losenord")
    temporary = re.search(r'<code class="secret">([^<]+)</code>', res.get_data(as_text=True)).group(1)
    assert sara.get("/").status_code == 302
    assert AuthActions(app.test_client()).login(username="sara", password=PASSWORD).status_code == 401
    fresh = app.test_client()
    AuthActions(fresh).login(username="sara", password=temporary)
    assert fresh.get("/").headers["Location"].endswith("/konto/losenord")


def test_changing_password_ends_the_other_sessions(app, make_user):
    make_user(username="sara")
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login(username="sara")
    AuthActions(phone).login(username="sara")
    res = post_form(laptop, "/konto/losenord", "new_password", dict(
        current_password=PASSWORD, new_password="ett-helt-nytt-lösenord", repeat_password="ett-helt-nytt-lösenord"))
    assert res.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


def test_admin_edits_a_user_role_enhet_and_contact(app, admin, make_enhet, dbs):
    other = make_enhet(namn="Vårdcentralen")
    uid, _ = new_user(admin, admin.enhet_id)
    res = post_form(admin, f"/admin/anvandare/{uid}", "namn", dict(
        namn="Nina Ny", role="vardpersonal", enhet_id=str(other), titel="Kurator", telefon="08-1", epost="n@example.se",
        external_id="SE2321000016-ABCD"))
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    dbs.expire_all()
    user = dbs.get(User, uid)
    assert (user.role, user.enhet_id, user.titel, user.external_id) == ("vardpersonal", other, "Kurator",
                                                                        "SE2321000016-ABCD")


def test_an_admin_reaches_only_their_own_organisation(app, admin, make_enhet, make_user):
    foreign_enhet = make_enhet(namn="Solna – Ekonomiskt bistånd", organisation="Solna stad")
    foreign_user = make_user(username="solveig", enhet_id=foreign_enhet)
    assert admin.get(f"/admin/anvandare/{foreign_user}").status_code == 404
    assert admin.get(f"/admin/enheter/{foreign_enhet}").status_code == 404
    assert action(admin, f"/admin/anvandare/{foreign_user}/inaktivera").status_code == 404
    assert "Solveig" not in admin.get("/admin/anvandare?visa=alla").get_data(as_text=True)
    assert "Solna" not in admin.get("/admin/enheter").get_data(as_text=True)
    res = post_form(admin, "/admin/anvandare/ny", "username", dict(
        username="x", namn="X", role="admin", enhet_id=str(foreign_enhet)))
    assert res.status_code == 400  # not among the choices


def test_admin_pages_are_for_admins_only(app, client, auth, make_user):
    make_user(username="sara")
    auth.login(username="sara")
    for url in ("/admin", "/admin/anvandare", "/admin/enheter", "/admin/api-nycklar", "/admin/organisation/texter"):
        assert client.get(url).status_code == 403


# ---------------------------------------------------------------- the organisation's texts
def test_texts_preview_then_save_and_they_print(app, admin, dbs):
    address = "Finsamteamets koordinator\nSamordningsförbundet Huddinge\nBox 12\n141 00 Huddinge"
    res = post_form(admin, "/admin/organisation/texter", "text_finsam_koordinator_adress",
                    {"text_finsam_koordinator_adress": address, "action": "forhandsgranska"})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "Förhandsgranskning" in html and "Samordningsförbundet Huddinge" in html
    assert "settings_changed" not in audit_actions(dbs)
    # The PDF preview prints the address that is not saved yet.
    token = csrf_token(html)
    pdf = admin.post("/admin/organisation/texter/forhandsgranska.pdf", data={
        "csrf_token": token, "blankett": "finsamteam_anmalan", "text_finsam_koordinator_adress": address})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf.data)).pages)
    assert "Samordningsförbundet Huddinge" in text
    res = post_form(admin, "/admin/organisation/texter", "text_finsam_koordinator_adress",
                    {"text_finsam_koordinator_adress": address, "action": "spara"})
    assert res.status_code == 302
    assert "settings_changed" in audit_actions(dbs)
    page = admin.get("/admin/organisation/texter").get_data(as_text=True)
    assert "Box 12" in page


def test_texts_unknown_or_too_long_are_refused(admin):
    res = post_form(admin, "/admin/organisation/texter", "text_sip_lagrum",
                    {"text_sip_lagrum": "x" * 2500, "action": "spara"})
    assert res.status_code == 400 and "För lång text" in res.get_data(as_text=True)


def test_organisation_name_is_edited_by_its_admin(admin, dbs):
    res = post_form(admin, "/admin/organisation", "namn", {"namn": "Teststaden (ny)", "typ": "kommun"})
    assert res.status_code == 302
    assert 'value="Teststaden (ny)"' in admin.get("/admin/organisation").get_data(as_text=True)
    assert "organisation_changed" in audit_actions(dbs)


# ---------------------------------------------------------------- API tokens
def test_tokens_created_listed_expired_and_revoked(app, admin, dbs):
    res = post_form(admin, "/admin/api-nycklar", "name", {"name": "Verksamhetssystemet", "expires": "2099-12-31",
                                                          "user_id": "1"})
    assert res.status_code == 200, res.get_data(as_text=True)[:2000]
    token = re.search(r'<code class="secret">([^<]+)</code>', res.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/blanketter", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = dbs.scalar(select(ApiToken).where(ApiToken.name == "Verksamhetssystemet"))
    assert row.expires_at.isoformat() == "2099-12-31T22:59:59"  # the end of the day in Swedish (winter) time
    listing = admin.get("/admin/api-nycklar").get_data(as_text=True)
    assert "Verksamhetssystemet" in listing and "2099-12-31" in listing

    # Expired yesterday: refused.
    row.expires_at = utcnow() - timedelta(days=1)
    dbs.commit()
    assert api.get("/api/v1/blanketter", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    row.expires_at = None
    dbs.commit()
    assert action(admin, f"/admin/api-nycklar/{row.id}/aterkalla").status_code == 302
    assert api.get("/api/v1/blanketter", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert {"token_created", "token_revoked"} <= set(audit_actions(dbs))


def test_token_expiry_in_the_past_or_garbled_is_refused(admin):
    for expires, message in (("2001-01-01", "passerat"), ("31/12", "ÅÅÅÅ-MM-DD")):
        res = post_form(admin, "/admin/api-nycklar", "name", {"name": "X", "expires": expires, "user_id": "1"})
        assert res.status_code == 400 and message in res.get_data(as_text=True)


# ---------------------------------------------------------------- behind a reverse proxy
@pytest.fixture
def proxied(app_config, tmp_path, monkeypatch):
    from formservice import create_app

    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(dict(app_config, TRUSTED_PROXIES=1))
    yield application
    application.extensions["db_engine"].dispose()


def _login_from(app, address: str, username: str, password: str):
    client = app.test_client()
    page = client.get("/logga-in", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    return client.post("/logga-in", data={"username": username, "password": password,
                                          "csrf_token": csrf_token(page.get_data(as_text=True))},
                       headers={"X-Forwarded-For": address}, environ_base={"REMOTE_ADDR": "127.0.0.1"})


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(proxied, make_user, dbs):
    make_user(username="vera", role="vardpersonal")
    limit = proxied.config["LOGIN_MAX_FAILURES_PER_CLIENT"]
    for i in range(limit):
        _login_from(proxied, "203.0.113.7", f"okand{i}", "fel")
    assert _login_from(proxied, "203.0.113.7", "vera", PASSWORD).status_code == 429
    assert _login_from(proxied, "198.51.100.20", "vera", PASSWORD).status_code == 302
    clients = {e.client for e in dbs.scalars(select(AuditEntry).where(AuditEntry.action == "login"))}
    assert clients == {"198.51.100.20"}


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, make_user, dbs):
    make_user(username="sara")
    res = _login_from(app, "203.0.113.99", "sara", PASSWORD)
    assert res.status_code == 302
    assert {e.client for e in dbs.scalars(select(AuditEntry).where(AuditEntry.action == "login"))} == {"127.0.0.1"}


def test_a_deactivated_users_work_stays(app, admin, make_user, dbs):
    """Deactivating someone never loses their ärenden: the enhet keeps them."""
    uid = make_user(username="sara", enhet_id=admin.enhet_id)
    sara = app.test_client()
    AuthActions(sara).login(username="sara")
    pid = create_arende(sara)
    action(admin, f"/admin/anvandare/{uid}/inaktivera")
    assert admin.get(f"/arenden/{pid}").status_code == 200


def test_the_accessibility_contact_is_set_by_the_admin_and_shown_publicly(app, admin):
    res = post_form(admin, "/admin/organisation", "namn", {"namn": "Teststaden", "typ": "kommun",
                                                          "kontakt_epost": "inte-en-adress"})
    assert res.status_code == 400 and "Skriv en giltig e-postadress." in res.get_data(as_text=True)
    assert 'value="inte-en-adress"' in res.get_data(as_text=True)
    res = post_form(admin, "/admin/organisation", "namn", {"namn": "Teststaden", "typ": "kommun",
                                                          "kontakt_epost": "tillganglighet@teststaden.example",
                                                          "kontakt_telefon": "08-123 456 00"})
    assert res.status_code == 302
    public = app.test_client().get("/tillganglighet").get_data(as_text=True)  # no login
    assert "Teststaden" in public and "mailto:tillganglighet@teststaden.example" in public
    assert "08-123 456 00" in public


@pytest.mark.parametrize("url, field, values", [
    ("/admin/anvandare/ny", "username", {"username": "", "namn": "", "role": "x", "epost": "nej"}),
    ("/admin/enheter/ny", "utdelningsadress", {"namn": "", "typ": "x", "postnummer": "1" * 20}),
    ("/admin/organisation", "kontakt_epost", {"namn": "", "typ": "x", "kontakt_epost": "nej"}),
    ("/admin/api-nycklar", "expires", {"name": "", "user_id": "x"}),
])
def test_the_error_summary_lists_errors_in_the_order_of_the_fields(admin, url, field, values):
    """The summary follows the page, not the order the form class declares its fields (a new user's
    username is declared last but shown first)."""
    html = post_form(admin, url, field, values).get_data(as_text=True)
    summary = html.split('class="error-summary__list"', 1)[1].split("</ul>", 1)[0]
    targets = re.findall(r'<a href="#([^"]+)"', summary)
    assert len(targets) >= 2, targets
    positions = [html.index(f'id="{target}"') for target in targets]
    assert positions == sorted(positions), targets


def test_the_admin_sets_an_enhets_funktionsadress_and_a_wrong_one_is_refused(admin, dbs):
    res = post_form(admin, "/admin/enheter/ny", "namn", dict(namn="Finsamteam Farsta", typ="finsam",
                                                              funktionsadress="en person"))
    assert res.status_code == 400 and 'value="en person"' in res.get_data(as_text=True)
    assert dbs.scalar(select(Enhet).where(Enhet.namn == "Finsamteam Farsta")) is None
    res = post_form(admin, "/admin/enheter/ny", "namn", dict(namn="Finsamteam Farsta", typ="finsam",
                                                              funktionsadress="finsam.farsta@example.se"))
    assert res.status_code == 302
    enhet = dbs.scalar(select(Enhet).where(Enhet.namn == "Finsamteam Farsta"))
    assert (enhet.typ, enhet.funktionsadress) == ("finsam", "finsam.farsta@example.se")
    assert "finsam.farsta@example.se" in admin.get("/admin/enheter").get_data(as_text=True)
    # …and the förbund's address book lists it for its parties.
    assert "finsam.farsta@example.se" in admin.get("/adressbok").get_data(as_text=True)
