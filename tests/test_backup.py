"""Backups: back up, wipe, restore — the data readable and searchable again (SQLite and PostgreSQL)."""
from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import tarfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from formservice import create_app
from formservice.cli import main
from formservice.crypto import new_keyring_dict, write_key_file

from .command_line import CLI, ROOT, environment
from .conftest import AuthActions, csrf_token, reset_postgres
from .wizard_driver import create_arende

CONFIG = dict(TESTING=True, SECRET_KEY="test-secret-key", SESSION_COOKIE_SECURE=False)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An instance whose keys live in instance/keys.json, as in production."""
    inst = tmp_path / "inst"
    inst.mkdir()
    write_key_file(inst / "keys.json", new_keyring_dict())
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(inst))
    return inst


def _app(database_url):
    return create_app(dict(CONFIG, DATABASE_URL=database_url))


def _wipe(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        reset_postgres(database_url)


def _search(client, pnr: str) -> str:
    token = csrf_token(client.get("/arenden").get_data(as_text=True))
    return client.post("/arenden", data={"csrf_token": token, "q": pnr}).get_data(as_text=True)


@pytest.mark.db
def test_backup_wipe_restore_round_trip(app, make_user, database_url, instance, tmp_path):
    make_user(username="sara")
    first = _app(database_url)
    client = first.test_client()
    AuthActions(client).login(username="sara")
    public_id = create_arende(client)
    keys_before = json.loads((instance / "keys.json").read_text())

    dest, keys_dest = tmp_path / "kopior", tmp_path / "nycklar"
    res = first.test_cli_runner().invoke(main, ["backup", str(dest), "--keys-dest", str(keys_dest)])
    assert res.exit_code == 0, res.output
    [archive] = list(dest.glob("formservice-backup-*.tar.gz"))
    [keys_file] = list(keys_dest.glob("formservice-keys-*.json"))
    assert json.loads(keys_file.read_text()) == keys_before
    assert keys_file.stat().st_mode & 0o077 == 0 and archive.stat().st_mode & 0o077 == 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert "manifest.json" in names and ("database.sqlite" in names or "database.pgdump" in names)
    assert manifest["key_ids"] == sorted(keys_before["data_keys"]) and manifest["revision"]
    assert keys_before["index_key"] not in json.dumps(manifest)
    first.extensions["db_engine"].dispose()

    # A new machine: the database is gone and the instance has other keys.
    _wipe(database_url)
    (instance / "keys.json").unlink()
    write_key_file(instance / "keys.json", new_keyring_dict())
    second = _app(database_url)
    refused = second.test_cli_runner().invoke(main, ["restore", str(archive), "--yes"])
    assert refused.exit_code != 0 and "Nycklarna som säkerhetskopian krypterades med saknas" in refused.output

    res = second.test_cli_runner().invoke(main, ["restore", str(archive), "--keys", str(keys_file), "--yes"])
    assert res.exit_code == 0, res.output
    assert json.loads((instance / "keys.json").read_text()) == keys_before
    second.extensions["db_engine"].dispose()

    third = _app(database_url)
    restored = third.test_client()
    AuthActions(restored).login(username="sara")
    assert "Tilda Testperson" in restored.get(f"/arenden/{public_id}").get_data(as_text=True)
    assert public_id in _search(restored, "19121212-1212")
    third.extensions["db_engine"].dispose()


def test_keys_must_not_sit_beside_the_backup(app, instance, database_url, tmp_path):
    first = _app(database_url)
    res = first.test_cli_runner().invoke(main, ["backup", str(tmp_path / "b"), "--keys-dest", str(tmp_path / "b")])
    assert res.exit_code != 0 and "annat ställe" in res.output


def test_backup_without_keys_warns(app, instance, database_url, tmp_path):
    first = _app(database_url)
    res = first.test_cli_runner().invoke(main, ["backup", str(tmp_path / "b")])
    assert res.exit_code == 0
    assert "nycklarna kopierades inte" in res.output


def test_restore_refuses_what_is_not_a_backup(app, instance, database_url, tmp_path):
    bogus = tmp_path / "inte.tar.gz"
    bogus.write_bytes(b"not a tar")
    res = _app(database_url).test_cli_runner().invoke(main, ["restore", str(bogus), "--yes"])
    assert res.exit_code != 0 and "ingen läsbar säkerhetskopia" in res.output


def test_restore_refuses_a_backup_from_a_newer_version(app, instance, database_url, tmp_path, make_user):
    first = _app(database_url)
    res = first.test_cli_runner().invoke(main, ["backup", str(tmp_path / "b"), "--keys-dest", str(tmp_path / "k")])
    assert res.exit_code == 0, res.output
    [archive] = list((tmp_path / "b").glob("*.tar.gz"))
    # Rewrite the manifest as if a later version had made it.
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(newer, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["revision"] = "9999"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    res = first.test_cli_runner().invoke(main, ["restore", str(newer), "--yes"])
    assert res.exit_code != 0 and "nyare version" in res.output


def test_sqlite_backup_is_consistent_while_the_database_is_open(app, instance, database_url, tmp_path, make_user):
    make_user(username="sara")
    first = _app(database_url)
    with first.app_context():
        from formservice import db

        conn = db.engine().connect()  # an open connection, as a running service has
        res = first.test_cli_runner().invoke(main, ["backup", str(tmp_path / "b"), "--keys-dest", str(tmp_path / "k")])
        conn.close()
    assert res.exit_code == 0, res.output
    [archive] = list(Path(tmp_path / "b").glob("*.tar.gz"))
    (tmp_path / "x").mkdir()
    with tarfile.open(archive) as tar:
        (tmp_path / "x" / "database.sqlite").write_bytes(tar.extractfile("database.sqlite").read())
    import sqlite3

    copy = sqlite3.connect(tmp_path / "x" / "database.sqlite")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT username FROM app_user").fetchall() == [("sara",)]


# ---------------------------------------------------------------- clean under faults
@contextmanager
def _backup_process(instance: Path, database_url: str, tmp_path: Path):
    """`formservice backup` of a database with ballast, in a process of its own with a system temp
    folder of its own to inspect; yields (process, destination, temp folder). Never outlives the test."""
    _ballast(database_url)
    dest, system_tmp = tmp_path / "kopior", tmp_path / "systemtmp"
    system_tmp.mkdir()
    env = environment(instance, FORMSERVICE_DATABASE_URL=database_url, FORMSERVICE_SECRET_KEY="test-secret-key",
                      TMPDIR=str(system_tmp))
    process = subprocess.Popen(CLI + ["backup", str(dest), "--keys-dest", str(tmp_path / "nycklar")], env=env,
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process, dest, system_tmp
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def _ballast(database_url: str, megabytes: int = 40) -> None:
    """Incompressible bytes in a table of their own: gzip takes a second or two over them, a window
    in which the test finds the backup half-written, every time."""
    path = database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        conn.executemany("INSERT INTO ballast VALUES (?)", ((os.urandom(1 << 20),) for _ in range(megabytes)))
    conn.close()


def _half_way(process: subprocess.Popen, dest: Path) -> list[Path]:
    """Wait until the archive is being written (the database copy is whole by then)."""
    deadline = time.monotonic() + 60
    while not list(dest.glob("*.tar.partial")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the backup never started writing its archive"
        time.sleep(0.005)
    return sorted(dest.iterdir())


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_an_interrupted_backup_leaves_nothing_in_the_system_temp_folder(app, instance, database_url, tmp_path,
                                                                        signum):
    """kill -9 mid-backup: nothing in the system temp folder; what is left in the destination is
    owner-only and removed by the next run. SIGTERM: nothing left anywhere."""
    with _backup_process(instance, database_url, tmp_path) as (process, dest, system_tmp):
        during = _half_way(process, dest)
        process.send_signal(signum)
        assert process.wait(timeout=30) in (-signal.SIGKILL, 128 + signal.SIGTERM)
    assert {p.suffix for p in during} >= {".partial"} and len([p for p in during if p.suffix == ".partial"]) == 2
    assert list(system_tmp.iterdir()) == []
    assert not list(dest.glob("*.tar.gz"))
    left = [p for p in dest.iterdir() if p.name != ".formservice-backup.lock"]
    if signum == signal.SIGTERM:
        assert left == []
        return
    assert left and all(p.name.endswith((".partial", ".partial-journal")) for p in left)
    assert {p.name: p.stat().st_mode & 0o777 for p in left} == dict.fromkeys((p.name for p in left), 0o600)

    res = _app(database_url).test_cli_runner().invoke(main, ["backup", str(dest), "--keys-dest",
                                                             str(tmp_path / "nycklar")])
    assert res.exit_code == 0, res.output
    assert sorted(p.suffix for p in dest.iterdir() if p.name != ".formservice-backup.lock") == [".gz"]
    assert list(system_tmp.iterdir()) == []


def test_a_second_backup_into_the_same_folder_waits_its_turn(app, instance, database_url, tmp_path):
    """One backup per destination at a time: the second is refused rather than removing the first's files."""
    with _backup_process(instance, database_url, tmp_path) as (process, dest, _system_tmp):
        during = _half_way(process, dest)
        res = _app(database_url).test_cli_runner().invoke(main, ["backup", str(dest)])
        assert res.exit_code != 0 and "En annan säkerhetskopiering" in res.output
        assert all(p.exists() for p in during)
        assert process.wait(timeout=60) == 0
    assert len(list(dest.glob("*.tar.gz"))) == 1 and not list(dest.glob("*.partial*"))
