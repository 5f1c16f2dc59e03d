"""DOCX output: a blankett's Word template (templates/docx/<id>.docx, generated
by docx_templates.py) filled with docxtpl. The only module that imports docxtpl.

Always rendered with ``autoescape=True``: without it docxtpl silently drops
``<`` and ``&`` and lets a value inject Word markup (see DESIGN.md).
"""
from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate

from formservice.rendering import display
from formservice.rendering.docx_templates import normalise_zip, template_dir

_lock = threading.Lock()
_templates: dict[tuple[str, int, int], bytes] = {}


class DocxTemplateMissing(FileNotFoundError):
    """No Word template for a blankett (str(e) is Swedish)."""


def _template_bytes(blankett_id: str, directory: Path | None = None) -> bytes:
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
    return data


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


def render_docx(blankett: Any, values: Mapping[str, Any], ctx: Any, *,
                recipient: Mapping[str, Any] | None = None,
                template_directory: Path | None = None) -> bytes:
    """The blankett as a Word document filled with ``values``."""
    template = DocxTemplate(io.BytesIO(_template_bytes(blankett.id, template_directory)))
    template.render(docx_context(blankett, values, ctx, recipient), autoescape=True)
    props = template.docx.core_properties
    # organisation and blankett only: never the individ's name or personnummer
    props.title = blankett.title
    props.author = ctx.organisation
    props.last_modified_by = ctx.organisation
    props.comments = ""
    stamp = datetime.combine(ctx.created, time(0, 0)) if ctx.created else None
    if stamp is not None:
        props.created = props.modified = stamp
    out = io.BytesIO()
    template.save(out)
    return normalise_zip(out.getvalue())


__all__ = ["DocxTemplateMissing", "docx_context", "render_docx"]
