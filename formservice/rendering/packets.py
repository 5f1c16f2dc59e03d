"""Post-processing of finished PDFs: merge into a packet with bookmarks, read
back AcroForm fields, flatten, and zip a set of documents.

pikepdf does the merging and flattening, pypdf the reading of fields. Nothing here knows
about blanketter: the input is PDF bytes.

Facts that shaped this module (see DESIGN.md): a pypdf writer writes a
``%PDF-1.3`` header unless told otherwise, so the packet keeps the highest
header of its parts; merging two PDFs with AcroForm fields of the same name
collapses them into one field, so flatten filled parts before packing them.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

# Imported at start-up on purpose: loading pikepdf only after WeasyPrint had rendered made the
# interpreter crash at exit (SIGSEGV, seen 2026-11-27 with pikepdf 10.18 and WeasyPrint 70).
import pikepdf

if TYPE_CHECKING:
    from pypdf import PdfReader

_HEADER_RE = re.compile(rb"%PDF-(\d\.\d)")

# /Ff bits of button fields (ISO 32000-1, 12.7.4.2.1)
_FF_RADIO = 1 << 15
_FF_PUSHBUTTON = 1 << 16

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class PacketError(ValueError):
    """A part is not a readable PDF (str(e) is Swedish, for the user)."""


def pdf_version(pdf: bytes) -> str:
    """The version in a PDF's header, e.g. "1.7"."""
    match = _HEADER_RE.match(pdf[:16])
    if not match:
        raise PacketError("Filen är inte en PDF.")
    return match.group(1).decode()


def _reader(pdf: bytes, title: str = "") -> "PdfReader":
    from pypdf import PdfReader  # 0.2 s to import: only when a packet is merged, not at start

    try:
        return PdfReader(io.BytesIO(pdf))
    except Exception as exc:  # pypdf raises a variety of errors for broken input
        name = f" ({title})" if title else ""
        raise PacketError(f"PDF-filen{name} kunde inte läsas.") from exc


def build_packet(parts: Sequence[tuple[str, bytes]], *, title: str | None = None) -> bytes:
    """Merge ``parts`` (title, pdf) in order into one PDF with one top-level
    bookmark per part at the part's first page; a part's own bookmarks (its
    section headings) are kept beneath it. The header keeps the highest PDF
    version of the parts.

    pikepdf (qpdf) merges: pypdf's pure-Python parsing of WeasyPrint's object
    streams cost 35–50 ms a packet, about a tenth of the whole render."""
    if not parts:
        raise PacketError("Paketet innehåller inga dokument.")
    out = pikepdf.new()
    version = "1.3"
    bookmarks = []
    sources = []  # kept open until the packet is saved: its pages refer to them
    try:
        for part_title, pdf in parts:
            version = max(version, pdf_version(pdf))
            src = _open(pdf, part_title)
            sources.append(src)
            start = len(out.pages)
            out.pages.extend(src.pages)
            item = pikepdf.OutlineItem(part_title, start)
            with src.open_outline() as outline:
                item.children.extend(_moved(src, outline.root, start))
            bookmarks.append(item)
        with out.open_outline() as outline:
            outline.root.extend(bookmarks)
        out.Root.PageMode = pikepdf.Name.UseOutlines
        if title:
            out.docinfo[pikepdf.Name.Title] = title
        buffer = io.BytesIO()
        out.save(buffer, min_version=version, deterministic_id=True)
        return buffer.getvalue()
    finally:
        for src in sources:
            src.close()


def _open(pdf: bytes, title: str) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(pdf))
    except Exception as exc:  # qpdf raises a variety of errors for broken input
        raise PacketError(f"PDF-filen ({title}) kunde inte läsas.") from exc


def _moved(src: pikepdf.Pdf, items, offset: int) -> list:
    """A part's outline items, pointing at their pages' new positions in the packet."""
    moved = []
    for item in items:
        page = _page_index(src, item)
        if page is None:
            continue
        copy = pikepdf.OutlineItem(str(item.title), offset + page)
        copy.children.extend(_moved(src, item.children, offset))
        moved.append(copy)
    return moved


def _page_index(src: pikepdf.Pdf, item) -> int | None:
    dest = item.destination
    if dest is None and item.action is not None and item.action.get("/S") == pikepdf.Name.GoTo:
        dest = item.action.get("/D")
    if isinstance(dest, (pikepdf.String, str)):  # a named destination
        dest = _named_destination(src, str(dest))
    if isinstance(dest, pikepdf.Dictionary) and "/D" in dest:
        dest = dest.D
    if not isinstance(dest, pikepdf.Array) or len(dest) == 0:
        return None
    try:
        return src.pages.index(pikepdf.Page(dest[0]))
    except (ValueError, TypeError):
        return None


def _named_destination(src: pikepdf.Pdf, name: str):
    names = src.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return None
    return pikepdf.NameTree(names.Dests).get(name)


def read_form_fields(pdf: bytes) -> dict[str, str | bool]:
    """AcroForm field values by fully qualified name: text fields as str ("" when
    empty), checkboxes as bool, radio groups as the chosen state's name ("" when
    none); push buttons are left out."""
    fields = _reader(pdf).get_fields() or {}
    values: dict[str, str | bool] = {}
    for name, fld in fields.items():
        kind = fld.get("/FT")
        value = fld.get("/V")
        flags = int(fld.get("/Ff", 0) or 0)
        if kind == "/Btn":
            if flags & _FF_PUSHBUTTON:
                continue
            state = str(value) if value is not None else "/Off"
            if flags & _FF_RADIO:
                values[name] = "" if state == "/Off" else state.lstrip("/")
            else:
                values[name] = state != "/Off"
        elif kind == "/Ch" and isinstance(value, list):
            values[name] = ", ".join(str(v) for v in value)
        else:
            values[name] = "" if value is None else str(value)
    return values


def flatten(pdf: bytes) -> bytes:
    """Burn form fields and other annotations into the page content, so the
    document can no longer be edited (archive copy).

    Appearance streams are kept as they are (pypdf's, written when filling, and
    a PDF viewer's are right; qpdf's regenerated ones garble WeasyPrint's CID
    fonts); qpdf generates them only when a filled text field has none."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if "/AcroForm" in doc.Root:
            if _text_without_appearance(doc):
                doc.generate_appearance_streams()
            # qpdf leaves form fields alone while NeedAppearances asks the viewer
            # to redraw them; every field has its appearance by now
            doc.Root.AcroForm.NeedAppearances = False
        doc.flatten_annotations(mode="all")
        # Empty fields have no appearance, so flattening leaves their widgets behind: they show
        # nothing, and without the AcroForm they would be orphans (pikepdf warns on save).
        for page in doc.pages:
            if "/Annots" in page:
                kept = [a for a in page.Annots if a.get("/Subtype") != pikepdf.Name.Widget]
                if kept:
                    page.Annots = pikepdf.Array(kept)
                else:
                    del page.Annots
        if "/AcroForm" in doc.Root:
            del doc.Root.AcroForm
        out = io.BytesIO()
        doc.save(out, min_version=pdf_version(pdf), deterministic_id=True)
    return out.getvalue()


def _text_without_appearance(doc: pikepdf.Pdf) -> bool:
    for page in doc.pages:
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") != "/Widget":
                continue
            field = annot if "/FT" in annot else annot.get("/Parent", annot)
            if field.get("/FT") == "/Tx" and str(field.get("/V", "")) and "/AP" not in annot:
                return True
    return False


def _safe_name(name: str) -> str:
    name = re.sub(r"[\\/:\x00-\x1f]+", "_", name).strip(" .")
    return name or "dokument"


def zip_documents(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip of ``files`` (filename, content) with fixed timestamps, so the same
    input gives the same bytes. Path separators in names are replaced and
    repeated names get " (2)", " (3)" … before the extension."""
    out = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, content in files:
            name = _safe_name(filename)
            stem, dot, ext = name.rpartition(".")
            if not dot:
                stem, ext = name, ""
            n = 1
            while name.casefold() in seen:
                n += 1
                name = f"{stem} ({n}){dot}{ext}"
            seen.add(name.casefold())
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, content)
    return out.getvalue()


__all__ = [
    "PacketError",
    "build_packet",
    "flatten",
    "pdf_version",
    "read_form_fields",
    "zip_documents",
]
