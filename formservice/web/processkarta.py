"""The process map as pages: the drawn map of all lanes, a page per lane (party), one page per
ruta, and the same content as a list. Public without login when PUBLIC_PROCESSKARTA is set (the
Samordningsförbund publishes the map); these pages never show ärende data."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from formservice import tid
from formservice.accounts.login import guarded_unless
from formservice.processkarta import layout, parter
from formservice.processkarta.model import UnknownIdError

bp = Blueprint("processkarta", __name__)
public_or_login = guarded_unless("PUBLIC_PROCESSKARTA")

# A lane page prints on A4 landscape when its drawing is at most this wide (user units, at
# layout.LANE's 10-unit text ≥ 6 pt), else on A3 landscape.
A4_WIDTH = 1340


def catalogue():
    return current_app.extensions["catalogue"]


@lru_cache(maxsize=32)
def drawing(process_map, lane_ids: tuple[str, ...] | None = None, style: layout.Style = layout.OVERVIEW
            ) -> layout.Drawing:
    """The drawing is deterministic: computed once per map (a reloaded map is a new object)."""
    lanes = None if lane_ids is None else tuple(process_map.lane(i) for i in lane_ids)
    return layout.draw(process_map, lanes, style)


_URL = re.compile(r"https?://[^\s<>\"]+")


@bp.app_template_filter("med_lankar")
def with_links(text: str) -> Markup:
    """Guidance text with its web addresses as links, marked as leading out of the service
    (the text is escaped; only the links are markup)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        out.append(escape(text[last:match.start()]))
        shown = url.removeprefix("https://").removeprefix("http://").rstrip("/")
        out.append(Markup('<a href="{}" class="extern" rel="noopener">{}<span class="extern__markering">'
                          " (extern webbplats)</span></a>").format(url, shown))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


def require_on_map(arende) -> None:
    """An ärende standing on a ruta the map no longer has (renamed or removed without `formerly`)
    is sent to "Var står ärendet?" to be placed again, with a word on why: never a 500."""
    if arende.ruta in catalogue().process_map.rutor or request.endpoint == "arenden.where":
        return
    flash(f'Ärendet stod på rutan "{arende.ruta}", som inte längre finns i processkartan. '
          "Välj var ärendet står nu.", "warning")
    abort(redirect(url_for("arenden.where", public_id=arende.public_id)))


def arende_map(process_map, history, current: str):
    """An ärende's way drawn on its lanes: (drawing, walk) from its history (newest first, as
    arenden.history gives it), or (None, walk) when none of its rutor is on the map."""
    moves = [(tid.local_date(h.at), h.from_ruta, h.to_ruta)
             for h, _note in reversed(history)]
    walked = layout.walk(process_map, moves, current)
    if not walked.lanes:
        return None, walked
    return drawing(process_map, walked.lanes, layout.LANE), walked


def parties_map(process_map, positions):
    """Vem gör vad nu: (drawing, parties) for several parties' current positions at once.

    ``positions`` are parter.Position, objects with ruta_id, party, since, own, or tuples
    (ruta_id, party, since, own). The drawing has just the lanes those rutor are in (map order,
    layout.LANE); ``parties`` lists every position (own first, then the map's reading order, then
    the rutor the map lacks, which are not drawn) with its marker ("Ni", "1", …) and, per ruta,
    the markers' places. The drawing is None when no position is on the map."""
    parties = parter.place(process_map, positions)
    if not parties.lanes:
        return None, parties
    d = drawing(process_map, parties.lanes, layout.LANE)
    return d, parter.marked(parties, d)


def incoming_edges(process_map, ruta_id: str) -> list[tuple[object, object]]:
    """(from ruta, edge) for every edge that leads to ruta_id: "where can I have come from"."""
    return [(r, e) for r in process_map.rutor.values() for e in r.targets() if e.target == ruta_id]


@bp.get("/processkarta")
@public_or_login
def overview():
    pm = catalogue().process_map
    return render_template("web/processkarta/overview.html", pm=pm, d=drawing(pm))


@bp.get("/processkarta/lista")
@public_or_login
def as_list():
    return render_template("web/processkarta/lista.html", pm=catalogue().process_map)


@bp.get("/processkarta/bana/<lane_id>")
@public_or_login
def lane(lane_id: str):
    pm = catalogue().process_map
    try:
        the_lane = pm.lane(lane_id)
    except UnknownIdError:
        abort(404)
    d = drawing(pm, (lane_id,), layout.LANE)
    from_elsewhere = [(r, e) for r in pm.rutor.values() if r.lane != lane_id for e in r.targets()
                      if pm.ruta(e.target).lane == lane_id]
    return render_template("web/processkarta/bana.html", pm=pm, lane=the_lane, d=d,
                           paper="A4" if d.width <= A4_WIDTH else "A3", from_elsewhere=from_elsewhere)


@bp.get("/processkarta/<ruta_id>")
@public_or_login
def ruta(ruta_id: str):
    cat = catalogue()
    try:
        r = cat.process_map.ruta(ruta_id)
    except UnknownIdError:
        abort(404)
    return render_template("web/processkarta/ruta.html", pm=cat.process_map, ruta=r,
                           lane=cat.process_map.lane(r.lane), blanketter=cat.blanketter,
                           incoming=incoming_edges(cat.process_map, r.id))


@bp.get("/processkarta/banor.css")
def lane_colours():
    """The lane colours are data (forms/processkarta.yaml), so their CSS is generated from it."""
    rules = [f".lane--{lane.id}{{--lane:{lane.colour};--lane-text:{lane.text_colour}}}"
             for lane in catalogue().process_map.lanes]
    response = current_app.response_class("\n".join(rules) + "\n", mimetype="text/css")
    response.cache_control.max_age = 3600
    return response
