"""Creating and looking up organisations, enheter and users (used by the CLI, demo and admin)."""
from __future__ import annotations

from sqlalchemy import select

from formservice import db

from .login import normalise_username
from .models import ROLES, Enhet, User


class AccountError(Exception):
    """A Swedish message for the person creating the account."""


def check_new_user(username: str, role: str, enhet_id: int) -> str:
    """The normalised username of a user about to be created; AccountError for what must be corrected."""
    dbs = db.session()
    if role not in ROLES:
        raise AccountError(f"Okänd roll: {role}.")
    if dbs.get(Enhet, enhet_id) is None:
        raise AccountError(f"Det finns ingen enhet med id {enhet_id}.")
    name = normalise_username(username)
    if not name:
        raise AccountError("Användarnamnet får inte vara tomt.")
    if len(name) > 120 or any(c.isspace() for c in name):
        raise AccountError("Användarnamnet får inte innehålla mellanslag och får vara högst 120 tecken.")
    if dbs.scalar(select(User).where(User.username == name)) is not None:
        raise AccountError(f"Användarnamnet {name} är upptaget.")
    return name


def create_user(*, username: str, password: str, role: str, enhet_id: int, namn: str,
                titel: str = "", telefon: str = "", epost: str = "") -> User:
    """A user with a password of their own (command line, demo data, tests)."""
    from .administration import UserData, create_user as create

    user, _ = create(None, username, UserData(namn=namn, role=role, enhet_id=enhet_id, titel=titel,
                                               telefon=telefon, epost=epost), password=password)
    return user


def organisation_settings(user: User) -> dict[str, str]:
    """The organisation's own texts for blanketter (e.g. the Finsam koordinator's address)."""
    return settings_of(user.enhet.organisation)


FORBUND_TEXT = "samordningsforbund"  # the key of the förbund's name among an organisation's texts


def settings_of(organisation) -> dict[str, str]:
    """An organisation's own texts for blanketter, from its stored settings."""
    import json

    try:
        data = json.loads(organisation.installningar or "{}")
    except ValueError:
        data = {}
    texts = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    # The förbund the organisation belongs to names the förbund's blanketter (issuer "{samordningsforbund}").
    if organisation.forbund is not None:
        texts.setdefault(FORBUND_TEXT, organisation.forbund.namn)
    return texts


def user_names(ids: set[int]) -> dict[int, str]:
    """Display names of users by id (the audit log stores ids only)."""
    if not ids:
        return {}
    return {u.id: f"{u.namn} ({u.username})" for u in db.session().scalars(select(User).where(User.id.in_(ids)))}
