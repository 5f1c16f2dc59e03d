"""Shared fixtures: app, client, runner, a database per test, and make_* factories."""
from __future__ import annotations

import os
import re
import shutil

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text


def _forms_with_test_map() -> None:
    """FORMSERVICE_TEST_PROCESSKARTA=<yaml>: run the suite on a copy of forms/ with that map, e.g.
    tests/fixtures/processkarta_skarholmen.yaml in CI, so a förbund's legitimate edit of its map
    keeps the suite green. It must run before formservice.paths is imported (FORMS_DIR is read at
    import) and works through FORMSERVICE_FORMS_DIR, so CLI subprocesses see the same map."""
    import atexit
    import tempfile
    from pathlib import Path

    map_file = os.environ.get("FORMSERVICE_TEST_PROCESSKARTA")
    if not map_file:
        return
    source = Path(os.environ.get("FORMSERVICE_FORMS_DIR") or Path(__file__).resolve().parent.parent / "forms")
    copy = Path(tempfile.mkdtemp(prefix="formservice-forms-")) / "forms"
    shutil.copytree(source, copy)
    shutil.copyfile(Path(map_file).resolve(), copy / "processkarta.yaml")
    atexit.register(shutil.rmtree, copy.parent, True)
    os.environ["FORMSERVICE_FORMS_DIR"] = str(copy)


_forms_with_test_map()

from formservice import create_app  # noqa: E402 — after the forms folder is chosen
from formservice.schema import upgrade

from .oidc.server import oidc_provider  # noqa: F401 — one real OpenID provider for the whole session

TEST_PERSONNUMMER = "191212121212"  # Skatteverket's well-known test number; never a real person
PASSWORD = "rätt-lösenord-123"
PG_URL = os.environ.get("FORMSERVICE_TEST_DATABASE_URL")
TEST_KEYS = {"active": "k1", "data_keys": {"k1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
             "index_key": "aW5kZXgta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDA="}


@pytest.fixture(scope="session", autouse=True)
def passwords_hashed_once():
    """scrypt costs ~0.1 s per hash and per check, on purpose; the suite makes and checks the same
    few passwords thousands of times. Within the test process each (password, method) is hashed
    once and each (hash, password) checked once; the app's own code and scrypt are unchanged (a
    subprocess test or a real server still pays the full price)."""
    import functools

    from formservice.accounts import login

    real_generate, real_check = login.generate_password_hash, login.check_password_hash
    login.generate_password_hash = functools.lru_cache(maxsize=256)(real_generate)
    login.check_password_hash = functools.lru_cache(maxsize=1024)(real_check)
    yield
    login.generate_password_hash, login.check_password_hash = real_generate, real_check


@pytest.fixture
def original_map(app, tmp_path):
    """The app runs the shipped map from tests/fixtures/processkarta_original.yaml, whatever forms/
    holds: for behaviour tests whose numbers follow one journey through the map (counts of steps,
    arrows on the way), which a förbund's legitimate edit of forms/ must not break."""
    from .fixture_maps import ORIGINAL, fixture_catalogue

    app.extensions["catalogue"] = fixture_catalogue(tmp_path / "original_map", ORIGINAL)
    return app.extensions["catalogue"].process_map


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Migrate once, copy per test: a fresh database for every test without re-running Alembic."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        # DBOS's queue (formservice/jobs.py): no workflow of an earlier test may be recovered in this one.
        conn.execute(text("DROP SCHEMA IF EXISTS dbos CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request, tmp_path, sqlite_template):
    if PG_URL and request.node.get_closest_marker("db"):
        reset_postgres(PG_URL)
        upgrade(PG_URL)
        return PG_URL
    path = tmp_path / "test.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": False,
        "ORGANISATION_NAME": "Teststaden",
        "KEYS": TEST_KEYS,
        # The rest of a produced document is written as the response closes (ClosingClient), so that
        # the next request of a test finds it; the thread of production is tested on its own.
        "DOCUMENT_REST_IN_THREAD": False,
    }


def outside_event_loop(call, *args):
    """Run `call` in a thread of its own: DBOS refuses its synchronous calls in a thread with a running
    event loop, which Playwright's sync API leaves in the main thread once a browser test has run."""
    import threading

    failure: list[BaseException] = []

    def run():
        try:
            call(*args)
        except BaseException as exc:  # noqa: BLE001 — raised again in the caller
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


class ClosingClient(FlaskClient):
    """A test client whose responses are read and closed before the call returns, as a server closes
    them after sending: what a view runs after its response (`call_on_close`: the rest of a produced
    document) has run when the test goes on, as it has for a user who opens the next page."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(app_config)
    application.test_client_class = ClosingClient
    yield application
    application.extensions["db_session"].remove()
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def dbs(app):
    """An observer's own session on the test database (no app context held across requests)."""
    from sqlalchemy.orm import Session

    with Session(app.extensions["db_engine"]) as session:
        yield session


@pytest.fixture
def make_enhet(app):
    from formservice import db
    from formservice.accounts.models import Enhet, Organisation

    def make(namn="Testenheten – Ekonomiskt bistånd", organisation="Teststaden", **kw):
        with app.app_context():
            dbs = db.session()
            org = dbs.query(Organisation).filter_by(namn=organisation).one_or_none()
            if org is None:
                org = Organisation(namn=organisation, typ="kommun")
                dbs.add(org)
                dbs.flush()
            enhet = Enhet(organisation_id=org.id, namn=namn, utdelningsadress=kw.get("adress", "Provgatan 1"),
                          postnummer=kw.get("postnummer", "111 11"), ort=kw.get("ort", "Stockholm"))
            dbs.add(enhet)
            dbs.commit()
            return enhet.id

    return make


@pytest.fixture
def make_user(app, make_enhet):
    from formservice.accounts import operations as accounts

    def make(username="testare", role="socialsekreterare", enhet_id=None, password=PASSWORD, **kw):
        with app.app_context():
            user = accounts.create_user(username=username, password=password, role=role,
                                        enhet_id=enhet_id or make_enhet(), namn=kw.get("namn", "Test Testsson"),
                                        titel=kw.get("titel", "Socialsekreterare"), telefon=kw.get("telefon", ""),
                                        epost=kw.get("epost", ""))
            return user.id

    return make


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username="testare", password=PASSWORD, next_url=None, follow=False):
        page = self.client.get("/logga-in")
        url = "/logga-in" + (f"?next={next_url}" if next_url else "")
        return self.client.post(url, data={"username": username, "password": password,
                                           "csrf_token": csrf_token(page.get_data(as_text=True))},
                                follow_redirects=follow)

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logga-ut", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return AuthActions(client)


# ---------------------------------------------------------------- a socialsekreterare and a förfrågan
@pytest.fixture
def logged_in(client, auth, make_user):
    """The test client signed in as a socialsekreterare without contact details."""
    make_user()
    auth.login()
    return client


@pytest.fixture
def soc(client, auth, make_user):
    """The test client signed in as a socialsekreterare with contact details (Sara)."""
    make_user(username="sara", namn="Sara Handläggare", telefon="08-111 222 33", epost="sara@example.se")
    auth.login(username="sara")
    return client


@pytest.fixture
def forfragan(soc, app):
    """An ärende at ruta 10 with a produced rehabiliteringsförfrågan; returns (pid, doc_id, fillable pdf)."""
    from .wizard_driver import create_arende, fill_blankett, step  # imports this module: not at the top

    pid = create_arende(soc, ruta="soc1.9")
    fill_blankett(soc, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    step(soc, pid, "soc1.10")
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    fillable_url = re.search(r'href="([^"]+\.ifyllbar)"', html).group(1)
    doc_id = fillable_url.rsplit("/", 1)[-1].split(".")[0]
    return pid, doc_id, soc.get(fillable_url).data
