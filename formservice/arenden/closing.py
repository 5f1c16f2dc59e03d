"""Closing and reopening an ärende: an honest reason, a date, and a read-only ärende while closed.

The reason is either an end state of the process map (a ruta of kind "end", e.g.
"soc1.slut-ingetbehov") or one of the general reasons below, for an ärende that ends before the
process does (the person moves, declines, …). Both are stored as a key in `Arende.closed_reason`,
so follow-up can count outcomes without reading any personal data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

from flask import current_app

from formservice import db, tid
from formservice.accounts.models import User
from formservice.blanketter.validation import date_or_error
from formservice.db import utcnow
from formservice.processkarta.model import ProcessMap

from .models import Arende, Handelse
from . import consents, sus
from .operations import ArendeClosed, Conflict, keyring, parse_date, require_open, store_answers  # noqa: F401 (re-exported)

NOTE_MAX_LENGTH = 1000

# Reasons to close an ärende that has not reached an end state of the map. "annat" needs a note.
GENERAL_REASONS = {
    "avbojt": "Individen vill inte längre delta",
    "flyttat": "Individen har flyttat från kommunen",
    "overlamnat": "Ärendet har lämnats över till en annan enhet eller part",
    "avliden": "Individen har avlidit",
    "annat": "Annat skäl (beskriv i anteckningen)",
}


@dataclass(frozen=True)
class Reason:
    key: str
    title: str
    end_state: bool  # an end state of the process map (True) or a general reason


def _process_map() -> ProcessMap:
    return current_app.extensions["catalogue"].process_map


def reasons_for(arende: Arende, pm: ProcessMap | None = None) -> list[Reason]:
    """What the caseworker may choose when closing: the end state the ärende stands in (if any),
    then the general reasons. End states elsewhere on the map are reached by going there first,
    so the history shows the way to them."""
    pm = pm or _process_map()
    out = []
    ruta = pm.rutor.get(arende.ruta)
    if ruta is not None and ruta.kind == "end":
        out.append(Reason(ruta.id, ruta.title, True))
    out += [Reason(key, title, False) for key, title in GENERAL_REASONS.items()]
    return out


def reason_title(key: str | None, pm: ProcessMap | None = None) -> str:
    """The reason in words, also for an end state removed from the map since (then its key)."""
    if not key:
        return ""
    if key in GENERAL_REASONS:
        return GENERAL_REASONS[key]
    pm = pm or _process_map()
    ruta = pm.rutor.get(key)
    return ruta.title if ruta is not None else key


def check_close(arende: Arende, *, reason: str, on_text: str, note: str, today: date
                ) -> tuple[date | None, dict[str, str]]:
    """Validate a closing; (the date, errors by field) with Swedish messages."""
    errors: dict[str, str] = {}
    keys = {r.key for r in reasons_for(arende)}
    if reason not in keys:
        errors["reason"] = "Välj varför ärendet avslutas."
    on, error = date_or_error(on_text, "Datum då ärendet avslutas")
    if error:
        errors["datum"] = error
    elif on > today:
        errors["datum"] = "Datumet kan inte vara i framtiden."
    elif on < (last := last_entry_day(arende)):
        errors["datum"] = f"Datumet kan inte vara före ärendets senaste händelse ({last.isoformat()})."
    if reason == "annat" and not note:
        errors["note"] = "Beskriv skälet i anteckningen när du väljer Annat skäl."
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = f"Anteckningen får vara högst {NOTE_MAX_LENGTH} tecken (nu {len(note)})."
    return on, errors


def last_entry_day(arende: Arende) -> date:
    """The Swedish date of the ärende's latest history entry: an ärende is not closed before it."""
    from sqlalchemy import func, select

    latest = db.session().scalar(select(func.max(Handelse.at)).where(Handelse.arende_id == arende.id))
    latest = max(filter(None, (latest, arende.created_at)))
    return tid.local_date(latest)


def close(user: User, arende: Arende, *, reason: str, on: date, note: str | None, expected_version: int,
          sus_values: Mapping[str, str] | None = None) -> None:
    """Close the ärende (validated by check_close); raises Conflict if it changed since shown.
    ``sus_values``: SUS's "efter" answers (sus.check_closing), kept as facts of the ärende."""
    require_open(arende)
    if arende.version != expected_version:
        raise Conflict({}, arende.version)
    dbs = db.session()
    if sus_values:
        store_answers(arende, sus_values)
    arende.status = "avslutat"
    arende.closed_on = on
    arende.closed_reason = reason
    arende.updated_at = utcnow()
    consents.end_with_arende(current_app.extensions["catalogue"], arende, on, user)
    sus.count_closing(arende)
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="avslutat", from_ruta=arende.ruta,
                     beslut=f"Ärendet avslutades {on.isoformat()}: {reason_title(reason)}",
                     note_enc=keyring().encrypt_json(note) if note else None))
    dbs.commit()


def reopen(user: User, arende: Arende, *, note: str, expected_version: int) -> None:
    """Open a closed ärende again; the reason (`note`) is required and goes to the history."""
    if arende.status != "avslutat":
        return
    if arende.version != expected_version:
        raise Conflict({}, arende.version)
    dbs = db.session()
    was = reason_title(arende.closed_reason)
    sus.count_closing(arende, -1)
    arende.status = "oppet"
    arende.closed_on = None
    arende.closed_reason = None
    arende.updated_at = utcnow()
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="ateroppnat", to_ruta=arende.ruta,
                     beslut=f"Ärendet öppnades igen (hade avslutats: {was})",
                     note_enc=keyring().encrypt_json(note)))
    dbs.commit()
