import json

import pytest


def test_overview_requires_login(client):
    assert client.get("/processkarta").status_code == 302


def test_list_shows_all_lanes_and_rutor(logged_in, app):
    html = logged_in.get("/processkarta/lista").get_data(as_text=True)
    pm = app.extensions["catalogue"].process_map
    assert len(pm.lanes) == 8
    for lane in pm.lanes:
        assert f'id="lane-{lane.id}"' in html and lane.title in html
        for ruta in lane.rutor:
            assert f'href="/processkarta/{ruta.id}"' in html
    assert 'href="/processkarta/banor.css"' in html


def test_lane_colours_stylesheet(logged_in, app):
    res = logged_in.get("/processkarta/banor.css")
    assert res.mimetype == "text/css"
    css = res.get_data(as_text=True)
    for lane in app.extensions["catalogue"].process_map.lanes:
        assert f".lane--{lane.id}{{--lane:{lane.colour};" in css


def test_decision_ruta_page(logged_in, app):
    pm = app.extensions["catalogue"].process_map
    html = logged_in.get("/processkarta/soc1.5").get_data(as_text=True)
    assert "Finns läkarintyg?" in html
    # Where Ja and Nej lead is taken from the map: the page must show the map's edges, whatever they are.
    yes, no = pm.ruta(pm.ruta("soc1.5").decision.yes), pm.ruta(pm.ruta("soc1.5").decision.no)
    assert f'Ja → <a href="/processkarta/{yes.id}">{yes.label}: {yes.title}</a>' in html
    assert f'Nej → <a href="/processkarta/{no.id}">{no.label}: {no.title}</a>' in html
    assert "Hit kommer man från" in html


def test_ruta_page_with_blanketter_and_lagrum(logged_in, app):
    html = logged_in.get("/processkarta/soc1.14").get_data(as_text=True)
    assert "Blanketter i den här rutan" in html
    cat = app.extensions["catalogue"]
    assert cat.blanketter["sip_kallelse"].title in html
    assert cat.blanketter["fk_ansokan_samordning"].title in html
    assert "16 kap. 4 § hälso- och sjukvårdslagen" in html
    assert "2 kap. 7 § socialtjänstlagen" not in html  # repealed 1 July 2025


def test_cross_lane_link_on_ruta_page(logged_in):
    html = logged_in.get("/processkarta/soc1.6").get_data(as_text=True)
    assert 'href="/processkarta/soc2.1"' in html and "Socialtjänsten – ej sjukskriven" in html


def test_every_lane_can_be_followed_to_its_end_through_the_pages(logged_in, app):
    """From each lane's start, following the links on the pages reaches every ruta of the lane."""
    import re

    pm = app.extensions["catalogue"].process_map
    for lane in pm.lanes:
        seen, todo = set(), list(lane.start)
        while todo:
            rid = todo.pop()
            if rid in seen or pm.ruta(rid).lane != lane.id:
                continue
            seen.add(rid)
            page = logged_in.get(f"/processkarta/{rid}")
            assert page.status_code == 200
            onward = page.get_data(as_text=True).split('id="h-incoming"')[0]
            todo += re.findall(r'<a href="/processkarta/([a-z0-9]+\.[a-z0-9-]+)"', onward)
        reachable = {r.id for r in lane.rutor}
        entered_by_link = {e.target for r in pm.rutor.values() for e in r.targets()
                           if e.kind == "link" and pm.ruta(e.target).lane == lane.id}
        # Rutor not reached from the start are entered through another lane's link; follow those too.
        todo = sorted(entered_by_link)
        while todo:
            rid = todo.pop()
            if rid in seen or pm.ruta(rid).lane != lane.id:
                continue
            seen.add(rid)
            onward = logged_in.get(f"/processkarta/{rid}").get_data(as_text=True).split('id="h-incoming"')[0]
            todo += re.findall(r'<a href="/processkarta/([a-z0-9]+\.[a-z0-9-]+)"', onward)
        assert reachable <= seen, (lane.id, reachable - seen)


def test_unknown_ruta_is_404(logged_in):
    assert logged_in.get("/processkarta/soc1.99").status_code == 404


def test_api_processkarta(logged_in, app):
    data = logged_in.get("/api/v1/processkarta").get_json()
    assert [lane["id"] for lane in data["lanes"]] == ["soc1", "soc2", "hsv", "fk", "af", "jobbtorg",
                                                       "finsamteam", "finsaminsats"]
    soc1 = data["lanes"][0]
    ruta5 = next(r for r in soc1["rutor"] if r["id"] == "soc1.5")
    decision = app.extensions["catalogue"].process_map.ruta("soc1.5").decision
    assert ruta5["decision"] == {"question": decision.question, "yes": decision.yes, "no": decision.no}
    json.dumps(data)


def test_api_one_ruta(logged_in):
    data = logged_in.get("/api/v1/processkarta/soc1.9").get_json()
    assert data["id"] == "soc1.9" and data["label"] == "Ruta 9"
    assert [b["id"] for b in data["blanketter"]] == ["rehabiliteringsforfragan"]
    res = logged_in.get("/api/v1/processkarta/nej.1")
    assert res.status_code == 404 and "error" in res.get_json()


def test_api_requires_authentication(client):
    res = client.get("/api/v1/processkarta")
    assert res.status_code == 401
    assert res.get_json() == {"error": "Inloggning krävs"}


def test_guidance_urls_are_links_marked_as_external_and_text_stays_escaped(app):
    from formservice.web.processkarta import with_links

    html = str(with_links("Se https://samordningstockholm.se/. <b>inte fet</b>"))
    assert ('<a href="https://samordningstockholm.se/" class="extern" rel="noopener">samordningstockholm.se'
            '<span class="extern__markering"> (extern webbplats)</span></a>.') in html
    assert "&lt;b&gt;inte fet&lt;/b&gt;" in html


def test_ruta_page_links_the_guidance_url_and_shows_the_interpretation(logged_in):
    html = logged_in.get("/processkarta/finsaminsats.2").get_data(as_text=True)
    assert 'href="https://samordningstockholm.se/" class="extern"' in html
    html = logged_in.get("/processkarta/finsaminsats.3").get_data(as_text=True)
    assert "Så har handläggarstödet tolkats:" in html and "stödet ges här, inom" in html
    assert 'Ja → <a href="/processkarta/finsaminsats.5">Ruta 5: Individ och part identifierar en insats</a>' in html


def test_every_interpretation_is_visible_text_not_only_a_yaml_comment():
    """Comments inside the rutor were readers' notes nobody saw: they live in `note` now."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "forms" / "processkarta.yaml").read_text(encoding="utf-8")
    inside_rutor = [line for line in text.splitlines() if re.match(r" {8,}#", line)]
    assert inside_rutor == ["        # Samma text i alla banor som har ett slutläge (se note)."]


def test_the_end_states_follow_todays_socialforsakringsbalk(app):
    pm = app.extensions["catalogue"].process_map
    for rid in ("soc1.slut", "soc2.slut", "fk.slut", "af.slut", "jobbtorg.slut", "soc1.slut-ersattning"):
        ruta = pm.ruta(rid)
        text = " ".join(ruta.guidance)
        # Since 1 January 2026 the upper limit follows riktåldern för pension (prop. 2021/22:181).
        assert "juli det år individen fyller 19 år" in text and "riktåldern för pension (67 år 2026)" in text, rid
        assert "fyller 66 år" not in text, rid
        assert "19–29 år" in text and "ett till tre år i taget" in text, rid
        assert "prop. 2021/22:181" in ruta.note and "33 kap." in ruta.note, rid
    inferred = [r for r in pm.rutor.values() if r.kind == "end" and "-" in r.id.split(".")[1]]
    assert len(inferred) == 9
    for ruta in inferred:
        assert "finns inte som egen ruta i handläggarstödet" in ruta.note, ruta.id
