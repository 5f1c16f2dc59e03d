"""Registerutdrag for one person (GDPR art. 15), produced by an admin of the organisation as PDF
or JSON. The personnummer is posted, never put in a URL, and the audit entry does not name it."""
from __future__ import annotations

import json
from flask import Blueprint, current_app, render_template, request

from formservice import audit, db
from formservice.accounts.login import admin_required, current_user
from formservice.arenden import registerutdrag
from formservice.blanketter.validation import ValidationError, format_personnummer, normalize_personnummer
from formservice.rendering.pdf import render_report
from formservice.arenden.operations import local_today

bp = Blueprint("admin_registerutdrag", __name__, url_prefix="/admin/registerutdrag")


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():
    typed, error = "", None
    if request.method == "POST":
        typed = (request.form.get("personnummer") or "").strip()
        fmt = request.form.get("format", "pdf")
        try:
            pnr = normalize_personnummer(typed)
        except ValidationError as exc:
            error = f"Personnummer: {exc}"
        else:
            return _extract(pnr, "json" if fmt == "json" else "pdf")
    return render_template("web/admin/registerutdrag.html", typed=typed, error=error), 400 if error else 200


def _extract(pnr: str, fmt: str):
    user = current_user()
    extract = registerutdrag.collect(user, pnr, current_app.extensions["catalogue"])
    # The entry says that an extract was made and how big it is; never whose it is.
    audit.record("registerutdrag", user=user, object_type="person",
                 detail=f"{fmt.upper()}, {extract.arenden} ärenden", commit=False)
    for entry in extract.data["arenden"]:  # whose file was read, by ärende (never the personnummer)
        audit.record("registerutdrag", user=user, object_type="arende", object_id=entry["arende"],
                     detail=fmt.upper(), commit=False)
    db.session().commit()
    name = f"registerutdrag-{local_today().isoformat()}"
    if fmt == "json":
        body = json.dumps(extract.data, ensure_ascii=False, indent=2).encode()
        mimetype = "application/json"
    else:
        data = extract.data
        body = render_report("registerutdrag.html", meta=data["registerutdrag"], person=data["person"],
                             pnr=format_personnummer(pnr), arenden=data["arenden"])
        mimetype = "application/pdf"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
