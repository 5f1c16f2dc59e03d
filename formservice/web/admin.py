"""Administration of the admin's own organisation: overview, organisation and its texts, enheter,
the audit log. Users and API tokens are in admin_users.py."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts import administration as admin_ops
from formservice.accounts.admin_forms import EnhetForm, OrganisationForm, options
from formservice.accounts.logo import UPLOAD_MAX_BYTES as LOGO_UPLOAD_MAX, LogoError
from formservice.accounts.login import admin_required, current_user, is_locked
from formservice.accounts.models import ENHET_TYPES, ORGANISATION_TYPES
from formservice.accounts.operations import AccountError, organisation_settings, user_names
from formservice.blanketter.model import CONFIG_DEFAULTS, CONFIG_LABELS
from formservice.rendering import documents
from formservice.rendering.pdf import DocumentContext

from .paging import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@admin_required
def index():
    user = current_user()
    people = admin_ops.users(user)
    return render_template("web/admin/index.html", organisation=user.enhet.organisation,
                           enheter=admin_ops.enheter(user), users=people,
                           pending=[u for u in people if u.pending_approval],
                           locked=[u for u in people if u.active and is_locked(u)],
                           tokens=[t for t in admin_ops.tokens(user) if not t.revoked])


# ---------------------------------------------------------------- the organisation and its texts
def _texts_from(form) -> dict[str, str]:
    return {key: form.get(f"text_{key}", "") for key in CONFIG_DEFAULTS}


@bp.route("/organisation", methods=["GET", "POST"])
@admin_required
def organisation():
    user = current_user()
    org = user.enhet.organisation
    form = OrganisationForm(obj=org)
    form.forbund_id.choices = options(admin_ops.forbund_choices(org))
    if request.method == "GET":  # the select compares texts: the stored id as one
        form.forbund_id.data = str(org.forbund_id or "")
    if form.validate_on_submit():
        try:
            admin_ops.update_organisation(user, form.namn.data, form.typ.data,
                                          kontakt_epost=form.kontakt_epost.data, kontakt_telefon=form.kontakt_telefon.data,
                                          uppfoljning_delas=form.uppfoljning_delas.data,
                                          forbund_id=int(form.forbund_id.data) if form.forbund_id.data else None)
        except AccountError as exc:
            form.namn.errors = [str(exc)]
        else:
            flash("Organisationen är sparad.", "success")
            return redirect(url_for("admin.organisation"))
    return render_template("web/admin/organisation.html", form=form, types=ORGANISATION_TYPES), \
        400 if form.errors else 200


@bp.post("/organisation/logotyp")
@admin_required
def logo():
    """Upload or remove the organisation's logo (its own form on the organisation page)."""
    user = current_user()
    if request.form.get("action") == "ta_bort":
        admin_ops.set_logo(user, None)
        flash("Logotypen är borttagen.", "success")
        return redirect(url_for("admin.organisation"))
    upload = request.files.get("logotyp")
    try:
        admin_ops.set_logo(user, upload.read(LOGO_UPLOAD_MAX + 1) if upload and upload.filename else b"")
    except LogoError as exc:
        form = OrganisationForm(obj=user.enhet.organisation)
        form.forbund_id.choices = options(admin_ops.forbund_choices(user.enhet.organisation))
        form.forbund_id.data = str(user.enhet.organisation.forbund_id or "")
        return render_template("web/admin/organisation.html", form=form, types=ORGANISATION_TYPES,
                               logo_error=str(exc)), 400
    flash("Logotypen är sparad. Den står i sidhuvudet och på organisationens blanketter från och med nu.", "success")
    return redirect(url_for("admin.organisation"))


@bp.route("/organisation/texter", methods=["GET", "POST"])
@admin_required
def texts():
    """The organisation's texts on the blanketter, with a preview before they are saved."""
    user = current_user()
    stored = organisation_settings(user)
    texts = {key: stored.get(key, default) for key, default in CONFIG_DEFAULTS.items()}
    preview = False
    error = None
    if request.method == "POST":
        texts = _texts_from(request.form)
        too_long = [CONFIG_LABELS[k][0] for k, v in texts.items() if len(v) > 2000]
        if too_long:
            error = "För lång text (högst 2 000 tecken): " + ", ".join(too_long)
        elif request.form.get("action") == "spara":
            admin_ops.save_settings(user, texts, CONFIG_DEFAULTS)
            flash("Organisationens texter är sparade. De används på blanketter som tas fram från och med nu.",
                  "success")
            return redirect(url_for("admin.texts"))
        else:
            preview = True
    usage = current_app.extensions["catalogue"].config_usage()
    return render_template("web/admin/texts.html", texts=texts, labels=CONFIG_LABELS, defaults=CONFIG_DEFAULTS,
                           usage=usage, preview=preview, error=error), 400 if error else 200


@bp.post("/organisation/texter/forhandsgranska.pdf")
@admin_required
def texts_pdf():
    """A blankett, empty, printed with the texts in the form (not yet saved)."""
    user = current_user()
    cat = current_app.extensions["catalogue"]
    blankett_id = request.form.get("blankett", "")
    if blankett_id not in cat.blanketter:
        abort(404)
    texts = {k: v for k, v in _texts_from(request.form).items() if v.strip()}
    ctx = DocumentContext(organisation=user.enhet.organisation.namn, document_number="FÖRHANDSGRANSKNING",
                          config=texts, logo=user.enhet.organisation.logo)
    doc = documents.produce_pdf(cat, blankett_id, {}, ctx)
    response = current_app.response_class(doc.content, mimetype=doc.mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="forhandsgranskning-{blankett_id}.pdf"'
    return response


# ---------------------------------------------------------------- enheter
@bp.get("/enheter")
@admin_required
def enheter():
    user = current_user()
    return render_template("web/admin/enheter.html", enheter=admin_ops.enheter(user), types=ENHET_TYPES)


def _enhet_data(form: EnhetForm) -> admin_ops.EnhetData:
    return admin_ops.EnhetData(namn=form.namn.data, typ=form.typ.data, utdelningsadress=form.utdelningsadress.data,
                               postnummer=form.postnummer.data, ort=form.ort.data, telefon=form.telefon.data,
                               funktionsadress=form.funktionsadress.data)


@bp.route("/enheter/ny", methods=["GET", "POST"], defaults={"enhet_id": None})
@bp.route("/enheter/<int:enhet_id>", methods=["GET", "POST"])
@admin_required
def enhet(enhet_id: int | None):
    user = current_user()
    existing = None
    if enhet_id is not None:
        try:
            existing = admin_ops.get_enhet(user, enhet_id)
        except LookupError:
            abort(404)
    form = EnhetForm(obj=existing)
    error = None
    if form.validate_on_submit():
        try:
            if existing is None:
                created = admin_ops.create_enhet(user, user.enhet.organisation_id, _enhet_data(form))
                flash(f"Enheten {created.namn} är skapad.", "success")
            else:
                admin_ops.update_enhet(user, existing, _enhet_data(form))
                flash(f"Enheten {existing.namn} är sparad.", "success")
        except AccountError as exc:
            error = str(exc)
        else:
            return redirect(url_for("admin.enheter"))
    return render_template("web/admin/enhet.html", form=form, enhet=existing, error=error), \
        400 if form.errors or error else 200


# ---------------------------------------------------------------- the audit log
@bp.get("/logg")
@admin_required
def audit_log():
    user = current_user()
    action = request.args.get("handelse") or None
    page = page_number(request.args.get("sida"))
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
