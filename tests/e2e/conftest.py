"""Browser harness: the app served on a loopback port, Debian's Chromium driven by Playwright,
and axe-core for accessibility. Reused by every browser test."""
from __future__ import annotations

import contextlib
import json
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from formservice import create_app

from ..conftest import TEST_KEYS, AuthActions, ClosingClient
from ..wizard_driver import INDIVID, create_arende

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# best-practice too: issue 25 asks for 0 findings, and its rules (unique landmarks, heading order)
# catch what a screen-reader user navigating by landmark or heading runs into.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Flags for a closed network: no background fetches that would hang or spam refused connections.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
DEMO_PASSWORD = "demo-stockholm-2026"


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the live server."""
    return live_app.config["LIVE_URL"]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, sqlite_template):
    """A real HTTP server on 127.0.0.1 with the demo data, shared by the browser tests; the app
    itself is returned so a test can prepare data quickly through its test client."""
    folder = tmp_path_factory.mktemp("live")
    db_path = folder / "live.sqlite"
    shutil.copy(sqlite_template, db_path)
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e-secret", "DATABASE_URL": f"sqlite:///{db_path}",
                      "SESSION_COOKIE_SECURE": False, "ORGANISATION_NAME": "Stockholms stad",
                      "KEYS": TEST_KEYS})
    app.test_client_class = ClosingClient  # data prepared through it is complete, as after a real response
    with app.app_context():
        from formservice.arenden import demo

        demo.seed(DEMO_PASSWORD)
    with serving(app):
        yield app
    app.extensions["db_engine"].dispose()


@contextlib.contextmanager
def serving(app):
    """The app served on a free port of 127.0.0.1 (its address in LIVE_URL) while the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} saknas: kör testkommandot i README (det installerar Debians chromium).")
    if not AXE.exists():
        pytest.fail(f"{AXE} saknas: kör testkommandot i README (det kör npm ci).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, locale: str = "sv-SE"):
    """(context, page) in a fresh browser context with the browser set to ``locale``."""
    # bypass_csp only lets the test inject axe-core; the app's own CSP is asserted elsewhere.
    context = browser.new_context(bypass_csp=True, locale=locale, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    return context, pg


@pytest.fixture
def page(browser):
    context, pg = open_page(browser)
    yield pg
    context.close()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n" + json.dumps(violations, indent=2, ensure_ascii=False)


def login(page, base_url: str, username: str = "soc.demo", password: str = DEMO_PASSWORD) -> None:
    page.goto(base_url + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(base_url + "/")


@pytest.fixture
def make_arende(live_app):
    """Makes an ärende quickly through the test client, as soc.demo: (client, ärende id). Keyword
    arguments override the individ's details (`namn`, `personnummer`, ...) and `ruta` the start."""
    def make(ruta: str = "soc1.1a", **individ):
        client = live_app.test_client()
        AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
        return client, create_arende(client, dict(INDIVID, **individ), ruta=ruta)
    return make
