"""The SUS-underlag of one participant, for the deltagaransvarig who registers in SUS: a printable
page and a CSV in SUS's field order (arenden/sus.py decides what it may contain)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden import sus
from formservice.arenden.consents import SUS_KIND
from formservice.arenden.operations import local_today

from .arenden import load

bp = Blueprint("sus", __name__, url_prefix="/arenden/<public_id>/sus")


def _underlag(public_id: str, form: str):
    """The ärende (404 outside the user's reach; a closed one too: the utregistrering follows the
    closing) and its underlag; every look at it is logged, saying whether it named the person."""
    arende = load(public_id)
    u = sus.underlag(arende, local_today())
    audit.record("sus_underlag", user=current_user(), object_type="arende", object_id=arende.public_id,
                 detail=f"{form}, {'anonymt' if u.anonymous else 'med personuppgifter'}")
    return arende, u


@bp.get("")
@login_required
def underlag(public_id: str):
    arende, u = _underlag(public_id, "sida")
    return render_template("web/sus/underlag.html", arende=arende, u=u, sus_kind=SUS_KIND,
                           pm=current_app.extensions["catalogue"].process_map, today=local_today().isoformat())


@bp.get("/csv")
@login_required
def underlag_csv(public_id: str):
    arende, u = _underlag(public_id, "CSV")
    # The BOM makes Excel read the file as UTF-8 (å, ä, ö); no name or personnummer in the file name.
    return Response("\ufeff" + sus.csv_text(u), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="sus-underlag-{arende.public_id}.csv"',
                             "Cache-Control": "no-store"})
