"""Login, logout and change of password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from formservice import audit
from formservice.accounts import login as auth
from formservice.accounts.forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/logga-in", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = request.args.get("next")
    error = None
    if form.validate_on_submit():
        result = auth.attempt_login(form.username.data, form.password.data, request.remote_addr or "")
        if result.user is not None:
            auth.start_session(result.user)
            current_app.logger.info("login user_id=%s", result.user.id)
            audit.record("login", user=result.user)
            if session.get("pending_post"):
                return redirect(url_for("main.restore"))
            return redirect(next_url if auth.is_safe_next(next_url) else url_for("main.index"))
        current_app.logger.info("login failed")
        audit.record("login_failed", user=result.account, detail="spärrad" if "För många" in result.error else None)
        error = result.error
    status = 200 if not (form.errors or error) else 400 if form.errors else 401
    if error and "För många" in error:
        status = 429
    return render_template("web/auth/login.html", form=form, error=error, next_url=next_url), status


@bp.route("/logga-ut", methods=["POST"])
def logout():
    audit.record("logout", user=auth.current_user())
    auth.end_session()
    flash("Du är utloggad.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/konto/losenord", methods=["GET", "POST"])
@auth.login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        errors = auth.change_password(auth.current_user(), form.current_password.data,
                                      form.new_password.data, form.repeat_password.data)
        if not errors:
            flash("Ditt lösenord är ändrat.", "success")
            return redirect(url_for("main.index"))
        for name, message in errors.items():
            getattr(form, name).errors = [message]
    status = 400 if form.errors else 200
    return render_template("web/auth/change_password.html", form=form), status
