"""The follow-up as tables: each a title, its rows and published cells (anonymisering: every count
rounded by the cell-key method), the data of its chart, and the same rows for CSV and the PDF
report, so screen, CSV and PDF show one set of numbers."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from formservice.arenden.closing import reason_title
from formservice.arenden.demografi import AGE_BAND_TITLES, KON
from formservice.blanketter.sus_categories import ARBETE_STUDIER_OKAT, AVSLUTSANLEDNING, FORSORJNING, SYSSELSATTNING

from . import queries
from .anonymisering import DAYS_MIN_N, ZERO, Cell, Tally, publish, tally_sum
from .queries import Filter


@dataclass
class Row:
    label: str
    cells: list[Cell | str]


@dataclass
class Table:
    key: str  # in the CSV's address
    title: str
    columns: list[str]  # headers after the row label's
    label_header: str
    rows: list[Row]
    total: Cell | None = None
    about: str = ""
    chart: str = "bars"  # bars | durations | none
    unit: str = "ärenden"

    def csv_rows(self) -> list[list[str]]:
        """The table for a spreadsheet: plain numbers (no thousands space), hidden medians said as on screen."""
        head = [self.label_header, *self.columns]
        body = [[_safe(r.label), *(_csv(c) for c in r.cells)] for r in self.rows]
        if self.total is not None:
            body.append(["Totalt", _csv(self.total), *([""] * (len(self.columns) - 1))])
        return [head, *body]


def _safe(text: str) -> str:
    """A label a spreadsheet would run as a formula (an enhet named "=…") is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv(cell) -> str:
    if isinstance(cell, Cell) and not cell.suppressed:
        return str(cell.value)
    return str(cell)


@dataclass
class Uppfoljning:
    filter: Filter
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


TABLE_KEYS = ("oppna-per-bana", "oppna-per-ruta", "oppna-per-enhet", "floden", "tid-per-ruta", "ledtider", "utfall",
              "sus-forsorjning", "sus-sysselsattning", "sus-arbete-studier", "sus-avslut", "blanketter")


def build(pm, catalogue, f: Filter, enhet_ids: list[int], enhet_names: Mapping[int, str], *,
          publish: Callable[[Tally], int] = publish, only: str | None = None) -> Uppfoljning:
    """The tables of the follow-up (with ``only``, that one: a CSV runs its own queries only). Each
    number is ``publish`` of its own Tally – rows, totals and the n of the duration tables alike –
    and which rows are listed and in what order depends on the published numbers only (or on lists
    that do not depend on the data), never on a true count. (The suite passes ``publish=exact`` to
    get the true tables beside the shown ones.)"""
    out = Uppfoljning(f)
    src = queries.Source(enhet_ids, f.fran, f.till)
    for key in TABLE_KEYS:
        if only is None or only == key:
            out.tables.append(_TABLES[key](_Context(pm, catalogue, f, src, enhet_names, publish)))
    return out


@dataclass
class _Context:
    pm: object
    catalogue: object
    f: Filter
    src: queries.Source
    names: Mapping[int, str]
    publish: Callable[[Tally], int]

    def order(self, ruta_id: str) -> float:
        return next((n for n, rid in enumerate(self.pm.rutor) if rid == ruta_id), 1e9)


# ---------------------------------------------------------------- snapshot tables: the open ärenden now
def _open_per_lane(c: _Context) -> Table:
    open_ruta = queries.open_by_ruta(c.src, c.f)
    by_lane: dict[str, Tally] = defaultdict(lambda: ZERO)
    for rid, t in open_ruta.items():
        r = c.pm.rutor.get(rid)
        by_lane[r.lane if r is not None else "?"] += t
    known = [la.id for la in c.pm.lanes]
    rows = [Row(_lane_title(c.pm, k), [Cell(c.publish(by_lane.get(k, ZERO)))]) for k in known]
    rows += _by_value([Row(_lane_title(c.pm, k), [Cell(c.publish(t))]) for k, t in by_lane.items() if k not in known])
    return Table("oppna-per-bana", "Öppna ärenden per processbana", ["Öppna ärenden"], "Processbana", rows,
                 Cell(c.publish(tally_sum(open_ruta.values()))),
                 "Ärenden som är öppna nu, efter den processbana de står i (perioden gäller inte här).")


def _open_per_ruta(c: _Context) -> Table:
    cells = {rid: Cell(c.publish(t)) for rid, t in queries.open_by_ruta(c.src, c.f).items()}
    return Table("oppna-per-ruta", "Öppna ärenden per ruta", ["Öppna ärenden"], "Ruta",
                 [Row(_ruta_title(c.pm, rid), [cell]) for rid, cell in sorted(cells.items(), key=lambda kv: c.order(kv[0]))
                  if cell.value], None,
                 "Var i processen de öppna ärendena står nu. Rutor där antalet avrundas till 0 visas inte.")


def _open_per_enhet(c: _Context) -> Table:
    per_enhet = queries.open_by_enhet(c.src, c.f)
    return Table("oppna-per-enhet", "Öppna ärenden per enhet", ["Öppna ärenden"], "Enhet",
                 [Row(c.names.get(k, str(k)), [Cell(c.publish(per_enhet.get(k, ZERO)))])
                  for k in sorted(set(c.names) | set(per_enhet), key=lambda k: c.names.get(k, str(k)))],
                 Cell(c.publish(tally_sum(per_enhet.values()))))


# ---------------------------------------------------------------- period tables
def _flows(c: _Context) -> Table:
    per_pair: dict[tuple[str, str], Tally] = defaultdict(lambda: ZERO)
    for (la, lb, _month), t in queries.flows(c.src, c.f).items():
        per_pair[(la, lb)] += t
    return Table("floden", "Flöden mellan processbanor", ["Förflyttningar"], "Från → till",
                 _by_value([Row(f"{_lane_title(c.pm, a)} → {_lane_title(c.pm, b)}", [Cell(c.publish(t))])
                            for (a, b), t in per_pair.items()]), None,
                 "Hur många gånger ärenden gick över från en parts processbana till en annan under perioden.")


def _stays(c: _Context) -> Table:
    stays = queries.stays(c.src, c.f)
    rows = [_duration_row(_ruta_title(c.pm, rid), stays[rid], c.publish) for rid in sorted(stays, key=c.order)]
    return Table("tid-per-ruta", "Tid i varje ruta (dagar)", ["Antal", "Median", "75:e percentilen"], "Ruta",
                 [r for r in rows if r.cells[0].value], None,
                 "Dagar från att ärendet kom till rutan tills det gick vidare, för steg som avslutades under "
                 "perioden; över 14 dagar avrundat nedåt till hela veckor, över 26 veckor till 30-dagarsmånader. "
                 f"Median och 75:e percentil visas där minst {DAYS_MIN_N} steg ingår.", chart="durations",
                 unit="dagar")


def _lead_times(c: _Context) -> Table:
    return Table("ledtider", "Ledtider (dagar)", ["Antal", "Median", "75:e percentilen"], "Mellan",
                 [_duration_row(title, queries.lead_time(c.src, c.f, key), c.publish)
                  for key, title in queries.LEAD_TIMES.items()], None,
                 "Räknat när den andra händelsen inträffade under perioden, avrundat som tiden i rutorna.",
                 chart="durations", unit="dagar")


def _outcomes(c: _Context) -> Table:
    closed: dict[str, Tally] = defaultdict(lambda: ZERO)
    for (reason, _month), t in queries.outcomes(c.src, c.f).items():
        closed[reason] += t
    return Table("utfall", "Utfall när ärenden avslutades", ["Avslutade ärenden"], "Skäl / slutläge",
                 _by_value([Row(_reason_title(c.pm, k), [Cell(c.publish(t))]) for k, t in closed.items()]),
                 Cell(c.publish(tally_sum(closed.values()))),
                 "Ärenden som avslutades under perioden, efter slutläge (med sin processbana) eller skäl.")


# ---------------------------------------------------------------- SUS: before and after, for Finsam participants
SUS_ABOUT = ("Finsam-deltagare (Finsamteamet och Finsam-insatser) vars ärende avslutades under perioden, med de "
             "uppgifter för SUS (Försäkringskassans uppföljningssystem för samordningsförbunden) som registrerades "
             "vid anmälan till Finsamteamet och när ärendet avslutades. Totalt är antalet deltagare, samma tal i "
             "alla fyra SUS-tabellerna.")


def _participants(counts: Mapping[str, Tally]) -> Tally:
    """The participants closed in the period: every closing has one avslutsanledning, so the four SUS
    tables share this total (one set of units, one rounding), whichever variable they show."""
    return tally_sum(t for k, t in counts.items() if k.startswith("sus_avslutsanledning:"))


SUS_SAME = "Samma deltagare som i tabellen Försörjning före och efter (SUS), med samma totalt."


def _sus_before_after(key: str, title: str, header: str, name: str, categories: Mapping[str, str],
                      about: str = SUS_ABOUT):
    """A table of one SUS variable at the anmälan and at closing, a row per category (in SUS's order)."""
    def table(c: _Context) -> Table:
        counts = queries.sus_outcomes(c.src, c.f)
        rows = []
        for code, label in categories.items():
            cells = [Cell(c.publish(counts.get(f"{name}_{when}:{code}", ZERO))) for when in ("fore", "efter")]
            if any(cell.value for cell in cells):
                rows.append(Row(label, cells))
        return Table(key, title, ["Vid anmälan", "Vid avslut"], header, rows, Cell(c.publish(_participants(counts))),
                     about,
                     chart="none", unit="deltagare")
    return table


def _sus_one(key: str, title: str, header: str, name: str, categories: Mapping[str, str]):
    """A table of one SUS answer given at closing, a row per category (in SUS's order)."""
    def table(c: _Context) -> Table:
        counts = queries.sus_outcomes(c.src, c.f)
        rows = [Row(label, [Cell(c.publish(counts.get(f"{name}:{code}", ZERO)))]) for code, label in categories.items()]
        return Table(key, title, ["Deltagare"], header, [r for r in rows if r.cells[0].value],
                     Cell(c.publish(_participants(counts))), SUS_SAME, unit="deltagare")
    return table


def _documents(c: _Context) -> Table:
    months = c.f.months()
    docs: dict[str, dict[str, Tally]] = defaultdict(dict)
    for (b, month), t in queries.documents(c.src, c.f).items():
        docs[b][month] = t
    blanketter = c.catalogue.blanketter
    rows = []
    for b in sorted(docs, key=lambda b: blanketter[b].title if b in blanketter else b):
        row_total = Cell(c.publish(tally_sum(docs[b].values())))
        if row_total.value:  # listed by the published total, never the true one
            rows.append(Row(blanketter[b].title if b in blanketter else b,
                            [row_total, *(Cell(c.publish(docs[b].get(m, ZERO))) for m in months)]))
    return Table("blanketter", "Blanketter som togs fram, per månad", ["Totalt", *months], "Blankett", rows, None,
                 "Dokument som togs fram under perioden, per blankett och månad.")


_TABLES = {"oppna-per-bana": _open_per_lane, "oppna-per-ruta": _open_per_ruta, "oppna-per-enhet": _open_per_enhet,
           "floden": _flows, "tid-per-ruta": _stays, "ledtider": _lead_times, "utfall": _outcomes,
           "sus-forsorjning": _sus_before_after("sus-forsorjning", "Försörjning före och efter (SUS)", "Försörjning",
                                                "sus_forsorjning", FORSORJNING),
           "sus-sysselsattning": _sus_before_after("sus-sysselsattning", "Sysselsättning före och efter (SUS)",
                                                   "Sysselsättning", "sus_sysselsattning", SYSSELSATTNING, SUS_SAME),
           "sus-arbete-studier": _sus_one("sus-arbete-studier", "Började eller ökade arbete eller studier (SUS)",
                                          "Svar vid avslut", "sus_arbete_studier_okat", ARBETE_STUDIER_OKAT),
           "sus-avslut": _sus_one("sus-avslut", "Avslutsanledning (SUS)", "Avslutsanledning", "sus_avslutsanledning",
                                  AVSLUTSANLEDNING),
           "blanketter": _documents}


def follow_up(catalogue, f: Filter, enhet_ids: list[int], only: str | None = None
              ) -> tuple[Uppfoljning, list[tuple[int, str, str]], dict[int, str]]:
    """The follow-up of `f` over the enheter in scope (``only``: one table, for its CSV), with the
    enheter to choose from and their names: one call for the page, the CSVs and the PDF report made
    in the job worker."""
    choices = queries.enheter(enhet_ids)
    names = enhet_names(choices)
    return build(catalogue.process_map, catalogue, f, enhet_ids, names, only=only), choices, names


def enhet_names(choices: list[tuple[int, str, str]]) -> dict[int, str]:
    """An enhet's name, with its organisation's when the follow-up spans several organisations."""
    several = len({org for _id, _namn, org in choices}) > 1
    return {eid: (f"{namn} ({org})" if several else namn) for eid, namn, org in choices}


def describe(f: Filter, names: Mapping[int, str]) -> str:
    """The selection in words, as the page and the report say it: "2026-01-01 – 2026-12-31, kvinnor"."""
    parts = [f"{f.fran.isoformat()} – {f.till.isoformat()}"]
    if f.enhet_id is not None:
        parts.append(names.get(f.enhet_id, ""))
    if f.kon:
        parts.append(KON[f.kon].lower())
    if f.alder:
        parts.append(AGE_BAND_TITLES[f.alder])
    return ", ".join(parts)


# ---------------------------------------------------------------- rows
def _by_value(rows: list[Row]) -> list[Row]:
    """Rows with a published count above 0, largest first: the order follows the published
    numbers, never the true ones (an order by true counts would tell what the rounding hides)."""
    return sorted((r for r in rows if r.cells[0].value), key=lambda r: (-r.cells[0].value, r.label))


def _duration_row(label: str, histogram: dict[int, Tally], publish: Callable[[Tally], int]) -> Row:
    """The number of stays (published like every count) and the median and 75th percentile over
    the true durations – only where at least DAYS_MIN_N stays count, else said to be hidden."""
    n_true, (median, p75) = queries.percentiles({d: t.n for d, t in histogram.items()}, 0.5, 0.75)
    n = Cell(publish(tally_sum(histogram.values())))
    if not n.value:
        return Row(label, [n, Cell(None, "–"), Cell(None, "–")])
    if n_true < DAYS_MIN_N:
        return Row(label, [n, Cell(None), Cell(None)])
    return Row(label, [n, Cell(int(median)), Cell(int(p75))])


def _reason_title(pm, key: str) -> str:
    """An end state with its lane ("Bana 1 · …"): several lanes have end states of the same title."""
    if not key:
        return "Inget skäl angivet"
    r = pm.rutor.get(key)
    if r is None:
        return reason_title(key, pm)
    try:
        return f"Bana {pm.lane(r.lane).number} · {r.title}"
    except LookupError:
        return r.title


def _lane_title(pm, lane_id: str) -> str:
    try:
        lane = pm.lane(lane_id)
    except LookupError:
        return "Okänd bana"
    return f"{lane.number}. {lane.title}"


def _ruta_title(pm, ruta_id: str) -> str:
    r = pm.rutor.get(ruta_id)
    if r is None:
        return f"Rutan {ruta_id} (finns inte längre i kartan)"
    return f"Bana {pm.lane(r.lane).number} · {r.label}: {r.title}"


__all__ = ["Row", "TABLE_KEYS", "Table", "Uppfoljning", "build", "describe", "enhet_names", "follow_up"]
