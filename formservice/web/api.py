"""JSON API, version 1: the process map and the blanketter (schema and rendering)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, request

from formservice import audit, paths
from formservice.accounts import api_tokens
from formservice.accounts.api_tokens import api_login_required
from formservice.accounts.login import guarded_unless
from formservice.accounts.operations import settings_of
from formservice.arenden import sprakgranskning
from formservice.arenden.registry import document_context
from formservice.blanketter.model import issuer_name
from formservice.blanketter import sprak
from formservice.blanketter.schema import blankett_schema
from formservice.processkarta.model import UnknownIdError, ruta_to_dict
from formservice.rendering import cache as render_cache
from formservice.rendering import documents, parallel
from formservice.security import csrf

from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Token clients cannot carry a CSRF token; a browser session still needs one (see api_auth).
csrf.exempt(bp)


def catalogue():
    return current_app.extensions["catalogue"]


@bp.get("/openapi.json")
def openapi():
    from importlib.metadata import version

    cat = catalogue()
    schemas = {bid: (b.title, blankett_schema(documents.parts_of(cat, bid))) for bid, b in cat.blanketter.items()}
    return jsonify(openapi_document(schemas, version("formservice")))


@bp.get("/processkarta")
@guarded_unless("PUBLIC_PROCESSKARTA", api_login_required)
def processkarta():
    return jsonify(catalogue().process_map.to_dict())


@bp.get("/processkarta/<ruta_id>")
@guarded_unless("PUBLIC_PROCESSKARTA", api_login_required)
def processkarta_ruta(ruta_id: str):
    try:
        r = catalogue().process_map.ruta(ruta_id)
    except UnknownIdError as exc:
        abort(404, description=str(exc))
    return jsonify(ruta_to_dict(r))


@bp.get("/blanketter")
@api_login_required
def blanketter():
    org = g.api_user.enhet.organisation
    return jsonify([
        {"id": b.id, "title": b.title, "subtitle": b.subtitle, "version": b.version,
         "issuer": issuer_name(b.issuer, org.namn, settings_of(org)),
         "kind": b.kind, "attachments": list(b.attachments), "schema": f"/api/v1/blanketter/{b.id}"}
        for b in catalogue().blanketter.values()
    ])


@bp.get("/blanketter/<blankett_id>")
@api_login_required
def blankett(blankett_id: str):
    try:
        parts = documents.parts_of(catalogue(), blankett_id)
    except documents.UnknownBlankett:
        abort(404)
    return jsonify(blankett_schema(parts))


def _fingerprint() -> str:
    """What the rendered bytes depend on besides the request (templates, CSS, fonts, definitions,
    official PDFs), hashed on the first API render of the process."""
    ext = current_app.extensions
    if "render_fingerprint" not in ext:
        ext["render_fingerprint"] = render_cache.fingerprint(paths.FORMS_DIR, ext["official_pdfs"],
                                                             extra=[sprak.TRANSLATIONS_DIR])  # docs/sprak.md
    return ext["render_fingerprint"]


@bp.post("/blanketter/<blankett_id>/<any(pdf, docx, zip):fmt>")
@api_login_required
def render(blankett_id: str, fmt: str):
    if blankett_id not in catalogue().blanketter:
        abort(404)
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        return jsonify(error="Skicka fältvärdena som ett JSON-objekt (Content-Type: application/json)."), 400
    if "sprak" in raw:  # the language of a parallel text (docs/sprak.md): refused clearly, never ignored
        raw = {**raw, "sprak": parallel.api_code(raw["sprak"])}
        refused = parallel.refused(documents.parts_of(catalogue(), blankett_id), raw["sprak"])
        if refused:
            return jsonify(error=refused, errors={"sprak": refused}), 422
    ctx = document_context(g.api_user)
    fingerprint = _fingerprint()
    if "sprak" in raw:  # the organisation's own texts and review marks (docs/sprak.md "Granskning")
        fingerprint += sprakgranskning.fingerprint(g.api_user.enhet.organisation_id)
    key = render_cache.request_key(fingerprint, blankett_id, fmt, raw, ctx)
    cache = current_app.extensions["render_cache"]
    doc = cache.get(key)  # a repeat of an identical request: the same bytes, no render
    if doc is None:
        # Validated before the budget is touched: the limit counts renders (the costly part), so a
        # client correcting one wrong field is not locked out by its own refused attempts.
        try:
            values = documents.validate(catalogue(), blankett_id, raw)
        except documents.InvalidValues as exc:
            return jsonify(error="Fälten klarade inte valideringen.", errors=exc.errors), 422
        try:
            api_tokens.count_costly_request(current_app.config["API_RENDERS_PER_MINUTE"])
        except api_tokens.TooManyRequests as exc:
            return (jsonify(error=f"För många anrop. Försök igen om {exc.retry_after} sekunder."), 429,
                    {"Retry-After": str(exc.retry_after)})
        doc = documents.PRODUCERS[fmt](catalogue(), blankett_id, values, ctx, current_app.extensions["official_pdfs"])
        cache.put(key, doc)
    current_app.logger.info("api render blankett=%s format=%s user_id=%s", blankett_id, fmt, g.api_user.id)
    # The values may be personal data: who had which blankett made is in the audit log (never the values).
    audit.record("api_render", user=g.api_user, object_type="blankett", object_id=blankett_id,
                 detail=f"{fmt} ({g.api_caller})")
    response = current_app.response_class(doc.content, mimetype=doc.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    return response
