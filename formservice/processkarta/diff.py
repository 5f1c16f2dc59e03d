"""What a new process map changes compared with the one in use, as Swedish lines an admin can
read before taking it into use (Administration → Processkartan). Two version hashes say only
*that* the file changed; a förbund that edits its map needs to see *what* changed, and above all
which rutor disappear, since ärenden may stand on them.

A ruta of the new map is the same ruta as one of the old map when it has the same id or names
that id under `formerly` (a rename); edges are compared after such renames, so renaming a ruta
is reported once and not again as every edge to it removed and added. Pure Python, like the rest
of the wing.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import ProcessMap, Ruta

# The kinds of change, in the order the admin page shows them, with the page's heading for each.
SECTIONS = (
    ("added", "Nya rutor"),
    ("removed", "Borttagna rutor"),
    ("renamed", "Rutor med nytt id"),
    ("title", "Ändrade rubriker och etiketter"),
    ("edge", "Ändrade pilar och villkor"),
    ("note", "Ändrade noteringar"),
    ("content", "Ändrat innehåll i rutor"),
    ("lane", "Ändrade processbanor"),
)
_EDGE_NAMES = {"next": "Nästa-pilen", "yes": "Ja-pilen", "no": "Nej-pilen"}


@dataclass(frozen=True)
class Change:
    kind: str  # one of the keys of SECTIONS
    ruta: str  # the ruta's id in the new map (the old one for a removed ruta); a lane's id for "lane"
    text: str  # one Swedish sentence


@dataclass(frozen=True)
class MapDiff:
    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of_kind(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, lines) for each kind of change that occurs, in the order of SECTIONS."""
        return [(heading, [c.text for c in self.of_kind(kind)]) for kind, heading in SECTIONS
                if self.of_kind(kind)]


def _name(ruta: Ruta) -> str:
    return f"{ruta.id} ({ruta.label}: {ruta.title})"


def _quote(text: str | None) -> str:
    return f"”{text}”" if text else "ingen"


def _counterparts(old: ProcessMap, new: ProcessMap) -> dict[str, str]:
    """old ruta id -> its id in the new map, for every old ruta that is still there."""
    found = {}
    for ruta in new.rutor.values():
        for old_id in (ruta.id, *ruta.formerly):
            if old_id in old.rutor and old.ruta(old_id).id == old_id:
                found.setdefault(old_id, ruta.id)
    return found


def diff_maps(old: ProcessMap, new: ProcessMap) -> MapDiff:
    """Every change from old to new: rutor added, removed or renamed, titles and labels, edges
    (target or condition), notes, guidance, blanketter and lanes."""
    now = _counterparts(old, new)
    was = {new_id: old_id for old_id, new_id in now.items()}
    changes: list[Change] = []
    for ruta in new.rutor.values():
        if ruta.id not in was:
            changes.append(Change("added", ruta.id, f"{_name(ruta)} i banan {new.lane(ruta.lane).title}."))
    for ruta in old.rutor.values():
        if ruta.id not in now:
            changes.append(Change("removed", ruta.id, f"{_name(ruta)} i banan {old.lane(ruta.lane).title}."))
    for old_id, new_id in now.items():
        changes += _ruta_changes(old.ruta(old_id), new.ruta(new_id), now, old, new)
    changes += _lane_changes(old, new)
    order = [kind for kind, _ in SECTIONS]
    return MapDiff(tuple(sorted(changes, key=lambda c: order.index(c.kind))))


def _ruta_changes(a: Ruta, b: Ruta, now: dict[str, str], old: ProcessMap, new: ProcessMap) -> list[Change]:
    out = []
    if a.id != b.id:
        out.append(Change("renamed", b.id, f"{a.id} heter nu {b.id} ({b.label}: {b.title}); "
                                           f"ärenden på {a.id} följer med genom formerly."))
    if a.lane != b.lane:
        out.append(Change("renamed", b.id, f"{b.id} har flyttats från banan {old.lane(a.lane).title} "
                                           f"till {new.lane(b.lane).title}."))
    if a.title != b.title:
        out.append(Change("title", b.id, f"{b.id}: rubriken ”{a.title}” är nu ”{b.title}”."))
    if a.label != b.label and a.id == b.id:  # a new label means a new id, reported as renamed above
        out.append(Change("title", b.id, f"{b.id}: etiketten ”{a.label}” är nu ”{b.label}”."))
    out += _edge_changes(a, b, now, old, new)
    if a.note != b.note:
        out.append(Change("note", b.id, f"{b.id}: noteringen var {_quote(a.note)}, är nu {_quote(b.note)}."))
    if a.guidance != b.guidance:
        out.append(Change("content", b.id, f"{b.id}: handläggarstödets text är ändrad."))
    if a.legal_refs != b.legal_refs:
        out.append(Change("content", b.id, f"{b.id}: lagrummen är ändrade."))
    if a.blanketter != b.blanketter:
        before = ", ".join(a.blankett_ids) or "inga"
        after = ", ".join(b.blankett_ids) or "inga"
        out.append(Change("content", b.id, f"{b.id}: blanketterna var {before}, är nu {after}."))
    if a.kind != b.kind:
        out.append(Change("content", b.id, f"{b.id}: typen var {a.kind}, är nu {b.kind}."))
    return out


def _edge_changes(a: Ruta, b: Ruta, now: dict[str, str], old: ProcessMap, new: ProcessMap) -> list[Change]:
    """Next/Ja/Nej are compared by kind (their target changes); choices and links by target (their
    label, the condition the user reads, changes), since a vägval is known by where it leads."""
    def target(ruta_id: str) -> str:
        return now.get(ruta_id, ruta_id)  # old ids read as the new map names them

    def shown(ruta_id: str) -> str:
        return _name(new.ruta(ruta_id)) if ruta_id in new.rutor else ruta_id

    def was(ruta_id: str) -> str:  # an old target as the old map named it
        return _name(old.ruta(ruta_id)) if ruta_id in old.rutor else ruta_id

    out = []
    if a.decision and b.decision and a.decision.question != b.decision.question:
        out.append(Change("edge", b.id, f"{b.id}: frågan ”{a.decision.question}” är nu ”{b.decision.question}”."))
    old_fixed = {e.kind: target(e.target) for e in a.targets() if e.kind in _EDGE_NAMES}
    old_raw = {e.kind: e.target for e in a.targets() if e.kind in _EDGE_NAMES}
    new_fixed = {e.kind: e.target for e in b.targets() if e.kind in _EDGE_NAMES}
    for kind, name in _EDGE_NAMES.items():
        before, after = old_fixed.get(kind), new_fixed.get(kind)
        if before == after:
            continue
        if before is None:
            out.append(Change("edge", b.id, f"{b.id}: ny {name} till {shown(after)}."))
        elif after is None:
            out.append(Change("edge", b.id, f"{b.id}: {name} till {was(old_raw[kind])} är borttagen."))
        else:
            out.append(Change("edge", b.id, f"{b.id}: {name} går nu till {shown(after)} i stället för {was(old_raw[kind])}."))
    for kind, word in (("choice", "vägvalet"), ("link", "länken")):
        before = {target(e.target): e.label for e in a.targets() if e.kind == kind}
        after = {e.target: e.label for e in b.targets() if e.kind == kind}
        for to, label in after.items():
            if to not in before:
                out.append(Change("edge", b.id, f"{b.id}: nytt {word} ”{label}” till {shown(to)}."
                                  if kind == "choice" else f"{b.id}: ny {word} ”{label}” till {shown(to)}."))
            elif before[to] != label:
                out.append(Change("edge", b.id, f"{b.id}: {word} till {to} heter nu ”{label}” i stället för ”{before[to]}”."))
        for to, label in before.items():
            if to not in after:
                out.append(Change("edge", b.id, f"{b.id}: {word} ”{label}” till {to} är borttaget."
                                  if kind == "choice" else f"{b.id}: {word} ”{label}” till {to} är borttagen."))
    return out


def _lane_changes(old: ProcessMap, new: ProcessMap) -> list[Change]:
    out = []
    old_lanes = {lane.id: lane for lane in old.lanes}
    new_lanes = {lane.id: lane for lane in new.lanes}
    for lane_id, lane in new_lanes.items():
        if lane_id not in old_lanes:
            out.append(Change("lane", lane_id, f"Ny processbana: {lane.title} ({lane_id})."))
            continue
        before = old_lanes[lane_id]
        if before.title != lane.title:
            out.append(Change("lane", lane_id, f"Banan {lane_id}: rubriken ”{before.title}” är nu ”{lane.title}”."))
        if before.note != lane.note:
            out.append(Change("note", lane_id, f"Banan {lane.title}: noteringen var {_quote(before.note)}, "
                                               f"är nu {_quote(lane.note)}."))
        if before.start != lane.start:
            out.append(Change("lane", lane_id, f"Banan {lane.title} börjar nu i {', '.join(lane.start)}."))
    for lane_id, lane in old_lanes.items():
        if lane_id not in new_lanes:
            out.append(Change("lane", lane_id, f"Processbanan {lane.title} ({lane_id}) är borttagen."))
    return out
