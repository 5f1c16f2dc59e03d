"""The test suite's SAML 2.0 identity provider: pysaml2's IdP implementation (``saml2.server.Server``)
behind an HTTP server on 127.0.0.1, in a thread of its own, with a key and certificate made at test
time (never committed). It serves its metadata and an SSO endpoint (HTTP-Redirect) that signs in a
fixed, fictitious test person and answers with the HTTP-POST binding's auto-posting form. What it
answers can be spoiled on purpose (``IdpControl.next``) for the refusal tests."""
from __future__ import annotations

import base64
import datetime
import html
import re
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import saml2
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID

with warnings.catch_warnings():
    # pysaml2's IdP side (not the SP side formservice imports) names AES-CFB where cryptography 45+
    # has moved it; it is never used here (nothing is encrypted).
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2.server import Server
from .oidc.server import free_port

HSA_ATTRIBUTE = "http://sambi.se/attributes/1/employeeHsaId"
# A fictitious person; the HSA-id follows the format of a test id, it names no one.
TEST_PERSON = {HSA_ATTRIBUTE: ["SE2321000016-TEST1"], "urn:oid:2.5.4.42": ["Tessan"],
               "urn:oid:2.5.4.4": ["Testdotter"], "urn:oid:0.9.2342.19200300.100.1.3": ["tessan@example.se"]}


def key_and_certificate(folder: Path, name: str) -> tuple[str, str]:
    """A fresh RSA key and self-signed certificate as PEM files in ``folder``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


class IdpControl:
    """The running IdP as the tests see it."""

    def __init__(self, base: str, folder: Path):
        self.base = base
        self.entity_id = base + "/metadata"
        self.metadata_url = base + "/metadata"
        self.folder = folder
        self.key_file, self.cert_file = key_and_certificate(folder, "idp")
        self.server: Server | None = None
        self.metadata_xml = ""
        self.next: dict = {}  # one response's spoiling: sign=False, audience=..., lifetime_minutes=..., ...
        self.person = dict(TEST_PERSON)
        self.sp_metadata: str | None = None

    def register_sp(self, xml: str) -> None:
        """Register a service provider from its metadata, as the IdP's administrator does."""
        if self.sp_metadata is None:
            path = self.folder / "sp.xml"
            path.write_text(xml)
            self.sp_metadata = str(path)
            self.build()

    def build(self) -> None:
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": self.key_file, "cert_file": self.cert_file,
            "metadata": {"local": [self.sp_metadata]} if self.sp_metadata else {},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.base + "/sso", saml2.BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None,
                                       "name_form": saml2.saml.NAME_FORMAT_URI}},
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            }},
        })
        self.server = Server(config=config)
        self.metadata_xml = create_metadata_string(None, config=config, valid=24).decode()

    def settings(self, **overrides) -> dict:
        return {"SAML_IDP_METADATA": self.metadata_url, "SAML_SP_ENTITY_ID": "https://formservice.test/saml",
                "SAML_LEEWAY_SECONDS": 60, **overrides}

    def respond(self, query: str) -> tuple[str, str]:
        """The SSO endpoint: the AuthnRequest in ``query`` answered for the test person; returns the
        ACS address and the base64 SAMLResponse of the auto-posting form."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        request = self.server.parse_authn_request(params["SAMLRequest"], saml2.BINDING_HTTP_REDIRECT).message
        spoil, self.next = self.next, {}
        acs = request.assertion_consumer_service_url
        policy = self.server.config.getattr("policy", "idp")
        if "lifetime_minutes" in spoil:
            policy._restrictions["default"]["lifetime"] = {"minutes": spoil["lifetime_minutes"]}
        try:
            response = self.server.create_authn_response(
                identity=self.person, in_response_to=spoil.get("in_response_to", request.id),
                destination=spoil.get("destination", acs),
                sp_entity_id=spoil.get("audience", request.issuer.text),
                name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text="transient-test-1"),
                authn={"class_ref": saml2.saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
                sign_assertion=spoil.get("sign", True), sign_response=spoil.get("sign_response", False))
        finally:
            policy._restrictions["default"]["lifetime"] = {"minutes": 15}
        return acs, base64.b64encode(str(response).encode()).decode()


def _handler(control: IdpControl):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 — http.server's name
            parts = urlsplit(self.path)
            if parts.path == "/metadata":
                return self._send(200, control.metadata_xml, "application/samlmetadata+xml")
            if parts.path == "/sso":
                try:
                    acs, saml_response = control.respond(parts.query)
                except Exception as exc:  # noqa: BLE001 — shown to the test as a 400
                    return self._send(400, f"{type(exc).__name__}: {exc}", "text/plain")
                page = (f'<form method="post" action="{html.escape(acs)}"><input type="hidden" '
                        f'name="SAMLResponse" value="{saml_response}"></form>')
                return self._send(200, page, "text/html")
            return self._send(404, "", "text/plain")

    return Handler


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    port = free_port()
    control = IdpControl(f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("saml_idp"))
    control.build()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(control))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield control
    finally:
        httpd.shutdown()
        httpd.server_close()


def posted_form(page: str) -> tuple[str, dict]:
    """The auto-posting form of an HTTP-POST binding page: its action and fields."""
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields
