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
not the one that birth date would give: the follow-up counts the stored column."""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select

from formservice import db
from formservice.arenden import demografi
from formservice.arenden.demografi import AGE_BANDS
from formservice.arenden import statistik
from formservice.arenden.models import Arende, Dokument, Handelse, Statistik
from formservice.arenden.operations import keyring
from formservice.doctor.models import Svar

INDIVID = {"namn": "Exempel Exempelsson", "adress": "Exempelgatan 1", "postnummer": "123 45", "ort": "Stockholm"}
BORN_YEARS_AGO = (123, 127)  # nobody alive is this old; the service accepts birth years up to 130 back
STARTS = (("soc1.1a", 45), ("soc1.1b", 25), ("soc2.1", 8), ("hsv.1", 10), ("af.1", 7), ("jobbtorg.1", 5))
AGE_WEIGHTS = (30, 25, 20, 15, 10)
BATCH = 2000


def generate(pm, enhet_ids: list[int], count: int, *, today: date, seed: int = 2026, months: int = 18,
             documents: bool = False) -> int:
    """Write ``count`` ärenden with their history (and, with ``documents``, document rows and the
    doctor's answers for the lead times – only for measuring: they hold no PDF). Returns count."""
    rng = random.Random(seed)
    dbs = db.session()
    kr = keyring()
    # The numbers come from a stream of their own: the paths, dates and counts stay those of ``seed``.
    people, used = random.Random(seed + 1), set()
    first_id = (dbs.scalar(select(Arende.id).order_by(Arende.id.desc()).limit(1)) or 0) + 1
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        arenden, events, docs, answers = [], [], [], []
        for i in range(n):
            arende_id = first_id + made + i
            opened = datetime.combine(today - timedelta(days=rng.randint(0, months * 30)), datetime.min.time()) \
                + timedelta(hours=rng.randint(8, 16))
            ruta = rng.choices([s for s, _ in STARTS], [w for _, w in STARTS])[0]
            at = opened
            events.append({"arende_id": arende_id, "at": at, "kind": "skapad", "to_ruta": ruta})
            for _ in range(rng.randint(2, 16)):
                targets = pm.ruta(ruta).targets()
                if not targets:
                    break
                edge = rng.choice(targets)
                step_at = at + timedelta(days=rng.choice((1, 3, 7, 10, 14, 21, 30, 45)), hours=rng.randint(0, 6))
                if step_at.date() > today:
                    break
                blanketter = pm.ruta(ruta).blanketter
                if documents and blanketter:
                    doc_id = f"g{arende_id}-{len(docs)}"
                    docs.append({"public_id": doc_id, "arende_id": arende_id, "blankett_id": blanketter[0].id,
                                 "blankett_version": "1", "document_number": f"FS-G-{arende_id}-{len(docs)}",
                                 "created_at": at + timedelta(hours=1), "pdf_enc": b"", "values_enc": b""})
                events.append({"arende_id": arende_id, "at": step_at, "kind": "beslut", "from_ruta": ruta,
                               "to_ruta": edge.target})
                ruta, at = edge.target, step_at
            closed = pm.ruta(ruta).kind == "end" and rng.random() < 0.8
            enhet_id = rng.choice(enhet_ids)
            pnr = fictitious_personnummer(people, "K" if rng.random() < 0.58 else "M", today, used)
            arenden.append({
                "id": arende_id, "public_id": secrets.token_urlsafe(12), "enhet_id": enhet_id,
                "lane": pm.ruta(ruta).lane, "ruta": ruta, "status": "avslutat" if closed else "oppet",
                "individ_enc": kr.encrypt_json(dict(INDIVID, personnummer=pnr)), "pnr_hash": kr.keyed_hash("pnr", pnr),
                "created_at": opened, "updated_at": at, "version": 1, "kon": demografi.kon(pnr),
                "aldersgrupp": rng.choices([k for k, *_ in AGE_BANDS], AGE_WEIGHTS)[0],
                "closed_on": at.date() if closed else None, "closed_reason": ruta if closed else None})
        dbs.execute(insert(Arende), arenden)
        dbs.execute(insert(Handelse), events)
        if docs:
            result = dbs.execute(insert(Dokument).returning(Dokument.id, Dokument.created_at,
                                                            Dokument.blankett_id, Dokument.arende_id), docs)
            for dok_id, created, blankett_id, arende_id in result:
                if blankett_id == "rehabiliteringsforfragan" and rng.random() < 0.7:
                    answers.append({"public_id": secrets.token_urlsafe(12), "arende_id": arende_id,
                                    "dokument_id": dok_id, "source": "papper", "status": "bekraftad",
                                    "answers_enc": b"", "created_at": created,
                                    "confirmed_at": created + timedelta(days=rng.choice((5, 9, 14, 21, 35)))})
        if answers:
            dbs.execute(insert(Svar), answers)
        dbs.commit()
        made += n
    db.reset_sequences(db.engine())  # the ids above were explicit: the next "Nytt ärende" must not collide
    rebuild_counts(pm)
    return made


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
    return statistik.rebuild(pm, answers)
