"""The process map as a drawing: where each lane, ruta, arrow and cross-lane link goes.

Pure geometry, deterministic (the same map gives the same drawing), no SVG: the web wing's
template draws what this computes. One horizontal swimlane per lane, read left to right:

- each ruta gets a column by the longest path to it from the lane's start (a layered layout);
  edges that go back (a loop, e.g. "ny bedömning") are found by a depth-first search and drawn
  under the lane instead, so the layers stay a left-to-right reading order;
- an edge that skips columns gets a waypoint in every column it crosses, so it runs between the
  boxes and never through one;
- within a column, items sit at the height of what leads to them (a chain is a straight line)
  and are pushed down only as far as needed not to overlap;
- a link to another lane is not a line across the map (48 of them would cross everything) but a
  chip in the next column with that lane's number and colour: the printed map's "underprocess"
  symbol, a link of its own;
- every box shows its whole title (paper has no hover): a row is as tall as its longest title,
  and on the whole map a lane of fewer columns widens its boxes to the widest lane's width;
- a lane on its own page also gets a `paper` drawing, folded into strips so that it fills a
  landscape sheet instead of a strip of it (bana.html prints that one).

Units are abstract (the SVG's user units): a Style says how big a box is and how large its
text; text is wrapped with Liberation Sans' character widths (the font the page loads).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

from .model import Lane, ProcessMap, Ruta
from .names import link_names


@dataclass(frozen=True)
class Style:
    font: float  # text size in user units
    box_w: float
    gap_x: float  # between columns: the room for arrows and their Ja/Nej
    gap_y: float
    max_lines: int  # title lines at most; a longer title would end in "…" (tests/e2e/test_processkarta_print.py)
    head_w: float  # the lane's title column
    chip_w: float
    chip_h: float
    pad_top: float = 7  # above the first row: room for an ärende's step labels on the lane drawing
    fill_width: bool = False  # a lane of fewer columns widens its boxes to the widest lane's width

    @property
    def line_h(self) -> float:
        return self.font * 1.22

    @property
    def pitch_x(self) -> float:
        return self.box_w + self.gap_x


# The whole map on one A3 landscape sheet with every title whole (paper has no hover and no link
# to read the rest) and text of at least 6 pt: print-a3.css gives the drawing 408 × 258 mm, and
# tests/test_processkarta_drawing.py checks the text size that leaves.
OVERVIEW = Style(font=8.6, box_w=84, gap_x=22, gap_y=8, max_lines=12, head_w=88, chip_w=11.5, chip_h=10,
                 pad_top=4, fill_width=True)
# One lane on its own page: larger boxes, the whole title.
LANE = Style(font=10, box_w=100, gap_x=28, gap_y=16, max_lines=12, head_w=106, chip_w=13, chip_h=11.5,
             pad_top=15)
CHIP_GAP = 1.2

PAD = 3.5  # inner padding of a box
LANE_PAD_BOTTOM = 16  # with loops: the channel where back edges run


# ---------------------------------------------------------------- text
# Advance widths of Liberation Sans (= Arial's metrics) in 1/1000 em, by character; others 556.
_NARROW = dict.fromkeys("ijlI|.,:;'!", 222) | dict.fromkeys("ft()[]/ -", 278) | {"r": 333, "t": 278, " ": 278}
_WIDE = dict.fromkeys("mwMW", 833) | dict.fromkeys("ÅÄÖABCDEGHKNOPQRSUVXYZ&", 690)
_WIDTH = {**_NARROW, **_WIDE, "–": 556, "…": 1000, "?": 556, "F": 611, "J": 500, "L": 556, "T": 611}


def text_width(text: str, font: float, bold: bool = False) -> float:
    return sum(_WIDTH.get(ch, 556) for ch in text) * font / 1000 * (1.06 if bold else 1.0)


def wrap(text: str, width: float, font: float, max_lines: int, first_indent: float = 0.0) -> tuple[str, ...]:
    """Greedy word wrap into at most max_lines lines; a cut text ends in "…". A word longer than a
    line is broken (Swedish has long compounds: "sjukpenninggrundande")."""
    lines: list[str] = []
    current = ""
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        room = width - (first_indent if not lines else 0)
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font) <= room:
            current, i = candidate, i + 1
            continue
        if not current:  # one word wider than the line: break it, after a "/" where one fits
            cut = max(1, next(n for n in range(len(word), 0, -1) if text_width(word[:n] + "-", font) <= room or n == 1))
            slash = word.rfind("/", 0, cut) + 1
            lines.append(word[:slash] if slash else word[:cut] + "-")
            words[i] = word[slash or cut:]
        else:
            lines.append(current)
            current = ""
        if len(lines) == max_lines:
            break
    if current and len(lines) < max_lines:
        lines.append(current)
        current = ""
    if current or i < len(words):  # something did not fit: end the last line in "…"
        last = lines[-1].rstrip("-")
        room = width - (first_indent if len(lines) == 1 else 0)
        while last and text_width(last + "…", font) > room:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return tuple(lines)


# ---------------------------------------------------------------- the drawing
@dataclass(frozen=True)
class Box:
    ruta: Ruta
    x: float
    y: float
    w: float
    h: float
    number: str  # "1a", "Slut"
    lines: tuple[str, ...]
    subprocess: bool  # links to another lane's process (drawn with the sub-process bars)
    individ: bool  # the individ does this step (named first among its actors): a lila mark

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Chip:
    """A link to a ruta in another lane: the target lane's number in its colour."""

    source: str
    target: Ruta
    lane: Lane
    x: float
    y: float
    w: float
    h: float
    label: str  # the edge's label, e.g. the vägval's alternative


@dataclass(frozen=True)
class Wire:
    source: str
    target: str  # a ruta id, or "chip:<source>:<target>" for a chip
    kind: str  # next, yes, no, choice, link, back
    label: str | None  # "Ja"/"Nej", or a vägval's alternative where there is room
    path: str  # SVG path data
    label_x: float = 0
    label_y: float = 0


@dataclass(frozen=True)
class Band:
    lane: Lane
    y: float
    h: float
    title_lines: tuple[str, ...]
    shared: bool  # Finsamteam and Finsam-insatser: the seed's shared areas, not a party's own lane


@dataclass(frozen=True)
class Drawing:
    style: Style
    width: float
    height: float
    bands: tuple[Band, ...]
    boxes: dict[str, Box] = field(default_factory=dict)
    chips: tuple[Chip, ...] = ()
    wires: tuple[Wire, ...] = ()
    names: dict[str, str] = field(default_factory=dict)  # ruta id → its link's name (names.link_names)
    paper: Drawing | None = None  # a lane folded to fill a landscape sheet (bana.html prints it)


def draw(pm: ProcessMap, lanes: tuple[Lane, ...] | None = None, style: Style = OVERVIEW) -> Drawing:
    """The drawing of the given lanes (all by default), one band under the other."""
    lanes = pm.lanes if lanes is None else lanes
    bands, boxes, chips, wires = [], {}, [], []
    y = 0.0
    width = 0.0
    full = max(_LanePlacer(pm, lane, style, 0).width for lane in lanes) if style.fill_width else 0
    for lane in lanes:
        placed = _LanePlacer(pm, lane, style, y)
        if placed.width < full:
            # Wider boxes where the lane has room: fewer lines a title, a lower band, so the whole
            # map with every title whole stays on its sheet (a grid across lanes means nothing).
            columns = max(placed.column.values()) + 1
            box_w = (full - style.head_w - PAD) / columns - style.gap_x
            placed = _LanePlacer(pm, lane, replace(style, box_w=box_w), y)
        title = wrap(lane.title, style.head_w - 3 * PAD, style.font, 5)
        band_h = placed.height
        bands.append(Band(lane, y, band_h, title, lane.id.startswith("finsam")))
        boxes.update(placed.boxes)
        chips += placed.chips
        wires += placed.wires
        width = max(width, placed.width)
        y += band_h
    paper = _folded(pm, lanes[0], style) if len(lanes) == 1 and not style.fill_width else None
    return Drawing(style, width, y, tuple(bands), boxes, tuple(chips), tuple(wires), link_names(pm), paper)


# A landscape sheet's room for the drawing, height / width, under the page's heading and over the
# legend (A3 and A4 have the same proportions: print-a3.css, print-a4.css).
SHEET_RATIO = 0.6
STRIP_GAP = 14  # between the strips of a folded lane: the channel where a wire goes on to the next


def _folded(pm: ProcessMap, lane: Lane, style: Style) -> Drawing:
    """One lane cut into strips of columns, one under the other, as many as bring the drawing
    closest to the sheet's proportions: a long lane of two rows would fill a third of its sheet.
    The text grows with the drawing, so it stays above 6 pt."""
    def misfit(placed: _LanePlacer) -> float:  # the share of the sheet it leaves empty, as a log
        return abs(math.log(placed.height / placed.width / SHEET_RATIO))

    best = min((_LanePlacer(pm, lane, style, 0, strips) for strips in range(1, 5)), key=misfit)
    title = wrap(lane.title, style.head_w - 3 * PAD, style.font, 5)
    return Drawing(style, best.width, best.height, (Band(lane, 0, best.height, title, lane.id.startswith("finsam")),),
                   best.boxes, tuple(best.chips), tuple(best.wires), link_names(pm))


class _LanePlacer:
    """One lane on a grid: columns by longest path, rows chosen so that the longest continuation
    of every ruta stays level with it and side branches take the nearest free row."""

    def __init__(self, pm: ProcessMap, lane: Lane, style: Style, top: float, strips: int = 1):
        self.pm, self.lane, self.s, self.top = pm, lane, style, top
        ids = [r.id for r in lane.rutor]
        inside = set(ids)
        edges = [(r.id, e) for r in lane.rutor for e in r.targets()]
        self.forward = [(src, e) for src, e in edges if e.target in inside]
        self.back = _back_edges(lane, [(src, e.target) for src, e in self.forward])
        dag = [(src, e.target) for src, e in self.forward if (src, e.target) not in self.back]
        self.column = _columns(ids, dag)
        self.crossing: dict[str, list] = defaultdict(list)
        for src, e in edges:
            if e.target not in inside:
                self.crossing[src].append(e)
        self.row = self._rows(ids, dag)
        low = min(self.row.values())
        self.row = {key: r - low for key, r in self.row.items()}
        # Folded (_folded): columns in strips of `per`, each strip under the one before; unfolded, one.
        columns = max(self.column.values()) + 1
        self.per = -(-columns // strips)
        strips = -(-columns // self.per)
        # The whole title in every box; every box of a row is as tall as the row's longest title
        # needs (the row lines up, its arrows run level), a row of short titles stays low. A strip
        # has only the rows it uses.
        self.text = {r.id: _text(r, style, len(self.crossing[r.id])) for r in lane.rutor}
        self.row_h: dict[tuple[int, int], float] = {}  # (strip, row) → height
        for key, (_lines, n) in self.text.items():
            at = (self.column[key] // self.per, self.row[key])
            self.row_h[at] = max(self.row_h.get(at, 0), n * style.line_h + 2 * PAD + 1)
        self.pad_bottom = LANE_PAD_BOTTOM if self.back else 7
        self.strip_h = [style.pad_top + self._above(strip, max(self.row.values()) + 1) - style.gap_y + self.pad_bottom
                        for strip in range(strips)]
        self.height = sum(self.strip_h) + (strips - 1) * STRIP_GAP
        # Folded, a wider margin before the first column: a wire from the strip above comes down it
        # and its Ja/Nej stands there, before the box it leads to.
        self.lead = style.gap_x / 2 if strips == 1 else style.gap_x * 1.25
        self.width = style.head_w + self.lead + self.per * style.pitch_x - style.gap_x / 2 + PAD
        self.boxes: dict[str, Box] = {}
        self.chips: list[Chip] = []
        self.wires: list[Wire] = []
        self._emit()

    def _rows(self, ids: list[str], dag: list[tuple[str, str]]) -> dict[str, int]:
        succs: dict[str, list[str]] = defaultdict(list)
        preds: dict[str, list[str]] = defaultdict(list)
        for a, b in dag:
            succs[a].append(b)
            preds[b].append(a)
        rest: dict[str, int] = {}
        for node in sorted(ids, key=lambda n: -self.column[n]):  # sinks first
            rest[node] = max((rest[b] + 1 for b in succs[node]), default=0)
        # The successor a ruta continues into: the one with the longest way still to go.
        primary = {a: max(bs, key=lambda b: (rest[b], -bs.index(b))) for a, bs in succs.items() if bs}
        order = {node: n for n, node in enumerate(ids)}
        row: dict[str, int] = {}
        taken: dict[int, set[int]] = defaultdict(set)
        items = [(self.column[n], n) for n in ids]
        for column in sorted({c for c, _ in items}):
            here = [key for c, key in items if c == column]

            def wish(key: str) -> tuple[int, int]:  # (desired row, priority: lower goes first)
                placed = [p for p in preds[key] if p in row]
                # Level with the nearest ruta that continues into this one (a chain stays straight).
                leading = [p for p in placed if primary.get(p) == key]
                if leading:
                    return row[max(leading, key=lambda p: (self.column[p], -row[p]))], 0
                return (min(row[p] for p in placed), 1) if placed else (0, 1)

            for key in sorted(here, key=lambda k: (wish(k)[1], -rest.get(k, 0), order.get(k, 0))):
                want = wish(key)[0]
                for step in range(0, 2 * len(items) + 2):
                    # nearest free row: want, want+1, want-1, want+2, …
                    candidate = want + (step + 1) // 2 * (1 if step % 2 else -1) if step else want
                    if candidate not in taken[column]:
                        break
                row[key] = candidate
                taken[column].add(candidate)
        return row

    def _x(self, column: int) -> float:
        return self.s.head_w + self.lead + column % self.per * self.s.pitch_x

    def _above(self, strip: int, row: int) -> float:
        """The height of a strip's rows above `row`, each with the gap under it."""
        return sum(h + self.s.gap_y for (s, r), h in self.row_h.items() if s == strip and r < row)

    def _strip_top(self, column: int) -> float:
        strip = column // self.per
        return self.top + sum(self.strip_h[:strip]) + strip * STRIP_GAP

    def _strip_bottom(self, column: int) -> float:
        return self._strip_top(column) + self.strip_h[column // self.per]

    def _y(self, row: int, column: int) -> float:
        return self._strip_top(column) + self.s.pad_top + self._above(column // self.per, row)

    # -- output
    def _emit(self) -> None:
        s = self.s
        for r in self.lane.rutor:
            column, row = self.column[r.id], self.row[r.id]
            self.boxes[r.id] = Box(r, self._x(column), self._y(row, column), s.box_w,
                                   self.row_h[column // self.per, row], _number(r), self.text[r.id][0],
                                   bool(r.links), r.actors[:1] == ("individ",))
        for src, e in self.forward:
            if (src, e.target) in self.back:
                self.wires.append(self._back_wire(src, e))
            else:
                self.wires.append(self._forward_wire(src, e))
        for src, outs in self.crossing.items():
            # On the box's last line, from the right: the printed map's sub-process symbol.
            box = self.boxes[src]
            y = box.y + box.h - PAD - s.chip_h
            for n, e in enumerate(outs):
                target = self.pm.ruta(e.target)
                x = box.x + box.w - PAD - (n + 1) * s.chip_w - n * CHIP_GAP
                self.chips.append(Chip(src, target, self.pm.lane(target.lane), x, y, s.chip_w, s.chip_h, e.label))

    def _forward_wire(self, src: str, edge) -> Wire:
        s = self.s
        box, to = self.boxes[src], self.boxes[edge.target]
        sx, sy = box.x + box.w, box.cy
        tx, ty = to.x, to.cy
        label = _edge_label(edge)
        if self.column[src] // self.per != self.column[edge.target] // self.per:
            # On to a later strip: out between the rows to the strip's right end, down the gap
            # under the strip, back to its left end and into the box.
            right = self.width - PAD
            left = s.head_w + 5
            between = box.y + box.h + s.gap_y / 2
            under = self._strip_bottom(self.column[src]) + STRIP_GAP / 2
            path = (f"M{sx:.1f},{sy:.1f} " + _c(sx, sy, sx + s.gap_x / 2, between) + f" H{right:.1f} V{under:.1f}"
                    f" H{left:.1f} V{ty:.1f} H{tx:.1f}")
            return Wire(src, edge.target, edge.kind, label, path, tx - 3, ty - 2.5)
        if self.column[edge.target] - self.column[src] == 1:
            path = _curve(sx, sy, tx, ty)
        else:
            # Over several columns: along the gap between two rows, never through a box.
            rs = self.row[src]
            channel = (box.y + box.h + s.gap_y / 2) if self.row[edge.target] > rs else (box.y - s.gap_y / 2)
            if self.row[edge.target] == rs:
                channel = box.y + box.h + s.gap_y / 2
            turn_in = tx - s.gap_x / 2
            path = (f"M{sx:.1f},{sy:.1f} " + _c(sx, sy, sx + s.gap_x / 2, channel) + f" H{turn_in:.1f} "
                    + _c(turn_in, channel, tx, ty))
        return Wire(src, edge.target, edge.kind, label, path, tx - 5, ty - 2.5)

    def _back_wire(self, src: str, edge) -> Wire:
        """A loop back: down into the channel under the lane, left, up into the earlier box."""
        box, to = self.boxes[src], self.boxes[edge.target]
        channel = self._strip_bottom(self.column[src]) - self.pad_bottom / 2
        x0 = box.cx
        if self.column[src] // self.per != self.column[edge.target] // self.per:
            # Back to an earlier strip (folded): up the left end into that strip's channel.
            left = self.s.head_w + 5
            up = self._strip_bottom(self.column[edge.target]) - self.pad_bottom / 2
            path = f"M{x0:.1f},{box.y + box.h:.1f} V{channel:.1f} H{left:.1f} V{up:.1f} H{to.cx:.1f} V{to.y + to.h:.1f}"
        else:
            path = f"M{x0:.1f},{box.y + box.h:.1f} V{channel:.1f} H{to.cx:.1f} V{to.y + to.h:.1f}"
        return Wire(src, edge.target, "back", _edge_label(edge), path, x0 + 3 + text_width("Nej", self.s.font),
                    box.y + box.h + self.s.font)


def _text(r: Ruta, s: Style, chips: int) -> tuple[tuple[str, ...], int]:
    """The box's text and the lines of height it needs: the ruta's number in bold, then its title,
    wrapped. Chips to other lanes sit at the bottom right, beside the last line where it leaves
    room for them, else on a line of their own."""
    indent = text_width(_number(r) + " ", s.font, bold=True)
    inner = s.box_w - 2 * PAD - (12 if r.kind in ("decision", "choice") else 0)
    lines = wrap(r.title, inner, s.font, s.max_lines, first_indent=indent)
    if not chips:
        return lines, len(lines)
    last = text_width(lines[-1], s.font) + (indent if len(lines) == 1 else 0)
    room = inner - (2 if r.links else 0) - last - 2  # sub-process bars; a little air before the chips
    return lines, len(lines) + (room < chips * s.chip_w + (chips - 1) * CHIP_GAP)


def _c(x1: float, y1: float, x2: float, y2: float) -> str:
    """From the current point (x1, y1) to (x2, y2): straight when level, an S-curve otherwise."""
    if abs(y2 - y1) < 0.5:
        return f"H{x2:.1f}"
    dx = (x2 - x1) / 2
    return f"C{x1 + dx:.1f},{y1:.1f} {x2 - dx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    return f"M{x1:.1f},{y1:.1f} " + _c(x1, y1, x2, y2)


def _edge_label(edge) -> str | None:
    if edge.kind == "yes":
        return "Ja"
    if edge.kind == "no":
        return "Nej"
    return None


def _number(r: Ruta) -> str:
    return r.label.removeprefix("Ruta ").strip()


def _back_edges(lane: Lane, edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle, found by a depth-first search from the lane's starts (then from
    any ruta not reached), children in the order the file gives them."""
    children: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        children[a].append(b)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in [*lane.start, *(r.id for r in lane.rutor)]:
        if root in state:
            continue
        stack = [(root, iter(children[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            child = next(it, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(children[child])))
    return back


def _columns(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering of an acyclic edge set: a ruta sits one column after the last thing
    that leads to it."""
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
    column: dict[str, int] = {}

    def depth(node: str, seen: frozenset = frozenset()) -> int:
        if node not in column:
            column[node] = max((depth(p, seen | {node}) + 1 for p in preds[node] if p not in seen), default=0)
        return column[node]

    for node in ids:
        depth(node)
    return column


# ---------------------------------------------------------------- an ärende's way on the map
_MONTHS = ("jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec")


@dataclass(frozen=True)
class Walk:
    """Where an ärende has been: the marks a Drawing is drawn with (see _karta.html)."""

    steps: dict[str, list[tuple[int, str]]]  # ruta id -> [(step number, "3 nov"), …]
    current: str | None
    edges: frozenset[tuple[str, str]]  # (from, to) of each move
    lanes: tuple[str, ...]  # the lanes it has been in, in the order it came to them


def walk(pm: ProcessMap, moves, current: str | None) -> Walk:
    """The ärende's way from its history: ``moves`` are (date, from ruta, to ruta), oldest first;
    a step is every arrival at a ruta other than the one it stood on. Rutor the map no longer has
    are left out (the history keeps them as text)."""
    steps: dict[str, list[tuple[int, str]]] = defaultdict(list)
    edges: set[tuple[str, str]] = set()
    lanes: list[str] = []
    here, n = None, 0
    for when, _from, to in moves:
        if not to or to == here or to not in pm.rutor:
            continue
        n += 1
        steps[to].append((n, f"{when.day} {_MONTHS[when.month - 1]}"))
        if here in pm.rutor:
            edges.add((here, to))
        lane = pm.rutor[to].lane
        if lane not in lanes:
            lanes.append(lane)
        here = to
    if current in pm.rutor and pm.rutor[current].lane not in lanes:
        lanes.append(pm.rutor[current].lane)
    return Walk(dict(steps), current, frozenset(edges), tuple(lanes))
