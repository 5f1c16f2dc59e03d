"""The legal references that several rutor and blanketter cite, read from forms/_lagrum.yaml.

A citation such as "socialtjänstlagen (2025:400)" used to be typed in each ruta and again on the
SIP-kallelse, so a change in the law meant finding every copy. Now each is one item that the map,
the blanketter, the organisation texts' defaults and the gallring rules all read.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LAGRUM_FILE = "_lagrum.yaml"
REFERENCE_PREFIX = "lagrum:"  # how a blankett's legal_refs names an item: "lagrum:sol"


class LagrumError(ValueError):
    """The file is missing or malformed: one Swedish line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Lagrum:
    key: str
    text: str  # the citation as shown and printed
    about: str = ""  # what the provision says, shown where a ruta gives no text of its own
    note: str = ""  # the source and what was verified: for whoever maintains the file


def load_lagrum(forms_dir: Path | str) -> dict[str, Lagrum]:
    path = Path(forms_dir) / LAGRUM_FILE
    try:
        return _load(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise LagrumError([f"{LAGRUM_FILE}: filen finns inte i {path.parent}"]) from None


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> dict[str, Lagrum]:  # the mtime in the key: an edited file is read again
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LagrumError([f"{LAGRUM_FILE}: filen kan inte läsas ({exc})"]) from None
    if not isinstance(raw, dict):
        raise LagrumError([f"{LAGRUM_FILE}: ska vara en mappning från nyckel till lagrum"])
    problems, items = [], {}
    for key, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("text"), str) or not value["text"].strip():
            problems.append(f'{LAGRUM_FILE}, "{key}": "text" saknas eller är tom')
            continue
        unknown = set(value) - {"text", "about", "note"}
        if unknown:
            problems.append(f'{LAGRUM_FILE}, "{key}": okänd nyckel "{sorted(unknown)[0]}" (tillåtna: text, about, note)')
            continue
        items[str(key)] = Lagrum(str(key), value["text"].strip(), str(value.get("about") or "").strip(),
                                 str(value.get("note") or "").strip())
    if problems:
        raise LagrumError(problems)
    return items


def resolve_references(refs: tuple[str, ...], forms_dir: Path | str, error: Callable[[str], None]) -> tuple[str, ...]:
    """A blankett's legal_refs with each "lagrum:<key>" replaced by that item's text; problems go to error()."""
    if not any(ref.startswith(REFERENCE_PREFIX) for ref in refs):
        return refs  # the file is only needed by blanketter that cite it
    try:
        items = load_lagrum(forms_dir)
    except LagrumError as exc:
        for problem in exc.problems:
            error(problem)
        return ()
    out = []
    for ref in refs:
        key = ref[len(REFERENCE_PREFIX):].strip() if ref.startswith(REFERENCE_PREFIX) else None
        if key is None:
            out.append(ref)
        elif key in items:
            out.append(items[key].text)
        else:
            error(f"lagrummet {key!r} finns inte i {LAGRUM_FILE}.")
    return tuple(out)
