"""Complete, valid, fictitious values for any blankett, derived from its definition.

Every text value is unique and names its field, so a test can find each one in a PDF or DOCX.
Used by the API, CLI and document tests and by benchmarks/.
"""
from __future__ import annotations

from typing import Any

TEST_PERSONNUMMER = "191212121212"  # Skatteverket's test number, never a real person


def _text(name: str) -> str:
    return f"Värde {name.replace('_', ' ')}"


def sample_value(field: Any, *, suffix: str = "") -> Any:
    t = field.type
    if t == "personnummer":
        return TEST_PERSONNUMMER
    if t == "date":
        return "2026-11-23"
    if t == "time":
        return "13:30"
    if t == "phone":
        return "08-123 456 78"
    if t == "email":
        return "handlaggare@example.se"
    if t == "checkbox":
        return True
    if t == "choice":
        return field.choices[0].value
    if t == "percent":
        return 50
    if t == "scale":
        return (field.scale_min + field.scale_max) // 2
    if t == "rows":
        return [{c.name: sample_value(c, suffix=f" rad {i}") for c in field.columns} for i in (1, 2)]
    text = _text(field.name) + suffix
    return text[: field.max_length] if field.max_length else text


def sample_values(*blanketter: Any) -> dict[str, Any]:
    """Values for every field of the given blanketter (shared names get one value)."""
    values: dict[str, Any] = {}
    for blankett in blanketter:
        for field in blankett.fields:
            values.setdefault(field.name, sample_value(field))
    return values


# Sentences a caseworker or an individ might write in a free-text field (fictitious).
_SENTENCES = (
    "Personen har varit sjukskriven i ett år på grund av ryggbesvär och orkar inte sitta länge.",
    "Hen vill gärna komma tillbaka till arbete i lagom takt, gärna med arbetsträning några timmar om dagen.",
    "Kontakt finns med vårdcentralen och en fysioterapeut, och besöken fungerar bra.",
    "Eftermiddagar passar bäst för möten på grund av medicineringen.",
    "Planen följs upp tillsammans med socialsekreteraren om tre månader.",
    "Hen har tidigare arbetat inom handeln och har körkort.",
)
# Two invited parties for a SIP-kallelse: one copy each.
REALISTIC_INVITED = [
    {"verksamhet": "Jobbtorg Skärholmen", "namn": "Anna Andersson", "kontakt": "08-508 000 00"},
    {"verksamhet": "Vårdcentralen Exempel", "namn": "Berit Berg", "kontakt": "08-123 456 78"},
]


def realistic_value(field: Any) -> Any:
    """Like sample_value, but free text as a person would write it: a few sentences, about as
    many lines as the field has room for."""
    if field.type == "textarea":
        text, n = "", 0
        while len(text) < 50 * max(field.lines, 2):
            text += ("" if not text else " ") + _SENTENCES[n % len(_SENTENCES)]
            n += 1
        return text[: field.max_length] if field.max_length else text
    return sample_value(field)


def realistic_values(*blanketter: Any) -> dict[str, Any]:
    """Values for every field of the given blanketter, free text written out (see realistic_value),
    a SIP-kallelse to two invited parties."""
    values: dict[str, Any] = {}
    for blankett in blanketter:
        for field in blankett.fields:
            values.setdefault(field.name, realistic_value(field))
        if blankett.per_recipient_rows:
            values[blankett.per_recipient_rows] = [dict(row) for row in REALISTIC_INVITED]
            if blankett.per_recipient_unless:
                values[blankett.per_recipient_unless] = False
    return values
