"""Authentication for the JSON API: a bearer token (formservice create-token), or a logged-in session."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import abort, g, request
from sqlalchemy import func, select

from formservice import db
from formservice.db import utcnow

from .login import current_user
from .models import ApiRequest, ApiToken, User

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


def token_row(token: str) -> ApiToken | None:
    """The valid token row: not revoked, not expired, its user active."""
    dbs = db.session()
    row = dbs.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked.is_(False)))
    if row is None or not row.user.active or (row.expires_at is not None and row.expires_at < utcnow()):
        return None
    if row.last_used_at is None or utcnow() - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = utcnow()
        dbs.commit()
    return row


def user_for_token(token: str) -> User | None:
    row = token_row(token)
    return row.user if row is not None else None


def api_user() -> User | None:
    """The caller: a bearer token's user (g.api_caller = "token:<id>") or the logged-in user."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        row = token_row(header[len("Bearer "):].strip())
        g.api_caller = f"token:{row.id}" if row is not None else None
        return row.user if row is not None else None
    user = current_user()
    g.api_caller = f"user:{user.id}" if user is not None else None
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


class TooManyRequests(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(retry_after)


def count_costly_request(limit_per_minute: int) -> None:
    """Count one costly request (a render) for the caller; TooManyRequests beyond the limit. The
    count lives in the database, so the limit holds across every worker and process."""
    dbs = db.session()
    since = utcnow() - timedelta(minutes=1)
    caller = g.api_caller
    recent = dbs.scalar(select(func.count()).select_from(ApiRequest)
                        .where(ApiRequest.caller == caller, ApiRequest.at >= since))
    if recent >= limit_per_minute:
        oldest = dbs.scalar(select(func.min(ApiRequest.at)).where(ApiRequest.caller == caller,
                                                                  ApiRequest.at >= since))
        raise TooManyRequests(max(1, 60 - int((utcnow() - oldest).total_seconds())))
    dbs.add(ApiRequest(caller=caller))
    dbs.commit()


def purge_requests(older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None) -> int:
    """Forget counted requests older than the limit's window (housekeeping). Caller commits."""
    query = db.session().query(ApiRequest).filter(ApiRequest.at < (now or utcnow()) - older_than)
    return query.count() if dry_run else query.delete()
