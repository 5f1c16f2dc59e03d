"""Issue 10's whole story on an empty database (PostgreSQL in CI): the first admin from the command
line sets up an enhet and two users in the browser; one signs in through the organisation's OpenID
provider, the other with a password, and both produce a blankett; a deactivated user is out at
once; a backup restores; behind a proxy one client's failed logins do not lock out another."""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from formservice import create_app
from formservice.arenden.models import Dokument
from formservice.cli import main
from formservice.crypto import new_keyring_dict, write_key_file

from .conftest import AuthActions, csrf_token, reset_postgres
from .formparse import form_with
from .oidc.server import ProviderBrowser
from .wizard_driver import create_arende, fill_blankett

pytestmark = pytest.mark.db


def submit(client, url: str, field: str, values: dict):
    form = form_with(client.get(url).get_data(as_text=True), field)
    data = {k: v for k, v in form["fields"].items() if v is not None}
    data.update(values)
    return client.post(form["action"] or url, data=data)


def test_from_an_empty_database_to_two_users_producing_blanketter(database_url, tmp_path, monkeypatch,
                                                                   oidc_provider):
    if database_url.startswith("sqlite"):
        (tmp_path / "test.sqlite").unlink()  # not even migrated: as new as it gets
    else:
        reset_postgres(database_url)
    instance = tmp_path / "inst"
    instance.mkdir()
    write_key_file(instance / "keys.json", new_keyring_dict())
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True, "SECRET_KEY": "going-live", "DATABASE_URL": database_url,
                      "SESSION_COOKIE_SECURE": False, "TRUSTED_PROXIES": 1, **oidc_provider.settings()})
    cli = app.test_cli_runner()

    # The first admin, from the command line.
    assert cli.invoke(main, ["init-db"]).exit_code == 0
    out = cli.invoke(main, ["create-organisation", "--namn", "Huddinge kommun", "--typ", "kommun"]).output
    org_id = re.search(r"id (\d+)", out).group(1)
    out = cli.invoke(main, ["create-enhet", "--organisation-id", org_id, "--namn", "Förvaltningen"]).output
    first_enhet = re.search(r"id (\d+)", out).group(1)
    res = cli.invoke(main, ["create-user", "--username", "forvaltare", "--namn", "Fia Förvaltare", "--role", "admin",
                            "--enhet-id", first_enhet, "--password", "förvaltarens-lösenord"])
    assert res.exit_code == 0, res.output

    # The admin sets up an enhet and two users in the browser.
    admin = app.test_client()
    assert AuthActions(admin).login(username="forvaltare", password="förvaltarens-lösenord").status_code == 302
    res = submit(admin, "/admin/enheter/ny", "namn", {"namn": "Ekonomiskt bistånd Flemingsberg", "typ": "socialtjanst",
                                                      "utdelningsadress": "Hälsovägen 1", "postnummer": "14157",
                                                      "ort": "Huddinge"})
    assert res.status_code == 302
    page = admin.get("/admin/anvandare/ny").get_data(as_text=True)
    enhet_id = re.search(r'<option value="(\d+)">Ekonomiskt bistånd Flemingsberg</option>', page).group(1)
    res = submit(admin, "/admin/anvandare/ny", "username", {
        "username": "anna", "namn": "Anna Andersson", "role": "socialsekreterare", "enhet_id": enhet_id,
        "external_id": "anna-sub-1", "inloggning": "oidc"})
    assert res.status_code == 200 and "loggar in via organisationens inloggning" in res.get_data(as_text=True)
    res = submit(admin, "/admin/anvandare/ny", "username", {
        "username": "bo", "namn": "Bo Bengtsson", "role": "socialsekreterare", "enhet_id": enhet_id})
    temporary = re.search(r'<code class="secret">([^<]+)</code>', res.get_data(as_text=True)).group(1)

    # Anna signs in through the provider; Bo with his password (and replaces the temporary one).
    anna = app.test_client()
    with ProviderBrowser(oidc_provider.issuer) as person:
        start = anna.get("/logga-in/oidc").headers["Location"]
        callback = urlsplit(person.login(start, "anna-sub-1"))
        res = anna.get(f"{callback.path}?{callback.query}")
    assert res.status_code == 302 and anna.get("/").status_code == 200
    bo = app.test_client()
    AuthActions(bo).login(username="bo", password=temporary)
    res = submit(bo, "/konto/losenord", "new_password", {"current_password": temporary,
                                                         "new_password": "bos-eget-lösenord",
                                                         "repeat_password": "bos-eget-lösenord"})
    assert res.status_code == 302

    # Both produce a blankett.
    catalogue = app.extensions["catalogue"]
    for client in (anna, bo):
        pid = create_arende(client, ruta="soc1.4")
        result = fill_blankett(client, pid, "forandringsplan", catalogue)
        assert "Tilda Testperson" in result["text"] and "Huddinge kommun" in result["text"]
    with app.app_context():
        from formservice import db

        assert db.session().scalar(select(func.count()).select_from(Dokument)) == 2

    # A deactivated user is out at once.
    page = admin.get("/admin/anvandare?visa=alla").get_data(as_text=True)
    bo_id = re.search(r'/admin/anvandare/(\d+)">Bo Bengtsson', page).group(1)
    admin.post(f"/admin/anvandare/{bo_id}/inaktivera", data={"csrf_token": csrf_token(page)})
    assert bo.get("/").status_code == 302

    # Behind the proxy: one client's failed logins do not lock out another.
    limit = app.config["LOGIN_MAX_FAILURES_PER_CLIENT"]
    for i in range(limit):
        c = app.test_client()
        token = csrf_token(c.get("/logga-in").get_data(as_text=True))
        c.post("/logga-in", data={"username": f"x{i}", "password": "fel", "csrf_token": token},
               headers={"X-Forwarded-For": "203.0.113.9"})
    elsewhere = app.test_client()
    token = csrf_token(elsewhere.get("/logga-in").get_data(as_text=True))
    res = elsewhere.post("/logga-in", data={"username": "forvaltare", "password": "förvaltarens-lösenord",
                                            "csrf_token": token}, headers={"X-Forwarded-For": "198.51.100.4"})
    assert res.status_code == 302

    # A backup restores.
    res = cli.invoke(main, ["backup", str(tmp_path / "kopior"), "--keys-dest", str(tmp_path / "nycklar")])
    assert res.exit_code == 0, res.output
    [archive] = list((tmp_path / "kopior").glob("*.tar.gz"))
    [keys] = list((tmp_path / "nycklar").glob("*.json"))
    app.extensions["db_engine"].dispose()
    if database_url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            p = tmp_path / f"test.sqlite{suffix}"
            if p.exists():
                p.unlink()
    else:
        reset_postgres(database_url)
    res = cli.invoke(main, ["restore", str(archive), "--keys", str(keys), "--yes"])
    assert res.exit_code == 0, res.output
    assert json.loads((instance / "keys.json").read_text()) == json.loads(keys.read_text())
    again = app.test_client()
    assert AuthActions(again).login(username="forvaltare", password="förvaltarens-lösenord").status_code == 302
    assert again.get("/arenden").get_data(as_text=True).count("Tilda Testperson") == 2
    app.extensions["db_engine"].dispose()
