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
