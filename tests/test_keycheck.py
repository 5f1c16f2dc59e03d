"""Keys checked at start (arenden/keycheck.py): a real instance folder with data, its keys replaced,
and `check`, `init-db`, `run` and /healthz each refuse with one line; `init-instance` never makes
keys beside data; the right keys still pass."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from formservice import KeysMissing, create_app
from formservice.crypto import new_key, new_keyring_dict, write_key_file

from .command_line import demo_instance, formservice
from .conftest import AuthActions, TEST_KEYS
from .wizard_driver import create_arende

MISMATCH = "passar inte databasen"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return demo_instance(tmp_path_factory.mktemp("seeded") / "instance")


@pytest.fixture
def instance(seeded, tmp_path) -> Path:
    copy = tmp_path / "instance"
    shutil.copytree(seeded, copy)
    return copy


def keys(instance: Path) -> dict:
    return json.loads((instance / "keys.json").read_text())


def healthz(instance: Path, monkeypatch):
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True})  # instance/keys.json and the instance's SQLite database
    try:
        return app.test_client().get("/healthz")
    finally:
        app.extensions["db_engine"].dispose()


def only_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_new_keys_beside_the_data_are_refused_by_check_init_db_run_and_healthz(instance, monkeypatch):
    old = keys(instance)
    write_key_file(instance / "keys.json", new_keyring_dict())  # a fresh keys.json, as after a careless reinstall
    refusals = {}
    for command in (["check"], ["init-db"], ["run", "--port", "1", "--workers", "1", "--render-processes", "0"]):
        done = formservice(instance, *command)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        refusals[command[0]] = only_line(done.stderr)
    line = refusals["check"]
    assert MISMATCH in line and repr(old["active"]) in line and str(instance / "keys.json") in line
    assert "init-instance" not in line and "formservice restore" in line
    assert refusals == dict.fromkeys(refusals, line)  # the same one line from each
    res = healthz(instance, monkeypatch)
    assert res.status_code == 503
    assert res.get_json() == {"status": "error", "database": "reachable", "keys": "mismatch", "error": line}


def test_the_keys_the_data_was_encrypted_with_pass(instance, monkeypatch):
    for command in (["check"], ["init-db"]):
        done = formservice(instance, *command)
        assert done.returncode == 0, done.stderr
        assert MISMATCH not in done.stdout + done.stderr
    res = healthz(instance, monkeypatch)
    assert res.status_code == 200 and res.get_json() == {"status": "ok", "database": "reachable"}
    # (`formservice run` with the right keys serves: tests/test_server.py starts it on such an instance.)


def test_a_key_of_the_same_name_with_other_bytes_is_refused(instance):
    data = keys(instance)
    data["data_keys"] = {kid: new_key() for kid in data["data_keys"]}
    write_key_file(instance / "keys.json", data)
    done = formservice(instance, "check")
    line = only_line(done.stderr)
    assert done.returncode == 1 and MISMATCH in line and "andra nyckelbytes" in line


def test_another_index_key_is_refused(instance, monkeypatch):
    """The data keys read everything, but every personnummer search would find nothing."""
    write_key_file(instance / "keys.json", dict(keys(instance), index_key=new_key()))
    done = formservice(instance, "init-db")
    line = only_line(done.stderr)
    assert done.returncode == 1 and "sökindexets nyckel" in line
    assert healthz(instance, monkeypatch).status_code == 503


def test_init_instance_makes_no_keys_beside_data(instance, monkeypatch):
    (instance / "keys.json").unlink()
    done = formservice(instance, "init-instance")
    line = only_line(done.stderr)
    assert done.returncode == 1 and not (instance / "keys.json").exists()
    assert str(instance / "keys.json") in line and "formservice restore" in line and "backup --keys-dest" in line
    # Nothing else advises init-instance beside this database either.
    done = formservice(instance, "check")
    assert done.returncode == 1 and "init-instance" not in done.stderr and "redan krypterade uppgifter" in done.stderr
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    with pytest.raises(KeysMissing) as refused:
        create_app({"TESTING": True})
    assert refused.value.data is True and "init-instance" not in str(refused.value)


def test_init_instance_still_makes_keys_for_a_new_installation(tmp_path):
    instance = tmp_path / "ny"
    done = formservice(instance, "init-instance")
    assert done.returncode == 0, done.stderr
    assert set(keys(instance)) == {"active", "data_keys", "index_key"}
    assert (instance / "keys.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.db
def test_keys_are_checked_on_either_database(app, make_user, client, auth, database_url, monkeypatch, tmp_path):
    """The sampling reads BLOB (SQLite) and bytea (PostgreSQL) headers alike."""
    from formservice.arenden import keycheck

    make_user()
    auth.login()
    create_arende(client)
    assert keycheck.app_mismatch(app) is None
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "other"))
    other = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": database_url,
                        "KEYS": dict(TEST_KEYS, data_keys={"k2": new_key()}, active="k2")})
    try:
        line = keycheck.app_mismatch(other)
        assert line and "'k1'" in line and "FORMSERVICE_KEYS" in line
        assert other.test_client().get("/healthz").status_code == 503
        # What the check prevents: sign-in works, the ärende cannot be read.
        assert AuthActions(other.test_client()).login().status_code == 302
    finally:
        other.extensions["db_engine"].dispose()
