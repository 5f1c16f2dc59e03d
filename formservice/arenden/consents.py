"""Consents as tracked data: who consented to sharing what between which parties, from when until
when, and revocation.

A consent blankett (the sekretessmedgivande, the Finsamteam samtycke: `consent:` in its YAML) goes
out in a document's packet; when the signed paper comes back, the caseworker records it here,
starting from what the document says. Blanketter that give information to a party (`shares_with:`)
ask `missing_for` before they are produced.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import select

from formservice import db
from formservice.accounts.models import User
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import PARTIES, Blankett, Consent
from formservice.blanketter.validation import date_or_error

from .models import Arende, Dokument, Handelse, Samtycke
from .operations import Row, keyring, local_today, new_public_id, parse_date, require_open, visible_to

EXPIRY_WARNING_DAYS = 30
TEXT_MAX_LENGTH = 1000
OLDEST_YEARS = 10  # a consent signed longer ago than this is a typing error


# The individ's samtycke to being registered by name in SUS, the follow-up system Försäkringskassan
# runs for the Samordningsförbund (arenden/sus.py). It is given on Försäkringskassan's own blankett
# 9443, which may not be changed and goes to Försäkringskassan in original (susam.se), so formservice
# makes no blankett for it: only the kind, to record it. SUS asks a new one for each insats and it
# holds until the participant leaves it: here until the ärende is closed; the 36 months are ours.
SUS_KIND = Blankett(id="sus_samtycke", title="Samtycke till registrering i SUS (Försäkringskassans blankett 9443)",
                    subtitle=None, version="9443", issuer="Försäkringskassan", kind="bilaga", attachments=(),
                    legal_refs=(), send_to=None, intro=None, sections=(),
                    consent=Consent(months=36, signed_field="datum", parties=("sus",), ends_with_arende=True))


def kinds(catalogue: Catalogue) -> dict[str, Blankett]:
    """The consent kinds by id: the consent blanketter, then SUS's."""
    return {**{b.id: b for b in catalogue.blanketter.values() if b.consent is not None}, SUS_KIND.id: SUS_KIND}


def kind_of(catalogue: Catalogue, blankett_id: str) -> Blankett | None:
    return SUS_KIND if blankett_id == SUS_KIND.id else catalogue.blanketter.get(blankett_id)


def kinds_in_lane(catalogue: Catalogue, lane_id: str) -> list[Blankett]:
    """The consent blanketter that go out with the blanketter of a lane's rutor (the
    sekretessmedgivande in Soc 1, the Finsamteam samtycke in Finsamteam), in the lane's order."""
    out: dict[str, Blankett] = {}
    for ruta in catalogue.process_map.lane(lane_id).rutor:
        for blankett_id in ruta.blankett_ids:
            main = catalogue.blanketter.get(blankett_id)
            for part_id in (main.id, *main.attachments) if main else ():
                part = catalogue.blanketter.get(part_id)
                if part is not None and part.consent is not None:
                    out.setdefault(part.id, part)
    return list(out.values())


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of the month when it has fewer days); date.max
    when that is past the calendar's end."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_end(blankett: Blankett, signed: date) -> date:
    """The last day a consent signed on `signed` can hold, "längst tolv månader från
    underskriften": the day before the same date a year on (signed 29 February: 28 February)."""
    same_day = add_months(signed, blankett.consent.months)
    if same_day == date.max or same_day.day < signed.day:  # the month has no such day: its last day
        return same_day
    return same_day - timedelta(days=1)


def allowed_parties(blankett: Blankett) -> list[str]:
    """The parties a consent of this kind can name: its fixed ones and its tick boxes."""
    c = blankett.consent
    return list(dict.fromkeys([*c.parties, *(party for _name, party in c.party_fields)]))


def accepted_kinds(catalogue: Catalogue, blankett: Blankett) -> set[str]:
    """The consents that count for a blankett sharing information: the consent that goes out with
    it (the förfrågan's sekretessmedgivande, the anmälan's Finsamteam samtycke), else any."""
    attached = {a for a in blankett.attachments if a in catalogue.blanketter
                and catalogue.blanketter[a].consent is not None}
    # SUS's samtycke lets nothing be shared with a party: it is for the follow-up register alone
    # (susam.se: kept apart from other consents).
    return attached or set(kinds(catalogue)) - {SUS_KIND.id}


def party_names(keys: Iterable[str]) -> str:
    names = [PARTIES.get(k, k) for k in keys]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1] if names else ""


# ---------------------------------------------------------------- recording
@dataclass
class Proposal:
    """A consent as the form shows it: read off a produced document, then corrected by the caseworker."""

    blankett_id: str
    dokument: Dokument | None = None
    parties: list[str] = field(default_factory=list)
    given_by: str = ""
    scope: str = ""
    valid_from: str = ""
    valid_until: str = ""


def consent_parts(catalogue: Catalogue, dok: Dokument) -> list[Blankett]:
    """The consent blanketter in a document's packet (the document itself or its bilagor)."""
    main = catalogue.blanketter.get(dok.blankett_id)
    if main is None:
        return []
    ids = [main.id, *main.attachments]
    return [catalogue.blanketter[i] for i in ids if i in catalogue.blanketter and catalogue.blanketter[i].consent]


def propose(catalogue: Catalogue, arende: Arende, dok: Dokument | None, blankett: Blankett,
            individ: Mapping[str, str]) -> Proposal:
    """What the document says about the consent: its parties (ticked, or the blankett's fixed
    ones), the signature's date when it was filled in, the end date the blankett allows."""
    values: Mapping[str, Any] = keyring().decrypt_json(dok.values_enc, {}) if dok is not None else {}
    c = blankett.consent
    parties = list(c.parties) + [party for name, party in c.party_fields if values.get(name)]
    signed = parse_date(str(values.get(c.signed_field) or ""))
    if signed is not None and signed > local_today():
        signed = None  # a signature dated in the future is not a signature yet
    until = parse_date(str(values.get(c.until_field) or "")) if c.until_field else None
    if signed:
        until = min(until, latest_end(blankett, signed)) if until else latest_end(blankett, signed)
    scope = "\n".join(str(values[n]) for n in _scope_fields(blankett) if values.get(n))
    return Proposal(blankett.id, dok, list(dict.fromkeys(parties)),
                    str(values.get("individ_namn") or individ.get("namn", "")), scope,
                    signed.isoformat() if signed else "", until.isoformat() if until else "")


def _scope_fields(blankett: Blankett) -> list[str]:
    """The blankett's own text on what may be shared and why (the textareas of its scope section)."""
    return [f.name for f in blankett.fields if f.type == "textarea"]


def check(blankett: Blankett, form: Mapping[str, Any], today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a consent form; (clean values, errors by field) with Swedish messages."""
    errors: dict[str, str] = {}
    allowed = allowed_parties(blankett)
    parties = [p for p in allowed if p in form.get("parties", [])]
    if not parties:
        errors["parties"] = "Kryssa för minst en part som samtycket gäller."
    elif set(form.get("parties", [])) - set(allowed):
        errors["parties"] = f"{blankett.title} gäller bara {party_names(allowed)}."
    given_by = str(form.get("given_by") or "").strip()
    if not given_by:
        errors["given_by"] = "Skriv vem som lämnade samtycket (individen eller en legal företrädare)."
    scope = str(form.get("scope") or "").strip()
    for key, text in (("given_by", given_by), ("scope", scope)):
        if len(text) > TEXT_MAX_LENGTH:
            errors[key] = f"Texten får vara högst {TEXT_MAX_LENGTH} tecken (nu {len(text)})."
    typed_from, typed_until = (str(form.get(k) or "").strip() for k in ("valid_from", "valid_until"))
    valid_from, error = date_or_error(typed_from, "Datum för underskriften")
    if not typed_from:
        errors["valid_from"] = "Skriv datumet för underskriften som ÅÅÅÅ-MM-DD, till exempel 2026-12-15."
    elif error:
        errors["valid_from"] = error
    valid_until, until_error = date_or_error(typed_until, "Gäller till och med") if typed_until else (None, None)
    if valid_from is not None and valid_from > today:
        errors["valid_from"] = "Underskriften kan inte vara daterad i framtiden."
        valid_from = None  # nothing more to check against it
    elif valid_from is not None and valid_from < add_months(today, -12 * OLDEST_YEARS):
        errors["valid_from"] = f"Datumet ligger mer än {OLDEST_YEARS} år bakåt i tiden. Kontrollera årtalet."
        valid_from = None
    if not typed_until and valid_from is not None:
        valid_until = latest_end(blankett, valid_from)  # left empty: as long as the blankett allows
    if until_error:  # said even when the signature's date is wrong too: both are fixed in one go
        errors["valid_until"] = until_error
    elif valid_from is not None and valid_until is not None:
        latest = latest_end(blankett, valid_from)
        if valid_until < valid_from:
            errors["valid_until"] = "Sista giltighetsdag kan inte vara före underskriften."
        elif valid_until > latest:
            errors["valid_until"] = (f"Samtycket gäller längst {blankett.consent.months} månader från underskriften, "
                                     f"alltså till och med {latest.isoformat()}.")
    return {"parties": parties, "given_by": given_by, "scope": scope, "valid_from": valid_from,
            "valid_until": valid_until}, errors


def record(user: User, arende: Arende, blankett: Blankett, clean: Mapping[str, Any],
           dok: Dokument | None = None) -> Samtycke:
    """Store a consent checked by `check`, with a line in the history."""
    require_open(arende)
    for earlier in of(arende):  # a double click, or the same paper registered twice
        if (earlier.blankett_id == blankett.id and earlier.dokument_id == (dok.id if dok else None)
                and earlier.valid_from == clean["valid_from"] and earlier.party_keys == tuple(clean["parties"])):
            return earlier
    kr = keyring()
    s = Samtycke(public_id=new_public_id(), arende_id=arende.id, dokument_id=dok.id if dok else None,
                 blankett_id=blankett.id, parties=",".join(clean["parties"]),
                 given_by_enc=kr.encrypt_json(clean["given_by"]),
                 scope_enc=kr.encrypt_json(clean["scope"]) if clean["scope"] else None,
                 valid_from=clean["valid_from"], valid_until=clean["valid_until"], recorded_by=user.id)
    dbs = db.session()
    dbs.add(s)
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="samtycke", from_ruta=arende.ruta,
                     beslut=f"Samtycke registrerat ({blankett.title}): {party_names(clean['parties'])}, "
                            f"giltigt {clean['valid_from'].isoformat()}–{clean['valid_until'].isoformat()}"))
    dbs.commit()
    return s


class AlreadyEnded(Exception):
    """The consent is revoked or has run out already: a revocation would rewrite the record."""


def revoke(user: User, arende: Arende, samtycke: Samtycke, on: date, note: str | None) -> None:
    """The individ took the consent back on `on` (from that day it no longer holds)."""
    require_open(arende)
    if state(samtycke, local_today()) not in ("aktivt", "kommande"):
        raise AlreadyEnded(samtycke.public_id)
    samtycke.revoked_on = on
    samtycke.note_enc = keyring().encrypt_json(note) if note else None
    dbs = db.session()
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="samtycke", from_ruta=arende.ruta,
                     beslut=f"Samtycke återkallat från och med {on.isoformat()}: {party_names(samtycke.party_keys)}"))
    dbs.commit()


def end_with_arende(catalogue: Catalogue, arende: Arende, on: date, user: User) -> None:
    """Closing the ärende ends the consents that hold "till dess att ärendet avslutas", each with a
    line in the history (caller commits)."""
    for s in of(arende):
        blankett = kind_of(catalogue, s.blankett_id)
        if blankett and blankett.consent and blankett.consent.ends_with_arende and s.valid_until > on:
            s.valid_until = max(on, s.valid_from)
            db.session().add(Handelse(
                arende_id=arende.id, user_id=user.id, kind="samtycke", from_ruta=arende.ruta,
                beslut=f"{blankett.title} upphörde när ärendet avslutades ({party_names(s.party_keys)}, "
                       f"gäller till och med {s.valid_until.isoformat()})"))


# ---------------------------------------------------------------- reading
def of(arende: Arende) -> list[Samtycke]:
    return db.session().scalars(select(Samtycke).where(Samtycke.arende_id == arende.id)
                                .order_by(Samtycke.valid_until.desc(), Samtycke.id.desc())).all()


def get(arende: Arende, public_id: str) -> Samtycke | None:
    return db.session().scalar(select(Samtycke).where(Samtycke.arende_id == arende.id,
                                                      Samtycke.public_id == public_id))


def given_by(s: Samtycke) -> str:
    return keyring().decrypt_json(s.given_by_enc, "")


def scope(s: Samtycke) -> str:
    return keyring().decrypt_json(s.scope_enc, "") if s.scope_enc else ""


def note(s: Samtycke) -> str:
    return keyring().decrypt_json(s.note_enc, "") if s.note_enc else ""


def state(s: Samtycke, today: date) -> str:
    """"aktivt", "kommande", "utgånget" or "återkallat", for the ärende page."""
    if s.revoked_on is not None and s.revoked_on <= today:
        return "återkallat"
    if today < s.valid_from:
        return "kommande"
    return "aktivt" if today <= s.valid_until else "utgånget"


def missing_for(catalogue: Catalogue, arende: Arende, blankett: Blankett, today: date) -> list[str]:
    """The parties (keys) the blankett gives information to that no active consent of a kind it
    accepts covers (a förfrågan to the doctor counts the sekretessmedgivande, not Finsamteam's)."""
    if not blankett.shares_with:
        return []
    accepted = accepted_kinds(catalogue, blankett)
    covered = {p for s in of(arende) if s.blankett_id in accepted and s.active_on(today) for p in s.party_keys}
    return [p for p in blankett.shares_with if p not in covered]


@dataclass(frozen=True)
class Expiring:
    samtycke: Samtycke
    row: Row
    blankett_title: str


def expiring(user: User, catalogue: Catalogue, today: date, days: int = EXPIRY_WARNING_DAYS) -> list[Expiring]:
    """Active consents of the user's open ärenden that run out within `days`, soonest first."""
    stmt = (select(Samtycke, Arende).join(Arende, Samtycke.arende_id == Arende.id)
            .where(Arende.id.in_(visible_to(user).with_only_columns(Arende.id)), Arende.status == "oppet",
                   Samtycke.valid_from <= today, Samtycke.valid_until >= today,
                   Samtycke.valid_until <= today + timedelta(days=days),
                   (Samtycke.revoked_on.is_(None)) | (Samtycke.revoked_on > today))
            .order_by(Samtycke.valid_until, Samtycke.id).limit(100))
    kr = keyring()
    out = []
    for s, a in db.session().execute(stmt):
        data = kr.decrypt_json(a.individ_enc, {})
        kind = kind_of(catalogue, s.blankett_id)
        title = kind.title if kind is not None else s.blankett_id
        out.append(Expiring(s, Row(a, data.get("namn", ""), data.get("personnummer", "")), title))
    return out
