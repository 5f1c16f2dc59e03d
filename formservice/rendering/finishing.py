"""What is written into a PDF after WeasyPrint has laid it out (its `finisher`): the scope of every
table header cell (PDF/UA), and a fillable PDF's checkbox appearances."""
from __future__ import annotations

from typing import Any

import pydyf


def fillable(document, pdf) -> None:
    scope_header_cells(document, pdf)
    _checkbox_appearances(pdf)


# A cross in the box, inset from its border, in the box's (0 0 w h) space.
_CROSS = "q 0 G {lw:.2f} w 1 J {a:.2f} {a:.2f} m {b:.2f} {c:.2f} l S {a:.2f} {c:.2f} m {b:.2f} {a:.2f} l S Q"


def _checkbox_appearances(pdf) -> None:
    """Every checkbox of a fillable PDF gets an appearance for both its states – a cross for /on
    and an empty box for /Off, /AS and /V agreeing – and what a reader needs to draw the tick
    itself: a reader that redraws the fields (/NeedAppearances, which WeasyPrint sets for its text
    fields; poppler-based readers such as Evince and Okular do) draws a checkbox from /DA and
    /MK /CA, and without them drew no tick. ZapfDingbats "8" is a cross. The form gets resources
    of its own (WeasyPrint shares a page's), so that no page lists the extra font."""
    acroform = pdf.catalog.get("AcroForm")
    if acroform is None:
        return
    by_reference = {obj.reference: obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)}
    changed = False
    streams: dict[tuple[float, float], tuple[Any, Any]] = {}  # boxes of one size share their appearances
    for obj in list(pdf.objects):
        if (not isinstance(obj, pydyf.Dictionary) or obj.get("Subtype") != "/Widget"
                or obj.get("FT") != "/Btn" or int(obj.get("Ff", 0)) & ((1 << 15) | (1 << 16))):
            continue  # not a checkbox (radio buttons and push-buttons keep WeasyPrint's look)
        x0, y0, x1, y1 = (float(v) for v in obj["Rect"])
        size = (round(abs(x1 - x0), 2), round(abs(y1 - y0), 2))
        if size not in streams:
            width, height = size
            inset, line = min(size) * 0.2, max(min(size) * 0.12, 0.8)
            streams[size] = (_form_xobject(pdf, width, height, _CROSS.format(
                lw=line, a=inset, b=width - inset, c=height - inset)), _form_xobject(pdf, width, height, ""))
        on, off = streams[size]
        obj["AP"] = pydyf.Dictionary({"N": pydyf.Dictionary({"on": on.reference, "Off": off.reference})})
        state = "/on" if obj.get("AS") == "/on" else "/Off"
        obj["AS"] = state
        obj["V"] = state
        obj["DA"] = pydyf.String("/ZaDb 0 Tf 0 g")
        obj.setdefault("MK", pydyf.Dictionary())["CA"] = pydyf.String("8")
        changed = True
    if not changed:
        return
    shared = by_reference.get(acroform.get("DR"), acroform.get("DR"))
    fonts = shared.get("Font", pydyf.Dictionary()) if isinstance(shared, pydyf.Dictionary) else {}
    fonts = by_reference.get(fonts, fonts)
    zapf = pydyf.Dictionary({"Type": "/Font", "Subtype": "/Type1", "BaseFont": "/ZapfDingbats"})
    pdf.add_object(zapf)
    acroform["DR"] = pydyf.Dictionary({"Font": pydyf.Dictionary({**fonts, "ZaDb": zapf.reference})})


def _form_xobject(pdf, width: float, height: float, content: str):
    stream = pydyf.Stream([content.encode("ascii")] if content else [], extra={
        "Type": "/XObject", "Subtype": "/Form", "BBox": pydyf.Array((0, 0, width, height)),
        "Resources": pydyf.Dictionary()})
    pdf.add_object(stream)
    return stream


def scope_header_cells(_document, pdf) -> None:
    """Every header cell says what it heads (PDF/UA, WCAG 1.3.1): the column headers are the
    table's THead cells, the row headers (th scope="row") sit in its body. WeasyPrint links data
    cells to their headers but writes no /Scope."""
    by_reference = {obj.reference: obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)}
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("S") == "/TH":
            row = by_reference.get(obj.get("P"))
            group = by_reference.get(row.get("P")) if row is not None else None
            in_head = group is not None and group.get("S") == "/THead"
            obj.setdefault("A", pydyf.Dictionary({"O": "/Table"}))["Scope"] = "/Column" if in_head else "/Row"
