"""Security applied to every request and response: idle timeout, headers, CSRF; and log lines
that a request cannot forge."""
from __future__ import annotations

import logging
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
    # same-origin, not no-referrer: over https Flask-WTF refuses a form post whose Referer is not
    # this host (WTF_CSRF_SSL_STRICT), and with no-referrer the browser sends none, so every form
    # failed behind TLS. Other sites still get no Referer (the addresses name ärenden).
    "Referrer-Policy": "same-origin",
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


# The longest login address (with the place to return to) put in a Location header; longer
# requests are returned to their path alone, or to the start page. accounts.login.is_safe_next
# follows no `next` over 2,000 characters either.
LOGIN_URL_MAX = 2048


def login_url(with_query: bool = True) -> str:
    """The login page, with `next` = where this request was (path and, for a GET, its query), as
    long as the address stays short: no request value is echoed unbounded into a header."""
    candidates = [request.full_path.rstrip("?")] if with_query else []
    for target in candidates + [request.path]:
        url = url_for("auth.login", next=target)
        if len(url) <= LOGIN_URL_MAX:
            return url
    return url_for("auth.login")


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
        return redirect(login_url(with_query=request.method == "GET"))

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


# ---------------------------------------------------------------- log lines
# C0 and C1 controls, DEL and the Unicode line and paragraph separators: anything a terminal, a log
# file or journald could take as the end of a line, or as a command to the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` on one line: CR, LF and every other control character written as an escape
    (\\n, \\r, \\t, \\x1b, \\u2028). A percent-encoded CR/LF in a path reaches the log decoded and
    would otherwise start a forged line of its own."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group()) or (
        f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"), text)


class OneLineFormatter(logging.Formatter):
    """Wraps a formatter so that every record is exactly one line, whatever its message, arguments
    or traceback hold (a traceback's line breaks are escaped too: read it with
    ``sed 's/\\\\n/\\n/g'``). Used for the app's log and for gunicorn's error and access logs."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(self.inner.format(record))
