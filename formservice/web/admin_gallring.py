"""Administration of gallring in the admin's own organisation: the rules and their sources, the
organisation's periods and exemptions, gallringsstopp (also from the ärende's overview) and the
latest lines of the gallringslogg."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from formservice.accounts.login import admin_required, current_user
from formservice.arenden import gallring, gallringsstopp

bp = Blueprint("admin_gallring", __name__, url_prefix="/admin/gallring")


@bp.app_template_global()
def gallringsstopp_for(arende):
    """For the ärende's overview: its hold (or None) and the reason, for an admin only."""
    user = current_user()
    if user is None or not user.is_admin:
        return None
    row = gallringsstopp.hold_of(arende)
    return {"reason": gallringsstopp.reason(row), "set_at": row.set_at} if row else {}


def _page(typed=None, errors=None, hold_typed=None, hold_errors=None):
    user = current_user()
    org = user.enhet.organisation
    conf = gallring.settings(org)
    if typed is None:
        typed = {f"period_{k}": str(v) for k, v in conf.periods.items()}
        typed.update(birth_days=", ".join(str(d) for d in conf.birth_days), keep_all="1" if conf.keep_all else "")
    status = 400 if errors or hold_errors else 200
    return render_template("web/admin/gallring.html", organisation=org, rules=gallring.rules(), typed=typed,
                           errors=errors or {}, conf=conf, default_days=gallring.default_birth_days(org),
                           holds=gallringsstopp.holds(user), hold_typed=hold_typed or {},
                           hold_errors=hold_errors or {}, log=gallring.log_entries(org.id)), status


@bp.get("")
@admin_required
def index():
    return _page()


@bp.post("")
@admin_required
def save():
    typed, new, errors = gallring.parse_settings(request.form)
    if errors:
        return _page(typed=typed, errors=errors)
    gallring.save_settings(current_user(), new)
    flash("Gallringsreglerna är sparade. De gäller från nästa gallring.", "success")
    return redirect(url_for("admin_gallring.index"))


@bp.post("/stopp")
@admin_required
def set_hold():
    public_id = request.form.get("arende", "")
    reason = request.form.get("reason", "")
    back = request.form.get("from") == "arende"
    try:
        arende = gallringsstopp.set_hold(current_user(), public_id, reason)
    except gallringsstopp.HoldError as exc:  # shown on the admin page's form, with what was typed
        return _page(hold_typed={"arende": public_id[:40], "reason": reason[:2000]},
                     hold_errors={f"hold_{exc.field}": str(exc)})
    flash("Ärendet har gallringsstopp: det gallras inte förrän stoppet hävs.", "success")
    if back:
        return redirect(url_for("arenden.show", public_id=arende.public_id))
    return redirect(url_for("admin_gallring.index"))


@bp.post("/stopp/hav")
@admin_required
def lift_hold():
    back = request.form.get("from") == "arende"
    try:
        arende = gallringsstopp.lift_hold(current_user(), request.form.get("arende", ""))
    except gallringsstopp.HoldError as exc:
        flash(f"Gallringsstoppet hävdes inte: {exc}", "error")
        return redirect(url_for("admin_gallring.index"))
    flash("Gallringsstoppet är hävt: ärendet gallras enligt reglerna.", "success")
    if back:
        return redirect(url_for("arenden.show", public_id=arende.public_id))
    return redirect(url_for("admin_gallring.index"))
