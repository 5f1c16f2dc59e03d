"""Creating and looking up organisations, enheter and users (used by the CLI, demo and admin)."""
from __future__ import annotations

from sqlalchemy import select

from formservice import db

from .login import hash_password, normalise_username
from .models import ROLES, Enhet, User


class AccountError(Exception):
    """A Swedish message for the person creating the account."""


def create_user(*, username: str, password: str, role: str, enhet_id: int, namn: str,
                titel: str = "", telefon: str = "", epost: str = "", min_length: int = 10) -> User:
    dbs = db.session()
    if role not in ROLES:
        raise AccountError(f"Okänd roll: {role}.")
    if dbs.get(Enhet, enhet_id) is None:
        raise AccountError(f"Det finns ingen enhet med id {enhet_id}.")
    name = normalise_username(username)
    if not name:
        raise AccountError("Användarnamnet får inte vara tomt.")
    if dbs.scalar(select(User).where(User.username == name)) is not None:
        raise AccountError(f"Användarnamnet {name} är upptaget.")
    if len(password) < min_length:
        raise AccountError(f"Lösenordet måste ha minst {min_length} tecken.")
    user = User(username=name, password_hash=hash_password(password), role=role, enhet_id=enhet_id,
                namn=namn, titel=titel, telefon=telefon, epost=epost)
    dbs.add(user)
    dbs.commit()
    return user


def organisation_settings(user: User) -> dict[str, str]:
    """The organisation's own texts for blanketter (e.g. the Finsam koordinator's address)."""
    import json

    try:
        data = json.loads(user.enhet.organisation.installningar or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def user_names(ids: set[int]) -> dict[int, str]:
    """Display names of users by id (the audit log stores ids only)."""
    if not ids:
        return {}
    return {u.id: f"{u.namn} ({u.username})" for u in db.session().scalars(select(User).where(User.id.in_(ids)))}
