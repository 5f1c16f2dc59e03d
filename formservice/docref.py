"""Document references: tie a returned PDF to its ärende and document without
any personnummer.

A reference reads ``fs1.<document_id>.<arende_id>.<organisation_id>.<mac>``,
where the MAC is a truncated HMAC-SHA256 (base64url) of everything before it.
It is stored in the PDF's document information dictionary under
``/FormserviceRef``, which PDF readers keep when the doctor fills in and saves
the form. Pure Python: no flask.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from typing import NamedTuple

import pikepdf
from pypdf import PdfReader

__all__ = [
    "INFO_KEY", "DocumentReferenceError", "Reference", "embed_reference",
    "make_reference", "read_reference", "verify_reference",
]

INFO_KEY = "/FormserviceRef"
_VERSION = "fs1"
_DOMAIN = b"formservice document reference\x00"
_MAC_BYTES = 16
_MAX_LENGTH = 300

# Ids are URL-safe random strings: letters, digits, "-" and "_" (never ".").
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ORG = re.compile(r"0|[1-9][0-9]{0,17}")
_MAC = re.compile(r"[A-Za-z0-9_-]{22}")        # 16 bytes, base64url without padding
_HEADER = re.compile(rb"%PDF-(\d\.\d)")


class DocumentReferenceError(ValueError):
    """A reference that is malformed or does not match its MAC (str(e) is Swedish).

    ``reason`` is "malformed" or "altered".
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class Reference(NamedTuple):
    document_id: str
    arende_id: str
    organisation_id: int


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise ValueError("the reference secret must be at least 16 bytes")


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(bytes(secret), _DOMAIN + body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).rstrip(b"=").decode("ascii")


def make_reference(secret: bytes, *, document_id: str, arende_id: str,
                   organisation_id: int) -> str:
    """The reference of one document of one ärende (no personal data in it)."""
    _check_secret(secret)
    for value in (document_id, arende_id):
        if not isinstance(value, str) or not _ID.fullmatch(value):
            raise ValueError(f"not a URL-safe id: {value!r}")
    if (isinstance(organisation_id, bool) or not isinstance(organisation_id, int)
            or not _ORG.fullmatch(str(organisation_id))):
        raise ValueError(f"not an organisation id: {organisation_id!r}")
    body = f"{_VERSION}.{document_id}.{arende_id}.{organisation_id}"
    return f"{body}.{_mac(secret, body)}"


def verify_reference(secret: bytes, ref: str) -> Reference:
    """The ids in ``ref``; raises DocumentReferenceError when it is malformed or
    its MAC does not match (another secret, or any character changed)."""
    _check_secret(secret)
    parts = ref.split(".") if isinstance(ref, str) and len(ref) <= _MAX_LENGTH else []
    if (len(parts) != 5 or parts[0] != _VERSION or not _ID.fullmatch(parts[1])
            or not _ID.fullmatch(parts[2]) or not _ORG.fullmatch(parts[3])
            or not _MAC.fullmatch(parts[4])):
        raise DocumentReferenceError("Dokumentreferensen är felaktigt utformad.", "malformed")
    body, mac = ref.rsplit(".", 1)
    if not hmac.compare_digest(_mac(secret, body).encode("ascii"), mac.encode("ascii")):
        raise DocumentReferenceError("Dokumentreferensen stämmer inte – dokumentet har "
                                     "ändrats eller kommer inte från formservice.", "altered")
    return Reference(parts[1], parts[2], int(parts[3]))


def embed_reference(pdf: bytes, ref: str) -> bytes:
    """``pdf`` with ``ref`` in its document information dictionary. Everything
    else (form fields, structure tree, XMP, the header version) is kept."""
    match = _HEADER.match(pdf[:16])
    if not match:
        raise ValueError("not a PDF")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.docinfo[pikepdf.Name(INFO_KEY)] = ref
        out = io.BytesIO()
        doc.save(out, min_version=match.group(1).decode(), deterministic_id=True)
    return out.getvalue()


def read_reference(pdf: bytes | PdfReader) -> str | None:
    """The reference stored in a PDF (bytes or an open pypdf reader), or None.

    Raises DocumentReferenceError when bytes are not a readable PDF."""
    try:
        reader = pdf if isinstance(pdf, PdfReader) else PdfReader(io.BytesIO(pdf))
        value = (reader.metadata or {}).get(INFO_KEY)
    except Exception as exc:  # pypdf raises many kinds of errors for broken input
        raise DocumentReferenceError("PDF-filen kunde inte läsas.", "malformed") from exc
    return None if value is None else str(value)
