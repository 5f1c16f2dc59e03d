"""Vem gör vad nu (processkarta.parter, web.processkarta.parties_map, _parter.html): several
parties' current positions on one drawn map, marked with text, and the same as a table."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest

from formservice.processkarta import layout, parter
from formservice.web.processkarta import parties_map

MACRO = ('{% from "web/processkarta/_parter.html" import parter_karta %}'
         '{{ parter_karta(d, parties, "Vem gör vad nu") }}')


@pytest.fixture
def process_map(app):
    return app.extensions["catalogue"].process_map


def _step(pm, lane_id: str, n: int = 1):
    """A ruta of the lane taken from the map (a förbund may renumber its rutor)."""
    return pm.lane(lane_id).rutor[min(n, len(pm.lane(lane_id).rutor) - 1)]


@pytest.fixture
def positions(process_map):
    """Given out of map order on purpose: the drawing and the numbers follow the map."""
    return [
        parter.Position(_step(process_map, "finsamteam").id, "Finsamteam Demo", date(2026, 11, 20)),
        parter.Position(_step(process_map, "hsv", 2).id, "Vårdcentral Demo (Region Stockholm)", date(2026, 11, 3)),
        parter.Position(_step(process_map, "soc1", 3).id, "Socialtjänsten Demo", date(2026, 10, 1), own=True),
        parter.Position("hsv.99-finns-inte", "Försäkringskassan", date(2026, 11, 28)),
    ]


def _render(app, d, parties) -> str:
    with app.test_request_context("/"):
        return app.jinja_env.from_string(MACRO).render(d=d, parties=parties)


def _svg(html: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))


def test_drawing_has_exactly_the_lanes_of_the_positions_in_map_order(process_map, positions):
    d, parties = parties_map(process_map, positions)
    order = [lane.id for lane in process_map.lanes]
    assert [b.lane.id for b in d.bands] == sorted(["soc1", "hsv", "finsamteam"], key=order.index)
    assert d.style == layout.LANE
    assert {box.ruta.lane for box in d.boxes.values()} == {"soc1", "hsv", "finsamteam"}
    assert parties.lanes == tuple(b.lane.id for b in d.bands)


def test_markers_own_first_then_in_the_maps_reading_order(process_map, positions):
    _d, parties = parties_map(process_map, positions)
    assert [(p.party, p.marker) for p in parties] == [
        ("Socialtjänsten Demo", "Ni"),
        ("Vårdcentral Demo (Region Stockholm)", "1"),
        ("Finsamteam Demo", "2"),
        ("Försäkringskassan", None),  # not on the map: listed last, no marker
    ]
    assert [p.since for p in parties] == ["2026-10-01", "2026-11-03", "2026-11-20", "2026-11-28"]


def test_unknown_ruta_is_returned_but_not_drawn(process_map, positions):
    d, parties = parties_map(process_map, positions)
    (missing,) = parties.off_map
    assert missing.ruta_id == "hsv.99-finns-inte" and missing.ruta is None and missing.lane is None
    assert "hsv.99-finns-inte" not in d.boxes and "hsv.99-finns-inte" not in parties.markers
    assert set(parties.markers) == {p.ruta_id for p in positions[:3]}


def test_markers_stand_on_their_box_and_cover_no_other_box(process_map, positions):
    d, parties = parties_map(process_map, positions)
    for rid, markers in parties.markers.items():
        box = d.boxes[rid]
        for m in markers:
            assert m.y >= 0 and m.x + m.w <= d.width
            assert m.y < box.y < m.y + m.h <= box.y + 4  # on the top edge, above the title's text
            assert box.x <= m.x and m.x + m.w <= box.x + box.w
            for other_id, other in d.boxes.items():
                if other_id != rid:
                    assert not (m.x < other.x + other.w and other.x < m.x + m.w
                                and m.y < other.y + other.h and other.y < m.y + m.h), (rid, other_id)


def test_several_parties_on_one_ruta_get_markers_side_by_side(process_map):
    rid = _step(process_map, "soc1", 3).id
    d, parties = parties_map(process_map, [(rid, "Socialtjänsten Demo", date(2026, 10, 1), True),
                                           (rid, "Jobbtorg Demo", datetime(2026, 10, 5, 9, 30))])
    ni, one = parties.markers[rid]
    assert (ni.text, one.text) == ("Ni", "1")
    assert ni.x + ni.w < one.x
    assert parties.placed[1].since == "2026-10-05"  # a datetime is shown as its date
    assert [b.lane.id for b in d.bands] == ["soc1"]


def test_no_position_on_the_map_gives_no_drawing_but_the_list(app, process_map):
    d, parties = parties_map(process_map, [("borttagen.1", "Arbetsförmedlingen", date(2026, 9, 1))])
    assert d is None and len(parties) == 1
    html = _render(app, d, parties)
    assert "<svg" not in html and "Arbetsförmedlingen" in html and "borttagen.1" in html
    assert "Ingen av parternas rutor finns i processkartan." in html


def test_macro_lists_every_party_with_ruta_and_date(app, process_map, positions):
    d, parties = parties_map(process_map, positions)
    html = _render(app, d, parties)
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    rows = re.findall(r"<tr.*?</tr>", re.search(r"<tbody>.*?</tbody>", table, re.S).group(0), re.S)
    assert len(rows) == 4
    assert "<caption>Vem gör vad nu</caption>" in table
    assert re.findall(r'<th scope="col">(.*?)</th>', table) == ["Markering", "Part", "Ruta", "Sedan"]
    for row, p in zip(rows, parties):
        assert f'<th scope="row">{p.party}' in row.replace("&#34;", '"')
        assert f'<time datetime="{p.since}">{p.since}</time>' in row
        if p.ruta:
            assert f">{p.marker}</span>" in row
            assert f'<a href="/processkarta/{p.ruta_id}">{p.ruta.label}: {p.ruta.title}</a>' in row
            assert f"{p.lane.number}. {p.lane.title}" in row
        else:
            assert "Ej i kartan" in row and p.ruta_id in row and "finns inte i processkartan" in row
    assert "(ert ärende)" in rows[0] and "parter-markering--egen" in rows[0]
    # The drawing sits in a scrollable region that a keyboard can reach, as on the ärende page.
    assert re.search(r'<div class="karta-ram" role="region" aria-label="Vem gör vad nu, ritad" tabindex="0" data-scroll-to=".is-egen, .is-part">', html)


def test_each_marked_ruta_shows_its_marker_text_and_says_who_stands_there(app, process_map, positions):
    d, parties = parties_map(process_map, positions)
    svg = _svg(_render(app, d, parties))
    assert svg.get("role") == "group" and svg.get("aria-labelledby") == "karta-parter-t karta-parter-d"
    assert svg.find("title").text == "Vem gör vad nu"
    assert svg.find("desc").text.startswith("3 parter i 3 processbanor.")
    markers = [g for g in svg.iter("g") if "parter__markering" in g.get("class", "")]
    assert sorted(g.find("text").text for g in markers) == ["1", "2", "Ni"]
    assert all(g.get("aria-hidden") == "true" for g in markers)
    # The own position differs by shape (a square flag against round badges) as well as by text.
    own = next(g for g in markers if g.find("text").text == "Ni")
    assert "parter__markering--egen" in own.get("class") and own.find("rect").get("rx") == "0"
    assert all(float(g.find("rect").get("rx")) > 0 for g in markers if g is not own)
    links = {a.get("href").rsplit("/", 1)[1]: a for a in svg.iter("a") if "karta__ruta" in a.get("class", "")}
    assert set(links) == set(d.boxes)
    for p in list(parties)[:3]:
        a = links[p.ruta_id]
        assert a.get("aria-label").startswith(d.names[p.ruta_id])
        who = f"Ni (ert ärende): {p.party}" if p.own else f"markering {p.marker}: {p.party}"
        assert f"Står här: {who}, sedan {p.since}" in a.get("aria-label")
        assert ("is-egen" if p.own else "is-part") in a.get("class").split()
    unmarked = [a for rid, a in links.items() if rid not in parties.markers]
    assert unmarked and not any("Står här" in a.get("aria-label") for a in unmarked)
    headings = [t.get("aria-label") for t in svg.iter("text") if t.get("role") == "heading"]
    assert len(headings) == 3 and all(t.get("aria-level") == "3" for t in svg.iter("text") if t.get("role"))


def test_tuples_and_objects_are_positions_too(process_map):
    class Stand:
        def __init__(self, ruta_id, party, since, own=False):
            self.ruta_id, self.party, self.since, self.own = ruta_id, party, since, own

    rid = _step(process_map, "fk").id
    _d, a = parties_map(process_map, [(rid, "Försäkringskassan", date(2026, 1, 2), False)])
    _d, b = parties_map(process_map, [Stand(rid, "Försäkringskassan", date(2026, 1, 2))])
    assert a.placed == b.placed and a.placed[0].marker == "1"


def test_marker_colours_meet_contrast_minimums():
    """Marker text ≥ 4.5:1 on its badge; badge shapes and the marked frames ≥ 3:1 on white."""
    css = (Path(__file__).resolve().parent.parent / "formservice/static/css/processkarta.css").read_text("utf-8")

    def luminance(hex_colour: str) -> float:
        hex_colour = hex_colour if len(hex_colour) == 7 else "#" + "".join(c * 2 for c in hex_colour[1:])
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    def contrast(a: str, b: str) -> float:
        la, lb = sorted((luminance(a), luminance(b)), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    def rule(selector: str, prop: str) -> str:
        body = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css).group(1)
        return re.search(rf"(?:^|;|\s){prop}:\s*(#[0-9a-fA-F]{{6}}|#[0-9a-fA-F]{{3}})\b", body).group(1)

    text = rule(".parter__markering text", "fill")
    for badge in (rule(".parter__markering rect", "fill"), rule(".parter__markering--egen rect", "fill")):
        assert contrast(text, badge) >= 4.5
        assert contrast(badge, "#ffffff") >= 3 and contrast(badge, "#e4cdf0") >= 3
    assert contrast(rule(".karta .is-part .karta__form", "stroke"), "#ffffff") >= 3
    assert contrast(rule(".karta .is-egen .karta__form", "stroke"), "#ffffff") >= 3
    assert contrast("#1b1b1b", rule(".karta .is-egen .karta__form", "fill")) >= 4.5  # the box's title
