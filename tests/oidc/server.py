"""The test suite's OpenID Provider (provider.mjs beside this file, panva's oidc-provider) as a
session fixture, and the person's browser at that provider: a requests session that keeps the
provider's cookies and follows the provider's own redirects until the browser leaves for us."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
CLIENT_ID = "formservice"
OTHER_CLIENT_ID = "annan-tjanst"  # a second registered client: its ID tokens are not for us
CLIENT_SECRET = "testhemlighet-som-bara-finns-i-testerna"  # as in provider.mjs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningProvider:
    def __init__(self, issuer: str):
        self.issuer = issuer

    def set_clock(self, offset_seconds: int) -> None:
        """Shift the provider's clock: tokens it issues are dated that much earlier or later."""
        requests.post(f"{self.issuer}/__test__/clock", json={"offset": offset_seconds}, timeout=5).raise_for_status()

    def settings(self, **overrides) -> dict:
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_SCOPES": "openid profile email hsa", **overrides}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node saknas: OIDC-testerna kör en riktig OpenID-leverantör i Node. Kör scripts/test "
                    "(installerar nodejs och npm) eller apt-get install nodejs npm.")
    if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
        pytest.fail("node_modules/oidc-provider saknas: kör scripts/test (kör npm ci) eller npm ci i utcheckningen.")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("oidc") / "provider.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([node, str(SCRIPT), str(port)], cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"OpenID-leverantören för testerna startade inte:\n{log_path.read_text()}")
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"OpenID-leverantören svarade inte inom 20 s:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield RunningProvider(issuer)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ProviderBrowser:
    """The person's browser as far as the provider sees it; its cookies are the provider session."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self.http = requests.Session()

    def __enter__(self) -> "ProviderBrowser":
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def follow(self, url: str) -> str:
        """Follow the provider's redirects; the first address that is a login page or not the
        provider's is returned."""
        for _ in range(10):
            if not url.startswith(self.issuer) or "/interaction/" in url:
                return url
            response = self.http.get(url, allow_redirects=False, timeout=5)
            if response.status_code not in (302, 303):
                raise AssertionError(f"the provider answered {response.status_code} at {url}: {response.text[:500]}")
            url = urljoin(url, response.headers["Location"])
        raise AssertionError("too many redirects at the provider")

    def login(self, authorization_url: str, account: str) -> str:
        """Log in at the provider's login page as a test account; returns the address it sends the
        browser back to (our callback)."""
        page = self.follow(authorization_url)
        assert "/interaction/" in page, f"expected the provider's login page, got {page}"
        response = self.http.post(page + "/login", data={"account": account}, allow_redirects=False, timeout=5)
        assert response.status_code == 303, response.text[:500]
        return self.follow(urljoin(page, response.headers["Location"]))

    def abort(self, authorization_url: str) -> str:
        page = self.follow(authorization_url)
        response = self.http.post(page + "/abort", allow_redirects=False, timeout=5)
        return self.follow(urljoin(page, response.headers["Location"]))

    def logout(self, end_session_url: str) -> str:
        """Confirm the provider's log-out page; returns where the provider sends the browser."""
        page = self.http.get(end_session_url, allow_redirects=False, timeout=5)
        assert page.status_code == 200, page.text[:500]
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
        response = self.http.post(urljoin(end_session_url, action), data={"xsrf": xsrf, "logout": "yes"},
                                  allow_redirects=False, timeout=5)
        assert response.status_code in (302, 303), response.text[:500]
        return self.follow(urljoin(end_session_url, response.headers["Location"]))
