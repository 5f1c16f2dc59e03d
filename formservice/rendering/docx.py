"""DOCX output: a blankett's Word template (templates/docx/<id>.docx, generated
by docx_templates.py) filled with docxtpl. The only module that imports docxtpl.

Always rendered with ``autoescape=True``: without it docxtpl silently drops
``<`` and ``&`` and lets a value inject Word markup (see DESIGN.md).
"""
from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

from docx.opc.pkgwriter import PackageWriter
from docxtpl import DocxTemplate
from jinja2 import Environment

from formservice.rendering import display
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
    of display texts (padded to min_rows), p[name] the placeholder texts."""
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
    p = {name: text or "………………" for name, text in v.items()}
    created = ctx.created.isoformat() if ctx.created else ""
    footer = f"{blankett.title}, version {blankett.version} · {created}".strip(" ·")
    recipient_line = ""
    if recipient is not None:
        recipient_line = "Till: " + display.recipient_text(blankett, recipient)
    return {
        "v": v, "c": c, "rows": rows, "p": p,
        "organisation": ctx.organisation,
        "document_number": ctx.document_number or "",
        "header_meta": display.header_meta(blankett, values, ctx.document_number),
        "footer": footer,
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
    data, key = _template_bytes(blankett.id, template_directory, with_key=True)
    template = _CompiledTemplate(data, key)
    template.render(docx_context(blankett, values, ctx, recipient), jinja_env=_JINJA, autoescape=True)
    props = template.docx.core_properties
    # organisation and blankett only: never the individ's name or personnummer
    props.title = blankett.title
    props.author = ctx.organisation
    props.last_modified_by = ctx.organisation
    props.comments = ""
    stamp = datetime.combine(ctx.created, time(0, 0)) if ctx.created else None
    if stamp is not None:
        props.created = props.modified = stamp
    return _package_bytes(template.docx)


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


__all__ = ["DocxTemplateMissing", "docx_context", "render_docx"]
