"""Horizontal bar charts for the follow-up tables, as geometry for an SVG drawn on the server
(templates/documents/_diagram.html). One bar per row, its length the published (rounded) number; a
median hidden over a small group is drawn as an outlined stub with its text, never as a length."""
from __future__ import annotations

from dataclasses import dataclass

from .rapport import Table

LABEL_W = 320
BAR_W = 360
ROW_H = 22
PAD = 6
MAX_LABEL_CHARS = 44


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    length: float  # 0 for a hidden or empty value
    text: str
    suppressed: bool
    marker: float | None = None  # the 75th percentile on a duration chart


@dataclass(frozen=True)
class Chart:
    title: str
    width: float
    height: float
    label_w: float
    bars: tuple[Bar, ...]
    unit: str


def chart(table: Table) -> Chart | None:
    rows = [r for r in table.rows if r.cells]
    if not rows or table.chart == "none":
        return None
    values = []
    for r in rows:
        first = r.cells[1] if table.chart == "durations" else r.cells[0]
        values.append(_number(first))
    markers = [_number(r.cells[2]) if table.chart == "durations" else None for r in rows]
    top = max([v for v in values + markers if v is not None] + [1])
    bars = []
    for n, (r, v, m) in enumerate(zip(rows, values, markers)):
        shown = r.cells[1] if table.chart == "durations" else r.cells[0]
        if getattr(shown, "suppressed", False):
            text = str(shown)  # "dold (liten grupp)", or "–" where nothing was counted
        elif table.chart == "durations":
            text = f"{_text(v, table.unit)} (75 %: {_text(m, table.unit)})"
        else:
            text = _text(v, table.unit)
        label = r.label if len(r.label) <= MAX_LABEL_CHARS else r.label[:MAX_LABEL_CHARS - 1] + "…"
        bars.append(Bar(label, PAD + n * ROW_H, 0 if v is None else BAR_W * v / top, text, v is None,
                        None if m is None else BAR_W * m / top))
    return Chart(table.title, LABEL_W + BAR_W + 130, 2 * PAD + len(rows) * ROW_H, LABEL_W, tuple(bars), table.unit)


def _number(cell) -> float | None:
    if cell is None or getattr(cell, "suppressed", False):
        return None
    value = getattr(cell, "value", cell)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(v: float | None, unit: str) -> str:
    if v is None:
        return "–"
    return f"{int(v):,}".replace(",", " ") + (" d" if unit == "dagar" else "")
