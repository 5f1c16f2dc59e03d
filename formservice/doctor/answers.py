"""The doctor's part of the rehabiliteringsförfrågan: the fillable PDF out, the answers back in.

A returned PDF is tied to its document by a signed reference (docref) — no personnummer — and
read safely (readback). Answers wait for the socialsekreterare's confirmation; on confirmation
they are stored encrypted in the ärende, the document becomes "besvarad", a flattened archive
copy is kept, and the ärende moves from ruta 10 (komplettering) to ruta 11.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import defer, joinedload

from formservice import audit, db, tid
from formservice.accounts.models import User
from formservice.arenden import seal_jobs, seals, statistik
from formservice.arenden.models import Arende, Dokument, Handelse
from formservice.arenden.operations import keyring, move, new_public_id, require_open, store_answers
from formservice.arenden.registry import context_of
from formservice.blanketter.model import FILLABLE_ROLES, Blankett, field_role
from formservice.blanketter.validation import validate_fields
from formservice.db import utcnow
from formservice.rendering.display import format_value

from . import readback, reference
from .models import Svar

log = logging.getLogger(__name__)


def ruta_after_answer(process_map, blankett_id: str, current: str) -> str | None:
    """Where the answers move the case, read off the process map: from the ruta that sends the
    förfrågan (soc1.9) or the komplettering after it (soc1.10) to the ruta after that (soc1.11)."""
    here = process_map.rutor.get(current)  # also a ruta renamed since (formerly)
    current = here.id if here is not None else current
    for ruta in process_map.rutor.values():
        if blankett_id in ruta.blankett_ids and ruta.next:
            waiting = process_map.ruta(ruta.next)
            if current in (ruta.id, waiting.id) and waiting.next:
                return waiting.next
    return None


def signing_secret() -> bytes:
    configured = current_app.config.get("DOCUMENT_SIGNING_KEY")
    if configured:
        return configured.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"formservice document reference",
                    hashlib.sha256).digest()


def has_doctor_part(blankett: Blankett) -> bool:
    return bool(readback.doctor_fields(blankett))


def doctor_sections(blankett: Blankett):
    """(section, the doctor's fields in it) for every section with a part for the doctor."""
    out = []
    for s in blankett.sections:
        fields = [f for f in s.fields if field_role(f, s) in FILLABLE_ROLES]
        if fields:
            out.append((s, fields))
    return out


doctor_fields = readback.doctor_fields


def reference_for(dok: Dokument, arende: Arende) -> str:
    return reference.make_reference(signing_secret(), document_id=dok.public_id, arende_id=arende.public_id,
                                 organisation_id=arende.enhet.organisation_id)


def fillable_copy(blankett: Blankett, values: Mapping[str, Any], ctx, dok: Dokument, arende: Arende
                  ) -> bytes | None:
    """The document registry's hook: the same förfrågan with the doctor's part as form fields,
    signed to come back to this document; None for a blankett without a part for the doctor."""
    return fillable_pdf(blankett, values, ctx, dok, arende) if has_doctor_part(blankett) else None


def fillable_pdf(blankett: Blankett, values: Mapping[str, Any], ctx, dok: Dokument, arende: Arende) -> bytes:
    from formservice.rendering.pdf import render_pdf

    return reference.embed_reference(render_pdf(blankett, values, ctx, fillable=True).pdf, reference_for(dok, arende))


# ---------------------------------------------------------------- receiving
def receive_pdf(user: User, arende: Arende, dok: Dokument, data: bytes, blankett: Blankett) -> Svar:
    """Read a returned PDF; raises readback.ReturnedPdfError with a Swedish message, storing nothing.
    The answers read wait (status granskas) for the socialsekreterare's confirmation; the uploaded
    file itself is never kept (the archive copy is rendered from the confirmed answers)."""
    require_open(arende)
    returned = readback.open_returned(data, max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    ref = readback.check_reference(returned, signing_secret(), arende_id=arende.public_id,
                                   organisation_id=arende.enhet.organisation_id)
    if ref.document_id != dok.public_id:
        raise readback.ReturnedPdfError("PDF-filen hör till ett annat dokument i ärendet. Ladda upp den "
                                        "under det dokument den besvarar.")
    # The doctor's name and unit are form fields even when known (prefilled as their default): what
    # the returned file says wins, also when the doctor cleared it. A copy issued before they were
    # fields has none, and then the known values count.
    known = {k: v for k, v in known_answers(dok, blankett).items() if k not in returned.fields}
    raw = dict(known, **readback.doctor_answers(blankett, returned.fields))
    # Show normalised values where they are valid ("50 %" → 50); keep the rest as read ("ca 25"),
    # to be resolved by the socialsekreterare (readback.unreadable_values) – never dropped.
    clean, _errors = validate_fields(doctor_fields(blankett), raw, partial=True)
    raw.update(clean)
    # Who signed the file, and whether it holds, for the review page: the file itself is not kept.
    raw[SIGNATURES] = seals.uploaded_signatures(data)
    svar = Svar(public_id=new_public_id(), arende_id=arende.id, dokument_id=dok.id, source="pdf",
                answers_enc=keyring().encrypt_json(raw), created_by=user.id)
    dbs = db.session()
    dbs.add(svar)
    dbs.flush()
    audit.record("document_uploaded", user=user, object_type="dokument", object_id=dok.public_id, commit=False)
    dbs.commit()
    return svar


def known_answers(dok: Dokument, blankett: Blankett) -> dict[str, Any]:
    """The doctor's fields the socialsekreterare already filled in on the document (e.g. the
    doctor's name and vårdenhet): in the fillable PDF they are form fields with this value as
    their default; on paper they are printed, and they count as answered."""
    values = keyring().decrypt_json(dok.values_enc, {})
    return {f.name: values[f.name] for f in doctor_fields(blankett) if values.get(f.name) not in (None, "")}


def start_paper(user: User, arende: Arende, dok: Dokument, blankett: Blankett) -> Svar:
    require_open(arende)
    svar = Svar(public_id=new_public_id(), arende_id=arende.id, dokument_id=dok.id, source="papper",
                answers_enc=keyring().encrypt_json(known_answers(dok, blankett)), created_by=user.id)
    db.session().add(svar)
    db.session().commit()
    return svar


def pending_answers(svar: Svar) -> dict[str, Any]:
    answers = keyring().decrypt_json(svar.answers_enc, {})
    answers.pop(SIGNATURES, None)
    return answers


# The signatures of an uploaded PDF (arenden.seals.uploaded_signatures), kept with the answers
# under this key, which no field can have, until they are confirmed.
SIGNATURES = "_underskrifter"


def signatures_of(svar: Svar) -> list[dict[str, Any]]:
    return keyring().decrypt_json(svar.answers_enc, {}).get(SIGNATURES) or []


def _archived_answers():
    """The doctor's confirmed answers' archive copies, for sealing and verifying them all."""
    from formservice.accounts.models import Enhet, Organisation

    for svar, organisation in db.session().execute(
            select(Svar, Organisation).join(Arende, Arende.id == Svar.arende_id)
            .join(Enhet, Enhet.id == Arende.enhet_id).join(Organisation, Organisation.id == Enhet.organisation_id)
            .where(Svar.pdf_enc.isnot(None)).order_by(Svar.id)):
        yield seals.Stored("svar", f"läkarens svar {svar.public_id}", svar, "pdf_enc", organisation)


seals.register_source(_archived_answers)
seal_jobs.register_kind("svar", Svar, "pdf_enc")


def review_errors(svar: Svar, blankett: Blankett, values: Mapping[str, Any]) -> dict[str, str]:
    """What the review page shows before "Bekräfta": for answers read from an upload every problem
    at once (readback.validate_doctor_answers); a paper registration, which starts empty, only
    what cannot be shown as written. A value the reader cannot use ("ca 25" as a percent) is
    shown as the doctor wrote it with an error asking for a value – never dropped."""
    if svar.source == "pdf":
        return readback.validate_doctor_answers(blankett, values)[1]
    return readback.unreadable_values(blankett, values)


def get_svar(arende: Arende, public_id: str) -> Svar | None:
    return db.session().scalar(select(Svar).where(Svar.arende_id == arende.id, Svar.public_id == public_id))


# How an answer came in, for the history ("läkarens svar registrerat (…)").
SOURCE_TEXT = {"pdf": "uppladdad PDF", "papper": "från pappersblankett", "online": "besvarad i formservice av vården"}

# Confirming an answer older than the current one: which of the two stays current (the form's
# radio buttons; the default keeps the newer).
KEEP_NEWER, MAKE_CURRENT = "nyare", "detta"
CHOICE_FIELD = "gallande_svar"


def newer_current(svar: Svar) -> Svar | None:
    """The document's current confirmed answer when it came in (was read in or registered) after
    ``svar``: confirming ``svar`` then needs an explicit choice, never a silent replace."""
    current = current_answer(svar.dokument)
    if current is None or current.id == svar.id:
        return None
    return current if (current.created_at, current.id) > (svar.created_at, svar.id) else None


def confirm(user: User, arende: Arende, svar: Svar, blankett: Blankett, raw: Mapping[str, Any], *,
            choice: str | None = None, newer_seen: str | None = None) -> dict[str, str]:
    """Validate and store the answers; returns errors (empty on success). An answer older than the
    current one needs ``choice`` (KEEP_NEWER: it is filed as replaced and the current stays;
    MAKE_CURRENT: it replaces the current) made while seeing that answer (``newer_seen``, its
    public id: an answer confirmed meanwhile asks again)."""
    require_open(arende)
    clean, errors = readback.validate_doctor_answers(blankett, raw)
    newer = newer_current(svar) if svar.status == "granskas" else None
    if newer is not None and (choice not in (KEEP_NEWER, MAKE_CURRENT) or newer_seen != newer.public_id):
        errors[CHOICE_FIELD] = ("Det gällande svaret är nyare än det här. Välj om det nyare svaret ska "
                                "fortsätta att gälla eller om det här äldre svaret ska ersätta det.")
    if errors:
        signed = signatures_of(svar)  # what the uploaded file said stays with what was typed
        svar.answers_enc = keyring().encrypt_json(dict(raw, **({SIGNATURES: signed} if signed else {})))
        db.session().commit()
        return errors
    if svar.status != "granskas":
        return {}  # confirmed already (a double submit): nothing more to do
    kr = keyring()
    dok = svar.dokument
    svar.pdf_enc = kr.encrypt(archive_pdf(user, arende, dok, blankett, clean))  # sealed after the commit
    svar.answers_enc = kr.encrypt_json(clean)
    svar.confirmed_at = utcnow()
    svar.confirmed_by = user.id
    source = SOURCE_TEXT.get(svar.source, svar.source)
    dbs = db.session()
    if newer is not None and choice == KEEP_NEWER:
        svar.status = SUPERSEDED  # in the history, with its archive copy; the newer answer stays current
        dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="status", from_ruta=arende.ruta,
                         to_ruta=arende.ruta, beslut=f"{dok.document_number}: läkarens svar registrerat som "
                         f"ersatt ({source}, inkommet {_local(svar.created_at, with_time=True)}); det nyare "
                         f"svaret, inkommet {_local(newer.created_at, with_time=True)}, gäller fortfarande"))
        audit.record("arende_changed", user=user, object_type="dokument", object_id=dok.public_id,
                     detail="läkarens svar (ersatt)", commit=False)
        dbs.commit()
        _seal_later(svar)
        return {}
    replaced = current_answer(dok)
    for earlier in _confirmed_rows(dok):
        earlier.status = SUPERSEDED  # kept in the history; only one answer is current
    svar.status = "bekraftad"
    dok.status = "besvarad"
    dok.status_at = utcnow()
    store_answers(arende, clean)
    if replaced is None:  # the lead time runs to the doctor's first answer
        statistik.on_answer(arende, dok.created_at, svar.confirmed_at)
    replaces = ""
    if replaced is not None:
        replaces = f"; ersätter svaret från {_local(replaced.confirmed_at, with_time=True)}" + (
            f", som var nyare (inkommet {_local(replaced.created_at, with_time=True)}, det här "
            f"{_local(svar.created_at, with_time=True)})" if newer is not None else "")
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="status", from_ruta=arende.ruta,
                     to_ruta=arende.ruta, beslut=f"{dok.document_number}: läkarens svar registrerat "
                     f"({source}){replaces}"))
    audit.record("arende_changed", user=user, object_type="dokument", object_id=dok.public_id,
                 detail="läkarens svar", commit=False)
    dbs.commit()
    _seal_later(svar)
    target = ruta_after_answer(current_app.extensions["catalogue"].process_map, dok.blankett_id, arende.ruta)
    if target:
        move(user, arende, target, kind="ruta", beslut="Kompletteringen från vården har kommit in")
    return {}


def _seal_later(svar: Svar) -> None:
    """The answers' archive copy sealed by the job worker (arenden/seal_jobs.py; at once where no job
    worker serves the app): the click does not wait for the TSA."""
    seal_jobs.seal_later("svar", svar.id)


def archive_pdf(user: User, arende: Arende, dok: Dokument, blankett: Blankett, answers: Mapping[str, Any]
                ) -> bytes:
    """The förfrågan as it now stands, answered: the caseworker's part as produced and the doctor's
    confirmed answers, rendered anew as PDF/A (nothing of an uploaded file is copied into the archive)."""
    from formservice.rendering import pdf as pdf_rendering

    values = dict(keyring().decrypt_json(dok.values_enc, {}), **answers)
    # The document's own organisation and day, also when a doctor of the region answers online.
    ctx = context_of(dok)
    copies = pdf_rendering.copies(blankett, values)
    return pdf_rendering.render_document(copies, ctx, variant=pdf_rendering.ARCHIVE_VARIANT).pdf


def cancel(svar: Svar) -> bool:
    """Throw away answers that were read or started but not confirmed ("Avbryt")."""
    if svar.status != "granskas":
        return False
    db.session().delete(svar)
    db.session().commit()
    return True


def purge_pending(older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None) -> int:
    """Answers left unconfirmed (an abandoned upload or paper registration) are deleted after a while."""
    stale = select(Svar).where(Svar.status == "granskas", Svar.created_at < (now or utcnow()) - older_than)
    rows = db.session().scalars(stale).all()
    if not dry_run:
        for row in rows:
            db.session().delete(row)
        db.session().commit()
    return len(rows)


def delete_for_arenden(dbs, arende_ids) -> None:
    """Gallring of whole ärenden: their answers go first (arenden.gallring.delete_arenden)."""
    dbs.execute(delete(Svar).where(Svar.arende_id.in_(list(arende_ids))),
                execution_options={"synchronize_session": False})


SUPERSEDED = "ersatt"


def _confirmed_rows(dok: Dokument) -> list[Svar]:
    return list(db.session().scalars(select(Svar).where(Svar.dokument_id == dok.id, Svar.status == "bekraftad")
                                     .order_by(Svar.confirmed_at.desc(), Svar.id.desc())))


def current_answer(dok: Dokument) -> Svar | None:
    """The confirmed answer that counts for the document (the latest; earlier ones are "ersatt")."""
    rows = _confirmed_rows(dok)
    return rows[0] if rows else None


def superseded(dok: Dokument) -> list[Svar]:
    """The document's earlier confirmed answers, replaced by a later one (newest first); answers
    confirmed side by side before there was a current one count as replaced too."""
    rows = _confirmed_rows(dok)[1:] + list(db.session().scalars(
        select(Svar).where(Svar.dokument_id == dok.id, Svar.status == SUPERSEDED)))
    return sorted(rows, key=lambda s: (s.confirmed_at is not None, s.confirmed_at, s.id), reverse=True)


def _local(moment, *, with_time: bool = False) -> str:
    """A stored time as the Swedish date (and time) people read; "okänt datum" for none."""
    return tid.text(moment, with_time=with_time, missing="okänt datum")


def confirmed(arende: Arende) -> list[tuple[Svar, dict[str, Any]]]:
    """The current confirmed answer of each document in the ärende (not the superseded ones)."""
    # With the document each answers (the overview names it), in the same query rather than one per
    # answer; without the archive copy, which no caller of this reads (doctor.answers.archive does).
    rows = db.session().scalars(select(Svar).where(Svar.arende_id == arende.id, Svar.status == "bekraftad")
                                .options(defer(Svar.pdf_enc), joinedload(Svar.dokument, innerjoin=True))
                                .order_by(Svar.confirmed_at.desc(), Svar.id.desc())).all()
    seen: set[int] = set()
    current = [s for s in rows if not (s.dokument_id in seen or seen.add(s.dokument_id))]
    return [(s, keyring().decrypt_json(s.answers_enc, {})) for s in current]


def archive(svar: Svar) -> bytes | None:
    return keyring().decrypt(svar.pdf_enc) if svar.pdf_enc is not None else None


# ---------------------------------------------------------------- the answers as prefill for later blanketter
def summary(blankett: Blankett, values: Mapping[str, Any]) -> str:
    """The doctor's assessment in plain sentences, e.g. as the Finsamteam anmälan's reason:
    "Enligt läkarens bedömning (Åsa Läkarsson, Vårdcentralen Skärholmen, 2026-12-01) kan personen
    delta i Jobbtorg på 50 % och i sysselsättning. Personen kan inte delta i språkundervisning/
    utbildning (motivering: …)." Activities are named as in the definition's field labels."""
    rows = {n: row for s in blankett.sections if s.layout == "grid" for row in s.grid_rows for n in row.fields}
    can, cannot = [], []
    # Exactly as given (readback.activity_answers): "kan" only where "Kan delta" is ticked, with the
    # percentage; "kan inte" where "Kan inte delta" is ticked or motivated. Validation refuses an
    # activity that says both; were one stored, both are said rather than one guessed.
    for answer in readback.activity_answers(blankett, values):
        act = answer.activity
        row = rows[next(n for n in act[2:] if n)]
        name = _in_sentence(str(values.get(row.label_field) or act.name), row.label)
        said_as_verb = f"kan {name.lower()}" in row.label.lower()  # "… och kan söka arbete?"
        if answer.can:
            share = format_value(blankett.field(act.omfattning), answer.share) if answer.share is not None else ""
            can.append((said_as_verb, name + (f" på {share}" if share else "")))
        if answer.cannot:
            why = _clause(answer.motivation)
            cannot.append((said_as_verb, name + (f" (motivering: {why})" if why else "")))
    who = ", ".join(_clause(values[n]) for n in ("lakare_namn", "vardenhet", "forfragan_svar_datum")
                    if values.get(n))
    opening = "Enligt läkarens bedömning" + (f" ({who})" if who else "")
    sentences = []
    if can:
        sentences.append(f"{opening} kan personen {_activity_list(can, 'och')}")
    if cannot:
        sentences.append(("Personen kan" if can else f"{opening} kan personen") + " inte "
                         + _activity_list(cannot, "eller"))
    if not sentences:
        sentences.append("Läkaren har svarat på rehabiliteringsförfrågan" + (f" ({who})" if who else ""))
    if values.get("lakare_anpassning"):
        label = blankett.field("lakare_anpassning").label if blankett.has_field("lakare_anpassning") else "Anpassning"
        sentences.append(f"{label}: {_clause(values['lakare_anpassning'])}")
    if values.get("lakare_kommentar"):
        sentences.append(f"Läkarens kommentar: {_clause(values['lakare_kommentar'])}")
    return " ".join(s if s.endswith(("!", "?")) else s + "." for s in sentences)


def _clause(text: Any) -> str:
    """Free text inside a sentence: on one line, without the full stop or semicolon it ended with."""
    return " ".join(str(text).split()).rstrip(".;:, ")


def _in_sentence(name: str, context: str) -> str:
    """A name as it stands mid-sentence: "Sysselsättning" becomes "sysselsättning", while a proper
    noun that the definition writes capitalised in running text (Jobbtorg, in "Delta i Jobbtorgets
    verksamheter?") and an abbreviation (KBT) keep their capital."""
    first = (name.split() or [""])[0]
    if not name[:1].isupper() or first.isupper() or context.find(first) > 0:
        return name
    return name[:1].lower() + name[1:]


def _activity_list(items: list[tuple[bool, str]], conjunction: str) -> str:
    """ "delta i Jobbtorg på 50 %, i sysselsättning och söka arbete": nouns after "delta i", then
    the activities the definition words as verbs."""
    phrases = [("delta i " if i == 0 else "i ") + p for i, p in enumerate(p for verb, p in items if not verb)]
    phrases += [p for verb, p in items if verb]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + f" {conjunction} " + phrases[-1]


CONTACT_FIELDS = ("lakare_namn", "vardenhet", "vardenhet_telefon")


def prefill_sources(arende: Arende, blanketter: Mapping[str, Blankett]) -> dict[str, str]:
    """Prefill keys lakarsvar.* from the latest confirmed answers in the ärende (empty when none)."""
    for svar, values in confirmed(arende):
        blankett = blanketter.get(svar.dokument.blankett_id)
        if blankett is None:
            continue
        # FK and the Finsamteam ask for "kontaktperson, namn och telefon".
        who = ", ".join(str(values[n]) for n in CONTACT_FIELDS if values.get(n))
        return {"lakarsvar.sammanfattning": summary(blankett, values),
                "lakarsvar.kontakt": who, "lakarsvar.finns": "1"}
    return {}


def extract_rows(arende: Arende, catalogue) -> tuple[list[dict[str, Any]], list[str]]:
    """The doctor's answers of an ärende for its registerutdrag (every answer, also replaced and
    unconfirmed ones, since they are stored), and their public ids for the audit entries."""
    from formservice.arenden.registerutdrag import labelled_values

    rows = db.session().scalars(select(Svar).where(Svar.arende_id == arende.id).order_by(Svar.created_at)).all()
    status = {"granskas": "Inläst, inte bekräftat", "bekraftad": "Bekräftat", "ersatt": "Ersatt av ett senare svar"}
    out = []
    for svar in rows:
        blankett = catalogue.blanketter.get(svar.dokument.blankett_id)
        values = keyring().decrypt_json(svar.answers_enc, {})
        out.append({"dokumentnummer": svar.dokument.document_number,
                    "kalla": svar.source_label,
                    "status": status.get(svar.status, svar.status), "inlast": _local(svar.created_at),
                    "bekraftat": _local(svar.confirmed_at) if svar.confirmed_at else None,
                    "svar": labelled_values([blankett], values) if blankett else []})
    return out, [svar.public_id for svar in rows]
