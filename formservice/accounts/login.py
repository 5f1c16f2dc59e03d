"""Accounts: password hashing, login with rate limiting, the current user, login_required."""
from __future__ import annotations

import functools
import unicodedata
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from formservice import audit, db
from formservice.db import utcnow
from formservice.security import login_url

from .models import LoginAttempt, User

# scrypt is werkzeug's default: memory-hard and slow on purpose.
_HASH_METHOD = "scrypt"
# A hash to compare against when the account does not exist, so timing does not reveal it; made
# on the first login (an scrypt hash costs ~0.1 s and ~32 MB: not at start-up, not per worker idle).
_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash("not-a-password", method=_HASH_METHOD)
    return _dummy_hash


# The stored hash of a user who signs in only through the identity provider: matches no password.
UNUSABLE_PASSWORD = "!"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_HASH_METHOD)


def has_password(user: User) -> bool:
    return user.password_hash != UNUSABLE_PASSWORD


def _keyed(text: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


@dataclass
class LoginResult:
    user: User | None = None
    error: str | None = None
    account: User | None = None  # the account a failed attempt named, for the audit log


def _recent_failures(column, key: str, since) -> int:
    stmt = select(func.count()).select_from(LoginAttempt).where(
        column == key, LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    return db.session().scalar(stmt)


def _locked_message(minutes: int) -> str:
    return (f"För många misslyckade inloggningsförsök. Vänta {minutes} minuter och försök igen, "
            "eller kontakta din administratör.")


def account_key(username: str) -> str:
    """The keyed hash that login attempts on an account are counted under."""
    return _keyed("account:" + normalise_username(username))


def _lockout_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])


def is_locked(user: User) -> bool:
    """Whether the account has reached the login limit (an admin can unlock it)."""
    return (_recent_failures(LoginAttempt.account_key, account_key(user.username), _lockout_start())
            >= current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])


def unlock(user: User) -> int:
    """Forget the account's failed attempts; returns how many. Caller commits."""
    return db.session().query(LoginAttempt).filter(
        LoginAttempt.account_key == account_key(user.username), LoginAttempt.success.is_(False)).delete()


def attempt_login(username: str, password: str, client: str) -> LoginResult:
    """Check the password; rate limited per account and per client (address)."""
    cfg = current_app.config
    since = _lockout_start()
    account_key_ = account_key(username)
    client_key = _keyed("client:" + client)
    if (_recent_failures(LoginAttempt.account_key, account_key_, since) >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _recent_failures(LoginAttempt.client_key, client_key, since) >= cfg["LOGIN_MAX_FAILURES_PER_CLIENT"]):
        return LoginResult(error=_locked_message(cfg["LOGIN_LOCKOUT_MINUTES"]))

    dbs = db.session()
    user = dbs.scalar(select(User).where(User.username == normalise_username(username)))
    usable = user is not None and has_password(user)
    # The same scrypt work whether or not the account exists or has a password: timing reveals neither.
    ok = check_password_hash(user.password_hash if usable else _dummy(), password) and usable
    ok = ok and user is not None and user.active
    dbs.add(LoginAttempt(account_key=account_key_, client_key=client_key, success=ok))
    dbs.commit()
    if not ok:
        return LoginResult(error="Fel användarnamn eller lösenord.", account=user)
    return LoginResult(user=user)


def start_session(user: User) -> None:
    _purge_stale()
    session.rotate()
    session.pop("_csrf_token", None)  # a new session gets a new CSRF token
    session["user_id"] = user.id


def _purge_stale() -> None:
    """Logins are a natural moment to forget expired sessions and old login attempts."""
    from .sessions import purge_expired

    dbs = db.session()
    purge_expired(dbs, current_app.permanent_session_lifetime + timedelta(hours=12))
    purge_attempts(timedelta(days=1))
    dbs.commit()


def purge_attempts(older_than: timedelta, *, dry_run: bool = False, now: datetime | None = None) -> int:
    """Forget login attempts older than the lockout could ever look back (caller commits)."""
    query = db.session().query(LoginAttempt).filter(LoginAttempt.at < (now or utcnow()) - older_than)
    return query.count() if dry_run else query.delete()


def end_session() -> None:
    # A new, empty session: the old id is deleted server-side, and a flash message survives.
    session.clear()
    session.rotate()


def current_user() -> User | None:
    if "current_user" not in g:
        uid = session.get("user_id")
        user = db.session().get(User, uid) if uid else None
        g.current_user = user if user is not None and user.active else None
    return g.current_user


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return redirect(login_url())
        if user.must_change_password and request.endpoint != "auth.change_password":
            # A temporary password from an admin opens only the page that replaces it.
            return redirect(url_for("auth.change_password"))
        return view(*args, **kwargs)

    return wrapped


def guarded_unless(setting: str, guard=None):
    """``guard`` (login_required by default; api_login_required for the API), except when the
    app's config makes the view public (e.g. PUBLIC_PROCESSKARTA): then anyone may see it."""

    def decorate(view):
        guarded = (guard or login_required)(view)

        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            from flask import current_app

            if current_app.config.get(setting):
                return view(*args, **kwargs)
            return guarded(*args, **kwargs)

        return wrapped

    return decorate


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user().is_admin:
            from flask import abort

            abort(403)
        return view(*args, **kwargs)

    return wrapped


def change_password(user: User, current: str, new: str, repeat: str) -> dict[str, str]:
    """Returns errors by field name (empty when the password was changed)."""
    errors: dict[str, str] = {}
    if not check_password_hash(user.password_hash, current):
        errors["current_password"] = "Nuvarande lösenord stämmer inte."
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(new) < minimum:
        errors["new_password"] = f"Det nya lösenordet måste ha minst {minimum} tecken."
    elif new == current:
        errors["new_password"] = "Det nya lösenordet måste skilja sig från det nuvarande."
    if new != repeat:
        errors["repeat_password"] = "Lösenorden är inte likadana."
    if not errors:
        user.password_hash = hash_password(new)
        user.password_changed_at = utcnow()
        user.must_change_password = False
        # Whoever may have had the old password is signed out everywhere else; this session
        # continues under a new id.
        from .sessions import end_sessions

        end_sessions(user.id, keep=session)
        session.rotate()
        audit.record("password_changed", user=user, object_type="anvandare", object_id=str(user.id), commit=False)
        db.session().commit()
    return errors


def is_safe_next(target: str | None) -> bool:
    """Only a local path: an open redirect would let a phishing link borrow our login page.
    Browsers drop tabs and newlines from URLs ("/\t/evil.example" becomes "//evil.example"), so any
    control character or white space is refused outright, as are a scheme, a host and "\\"."""
    if not target or len(target) > 2000:
        return False
    # Checked as given and percent-decoded once more: "/%09/evil.example" must not pass either.
    for text in (target, unquote(target)):
        if not text.startswith("/") or text.startswith(("//", "/\\")) or "\\" in text:
            return False
        if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
    return True
