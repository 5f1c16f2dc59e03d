"""Reading and checking forms/processkarta.yaml into a ProcessMap.

The YAML is edited by Samordningsförbundet staff, so validation collects every problem
and reports them together, one Swedish line each, naming the file and the ruta; bad data
never surfaces as a traceback. See docs/processkarta.md for the file format.
"""
from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import yaml

from .lagrum import LAGRUM_FILE, Lagrum, LagrumError, load_lagrum
from .model import (KINDS, RUTA_ID_MAX, BlankettRef, Decision, Individ, Lane, LegalRef, Link, ProcessMap,
                    ProcessMapError, Ruta)

# WCAG 2.1 AA on a white page: 1.4.11 (the lane's 6px border, a graphical object) needs 3:1,
# 1.4.3 (normal-size text in text_colour, or white text on it) needs 4.5:1.
MIN_BORDER_CONTRAST = 3.0
MIN_TEXT_CONTRAST = 4.5

_LABEL = re.compile(r"Ruta (\d+[a-z]?)")
_LANE_ID = re.compile(r"[a-z][a-z0-9]*")
_ROLE = re.compile(r"[a-z][a-z0-9_]*")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")
END_LABEL = "Slut"
_END_SUFFIX = re.compile(r"(-[a-z]+)?")


# ---------------------------------------------------------------- YAML reading
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading with two guards for hand-edited files: YAML 1.2 booleans (only true/false,
    so the keys `yes:` and `no:` of a decision stay strings) and no silently repeated keys."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f'nyckeln "{key_node.value}" förekommer två gånger', key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _read_yaml(path: Path) -> tuple[Any, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ["filen finns inte"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"filen kan inte läsas ({exc})"]
    try:
        return yaml.load(text, Loader=_Loader), []  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"rad {mark.line + 1}, kolumn {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [f"{where}ogiltig YAML: {problem}"]


# ---------------------------------------------------------------- validation helpers
def _contrast_on_white(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


class _Checker:
    """Collects Swedish error lines while turning raw YAML values into typed ones."""

    def __init__(self, forms_dir: Path | None = None) -> None:
        self._errors: list[tuple[tuple[int, int], str]] = []
        self.position = (0, 0)  # (lane, ruta) being checked: errors are reported in file order
        self._forms_dir = forms_dir  # where forms/_lagrum.yaml is, read only if a ruta cites it

    def lagrum(self, key: Any, where: str) -> Lagrum | None:
        """A shared citation ("lagrum: sol"), from the file that the blanketter read too."""
        try:
            items = load_lagrum(self._forms_dir) if self._forms_dir is not None else {}
        except LagrumError as exc:
            self.error(where, "; ".join(exc.problems))
            return None
        if key not in items:
            hint = difflib.get_close_matches(str(key), list(items), n=1)
            self.error(where, f'lagrummet "{key}" finns inte i {LAGRUM_FILE}'
                              + (f' (menade du "{hint[0]}"?)' if hint else ""))
            return None
        return items[key]

    def at(self, lane_no: int, ruta_no: int = 0) -> None:
        self.position = (lane_no, ruta_no)

    def error(self, where: str, message: str) -> None:
        self._errors.append((self.position, f"{where}: {message}" if where else message))

    @property
    def errors(self) -> list[str]:
        return [message for _, message in sorted(self._errors, key=lambda e: e[0])]

    def mapping(self, value: Any, where: str, required: Collection[str], optional: Collection[str] = ()
                ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(where, f"ska vara en mappning (nyckel: värde), inte {_describe(value)}")
            return None
        allowed = [*required, *optional]
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                self.error(where, f'okänd nyckel "{key}"' + (f' (menade du "{hint[0]}"?)' if hint
                                                              else f" (tillåtna: {', '.join(allowed)})"))
        for key in required:
            if key not in value:
                self.error(where, f'nyckeln "{key}" saknas')
        return value

    def text(self, data: dict, key: str, where: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.error(where, f'"{key}" är tomt')
            return None
        if not isinstance(value, str):
            self.error(where, f'"{key}" ska vara en text, inte {_describe(value)}')
            return None
        if not value.strip():
            self.error(where, f'"{key}" är tomt')
            return None
        return value.strip()

    def items(self, data: dict, key: str, where: str) -> list[Any]:
        """A list value; absent or empty gives [], anything else but a list is an error."""
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, f'"{key}" ska vara en lista, inte {_describe(value)}')
            return []
        return value

    def texts(self, data: dict, key: str, where: str) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.items(data, key, where), 1):
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            else:
                self.error(where, f'"{key}", punkt {i}, ska vara en text, inte {_describe(item)}')
        return tuple(out)

    def links(self, data: dict, key: str, where: str) -> tuple[Link, ...]:
        out = []
        for i, item in enumerate(self.items(data, key, where), 1):
            item_where = f"{where}, {key} {i}"
            item = self.mapping(item, item_where, ("label", "target"))
            if item is not None:
                label, target = self.text(item, "label", item_where), self.text(item, "target", item_where)
                if label and target:
                    out.append(Link(label, target))
        return tuple(out)

    def colour(self, data: dict, key: str, where: str, minimum: float) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not _HEX.fullmatch(value):
            self.error(where, f'"{key}" ska vara en hexkod inom citattecken, t.ex. "#C62828", inte '
                              f'{_describe(value)}')
            return "#000000"
        ratio = _contrast_on_white(value)
        if ratio < minimum:
            shown, needed = (f"{x:g}".replace(".", ",") for x in (round(ratio, 1), minimum))
            self.error(where, f'"{key}" {value} har kontrasten {shown}:1 mot vit bakgrund; '
                              f"minst {needed}:1 krävs (WCAG AA)")
        return value.upper()


def _describe(value: Any) -> str:
    if value is None:
        return "tomt värde"
    kind = {str: "text", int: "tal", float: "tal", bool: "true/false", list: "lista", dict: "mappning"}
    return f"{kind.get(type(value), type(value).__name__)} ({str(value)[:40]!r})"


# ---------------------------------------------------------------- loading
_TOP_KEYS = (("actors", "lanes"), ("individ", "modell"))
_LANE_KEYS = (("id", "number", "title", "party", "colour", "text_colour", "start", "rutor"), ("roles", "note"))
_RUTA_KEYS = (("id", "label", "title", "kind", "actors", "guidance"),
              ("legal_refs", "next", "decision", "choices", "links", "blanketter", "note", "formerly"))


def load_process_map(path: Path | str, blankett_ids: Collection[str]) -> ProcessMap:
    """Read and validate the process map; raises ProcessMapError listing every problem found."""
    path = Path(path)
    raw, errors = _read_yaml(path)
    if errors:
        raise ProcessMapError(path, errors)
    if raw is None:
        raise ProcessMapError(path, ["filen är tom"])
    check = _Checker(path.parent)
    top = check.mapping(raw, "överst i filen", *_TOP_KEYS)
    if top is None:
        raise ProcessMapError(path, check.errors)
    actors = check.texts(top, "actors", "actors")
    individ = _parse_individ(check, top.get("individ"))
    known_actors, known_blanketter = set(actors), set(blankett_ids)
    lanes = [lane for i, item in enumerate(check.items(top, "lanes", "lanes"), 1)
             if (lane := _parse_lane(check, item, i, known_actors, known_blanketter)) is not None]
    if not lanes and "lanes" in top:
        check.error("lanes", "minst en processbana behövs")
    _check_map(check, lanes)
    if check.errors:
        raise ProcessMapError(path, check.errors)
    model = check.text(top, "modell", "modell") if "modell" in top else ""
    return ProcessMap(lanes, actors, individ, version=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
                      model=model or "")


def _parse_individ(check: _Checker, raw: Any) -> Individ | None:
    if raw is None:
        return None
    data = check.mapping(raw, "individ", ("title", "colour", "text_colour"))
    if data is None:
        return None
    return Individ(check.text(data, "title", "individ") or "",
                   check.colour(data, "colour", "individ", MIN_BORDER_CONTRAST),
                   check.colour(data, "text_colour", "individ", MIN_TEXT_CONTRAST))


def _parse_lane(check: _Checker, raw: Any, position: int, actors: set[str], blankett_ids: set[str]
                ) -> Lane | None:
    check.at(position)
    lane_id = raw.get("id") if isinstance(raw, dict) else None
    where = f"bana {lane_id}" if isinstance(lane_id, str) else f"bana nr {position} i listan"
    data = check.mapping(raw, where, *_LANE_KEYS)
    if data is None:
        return None
    if not isinstance(lane_id, str) or not _LANE_ID.fullmatch(lane_id):
        check.error(where, f'"id" ska vara små bokstäver a–z och siffror, t.ex. "soc1", inte {_describe(lane_id)}')
        return None
    number = data.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        check.error(where, f'"number" ska vara ett heltal från 1, inte {_describe(number)}')
        number = 0
    roles = check.texts(data, "roles", where)
    for role in roles:
        if not _ROLE.fullmatch(role):
            check.error(where, f'rollen "{role}" ska skrivas som rollens id, t.ex. "vardpersonal"')
    rutor = []
    for i, item in enumerate(check.items(data, "rutor", where), 1):
        check.at(position, i)
        if (ruta := _parse_ruta(check, item, lane_id, i, actors, blankett_ids)) is not None:
            rutor.append(ruta)
    check.at(position)
    if not rutor and isinstance(data.get("rutor"), list):
        check.error(where, "banan har inga rutor")
    return Lane(id=lane_id, number=number, title=check.text(data, "title", where) or "",
                party=check.text(data, "party", where) or "",
                colour=check.colour(data, "colour", where, MIN_BORDER_CONTRAST),
                text_colour=check.colour(data, "text_colour", where, MIN_TEXT_CONTRAST),
                start=check.texts(data, "start", where), roles=roles, rutor=tuple(rutor),
                note=check.text(data, "note", where, required=False))


def _parse_ruta(check: _Checker, raw: Any, lane_id: str, position: int, actors: set[str],
                blankett_ids: set[str]) -> Ruta | None:
    ruta_id = raw.get("id") if isinstance(raw, dict) else None
    where = f"ruta {ruta_id}" if isinstance(ruta_id, str) else f"bana {lane_id}, ruta nr {position} i listan"
    data = check.mapping(raw, where, *_RUTA_KEYS)
    if data is None:
        return None
    label = check.text(data, "label", where)
    if not isinstance(ruta_id, str):
        check.error(where, f'"id" ska vara en text som "{lane_id}.9", inte {_describe(ruta_id)}')
        return None
    if len(ruta_id) > RUTA_ID_MAX:
        check.error(where, f"id:t är {len(ruta_id)} tecken; högst {RUTA_ID_MAX} får plats i databasen")
    kind = data.get("kind")
    if "kind" in data and kind not in KINDS:
        check.error(where, f'"kind" ska vara en av {", ".join(KINDS)}, inte {_describe(kind)}')
    # The id is derived from lane and label so staff can find a ruta from the printed map.
    if label is not None:
        match = _LABEL.fullmatch(label)
        if label == END_LABEL:
            # A lane may end in several ways: "<lane>.slut" and "<lane>.slut-<word>" (honest end
            # states such as "slut-ingetbehov"); the word is the id's own, the label stays "Slut".
            suffix = ruta_id[len(f"{lane_id}.slut"):] if isinstance(ruta_id, str) else ""
            expected = f"{lane_id}.slut" + (suffix if _END_SUFFIX.fullmatch(suffix) else "")
        elif match:
            expected = f"{lane_id}.{match.group(1)}"
        else:
            expected = None
            check.error(where, f'etiketten "{label}" ska se ut som "Ruta 9", "Ruta 10a" eller "{END_LABEL}"')
        if expected and ruta_id != expected:
            check.error(where, f'id ska vara "{expected}" enligt banan och etiketten "{label}"')
        if (kind == "end") != (label == END_LABEL):
            check.error(where, f'en slutruta har kind "end" och etiketten "{END_LABEL}", och bara den')

    ruta_actors = check.texts(data, "actors", where)
    for actor in ruta_actors:
        if actor not in actors:
            hint = difflib.get_close_matches(actor, actors, n=1)
            check.error(where, f'aktören "{actor}" finns inte i listan "actors" överst i filen'
                               + (f' (menade du "{hint[0]}"?)' if hint else ""))
    if isinstance(data.get("actors"), list) and not ruta_actors:
        check.error(where, "minst en aktör behövs")
    guidance = check.texts(data, "guidance", where)
    if isinstance(data.get("guidance"), list) and not guidance:
        check.error(where, "handläggarstödet (guidance) är tomt")

    legal_refs = []
    for i, item in enumerate(check.items(data, "legal_refs", where), 1):
        item_where = f"{where}, legal_refs {i}"
        if isinstance(item, dict) and "lagrum" in item:  # a shared citation, with an optional text of the ruta's own
            item = check.mapping(item, item_where, ("lagrum",), ("about",))
            shared = check.lagrum(item["lagrum"], item_where) if item is not None else None
            if shared is not None:
                legal_refs.append(LegalRef(shared.text, check.text(item, "about", item_where) or shared.about))
            continue
        item = check.mapping(item, item_where, ("text", "about"))
        if item is not None:
            legal_refs.append(LegalRef(check.text(item, "text", item_where) or "",
                                       check.text(item, "about", item_where) or ""))

    decision = None
    if data.get("decision") is not None:
        d_where = f"{where}, decision"
        d = check.mapping(data["decision"], d_where, ("question",), ("yes", "no"))
        if d is not None:
            # Branches are named after the buttons the user sees, so the message reads "saknar Nej-målet".
            for key, name in (("yes", "Ja"), ("no", "Nej")):
                if d.get(key) is None:
                    check.error(where, f"beslutet saknar {name}-målet ({key})")
            question = check.text(d, "question", d_where)
            yes, no = check.text(d, "yes", d_where, required=False), check.text(d, "no", d_where, required=False)
            if question and yes and no:
                decision = Decision(question, yes, no)

    blanketter = []
    for i, item in enumerate(check.items(data, "blanketter", where), 1):
        if isinstance(item, str):
            ref = BlankettRef(item.strip())
        elif isinstance(item, dict):
            item_where = f"{where}, blanketter {i}"
            check.mapping(item, item_where, ("id",), ("when",))
            ref = BlankettRef(check.text(item, "id", item_where) or "",
                              check.text(item, "when", item_where, required=False))
        else:
            check.error(where, f"blanketter, punkt {i}, ska vara ett blankett-id eller {{id, when}}, "
                               f"inte {_describe(item)}")
            continue
        if ref.id and ref.id not in blankett_ids:
            known = ", ".join(sorted(blankett_ids)) or "inga"
            check.error(where, f'blanketten "{ref.id}" finns inte (kända blanketter: {known})')
        if ref.id:
            blanketter.append(ref)

    next_id = data.get("next")
    if next_id is not None and not isinstance(next_id, str):
        check.error(where, f'"next" ska vara ett ruta-id, inte {_describe(next_id)}')
        next_id = None
    ruta = Ruta(id=ruta_id, lane=lane_id, label=label or "", title=check.text(data, "title", where) or "",
                kind=kind if kind in KINDS else "step", actors=ruta_actors, guidance=guidance,
                legal_refs=tuple(legal_refs), next=next_id, decision=decision,
                choices=check.links(data, "choices", where), links=check.links(data, "links", where),
                blanketter=tuple(blanketter), note=check.text(data, "note", where, required=False),
                formerly=check.texts(data, "formerly", where) if "formerly" in data else ())
    _check_kind(check, ruta, where, has_decision="decision" in data)
    return ruta


def _check_map(check: _Checker, lanes: list[Lane]) -> None:
    """Cross-references: unique ids, targets that exist, kinds that fit, reachability."""
    seen_lanes: dict[str, Lane] = {}
    seen_numbers: dict[int, str] = {}
    owner_of_role: dict[str, str] = {}
    for n, lane in enumerate(lanes, 1):
        check.at(n)
        if lane.id in seen_lanes:
            check.error(f"bana {lane.id}", "id förekommer flera gånger")
        seen_lanes[lane.id] = lane
        if lane.number and seen_numbers.setdefault(lane.number, lane.id) != lane.id:
            check.error(f"bana {lane.id}", f"nummer {lane.number} används redan av bana {seen_numbers[lane.number]}")
        for role in lane.roles:
            if owner_of_role.setdefault(role, lane.id) != lane.id:
                check.error(f"bana {lane.id}", f'rollen "{role}" hör redan till bana {owner_of_role[role]}')

    rutor: dict[str, Ruta] = {}
    for n, lane in enumerate(lanes, 1):
        for i, ruta in enumerate(lane.rutor, 1):
            check.at(n, i)
            if ruta.id in rutor:
                check.error(f"ruta {ruta.id}", "id förekommer flera gånger")
            rutor.setdefault(ruta.id, ruta)
    # A renamed ruta keeps its old ids under "formerly", so ärenden standing on them still find it.
    former: dict[str, str] = {}
    for n, lane in enumerate(lanes, 1):
        for i, ruta in enumerate(lane.rutor, 1):
            check.at(n, i)
            for old in ruta.formerly:
                if old in rutor:
                    check.error(f"ruta {ruta.id}", f'"formerly" nämner "{old}", som är en ruta i kartan')
                elif former.setdefault(old, ruta.id) != ruta.id:
                    check.error(f"ruta {ruta.id}", f'"{old}" står redan under "formerly" i ruta {former[old]}')

    names = {"next": "nästa ruta (next)", "yes": "Ja-målet", "no": "Nej-målet", "choice": "valet", "link": "länken"}
    for n, lane in enumerate(lanes, 1):
        check.at(n)
        where = f"bana {lane.id}"
        if not lane.start:
            check.error(where, 'minst en startruta behövs ("start")')
        for start in lane.start:
            if start not in rutor or rutor[start].lane != lane.id:
                check.error(where, f'startrutan "{start}" finns inte i banan')
            elif rutor[start].kind != "start":
                check.error(f"ruta {start}", 'är start i banan men har inte kind "start"')
        for i, ruta in enumerate(lane.rutor, 1):
            check.at(n, i)
            where = f"ruta {ruta.id}"
            if ruta.kind == "start" and ruta.id not in lane.start:
                check.error(where, f'har kind "start" men står inte i bana {lane.id}s "start"')
            for edge in ruta.targets():
                name = names[edge.kind] + (f' "{edge.label}"' if edge.kind in ("choice", "link") else "")
                if edge.target not in rutor:
                    check.error(where, f'{name} "{edge.target}" finns inte' if edge.kind in ("yes", "no")
                                else f'{name} pekar på "{edge.target}", som inte finns')
                elif edge.kind == "link" and rutor[edge.target].lane == lane.id:
                    check.error(where, f'{name} pekar på "{edge.target}" i samma bana; använd next eller choices')
                elif edge.target == ruta.id:
                    check.error(where, f"{name} pekar på rutan själv")

    for n, lane in enumerate(lanes, 1):
        _check_reachable(check, lane, n, lanes, rutor)


def _check_kind(check: _Checker, ruta: Ruta, where: str, *, has_decision: bool) -> None:
    """The kind must fit the transitions, so the wizard never meets a decision without branches."""
    if ruta.kind == "decision" and not has_decision:
        check.error(where, 'en beslutsruta (kind "decision") behöver "decision" med question, yes och no')
    if ruta.decision is not None and ruta.kind != "decision":
        check.error(where, f'har "decision" men kind är "{ruta.kind}"; sätt kind "decision"')
    if ruta.kind == "decision" and ruta.next:
        check.error(where, 'en beslutsruta går vidare via Ja/Nej; ta bort "next"')
    if ruta.kind == "choice" and len(ruta.choices) < 2:
        check.error(where, 'en valruta (kind "choice") behöver minst två alternativ under "choices"')
    if ruta.choices and ruta.kind != "choice":
        check.error(where, f'har "choices" men kind är "{ruta.kind}"; sätt kind "choice"')
    if ruta.kind == "end" and ruta.targets():
        check.error(where, "en slutruta har inga utgående övergångar (next, decision, choices, links)")


def _check_reachable(check: _Checker, lane: Lane, lane_no: int, lanes: list[Lane], rutor: dict[str, Ruta]
                     ) -> None:
    # A lane is entered at its starts and at any ruta another lane points to (links, choices …).
    entries = set(lane.start) | {
        edge.target for other in lanes if other.id != lane.id for ruta in other.rutor
        for edge in ruta.targets() if edge.target in rutor and rutor[edge.target].lane == lane.id}

    def follow(from_ids: Iterable[str], within: Collection[str]) -> set[str]:
        seen, todo = set(), [r for r in from_ids if r in within]
        while todo:
            ruta_id = todo.pop()
            if ruta_id not in seen:
                seen.add(ruta_id)
                todo += [e.target for e in rutor[ruta_id].targets() if e.kind != "link" and e.target in within]
        return seen

    own = [r.id for r in lane.rutor if rutor.get(r.id) is r]
    unreachable = set(own) - follow(entries, own)
    # One line per cut-off part of the lane, naming its first ruta: a single missing
    # "next" should not produce a line for every ruta after it.
    for i, ruta_id in enumerate(own, 1):
        if ruta_id in unreachable:
            cut_off = follow([ruta_id], unreachable)
            unreachable -= cut_off
            rest = [r for r in own if r in cut_off and r != ruta_id]
            check.at(lane_no, i)
            check.error(f"ruta {ruta_id}", f"kan inte nås från banans start ({', '.join(lane.start)}) eller från "
                                           "någon annan bana" + (f"; inte heller {', '.join(rest)}" if rest else ""))
