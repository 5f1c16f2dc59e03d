"""The process map as a screen reader meets it (Playwright's accessibility tree): a named group per
lane, one name per target, no loose Ja/Nej; and the list view as the full text alternative.
Everything is checked against the map in use, not against its present content."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def _keep(page, name: str) -> None:
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the result by eye
        page.screenshot(path=str(Path(os.environ["FORMSERVICE_KEEP_ARTIFACTS"]) / name), full_page=True)


def _tree(locator) -> list:
    """The accessibility tree under `locator` as nested lists of (role, name, children, props)."""
    def walk(items) -> list:
        nodes = []
        for item in items or []:
            key, children = (next(iter(item.items())) if isinstance(item, dict) else (item, None))
            if key.startswith("/"):  # a property such as /url
                continue
            m = re.match(r'^([a-z]+)(?: "(.*)")?(?: \[.*\])?$', key, re.S)
            role, name = (m.group(1), m.group(2) or "") if m else (key, "")
            url = next((c["/url"] for c in children or [] if isinstance(c, dict) and "/url" in c), None)
            if role == "text":
                name = str(children)
                children = None
            nodes.append((role, name, walk(children) if isinstance(children, list) else [], url))
        return nodes
    return walk(yaml.safe_load(locator.aria_snapshot()))


def _all(nodes, role=None):
    for node in nodes:
        if role is None or node[0] == role:
            yield node
        yield from _all(node[2], role)


def _lane_name(lane) -> str:
    return f"{lane.number}. {lane.title}" + (" (gemensam yta)" if lane.id.startswith("finsam") else "")


@pytest.fixture
def pm(live_app):
    return live_app.extensions["catalogue"].process_map


def test_each_lane_is_a_named_group_with_its_own_rutor(page, live_server, pm):
    login(page, live_server)
    page.goto(live_server + "/processkarta")
    svg = page.locator("svg#karta-alla")
    groups = [n for n in _tree(svg)[0][2] if n[0] == "group"]
    assert [g[1] for g in groups] == [_lane_name(lane) for lane in pm.lanes]
    for lane, group in zip(pm.lanes, groups, strict=True):
        # The lane's title is a heading in its group, so a screen reader can jump from lane to lane.
        assert [h[1] for h in _all(group[2], "heading")] == [_lane_name(lane)]
        own = {link[3] for link in _all(group[2], "link")}
        assert {f"/processkarta/{r.id}" for r in lane.rutor} <= own
        # Only its own rutor, and chips to other lanes; nothing else is read as loose text.
        assert {n[0] for n in group[2]} <= {"heading", "link"}, group[2]
        for r in lane.rutor:
            link = svg.get_by_role("group", name=_lane_name(lane), exact=True).get_by_role(
                "link", name=f"{r.label}", exact=False).first
            assert link.count() == 1


def test_one_name_leads_to_one_place_and_ja_nej_are_not_loose_words(page, live_server, pm):
    login(page, live_server)
    for url, svg_id in (("/processkarta", "karta-alla"), ("/processkarta/bana/soc1", "karta-bana")):
        page.goto(live_server + url)
        tree = _tree(page.locator(f"svg#{svg_id}"))
        targets: dict[str, set[str]] = {}
        for _role, name, _children, href in _all(tree, "link"):
            targets.setdefault(name, set()).add(href)
        assert targets and all(name for name in targets)
        shared = {name: hrefs for name, hrefs in targets.items() if len(hrefs) > 1}
        assert shared == {}, f"{url}: one name, several targets"
        # Ja and Nej are drawn beside the arrows; in the tree they are part of the decisions' names.
        # (The snapshot runs neighbouring loose texts together: look for the words, not whole nodes.)
        words = {w for n in _all(tree, "text") for w in re.findall(r"\w+", n[1])}
        assert not words & {"Ja", "Nej"}, words
        for r in pm.rutor.values():
            if r.decision and svg_id == "karta-alla":
                yes, no = pm.ruta(r.decision.yes), pm.ruta(r.decision.no)
                name = next(n for n, hrefs in targets.items() if hrefs == {f"/processkarta/{r.id}"}
                            and n.startswith(r.label))
                assert f"Ja: {yes.label}, {yes.title}" in name and f"Nej: {no.label}, {no.title}" in name
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/processkarta")
    assert_accessible(page)


def test_the_list_view_has_every_ruta_and_every_edge(page, live_server, pm):
    login(page, live_server)
    page.goto(live_server + "/processkarta/lista")
    for lane in pm.lanes:
        region = page.get_by_role("region", name=f"{lane.number} {lane.title}", exact=True)
        assert region.count() == 1, lane.id
    # Each ruta's card: the ruta's own link, then every way on, with its condition, as a link.
    cards = page.evaluate("""() => [...document.querySelectorAll('li.ruta-card')].map(li => ({
        href: li.querySelector('a.ruta-card__link').getAttribute('href'),
        text: li.innerText.replace(/\\s+/g, ' '),
        onward: [...li.querySelectorAll('.edge a')].map(a => a.getAttribute('href'))}))""")
    by_href = {c["href"]: c for c in cards}
    assert set(by_href) == {f"/processkarta/{r.id}" for r in pm.rutor.values()}
    for r in pm.rutor.values():
        card = by_href[f"/processkarta/{r.id}"]
        assert r.title in card["text"]
        for edge in r.targets():
            assert f"/processkarta/{edge.target}" in card["onward"], (r.id, edge)
        if r.decision:
            assert r.decision.question in card["text"]
            assert f"Ja → {pm.ruta(r.decision.yes).label}" in card["text"]
            assert f"Nej → {pm.ruta(r.decision.no).label}" in card["text"]
        for choice in (*r.choices, *r.links):
            assert f"{choice.label} → {pm.ruta(choice.target).label}" in card["text"], (r.id, choice)
    assert_accessible(page)
    _keep(page, "lista-1280.png")


@pytest.mark.parametrize("width", [1280, 320])
def test_the_drawn_map_and_the_list_at_a_glance(page, live_server, width):
    """Screenshots to look at by eye (FORMSERVICE_KEEP_ARTIFACTS); axe at both widths."""
    login(page, live_server)
    page.set_viewport_size({"width": width, "height": 900})
    for url, name in (("/processkarta", "karta"), ("/processkarta/lista", "lista"), ("/processkarta/bana/fk", "fk")):
        page.goto(live_server + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _keep(page, f"processkarta-{name}-{width}.png")
        assert_accessible(page)
