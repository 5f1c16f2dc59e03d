"""Registerutdrag for one person (GDPR art. 15), produced by an admin of the organisation as PDF
or JSON. The personnummer is posted, never put in a URL, and the audit entry does not name it.
The extract is made as a background job (arenden/registerutdrag.py, formservice/jobs.py): the POST
queues it and sends the admin to the job's status page (web/jobb.py), which the admin's own browser
polls until it can be fetched."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from formservice.accounts.login import admin_required, current_user
from formservice.arenden import registerutdrag
from formservice.blanketter.validation import ValidationError, normalize_personnummer

from . import jobb

bp = Blueprint("admin_registerutdrag", __name__, url_prefix="/admin/registerutdrag")
jobb.register(registerutdrag.JOB_KIND, jobb.Kind(
    heading="Registerutdrag", waiting="Ett utdrag med många ärenden kan ta några minuter.",
    download="Hämta registerutdraget", back="admin_registerutdrag.index",
    back_text="Ta fram ett nytt registerutdrag", roles=("admin",), nav="web/admin/_nav.html"))


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():
    typed, error = "", None
    if request.method == "POST":
        typed = (request.form.get("personnummer") or "").strip()
        fmt = "json" if request.form.get("format") == "json" else "pdf"
        try:
            pnr = normalize_personnummer(typed)
        except ValidationError as exc:
            error = f"Personnummer: {exc}"
        else:
            job = registerutdrag.start(current_user(), pnr, fmt)
            return redirect(url_for("jobb.show", public_id=job.public_id), 303)
    return render_template("web/admin/registerutdrag.html", typed=typed, error=error), 400 if error else 200


@bp.get("/jobb/<public_id>", defaults={"suffix": None})
@bp.get("/jobb/<public_id>/<any(status, hamta):suffix>")
@admin_required
def old_job_address(public_id, suffix):
    """The job's address before every kind of job had one: a status page left open across the
    update keeps polling, and reloads, through this. A public id is 24 characters; anything
    much longer is no job and is not echoed into a header."""
    if len(public_id) > 40:
        abort(404)
    endpoint = {None: "jobb.show", "status": "jobb.status", "hamta": "jobb.download"}[suffix]
    return redirect(url_for(endpoint, public_id=public_id), 308)
