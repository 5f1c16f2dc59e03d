"""Two hosts on one PostgreSQL (issue 28): two real servers (`formservice run`, gunicorn), each with an
instance folder of its own holding the same keys, and a forms/ of its own with the same content, on
one database behind one nginx. Real HTTP with one cookie jar shows that nothing a user or an admin
relies on lives on one host: a session made on A works on B (and a log-out on B ends it on A), a
document produced through A is fetched through B, the map an admin approves on A is the map B uses,
and the login lockout and the API limit count what happened on both hosts.

Marked db and skipped without FORMSERVICE_TEST_DATABASE_URL; the test makes a database of its own
beside that one and drops it afterwards."""
from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from formservice.blanketter.catalogue import load_catalogue
from formservice.web import admin_processkarta

from .command_line import CLI, ROOT, environment
from .conftest import PG_URL, csrf_token
from .fixture_maps import FIXTURES, ORIGINAL, SKARHOLMEN, fixture_forms
from .sample_values import sample_values
from .smtp_server import free_port
from .wizard_driver import create_arende, current_ruta, fill_blankett, step, way

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(not PG_URL, reason="FORMSERVICE_TEST_DATABASE_URL saknas: två värdar kräver PostgreSQL"),
]

NGINX = "/usr/sbin/nginx"
PASSWORD = "demo-stockholm-2026"  # the demo's (formservice.cli.DEMO_PASSWORD)
MAX_LOGIN_FAILURES = 3
API_RENDERS_PER_MINUTE = 3
STARTUP_SECONDS = 90


# ---------------------------------------------------------------- the installation
def formservice_command() -> list[str]:
    """The installed `formservice` command beside this interpreter (as an operator runs it), else the same
    entry point through the interpreter."""
    installed = Path(sys.executable).parent / "formservice"
    return [str(installed)] if installed.exists() else CLI


@pytest.fixture(scope="module")
def database_url():
    """A database of this test's own on the test server, dropped afterwards."""
    admin_url = make_url(PG_URL).set(database="postgres")
    name = f"formservice_two_hosts_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Host:
    """One host: its instance folder, its forms/, its server process and the log it writes."""

    def __init__(self, name: str, root: Path, settings: dict[str, str]):
        self.name, self.instance, self.port = name, root / f"instance-{name}", free_port()
        self.forms = fixture_forms(root / f"forms-{name}", ORIGINAL)
        self.log = root / f"server-{name}.log"
        self.settings = dict(settings, FORMSERVICE_FORMS_DIR=str(self.forms))
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> str:
        done = subprocess.run(formservice_command() + list(args), env=environment(self.instance, **self.settings),
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"formservice {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self) -> None:
        with open(self.log, "wb") as log:
            # A session of its own: the server, its job worker and its children end together (stop()).
            self.process = subprocess.Popen(
                formservice_command() + ["run", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                                         "--threads", "4", "--render-processes", "0"],
                env=environment(self.instance, **self.settings), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_until_serving(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"värd {self.name} avslutades:\n{self.log.read_text()[-3000:]}"
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"värd {self.name} svarade inte:\n{self.log.read_text()[-3000:]}")

    def served(self, request_line: str) -> int:
        """How many requests with this method and path the host's access log has."""
        return self.log.read_text(errors="replace").count(f'"{request_line} HTTP/1.0"')

    def stop(self) -> None:
        stop_group(self.process)


def stop_group(process: subprocess.Popen | None) -> None:
    """End a process this test started and everything it started (its own session), politely first."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


NGINX_CONF = """\
# The server settings of deploy/nginx-formservice.conf (rendered in), without TLS, two hosts upstream.
user {user};
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream formservice {{
        server 127.0.0.1:{port_a};
        server 127.0.0.1:{port_b};
    }}
    server {{
        listen 127.0.0.1:{port};
{deployed}
    }}
}}
"""


def deployed_server_settings() -> str:
    """What an admin deploys: the TLS server block of deploy/nginx-formservice.conf, less its TLS,
    name and listen lines (this proxy listens on plain http on loopback), passing to the upstream
    of the two hosts instead of 127.0.0.1:5000 – so the test follows the deploy file, never a copy."""
    text = (Path(__file__).resolve().parents[1] / "deploy" / "nginx-formservice.conf").read_text(encoding="utf-8")
    block = text.split("server {", 2)[1]
    block = block[:block.rindex("}")]  # the first server block's body
    lines = [line for line in block.splitlines() if line.strip() and not line.strip().startswith("#")
             and not line.strip().startswith(("listen", "server_name", "ssl_"))]
    settings = "\n".join(lines).replace("proxy_pass http://127.0.0.1:5000;", "proxy_pass http://formservice;")
    assert "proxy_pass http://formservice;" in settings and "X-Forwarded-Proto" in settings, settings
    return settings



class Cluster:
    def __init__(self, a: Host, b: Host, proxy_url: str, token: str, database_url: str):
        self.a, self.b, self.proxy_url, self.token, self.database_url = a, b, proxy_url, token, database_url


@pytest.fixture(scope="module")
def cluster(database_url, tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.skip(f"{NGINX} saknas (Debians nginx-light)")
    root = tmp_path_factory.mktemp("two_hosts")
    settings = {"FORMSERVICE_DATABASE_URL": database_url, "FORMSERVICE_TRUSTED_PROXIES": "1",
                "FORMSERVICE_SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
                "FORMSERVICE_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(MAX_LOGIN_FAILURES),
                "FORMSERVICE_API_RENDERS_PER_MINUTE": str(API_RENDERS_PER_MINUTE)}
    a, b = Host("a", root, settings), Host("b", root, settings)
    # One instance made by the service; the second host gets a copy of its secrets (keys.json, and
    # config.py with SECRET_KEY), as an admin deploys them, and nothing else of it.
    a.command("init-instance")
    b.instance.mkdir(mode=0o700)
    for secret in ("keys.json", "config.py"):
        shutil.copy2(a.instance / secret, b.instance / secret)
    a.command("init-db")
    a.command("demo", "--exempelarenden", "0")
    token = a.command("create-token", "--username", "soc.demo", "--name", "två värdar").strip().splitlines()[-1]
    nginx = None
    try:
        a.start()
        b.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        a.wait_until_serving(deadline)
        b.wait_until_serving(deadline)
        prefix = root / "nginx"
        prefix.mkdir()
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(deployed=deployed_server_settings(), user=getpass.getuser(), prefix=prefix,
                                          port=port, port_a=a.port, port_b=b.port))
        with open(prefix / "stderr.log", "wb") as out:
            nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        proxy_url = f"http://127.0.0.1:{port}"
        while True:
            assert nginx.poll() is None, (prefix / "stderr.log").read_text() + (prefix / "error.log").read_text()
            try:
                requests.get(proxy_url + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx svarade inte"
                time.sleep(0.1)
        yield Cluster(a, b, proxy_url, token, database_url)
    finally:
        stop_group(nginx)
        a.stop()
        b.stop()


# ---------------------------------------------------------------- a browser
class Page:
    """A response with the test client's interface, so the wizard driver drives real servers."""

    def __init__(self, response: requests.Response):
        self.response, self.status_code, self.headers = response, response.status_code, response.headers
        self.data = response.content

    def get_data(self, as_text: bool = False):
        return self.data.decode("utf-8") if as_text else self.data


class Browser:
    """One cookie jar; `at(url)` is the same browser talking to host A, host B or the proxy."""

    def __init__(self, base: str, session: requests.Session | None = None):
        self.base, self.session = base, session or requests.Session()

    def at(self, base: str) -> "Browser":
        return Browser(base, self.session)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, path: str, **kwargs) -> Page:
        return Page(self.session.get(self._url(path), allow_redirects=False, timeout=90, **kwargs))

    def post(self, path: str, data=None, **kwargs) -> Page:
        return Page(self.session.post(self._url(path), data=data, allow_redirects=False, timeout=90, **kwargs))

    def login(self, username: str, password: str = PASSWORD) -> Page:
        token = csrf_token(self.get("/logga-in").get_data(as_text=True))
        return self.post("/logga-in", data={"csrf_token": token, "username": username, "password": password})


def signed_in(browser: Browser) -> bool:
    res = browser.get("/arenden")
    assert res.status_code in (200, 302), res.status_code
    return res.status_code == 200


# ---------------------------------------------------------------- what is shared
def test_a_session_made_on_one_host_works_on_the_other_and_through_the_proxy(cluster):
    a = Browser(cluster.a.url)
    b, proxy = a.at(cluster.b.url), a.at(cluster.proxy_url)
    assert not signed_in(b)
    assert a.login("soc.demo").status_code == 302
    assert signed_in(a) and signed_in(b)
    assert "Sara Socialsekreterare" in b.get("/arenden").get_data(as_text=True)
    before = (cluster.a.served("GET /arenden"), cluster.b.served("GET /arenden"))
    for _ in range(4):
        assert signed_in(proxy)  # round robin: two of these on each host
    after = (cluster.a.served("GET /arenden"), cluster.b.served("GET /arenden"))
    assert after[0] > before[0] and after[1] > before[1], "nginx skickade inte förfrågningar till båda värdarna"
    # A log-out on B ends the session on A too: it is one row in the database.
    token = csrf_token(b.get("/arenden").get_data(as_text=True))
    assert b.post("/logga-ut", data={"csrf_token": token}).status_code in (302, 303)
    assert not signed_in(a)


def test_a_document_produced_through_one_host_is_fetched_through_the_other(cluster):
    a = Browser(cluster.a.url)
    b = a.at(cluster.b.url)
    assert a.login("soc.demo").status_code == 302
    catalogue = load_catalogue(cluster.a.forms)
    pid = create_arende(a)
    target = next(r.id for r in catalogue.process_map.lane("soc1").rutor if "forandringsplan" in r.blankett_ids)
    for ruta in way(catalogue.process_map, current_ruta(a, pid), target):
        step(a, pid, ruta)
    made = fill_blankett(a, pid, "forandringsplan", catalogue)
    assert made["pdf"].startswith(b"%PDF")
    on_b = b.get(made["pdf_url"])
    assert on_b.status_code == 200 and on_b.data == made["pdf"]
    assert made["pdf_url"] in b.get(f"/arenden/{pid}").get_data(as_text=True)
    # The rest (DOCX, parts, archive copy) is finished by A after its response: B waits for it or lays
    # the document out again from the stored values; either way B gives it.
    docx = b.get(made["pdf_url"].removesuffix(".pdf") + ".docx")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")


def test_the_login_lockout_counts_failures_on_both_hosts(cluster):
    a = Browser(cluster.a.url)
    b, proxy = a.at(cluster.b.url), a.at(cluster.proxy_url)
    for host in (a, b, proxy):  # one failure on each: the limit is reached only counted together
        assert host.login("soc2.demo", "fel-lösenord").status_code == 401
    for host in (a, b):
        refused = host.login("soc2.demo")
        assert refused.status_code == 429 and "För många" in refused.get_data(as_text=True)
    assert not signed_in(b)


def test_the_api_limit_counts_on_both_hosts(cluster):
    catalogue = load_catalogue(cluster.a.forms)
    blankett = catalogue.blanketter["forandringsplan"]
    values = sample_values(blankett, *[catalogue.blanketter[x] for x in blankett.attachments])
    headers = {"Authorization": f"Bearer {cluster.token}"}

    def render(base: str, n: int) -> requests.Response:
        # Different values each time: a host answers a repeat from its own cache without counting it.
        body = dict(values, aktuell_situation=f"Anrop nummer {n}")
        return requests.post(f"{base}/api/v1/blanketter/forandringsplan/pdf", json=body, headers=headers, timeout=90)

    bases = [cluster.a.url, cluster.b.url, cluster.proxy_url]
    for n in range(API_RENDERS_PER_MINUTE):
        res = render(bases[n % 3], n)
        assert res.status_code == 200 and res.content.startswith(b"%PDF"), res.text[:500]
    for n, base in enumerate((cluster.a.url, cluster.b.url), start=API_RENDERS_PER_MINUTE):
        res = render(base, n)
        assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0, res.text[:500]


def test_the_map_approved_on_one_host_is_the_map_the_other_uses(cluster):
    a = Browser(cluster.a.url)
    b = a.at(cluster.b.url)
    assert a.login("admin.demo").status_code == 302
    assert 'href="/processkarta/soc1.4"' in b.get("/processkarta").get_data(as_text=True)
    # The edited map deployed to both hosts' forms/: neither takes it up before an admin approves it.
    for host in (cluster.a, cluster.b):
        shutil.copyfile(FIXTURES / SKARHOLMEN, host.forms / "processkarta.yaml")
    new = load_catalogue(cluster.a.forms).process_map.version
    page = a.get("/admin/processkarta").get_data(as_text=True)
    assert "Ta den ändrade processkartan i bruk" in page
    assert 'href="/processkarta/soc1.5a"' not in b.get("/processkarta").get_data(as_text=True)
    assert a.post("/admin/processkarta", data={"csrf_token": csrf_token(page)}).status_code == 302
    deadline = time.monotonic() + admin_processkarta.POLL_SECONDS + 15  # each worker looks every POLL_SECONDS
    while 'href="/processkarta/soc1.5a"' not in b.get("/processkarta").get_data(as_text=True):
        assert time.monotonic() < deadline, "värd B tog inte upp den godkända kartan"
        time.sleep(0.5)
    assert f"version {new}" in b.get("/admin/processkarta").get_data(as_text=True)
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT g.version, u.username FROM processkarta_godkand g "
                                    "JOIN app_user u ON u.id = g.approved_by ORDER BY g.id DESC LIMIT 1")).one()
    finally:
        engine.dispose()
    assert tuple(row) == (new, "admin.demo")
    assert not (cluster.a.instance / "processkarta-godkand.txt").exists()
