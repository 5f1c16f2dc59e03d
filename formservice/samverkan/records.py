"""Samverkan in the ärende's records: the hand-overs and who of another party saw them go into the
individ's registerutdrag, and they go with the ärende at gallring (install() hooks both into the
arenden wing, which does not import this one)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from formservice import db
from formservice.accounts.models import Enhet, User
from formservice.arenden.models import Arende

from .models import OVERLAMNING_STATUS, Overlamning, Visning


def install() -> None:
    from formservice.arenden import gallring, registerutdrag

    gallring.register_dependent(delete_for_arenden)
    registerutdrag.register_section("samverkan", extract_rows)


def delete_for_arenden(dbs, arende_ids) -> None:
    """An ärende gallrat: what it sent goes with it (and the record of who saw it); what it received
    stays the sender's, only no longer linked to this ärende."""
    ids = list(arende_ids)
    if not ids:
        return
    sent = select(Overlamning.id).where(Overlamning.fran_arende_id.in_(ids))
    quick = {"synchronize_session": False}
    dbs.execute(delete(Visning).where(Visning.overlamning_id.in_(sent)), execution_options=quick)
    dbs.execute(delete(Overlamning).where(Overlamning.fran_arende_id.in_(ids)), execution_options=quick)
    dbs.execute(update(Overlamning).where(Overlamning.mottagare_arende_id.in_(ids)).values(mottagare_arende_id=None),
                execution_options=quick)


def _label(dbs, enhet_id: int | None) -> str:
    enhet = dbs.get(Enhet, enhet_id) if enhet_id else None
    return f"{enhet.namn} ({enhet.organisation.namn})" if enhet else ""


def _when(moment) -> str | None:
    from formservice.arenden.registerutdrag import _when as when

    return when(moment)


def extract_rows(arende: Arende, catalogue) -> tuple[list[dict[str, Any]], list[str]]:
    """Every hand-over sent from or received into the ärende, with who of another party saw what
    and when (the person's right to know who has seen their data)."""
    dbs = db.session()
    rows = dbs.scalars(select(Overlamning).where(or_(Overlamning.fran_arende_id == arende.id,
                                                     Overlamning.mottagare_arende_id == arende.id))
                       .order_by(Overlamning.skickad_at, Overlamning.id)).all()
    out = []
    for ov in rows:
        blankett = catalogue.blanketter.get(ov.dokument.blankett_id)
        views = dbs.scalars(select(Visning).where(Visning.overlamning_id == ov.id).order_by(Visning.at)).all()
        out.append({
            "dokumentnummer": ov.dokument.document_number,
            "handling": blankett.title if blankett else ov.dokument.blankett_id,
            "riktning": "skickad" if ov.fran_arende_id == arende.id else "mottagen",
            "fran": _label(dbs, ov.fran_enhet_id), "till": _label(dbs, ov.till_enhet_id),
            "status": OVERLAMNING_STATUS.get(ov.status, ov.status), "skickad": _when(ov.skickad_at),
            "mottagen": _when(ov.mottagen_at), "besvarad": _when(ov.besvarad_at),
            "visningar": [{"tid": _when(v.at), "av": (dbs.get(User, v.user_id).namn if v.user_id and dbs.get(User, v.user_id)
                                                      else None), "enhet": _label(dbs, v.enhet_id), "vad": v.vad}
                          for v in views],
        })
    return out, [ov.public_id for ov in rows]
