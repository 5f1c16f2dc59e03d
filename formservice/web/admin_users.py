"""Administration of users and API tokens in the admin's own organisation."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from formservice.accounts import administration as admin_ops
from formservice.accounts.admin_forms import NewUserForm, TokenForm, UserForm, options
from formservice.accounts.login import admin_required, current_user, has_password, is_locked
from formservice.accounts.models import ROLES
from formservice.accounts.operations import AccountError
from formservice.blanketter.validation import ValidationError, parse_date

from .paging import bounded_int

bp = Blueprint("admin_users", __name__, url_prefix="/admin")

FILTERS = {"aktiva": "Aktiva", "vantar": "Väntar på godkännande", "inaktiva": "Inaktiverade", "alla": "Alla"}


def _enhet_choices(admin):
    return options((e.id, e.namn) for e in admin_ops.enheter(admin))


def _user_data(form: UserForm) -> admin_ops.UserData:
    return admin_ops.UserData(namn=form.namn.data, role=form.role.data, enhet_id=form.enhet_id.data,
                              titel=form.titel.data or "", telefon=form.telefon.data or "",
                              epost=form.epost.data or "", external_id=form.external_id.data or "")


def _load_user(user_id: int):
    try:
        return admin_ops.get_user(current_user(), user_id)
    except LookupError:
        abort(404)


@bp.get("/anvandare")
@admin_required
def users():
    shown = request.args.get("visa") if request.args.get("visa") in FILTERS else "aktiva"
    people = admin_ops.users(current_user())
    keep = {"aktiva": lambda u: u.active, "vantar": lambda u: u.pending_approval,
            "inaktiva": lambda u: not u.active and not u.pending_approval, "alla": lambda u: True}[shown]
    return render_template("web/admin/users.html", users=[u for u in people if keep(u)], shown=shown,
                           filters=FILTERS, roles=ROLES, is_locked=is_locked,
                           counts={k: sum(1 for u in people if f(u)) for k, f in (
                               ("aktiva", lambda u: u.active), ("vantar", lambda u: u.pending_approval))})


@bp.route("/anvandare/ny", methods=["GET", "POST"])
@admin_required
def new_user():
    admin = current_user()
    form = NewUserForm()
    form.enhet_id.choices = _enhet_choices(admin)
    error = None
    if form.validate_on_submit():
        # A user known to the identity provider gets no password; everyone else a temporary one.
        password = "" if form.external_id.data and request.form.get("inloggning") == "oidc" else None
        try:
            user, temporary = admin_ops.create_user(admin, form.username.data, _user_data(form), password=password)
        except AccountError as exc:
            error = str(exc)
        else:
            return render_template("web/admin/user_created.html", user=user, temporary=temporary)
    return render_template("web/admin/user_form.html", form=form, user=None, error=error), \
        400 if form.errors or error else 200


@bp.route("/anvandare/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    admin = current_user()
    person = _load_user(user_id)
    form = UserForm(obj=person)
    form.enhet_id.choices = _enhet_choices(admin)
    if request.method == "GET":
        form.external_id.data = person.external_id or ""
    error = None
    if form.validate_on_submit():
        try:
            admin_ops.update_user(admin, person, _user_data(form))
        except AccountError as exc:
            error = str(exc)
        else:
            flash(f"{person.namn} är sparad.", "success")
            return redirect(url_for("admin_users.user", user_id=person.id))
    return render_template("web/admin/user_form.html", form=form, user=person, error=error,
                           locked=is_locked(person), has_password=has_password(person),
                           tokens=[t for t in admin_ops.tokens(admin) if t.user_id == person.id]), \
        400 if form.errors or error else 200


@bp.post("/anvandare/<int:user_id>/<any('inaktivera', 'aktivera', 'hav-sparr', 'tillfalligt-losenord'):action>")
@admin_required
def user_action(user_id: int, action: str):
    admin = current_user()
    person = _load_user(user_id)
    try:
        if action == "inaktivera":
            admin_ops.deactivate_user(admin, person)
            flash(f"{person.namn} är inaktiverad: inloggade sessioner och API-nycklar gäller inte längre.",
                  "success")
        elif action == "aktivera":
            was_pending = person.pending_approval
            admin_ops.reactivate_user(admin, person)
            flash(f"{person.namn} är {'godkänd' if was_pending else 'aktiv igen'} och kan logga in.", "success")
        elif action == "hav-sparr":
            admin_ops.unlock_user(admin, person)
            flash(f"Inloggningsspärren för {person.namn} är hävd.", "success")
        else:
            temporary = admin_ops.reset_password(admin, person)
            return render_template("web/admin/user_created.html", user=person, temporary=temporary, reset=True)
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin_users.user", user_id=person.id))


# ---------------------------------------------------------------- API tokens
def _iso(typed: str | None) -> str:
    """The expiry as ISO when it is a date as every form reads one (20270630, 2027-6-30 ...); otherwise as
    typed, for parse_expiry's message (accounts may not import blanketter, where the parser lives)."""
    try:
        return parse_date(typed).isoformat() if (typed or "").strip() else ""
    except ValidationError:
        return typed or ""


@bp.route("/api-nycklar", methods=["GET", "POST"])
@admin_required
def tokens():
    admin = current_user()
    form = TokenForm()
    form.user_id.choices = options((u.id, f"{u.namn} ({u.username})") for u in admin_ops.users(admin) if u.active)
    error = None
    if form.validate_on_submit():
        try:
            owner = admin_ops.get_user(admin, form.user_id.data)
            expires = admin_ops.parse_expiry(_iso(form.expires.data))
            token = admin_ops.create_token(admin, owner, form.name.data, expires)
        except LookupError:
            error = "Välj en användare i din organisation."
        except AccountError as exc:
            error = str(exc)
        else:
            return render_template("web/admin/token_created.html", token=token, name=form.name.data.strip(),
                                   owner=owner)
    return render_template("web/admin/tokens.html", form=form, tokens=admin_ops.tokens(admin), error=error), \
        400 if form.errors or error else 200


@bp.post("/api-nycklar/<token_id>/aterkalla")
@admin_required
def revoke_token(token_id: str):
    admin = current_user()
    try:
        token = admin_ops.get_token(admin, bounded_int(token_id, default=0, low=1, high=2**31))
    except LookupError:
        abort(404)
    admin_ops.revoke_token(admin, token)
    flash(f"API-nyckeln ”{token.name}” är återkallad.", "success")
    return redirect(url_for("admin_users.tokens"))
