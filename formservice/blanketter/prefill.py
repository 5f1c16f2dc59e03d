"""Prefill: what the service already knows for a blankett's fields.

Order of precedence for a field: the draft being filled in, then an answer given earlier in the
same ärende under the same field name (each datum typed once), then the field's prefill source
(the individ, the user, the enhet, the organisation's texts, today's date).
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
    for part in parts:
        for field in part.fields:
            name = field.name
            if name in values:
                continue
            if name in draft:
                values[name], origin[name] = draft[name], "utkast"
            elif name in answers:
                values[name], origin[name] = answers[name], "arende"
            elif field.prefill and field.prefill in sources:
                values[name], origin[name] = sources[field.prefill], "kalla"
    return values, origin
