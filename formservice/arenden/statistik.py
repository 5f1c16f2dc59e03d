"""Counts for the follow-up, kept up to date as the ärenden move (a summary table), so that the
Samordningsförbund's page reads a few thousand aggregate rows instead of every history entry.

One row per (what, month, enhet, kön, age band, key, days) with a count:

- ``vistelse``: a stay on a ruta ended (key: the ruta, days: how long it lasted);
- ``flode``: the ärende went over to another lane (key: "from>to");
- ``dokument``: a blankett was produced (key: its id);
- ``ledtid``: days from a document to the event that answers it (key: forfragan_svar,
  finsamteam_beslut, fk_nasta);
- ``sus``: a Finsam participant's ärende was closed (month: the closing day's), one row per SUS
  answer before and after (key: "sus_forsorjning_fore:forsorjningsstod", …; arenden.sus.outcome_keys);
  reopening the ärende takes them back.

Each row also keeps its **cell key** (``cellnyckel``): a keyed pseudo-random number of its coordinates
and its count under a secret derived from the index key (uppfoljning/anonymisering.py explains the
cell-key method). Kept beside the count, it lets the database sum the keys of the rows a published
number is made of – the follow-up reads a few hundred sums instead of keying 100,000 rows in
Python. Whoever can read this table can read the counts, so the keys add nothing to know; a new
index key (``formservice rotate-key --index-key``) re-keys the table (``rekey``).

Days are kept exactly up to 14, then rounded down to whole weeks up to 26 weeks, then to 30-day
months: the rows stay few however long the stays, and a median reads "at least so many days".

``rebuild()`` recomputes everything from the history (at `formservice init-db` when the table is
empty, and after bulk loads); the incremental path and the rebuild are tested to agree.
"""
from __future__ import annotations

import hashlib
import struct
from collections import Counter
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from formservice import db
from .models import Arende, Dokument, Handelse, Statistik

MOVES = ("skapad", "beslut", "ruta", "placering")  # history entries that bring an ärende to a ruta
# A Försäkringskassan ansökan waits for the ärende's next step; a Finsamteam anmälan for the team's
# decision: the ärende reaching the team's gemensam plan (finsamteam ruta 6).
NEXT_STEP_DOCUMENTS = {"fk_ansokan_samordning": "fk_nasta"}
TEAM_DECISION = ("finsamteam_anmalan", "finsamteam.6", "finsamteam_beslut")
ANSWERED_DOCUMENT = ("rehabiliteringsforfragan", "forfragan_svar")


def same_ruta(process_map):
    """Whether two ruta ids name the same ruta, also through a rename (formerly)."""
    def same(a: str | None, b: str) -> bool:
        ra, rb = process_map.rutor.get(a) if a else None, process_map.rutor.get(b)
        return a == b or (ra is not None and ra is rb)
    return same


def lanes(process_map):
    """ruta id -> lane id, also for a renamed ruta (formerly) or one the map no longer has."""
    def lane_of(ruta_id: str | None) -> str | None:
        if not ruta_id:
            return None
        ruta = process_map.rutor.get(ruta_id)
        return ruta.lane if ruta is not None else ruta_id.split(".", 1)[0]
    return lane_of


def days_bucket(days: float) -> int:
    d = max(0, int(days))
    if d <= 14:
        return d
    if d <= 182:
        return d - d % 7
    return d - d % 30


def _cell(slag: str, when: datetime, arende: Arende, nyckel: str, dagar: int = -1) -> dict:
    return {"slag": slag, "manad": when.strftime("%Y-%m"), "enhet_id": arende.enhet_id, "kon": arende.kon or "",
            "aldersgrupp": arende.aldersgrupp or "", "nyckel": nyckel, "dagar": dagar}


CELL = ("slag", "manad", "enhet_id", "kon", "aldersgrupp", "nyckel", "dagar")  # a row's coordinates


def cell_secret(keyring) -> bytes:
    """The secret of the cell keys, derived from the index key (never from data a user can see)."""
    return bytes.fromhex(keyring.keyed_hash("uppfoljning-cellnyckel", "v1"))


def microcell_key(secret: bytes, n: int, *coordinates) -> int:
    """A microcell's cell key: keyed BLAKE2b (a MAC, cheaper than HMAC) of its coordinates and its
    count, as a 32-bit number; 0 for an empty cell. A cell that gains or loses a unit gets a fresh key."""
    if n <= 0:
        return 0
    digest = hashlib.blake2b(repr((*coordinates, int(n))).encode(), key=secret, digest_size=4).digest()
    return struct.unpack(">I", digest)[0]


def row_key(secret: bytes, cell: tuple, antal: int) -> int:
    """The cell key of a summary row (``cell`` in CELL's order) holding ``antal``."""
    slag, manad, enhet_id, kon, aldersgrupp, nyckel, dagar = cell
    return microcell_key(secret, antal, slag, nyckel, dagar, manad, enhet_id, kon, aldersgrupp)


def _secret() -> bytes:
    return cell_secret(current_app.extensions["keyring"])


def _add(cells: Counter) -> None:
    """Add the counts, one upsert per cell (ON CONFLICT … DO UPDATE on SQLite and PostgreSQL), and
    give each changed row the cell key of its new count."""
    if not cells:
        return
    dbs = db.session()
    dialect = dbs.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    secret = _secret()
    for cell, n in cells.items():
        stmt = make(Statistik).values(**dict(zip(CELL, cell)), antal=n, cellnyckel=0)
        row_id, antal = dbs.execute(stmt.on_conflict_do_update(
            index_elements=list(CELL), set_={"antal": Statistik.antal + stmt.excluded.antal})
            .returning(Statistik.id, Statistik.antal)).one()
        dbs.execute(update(Statistik).where(Statistik.id == row_id).values(cellnyckel=row_key(secret, cell, antal)))


def rekey(keyring) -> int:
    """Every row's cell key again under ``keyring``'s index key (after the index key changed)."""
    dbs = db.session()
    secret = cell_secret(keyring)
    rows = dbs.execute(select(Statistik.id, *(getattr(Statistik, c) for c in CELL), Statistik.antal)).all()
    for row_id, *cell, antal in rows:
        dbs.execute(update(Statistik).where(Statistik.id == row_id).values(cellnyckel=row_key(secret, tuple(cell), antal)))
    return len(rows)


def _key(cell: dict) -> tuple:
    return tuple(cell[k] for k in CELL)


ALL = "*"  # kön and age band of the rows that count everyone


def _duration(cells: Counter, slag: str, when: datetime, arende: Arende, nyckel: str, days: float) -> None:
    """A duration is counted twice: by kön and age band, and once more for everyone (kön and age
    band "*"), so that a view without those filters reads a few rows instead of summing many."""
    cell = _cell(slag, when, arende, nyckel, days_bucket(days))
    cells[_key(cell)] += 1
    cells[_key({**cell, "kon": ALL, "aldersgrupp": ALL})] += 1


def on_move(arende: Arende, to_ruta: str, process_map, now: datetime) -> None:
    """Before an ärende moves from its ruta to ``to_ruta``: its stay ends; a change of lane is a
    flow; an FK ansökan made during the stay gets its lead time, and arriving at the team's plan
    gives the latest Finsamteam anmälan its own (ruta ids compared through renames, formerly)."""
    if to_ruta == arende.ruta:
        return
    lane_of, same = lanes(process_map), same_ruta(process_map)
    dbs = db.session()
    with dbs.no_autoflush:
        arrived = dbs.scalar(select(func.max(Handelse.at)).where(Handelse.arende_id == arende.id,
                                                                 Handelse.kind.in_(MOVES)))
        cells = Counter()
        if arrived is not None:
            _duration(cells, "vistelse", now, arende, arende.ruta, (now - arrived).total_seconds() / 86400)
            for created, blankett_id in dbs.execute(
                    select(Dokument.created_at, Dokument.blankett_id).where(
                        Dokument.arende_id == arende.id, Dokument.created_at >= arrived,
                        Dokument.blankett_id.in_(list(NEXT_STEP_DOCUMENTS)))):
                _duration(cells, "ledtid", now, arende, NEXT_STEP_DOCUMENTS[blankett_id],
                          (now - created).total_seconds() / 86400)
        if same(to_ruta, TEAM_DECISION[1]):
            anmald = dbs.scalar(select(func.max(Dokument.created_at)).where(
                Dokument.arende_id == arende.id, Dokument.blankett_id == TEAM_DECISION[0], Dokument.created_at <= now))
            if anmald is not None:
                _duration(cells, "ledtid", now, arende, TEAM_DECISION[2], (now - anmald).total_seconds() / 86400)
        here, there = lane_of(arende.ruta), lane_of(to_ruta)
        if here and there and here != there:
            cells[_key(_cell("flode", now, arende, f"{here}>{there}"))] += 1
    _add(cells)


def on_document(arende: Arende, blankett_id: str, now: datetime) -> None:
    _add(Counter({_key(_cell("dokument", now, arende, blankett_id)): 1}))


def on_answer(arende: Arende, document_created: datetime, now: datetime) -> None:
    """The doctor's first answer to a förfrågan is registered."""
    cells: Counter = Counter()
    _duration(cells, "ledtid", now, arende, ANSWERED_DOCUMENT[1], (now - document_created).total_seconds() / 86400)
    _add(cells)


def on_sus(arende: Arende, keys: list[str], closed_on, sign: int = 1) -> None:
    """A Finsam participant's ärende is closed on ``closed_on`` with these SUS answers (sign 1), or
    opened again (sign -1: the closing's counts taken back, and a cell that reaches 0 removed, so
    the table stays what a rebuild would write)."""
    cells = Counter({_key(_cell("sus", closed_on, arende, k)): sign for k in keys})
    _add(cells)
    if sign < 0:
        db.session().execute(delete(Statistik).where(Statistik.slag == "sus", Statistik.antal <= 0))


def rebuild(process_map, answers=(), sus=()) -> int:
    """Recompute every count from the history, documents, ``answers`` ((arende id, document
    created, first confirmed) of the förfrågningar, from the doctor wing) and ``sus`` ((arende id,
    closed on, [SUS keys]) of the closed Finsam participants, arenden.sus). Returns rows written."""
    lane_of, same = lanes(process_map), same_ruta(process_map)
    dbs = db.session()
    dbs.execute(delete(Statistik))
    arenden = {a.id: a for a in dbs.scalars(select(Arende))}
    cells: Counter = Counter()
    docs: dict[int, list[tuple[datetime, str]]] = {}
    for arende_id, created, blankett_id in dbs.execute(
            select(Dokument.arende_id, Dokument.created_at, Dokument.blankett_id).order_by(Dokument.created_at)):
        a = arenden.get(arende_id)
        if a is None:
            continue
        cells[_key(_cell("dokument", created, a, blankett_id))] += 1
        if blankett_id in NEXT_STEP_DOCUMENTS or blankett_id == TEAM_DECISION[0]:
            docs.setdefault(arende_id, []).append((created, blankett_id))
    rows = dbs.execute(select(Handelse.arende_id, Handelse.at, Handelse.from_ruta, Handelse.to_ruta)
                       .where(Handelse.kind.in_(MOVES), Handelse.to_ruta.is_not(None))
                       .order_by(Handelse.arende_id, Handelse.at, Handelse.id))
    current, here, arrived = None, None, None
    for arende_id, at, _from, to in rows:
        a = arenden.get(arende_id)
        if arende_id != current:
            current, here, arrived = arende_id, to, at
            continue
        if to == here or a is None:
            continue
        _duration(cells, "vistelse", at, a, here, (at - arrived).total_seconds() / 86400)
        for created, blankett_id in docs.get(arende_id, ()):
            if blankett_id in NEXT_STEP_DOCUMENTS and arrived <= created <= at:
                _duration(cells, "ledtid", at, a, NEXT_STEP_DOCUMENTS[blankett_id],
                          (at - created).total_seconds() / 86400)
        if same(to, TEAM_DECISION[1]):
            anmald = [c for c, b in docs.get(arende_id, ()) if b == TEAM_DECISION[0] and c <= at]
            if anmald:
                _duration(cells, "ledtid", at, a, TEAM_DECISION[2], (at - max(anmald)).total_seconds() / 86400)
        la, lb = lane_of(here), lane_of(to)
        if la and lb and la != lb:
            cells[_key(_cell("flode", at, a, f"{la}>{lb}"))] += 1
        here, arrived = to, at
    for arende_id, created, confirmed in answers:
        a = arenden.get(arende_id)
        if a is not None:
            _duration(cells, "ledtid", confirmed, a, ANSWERED_DOCUMENT[1], (confirmed - created).total_seconds() / 86400)
    for arende_id, closed_on, sus_keys in sus:
        a = arenden.get(arende_id)
        for k in sus_keys if a is not None else ():
            cells[_key(_cell("sus", closed_on, a, k))] += 1
    secret = _secret()
    batch = [dict(zip(CELL, cell), antal=n, cellnyckel=row_key(secret, cell, n)) for cell, n in cells.items()]
    for start in range(0, len(batch), 5000):
        dbs.execute(Statistik.__table__.insert(), batch[start:start + 5000])
    if dbs.get_bind().dialect.name == "postgresql":
        dbs.execute(text("ANALYZE statistik"))  # the planner's view of a table just filled in bulk
    dbs.commit()
    return len(batch)
