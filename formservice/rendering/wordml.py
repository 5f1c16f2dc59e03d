"""Small WordprocessingML helpers on python-docx objects: cell shading and borders, row properties,
field codes, widths, paragraphs. Used by the Word template generator (docx_templates.py) and the
packet merge (docx.py); nothing here knows about blanketter."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_LINE_SPACING
from docx.shared import Mm, Pt

__all__ = ["OxmlElement", "qn", "borders", "cant_split", "cell_margins", "cell_text", "drop_first_if_empty",
           "field_code", "keep_with_next", "no_borders", "para", "put", "repeat_header", "row_height",
           "rule_below", "shade", "tiny", "twips", "widths"]

# The order of the children of a table's, a cell's and a paragraph's properties (ECMA-376 Part 1,
# 17.4.60, 17.4.70, 17.3.1.26): Word refuses a file whose properties are out of order.
_ORDER = {
    "tblPr": ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
              "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar",
              "tblLook", "tblCaption", "tblDescription"),
    "tcPr": ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
             "textDirection", "tcFitText", "vAlign", "hideMark"),
    "pPr": ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
            "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
            "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
            "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
            "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
            "sectPr", "pPrChange"),
}


def put(parent: Any, child: Any) -> Any:
    """``child`` in ``parent`` (tblPr, tcPr or pPr) at its place in the schema's order, replacing
    one of the same kind."""
    order = _ORDER[parent.tag.rsplit("}", 1)[1]]
    name = child.tag.rsplit("}", 1)[1]
    for old in parent.findall(child.tag):
        parent.remove(old)
    later = {qn(f"w:{n}") for n in order[order.index(name) + 1:]}
    for i, existing in enumerate(parent):
        if existing.tag in later:
            parent.insert(i, child)
            return child
    parent.append(child)
    return child


def twips(mm: float) -> int:
    """A length in twentieths of a point (OOXML's "dxa")."""
    return round(mm * 1440 / 25.4)


def shade(target: Any, fill: str) -> None:
    """A background colour for a table cell, a paragraph or a style's paragraph properties (pPr)."""
    if hasattr(target, "_tc"):
        props = target._tc.get_or_add_tcPr()
    elif hasattr(target, "_p"):
        props = target._p.get_or_add_pPr()
    else:
        props = target
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    put(props, shd)


def _border(side: str, kind: str, size: int = 6, color: str = "000000") -> Any:
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), kind)
    if kind != "nil":
        el.set(qn("w:sz"), str(size))  # eighths of a point
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), color)
    return el


def borders(cell: Any, size: int = 6, **sides: str | None) -> None:
    """A cell's borders: top/bottom/left/right -> "single"/"nil" (None = leave), ``size`` in
    eighths of a point (6 = 0.75 pt, the print CSS's box border)."""
    element = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        if sides.get(side) is not None:
            element.append(_border(side, sides[side], size))
    put(cell._tc.get_or_add_tcPr(), element)


def no_borders(table: Any) -> None:
    element = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element.append(_border(side, "nil"))
    put(table._tbl.tblPr, element)


def cell_margins(table: Any, *, top: float, bottom: float, left: float, right: float,
                 aligned: bool = False) -> None:
    """The padding of every cell of ``table``, in mm; ``aligned``: the table's left border on the
    page margin, like the text around it (a word processor otherwise puts the first cell's text
    there and the border in the margin)."""
    element = OxmlElement("w:tblCellMar")
    for side, mm in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        element.append(_width(f"w:{side}", mm))
    put(table._tbl.tblPr, element)
    if aligned:
        put(table._tbl.tblPr, _width("w:tblInd", left))


def _width(tag: str, mm: float) -> Any:
    el = OxmlElement(tag)
    el.set(qn("w:w"), str(twips(mm)))
    el.set(qn("w:type"), "dxa")
    return el


def rule_below(paragraph: Any, color: str = "8A8A8A") -> None:
    """A thin grey line under the paragraph, also between paragraphs ruled alike (which a word
    processor otherwise draws as one bordered group): lines to write on."""
    element = OxmlElement("w:pBdr")
    element.append(_border("bottom", "single", 4, color))
    element.append(_border("between", "single", 4, color))
    put(paragraph._p.get_or_add_pPr(), element)


def tiny(paragraph: Any) -> Any:
    """An empty paragraph as thin as it gets (1 pt): a separator that takes no room."""
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(1)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    r_pr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), "2")
    r_pr.append(sz)
    put(paragraph._p.get_or_add_pPr(), r_pr)
    return paragraph


def drop_first_if_empty(cell: Any) -> None:
    """Remove a cell's empty first paragraph when something follows it (python-docx starts every
    cell with one, before a table added to the cell)."""
    first = cell._tc.find(qn("w:p"))
    if first is not None and first.getnext() is not None and not "".join(first.itertext()).strip():
        cell._tc.remove(first)


def _row_flag(row: Any, name: str) -> None:
    el = OxmlElement(f"w:{name}")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def repeat_header(row: Any) -> None:
    _row_flag(row, "tblHeader")


def cant_split(row: Any) -> None:
    """The row is never split across pages (Word and LibreOffice alike)."""
    _row_flag(row, "cantSplit")


def row_height(row: Any, mm: float) -> None:
    """At least ``mm`` high: taller when its content needs it."""
    row.height = Mm(mm)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def field_code(paragraph: Any, code: str, size: float | None = None) -> None:
    """A simple field (PAGE, NUMPAGES) showing "1" until the word processor updates it."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), code)
    run = OxmlElement("w:r")
    if size:
        r_pr = OxmlElement("w:rPr")
        sz = OxmlElement("w:sz")
        sz.set(qn("w:val"), str(round(size * 2)))
        r_pr.append(sz)
        run.append(r_pr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def widths(table: Any, widths_mm: Sequence[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)
    for col, width in zip(table.columns, widths_mm):
        col.width = Mm(width)


def keep_with_next(paragraphs: Sequence[Any]) -> None:
    """Every paragraph (python-docx Paragraph or w:p element) keeps with the next one."""
    for p in paragraphs:
        getattr(p, "_p", p).get_or_add_pPr().keepNext_val = True


def para(container: Any, text: str = "", *, style: str | None = None, size: float | None = None,
         bold: bool = False, italic: bool = False, space_after: float | None = None,
         space_before: float | None = None, align: Any = None) -> Any:
    """A paragraph appended to ``container`` (document, cell), its lines joined by line breaks."""
    paragraph = container.add_paragraph(style=style) if style else container.add_paragraph()
    _runs(paragraph, text, size=size, bold=bold, italic=italic)
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    if space_before is not None:
        paragraph.paragraph_format.space_before = Pt(space_before)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def cell_text(cell: Any, text: str, *, size: float | None = None, bold: bool = False,
              italic: bool = False, space_after: float = 0) -> Any:
    """``text`` in the cell's first (empty) paragraph."""
    paragraph = cell.paragraphs[0]
    _runs(paragraph, text, size=size, bold=bold, italic=italic)
    paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def _runs(paragraph: Any, text: str, *, size: float | None, bold: bool, italic: bool) -> None:
    if not text:
        return
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.bold = bold or None
        run.italic = italic or None
        if size:
            run.font.size = Pt(size)
        if i < len(lines) - 1:
            run.add_break()
