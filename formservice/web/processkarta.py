"""The process map as pages: all lanes side by side, and one page per ruta."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from formservice.accounts.login import login_required
from formservice.processkarta.model import UnknownIdError

bp = Blueprint("processkarta", __name__)


def catalogue():
    return current_app.extensions["catalogue"]


def incoming_edges(process_map, ruta_id: str) -> list[tuple[object, object]]:
    """(from ruta, edge) for every edge that leads to ruta_id: "where can I have come from"."""
    return [(r, e) for r in process_map.rutor.values() for e in r.targets() if e.target == ruta_id]


@bp.get("/processkarta")
@login_required
def overview():
    return render_template("web/processkarta/overview.html", pm=catalogue().process_map)


@bp.get("/processkarta/<ruta_id>")
@login_required
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
