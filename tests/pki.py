"""A test PKI on 127.0.0.1 for the seal's tests and benchmark: a CA, an OCSP responder, a CRL, a
timestamp authority (certomancer's animator under werkzeug), and seal certificates for two
fictitious organisations plus a revoked and an expired one.

Everything is generated when the fixture starts – keys with `cryptography`, the certomancer
configuration into a temporary folder – so no private key is ever committed. The seal certificates
say TESTSIGILL in their names: nobody can take a demo's seal for a real organisation's."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ARCH = "formservice-test"
PASSWORD = b"testsigill"
# End-entity certificates: label -> (organisation, common name), all issued by the one test CA: the
# seals of two organisations, a revoked and an expired seal, and a doctor who signs a returned PDF.
SEALS = {
    "seal": ("Teststaden", "TESTSIGILL Teststaden"),
    "seal2": ("Andra teststaden", "TESTSIGILL Andra teststaden"),
    "lakare": ("Vårdcentralen Provbacken", "TESTSIGILL Doris Testläkare"),
    "revoked": ("Teststaden", "TESTSIGILL Teststaden (återkallat)"),
    "expired": ("Teststaden", "TESTSIGILL Teststaden (utgånget)"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_key(path: Path) -> None:
    # EC P-256: generated in a millisecond (RSA keys would cost the suite seconds per key).
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _config(port: int, now: datetime) -> dict:
    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S+0000")

    valid = {"valid-from": iso(now - timedelta(days=30)), "valid-to": iso(now + timedelta(days=365))}
    leaf_ext = [
        {"id": "key_usage", "critical": True,
         "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}},
        {"id": "authority_information_access",
         "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["ca-ocsp"]}}},
        {"id": "crl_distribution_points",
         "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["ca"]}}},
    ]
    certs = {
        "ca": {"subject": "ca", "issuer": "ca", "validity": {"valid-from": iso(now - timedelta(days=60)),
                                                              "valid-to": iso(now + timedelta(days=3650))},
               "extensions": [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                              {"id": "key_usage", "critical": True,
                               "smart-value": {"schema": "key-usage",
                                               "params": ["digital_signature", "key_cert_sign", "crl_sign"]}}]},
        "ocsp": {"subject": "ocsp", "issuer": "ca", "validity": valid,
                 "extensions": [{"id": "key_usage", "critical": True,
                                 "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
                                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                {"id": "ocsp_no_check"}]},
        "tsa": {"subject": "tsa", "issuer": "ca", "validity": valid,
                "extensions": [{"id": "key_usage", "critical": True,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]}},
                               {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]}]},
    }
    for label in SEALS:
        certs[label] = {"subject": label, "issuer": "ca", "validity": valid, "extensions": leaf_ext}
    certs["revoked"]["revocation"] = {"revoked-since": iso(now - timedelta(days=1)), "reason": "key_compromise"}
    certs["expired"]["validity"] = {"valid-from": iso(now - timedelta(days=30)), "valid-to": iso(now - timedelta(days=1))}
    entities = {"ca": {"common-name": "TESTSIGILL Test-CA"}, "ocsp": {"common-name": "TESTSIGILL OCSP"},
                "tsa": {"common-name": "TESTSIGILL Tidsstämpel"}}
    entities.update({label: {"common-name": cn, "organization-name": org} for label, (org, cn) in SEALS.items()})
    return {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"path-prefix": "keys", "keys": {
            label: {"path": f"{label}.pem"} for label in ["ca", "ocsp", "tsa", *SEALS]}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "SE", "organization-name": "Teststaden"},
            "entities": entities,
            "certs": certs,
            "services": {
                "ocsp": {"ca-ocsp": {"for-issuer": "ca", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                "crl-repo": {"ca": {"for-issuer": "ca", "signing-key": "ca", "simulated-update-schedule": "P7D"}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                "cert-repo": {"ca": {"for-issuer": "ca", "publish-issued-certs": True}},
            },
        }},
    }


@dataclass
class TestPki:
    folder: Path
    url: str
    arch: object
    server: object
    thread: threading.Thread

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def pkcs12(self, label: str = "seal") -> Path:
        """The seal's certificate, key and CA chain as the PKCS#12 file an organisation configures."""
        path = self.folder / f"{label}.p12"
        if not path.exists():
            path.write_bytes(self.arch.package_pkcs12(label, password=PASSWORD))
        return path

    def ca_pem(self) -> Path:
        path = self.folder / "ca.crt"
        if not path.exists():
            from asn1crypto import pem
            path.write_bytes(pem.armor("CERTIFICATE", self.arch.get_cert("ca").dump()))
        return path

    def sign(self, pdf: bytes, label: str, *, timestamp: bool = True, field: str = "Organisationens_sigill") -> bytes:
        """`pdf` signed by `label` (PAdES B-T, or B-B without `timestamp`) with no revocation data
        and no check of the certificate: how a revoked, an expired or an untimestamped seal, or a
        doctor's signature, comes to be in a file."""
        import io

        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        signer = signers.SimpleSigner.load_pkcs12(str(self.pkcs12(label)), passphrase=PASSWORD)
        meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
        out = io.BytesIO()
        signers.PdfSigner(meta, signer, timestamper=RequestsHTTPTimeStamper(self.tsa_url) if timestamp else None,
                          new_field_spec=fields.SigFieldSpec(field)).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), output=out)
        return out.getvalue()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # one line per OCSP/TSA request would drown the test output
            pass
    return Quiet


def start(folder: Path) -> TestPki:
    """Generate the PKI into `folder` and serve it on a free port of 127.0.0.1 until `stop()`."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig
    from werkzeug.serving import make_server

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keys").mkdir(exist_ok=True)
    for label in ["ca", "ocsp", "tsa", *SEALS]:
        _write_key(folder / "keys" / f"{label}.pem")
    _QuietHandler = _quiet_handler()
    port = _free_port()
    config = _config(port, datetime.now(UTC).replace(microsecond=0))
    (folder / "certomancer.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    cfg = CertomancerConfig.from_file(str(folder / "certomancer.yml"), key_search_dir=str(folder))
    arch = cfg.get_pki_arch(ARCH)
    app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-pki", daemon=True)
    thread.start()
    return TestPki(folder, f"http://127.0.0.1:{port}", arch, server, thread)


def main() -> None:
    """`python -m tests.pki FOLDER`: the test PKI for a demo, serving until Ctrl-C, and the settings
    that make formservice seal with its TESTSIGILL seal (never a real organisation's)."""
    import sys
    import time

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "instance/testpki").resolve()
    started = start(folder)
    (folder / "sigill.losenord").write_bytes(PASSWORD)
    print(f"Test-PKI (TESTSIGILL) på {started.url}. Sätt:")
    print(f"  FORMSERVICE_SEAL_PKCS12={started.pkcs12('seal')}")
    print(f"  FORMSERVICE_SEAL_PASSWORD_FILE={folder / 'sigill.losenord'}")
    print(f"  FORMSERVICE_SEAL_TSA_URL={started.tsa_url}")
    print(f"  FORMSERVICE_SEAL_TRUST_ROOTS={started.ca_pem()}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        started.stop()


if __name__ == "__main__":
    main()
