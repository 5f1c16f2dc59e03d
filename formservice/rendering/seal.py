"""The organisation's seal on an archive copy (PAdES B-LT with pyHanko) and the verification of
seals and signatures in a PDF – pure: bytes in, bytes or a result out, no flask, no database.

Sealing is an incremental update: the archive copy's bytes stay as they are (PDF/A-2, the tags,
the XMP) and one revision is appended with the signature field (an invisible widget, tagged),
the signature with its RFC 3161 timestamp, and the revocation data (the DSS: PAdES B-LT). What is
verified is told in Swedish for the pages (`SignatureStatus.text`)."""
from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from formservice import tid

# pyHanko and its certificate libraries are imported where they are used: at module level they cost
# every process of the service 0.4–0.5 s at start (measured), seal or no seal.
if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko_certvalidator import ValidationContext

log = logging.getLogger(__name__)

FIELD_NAME = "Organisationens_sigill"
CONTEXT_REUSE_S = 60.0  # how long fetched OCSP responses and CRLs serve the next seals
TIMEOUT_S = 5.0  # a TSA or OCSP responder slower than this leaves the copy unsealed, to be sealed later


class SealUnavailable(Exception):
    """The seal could not be made now (TSA, OCSP or CRL not answering, the token not there): the
    caller stores the archive copy unsealed, and `formservice forsegla` seals it later."""


@dataclass(frozen=True)
class SealSettings:
    """Where the seal's key is and whom to ask for time and revocation data. One of `pkcs12` (a
    file) or `pkcs11_module` (a token: module, token label, key label, PIN)."""
    tsa_url: str
    pkcs12: Path | None = None
    password: bytes | None = None
    pkcs11_module: str | None = None
    pkcs11_token: str | None = None
    pkcs11_key: str | None = None
    pkcs11_pin: str | None = None
    trust_roots: tuple[Path, ...] = ()  # extra CA certificates (PEM or DER) the seal chains to
    timeout: float = TIMEOUT_S


def _read_certs(path: Path) -> list[x509.Certificate]:
    from asn1crypto import pem, x509

    data = path.read_bytes()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


def trust_roots(paths) -> list[x509.Certificate]:
    return [cert for path in paths for cert in _read_certs(Path(path))]


class Sealer:
    """The loaded key and settings: made once per process (loading a PKCS#12 costs a key decode)."""

    def __init__(self, settings: SealSettings):
        from pyhanko.sign import signers

        self.settings = settings
        self.roots = trust_roots(settings.trust_roots)
        if settings.pkcs11_module:
            self.signer = _pkcs11_signer(settings)
        elif settings.pkcs12:
            self.signer = signers.SimpleSigner.load_pkcs12(str(settings.pkcs12), passphrase=settings.password)
            if self.signer is None:
                raise ValueError(f"Sigillets PKCS#12-fil kunde inte läsas: {settings.pkcs12}")
        else:
            raise ValueError("Sigillet saknar nyckel: ange en PKCS#12-fil eller en PKCS#11-modul")
        chain = list(self.signer.cert_registry) if self.signer.cert_registry else []
        # The seal's own CA chain counts as trusted for validation at sealing time: the organisation
        # chose this certificate; whether others trust its CA is for verification to tell.
        self.roots_for_signing = self.roots + [c for c in chain if c.self_signed != "no"]
        self._ctx: ValidationContext | None = None
        self._ctx_made = 0.0
        self._lock = threading.Lock()  # pyHanko's validation caches are not made for threads

    def _context(self) -> ValidationContext:
        # One context for a minute: its fetched OCSP responses and CRLs are reused by the next
        # documents (a fetch per document would cost more than the signature itself). Its moment is
        # when it was made, before the signatures that use it: revocation data from then is current.
        from pyhanko_certvalidator import ValidationContext
        from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

        now = time.monotonic()
        if self._ctx is None or now - self._ctx_made > CONTEXT_REUSE_S:
            self._ctx = ValidationContext(trust_roots=self.roots_for_signing, allow_fetching=True,
                                          revocation_mode="hard-fail",
                                          fetcher_backend=RequestsFetcherBackend(per_request_timeout=self.settings.timeout))
            self._ctx_made = now
        return self._ctx

    def seal(self, pdf: bytes) -> bytes:
        """The archive copy with the seal appended (PAdES B-LT). SealUnavailable when the TSA or the
        revocation data cannot be had now; nothing is lost, the copy is kept unsealed."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        fields.append_signature_field(writer, fields.SigFieldSpec(FIELD_NAME))
        _tag_widget(writer)
        with self._lock:
            context = self._context()
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            embed_validation_info=True, validation_context=context, use_pades_lta=False,
            reason="Arkivexemplar förseglat av organisationen",
            # The revocation data in the signature's own revision (PAdES B-LT in one revision): the
            # seal then covers the whole file, and a verifier needs no analysis of later revisions
            # (pyHanko's diff analysis reads every object: ~0.4 s per archive copy).
            dss_settings=DSSContentSettings(placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
                                            include_vri=False))
        timestamper = RequestsHTTPTimeStamper(self.settings.tsa_url, timeout=self.settings.timeout)
        pdf_signer = signers.PdfSigner(meta, signer=self.signer, timestamper=timestamper)
        out = io.BytesIO()
        with self._lock:
            try:
                _outside_event_loop(pdf_signer.sign_pdf, writer, output=out)
            except Exception as exc:  # noqa: BLE001 — pyHanko wraps network failures in many types
                self._ctx = None  # a failed fetch may be cached in it: ask again next time
                raise SealUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return out.getvalue()


def _tag_widget(writer) -> None:
    """The seal's (invisible) widget in the structure tree, as a /Form element under the document's
    top element: a tagged archive copy (PDF/A-2a) stays one where every annotation is tagged. In the
    signature's own revision, so the seal covers it. A structure tree of another shape (a nested
    parent tree) is left as it is."""
    from pyhanko.pdf_utils import generic

    root = writer.root
    tree = root.get("/StructTreeRoot")
    if tree is None:
        return
    tree = tree.get_object() if hasattr(tree, "get_object") else tree
    widget_ref = next(ref for ref in root["/AcroForm"]["/Fields"] if ref.get_object().get("/T") == FIELD_NAME)
    widget = widget_ref.get_object()
    if "/ParentTree" not in tree or "/K" not in tree or "/Nums" not in tree["/ParentTree"]:
        return
    parents = tree["/ParentTree"]
    top_ref = tree.raw_get("/K")
    if isinstance(top_ref.get_object(), generic.ArrayObject):
        top_ref = top_ref.get_object().raw_get(0)
    if not isinstance(top_ref, generic.IndirectObject):
        return
    top_elem = top_ref.get_object()
    nums = parents["/Nums"]
    key = int(tree.get("/ParentTreeNextKey", max([int(nums[i]) for i in range(0, len(nums), 2)] or [-1]) + 1))
    element = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/StructElem"),
        generic.pdf_name("/S"): generic.pdf_name("/Form"),
        generic.pdf_name("/P"): top_ref,
        generic.pdf_name("/Alt"): generic.TextStringObject("Organisationens elektroniska sigill"),
        generic.pdf_name("/K"): generic.DictionaryObject({
            generic.pdf_name("/Type"): generic.pdf_name("/OBJR"),
            generic.pdf_name("/Obj"): widget_ref,
            generic.pdf_name("/Pg"): widget.raw_get("/P")}),
    }))
    kids = top_elem.raw_get("/K") if "/K" in top_elem else None
    if kids is None:
        top_elem["/K"] = generic.ArrayObject([element])
    elif isinstance(kids.get_object(), generic.ArrayObject):
        kids.get_object().append(element)
        if isinstance(kids, generic.IndirectObject):
            writer.mark_update(kids)
    else:
        top_elem["/K"] = generic.ArrayObject([kids, element])
    widget["/StructParent"] = generic.NumberObject(key)
    nums.append(generic.NumberObject(key))
    nums.append(element)
    tree["/ParentTreeNextKey"] = generic.NumberObject(key + 1)
    for container in (top_elem, parents, tree, widget):
        writer.update_container(container)  # pyHanko: a dictionary changed in place is written anew


def _outside_event_loop(call, *args, **kwargs):
    """pyHanko's synchronous calls run its coroutines with asyncio.run, which refuses a thread that
    already has a running event loop (left there by a library – Playwright's sync API does it): the
    seal then failed with a coroutine never awaited. In such a thread the call runs in one of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(call, *args, **kwargs).result()


def _pkcs11_signer(settings: SealSettings):
    """A seal key on a PKCS#11 token (an HSM or smart card): pyHanko opens a session through the
    token's module; the key never leaves the token. Needs the `python-pkcs11` package."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    session = pkcs11.open_pkcs11_session(settings.pkcs11_module, token_criteria=TokenCriteria(label=settings.pkcs11_token),
                                         user_pin=settings.pkcs11_pin)
    # The certificate is stored on the token under the key's label (as `pkcs11-tool` and most HSM tools do).
    signer = pkcs11.PKCS11Signer(session, key_label=settings.pkcs11_key, cert_label=settings.pkcs11_key)
    if signer.signing_cert.public_key.algorithm == "ec":
        # Tokens sign EC with raw ECDSA over a digest made here; many (SoftHSM too) lack ECDSA_SHA256.
        signer = pkcs11.PKCS11Signer(session, key_label=settings.pkcs11_key, cert_label=settings.pkcs11_key,
                                     use_raw_mechanism=True)
    return signer


# ---------------------------------------------------------------- verifying
VALID, CHANGED, REVOKED, EXPIRED, NO_TIMESTAMP, UNTRUSTED, INVALID, UNSEALED = (
    "giltig", "andrad", "aterkallat", "utganget", "saknar_tidsstampel", "obetrott", "ogiltig", "inte_forseglad")


@dataclass
class SignatureStatus:
    """One signature of a PDF as verified: who, when (the timestamp's time, else None), whether it
    is valid and whether it covers the whole file (nothing but revocation data added after it)."""
    state: str
    signer: str | None = None
    timestamp: datetime | None = None
    whole_file: bool = False
    field: str | None = None
    detail: str = ""

    def __post_init__(self):
        if isinstance(self.timestamp, str):
            self.timestamp = datetime.fromisoformat(self.timestamp)

    @property
    def valid(self) -> bool:
        return self.state == VALID

    @property
    def text(self) -> str:
        """The status as the ärende says it."""
        when = f", tidsstämpel {tid.text(self.timestamp)}" if self.timestamp else ""
        by = f"Förseglad av {self.signer}" if self.field == FIELD_NAME else f"Underskriven av {self.signer}"
        return {
            VALID: f"{by}{when}, giltig",
            CHANGED: "Ändrad efter förseglingen" if self.field == FIELD_NAME else "Ändrad efter underskriften",
            REVOKED: f"Certifikatet är återkallat ({self.signer})",
            EXPIRED: f"Certifikatet hade gått ut ({self.signer})",
            NO_TIMESTAMP: f"Saknar tidsstämpel ({self.signer})",
            UNTRUSTED: f"{by}{when}, men certifikatet kommer inte från en betrodd utfärdare",
            INVALID: f"Ogiltig underskrift ({self.signer or 'okänd'})",
            UNSEALED: "Inte förseglad",
        }[self.state]


def _name(cert: x509.Certificate) -> str:
    subject = cert.subject.native
    return subject.get("common_name") or subject.get("organization_name") or cert.subject.human_friendly


def _whole_file(status) -> bool:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    # A B-LT made by others may append the DSS after the signature: still the whole document, if
    # that (or a document timestamp) is all that came after.
    from pyhanko.sign.diff_analysis import ModificationLevel
    return (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES))


def verify(pdf: bytes, roots: list[x509.Certificate], *, online: bool = True,
           timeout: float = TIMEOUT_S) -> list[SignatureStatus]:
    """Every signature in the PDF, verified at its timestamp's time against the revocation data it
    carries (and, `online`, what the OCSP responder or CRL says now when it carries none). The
    caller opens PDFs from outside through untrusted_pdf's limits first."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        found = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 — a file pyHanko cannot read has no signature it can vouch for
        return [SignatureStatus(CHANGED, field=FIELD_NAME if FIELD_NAME.encode() in pdf else None,
                                detail=f"{type(exc).__name__}: {exc}")]
    return [_verify_one(reader, sig, roots, online, timeout) for sig in found]


def _verify_one(reader, sig, roots, online, timeout) -> SignatureStatus:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # noqa: BLE001 — no DSS: nothing embedded
        dss = None
    moment = _timestamp_time(sig)
    name = None
    try:
        name = _name(sig.signer_cert)
    except Exception:  # noqa: BLE001
        pass

    def context(at, revocation_mode="hard-fail"):
        kwargs = dict(trust_roots=roots, moment=at, allow_fetching=online, revocation_mode=revocation_mode,
                      retroactive_revinfo=True,
                      fetcher_backend=RequestsFetcherBackend(per_request_timeout=timeout) if online else None)
        return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)
    try:
        # The TSA's own certificate: revoked fails, unknown does not – the seal's revision is closed
        # before the timestamp exists, so a TSA of another CA has no revocation data in it.
        status = _outside_event_loop(validate_pdf_signature, sig, context(moment),
                                     ts_validation_context=context(None, "soft-fail"))
    except Exception as exc:  # noqa: BLE001 — a malformed signature is an invalid one
        return SignatureStatus(INVALID, name, moment, False, sig.field_name, detail=f"{type(exc).__name__}: {exc}")
    whole = _whole_file(status)
    result = SignatureStatus(VALID, name, moment, whole, sig.field_name, detail=status.summary())
    if not status.intact or not status.valid or not whole:
        result.state = CHANGED if not status.intact or not whole else INVALID
    elif status.revoked:
        result.state = REVOKED
    elif _expired(status, sig.signer_cert, moment):
        result.state = EXPIRED
    elif moment is None:
        result.state = NO_TIMESTAMP
    elif not status.trusted:
        result.state = UNTRUSTED
    elif not _timestamp_ok(status.timestamp_validity):
        result.state = NO_TIMESTAMP  # a timestamp nobody can vouch for is as good as none
    return result


def _timestamp_ok(ts) -> bool:
    return ts is not None and ts.intact and ts.valid and ts.trusted


def _timestamp_time(sig) -> datetime | None:
    """The time the signature's RFC 3161 timestamp claims (checked by the validation itself)."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
    try:
        for signed_data in extract_tst_data_iter(sig.signer_info, signed=False):
            return signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except Exception:  # noqa: BLE001 — no unsigned attributes: no timestamp
        return None
    return None


def _expired(status, cert: x509.Certificate, moment: datetime | None) -> bool:
    at = moment or datetime.now(UTC)
    validity = cert["tbs_certificate"]["validity"]
    if not validity["not_before"].native <= at <= validity["not_after"].native:
        return True
    indic = getattr(status.trust_problem_indic, "name", "") or ""
    return "EXPIRED" in indic or "OUT_OF_BOUNDS" in indic


def seal_status(pdf: bytes, roots: list[x509.Certificate], **kw) -> SignatureStatus:
    """The archive copy's seal: its own signature field, or "inte förseglad"."""
    if b"/ByteRange" not in pdf:  # no signature dictionary at all: no need to parse the file
        return SignatureStatus(UNSEALED)
    for status in verify(pdf, roots, **kw):
        if status.field == FIELD_NAME:
            return status
    return SignatureStatus(UNSEALED)


def is_sealed(pdf: bytes) -> bool:
    """Whether the archive copy carries the seal at all (cheap: no validation)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return any(sig.field_name == FIELD_NAME for sig in reader.embedded_signatures)


# ---------------------------------------------------------------- signatures of a PDF from outside
VERIFY_CPU_SECONDS = 10  # pyHanko's import alone is ~1 s of CPU; a hostile file gets no more than this


def verify_untrusted(data: bytes, roots: list[x509.Certificate], *, online: bool = True,
                     timeout: float = TIMEOUT_S) -> list[SignatureStatus]:
    """The signatures of an uploaded PDF (the doctor's returned förfrågan), verified in a child
    process under the same memory limit as untrusted_pdf's parsing – the caller has opened the file
    through untrusted_pdf first (size, structure, active content). A file without a signature
    dictionary costs no child at all. A file that breaks the verifier has no valid signature."""
    from . import untrusted_pdf

    if b"/ByteRange" not in data:
        return []
    header = json.dumps({"roots": [base64.b64encode(c.dump()).decode() for c in roots], "online": online,
                         "timeout": timeout}).encode() + b"\n"
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=header + data, capture_output=True,
                              timeout=VERIFY_CPU_SECONDS * 3 + timeout * 4, env=untrusted_pdf._child_env())
        if done.returncode != 0:
            raise ValueError(done.stderr.decode(errors="replace")[-500:])
        return [SignatureStatus(**item) for item in json.loads(done.stdout)]
    except (subprocess.TimeoutExpired, ValueError) as exc:
        log.warning("signatures of an uploaded PDF could not be verified: %s", exc)
        return [SignatureStatus(INVALID, detail="kunde inte kontrolleras")]


def _child_main() -> int:
    import resource

    from asn1crypto import x509

    from .untrusted_pdf import MAX_BYTES, MEMORY_BYTES

    resource.setrlimit(resource.RLIMIT_CPU, (VERIFY_CPU_SECONDS, VERIFY_CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    header = json.loads(sys.stdin.buffer.readline())
    data = sys.stdin.buffer.read(MAX_BYTES * 4 + 1)
    roots = [x509.Certificate.load(base64.b64decode(c)) for c in header["roots"]]
    statuses = verify(data, roots, online=header["online"], timeout=header["timeout"])
    sys.stdout.write(json.dumps([dict(s.__dict__, timestamp=s.timestamp.isoformat() if s.timestamp else None)
                                 for s in statuses], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
