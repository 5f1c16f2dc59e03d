"""Hand-overs between the parties' enheter and who of another party has seen them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formservice.db import Base, utcnow

from formservice.accounts.models import Enhet, User
from formservice.arenden.models import Arende, Dokument

# A hand-over's own state, as the recipient moves it (the sender's document status follows:
# skickad → mottagen when accepted → besvarad when answered).
OVERLAMNING_STATUS = {
    "skickad": "Väntar på mottagaren",
    "mottagen": "Mottagen",
    "besvarad": "Besvarad",
    "returnerad": "Returnerad",
}


class Overlamning(Base):
    """A document sent from one enhet's ärende to another enhet's inbox (its funktionsadress).

    The recipient sees it only while a samtycke on the sender's ärende covers the recipient's party
    (samverkan.access); accepting it opens or links the recipient's own ärende (mottagare_arende_id).
    The recipient's answer is kept here (encrypted) and, for the doctor's answer, as the sender's
    Svar; the return reason too (it may name circumstances of the case)."""

    __tablename__ = "overlamning"
    __encrypted__ = ("svar_enc", "anledning_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    dokument_id: Mapped[int] = mapped_column(ForeignKey("dokument.id", ondelete="CASCADE"), index=True)
    # The part of a document sent (one invited party's copy of a SIP-kallelse), else None: the whole.
    del_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fran_arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    fran_enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="RESTRICT"))
    till_enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="RESTRICT"))
    # The party whose consent the hand-over needs (blanketter.model.PARTIES key, or "finsam").
    part: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="skickad")
    skickad_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    skickad_av: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    mottagen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    mottagen_av: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
    besvarad_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    besvarad_av: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
    # The recipient's own ärende for the individ, once accepted (it stays theirs after a revocation).
    mottagare_arende_id: Mapped[int | None] = mapped_column(ForeignKey("arende.id", ondelete="SET NULL"),
                                                            nullable=True, index=True)
    svar_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    anledning_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Set when the sender's ärende was closed, so the recipient is told (closing tells the linked parties).
    avslutad_hos_avsandaren: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Sent as an SDK package (samverkan/sdk.py, migration 0028): the conversation id (a UUID, also the
    # first message's id) the recipient's SDK client answers in; None: handed over inside formservice.
    sdk_konversation: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    # The package is written by the job worker after the send (samverkan/packages.py, migration 0030):
    # when it was written, or why it could not be (Swedish, for the sender; no personal data).
    # Neither set: the package is being written ("SDK-paketet skrivs…").
    sdk_paket_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sdk_paket_fel: Mapped[str | None] = mapped_column(String(300), nullable=True)

    dokument: Mapped[Dokument] = relationship()
    fran_arende: Mapped[Arende] = relationship(foreign_keys=[fran_arende_id])
    mottagare_arende: Mapped[Arende | None] = relationship(foreign_keys=[mottagare_arende_id])
    fran_enhet: Mapped[Enhet] = relationship(foreign_keys=[fran_enhet_id])
    till_enhet: Mapped[Enhet] = relationship(foreign_keys=[till_enhet_id])
    avsandare: Mapped[User | None] = relationship(foreign_keys=[skickad_av])

    __table_args__ = (Index("ix_overlamning_inkorg", "till_enhet_id", "status", "skickad_at"),)


class SdkAdress(Base):
    """An enhet's address in Säker digital kommunikation (docs/sdk.md): the organisation's participant
    id ("0203:…", iso6523-actorid-upis) and the enhet's SDK funktionsadress. A sending enhet needs one
    for the envelope's sender; an enhet `utanfor` formservice is reached only this way – a hand-over to
    it is written as a package for the sending organisation's SDK client, never put in an inbox here."""

    __tablename__ = "samverkan_sdk_adress"

    id: Mapped[int] = mapped_column(primary_key=True)
    enhet_id: Mapped[int] = mapped_column(ForeignKey("enhet.id", ondelete="CASCADE"), unique=True)
    deltagare: Mapped[str] = mapped_column(String(100))
    funktionsadress: Mapped[str] = mapped_column(String(254))
    utanfor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    enhet: Mapped[Enhet] = relationship()


class Visning(Base):
    """A user of another party than the sender's seeing a shared item ("Vem har sett vad"): shown
    to the sender and in the individ's registerutdrag. Never the content, only what and when."""

    __tablename__ = "samverkan_visning"

    id: Mapped[int] = mapped_column(primary_key=True)
    overlamning_id: Mapped[int] = mapped_column(ForeignKey("overlamning.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
    enhet_id: Mapped[int] = mapped_column(Integer)  # the viewer's enhet then (no FK: the log survives)
    vad: Mapped[str] = mapped_column(String(40))  # "överlämningen", "dokumentet (PDF)", "svaret", …

    user: Mapped[User | None] = relationship()
