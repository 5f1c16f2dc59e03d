"""Document references: tie a returned PDF to its ärende and document without
any personnummer.

A reference reads ``fs1.<document_id>.<arende_id>.<organisation_id>.<mac>``,
where the MAC is a truncated HMAC-SHA256 (base64url) of everything before it.
It is stored in the PDF's document information dictionary under
``/FormserviceRef``, which PDF readers keep when the doctor fills in and saves
the form. Pure Python: no flask; the PDF itself is read and written by rendering.untrusted_pdf.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any, NamedTuple

from formservice.rendering import untrusted_pdf

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
    return untrusted_pdf.embed_info(pdf, INFO_KEY, ref)


def read_reference(pdf: Any) -> str | None:
    """The reference stored in a PDF (bytes or an open pypdf reader), or None.

    Raises DocumentReferenceError when bytes are not a readable PDF."""
    try:
        return untrusted_pdf.read_info(pdf, INFO_KEY)
    except untrusted_pdf.UntrustedPdfError as exc:
        raise DocumentReferenceError("PDF-filen kunde inte läsas.", "malformed") from exc
