"""The demo's test seal (issue 29, item 3; formservice/cli/testsigill.py): `formservice demo` makes a
test PKI in the instance folder (TESTSIGILL, keys readable by the service's user only) and seals
the demo's own documents with it; `formservice run` serves its TSA, OCSP and CRL in a child that
dies with the server and seals every new archive copy with it, valid by arenden/seals.py's checks;
after a restart the earlier copies still verify and new ones are sealed again by the same CA. An
installation made without the demo gets no test seal, and a real seal always wins over one."""
from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from formservice.cli import testsigill

from .command_line import formservice
from .test_server import running

MAIN_ORGANISATION = "Stockholms stad"  # the demo's caseworkers' organisation (arenden/demo.py)


@pytest.fixture(scope="module")
def demo_instance(tmp_path_factory) -> Path:
    """A demo installation as scripts/serve makes one for a new embedded database."""
    instance = tmp_path_factory.mktemp("demo_sigill") / "instance"
    for command in (["init-instance"], ["init-db"], ["demo", "--if-empty", "--exempelarenden", "0"]):
        done = formservice(instance, *command)
        assert done.returncode == 0, done.stderr
    assert "Testsigill skapat" in done.stdout
    return instance


def _app(instance: Path, monkeypatch):
    """The app as `formservice run` builds it on this instance, before gunicorn forks."""
    from formservice import create_app

    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    return create_app()


def _produce(app) -> int:
    """A new document in Tolvan's ärende, produced as the caseworker's click does it (the print,
    then the rest with its archive copy): its id."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import registry
    from formservice.rendering import documents
    from formservice.samverkan.demo import tolvans_arende

    from .sample_values import sample_values

    with app.app_context():
        catalogue = app.extensions["catalogue"]
        user = db.session().scalar(select(User).where(User.username == "soc.demo"))
        raw = {}
        for part in documents.parts_of(catalogue, "forandringsplan"):
            raw.update(sample_values(part))
        values = documents.validate(catalogue, "forandringsplan", raw)
        dok, finish = registry.produce(user, tolvans_arende(user), catalogue, "forandringsplan", values)
        dok_id = dok.id
        finish()
        return dok_id


def _arende_page(app, port: int) -> str:
    """Tolvan's ärende as soc.demo sees it through the running server."""
    import requests

    from formservice import db
    from formservice.accounts.models import User
    from formservice.cli import DEMO_PASSWORD
    from formservice.samverkan.demo import tolvans_arende

    from .conftest import csrf_token

    with app.app_context():
        public_id = tolvans_arende(db.session().scalar(select(User).where(User.username == "soc.demo"))).public_id
    base, session = f"http://127.0.0.1:{port}", requests.Session()
    login = session.get(f"{base}/logga-in", timeout=30).text
    session.post(f"{base}/logga-in", data={"username": "soc.demo", "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_token(login)}, timeout=30)
    return session.get(f"{base}/arenden/{public_id}", timeout=60).text


def _statuses(app) -> dict:
    from formservice import db
    from formservice.arenden import seals
    from formservice.arenden.models import Dokument

    with app.app_context():
        ids = list(db.session().scalars(select(Dokument.id).where(Dokument.archive_enc.isnot(None))))
        return seals.document_statuses(ids)


def _assert_closed(port: int) -> None:
    """The test seal's services died with the server (at once, or through PR_SET_PDEATHSIG)."""
    import time

    deadline = time.monotonic() + 10
    while testsigill.listening(port):
        assert time.monotonic() < deadline, "the test seal's services outlived the server"
        time.sleep(0.1)


def _until_listening(port: int) -> None:
    """`run` starts the PKI's services without waiting for them (the job worker retries a seal
    meanwhile); this test seals in its own process, so it waits for them."""
    import time

    deadline = time.monotonic() + 30
    while not testsigill.listening(port):
        assert time.monotonic() < deadline, "the test seal's services did not start"
        time.sleep(0.1)


def _forget_loaded_seals() -> None:
    """A restart: no key loaded, no status remembered (both are per process)."""
    from formservice.arenden import seals

    seals._sealers.clear()
    seals._cache.clear()


def test_the_demo_seals_with_its_test_seal_under_run_and_after_a_restart(demo_instance, tmp_path, monkeypatch):
    from formservice.arenden import seals

    folder = demo_instance / "testsigill"
    marker = json.loads((folder / "testsigill.json").read_text(encoding="utf-8"))
    # Each demo organisation has its seal; every name says what it is.
    assert MAIN_ORGANISATION in marker["sigill"] and len(marker["sigill"]) == 5
    assert "endast för demo" in marker["om"]
    # Only the service's user reads the folder, the keys, the PKCS#12 files and their password.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    private = [*folder.glob("keys/*.pem"), *folder.glob("*.p12"), folder / "losenord"]
    assert len(private) == 8 + 5 + 1
    assert {stat.S_IMODE(p.stat().st_mode) for p in private} == {0o600}
    ca = (folder / "ca.crt").read_bytes()

    app = _app(demo_instance, monkeypatch)
    assert app.config.get("SEALS") is None  # only `run` (and the seal commands) point the settings at it
    assert testsigill.apply(app)  # what `run` does to its app before the workers fork
    assert set(app.config["SEALS"]) == set(marker["sigill"])
    # The demo's own documents (Tolvan's hand-overs) were sealed as `demo` made them.
    made_by_demo = _statuses(app)
    assert len(made_by_demo) == 2 and all(s.valid for s in made_by_demo.values())

    port = testsigill.port_of(demo_instance)
    with running(demo_instance, tmp_path / "first") as (web_port, _out, err):
        assert "Demon förseglar arkivexemplaren med ett testsigill (TESTSIGILL" in err.read_text()
        _until_listening(port)  # its TSA, OCSP and CRL, served by the server's child (not waited for by run)
        first = _produce(app)
        page = _arende_page(app, web_port)
    # What the caseworker sees, from the server's own workers: every archive copy sealed and valid.
    shown = re.findall(r"Arkivexemplaret: [^<]*", page)
    assert len(shown) == 3, shown or page[:2000]
    assert all(s.startswith(f"Arkivexemplaret: Förseglad av TESTSIGILL {MAIN_ORGANISATION}, tidsstämpel") for s in shown)
    assert page.count(", giltig") >= 3 and "Inte förseglad" not in page
    _assert_closed(port)

    statuses = _statuses(app)
    assert set(statuses) == {*made_by_demo, first}
    for status in statuses.values():
        assert status.valid, status.text
        assert status.signer == f"TESTSIGILL {MAIN_ORGANISATION}"
        assert status.text.startswith(f"Förseglad av TESTSIGILL {MAIN_ORGANISATION}, tidsstämpel")
    with app.app_context():
        assert seals.verify_all() == (3, [])

    # Restarted: the same CA (kept in the instance), the earlier copies still valid, new ones sealed.
    _forget_loaded_seals()
    with running(demo_instance, tmp_path / "second") as (_port, _out, err):
        assert "Demon förseglar arkivexemplaren med ett testsigill" in err.read_text()
        _until_listening(port)
        again = _app(demo_instance, monkeypatch)
        assert testsigill.apply(again)
        second = _produce(again)
    _assert_closed(port)
    assert (folder / "ca.crt").read_bytes() == ca
    statuses = _statuses(again)
    assert set(statuses) == {*made_by_demo, first, second}
    assert all(s.valid and s.signer == f"TESTSIGILL {MAIN_ORGANISATION}" for s in statuses.values())
    # The operator's own check, in a process of its own, with no PKI running: all four hold.
    checked = formservice(demo_instance, "verifiera-arkiv")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Kontrollerade arkivkopior: 4, som inte håller: 0" in checked.stdout


def test_an_installation_without_the_demo_gets_no_test_seal(tmp_path, monkeypatch):
    """init-instance and init-db alone, as a production installation is made: `run` starts no test
    PKI and says nothing of one, and archive copies stay unsealed as before."""
    instance = tmp_path / "instance"
    for command in (["init-instance"], ["init-db"]):
        done = formservice(instance, *command)
        assert done.returncode == 0, done.stderr
    assert not (instance / "testsigill").exists()
    with running(instance, tmp_path / "logs") as (_port, _out, err):
        assert "testsigill" not in err.read_text().lower()
    assert not (instance / "testsigill").exists()
    app = _app(instance, monkeypatch)
    assert testsigill.start_for_run(app) is None
    assert app.config.get("SEALS") is None and not app.config.get("SEAL_PKCS12")


def test_without_the_demo_archive_copies_are_unsealed_as_before(app, soc):
    from formservice.rendering import seal

    from .test_seals import _archive_of
    from .wizard_driver import create_arende, fill_blankett

    assert testsigill.start_for_run(app) is None
    pid = create_arende(soc, ruta="soc1.4")
    archive = _archive_of(soc, fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"]))
    assert archive.startswith(b"%PDF") and not seal.is_sealed(archive)
    assert "Arkivexemplaret: Inte förseglad" in soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert not (Path(app.instance_path) / "testsigill").exists()


def test_a_real_seal_wins_over_the_demos_test_seal(app, tmp_path):
    """A demo instance whose operator configures the organisation's own seal: the test seal is
    neither made by `demo` nor used by `run`."""
    from formservice.cli.users import _demo_test_seal

    app.config.update(SEAL_PKCS12=str(tmp_path / "organisationens.p12"), SEAL_TSA_URL="https://tsa.example.se/")
    _demo_test_seal(app)
    assert not testsigill.is_demo(app.instance_path)

    testsigill.create_for_demo(app.instance_path, {"stockholm": MAIN_ORGANISATION})
    assert testsigill.is_demo(app.instance_path)
    assert not testsigill.apply(app)
    assert app.config.get("SEALS") is None
