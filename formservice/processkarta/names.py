"""What a screen reader says for each ruta on the drawn map: the accessible names of its links.

- One name never leads to two places: rutor that share label and title (every lane's "Slut: Inget
  behov av samordnad rehabilitering just nu") get their lane in the name, as the drawing shows it
  only by position.
- A decision's Ja and Nej are drawn as labels beside the arrows, which the page hides from the
  accessibility tree (as loose words they say nothing); the decision's own name says where each
  answer leads instead.
"""
from __future__ import annotations

from collections import Counter

from .model import ProcessMap, Ruta

KIND_TEXT = {"start": " (start)", "end": " (slut)", "decision": " (beslut, ja eller nej)", "choice": " (vägval)"}


def link_names(pm: ProcessMap) -> dict[str, str]:
    """Ruta id → the name of its link on the map (without an ärende's state, which the page adds)."""
    shared = Counter(_plain(r) for r in pm.rutor.values())
    names = {}
    for rid, r in pm.rutor.items():
        name = _short(pm, r, shared[_plain(r)] > 1) + KIND_TEXT.get(r.kind, "")
        if r.decision:
            name += (f". Ja: {_target(pm, r, r.decision.yes, shared)};"
                     f" Nej: {_target(pm, r, r.decision.no, shared)}")
        names[rid] = name
    return names


def _plain(r: Ruta) -> str:
    return f"{r.label}: {r.title}"


def _short(pm: ProcessMap, r: Ruta, with_lane: bool) -> str:
    if not with_lane:
        return _plain(r)
    lane = pm.lane(r.lane)
    return f"{r.label} (bana {lane.number} · {lane.title}): {r.title}"


def _target(pm: ProcessMap, source: Ruta, target_id: str, shared: Counter) -> str:
    """Where a decision's answer leads, with the lane where that is not the decision's own or where
    the target's label and title alone would be ambiguous."""
    target = pm.ruta(target_id)
    text = f"{target.label}, {target.title}"
    if target.lane != source.lane or shared[_plain(target)] > 1:
        lane = pm.lane(target.lane)
        text += f" (bana {lane.number} · {lane.title})"
    return text
