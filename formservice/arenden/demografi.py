"""Kön and age band for follow-up statistics, derived from the personnummer when an ärende is
created or its individ changed, and stored in plain, non-identifying columns (Arende.kon,
Arende.aldersgrupp), so that statistics never decrypt anything. Nothing new is typed.

Kön is the personnummer's ninth digit (odd: man, even: kvinna; samordningsnummer alike). The age
band is the age when the ärende was opened, in bands wide enough to count people, not find them;
the first band ends at 29 because aktivitetsersättning (19–29 år) and sjukersättning differ there.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from formservice import db

from .models import Arende

KON = {"K": "Kvinnor", "M": "Män"}
AGE_BANDS = (("-29", "Upp till 29 år", 0, 29), ("30-39", "30–39 år", 30, 39), ("40-49", "40–49 år", 40, 49),
             ("50-59", "50–59 år", 50, 59), ("60-", "60 år och äldre", 60, 200))
AGE_BAND_TITLES = {key: title for key, title, _lo, _hi in AGE_BANDS}


def kon(personnummer: str) -> str | None:
    """"K" or "M" from a 12-digit personnummer or samordningsnummer (its ninth digit in the
    10-digit form); None if it is not 12 digits."""
    if len(personnummer) != 12 or not personnummer.isdigit():
        return None
    return "M" if int(personnummer[10]) % 2 else "K"


def aldersgrupp(personnummer: str, on: date) -> str | None:
    """The age band on the given day (a samordningsnummer's day is the birth day plus 60)."""
    if len(personnummer) != 12 or not personnummer.isdigit():
        return None
    year, month, day = int(personnummer[:4]), int(personnummer[4:6]), int(personnummer[6:8])
    day -= 60 if day > 60 else 0
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return next((key for key, _title, lo, hi in AGE_BANDS if lo <= age <= hi), None)


def set_columns(arende: Arende, personnummer: str, on: date) -> None:
    arende.kon = kon(personnummer)
    arende.aldersgrupp = aldersgrupp(personnummer, on)


def backfill(batch: int = 500) -> int:
    """Fill kön and age band for ärenden made before the columns existed (migration 0016): the age
    band as of the day the ärende was created. Returns how many were filled."""
    from .operations import individ  # operations imports this module

    dbs = db.session()
    done = 0
    while True:
        rows = dbs.scalars(select(Arende).where(Arende.kon.is_(None), Arende.aldersgrupp.is_(None))
                           .order_by(Arende.id).limit(batch)).all()
        if not rows:
            return done
        for arende in rows:
            pnr = individ(arende).get("personnummer", "")
            set_columns(arende, pnr, arende.created_at.date())
            if arende.kon is None and arende.aldersgrupp is None:
                arende.aldersgrupp = "?"  # unreadable personnummer: counted as unknown, not retried
            done += 1
        dbs.commit()
