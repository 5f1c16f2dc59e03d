"""Administration: the audit log, read and exported."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from formservice import audit
from formservice.accounts.login import admin_required, current_user
from formservice.accounts.operations import user_names

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/logg")
@admin_required
def audit_log():
    user = current_user()
    action = request.args.get("handelse") or None
    try:
        page = max(1, int(request.args.get("sida", "1")))
    except ValueError:
        page = 1
    entries = audit.entries(user.enhet.organisation_id, limit=100, offset=(page - 1) * 100, action=action)
    return render_template("web/admin/audit.html", entries=entries, actions=audit.ACTIONS, action=action, page=page,
                           names=user_names({e.user_id for e in entries if e.user_id}))


@bp.get("/logg.csv")
@admin_required
def audit_export():
    user = current_user()
    audit.record("audit_exported", user=user)
    body = audit.export_csv(user.enhet.organisation_id)
    response = current_app.response_class("\ufeff" + body, mimetype="text/csv")  # BOM: Excel reads UTF-8
    response.headers["Content-Disposition"] = 'attachment; filename="granskningslogg.csv"'
    return response
