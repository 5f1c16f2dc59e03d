"""The DFA review of a läkarintyg at rutor 7–8: the form, a saved review, an uploaded intyg."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden import operations as arenden
from formservice.doctor import answers as doctor_answers
from formservice.doctor import dfa_review, fmb
from formservice.rendering.display import format_value

from .paging import posted_version
from .arenden import load as _load  # the ärende by its id: 404 outside the user's reach, placed on the map

bp = Blueprint("dfa", __name__, url_prefix="/arenden/<public_id>/dfa-granskning")


def _page(template: str, arende, status: int = 200, **kw):
    cat = current_app.extensions["catalogue"]
    return render_template(template, arende=arende, individ=arenden.individ(arende), pm=cat.process_map,
                           links=dfa_review.LINKS, blanketter=cat.blanketter,
                           format_value=format_value, **kw), status


@bp.route("", methods=["GET", "POST"])
@login_required
def review(public_id: str):
    user = current_user()
    arende = _load(public_id)
    if arende.status == "avslutat" or not dfa_review.applies(arende):
        flash("Läkarintyget granskas vid rutan ”Läkarintyg komplett?” (ruta 7–8) och medan en komplettering "
              "väntas. Ärendet står inte där nu.", "info")
        return redirect(url_for("arenden.show", public_id=public_id))
    choices = dfa_review.source_choices(arende)
    values = {"kalla": choices[0][0] if choices else ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = request.form.to_dict()
        file = request.files.get("fil")
        data = file.read() if file and file.filename else b""
        clean, errors = dfa_review.check(request.form, arende, has_file=bool(data))
        pdf = None
        if clean.get("kalla") == "uppladdat" and data and "fil" not in errors:
            try:
                pdf = dfa_review.check_upload(data)
            except dfa_review.UploadError as exc:
                errors["fil"] = f"{exc} Välj filen igen."
        if not errors and posted_version() != arende.version:
            errors["kalla"] = ("Ärendet har flyttats av någon annan medan du granskade. Kontrollera var det står "
                               "och spara granskningen igen.")
        if not errors:
            saved = dfa_review.save(user, arende, clean, pdf=pdf)
            if saved.result == "ja":
                flash("Granskningen är sparad: läkarintyget är komplett (Ja).", "success")
            else:
                flash("Granskningen är sparad: läkarintyget är inte komplett (Nej). Kompletteringen till läkaren "
                      "är förberedd med det som saknas.", "success")
            return redirect(url_for("dfa.show", public_id=public_id, review_id=saved.public_id))
    else:
        audit.record("arende_viewed", user=user, object_type="arende", object_id=arende.public_id,
                     detail="DFA-granskning")
    code = fmb.normalise_code(values.get("diagnoskod", ""))
    return _page("web/dfa/review.html", arende, 400 if errors else 200, values=values, errors=errors,
                 choices=choices, answered=_answered(arende), earlier=dfa_review.of(arende),
                 fmb_link=fmb.link_for(code) if code and not fmb.code_error(code) else None,
                 fmb_start=fmb.START_PAGE, limit_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
                 missing_max=dfa_review.MISSING_MAX, intyg_max=dfa_review.INTYG_MAX)


def _answered(arende):
    """The confirmed doctor's answers as (value of the choice, svar, sections with their values)."""
    cat = current_app.extensions["catalogue"].blanketter
    out = []
    for svar, answer in dfa_review.answered_forfragningar(arende):
        blankett = cat.get(svar.dokument.blankett_id)
        if blankett is not None:
            out.append((f"svar:{svar.public_id}", svar, blankett, doctor_answers.doctor_sections(blankett), answer))
    return out


@bp.get("/<review_id>")
@login_required
def show(public_id: str, review_id: str):
    arende = _load(public_id)
    saved = dfa_review.get(arende, review_id)
    if saved is None:
        abort(404)
    audit.record("arende_viewed", user=current_user(), object_type="arende", object_id=arende.public_id,
                 detail="DFA-granskning")
    draft = arenden.draft(arende, dfa_review.KOMPLETTERING)
    return _page("web/dfa/show.html", arende, review=saved, fmb_start=fmb.START_PAGE,
                 komplettering=dfa_review.KOMPLETTERING, draft=draft, can_review=dfa_review.applies(arende)
                 and arende.status != "avslutat")


@bp.get("/<review_id>/lakarintyg.pdf")
@login_required
def uploaded(public_id: str, review_id: str):
    arende = _load(public_id)
    saved = dfa_review.get(arende, review_id)
    pdf = dfa_review.uploaded_pdf(saved) if saved is not None else None
    if pdf is None:
        abort(404)
    audit.record("document_downloaded", user=current_user(), object_type="arende", object_id=arende.public_id,
                 detail="läkarintyg (DFA-granskning)")
    response = current_app.response_class(pdf, mimetype="application/pdf")
    # Never shown inside the service's own pages: a file from outside is downloaded, as it came.
    response.headers["Content-Disposition"] = 'attachment; filename="lakarintyg.pdf"'
    return response


@bp.app_template_global("dfa_review_applies")
def _applies(arende) -> bool:
    """For the step page: is the DFA review offered where the ärende stands?"""
    return arende.status != "avslutat" and dfa_review.applies(arende)


@bp.app_template_global("dfa_latest_review")
def _latest(arende):
    """For the step page: the ärende's latest DFA review, or None."""
    reviews = dfa_review.of(arende)
    return reviews[0] if reviews else None
