"""The DFA chain of the doctor's answer (diagnos – funktionsnedsättning – aktivitetsbegränsning):
Försäkringskassan's rules for a läkarintyg (source: Inera sklintyg/common, LISJP), applied to the
fields of a blankett that carry FK's question ids (YAML `fk`, see blanketter/fk_ids.py).

The DFA blocks are optional as a whole (an answer with only the activity table is still an
answer; whether the läkarintyg is complete is the caseworker's review to judge), but once the
doctor fills in any of them the rules hold: at least one ground with dates not in the future
("annat" described), a huvuddiagnos with code and text (F-codes and Z73 with four positions;
a bidiagnos only with a huvuddiagnos), funktionsnedsättning and aktivitetsbegränsning described;
"åter inom X dagar" with its days and no days with another prognos; "Inte aktuellt" alone.
Pure Python: no flask. Every message is Swedish and starts with the field's label.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import date
from typing import Any

from formservice import tid
from formservice.blanketter.fk_ids import diagnos_kapitel, diagnoskod, fk_parts

__all__ = ["dfa_fields", "has_dfa_part", "kapitel_hints", "validate_dfa"]

# (code, text) delsvar of huvuddiagnos and the two bidiagnoser.
_DIAGNOSES = (("6.2", "6.1"), ("6.4", "6.3"), ("6.6", "6.5"))


def dfa_fields(fields: Any) -> tuple[Any, ...]:
    """The fields among ``fields`` that answer one of FK's questions."""
    return tuple(f for f in fields if f.fk)


def has_dfa_part(fields: Any) -> bool:
    return bool(dfa_fields(fields))


def _given(value: Any) -> bool:
    return value is True or (value not in (None, False, "") and not (isinstance(value, str) and not value.strip()))


def validate_dfa(fields: Any, clean: MutableMapping[str, Any], errors: MutableMapping[str, str], *,
                 today: date | None = None) -> None:
    """Check the DFA blocks of ``fields`` (the doctor's fields) in ``clean`` (values that passed the
    fields' own checks); add to ``errors`` (field name -> Swedish message, a field's first error
    kept) and store diagnosis codes as FK does (``clean``: "F32.1" -> "F321")."""
    dfa = dfa_fields(fields)
    if not dfa:
        return
    today = today or tid.today()
    by_id: dict[str, Any] = {}
    by_code: dict[tuple[str, str], Any] = {}
    for f in dfa:
        fid, code = fk_parts(f.fk)
        if code:
            by_code[(fid, code)] = f
        else:
            by_id.setdefault(fid, f)

    def err(field: Any, message: str) -> None:
        errors.setdefault(field.name, f"{field.label}: {message}")

    def value(field: Any) -> Any:
        return clean.get(field.name) if field is not None else None

    if not any(_given(value(f)) or f.name in errors for f in dfa):
        return  # the doctor answered without the DFA blocks

    # Grund (FK 1): a date per ground, not in the future; "annat" described.
    grounds = [f for (fid, _code), f in by_code.items() if fid == "1.2"]
    for f in grounds:
        if _given(value(f)) and str(value(f)) > today.isoformat():
            err(f, "datumet ligger i framtiden. Ange när det skedde (ÅÅÅÅ-MM-DD).")
    annat, beskrivning = by_code.get(("1.2", "ANNAT")), by_id.get("1.3")
    if annat is not None and beskrivning is not None:
        if _given(value(annat)) and not _given(value(beskrivning)):
            err(beskrivning, "beskriv vad ”annat” är.")
        elif _given(value(beskrivning)) and not _given(value(annat)) and annat.name not in errors:
            err(annat, "ange datumet för ”annat” när du beskriver det, eller ta bort beskrivningen.")
    if grounds and not any(_given(value(f)) or f.name in errors for f in grounds):
        err(grounds[0], "ange minst en grund för bedömningen med datum (undersökning, telefonkontakt, "
                        "journaluppgifter eller annat).")

    # Diagnos (FK 6): code as FK stores it, text with every code, bidiagnos only with a huvuddiagnos.
    pairs = [(by_id.get(c), by_id.get(t)) for c, t in _DIAGNOSES]
    for code_field, text_field in pairs:
        code, text = value(code_field), value(text_field)
        if code_field is not None and _given(code):
            stored, problem = diagnoskod(str(code))
            if problem:
                err(code_field, f"”{' '.join(str(code).split())}” {problem}")
            else:
                clean[code_field.name] = stored
            if text_field is not None and not _given(text):
                err(text_field, "skriv diagnosens text till koden.")
        elif code_field is not None and _given(text) and code_field.name not in errors:
            err(code_field, "ange diagnoskoden (ICD-10-SE) till diagnosen.")
    huvud_kod, huvud_text = pairs[0]
    if huvud_kod is not None and not _given(value(huvud_kod)) and not _given(value(huvud_text)) \
            and huvud_kod.name not in errors:
        if any(_given(value(c)) or _given(value(t)) for c, t in pairs[1:]):
            err(huvud_kod, "en bidiagnos kan bara anges tillsammans med en huvuddiagnos. Ange huvuddiagnosen "
                           "först.")
        else:
            err(huvud_kod, "måste fyllas i när medicinskt underlag lämnas (diagnoskod och text).")

    # Funktionsnedsättning (35) and aktivitetsbegränsning (17): described.
    for fid in ("35.1", "17.1"):
        f = by_id.get(fid)
        if f is not None and not _given(value(f)):
            err(f, "måste fyllas i när medicinskt underlag lämnas.")

    # Prognos (39): "åter inom X dagar" needs the days; any other prognos forbids them.
    prognos, dagar = by_id.get("39.1"), by_id.get("39.3")
    if prognos is not None and dagar is not None and prognos.name not in errors:
        if value(prognos) == "ATER_X_ANTAL_DGR" and not _given(value(dagar)):
            err(dagar, "välj inom hur lång tid patienten förväntas kunna återgå.")
        elif value(prognos) != "ATER_X_ANTAL_DGR" and _given(value(dagar)):
            label = prognos.choice_label("ATER_X_ANTAL_DGR").split(" (")[0]
            err(dagar, f"anges bara med prognosen ”{label}”. Välj den prognosen eller ta bort tiden.")

    # Arbetslivsinriktade åtgärder (40): "Inte aktuellt" alone.
    ej = by_code.get(("40.1", "EJ_AKTUELLT"))
    others = [f for (fid, code), f in by_code.items() if fid == "40.1" and code != "EJ_AKTUELLT"]
    if ej is not None and value(ej) is True and any(value(f) is True for f in others):
        err(ej, "kan inte kombineras med andra åtgärder. Kryssa i antingen ”Inte aktuellt” eller de "
                "åtgärder som gäller.")


def kapitel_hints(fields: Any, values: Mapping[str, Any]) -> dict[str, str]:
    """The ICD-10 chapter of each diagnosis code written in ``values`` (field name -> "Kapitel V: …")."""
    out = {}
    for f in dfa_fields(fields):
        if fk_parts(f.fk)[0] in ("6.2", "6.4", "6.6") and (chapter := diagnos_kapitel(values.get(f.name))):
            out[f.name] = chapter
    return out
