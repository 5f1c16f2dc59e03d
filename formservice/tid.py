"""Swedish time. Every timestamp is stored as naive UTC (db.utcnow); people read and type the time
in Sweden. One place for the conversion and the written form (ÅÅÅÅ-MM-DD, ÅÅÅÅ-MM-DD HH:MM), used by
every wing – the print and seal texts included, so it imports nothing of formservice."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(moment: datetime) -> datetime:
    """The moment in Swedish time; a naive moment is stored UTC."""
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(STOCKHOLM)


def local_date(moment: datetime) -> date:
    return local(moment).date()


def today() -> date:
    """Today in Sweden (the server's clock may run in UTC)."""
    return datetime.now(STOCKHOLM).date()


def text(moment: datetime | None, *, with_time: bool = True, seconds: bool = False, missing: str = "") -> str:
    """As people read it: 2026-12-07 14:05 (with_time), 2026-12-07, or `missing` for no moment."""
    if moment is None:
        return missing
    return local(moment).strftime("%Y-%m-%d" + (" %H:%M" + (":%S" if seconds else "") if with_time else ""))
