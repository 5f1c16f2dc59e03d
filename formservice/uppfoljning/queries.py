"""The follow-up's numbers, as counts from the database: the open ärenden and the closings from
the ärende table (its plain process columns and the derived kön and age band), everything else
from the summary table the ärenden keep up to date as they move (arenden.statistik). No personal
data is read or decrypted, and nothing but counts leaves a query. Each count comes as a Tally: the
true count and its cell key, summed from the keys of the finest rows read (anonymisering); only the
rounded count is ever shown."""
from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import false, func, select

from formservice import db
from formservice.accounts.models import Enhet, Organisation, User
from formservice.arenden.models import Arende, Statistik
from formservice.arenden.statistik import ALL

from .anonymisering import ZERO, Tally, summed

FILTER_DIMENSIONS = ("enhet", "kon", "alder")


@dataclass(frozen=True)
class Filter:
    fran: date  # first day of the first month of the period
    till: date  # last day of the last month
    enhet_id: int | None = None
    kon: str | None = None
    alder: str | None = None

    @property
    def active(self) -> tuple[str, ...]:
        values = {"enhet": self.enhet_id, "kon": self.kon, "alder": self.alder}
        return tuple(dim for dim in FILTER_DIMENSIONS if values[dim] is not None)

    def without(self, dimension: str) -> "Filter":
        return replace(self, **{"enhet": {"enhet_id": None}, "kon": {"kon": None},
                                "alder": {"alder": None}}[dimension])

    def months(self) -> list[str]:
        out, y, m = [], self.fran.year, self.fran.month
        while (y, m) <= (self.till.year, self.till.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


# ---------------------------------------------------------------- scope
def scope(user: User) -> list[int]:
    """The enheter whose ärenden a user's follow-up counts: the own organisation's; for a
    Samordningsförbund also those of the organisations that share their follow-up with it."""
    dbs = db.session()
    own = user.enhet.organisation
    orgs = [own.id]
    if own.typ == "samordningsforbund":
        orgs += dbs.scalars(select(Organisation.id).where(Organisation.uppfoljning_delas.is_(True),
                                                          Organisation.forbund_id == own.id,
                                                          Organisation.id != own.id)).all()
    return list(dbs.scalars(select(Enhet.id).where(Enhet.organisation_id.in_(orgs)).order_by(Enhet.id)))


def enheter(enhet_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """(id, enhet, organisation) for the filter's choices and the table per enhet."""
    rows = db.session().execute(select(Enhet.id, Enhet.namn, Organisation.namn)
                                .join(Organisation, Organisation.id == Enhet.organisation_id)
                                .where(Enhet.id.in_(list(enhet_ids))).order_by(Organisation.namn, Enhet.namn))
    return [tuple(r) for r in rows]


# ---------------------------------------------------------------- helpers
def _dialect() -> str:
    return db.session().get_bind().dialect.name


def _month(column):
    if _dialect() == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


# ---------------------------------------------------------------- counts
class Source:
    """The counts of one follow-up, each summed in the database for exactly one view's filter, with
    the sum of the keys of the units counted (anonymisering): an ärende's own record key
    (``Arende.cellnyckel``) for the open and closed ärenden, a summary row's cell key for the rest
    (arenden.statistik). Rows are counts and key sums; nothing else is read."""

    def __init__(self, enhet_ids: list[int], fran: date, till: date):
        self.enhet_ids, self.fran, self.till = list(enhet_ids), fran, till
        self._stat: dict = {}
        self.memo: dict = {}

    def _scope(self, column):
        return column.in_(self.enhet_ids) if self.enhet_ids else false()

    def _arenden(self, f: Filter, *conds):
        """The ärenden in scope that the view's filter selects (an unknown kön or age band is "")."""
        out = [self._scope(Arende.enhet_id), *conds]
        if f.enhet_id is not None:
            out.append(Arende.enhet_id == f.enhet_id)
        if f.kon is not None:
            out.append(func.coalesce(Arende.kon, "") == f.kon)
        if f.alder is not None:
            out.append(func.coalesce(Arende.aldersgrupp, "") == f.alder)
        return out

    def open_counts(self, f: Filter, column) -> list:
        """(value of ``column``, tally) of the open ärenden now that the view selects."""
        rows = _rows(select(column, func.count(), func.sum(Arende.cellnyckel))
                     .where(*self._arenden(f, Arende.status == "oppet")).group_by(column))
        return [(value, summed(n, k)) for value, n, k in rows]

    def closed_counts(self, f: Filter) -> list:
        """(reason, month, tally) of the ärenden closed in the period that the view selects."""
        month = _month(Arende.closed_on)
        rows = _rows(select(Arende.closed_reason, month, func.count(), func.sum(Arende.cellnyckel))
                     .where(*self._arenden(f, Arende.status == "avslutat", Arende.closed_on >= self.fran,
                                           Arende.closed_on < self.till + timedelta(days=1)))
                     .group_by(Arende.closed_reason, month))
        return [(reason, m, summed(n, k)) for reason, m, n, k in rows]

    def _stat_conds(self, slag: str) -> list:
        return [Statistik.slag == slag, Statistik.manad >= self.fran.strftime("%Y-%m"),
                Statistik.manad <= self.till.strftime("%Y-%m"), self._scope(Statistik.enhet_id)]

    def stat_counts(self, slag: str, f: Filter) -> list:
        """(key, month, tally) of a count in the summary table (arenden.statistik) for exactly the
        view's filter: the database sums the rows' counts and cell keys, so a published number's
        key is the sum of its microcells' keys whichever view reads it."""
        key = (slag, f)
        if key not in self._stat:
            conds = self._stat_conds(slag)
            if f.enhet_id is not None:
                conds.append(Statistik.enhet_id == f.enhet_id)
            if f.kon is not None:
                conds.append(Statistik.kon == f.kon)
            if f.alder is not None:
                conds.append(Statistik.aldersgrupp == f.alder)
            cols = (Statistik.nyckel, Statistik.manad)
            rows = _rows(select(*cols, func.sum(Statistik.antal), func.sum(Statistik.cellnyckel)).with_hint(
                Statistik, "INDEXED BY ix_statistik_las", "sqlite").where(*conds).group_by(*cols))
            self._stat[key] = [(nyckel, manad, summed(n, k)) for nyckel, manad, n, k in rows]
        return self._stat[key]

    def durations(self, slag: str, f: Filter) -> list:
        """(key, days, tally) of a duration count for exactly the view's filter, summed in the
        database over the microcells (month, enhet, kön, age band) that carry the keys. "Everyone"
        is always counted from the rows kept for everyone and a filtered view always from the rows
        by kön, so one published cell always has one set of units."""
        key = ("varaktighet", slag, f)
        if key not in self._stat:
            conds = self._stat_conds(slag)
            if f.enhet_id is not None:
                conds.append(Statistik.enhet_id == f.enhet_id)
            if f.kon is None and f.alder is None:  # everyone: the rows kept for that (arenden.statistik.ALL)
                conds.append(Statistik.kon == ALL)
            else:  # kön first: the index seeks kön, then the months
                conds.append(Statistik.kon == f.kon if f.kon else Statistik.kon.in_(("K", "M", "")))
                if f.alder:
                    conds.append(Statistik.aldersgrupp == f.alder)
            cols = (Statistik.nyckel, Statistik.dagar)
            rows = _rows(select(*cols, func.sum(Statistik.antal), func.sum(Statistik.cellnyckel))
                         .with_hint(Statistik, "INDEXED BY ix_statistik_las", "sqlite").where(*conds).group_by(*cols))
            self._stat[key] = [(nyckel, int(days), summed(n, k)) for nyckel, days, n, k in rows]
        return self._stat[key]


def _once(count):
    """A count over the Source's rows is computed once per filter (tables, totals and complements
    ask for the same ones)."""
    @functools.wraps(count)
    def memo(src: "Source", f: Filter, *args):
        key = (count.__name__, f, args)
        if key not in src.memo:
            src.memo[key] = count(src, f, *args)
        return src.memo[key]
    return memo


def _rows(stmt) -> list:
    """Plain rows through the session's connection (no ORM result processing: these are counts)."""
    return db.session().connection().execute(stmt).all()


@_once
def open_by_ruta(src: Source, f: Filter) -> dict[str, Tally]:
    """Open ärenden now, per ruta (a snapshot: the period does not apply)."""
    return dict(src.open_counts(f, Arende.ruta))


@_once
def open_by_enhet(src: Source, f: Filter) -> dict[int, Tally]:
    return dict(src.open_counts(f, Arende.enhet_id))


@_once
def outcomes(src: Source, f: Filter) -> dict[tuple[str, str], Tally]:
    """Ärenden closed in the period: (reason, month) -> count."""
    return {(reason or "", month): t for reason, month, t in src.closed_counts(f)}


def _stat(src: Source, f: Filter, slag: str):
    yield from src.stat_counts(slag, f)


@_once
def flows(src: Source, f: Filter) -> dict[tuple[str, str, str], Tally]:
    """Changes of lane in the period: (from lane, to lane, month) -> count."""
    out: dict[tuple[str, str, str], Tally] = defaultdict(lambda: ZERO)
    for key, month, n in _stat(src, f, "flode"):
        a, _, b = key.partition(">")
        out[(a, b, month)] += n
    return dict(out)


@_once
def documents(src: Source, f: Filter) -> dict[tuple[str, str], Tally]:
    """Blanketter produced in the period: (blankett id, month) -> count."""
    out: dict[tuple[str, str], Tally] = defaultdict(lambda: ZERO)
    for key, month, n in _stat(src, f, "dokument"):
        out[(key, month)] += n
    return dict(out)


@_once
def stays(src: Source, f: Filter) -> dict[str, dict[int, Tally]]:
    """Days spent on each ruta, for stays that ended in the period: ruta -> {days: count}.
    The view's filter runs in the database."""
    out: dict[str, dict[int, Tally]] = defaultdict(dict)
    for ruta, days, t in src.durations("vistelse", f):
        out[ruta][int(days)] = t
    return dict(out)


@_once
def sus_outcomes(src: Source, f: Filter) -> dict[str, Tally]:
    """SUS answers of the Finsam participants whose ärenden closed in the period: "name:code" -> count
    (arenden.sus.outcome_keys: every closing counts once under each name)."""
    out: dict[str, Tally] = defaultdict(lambda: ZERO)
    for key, _month, n in _stat(src, f, "sus"):
        out[key] += n
    return dict(out)


LEAD_TIMES = {
    "forfragan_svar": "Rehabiliteringsförfrågan framtagen → läkarens första svar registrerat",
    "finsamteam_beslut": "Anmälan till Finsamteam framtagen → teamets gemensamma plan (Finsamteam, ruta 6)",
    "fk_nasta": "Ansökan om samordning (Försäkringskassan) framtagen → nästa steg",
}


@_once
def lead_time(src: Source, f: Filter, key: str) -> dict[int, Tally]:
    """Days from a document to the event after it, for events in the period: {days: count}."""
    return {int(days): t for nyckel, days, t in src.durations("ledtid", f) if nyckel == key}


def percentiles(histogram: dict[int, int], *qs: float) -> tuple[int, list[float]]:
    """(n, [value at each quantile]) of a {days: true count} histogram (nearest-rank)."""
    n = sum(histogram.values())
    if not n:
        return 0, [0.0 for _ in qs]
    out = []
    for q in qs:
        rank, seen = max(1, math.ceil(q * n - 1e-9)), 0
        for days in sorted(histogram):
            seen += histogram[days]
            if seen >= rank:
                out.append(float(days))
                break
    return n, out


__all__ = ["Filter", "LEAD_TIMES", "Source", "documents", "enheter", "flows", "lead_time", "open_by_enhet",
           "open_by_ruta", "outcomes", "percentiles", "scope", "stays", "sus_outcomes"]
