"""An organisation's own review marks and texts of the languages the individ's documents are also
printed in (issue 30, docs/sprak.md "Granskning"; Administration → Språk, web/admin_sprak.py).

The shipped catalogues (translations/<kod>/LC_MESSAGES/blanketter.po, blanketter/sprak.py) say by
their header whether a qualified translator has reviewed them. An organisation's admin answers for
what its individ signs, so the admin can mark a language reviewed (who reviewed it, typed) or not
reviewed, and replace its texts with a PO file of the organisation's own; both are rows of
`SprakTexter`, per organisation and language. What a document prints: the organisation's uploaded
texts if any, else the shipped ones; reviewed as the organisation marked it, else as the file says.

This wing, not `blanketter` (no database there) nor `accounts` (which may not import `blanketter`),
owns it: it is organisation data the documents need when they are made. `blanketter.sprak` reaches
it through the hook `sprak.register_source` (installed by `create_app`): `in_use` gives the
catalogues of the organisation a document is made for, named by `for_organisation` (the document
registry, the completion after the response) or else by the signed-in user or API caller. Each
worker reads the organisation's stamps (one query) when a translated document is made and parses a
changed file once, so a change takes effect in every worker on every host without a restart."""
from __future__ import annotations

import io
import re
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Iterator

from flask import g, has_app_context, has_request_context
from sqlalchemy import select

from formservice import audit, db
from formservice.accounts.login import current_user
from formservice.blanketter import sprak
from formservice.blanketter.model import Blankett
from formservice.db import utcnow

from .models import SprakTexter

UPLOAD_MAX_BYTES = 512 * 1024  # the shipped files are about 20 kB
REVIEWER_MAX = 200
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")  # as blanketter/sprak.py counts them
_HEADER = re.compile(rf'^"{sprak.REVIEW_HEADER}:\s*(\S*?)\s*\\n"$', re.M)


class SprakError(ValueError):
    """A Swedish message for the admin, on the named field; nothing was changed."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# ------------------------------------------------------------------- the catalogues in use

_organisation: ContextVar[int | None] = ContextVar("sprak_organisation", default=None)
_parsed: OrderedDict[tuple[int, str, str], sprak.Messages] = OrderedDict()
_parsed_lock = threading.Lock()
_PARSED_KEEP = 64


def install() -> None:
    sprak.register_source(in_use)


@contextmanager
def for_organisation(organisation_id: int | None) -> Iterator[None]:
    """Documents made inside use this organisation's texts and review marks."""
    token = _organisation.set(organisation_id)
    try:
        yield
    finally:
        _organisation.reset(token)


def _organisation_id() -> int | None:
    named = _organisation.get()
    if named is not None or not has_request_context():
        return named
    user = g.get("api_user") or current_user()  # an API call with a token: the token's user
    return user.enhet.organisation_id if user is not None else None


def _stamps(organisation_id: int) -> dict[str, str]:
    """The organisation's languages with a row and their stamps: read once per app context."""
    seen = g.setdefault("sprak_stamps", {})
    if organisation_id not in seen:
        rows = db.session().execute(select(SprakTexter.kod, SprakTexter.stamp)
                                    .where(SprakTexter.organisation_id == organisation_id))
        seen[organisation_id] = {kod: stamp for kod, stamp in rows}
    return seen[organisation_id]


def in_use(shipped: dict[str, sprak.Messages]) -> dict[str, sprak.Messages]:
    """The source registered with blanketter.sprak: the shipped catalogues with the organisation's
    own texts and review marks, when a document is made for an organisation."""
    if not has_app_context():
        return shipped
    organisation_id = _organisation_id()
    stamps = _stamps(organisation_id) if organisation_id is not None else {}
    if not stamps:
        return shipped
    out = dict(shipped)
    for kod, stamp in stamps.items():
        if kod in shipped:
            out[kod] = _messages(organisation_id, kod, stamp, shipped[kod])
    return out


def fingerprint(organisation_id: int) -> str:
    """What an organisation's translated documents depend on besides the shipped files (the API's
    render cache key)."""
    return ",".join(f"{kod}:{stamp}" for kod, stamp in sorted(_stamps(organisation_id).items()))


def _messages(organisation_id: int, kod: str, stamp: str, shipped: sprak.Messages,
              row: SprakTexter | None = None) -> sprak.Messages:
    key = (organisation_id, kod, stamp)
    with _parsed_lock:
        if key in _parsed:
            _parsed.move_to_end(key)
            return _parsed[key]
    if row is None:
        row = _row_of(organisation_id, kod)
    messages = _effective(row, shipped)
    if row is not None and row.stamp == stamp:
        with _parsed_lock:
            _parsed[key] = messages
            while len(_parsed) > _PARSED_KEEP:
                _parsed.popitem(last=False)
    return messages


def _effective(row: SprakTexter | None, shipped: sprak.Messages) -> sprak.Messages:
    base = shipped if row is None or row.po is None else parse(shipped.language, row.po)
    if row is None or row.granskad is None:
        return base
    return replace(base, reviewed=row.granskad)


def parse(language: sprak.Language, data: bytes) -> sprak.Messages:
    """A PO file's messages (fuzzy and empty ones left out), reviewed as its header says."""
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(data), charset="utf-8")
    texts = {m.id: m.string for m in catalog
             if m.id and isinstance(m.id, str) and m.string and isinstance(m.string, str) and not m.fuzzy}
    header = _HEADER.search(data.decode("utf-8", "replace"))
    return sprak.Messages(language, texts, bool(header) and header.group(1).lower() == "ja")


def _row_of(organisation_id: int, kod: str) -> SprakTexter | None:
    return db.session().scalar(select(SprakTexter).where(SprakTexter.organisation_id == organisation_id,
                                                         SprakTexter.kod == kod))


# ------------------------------------------------------------------------- the admin's view


@dataclass(frozen=True)
class LanguageState:
    language: sprak.Language
    reviewed: bool
    reviewed_here: bool           # the organisation's own mark; else the file's header counts
    reviewed_by: str | None
    reviewed_at: datetime | None
    own_texts: bool               # the organisation uploaded its own texts
    changed_at: datetime | None
    count: int                    # translated texts
    lacking: tuple[tuple[str, int], ...]  # (blankett title, texts without a translation)


def _state(organisation_id: int, base: sprak.Messages, row: SprakTexter | None,
           blanketter: Iterable[Blankett]) -> LanguageState:
    messages = (_messages(organisation_id, row.kod, row.stamp, base, row) if row is not None else base)
    lacking = tuple((b.title, n) for b in blanketter if sprak.translatable(b)
                    for n in [len(sprak.missing(b, messages))] if n)
    here = row is not None and row.granskad is not None
    return LanguageState(language=base.language, reviewed=messages.reviewed, reviewed_here=here,
                         reviewed_by=row.granskad_av if here else None,
                         reviewed_at=row.granskad_at if here else None,
                         own_texts=row is not None and row.po is not None,
                         changed_at=row.andrad_at if row is not None else None,
                         count=len(messages.texts), lacking=lacking)


def states(organisation_id: int, blanketter: Iterable[Blankett]) -> list[LanguageState]:
    """Every offered language as the organisation's documents print it."""
    blanketter = list(blanketter)
    rows = {r.kod: r for r in db.session().scalars(select(SprakTexter)
                                                   .where(SprakTexter.organisation_id == organisation_id))}
    return [_state(organisation_id, base, rows.get(kod), blanketter) for kod, base in sprak.shipped().items()]


def state(organisation_id: int, kod: str, blanketter: Iterable[Blankett]) -> LanguageState:
    """One language; LookupError for a language that is not offered."""
    base = sprak.shipped().get(kod)
    if base is None:
        raise LookupError(kod)
    return _state(organisation_id, base, _row_of(organisation_id, kod), list(blanketter))


def po_file(organisation_id: int, kod: str) -> tuple[str, bytes]:
    """(file name, the PO file in use) for the translator: the organisation's own or the shipped one,
    its review header saying what counts now."""
    base = sprak.shipped().get(kod)
    if base is None:
        raise LookupError(kod)
    row = _row_of(organisation_id, kod)
    if row is not None and row.po is not None:
        data = row.po
    else:
        path = sprak.TRANSLATIONS_DIR / kod / "LC_MESSAGES" / f"{sprak.DOMAIN}.po"
        data = path.read_bytes() if path.is_file() else sprak.pot([])
    reviewed = _effective(row, base).reviewed
    text = _HEADER.sub(f'"{sprak.REVIEW_HEADER}: {"ja" if reviewed else "nej"}\\\\n"',
                       data.decode("utf-8", "replace"), count=1)
    return f"blanketter-{kod}.po", text.encode("utf-8")


# ------------------------------------------------------------------------------ the changes


def _reviewer(typed: str | None, confirmed: bool, field: str = "granskad_av") -> str:
    reviewer = " ".join((typed or "").split())
    if not reviewer:
        raise SprakError(field, "Skriv vem som granskade översättningen och vilken behörighet hen har, "
                                "till exempel ”Auktoriserad translator Anna Exempel”.")
    if len(reviewer) > REVIEWER_MAX:
        raise SprakError(field, f"Skriv högst {REVIEWER_MAX} tecken om vem som granskade översättningen.")
    if not confirmed:
        raise SprakError("bekraftat", "Bekräfta att en kvalificerad översättare har granskat alla texter på språket.")
    return reviewer


def _row_for_change(user, kod: str) -> SprakTexter:
    if kod not in sprak.shipped():
        raise LookupError(kod)
    organisation_id = user.enhet.organisation_id
    row = _row_of(organisation_id, kod)
    if row is None:
        row = SprakTexter(organisation_id=organisation_id, kod=kod)
        db.session().add(row)
    return row


def _changed(row: SprakTexter, user) -> None:
    row.stamp = secrets.token_hex(16)
    row.andrad_at = utcnow()
    row.andrad_av = user.id
    if has_app_context():
        g.pop("sprak_stamps", None)


def mark_reviewed(user, kod: str, reviewer: str | None, confirmed: bool) -> None:
    who = _reviewer(reviewer, confirmed)
    row = _row_for_change(user, kod)
    row.granskad, row.granskad_av, row.granskad_at = True, who, utcnow()
    _changed(row, user)
    audit.record("sprak_granskad", user=user, object_type="sprak", object_id=kod)  # commits


def mark_not_reviewed(user, kod: str) -> None:
    row = _row_for_change(user, kod)
    row.granskad, row.granskad_av, row.granskad_at = False, None, None
    _changed(row, user)
    audit.record("sprak_ej_granskad", user=user, object_type="sprak", object_id=kod)


def replace_texts(user, kod: str, data: bytes, blanketter: Iterable[Blankett], *, reviewed: bool = False,
                  reviewer: str | None = None) -> sprak.Messages:
    """The organisation's texts of the language from now on: refused (SprakError) unless the file is
    a PO file with exactly the blanketter's texts, every one translated, placeholders kept. Not
    reviewed afterwards unless `reviewed` (with who reviewed it)."""
    base = sprak.shipped().get(kod)
    if base is None:
        raise LookupError(kod)
    messages = check_po(base.language, data, blanketter)
    who = _reviewer(reviewer, True, "fil_granskad_av") if reviewed else None
    row = _row_for_change(user, kod)
    row.po = data
    row.granskad, row.granskad_av, row.granskad_at = bool(reviewed), who, utcnow() if reviewed else None
    _changed(row, user)
    audit.record("sprak_texter_ersatta", user=user, object_type="sprak", object_id=kod,
                 detail=f"{len(messages.texts)} texter, {'granskade' if reviewed else 'inte granskade'}")
    return replace(messages, reviewed=bool(reviewed))


def restore_shipped(user, kod: str) -> None:
    """Back to the shipped texts, reviewed as their file says: the organisation's row is removed."""
    if kod not in sprak.shipped():
        raise LookupError(kod)
    row = _row_of(user.enhet.organisation_id, kod)
    if row is None:
        return
    db.session().delete(row)
    if has_app_context():
        g.pop("sprak_stamps", None)
    audit.record("sprak_texter_aterstallda", user=user, object_type="sprak", object_id=kod)


# --------------------------------------------------------------------------- the upload's check


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _texts(n: int) -> str:
    return f"{n} {'text' if n == 1 else 'texter'}"


def check_po(language: sprak.Language, data: bytes, blanketter: Iterable[Blankett]) -> sprak.Messages:
    """The messages of an uploaded PO file, or SprakError (field "po") saying in Swedish what is wrong."""
    from babel.messages.pofile import read_po

    if len(data) > UPLOAD_MAX_BYTES:
        raise SprakError("po", f"Filen är för stor: högst {UPLOAD_MAX_BYTES // 1024} kB. En PO-fil med "
                               "blanketternas texter är ungefär 20 kB.")
    if not data.strip():
        raise SprakError("po", "Välj en PO-fil med språkets texter.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SprakError("po", "Filen är inte en PO-fil i UTF-8. Spara den som UTF-8 (Poedit gör det) "
                               "och ladda upp den igen.") from None
    unreadable = SprakError("po", "Filen gick inte att läsa som en PO-fil (gettext-format). Hämta den "
                                  "nuvarande filen, ändra bara raderna msgstr och ladda upp den igen.")
    if "\x00" in text or "msgid" not in text:
        raise unreadable
    blanketter = [b for b in blanketter if sprak.translatable(b)]
    try:
        catalog = read_po(io.BytesIO(data), charset="utf-8", abort_invalid=True)
        entries = [m for m in catalog if m.id]
    except Exception:  # noqa: BLE001 — Babel's parser on a file from outside: any failure is "unreadable"
        raise unreadable from None
    known = {m.id for m in read_po(io.BytesIO(sprak.pot(blanketter))) if m.id}  # the texts the POT asks for
    unknown = [m.id for m in entries if not isinstance(m.id, str) or m.id not in known]
    if unknown:
        first = unknown[0] if isinstance(unknown[0], str) else unknown[0][0]
        raise SprakError("po", f"Filen har {_texts(len(unknown))} som inte finns i blanketterna, till exempel "
                               f"”{_short(first)}”. Den svenska texten (msgid) får inte ändras: hämta den "
                               "nuvarande filen och översätt i den.")
    texts = {m.id: m.string for m in entries
             if m.string and isinstance(m.string, str) and not m.fuzzy}
    for swedish, translated in texts.items():
        wanted, got = set(_PLACEHOLDER.findall(swedish)), set(_PLACEHOLDER.findall(translated))
        if wanted - got:
            name = sorted(wanted - got)[0]
            raise SprakError("po", f"Platshållaren {{{name}}} saknas i översättningen av ”{_short(swedish)}”. "
                                   "Den ska stå kvar oförändrad, med klamrarna.")
        if got - wanted:
            name = sorted(got - wanted)[0]
            raise SprakError("po", f"Översättningen av ”{_short(swedish)}” har platshållaren {{{name}}}, som inte "
                                   "finns i den svenska texten. Ta bort den.")
    messages = sprak.Messages(language, texts, False)
    for blankett in blanketter:
        lacking = sprak.missing(blankett, messages)
        if lacking:
            raise SprakError("po", f"Texter saknas för {blankett.title}: {_texts(len(lacking))} utan översättning, "
                                   f"till exempel ”{_short(lacking[0])}”. Alla texter måste vara översatta "
                                   "(en text markerad fuzzy räknas inte).")
    return messages
