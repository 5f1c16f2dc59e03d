"""Registerutdrag for one person (GDPR art. 15), produced by an admin of the organisation as PDF
or JSON. The personnummer is posted, never put in a URL, and the audit entry does not name it.
The extract is made as a background job (arenden/registerutdrag.py, formservice/jobs.py): the POST
queues it and shows its status page, which the admin's own browser polls until it can be fetched."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from formservice import jobs
from formservice.accounts.login import admin_required, current_user
from formservice.arenden import registerutdrag
from formservice.blanketter.validation import ValidationError, normalize_personnummer

bp = Blueprint("admin_registerutdrag", __name__, url_prefix="/admin/registerutdrag")


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
            return redirect(url_for(".job", public_id=job.public_id), 303)
    return render_template("web/admin/registerutdrag.html", typed=typed, error=error), 400 if error else 200


def _own_job(public_id: str) -> jobs.Jobb:
    job = jobs.own(current_user(), public_id)
    if job is None or job.kind != registerutdrag.JOB_KIND:
        abort(404)  # another admin's job is as unknown as one that never was
    return job


def _state(job: jobs.Jobb) -> dict:
    done = job.status == jobs.KLAR
    return {"status": job.status, "text": jobs.STATUS_TEXT[job.status], "error": job.error,
            "download": url_for(".download", public_id=job.public_id) if done else None}


@bp.get("/jobb/<public_id>")
@admin_required
def job(public_id):
    job = _own_job(public_id)
    response = current_app.make_response(render_template("web/admin/registerutdrag_jobb.html", job=job,
                                                         state=_state(job)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobb/<public_id>/status")
@admin_required
def job_status(public_id):
    response = jsonify(_state(_own_job(public_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobb/<public_id>/hamta")
@admin_required
def download(public_id):
    job = _own_job(public_id)
    body = jobs.result(job)
    if body is None:
        abort(404)
    jobs.mark_downloaded(job)
    response = current_app.response_class(body, mimetype=job.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
