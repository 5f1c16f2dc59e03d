"""A test PKI on 127.0.0.1 for the seal's tests and benchmark: a CA, an OCSP responder, a CRL, a
timestamp authority (certomancer's animator under werkzeug), and seal certificates for two
fictitious organisations plus a revoked and an expired one. Built on the package's own test PKI
(formservice/cli/testsigill.py, which the demo serves for its test seal).

Everything is generated when the fixture starts – keys with `cryptography`, the certomancer
configuration into a temporary folder – so no private key is ever committed. The seal certificates
say TESTSIGILL in their names: nobody can take a demo's seal for a real organisation's."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from formservice.cli import testsigill
from formservice.cli.testsigill import free_port as _free_port  # noqa: F401 — the tests' free port

ARCH = testsigill.ARCH
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


def _overrides(now: datetime) -> dict[str, dict]:
    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S+0000")

    return {"revoked": {"revocation": {"revoked-since": iso(now - timedelta(days=1)), "reason": "key_compromise"}},
            "expired": {"validity": {"valid-from": iso(now - timedelta(days=30)),
                                     "valid-to": iso(now - timedelta(days=1))}}}


class TestPki(testsigill.Pki):
    """The package's test PKI (formservice/cli/testsigill.py, the demo's too) with the tests' own
    password and a signer for the certificates a seal must not be made with."""
    __test__ = False

    def pkcs12(self, label: str = "seal", password: bytes = PASSWORD) -> Path:
        return super().pkcs12(label, password)

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


def start(folder: Path) -> TestPki:
    """Generate the PKI into `folder` and serve it on a free port of 127.0.0.1 until `stop()`."""
    now = datetime.now(UTC).replace(microsecond=0)
    started = testsigill.start(folder, SEALS, overrides=_overrides(now))
    return TestPki(started.folder, started.url, started.arch, started.server, started.thread)


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
