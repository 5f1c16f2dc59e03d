"""Sign-in through the organisation's identity provider, behind one small interface.

A ``LoginProvider`` sends the browser away (``start``), reads what comes back (``finish``) and knows
how to end its own session at log-out (``logout_url``): OpenID Connect (``oidc.py``) and SAML 2.0
(``saml.py``, whose cross-site POST to its ACS adds ``receive``, see web/auth.py). What happens to
the person who comes back is decided here, the same for every provider: matched on
``User.external_id``; refused when unknown, deactivated or still waiting; or, where the organisation
wants it, created inactive for an administrator to approve.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from formservice import audit, db

from . import login
from .models import Enhet, User

log = logging.getLogger(__name__)

# The role a user created at a first sign-in gets, from the kind of enhet they land in; the admin
# who approves the account can change it. Never admin.
ROLE_FOR_ENHET_TYPE = {
    "socialtjanst": "socialsekreterare",
    "vard": "vardpersonal",
    "forsakringskassan": "handlaggare",
    "arbetsformedlingen": "arbetsformedlare",
    "jobbtorg": "jobbcoach",
    "finsam": "koordinator",
}
DEFAULT_ROLE = "socialsekreterare"

UNKNOWN_REFUSED = ("Du har inget konto i formservice. Kontakta din administratör så att ett konto "
                   "läggs upp åt dig.")
PENDING_UNCONFIGURED = ("Du har inget konto i formservice, och nya konton kan inte skapas automatiskt "
                        "eftersom det inte är inställt vilken enhet de ska höra till. Be din administratör "
                        "ange inställningen {setting}, eller lägga upp ett konto åt dig.")
PENDING_CREATED = ("Ett konto har skapats åt dig. En administratör måste godkänna det innan du kan logga in; "
                   "försök igen när du har fått besked om att det är godkänt.")
PENDING_WAITING = ("Ditt konto väntar på att en administratör godkänner det. Du kan logga in när det är "
                   "godkänt; kontakta din administratör om det dröjer.")
DEACTIVATED = "Ditt konto i formservice är inaktiverat. Kontakta din administratör om du behöver logga in."
PENDING_TITLE = "Kontot väntar på godkännande"


@dataclass(frozen=True)
class ExternalIdentity:
    """Who the provider says came back: the value of the configured claim, and what the provider
    needs at log-out (kept in the server-side, encrypted session)."""

    provider: str
    external_id: str
    namn: str = ""
    epost: str = ""
    logout_data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NewUsers:
    """What to do with someone the provider knows but formservice does not."""

    mode: str = "refuse"  # "refuse" or "pending"
    enhet_id: int | None = None  # where a pending user is created


class LoginFailed(Exception):
    """A refused or broken sign-in: ``message`` (Swedish) for the person, ``reason`` (no personal
    data) for the audit log and the server log, ``status`` for the response."""

    def __init__(self, message: str, reason: str, status: int = 400, *, user: User | None = None,
                 title: str | None = None):
        super().__init__(reason)
        self.message = message
        self.reason = reason
        self.status = status
        self.user = user
        self.title = title


class LoginProvider(Protocol):
    id: str  # in the addresses: /logga-in/<id> and /logga-in/<id>/svar
    label: str  # the text of the sign-in button
    new_users: NewUsers

    def start(self, store: MutableMapping, redirect_uri: str) -> str:
        """The address to send the browser to; what the return must match is kept in ``store``
        (the session). Raises LoginFailed."""

    def finish(self, store: MutableMapping, params: Mapping[str, str], redirect_uri: str) -> ExternalIdentity:
        """Check what came back to ``redirect_uri`` against ``store``; raises LoginFailed."""

    def logout_url(self, logout_data: Mapping, post_logout_redirect_uri: str) -> str | None:
        """Where to end the provider's session too, or None when it cannot be ended there."""


def configured(config: Mapping) -> dict[str, LoginProvider]:
    """The providers the configuration turns on, by id (in the order the buttons are shown)."""
    found: dict[str, LoginProvider] = {}
    if config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"):
        from .oidc import OidcProvider

        provider = OidcProvider.from_config(config)
        found[provider.id] = provider
    if config.get("SAML_IDP_METADATA") and config.get("SAML_SP_ENTITY_ID"):
        from .saml import SamlProvider

        provider = SamlProvider.from_config(config)
        found[provider.id] = provider
    return found


def new_users_policy(mode: str | None, enhet_id) -> NewUsers:
    mode = (mode or "refuse").strip().lower()
    if mode not in {"refuse", "pending"}:
        log.warning("unknown-users setting %r is neither 'refuse' nor 'pending': refusing", mode)
        mode = "refuse"
    return NewUsers(mode=mode, enhet_id=int(enhet_id) if enhet_id not in (None, "") else None)


def sign_in(identity: ExternalIdentity, new_users: NewUsers) -> User:
    """The user the identity belongs to, ready for ``login.start_session``; LoginFailed otherwise."""
    user = db.session().scalar(select(User).where(User.external_id == identity.external_id))
    if user is None:
        return _unknown(identity, new_users)
    if user.pending_approval:
        raise LoginFailed(PENDING_WAITING, "väntar på godkännande", 403, user=user, title=PENDING_TITLE)
    if not user.active:
        raise LoginFailed(DEACTIVATED, "inaktiverat konto", 403, user=user)
    return user


def _unknown(identity: ExternalIdentity, new_users: NewUsers) -> User:
    if new_users.mode != "pending":
        raise LoginFailed(UNKNOWN_REFUSED, "okänd användare", 403)
    dbs = db.session()
    enhet = dbs.get(Enhet, new_users.enhet_id) if new_users.enhet_id is not None else None
    if enhet is None:
        setting = f"FORMSERVICE_{identity.provider.upper()}_PENDING_ENHET_ID"  # the provider's own setting
        log.warning("unknown users are to wait for approval, but %s (%s) names no enhet", setting, new_users.enhet_id)
        raise LoginFailed(PENDING_UNCONFIGURED.format(setting=setting), "okänd användare; ingen enhet för nya konton",
                          403)
    user = User(username=_free_username(identity), password_hash=login.UNUSABLE_PASSWORD,
                role=ROLE_FOR_ENHET_TYPE.get(enhet.typ, DEFAULT_ROLE), enhet_id=enhet.id,
                namn=(identity.namn or identity.external_id)[:200], epost=identity.epost[:200],
                external_id=identity.external_id, active=False, pending_approval=True)
    dbs.add(user)
    try:
        dbs.flush()
    except IntegrityError:  # the same person's first sign-in in another tab got there first
        dbs.rollback()
        raise LoginFailed(PENDING_WAITING, "väntar på godkännande", 403, title=PENDING_TITLE) from None
    audit.record("user_created", object_type="anvandare", object_id=str(user.id),
                 detail="vid första inloggningen; väntar på godkännande", commit=False,
                 organisation_id=enhet.organisation_id)
    dbs.commit()
    log.info("user_id=%s created at a first sign-in, waiting for approval", user.id)
    raise LoginFailed(PENDING_CREATED, "nytt konto väntar på godkännande", 403, user=user, title=PENDING_TITLE)


def _free_username(identity: ExternalIdentity) -> str:
    """The e-mail address (else the claim), lower-cased, without spaces; "-2", "-3" … when taken."""
    base = "".join(login.normalise_username(identity.epost or identity.external_id).split())[:110]
    base = base or "anvandare"
    name, n = base, 1
    while db.session().scalar(select(User.id).where(User.username == name)) is not None:
        n += 1
        name = f"{base}-{n}"
    return name
