"""Who may see what of a hand-over, and what the parties' ärenden for one individ look like together.

The recipient enhet sees a hand-over only while a samtycke on the sender's ärende covers its party
(re-checked at every request: a revocation or an expiry ends the access at once). The sender's
enhet always sees what it sent. Nobody else sees anything – not an admin of either organisation,
not another enhet of the recipient's organisation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from formservice import db, tid
from formservice.accounts.models import Enhet, Organisation, User
from formservice.arenden import consents, operations as arenden
from formservice.arenden.models import Arende, Handelse, Samtycke
from formservice.arenden.operations import keyring, local_today

from . import definitions
from .models import Overlamning, Visning


class NotShared(LookupError):
    """Not a hand-over this user may see (never said which of the reasons: it is a 404)."""


def rules() -> definitions.Samverkan:
    """forms/_samverkan.yaml read against the map in use (the map can be replaced while running)."""
    cat = current_app.extensions["catalogue"]
    cached = current_app.extensions.get("samverkan")
    if cached is None or cached[0] is not cat:
        from formservice.paths import FORMS_DIR

        loaded = definitions.load(FORMS_DIR, set(cat.blanketter), cat.process_map)
        cached = (cat, loaded)
        current_app.extensions["samverkan"] = cached
    return cached[1]


# ---------------------------------------------------------------- the gate
def needed_parties(blankett, enhet: Enhet) -> list[str]:
    """The consent parties a hand-over of `blankett` to `enhet` needs: the enhet's own party, or for
    the Finsamteam (no party of its own) every party the blankett shares with."""
    kind = rules().parter.get(enhet.typ)
    if kind is not None and kind.samtycke:
        return [kind.samtycke]
    return list(blankett.shares_with)


def missing_consent(arende: Arende, blankett, enhet: Enhet, today: date | None = None,
                    given: list[Samtycke] | None = None) -> list[str]:
    """The parties (keys) no active samtycke of the sender's ärende covers for this hand-over
    (`given`: the ärende's samtycken, when the caller has read them already)."""
    today = today or local_today()
    cat = current_app.extensions["catalogue"]
    accepted = consents.accepted_kinds(cat, blankett)
    covered = {p for s in (consents.of(arende) if given is None else given)
               if s.blankett_id in accepted and s.active_on(today) for p in s.party_keys}
    return [p for p in needed_parties(blankett, enhet) if p not in covered]


def consent_holds(ov: Overlamning, today: date | None = None, given: list[Samtycke] | None = None) -> bool:
    blankett = current_app.extensions["catalogue"].blanketter.get(ov.dokument.blankett_id)
    return blankett is not None and not missing_consent(ov.fran_arende, blankett, ov.till_enhet, today, given)


# ---------------------------------------------------------------- the recipient's side
# Who works an enhet's inbox: its caseworkers. An uppföljare sees statistics only, and an admin
# administers – neither needs another party's health data, even in their own enhet.
NO_INBOX = ("uppfoljare", "admin")


def _for_enhet(user: User):
    """The hand-overs addressed to the user's own enhet (caseworkers only, see NO_INBOX)."""
    if user.role in NO_INBOX:
        return select(Overlamning).where(Overlamning.id < 0)
    return select(Overlamning).where(Overlamning.till_enhet_id == user.enhet_id)


def incoming(user: User, *, include_done: bool = False) -> list[Overlamning]:
    """The enhet's inbox, newest first: what waits for it (skickad, mottagen) and, with
    include_done, what it answered or returned – each only while its samtycke holds."""
    statuses = ("skickad", "mottagen", "besvarad", "returnerad") if include_done else ("skickad", "mottagen")
    dbs = db.session()
    rows = dbs.scalars(_for_enhet(user).where(Overlamning.status.in_(statuses))
                       .options(selectinload(Overlamning.dokument), selectinload(Overlamning.fran_arende),
                                selectinload(Overlamning.till_enhet))
                       .order_by(Overlamning.skickad_at.desc(), Overlamning.id.desc()).limit(500)).all()
    # Every sender ärende's samtycken in one query, not one per hand-over.
    given: dict[int, list[Samtycke]] = {ov.fran_arende_id: [] for ov in rows}
    for samtycke in dbs.scalars(select(Samtycke).where(Samtycke.arende_id.in_(given))) if given else ():
        given[samtycke.arende_id].append(samtycke)
    today = local_today()
    return [ov for ov in rows if consent_holds(ov, today, given[ov.fran_arende_id])]


def waiting_count(user: User) -> int:
    return sum(1 for ov in incoming(user) if ov.status == "skickad")


def get_incoming(user: User, public_id: str) -> Overlamning:
    """A hand-over to the user's enhet whose samtycke holds; else NotShared (a 404)."""
    ov = db.session().scalar(_for_enhet(user).where(Overlamning.public_id == public_id))
    if ov is None or not consent_holds(ov):
        raise NotShared(public_id)
    return ov


def individ_identity(ov: Overlamning) -> dict[str, str]:
    """What the recipient learns of the individ: name and personnummer (nothing more of the record)."""
    data = arenden.individ(ov.fran_arende)
    return {"namn": data.get("namn", ""), "personnummer": data.get("personnummer", "")}


# ---------------------------------------------------------------- the sender's side
def sent_from(arende: Arende) -> list[Overlamning]:
    return db.session().scalars(select(Overlamning).where(Overlamning.fran_arende_id == arende.id)
                                .order_by(Overlamning.skickad_at.desc(), Overlamning.id.desc())).all()


def sent_for_document(arende: Arende, dokument_id: int) -> list[Overlamning]:
    return [ov for ov in sent_from(arende) if ov.dokument_id == dokument_id]


def status_set_by_recipient(arende: Arende) -> set[int]:
    """The ids of the ärende's documents sent in formservice (and not returned): their status is the
    recipients' to set (mottagen, besvarad), never typed by the sender."""
    return {ov.dokument_id for ov in sent_from(arende) if ov.status != "returnerad"}


def received_into(arende: Arende) -> list[Overlamning]:
    """The hand-overs that opened or were linked to this (recipient's) ärende."""
    return db.session().scalars(select(Overlamning).where(Overlamning.mottagare_arende_id == arende.id)
                                .order_by(Overlamning.skickad_at.desc())).all()


def views_of(arende: Arende) -> list[Visning]:
    """"Vem har sett vad": every view by another party of what this ärende sent, newest first."""
    return db.session().scalars(
        select(Visning).join(Overlamning, Visning.overlamning_id == Overlamning.id)
        .where(Overlamning.fran_arende_id == arende.id).order_by(Visning.at.desc(), Visning.id.desc())
        .limit(500)).all()


def record_view(user: User, ov: Overlamning, what: str) -> None:
    """A view of a shared item by the recipient's side: kept for the sender and the registerutdrag."""
    from formservice import audit

    if user.enhet_id == ov.fran_enhet_id:
        return
    db.session().add(Visning(overlamning_id=ov.id, user_id=user.id, enhet_id=user.enhet_id, vad=what))
    audit.record("samverkan_visad", user=user, object_type="overlamning", object_id=ov.public_id,
                 detail=what, commit=False)
    db.session().commit()


def enhet_label(enhet: Enhet) -> str:
    return f"{enhet.namn} ({enhet.organisation.namn})"


# ---------------------------------------------------------------- vem gör vad
@dataclass(frozen=True)
class Position:
    ruta_id: str
    party: str          # the enhet and its organisation
    since: date
    own: bool
    closed: bool


def _linked_ids(arende: Arende) -> set[int]:
    """The ärenden joined to this one by hand-overs whose samtycke holds (both directions, a few hops)."""
    seen, frontier = {arende.id}, {arende.id}
    today = local_today()
    for _hop in range(4):
        if not frontier:
            break
        rows = db.session().scalars(select(Overlamning).where(
            or_(Overlamning.fran_arende_id.in_(frontier), Overlamning.mottagare_arende_id.in_(frontier)),
            Overlamning.mottagare_arende_id.is_not(None))).all()
        nxt = set()
        for ov in rows:
            if not consent_holds(ov, today):
                continue
            for other in (ov.fran_arende_id, ov.mottagare_arende_id):
                if other not in seen:
                    seen.add(other)
                    nxt.add(other)
        frontier = nxt
    return seen


def positions(arende: Arende) -> list[Position]:
    """Every linked party's current ruta ("vem gör vad nu"), the viewer's own first: only the ruta
    and since when – never another party's notes, drafts or documents."""
    ids = _linked_ids(arende)
    if len(ids) < 2:
        return []
    dbs = db.session()
    out = []
    for other in dbs.scalars(select(Arende).where(Arende.id.in_(ids))).all():
        since = dbs.scalar(select(Handelse.at).where(Handelse.arende_id == other.id, Handelse.to_ruta == other.ruta)
                           .order_by(Handelse.at.desc()).limit(1)) or other.created_at
        out.append(Position(other.ruta, enhet_label(other.enhet), tid.local_date(since), other.id == arende.id,
                            other.status != "oppet"))
    out.sort(key=lambda p: (not p.own, p.party))
    return out


# ---------------------------------------------------------------- the address book
def forbund_id_of(organisation: Organisation) -> int | None:
    """The förbund an organisation belongs to (a förbund's own organisation: itself)."""
    if organisation.typ == "samordningsforbund":
        return organisation.id
    return organisation.forbund_id


def address_book(user: User) -> list[Enhet]:
    """The active enheter of the förbund's organisations (the förbund's own included), by organisation
    and name; an organisation outside any förbund sees its own enheter only."""
    own = user.enhet.organisation
    fid = forbund_id_of(own)
    stmt = select(Enhet).join(Organisation, Enhet.organisation_id == Organisation.id).where(Enhet.active.is_(True))
    if fid is None:
        stmt = stmt.where(Organisation.id == own.id)
    else:
        stmt = stmt.where(or_(Organisation.id == fid, Organisation.forbund_id == fid))
    return db.session().scalars(stmt.order_by(Organisation.namn, Enhet.namn)).all()


def recipients_for(user: User, blankett_id: str) -> list[Enhet]:
    """The enheter of the address book a blankett can be sent to (never the sender's own enhet)."""
    route = rules().route(blankett_id)
    if route is None:
        return []
    return [e for e in address_book(user) if e.typ in route.till and e.id != user.enhet_id]


def answer_lines(ov: Overlamning) -> list[tuple[str, str]]:
    """The recipient's answer as the sender reads it: (question, answer as said) – the choice's text,
    the date, the free texts; never the stored codes."""
    from .answers import FORMS

    route = rules().route(ov.dokument.blankett_id)
    form = FORMS.get(route.svar) if route else None
    values = answer_of(ov)
    if form is None or not values:
        return []
    chosen = next((c.label for c in form.choices if c.value == values.get(form.choice_name)), "")
    lines = [(form.question, chosen)] if chosen else []
    if form.date_field and values.get(form.date_field[0]):
        lines.append((form.date_field[1], values[form.date_field[0]]))
    lines += [(label, values[name]) for name, label, _req, _hint in form.texts if values.get(name)]
    return lines


@dataclass(frozen=True)
class SeenBy:
    """Views by one person of one item on one day, as one line of "Vem har sett vad"."""
    user: User | None
    enhet_id: int
    what: str
    document_number: str
    first: datetime
    last: datetime
    times: int


def views_grouped(arende: Arende) -> list[SeenBy]:
    """"Vem har sett vad", a line per person, item, kind of view and day (every view is kept; a
    page opened ten times is one line saying so)."""
    groups: dict[tuple, list] = {}
    for v in views_of(arende):
        key = (v.user_id, v.enhet_id, v.overlamning_id, v.vad, tid.local_date(v.at))
        groups.setdefault(key, []).append(v)
    out = []
    for (_uid, enhet_id, _ov, what, _day), views in groups.items():
        ov = db.session().get(Overlamning, views[0].overlamning_id)
        out.append(SeenBy(views[0].user, enhet_id, what, ov.dokument.document_number,
                          min(v.at for v in views), max(v.at for v in views), len(views)))
    return sorted(out, key=lambda s: s.last, reverse=True)


def answer_of(ov: Overlamning) -> dict:
    return keyring().decrypt_json(ov.svar_enc, {}) if ov.svar_enc else {}


def return_reason(ov: Overlamning) -> str:
    return keyring().decrypt_json(ov.anledning_enc, "") if ov.anledning_enc else ""
