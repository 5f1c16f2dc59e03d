"""Generated ärenden for trying and measuring the follow-up: fictitious, with paths walked along
the process map's own edges, dates spread over the last months, both kön and a spread of ages.

Used by `formservice demo` (a few hundred, so that the uppföljare's charts show something), by the
browser tests and by benchmarks/bench_uppfoljning.py (100,000). Rows are written in bulk; every
ärende carries the same fictitious individ (test personnummer 19121212-1212, encrypted as usual),
so nothing here is a real person and the registers stay searchable."""
from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select

from formservice import db
from formservice.arenden.demografi import AGE_BANDS
from formservice.arenden import statistik
from formservice.arenden.models import Arende, Dokument, Handelse, Statistik
from formservice.arenden.operations import keyring
from formservice.doctor.models import Svar

INDIVID = {"namn": "Exempel Exempelsson", "personnummer": "191212121212", "adress": "Exempelgatan 1",
           "postnummer": "123 45", "ort": "Stockholm"}
STARTS = (("soc1.1a", 45), ("soc1.1b", 25), ("soc2.1", 8), ("hsv.1", 10), ("af.1", 7), ("jobbtorg.1", 5))
AGE_WEIGHTS = (30, 25, 20, 15, 10)
BATCH = 2000


def generate(pm, enhet_ids: list[int], count: int, *, today: date, seed: int = 2026, months: int = 18,
             documents: bool = False) -> int:
    """Write ``count`` ärenden with their history (and, with ``documents``, document rows and the
    doctor's answers for the lead times – only for measuring: they hold no PDF). Returns count."""
    rng = random.Random(seed)
    dbs = db.session()
    blob = keyring().encrypt_json(INDIVID)
    pnr_hash = keyring().keyed_hash("pnr", INDIVID["personnummer"])
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
            arenden.append({
                "id": arende_id, "public_id": secrets.token_urlsafe(12), "enhet_id": rng.choice(enhet_ids),
                "lane": pm.ruta(ruta).lane, "ruta": ruta, "status": "avslutat" if closed else "oppet",
                "individ_enc": blob, "pnr_hash": pnr_hash, "created_at": opened, "updated_at": at, "version": 1,
                "kon": "K" if rng.random() < 0.58 else "M",
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
    rebuild_counts(pm)
    return made


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
