"""Organisations, enheter, users, login attempts, server-side sessions and API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from formservice.db import Base, utcnow


ROLES = {
    "socialsekreterare": "Socialsekreterare",
    "vardpersonal": "Vårdpersonal",
    "handlaggare": "Handläggare, Försäkringskassan",
    "arbetsformedlare": "Arbetsförmedlare",
    "jobbcoach": "Jobbcoach",
    "koordinator": "Koordinator, Finsamteam",
    "uppfoljare": "Uppföljare (statistik, inga ärenden)",
    "admin": "Administratör",
}

ORGANISATION_TYPES = {
    "kommun": "Kommun",
    "region": "Region",
    "myndighet": "Myndighet",
    "samordningsforbund": "Samordningsförbund",
}

# What kind of unit an enhet is: which party of the process it belongs to.
ENHET_TYPES = {
    "socialtjanst": "Socialtjänsten (ekonomiskt bistånd)",
    "vard": "Hälso- och sjukvården",
    "forsakringskassan": "Försäkringskassan",
    "arbetsformedlingen": "Arbetsförmedlingen",
    "jobbtorg": "Jobbtorg",
    "finsam": "Finsamteam / Samordningsförbundet",
    "annan": "Annan",
}


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    namn: Mapped[str] = mapped_column(String(200), unique=True)
    typ: Mapped[str] = mapped_column(String(40))
    # Organisation-level texts used on blanketter (e.g. the Finsam koordinator's address), as JSON.
    installningar: Mapped[str] = mapped_column(Text, default="{}")
    # Where to report an accessibility problem or ask for content in another form: shown in the
    # tillgänglighetsredogörelse (migration 0013).
    kontakt_epost: Mapped[str | None] = mapped_column(String(254), nullable=True)
    kontakt_telefon: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Whether the organisation's follow-up aggregates (never ärenden) may be seen by a
    # Samordningsförbund's uppföljare, as agreed between them (migration 0016).
    uppfoljning_delas: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The Samordningsförbund the organisation is a member of (an organisation of typ
    # "samordningsforbund"; migration 0020): its name on the förbund's blanketter, and the only
    # förbund that sees the organisation's shared follow-up.
    forbund_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), nullable=True)
    forbund: Mapped["Organisation | None"] = relationship(remote_side=[id], foreign_keys=[forbund_id])
    # The organisation's logo as its admin uploaded it, re-encoded (accounts/logo.py): in the page
    # header and at the top of its blanketter (migration 0023). Not personal data.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    logo_andrad: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    enheter: Mapped[list["Enhet"]] = relationship(back_populates="organisation")


# Whether an organisation has a logo, without loading it (every page's header asks).
Organisation.has_logo = column_property(Organisation.__table__.c.logo.isnot(None))


class Enhet(Base):
    __tablename__ = "enhet"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    namn: Mapped[str] = mapped_column(String(200))
    utdelningsadress: Mapped[str] = mapped_column(String(200), default="")
    postnummer: Mapped[str] = mapped_column(String(10), default="")
    ort: Mapped[str] = mapped_column(String(100), default="")
    telefon: Mapped[str] = mapped_column(String(40), default="")
    typ: Mapped[str] = mapped_column(String(40), default="socialtjanst")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The enhet's funktionsadress: the e-mail of a function (never a person's), told when a
    # hand-over arrives in the enhet's inbox in formservice (samverkan; migration 0022).
    funktionsadress: Mapped[str] = mapped_column(String(254), default="", server_default="")

    organisation: Mapped[Organisation] = relationship(back_populates="enheter")
    users: Mapped[list["User"]] = relationship(back_populates="enhet")

    @property
    def postadress(self) -> str:
        return " ".join(p for p in (self.postnummer, self.ort) if p)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    namn: Mapped[str] = mapped_column(String(200))
    titel: Mapped[str] = mapped_column(String(200), default="")
    telefon: Mapped[str] = mapped_column(String(40), default="")
    epost: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A temporary password set by an admin: every page leads to "byt lösenord" until it is changed.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # The identity provider's value of the configured claim (sub, HSA-id, e-mail), for OIDC sign-in.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    # Created at a first OIDC sign-in when the organisation approves new users by hand.
    pending_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    enhet: Mapped[Enhet] = relationship(back_populates="users")

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginAttempt(Base):
    """Failed and successful logins, for rate limiting. Keys are keyed hashes, never the typed text."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_login_attempt_account_at", "account_key", "at"),
        Index("ix_login_attempt_client_at", "client_key", "at"),
    )


class WebSession(Base):
    """Server-side session: the cookie holds a random token, the table holds its SHA-256."""

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ApiToken(Base):
    """A bearer token for the JSON API, acting as its user. Only the SHA-256 of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship()


class ApiRequest(Base):
    """A costly API request (a render), counted per caller ("token:<id>" or "user:<id>") for the rate
    limit; the database makes the limit one for all workers."""

    __tablename__ = "api_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_api_request_caller_at", "caller", "at"),)


class SamlAssertion(Base):
    """A SAML assertion that has been used (accounts/saml.py), kept until it would have expired: the
    database, not a worker's memory, is what makes a replay fail on every worker and host. Until the
    browser comes back same-site, ``identity_enc`` holds who it names (encrypted), found by the
    SHA-256 of a one-use hand-over token."""

    __tablename__ = "saml_assertion"

    id: Mapped[int] = mapped_column(primary_key=True)
    assertion_key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of issuer + assertion ID
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    identity_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
