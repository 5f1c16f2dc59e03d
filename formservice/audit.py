"""The append-only audit log: who did what to which object, when and from where.

Entries name objects by their public ids and never hold a personnummer, a name or a field value.
"""
from __future__ import annotations

import csv
import io

from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from . import db
from .db import Base, utcnow


class AuditEntry(Base):
    """Append-only audit log: who did what to which object, from where. Never personal data."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # no FK: survives deletion
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)

ACTIONS = {
    "login": "Inloggning",
    "login_failed": "Misslyckad inloggning",
    "logout": "Utloggning",
    "arende_created": "Ärende skapat",
    "arende_viewed": "Ärende visat",
    "arende_changed": "Ärende ändrat",
    "arende_searched": "Sökning bland ärenden",
    "document_produced": "Dokument framtaget",
    "document_downloaded": "Dokument hämtat",
    "document_uploaded": "Dokument uppladdat",
    "document_status": "Dokumentstatus ändrad",
    "answers_viewed": "Läkarens svar visat",
    "api_render": "Blankett framtagen via API",
    "audit_exported": "Loggen exporterad",
    "organisation_created": "Organisation skapad",
    "organisation_changed": "Organisation ändrad",
    "settings_changed": "Organisationens texter ändrade",
    "enhet_created": "Enhet skapad",
    "enhet_changed": "Enhet ändrad",
    "user_created": "Användare skapad",
    "user_changed": "Användare ändrad",
    "user_deactivated": "Användare inaktiverad",
    "user_reactivated": "Användare aktiverad igen",
    "user_approved": "Användare godkänd",
    "user_unlocked": "Inloggningsspärr hävd",
    "password_reset": "Tillfälligt lösenord satt",
    "password_changed": "Lösenord bytt",
    "token_created": "API-nyckel skapad",
    "token_revoked": "API-nyckel återkallad",
    "gallring_changed": "Gallringsregler ändrade",
    "gallringsstopp_set": "Gallringsstopp satt",
    "gallringsstopp_lifted": "Gallringsstopp hävt",
    "registerutdrag": "Registerutdrag framtaget",
    "processkarta_inlast": "Processkartan inläst",
    "uppfoljning_visad": "Uppföljning visad",
    "uppfoljning_rapport": "Uppföljningsrapport framtagen",
    "sus_underlag": "SUS-underlag visat eller hämtat",
    "document_sent": "Handling skickad till annan part",
    "handover_accepted": "Inkommande handling mottagen",
    "handover_returned": "Inkommande handling returnerad",
    "handover_answered": "Inkommande handling besvarad",
    "samverkan_visad": "Delad handling visad av annan part",
    "sprak_granskad": "Översättning markerad som granskad",
    "sprak_ej_granskad": "Översättning markerad som inte granskad",
    "sprak_texter_ersatta": "Översättningens texter ersatta",
    "sprak_texter_aterstallda": "Översättningens texter återställda",
}


def record(action: str, *, user=None, object_type: str | None = None,
           object_id: str | None = None, detail: str | None = None, commit: bool = True,
           organisation_id: int | None = None) -> None:
    """``organisation_id`` names whose log the entry belongs to when there is no acting user (the
    command line); otherwise it is the user's organisation."""
    client = request.remote_addr if has_request_context() else None
    org_id = user.enhet.organisation_id if user is not None else organisation_id
    dbs = db.session()
    dbs.add(AuditEntry(user_id=user.id if user else None, organisation_id=org_id, action=action,
                       object_type=object_type, object_id=object_id, client=client,
                       detail=(detail or None) and detail[:200]))
    if commit:
        dbs.commit()


def entries(organisation_id: int, *, limit: int = 200, offset: int = 0, action: str | None = None):
    stmt = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return db.session().scalars(stmt).all()


def export_csv(organisation_id: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["tid (UTC)", "användar-id", "händelse", "objekttyp", "objekt", "klient", "detalj"])
    stmt = (select(AuditEntry).where(AuditEntry.organisation_id == organisation_id).order_by(AuditEntry.id))
    for e in db.session().scalars(stmt):
        writer.writerow([e.at.isoformat(timespec="seconds"), e.user_id or "", ACTIONS.get(e.action, e.action),
                         e.object_type or "", e.object_id or "", e.client or "", e.detail or ""])
    return out.getvalue()
