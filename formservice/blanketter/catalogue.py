"""The customer's data, loaded and validated together: the process map and the blankett definitions.

Loaded once at start-up (a broken file stops the service with a clear message) and by
`formservice check`. Pure Python: no flask import.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from formservice.paths import FORMS_DIR
from formservice.processkarta.loader import load_process_map
from formservice.processkarta.model import ProcessMap, ProcessMapError

from . import sprak
from .loader import load_definitions
from .model import Blankett, DefinitionError


class CatalogueError(Exception):
    """str() is the Swedish list of problems, naming file and ruta/field."""


@dataclass(frozen=True)
class Catalogue:
    process_map: ProcessMap
    blanketter: dict[str, Blankett]  # every definition, bilagor included, by id

    @property
    def main_blanketter(self) -> dict[str, Blankett]:
        """The blanketter a ruta can produce (bilagor travel with them)."""
        return {k: b for k, b in self.blanketter.items() if b.kind == "blankett"}

    def config_usage(self) -> dict[str, list[Blankett]]:
        """For each organisation text (config.<key>): the blanketter that print it."""
        usage: dict[str, list[Blankett]] = {}
        for b in self.blanketter.values():
            refs = {f.prefill for f in b.fields if f.prefill} | ({b.send_to} if b.send_to else set())
            for ref in sorted(r for r in refs if r.startswith("config.")):
                usage.setdefault(ref[len("config."):], []).append(b)
        return usage

    def summary(self) -> str:
        n_rutor = len(self.process_map.rutor)
        n_fields = sum(len(b.fields) for b in self.blanketter.values())
        return (f"Processkartan: {len(self.process_map.lanes)} processbanor, {n_rutor} rutor – OK\n"
                f"Blanketter: {len(self.main_blanketter)} blanketter och "
                f"{len(self.blanketter) - len(self.main_blanketter)} bilagor, {n_fields} fält – OK")


# Loaded catalogues by the content of their folder: parsing the YAML (a few hundred ms) is done
# once per process for the same files, however many apps are built (the test suite builds one per
# test; `formservice run` one per process). The objects are frozen, so sharing them is safe; a
# changed file is a new key, so an edited processkarta is read anew.
_loaded: dict[tuple[str, bytes], Catalogue] = {}
_KEEP = 8


def _fingerprint(forms_dir: Path) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in forms_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(forms_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def load_catalogue(forms_dir: Path = FORMS_DIR) -> Catalogue:
    try:
        key = (str(forms_dir.resolve()), _fingerprint(forms_dir))
    except OSError:  # unreadable: let the loaders say what is wrong
        return _load(forms_dir)
    if key not in _loaded:
        if len(_loaded) >= _KEEP:
            _loaded.pop(next(iter(_loaded)))
        _loaded[key] = _load(forms_dir)
    return _loaded[key]


def _load(forms_dir: Path) -> Catalogue:
    try:
        blanketter = sprak.offer_languages(load_definitions(forms_dir))
    except DefinitionError as exc:
        raise CatalogueError(str(exc)) from None
    main_ids = [k for k, b in blanketter.items() if b.kind == "blankett"]
    try:
        process_map = load_process_map(forms_dir / "processkarta.yaml", main_ids)
    except ProcessMapError as exc:
        raise CatalogueError(str(exc)) from None
    return Catalogue(process_map=process_map, blanketter=blanketter)
