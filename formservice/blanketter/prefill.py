"""Prefill: what the service knows for a blankett's fields, and where each value comes from.

One rule, stated in docs/blanketter.md and shown on Granska:
1. What was typed in this blankett's draft counts first — except a value about the person who
   produces the document (their name, title, phone, e-mail, enhet) typed by somebody else: the
   document names whoever produces it, so a colleague's typing never signs for you.
2. Then the live source, read now: the individ's record (always the current address), the signed-in
   user and their enhet, the organisation's texts, today's date, the doctor's confirmed answers.
3. Only where no live source has a value, a fact typed on an earlier document in the ärende is
   offered as a suggestion (origin "arende"); a suggestion never hides a wizard page.
A field with `scope: dokument` is never taken from the ärende, and a `declaration` (the applicant's
or signer's own statement) is never prefilled at all. Pure Python: no flask, no database.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterable, Mapping

from formservice import tid

from .model import CONFIG_DEFAULTS, Blankett, Field

# The key under which a draft records who typed a value about the producing person (never a field
# name: those begin with a letter).
TYPED_BY = "_skrivet_av"
# Sources that describe the person producing the document (and their enhet).
PRODUCER_SOURCES = ("user.", "enhet.", "socialtjanst.")
# Prefill sources that are the individ's record itself: a different value typed on a document is
# written back to the record when the document is produced (arenden.operations).
INDIVID_SOURCES = {f"individ.{k}": k for k in ("namn", "personnummer", "adress", "postnummer", "ort", "telefon",
                                              "epost", "foretradare_namn", "foretradare_kontakt",
                                              "utbildningsniva", "sprak")}
# What a record's empty key stands for on a document: an individ with no language chosen reads
# "Ingen översättning" (blanketter/sprak.py), so the prefilled choice is not typed, nor saved back.
RECORD_DEFAULTS = {"sprak": "ingen"}
_POSTADRESS = re.compile(r"^\s*(\d{3})\s?(\d{2})\s+(\S.*?)\s*$")


def sources(*, individ: Mapping[str, str], user: Any, settings: Mapping[str, str],
            today: date | None = None, extra: Mapping[str, str] | None = None,
            answers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The value of every prefill source key for this ärende and user (a text; a list of rows for the
    keys in ROW_SOURCES)."""
    namn = individ.get("namn", "")
    first, _, last = namn.partition(" ")
    enhet = user.enhet
    out = {
        "individ.namn": namn,
        "individ.fornamn": first,
        "individ.efternamn": last,
        "individ.personnummer": individ.get("personnummer", ""),
        "individ.adress": individ.get("adress", ""),
        "individ.postnummer": individ.get("postnummer", ""),
        "individ.ort": individ.get("ort", ""),
        "individ.postadress": " ".join(p for p in (individ.get("postnummer"), individ.get("ort")) if p),
        "individ.telefon": individ.get("telefon", ""),
        "individ.epost": individ.get("epost", ""),
        "individ.foretradare_namn": individ.get("foretradare_namn", ""),
        "individ.foretradare_kontakt": individ.get("foretradare_kontakt", ""),
        "individ.utbildningsniva": individ.get("utbildningsniva", ""),
        "individ.sprak": individ.get("sprak") or RECORD_DEFAULTS["sprak"],
        "user.namn": user.namn,
        "user.titel": user.titel,
        "user.telefon": user.telefon,
        "user.epost": user.epost,
        "user.kontakt": ", ".join(p for p in (user.telefon, user.epost) if p),
        "enhet.namn": enhet.namn,
        "enhet.adress": ", ".join(p for p in (enhet.utdelningsadress, enhet.postadress) if p),
        "organisation.namn": enhet.organisation.namn,
        "today": (today or tid.today()).isoformat(),
    }
    if getattr(enhet, "typ", None) == "socialtjanst":
        # The one producing the document is socialtjänsten's contact (FK's "Kommunen", Finsamteam's row).
        out["socialtjanst.finns"] = "1"
        out["socialtjanst.kontakt"] = ", ".join(p for p in (user.namn, enhet.namn, user.telefon) if p)
    vard = _vard_row(answers or {})
    if vard:
        out["arende.vard_rad"] = [vard]
    for key, default in CONFIG_DEFAULTS.items():
        out[f"config.{key}"] = settings.get(key, default)
    out.update(extra or {})  # e.g. facts derived from the doctor's answers (doctor_answers.prefill_sources)
    return {k: v for k, v in out.items() if v}


def _vard_row(answers: Mapping[str, Any]) -> dict[str, str]:
    """The treating doctor and vårdenhet known in the ärende, as a row to invite (verksamhet, namn,
    kontakt): a suggestion on the SIP-kallelse's list of invited."""
    if not (answers.get("vardenhet") or answers.get("lakare_namn")):
        return {}
    return {"verksamhet": str(answers.get("vardenhet") or "Hälso- och sjukvården"),
            "namn": str(answers.get("lakare_namn") or ""), "kontakt": str(answers.get("vardenhet_telefon") or "")}


def is_producer_fact(field: Field) -> bool:
    return bool(field.prefill and field.prefill.startswith(PRODUCER_SOURCES))


def draft_counts(field: Field, draft: Mapping[str, Any], user_id: int | None) -> bool:
    """Whether the draft's value for the field is used: a value about the producing person only when
    the one producing now typed it."""
    if field.name not in draft:
        return False
    if not is_producer_fact(field):
        return True
    return (draft.get(TYPED_BY) or {}).get(field.name) == user_id


def resolve(parts: Iterable[Blankett], *, sources: Mapping[str, str], answers: Mapping[str, Any],
            draft: Mapping[str, Any], user_id: int | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, origin by field name): origin is "utkast", "kalla" (a live source) or "arende" (a
    suggestion from an earlier document)."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for field in _fields(parts):
        name = field.name
        if draft_counts(field, draft, user_id):
            values[name], origin[name] = draft[name], "utkast"
        elif field.declaration:
            continue
        elif field.prefill and field.prefill in sources:
            # A source ticks a box with "1": the box's value is True, as when it is ticked on a page.
            value = True if field.type == "checkbox" else sources[field.prefill]
            values[name], origin[name] = value, "kalla"
        elif name in answers and field.is_fact:
            values[name], origin[name] = answers[name], "arende"
    return values, origin


def from_source(field: Field, value: Any, sources: Mapping[str, str]) -> bool:
    """True when a value saved on a page is just what the field's live source says now: then the
    draft keeps no copy of it, so a later change of the source (the individ moves, another caseworker
    produces the document, a new day) still reaches the document."""
    if field.declaration or not field.prefill or field.prefill not in sources:
        return False
    return _same(field.type, value, sources[field.prefill])


def provenance(parts: Iterable[Blankett], *, values: Mapping[str, Any], origin: Mapping[str, str],
               sources: Mapping[str, str], answers: Mapping[str, Any]) -> dict[str, str]:
    """Where each value came from, for the Granska page: "arende" (a suggestion from an earlier
    document), the prefill source's key ("user.telefon", "today" …), or "utkast" (typed here)."""
    out: dict[str, str] = {}
    for field in _fields(parts):
        name = field.name
        if name not in values:
            continue
        how, value = origin.get(name), values[name]
        if how == "utkast" and from_source(field, value, sources):
            how = "kalla"
        out[name] = field.prefill if how == "kalla" else how
    return out


def changes_since(parts: Iterable[Blankett], *, values: Mapping[str, Any], answers: Mapping[str, Any]
                  ) -> dict[str, Any]:
    """For each fact whose value here differs from what the ärende's latest document said: that earlier
    value ("Ändrat sedan FK ansökan 3 dec: Skärholmsvägen 14 → Nya gatan 5")."""
    out: dict[str, Any] = {}
    for field in _fields(parts):
        name = field.name
        if not field.is_fact or field.type == "rows" or name not in answers:
            continue
        before, now = answers[name], values.get(name)
        if before not in (None, "", False) and now != before:
            out[name] = before
    return out


def individ_updates(parts: Iterable[Blankett], values: Mapping[str, Any], individ: Mapping[str, str]
                    ) -> dict[str, str]:
    """The individ record's keys that a document's values change: a field filled from the record
    (`individ.adress` …) with another value typed in the wizard. "Postnummer och ort" is split back
    into its two keys when it reads as "123 45 Ort"; a value that cannot be split is left to the
    document alone."""
    out: dict[str, str] = {}
    for field in _fields(parts):
        value = values.get(field.name)
        if not isinstance(value, str) or not value.strip():
            continue
        if field.prefill in INDIVID_SOURCES:
            key = INDIVID_SOURCES[field.prefill]
            if value != (individ.get(key) or RECORD_DEFAULTS.get(key, "")):
                out[key] = value
        elif field.prefill == "individ.postadress":
            match = _POSTADRESS.match(value)
            now = " ".join(p for p in (individ.get("postnummer"), individ.get("ort")) if p)
            if match and value.strip() != now:
                out["postnummer"] = f"{match.group(1)} {match.group(2)}"
                out["ort"] = match.group(3)
    return out


def _fields(parts: Iterable[Blankett]):
    """Each field name once (a bilaga repeats the main blankett's individ_namn)."""
    seen: set[str] = set()
    for part in parts:
        for field in part.fields:
            if field.name not in seen:
                seen.add(field.name)
                yield field


def _same(ftype: str, value: Any, source: Any) -> bool:
    if ftype == "checkbox":
        return value is True  # a source only ticks ("lakarsvar.finns")
    if ftype == "rows":
        return [{k: v for k, v in row.items() if v} for row in value or []] == \
            [{k: v for k, v in row.items() if v} for row in source]
    return str(value) == source
