"""Socialstyrelsen's försäkringsmedicinskt beslutsstöd (FMB): a link for a diagnosis code.

FMB's addresses are keyed by a diagnosis group (a name and a number), not by the ICD-10-SE code,
so the link comes from a small table the förbund can edit, forms/_fmb.yaml (code prefix → page).
The longest prefix wins (F438 before F43); a code without an entry gets FMB's start page, and
the page says so. Nothing of FMB's content is copied. Pure Python."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from formservice.paths import FORMS_DIR

START_PAGE = "https://roi.socialstyrelsen.se/fmb"
# FK's format for a diagnosis code (ICD-10-SE, without the dot): a letter and two digits, then
# letters, digits or "-"; a psychiatric code (F) and Z73 need at least one more position.
_CODE = re.compile(r"^([A-EG-Y][0-9]{2}[A-Z0-9-]*|Z[0-689][0-9][A-Z0-9-]*|Z7[0-24-9][A-Z0-9-]*|Z73[A-Z0-9-]+"
                   r"|F[0-9]{2}[A-Z0-9-]+)$")


@dataclass(frozen=True)
class FmbLink:
    url: str
    name: str | None  # the diagnosis group's name; None: FMB's start page (no entry for the code)
    code: str

    @property
    def specific(self) -> bool:
        return self.name is not None


def normalise_code(text: str) -> str:
    """ "f32.1 " → "F321" (stored without the dot, as FK's format has it)."""
    return re.sub(r"[\s.]", "", text or "").upper()


def code_error(text: str) -> str | None:
    """A Swedish message when ``text`` is not a diagnosis code in ICD-10-SE's format; None when it is."""
    code = normalise_code(text)
    if not code:
        return None
    if len(code) > 5:
        return "Diagnoskoden har för många tecken. Skriv den som i ICD-10-SE, t.ex. F32.1 eller M54.5."
    if code.startswith(("F", "Z73")) and len(code) < 4:
        return "En psykiatrisk diagnoskod (F) ska ha minst fyra positioner, t.ex. F32.1."
    if not _CODE.match(code):
        return "Diagnoskoden ska vara en bokstav och två siffror och eventuellt fler positioner, t.ex. F32.1 eller M54.5."
    return None


@lru_cache(maxsize=4)
def _table(path: str) -> tuple[str, dict[str, tuple[str, str]]]:
    file = Path(path)
    if not file.exists():
        return START_PAGE, {}
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    entries = {}
    for prefix, item in (data.get("diagnoser") or {}).items():
        url = str((item or {}).get("url") or "")
        if url.startswith("https://"):
            entries[normalise_code(str(prefix))] = (url, str(item.get("namn") or prefix))
    start = str(data.get("startsida") or START_PAGE)
    return (start if start.startswith("https://") else START_PAGE), entries


def link_for(code: str, forms_dir: Path = FORMS_DIR) -> FmbLink:
    """The FMB page for the code: the longest prefix in the table, else the start page."""
    start, entries = _table(str(Path(forms_dir) / "_fmb.yaml"))
    code = normalise_code(code)
    for end in range(len(code), 2, -1):
        hit = entries.get(code[:end])
        if hit:
            return FmbLink(hit[0], hit[1], code)
    return FmbLink(start, None, code)
