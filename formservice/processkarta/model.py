"""The process map (processkarta) of Stockholmsmodellen: lanes, rutor and their transitions (the model).

Loaded from forms/processkarta.yaml, validated once and read-only afterwards. Pure Python
(no flask) so the CLI, the API, the wizard, tests and benchmarks share one model.

The YAML is edited by Samordningsförbundet staff, so validation collects every problem
and reports them together, one Swedish line each, naming the file and the ruta; bad data
never surfaces as a traceback. See docs/processkarta.md for the file format.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


KINDS = ("start", "step", "decision", "choice", "end")
RUTA_ID_MAX = 60  # the database's ruta and lane columns hold this many characters
# Kinds of outgoing edge, as returned by ProcessMap.targets().
EDGE_KINDS = ("next", "yes", "no", "choice", "link")


class ProcessMapError(ValueError):
    """The process map file is unusable. str() lists every problem, one per line, in Swedish."""

    def __init__(self, path: Path | str, errors: Iterable[str]):
        self.path = str(path)
        self.errors = tuple(errors)
        super().__init__("\n".join(f"{self.path}: {e}" for e in self.errors))


class UnknownIdError(LookupError):
    """ProcessMap.ruta()/lane() got an id that is not in the map (not a KeyError, so str() reads well)."""


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class LegalRef:
    text: str  # "30 kap. 10 § socialförsäkringsbalken (2010:110)"
    about: str  # why it applies to this ruta


@dataclass(frozen=True)
class Decision:
    question: str
    yes: str  # target ruta id
    no: str


@dataclass(frozen=True)
class Link:
    """A labelled edge: one alternative of a vägval (Ruta.choices) or a cross-lane link (Ruta.links)."""

    label: str
    target: str


Choice = Link


@dataclass(frozen=True)
class BlankettRef:
    id: str
    when: str | None = None  # condition shown to the user, e.g. "när arbetslivsinriktad rehabilitering behövs"


@dataclass(frozen=True)
class Edge:
    label: str
    target: str
    kind: str  # one of EDGE_KINDS


@dataclass(frozen=True)
class Ruta:
    id: str  # "<lane>.<nr>", e.g. "soc1.9", "fk.5b", "af.slut"
    lane: str
    label: str  # "Ruta 9", "Ruta 10a", "Slut"
    title: str
    kind: str  # one of KINDS
    actors: tuple[str, ...]
    guidance: tuple[str, ...]  # paragraphs of the handläggarstöd
    legal_refs: tuple[LegalRef, ...] = ()
    next: str | None = None
    decision: Decision | None = None
    choices: tuple[Link, ...] = ()
    links: tuple[Link, ...] = ()
    blanketter: tuple[BlankettRef, ...] = ()
    note: str | None = None  # editorial note, e.g. how an unclear passage of the seed was read
    formerly: tuple[str, ...] = ()  # ids this ruta had before it was renamed (ärenden may still stand on them)

    @property
    def blankett_ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.blanketter)

    def targets(self) -> tuple[Edge, ...]:
        """Every outgoing edge: next, Ja/Nej, the choices, then the cross-lane links."""
        edges = []
        if self.next:
            edges.append(Edge("Nästa", self.next, "next"))
        if self.decision:
            edges += [Edge("Ja", self.decision.yes, "yes"), Edge("Nej", self.decision.no, "no")]
        edges += [Edge(c.label, c.target, "choice") for c in self.choices]
        edges += [Edge(link.label, link.target, "link") for link in self.links]
        return tuple(edges)


@dataclass(frozen=True)
class Lane:
    id: str
    number: int
    title: str
    party: str
    colour: str  # border / graphical colour, >= 3:1 against white
    text_colour: str  # text on white (and white text on it), >= 4.5:1
    start: tuple[str, ...]
    roles: tuple[str, ...]
    rutor: tuple[Ruta, ...]
    note: str | None = None


@dataclass(frozen=True)
class Individ:
    """The individual's own colour (lila in the printed map); the individ has no lane of its own."""

    title: str
    colour: str
    text_colour: str


class _Rutor(Mapping):
    """The rutor by id. A lookup also finds a renamed ruta by an id it had before ("formerly"), so
    ärenden and history entries that still carry the old id keep working; iteration, len() and
    keys() give each ruta once, by its current id."""

    def __init__(self, by_id: dict[str, Ruta]):
        self._by_id = by_id
        self._former = {old: r for r in by_id.values() for old in r.formerly}

    def __getitem__(self, ruta_id: str) -> Ruta:
        found = self._by_id.get(ruta_id) or self._former.get(ruta_id)
        if found is None:
            raise KeyError(ruta_id)
        return found

    def __iter__(self):
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, ruta_id: object) -> bool:
        return ruta_id in self._by_id or ruta_id in self._former


class ProcessMap:
    """The validated map. Build it with load_process_map(); all attributes are read-only values."""

    def __init__(self, lanes: Iterable[Lane], actors: Iterable[str] = (), individ: Individ | None = None,
                 version: str = "", model: str = ""):
        self.lanes: tuple[Lane, ...] = tuple(lanes)
        # The name the förbund gives its process ("Stockholmsmodellen"): the file's `modell`, shown in
        # the page header and on the map; empty: none is shown.
        self.model = model
        # What the file said when it was read: the start of the SHA-256 of processkarta.yaml.
        # Each history entry records it, so a step can be read against the map it was made on.
        self.version = version
        self.actors: tuple[str, ...] = tuple(actors)
        self.individ = individ
        self.rutor: Mapping[str, Ruta] = _Rutor({r.id: r for lane in self.lanes for r in lane.rutor})
        self._lanes = {lane.id: lane for lane in self.lanes}
        self._roles = {role: lane for lane in self.lanes for role in lane.roles}

    def ruta(self, ruta_id: str) -> Ruta:
        """The ruta with this id; raises UnknownIdError (a LookupError) if there is none."""
        try:
            return self.rutor[ruta_id]
        except KeyError:
            raise UnknownIdError(f'Rutan "{ruta_id}" finns inte i processkartan.') from None

    def lane(self, lane_id: str) -> Lane:
        """The lane with this id; raises UnknownIdError (a LookupError) if there is none."""
        try:
            return self._lanes[lane_id]
        except KeyError:
            raise UnknownIdError(f'Processbanan "{lane_id}" finns inte i processkartan.') from None

    def default_lane_for_role(self, role: str) -> Lane | None:
        """The lane a user with this role starts in; None for roles without one (e.g. admin)."""
        return self._roles.get(role)

    def targets(self, ruta: Ruta | str) -> tuple[Edge, ...]:
        """Every outgoing (label, target id, kind of edge) of a ruta, given as Ruta or id."""
        return (ruta if isinstance(ruta, Ruta) else self.ruta(ruta)).targets()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data: the body of GET /api/v1/processkarta."""
        return {
            "actors": list(self.actors),
            "individ": None if self.individ is None else {
                "title": self.individ.title, "colour": self.individ.colour,
                "text_colour": self.individ.text_colour},
            "lanes": [lane_to_dict(lane) for lane in self.lanes],
        }


def lane_to_dict(lane: Lane) -> dict[str, Any]:
    return {
        "id": lane.id, "number": lane.number, "title": lane.title, "party": lane.party,
        "colour": lane.colour, "text_colour": lane.text_colour, "start": list(lane.start),
        "roles": list(lane.roles), "note": lane.note, "rutor": [ruta_to_dict(r) for r in lane.rutor],
    }


def ruta_to_dict(ruta: Ruta) -> dict[str, Any]:
    return {
        "id": ruta.id, "lane": ruta.lane, "label": ruta.label, "title": ruta.title, "kind": ruta.kind,
        "actors": list(ruta.actors), "guidance": list(ruta.guidance),
        "legal_refs": [{"text": ref.text, "about": ref.about} for ref in ruta.legal_refs],
        "next": ruta.next,
        "decision": None if ruta.decision is None else {
            "question": ruta.decision.question, "yes": ruta.decision.yes, "no": ruta.decision.no},
        "choices": [{"label": c.label, "target": c.target} for c in ruta.choices],
        "links": [{"label": link.label, "target": link.target} for link in ruta.links],
        "blanketter": [{"id": b.id, "when": b.when} for b in ruta.blanketter],
        "note": ruta.note,
        "formerly": list(ruta.formerly),
    }
