"""Security applied to every request and response: idle timeout, headers, CSRF."""
from __future__ import annotations

import re

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


# A host name (labels of 1-63 letters, digits and hyphens), an IPv4 address or a bracketed IPv6
# address, with an optional port. Anything else in the Host header cannot be a real request to us.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])(?::[0-9]{{1,5}})?$")
_BAD_HOST = ("<!doctype html><html lang=\"sv\"><meta charset=\"utf-8\"><title>Felaktig begäran</title>"
             "<h1>Felaktig begäran</h1><p>Adressen (Host) i begäran är inte giltig.</p></html>").encode()


def valid_host(host: str) -> bool:
    return len(host) <= 260 and bool(_HOST.match(host))


class HostCheck:
    """Outermost WSGI layer: a request whose Host header is not a host name gets a plain 400 here,
    before Flask tries to build URLs from it (which would fail, error page included)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not valid_host(host):
            start_response("400 Bad Request", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(_BAD_HOST))),
                                               ("Cache-Control", "no-store")])
            return [_BAD_HOST]
        return self.wsgi_app(environ, start_response)


def init_app(app) -> None:
    csrf.init_app(app)
    app.wsgi_app = HostCheck(app.wsgi_app)

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
