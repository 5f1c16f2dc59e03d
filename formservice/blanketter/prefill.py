"""Prefill: what the service already knows for a blankett's fields.

Order of precedence for a field: the draft being filled in, then an answer given earlier in the
same ärende under the same field name (each datum typed once), then the field's prefill source
(the individ, the user, the enhet, the organisation's texts, today's date). A field with
`scope: dokument` (a meeting's date, a consent, a tick, a signature date) belongs to one document:
it is never taken from the ärende, so a new copy asks it again.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping

from .model import CONFIG_DEFAULTS, Blankett


def sources(*, individ: Mapping[str, str], user: Any, settings: Mapping[str, str],
            today: date | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The value of every prefill source key for this ärende and user."""
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
        "user.namn": user.namn,
        "user.titel": user.titel,
        "user.telefon": user.telefon,
        "user.epost": user.epost,
        "user.kontakt": ", ".join(p for p in (user.telefon, user.epost) if p),
        "enhet.namn": enhet.namn,
        "enhet.adress": ", ".join(p for p in (enhet.utdelningsadress, enhet.postadress) if p),
        "organisation.namn": enhet.organisation.namn,
        "today": (today or date.today()).isoformat(),
    }
    for key, default in CONFIG_DEFAULTS.items():
        out[f"config.{key}"] = settings.get(key, default)
    out.update(extra or {})  # e.g. facts derived from the doctor's answers (doctor_answers.prefill_sources)
    return {k: v for k, v in out.items() if v}


def resolve(parts: Iterable[Blankett], *, sources: Mapping[str, str], answers: Mapping[str, Any],
            draft: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, origin by field name): origin is "utkast", "arende" or "kalla"."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for field in _fields(parts):
        name = field.name
        if name in draft:
            values[name], origin[name] = draft[name], "utkast"
        elif name in answers and field.is_fact:
            values[name], origin[name] = answers[name], "arende"
        elif field.prefill and field.prefill in sources:
            values[name], origin[name] = sources[field.prefill], "kalla"
    return values, origin


def provenance(parts: Iterable[Blankett], *, values: Mapping[str, Any], origin: Mapping[str, str],
               sources: Mapping[str, str], answers: Mapping[str, Any]) -> dict[str, str]:
    """Where each value came from, for the Granska page: "arende" (a fact carried over from the
    ärende), the prefill source's key ("user.telefon", "today" …), or "utkast" (typed here). A value
    shown on a page and saved unchanged keeps the origin it had before the page was saved."""
    out: dict[str, str] = {}
    for field in _fields(parts):
        name = field.name
        if name not in values:
            continue
        how, value = origin.get(name), values[name]
        if how == "utkast":
            if field.is_fact and name in answers and answers[name] == value:
                how = "arende"
            elif field.prefill in sources and _same(field.type, value, sources[field.prefill]):
                how = "kalla"
        out[name] = field.prefill if how == "kalla" else how
    return out


def _fields(parts: Iterable[Blankett]):
    """Each field name once (a bilaga repeats the main blankett's individ_namn)."""
    seen: set[str] = set()
    for part in parts:
        for field in part.fields:
            if field.name not in seen:
                seen.add(field.name)
                yield field


def _same(ftype: str, value: Any, source: str) -> bool:
    if ftype == "checkbox":
        return value is True  # a source only ticks ("lakarsvar.finns")
    return str(value) == source
