"""The organisation's seal on its archive copies: which seal is whose (configuration), sealing a
new archive copy, sealing those made without one (`seal_missing`: archive copies from before the
seal existed, and those a TSA or OCSP responder that did not answer left unsealed), verifying
every stored archive copy (`verify_all`) and the status an ärende shows. The PDF work is
rendering/seal.py's; this wing knows the organisations, the keys and the stored rows.

An archive copy without a seal is the mark of one still to be sealed: nothing else is stored, so
an installation that turns the seal on later needs no migration, and `formservice forsegla` finds
the copies to seal by opening them."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

from flask import current_app
from sqlalchemy import func, select

from formservice import db
from formservice.accounts.models import Enhet, Organisation
from formservice.rendering import seal as pdf_seal

from .models import Arende, Dokument
from .operations import keyring

log = logging.getLogger(__name__)

_SETTING_KEYS = ("pkcs12", "password", "password_file", "tsa_url", "trust_roots", "pkcs11_module",
                 "pkcs11_token", "pkcs11_key", "pkcs11_pin", "pkcs11_pin_file")


# ---------------------------------------------------------------- configuration: whose seal is which
def _settings(raw: dict[str, Any]) -> pdf_seal.SealSettings:
    password = raw.get("password")
    if raw.get("password_file"):
        password = Path(raw["password_file"]).read_text(encoding="utf-8").strip()
    pin = raw.get("pkcs11_pin")
    if raw.get("pkcs11_pin_file"):
        pin = Path(raw["pkcs11_pin_file"]).read_text(encoding="utf-8").strip()
    roots = raw.get("trust_roots") or ()
    if isinstance(roots, str):
        roots = [p for p in roots.split(",") if p.strip()]
    return pdf_seal.SealSettings(
        tsa_url=raw["tsa_url"], pkcs12=Path(raw["pkcs12"]) if raw.get("pkcs12") else None,
        password=password.encode() if isinstance(password, str) else password,
        pkcs11_module=raw.get("pkcs11_module"), pkcs11_token=raw.get("pkcs11_token"),
        pkcs11_key=raw.get("pkcs11_key"), pkcs11_pin=pin, trust_roots=tuple(Path(p.strip()) for p in roots))


def _configured(config) -> dict[str | None, dict[str, Any]]:
    """Organisation name (None: the installation's one seal) -> its raw seal settings."""
    out: dict[str | None, dict[str, Any]] = {}
    if (config.get("SEAL_PKCS12") or config.get("SEAL_PKCS11_MODULE")) and config.get("SEAL_TSA_URL"):
        out[config.get("SEAL_ORGANISATION")] = {k: config.get("SEAL_" + k.upper()) for k in _SETTING_KEYS}
    for name, raw in (config.get("SEALS") or {}).items():
        out[name] = {k: raw.get(k, config.get("SEAL_" + k.upper()) if k in ("tsa_url", "trust_roots") else None)
                     for k in _SETTING_KEYS}
    return out


_sealers: dict[pdf_seal.SealSettings, pdf_seal.Sealer] = {}
_sealers_lock = threading.Lock()


def _raw_for(organisation: Organisation) -> dict[str, Any] | None:
    """The organisation's seal settings as configured, or None. A seal configured without naming
    its organisation (SEAL_ORGANISATION) is used only while the installation has one organisation:
    another organisation's documents never get a seal that is not theirs."""
    configured = _configured(current_app.config)
    raw = configured.get(organisation.namn)
    if raw is None and None in configured:
        if db.session().scalar(select(func.count()).select_from(Organisation)) == 1:
            return configured[None]
        log.warning("the seal names no organisation (FORMSERVICE_SEAL_ORGANISATION) and there are several: "
                    "%s's archive copies are not sealed", organisation.namn)
    return raw


def has_seal(organisation: Organisation) -> bool:
    return _raw_for(organisation) is not None


def sealer_for(organisation: Organisation) -> pdf_seal.Sealer | None:
    """The organisation's seal with its key loaded (once per process), or None: not configured,
    and archive copies stay unsealed."""
    raw = _raw_for(organisation)
    if raw is None:
        return None
    settings = _settings(raw)
    with _sealers_lock:
        if settings not in _sealers:
            _sealers[settings] = pdf_seal.Sealer(settings)
        return _sealers[settings]


def enabled(config=None) -> bool:
    return bool(_configured(config if config is not None else current_app.config))


def trust_roots() -> list:
    """The CA certificates whose seals and signatures count as trusted: those configured
    (SEAL_TRUST_ROOTS, each organisation's trust_roots) and every configured seal's own CA."""
    paths = {p for raw in _configured(current_app.config).values() for p in _settings(raw).trust_roots}
    configured = current_app.config.get("SEAL_TRUST_ROOTS") or ()
    if isinstance(configured, str):
        configured = [p for p in configured.split(",") if p.strip()]
    paths |= {Path(p.strip()) for p in configured}
    roots = pdf_seal.trust_roots(sorted(paths))
    with _sealers_lock:
        for sealer in _sealers.values():
            roots += [c for c in sealer.roots_for_signing if c not in roots]
    return roots


def organisation_of(arende: Arende) -> Organisation:
    return db.session().get(Enhet, arende.enhet_id).organisation


def seal_archive(pdf: bytes | None, organisation: Organisation) -> bytes | None:
    """The archive copy sealed by its organisation; unsealed as it came when the organisation has
    no seal, or when the seal cannot be made now (the TSA or OCSP responder does not answer):
    the document is never lost for a seal, and `seal_missing` seals it later."""
    if not pdf:
        return pdf
    try:
        sealer = sealer_for(organisation)
        if sealer is None:
            return pdf
        return sealer.seal(pdf)
    except Exception as exc:  # noqa: BLE001 — a wrong password or a missing token must not lose the document
        log.warning("archive copy of %s stored unsealed, to be sealed later (formservice forsegla): %s",
                    organisation.namn, exc)
        return pdf


def seal_stored(model, column: str, row_id: int, *, retry: bool = False) -> bool:
    """Seal one stored archive copy now (a row with `arende_id`: a document's archive copy, the
    doctor's confirmed answers): True when it was sealed here. With `retry`, a seal that cannot be
    made now raises SealUnavailable (seal_jobs tries again) instead of leaving the copy unsealed."""
    dbs = db.session()
    row = dbs.get(model, row_id)
    encrypted = getattr(row, column) if row is not None else None
    if encrypted is None:
        return False
    kr = keyring()
    pdf = kr.decrypt(encrypted)
    if pdf_seal.is_sealed(pdf):
        return False
    organisation = organisation_of(dbs.get(Arende, row.arende_id))
    if retry and sealer_for(organisation) is not None:
        sealed = sealer_for(organisation).seal(pdf)  # SealUnavailable passes to the caller
    else:
        sealed = seal_archive(pdf, organisation)
    if sealed is pdf:
        return False
    setattr(row, column, kr.encrypt(sealed))
    dbs.commit()
    return True


# ---------------------------------------------------------------- every stored archive copy
class Stored(NamedTuple):
    """One stored archive copy: what it is (for the list of failures), its row and column."""
    kind: str
    label: str
    row: Any
    column: str
    organisation: Organisation


# Other wings' archive copies (the doctor's confirmed answers): a function yielding Stored rows.
_sources: list[Callable[[], Iterable[Stored]]] = []


def register_source(source: Callable[[], Iterable[Stored]]) -> None:
    if source not in _sources:
        _sources.append(source)


def _documents() -> Iterable[Stored]:
    dbs = db.session()
    for dok, organisation in dbs.execute(
            select(Dokument, Organisation).join(Arende, Arende.id == Dokument.arende_id)
            .join(Enhet, Enhet.id == Arende.enhet_id).join(Organisation, Organisation.id == Enhet.organisation_id)
            .where(Dokument.archive_enc.isnot(None)).order_by(Dokument.id)):
        yield Stored("dokument", f"{dok.blankett_id} {dok.document_number}", dok, "archive_enc", organisation)


def stored() -> Iterable[Stored]:
    yield from _documents()
    for source in _sources:
        yield from source()


@dataclass
class Outcome:
    sealed: int = 0
    already: int = 0
    not_configured: int = 0
    failed: list[str] | None = None


def seal_missing() -> Outcome:
    """Seal every stored archive copy that has no seal (`formservice forsegla`): those made
    before the seal was configured, and those left unsealed when the TSA or OCSP did not answer.
    Each is committed on its own, so an interruption keeps what was done."""
    kr = keyring()
    dbs = db.session()
    outcome = Outcome(failed=[])
    for item in list(stored()):
        pdf = kr.decrypt(getattr(item.row, item.column))
        if pdf_seal.is_sealed(pdf):
            outcome.already += 1
            continue
        try:
            sealer = sealer_for(item.organisation)
            if sealer is None:
                outcome.not_configured += 1
                continue
            sealed = sealer.seal(pdf)
        except Exception as exc:  # noqa: BLE001 — reported per copy; the rest are still sealed
            outcome.failed.append(f"{item.label}: {exc}")
            continue
        setattr(item.row, item.column, kr.encrypt(sealed))
        dbs.commit()
        outcome.sealed += 1
    return outcome


def verify_all(*, online: bool = False) -> tuple[int, list[tuple[str, str]]]:
    """Verify every stored archive copy (`formservice verifiera-arkiv`): (how many were checked,
    [(archive copy, Swedish status)] of those not valid – unsealed ones too, where the
    organisation has a seal). `online` also asks OCSP/CRL where a copy carries no revocation data."""
    kr = keyring()
    roots = trust_roots()
    checked, failures = 0, []
    for item in stored():
        checked += 1
        status = pdf_seal.seal_status(kr.decrypt(getattr(item.row, item.column)), roots, online=online)
        if status.state == pdf_seal.UNSEALED and not has_seal(item.organisation):
            continue  # the organisation has no seal: unsealed is as it should be
        if not status.valid:
            failures.append((item.label, status.text))
    return checked, failures


# ---------------------------------------------------------------- what a page shows
# (table, public id: random, so never a row of another database) -> (length, when, status)
_cache: OrderedDict[tuple[str, str], tuple[int, float, pdf_seal.SignatureStatus]] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 2048
CACHE_SECONDS = 600.0  # a copy changed in the database behind the service's back shows within this


def statuses(model, column: str, ids: list[int]) -> dict[int, pdf_seal.SignatureStatus]:
    """The seal status of each of these rows' archive copies (`column` of `model`: the ärende's
    documents, the doctor's answers), verified offline against the revocation data each copy
    carries. The overview reads no PDF it has seen: a status is remembered in this process by the
    copy's length (sealing changes it) for CACHE_SECONDS; only the copies not remembered are read
    and verified. Rows without an archive copy are left out."""
    if not ids:
        return {}
    blob = getattr(model, column)
    kind, now = model.__tablename__, time.monotonic()
    out, missing = {}, []
    for row_id, public_id, length in db.session().execute(select(model.id, model.public_id, func.length(blob))
                                                          .where(model.id.in_(ids), blob.isnot(None))):
        with _cache_lock:
            hit = _cache.get((kind, public_id))
        if hit is not None and hit[0] == length and now - hit[1] < CACHE_SECONDS:
            out[row_id] = hit[2]
        else:
            missing.append(row_id)
    # Asked also when every status is remembered (an empty IN): the page makes the same number of
    # queries however many of its copies this process has seen (tests/test_document_parts.py).
    kr = roots = None
    for row_id, public_id, encrypted in db.session().execute(
            select(model.id, model.public_id, blob).where(model.id.in_(missing))):
        if kr is None:
            kr, roots = keyring(), trust_roots()
        status = pdf_seal.seal_status(kr.decrypt(encrypted), roots, online=False)
        out[row_id] = status
        with _cache_lock:
            _cache[(kind, public_id)] = (len(encrypted), now, status)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return out


def document_statuses(dokument_ids: list[int]) -> dict[int, pdf_seal.SignatureStatus]:
    """The seal status of each of these documents' archive copies (the ärende's document list)."""
    return statuses(Dokument, "archive_enc", dokument_ids)


def uploaded_signatures(data: bytes) -> list[dict[str, Any]]:
    """Who signed an uploaded PDF and whether each signature is valid and covers the whole file,
    as stored with the answers for the review page (JSON: the file itself is not kept)."""
    return [{"state": s.state, "text": s.text, "signer": s.signer, "valid": s.valid, "whole_file": s.whole_file,
             "timestamp": s.timestamp.isoformat() if s.timestamp else None}
            for s in pdf_seal.verify_untrusted(data, trust_roots())]
