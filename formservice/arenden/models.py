"""Ärenden: the individ (encrypted), the search hashes, the history, drafts and produced documents."""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from formservice.db import Base, utcnow
from formservice.processkarta.model import RUTA_ID_MAX

from formservice.accounts.models import Enhet, Organisation, User

def _map_version() -> str | None:
    """The version of the map the app runs with (every history entry records it)."""
    from flask import current_app, has_app_context

    if not has_app_context() or "catalogue" not in current_app.extensions:
        return None
    return current_app.extensions["catalogue"].process_map.version or None


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
    __encrypted__ = ("individ_enc", "svar_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # the id in URLs: random, never the pnr
    enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="RESTRICT"), index=True)
    handlaggare_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    lane: Mapped[str] = mapped_column(String(RUTA_ID_MAX))
    ruta: Mapped[str] = mapped_column(String(RUTA_ID_MAX))
    status: Mapped[str] = mapped_column(String(20), default="oppet")
    individ_enc: Mapped[bytes] = mapped_column(LargeBinary)
    svar_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pnr_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Closing (migration 0011): the date the caseworker gives and why, as the key of an end state
    # of the process map or of a general reason (arenden/closing.py); None while the ärende is open.
    # For follow-up statistics, derived from the personnummer (arenden/demografi.py): "K"/"M" and
    # the age band when the ärende was opened. Plain, so that counting never decrypts (0016).
    kon: Mapped[str | None] = mapped_column(String(1), nullable=True)
    aldersgrupp: Mapped[str | None] = mapped_column(String(8), nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # The ärende's record key for the follow-up's cell-key method (uppfoljning/anonymisering.py): a
    # random 32-bit number fixed at creation; a published count of ärenden is rounded by the sum of
    # its ärendens keys, which the database sums with the count (migration 0021).
    cellnyckel: Mapped[int] = mapped_column(BigInteger, default=lambda: secrets.randbits(32))

    enhet: Mapped[Enhet] = relationship()
    handlaggare: Mapped[User | None] = relationship()

    # The case list: one enhet's ärenden, newest first (migration 0005).
    __table_args__ = (Index("ix_arende_enhet_updated", "enhet_id", "updated_at", "id"),
                      Index("ix_arende_status_ruta", "status", "ruta", "enhet_id", "kon", "aldersgrupp", "cellnyckel"),
                      Index("ix_arende_avslutade", "status", "closed_on", "closed_reason", "enhet_id", "kon",
                            "aldersgrupp", "cellnyckel"))
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
    __encrypted__ = ("note_enc",)
    __table_args__ = (Index("ix_handelse_arende_at", "arende_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    from_ruta: Mapped[str | None] = mapped_column(String(RUTA_ID_MAX), nullable=True)
    to_ruta: Mapped[str | None] = mapped_column(String(RUTA_ID_MAX), nullable=True)
    beslut: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The process map's version when the entry was made (ProcessMap.version); None before 0015.
    karta_version: Mapped[str | None] = mapped_column(String(16), nullable=True, default=_map_version)

    user: Mapped[User | None] = relationship()


class Utkast(Base):
    """A blankett being filled in for an ärende: saved at every step, shared by the enhet."""

    __tablename__ = "utkast"
    __encrypted__ = ("values_enc",)

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
    __encrypted__ = ("pdf_enc", "docx_enc", "fillable_enc", "archive_enc", "values_enc")

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
    pdf_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    docx_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    fillable_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)  # the doctor's fillable PDF
    archive_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)  # PDF/A archive copy
    values_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # "<utkast id>:<version>" the document was produced from: the same draft version gives one document.
    utkast_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # False from the click until the rest (DOCX, each part, the archive and fillable copies) is
    # written after the response (registry.complete); migration 0014.
    klar: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    creator: Mapped[User | None] = relationship()

    __table_args__ = (Index("ux_dokument_arende_utkast", "arende_id", "utkast_ref", unique=True),)


class DokumentDel(Base):
    """One part of a produced document (the blankett, a bilaga, or one recipient's copy) as PDF and
    DOCX of its own; the title names the part (a recipient's name, so it is encrypted)."""

    __tablename__ = "dokument_del"
    __encrypted__ = ("title_enc", "pdf_enc", "docx_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    dokument_id: Mapped[int] = mapped_column(ForeignKey("dokument.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    blankett_id: Mapped[str] = mapped_column(String(60))
    title_enc: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_enc: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    docx_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    __table_args__ = (Index("ux_dokument_del_position", "dokument_id", "position", unique=True),)


class Samtycke(Base):
    """A consent the individ signed (sekretessmedgivande, Finsamteam samtycke): to sharing what
    between which parties, from when until when, and its revocation. Recorded by the caseworker
    when the signed blankett comes back (arenden/consents.py)."""

    __tablename__ = "samtycke"
    __encrypted__ = ("given_by_enc", "scope_enc", "note_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    # The document whose signed bilaga this is (None: a consent given on a paper made elsewhere).
    dokument_id: Mapped[int | None] = mapped_column(ForeignKey("dokument.id", ondelete="SET NULL"), nullable=True)
    blankett_id: Mapped[str] = mapped_column(String(60))  # the consent blankett: its kind
    parties: Mapped[str] = mapped_column(String(200))  # party keys, comma separated (blanketter.model.PARTIES)
    given_by_enc: Mapped[bytes] = mapped_column(LargeBinary)  # the individ or the legal representative
    scope_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # what may be shared, why
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    revoked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # e.g. how it was revoked
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    @property
    def party_keys(self) -> tuple[str, ...]:
        return tuple(p for p in self.parties.split(",") if p)

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until and (self.revoked_on is None or day < self.revoked_on)


# ---------------------------------------------------------------- gallring (migration 0012)
# The rules themselves are data in arenden/gallring.py; these tables hold what an organisation
# changed, its exemptions, the ärenden on hold and the log of what was deleted (arenden/gallring.py).

class Gallringsregel(Base):
    """An organisation's own period for one kind of record (otherwise the default applies)."""

    __tablename__ = "gallringsregel"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[int] = mapped_column(Integer)  # in the kind's unit (years, days, hours)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (Index("ux_gallringsregel_organisation_kind", "organisation_id", "kind", unique=True),)


class Gallringsundantag(Base):
    """What an organisation exempts from the gallring of closed ärenden: persons born on certain
    days of the month, or everything (a kommun in the research sample). No row: the default."""

    __tablename__ = "gallringsundantag"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                                 primary_key=True)
    birth_days: Mapped[str] = mapped_column(String(100), default="")  # "5,15,25"
    keep_all: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)

    organisation: Mapped[Organisation] = relationship()


class Gallringsstopp(Base):
    """An ärende on hold: never gallrat while this row exists. The reason may name circumstances
    of the case, so it is encrypted."""

    __tablename__ = "gallringsstopp"
    __encrypted__ = ("reason_enc",)

    id: Mapped[int] = mapped_column(primary_key=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), unique=True)
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)

    arende: Mapped[Arende] = relationship()
    setter: Mapped[User | None] = relationship()


class Gallringslogg(Base):
    """What a gallring run deleted: rule, kind, count, time. Never personal data; append-only in the
    database (migration 0012) and never gallrad itself."""

    __tablename__ = "gallringslogg"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # no FK: survives
    kind: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(200))  # e.g. "5 år efter sista anteckningen"
    count: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer, default=0)  # due but exempted or on hold


# Whether a document has a fillable or an archive copy, without loading the copy: the document
# list asks this for every document, and the blobs themselves are deferred.
Dokument.has_fillable = column_property(Dokument.__table__.c.fillable_enc.isnot(None))
Dokument.has_archive = column_property(Dokument.__table__.c.archive_enc.isnot(None))


class Statistik(Base):
    """Follow-up counts kept as ärenden move (arenden/statistik.py); no personal data."""

    __tablename__ = "statistik"
    __table_args__ = (UniqueConstraint("slag", "manad", "enhet_id", "kon", "aldersgrupp", "nyckel", "dagar",
                                       name="uq_statistik_cell"),
                      # every follow-up query reads only this index (the count and the cell key included)
                      Index("ix_statistik_las", "slag", "kon", "manad", "aldersgrupp", "nyckel", "dagar",
                            "enhet_id", "antal", "cellnyckel"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slag: Mapped[str] = mapped_column(String(12))
    manad: Mapped[str] = mapped_column(String(7))  # "2026-11"
    enhet_id: Mapped[int] = mapped_column(Integer)
    kon: Mapped[str] = mapped_column(String(1), default="")
    aldersgrupp: Mapped[str] = mapped_column(String(8), default="")
    nyckel: Mapped[str] = mapped_column(String(60))
    dagar: Mapped[int] = mapped_column(Integer, default=-1)
    antal: Mapped[int] = mapped_column(Integer, default=0)
    cellnyckel: Mapped[int] = mapped_column(BigInteger, default=0)  # arenden/statistik.py: the row's cell key


class KartaGodkand(Base):
    """The process map versions an admin took into use, newest last (arenden/kartversion.py). In the
    database, not in instance/, so every host on the database follows the same approval."""

    __tablename__ = "processkarta_godkand"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None: taken over from instance/processkarta-godkand.txt, or the admin's account is gone.
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)


class SprakTexter(Base):
    """An organisation's own texts of one language of the individ's documents (an uploaded PO file),
    or its own review mark, or both (arenden/sprakgranskning.py). Without a row the shipped files in
    translations/ count. `stamp` is new at every change: each worker compares it when a translated
    document is made, so a change takes effect everywhere without a restart."""

    __tablename__ = "sprak_texter"
    __table_args__ = (UniqueConstraint("organisation_id", "kod", name="uq_sprak_texter_organisation_kod"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    kod: Mapped[str] = mapped_column(String(20))
    po: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # None: the shipped texts
    granskad: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: the PO header decides
    granskad_av: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the translator, as typed
    granskad_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    stamp: Mapped[str] = mapped_column(String(32))
    andrad_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    andrad_av: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
