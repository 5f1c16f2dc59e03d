"""The OpenAPI 3 description of /api/v1."""
from __future__ import annotations

from typing import Any


def _doc(media: str, what: str) -> dict[str, Any]:
    return {"description": what, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}


ERRORS_422 = {
    "description": "Fälten klarade inte valideringen",
    "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {"error": {"type": "string"},
                       "errors": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "fältnamn → svenskt felmeddelande; en radcell som \"steg.2.nar\""}},
    }}},
}


def openapi_document(blankett_ids: list[str], version: str) -> dict[str, Any]:
    blankett_param = {"name": "blankett_id", "in": "path", "required": True,
                      "schema": {"type": "string", "enum": blankett_ids}}
    values_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "description": "Fältvärdena, nycklade på fältnamn (se GET /blanketter/{blankett_id})"}}}}

    def render(media, what):
        return {"post": {
            "summary": f"Ta fram blanketten som {what}",
            "parameters": [blankett_param], "requestBody": values_body,
            "responses": {"200": _doc(media, what), "401": {"description": "Ogiltig eller saknad API-nyckel"},
                          "404": {"description": "Okänd blankett"}, "422": ERRORS_422},
        }}

    return {
        "openapi": "3.0.3",
        "info": {"title": "formservice API", "version": version,
                 "description": "Processkartan och blanketterna i Stockholmsmodellen. "
                                "Autentisering: 'Authorization: Bearer <nyckel>' (formservice create-token)."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/processkarta": {"get": {"summary": "Hela processkartan", "responses": {"200": {
                "description": "Processbanor med rutor, övergångar och blanketter",
                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/processkarta/{ruta_id}": {"get": {
                "summary": "En ruta",
                "parameters": [{"name": "ruta_id", "in": "path", "required": True, "schema": {"type": "string"},
                                "example": "soc1.9"}],
                "responses": {"200": {"description": "Rutan",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": {"description": "Okänd ruta"}}}},
            "/blanketter": {"get": {"summary": "Alla blanketter", "responses": {"200": {
                "description": "Blanketterna med id, titel, version och bilagor",
                "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}},
            "/blanketter/{blankett_id}": {"get": {
                "summary": "En blanketts fält som JSON Schema", "parameters": [blankett_param],
                "responses": {"200": {"description": "JSON Schema (2020-12)",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": {"description": "Okänd blankett"}}}},
            "/blanketter/{blankett_id}/pdf": render("application/pdf", "PDF"),
            "/blanketter/{blankett_id}/docx": render(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
            "/blanketter/{blankett_id}/zip": render("application/zip", "ZIP med alla dokument"),
        },
    }
