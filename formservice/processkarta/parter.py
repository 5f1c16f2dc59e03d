"""Vem gör vad nu: several parties' current positions on one drawn map.

In samverkan one individ has an ärende at several parties (socialtjänsten, the vårdcentral, the
Finsamteam, Försäkringskassan), each standing on a ruta of its own lane. This module says where
each party stands and where its marker goes on a layout.Drawing; the web wing's template
(_parter.html) draws it, and lists the same positions as text.

Marking does not rest on colour alone (WCAG 1.4.1): each position has a text marker drawn on the
ruta's top edge, "Ni" for the viewer's own ärende (a square flag) and a number for every other
party (a round badge), the same marker the text list shows. Numbers follow the drawing's reading
order (lane by lane, ruta by ruta), so "1, 2, 3" read top to bottom on the map.

Pure Python: no flask, no database (the caller turns its ärenden into Positions).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .layout import Drawing, text_width
from .model import Lane, ProcessMap, Ruta

OWN_MARKER = "Ni"


@dataclass(frozen=True)
class Position:
    """One party's ärende: the ruta it stands on, the party's name as shown, since when."""

    ruta_id: str
    party: str  # "Vårdcentral Demo (Region Stockholm)"
    since: date | None = None
    own: bool = False  # the viewer's own ärende


@dataclass(frozen=True)
class Placed:
    """A position resolved against the map: ruta and lane are None when the map lacks the ruta
    (it is listed as text, not drawn), and so is its marker."""

    position: Position
    ruta: Ruta | None
    lane: Lane | None
    marker: str | None  # "Ni", "1", "2", …

    @property
    def ruta_id(self) -> str:
        return self.position.ruta_id

    @property
    def party(self) -> str:
        return self.position.party

    @property
    def own(self) -> bool:
        return self.position.own

    @property
    def since(self) -> str:
        """ISO date (ÅÅÅÅ-MM-DD), or "" when not known."""
        since = self.position.since
        if since is None:
            return ""
        return (since.date() if isinstance(since, datetime) else since).isoformat()

    @property
    def on_map(self) -> bool:
        return self.ruta is not None


@dataclass(frozen=True)
class Marker:
    """A marker's badge in the drawing's user units: a round badge, or a square flag for "Ni"."""

    placed: Placed
    x: float
    y: float
    w: float
    h: float

    @property
    def text(self) -> str:
        return self.placed.marker or ""

    @property
    def own(self) -> bool:
        return self.placed.own


@dataclass(frozen=True)
class Parties:
    """The positions in list order (own first, then the map's reading order, then those not on the
    map), the lanes to draw (map order) and, once placed on a drawing, each ruta's markers."""

    placed: tuple[Placed, ...]
    lanes: tuple[str, ...]
    markers: dict[str, tuple[Marker, ...]]  # ruta id → its markers, left to right

    def __iter__(self):
        return iter(self.placed)

    def __len__(self) -> int:
        return len(self.placed)

    def at(self, ruta_id: str) -> tuple[Placed, ...]:
        return tuple(p for p in self.placed if p.ruta is not None and p.ruta_id == ruta_id)

    @property
    def off_map(self) -> tuple[Placed, ...]:
        return tuple(p for p in self.placed if p.ruta is None)


def position(item) -> Position:
    """A Position from a Position, an object with ruta_id, party, since, own, or a tuple
    (ruta_id, party, since[, own])."""
    if isinstance(item, Position):
        return item
    if hasattr(item, "ruta_id"):
        return Position(item.ruta_id, item.party, getattr(item, "since", None), bool(getattr(item, "own", False)))
    ruta_id, party, since, *rest = item
    return Position(ruta_id, party, since, bool(rest[0]) if rest else False)


def place(pm: ProcessMap, positions) -> Parties:
    """The positions resolved against the map, with markers numbered in reading order; no
    geometry yet (see marked)."""
    lane_order = {lane.id: n for n, lane in enumerate(pm.lanes)}
    ruta_order = {r.id: n for lane in pm.lanes for n, r in enumerate(lane.rutor)}
    given = [position(p) for p in positions]

    def order(item: tuple[int, Position]) -> tuple:
        n, p = item
        r = pm.rutor.get(p.ruta_id)
        if r is None:
            return (2, 0, 0, n)
        return (0 if p.own else 1, lane_order[r.lane], ruta_order[r.id], n)

    placed, number = [], 0
    for _n, p in sorted(enumerate(given), key=order):
        r = pm.rutor.get(p.ruta_id)
        marker = None
        if r is not None:
            if p.own:
                marker = OWN_MARKER
            else:
                number += 1
                marker = str(number)
        placed.append(Placed(p, r, pm.lane(r.lane) if r else None, marker))
    drawn = {p.ruta.lane for p in placed if p.ruta is not None}
    lanes = tuple(lane.id for lane in pm.lanes if lane.id in drawn)
    return Parties(tuple(placed), lanes, {})


MARKER_GAP = 2.0


def marked(parties: Parties, d: Drawing) -> Parties:
    """The markers' places on the drawing: a row of badges on each marked box's top edge, from its
    left end ("Ni" first), standing above it so that they never cover the box's text (the LANE
    style leaves room above the first row and between rows)."""
    font = d.style.font
    h = round(font * 1.3, 1)
    markers: dict[str, tuple[Marker, ...]] = {}
    for rid, box in d.boxes.items():
        here = parties.at(rid)
        if not here:
            continue
        x = box.x + (h / 2 if box.ruta.kind in ("start", "end") else 2)
        row = []
        for p in here:
            w = max(h, round(text_width(p.marker or "", font * 0.95, bold=True) + 0.8 * font, 1))
            row.append(Marker(p, round(x, 1), round(box.y - h + 3, 1), w, h))
            x += w + MARKER_GAP
        markers[rid] = tuple(row)
    return Parties(parties.placed, parties.lanes, markers)
