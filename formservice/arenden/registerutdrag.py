"""Registerutdrag (GDPR art. 15): everything the organisation stores about one person — ärenden,
history, drafts, documents with their values, consents, the doctor's answers, gallringsstopp and
the audit entries about these objects — as plain data, for JSON and for the PDF.

Only an admin produces it, for the admin's own organisation; the person is found through the keyed
personnummer hash, so nothing else is decrypted. Other wings add their parts through
`register_section` (the doctor's answers: doctor.install()).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator, Mapping

from sqlalchemy import select

from formservice import audit, db, jobs, tid
from formservice.accounts.models import Enhet, User
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import Blankett
from formservice.blanketter.validation import format_personnummer
from formservice.db import utcnow
from formservice.rendering.display import format_value
from formservice.rendering.pdf import join_report, page_count, render_report

from . import closing, consents, gallringsstopp
from .models import DOKUMENT_STATUS, Arende, Dokument, Handelse, Samtycke, Utkast
from .operations import INDIVID_FIELDS, answers, keyring, visible_to, with_personnummer

# (section title, function of (ärende, catalogue) -> rows, and the audit object ids it covers)
SectionMaker = Callable[[Arende, Catalogue], tuple[list[dict[str, Any]], list[str]]]
_sections: list[tuple[str, SectionMaker]] = []


def register_section(title: str, maker: SectionMaker) -> None:
    """Add a wing's section (every create_app installs the wings again: each section once)."""
    if (title, maker) not in _sections:
        _sections.append((title, maker))


def _when(moment: datetime | date | None) -> str | None:
    """A stored time (naive UTC) as Swedish local time, "2026-11-27 14:05"; a date as it is."""
    if isinstance(moment, datetime):
        return tid.text(moment)
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


@dataclass(frozen=True)
class Extract:
    """The extract's head and its ärenden, one at a time: a person can own a thousand ärenden, and
    neither the JSON nor the PDF holds them all at once (`arenden` can be consumed once)."""
    meta: dict[str, Any]
    person: dict[str, Any]
    count: int
    arenden: Iterator[dict[str, Any]]


LOAD_ARENDEN = 100  # ärenden read per query: the rows of one batch, never the person's every ärende


def collect(admin: User, personnummer: str, catalogue: Catalogue) -> Extract:
    """Everything about the person with this (normalised) personnummer in the admin's organisation."""
    dbs = db.session()
    ids = list(dbs.scalars(visible_to(admin).with_only_columns(Arende.id)
                           .where(Arende.id.in_(with_personnummer(personnummer)))
                           .order_by(Arende.created_at, Arende.id)))
    person: dict[str, Any] = {"personnummer": personnummer}
    if ids:  # the name as the oldest ärende has it
        individ = keyring().decrypt_json(dbs.get(Arende, ids[0]).individ_enc, {})
        person = {"namn": individ.get("namn", ""), "personnummer": personnummer}
    meta = {"framtaget": _when(utcnow()), "organisation": admin.enhet.organisation.namn,
            "framtaget_av": admin.namn}
    return Extract(meta, person, len(ids), _entries(ids, catalogue))


def _entries(ids: list[int], catalogue: Catalogue) -> Iterator[dict[str, Any]]:
    """The ärenden in order, read LOAD_ARENDEN at a time and decrypted one at a time; the session
    keeps no ärende the caller has let go of (its identity map holds them weakly)."""
    dbs = db.session()
    for start in range(0, len(ids), LOAD_ARENDEN):
        batch = ids[start:start + LOAD_ARENDEN]
        for a in dbs.scalars(select(Arende).where(Arende.id.in_(batch)).order_by(Arende.created_at, Arende.id)):
            yield _entry(a, catalogue)


def _entry(a: Arende, catalogue: Catalogue) -> dict[str, Any]:
    """One ärende of the extract, with everything stored in it."""
    kr = keyring()
    dbs = db.session()
    pm = catalogue.process_map
    individ = kr.decrypt_json(a.individ_enc, {})
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
        {"samtycke": kind.title if (kind := consents.kind_of(catalogue, s.blankett_id)) else s.blankett_id,
         "parter": consents.party_names(s.party_keys), "lamnat_av": consents.given_by(s),
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
    return entry


# ------------------------------------------------------------------ as a background job
# A person can own a thousand ärenden (an extract of megabytes, minutes of layout): the extract is
# a job (formservice/jobs.py) laid out in the job worker process, never in a web worker or the
# render processes. The personnummer travels only inside the job's encrypted parameters.

JOB_KIND = "registerutdrag"
FAILED = "Registerutdraget kunde inte tas fram. Försök igen, eller kontakta den som sköter formservice."


def start(admin: User, personnummer: str, fmt: str) -> jobs.Jobb:
    return jobs.create(admin, JOB_KIND, {"personnummer": personnummer, "format": fmt})


def produce(admin: User, personnummer: str, fmt: str, catalogue: Catalogue) -> tuple[bytes, str, str]:
    """The extract as (body, file name, mimetype), with one audit row for the extract, its format
    and number of ärenden (never the personnummer); the caller commits."""
    from .operations import local_today

    extract = collect(admin, personnummer, catalogue)
    if fmt == "json":
        body, mimetype = _json(extract), "application/json"
    else:
        body, mimetype = _pdf(extract, format_personnummer(personnummer)), "application/pdf"
    audit.record("registerutdrag", user=admin, object_type="person",
                 detail=f"{fmt.upper()}, {extract.count} ärenden", commit=False)
    return body, f"registerutdrag-{local_today().isoformat()}.{fmt}", mimetype


def _json(extract: Extract) -> bytes:
    """The extract as JSON, written an ärende at a time: the same text json.dumps(indent=2) makes of
    {"registerutdrag", "person", "arenden": [...]}, without the whole as Python objects."""
    def dumps(value: Any, indent: str) -> str:
        # json.dumps escapes line breaks inside strings: every newline is the layout's own.
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)

    out = io.BytesIO()
    out.write(('{\n  "registerutdrag": ' + dumps(extract.meta, "  ") + ',\n  "person": '
               + dumps(extract.person, "  ") + ',\n  "arenden": [').encode())
    written = 0
    for entry in extract.arenden:
        out.write(((",\n    " if written else "\n    ") + dumps(entry, "    ")).encode())
        written += 1
    out.write(b"\n  ]\n}" if written else b"]\n}")
    return out.getvalue()


# A layout's memory grows with its length, and WeasyPrint's time per page grows with the pages
# before it: the whole extract of 1,201 generated ärenden in one layout took 2.3 GB and 204 s of CPU.
# So the PDF is laid out in parts of at most PART_ROWS rows (facts, history entries, document
# values, log entries; about 140 kB of layout each: the process stayed under 245 MB while laying
# out 40 ärenden at a time, measured), joined into one tagged PDF, and the running head and
# "Sida x av y" drawn over the joined pages in layouts of STAMP_PAGES pages (1,400 blank pages in
# one layout took 51 s, in layouts of 200 about 2 s each).
PART_ROWS = 600
STAMP_PAGES = 200
JOIN_PARTS = 8


def _rows(entry: dict[str, Any]) -> int:
    """What an ärende weighs in a layout: its facts, table rows and values, and its heading."""
    lists = [v for v in entry.values() if isinstance(v, list)]
    nested = [row.get(key) for rows in lists for row in rows if isinstance(row, dict)
              for key in ("varden", "svar") if isinstance(row.get(key), list)]
    return 1 + sum(len(v) for v in lists) + sum(len(v) for v in nested)


def _parts_of(arenden: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The ärenden in parts of at most PART_ROWS rows (one ärende alone if it is bigger)."""
    part, rows = [], 0
    for entry in arenden:
        weight = _rows(entry)
        if part and rows + weight > PART_ROWS:
            yield part
            part, rows = [], 0
        part.append(entry)
        rows += weight
    yield part  # the first part also carries the title and the person, so there is always one


def _pdf(extract: Extract, pnr: str) -> bytes:
    # The parts are joined JOIN_PARTS at a time into the whole so far: a join holds every part it
    # copies twice (source and copy), so joining all at the end took 1.0 GB for 1,201 ärenden, this
    # about 0.75 GB (most of it the finished document's objects, which the last join holds), for
    # about 12 s more (measured).
    whole: list[bytes] = []
    parts, first = [], 1
    for part in _parts_of(extract.arenden):
        parts.append(render_report("registerutdrag.html", stamp=None, meta=extract.meta, person=extract.person,
                                   pnr=pnr, count=extract.count, first=first, arenden=part))
        first += len(part)
        if len(parts) == JOIN_PARTS:
            whole, parts = [join_report(whole + parts, [])], []
    total = sum(page_count(p) for p in whole + parts)
    overlays = [render_report("registerutdrag.html", tagged=False,
                              stamp={"first": n, "pages": min(STAMP_PAGES, total - n + 1), "total": total})
                for n in range(1, total + 1, STAMP_PAGES)]
    return join_report(whole + parts, overlays)


def _produce_job(job: jobs.Jobb) -> tuple[bytes, str, str]:
    asked = jobs.params(job)
    return produce(db.session().get(User, job.user_id), asked["personnummer"], asked["format"],
                   jobs.app().extensions["catalogue"])


registerutdrag_workflow = jobs.workflow(JOB_KIND, _produce_job, FAILED)
