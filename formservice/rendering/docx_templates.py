"""Generate the Word templates ``templates/docx/<id>.docx`` from the blankett
definitions — reproducibly: the same definitions give the same bytes.

    python -m formservice.rendering.docx_templates [--forms DIR] [--out DIR] [id ...]
    python -m formservice.rendering.docx_templates --check     # exit 1 if out of date

Each template is an ordinary Word document with docxtpl (Jinja) tags, so an
organisation can restyle it in Word or LibreOffice (logo, fonts) as long as the
tags stay. The layout mirrors the print template:

    header              {{ organisation }} (or the issuer: masthead) | title / {{ header_meta }}
    footer              {{ footer }} | Sida PAGE (NUMPAGES)
    title block         title, subtitle, "Skickas till" {{ send_to }}, the intro as
                        a letter ({field} placeholders -> {{ p['field'] }})
    section             "1. Title" heading (page break before when the definition
                        says so), note, intro
      own fields        a two-column table: label | {{ v['name'] }}
                        (choice: one line per option with {{ c['name']['value'] }})
      rows field        a table: header row of column labels, then
                        {%tr for r in rows['name'] %} {{ r['column'] }} … {%tr endfor %}
      grid              a table: grid_columns across, grid_rows down
      signatures        [ort] [datum] [namnteckning] lines, then namnförtydligande
    text-only section   a small heading and its paragraphs

The values that fill these tags are prepared by rendering/docx.py (display
strings: personnummer ÅÅÅÅMMDD-NNNN, ☒/☐, "50 %"). This module never renders.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.blanketter.model import Blankett, Field, Section
from formservice.rendering import display

FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FONT = "Arial"  # metric-compatible with Liberation Sans; LibreOffice maps one to the other
GREY = "E4E4E4"
LIGHT = "F0F0F0"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def template_dir() -> Path:
    return Path(paths.TEMPLATES_DIR) / "docx"


# --------------------------------------------------------------------------- text


def literal(text: str) -> str:
    """Static text safe inside a docxtpl template: Jinja delimiters in it are
    written as Jinja string literals."""
    out = []
    for ch in text:
        if ch == "{":
            out.append("{{ '{' }}")
        elif ch == "}":
            out.append("{{ '}' }}")
        else:
            out.append(ch)
    return "".join(out)


def with_placeholders(text: str) -> str:
    """A definition text with {field} placeholders as Jinja tags reading the
    ``p`` (placeholder) dict; ``{{``/``}}`` are literal braces, as in
    definitions.fill_placeholders."""
    escaped = text.replace("{{", "\0").replace("}}", "\1")
    parts: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(escaped):
        parts.append(literal(escaped[pos:match.start()].replace("\0", "{").replace("\1", "}")))
        parts.append("{{ p['%s'] }}" % match.group(1))
        pos = match.end()
    parts.append(literal(escaped[pos:].replace("\0", "{").replace("\1", "}")))
    return "".join(parts)


def tag(expr: str) -> str:
    return "{{ %s }}" % expr


def v(name: str) -> str:
    return tag(f"v['{name}']")


# ------------------------------------------------------------------- docx helpers


def _set_cell_shading(cell: Any, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _set_cell_borders(cell: Any, **sides: str | None) -> None:
    """sides: top/bottom/left/right -> "single"/"nil" (None = leave)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        kind = sides.get(side)
        if kind is None:
            continue
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), kind)
        if kind != "nil":
            el.set(qn("w:sz"), "8")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tc_pr.append(borders)


def _no_table_borders(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _cant_split(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _row_height(row: Any, mm: float) -> None:
    row.height = Mm(mm)


def _field_code(paragraph: Any, code: str) -> None:
    """A simple field (PAGE, NUMPAGES) showing "1" until Word updates it."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), code)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _widths(table: Any, widths_mm: Sequence[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)
    for col, width in zip(table.columns, widths_mm):
        col.width = Mm(width)


def _para(container: Any, text: str = "", *, style: str | None = None, size: float | None = None,
          bold: bool = False, italic: bool = False, space_after: float | None = None,
          align: Any = None) -> Any:
    paragraph = container.add_paragraph(style=style) if style else container.add_paragraph()
    if text:
        lines = text.split("\n")
        for i, line in enumerate(lines):
            run = paragraph.add_run(line)
            run.bold = bold or None
            run.italic = italic or None
            if size:
                run.font.size = Pt(size)
            if i < len(lines) - 1:
                run.add_break()
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _cell_text(cell: Any, text: str, *, size: float | None = None, bold: bool = False,
               italic: bool = False) -> Any:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size:
        run.font.size = Pt(size)
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


# ----------------------------------------------------------------------- builder

CONTENT_WIDTH = 210 - 20 - 18  # A4 minus margins, mm


class TemplateBuilder:
    """Builds the docxtpl template of one blankett."""

    def __init__(self, blankett: Blankett) -> None:
        self.b = blankett
        self.doc = Document()
        self._setup()

    # -- document frame
    def _setup(self) -> None:
        doc = self.doc
        section = doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin, section.right_margin = Mm(20), Mm(18)
        section.top_margin, section.bottom_margin = Mm(22), Mm(18)
        section.header_distance, section.footer_distance = Mm(10), Mm(9)

        styles = doc.styles
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(10)
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
        normal.paragraph_format.space_after = Pt(4)
        for name, size in (("Title", 18), ("Subtitle", 11), ("Heading 1", 14),
                           ("Heading 2", 11.5), ("Heading 3", 10.5)):
            style = styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0, 0, 0)
            rfonts = style.element.rPr.rFonts if style.element.rPr is not None else None
            if rfonts is not None:
                for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                    rfonts.attrib.pop(qn(attr), None)
        styles["Title"].font.bold = True
        styles["Subtitle"].font.italic = False
        styles["Heading 2"].paragraph_format.space_before = Pt(10)
        styles["Heading 2"].paragraph_format.space_after = Pt(3)
        styles["Heading 2"].paragraph_format.keep_with_next = True
        styles["Heading 3"].paragraph_format.space_before = Pt(6)
        styles["Heading 3"].paragraph_format.space_after = Pt(1)

        props = doc.core_properties
        props.title = self.b.title
        props.subject = self.b.subtitle or ""
        props.author = "formservice"
        props.last_modified_by = "formservice"
        props.comments = f"Mall genererad från forms/{self.b.id}.yaml, version {self.b.version}"
        props.keywords = "formservice"
        props.language = "sv-SE"
        props.revision = 1
        props.created = props.modified = props.last_printed = FIXED_TIME
        self._set_language()
        self._header_footer()

    def _set_language(self) -> None:
        """Swedish everywhere Word and LibreOffice look: the Normal style, the document defaults
        (python-docx's template says en-US there) and the theme fonts' language."""
        rpr = self.doc.styles["Normal"].element.get_or_add_rPr()
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "sv-SE")
        rpr.append(lang)
        for default in self.doc.styles.element.iter(qn("w:lang")):
            default.set(qn("w:val"), "sv-SE")
            default.set(qn("w:eastAsia"), "sv-SE")
        for theme in self.doc.settings.element.iter(qn("w:themeFontLang")):
            theme.set(qn("w:val"), "sv-SE")

    def _header_footer(self) -> None:
        section = self.doc.sections[0]
        header = section.header
        table = header.add_table(rows=1, cols=2, width=Mm(CONTENT_WIDTH))
        _no_table_borders(table)
        _widths(table, (CONTENT_WIDTH * 0.45, CONTENT_WIDTH * 0.55))
        left, right = table.rows[0].cells
        own = self.b.masthead == "issuer"  # another authority's own form: its name, never ours
        _cell_text(left, literal(self.b.issuer) if own else tag("organisation"), size=10.5, bold=True)
        issuer = f" – {self.b.issuer}" if self.b.issuer and not own else ""
        p = _cell_text(right, literal(self.b.title + issuer), size=8)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = p.add_run()
        run.add_break()
        meta = p.add_run(tag("header_meta"))
        meta.font.size = Pt(8)
        for cell in (left, right):
            _set_cell_borders(cell, bottom="single")
        # python-docx's header has an empty first paragraph: keep it tiny
        header.paragraphs[0].paragraph_format.space_after = Pt(0)

        footer = section.footer
        table = footer.add_table(rows=1, cols=2, width=Mm(CONTENT_WIDTH))
        _no_table_borders(table)
        _widths(table, (CONTENT_WIDTH * 0.7, CONTENT_WIDTH * 0.3))
        left, right = table.rows[0].cells
        _cell_text(left, tag("footer"), size=7.5)
        p = _cell_text(right, "Sida ", size=8.5)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _field_code(p, "PAGE")
        p.add_run(" (").font.size = Pt(8.5)
        _field_code(p, "NUMPAGES")
        p.add_run(")").font.size = Pt(8.5)
        footer.paragraphs[0].paragraph_format.space_after = Pt(0)

    # -- body
    def build(self) -> Any:
        b = self.b
        doc = self.doc
        # python-docx starts with no body paragraph; the title comes first
        if b.kind == "bilaga":
            _para(doc, "BILAGA", size=8.5, bold=True, space_after=0)
        doc.add_paragraph(literal(b.title), style="Title")
        if b.subtitle:
            doc.add_paragraph(literal(b.subtitle), style="Subtitle")
        if b.send_to:
            label = "Skicka blanketten till" if b.masthead == "issuer" else "Skickas till"
            p = _para(doc, label, size=7.5, space_after=0)
            p.paragraph_format.keep_with_next = True
            _para(doc, tag("send_to"), size=9.5)
        if b.per_recipient_rows:
            _para(doc, tag("recipient_line"), size=10, bold=True)  # "Till: …" on a recipient's copy
        if b.intro:
            for text in display.paragraphs(b.intro):
                _para(doc, with_placeholders(text), space_after=5)
        for section in b.sections:
            self.section(section)
        return doc

    def section(self, s: Section) -> None:
        doc = self.doc
        number = f"{s.number}. " if s.number else ""
        heading = doc.add_paragraph(literal(number + s.title),
                                    style="Heading 3" if s.text_only else "Heading 2")
        if s.page_break_before:
            heading.paragraph_format.page_break_before = True
        if s.filled_by in display.FILLED_BY_NOTE:
            p = _para(doc, display.FILLED_BY_NOTE[s.filled_by], size=8.5, italic=True)
            p.paragraph_format.keep_with_next = True
        for text in display.paragraphs(s.intro):
            p = _para(doc, with_placeholders(text), size=9.5)
            if s.layout == "grid":
                p.paragraph_format.keep_with_next = True
        if s.layout == "grid":
            self.grid(s)
        pending: list[Field] = []
        for fld in display.printed_fields(s):  # never the wizard-only ones (print: false)
            if fld.type == "rows":
                self.field_table(s, pending)
                pending = []
                self.rows(s, fld)
            else:
                pending.append(fld)
        self.field_table(s, pending)
        if s.signatures:
            self.signatures(s)

    def field_table(self, s: Section, fields: list[Field]) -> None:
        if not fields:
            return
        table = self.doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        for fld in fields:
            row = table.add_row()
            _cant_split(row)
            label_cell, value_cell = row.cells
            _set_cell_shading(label_cell, LIGHT)
            _cell_text(label_cell, literal(fld.label), size=8.5)
            if fld.help and fld.print_help and fld.type in ("textarea", "scale", "choice", "checkbox"):
                _para(label_cell, literal(fld.help), size=7.5, italic=True, space_after=0)
            if fld.type == "scale":
                ends = [f"{p} = {fld.scale_label(p)}" for p in display.scale_points(fld)
                        if fld.scale_label(p)]
                hint = f"Skala {fld.scale_min}–{fld.scale_max}"
                if ends:
                    hint += " (" + ", ".join(ends) + ")"
                _para(label_cell, literal(hint), size=7.5, space_after=0)
            if fld.type == "choice":
                first = True
                for choice in fld.choices:
                    text = tag(f"c['{fld.name}']['{choice.value}']") + " " + literal(choice.label)
                    if first:
                        _cell_text(value_cell, text)
                        first = False
                    else:
                        _para(value_cell, text, space_after=0)
            else:
                _cell_text(value_cell, v(fld.name), size=10.5 if fld.type != "checkbox" else 12)
            if fld.type == "textarea":
                _row_height(row, 7 * max(1, fld.lines) + 4)
            else:
                _row_height(row, 8)
        _widths(table, (CONTENT_WIDTH * 0.36, CONTENT_WIDTH * 0.64))
        _para(self.doc, "", space_after=0, size=4)

    def rows(self, s: Section, fld: Field) -> None:
        if fld.label != s.title:
            _para(self.doc, literal(fld.label), size=8.5, bold=True, space_after=1)
        cols = fld.columns
        table = self.doc.add_table(rows=4, cols=len(cols))
        table.style = "Table Grid"
        head, start, body, end = table.rows
        _repeat_header(head)
        for cell, col in zip(head.cells, cols):
            _set_cell_shading(cell, LIGHT)
            _cell_text(cell, literal(col.label), size=8.5, bold=True)
        _cell_text(start.cells[0], "{%%tr for r in rows['%s'] %%}" % fld.name)
        for cell, col in zip(body.cells, cols):
            _cell_text(cell, tag(f"r['{col.name}']"))
        _cant_split(body)
        _row_height(body, 8)
        _cell_text(end.cells[0], "{%tr endfor %}")
        widths = display.column_widths(cols)
        _widths(table, [CONTENT_WIDTH * w / 100 for w in widths])
        _para(self.doc, "", space_after=0, size=4)

    def grid(self, s: Section) -> None:
        widths = display.grid_column_widths(s)
        table = self.doc.add_table(rows=1, cols=len(s.grid_columns))
        table.style = "Table Grid"
        head = table.rows[0]
        _repeat_header(head)
        for cell, heading in zip(head.cells, s.grid_columns):
            _set_cell_shading(cell, LIGHT)
            _cell_text(cell, literal(heading), size=8.5, bold=True)
        types = {f.name: f.type for f in s.fields}
        for grid_row in s.grid_rows:
            row = table.add_row()
            _cant_split(row)
            _row_height(row, 10)
            label = row.cells[0]
            _cell_text(label, literal(grid_row.label), size=9)
            if grid_row.help:
                _para(label, literal(grid_row.help), size=7.5, italic=True, space_after=0)
            if grid_row.label_field:
                _para(label, v(grid_row.label_field), space_after=0)
            for cell, name in zip(row.cells[1:], grid_row.fields):
                p = _cell_text(cell, v(name), size=12 if types[name] == "checkbox" else 10)
                if types[name] in ("checkbox", "percent"):
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _widths(table, [CONTENT_WIDTH * w / 100 for w in widths])
        _para(self.doc, "", space_after=0, size=4)

    def signatures(self, s: Section) -> None:
        # All the signatures of a section on one page: people sign together, and a signature block
        # alone at the top of a page reads as signing an empty page.
        start = len(self.doc.element.body)
        for sig in s.signatures:
            if sig.role not in (s.title, "Namnteckning", "Underskrift"):
                p = _para(self.doc, literal(sig.role), size=9, bold=True, space_after=1)
                p.paragraph_format.keep_with_next = True
            cols: list[tuple[str, str, float]] = []   # (value tag, caption, width mm)
            if sig.place_field:
                cols.append((v(sig.place_field), "Ort", 40))
            if sig.date_field:
                cols.append((v(sig.date_field), "Datum", 32))
            cols.append(("", "Namnteckning", 0))
            used = sum(w for _, _, w in cols) + 4 * (len(cols) - 1)
            cols[-1] = ("", "Namnteckning", CONTENT_WIDTH - used)
            self._line_table(cols, 12)
            names: list[tuple[str, str, float]] = []
            if sig.name_field:
                names.append((v(sig.name_field), "Namnförtydligande", 80))
            if sig.title_field:
                names.append((v(sig.title_field), "Befattning", 80))
            if names:
                self._line_table(names, 8)
        self._keep_together(start)

    def _keep_together(self, start: int) -> None:
        """Keep the signature blocks on one page: every paragraph from body element
        ``start`` on keeps with the next, except the last one."""
        paragraphs = [p for el in list(self.doc.element.body)[start:]
                      for p in el.iter(qn("w:p"))]
        for p in paragraphs[:-1]:
            Paragraph(p, None).paragraph_format.keep_with_next = True

    def _line_table(self, cols: list[tuple[str, str, float]], height: float) -> None:
        """Values on lines with small captions under them, 4 mm apart."""
        n = len(cols) * 2 - 1
        table = self.doc.add_table(rows=2, cols=n)
        _no_table_borders(table)
        lines, captions = table.rows
        _row_height(lines, height)
        _cant_split(lines)
        widths = []
        for i, (value, caption, width) in enumerate(cols):
            cell = lines.cells[i * 2]
            p = _cell_text(cell, value)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
            p.paragraph_format.keep_with_next = True
            _set_cell_borders(cell, bottom="single")
            _cell_text(captions.cells[i * 2], caption, size=7)
            widths.append(width)
            if i < len(cols) - 1:
                widths.append(4)
        _widths(table, widths)
        _para(self.doc, "", space_after=0, size=3)


# ----------------------------------------------------------------- reproducible


def build_template(blankett: Blankett) -> bytes:
    """The template of ``blankett`` as .docx bytes (deterministic)."""
    doc = TemplateBuilder(blankett).build()
    out = io.BytesIO()
    doc.save(out)
    return normalise_zip(out.getvalue())


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a .docx with fixed timestamps and a fixed member order, so the
    same content gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return deterministic_zip({name: source.read(name) for name in source.namelist()})


def deterministic_zip(members: dict[str, bytes]) -> bytes:
    """A .docx (zip) from its members with fixed timestamps and a fixed member order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        # [Content_Types].xml first, as Office writes it
        for name in sorted(members, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, members[name])
    return out.getvalue()


def generate(defs: dict[str, Blankett], out_dir: Path, ids: Iterable[str] | None = None,
             *, check: bool = False) -> list[str]:
    """Write (or with ``check`` compare) the templates; returns the ids that
    were written (or are out of date)."""
    changed = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for bid in sorted(ids or defs):
        data = build_template(defs[bid])
        path = out_dir / f"{bid}.docx"
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(bid)
        if not check:
            path.write_bytes(data)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m formservice.rendering.docx_templates",
        description="Skapar Word-mallarna templates/docx/<id>.docx från blankettdefinitionerna.")
    parser.add_argument("ids", nargs="*", help="blankett-id (alla om inget anges)")
    parser.add_argument("--forms", type=Path, default=None, help="mappen med blankettdefinitioner")
    parser.add_argument("--out", type=Path, default=None, help="mappen för mallarna")
    parser.add_argument("--check", action="store_true",
                        help="skriv inget; avsluta med 1 om någon mall är inaktuell")
    args = parser.parse_args(argv)
    defs = load_definitions(args.forms or paths.FORMS_DIR)
    unknown = [i for i in args.ids if i not in defs]
    if unknown:
        print(f"Okänd blankett: {', '.join(unknown)}", file=sys.stderr)
        return 2
    out_dir = args.out or template_dir()
    changed = generate(defs, out_dir, args.ids or None, check=args.check)
    if args.check:
        for bid in changed:
            print(f"Inaktuell mall: {out_dir / (bid + '.docx')}", file=sys.stderr)
        return 1 if changed else 0
    for bid in changed:
        print(f"Skrev {out_dir / (bid + '.docx')}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
