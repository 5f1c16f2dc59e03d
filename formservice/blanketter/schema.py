"""JSON Schema of a blankett's fields (with those of its bilagor), derived from the definition."""
from __future__ import annotations

from typing import Any, Iterable

from .model import Blankett, Field

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def field_schema(field: Field) -> dict[str, Any]:
    t = field.type
    if t == "checkbox":
        schema: dict[str, Any] = {"type": "boolean"}
    elif t == "percent":
        schema = {"type": "integer", "minimum": 0, "maximum": 100}
    elif t == "scale":
        schema = {"type": "integer", "minimum": field.scale_min, "maximum": field.scale_max}
    elif t == "choice":
        schema = {"type": "string", "enum": [c.value for c in field.choices]}
    elif t == "rows":
        schema = {"type": "array", "items": _object([*field.columns], required=False)}
        if field.max_rows is not None:
            schema["maxItems"] = field.max_rows
    else:
        schema = {"type": "string"}
        if field.max_length:
            schema["maxLength"] = field.max_length
        if t == "date":
            schema["format"] = "date"
        elif t == "time":
            schema["pattern"] = r"^\d{1,2}[:.]\d{2}$"
        elif t == "email":
            schema["format"] = "email"
        elif t == "personnummer":
            schema["description"] = "Personnummer eller samordningsnummer, 10 eller 12 siffror"
            schema["pattern"] = r"^\s*[0-9]{6}([0-9]{2})?\s*[-+]?\s*[0-9]{4}\s*$"
        if field.required and "pattern" not in schema and "format" not in schema:
            schema["pattern"] = r"\S"  # required: not empty, not only spaces
    schema["title"] = field.label
    if field.help:
        schema["description"] = (schema.get("description", "") + ". " if "description" in schema else "") + field.help
    schema["x-type"] = t
    if field.filled_by:
        schema["x-filled-by"] = field.filled_by
    if field.prefill:
        schema["x-prefill"] = field.prefill
    if field.fk:
        schema["x-fk"] = field.fk  # Försäkringskassan's delsvar id (and code), see fk_ids.py
    return schema


def _object(fields: Iterable[Field], *, required: bool = True) -> dict[str, Any]:
    fields = list(fields)
    out: dict[str, Any] = {"type": "object", "properties": {f.name: field_schema(f) for f in fields}}
    req = [f.name for f in fields if f.required]
    if required and req:
        out["required"] = req
    return out


def blankett_schema(parts: list[Blankett]) -> dict[str, Any]:
    """Schema for the values of a blankett and its bilagor (a shared field name appears once)."""
    main = parts[0]
    seen: dict[str, Field] = {}
    for part in parts:
        for f in part.fields:
            seen.setdefault(f.name, f)
    schema = _object(seen.values())
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"/api/v1/blanketter/{main.id}", "title": main.title,
            "description": main.subtitle or "", "x-version": main.version, "x-issuer": main.issuer,
            "x-parts": [p.id for p in parts], **schema}
