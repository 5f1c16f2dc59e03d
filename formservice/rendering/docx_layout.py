"""The layout of a blankett's Word template: the blankett definition laid out as the print
template lays out the PDF (templates/documents/_part.html and print.css), with docxtpl (Jinja) tags
where the values go, so that Word and LibreOffice show and paginate the document like the PDF.
Written to templates/docx/ by docx_templates.py; filled by docx.py.

    header              {{ organisation }} (or the issuer: masthead) | title / {{ header_meta }}
    footer              {{ footer }} | Sida PAGE (NUMPAGES)
    title block         title, subtitle, "Skickas till" {{ send_to }}, "Till: …" on a
                        recipient's copy, the intro as a letter ({field} -> {{ p['field'] }})
    section             "1. Title" heading as a grey band (page break before when the
                        definition says so), note, intro
      own fields        one table per run of lines (display.layout_lines): a row per line,
                        a bordered box per field with its label over {{ v['name'] }}; boxes
                        side by side by width, a row of boxes never split; choice: a line
                        per option {{ c['name']['value'] }}; textarea: ruled lines while
                        empty; scale: its points with a box each {{ c['name']['3'] }};
                        print: if_filled lines inside {%tr if v['name'] %} … {%tr endif %}
      rows field        a table: header row of column labels, then
                        {%tr for r in rows['name'] %} {{ r['column'] }} … {%tr endfor %}
      grid              a table: grid_columns across, grid_rows down
      signatures        a row per pair of signatures, never split and kept with the
                        heading: [ort] [datum] [namnteckning] lines, then namnförtydligande
    text-only section   a small heading and its paragraphs

Help texts follow display.show_help: a one-line field's only while it is empty ({%p if %}).
The values that fill the tags are prepared by docx.py (display strings: personnummer
ÅÅÅÅMMDD-NNNN, ☒/☐, "50 %"). This module never renders.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Mm, Pt, RGBColor, Twips

from formservice.blanketter.model import Blankett, Field, Section
from formservice.rendering import display, wordml
from formservice.rendering.wordml import OxmlElement, para, qn

FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
FONT = "Arial"  # metric-compatible with Liberation Sans; LibreOffice maps one to the other
GREY = "E4E4E4"
LIGHT = "F0F0F0"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

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


# ----------------------------------------------------------------------- builder

CONTENT_WIDTH = 210 - 18 - 16  # A4 minus the print CSS's page margins, mm
# Font sizes of the print CSS: a box's label, help text and value.
LABEL, HELP, VALUE = 7.5, 8, 10.5
BOX_BORDER = 6                 # eighths of a point: the print CSS's 0.75 pt
SIG_LINE = 7                   # 0.9 pt


def _grid_of(lines: Sequence[display.Line]) -> tuple[list[int], list[list[tuple[Field | None, int, int]]]]:
    """The table grid of a frame (twips per column) and each line's cells as (field or None for
    the empty rest of a line that is not full, first grid column, last grid column + 1)."""
    total = wordml.twips(CONTENT_WIDTH)
    spans: list[list[tuple[Field | None, int, int]]] = []
    for line in lines:
        cells, pos = [], 0.0
        for fld, pct in line.items:
            cells.append((fld, round(total * pos / 100), round(total * (pos + pct) / 100)))
            pos += pct
        if pos < 99:
            cells.append((None, round(total * pos / 100), total))
        spans.append(cells)
    edges = sorted({0, total, *(edge for cells in spans for _, a, b in cells for edge in (a, b))})
    index = {edge: i for i, edge in enumerate(edges)}
    return ([b - a for a, b in zip(edges, edges[1:])],
            [[(fld, index[a], index[b]) for fld, a, b in cells] for cells in spans])


def _filled_test(field: Any) -> str:
    """The template's test that a field printed only when filled is filled: a ticked box is "☒",
    an unticked one "☐" (a text, so not empty)."""
    if field.type == "checkbox":
        return f"v['{field.name}'] == '{display.CHECKED}'"
    return f"v['{field.name}']"


class TemplateBuilder:
    """Builds the docxtpl template of one blankett, laid out as the print template lays out the
    PDF (templates/documents/_part.html), so that Word and LibreOffice paginate like the PDF."""

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
        # the print CSS's @page margins: the header and footer sit inside them
        section.left_margin, section.right_margin = Mm(18), Mm(16)
        section.top_margin, section.bottom_margin = Mm(22), Mm(15)
        section.header_distance, section.footer_distance = Mm(10), Mm(7)

        styles = doc.styles
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(10)
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
        normal.paragraph_format.space_after = Pt(4)
        normal.paragraph_format.line_spacing = 1.12  # the print CSS's line-height 1.3 (Word's single is 1.15)
        for name, size in (("Title", 18), ("Subtitle", 11), ("Heading 1", 14),
                           ("Heading 2", 11.5), ("Heading 3", 10.5)):
            style = styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0, 0, 0)
            rpr = style.element.rPr
            if rpr is not None:
                for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                    rpr.rFonts.attrib.pop(qn(attr), None)
                for spacing in rpr.findall(qn("w:spacing")):  # python-docx's Subtitle is letter-spaced
                    rpr.remove(spacing)
        title = styles["Title"]
        title.font.bold = True
        for border in title.element.get_or_add_pPr().findall(qn("w:pBdr")):  # no rule under the title
            border.getparent().remove(border)
        title.paragraph_format.space_after = Pt(3)
        styles["Subtitle"].font.italic = False
        styles["Subtitle"].paragraph_format.space_after = Pt(3)
        h2 = styles["Heading 2"]
        h2.paragraph_format.space_before = Pt(11)
        h2.paragraph_format.space_after = Pt(4)
        h2.paragraph_format.keep_with_next = True
        h2.paragraph_format.left_indent = Mm(2)
        self._heading_band(h2)
        styles["Heading 3"].paragraph_format.space_before = Pt(8)
        styles["Heading 3"].paragraph_format.space_after = Pt(2)
        styles["Heading 3"].paragraph_format.keep_with_next = True

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

    @staticmethod
    def _heading_band(style: Any) -> None:
        """A section heading as in print: a grey band with a black bar on its left."""
        ppr = style.element.get_or_add_pPr()
        bdr = OxmlElement("w:pBdr")
        left = OxmlElement("w:left")
        for key, value in (("w:val", "single"), ("w:sz", "20"), ("w:space", "4"), ("w:color", "000000")):
            left.set(qn(key), value)
        bdr.append(left)
        wordml.put(ppr, bdr)
        wordml.shade(ppr, GREY)

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
        wordml.no_borders(table)
        wordml.widths(table, (CONTENT_WIDTH * 0.42, CONTENT_WIDTH * 0.58))
        left, right = table.rows[0].cells
        own = self.b.masthead == "issuer"  # another authority's own form: its name, never ours
        # The organisation's own masthead: its logo (an image docx.py puts in, 7 mm high) before its name.
        wordml.cell_text(left, literal(self.b.issuer) if own else "{% if logo %}{{ logo }} {% endif %}" + tag("organisation"),
                         size=10.5, bold=True)
        left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        p = wordml.cell_text(right, tag("header_title"), size=8)  # with the issuer unless the masthead names it
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.add_run().add_break()
        p.add_run(tag("header_meta")).font.size = Pt(8)
        for cell in (left, right):
            wordml.borders(cell, size=10, bottom="single")
        # python-docx's header has an empty first paragraph: keep it tiny
        wordml.tiny(header.paragraphs[0])

        footer = section.footer
        table = footer.add_table(rows=1, cols=2, width=Mm(CONTENT_WIDTH))
        wordml.no_borders(table)
        wordml.widths(table, (CONTENT_WIDTH * 0.7, CONTENT_WIDTH * 0.3))
        left, right = table.rows[0].cells
        wordml.cell_text(left, tag("footer"), size=7.5)
        p = wordml.cell_text(right, self.b.word("Sida") + " ", size=8.5)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        wordml.field_code(p, "PAGE", 8.5)
        p.add_run(" (").font.size = Pt(8.5)
        wordml.field_code(p, "NUMPAGES", 8.5)
        p.add_run(")").font.size = Pt(8.5)
        wordml.tiny(footer.paragraphs[0])

    # -- body
    def build(self) -> Any:
        b = self.b
        doc = self.doc
        # python-docx starts with no body paragraph; the title comes first
        if b.kind == "bilaga":
            para(doc, literal(b.word("Bilaga").upper()), size=8.5, bold=True, space_after=0)
        doc.add_paragraph(literal(b.title), style="Title")
        if b.subtitle:
            doc.add_paragraph(literal(b.subtitle), style="Subtitle")
        if b.send_to:
            label = "Skicka blanketten till" if b.masthead == "issuer" else "Skickas till"
            p = para(doc, label, size=7, space_after=0)
            p.paragraph_format.keep_with_next = True
            para(doc, tag("send_to"), size=9)
        if b.per_recipient_rows:  # "Till: …" on a recipient's copy, nothing on one common copy
            self._if("recipient_line", lambda: para(doc, tag("recipient_line"), size=10, bold=True))
        if b.intro:
            for text in display.paragraphs(b.intro):
                para(doc, with_placeholders(text), space_after=5)
        for section in b.sections:
            self.section(section)
        # A part ends with a paragraph: after a table, and the place of its section break in a packet.
        wordml.tiny(para(doc))
        return doc

    def _if(self, condition: str, content: Any, container: Any = None, otherwise: Any = None) -> None:
        """``content()`` only when the Jinja ``condition`` holds (docxtpl {%p %} paragraphs, which
        leave nothing behind), else ``otherwise()``."""
        container = container if container is not None else self.doc
        para(container, "{%%p if %s %%}" % condition)
        content()
        if otherwise is not None:
            para(container, "{%p else %}")
            otherwise()
        para(container, "{%p endif %}")

    def _gap(self) -> None:
        """Two tables in a row would become one: a thin paragraph between them."""
        body = self.doc.element.body
        blocks = [el for el in body if el.tag != qn("w:sectPr")]
        if blocks and blocks[-1].tag == qn("w:tbl"):
            wordml.tiny(para(self.doc))

    def section(self, s: Section) -> None:
        doc = self.doc
        number = f"{s.number}. " if s.number else ""
        heading = doc.add_paragraph(literal(number + s.title),
                                    style="Heading 3" if s.text_only else "Heading 2")
        if s.page_break_before:
            heading.paragraph_format.page_break_before = True
        if s.filled_by in display.FILLED_BY_NOTE:
            p = para(doc, display.FILLED_BY_NOTE[s.filled_by], size=8.5, italic=True, space_after=3)
            p.paragraph_format.keep_with_next = True
        intro = [para(doc, with_placeholders(text), size=9.5, space_after=4) for text in display.paragraphs(s.intro)]
        wordml.keep_with_next(intro if not s.text_only else intro[:-1])  # with the section's boxes
        if s.layout == "grid":
            self.grid(s)
        frame: list[display.Line] = []
        for line in display.layout_lines(s):  # never print: false or in_text; if_filled on a line of its own
            if line.kind == "rows":
                self.frame(s, frame)
                frame = []
                self.rows(s, line.items[0][0])
            else:
                frame.append(line)
        self.frame(s, frame)
        if s.signatures:
            self.signatures(s)

    # -- labelled boxes
    def frame(self, s: Section, lines: list[display.Line]) -> None:
        """Lines of labelled boxes as one table, each line a row (one-line fields side by side by
        width, a textarea or a scale across): a row of boxes never splits across pages. A line
        printed only when filled (print: if_filled) is wrapped in {%tr if %} … {%tr endif %}."""
        if not lines:
            return
        grid, spans = _grid_of(lines)
        conditional = [line.items[0][0].print_rule == "if_filled" for line in lines]
        if all(conditional):
            names = " or ".join(_filled_test(line.items[0][0]) for line in lines)
            return self._if(names, lambda: self._frame_table(s, lines, grid, spans, conditional))
        self._frame_table(s, lines, grid, spans, conditional)

    def _frame_table(self, s, lines, grid, spans, conditional) -> None:
        self._gap()
        table = self.doc.add_table(rows=len(lines) + 2 * sum(conditional), cols=len(grid))
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        for column, width in zip(table.columns, grid):
            column.width = Twips(width)
        wordml.cell_margins(table, top=0.8, bottom=1, left=1.8, right=1.8, aligned=True)
        rows = iter(range(len(table.rows)))
        for line, cells, wrapped in zip(lines, spans, conditional):
            if wrapped:
                self._tag_row(table, next(rows), "{%%tr if %s %%}" % _filled_test(line.items[0][0]))
            r = next(rows)
            row = table.rows[r]
            if line.kind == "boxes":  # a label over a value; a checkbox is its own label
                wordml.cant_split(row)
                wordml.row_height(row, 6 if all(f.type == "checkbox" for f, _ in line.items) else 9.5)
            for fld, a, b in cells:
                cell = table.cell(r, a) if b - a == 1 else table.cell(r, a).merge(table.cell(r, b - 1))
                cell.width = Twips(sum(grid[a:b]))
                if fld is None:
                    continue  # the rest of a line that is not full: no box
                wordml.borders(cell, size=BOX_BORDER, top="single", left="single", bottom="single", right="single")
                self.box(cell, fld, s)
            if wrapped:
                self._tag_row(table, next(rows), "{%tr endif %}")

    @staticmethod
    def _tag_row(table: Any, r: int, text: str) -> None:
        cell = table.cell(r, 0).merge(table.cell(r, len(table.columns) - 1))
        wordml.cell_text(cell, text, size=LABEL)

    def box(self, cell: Any, fld: Field, s: Section) -> None:
        """One labelled box, as _fields.html prints it."""
        if fld.type == "checkbox":
            wordml.cell_text(cell, f"{v(fld.name)} {literal(fld.label)}", size=10)
            if fld.help and fld.print_help:
                para(cell, literal(fld.help), size=HELP, italic=True, space_after=0)
            return
        # No keep-with-next in a box: in a table it keeps the row with the next row (Word) and, in
        # a table's last row, the whole table with what follows (LibreOffice), chaining sections.
        if fld.label != s.title:  # a box that is the whole section: its heading is its label
            wordml.cell_text(cell, literal(fld.label), size=LABEL, space_after=1.5)
        if fld.help and fld.print_help:
            def help_text() -> None:
                para(cell, literal(fld.help), size=HELP, italic=True, space_after=1.5)
            if fld.type in display.HELP_WHEN_EMPTY:  # an instruction for the hand: while empty
                self._if(f"not v['{fld.name}']", help_text, cell)
            else:
                help_text()
        if fld.type == "choice":
            for choice in fld.choices:
                para(cell, f"{tag(f'c[{fld.name!r}][{choice.value!r}]')} {literal(choice.label)}",
                     size=10, space_after=1.5)
        elif fld.type == "scale":
            self.scale(cell, fld)
        elif fld.type == "textarea":
            self._if(f"v['{fld.name}']", lambda: para(cell, v(fld.name), size=VALUE, space_after=0), cell,
                     otherwise=lambda: self.handwriting(cell, fld.lines))
        else:
            para(cell, v(fld.name), size=VALUE, space_after=0)
        wordml.drop_first_if_empty(cell)

    @staticmethod
    def handwriting(cell: Any, lines: int) -> None:
        """Ruled lines to write on, 7 mm apart, as an empty textarea has on paper."""
        for _ in range(lines):
            p = para(cell, "", space_after=0)
            p.paragraph_format.line_spacing = Mm(7)
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            wordml.rule_below(p)

    def scale(self, cell: Any, fld: Field) -> None:
        """The scale drawn as a scale: its points numbered, a box under each (the chosen one
        crossed), the end labels under their points."""
        points = display.scale_points(fld)
        table = cell.add_table(rows=3, cols=len(points))
        wordml.no_borders(table)
        wordml.cell_margins(table, top=0, bottom=0, left=0.3, right=0.3)
        for i, point in enumerate(points):
            for r, (text, size) in enumerate(((str(point), 8.5), (tag(f"c['{fld.name}']['{point}']"), 14),
                                              (literal(fld.scale_label(point)), 7))):
                wordml.cell_text(table.cell(r, i), text, size=size).alignment = WD_ALIGN_PARAGRAPH.CENTER
        wordml.widths(table, [11] * len(points))
        wordml.tiny(cell.paragraphs[-1])

    # -- tables of rows and grids
    def rows(self, s: Section, fld: Field) -> None:
        if fld.label != s.title:
            p = para(self.doc, literal(fld.label), size=8, bold=True, space_after=1, space_before=3)
            p.paragraph_format.keep_with_next = True
        self._gap()
        cols = fld.columns
        table = self.doc.add_table(rows=4, cols=len(cols))
        table.style = "Table Grid"
        wordml.cell_margins(table, top=0.6, bottom=0.6, left=1.8, right=1.8, aligned=True)
        head, start, body, end = table.rows
        wordml.repeat_header(head)
        wordml.cant_split(head)
        for cell, col in zip(head.cells, cols):
            wordml.shade(cell, LIGHT)
            wordml.keep_with_next([wordml.cell_text(cell, literal(col.label), size=8, bold=True)])
        wordml.cell_text(start.cells[0], "{%%tr for r in rows['%s'] %%}" % fld.name)
        for cell, col in zip(body.cells, cols):
            wordml.cell_text(cell, tag(f"r['{col.name}']"))
        wordml.cant_split(body)
        wordml.row_height(body, 7.5)
        wordml.cell_text(end.cells[0], "{%tr endfor %}")
        wordml.widths(table, [CONTENT_WIDTH * w / 100 for w in display.column_widths(cols)])

    def grid(self, s: Section) -> None:
        widths = display.grid_column_widths(s)
        self._gap()
        table = self.doc.add_table(rows=1, cols=len(s.grid_columns))
        table.style = "Table Grid"
        wordml.cell_margins(table, top=0.6, bottom=0.6, left=1.8, right=1.8, aligned=True)
        head = table.rows[0]
        wordml.repeat_header(head)
        wordml.cant_split(head)
        for cell, heading in zip(head.cells, s.grid_columns):
            wordml.shade(cell, LIGHT)
            wordml.keep_with_next([wordml.cell_text(cell, literal(heading), size=8, bold=True)])
        types = {f.name: f.type for f in s.fields}
        short = len(s.grid_rows) <= 5  # one question with its answers: kept on one page, as in print
        for n, grid_row in enumerate(s.grid_rows, 1):
            row = table.add_row()
            wordml.cant_split(row)
            wordml.row_height(row, 10)
            label = row.cells[0]
            first = wordml.cell_text(label, literal(grid_row.label), size=9)
            if grid_row.help:
                para(label, literal(grid_row.help), size=7.5, italic=True, space_after=0)
            if grid_row.label_field:
                para(label, v(grid_row.label_field), space_after=0)
            cells = [first]
            for cell, name in zip(row.cells[1:], grid_row.fields):
                p = wordml.cell_text(cell, v(name), size=12 if types[name] == "checkbox" else 10)
                cells.append(p)
                if types[name] in ("checkbox", "percent"):
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if short and n < len(s.grid_rows):
                wordml.keep_with_next([p for c in row.cells for p in c.paragraphs])
        wordml.widths(table, [CONTENT_WIDTH * w / 100 for w in widths])

    # -- signatures
    def signatures(self, s: Section) -> None:
        """The section's signature blocks as print has them: two side by side (one alone across
        the page), [ort] [datum] [namnteckning] on lines with captions under them, then
        namnförtydligande and befattning. Each pair is a table row that never splits, and the rows
        keep with each other and the heading: people sign together, on one page."""
        views = list(s.signatures)
        paired = len(views) > 1
        self._gap()
        columns = [(CONTENT_WIDTH - 8) / 2, 8, (CONTENT_WIDTH - 8) / 2] if paired else [CONTENT_WIDTH]
        table = self.doc.add_table(rows=(len(views) + 1) // 2, cols=len(columns))
        wordml.no_borders(table)
        wordml.cell_margins(table, top=0, bottom=0, left=0, right=0)
        wordml.widths(table, columns)
        for n, sig in enumerate(views):
            row = table.rows[n // 2]
            wordml.cant_split(row)
            self.signature(row.cells[2 * (n % 2)], s, sig, columns[0], paired)
        wordml.keep_with_next(list(table._tbl.iter(qn("w:p")))[:-1])

    def signature(self, cell: Any, s: Section, sig: Any, width: float, paired: bool) -> None:
        blankett = self.b
        role = sig.role not in (s.title, "Namnteckning", "Underskrift")
        if role:
            wordml.cell_text(cell, literal(sig.role), size=9, bold=True, space_after=1)
        cols: list[tuple[str, str, float]] = []   # (value tag, caption, width in % of the block)
        if sig.place_field:
            cols.append((v(sig.place_field), literal(blankett.field(sig.place_field).label), 28))
        if sig.date_field:
            cols.append((v(sig.date_field), literal(blankett.word("Datum")), 34 if paired else 22))
        cols.append(("", literal(blankett.word("Namnteckning")), 0))
        self._line_table(cell, cols, width, 12)
        names: list[tuple[str, str, float]] = []
        if sig.name_field:
            names.append((v(sig.name_field), literal(blankett.word("Namnförtydligande")), 48 if sig.title_field else 0))
        if sig.title_field:
            names.append((v(sig.title_field), literal(blankett.field(sig.title_field).label), 0))
        if names:
            self._line_table(cell, names, width, 8)
        if not role:
            wordml.drop_first_if_empty(cell)

    @staticmethod
    def _line_table(cell: Any, cols: list[tuple[str, str, float]], width: float, height: float) -> None:
        """Values on lines with small captions under them, 4 mm apart (a width of 0: the rest)."""
        gap = 4
        rest = width - sum(width * w / 100 for _, _, w in cols) - gap * (len(cols) - 1)
        table = cell.add_table(rows=2, cols=len(cols) * 2 - 1)
        wordml.no_borders(table)
        wordml.cell_margins(table, top=0, bottom=0, left=0, right=0)
        lines, captions = table.rows
        wordml.row_height(lines, height)
        widths: list[float] = []
        for i, (value, caption, pct) in enumerate(cols):
            line = lines.cells[i * 2]
            wordml.cell_text(line, value, size=10, space_after=1)
            line.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
            wordml.borders(line, size=SIG_LINE, bottom="single")
            wordml.cell_text(captions.cells[i * 2], caption, size=7, space_after=2)
            widths.append(width * pct / 100 if pct else rest)
            if i < len(cols) - 1:
                widths.append(gap)
        wordml.widths(table, widths)
        wordml.tiny(cell.paragraphs[-1])
