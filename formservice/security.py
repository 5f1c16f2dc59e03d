"""Security applied to every request and response: idle timeout, headers, CSRF."""
from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from .db import utcnow

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app) -> None:
    csrf.init_app(app)

    @app.before_request
    def _idle_timeout():
        if request.endpoint in ("static", "health.healthz"):
            return None
        if not session.get("user_id") or session.last_seen is None:
            return None
        if utcnow() - session.last_seen <= app.permanent_session_lifetime:
            return None
        # Idle too long: log out, keep the place the user was at so login can return there.
        user_id = session.pop("user_id", None)
        if request.method == "POST" and request.form:
            # Nothing typed is lost: keep the post (in the server-side, encrypted session) and offer
            # to send it again after the same user has logged in.
            form = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]
            session["pending_post"] = {"path": request.path, "user_id": user_id, "form": form}
        minutes = int(app.permanent_session_lifetime.total_seconds() // 60)
        flash(f"Du har varit inaktiv i mer än {minutes} minuter och har loggats ut. Logga in igen för att fortsätta."
              + (" Det du skickade är sparat och kan skickas igen efter inloggningen." if session.get("pending_post")
                 else ""), "info")
        # A POST target is also the page that shows its form, so its path is a fine place to return to.
        target = request.full_path.rstrip("?") if request.method == "GET" else request.path
        return redirect(url_for("auth.login", next=target))

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            # Pages may hold personal data: never keep them in a shared or back-button cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        from flask import render_template

        return render_template("web/errors/csrf.html", reason=exc.description), 400
