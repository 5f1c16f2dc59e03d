"""The demo's test seal: a test PKI on 127.0.0.1 (a CA, an OCSP responder, a CRL and an RFC 3161
timestamp authority: certomancer's animator under werkzeug) and seal certificates whose names say
TESTSIGILL, so nobody can take a demo's seal for a real organisation's.

Two users. The test suite (tests/pki.py) generates a fresh PKI per run into a temporary folder
(`start`). The demo (`formservice demo`) generates one into the instance folder once
(`create_for_demo`: instance/testsigill/, mode 0700, keys and PKCS#12 files 0600, the certificates
written out and loaded from file again, the port kept), so a restarted demo keeps verifying the
copies it sealed before; the marker file written last (`testsigill.json`) is what makes an
installation a demo with a test seal. `formservice run` then serves the PKI in a child that dies
with the server (`start_for_run`) and points the seal settings at it (`apply`): never in an
installation without the marker, and never over a seal the installation configures itself.

Needs certomancer (the `demo` extra; the test extra has it too): imported only when the PKI is
generated or served, never by a production installation."""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger("formservice")

ARCH = "testsigill"
FOLDER = "testsigill"  # in the instance folder
MARKER = "testsigill.json"
PASSWORD_FILE = "losenord"
DEMO_ORGANISATION = "Testsigill – endast för demo"  # the certificates' O: no real organisation's name
CA_NAME = "TESTSIGILL Test-CA"
DEMO_CA_NAME = "TESTSIGILL Demo-CA (endast för demo)"
SERVICES = ("ca", "ocsp", "tsa")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _write_private(path: Path, data: bytes) -> None:
    """A file only the service's user reads (0600 from its creation, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def write_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    # EC P-256: generated in a millisecond (RSA keys would cost the suite seconds per key).
    key = ec.generate_private_key(ec.SECP256R1())
    _write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


def pki_config(port: int, now: datetime, leaves: dict[str, tuple[str, str]], *, ca_name: str = CA_NAME,
               leaf_days: int = 365, overrides: dict[str, dict] | None = None) -> dict:
    """certomancer's configuration: the CA, its OCSP responder, CRL and TSA, and one seal
    certificate per leaf (label -> (organisation name, common name)); `overrides` change a leaf's
    certificate spec (a revoked or expired one for the tests)."""
    def iso(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S+0000")

    valid = {"valid-from": iso(now - timedelta(days=30)), "valid-to": iso(now + timedelta(days=leaf_days))}
    leaf_ext = [
        {"id": "key_usage", "critical": True,
         "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}},
        {"id": "authority_information_access",
         "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["ca-ocsp"]}}},
        {"id": "crl_distribution_points",
         "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["ca"]}}},
    ]
    certs = {
        "ca": {"subject": "ca", "issuer": "ca",
               "validity": {"valid-from": iso(now - timedelta(days=60)),
                            "valid-to": iso(now + timedelta(days=max(3650, leaf_days + 365)))},
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
    for label in leaves:
        certs[label] = {"subject": label, "issuer": "ca", "validity": valid, "extensions": leaf_ext,
                        **(overrides or {}).get(label, {})}
    entities = {"ca": {"common-name": ca_name}, "ocsp": {"common-name": "TESTSIGILL OCSP"},
                "tsa": {"common-name": "TESTSIGILL Tidsstämpel"}}
    entities.update({label: {"common-name": cn, "organization-name": org} for label, (org, cn) in leaves.items()})
    return {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"path-prefix": "keys", "keys": {
            label: {"path": f"{label}.pem"} for label in [*SERVICES, *leaves]}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "SE", "organization-name": DEMO_ORGANISATION},
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


def generate(folder: Path, leaves: dict[str, tuple[str, str]], *, port: int, **config) -> None:
    """The keys (0600) and certomancer's configuration into `folder` (0700)."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    (folder / "keys").mkdir(mode=0o700, exist_ok=True)
    for label in [*SERVICES, *leaves]:
        write_key(folder / "keys" / f"{label}.pem")
    settings = pki_config(port, datetime.now(UTC).replace(microsecond=0), leaves, **config)
    (folder / "certomancer.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


def _load(folder: Path):
    from certomancer.registry import CertomancerConfig

    return CertomancerConfig.from_file(str(folder / "certomancer.yml"), key_search_dir=str(folder))


@dataclass
class Pki:
    """A test PKI being served: its folder, address and certomancer architecture."""
    __test__ = False  # not a test class, wherever a test imports it

    folder: Path
    url: str
    arch: object
    server: object
    thread: threading.Thread

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def pkcs12(self, label: str, password: bytes) -> Path:
        """The seal's certificate, key and CA chain as the PKCS#12 file an organisation configures."""
        path = self.folder / f"{label}.p12"
        if not path.exists():
            _write_private(path, self.arch.package_pkcs12(label, password=password))
        return path

    def ca_pem(self) -> Path:
        path = self.folder / "ca.crt"
        if not path.exists():
            from asn1crypto import pem
            path.write_bytes(pem.armor("CERTIFICATE", self.arch.get_cert("ca").dump()))
        return path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _quiet_handler():
    from werkzeug.serving import WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # one line per OCSP/TSA request would drown the output
            pass
    return Quiet


def serve(folder: Path) -> Pki:
    """The PKI generated in `folder`, served on its own port of 127.0.0.1 (in a thread) until `stop()`."""
    from urllib.parse import urlsplit

    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from werkzeug.serving import make_server

    cfg = _load(folder)
    arch = cfg.get_pki_arch(ARCH)
    port = urlsplit(_url_of(folder)).port
    app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_quiet_handler())
    thread = threading.Thread(target=server.serve_forever, name="testsigill", daemon=True)
    thread.start()
    return Pki(folder, f"http://127.0.0.1:{port}", arch, server, thread)


def _url_of(folder: Path) -> str:
    import yaml

    return yaml.safe_load((folder / "certomancer.yml").read_text(encoding="utf-8"))["external-url-prefix"]


def start(folder: Path, leaves: dict[str, tuple[str, str]], **config) -> Pki:
    """A fresh PKI generated into `folder` and served on a free port (the tests)."""
    generate(folder, leaves, port=free_port(), **config)
    return serve(folder)


# ---------------------------------------------------------------- the demo's test seal
def folder_of(instance_path: str | Path) -> Path:
    return Path(instance_path) / FOLDER


def _label(key: str) -> str:
    return f"sigill-{key}"


def create_for_demo(instance_path: str | Path, organisations: dict[str, str]) -> bool:
    """The demo's test seal, one certificate per organisation (key -> organisation's namn), made
    once into instance/testsigill/: True when made now, False when it was there. The certificates
    are written out and the configuration loads them from file again, so a restart serves the same
    CA and its copies sealed before still verify; the port chosen now is kept."""
    from asn1crypto import pem

    folder = folder_of(instance_path)
    if (folder / MARKER).exists():
        return False
    if folder.exists():  # an earlier attempt cut off before its marker: made again
        shutil.rmtree(folder)
    leaves = {_label(key): (DEMO_ORGANISATION, f"TESTSIGILL {namn}") for key, namn in organisations.items()}
    port = free_port()
    generate(folder, leaves, port=port, ca_name=DEMO_CA_NAME, leaf_days=3650)
    arch = _load(folder).get_pki_arch(ARCH)
    (folder / "certs").mkdir(mode=0o700, exist_ok=True)
    import yaml

    settings = yaml.safe_load((folder / "certomancer.yml").read_text(encoding="utf-8"))
    for label, spec in settings["pki-architectures"][ARCH]["certs"].items():
        (folder / "certs" / f"{label}.crt").write_bytes(pem.armor("CERTIFICATE", arch.get_cert(label).dump()))
        spec["certificate-file"] = f"certs/{label}.crt"
    (folder / "certomancer.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    (folder / "ca.crt").write_bytes((folder / "certs" / "ca.crt").read_bytes())
    password = os.urandom(18).hex().encode()
    _write_private(folder / PASSWORD_FILE, password)
    for label in leaves:
        _write_private(folder / f"{label}.p12", arch.package_pkcs12(label, password=password))
    marker = {
        "om": "Testsigill – endast för demo. Ingen bevisverkan; används aldrig i drift.",
        "url": f"http://127.0.0.1:{port}",
        "sigill": {namn: f"{_label(key)}.p12" for key, namn in organisations.items()},
        "skapad": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    tmp = folder / (MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(folder / MARKER)  # last: the marker means the test seal is whole
    return True


def _marker(instance_path: str | Path) -> dict | None:
    path = folder_of(instance_path) / MARKER
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def is_demo(instance_path: str | Path) -> bool:
    """This instance is a demo with a test seal (`formservice demo` made one)."""
    return _marker(instance_path) is not None


def port_of(instance_path: str | Path) -> int:
    from urllib.parse import urlsplit

    return urlsplit(_marker(instance_path)["url"]).port


def settings(instance_path: str | Path) -> dict | None:
    """The seal settings (SEALS: one seal per demo organisation) for the demo's test seal, or None
    when the instance has none. Read without certomancer: from the marker and the files."""
    marker = _marker(instance_path)
    if marker is None:
        return None
    folder = folder_of(instance_path)
    tsa_url = f"{marker['url']}/{ARCH}/tsa/tsa"
    return {"SEALS": {namn: {"pkcs12": str(folder / p12), "password_file": str(folder / PASSWORD_FILE),
                             "tsa_url": tsa_url, "trust_roots": str(folder / "ca.crt")}
                      for namn, p12 in marker["sigill"].items()}}


def available() -> bool:
    """certomancer is installed (the `demo` extra)."""
    import importlib.util

    return importlib.util.find_spec("certomancer") is not None


def apply(app) -> bool:
    """Point the app's seal settings at the demo's test seal: True when done. Only in an instance
    with the marker, and never over a seal the installation configures (SEAL_*, SEALS): a real
    seal wins, and a production installation never gets a test seal."""
    from ..arenden import seals

    wanted = settings(app.instance_path)
    if wanted is None:
        return False
    if not available():
        log.warning("instansen har ett testsigill från demon, men certomancer saknas (pip install "
                    "'formservice[demo]'): arkivexemplaren förseglas inte")
        return False
    if seals.enabled(app.config):
        log.warning("instansen har ett testsigill från demon, men ett sigill är inställt (SEAL_*, SEALS): "
                    "det inställda sigillet används, inte testsigillet")
        return False
    app.config.update(wanted)
    return True


@contextmanager
def services(app):
    """The demo's test seal for one command (`demo`, `forsegla`): the settings applied and, unless
    a running `formservice run` already serves them, the PKI served in a thread until the end."""
    if not apply(app):
        yield False
        return
    if listening(port_of(app.instance_path)):
        yield True
        return
    pki = serve(folder_of(app.instance_path))
    try:
        yield True
    finally:
        pki.stop()


START_LINE = ("Demon förseglar arkivexemplaren med ett testsigill (TESTSIGILL, endast för demo, ingen "
              "bevisverkan): tidsstämpel och spärrtjänst på {url}. En riktig installation ställer in "
              "organisationens sigill (docs/forsegling.md).")

# The PKI's services in a fresh interpreter (forked from no web process), under the server's supervisor.
CHILD = [sys.executable, "-c", "import sys; from formservice.cli.testsigill import serve_main; serve_main(sys.argv[1])"]


def start_for_run(app):
    """`formservice run` in a demo with a test seal: the settings applied before the workers fork
    and the PKI's HTTP services (TSA, OCSP, CRL) started as a child that dies with the server;
    returns it (to stop) or None – in every installation without the demo's marker."""
    if not apply(app):
        return None
    from ..server import JOB_WORKER_NICE, JobWorker

    port = port_of(app.instance_path)
    if listening(port):
        log.warning("testsigillets port %d på 127.0.0.1 är upptagen: arkivexemplaren förseglas bara om det är "
                    "testsigillets tjänster som svarar där (annars: formservice forsegla senare)", port)
    # Not waited for: the archive copies are sealed by the job worker, which tries again while the
    # TSA is not answering yet (arenden/seal_jobs.py) – the server's start does not wait for a PKI
    # (waiting made `run` 0.3–0.5 s slower to its first page in a demo, measured).
    child = JobWorker(CHILD + [str(folder_of(app.instance_path))], name="testsigillets tjänster",
                      nice=JOB_WORKER_NICE).start()  # below the web and render processes, as the job worker
    app.logger.info(START_LINE.format(url=f"http://127.0.0.1:{port}"))
    return child


def serve_main(folder: str) -> None:
    """The PKI of the demo in `folder`, served until SIGTERM (from the supervisor, which dies with
    the server). A port taken by another program is tried again every few seconds."""
    import signal

    from ..rendering.supervisor import die_with_parent

    if os.getppid() == 1:
        return  # the supervisor that started us is gone already
    die_with_parent(os.getppid(), signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    warned = False
    while True:
        try:
            pki = serve(Path(folder))
            break
        except OSError as exc:
            if not warned:
                print(f"testsigillets tjänster kan inte starta ({exc}); försöker igen", file=sys.stderr, flush=True)
                warned = True
            time.sleep(5)
    try:
        while True:
            time.sleep(3600)
    finally:
        pki.stop()
