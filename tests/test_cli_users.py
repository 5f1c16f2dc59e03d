"""The command line for users an administrator cannot help in the browser: the first admin of an
installation that signs in only through the organisation's identity provider, a forgotten password,
a deactivated account; and one clear line when the database cannot be reached."""
from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import select

from formservice.accounts import login
from formservice.accounts.models import User
from formservice.cli import main

from .command_line import formservice


def _sign_in(client, username, password):
    from tests.conftest import csrf_token

    page = client.get("/logga-in")
    return client.post("/logga-in", data={"username": username, "password": password,
                                          "csrf_token": csrf_token(page.get_data(as_text=True))})


def _user(dbs, username):
    dbs.expire_all()
    return dbs.scalar(select(User).where(User.username == username))


def test_first_admin_oidc_only_with_password_login_off(app, runner, make_enhet, dbs):
    app.config["PASSWORD_LOGIN"] = False
    enhet_id = str(make_enhet())
    base = ["create-user", "--username", "forvaltare", "--namn", "Fia Förvaltare", "--role", "admin",
            "--enhet-id", enhet_id]
    refused = runner.invoke(main, base)  # no identity: could never sign in
    assert refused.exit_code != 0 and "--oidc-identity" in refused.output
    done = runner.invoke(main, base + ["--oidc-identity", "urn:exempel:fia"])
    assert done.exit_code == 0, done.output
    assert "loggar in via inloggningstjänsten" in done.output
    user = _user(dbs, "forvaltare")
    assert user.external_id == "urn:exempel:fia" and user.role == "admin"
    assert not login.has_password(user) and not user.must_change_password
    again = runner.invoke(main, ["create-user", "--username", "annan", "--namn", "Anna Annan", "--role", "admin",
                                 "--enhet-id", enhet_id, "--oidc-identity", "urn:exempel:fia"])
    assert again.exit_code != 0 and "redan den identiteten" in again.output


def test_create_user_asks_for_the_password_or_reads_stdin(runner, make_enhet, dbs):
    enhet_id = str(make_enhet())
    args = ["create-user", "--namn", "Per Prompt", "--role", "jobbcoach", "--enhet-id", enhet_id]
    asked = runner.invoke(main, args + ["--username", "per"], input="långt-lösenord-1\nlångt-lösenord-1\n")
    assert asked.exit_code == 0, asked.output
    assert "långt-lösenord-1" not in asked.output  # hidden input
    assert login.check_password_hash(_user(dbs, "per").password_hash, "långt-lösenord-1")
    piped = runner.invoke(main, args + ["--username", "stina", "--password-stdin"], input="annat-lösenord-2\n")
    assert piped.exit_code == 0, piped.output
    assert login.check_password_hash(_user(dbs, "stina").password_hash, "annat-lösenord-2")
    # The option's help never suggests a password on the command line.
    assert "--password " not in runner.invoke(main, ["create-user", "--help"]).output


def test_set_oidc_identity(runner, make_user, dbs):
    make_user("olle")
    done = runner.invoke(main, ["set-oidc-identity", "olle", "urn:exempel:olle"])
    assert done.exit_code == 0, done.output
    assert _user(dbs, "olle").external_id == "urn:exempel:olle"
    assert runner.invoke(main, ["set-oidc-identity", "olle", ""]).exit_code == 0
    assert _user(dbs, "olle").external_id is None


def test_reset_password_prompts_ends_sessions_and_unlocks(app, runner, make_user, dbs, client):
    from tests.conftest import PASSWORD

    make_user("glomsk")
    assert _sign_in(client, "glomsk", PASSWORD).status_code == 302
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        _sign_in(app.test_client(), "glomsk", "fel-fel-fel-fel")
    assert _sign_in(app.test_client(), "glomsk", PASSWORD).status_code == 429  # locked
    short = runner.invoke(main, ["reset-password", "glomsk", "--password-stdin"], input="kort\n")
    assert short.exit_code != 0 and "minst 10 tecken" in short.output
    done = runner.invoke(main, ["reset-password", "glomsk"], input="nytt-lösenord-3\nnytt-lösenord-3\n")
    assert done.exit_code == 0, done.output
    assert client.get("/").status_code == 302  # the old session is gone
    fresh = _sign_in(app.test_client(), "glomsk", "nytt-lösenord-3")
    assert fresh.status_code == 302, "the lock after failed attempts was not lifted"
    assert not _user(dbs, "glomsk").must_change_password
    temporary = runner.invoke(main, ["reset-password", "glomsk", "--password-stdin", "--must-change"],
                              input="tillfälligt-4\n")
    assert temporary.exit_code == 0 and _user(dbs, "glomsk").must_change_password
    assert runner.invoke(main, ["reset-password", "ingen"], input="x\nx\n").exit_code != 0


def test_reactivate_user(runner, make_user, dbs):
    make_user("tillbaka")
    assert runner.invoke(main, ["deactivate-user", "--username", "tillbaka"]).exit_code == 0
    assert not _user(dbs, "tillbaka").active
    done = runner.invoke(main, ["reactivate-user", "tillbaka"])
    assert done.exit_code == 0 and "aktiv igen" in done.output
    user = _user(dbs, "tillbaka")
    assert user.active and user.deactivated_at is None
    assert "redan aktiv" in runner.invoke(main, ["reactivate-user", "tillbaka"]).output


def test_login_help_gives_the_first_admin_command(app, runner, make_enhet):
    empty = runner.invoke(main, ["login-help"])
    assert "create-organisation" in empty.output and "--role admin --enhet-id 1" in empty.output
    enhet_id = make_enhet()
    with_enhet = runner.invoke(main, ["login-help"])
    assert "create-organisation" not in with_enhet.output
    assert f"--role admin --enhet-id {enhet_id}" in with_enhet.output
    app.config["PASSWORD_LOGIN"] = False
    assert "--oidc-identity" in runner.invoke(main, ["login-help"]).output


# ---------------------------------------------------------------- a database that cannot be reached
def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refusing_postgres():
    """A server on 127.0.0.1 that answers every connection as PostgreSQL answers a wrong password
    (SQLSTATE 28P01): the suite's own PostgreSQL, if any, trusts local connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def message(kind: bytes, body: bytes) -> bytes:
        return kind + (len(body) + 4).to_bytes(4, "big") + body

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                try:
                    length = int.from_bytes(conn.recv(4), "big")
                    first = conn.recv(length - 4)
                    if first[:4] in (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30"):  # SSL or GSS request: no
                        conn.sendall(b"N")
                        length = int.from_bytes(conn.recv(4), "big")
                        conn.recv(length - 4)
                    fields = (b"SFATAL\x00VFATAL\x00C28P01\x00"
                              b'Mpassword authentication failed for user "formservice"\x00\x00')
                    conn.sendall(message(b"E", fields))
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.fixture
def instance(tmp_path):
    from formservice.crypto import new_keyring_dict, write_key_file

    inst = tmp_path / "instance"
    inst.mkdir()
    write_key_file(inst / "keys.json", new_keyring_dict())
    (inst / "config.py").write_text("SECRET_KEY = 'x' * 32\n")
    return inst


@pytest.mark.parametrize("command", [["init-db"], ["check"], ["run", "--port", "1"], ["jobb"], ["create-user", "--help"]])
def test_an_unused_port_gives_one_line(instance, command):
    url = f"postgresql+psycopg://formservice:hemligt@127.0.0.1:{_unused_port()}/formservice"
    done = formservice(instance, *command, FORMSERVICE_DATABASE_URL=url)
    if command[-1] == "--help":  # help needs no database
        assert done.returncode == 0
        return
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "gick inte att nå" in lines[0] and "ingen databasserver svarar" in lines[0]
    assert "hemligt" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_a_wrong_password_gives_one_line(instance):
    server = _refusing_postgres()
    try:
        url = f"postgresql+psycopg://formservice:fel@127.0.0.1:{server.getsockname()[1]}/formservice"
        done = formservice(instance, "init-db", FORMSERVICE_DATABASE_URL=url)
    finally:
        server.close()
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "lösenordet i FORMSERVICE_DATABASE_URL stämmer inte" in lines[0]


def test_a_url_that_is_not_one_gives_one_line(instance):
    done = formservice(instance, "init-db", FORMSERVICE_DATABASE_URL="postgres://formservice@127.0.0.1/formservice")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "FORMSERVICE_DATABASE_URL går inte att använda" in lines[0]


def test_the_web_factory_refuses_to_start_without_its_database(instance, monkeypatch):
    from formservice import create_app
    from formservice.db import DatabaseUnreachable

    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("FORMSERVICE_DATABASE_URL", f"postgresql+psycopg://x:y@127.0.0.1:{_unused_port()}/x")
    with pytest.raises(DatabaseUnreachable, match="gick inte att nå") as caught:
        create_app()
    assert "\n" not in str(caught.value) and ":y@" not in str(caught.value)
