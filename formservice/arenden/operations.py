"""Operations on ärenden: create, find, move through the process map, answers, drafts, documents.

Access control lives here, not in the views: every lookup by id takes the user and answers
"not found" for an ärende outside the user's enhet (an admin: outside the organisation).
Personal data is encrypted with the app's keyring before it reaches the database.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Iterable, Mapping

from flask import current_app
from sqlalchemy import false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm import Session

from formservice import db, tid
from formservice.accounts.models import Enhet, User
from formservice.blanketter.model import Blankett, facts
from formservice.blanketter.prefill import TYPED_BY
from formservice.blanketter.sus_categories import UTBILDNINGSNIVA
from formservice.blanketter.sprak import load_languages
from formservice.blanketter import validation
from formservice.blanketter.validation import ValidationError, ascii_digits, normalize_personnummer
from formservice.crypto import Keyring, name_prefixes, name_tokens
from formservice.db import utcnow

from . import demografi, statistik
from .models import Arende, ArendeSokord, Dokument, Handelse, Utkast

INDIVID_FIELDS = [
    # key, label, required, kind, max length
    ("namn", "Namn", True, "text", 200),
    ("personnummer", "Personnummer eller samordningsnummer", True, "personnummer", 15),
    ("adress", "Utdelningsadress", False, "text", 200),
    ("postnummer", "Postnummer", False, "postnummer", 10),
    ("ort", "Ort", False, "text", 100),
    ("telefon", "Telefon", False, "phone", 30),
    ("epost", "E-post", False, "email", 254),
    ("foretradare_namn", "Eventuell legal företrädare", False, "text", 200),
    ("foretradare_kontakt", "Företrädarens kontaktuppgifter", False, "text", 200),
    # For SUS (blanketter/sus_categories.py): asked once, on the anmälan to Finsamteam or here.
    ("utbildningsniva", "Högsta slutförda utbildningsnivå", False, "choice", 40),
    # The language the individ's documents are also printed in (blanketter/sprak.py, issue 30).
    ("sprak", "Språk för översättning av blanketter", False, "choice", 40),
    # Skyddade personuppgifter: never a name or personnummer on a SUS-underlag (arenden/sus.py).
    ("skyddade_personuppgifter", "Individen har skyddade personuppgifter", False, "flag", 2),
]


@lru_cache(maxsize=1)
def individ_choices() -> dict[str, dict[str, str]]:
    """The options of the "choice" keys above, by key (the languages from translations/sprak.yaml,
    read on first use, not at import)."""
    return {"utbildningsniva": UTBILDNINGSNIVA,
            "sprak": {"ingen": "Ingen översättning (bara svenska)",
                      **{code: lang.name for code, lang in load_languages().items()}}}


class NotFound(LookupError):
    """No such ärende for this user (also when it exists in another enhet: never reveal that)."""


class Conflict(Exception):
    """Someone else saved in between. `theirs` is what is stored now."""

    def __init__(self, theirs: Mapping[str, Any], version: int):
        self.theirs = dict(theirs)
        self.version = version
        super().__init__("Ärendet har ändrats av någon annan.")


class ArendeClosed(Exception):
    """A change to an ärende that is closed: it must be reopened first."""

    def __init__(self, arende: Arende):
        self.arende = arende
        super().__init__("Ärendet är avslutat. Öppna det igen för att ändra i det.")


def require_open(arende: Arende) -> None:
    """Every change to an ärende passes here: a closed ärende is read-only."""
    if arende.status == "avslutat":
        raise ArendeClosed(arende)


def local_today() -> date:
    """Today in Sweden, whatever the server's time zone (dates people type are Swedish dates)."""
    return tid.today()


def parse_date(text: str) -> date | None:
    """A date as validation.parse_date reads it (ÅÅÅÅ-MM-DD and its variants); None when it is not one.
    Forms that show why use validation.date_or_error instead."""
    try:
        return validation.parse_date(text or "")
    except ValidationError:
        return None


def keyring() -> Keyring:
    return current_app.extensions["keyring"]


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


# ---------------------------------------------------------------- individ
def clean_individ(raw: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Validate the individ's details; (clean, errors by key) with Swedish messages."""
    from formservice.blanketter.validation import normalize_phone, too_long, validate_email

    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, label, required, kind, max_length in INDIVID_FIELDS:
        value = str(raw.get(key) or "").strip()
        if kind == "flag":
            # A ticked box; anything posted counts, an unticked box posts nothing.
            value = "ja" if value and value.lower() not in ("0", "nej", "false") else ""
        if not value:
            if required:
                errors[key] = f"Fyll i {label.lower()}."
            continue
        if len(value) > max_length:
            errors[key] = f"{label}: {too_long(max_length, len(value))}"
            continue
        try:
            if kind == "personnummer":
                value = normalize_personnummer(value)
            elif kind == "phone":
                value = normalize_phone(value)
            elif kind == "email":
                value = validate_email(value)
            elif kind == "choice" and value not in individ_choices()[key]:
                raise ValidationError("välj ett av alternativen i listan.")
            elif kind == "postnummer":
                digits = value.replace(" ", "")
                if not (digits.isascii() and digits.isdigit() and len(digits) == 5):
                    raise ValidationError("skriv fem siffror, t.ex. 123 45.")
                value = f"{digits[:3]} {digits[3:]}"
        except ValidationError as exc:
            errors[key] = f"{label}: {exc}"
            continue
        clean[key] = value
    return clean, errors


def individ(arende: Arende) -> dict[str, str]:
    return keyring().decrypt_json(arende.individ_enc, {})


def _index_individ(dbs: Session, arende: Arende, data: Mapping[str, str]) -> None:
    kr = keyring()
    arende.pnr_hash = kr.keyed_hash("pnr", data["personnummer"])
    dbs.query(ArendeSokord).filter_by(arende_id=arende.id).delete()
    for prefix in name_prefixes(data.get("namn", "")):
        dbs.add(ArendeSokord(arende_id=arende.id, token_hash=kr.keyed_hash("namn", prefix)))


def _set_individ(dbs: Session, arende: Arende, data: Mapping[str, str]) -> None:
    before = individ(arende) if arende.individ_enc else None
    arende.individ_enc = keyring().encrypt_json(dict(data))
    if before is None or any(before.get(k) != data.get(k) for k in ("namn", "personnummer")):
        _index_individ(dbs, arende, data)  # the search index: only what it is made of (an address is not)
    demografi.set_columns(arende, data.get("personnummer", ""), (arende.created_at or utcnow()).date())


def create(user: User, data: Mapping[str, str], *, lane: str, ruta: str) -> Arende:
    dbs = db.session()
    arende = Arende(public_id=new_public_id(), enhet_id=user.enhet_id, handlaggare_id=user.id, lane=lane,
                    ruta=ruta, individ_enc=b"", pnr_hash="")
    dbs.add(arende)
    dbs.flush()
    _set_individ(dbs, arende, data)
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="skapad", to_ruta=ruta))
    dbs.commit()
    return arende


def update_individ(user: User, arende: Arende, data: Mapping[str, str], expected_version: int) -> None:
    require_open(arende)
    if arende.version != expected_version:
        raise Conflict(individ(arende), arende.version)
    dbs = db.session()
    _set_individ(dbs, arende, data)
    arende.updated_at = utcnow()
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="andrad", beslut="Uppgifter om individen"))
    dbs.commit()


def individ_from_document(user: User, arende: Arende, updates: Mapping[str, str], document: str) -> list[str]:
    """Write what a document says about the individ (prefill.individ_updates: an address typed anew
    in the wizard) into the individ's record, so that every later document reads it from there; caller
    commits. A value the record would not accept stays on the document alone. Returns the labels
    changed (for the history entry)."""
    if not updates:
        return []
    current = individ(arende)
    clean, errors = clean_individ(dict(current, **updates))
    changed = {k: clean[k] for k in updates if k not in errors and k in clean and clean[k] != current.get(k)}
    if not changed:
        return []
    _set_individ(db.session(), arende, dict(current, **changed))
    labels = [label for key, label, *_ in INDIVID_FIELDS if key in changed]
    db.session().add(Handelse(arende_id=arende.id, user_id=user.id, kind="andrad",
                              beslut=f"Uppgifter om individen ({', '.join(labels).lower()}) från {document}"))
    return labels


# ---------------------------------------------------------------- access
def visible_to(user: User):
    """The ärenden a user may see: own enhet; an admin the whole organisation; an uppföljare none
    (statistics only, see uppfoljning)."""
    stmt = select(Arende)
    if user.role == "uppfoljare":
        return stmt.where(false())
    if user.is_admin:
        return stmt.join(Enhet, Arende.enhet_id == Enhet.id).where(
            Enhet.organisation_id == user.enhet.organisation_id)
    return stmt.where(Arende.enhet_id == user.enhet_id)


def get(user: User, public_id: str) -> Arende:
    arende = db.session().scalar(visible_to(user).where(Arende.public_id == public_id))
    if arende is None:
        raise NotFound(public_id)
    return arende


# ---------------------------------------------------------------- list and search
@dataclass(frozen=True)
class Row:
    arende: Arende
    namn: str
    personnummer: str


def search(user: User, *, query: str = "", lane: str | None = None, ruta: str | None = None,
           status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Row], int]:
    """The user's ärenden, newest first; `query` is an exact personnummer or the start of names;
    `status` "oppet" or "avslutat" (None: both)."""
    kr = keyring()
    stmt = visible_to(user)
    query = ascii_digits(query or "").strip()
    if query:
        digits = query.replace("-", "").replace("+", "").replace(" ", "")
        if digits.isdigit():
            try:
                ids = with_personnummer(normalize_personnummer(query))
            except ValidationError:
                return [], 0
            if not ids:
                return [], 0
            stmt = stmt.where(Arende.id.in_(ids))
        else:
            hashes = sorted({kr.keyed_hash("namn", t) for t in name_tokens(query)})
            matching = (select(ArendeSokord.arende_id).where(ArendeSokord.token_hash.in_(hashes))
                        .group_by(ArendeSokord.arende_id)
                        .having(func.count(func.distinct(ArendeSokord.token_hash)) == len(hashes)))
            stmt = stmt.where(Arende.id.in_(matching))
    if lane:
        stmt = stmt.where(Arende.lane == lane)
    if ruta:
        stmt = stmt.where(Arende.ruta == ruta)
    if status:
        stmt = stmt.where(Arende.status == status)
    dbs = db.session()
    total = dbs.scalar(select(func.count()).select_from(stmt.subquery()))
    page = dbs.scalars(stmt.order_by(Arende.updated_at.desc(), Arende.id.desc()).limit(limit).offset(offset)).all()
    rows = []
    for a in page:
        data = kr.decrypt_json(a.individ_enc, {})
        rows.append(Row(a, data.get("namn", ""), data.get("personnummer", "")))
    return rows, total


def with_personnummer(personnummer: str) -> list[int]:
    """The ids of every ärende with this (normalised) personnummer: one lookup in the keyed hash's
    index. Asked on its own first, because combined with the enhet and the newest-first order
    SQLite's planner walks the whole enhet's (enhet, updated) index instead (100 ms at 100,000)."""
    return list(db.session().scalars(personnummer_lookup(keyring().keyed_hash("pnr", personnummer))))


def personnummer_lookup(pnr_hash: str):
    """The ids of the ärenden with this keyed hash (its query plan is tested on both databases)."""
    return select(Arende.id).where(Arende.pnr_hash == pnr_hash)


def open_in_enhet(user: User, personnummer: str) -> list[Row]:
    """The open ärenden of the user's own enhet for this (normalised) personnummer, newest first:
    found through the keyed hash index, so only the matches are ever decrypted."""
    kr = keyring()
    ids = with_personnummer(personnummer)
    if not ids:
        return []
    stmt = (select(Arende).where(Arende.id.in_(ids), Arende.enhet_id == user.enhet_id, Arende.status == "oppet")
            .order_by(Arende.updated_at.desc(), Arende.id.desc()))
    rows = []
    for a in db.session().scalars(stmt):
        data = kr.decrypt_json(a.individ_enc, {})
        rows.append(Row(a, data.get("namn", ""), data.get("personnummer", "")))
    return rows


# ---------------------------------------------------------------- the process
def move(user: User, arende: Arende, to_ruta: str, *, kind: str = "ruta", beslut: str | None = None,
         note: str | None = None, lane: str | None = None) -> None:
    """Record a step on the map (a decision, a choice, a link, or a correction) and move the case."""
    require_open(arende)
    dbs = db.session()
    statistik.on_move(arende, to_ruta, current_app.extensions["catalogue"].process_map, utcnow())
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind=kind, from_ruta=arende.ruta, to_ruta=to_ruta,
                     beslut=beslut, note_enc=keyring().encrypt_json(note) if note else None))
    arende.ruta = to_ruta
    arende.lane = lane or to_ruta.split(".", 1)[0]
    arende.updated_at = utcnow()
    dbs.commit()


def history(arende: Arende) -> list[tuple[Handelse, str | None]]:
    kr = keyring()
    rows = db.session().scalars(select(Handelse).where(Handelse.arende_id == arende.id)
                                .order_by(Handelse.at.desc(), Handelse.id.desc())).all()
    return [(h, kr.decrypt_json(h.note_enc) if h.note_enc else None) for h in rows]


# ---------------------------------------------------------------- answers (each datum typed once)
# Stored with the facts, encrypted with them: fact name -> number of the document it was last given
# in. The key can never be a field name (those begin with a letter).
_GIVEN_IN = "_dokument"


def _stored_answers(arende: Arende) -> dict[str, Any]:
    return keyring().decrypt_json(arende.svar_enc, {}) if arende.svar_enc else {}


def answers(arende: Arende) -> dict[str, Any]:
    """The facts of the ärende by field name (the answers every later blankett starts from)."""
    return {k: v for k, v in _stored_answers(arende).items() if k != _GIVEN_IN}


def answers_given_in(arende: Arende) -> dict[str, str]:
    """For each fact, the number of the document it was last given in (absent when not known,
    e.g. for a fact the doctor's confirmed answers changed)."""
    return dict(_stored_answers(arende).get(_GIVEN_IN) or {})


def store_answers(arende: Arende, values: Mapping[str, Any], definitions: Iterable[Blankett] | None = None,
                  *, document_number: str | None = None) -> None:
    """Merge the facts among a document's values into the ärende's answers (by field name); caller
    commits. What the definitions (default: the app's catalogue) mark `scope: dokument` stays in the
    document's own values and is dropped here, also from answers stored before the scope existed.
    ``document_number`` records, per fact, the document it was given in."""
    require_open(arende)
    if definitions is None:
        definitions = current_app.extensions["catalogue"].blanketter.values()
    definitions = list(definitions)
    stored = _stored_answers(arende)
    given_in = stored.pop(_GIVEN_IN, None) or {}
    merged = facts(definitions, stored)
    for name, value in facts(definitions, values).items():
        if document_number:
            given_in[name] = document_number
        elif merged.get(name) != value:
            given_in.pop(name, None)  # changed by an answer from no known document
        merged[name] = value
    merged[_GIVEN_IN] = {k: v for k, v in given_in.items() if k in merged}
    arende.svar_enc = keyring().encrypt_json(merged)
    arende.updated_at = utcnow()


# ---------------------------------------------------------------- drafts
def draft(arende: Arende, blankett_id: str) -> Utkast | None:
    return db.session().scalar(select(Utkast).where(Utkast.arende_id == arende.id,
                                                    Utkast.blankett_id == blankett_id))


def draft_values(d: Utkast | None) -> dict[str, Any]:
    return keyring().decrypt_json(d.values_enc, {}) if d is not None else {}


def save_draft(user: User, arende: Arende, blankett_id: str, values: Mapping[str, Any],
               expected_version: int, *, from_source: Iterable[str] = (), producer: Iterable[str] = ()) -> Utkast:
    """Merge `values` into the draft. ``expected_version`` is the draft's version when the form was
    shown (0: there was no draft yet). A draft changed by someone else since — or saved by someone
    else at the same moment — raises Conflict instead of overwriting. Fields named in ``from_source``
    were saved just as their live source says: the draft keeps no copy, so the document reads the
    source when it is produced. Fields in ``producer`` are about the producing person: the draft
    records that this user typed them (prefill.TYPED_BY)."""
    require_open(arende)
    dbs = db.session()
    d = draft(arende, blankett_id)
    if d is None:
        d = Utkast(arende_id=arende.id, blankett_id=blankett_id, values_enc=keyring().encrypt_json({}))
        dbs.add(d)
    elif d.version != expected_version:
        raise Conflict(draft_values(d), d.version)
    merged = draft_values(d) if d.id else {}
    merged.update(values)
    typed_by = dict(merged.get(TYPED_BY) or {})
    for name in from_source:
        merged.pop(name, None)
        typed_by.pop(name, None)
    typed_by.update({name: user.id for name in producer if name in merged})
    if typed_by:
        merged[TYPED_BY] = typed_by
    else:
        merged.pop(TYPED_BY, None)
    d.values_enc = keyring().encrypt_json(merged)
    d.updated_at = utcnow()
    d.updated_by = user.id
    with _conflict_on_race(arende, blankett_id):
        dbs.commit()
    return d


@contextmanager
def _conflict_on_race(arende: Arende, blankett_id: str):
    """Two saves of one draft at the same moment: the database lets one through (version column,
    unique draft per blankett); the other becomes a Conflict showing what was stored, never a 500."""
    try:
        yield
    except (StaleDataError, IntegrityError):
        dbs = db.session()
        dbs.rollback()
        current = draft(arende, blankett_id)
        raise Conflict(draft_values(current), current.version if current else 0) from None


def review_ref(arende: Arende, blankett_id: str, d: Utkast | None, values: Mapping[str, Any]) -> str:
    """Names what one Granska page showed, for ever: the blankett, how many documents the ärende had,
    the draft's version (with the time of its last save: SQLite hands a deleted draft's id to the next
    draft) and every value shown, live sources included. Producing takes place only when the page
    posted names what would be produced now, and becomes one document only (a double click, two
    tabs). Needs no draft: looking at Granska stores nothing."""
    produced = db.session().scalar(select(func.count()).select_from(Dokument).where(Dokument.arende_id == arende.id))
    version = f"{d.id}:{d.version}:{d.updated_at:%Y%m%d%H%M%S%f}" if d is not None else "-"
    shown = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    digest = hashlib.sha256(f"{blankett_id}|{produced}|{version}|{shown}".encode()).hexdigest()
    return "g:" + digest[:36]


def drafts(arende: Arende) -> list[Utkast]:
    return db.session().scalars(select(Utkast).where(Utkast.arende_id == arende.id)
                                .order_by(Utkast.updated_at.desc())).all()


def discard_draft(arende: Arende, blankett_id: str) -> None:
    require_open(arende)
    d = draft(arende, blankett_id)
    if d is not None:
        db.session().delete(d)
        db.session().commit()
