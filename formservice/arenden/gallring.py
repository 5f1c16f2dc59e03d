"""Gallring (retention): the rules as data, each organisation's own periods and exemptions, and the
run that deletes what is due and writes a gallringslogg without personal data.

A rule says which kind of record goes, how long after which event. Rules for an organisation's own
records (closed ärenden, drafts, its audit log) can be changed per organisation within bounds; the
rest (sessions, login attempts, counted API requests, and kinds other wings register, e.g. the
doctor's unconfirmed answers) are the same for everybody and shown read-only. The run takes the
clock as an argument (``now``) so that what it deletes can be tested and previewed.

Closed ärenden: an ärende is part of the person's personakt, counted from its last entry (closing
date, latest history entry or change). A person's closed ärenden in an organisation go together,
when the latest entry in any of them is older than the period; an open ärende of the same person
keeps them all. Ärenden on hold (gallringsstopp, arenden/gallringsstopp.py) and persons exempted by
birth day are kept and counted as kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterable, Mapping, Sequence

from flask import current_app
from sqlalchemy import delete, func, select

from formservice import audit, db
from formservice.accounts.api_tokens import purge_requests
from formservice.accounts.login import purge_attempts
from formservice.accounts.models import Enhet, Organisation, User
from formservice.accounts.sessions import purge_expired
from formservice.audit import AuditEntry
from formservice.blanketter.validation import ValidationError, parse_date
from formservice.db import utcnow
from formservice.paths import FORMS_DIR
from formservice.processkarta.lagrum import LagrumError, load_lagrum

from .models import (Arende, ArendeSokord, Dokument, DokumentDel, Gallringslogg, Gallringsregel, Gallringsstopp,
                     Gallringsundantag, Handelse, Samtycke, Utkast)
from .operations import keyring

UNITS = {"år": ("år", "år"), "dagar": ("dag", "dagar"), "timmar": ("timme", "timmar")}
# The database refuses to delete audit entries younger than this (migration 0012), so no rule may ask.
AUDIT_FLOOR = timedelta(days=366)

Purge = Callable[[datetime, timedelta, bool], int]  # (now, older than, dry run) -> how many


@dataclass(frozen=True)
class Rule:
    key: str  # stable: stored in gallringsregel and gallringslogg
    title: str  # the admin page's name for the kind of record
    label: str  # after "Tog bort 3 …"
    unit: str  # "år" | "dagar" | "timmar"
    default: int
    counted_from: str  # "… efter <counted_from>"
    source: str  # where the rule comes from
    per_organisation: bool = False
    minimum: int = 1
    maximum: int = 100
    minimum_reason: str = ""  # why the minimum, when a rule sets it
    purge: Purge | None = None  # global rules: deletes (or counts) what is due

    def text(self, period: int) -> str:
        one, many = UNITS[self.unit]
        return f"{period} {one if period == 1 else many} efter {self.counted_from}"

    def delta(self, period: int) -> timedelta:
        return timedelta(days=period) if self.unit == "dagar" else timedelta(hours=period)


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def cutoff(rule: Rule, period: int, now: datetime) -> datetime:
    """Records whose event lies before this are due."""
    return years_before(now, period) if rule.unit == "år" else now - rule.delta(period)


# ---------------------------------------------------------------- the rules, as data
def _sol_source() -> str:
    """The source of the five years, from forms/_lagrum.yaml (where the map's citations are too): the
    law in force, never a paragraph of the repealed socialtjänstlag (2001:453)."""
    try:
        item = load_lagrum(FORMS_DIR)["sol_gallring"]
    except (LagrumError, KeyError):  # `formservice check` names the missing file; the page still shows the rule
        return "Källan står i forms/_lagrum.yaml (posten sol_gallring), som saknas i den här installationen."
    return f"{item.text}: {item.about}"


SOL_SOURCE = _sol_source()

_BUILT_IN = [
    Rule("arende_avslutat", "Avslutade ärenden med dokument, svar, samtycken och historik", "avslutade ärenden",
         "år", 5, "sista anteckningen i personens ärenden", SOL_SOURCE, per_organisation=True, minimum=5,
         minimum_reason="socialtjänstlagen kräver att personakten finns kvar i fem år efter sista anteckningen"),
    Rule("utkast", "Påbörjade blanketter (utkast) i öppna ärenden", "utkast i öppna ärenden", "dagar", 90,
         "senaste ändringen", "Organisationens eget beslut: ett utkast är arbetsmaterial som inte har tillförts "
         "akten. Utkast i avslutade ärenden gallras med ärendet.", per_organisation=True, maximum=3650),
    Rule("granskningslogg", "Granskningsloggen (vem som gjort vad)", "poster i granskningsloggen", "år", 5,
         "händelsen", "Organisationens eget beslut (dokumenthanteringsplan); ingen författning anger tiden. "
         "Standardvärdet följer personakternas fem år, så att loggen finns kvar så länge akten kan finnas.",
         per_organisation=True, minimum=1,
         minimum_reason="databasen vägrar ta bort poster som är yngre än ett år"),
]


def _sessions(now: datetime, older_than: timedelta, dry_run: bool) -> int:
    return purge_expired(db.session(), current_app.permanent_session_lifetime + older_than, dry_run=dry_run,
                         now=now)


_ACCOUNTS = [
    Rule("sessioner", "Utgångna inloggningssessioner", "utgångna sessioner", "timmar", 12,
         "att sessionen gick ut", "Teknisk gallring: en utgången session behövs inte.", purge=_sessions),
    Rule("inloggningsforsok", "Inloggningsförsök (nycklade hashvärden)", "inloggningsförsök", "timmar", 24,
         "försöket", "Teknisk gallring: spärren efter felaktiga försök ser bara 15 minuter bakåt.",
         purge=lambda now, older, dry: purge_attempts(older, dry_run=dry, now=now)),
    Rule("api_anrop", "Räknade API-anrop (för gränsen per minut)", "räknade API-anrop", "timmar", 24, "anropet",
         "Teknisk gallring: gränsen räknar bara den senaste minuten.",
         purge=lambda now, older, dry: purge_requests(older, dry_run=dry, now=now)),
]

_registered: list[Rule] = []
# Other wings' tables that hang on an ärende (the doctor's answers): deleted before the ärende.
Dependent = Callable[[object, Sequence[int]], None]  # (session, ärende ids)
_dependents: list[Dependent] = []


def register_rule(rule: Rule) -> None:
    """A wing above this one adds a global kind of record (doctor.install(): unconfirmed answers)."""
    if all(r.key != rule.key for r in _registered):
        _registered.append(rule)


def register_dependent(delete_for: Dependent) -> None:
    if delete_for not in _dependents:
        _dependents.append(delete_for)


def rules() -> list[Rule]:
    return _BUILT_IN + _registered + _ACCOUNTS


def rule(key: str) -> Rule:
    return next(r for r in rules() if r.key == key)


# ---------------------------------------------------------------- an organisation's settings
@dataclass
class Settings:
    periods: dict[str, int]
    birth_days: tuple[int, ...]
    keep_all: bool
    changed: bool = False  # the organisation changed something (otherwise: all defaults)


def default_birth_days(organisation: Organisation) -> tuple[int, ...]:
    """7 kap. 2 § socialtjänstförordningen (2001:937): outside the research-sample kommuner, persons
    born on the 5th, 15th and 25th are kept for research. It concerns the socialnämnd, so the default
    holds for kommuner; other organisations start without exemptions."""
    return (5, 15, 25) if organisation.typ == "kommun" else ()


def settings(organisation: Organisation) -> Settings:
    dbs = db.session()
    periods = {r.key: r.default for r in rules() if r.per_organisation}
    stored = dbs.scalars(select(Gallringsregel).where(Gallringsregel.organisation_id == organisation.id)).all()
    for row in stored:
        if row.kind in periods:
            periods[row.kind] = row.period
    exemption = dbs.get(Gallringsundantag, organisation.id)
    if exemption is None:
        return Settings(periods, default_birth_days(organisation), False, changed=bool(stored))
    days = tuple(int(d) for d in exemption.birth_days.split(",") if d)
    return Settings(periods, days, exemption.keep_all, changed=True)


def parse_birth_days(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
    if not all(p.isascii() and p.isdigit() and len(p) <= 2 and 1 <= int(p) <= 31 for p in parts):
        raise ValueError("Skriv dagar i månaden (1–31) med kommatecken emellan, t.ex. 5, 15, 25.")
    return tuple(sorted({int(p) for p in parts}))


def parse_settings(form: Mapping[str, str]) -> tuple[dict[str, str], Settings | None, dict[str, str]]:
    """The admin form: (what was typed, the settings or None, errors by field name)."""
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    periods: dict[str, int] = {}
    for r in rules():
        if not r.per_organisation:
            continue
        name = f"period_{r.key}"
        value = typed[name] = str(form.get(name) or "").strip()[:20]
        one, many = UNITS[r.unit]
        digits = value.replace(" ", "")
        if not (digits.isascii() and digits.isdigit()):  # "²" passes isdigit() but not int()
            errors[name] = f"{r.title}: skriv ett helt antal {many}, t.ex. {r.default}."
        elif int(digits) < r.minimum:
            why = f": {r.minimum_reason}" if r.minimum_reason else ""
            errors[name] = f"{r.title}: minst {r.minimum} {one if r.minimum == 1 else many}{why}."
        elif int(digits) > r.maximum:
            errors[name] = f"{r.title}: högst {r.maximum} {many}."
        else:
            periods[r.key] = int(digits)
    typed["birth_days"] = str(form.get("birth_days") or "")[:200]
    typed["keep_all"] = "1" if form.get("keep_all") else ""
    days: tuple[int, ...] = ()
    if len(typed["birth_days"]) > 100:
        errors["birth_days"] = "Högst 100 tecken."
    else:
        try:
            days = parse_birth_days(typed["birth_days"])
        except ValueError as exc:
            errors["birth_days"] = str(exc)
    if errors:
        return typed, None, errors
    return typed, Settings(periods, days, bool(typed["keep_all"]), changed=True), {}


def save_settings(user: User, new: Settings) -> None:
    dbs = db.session()
    org_id = user.enhet.organisation_id
    for key, period in new.periods.items():
        row = dbs.scalar(select(Gallringsregel).where(Gallringsregel.organisation_id == org_id,
                                                      Gallringsregel.kind == key))
        if row is None:
            dbs.add(Gallringsregel(organisation_id=org_id, kind=key, period=period, changed_by=user.id))
        elif row.period != period:
            row.period, row.changed_at, row.changed_by = period, utcnow(), user.id
    exemption = dbs.get(Gallringsundantag, org_id)
    if exemption is None:
        exemption = Gallringsundantag(organisation_id=org_id)
        dbs.add(exemption)
    exemption.birth_days = ",".join(str(d) for d in new.birth_days)
    exemption.keep_all = new.keep_all
    exemption.changed_at, exemption.changed_by = utcnow(), user.id
    detail = "; ".join(f"{k}={v}" for k, v in new.periods.items())
    detail += f"; födelsedagar={exemption.birth_days or '-'}; bevara alla={'ja' if new.keep_all else 'nej'}"
    audit.record("gallring_changed", user=user, object_type="organisation", object_id=str(org_id), detail=detail,
                 commit=False)
    dbs.commit()


# ---------------------------------------------------------------- deleting an ärende, completely
def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i:i + size])


def delete_arenden(dbs, ids: Sequence[int]) -> None:
    """Everything of the ärenden, children first (explicitly: SQLite's cascades are not relied on):
    other wings' rows, document parts, consents, documents, drafts, history, the name hashes, a hold,
    and the row itself with its pnr_hash. Audit entries about them stay (no personal data)."""
    for chunk in _chunks(ids):
        for delete_for in _dependents:
            delete_for(dbs, chunk)
        documents = select(Dokument.id).where(Dokument.arende_id.in_(chunk))
        dbs.execute(delete(DokumentDel).where(DokumentDel.dokument_id.in_(documents)),
                    execution_options={"synchronize_session": False})
        for model in (Samtycke, Dokument, Utkast, Handelse, ArendeSokord, Gallringsstopp):
            dbs.execute(delete(model).where(model.arende_id.in_(chunk)),
                        execution_options={"synchronize_session": False})
        dbs.execute(delete(Arende).where(Arende.id.in_(chunk)), execution_options={"synchronize_session": False})


# ---------------------------------------------------------------- what is due
def birth_day(personnummer: str) -> int | None:
    """Day of the month from a 12-digit personnummer; a samordningsnummer has the day + 60."""
    digits = "".join(ch for ch in personnummer if ch.isdigit())
    if len(digits) != 12:
        return None
    day = int(digits[6:8])
    return day - 60 if day > 60 else day


@dataclass
class Due:
    ids: list[int] = field(default_factory=list)
    kept: int = 0  # due, but on hold or exempted


def due_closed(organisation: Organisation, conf: Settings, now: datetime) -> Due:
    dbs = db.session()
    cut = cutoff(rule("arende_avslutat"), conf.periods["arende_avslutat"], now)
    last_event = (select(Handelse.arende_id, func.max(Handelse.at).label("last"))
                  .group_by(Handelse.arende_id).subquery())
    rows = dbs.execute(
        select(Arende.id, Arende.pnr_hash, Arende.status, Arende.closed_on, Arende.updated_at, last_event.c.last,
               Gallringsstopp.id)
        .join(Enhet, Arende.enhet_id == Enhet.id)
        .outerjoin(last_event, last_event.c.arende_id == Arende.id)
        .outerjoin(Gallringsstopp, Gallringsstopp.arende_id == Arende.id)
        .where(Enhet.organisation_id == organisation.id)).all()
    never = datetime.max
    latest: dict[object, datetime] = {}
    for aid, pnr_hash, status, closed_on, updated_at, last, _hold in rows:
        if status != "avslutat" or closed_on is None:
            entry = never  # open: the person's akt is in use
        else:
            entry = max(d for d in (datetime.combine(closed_on, time.min), updated_at, last) if d is not None)
        person = pnr_hash or ("ärende", aid)
        latest[person] = max(latest.get(person, entry), entry)
    out = Due()
    candidates = [(aid, hold) for aid, pnr_hash, status, *_rest, hold in rows
                  if status == "avslutat" and latest[pnr_hash or ("ärende", aid)] < cut]
    held = sum(1 for _aid, hold in candidates if hold is not None)
    free = [aid for aid, hold in candidates if hold is None]
    out.kept = held
    if conf.keep_all:
        out.kept += len(free)
        return out
    if not conf.birth_days:
        out.ids = free
        return out
    kr = keyring()
    exempt_days = set(conf.birth_days)
    for chunk in _chunks(free):  # decrypt only the ärenden that are otherwise due
        for aid, blob in dbs.execute(select(Arende.id, Arende.individ_enc).where(Arende.id.in_(chunk))):
            day = birth_day(kr.decrypt_json(blob, {}).get("personnummer", ""))
            if day in exempt_days:
                out.kept += 1
            else:
                out.ids.append(aid)
    return out


def due_drafts(organisation: Organisation, conf: Settings, now: datetime) -> Due:
    cut = cutoff(rule("utkast"), conf.periods["utkast"], now)
    held = select(Gallringsstopp.arende_id)
    ids = db.session().scalars(
        select(Utkast.id).join(Arende, Utkast.arende_id == Arende.id).join(Enhet, Arende.enhet_id == Enhet.id)
        .where(Enhet.organisation_id == organisation.id, Arende.status != "avslutat", Utkast.updated_at < cut,
               Arende.id.not_in(held))).all()
    return Due(ids=list(ids))


def due_audit(organisation_id: int | None, period: int, now: datetime) -> Due:
    cut = min(cutoff(rule("granskningslogg"), period, now), utcnow() - AUDIT_FLOOR)
    owner = AuditEntry.organisation_id.is_(None) if organisation_id is None else \
        AuditEntry.organisation_id == organisation_id
    return Due(ids=list(db.session().scalars(select(AuditEntry.id).where(owner, AuditEntry.at < cut))))


# ---------------------------------------------------------------- the run
@dataclass
class Outcome:
    rule: Rule
    period: int
    count: int
    kept: int = 0
    organisation: Organisation | None = None

    @property
    def rule_text(self) -> str:
        return self.rule.text(self.period)


def _delete_due(rule_key: str, dbs, ids: list[int]) -> None:
    if rule_key == "arende_avslutat":
        delete_arenden(dbs, ids)
        return
    model = {"utkast": Utkast, "granskningslogg": AuditEntry}[rule_key]
    for chunk in _chunks(ids):
        dbs.execute(delete(model).where(model.id.in_(chunk)), execution_options={"synchronize_session": False})


def _record(dbs, outcome: Outcome, now: datetime) -> None:
    dbs.add(Gallringslogg(at=now, organisation_id=outcome.organisation.id if outcome.organisation else None,
                          kind=outcome.rule.key, rule=outcome.rule_text[:200], count=outcome.count,
                          kept=outcome.kept))


def run(now: datetime, *, dry_run: bool) -> list[Outcome]:
    """Delete what the rules say is due at ``now`` (naive UTC) and log it; with ``dry_run`` only count.
    Each organisation's rule is its own transaction, together with its line in the gallringslogg."""
    dbs = db.session()
    outcomes: list[Outcome] = []

    def finish(outcome: Outcome, ids: list[int] | None = None) -> None:
        if dry_run:
            dbs.rollback()
        else:
            if ids:
                _delete_due(outcome.rule.key, dbs, ids)
            _record(dbs, outcome, now)
            dbs.commit()
        outcomes.append(outcome)

    for org in dbs.scalars(select(Organisation).order_by(Organisation.id)).all():
        conf = settings(org)
        for key, find in (("arende_avslutat", lambda: due_closed(org, conf, now)),
                          ("utkast", lambda: due_drafts(org, conf, now)),
                          ("granskningslogg", lambda: due_audit(org.id, conf.periods["granskningslogg"], now))):
            found = find()
            finish(Outcome(rule(key), conf.periods[key], len(found.ids), found.kept, org), found.ids)
    audit_rule = rule("granskningslogg")
    found = due_audit(None, audit_rule.default, now)  # entries without an organisation (the command line)
    finish(Outcome(audit_rule, audit_rule.default, len(found.ids)), found.ids)
    for r in rules():
        if r.purge is not None:
            count = r.purge(now, r.delta(r.default), dry_run)
            finish(Outcome(r, r.default, count))
    return outcomes


def log_entries(organisation_id: int, limit: int = 30) -> list[Gallringslogg]:
    """The latest lines of the gallringslogg: the organisation's own and the global rules'."""
    stmt = (select(Gallringslogg).where((Gallringslogg.organisation_id == organisation_id)
                                        | Gallringslogg.organisation_id.is_(None))
            .order_by(Gallringslogg.id.desc()).limit(limit))
    return list(db.session().scalars(stmt))


def parse_day(text: str) -> date:
    """--per ÅÅÅÅ-MM-DD for a preview (read like every date people type: validation.parse_date)."""
    try:
        return parse_date(text)
    except ValidationError as exc:
        raise ValueError(f"{exc} (Inte {text!r}.)") from None
