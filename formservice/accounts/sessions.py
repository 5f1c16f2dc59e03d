"""Server-side sessions stored in the database.

The cookie carries only a random token; the table stores its SHA-256, so a copy of the
database cannot be replayed as a cookie. `rotate()` gives a fresh id at login, and logout
deletes the row, which a signed client-side cookie could not do.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from formservice import db
from formservice.db import utcnow

from .models import WebSession


# How stale last_seen may get before a request refreshes it (the idle timeout's resolution).
_TOUCH_EVERY = timedelta(seconds=30)


def _encode(app, data: dict) -> str:
    """Session data may hold a kept form post (personal data): encrypted like all personal data."""
    blob = app.extensions["keyring"].encrypt_json(data)
    return base64.b64encode(blob).decode()


def _decode(app, text: str) -> dict:
    try:
        return app.extensions["keyring"].decrypt_json(base64.b64decode(text), {})
    except Exception:  # noqa: BLE001 — an unreadable (e.g. old-key) session is simply a new one
        return {}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token: str | None = None, new: bool = False):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.new = new
        self.modified = False
        self.rotate_requested = False
        self.last_seen = None  # when the stored session was last used (the idle clock)

    def rotate(self) -> None:
        """New session id, same content (session fixation defence at login)."""
        self.rotate_requested = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app, request):
        token = request.cookies.get(self.get_cookie_name(app))
        if token:
            row = db.session().get(WebSession, _digest(token))
            if row is not None and utcnow() - row.last_seen <= self._max_idle(app):
                data = _decode(app, row.data)
                sess = ServerSession(data, token=token)
                sess.last_seen = row.last_seen
                return sess
        return ServerSession(new=True)

    def save_session(self, app, session: ServerSession, response):
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        dbs = db.session()
        if not session and session.token and session.modified:
            if session.token:
                dbs.query(WebSession).filter_by(id=_digest(session.token)).delete()
                dbs.commit()
            response.delete_cookie(name, domain=domain, path=path)
            return
        if not session and session.new:
            return  # nothing worth a cookie yet
        now = utcnow()
        if (not session.modified and not session.rotate_requested and session.last_seen is not None
                and now - session.last_seen < _TOUCH_EVERY):
            return  # unchanged and recently touched: spare the database a write
        old_token = session.token
        if session.rotate_requested or not old_token:
            if old_token:
                dbs.query(WebSession).filter_by(id=_digest(old_token)).delete()
            session.token = secrets.token_urlsafe(32)
            row = WebSession(id=_digest(session.token), created_at=now)
            dbs.add(row)
        else:
            row = dbs.get(WebSession, _digest(old_token))
            if row is None:
                row = WebSession(id=_digest(old_token), created_at=now)
                dbs.add(row)
        row.data = _encode(app, dict(session))
        row.user_id = session.get("user_id")
        row.last_seen = now
        dbs.commit()
        response.set_cookie(
            name,
            session.token,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
            # A browser-session cookie: the server decides expiry through last_seen.
        )

    @staticmethod
    def _max_idle(app) -> timedelta:
        # Rows are kept a while past the idle timeout so that an expired session can still
        # carry the "return to this page" state; the idle check itself is in security.py.
        return app.permanent_session_lifetime + timedelta(hours=12)


def purge_expired(dbs, older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None) -> int:
    query = dbs.query(WebSession).filter(WebSession.last_seen < (now or utcnow()) - older_than)
    if dry_run:
        return query.count()
    n = query.delete()
    dbs.commit()
    return n


def end_sessions(user_id: int, *, keep: ServerSession | None = None) -> int:
    """Sign a user out everywhere (deactivation, a new password), except the session ``keep``.
    The rows go at once, so the next request from another browser meets the login page. Caller commits."""
    query = db.session().query(WebSession).filter(WebSession.user_id == user_id)
    if keep is not None and keep.token:
        query = query.filter(WebSession.id != _digest(keep.token))
    return query.delete(synchronize_session=False)
