"""The doctor's answers to a förfrågan."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formservice.db import Base, utcnow

from formservice.arenden.models import Dokument


class Svar(Base):
    """The doctor's answers to a förfrågan: read from a returned fillable PDF or typed from paper,
    checked by the socialsekreterare before they count (status granskas → bekraftad). One answer
    is current per document: confirming a new one turns the earlier into "ersatt" (kept as history);
    one that came in before the current one is filed as "ersatt" unless the socialsekreterare
    chooses to let it replace the newer (doctor.answers.confirm)."""

    __tablename__ = "svar"
    __encrypted__ = ("answers_enc", "pdf_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    dokument_id: Mapped[int] = mapped_column(ForeignKey("dokument.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "pdf" | "papper" | "online" (the doctor in formservice)
    status: Mapped[str] = mapped_column(String(20), default="granskas")  # granskas | bekraftad | ersatt
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # archive copy rendered from the confirmed answers
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    dokument: Mapped[Dokument] = relationship()

    @property
    def source_label(self) -> str:
        """How the answer came, as the ärende's pages say it."""
        return {"pdf": "uppladdad PDF", "papper": "pappersblankett", "online": "besvarat i formservice"}.get(
            self.source, self.source)

    @property
    def came_in_word(self) -> str:
        return {"pdf": "inläst", "papper": "inskrivet", "online": "besvarat"}.get(self.source, self.source)
