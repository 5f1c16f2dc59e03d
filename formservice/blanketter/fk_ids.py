"""Försäkringskassan's question ids on a blankett's fields (YAML `fk`), and the facts about FK's
coded answers that a definition and the doctor's validation share.

A field's `fk` is the delsvar id it answers ("35.1"), optionally followed by the code the field
stands for when a coded list is asked as one box (or one date) per code: "40.1 ARBETSTRANING",
"1.2 UNDERSOKNING". A choice field's values are FK's codes themselves. The ids, codes and the
diagnosis code format are FK's for läkarintyg för sjukpenning (source: Inera sklintyg/common, LISJP).
Pure Python: never import flask.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["DIAGNOS_KAPITEL", "FK_PATTERN", "diagnoskod", "diagnos_kapitel", "fk_attribute", "fk_code", "fk_parts"]

# "39.1", or "40.1 EJ_AKTUELLT": the delsvar id, then the code the field stands for.
FK_PATTERN = re.compile(r"(?P<id>[0-9]{1,3}\.[0-9]{1,2})(?: (?P<code>[A-Z][A-Z0-9_]*))?")


def fk_attribute(reader: Any, raw: dict, where: str) -> str | None:
    """The field's `fk` attribute, checked (reader: the definition loader, which collects errors)."""
    value = raw.get("fk")
    if value is None:
        return None
    if not isinstance(value, str) or not FK_PATTERN.fullmatch(value):
        reader.error(where, f"fk {value!r} ska vara Försäkringskassans delsvar-id, t.ex. \"39.1\", "
                            "eventuellt följt av en kod: \"40.1 ARBETSTRANING\" (se docs/blanketter.md).")
        return None
    return value


def fk_code(raw: dict, value: Any) -> bool:
    """Whether ``value`` is one of FK's codes (upper case, "ATER_X_ANTAL_DGR") as a choice value of a
    field that answers one of FK's questions (has `fk`); other choice values are snake_case."""
    return bool(raw.get("fk")) and isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]*", value) is not None


def fk_parts(fk: str | None) -> tuple[str | None, str | None]:
    """(delsvar id, code) of a field's `fk` attribute; (None, None) without one."""
    match = FK_PATTERN.fullmatch(fk or "")
    return (match["id"], match["code"]) if match else (None, None)


# FK's Schematron pattern for a diagnosis code (stored without a dot): a letter and two digits, then
# letters, digits or "-"; psychiatric codes (F) and Z73 need at least one more position.
_FK_DIAGNOSKOD = re.compile(r"([A-EG-Y][0-9]{2}[A-Z0-9-]*|Z[0-689][0-9][A-Z0-9-]*|Z7[0-24-9][A-Z0-9-]*"
                            r"|Z73[A-Z0-9-]+|F[0-9]{2}[A-Z0-9-]+)")
# ICD-10-SE as typed: "F32.1", "F321", "A11.1X".
_ICD10SE = re.compile(r"[A-Z][0-9]{2}\.?[0-9]?[0-9A-Z]?")


def diagnoskod(text: str) -> tuple[str | None, str | None]:
    """(code as stored, None) for a valid ICD-10-SE code – upper case, without the dot: "f32.1" ->
    "F321" – or (None, Swedish problem)."""
    typed = str(text).strip().upper()
    code = typed.replace(".", "", 1) if "." in typed[3:4] else typed
    if not _ICD10SE.fullmatch(typed) or not 3 <= len(code) <= 5:
        return None, ("är inte en diagnoskod enligt ICD-10-SE. Skriv en bokstav och minst två siffror, "
                      "t.ex. F32.1 eller M54.5.")
    if not _FK_DIAGNOSKOD.fullmatch(code):
        return None, ("psykiatriska diagnoser (F-koder) och Z73 anges med minst fyra positioner, "
                      "t.ex. F32.1.")
    return code, None


# ICD-10's chapters (first code, last code, number, Swedish name).
DIAGNOS_KAPITEL = (
    ("A00", "B99", "I", "Vissa infektionssjukdomar och parasitsjukdomar"),
    ("C00", "D48", "II", "Tumörer"),
    ("D50", "D89", "III", "Sjukdomar i blod och blodbildande organ samt vissa rubbningar i immunsystemet"),
    ("E00", "E90", "IV", "Endokrina sjukdomar, nutritionsrubbningar och ämnesomsättningssjukdomar"),
    ("F00", "F99", "V", "Psykiska sjukdomar och syndrom samt beteendestörningar"),
    ("G00", "G99", "VI", "Sjukdomar i nervsystemet"),
    ("H00", "H59", "VII", "Sjukdomar i ögat och närliggande organ"),
    ("H60", "H95", "VIII", "Sjukdomar i örat och mastoidutskottet"),
    ("I00", "I99", "IX", "Cirkulationsorganens sjukdomar"),
    ("J00", "J99", "X", "Andningsorganens sjukdomar"),
    ("K00", "K93", "XI", "Matsmältningsorganens sjukdomar"),
    ("L00", "L99", "XII", "Hudens och underhudens sjukdomar"),
    ("M00", "M99", "XIII", "Sjukdomar i muskuloskeletala systemet och bindväven"),
    ("N00", "N99", "XIV", "Sjukdomar i urin- och könsorganen"),
    ("O00", "O99", "XV", "Graviditet, förlossning och barnsängstid"),
    ("P00", "P96", "XVI", "Vissa perinatala tillstånd"),
    ("Q00", "Q99", "XVII", "Medfödda missbildningar, deformiteter och kromosomavvikelser"),
    ("R00", "R99", "XVIII", "Symtom, sjukdomstecken och onormala kliniska fynd och laboratoriefynd "
                            "som ej klassificeras på annan plats"),
    ("S00", "T98", "XIX", "Skador, förgiftningar och vissa andra följder av yttre orsaker"),
    ("V01", "Y98", "XX", "Yttre orsaker till sjukdom och död"),
    ("Z00", "Z99", "XXI", "Faktorer av betydelse för hälsotillståndet och för kontakter med "
                          "hälso- och sjukvården"),
    ("U00", "U99", "XXII", "Koder för särskilda ändamål"),
)


def diagnos_kapitel(code: Any) -> str | None:
    """"Kapitel V: Psykiska sjukdomar …" for a diagnosis code (typed with or without a dot), or None."""
    stored, _problem = diagnoskod(code) if isinstance(code, str) else (None, None)
    if stored is None:
        return None
    head = stored[:3]
    for first, last, number, name in DIAGNOS_KAPITEL:
        if first <= head <= last:
            return f"Kapitel {number}: {name}"
    return None
