"""The drawn process map (processkarta.layout + _karta.html): geometry, pages, public mode."""
from __future__ import annotations

import re
from datetime import date

import pytest

from formservice.blanketter.catalogue import load_catalogue
from formservice.processkarta import layout

PM = load_catalogue().process_map
MM_PER_PT = 25.4 / 72
# The print CSS (static/css/print-a3.css, print-a4.css): the drawing's box on the sheet.
A3_BOX_MM, A4_BOX_MM = (408, 258), (285, 170)


def _overlap(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _smallest_text_pt(d: layout.Drawing, box_mm) -> float:
    mm_per_unit = min(box_mm[0] / d.width, box_mm[1] / d.height)
    return d.style.font * mm_per_unit / MM_PER_PT


def test_every_ruta_has_a_box_inside_its_lane_and_no_boxes_overlap():
    d = layout.draw(PM)
    assert set(d.boxes) == set(PM.rutor)
    bands = {b.lane.id: b for b in d.bands}
    boxes = list(d.boxes.values())
    for box in boxes:
        band = bands[box.ruta.lane]
        assert band.y <= box.y and box.y + box.h <= band.y + band.h, box.ruta.id
        assert box.x >= d.style.head_w and box.x + box.w <= d.width
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a, b), (a.ruta.id, b.ruta.id)


def test_every_transition_is_drawn_an_arrow_or_a_chip():
    d = layout.draw(PM)
    wires = {(w.source, w.target) for w in d.wires}
    chips = {(c.source, c.target.id) for c in d.chips}
    for r in PM.rutor.values():
        for e in r.targets():
            same_lane = PM.ruta(e.target).lane == r.lane
            assert (r.id, e.target) in (wires if same_lane else chips), (r.id, e.target, e.kind)
    labels = {(w.source, w.target): w.label for w in d.wires}
    # Ids from the map, not "soc1.5 → soc1.7": the förbund may move the decision (the Skärholmen edit does).
    asked = next(r for r in PM.lane("soc1").rutor if r.decision and r.decision.question == "Finns läkarintyg?")
    assert labels[(asked.id, asked.decision.yes)] == "Ja" and labels[(asked.id, asked.decision.no)] == "Nej"
    # The loop back in hälso- och sjukvården (4 → 3, "Nej") runs under the lane.
    assert any(w.kind == "back" and (w.source, w.target) == ("hsv.4", "hsv.3") for w in d.wires)


def test_chips_sit_inside_their_ruta_box():
    d = layout.draw(PM)
    for chip in d.chips:
        box = d.boxes[chip.source]
        assert box.x <= chip.x and chip.x + chip.w <= box.x + box.w and box.y <= chip.y <= box.y + box.h


def test_a_chain_is_a_straight_line_and_columns_read_left_to_right():
    d = layout.draw(PM)
    b = d.boxes
    chain = ["soc1.2"]  # 2 → 3 → 4 → 5 in the shipped map; followed by "next" so an edited map holds too
    while PM.ruta(chain[-1]).next and len(chain) < 4:
        chain.append(PM.ruta(chain[-1]).next)
    assert len(chain) >= 3 and len({b[ruta_id].y for ruta_id in chain}) == 1, chain  # one row
    for r in PM.rutor.values():
        for e in r.targets():
            if PM.ruta(e.target).lane == r.lane and (r.id, e.target) != ("hsv.4", "hsv.3") \
                    and (r.id, e.target) != ("finsamteam.9", "finsamteam.6"):
                assert b[e.target].x > b[r.id].x, (r.id, e.target)


def test_the_layout_is_deterministic():
    assert layout.draw(PM) == layout.draw(load_catalogue().process_map)


def test_the_whole_map_prints_on_one_a3_sheet_with_text_of_at_least_6_pt():
    assert _smallest_text_pt(layout.draw(PM), A3_BOX_MM) >= 6.0


@pytest.mark.parametrize("lane_id", [lane.id for lane in PM.lanes])
def test_each_lane_prints_on_one_sheet_with_text_of_at_least_6_pt(lane_id):
    from formservice.web.processkarta import A4_WIDTH

    d = layout.draw(PM, (PM.lane(lane_id),), layout.LANE)
    sheet = A4_BOX_MM if d.width <= A4_WIDTH else A3_BOX_MM
    assert _smallest_text_pt(d, sheet) >= 6.0


def test_wrap_breaks_long_words_and_marks_a_cut():
    lines = layout.wrap("Individ som saknar sjukpenninggrundande inkomst kontaktar Socialtjänsten", 70, 8.6, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(layout.text_width(line, 8.6) <= 70.5 for line in lines)
    assert layout.wrap("Kartläggning", 70, 8.6, 3) == ("Kartläggning",)


def test_walk_numbers_the_steps_with_their_dates():
    moves = [(date(2026, 8, 3), None, "soc1.1a"), (date(2026, 8, 9), "soc1.1a", "soc1.2"),
             (date(2026, 8, 9), "soc1.2", "soc1.2"),  # a document made on the ruta: no step
             (date(2026, 9, 1), "soc1.2", "soc1.3"), (date(2026, 10, 2), "soc1.3", "fk.1"),
             (date(2026, 10, 3), "fk.1", "nej.99")]  # a ruta the map no longer has: left out
    w = layout.walk(PM, moves, "fk.1")
    assert w.steps == {"soc1.1a": [(1, "3 aug")], "soc1.2": [(2, "9 aug")], "soc1.3": [(3, "1 sep")],
                       "fk.1": [(4, "2 okt")]}
    assert w.edges == {("soc1.1a", "soc1.2"), ("soc1.2", "soc1.3"), ("soc1.3", "fk.1")}
    assert w.lanes == ("soc1", "fk") and w.current == "fk.1"


# ---------------------------------------------------------------- pages
def test_overview_is_the_drawn_map_with_a_link_per_ruta_and_chip(logged_in):
    html = logged_in.get("/processkarta").get_data(as_text=True)
    svg = html[html.index("<svg class=\"karta\""):html.index("</svg>", html.index("<svg class=\"karta\"")) + 6]
    assert '<title id="karta-alla-t">Processkartan – Stockholmsmodellen</title>' in svg
    assert 'aria-labelledby="karta-alla-t karta-alla-d"' in svg
    for ruta_id in PM.rutor:
        assert f'href="/processkarta/{ruta_id}"' in svg
    # A decision's name says where Ja and Nej lead (the drawn labels are hidden from screen readers).
    assert 'aria-label="Ruta 5: Finns läkarintyg? (beslut, ja eller nej). Ja: Ruta ' in svg
    assert 'aria-label="Vidare till 2. Socialtjänsten – ej sjukskriven: Ruta 1, Individ ej sjukskriven med läkarintyg' in svg
    assert len(re.findall(r'<a class="karta__chip', svg)) == sum(
        1 for r in PM.rutor.values() for e in r.targets() if PM.ruta(e.target).lane != r.lane)
    assert 'href="/processkarta/lista"' in html
    for lane in PM.lanes:
        assert f'href="/processkarta/bana/{lane.id}"' in html


def test_the_list_view_is_the_text_alternative(logged_in):
    html = logged_in.get("/processkarta/lista").get_data(as_text=True)
    for lane in PM.lanes:
        assert f'id="lane-{lane.id}"' in html and lane.title in html
        for ruta in lane.rutor:
            assert f'href="/processkarta/{ruta.id}"' in html


def test_a_lane_page_draws_that_lane_and_says_where_others_lead_in(logged_in):
    html = logged_in.get("/processkarta/bana/fk").get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert {m for m in re.findall(r'href="/processkarta/(fk\.[a-z0-9-]+)"', svg)} == {r.id for r in PM.lane("fk").rutor}
    assert 'href="/processkarta/soc1.1a"' not in svg
    assert "print-a4.css" in html  # 8 columns: one A4 landscape sheet
    assert "Hit kommer man från andra processbanor" in html and 'href="/processkarta/soc1.14"' in html
    assert "print-a3.css" in logged_in.get("/processkarta/bana/af").get_data(as_text=True)
    assert logged_in.get("/processkarta/bana/nej").status_code == 404


def test_without_public_mode_the_map_needs_a_login(client):
    for url in ("/processkarta", "/processkarta/lista", "/processkarta/bana/soc1", "/processkarta/soc1.5"):
        assert client.get(url).status_code == 302
    assert client.get("/api/v1/processkarta").status_code == 401


@pytest.fixture
def public_client(app):
    app.config["PUBLIC_PROCESSKARTA"] = True
    return app.test_client()


def test_public_mode_serves_the_map_read_only_to_anyone(public_client):
    for url in ("/processkarta", "/processkarta/lista", "/processkarta/bana/soc1", "/processkarta/soc1.5"):
        res = public_client.get(url)
        assert res.status_code == 200, url
        assert "Logga ut" not in res.get_data(as_text=True)
    data = public_client.get("/api/v1/processkarta").get_json()
    assert len(data["lanes"]) == 8
    assert public_client.get("/api/v1/processkarta/soc1.9").get_json()["id"] == "soc1.9"
    # Everything else still needs a login: no ärende data is public.
    assert public_client.get("/arenden").status_code == 302
    assert public_client.get("/").status_code in (200, 302)
    assert public_client.get("/api/v1/blanketter").status_code == 401


def test_public_mode_from_the_environment(monkeypatch):
    from formservice.config import from_environment

    assert from_environment({"FORMSERVICE_PUBLIC_PROCESSKARTA": "1"})["PUBLIC_PROCESSKARTA"] is True
    assert from_environment({"FORMSERVICE_PUBLIC_PROCESSKARTA": "0"})["PUBLIC_PROCESSKARTA"] is False
