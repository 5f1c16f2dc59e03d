"""Login (password, and the organisation's identity provider), logout and change of password."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)

from formservice import audit
from formservice.accounts import login as auth
from formservice.accounts import providers
from formservice.accounts.forms import ChangePasswordForm, LoginForm
from formservice.security import csrf

bp = Blueprint("auth", __name__)

PASSWORD_LOGIN_OFF = "Inloggning med lösenord är avstängd. Logga in med organisationens inloggning."
NO_PASSWORD = "Du loggar in med organisationens inloggning och har inget lösenord i formservice att byta."


def _login_page(form: LoginForm, next_url: str | None, status: int = 200, *, error: str | None = None,
                error_title: str | None = None):
    return render_template("web/auth/login.html", form=form, error=error, error_title=error_title,
                           next_url=next_url, providers=list(providers.configured(current_app.config).values()),
                           password_login=current_app.config["PASSWORD_LOGIN"]), status


def _signed_in(user, next_url: str | None, *, via: str | None = None, provider_session: dict | None = None):
    """Every way in ends here: the session rules (new id, new CSRF token), the audit log, onwards."""
    auth.start_session(user)
    session.pop("external_login", None)
    if provider_session is not None:
        session["external_login"] = provider_session  # for ending the provider's session at log-out
    current_app.logger.info("login user_id=%s%s", user.id, f" via {via}" if via else "")
    audit.record("login", user=user, detail=via)
    if session.get("pending_post"):
        return redirect(url_for("main.restore"))
    return redirect(next_url if auth.is_safe_next(next_url) else url_for("main.index"))


@bp.route("/logga-in", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = request.args.get("next")
    if not current_app.config["PASSWORD_LOGIN"]:
        if request.method == "POST":
            current_app.logger.info("password login refused: turned off")
            return _login_page(form, next_url, 403, error=PASSWORD_LOGIN_OFF)
        return _login_page(form, next_url)
    error = None
    if form.validate_on_submit():
        result = auth.attempt_login(form.username.data, form.password.data, request.remote_addr or "")
        if result.user is not None:
            return _signed_in(result.user, next_url)
        current_app.logger.info("login failed")
        audit.record("login_failed", user=result.account, detail="spärrad" if "För många" in result.error else None)
        error = result.error
    status = 200 if not (form.errors or error) else 400 if form.errors else 401
    if error and "För många" in error:
        status = 429
    return _login_page(form, next_url, status, error=error)


def _provider(provider_id: str) -> providers.LoginProvider:
    provider = providers.configured(current_app.config).get(provider_id)
    if provider is None:
        abort(404)
    return provider


def _callback_url(provider: providers.LoginProvider) -> str:
    # External, so that behind the proxy (ProxyFix) it is the https address registered at the provider.
    return url_for("auth.external_callback", provider_id=provider.id, _external=True)


def _refused(provider: providers.LoginProvider, exc: providers.LoginFailed, next_url: str | None):
    current_app.logger.warning("login via %s failed: %s", provider.id, exc.reason)
    audit.record("login_failed", user=exc.user, detail=f"{provider.id}: {exc.reason}")
    return _login_page(LoginForm(), next_url, exc.status, error=exc.message, error_title=exc.title)


@bp.get("/logga-in/<provider_id>")
def external_start(provider_id: str):
    """Off to the organisation's identity provider; it sends the browser back to external_callback."""
    provider = _provider(provider_id)
    next_url = request.args.get("next")
    if auth.is_safe_next(next_url):
        session["login_next"] = next_url
    else:
        session.pop("login_next", None)
    try:
        return redirect(provider.start(session, _callback_url(provider)))
    except providers.LoginFailed as exc:
        return _refused(provider, exc, next_url)


@bp.get("/logga-in/<provider_id>/svar")
def external_callback(provider_id: str):
    provider = _provider(provider_id)
    next_url = session.get("login_next")
    try:
        identity = provider.finish(session, request.args.to_dict(), _callback_url(provider))
        user = providers.sign_in(identity, provider.new_users)
    except providers.LoginFailed as exc:
        return _refused(provider, exc, next_url)
    session.pop("login_next", None)
    return _signed_in(user, next_url, via=provider.id,
                      provider_session={"provider": provider.id, "data": identity.logout_data})


@bp.post("/logga-in/<provider_id>/acs")
@csrf.exempt  # the identity provider's signed POST; what binds it to the browser is checked at /svar
def external_acs(provider_id: str):
    """SAML's assertion consumer service. The IdP's POST is cross-site, so it comes without the
    (SameSite=Lax) session cookie: the provider verifies and uses up the response here, and the
    browser goes on to external_callback with a one-use hand-over, a top-level GET that has the cookie."""
    provider = _provider(provider_id)
    if not hasattr(provider, "receive"):
        abort(404)
    try:
        token = provider.receive(request.form.to_dict(), _callback_url(provider))
    except providers.LoginFailed as exc:
        return _refused(provider, exc, None)
    return redirect(url_for("auth.external_callback", provider_id=provider.id, overlamning=token), 303)


@bp.get("/logga-in/<provider_id>/metadata")
def external_metadata(provider_id: str):
    """The SP metadata, for the identity provider's administrator to register us with."""
    provider = _provider(provider_id)
    if not hasattr(provider, "sp_metadata"):
        abort(404)
    try:
        xml = provider.sp_metadata(_callback_url(provider))
    except providers.LoginFailed as exc:
        current_app.logger.warning("metadata of %s not built: %s", provider.id, exc.reason)
        abort(502)
    return Response(xml, mimetype="application/samlmetadata+xml")


def _provider_logout_url() -> str | None:
    """Where the identity provider ends its own session, for a user who signed in through it."""
    external = session.get("external_login") or {}
    provider = providers.configured(current_app.config).get(external.get("provider"))
    if provider is None:
        return None
    return provider.logout_url(external.get("data") or {}, url_for("auth.login", _external=True))


@bp.route("/logga-ut", methods=["POST"])
def logout():
    audit.record("logout", user=auth.current_user())
    provider_url = _provider_logout_url()
    auth.end_session()
    if provider_url is None:
        flash("Du är utloggad.", "info")
        return redirect(url_for("auth.login"))
    # Not a redirect: after a form post the browser holds a redirect to another origin to the page's
    # CSP form-action 'self'. This page moves on by itself (and offers the link); the flash waits for
    # the login page the provider sends the browser back to.
    page = render_template("web/auth/logout.html", provider_url=provider_url)
    flash("Du är utloggad.", "info")
    return page


@bp.app_template_global()
def can_change_password(user) -> bool:
    """False for a user who signs in only through the identity provider (no password of their own)."""
    return user is not None and (not user.external_id or auth.has_password(user))


@bp.route("/konto/losenord", methods=["GET", "POST"])
@auth.login_required
def change_password():
    if not can_change_password(auth.current_user()):
        flash(NO_PASSWORD, "info")
        return redirect(url_for("main.index"))
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
