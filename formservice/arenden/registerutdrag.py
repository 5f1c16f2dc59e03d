"""Registerutdrag (GDPR art. 15): everything the organisation stores about one person — ärenden,
history, drafts, documents with their values, consents, the doctor's answers, gallringsstopp and
the audit entries about these objects — as plain data, for JSON and for the PDF.

Only an admin produces it, for the admin's own organisation; the person is found through the keyed
personnummer hash, so nothing else is decrypted. Other wings add their parts through
`register_section` (the doctor's answers: doctor.install()).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from dbos import DBOS
from sqlalchemy import select

from formservice import audit, db, jobs
from formservice.accounts.models import Enhet, User
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import Blankett
from formservice.blanketter.validation import format_personnummer
from formservice.db import utcnow
from formservice.rendering.display import format_value
from formservice.rendering.pdf import render_report

from . import closing, consents, gallringsstopp
from .models import DOKUMENT_STATUS, Arende, Dokument, Handelse, Samtycke, Utkast
from .operations import INDIVID_FIELDS, answers, keyring, visible_to, with_personnummer

# (section title, function of (ärende, catalogue) -> rows, and the audit object ids it covers)
SectionMaker = Callable[[Arende, Catalogue], tuple[list[dict[str, Any]], list[str]]]
_sections: list[tuple[str, SectionMaker]] = []
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def register_section(title: str, maker: SectionMaker) -> None:
    _sections.append((title, maker))


@dataclass(frozen=True)
class Extract:
    data: dict[str, Any]
    arenden: int


def _when(moment: datetime | date | None) -> str | None:
    """A stored time (naive UTC) as Swedish local time, "2026-11-27 14:05"; a date as it is."""
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC).astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    return moment.isoformat() if moment else None


def _user(dbs, user_id: int | None) -> str | None:
    u = dbs.get(User, user_id) if user_id else None
    return u.namn if u else None


def labelled_values(blanketter: list[Blankett], values: Mapping[str, Any], *, once: bool = False
                    ) -> list[dict[str, str]]:
    """The values of a document or draft as (blankett, "section – label", text), in the blankett's
    order. ``once``: each field once, without the blankett (the ärende's facts, shared by several
    blanketter)."""
    out, seen = [], set()
    for blankett in blanketter:
        for section in blankett.sections:
            for f in section.fields:
                value = values.get(f.name)
                if value in (None, "", [], False) or f.name in seen:
                    continue
                if once:
                    seen.add(f.name)
                if f.type == "rows":
                    text = "\n".join("; ".join(f"{c.label}: {format_value(c, row.get(c.name))}" for c in f.columns
                                               if row.get(c.name) not in (None, ""))
                                     for row in value if isinstance(row, dict))
                else:
                    text = format_value(f, value)
                if not text:
                    continue
                label = f.label if once or f.label == section.title else f"{section.title} – {f.label}"
                out.append({"uppgift": label, "varde": text} if once else
                           {"blankett": blankett.title, "uppgift": label, "varde": text})
    return out


def _describe(h: Handelse, pm) -> str:
    """A history entry in words, as on the ärende's page: what happened, from where to where."""
    def place(ruta_id):
        r = pm.rutor.get(ruta_id)
        return f"{pm.lane(r.lane).title}, {r.label}: {r.title}" if r else ruta_id

    if h.kind == "skapad":
        return f"Ärendet skapades i {place(h.to_ruta)}"
    if h.kind in ("beslut", "ruta", "placering") and h.to_ruta:
        return f"{h.beslut} – från {place(h.from_ruta)} till {place(h.to_ruta)}" if h.beslut else \
            f"Från {place(h.from_ruta)} till {place(h.to_ruta)}"
    return h.beslut or h.kind


def _parts(catalogue: Catalogue, blankett_id: str) -> list[Blankett]:
    main = catalogue.blanketter.get(blankett_id)
    return [] if main is None else [main] + [catalogue.blanketter[a] for a in main.attachments
                                             if a in catalogue.blanketter]


def collect(admin: User, personnummer: str, catalogue: Catalogue) -> Extract:
    """Everything about the person with this (normalised) personnummer in the admin's organisation."""
    kr = keyring()
    dbs = db.session()
    pm = catalogue.process_map
    found = dbs.scalars(visible_to(admin).where(Arende.id.in_(with_personnummer(personnummer)))
                        .order_by(Arende.created_at, Arende.id)).all()
    arenden, person = [], {}
    for a in found:
        individ = kr.decrypt_json(a.individ_enc, {})
        person = person or {"namn": individ.get("namn", ""), "personnummer": personnummer}
        objects = [a.public_id]
        ruta = pm.rutor.get(a.ruta)
        entry: dict[str, Any] = {
            "arende": a.public_id,
            "enhet": dbs.get(Enhet, a.enhet_id).namn,
            "handlaggare": _user(dbs, a.handlaggare_id),
            "status": "avslutat" if a.status == "avslutat" else "öppet",
            "skapat": _when(a.created_at),
            "avslutat": _when(a.closed_on),
            "avslutsorsak": closing.reason_title(a.closed_reason, pm) or None,
            "star_i": f"{pm.lane(ruta.lane).title}, {ruta.label}: {ruta.title}" if ruta else a.ruta,
            "uppgifter_om_individen": [
                {"uppgift": label, "varde": format_personnummer(individ[key]) if key == "personnummer" else individ[key]}
                for key, label, *_ in INDIVID_FIELDS if individ.get(key)],
            "kanda_uppgifter": labelled_values(list(catalogue.blanketter.values()), answers(a), once=True),
        }
        entry["historik"] = [
            {"tid": _when(h.at), "av": _user(dbs, h.user_id), "handelse": _describe(h, pm),
             "fran": h.from_ruta, "till": h.to_ruta,
             "anteckning": kr.decrypt_json(h.note_enc) if h.note_enc else None}
            for h in dbs.scalars(select(Handelse).where(Handelse.arende_id == a.id).order_by(Handelse.at, Handelse.id))]
        entry["utkast"] = [
            {"blankett": catalogue.blanketter[u.blankett_id].title if u.blankett_id in catalogue.blanketter
             else u.blankett_id, "andrat": _when(u.updated_at),
             "varden": labelled_values(_parts(catalogue, u.blankett_id), kr.decrypt_json(u.values_enc, {}))}
            for u in dbs.scalars(select(Utkast).where(Utkast.arende_id == a.id).order_by(Utkast.id))]
        docs = dbs.scalars(select(Dokument).where(Dokument.arende_id == a.id).order_by(Dokument.created_at)).all()
        objects += [d.public_id for d in docs]
        entry["dokument"] = [
            {"dokumentnummer": d.document_number,
             "blankett": catalogue.blanketter[d.blankett_id].title if d.blankett_id in catalogue.blanketter
             else d.blankett_id, "version": d.blankett_version, "skapat": _when(d.created_at),
             "skapat_av": _user(dbs, d.created_by), "status": DOKUMENT_STATUS.get(d.status, d.status),
             "varden": labelled_values(_parts(catalogue, d.blankett_id), kr.decrypt_json(d.values_enc, {}))}
            for d in docs]
        rows = dbs.scalars(select(Samtycke).where(Samtycke.arende_id == a.id).order_by(Samtycke.valid_from)).all()
        objects += [s.public_id for s in rows]
        entry["samtycken"] = [
            {"samtycke": catalogue.blanketter[s.blankett_id].title if s.blankett_id in catalogue.blanketter
             else s.blankett_id, "parter": consents.party_names(s.party_keys), "lamnat_av": consents.given_by(s),
             "omfattning": consents.scope(s) or None, "giltigt_fran": _when(s.valid_from),
             "giltigt_till": _when(s.valid_until), "aterkallat": _when(s.revoked_on),
             "anteckning": consents.note(s) or None}
            for s in rows]
        hold = gallringsstopp.hold_of(a)
        entry["gallringsstopp"] = None if hold is None else {
            "satt": _when(hold.set_at), "skal": gallringsstopp.reason(hold)}
        for title, maker in _sections:
            section_rows, ids = maker(a, catalogue)
            entry[title] = section_rows
            objects += ids
        entry["granskningslogg"] = [
            {"tid": _when(e.at), "av": _user(dbs, e.user_id), "handelse": audit.ACTIONS.get(e.action, e.action),
             "objekt": e.object_type, "detalj": e.detail}
            for e in dbs.scalars(select(audit.AuditEntry).where(audit.AuditEntry.object_id.in_(objects))
                                 .order_by(audit.AuditEntry.at, audit.AuditEntry.id))]
        arenden.append(entry)
    data = {
        "registerutdrag": {"framtaget": _when(utcnow()), "organisation": admin.enhet.organisation.namn,
                           "framtaget_av": admin.namn},
        "person": person or {"personnummer": personnummer},
        "arenden": arenden,
    }
    return Extract(data, len(arenden))


# ------------------------------------------------------------------ as a background job
# A person can own a thousand ärenden (an extract of megabytes, minutes of layout): the extract is
# a job (formservice/jobs.py) laid out in the job worker process, never in a web worker or the
# render processes. The personnummer travels only inside the job's encrypted parameters.

JOB_KIND = "registerutdrag"
FAILED = "Registerutdraget kunde inte tas fram. Försök igen, eller kontakta den som sköter formservice."


def start(admin: User, personnummer: str, fmt: str) -> jobs.Jobb:
    return jobs.create(admin, JOB_KIND, {"personnummer": personnummer, "format": fmt})


def produce(admin: User, personnummer: str, fmt: str, catalogue: Catalogue) -> tuple[bytes, str, str]:
    """The extract as (body, file name, mimetype), with one audit row for the extract and one per
    ärende read (never the personnummer); the caller commits."""
    from .operations import local_today

    extract = collect(admin, personnummer, catalogue)
    audit.record("registerutdrag", user=admin, object_type="person",
                 detail=f"{fmt.upper()}, {extract.arenden} ärenden", commit=False)
    for entry in extract.data["arenden"]:
        audit.record("registerutdrag", user=admin, object_type="arende", object_id=entry["arende"],
                     detail=fmt.upper(), commit=False)
    name = f"registerutdrag-{local_today().isoformat()}.{fmt}"
    if fmt == "json":
        import json

        return json.dumps(extract.data, ensure_ascii=False, indent=2).encode(), name, "application/json"
    data = extract.data
    body = render_report("registerutdrag.html", meta=data["registerutdrag"], person=data["person"],
                         pnr=format_personnummer(personnummer), arenden=data["arenden"])
    return body, name, "application/pdf"


@DBOS.step(retries_allowed=True, max_attempts=3)
def _produce_step(public_id: str) -> None:
    # One step, one transaction: the result and the audit rows are committed together, so a step
    # that is cut off (kill -9) and run again after recovery leaves exactly one set of audit rows.
    with jobs.app().app_context():
        job = jobs.started(public_id)
        if job is None or job.status == jobs.KLAR:
            return
        asked = jobs.params(job)
        admin = db.session().get(User, job.user_id)
        from flask import current_app

        body, name, mimetype = produce(admin, asked["personnummer"], asked["format"],
                                       current_app.extensions["catalogue"])
        jobs.finish(job, body, name, mimetype)
        db.session().commit()


@DBOS.step()
def _failed_step(public_id: str) -> None:
    with jobs.app().app_context():
        jobs.fail(public_id, FAILED)


@DBOS.workflow(name=JOB_KIND)
def registerutdrag_workflow(public_id: str) -> None:
    try:
        _produce_step(public_id)
    except Exception:  # noqa: BLE001 — retries are spent: the admin sees a Swedish message, the log the cause
        DBOS.logger.exception("registerutdrag %s misslyckades", public_id)
        _failed_step(public_id)
