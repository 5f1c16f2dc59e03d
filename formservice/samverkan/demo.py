"""The demo's samverkan: Tolvan's ärende (arenden.demo) with the individ's samtycken recorded and two
hand-overs waiting – the rehabiliteringsförfrågan in Vårdcentral Demo's inbox and the anmälan in
the Finsamteam's – made and sent the way a caseworker makes and sends them (registry.produce,
consents.record, operations.send), so that `vard.demo` and `koord.demo` have something to open.

The whole demo runs through `seed` here (the accounts and Tolvan's ärende first, then this), as
`formservice demo` calls it; the names the command shows come from arenden.demo. Running it again
adds nothing: a samtycke, a document or a hand-over already there is kept as it is."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from formservice import db, tid
from formservice.accounts.models import Enhet, User
from formservice.accounts.operations import settings_of
from formservice.arenden import consents, operations as arenden, registry
from formservice.arenden.demo import (  # noqa: F401 — the rest of the demo, for the command
    DEMO_ENHETER, DEMO_INDIVID, EXAMPLE_ARENDEN, EXAMPLE_ENHET, is_present, login_help, seed as seed_accounts)
from formservice.arenden.models import Arende, Dokument
from formservice.blanketter import prefill
from formservice.rendering import documents

from . import operations
from .models import Overlamning

SENDER = "soc.demo"
SIGNED_DAYS_AGO = 7  # the individ signed the samtycken a week before the demo was made

# What the caseworker typed (the rest comes from prefill: Tolvan, soc.demo and Skärholmen).
TYPED = {
    "rehabiliteringsforfragan": {
        "lakare_namn": "Vårdcentral Demo (läkare ej känd)",
        "vardenhet": "Vårdcentral Demo",
    },
    "finsamteam_anmalan": {
        "finsam_anledning": ("Tolvan har fått ekonomiskt bistånd i två år och har svårt att delta i "
                             "arbetsförberedande insatser på grund av långvariga besvär med ryggen."),
        "finsam_fragestallning": ("Kan Finsamteamet tillsammans med Tolvan göra en gemensam plan för vägen "
                                  "mot arbete eller studier, med stöd från vården och Arbetsförmedlingen?"),
        "har_kontakt_vard": True,
        "kontakt_vard": "Vårdcentral Demo",
        "sus_forsorjning_fore": "forsorjningsstod",
        "sus_tid_offentlig_forsorjning": "ar_1_till_3",
        "sus_sysselsattning_fore": "ovriga",
        "sus_utbildningsniva": "gymnasium",
    },
}
# The samtycken Tolvan signed a week ago: the blankett and the parties ticked.
CONSENTS = (
    ("sekretessmedgivande", ("socialtjanst", "vard")),
    ("finsamteam_samtycke", ("af", "fk", "jobbtorg", "socialtjanst", "vard")),
)
# Each hand-over: the blankett sent and the demo enhet (arenden.demo.DEMO_ENHETER key) it waits at.
HANDOVERS = (("rehabiliteringsforfragan", "vardcentral"), ("finsamteam_anmalan", "finsamteam"))


def seed(password: str, *, only_if_empty: bool = False) -> bool:
    """The accounts and Tolvan's ärende (arenden.demo.seed), then the samverkan on it; False when
    nothing was done (only_if_empty and the database has users)."""
    if not seed_accounts(password, only_if_empty=only_if_empty):
        return False
    seed_samverkan()
    return True


def seed_samverkan() -> None:
    dbs = db.session()
    user = dbs.scalar(select(User).where(User.username == SENDER))
    arende = tolvans_arende(user)
    if arende is None or arende.status != "oppet":
        return  # a demo database whose Tolvan was closed or removed: left as it is
    catalogue = current_app.extensions["catalogue"]
    today = arenden.local_today()
    signed = today - timedelta(days=SIGNED_DAYS_AGO)
    recorded = {s.blankett_id for s in consents.of(arende) if s.active_on(today)}  # expired: signed anew
    for blankett_id, parties in CONSENTS:
        if blankett_id not in recorded:
            blankett = catalogue.blanketter[blankett_id]
            consents.record(user, arende, blankett, {
                "parties": list(parties), "given_by": DEMO_INDIVID["namn"], "scope": "", "valid_from": signed,
                "valid_until": consents.latest_end(blankett, signed)})
    user_id, arende_id = user.id, arende.id
    for blankett_id, enhet_key in HANDOVERS:
        dok_id = _document(user, arende, blankett_id)
        # Laying a document out ends the session (registry's finish runs in an app context of its
        # own, as after a response): everything is read again.
        dbs = db.session()
        user, arende, dok = dbs.get(User, user_id), dbs.get(Arende, arende_id), dbs.get(Dokument, dok_id)
        enhet = dbs.scalar(select(Enhet).where(Enhet.namn == DEMO_ENHETER[enhet_key][1]))
        if enhet is not None and not dbs.scalar(select(Overlamning.id).where(
                Overlamning.dokument_id == dok.id, Overlamning.till_enhet_id == enhet.id).limit(1)):
            # no e-mail: the demo's funktionsadresser are example.se addresses nobody reads
            operations.send(user, arende, dok, [enhet.id], notify=False)


def tolvans_arende(user: User | None) -> Arende | None:
    """The demo's ärende for Skatteverket's test number at the caseworker's enhet (the first made)."""
    if user is None:
        return None
    ids = arenden.with_personnummer(DEMO_INDIVID["personnummer"])
    return db.session().scalar(select(Arende).where(Arende.id.in_(ids), Arende.enhet_id == user.enhet_id)
                               .order_by(Arende.id).limit(1)) if ids else None


def _document(user: User, arende: Arende, blankett_id: str) -> int:
    """The id of the ärende's document of this blankett, or of one produced now and laid out in full
    (a hand-over sends only a complete document)."""
    dok = db.session().scalar(select(Dokument).where(Dokument.arende_id == arende.id,
                                                     Dokument.blankett_id == blankett_id)
                              .order_by(Dokument.id).limit(1))
    if dok is not None:
        registry.ensure_complete(dok)
        return dok.id
    catalogue = current_app.extensions["catalogue"]
    values = documents.validate(catalogue, blankett_id, _values(user, arende, blankett_id))
    dok, finish = registry.produce(user, arende, catalogue, blankett_id, values,
                                   current_app.extensions.get("official_pdfs"))
    dok_id = dok.id
    finish()
    return dok_id


def _values(user: User, arende: Arende, blankett_id: str) -> dict:
    """Prefill as the caseworker's form gives it (the individ, the caseworker, the enhet, the
    organisation's texts, the ärende's earlier answers), then what the caseworker typed."""
    catalogue = current_app.extensions["catalogue"]
    blankett = catalogue.blanketter[blankett_id]
    parts = [blankett, *(catalogue.blanketter[a] for a in blankett.attachments)]
    answers = arenden.answers(arende)
    sources = prefill.sources(individ=arenden.individ(arende), user=user, settings=settings_of(user.enhet.organisation),
                              today=tid.today(), answers=answers)
    values, _origin = prefill.resolve(parts, sources=sources, answers=answers, draft={})
    return {**values, **TYPED.get(blankett_id, {})}
