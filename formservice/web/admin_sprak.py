"""Administration → Språk: the languages the individ's documents are also printed in, as the admin's
own organisation prints them: reviewed or not (and by whom), how many texts, which blanketter lack
texts; marking a language reviewed or not, replacing its texts with a PO file, downloading the file
in use (arenden/sprakgranskning.py, docs/sprak.md "Granskning")."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice.accounts.login import admin_required, current_user
from formservice.arenden import sprakgranskning
from formservice.arenden.sprakgranskning import SprakError

bp = Blueprint("admin_sprak", __name__, url_prefix="/admin/sprak")


def _blanketter():
    return current_app.extensions["catalogue"].blanketter.values()


@bp.get("")
@admin_required
def index():
    user = current_user()
    return render_template("web/admin/sprak.html", organisation=user.enhet.organisation,
                           languages=sprakgranskning.states(user.enhet.organisation_id, _blanketter()))


def _page(kod: str, errors: dict | None = None, typed: dict | None = None):
    user = current_user()
    try:
        state = sprakgranskning.state(user.enhet.organisation_id, kod, _blanketter())
    except LookupError:
        abort(404)
    return render_template("web/admin/sprak_sprak.html", organisation=user.enhet.organisation, s=state,
                           errors=errors or {}, typed=typed or {},
                           max_kb=sprakgranskning.UPLOAD_MAX_BYTES // 1024), 400 if errors else 200


@bp.get("/<kod>")
@admin_required
def language(kod: str):
    return _page(kod)


def _done(kod: str, message: str):
    flash(message, "success")
    return redirect(url_for("admin_sprak.language", kod=kod))


@bp.post("/<kod>/granskad")
@admin_required
def review(kod: str):
    typed = {"granskad_av": request.form.get("granskad_av", "")[:400]}
    try:
        sprakgranskning.mark_reviewed(current_user(), kod, typed["granskad_av"], request.form.get("bekraftat") == "1")
    except LookupError:
        abort(404)
    except SprakError as exc:
        return _page(kod, {exc.field: str(exc)}, typed)
    return _done(kod, "Språket är markerat som granskat. Nya dokument skrivs ut utan texten om att "
                      "översättningen inte är granskad.")


@bp.post("/<kod>/inte-granskad")
@admin_required
def unreview(kod: str):
    try:
        sprakgranskning.mark_not_reviewed(current_user(), kod)
    except LookupError:
        abort(404)
    return _done(kod, "Språket är markerat som inte granskat. Nya dokument skrivs ut med texten om att "
                      "översättningen inte är granskad.")


@bp.post("/<kod>/texter")
@admin_required
def upload(kod: str):
    reviewed = request.form.get("granskad") == "1"
    typed = {"fil_granskad_av": request.form.get("granskad_av", "")[:400], "granskad": reviewed}
    upload = request.files.get("po")
    data = b""
    if upload is not None:
        try:
            data = upload.read(sprakgranskning.UPLOAD_MAX_BYTES + 1) if upload.filename else b""
        finally:  # a large upload is spooled to a temporary file: closed now, not by the collector
            upload.close()
    try:
        sprakgranskning.replace_texts(current_user(), kod, data, _blanketter(), reviewed=reviewed,
                                      reviewer=typed["fil_granskad_av"])
    except LookupError:
        abort(404)
    except SprakError as exc:
        return _page(kod, {exc.field: str(exc)}, typed)
    return _done(kod, "Texterna är ersatta. Nya dokument skrivs ut med dem"
                      + ("." if reviewed else ", med texten om att översättningen inte är granskad."))


@bp.post("/<kod>/aterstall")
@admin_required
def restore(kod: str):
    try:
        sprakgranskning.restore_shipped(current_user(), kod)
    except LookupError:
        abort(404)
    return _done(kod, "Språket har formservice egna texter igen, granskade eller inte som de levererades.")


@bp.get("/<kod>/blanketter.po")
@admin_required
def download(kod: str):
    try:
        name, body = sprakgranskning.po_file(current_user().enhet.organisation_id, kod)
    except LookupError:
        abort(404)
    response = current_app.response_class(body, mimetype="text/x-gettext-translation")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
