"""Generated ärenden for trying and measuring the follow-up: fictitious, with paths walked along
the process map's own edges, dates spread over the last months, both kön and a spread of ages.

Used by `formservice demo` (a few hundred, so that the uppföljare's charts show something), by the
browser tests and by benchmarks/bench_uppfoljning.py (100,000). Rows are written in bulk with
explicit ids, so the database's sequences are moved past them afterwards (db.reset_sequences).

Every ärende has its own fictitious individ (encrypted and indexed as usual): a samordningsnummer
(the birth day plus 60) with a valid check digit, born 123–127 years before ``today`` – older than
anybody alive and, as a samordningsnummer, not a number the population register gave anyone born
then (a personnummer of those years may have belonged to someone who lived into the register's
time), yet within the 130 years the service accepts – whose kön digit follows the drawn kön. One shared number made one "person" own every generated ärende (a registerutdrag of 1,200
ärenden). The age band stored for the follow-up is drawn from realistic weights, as before, and is
not the one that birth date would give: the follow-up counts the stored column.

With ``documents`` (the demo and the benchmarks) the ärenden also get the blanketter made on their
way and the doctor's answers (Papers), from a random stream of their own: the paths stay the same.
Skatteverket's test number (the demo's Tolvan) is nowhere in them."""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from formservice import db, tid
from formservice.accounts.models import Enhet
from formservice.accounts.operations import settings_of
from formservice.blanketter import prefill
from formservice.blanketter.model import FILLABLE_ROLES, facts, field_role
from formservice.arenden import demografi
from formservice.arenden.demografi import AGE_BANDS
from formservice.arenden import statistik, sus
from formservice.arenden.models import Arende, Dokument, Handelse, Statistik
from formservice.arenden.operations import keyring
from formservice.db import utcnow
from formservice.doctor import readback
from formservice.doctor.answers import ruta_after_answer
from formservice.doctor.models import Svar


INDIVID = {"namn": "Exempel Exempelsson", "adress": "Exempelgatan 1", "postnummer": "123 45", "ort": "Stockholm"}
BORN_YEARS_AGO = (123, 127)  # nobody alive is this old; the service accepts birth years up to 130 back
STARTS = (("soc1.1a", 45), ("soc1.1b", 25), ("soc2.1", 8), ("hsv.1", 10), ("af.1", 7), ("jobbtorg.1", 5))
AGE_WEIGHTS = (30, 25, 20, 15, 10)
BATCH = 2000


def event(arende_id: int, at: datetime, kind: str, from_ruta: str | None, to_ruta: str | None,
          beslut: str | None = None) -> dict:
    """A history entry, every one with the same columns (generate adds karta_version, which would
    otherwise be a default computed per row): the bulk insert then stays one statement per batch."""
    return {"arende_id": arende_id, "at": at, "kind": kind, "from_ruta": from_ruta, "to_ruta": to_ruta,
            "beslut": beslut}


def generate(pm, enhet_ids: list[int], count: int, *, today: date, seed: int = 2026, months: int = 18,
             documents: bool = False) -> int:
    """Write ``count`` ärenden with their history and, with ``documents``, the blanketter made on
    their way (Papers: where the map offers them, with their values, the doctor's answers to
    a förfrågan when the ärende moves on from ruta 10) – so that the lead times and the blanketter
    per month show something. Returns count."""
    rng = random.Random(seed)
    dbs = db.session()
    kr = keyring()
    # The numbers come from a stream of their own: the paths, dates and counts stay those of ``seed``.
    people, used = random.Random(seed + 1), set()
    record_keys = random.Random(seed + 3)  # the follow-up's record keys: random, and the same for a seed
    latest = min(utcnow() - timedelta(minutes=5), datetime.combine(today, time.max))  # nothing made "just now"
    papers = Papers(pm, random.Random(seed + 2), kr, latest=latest) if documents else None
    first_id = (dbs.scalar(select(Arende.id).order_by(Arende.id.desc()).limit(1)) or 0) + 1
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        arenden, events = [], []
        for i in range(n):
            arende_id = first_id + made + i
            opened = datetime.combine(today - timedelta(days=rng.randint(0, months * 30)), datetime.min.time()) \
                + timedelta(hours=rng.randint(8, 16))
            ruta = rng.choices([s for s, _ in STARTS], [w for _, w in STARTS])[0]
            at = opened
            events.append(event(arende_id, at, "skapad", None, ruta))
            stays = []  # (ruta, arrived, left or None, the move's history entry or None)
            for _ in range(rng.randint(2, 16)):
                targets = pm.ruta(ruta).targets()
                if not targets:
                    break
                edge = rng.choice(targets)
                step_at = at + timedelta(days=rng.choice((1, 3, 7, 10, 14, 21, 30, 45)), hours=rng.randint(0, 6))
                if step_at.date() > today:
                    break
                events.append(event(arende_id, step_at, "beslut", ruta, edge.target))
                stays.append((ruta, at, step_at, events[-1]))
                ruta, at = edge.target, step_at
            stays.append((ruta, at, None, None))
            closed = pm.ruta(ruta).kind == "end" and rng.random() < 0.8
            enhet_id = rng.choice(enhet_ids)
            pnr = fictitious_personnummer(people, "K" if rng.random() < 0.58 else "M", today, used)
            individ = dict(INDIVID, personnummer=pnr)
            facts = None
            if papers:
                events += papers.walk(arende_id, enhet_id, individ, stays)
                facts = papers.facts_at_closing(ruta) if closed else papers.facts
            arenden.append({
                "id": arende_id, "public_id": secrets.token_urlsafe(12), "enhet_id": enhet_id,
                "lane": pm.ruta(ruta).lane, "ruta": ruta, "status": "avslutat" if closed else "oppet",
                "individ_enc": kr.encrypt_json(individ), "pnr_hash": kr.keyed_hash("pnr", pnr),
                "created_at": opened, "updated_at": at, "version": 1, "kon": demografi.kon(pnr),
                "aldersgrupp": rng.choices([k for k, *_ in AGE_BANDS], AGE_WEIGHTS)[0],
                "closed_on": at.date() if closed else None, "closed_reason": ruta if closed else None,
                "svar_enc": kr.encrypt_json(facts) if facts else None, "cellnyckel": record_keys.getrandbits(32)})
        # Core inserts: the ORM's bulk insert leaves out None values, which splits the rows into
        # one statement per change of shape (closed or not, a first entry without from_ruta).
        dbs.execute(Arende.__table__.insert(), arenden)
        for e in events:
            e["karta_version"] = pm.version or None
        dbs.execute(Handelse.__table__.insert(), events)
        if papers:
            papers.write(dbs)
        dbs.commit()
        made += n
    db.reset_sequences(db.engine())  # the ids above were explicit: the next "Nytt ärende" must not collide
    rebuild_counts(pm)
    return made


# ---------------------------------------------------------------- the blanketter made on the way
# Free text as a caseworker might write it (fictitious), and the doctor of every generated answer.
SENTENCES = (
    "Personen har varit sjukskriven länge och vill pröva en aktivitet i lagom takt.",
    "Kontakt finns med vårdcentralen; besöken fungerar bra.",
    "Eftermiddagar passar bäst för möten.",
    "Planen följs upp tillsammans med socialsekreteraren om tre månader.",
    "Hen har tidigare arbetat inom handeln och har körkort.",
)
DOCTOR = {"lakare_namn": "Läkare Exempelsson", "vardenhet": "Vårdcentral Demo",
          "vardenhet_telefon": "08-000 30 00"}
INVITED = ({"verksamhet": "Vårdcentral Demo", "namn": "Läkare Exempelsson", "kontakt": "08-000 30 00"},
           {"verksamhet": "Jobbtorg (exempel)", "namn": "Exempel Jobbcoach", "kontakt": "08-000 50 00"})
ANSWERED = 0.85  # share of förfrågningar whose answer is registered when the ärende moves on from ruta 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as registry.new_document_number
# SUS answers at the anmälan and at closing (realistic for people on försörjningsstöd who are sick-listed:
# most have försörjningsstöd and no sysselsättning before; some work, study or seek work after).
SUS_FORE = {
    "sus_forsorjning_fore": {"forsorjningsstod": 78, "sjukpenning": 6, "aktivitetsstod": 5, "a_kassa": 3,
                             "annan_offentlig": 2, "saknas": 6},
    "sus_sysselsattning_fore": {"ovriga": 68, "aktivt_arbetssokande": 20, "studier": 3, "forvarvsarbete": 3,
                                "saknas": 6},
    "sus_tid_offentlig_forsorjning": {"under_1_ar": 15, "ar_1_till_3": 35, "ar_3_till_5": 25, "ar_5_eller_mer": 20,
                                      "saknas": 5},
    "sus_utbildningsniva": {"ej_grundskola": 15, "grundskola": 30, "gymnasium": 35, "eftergymnasial": 12,
                            "saknas": 8},
}
SUS_EFTER_PLAN = {
    "sus_forsorjning_efter": {"ingen_offentlig": 25, "forsorjningsstod": 40, "aktivitetsstod": 15, "a_kassa": 5,
                              "sjukpenning": 5, "saknas": 10},
    "sus_sysselsattning_efter": {"forvarvsarbete": 22, "studier": 15, "aktivt_arbetssokande": 33, "ovriga": 20,
                                 "saknas": 10},
    "sus_arbete_studier_okat": {"ja": 40, "nej": 50, "saknas": 10},
}
SUS_EFTER_OTHER = {
    "sus_forsorjning_efter": {"forsorjningsstod": 60, "sjuk_aktivitetsersattning": 12, "sjukpenning": 10,
                              "ingen_offentlig": 5, "saknas": 13},
    "sus_sysselsattning_efter": {"ovriga": 65, "aktivt_arbetssokande": 15, "forvarvsarbete": 4, "studier": 3,
                                 "saknas": 13},
    "sus_arbete_studier_okat": {"ja": 8, "nej": 77, "saknas": 15},
}
_PNR, _DAY = "\x00personnummer", "\x00dag"  # stand-ins in the prefill worked out once per blankett (Papers._form)


class Papers:
    """The blanketter a generated ärende's caseworker made on its way, as the process map offers
    them: each on the ruta that offers it, some hours after the ärende came there, once per ärende
    (a förändringsplan at soc1.4, the förfrågan at soc1.9, the anmälan at soc1.13 or finsamteam.4,
    the SIP-kallelse and FK ansökan at soc1.14, …), with its values (prefill from the individ, the
    enhet and a fictitious caseworker; free text from SENTENCES) encrypted as a produced document's.
    A förfrågan is answered (the doctor's confirmed answers, typed from paper) when the ärende moves
    on from the komplettering (soc1.10 → soc1.11, as doctor.answers.confirm moves it).

    The rows are real documents not laid out yet: ``klar`` false and an empty print PDF (encrypted
    like any), which registry.content completes from the stored values on the first download
    (ensure_complete, as for a document whose completion never ran) – laying out 1,200 ärendens'
    documents at `formservice demo` would take minutes, and the follow-up never reads a PDF."""

    def __init__(self, pm, rng: random.Random, kr, *, latest: datetime):
        from flask import current_app

        self.catalogue = current_app.extensions["catalogue"]
        self.pm, self.rng, self.kr, self.latest = pm, rng, kr, latest
        dbs = db.session()
        self.next_doc = (dbs.scalar(select(func.max(Dokument.id))) or 0) + 1
        self.numbers = set(dbs.scalars(select(Dokument.document_number)))
        self.producers: dict[int, SimpleNamespace] = {}
        self.forms: dict[tuple[str, int], tuple[dict, list]] = {}
        self.docs: list[dict] = []
        self.answers: list[dict] = []
        self.own: dict[str, set[str]] = {}

    def walk(self, arende_id: int, enhet_id: int, individ: dict, stays: list[tuple]) -> list[dict]:
        """The history entries of what was made during each stay (ruta, arrived, left – None: the
        ärende is still there –, the move's entry); a move the doctor's answer brings becomes a move
        of kind "ruta", as doctor.answers.confirm makes it."""
        self.arende_id, self.individ, self.made, self.waiting = arende_id, individ, set(), None
        self.facts: dict = {}  # the ärende's answers, merged from its documents as registry.produce stores them
        if enhet_id not in self.producers:
            enhet = db.session().get(Enhet, enhet_id)
            self.producers[enhet_id] = SimpleNamespace(
                namn="Exempel Handläggare", titel="Socialsekreterare", telefon=enhet.telefon or "08-000 40 00",
                epost="handlaggare@example.se", enhet=enhet, settings=settings_of(enhet.organisation))
        self.producer = self.producers[enhet_id]
        events = []
        for ruta, arrived, left, move in stays:
            if move is not None and self.waiting is not None \
                    and move["to_ruta"] == ruta_after_answer(self.pm, self.waiting["blankett_id"], ruta):
                answer = self._answer(self.waiting, left, ruta)
                if answer:
                    events.append(answer)
                    move["kind"], move["beslut"] = "ruta", "Kompletteringen från vården har kommit in"
            offered = [self.catalogue.blanketter[b.id] for b in self.pm.ruta(ruta).blanketter
                       if b.id not in self.made]
            for k, blankett in enumerate(offered):
                if k and self.rng.random() < 0.5:  # a ruta's second blankett (soc1.14's FK ansökan): half the time
                    continue
                when = arrived + timedelta(hours=self.rng.randint(1, 5), minutes=self.rng.randint(0, 59))
                if when > self.latest:
                    break
                events.append(self._document(blankett, ruta, when, sent=left))
        return events

    def _document(self, blankett, ruta: str, when: datetime, *, sent: datetime | None) -> dict:
        number = self._number()
        values = self._values(blankett, when.date())
        if blankett.id not in self.own:  # the names the blankett keeps to itself (scope: dokument)
            parts = [blankett, *(self.catalogue.blanketter[a] for a in blankett.attachments)]
            names = {f.name: 1 for part in parts for f in part.fields}
            self.own[blankett.id] = set(names) - set(facts(parts, names))
        self.facts.update({k: v for k, v in values.items() if k not in self.own[blankett.id]})
        self.made.add(blankett.id)
        doc = {"id": self.next_doc, "public_id": secrets.token_urlsafe(12), "arende_id": self.arende_id,
               "blankett_id": blankett.id, "blankett_version": blankett.version, "document_number": number,
               "created_at": when, "status": "skickad" if sent else "skapad", "status_at": sent or when,
               "pdf_enc": self.kr.encrypt(b""), "values_enc": self.kr.encrypt_json(values), "klar": False}
        self.next_doc += 1
        self.docs.append(doc)
        if blankett.id == statistik.ANSWERED_DOCUMENT[0]:
            self.waiting = doc
        return event(self.arende_id, when, "dokument", ruta, ruta, f"{blankett.title} ({number})")

    def _answer(self, doc: dict, at: datetime, ruta: str) -> dict | None:
        """The doctor's answer registered (typed from paper) just before the move at ``at``; None
        for the förfrågningar whose answer was never registered (they stay "skickad")."""
        self.waiting = None
        if self.rng.random() >= ANSWERED:
            return None
        at -= timedelta(minutes=1)
        doc["status"], doc["status_at"] = "besvarad", at
        came = at - timedelta(hours=self.rng.randint(2, 48))
        self.answers.append({"public_id": secrets.token_urlsafe(12), "arende_id": self.arende_id,
                             "dokument_id": doc["id"], "source": "papper", "status": "bekraftad",
                             "answers_enc": self.kr.encrypt_json(self._assessment(came.date())),
                             "created_at": max(came, doc["created_at"]), "confirmed_at": at})
        return event(self.arende_id, at, "status", ruta, ruta,
                     f"{doc['document_number']}: läkarens svar registrerat (från pappersblankett)")

    def _assessment(self, day: date) -> dict:
        """The doctor's answers: one to three activities possible at 25–100 %, one not (with why)."""
        out = dict(DOCTOR, forfragan_svar_datum=day.isoformat())
        acts = readback.activities(self.catalogue.blanketter[statistik.ANSWERED_DOCUMENT[0]])
        acts = [a for a in acts if a.kan_delta and a.omfattning and a.motivering
                and not a.name.lower().startswith("annat")]  # "Annat" would need saying what
        chosen = self.rng.sample(acts, min(len(acts), self.rng.randint(2, 4)))
        for act in chosen[:-1]:
            out[act.kan_delta], out[act.omfattning] = True, self.rng.choice((25, 50, 75, 100))
        last = chosen[-1]
        if last.kan_inte_delta:
            out[last.kan_inte_delta] = True
        out[last.motivering] = "Bedöms inte möjligt under den närmaste tiden."
        return out

    def _values(self, blankett, day: date) -> dict:
        """Prefill as for a caseworker of the ärende's enhet, then the fields a caseworker types."""
        prefilled, typed = self._form(blankett)
        pnr, iso = self.individ["personnummer"], day.isoformat()
        values = {k: pnr if v == _PNR else iso if v == _DAY else v for k, v in prefilled.items()}
        if any(name in values or name in {f.name for f in typed} for name in SUS_FORE):
            values.update(self._sus(SUS_FORE))
        for f in typed:
            if f.name in SUS_FORE:
                continue
            # a required declaration ("har lämnat samtycke") is ticked, or the blankett is not made
            if f.required or (f.type == "textarea" and not f.declaration and self.rng.random() < 0.7):
                values[f.name] = self._typed(f, day)
        return values

    def _sus(self, weights: dict[str, dict[str, int]]) -> dict[str, str]:
        return {name: self.rng.choices(list(w), list(w.values()))[0] for name, w in weights.items()}

    def facts_at_closing(self, end_state: str) -> dict:
        """The answers of an ärende closed at ``end_state``: a Finsam participant's (an anmälan
        was made, or it closes in a Finsam lane) also get SUS's "efter" answers, as the closing form
        asks them – more often work, studies or a search for work after a plan carried through."""
        if not any(name in self.facts for name in SUS_FORE) and end_state.split(".")[0] not in sus.FINSAM_LANES:
            return self.facts
        reached = sus.proposed_avslut(end_state) == "planen_genomford"
        return {**self.facts, **self._sus(SUS_EFTER_PLAN if reached else SUS_EFTER_OTHER),
                "sus_avslutsanledning": sus.proposed_avslut(end_state)}

    def _form(self, blankett) -> tuple[dict, list]:
        """What prefill gives the blankett at this enhet (with markers for the individ's number and
        the day, the only values that differ between the generated ärenden) and the fields left for
        the caseworker to type (not the doctor's part): worked out once per blankett and enhet."""
        key = (blankett.id, self.producer.enhet.id)
        if key not in self.forms:
            parts = [blankett] + [self.catalogue.blanketter[a] for a in blankett.attachments]
            p = self.producer
            sources = prefill.sources(individ=dict(self.individ, personnummer=_PNR), user=p,
                                      settings=p.settings, today=tid.today())
            sources["today"] = _DAY
            values, _origin = prefill.resolve(parts, sources=sources, answers={}, draft={})
            typed = [f for part in parts for section in part.sections for f in section.fields
                     if f.name not in values and field_role(f, section) not in FILLABLE_ROLES]
            self.forms[key] = values, list({f.name: f for f in typed}.values())
        return self.forms[key]

    def _typed(self, f, day: date):
        t = f.type
        if t == "rows":
            return [{c.name: row.get(c.name) or self._typed(c, day) for c in f.columns} for row in INVITED]
        value = {"date": (day + timedelta(days=14)).isoformat(), "time": "13:30", "checkbox": True,
                 "percent": 50, "personnummer": self.individ["personnummer"], "phone": self.producer.telefon,
                 "email": self.producer.epost}.get(t)
        if value is None and t == "choice":
            value = self.rng.choice(f.choices).value
        elif value is None and t == "scale":
            value = (f.scale_min + f.scale_max) // 2
        elif value is None:
            value = " ".join(self.rng.sample(SENTENCES, 2)) if t == "textarea" else "Exempeltext"
            value = value[: f.max_length] if f.max_length else value
        return value

    def _number(self) -> str:
        while True:
            code = "".join(self.rng.choices(_ALPHABET, k=8))
            number = f"FS-{code[:4]}-{code[4:]}"
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def write(self, dbs) -> None:
        if self.docs:
            dbs.execute(Dokument.__table__.insert(), self.docs)
        if self.answers:
            dbs.execute(Svar.__table__.insert(), self.answers)
        self.docs, self.answers = [], []


def fictitious_personnummer(rng: random.Random, kon: str, today: date, used: set[str]) -> str:
    """12 digits of a samordningsnummer, born BORN_YEARS_AGO before ``today``, the ninth digit (of ten) odd for "M" and even
    for "K", a valid check digit, and not in ``used`` (to which it is added)."""
    oldest = date(today.year - BORN_YEARS_AGO[1], 1, 1)
    span = (date(today.year - BORN_YEARS_AGO[0], 12, 31) - oldest).days
    while True:
        born = oldest + timedelta(days=rng.randrange(span + 1))
        serial = f"{rng.randrange(100):02d}{rng.choice('13579' if kon == 'M' else '02468')}"
        day = f"{born.day + 60:02d}"  # a samordningsnummer: see the module's docstring
        nine = born.strftime("%y%m") + day + serial
        pnr = f"{born:%Y%m}{day}{serial}{luhn_digit(nine)}"
        if pnr not in used:
            used.add(pnr)
            return pnr


def luhn_digit(nine: str) -> int:
    """The check digit of a personnummer's first nine digits (ÅÅMMDDNNN): weights 2, 1, 2, …"""
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def counts_missing() -> bool:
    """Ärenden but no follow-up counts yet (a database from before migration 0016)."""
    dbs = db.session()
    return bool(dbs.scalar(select(Arende.id).limit(1))) and not dbs.scalar(select(Statistik.id).limit(1))


def rebuild_counts(pm) -> int:
    """The follow-up's summary table recomputed from the history, documents and doctor's answers."""
    first = (select(Svar.dokument_id, func.min(Svar.confirmed_at).label("confirmed"))
             .where(Svar.confirmed_at.is_not(None)).group_by(Svar.dokument_id).subquery())
    answers = db.session().execute(
        select(Dokument.arende_id, Dokument.created_at, first.c.confirmed)
        .join(first, first.c.dokument_id == Dokument.id)
        .where(Dokument.blankett_id == statistik.ANSWERED_DOCUMENT[0])).all()
    return statistik.rebuild(pm, answers, sus.closings())
