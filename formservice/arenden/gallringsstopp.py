"""Gallringsstopp: an admin puts an ärende of the organisation on hold, with a reason (encrypted: it
may name circumstances of the case); an ärende on hold is never gallrat (arenden/gallring.py).
Setting and lifting are audited; the reason never goes into the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from formservice import audit, db
from formservice.accounts.models import Enhet, User
from formservice.db import utcnow

from . import operations
from .models import Arende, Gallringsstopp

REASON_MAX = 500


class HoldError(ValueError):
    """A refusal with a Swedish message for the field ``field``."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Hold:
    public_id: str
    reason: str
    set_at: datetime
    set_by: str


def _arende(user: User, public_id: str) -> Arende:
    public_id = (public_id or "").strip()
    if not public_id or len(public_id) > 32:
        raise HoldError("arende", "Skriv ärendets id (det står i ärendets adress, t.ex. /arenden/AbC123…).")
    try:
        return operations.get(user, public_id)  # an admin sees the organisation's ärenden, no others
    except operations.NotFound:
        raise HoldError("arende", "Det finns inget ärende med det id:t i organisationen.") from None


def hold_of(arende: Arende) -> Gallringsstopp | None:
    return db.session().scalar(select(Gallringsstopp).where(Gallringsstopp.arende_id == arende.id))


def set_hold(user: User, public_id: str, reason: str) -> Arende:
    arende = _arende(user, public_id)
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("reason", "Skriv varför ärendet inte får gallras.")
    if len(reason) > REASON_MAX:
        raise HoldError("reason", f"Skälet får vara högst {REASON_MAX} tecken (nu {len(reason)}).")
    dbs = db.session()
    row = hold_of(arende)
    if row is None:
        row = Gallringsstopp(arende_id=arende.id, reason_enc=b"")
        dbs.add(row)
    row.reason_enc = operations.keyring().encrypt(reason.encode("utf-8"))
    row.set_at, row.set_by = utcnow(), user.id
    audit.record("gallringsstopp_set", user=user, object_type="arende", object_id=arende.public_id, commit=False)
    dbs.commit()
    return arende


def lift_hold(user: User, public_id: str) -> Arende:
    arende = _arende(user, public_id)
    row = hold_of(arende)
    if row is None:
        raise HoldError("arende", "Ärendet har inget gallringsstopp.")
    dbs = db.session()
    dbs.delete(row)
    audit.record("gallringsstopp_lifted", user=user, object_type="arende", object_id=arende.public_id,
                 commit=False)
    dbs.commit()
    return arende


def holds(user: User) -> list[Hold]:
    """The organisation's ärenden on hold, newest first, with their reasons (for its admin)."""
    kr = operations.keyring()
    rows = db.session().scalars(
        select(Gallringsstopp).join(Arende, Gallringsstopp.arende_id == Arende.id)
        .join(Enhet, Arende.enhet_id == Enhet.id).where(Enhet.organisation_id == user.enhet.organisation_id)
        .order_by(Gallringsstopp.set_at.desc()))
    return [Hold(r.arende.public_id, kr.decrypt(r.reason_enc).decode("utf-8"), r.set_at,
                 r.setter.namn if r.setter else "–") for r in rows]


def reason(row: Gallringsstopp) -> str:
    return operations.keyring().decrypt(row.reason_enc).decode("utf-8")
