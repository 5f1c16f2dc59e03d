"""What an administrator does: organisations, enheter, users, the organisation's texts, API tokens.

Every function takes the acting admin (None from the command line) and answers AccountError with a
Swedish message for anything the admin must correct. Scope is enforced here, not in the views: an
admin reaches only the enheter, users and tokens of their own organisation. Each change is written to
the audit log in the same transaction.
"""
from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from formservice import audit, db, tid
from formservice.db import utcnow

from . import login
from .models import ENHET_TYPES, ORGANISATION_TYPES, ROLES, ApiToken, Enhet, Organisation, User
from .operations import AccountError, check_new_user, normalise_username
from .sessions import end_sessions

# A temporary password: easy to read aloud or copy, long enough (about 65 bits).
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _record(admin: User | None, action: str, object_type: str, object_id, detail: str | None = None,
            organisation_id: int | None = None) -> None:
    audit.record(action, user=admin, object_type=object_type, object_id=str(object_id), detail=detail,
                 commit=False, organisation_id=organisation_id)


# ---------------------------------------------------------------- organisations
def create_organisation(namn: str, typ: str) -> Organisation:
    """An organisation of the installation (command line only: an admin manages their own)."""
    namn = namn.strip()
    if not namn:
        raise AccountError("Organisationen behöver ett namn.")
    if typ not in ORGANISATION_TYPES:
        raise AccountError(f"Okänd organisationstyp: {typ}. Välj en av {', '.join(ORGANISATION_TYPES)}.")
    dbs = db.session()
    if dbs.scalar(select(Organisation).where(Organisation.namn == namn)) is not None:
        raise AccountError(f"Det finns redan en organisation som heter {namn}.")
    org = Organisation(namn=namn, typ=typ, installningar="{}")
    dbs.add(org)
    dbs.flush()
    _record(None, "organisation_created", "organisation", org.id, organisation_id=org.id)
    dbs.commit()
    return org


def forbund_choices(org: Organisation) -> list[tuple[str, str]]:
    """("", none) and (id, name) of every Samordningsförbund the organisation may belong to."""
    rows = db.session().scalars(select(Organisation).where(Organisation.typ == "samordningsforbund",
                                                           Organisation.id != org.id).order_by(Organisation.namn))
    return [("", "Inget samordningsförbund"), *((str(o.id), o.namn) for o in rows)]


def set_logo(admin: User, data: bytes | None) -> Organisation:
    """Set (an upload, checked and re-encoded: logo.LogoError) or remove (None) the logo of the
    admin's organisation."""
    from . import logo

    org = admin.enhet.organisation
    org.logo = logo.clean(data) if data is not None else None
    org.logo_andrad = utcnow()
    _record(admin, "organisation_changed", "organisation", org.id, "logotyp" if data is not None else "logotyp borttagen")
    db.session().commit()
    return org


def update_organisation(admin: User, namn: str, typ: str, *, kontakt_epost: str | None = None,
                        kontakt_telefon: str | None = None, uppfoljning_delas: bool | None = None,
                        forbund_id: int | None | bool = False) -> Organisation:
    """``forbund_id``: the Samordningsförbund the organisation belongs to (None: none; False: unchanged)."""
    org = admin.enhet.organisation
    if forbund_id is not False:
        forbund = db.session().get(Organisation, forbund_id) if forbund_id else None
        if forbund_id and (forbund is None or forbund.typ != "samordningsforbund" or forbund.id == org.id):
            raise AccountError("Välj ett samordningsförbund bland alternativen.")
        org.forbund = None if typ == "samordningsforbund" else forbund
    namn = namn.strip()
    if not namn:
        raise AccountError("Organisationen behöver ett namn.")
    if typ not in ORGANISATION_TYPES:
        raise AccountError("Välj en organisationstyp.")
    other = db.session().scalar(select(Organisation).where(Organisation.namn == namn, Organisation.id != org.id))
    if other is not None:
        raise AccountError(f"Det finns redan en organisation som heter {namn}.")
    org.namn, org.typ = namn, typ
    org.kontakt_epost = (kontakt_epost or "").strip() or None
    org.kontakt_telefon = (kontakt_telefon or "").strip() or None
    if uppfoljning_delas is not None:
        org.uppfoljning_delas = bool(uppfoljning_delas)
    _record(admin, "organisation_changed", "organisation", org.id)
    db.session().commit()
    return org


def save_settings(admin: User, texts: Mapping[str, str], known: Mapping[str, str]) -> None:
    """The organisation's texts printed on blanketter. An empty text falls back to the default
    (``known``: key → default); unknown keys are refused, never stored."""
    unknown = set(texts) - set(known)
    if unknown:
        raise AccountError("Okända inställningar: " + ", ".join(sorted(unknown)))
    org = admin.enhet.organisation
    cleaned = {k: v.strip().replace("\r\n", "\n") for k, v in texts.items()
               if v and v.strip() and v.strip() != known[k].strip()}
    org.installningar = json.dumps(cleaned, ensure_ascii=False, sort_keys=True)
    _record(admin, "settings_changed", "organisation", org.id, ", ".join(sorted(cleaned)) or "standardtexter")
    db.session().commit()


# ---------------------------------------------------------------- enheter
# An e-mail address (a function's mailbox): one @, a dot in the domain, no spaces, at most 254.
_FUNCTION_ADDRESS = re.compile(r"(?=.{3,254}$)[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass
class EnhetData:
    namn: str
    typ: str = "socialtjanst"
    utdelningsadress: str = ""
    postnummer: str = ""
    ort: str = ""
    telefon: str = ""
    funktionsadress: str = ""

    def cleaned(self) -> "EnhetData":
        data = EnhetData(**{k: (v or "").strip() for k, v in vars(self).items()})
        if not data.namn:
            raise AccountError("Enheten behöver ett namn.")
        if len(data.namn) > 200:
            raise AccountError("Enhetens namn får vara högst 200 tecken.")
        if data.typ not in ENHET_TYPES:
            raise AccountError("Välj vilken sorts enhet det är.")
        if data.postnummer:
            digits = data.postnummer.replace(" ", "")
            if not (digits.isascii() and digits.isdigit() and len(digits) == 5):
                raise AccountError("Postnumret ska vara fem siffror, t.ex. 127 00.")
            data.postnummer = f"{digits[:3]} {digits[3:]}"
        for name, limit in (("utdelningsadress", 200), ("ort", 100), ("telefon", 40)):
            if len(getattr(data, name)) > limit:
                raise AccountError(f"{name.capitalize()}: högst {limit} tecken.")
        if data.funktionsadress and not _FUNCTION_ADDRESS.fullmatch(data.funktionsadress):
            raise AccountError("Funktionsadressen ska vara en e-postadress, t.ex. finsamteam@kommun.se.")
        return data


def _unique_enhet_name(organisation_id: int, namn: str, except_id: int | None = None) -> None:
    stmt = select(Enhet).where(Enhet.organisation_id == organisation_id, Enhet.namn == namn)
    if except_id is not None:
        stmt = stmt.where(Enhet.id != except_id)
    if db.session().scalar(stmt) is not None:
        raise AccountError(f"Det finns redan en enhet som heter {namn} i organisationen.")


def create_enhet(admin: User | None, organisation_id: int, data: EnhetData) -> Enhet:
    dbs = db.session()
    if dbs.get(Organisation, organisation_id) is None:
        raise AccountError(f"Det finns ingen organisation med id {organisation_id}.")
    if admin is not None and admin.enhet.organisation_id != organisation_id:
        raise AccountError("Du kan bara skapa enheter i din egen organisation.")
    data = data.cleaned()
    _unique_enhet_name(organisation_id, data.namn)
    enhet = Enhet(organisation_id=organisation_id, **vars(data))
    dbs.add(enhet)
    dbs.flush()
    _record(admin, "enhet_created", "enhet", enhet.id, organisation_id=organisation_id)
    dbs.commit()
    return enhet


def update_enhet(admin: User, enhet: Enhet, data: EnhetData) -> Enhet:
    data = data.cleaned()
    _unique_enhet_name(enhet.organisation_id, data.namn, except_id=enhet.id)
    for key, value in vars(data).items():
        setattr(enhet, key, value)
    _record(admin, "enhet_changed", "enhet", enhet.id)
    db.session().commit()
    return enhet


def enheter(admin: User) -> list[Enhet]:
    return db.session().scalars(select(Enhet).where(Enhet.organisation_id == admin.enhet.organisation_id)
                                .order_by(Enhet.namn)).all()


def get_enhet(admin: User, enhet_id: int) -> Enhet:
    enhet = db.session().get(Enhet, enhet_id)
    if enhet is None or enhet.organisation_id != admin.enhet.organisation_id:
        raise LookupError(enhet_id)
    return enhet


# ---------------------------------------------------------------- users
def users(admin: User) -> list[User]:
    return db.session().scalars(select(User).join(Enhet, User.enhet_id == Enhet.id)
                                .where(Enhet.organisation_id == admin.enhet.organisation_id)
                                .order_by(User.active.desc(), User.namn)).all()


def get_user(admin: User, user_id: int) -> User:
    user = db.session().get(User, user_id)
    if user is None or user.enhet.organisation_id != admin.enhet.organisation_id:
        raise LookupError(user_id)
    return user


@dataclass
class UserData:
    namn: str
    role: str
    enhet_id: int
    titel: str = ""
    telefon: str = ""
    epost: str = ""
    external_id: str = ""


def _check_user_data(admin: User | None, data: UserData, except_id: int | None = None) -> UserData:
    data = UserData(namn=(data.namn or "").strip(), role=data.role, enhet_id=data.enhet_id,
                    titel=(data.titel or "").strip(), telefon=(data.telefon or "").strip(),
                    epost=(data.epost or "").strip(), external_id=(data.external_id or "").strip())
    if not data.namn:
        raise AccountError("Skriv användarens namn.")
    if data.role not in ROLES:
        raise AccountError("Välj en roll.")
    enhet = db.session().get(Enhet, data.enhet_id)
    if enhet is None and admin is None:
        raise AccountError(f"Det finns ingen enhet med id {data.enhet_id}.")
    if enhet is None or (admin is not None and enhet.organisation_id != admin.enhet.organisation_id):
        raise AccountError("Välj en enhet i din organisation.")
    if data.epost and ("@" not in data.epost or len(data.epost) > 200):
        raise AccountError("E-postadressen ser inte ut som en e-postadress.")
    if data.external_id:
        stmt = select(User).where(User.external_id == data.external_id)
        if except_id is not None:
            stmt = stmt.where(User.id != except_id)
        if db.session().scalar(stmt) is not None:
            raise AccountError("En annan användare har redan den identiteten hos inloggningstjänsten.")
    return data


def temporary_password() -> str:
    groups = ["".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def create_user(admin: User | None, username: str, data: UserData, *, password: str | None = None
                ) -> tuple[User, str | None]:
    """A new user. Without ``password`` a temporary one is made (returned, shown once) that must be
    changed at the first login; a user who signs in only through the identity provider gets none
    when ``external_id`` is set and ``password`` is "" (empty)."""
    data = _check_user_data(admin, data)
    name = check_new_user(username, data.role, data.enhet_id)
    temporary = None
    if password is None:
        temporary = temporary_password()
        password_hash = login.hash_password(temporary)
    elif password == "" and data.external_id:
        password_hash = login.UNUSABLE_PASSWORD
    else:
        minimum = 10
        if len(password) < minimum:
            raise AccountError(f"Lösenordet måste ha minst {minimum} tecken.")
        password_hash = login.hash_password(password)
    user = User(username=name, password_hash=password_hash, role=data.role, enhet_id=data.enhet_id,
                namn=data.namn, titel=data.titel, telefon=data.telefon, epost=data.epost,
                external_id=data.external_id or None, must_change_password=temporary is not None)
    dbs = db.session()
    dbs.add(user)
    dbs.flush()
    _record(admin, "user_created", "anvandare", user.id, data.role,
            organisation_id=db.session().get(Enhet, data.enhet_id).organisation_id)
    dbs.commit()
    return user, temporary


def update_user(admin: User, user: User, data: UserData) -> User:
    data = _check_user_data(admin, data, except_id=user.id)
    if user.id == admin.id and data.role != "admin":
        raise AccountError("Du kan inte ta bort din egen administratörsroll.")
    changed = [k for k in ("namn", "role", "enhet_id", "titel", "telefon", "epost")
               if getattr(user, k) != getattr(data, k)]
    for key in ("namn", "role", "enhet_id", "titel", "telefon", "epost"):
        setattr(user, key, getattr(data, key))
    if (user.external_id or "") != data.external_id:
        user.external_id = data.external_id or None
        changed.append("external_id")
    _record(admin, "user_changed", "anvandare", user.id, ", ".join(changed) or None)
    db.session().commit()
    return user


def deactivate_user(admin: User | None, user: User) -> None:
    """Out at once: every session ends and every API token is revoked."""
    if admin is not None and user.id == admin.id:
        raise AccountError("Du kan inte inaktivera ditt eget konto.")
    user.active = False
    user.deactivated_at = utcnow()
    end_sessions(user.id)
    for token in db.session().scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked.is_(False))):
        _revoke(token)
    _record(admin, "user_deactivated", "anvandare", user.id, organisation_id=user.enhet.organisation_id)
    db.session().commit()


def reactivate_user(admin: User, user: User) -> None:
    """Active again (also: approve a user created at a first sign-in through the identity provider)."""
    approving = user.pending_approval
    user.active = True
    user.pending_approval = False
    user.deactivated_at = None
    _record(admin, "user_approved" if approving else "user_reactivated", "anvandare", user.id)
    db.session().commit()


def unlock_user(admin: User, user: User) -> int:
    forgotten = login.unlock(user)
    _record(admin, "user_unlocked", "anvandare", user.id)
    db.session().commit()
    return forgotten


def reset_password(admin: User, user: User) -> str:
    """A temporary password (returned, shown once) that must be changed at the next login; the
    user's sessions end."""
    temporary = temporary_password()
    user.password_hash = login.hash_password(temporary)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    end_sessions(user.id)
    login.unlock(user)
    _record(admin, "password_reset", "anvandare", user.id)
    db.session().commit()
    return temporary


# ---------------------------------------------------------------- API tokens
def tokens(admin: User) -> list[ApiToken]:
    return db.session().scalars(select(ApiToken).join(User, ApiToken.user_id == User.id)
                                .join(Enhet, User.enhet_id == Enhet.id)
                                .where(Enhet.organisation_id == admin.enhet.organisation_id)
                                .order_by(ApiToken.revoked, ApiToken.created_at.desc())).all()


def get_token(admin: User, token_id: int) -> ApiToken:
    token = db.session().get(ApiToken, token_id)
    if token is None or token.user.enhet.organisation_id != admin.enhet.organisation_id:
        raise LookupError(token_id)
    return token


def parse_expiry(text: str, today: date | None = None) -> datetime | None:
    """An expiry date typed as ÅÅÅÅ-MM-DD (the token works through that day); "" = no expiry."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise AccountError("Skriv sista giltighetsdag som ÅÅÅÅ-MM-DD, t.ex. 2027-06-30.") from None
    if day < (today or tid.today()):
        raise AccountError("Sista giltighetsdag kan inte ha passerat.")
    # Through the end of that day in Swedish time, stored as naive UTC like every timestamp.
    end = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=tid.STOCKHOLM)
    return (end - timedelta(seconds=1)).astimezone(timezone.utc).replace(tzinfo=None)


def create_token(admin: User | None, owner: User, name: str, expires_at: datetime | None) -> str:
    from .api_tokens import issue_token

    name = (name or "").strip()
    if not name:
        raise AccountError("Ge nyckeln ett namn som säger vad den används till.")
    if len(name) > 200:
        raise AccountError("Nyckelns namn får vara högst 200 tecken.")
    if admin is not None and owner.enhet.organisation_id != admin.enhet.organisation_id:
        raise AccountError("Välj en användare i din organisation.")
    if not owner.active:
        raise AccountError("Användaren är inaktiverad och kan inte få en API-nyckel.")
    token, row = issue_token(owner, name, expires_at=expires_at)
    _record(admin, "token_created", "api_nyckel", row.id, organisation_id=owner.enhet.organisation_id)
    db.session().commit()
    return token


def _revoke(token: ApiToken) -> None:
    token.revoked = True
    token.revoked_at = utcnow()


def revoke_token(admin: User, token: ApiToken) -> None:
    if not token.revoked:
        _revoke(token)
        _record(admin, "token_revoked", "api_nyckel", token.id)
        db.session().commit()


def user_by_username(username: str) -> User | None:
    return db.session().scalar(select(User).where(User.username == normalise_username(username)))
