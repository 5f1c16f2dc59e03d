"""Does the process map fit the ärenden in the database? Run by `formservice check` and before
an admin reloads the map: every ärende's current ruta and every ruta named in a history entry
must be in the map, by its id or by an id it had before (`formerly` in the YAML). A map that
would strand ärenden is refused until the rename is recorded or the ärenden are moved."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select, union

from formservice import db
from formservice.accounts.models import Enhet

from .models import Arende, Handelse

SHOWN_PER_RUTA = 20  # ärenden listed by public id for each unknown ruta (the count is always given)


@dataclass
class MapFit:
    checked: bool = True  # False when the database has no tables yet
    stranded: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # ruta -> [(public id, enhet)]
    stranded_count: dict[str, int] = field(default_factory=dict)
    unknown_in_history: dict[str, int] = field(default_factory=dict)  # ruta -> history entries naming it

    @property
    def ok(self) -> bool:
        return not self.stranded and not self.unknown_in_history

    def lines(self) -> list[str]:
        """The problems, in Swedish, one line each (no personal data: public ids and enhet names)."""
        out = []
        for ruta, rows in sorted(self.stranded.items()):
            count = self.stranded_count[ruta]
            shown = ", ".join(f"{pid} ({enhet})" for pid, enhet in rows)
            more = f" och {count - len(rows)} till" if count > len(rows) else ""
            out.append(f'{count} ärenden står på rutan "{ruta}", som inte finns i kartan: {shown}{more}. '
                       f'Skriv "formerly: [{ruta}]" under rutan som ersätter den, eller flytta ärendena först.')
        for ruta, count in sorted(self.unknown_in_history.items()):
            out.append(f'{count} historikposter nämner rutan "{ruta}", som inte finns i kartan. '
                       f'Skriv "formerly: [{ruta}]" under rutan som ersätter den.')
        return out


def check(process_map) -> MapFit:
    """How the map fits the database's ärenden and history."""
    dbs = db.session()
    if not inspect(dbs.get_bind()).has_table(Arende.__tablename__):
        return MapFit(checked=False)
    fit = MapFit()
    current = dbs.execute(select(Arende.ruta, func.count()).group_by(Arende.ruta)).all()
    for ruta, count in current:
        if ruta not in process_map.rutor:
            fit.stranded_count[ruta] = count
            fit.stranded[ruta] = [tuple(row) for row in dbs.execute(
                select(Arende.public_id, Enhet.namn).join(Enhet, Enhet.id == Arende.enhet_id)
                .where(Arende.ruta == ruta).order_by(Arende.id).limit(SHOWN_PER_RUTA)).all()]
    named = union(select(Handelse.from_ruta.label("ruta")).where(Handelse.from_ruta.is_not(None)).distinct(),
                  select(Handelse.to_ruta.label("ruta")).where(Handelse.to_ruta.is_not(None)).distinct())
    for (ruta,) in dbs.execute(named).all():
        if ruta not in process_map.rutor:
            fit.unknown_in_history[ruta] = dbs.scalar(select(func.count()).select_from(Handelse).where(
                (Handelse.from_ruta == ruta) | (Handelse.to_ruta == ruta)))
    return fit
