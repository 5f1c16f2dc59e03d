"""Opening a PDF that comes from outside the service (the doctor's returned förfrågan) safely,
and the document information entries the service reads back from its own PDFs.

Untrusted input: every problem becomes an UntrustedPdfError whose str() is a Swedish sentence
for the socialsekreterare; no other exception gets out of open_untrusted.
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pikepdf
from pypdf import PdfReader

from . import packets

__all__ = ["DAMAGED", "MAX_BYTES", "TOO_COMPLEX", "OpenedPdf", "UntrustedPdfError", "embed_info",
           "open_untrusted", "read_info"]

MAX_BYTES = 10 * 1024 * 1024
# Bounds of the walk over a PDF's objects. A returned förfrågan has about 500
# objects; the walk visits about 100 000 objects a second.
_MAX_OBJECTS = 20_000
_MAX_NODES = 200_000
_MAX_DEPTH = 64

DAMAGED = "PDF-filen är skadad eller ofullständig och kan inte läsas."
TOO_COMPLEX = "PDF-filen är för komplex och kan inte läsas."
_HEADER = re.compile(rb"%PDF-(\d\.\d)")


class UntrustedPdfError(ValueError):
    """A PDF that cannot be accepted; str(e) is Swedish, for the user."""


@dataclass(frozen=True)
class OpenedPdf:
    fields: Mapping[str, str | bool]   # AcroForm values by field name (empty when it has none)
    info: str | None                   # the document information entry asked for, not yet verified


def _size_text(n: int) -> str:
    if n >= 1024 * 1024:
        number, unit = n / (1024 * 1024), "MB"
    else:
        number, unit = n / 1024, "kB"
    return f"{number:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


def open_untrusted(data: bytes, *, info_key: str, max_bytes: int = MAX_BYTES) -> OpenedPdf:
    """Read a PDF from outside: its form values and one document information entry. Raises
    UntrustedPdfError for anything that is not a readable, unencrypted PDF without JavaScript
    or attached files."""
    if not data:
        raise UntrustedPdfError("Filen är tom.")
    if len(data) > max_bytes:
        raise UntrustedPdfError(f"Filen är större än {_size_text(max_bytes)}.")
    if bytes(data[:5]) != b"%PDF-":
        raise UntrustedPdfError("Filen är inte en PDF.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise UntrustedPdfError("PDF-filen är lösenordsskyddad och kan inte läsas. "
                                    "Spara den utan lösenord och ladda upp den igen.")
        len(reader.pages)                       # parses the page tree
        with pikepdf.open(io.BytesIO(data)) as doc:
            found = _unsafe_content(doc)
        if "javascript" in found:
            raise UntrustedPdfError("PDF-filen innehåller JavaScript och tas inte emot "
                                    "av säkerhetsskäl.")
        if "attachment" in found:
            raise UntrustedPdfError("PDF-filen innehåller bifogade filer och tas inte emot "
                                    "av säkerhetsskäl.")
        fields = packets.read_form_fields(data)
        info = read_info(reader, info_key)
    except UntrustedPdfError:
        raise
    except Exception as exc:  # pypdf, pikepdf, ValueError, KeyError, RecursionError …
        raise UntrustedPdfError(DAMAGED) from exc
    return OpenedPdf(fields=fields, info=info)


def _unsafe_content(doc: pikepdf.Pdf) -> set[str]:
    """What is unsafe in ``doc``: "javascript" (a JavaScript action or name
    tree) and/or "attachment" (an embedded file). Visits every object
    once (direct children of each indirect object, references are not
    followed), within fixed bounds."""
    found: set[str] = set()
    containers = (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)
    if int(doc.trailer.get("/Size", 0)) > _MAX_OBJECTS:
        raise UntrustedPdfError(TOO_COMPLEX)
    nodes = 0
    for top in doc.objects:
        stack = [(top, 0)]
        while stack:
            obj, depth = stack.pop()
            nodes += 1
            if nodes > _MAX_NODES or depth > _MAX_DEPTH:
                raise UntrustedPdfError(TOO_COMPLEX)
            if isinstance(obj, pikepdf.Array):
                children = list(obj)
            elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                keys = set(obj.keys())
                if keys & {"/JS", "/JavaScript"} or obj.get("/S") == pikepdf.Name.JavaScript:
                    found.add("javascript")
                if (keys & {"/EmbeddedFiles", "/EF"}
                        or obj.get("/Subtype") == pikepdf.Name.FileAttachment
                        or obj.get("/Type") == pikepdf.Name.EmbeddedFile):
                    found.add("attachment")
                children = list(obj.values())
            else:
                continue
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, containers) and not child.is_indirect)
    return found


# ---------------------------------------------------------------- document information entries
def embed_info(pdf: bytes, key: str, value: str) -> bytes:
    """``pdf`` with ``key`` = ``value`` in its document information dictionary. Everything
    else (form fields, structure tree, XMP, the header version) is kept."""
    match = _HEADER.match(pdf[:16])
    if not match:
        raise ValueError("not a PDF")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.docinfo[pikepdf.Name(key)] = value
        out = io.BytesIO()
        doc.save(out, min_version=match.group(1).decode(), deterministic_id=True)
    return out.getvalue()


def read_info(pdf: bytes | PdfReader, key: str) -> str | None:
    """The document information entry ``key`` of a PDF (bytes or an open pypdf reader), or None.
    Raises UntrustedPdfError when bytes are not a readable PDF."""
    try:
        reader = pdf if isinstance(pdf, PdfReader) else PdfReader(io.BytesIO(pdf))
        value = (reader.metadata or {}).get(key)
    except Exception as exc:  # pypdf raises many kinds of errors for broken input
        raise UntrustedPdfError(DAMAGED) from exc
    return None if value is None else str(value)
