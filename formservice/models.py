"""SQLAlchemy models. The schema itself is created by the Alembic migrations."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every timestamp is stored as naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


ROLES = {
    "socialsekreterare": "Socialsekreterare",
    "vardpersonal": "Vårdpersonal",
    "handlaggare": "Handläggare, Försäkringskassan",
    "arbetsformedlare": "Arbetsförmedlare",
    "jobbcoach": "Jobbcoach",
    "koordinator": "Koordinator, Finsamteam",
    "admin": "Administratör",
}

ORGANISATION_TYPES = {
    "kommun": "Kommun",
    "region": "Region",
    "myndighet": "Myndighet",
    "samordningsforbund": "Samordningsförbund",
}


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    namn: Mapped[str] = mapped_column(String(200), unique=True)
    typ: Mapped[str] = mapped_column(String(40))
    # Organisation-level texts used on blanketter (e.g. the Finsam koordinator's address), as JSON.
    installningar: Mapped[str] = mapped_column(Text, default="{}")

    enheter: Mapped[list["Enhet"]] = relationship(back_populates="organisation")


class Enhet(Base):
    __tablename__ = "enhet"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"))
    namn: Mapped[str] = mapped_column(String(200))
    utdelningsadress: Mapped[str] = mapped_column(String(200), default="")
    postnummer: Mapped[str] = mapped_column(String(10), default="")
    ort: Mapped[str] = mapped_column(String(100), default="")
    telefon: Mapped[str] = mapped_column(String(40), default="")

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

    user: Mapped[User] = relationship()


# ---------------------------------------------------------------- ärenden
# Personal data (the individ, answers, notes, documents) is stored encrypted (see crypto.py):
# columns ending in _enc hold AES-GCM blobs; search goes through keyed hashes.

ARENDE_STATUS = {"oppet": "Öppet", "avslutat": "Avslutat"}
DOKUMENT_STATUS = {
    "skapad": "Skapad",
    "utskriven": "Utskriven",
    "skickad": "Skickad",
    "mottagen": "Mottagen",
    "besvarad": "Besvarad",
}


class Arende(Base):
    __tablename__ = "arende"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # the id in URLs: random, never the pnr
    enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="RESTRICT"), index=True)
    handlaggare_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    lane: Mapped[str] = mapped_column(String(20))
    ruta: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="oppet")
    individ_enc: Mapped[bytes] = mapped_column(LargeBinary)
    svar_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pnr_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    enhet: Mapped[Enhet] = relationship()
    handlaggare: Mapped[User | None] = relationship()

    # The case list: one enhet's ärenden, newest first (migration 0005).
    __table_args__ = (Index("ix_arende_enhet_updated", "enhet_id", "updated_at", "id"),)
    __mapper_args__ = {"version_id_col": version}


class ArendeSokord(Base):
    """Keyed hashes of the prefixes of the individ's name: search by name without plain text."""

    __tablename__ = "arende_sokord"

    id: Mapped[int] = mapped_column(primary_key=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)


class Handelse(Base):
    """The ärende's history: every ruta passed and decision taken, every document made."""

    __tablename__ = "handelse"

    id: Mapped[int] = mapped_column(primary_key=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    from_ruta: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_ruta: Mapped[str | None] = mapped_column(String(20), nullable=True)
    beslut: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    user: Mapped[User | None] = relationship()


class Utkast(Base):
    """A blankett being filled in for an ärende: saved at every step, shared by the enhet."""

    __tablename__ = "utkast"

    id: Mapped[int] = mapped_column(primary_key=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    blankett_id: Mapped[str] = mapped_column(String(60))
    values_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ux_utkast_arende_blankett", "arende_id", "blankett_id", unique=True),)
    __mapper_args__ = {"version_id_col": version}


class Dokument(Base):
    """A produced document, kept exactly as produced (encrypted) so it can be downloaded again."""

    __tablename__ = "dokument"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    blankett_id: Mapped[str] = mapped_column(String(60))
    blankett_version: Mapped[str] = mapped_column(String(40))
    document_number: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="skapad")
    status_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    pdf_enc: Mapped[bytes] = mapped_column(LargeBinary)
    docx_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    fillable_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the doctor's fillable PDF
    values_enc: Mapped[bytes] = mapped_column(LargeBinary)

    creator: Mapped[User | None] = relationship()


class AuditEntry(Base):
    """Append-only audit log: who did what to which object, from where. Never personal data."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # no FK: survives deletion
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Svar(Base):
    """The doctor's answers to a förfrågan: read from a returned fillable PDF or typed from paper,
    checked by the socialsekreterare before they count (status granskas → bekraftad)."""

    __tablename__ = "svar"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    dokument_id: Mapped[int] = mapped_column(ForeignKey("dokument.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "pdf" | "papper"
    status: Mapped[str] = mapped_column(String(20), default="granskas")
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # flattened archive once confirmed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    dokument: Mapped[Dokument] = relationship()
