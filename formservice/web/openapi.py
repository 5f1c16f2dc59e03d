"""The OpenAPI 3.1 description of /api/v1: every path, every response the API gives, and for each
blankett the JSON Schema of its values (with the required fields), from the same definition that
validates them."""
from __future__ import annotations

from typing import Any, Mapping

JSON = "application/json"
MEDIA = {"pdf": ("application/pdf", "PDF"),
         "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
         "zip": ("application/zip", "ZIP med alla dokument (PDF och en DOCX per del)")}

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
VALIDATION_ERROR = {
    "type": "object", "required": ["error", "errors"],
    "properties": {"error": {"type": "string"},
                   "errors": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "fältnamn → svenskt felmeddelande; en radcell som \"steg.2.nar\""}},
}


def _error(description: str, schema: str = "Error", headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}
    if headers:
        out["headers"] = dict(headers)
    return out


UNAUTHORIZED = _error("Ogiltig eller saknad API-nyckel (Authorization: Bearer <nyckel>)")
NOT_FOUND = _error("Finns inte")


def _json(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": dict(schema)}}}


def _for_openapi(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A blankett's JSON Schema as a request body schema (OpenAPI 3.1 speaks JSON Schema 2020-12)."""
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _render(blankett_id: str, title: str, fmt: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    media, what = MEDIA[fmt]
    return {"post": {
        "operationId": f"render_{blankett_id}_{fmt}",
        "summary": f"{title} som {what}",
        "requestBody": {"required": True, "content": {JSON: {"schema": _for_openapi(schema)}}},
        "responses": {
            "200": {"description": what, "content": {media: {"schema": {"type": "string", "format": "binary"}}}},
            "400": _error("Kroppen är inte ett JSON-objekt"),
            "401": UNAUTHORIZED,
            "422": _error("Fälten klarade inte valideringen", "ValidationError"),
            "429": _error("För många anrop per minut med samma nyckel",
                          headers={"Retry-After": {"description": "sekunder att vänta",
                                                   "schema": {"type": "integer"}}}),
        },
    }}


def openapi_document(schemas: Mapping[str, tuple[str, Mapping[str, Any]]], version: str) -> dict[str, Any]:
    """``schemas``: blankett id → (title, JSON Schema of its values with those of its bilagor)."""
    paths: dict[str, Any] = {
        "/processkarta": {"get": {"operationId": "processkarta", "summary": "Hela processkartan", "responses": {
            "200": _json("Processbanor med rutor, övergångar och blanketter", {"type": "object"}),
            "401": UNAUTHORIZED}}},
        "/processkarta/{ruta_id}": {"get": {
            "operationId": "ruta", "summary": "En ruta",
            "parameters": [{"name": "ruta_id", "in": "path", "required": True, "schema": {"type": "string"},
                            "example": "soc1.9"}],
            "responses": {"200": _json("Rutan", {"type": "object"}), "401": UNAUTHORIZED,
                          "404": NOT_FOUND}}},
        "/blanketter": {"get": {"operationId": "blanketter", "summary": "Alla blanketter", "responses": {
            "200": _json("Blanketterna med id, titel, version och bilagor",
                         {"type": "array", "items": {"type": "object"}}),
            "401": UNAUTHORIZED}}},
        "/blanketter/{blankett_id}": {"get": {
            "operationId": "blankett_schema", "summary": "En blanketts fält som JSON Schema",
            "parameters": [{"name": "blankett_id", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": sorted(schemas)}}],
            "responses": {"200": _json("JSON Schema (2020-12)", {"type": "object"}), "401": UNAUTHORIZED,
                          "404": NOT_FOUND}}},
    }
    for blankett_id, (title, schema) in sorted(schemas.items()):
        for fmt in MEDIA:
            paths[f"/blanketter/{blankett_id}/{fmt}"] = _render(blankett_id, title, fmt, schema)
    return {
        "openapi": "3.1.0",
        "info": {"title": "formservice API", "version": version,
                 "description": "Processkartan och blanketterna i Stockholmsmodellen. Autentisering: "
                                "'Authorization: Bearer <nyckel>' (Administration → API-nycklar, eller "
                                "formservice create-token). Framtagning av dokument är begränsad per nyckel "
                                "och minut (429 med Retry-After)."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Error": ERROR, "ValidationError": VALIDATION_ERROR}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
