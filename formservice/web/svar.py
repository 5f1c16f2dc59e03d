"""The doctor's answers: upload of the returned fillable PDF, or registration from paper, then confirm."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden import operations as arenden_ops
from formservice.arenden import registry
from formservice.doctor import answers as doctor_answers, dfa
from formservice.doctor import readback
from formservice.rendering.display import format_value

bp = Blueprint("svar", __name__, url_prefix="/arenden/<public_id>")


def _load(public_id: str, doc_id: str | None = None):
    try:
        arende = arenden_ops.get(current_user(), public_id)
    except arenden_ops.NotFound:
        abort(404)
    dok = None
    if doc_id is not None:
        dok = registry.get(arende, doc_id)
        if dok is None:
            abort(404)
    return arende, dok


def _blankett(dok):
    blankett = current_app.extensions["catalogue"].blanketter.get(dok.blankett_id)
    if blankett is None or not doctor_answers.has_doctor_part(blankett):
        abort(404)
    return blankett


def _page(template: str, arende, status: int = 200, **kw):
    pm = current_app.extensions["catalogue"].process_map
    return render_template(template, arende=arende, individ=arenden_ops.individ(arende), pm=pm, **kw), status


@bp.route("/dokument/<doc_id>/svar", methods=["GET", "POST"])
@login_required
def upload(public_id: str, doc_id: str):
    arende, dok = _load(public_id, doc_id)
    blankett = _blankett(dok)
    error = None
    if request.method == "POST":
        file = request.files.get("fil")
        data = file.read() if file else b""
        if not file or not file.filename:
            error = "Välj PDF-filen som läkaren har fyllt i."
        else:
            try:
                svar = doctor_answers.receive_pdf(current_user(), arende, dok, data, blankett)
            except readback.ReturnedPdfError as exc:
                error = str(exc)
            else:
                return redirect(url_for("svar.confirm", public_id=public_id, svar_id=svar.public_id))
    limit_mb = current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
    return _page("web/svar/upload.html", arende, 400 if error else 200, dok=dok, blankett=blankett, error=error,
                 limit_mb=limit_mb, current=doctor_answers.current_answer(dok),
                 replaced=doctor_answers.superseded(dok))


@bp.post("/dokument/<doc_id>/papper")
@login_required
def paper(public_id: str, doc_id: str):
    arende, dok = _load(public_id, doc_id)
    svar = doctor_answers.start_paper(current_user(), arende, dok, _blankett(dok))
    return redirect(url_for("svar.confirm", public_id=public_id, svar_id=svar.public_id))


def _load_svar(public_id: str, svar_id: str):
    arende, _ = _load(public_id)
    svar = doctor_answers.get_svar(arende, svar_id)
    if svar is None:
        abort(404)
    return arende, svar


@bp.route("/svar/<svar_id>", methods=["GET", "POST"])
@login_required
def confirm(public_id: str, svar_id: str):
    arende, svar = _load_svar(public_id, svar_id)
    blankett = _blankett(svar.dokument)
    fields = doctor_answers.doctor_fields(blankett)
    values = doctor_answers.pending_answers(svar)
    errors: dict[str, str] = {}
    if svar.status != "granskas":
        audit.record("answers_viewed", user=current_user(), object_type="svar", object_id=svar.public_id)
        current = doctor_answers.current_answer(svar.dokument)
        return _page("web/svar/confirmed.html", arende, svar=svar, blankett=blankett, fields=fields, values=values,
                     format_value=format_value, current=current if current is not svar else None,
                     replaced=[s for s in doctor_answers.superseded(svar.dokument) if s is not svar])
    if request.method == "GET":
        audit.record("answers_viewed", user=current_user(), object_type="svar", object_id=svar.public_id,
                     detail="för granskning")
        errors = doctor_answers.review_errors(svar, blankett, values)
    if request.method == "POST":
        raw = {f.name: request.form.get(f.name) for f in fields}
        errors = doctor_answers.confirm(current_user(), arende, svar, blankett, raw,
                                        choice=request.form.get(doctor_answers.CHOICE_FIELD),
                                        newer_seen=request.form.get("nyare_svar"))
        if not errors:
            if svar.status == doctor_answers.SUPERSEDED:
                flash(f"Svaret på {svar.dokument.document_number} sparades som ersatt. Det nyare svaret "
                      "gäller fortfarande.", "success")
            else:
                flash(f"Läkarens svar på {svar.dokument.document_number} är registrerat.", "success")
            return redirect(url_for("arenden.show", public_id=public_id) + "#lakarsvar")
        values = raw
    return _page("web/svar/confirm.html", arende, 400 if request.method == "POST" and errors else 200, svar=svar,
                 blankett=blankett, sections=_as_written(blankett, values),
                 values=values, errors=errors, required=readback.REQUIRED_DOCTOR_FIELDS,
                 hints=dfa.kapitel_hints(fields, values),
                 current=doctor_answers.current_answer(svar.dokument), newer=doctor_answers.newer_current(svar),
                 choice_field=doctor_answers.CHOICE_FIELD, keep_newer=doctor_answers.KEEP_NEWER,
                 make_current=doctor_answers.MAKE_CURRENT, choice=request.form.get(doctor_answers.CHOICE_FIELD),
                 signatures=doctor_answers.signatures_of(svar),
                 error_id=lambda k: "f-" + k.replace(".", "-"))


def _as_written(blankett, values):
    """The doctor's sections for the review form; a field holding text that its own input cannot show
    (a number or date box empties "ca 25") is shown as a text box with the doctor's words in it."""
    unreadable = readback.unreadable_values(blankett, values)
    return [(section, [replace(f, type="text") if f.name in unreadable else f for f in fields])
            for section, fields in doctor_answers.doctor_sections(blankett)]


@bp.post("/svar/<svar_id>/avbryt")
@login_required
def cancel(public_id: str, svar_id: str):
    """Nothing read from an upload (or typed from paper) stays unless it is confirmed."""
    arende, svar = _load_svar(public_id, svar_id)
    arenden_ops.require_open(arende)
    if doctor_answers.cancel(svar):
        flash("Svaren sparades inte.", "info")
    return redirect(url_for("arenden.show", public_id=public_id) + "#dokument")


@bp.get("/svar/<svar_id>/arkiv.pdf")
@login_required
def archive(public_id: str, svar_id: str):
    _arende, svar = _load_svar(public_id, svar_id)
    pdf = doctor_answers.archive(svar) if svar.status in ("bekraftad", doctor_answers.SUPERSEDED) else None
    if pdf is None:
        abort(404)
    audit.record("document_downloaded", user=current_user(), object_type="svar", object_id=svar.public_id,
                 detail="arkivkopia")
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="svar-{svar.dokument.document_number}.pdf"'
    return response
