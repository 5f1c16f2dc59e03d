"""Sending a hand-over, and the recipient's acceptance, return and answer. Each step writes the
history of both parties' ärenden it touches and sets the sender's document status, so nobody types
"mottagen" or "besvarad" by hand. A hand-over to an enhet outside formservice gets its SDK package
from the job worker after the send (samverkan.packages)."""
from __future__ import annotations

import uuid
from typing import Any, Mapping

from flask import current_app

from formservice import audit, db
from formservice.accounts.models import Enhet, User
from formservice.arenden import operations as arenden
from formservice.arenden.models import DOKUMENT_STATUS, Arende, Dokument, Handelse
from formservice.arenden.operations import keyring, new_public_id, require_open
from formservice.db import utcnow

from . import access, answers as answer_forms, notifications, packages, sdk
from .models import Overlamning


class Refused(Exception):
    """A hand-over that may not be sent (or answered): the Swedish reason for the user."""

    def __init__(self, message: str, *, missing: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.missing = missing or []


# ---------------------------------------------------------------- sending
def send(user: User, arende: Arende, dok: Dokument, enhet_ids: list[int], *, notify: bool = True
         ) -> list[Overlamning]:
    """Send a produced document to the chosen enheter's inboxes (and tell their funktionsadresser,
    unless `notify` is off: the demo). Refused (nothing sent) when an enhet is not a recipient of
    this blankett in the förbund's address book, or when no active samtycke covers its party – a
    hard block, no override."""
    require_open(arende)
    cat = current_app.extensions["catalogue"]
    blankett = cat.blanketter.get(dok.blankett_id)
    route = access.rules().route(dok.blankett_id)
    if blankett is None or route is None:
        raise Refused("Den här handlingen skickas inte i formservice.")
    if not dok.klar:
        raise Refused("Dokumentet tas fortfarande fram. Vänta en stund och försök igen.")
    allowed = {e.id: e for e in access.recipients_for(user, dok.blankett_id)}
    chosen = list(dict.fromkeys(int(i) for i in enhet_ids))
    if not chosen:
        raise Refused("Välj vart handlingen ska skickas.")
    if not route.flera and len(chosen) > 1:
        raise Refused("Den här handlingen skickas till en mottagare. Välj en.")
    if any(i not in allowed for i in chosen):
        raise Refused("Mottagaren finns inte i förbundets adressbok för den här handlingen.")
    missing = sorted({p for i in chosen for p in access.missing_consent(arende, blankett, allowed[i])})
    if missing:
        from formservice.arenden.consents import party_names

        raise Refused(f"Handlingen kan inte skickas: inget gällande samtycke omfattar {party_names(missing)}. "
                      "Registrera individens samtycke i ärendet först.", missing=missing)
    already = {ov.till_enhet_id for ov in access.sent_for_document(arende, dok.id) if ov.status != "returnerad"}
    over_sdk = sdk.outside(chosen)  # outside formservice: an SDK package, not an inbox here (docs/sdk.md)
    if over_sdk - already:
        try:
            sdk.require_ready(user.enhet_id)
        except sdk.SdkError as exc:
            raise Refused(exc.message) from None
    dbs = db.session()
    sent = []
    for enhet_id in chosen:
        if enhet_id in already:
            continue  # a double click, or sent before: once is enough
        enhet = allowed[enhet_id]
        ov = Overlamning(public_id=new_public_id(), dokument_id=dok.id, fran_arende_id=arende.id,
                         fran_enhet_id=user.enhet_id, till_enhet_id=enhet.id,
                         part=",".join(access.needed_parties(blankett, enhet)), skickad_av=user.id,
                         # over SDK: the conversation (and the package's folder) is named now, the
                         # package written by the job worker after the commit
                         sdk_konversation=str(uuid.uuid4()) if enhet_id in over_sdk else None)
        dbs.add(ov)
        sent.append(ov)
        dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="samverkan", from_ruta=arende.ruta,
                         to_ruta=arende.ruta, beslut=_cut(f"{dok.document_number} skickad till "
                                                          f"{access.enhet_label(enhet)} "
                                                          + ("via SDK" if enhet_id in over_sdk else "i formservice"))))
    if not sent:
        return []
    _forward(user, arende, dok, "skickad")
    dbs.flush()
    for ov in sent:
        audit.record("document_sent", user=user, object_type="overlamning", object_id=ov.public_id,
                     detail=dok.blankett_id, commit=False)
    dbs.commit()
    app = current_app._get_current_object()
    for ov in sent:
        if ov.till_enhet_id in over_sdk:
            # A queue out of reach is logged: the worker queues every unwritten package when it starts.
            _quietly_failing(packages.enqueue, app, ov.public_id)
        elif notify:
            _quietly_failing(notifications.notify_enhet, app, ov.till_enhet, route.kallas,
                             key=f"overlamning-{ov.public_id}")
    return sent


# ---------------------------------------------------------------- the recipient
def accept(user: User, ov: Overlamning) -> Arende:
    """Take the hand-over in: link the enhet's open ärende for the individ, or open one at the
    ruta where this party's part starts. A second click finds it accepted and changes nothing."""
    if ov.mottagare_arende_id is not None:
        return ov.mottagare_arende
    if ov.status != "skickad":
        raise Refused("Handlingen är redan returnerad.")
    require_open(ov.fran_arende)
    rules = access.rules()
    route = rules.route(ov.dokument.blankett_id)
    identity = access.individ_identity(ov)
    start = route.start.get(user.enhet.typ) if route else None
    lane = rules.lane_of(user.enhet.typ)
    existing = arenden.open_in_enhet(user, identity["personnummer"])
    dbs = db.session()
    if existing:
        own = existing[0].arende  # an ärende already under way stays where its handläggare put it
    else:
        pm = current_app.extensions["catalogue"].process_map
        if not start or start not in pm.rutor:
            start = pm.lane(lane).start[0] if lane else pm.lanes[0].start[0]
        own = arenden.create(user, identity, lane=pm.rutor[start].lane, ruta=start)
    sender = access.enhet_label(ov.fran_enhet)
    dbs.add(Handelse(arende_id=own.id, user_id=user.id, kind="samverkan", from_ruta=own.ruta, to_ruta=own.ruta,
                     beslut=_cut(f"{ov.dokument.document_number} mottagen från {sender}")))
    ov.status, ov.mottagen_at, ov.mottagen_av, ov.mottagare_arende_id = "mottagen", utcnow(), user.id, own.id
    dbs.add(Handelse(arende_id=ov.fran_arende_id, user_id=user.id, kind="samverkan", from_ruta=ov.fran_arende.ruta,
                     to_ruta=ov.fran_arende.ruta, beslut=_cut(f"{ov.dokument.document_number} mottagen av "
                                                              f"{access.enhet_label(ov.till_enhet)}")))
    _forward(user, ov.fran_arende, ov.dokument, "mottagen")
    audit.record("handover_accepted", user=user, object_type="overlamning", object_id=ov.public_id, commit=False)
    dbs.commit()
    return own


def give_back(user: User, ov: Overlamning, reason: str) -> None:
    """Return the hand-over to the sender with a reason (kept encrypted: it may name the case)."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Skriv varför handlingen returneras, så att avsändaren vet vad som behövs.")
    if len(reason) > answer_forms.MAX_TEXT:
        raise Refused(f"Anledningen får vara högst {answer_forms.MAX_TEXT} tecken (nu {len(reason)}).")
    if ov.status == "returnerad":
        return
    if ov.status != "skickad":
        raise Refused("Handlingen är redan mottagen; den kan inte returneras. Svara på den i stället.")
    kr = keyring()
    ov.status, ov.anledning_enc = "returnerad", kr.encrypt_json(reason)
    ov.besvarad_at, ov.besvarad_av = utcnow(), user.id
    db.session().add(Handelse(arende_id=ov.fran_arende_id, user_id=user.id, kind="samverkan",
                              from_ruta=ov.fran_arende.ruta, to_ruta=ov.fran_arende.ruta,
                              beslut=_cut(f"{ov.dokument.document_number} returnerad av "
                                          f"{access.enhet_label(ov.till_enhet)}"),
                              note_enc=kr.encrypt_json(reason)))
    db.session().flush()
    _settle(user, ov)
    audit.record("handover_returned", user=user, object_type="overlamning", object_id=ov.public_id, commit=False)
    db.session().commit()
    _notify(ov.fran_enhet, f"En handling har returnerats till {ov.fran_enhet.namn} i formservice",
            f"overlamning-{ov.public_id}-returnerad", "En handling som ni skickat har returnerats.")


def answer(user: User, ov: Overlamning, raw: Mapping[str, Any]) -> dict[str, str]:
    """The recipient's answer (Finsamteam, SIP, Försäkringskassan): errors, or {} when stored. Sets the
    hand-over besvarad, moves the recipient's ärende as forms/_samverkan.yaml says, and the sender's
    document to besvarad once every recipient has answered."""
    route = access.rules().route(ov.dokument.blankett_id)
    form = answer_forms.FORMS.get(route.svar) if route else None
    if form is None:
        raise Refused("Den här handlingen besvaras inte här.")
    values, errors = answer_forms.check(form, raw)
    if errors:
        return errors
    if ov.status == "besvarad":
        return {}  # a double submit
    own = accept(user, ov)
    kr = keyring()
    ov.svar_enc = kr.encrypt_json(values)
    _answered(user, ov, own, answer_forms.summary(form, values))
    target = route.efter_svar.get(values.get(form.choice_name, ""))
    if target and own.ruta != target and own.status == "oppet":
        arenden.move(user, own, target, kind="ruta", beslut=answer_forms.summary(form, values))
    return {}


def doctor_answer(user: User, ov: Overlamning, blankett, raw: Mapping[str, Any]) -> dict[str, str]:
    """The doctor's answer to a förfrågan, given in formservice: checked as an answer read from the
    fillable PDF is (doctor.readback), then the sender's document's answer at once – the same archive
    copy, the same move on the map – because it is the doctor's own, not a reading to be checked."""
    from formservice.doctor import answers as doctor_answers, readback
    from formservice.doctor.models import Svar

    _clean, errors = readback.validate_doctor_answers(blankett, raw)
    if errors:
        return errors
    if ov.status == "besvarad":
        return {}  # a double submit
    own = accept(user, ov)
    sender = ov.fran_arende
    svar = Svar(public_id=new_public_id(), arende_id=sender.id, dokument_id=ov.dokument_id, source="online",
                answers_enc=keyring().encrypt_json(dict(raw)), created_by=user.id)
    db.session().add(svar)
    db.session().flush()
    errors = doctor_answers.confirm(user, sender, svar, blankett, raw)
    if errors:  # cannot happen after the same check; never leave half an answer behind
        db.session().delete(svar)
        db.session().commit()
        return errors
    ov.svar_enc = keyring().encrypt_json({"svar": svar.public_id})
    _answered(user, ov, own, "läkarens svar lämnat i formservice")
    return {}


def answer_over_sdk(ov: Overlamning, values: dict[str, str], said: str) -> None:
    """The answer of an enhet outside formservice, delivered by the SDK client (samverkan.sdk): kept
    as an online answer is, with no user and no ärende of the recipient's here."""
    if ov.status in ("besvarad", "returnerad"):
        return
    ov.svar_enc = keyring().encrypt_json(values)
    _answered(None, ov, None, said)


def _answered(user: User | None, ov: Overlamning, own: Arende | None, said: str) -> None:
    """`user` and `own` are None for an answer that came over SDK."""
    dbs = db.session()
    ov.status, ov.besvarad_at, ov.besvarad_av = "besvarad", utcnow(), user.id if user else None
    if own is not None:
        dbs.add(Handelse(arende_id=own.id, user_id=user.id, kind="samverkan", from_ruta=own.ruta, to_ruta=own.ruta,
                         beslut=_cut(f"Svar på {ov.dokument.document_number}: {said}")))
    sender = ov.fran_arende
    via = " via SDK" if own is None else ""
    dbs.add(Handelse(arende_id=sender.id, user_id=user.id if user else None, kind="samverkan", from_ruta=sender.ruta,
                     to_ruta=sender.ruta, beslut=_cut(f"{ov.dokument.document_number} besvarad av "
                                                      f"{access.enhet_label(ov.till_enhet)}{via}: {said}")))
    _settle(user, ov)
    audit.record("handover_answered", user=user, object_type="overlamning", object_id=ov.public_id, commit=False,
                 organisation_id=None if user else ov.fran_enhet.organisation_id)
    dbs.commit()
    _notify(ov.fran_enhet, f"Svar till {ov.fran_enhet.namn} i formservice", f"overlamning-{ov.public_id}-besvarad",
            "En handling som ni skickat har besvarats.")


def _settle(user: User, ov: Overlamning) -> None:
    """The sender's document is besvarad when every recipient that kept it has answered (a return
    is no answer, but no longer waited for)."""
    others = access.sent_for_document(ov.fran_arende, ov.dokument_id)
    waiting = [o for o in others if o.status in ("skickad", "mottagen")]
    if not waiting and any(o.status == "besvarad" for o in others):
        _forward(user, ov.fran_arende, ov.dokument, "besvarad")


def _forward(user: User, arende: Arende, dok: Dokument, status: str) -> None:
    """Move the sender's document status forward (never back: a status set later stays)."""
    order = list(DOKUMENT_STATUS)
    if order.index(status) > order.index(dok.status if dok.status in order else "skapad"):
        dok.status, dok.status_at = status, utcnow()


# ---------------------------------------------------------------- closing
def tell_linked_of_closing(user: User, arende: Arende) -> None:
    """Closing an ärende tells the parties linked to it: a line in their ärende and a notification."""
    dbs = db.session()
    told = set()
    notices = []
    for ov in access.sent_from(arende):
        if ov.mottagare_arende_id and ov.mottagare_arende_id not in told:
            told.add(ov.mottagare_arende_id)
            ov.avslutad_hos_avsandaren = utcnow()
            dbs.add(Handelse(arende_id=ov.mottagare_arende_id, user_id=user.id, kind="samverkan",
                             beslut=_cut(f"{access.enhet_label(ov.fran_enhet)} har avslutat sitt ärende")))
            notices.append((ov.till_enhet, ov.fran_enhet, ov.public_id))
    for ov in access.received_into(arende):
        if ov.fran_arende_id not in told:
            told.add(ov.fran_arende_id)
            dbs.add(Handelse(arende_id=ov.fran_arende_id, user_id=user.id, kind="samverkan",
                             beslut=_cut(f"{access.enhet_label(ov.till_enhet)} har avslutat sitt ärende")))
            notices.append((ov.fran_enhet, ov.till_enhet, ov.public_id))
    dbs.commit()
    for to, closer, public_id in notices:
        _notify(to, f"{closer.namn} har avslutat ett ärende som är kopplat till {to.namn}",
                f"overlamning-{public_id}-avslutat-{arende.public_id}-{arende.version}",
                f"{closer.namn} har avslutat sitt ärende för en individ som ni har ett kopplat ärende för.")


def _cut(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def _notify(enhet: Enhet, subject: str, key: str, text: str) -> None:
    """A notification to the enhet's funktionsadress (no personal data: only that something came
    and where to look), sent by the job worker with retries (samverkan.notifications)."""
    app = current_app._get_current_object()
    base = (app.config.get("PUBLIC_URL") or "").rstrip("/")
    link = f"\n\nLogga in och öppna ärendet i formservice: {base}/arenden\n" if base else "\n\nSe ärendet i formservice.\n"
    _quietly_failing(notifications.queue, app, enhet.funktionsadress, subject, "Hej!\n\n" + text + link, key=key)


def _quietly_failing(queue, *args, **kwargs) -> None:
    """The hand-over is saved whatever happens to its notice: a job queue out of reach is logged
    (no personal data) and the user's step still succeeds – the inbox shows the item anyway."""
    try:
        queue(*args, **kwargs)
    except Exception:  # noqa: BLE001 — logged for the operator, never a 500 after a committed step
        current_app.logger.exception("samverkan: aviseringen eller SDK-paketet kunde inte läggas i kön")
