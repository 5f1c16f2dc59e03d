"""What may be sent to whom (forms/_samverkan.yaml): the parties' kinds of enhet, the blanketter
handed over, where the recipient's ärende starts and what the recipient answers. Pure data, checked
against the blanketter and the process map when the app starts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from formservice.accounts.models import ENHET_TYPES
from formservice.blanketter.model import PARTIES

ANSWER_KINDS = ("lakare", "finsamteam", "sip", "fk")


class SamverkanError(ValueError):
    """forms/_samverkan.yaml does not hold together (a Swedish message naming the place)."""


@dataclass(frozen=True)
class PartKind:
    typ: str                   # the enhet's kind (accounts.models.ENHET_TYPES)
    samtycke: str | None       # the consent party covering it; None: every party the blankett shares with
    bana: str                  # the lane of its own ärenden

    @property
    def label(self) -> str:
        return ENHET_TYPES.get(self.typ, self.typ)


@dataclass(frozen=True)
class Route:
    blankett_id: str
    till: tuple[str, ...]                     # enhet kinds it may be sent to
    start: dict[str, str]                     # enhet kind → the ruta the recipient's ärende starts at
    svar: str                                 # the answer's kind (ANSWER_KINDS)
    flera: bool = False                       # to several enheter at once (a SIP-kallelse)
    efter_svar: dict[str, str] = field(default_factory=dict)  # answer value → the recipient's next ruta
    kallas: str = "handling"                  # what a notification calls it ("anmälan")


@dataclass(frozen=True)
class Samverkan:
    parter: dict[str, PartKind]
    routes: dict[str, Route]
    problems: tuple[str, ...] = ()  # rutor named here that the map in use does not have

    def route(self, blankett_id: str) -> Route | None:
        return self.routes.get(blankett_id)

    def lane_of(self, enhet_typ: str) -> str | None:
        kind = self.parter.get(enhet_typ)
        return kind.bana if kind else None


def load(forms_dir: Path, blankett_ids, process_map) -> Samverkan:
    path = Path(forms_dir) / "_samverkan.yaml"
    if not path.exists():
        return Samverkan({}, {}, ())
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = "forms/_samverkan.yaml"
    parter, problems = {}, []
    for typ, item in (data.get("parter") or {}).items():
        if typ not in ENHET_TYPES:
            raise SamverkanError(f"{where}: parter: okänd sorts enhet {typ!r}")
        party = (item or {}).get("samtycke")
        if party is not None and party not in PARTIES:
            raise SamverkanError(f"{where}: parter.{typ}: okänd part för samtycke {party!r}")
        lane = (item or {}).get("bana")
        if lane not in {the_lane.id for the_lane in process_map.lanes}:
            raise SamverkanError(f"{where}: parter.{typ}: processkartan har ingen bana {lane!r}")
        parter[typ] = PartKind(typ, party, lane)
    routes = {}
    for blankett_id, item in (data.get("overlamningar") or {}).items():
        here = f"{where}: overlamningar.{blankett_id}"
        if blankett_id not in blankett_ids:
            raise SamverkanError(f"{here}: ingen blankett med det namnet")
        till = tuple(item.get("till") or ())
        for typ in till:
            if typ not in parter:
                raise SamverkanError(f"{here}: till: {typ!r} saknas under parter")
        start = dict(item.get("start") or {})
        for typ in till:
            if typ not in start:
                raise SamverkanError(f"{here}: start saknar en ruta för {typ!r}")
        after = dict(item.get("efter_svar") or {})
        # A map edited since may have renamed or removed a ruta named here: the recipient's ärende
        # then starts where its lane starts, and an answer leaves it where it stands (listed by
        # `problems`, which the admin's map check and a test show) – never a refusal to start.
        for typ, ruta in list(start.items()):
            if ruta not in process_map.rutor or process_map.rutor[ruta].lane != parter[typ].bana:
                problems.append(f"{here}: rutan {ruta!r} finns inte i {typ}s bana {parter[typ].bana}")
                start[typ] = process_map.lane(parter[typ].bana).start[0]
        for answer, ruta in list(after.items()):
            if ruta not in process_map.rutor:
                problems.append(f"{here}: efter_svar: processkartan har ingen ruta {ruta!r}")
                del after[answer]
        if item.get("svar") not in ANSWER_KINDS:
            raise SamverkanError(f"{here}: svar ska vara ett av {', '.join(ANSWER_KINDS)}")
        routes[blankett_id] = Route(blankett_id, till, start, item["svar"], bool(item.get("flera")), after,
                                str(item.get("kallas") or "handling"))
    return Samverkan(parter, routes, tuple(problems))
