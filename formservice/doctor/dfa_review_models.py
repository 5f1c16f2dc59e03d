"""The caseworker's DFA review of a läkarintyg (processkartan Soc 1, ruta 7–8)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from formservice.db import Base, utcnow


class DfaGranskning(Base):
    """One review of one läkarintyg: where the intyg came from (a confirmed answer to a förfrågan,
    text typed in, or a PDF uploaded to look at), the caseworker's answer per DFA link with what is
    missing, and the outcome (ja: komplett, nej: a komplettering is asked for). Everything the
    caseworker wrote, and an uploaded intyg, is encrypted; reviews go with their ärende at gallring."""

    __tablename__ = "dfa_granskning"
    __encrypted__ = ("answers_enc", "intyg_enc", "pdf_enc")

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    arende_id: Mapped[int] = mapped_column(ForeignKey("arende.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "forfragan" | "inskrivet" | "uppladdat"
    svar_id: Mapped[int | None] = mapped_column(ForeignKey("svar.id", ondelete="SET NULL"), nullable=True)
    intyg_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # typed text / description
    pdf_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # an uploaded intyg, checked
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)  # per link: ja/nej and what is missing
    result: Mapped[str] = mapped_column(String(10))  # "ja" | "nej"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    @property
    def source_label(self) -> str:
        return {"forfragan": "svar på förfrågan", "inskrivet": "inskrivet läkarintyg",
                "uppladdat": "uppladdat läkarintyg (PDF)"}.get(self.source, self.source)
