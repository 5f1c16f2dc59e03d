"""The organisation's seal on archive copies (issue 29, items 1–3), against a real test PKI on
127.0.0.1 (tests/pki.py: a CA, OCSP, CRL and a TSA served by certomancer's animator): every new
archive copy is sealed (PAdES B-LT) and verifies as valid; a changed byte, a revoked or expired
certificate and a missing timestamp are each reported; PDF/A and the tags survive the seal; a TSA
that does not answer loses nothing and `seal_missing` seals the copy later; the doctor's answers'
archive copy is sealed too; an uploaded signed PDF shows who signed it and whether it holds; one
organisation's seal never lands on another's documents."""
from __future__ import annotations

import io
import re
import time

import pikepdf
import pytest
from sqlalchemy import select

from . import pki
from .data import returned_pdfs as corpus
from .test_archive_copies import assert_pdfa
from .test_doctor_answers import confirm, upload
from .wizard_driver import create_arende, fill_blankett


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory):
    started = pki.start(tmp_path_factory.mktemp("pki"))
    yield started
    started.stop()


def _seal_config(test_pki, label):
    return {"pkcs12": str(test_pki.pkcs12(label)), "password": pki.PASSWORD.decode()}


@pytest.fixture
def app_config(app_config, test_pki):
    return dict(app_config, SEAL_TSA_URL=test_pki.tsa_url, SEAL_TRUST_ROOTS=str(test_pki.ca_pem()),
                SEALS={"Teststaden": _seal_config(test_pki, "seal"),
                       "Andra teststaden": _seal_config(test_pki, "seal2")})


@pytest.fixture(scope="module")
def unsealed(test_pki):
    """An archive copy as the registry makes it, before any seal."""
    import datetime

    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents
    from formservice.rendering.pdf import DocumentContext

    from .sample_values import sample_values

    catalogue = load_catalogue()
    raw = {}
    for part in documents.parts_of(catalogue, "forandringsplan"):
        raw.update(sample_values(part))
    ctx = DocumentContext(organisation="Teststaden", document_number="FS-TEST-SIGL", created=datetime.date(2026, 12, 7))
    return documents.produce_print_and_archive(catalogue, "forandringsplan",
                                               documents.validate(catalogue, "forandringsplan", raw), ctx).archive_pdf


@pytest.fixture(scope="module")
def sealer(test_pki):
    from formservice.rendering import seal

    return seal.Sealer(seal.SealSettings(tsa_url=test_pki.tsa_url, pkcs12=test_pki.pkcs12("seal"),
                                         password=pki.PASSWORD, trust_roots=(test_pki.ca_pem(),)))


def _roots(test_pki):
    from formservice.rendering import seal

    return seal.trust_roots([test_pki.ca_pem()])


def assert_sealed_pdfa(sealed: bytes, unsealed: bytes | None = None) -> None:
    """The project's PDF/A and tag checks (test_archive_copies.assert_pdfa) on the sealed copy. A
    signature needs a form (the /AcroForm with the signature field) where the unsealed copy had
    none: so the form is checked to be what PDF/A-2 allows of a signature – only signature fields,
    an invisible widget that prints, no NeedAppearances, no XFA – and the rest with the same
    checks as every archive copy. The seal is an incremental update: the copy's bytes are kept."""
    assert unsealed is None or sealed.startswith(unsealed)
    with pikepdf.open(io.BytesIO(sealed)) as doc:
        form = doc.Root.AcroForm
        assert "/XFA" not in form and not form.get("/NeedAppearances", False)
        assert [str(f.FT) for f in form.Fields] == ["/Sig"]
        widget = form.Fields[0]
        assert int(widget.F) & 4 and not int(widget.F) & (1 | 2 | 32)  # Print; not Invisible/Hidden/NoView
        assert [float(x) for x in widget.Rect] == [0, 0, 0, 0]
        assert "/DSS" in doc.Root  # B-LT: the revocation data is in the file
        # Tagged like every annotation of a tagged PDF: a /Form element refers to the widget.
        parent = doc.Root.StructTreeRoot.ParentTree.Nums
        element = next(parent[i + 1] for i in range(0, len(parent), 2) if int(parent[i]) == int(widget.StructParent))
        assert element.S == "/Form" and element.K.Obj.objgen == widget.objgen
        del doc.Root.AcroForm  # what is left must pass every archive copy's checks
        for page in doc.pages:
            if "/Annots" in page:
                page.Annots = pikepdf.Array([a for a in page.Annots if a.get("/FT") != "/Sig"])
        out = io.BytesIO()
        doc.save(out)
    assert_pdfa(out.getvalue())
    assert not re.search(rb"/JavaScript|/JS\b", sealed)


# ---------------------------------------------------------------- the seal itself (rendering/seal.py)
def test_a_sealed_archive_copy_is_valid_and_keeps_pdfa_and_tags(test_pki, sealer, unsealed):
    from formservice.rendering import seal

    sealed = sealer.seal(unsealed)
    assert_sealed_pdfa(sealed, unsealed)
    status = seal.seal_status(sealed, _roots(test_pki), online=False)  # from what the file carries alone
    assert status.valid and status.whole_file and status.timestamp is not None
    assert status.signer == "TESTSIGILL Teststaden"
    assert status.text.startswith("Förseglad av TESTSIGILL Teststaden, tidsstämpel ") and status.text.endswith(", giltig")


def test_a_changed_byte_is_reported(test_pki, sealer, unsealed):
    from formservice.rendering import seal

    sealed = bytearray(sealer.seal(unsealed))
    at = sealed.index(b"stream", len(sealed) // 4) + 20  # inside a content stream: the file still parses
    sealed[at] ^= 0x01
    status = seal.seal_status(bytes(sealed), _roots(test_pki), online=False)
    assert status.state == seal.CHANGED and status.text == "Ändrad efter förseglingen"


def test_a_revoked_certificate_is_reported(test_pki, unsealed):
    from formservice.rendering import seal

    status = seal.seal_status(test_pki.sign(unsealed, "revoked"), _roots(test_pki))
    assert status.state == seal.REVOKED and status.text.startswith("Certifikatet är återkallat")


def test_an_expired_certificate_is_reported(test_pki, unsealed):
    from formservice.rendering import seal

    status = seal.seal_status(test_pki.sign(unsealed, "expired"), _roots(test_pki))
    assert status.state == seal.EXPIRED and status.text.startswith("Certifikatet hade gått ut")


def test_a_missing_timestamp_is_reported(test_pki, unsealed):
    from formservice.rendering import seal

    status = seal.seal_status(test_pki.sign(unsealed, "seal", timestamp=False), _roots(test_pki))
    assert status.state == seal.NO_TIMESTAMP and status.text.startswith("Saknar tidsstämpel")


def test_a_seal_whose_tsa_does_not_answer_is_refused_not_faked(test_pki, unsealed):
    from formservice.rendering import seal

    down = seal.Sealer(seal.SealSettings(tsa_url=f"http://127.0.0.1:{pki._free_port()}/tsa",
                                         pkcs12=test_pki.pkcs12("seal"), password=pki.PASSWORD, timeout=2))
    with pytest.raises(seal.SealUnavailable):
        down.seal(unsealed)
    assert seal.seal_status(unsealed, _roots(test_pki)).text == "Inte förseglad"


# ---------------------------------------------------------------- in the service
def _archive_of(soc, result):
    return soc.get(result["pdf_url"].replace(".pdf", ".arkiv")).data


def test_every_new_archive_copy_is_sealed_and_the_arende_says_so(app, soc, test_pki):
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    archive = _archive_of(soc, result)
    assert_sealed_pdfa(archive)
    page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert re.search(r"Arkivexemplaret: Förseglad av TESTSIGILL Teststaden, tidsstämpel [\d-]+ [\d:]+, giltig", page)


def test_tsa_down_stores_unsealed_then_seal_missing_seals_it(app, soc, test_pki):
    from formservice.arenden import seals
    from formservice.rendering import seal

    app.config["SEAL_TSA_URL"] = f"http://127.0.0.1:{pki._free_port()}/tsa"  # nobody listens there
    app.config["SEALS"] = {"Teststaden": dict(_seal_config(test_pki, "seal"), tsa_url=app.config["SEAL_TSA_URL"])}
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    archive = _archive_of(soc, result)
    assert archive.startswith(b"%PDF") and not seal.is_sealed(archive)  # the document is there, unsealed
    assert "Arkivexemplaret: Inte förseglad" in soc.get(f"/arenden/{pid}").get_data(as_text=True)
    with app.app_context():
        checked, failures = seals.verify_all()
        assert checked == 1 and failures == [(failures[0][0], "Inte förseglad")]
        assert seals.seal_missing().failed  # still down: nothing sealed, nothing lost
    app.config["SEALS"] = {"Teststaden": _seal_config(test_pki, "seal")}
    app.config["SEAL_TSA_URL"] = test_pki.tsa_url
    with app.app_context():
        outcome = seals.seal_missing()
        assert (outcome.sealed, outcome.failed) == (1, [])
        assert seals.seal_missing().already == 1  # a second run seals nothing twice
        assert seals.verify_all() == (1, [])
    assert seal.is_sealed(_archive_of(soc, result))
    assert "Arkivexemplaret: Förseglad av TESTSIGILL Teststaden" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_without_a_seal_archive_copies_are_as_before_and_are_sealed_when_it_comes(app, soc, test_pki):
    from formservice.arenden import seals
    from formservice.rendering import seal

    app.config["SEALS"] = None
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    archive = _archive_of(soc, result)
    assert_pdfa(archive)  # exactly today's archive copy: no form, no signature
    assert not seal.is_sealed(archive)
    assert "Arkivexemplaret: Inte förseglad" in soc.get(f"/arenden/{pid}").get_data(as_text=True)
    with app.app_context():
        assert seals.verify_all() == (1, [])  # no seal configured: unsealed is no failure

    # A seal whose key cannot be opened (a wrong password) loses no document either.
    app.config["SEALS"] = {"Teststaden": dict(_seal_config(test_pki, "seal"), password="fel")}
    result2 = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    assert not seal.is_sealed(_archive_of(soc, result2))

    # The seal arrives: archive copies made before it are sealed by `formservice forsegla`.
    app.config["SEALS"] = {"Teststaden": _seal_config(test_pki, "seal")}
    with app.app_context():
        assert seals.seal_missing().sealed == 2
    sealed = _archive_of(soc, result)
    assert_sealed_pdfa(sealed, archive)


def test_verify_all_lists_a_tampered_archive_copy(app, soc, test_pki):
    from formservice import db
    from formservice.arenden import seals
    from formservice.arenden.models import Dokument

    pid = create_arende(soc, ruta="soc1.4")
    fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    with app.app_context():
        kr = app.extensions["keyring"]
        dok = db.session().scalar(select(Dokument))
        data = bytearray(kr.decrypt(dok.archive_enc))
        data[data.index(b"stream", len(data) // 4) + 20] ^= 0x01
        dok.archive_enc = kr.encrypt(bytes(data))
        db.session().commit()
        checked, failures = seals.verify_all()
    assert checked == 1 and failures == [(f"forandringsplan {dok.document_number}", "Ändrad efter förseglingen")]
    # The same through the command an operator runs: the list, and a failing exit status.
    from formservice.cli import main

    res = app.test_cli_runner().invoke(main, ["verifiera-arkiv"])
    assert res.exit_code == 1
    assert f"forandringsplan {dok.document_number}: Ändrad efter förseglingen" in res.output
    res = app.test_cli_runner().invoke(main, ["forsegla"])  # a broken seal is not a missing one
    assert res.exit_code == 0 and "Förseglade: 0, redan förseglade: 1" in res.output


def test_the_doctors_answers_archive_copy_is_sealed(app, soc, forfragan, dbs, test_pki):
    from formservice.doctor.models import Svar
    from formservice.rendering import seal

    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    confirm(soc, res.headers["Location"])
    svar = dbs.scalar(select(Svar))
    archive = soc.get(f"/arenden/{pid}/svar/{svar.public_id}/arkiv.pdf").data
    status = seal.seal_status(archive, _roots(test_pki), online=False)
    assert status.valid and status.signer == "TESTSIGILL Teststaden"
    assert_sealed_pdfa(archive)
    assert "Arkivexemplaret: Förseglad av TESTSIGILL Teststaden" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_an_uploaded_signed_pdf_shows_its_signer_and_whether_it_covers_the_whole_file(app, soc, forfragan, test_pki):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pid, doc_id, fillable = forfragan
    signed = test_pki.sign(corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES), "lakare", field="Lakarens_underskrift")
    page = soc.get(upload(soc, pid, doc_id, signed).headers["Location"]).get_data(as_text=True)
    assert "Underskrifter i den uppladdade filen" in page
    assert re.search(r"Underskriven av TESTSIGILL Doris Testläkare, tidsstämpel [\d-]+ [\d:]+, giltig – gäller hela filen", page)

    # The same file with an answer changed after the signature: the signature no longer covers it.
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    field = next(f for f in writer.root["/AcroForm"]["/Fields"] if f.get_object().get("/FT") == "/Tx")
    from pyhanko.pdf_utils import generic
    field = field.get_object()
    field["/V"] = generic.TextStringObject("Ändrat efteråt")
    writer.update_container(field)
    out = io.BytesIO()
    writer.write(out)
    page = soc.get(upload(soc, pid, doc_id, out.getvalue()).headers["Location"]).get_data(as_text=True)
    assert "gäller inte hela filen" in page and "Ändrad efter underskriften" in page


def test_an_unsigned_upload_shows_no_signature_section(soc, forfragan):
    pid, doc_id, fillable = forfragan
    page = soc.get(upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
                   .headers["Location"]).get_data(as_text=True)
    assert "Underskrifter i den uppladdade filen" not in page


def test_each_organisation_gets_its_own_seal_and_an_unnamed_seal_none_of_several(app, client, auth, make_user,
                                                                                   make_enhet, test_pki):
    from formservice.rendering import seal

    catalogue = app.extensions["catalogue"]
    make_user(username="sara", namn="Sara Handläggare", telefon="08-111 222 33", epost="sara@example.se")
    other = make_enhet(namn="Andra enheten", organisation="Andra teststaden")
    make_user(username="olle", namn="Olle Annansson", telefon="08-333 444 55", epost="olle@example.se", enhet_id=other)
    signers = {}
    for username in ("sara", "olle"):
        auth.login(username=username)
        pid = create_arende(client, ruta="soc1.4")
        archive = _archive_of(client, fill_blankett(client, pid, "forandringsplan", catalogue))
        signers[username] = seal.seal_status(archive, _roots(test_pki), online=False).signer
        auth.logout()
    assert signers == {"sara": "TESTSIGILL Teststaden", "olle": "TESTSIGILL Andra teststaden"}

    # One seal for the installation, naming no organisation, while there are two: it seals neither.
    app.config["SEALS"] = None
    app.config.update(SEAL_PKCS12=str(test_pki.pkcs12("seal")), SEAL_PASSWORD=pki.PASSWORD.decode())
    auth.login(username="olle")
    pid = create_arende(client, ruta="soc1.4")
    archive = _archive_of(client, fill_blankett(client, pid, "forandringsplan", catalogue))
    assert not seal.is_sealed(archive)


def test_a_seal_on_a_pkcs11_token(test_pki, unsealed, tmp_path, monkeypatch):
    """The seal's key on a token (SoftHSM here, an HSM in production): it never leaves the token."""
    import shutil
    import subprocess

    pkcs11 = pytest.importorskip("pkcs11")
    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not shutil.which("softhsm2-util") or not __import__("os").path.exists(module):
        pytest.skip("SoftHSM is not installed (apt-get install softhsm2)")
    from formservice.rendering import seal

    (tmp_path / "tokens").mkdir()
    (tmp_path / "softhsm2.conf").write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(tmp_path / "softhsm2.conf"))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "formservice-test", "--so-pin", "12345678",
                    "--pin", "2468"], check=True, capture_output=True)
    subprocess.run(["softhsm2-util", "--import", str(test_pki.folder / "keys" / "seal.pem"), "--token",
                    "formservice-test", "--label", "sigill", "--id", "01", "--pin", "2468"], check=True, capture_output=True)
    cert = test_pki.arch.get_cert("seal")
    token = pkcs11.lib(module).get_token(token_label="formservice-test")
    with token.open(rw=True, user_pin="2468") as session:
        session.create_object({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                               pkcs11.Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                               pkcs11.Attribute.TOKEN: True, pkcs11.Attribute.LABEL: "sigill",
                               pkcs11.Attribute.ID: b"\x01", pkcs11.Attribute.VALUE: cert.dump(),
                               pkcs11.Attribute.SUBJECT: cert.subject.dump()})
    sealer = seal.Sealer(seal.SealSettings(tsa_url=test_pki.tsa_url, pkcs11_module=module, pkcs11_token="formservice-test",
                                           pkcs11_key="sigill", pkcs11_pin="2468", trust_roots=(test_pki.ca_pem(),)))
    sealed = sealer.seal(unsealed)
    assert_sealed_pdfa(sealed, unsealed)
    status = seal.seal_status(sealed, _roots(test_pki), online=False)
    assert status.valid and status.signer == "TESTSIGILL Teststaden"


def test_under_run_the_job_worker_seals_the_archive_copy_after_the_click(app, soc, test_pki):
    """Issue 23: served by `formservice run` (SEAL_BY_JOB_WORKER), the click and the rest of the
    document leave the archive copy unsealed and the job worker seals it as a DBOS workflow – the
    seal's CPU and the TSA never share a web worker with the next click. DBOS is given the kind and
    the row id only."""
    from sqlalchemy import select

    from formservice import db, jobs
    from formservice.arenden.models import Dokument
    from formservice.rendering import seal

    from .conftest import outside_event_loop

    jobs.migrate(app)
    app.config["SEAL_BY_JOB_WORKER"] = True
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    assert not seal.is_sealed(_archive_of(soc, result))  # nothing sealed in the request
    with app.app_context():
        dok_id = db.session().scalar(select(Dokument.id).order_by(Dokument.id.desc()))
        (queued,) = jobs.client(app).list_workflows(name="sigill")
        assert queued.queue_name == "sigill" and list(queued.input["args"]) == ["dokument", dok_id]
    outside_event_loop(jobs.start_worker, app)
    try:
        _until_sealed(soc, result, 60, "the job worker did not seal the archive copy")
    finally:
        outside_event_loop(jobs.stop_worker)
        jobs.close_clients()
    _assert_sealed_and_shown(soc, pid, result)


def _until_sealed(soc, result, seconds: float, why: str) -> None:
    from formservice.rendering import seal

    deadline = time.monotonic() + seconds
    while not seal.is_sealed(_archive_of(soc, result)):
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def _assert_sealed_and_shown(soc, pid: str, result) -> None:
    assert_sealed_pdfa(_archive_of(soc, result))
    assert "Arkivexemplaret: Förseglad av TESTSIGILL Teststaden" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def _tsa_later(port: int, tsa_url: str):
    """A TSA on `port` that is not there yet: `start()` opens it, answering as the test PKI's TSA
    (every request passed on to it, over real HTTP)."""
    import http.server
    import threading
    import urllib.request

    class Forward(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — the handler's name is http.server's
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with urllib.request.urlopen(urllib.request.Request(
                    tsa_url, data=body, headers={"Content-Type": self.headers["Content-Type"]}), timeout=10) as res:
                answer = res.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    class Later:
        server = None

        def start(self):
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Forward)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

        def stop(self):
            if self.server is not None:
                self.server.shutdown()
                self.server.server_close()

    return Later()


def test_the_job_worker_tries_a_seal_again_until_the_tsa_answers(app, soc, test_pki):
    """Issue 23: `run` starts without waiting for a TSA (the demo's test seal starts beside it); a seal
    the TSA does not answer yet is tried again by the job worker (after 5 s, then 10 …), not left
    unsealed."""
    from formservice import jobs
    from formservice.arenden import seal_jobs
    from formservice.rendering import seal

    from .conftest import outside_event_loop

    port = pki._free_port()
    tsa = _tsa_later(port, test_pki.tsa_url)
    app.config["SEAL_TSA_URL"] = f"http://127.0.0.1:{port}/tsa"
    app.config["SEALS"] = {"Teststaden": dict(_seal_config(test_pki, "seal"), tsa_url=app.config["SEAL_TSA_URL"])}
    jobs.migrate(app)
    app.config["SEAL_BY_JOB_WORKER"] = True
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    outside_event_loop(jobs.start_worker, app)
    try:
        time.sleep(1.0)  # the first attempt finds no TSA
        assert not seal.is_sealed(_archive_of(soc, result))
        tsa.start()
        _until_sealed(soc, result, seal_jobs.FIRST_PAUSE_SECONDS * 4, "the job worker did not try the seal again")
    finally:
        outside_event_loop(jobs.stop_worker)
        jobs.close_clients()
        tsa.stop()
    _assert_sealed_and_shown(soc, pid, result)


def test_a_seal_made_in_a_thread_with_a_running_event_loop(test_pki, sealer, unsealed):
    """pyHanko's synchronous API runs coroutines with asyncio.run, which a thread with a running event
    loop refuses (Playwright leaves one in the test process): sealing and checking work there too."""
    import asyncio

    from formservice.rendering import seal

    async def in_a_loop():
        sealed = sealer.seal(unsealed)
        return sealed, seal.seal_status(sealed, _roots(test_pki))

    sealed, status = asyncio.run(in_a_loop())
    assert status.valid and status.whole_file, status.text
    assert_sealed_pdfa(sealed, unsealed)
