"""Authentication for the JSON API: a bearer token (formservice create-token), or a logged-in session."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import abort, g, request
from sqlalchemy import select

from formservice import db
from formservice.db import utcnow

from .login import current_user
from .models import ApiToken, User

TOKEN_PREFIX = "fs_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, name: str, *, expires_at: datetime | None = None) -> tuple[str, ApiToken]:
    """A new token for the user (the caller commits). The token itself is returned to be shown
    once; only its SHA-256 is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_digest(token), expires_at=expires_at)
    dbs = db.session()
    dbs.add(row)
    dbs.flush()
    return token, row


def create_token(user: User, name: str) -> str:
    token, _row = issue_token(user, name)
    db.session().commit()
    return token


def user_for_token(token: str) -> User | None:
    dbs = db.session()
    row = dbs.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked.is_(False)))
    if row is None or not row.user.active or (row.expires_at is not None and row.expires_at < utcnow()):
        return None
    if row.last_used_at is None or utcnow() - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = utcnow()
        dbs.commit()
    return row.user


def api_user() -> User | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[len("Bearer "):].strip())
    user = current_user()
    if user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
        # A browser session is exposed to CSRF like any form post: require the token here too.
        from formservice.security import csrf

        csrf.protect()
    return user


def api_login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = api_user()
        if user is None:
            abort(401)
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped
