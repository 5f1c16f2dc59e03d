"""The follow-up as tables: each a title, its rows and protected cells (anonymisering), the data
of its chart, and the same rows for CSV and the PDF report, so screen, CSV and PDF show one set of
numbers."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from formservice.arenden.closing import reason_title
from formservice.arenden.demografi import AGE_BAND_TITLES, KON

from . import queries
from .anonymisering import Cell, protect, total
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
        """The table for a spreadsheet: plain numbers (no thousands space), "färre än 5" as on screen."""
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


def build(pm, catalogue, f: Filter, enhet_ids: list[int], enhet_names: Mapping[int, str]) -> Uppfoljning:
    out = Uppfoljning(f)
    src = queries.Source(enhet_ids, f.fran, f.till)
    def lane(ruta_id: str) -> str:
        r = pm.rutor.get(ruta_id)
        return r.lane if r is not None else "?"

    # Snapshot tables: the open ärenden now.
    def by_lane(flt):
        counts = defaultdict(int)
        for rid, n in queries.open_by_ruta(src, flt).items():
            counts[lane(rid)] += n
        return counts

    lanes = _protected(by_lane, f)
    out.tables.append(Table(
        "oppna-per-bana", "Öppna ärenden per processbana", ["Öppna ärenden"], "Processbana",
        [Row(_lane_title(pm, k), [c]) for k, c in _in_lane_order(pm, lanes)], _total(by_lane, f),
        "Ärenden som är öppna nu, efter den processbana de står i (perioden gäller inte här)."))

    def by_ruta(flt):
        counts = defaultdict(int)
        for rid, n in queries.open_by_ruta(src, flt).items():
            r = pm.rutor.get(rid)
            counts[r.id if r is not None else rid] += n
        return counts

    rutor = _protected(by_ruta, f)
    order = {rid: n for n, rid in enumerate(pm.rutor)}
    out.tables.append(Table(
        "oppna-per-ruta", "Öppna ärenden per ruta", ["Öppna ärenden"], "Ruta",
        [Row(_ruta_title(pm, rid), [c]) for rid, c in sorted(rutor.items(), key=lambda kv: order.get(kv[0], 1e9))],
        None, "Var i processen de öppna ärendena står nu."))

    enhet_cells = _protected(lambda flt: queries.open_by_enhet(src, flt), f)
    out.tables.append(Table(
        "oppna-per-enhet", "Öppna ärenden per enhet", ["Öppna ärenden"], "Enhet",
        [Row(enhet_names.get(k, str(k)), [c]) for k, c in sorted(enhet_cells.items(), key=lambda kv: enhet_names.get(kv[0], ""))],
        _total(lambda flt: queries.open_by_enhet(src, flt), f)))

    # Period tables.
    def flows(flt):
        counts: dict[Hashable, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (la, lb, month), n in queries.flows(src, flt).items():
            counts[(la, lb)][month] += n
        return counts

    flow_cells = _protected_monthly(flows, f)
    out.tables.append(Table(
        "floden", "Flöden mellan processbanor", ["Förflyttningar"], "Från → till",
        [Row(f"{_lane_title(pm, a)} → {_lane_title(pm, b)}", [c])
         for (a, b), c in sorted(flow_cells.items(), key=lambda kv: (-(kv[1].value or 0), str(kv[0])))],
        None, "Hur många gånger ärenden gick över från en parts processbana till en annan under perioden."))

    stays = queries.stays(src, f)
    stay_rows = []
    for rid in sorted(stays, key=lambda r: order.get(getattr(pm.rutor.get(r), "id", r), 1e9)):
        stay_rows.append(_duration_row(_ruta_title(pm, pm.rutor[rid].id if rid in pm.rutor else rid), stays[rid]))
    out.tables.append(Table(
        "tid-per-ruta", "Tid i varje ruta (dagar)", ["Antal", "Median", "75:e percentilen"], "Ruta", stay_rows,
        None, "Dagar från att ärendet kom till rutan tills det gick vidare, för steg som avslutades under perioden; "
              "över 14 dagar avrundat nedåt till hela veckor, över 26 veckor till 30-dagarsmånader. "
              "Visas bara där minst fem ärenden har passerat.", chart="durations", unit="dagar"))

    lead_rows = [_duration_row(title, queries.lead_time(src, f, key))
                 for key, title in queries.LEAD_TIMES.items()]
    out.tables.append(Table(
        "ledtider", "Ledtider (dagar)", ["Antal", "Median", "75:e percentilen"], "Mellan", lead_rows, None,
        "Räknat när den andra händelsen inträffade under perioden, avrundat som tiden i rutorna.", chart="durations",
        unit="dagar"))

    def outcomes(flt):
        counts: dict[Hashable, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (reason, month), n in queries.outcomes(src, flt).items():
            counts[reason][month] += n
        return counts

    outcome_cells = _protected_monthly(outcomes, f)
    out.tables.append(Table(
        "utfall", "Utfall när ärenden avslutades", ["Avslutade ärenden"], "Skäl / slutläge",
        [Row(reason_title(k, pm) or "Inget skäl angivet", [c]) for k, c in
         sorted(outcome_cells.items(), key=lambda kv: (-(kv[1].value or 0), str(kv[0])))],
        _monthly_total(outcomes, f), "Ärenden som avslutades under perioden, efter slutläge eller skäl."))

    def docs(flt):
        counts: dict[Hashable, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (b, month), n in queries.documents(src, flt).items():
            counts[b][month] += n
        return counts

    months = f.months()
    doc_counts = docs(f)
    doc_totals = _protected_monthly(docs, f)
    wider = [docs(f.without(d)) for d in f.active]
    doc_rows = []
    for b in sorted(doc_counts, key=lambda b: catalogue.blanketter[b].title if b in catalogue.blanketter else b):
        per_month = protect({m: doc_counts[b].get(m, 0) for m in months},
                            complements=[{m: w.get(b, {}).get(m, 0) for m in months} for w in wider])
        title = catalogue.blanketter[b].title if b in catalogue.blanketter else b
        doc_rows.append(Row(title, [doc_totals[b], *(per_month[m] for m in months)]))
    out.tables.append(Table(
        "blanketter", "Blanketter som togs fram, per månad", ["Totalt", *months], "Blankett", doc_rows, None,
        "Dokument som togs fram under perioden, per blankett och månad."))
    return out


def follow_up(catalogue, f: Filter, enhet_ids: list[int]
              ) -> tuple[Uppfoljning, list[tuple[int, str, str]], dict[int, str]]:
    """The follow-up of `f` over the enheter in scope, with the enheter to choose from and their
    names: one call for the page and for the PDF report made in the job worker."""
    choices = queries.enheter(enhet_ids)
    names = enhet_names(choices)
    return build(catalogue.process_map, catalogue, f, enhet_ids, names), choices, names


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


# ---------------------------------------------------------------- protection
def _protected(count: Callable[[Filter], Mapping[Hashable, int]], f: Filter) -> dict[Hashable, Cell]:
    """A snapshot table: rules 1–3 with the same table without each active filter."""
    return protect(count(f), complements=[count(f.without(d)) for d in f.active])


def _protected_monthly(count: Callable[[Filter], Mapping[Hashable, Mapping[str, int]]], f: Filter) -> dict[Hashable, Cell]:
    """A period table (key -> month -> n): totals over the period, protected also against
    differencing by a shorter period (the months at either end)."""
    months = f.months()
    here = count(f)
    totals = {k: sum(v.values()) for k, v in here.items()}
    complements = [{k: sum(v.values()) for k, v in count(f.without(d)).items()} for d in f.active]
    monthly = {k: [v.get(m, 0) for m in months] for k, v in here.items()}
    return protect(totals, complements=complements, monthly=monthly)


def _total(count: Callable[[Filter], Mapping[Hashable, int]], f: Filter) -> Cell:
    return _protected(lambda flt: {"all": sum(count(flt).values())}, f)["all"] if count(f) else total({})


def _monthly_total(count, f: Filter) -> Cell:
    def all_months(flt):
        merged: dict[str, int] = defaultdict(int)
        for per_month in count(flt).values():
            for m, n in per_month.items():
                merged[m] += n
        return {"all": merged}
    return _protected_monthly(all_months, f).get("all", total({}))


def _duration_row(label: str, histogram: dict[int, int]) -> Row:
    n, (median, p75) = queries.percentiles(histogram, 0.5, 0.75)
    if n < 5:
        hidden = Cell(None) if n else Cell(0)
        return Row(label, [hidden, "–", "–"])
    return Row(label, [Cell(n), _days_text(median), _days_text(p75)])


def _days_text(days: float) -> str:
    return f"{int(days)}"


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


def _in_lane_order(pm, cells: Mapping[str, Cell]):
    order = {lane.id: n for n, lane in enumerate(pm.lanes)}
    return sorted(cells.items(), key=lambda kv: order.get(kv[0], 99))


__all__ = ["Row", "Table", "Uppfoljning", "build", "describe", "enhet_names", "follow_up"]
