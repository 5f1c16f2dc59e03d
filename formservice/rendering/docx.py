"""DOCX output: a blankett's Word template (templates/docx/<id>.docx, generated
by docx_templates.py) filled with docxtpl. The only module that imports docxtpl.

Always rendered with ``autoescape=True``: without it docxtpl silently drops
``<`` and ``&`` and lets a value inject Word markup (see DESIGN.md).
"""
from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping, Sequence
from copy import deepcopy
from datetime import datetime, time
from pathlib import Path
from typing import Any

from docx.opc.packuri import PackURI
from docx.opc.pkgwriter import PackageWriter
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment

from formservice.rendering import display, parallel, wordml
from formservice.rendering.docx_templates import deterministic_zip, template_dir

_lock = threading.Lock()
_templates: dict[tuple[str, int, int], bytes] = {}


class DocxTemplateMissing(FileNotFoundError):
    """No Word template for a blankett (str(e) is Swedish)."""


def _template_bytes(blankett_id: str, directory: Path | None = None, *, with_key: bool = False):
    path = (directory or template_dir()) / f"{blankett_id}.docx"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DocxTemplateMissing(
            f"Word-mallen för {blankett_id} saknas ({path}). Skapa den med "
            "python -m formservice.rendering.docx_templates.") from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    data = _templates.get(key)
    if data is None:
        with _lock:
            data = path.read_bytes()
            _templates[key] = data
    return (data, key) if with_key else data


def docx_context(blankett: Any, values: Mapping[str, Any], ctx: Any,
                 recipient: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The values of the template's tags, prepared for display:
    v[name] text of every field (checkbox ☒/☐, personnummer ÅÅÅÅMMDD-NNNN,
    percent "50 %"), c[name][value] ☒/☐ per choice, rows[name] a list of dicts
    of display texts (padded to min_rows), p[name] the placeholder texts; a scale's points are
    c[name]["1"] … like a choice's values."""
    v: dict[str, str] = {}
    c: dict[str, dict[str, str]] = {}
    rows: dict[str, list[dict[str, str]]] = {}
    for fld in blankett.fields:
        value = values.get(fld.name)
        if fld.type == "rows":
            rows[fld.name] = [
                {col.name: display.format_value(col, row.get(col.name), checkbox=display.CHECKED)
                 for col in fld.columns}
                for row in display.row_items(fld, value)]
            v[fld.name] = ""
            continue
        v[fld.name] = display.format_value(fld, value, checkbox=display.CHECKED)
        if fld.type == "choice":
            c[fld.name] = {ch.value: display.CHECKED if value == ch.value else display.UNCHECKED
                           for ch in fld.choices}
        elif fld.type == "scale":  # drawn as a scale: a box per point, the chosen one crossed
            c[fld.name] = {str(point): display.CHECKED if value == point else display.UNCHECKED
                           for point in display.scale_points(fld)}
    p = {name: text or "………………" for name, text in v.items()}
    recipient_line = ""
    if recipient is not None:
        recipient_line = "Till: " + display.recipient_text(blankett, recipient)
    return {
        "v": v, "c": c, "rows": rows, "p": p,
        "organisation": ctx.organisation,
        "document_number": ctx.document_number or "",
        "header_meta": display.header_meta(blankett, values, ctx.document_number),
        "header_title": display.header_title(blankett, ctx.organisation, ctx.config),
        "footer": display.footer(blankett, values, ctx.created),
        "send_to": display.send_to_text(blankett, getattr(ctx, "config", None)),
        "recipient_line": recipient_line,
    }


class _CompiledTemplate(DocxTemplate):
    """docxtpl with each XML part's Jinja template compiled once per template file and process:
    docxtpl serialises, patches and compiles the body, headers and footers on every render (about
    20 ms of a 40 ms DOCX); here that happens on the first render of a template only. The
    document itself is still loaded fresh per render (python-docx objects are changed in place)."""

    _compiled: dict[tuple, Any] = {}  # (template key, part) -> jinja2.Template

    def __init__(self, data: bytes, key: tuple) -> None:
        super().__init__(io.BytesIO(data))
        self._key = key

    def _template_for(self, part_key: str, source, jinja_env):
        key = (self._key, part_key)
        compiled = self._compiled.get(key)
        if compiled is None:
            xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", self.patch_xml(source()))
            compiled = self._compiled[key] = jinja_env.from_string(xml)
        return compiled

    def _finish_xml(self, xml: str) -> str:
        # What docxtpl's render_xml_part does after rendering.
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self.resolve_listing(xml)

    def build_xml(self, context, jinja_env=None):
        self.current_rendering_part = self.docx._part
        return self._finish_xml(self._template_for("body", self.get_xml, jinja_env).render(context))

    def build_headers_footers_xml(self, context, uri, jinja_env=None):
        for rel_key, part in self.get_headers_footers(uri):
            source = self.get_part_xml(part)
            self.current_rendering_part = part
            template = self._template_for(f"{uri}:{rel_key}", lambda: source, jinja_env)
            yield rel_key, self._finish_xml(template.render(context)).encode(self.get_headers_footers_encoding(source))


_JINJA = Environment(autoescape=True)


def render_docx(blankett: Any, values: Mapping[str, Any], ctx: Any, *,
                recipient: Mapping[str, Any] | None = None,
                template_directory: Path | None = None) -> bytes:
    """The blankett as a Word document filled with ``values``."""
    return _package_bytes(_filled(blankett, values, ctx, recipient, template_directory))


def render_packet_docx(parts: Sequence[tuple[Any, Mapping[str, Any], Mapping[str, Any] | None]], ctx: Any) -> bytes:
    """The whole document of several parts (blankett, values, recipient) as one Word document, as
    packet_docx joins them, without writing and reading each part's own file."""
    documents = [_filled(blankett, values, ctx, recipient, None) for blankett, values, recipient in parts]
    return _package_bytes(_joined(documents))


def _filled(blankett: Any, values: Mapping[str, Any], ctx: Any, recipient: Mapping[str, Any] | None,
            template_directory: Path | None):
    """The blankett's template filled with ``values``: a python-docx Document."""
    if getattr(blankett, "derived_from", None):
        data, key = _built_template(blankett)
    else:
        data, key = _template_bytes(blankett.id, template_directory, with_key=True)
    template = _CompiledTemplate(data, key)
    context = docx_context(blankett, values, ctx, recipient)
    logo = getattr(ctx, "logo", None)
    context["logo"] = InlineImage(template, io.BytesIO(logo), height=Mm(7)) if logo else ""
    template.render(context, jinja_env=_JINJA, autoescape=True)
    parallel.mark_docx(template.docx, values, blankett)  # a translated part: w:lang, notes
    props = template.docx.core_properties
    # organisation and blankett only: never the individ's name or personnummer
    props.title = blankett.title
    props.author = ctx.organisation
    props.last_modified_by = ctx.organisation
    props.comments = ""
    stamp = datetime.combine(ctx.created, time(0, 0)) if ctx.created else None
    if stamp is not None:
        props.created = props.modified = stamp
    return template.docx


def _built_template(blankett: Any) -> tuple[bytes, tuple]:
    """The Word template of a part built in code (Blankett.derived_from), built from its definition
    once per process: it has no file of its own to go stale. Keyed by the whole definition: a part
    translated with an organisation's own texts (arenden/sprakgranskning.py) has the same id as the
    shipped translation, and must never be filled into the other's template."""
    from .docx_templates import build_template

    key = ("built", blankett.id, blankett.version, blankett.derived_from, blankett)
    data = _built.get(key)
    if data is None:
        with _lock:
            data = _built.setdefault(key, build_template(blankett))
    return data, key


_built: dict[tuple, bytes] = {}


class _Members:
    """Takes the members python-docx writes for a package, for one deterministic zip."""

    def __init__(self) -> None:
        self.members: dict[str, bytes] = {}

    def write(self, pack_uri, blob: bytes) -> None:
        self.members[pack_uri.membername] = blob


def _package_bytes(document) -> bytes:
    """The document as .docx bytes, zipped once with fixed timestamps and order (python-docx's own
    save zips with the current time, which then had to be unzipped and zipped again)."""
    package = document.part.package
    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    members = _Members()
    PackageWriter._write_content_types_stream(members, parts)
    PackageWriter._write_pkg_rels(members, package.rels)
    PackageWriter._write_parts(members, parts)
    return deterministic_zip(members.members)


# ------------------------------------------------------------------------ packets
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def packet_docx(parts: Sequence[bytes]) -> bytes:
    """One Word document of a packet's parts, each rendered on its own (render_docx), in order:
    every part a section of its own, starting on a new page with its own header and footer (its
    title, a recipient's copy its "Till: …" line). The first part's document properties (the
    packet's title) are kept; pages are numbered through the whole document ("Sida N (M)" with M
    the document's pages: LibreOffice 7 has no field for a section's page count)."""
    if len(parts) == 1:
        return parts[0]
    import docx

    return _package_bytes(_joined([docx.Document(io.BytesIO(data)) for data in parts]))


def _joined(documents: Sequence[Any]):
    target = documents[0]
    for source in documents[1:]:
        _append(target, source)
    return target


def _append(target, source) -> None:
    """The body of ``source`` after the body of ``target``, behind a section break: the section
    so far ends on ``target``'s last paragraph, and ``source``'s section properties (its page,
    header and footer) become the document's last section."""
    body = target.element.body
    last_section = body.find(qn("w:sectPr"))
    blocks = [el for el in body if el is not last_section]
    if not blocks or blocks[-1].tag != qn("w:p"):
        blocks.append(target.add_paragraph()._p)
    wordml.put(blocks[-1].get_or_add_pPr(), last_section)  # the section so far ends with this paragraph
    adopted = _Adopted({p.partname for p in target.part.package.iter_parts()})
    for element in source.element.body:
        copied = deepcopy(element)
        _relink(copied, source.part, target.part, adopted)
        if element.tag == qn("w:sectPr"):
            for kind in copied.findall(qn("w:type")):
                copied.remove(kind)  # a new page (the default), whatever the template said
        body.append(copied)
    _copy_missing_styles(source, target)


class _Adopted(dict):
    """Parts taken over from another document (by id), and the part names in use."""

    def __init__(self, taken: set) -> None:
        super().__init__()
        self.taken = taken


def _relink(element, source_part, target_part, adopted: _Adopted) -> None:
    """Every relationship an element refers to (r:id, r:embed …: headers, footers, images,
    hyperlinks) re-made from ``target_part``, the parts behind them adopted under free names."""
    for node in element.iter():
        for attr, rid in list(node.attrib.items()):
            if not attr.startswith(_R) or rid not in source_part.rels:
                continue
            rel = source_part.rels[rid]
            if rel.is_external:
                node.set(attr, target_part.relate_to(rel.target_ref, rel.reltype, is_external=True))
            else:
                node.set(attr, target_part.relate_to(_adopt(rel.target_part, adopted), rel.reltype))


def _adopt(part, adopted: _Adopted):
    """``part`` (and the parts it refers to) renamed so as not to clash with the names in use."""
    if id(part) in adopted:
        return part
    adopted[id(part)] = part
    template = re.sub(r"\d*(\.\w+)$", r"%d\1", str(part.partname))
    part.partname = next(PackURI(template % n) for n in range(1, len(adopted.taken) + 2)
                         if template % n not in adopted.taken)
    adopted.taken.add(part.partname)
    for rel in part.rels.values():
        if not rel.is_external:
            _adopt(rel.target_part, adopted)
    return part


def _copy_missing_styles(source, target) -> None:
    """Styles a later part uses that the first part's document lacks (a template restyled on
    its own)."""
    have = {style.get(qn("w:styleId")) for style in target.styles.element.iterchildren(qn("w:style"))}
    for style in source.styles.element.iterchildren(qn("w:style")):
        if style.get(qn("w:styleId")) not in have:
            target.styles.element.append(deepcopy(style))


__all__ = ["DocxTemplateMissing", "docx_context", "packet_docx", "render_docx", "render_packet_docx"]
