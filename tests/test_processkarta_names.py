"""The drawn map's link names (processkarta.names): unique per ruta, decisions say where Ja and Nej lead."""
from __future__ import annotations

from formservice.blanketter.catalogue import load_catalogue
from formservice.processkarta import names

PM = load_catalogue().process_map


def test_no_two_rutor_share_a_name():
    by_name: dict[str, list[str]] = {}
    for ruta_id, name in names.link_names(PM).items():
        by_name.setdefault(name, []).append(ruta_id)
    assert {n: ids for n, ids in by_name.items() if len(ids) > 1} == {}


def test_rutor_with_the_same_label_and_title_are_named_with_their_lane():
    plain = {}
    for r in PM.rutor.values():
        plain.setdefault(f"{r.label}: {r.title}", []).append(r)
    shared = [rs for rs in plain.values() if len(rs) > 1]
    assert shared, "the map has no shared names any more: this test checks nothing"
    link_names = names.link_names(PM)
    for rs in shared:
        for r in rs:
            lane = PM.lane(r.lane)
            assert link_names[r.id].startswith(f"{r.label} (bana {lane.number} · {lane.title}): {r.title}")


def test_a_decision_says_where_ja_and_nej_lead():
    link_names = names.link_names(PM)
    decisions = [r for r in PM.rutor.values() if r.decision]
    assert decisions
    for r in decisions:
        yes, no = PM.ruta(r.decision.yes), PM.ruta(r.decision.no)
        name = link_names[r.id]
        assert f"Ja: {yes.label}, {yes.title}" in name and f"Nej: {no.label}, {no.title}" in name, name
        assert name.index("Ja:") < name.index("Nej:")
