"""Numbers taken from a request, parsed with bounds: a page number or a form's version never
becomes a 500 or a query with an absurd offset."""
from __future__ import annotations

MAX_PAGE = 10_000


def bounded_int(text: str | None, *, default: int, low: int, high: int) -> int:
    """``text`` as an int within [low, high]; anything else (letters, ², 5,000 digits) is ``default``."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        return default
    value = int(text)
    return value if low <= value <= high else default


def page_number(text: str | None) -> int:
    return bounded_int(text, default=1, low=1, high=MAX_PAGE)


def posted_version(field: str = "version") -> int:
    """The version a form was shown at; a missing or garbled one is -1 (stale: a conflict), never a 500."""
    from flask import request

    return bounded_int(request.form.get(field), default=-1, low=0, high=2**31 - 1)
