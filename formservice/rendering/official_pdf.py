"""Fill an organisation's own official fillable PDF instead of printing our layout.

When an organisation (Försäkringskassan, a region …) requires its own form, the
instance folder can hold that form and a field mapping:

    instance/official_pdf/<blankett_id>.pdf     the official fillable PDF (AcroForm)
    instance/official_pdf/<blankett_id>.yaml    our field name -> their field name

    # instance/official_pdf/fk_ansokan_samordning.yaml
    pdf: fk_ansokan_samordning.pdf      # optional; default <blankett_id>.pdf
    fields:
      individ_namn: "Förnamn och efternamn"
      individ_personnummer: "Personnummer"
      fk_uppgifter_i_bilaga: "Kryssruta bilaga"

Values are written as they read on paper (display.format_value: personnummer
ÅÅÅÅMMDD-NNNN, "50 %", the label of a choice); a checkbox is set to the on-state
its widget defines in the PDF (often /Yes, /on or /1, read from the file), or
/Off; a radio group takes our choice value when it is one of its states.

Filling uses pypdf with ``auto_regenerate=False`` and NeedAppearances set (the
viewer draws the text; checkmarks stay visible in poppler) and keeps the
template's header version.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from formservice.rendering import display

OFFICIAL_DIR = "official_pdf"

_FF_RADIO = 1 << 15
_FF_PUSHBUTTON = 1 << 16


class OfficialPdfError(ValueError):
    """A problem with an official PDF or its mapping (str(e) is Swedish)."""


@dataclass(frozen=True)
class PdfField:
    name: str
    kind: str                 # "text" | "checkbox" | "radio" | "choice" | "button" | "signature"
    states: tuple[str, ...]   # on-states of a checkbox / radio group, without "/"


@dataclass(frozen=True)
class OfficialPdf:
    blankett_id: str
    template: bytes
    mapping: Mapping[str, str]

    def fill(self, values: Mapping[str, Any], blankett: Any = None) -> bytes:
        return fill_official_pdf(self.template, self.mapping, values, blankett=blankett)


def _reader(pdf: bytes) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(pdf))
    except Exception as exc:
        raise OfficialPdfError("Den officiella PDF-blanketten kunde inte läsas.") from exc


def pdf_fields(pdf: bytes | PdfReader) -> dict[str, PdfField]:
    """The AcroForm fields of a PDF by fully qualified name, with the on-states
    of check boxes and radio groups read from their widgets' appearances."""
    reader = pdf if isinstance(pdf, PdfReader) else _reader(pdf)
    raw = reader.get_fields() or {}
    states: dict[str, set[str]] = {}
    for page in reader.pages:
        for annot in page.get("/Annots", []) or []:
            widget = annot.get_object()
            if widget.get("/Subtype") != "/Widget":
                continue
            name = _qualified_name(widget)
            ap = widget.get("/AP")
            if name and ap is not None and "/N" in ap:
                normal = ap["/N"].get_object()
                if hasattr(normal, "keys"):
                    states.setdefault(name, set()).update(
                        str(k).lstrip("/") for k in normal.keys() if str(k) != "/Off")
    fields = {}
    for name, fld in raw.items():
        ft = fld.get("/FT")
        flags = int(fld.get("/Ff", 0) or 0)
        if ft == "/Btn":
            kind = "button" if flags & _FF_PUSHBUTTON else ("radio" if flags & _FF_RADIO
                                                            else "checkbox")
        elif ft == "/Ch":
            kind = "choice"
        elif ft == "/Sig":
            kind = "signature"
        else:
            kind = "text"
        fields[name] = PdfField(name, kind, tuple(sorted(states.get(name, ()))))
    return fields


def _qualified_name(widget: Any) -> str:
    parts = []
    node = widget
    seen = 0
    while node is not None and seen < 50:
        if "/T" in node:
            parts.append(str(node["/T"]))
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        seen += 1
    return ".".join(reversed(parts))


def check_mapping(mapping: Mapping[str, str], fields: Mapping[str, PdfField], *,
                  blankett: Any = None, source: str = "fältmappningen") -> None:
    """Raise OfficialPdfError listing every mapping entry that names a field the
    PDF (or, with ``blankett``, the blankett) does not have."""
    errors = []
    for ours, theirs in mapping.items():
        if not isinstance(ours, str) or not isinstance(theirs, str):
            errors.append(f"{source}: raden {ours!r}: {theirs!r} ska vara två fältnamn (text).")
            continue
        if blankett is not None and not blankett.has_field(ours):
            errors.append(f"{source}: fältet \"{ours}\" finns inte i blanketten {blankett.id}.")
        if theirs not in fields:
            known = ", ".join(f'"{n}"' for n in sorted(fields)) or "inga"
            errors.append(f"{source}: PDF-blanketten har inget fält \"{theirs}\" "
                          f"(som \"{ours}\" ska fyllas i). Fälten i PDF-filen: {known}.")
        elif fields[theirs].kind in ("button", "signature"):
            errors.append(f"{source}: fältet \"{theirs}\" i PDF-blanketten är en knapp eller ett "
                          "signaturfält och kan inte fyllas i.")
    if errors:
        raise OfficialPdfError("\n".join(errors))


def _pdf_value(fld: PdfField, field: Any, value: Any) -> str:
    if fld.kind == "checkbox":
        if not fld.states:
            raise OfficialPdfError(f"Kryssrutan \"{fld.name}\" i PDF-blanketten har inget "
                                   "läge för ikryssad.")
        return f"/{fld.states[0]}" if value else "/Off"
    if fld.kind == "radio":
        if display.is_empty(value):
            return "/Off"
        if str(value) not in fld.states:
            raise OfficialPdfError(
                f"Alternativgruppen \"{fld.name}\" i PDF-blanketten har inget val "
                f"\"{value}\" (valen: {', '.join(fld.states)}).")
        return f"/{value}"
    if field is not None:
        return display.format_value(field, value)
    if value is None or value is False:
        return ""
    if value is True:
        return "Ja"
    return str(value)


def fill_official_pdf(template: bytes, mapping: Mapping[str, str], values: Mapping[str, Any],
                      *, blankett: Any = None) -> bytes:
    """``template`` filled with ``values`` through ``mapping`` (our field name ->
    the PDF's field name). With ``blankett``, values are formatted by field type."""
    reader = _reader(template)
    fields = pdf_fields(reader)
    check_mapping(mapping, fields, blankett=blankett)
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header   # a clone would otherwise say %PDF-1.3
    updates: dict[str, str] = {}
    for ours, theirs in mapping.items():
        if ours not in values:
            continue
        field = blankett.field(ours) if blankett is not None else None
        if field is not None and field.type == "rows":
            continue
        updates[theirs] = _pdf_value(fields[theirs], field, values[ours])
    if updates:
        for page in writer.pages:
            names = {_qualified_name(a.get_object()) for a in page.get("/Annots", []) or []}
            page_updates = {k: v for k, v in updates.items() if k in names}
            if page_updates:
                writer.update_page_form_field_values(page, page_updates, auto_regenerate=False)
    writer.set_need_appearances_writer(True)
    _sync_checkbox_states(writer, {k: v for k, v in updates.items()
                                   if fields[k].kind in ("checkbox", "radio")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sync_checkbox_states(writer: PdfWriter, states: Mapping[str, str]) -> None:
    """Make sure each check box widget shows its new state (/AS) and the field
    holds it (/V), whatever the PDF's field tree looks like."""
    if not states:
        return
    for page in writer.pages:
        for annot in page.get("/Annots", []) or []:
            widget = annot.get_object()
            name = _qualified_name(widget)
            if name not in states:
                continue
            state = states[name]
            ap = widget.get("/AP")
            on_states = set()
            if ap is not None and "/N" in ap and hasattr(ap["/N"].get_object(), "keys"):
                on_states = {str(k) for k in ap["/N"].get_object().keys()}
            widget[NameObject("/AS")] = NameObject(state if state in on_states else "/Off")
            target = widget if "/T" in widget else widget.get("/Parent").get_object()
            target[NameObject("/V")] = NameObject(state)


def _read_mapping_file(path: Path) -> dict[str, Any]:
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OfficialPdfError(f"Fältmappningen {source} finns inte.") from None
    except UnicodeDecodeError:
        raise OfficialPdfError(f"{source}: filen är inte sparad som UTF-8.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (rad {mark.line + 1})" if mark else ""
        raise OfficialPdfError(f"{source}: YAML-syntaxfel{where}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("fields"), dict) or not data["fields"]:
        raise OfficialPdfError(f"{source}: ska innehålla \"fields:\" med minst ett fält "
                               "(vårt fältnamn: PDF-blankettens fältnamn).")
    unknown = sorted(set(data) - {"pdf", "fields"})
    if unknown:
        raise OfficialPdfError(f"{source}: okänd nyckel {', '.join(map(repr, unknown))} "
                               "(tillåtna: pdf, fields).")
    if "pdf" in data and not isinstance(data["pdf"], str):
        raise OfficialPdfError(f"{source}: pdf ska vara ett filnamn.")
    return data


def load_mapping(path: Path, template: bytes, *, blankett: Any = None) -> dict[str, str]:
    """Read a mapping file and check it against the PDF (and the blankett)."""
    data = _read_mapping_file(path)
    mapping = {str(k): v for k, v in data["fields"].items()}
    check_mapping(mapping, pdf_fields(template), blankett=blankett, source=path.name)
    return mapping


def find_official_pdf(instance_path: Path, blankett: Any) -> OfficialPdf | None:
    """The organisation's official PDF for ``blankett`` with its checked
    mapping, or None when the instance folder has none."""
    folder = Path(instance_path) / OFFICIAL_DIR
    mapping_path = folder / f"{blankett.id}.yaml"
    if not mapping_path.is_file():
        return None
    data = _read_mapping_file(mapping_path)
    pdf_path = folder / data.get("pdf", f"{blankett.id}.pdf")
    if pdf_path.resolve().parent != folder.resolve():
        raise OfficialPdfError(f"{mapping_path.name}: pdf ska vara ett filnamn i {folder}.")
    if not pdf_path.is_file():
        raise OfficialPdfError(f"{mapping_path.name}: PDF-filen {pdf_path.name} finns inte "
                               f"i {folder}.")
    template = pdf_path.read_bytes()
    mapping = {str(k): v for k, v in data["fields"].items()}
    check_mapping(mapping, pdf_fields(template), blankett=blankett, source=mapping_path.name)
    return OfficialPdf(blankett.id, template, mapping)


__all__ = [
    "OfficialPdf",
    "OfficialPdfError",
    "PdfField",
    "check_mapping",
    "fill_official_pdf",
    "find_official_pdf",
    "load_mapping",
    "pdf_fields",
]
