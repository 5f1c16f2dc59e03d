"""Reading a returned fillable PDF (the doctor's part of the rehabiliterings-
förfrågan) safely, and validating the doctor's answers.

Untrusted input: every problem becomes a ReturnedPdfError whose str() is a
Swedish sentence for the socialsekreterare; no other exception gets out of
open_returned. The bytes are parsed by rendering.untrusted_pdf. Pure Python: no flask.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from formservice.blanketter.model import FILLABLE_ROLES, field_role
from formservice.blanketter.validation import validate_fields
from formservice.rendering import untrusted_pdf
from formservice.rendering.untrusted_pdf import MAX_BYTES

from . import dfa, reference
from .reference import DocumentReferenceError, Reference

__all__ = [
    "MAX_BYTES", "REQUIRED_DOCTOR_FIELDS", "Activity", "ActivityAnswer", "ReturnedPdf", "ReturnedPdfError",
    "activities", "activity_answers", "check_reference", "choice_box", "doctor_answers", "doctor_fields",
    "open_returned", "unreadable_values", "validate_doctor_answers",
]

REQUIRED_DOCTOR_FIELDS = ("lakare_namn", "vardenhet")


class ReturnedPdfError(ValueError):
    """A returned PDF that cannot be accepted; str(e) is Swedish, for the user."""


@dataclass(frozen=True)
class ReturnedPdf:
    fields: Mapping[str, str | bool]   # AcroForm values by field name
    reference: str | None              # the /FormserviceRef string, not yet verified


# ------------------------------------------------------------------ reading


def open_returned(data: bytes, *, max_bytes: int = MAX_BYTES) -> ReturnedPdf:
    """Read a returned PDF: its form values and its reference. Raises
    ReturnedPdfError for anything that is not a readable, unencrypted PDF with
    form fields and without JavaScript or attached files."""
    try:
        opened = untrusted_pdf.open_untrusted(data, info_key=reference.INFO_KEY, max_bytes=max_bytes)
    except untrusted_pdf.UntrustedPdfError as exc:
        raise ReturnedPdfError(str(exc)) from exc
    if not opened.fields:
        raise ReturnedPdfError(
            "PDF-filen innehåller inga ifyllbara fält – den kan ha skrivits ut och "
            "skannats in eller sparats som en vanlig PDF. Ladda upp den ifyllbara "
            "PDF-fil som läkaren fyllde i.")
    return ReturnedPdf(fields=opened.fields, reference=opened.info)


def check_reference(returned: ReturnedPdf, secret: bytes, *, arende_id: str,
                    organisation_id: int) -> Reference:
    """The verified reference of ``returned``, which must belong to this ärende
    of this organisation."""
    if not returned.reference:
        raise ReturnedPdfError("PDF-filen kommer inte från formservice (referensen saknas). "
                               "Ladda upp den ifyllbara PDF-fil som skapades för ärendet.")
    try:
        ref = reference.verify_reference(secret, returned.reference)
    except DocumentReferenceError:
        raise ReturnedPdfError("PDF-filen har ändrats (referensen stämmer inte) och kan "
                               "inte tas emot.") from None
    if ref.organisation_id != organisation_id:
        raise ReturnedPdfError("PDF-filen hör till ett annat ärende i en annan organisation "
                               "och kan inte tas emot här.")
    if ref.arende_id != arende_id:
        raise ReturnedPdfError("PDF-filen hör till ett annat ärende. Kontrollera att du "
                               "laddar upp den i rätt ärende.")
    return ref


# ---------------------------------------------------------------- the answers


def doctor_fields(blankett: Any) -> tuple[Any, ...]:
    """The fields of ``blankett`` that the doctor fills in (FILLABLE_ROLES)."""
    return tuple(f for s in blankett.sections for f in s.fields
                 if field_role(f, s) in FILLABLE_ROLES)


def choice_box(field: Any, value: str) -> str:
    """The name of the fillable PDF's checkbox for one option of a choice field ("prognos__PROGNOS_OKLAR")."""
    return f"{field.name}__{value}"


def doctor_answers(blankett: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The doctor's raw answers among the values read from a returned PDF
    (other fields are ignored, blank text is dropped, checkboxes stay bool)."""
    raw: dict[str, Any] = {}
    for field in doctor_fields(blankett):
        value = fields.get(field.name)
        if value is None and field.type == "choice":  # the fillable PDF's box per option
            ticked = [c.value for c in field.choices if fields.get(choice_box(field, c.value)) is True]
            value = ticked[0] if len(ticked) == 1 else (tuple(ticked) or None)
        if isinstance(value, str):
            value = value.strip()
        if value is not None and value != "":
            raw[field.name] = value
    return raw


class Activity(NamedTuple):
    """One row of the activity grid, by field name (None where the row has none)."""

    name: str                       # "Jobbtorg", from the field labels
    section: str                    # the grid section's id
    kan_delta: str | None
    omfattning: str | None
    motivering: str | None          # "Kan inte delta (motivera)", text
    kan_inte_delta: str | None      # a "Kan inte delta" checkbox, when the definition has one


_SUFFIXES = {"kan_delta": "_kan_delta", "omfattning": "_omfattning",
             "motivering": "_kan_inte", "kan_inte_delta": "_kan_inte_delta"}


def activities(blankett: Any) -> list[Activity]:
    """The activities of the doctor's grid sections."""
    result = []
    for section in blankett.sections:
        if section.layout != "grid" or section.filled_by not in FILLABLE_ROLES:
            continue
        for row in section.grid_rows:
            names = {role: next((n for n in row.fields if n.endswith(suffix)), None)
                     for role, suffix in _SUFFIXES.items()}
            if not any(names.values()):
                continue
            first = blankett.field(row.fields[0])
            result.append(Activity(first.label.split(":")[0].strip(), section.id, **names))
    return result


class ActivityAnswer(NamedTuple):
    """What the doctor said about one activity, read straight off the answer table and nothing
    inferred: "kan delta" iff its box is ticked, "kan inte delta" iff its box is ticked or a
    motivation is written; the percentage belongs to "kan delta" only. Every sentence the
    service writes from the answer is built from this (doctor.answers.summary)."""

    activity: Activity
    can: bool                       # "Kan delta" ticked
    cannot: bool                    # "Kan inte delta" ticked, or a motivation written
    share: Any                      # what Omfattning holds (None when empty); said only with can
    motivation: str                 # the motivation ("" when none)


def activity_answers(blankett: Any, values: Mapping[str, Any]) -> list[ActivityAnswer]:
    """The doctor's answer per activity, from clean values (checkboxes as bool)."""
    def ticked(name: str | None) -> bool:
        return bool(name) and values.get(name) is True

    def written(name: str | None) -> Any:
        value = values.get(name) if name else None
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    out = []
    for act in activities(blankett):
        motivation = str(written(act.motivering) or "").strip()
        out.append(ActivityAnswer(act, can=ticked(act.kan_delta),
                                  cannot=ticked(act.kan_inte_delta) or bool(motivation),
                                  share=written(act.omfattning), motivation=motivation))
    return out


def validate_doctor_answers(blankett: Any, raw: Mapping[str, Any], *, today: date | None = None
                           ) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values and errors (field name -> Swedish message) of the doctor's
    answers. Beyond each field's own checks (percent 0–100 …): every activity must
    say one thing (activity_answers): not both "Kan delta" and "Kan inte delta"
    (ticked, or "Kan delta" with a motivation), a percentage only with "Kan delta";
    a ticked "Kan inte delta" needs a motivation; a value the reader cannot use
    ("ca 25" as a percent) is named as the doctor wrote it; at least one activity is
    answered, and the doctor's name and care unit are given. The error for "no
    activity" is keyed by the grid section's id. The DFA blocks follow FK's rules
    (doctor/dfa.py; ``today``: the date no ground may be after, Swedish time by default)."""
    several = {n for n, v in raw.items() if isinstance(v, (list, tuple))}  # boxes of one choice
    clean, errors = validate_fields(doctor_fields(blankett), {n: v for n, v in raw.items() if n not in several})
    errors.update(unreadable_values(blankett, raw))
    dfa.validate_dfa(doctor_fields(blankett), clean, errors, today=today)
    answered = False
    answers = activity_answers(blankett, clean)
    for answer in answers:
        act = answer.activity
        share = bool(act.omfattning) and (answer.share is not None or act.omfattning in errors)
        if answer.can and act.kan_inte_delta and clean.get(act.kan_inte_delta):
            errors.setdefault(act.kan_inte_delta, f"{act.name}: både ”Kan delta” och ”Kan inte delta” är "
                                                  "ikryssade. Kryssa i bara det som läkaren menar.")
        elif answer.can and answer.motivation and act.motivering:
            errors.setdefault(act.motivering, f"{act.name}: ”Kan delta” är ikryssat men det finns en "
                                              "motivering till ”Kan inte delta”. Kryssa i bara det som "
                                              "läkaren menar; en kommentar som inte gäller ”Kan inte "
                                              "delta” hör hemma under Kommentar/övrig information.")
        if answer.cannot and not answer.motivation and act.motivering:
            errors.setdefault(act.motivering, f"{act.name}: ”Kan inte delta” är ikryssat – "
                                              "motivera varför.")
        if share and not answer.can:
            errors.setdefault(act.kan_delta or act.omfattning,
                              f"{act.name}: en omfattning i procent är ifylld men ”Kan delta” är inte "
                              "ikryssat. Kryssa i ”Kan delta” eller ta bort omfattningen.")
        answered = answered or answer.can or answer.cannot or share
    if answers and not answered:
        errors[answers[0].activity.section] = (
            "Läkaren har inte besvarat någon aktivitet. Minst en aktivitet ska ha ”Kan delta” "
            "eller ”Kan inte delta” ifyllt.")
    for name in REQUIRED_DOCTOR_FIELDS:
        if blankett.has_field(name) and name not in clean and name not in errors:
            errors[name] = f"{blankett.field(name).label}: måste fyllas i."
    return clean, errors


# What the reader needs instead of free text, by field type: (what it is, how to write it).
_READABLE_AS = {
    "percent": ("ett tal", "Ange omfattningen som ett tal i hela procent, 0–100 (t.ex. 25)."),
    "date": ("ett datum", "Ange datumet som ÅÅÅÅ-MM-DD."),
    "scale": ("ett värde på skalan", "Välj ett värde på skalan."),
}


def unreadable_values(blankett: Any, raw: Mapping[str, Any]) -> dict[str, str]:
    """Errors (field name -> Swedish message naming the doctor's own text) for answers that
    were written but cannot be used as they stand: "ca 25" or "3/12 -26" in a percent field,
    "1/12" as a date. Such a value is never dropped; the socialsekreterare resolves it."""
    errors: dict[str, str] = {}
    for field in doctor_fields(blankett):
        value = raw.get(field.name)
        if field.type == "choice" and isinstance(value, (list, tuple)):
            chosen = "”, ”".join(field.choice_label(v) for v in value)
            errors[field.name] = f"{field.label}: läkaren kryssade i flera alternativ (”{chosen}”). Välj ett."
            continue
        if field.type not in _READABLE_AS or not isinstance(value, str) or not value.strip():
            continue
        if field.type == "percent" and re.fullmatch(r"\s*\d+\s*%?\s*", value):
            continue  # a number, out of range: the field's own message says so
        _clean, problem = validate_fields((field,), {field.name: value}, partial=True)
        if problem:
            what, how = _READABLE_AS[field.type]
            errors[field.name] = (f"{field.label}: läkaren skrev ”{' '.join(value.split())}”, som inte "
                                  f"kan läsas som {what}. {how}")
    return errors
