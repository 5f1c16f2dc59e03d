"""Validation and normalisation of answers, shared by the web form, the API and the
read-back of returned PDFs. Pure Python (no flask); messages are Swedish for the user.

`validate_values` returns clean values in the shapes of docs/architecture.md:
str for text types (personnummer as 12 digits, dates ÅÅÅÅ-MM-DD, times HH:MM),
bool for checkboxes, int for percent and scale, list[dict] for rows.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from formservice import tid

__all__ = [
    "ValidationError", "clean_value", "format_personnummer", "is_samordningsnummer",
    "normalize_personnummer", "normalize_phone", "parse_checkbox", "parse_choice",
    "DATE_HINT", "date_or_error", "parse_date", "parse_percent", "parse_scale", "parse_time", "too_long",
    "validate_email", "validate_values",
]


class ValidationError(ValueError):
    """str(e) is a Swedish sentence for the user (without the field's label)."""


# --- personnummer -----------------------------------------------------------------------

_PNR = re.compile(r"^([0-9]{6}|[0-9]{8})([-+]?)([0-9]{4})$")
# The oldest birth year taken as plausible: nobody alive was born more than 130 years ago.
_MAX_AGE_YEARS = 130
# Dashes people paste from word processors and web pages, read as the hyphen they mean.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), "-")


def ascii_digits(text: str) -> str:
    """Every decimal digit as its ASCII digit ("١٢" or full-width "１２" → "12") and typographic dashes
    as "-": a personnummer is stored, hashed and searched in one form, whatever keyboard typed it."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdecimal() and not ch.isascii() else ch
                   for ch in text.translate(_DASHES))


def _luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _birth_date(year: int, month: int, day: int) -> date | None:
    if day > 60:          # samordningsnummer: the day of birth plus 60
        day -= 60
    try:
        return date(year, month, day)
    except ValueError:
        return None


def normalize_personnummer(text: Any, *, today: date | None = None) -> str:
    """Personnummer or samordningsnummer -> 12 digits (ÅÅÅÅMMDDNNNN).

    Accepts 10 or 12 digits with or without "-"/"+" and spaces. For 10 digits the
    century is the most recent one that does not put the birth date in the future;
    "+" means the person is 100 years or older (one century earlier).
    """
    if not isinstance(text, str):
        raise ValidationError("Ange personnumret som text, t.ex. ÅÅÅÅMMDD-NNNN.")
    match = _PNR.match(re.sub(r"\s+", "", ascii_digits(text)))
    if not match:
        raise ValidationError("Skriv personnumret med 10 eller 12 siffror, "
                              "t.ex. ÅÅÅÅMMDD-NNNN.")
    head, sign, tail = match.groups()
    month, day = int(head[-4:-2]), int(head[-2:])
    if len(head) == 8:
        year = int(head[:4])
    else:
        today = today or tid.today()
        year = today.year // 100 * 100 + int(head[:2])
        if year > today.year:
            year -= 100
        born = _birth_date(year, month, day)
        if year == today.year and born is not None and born > today:
            year -= 100
        if sign == "+":
            year -= 100
    born = _birth_date(year, month, day)
    if born is None:
        raise ValidationError("Personnumret innehåller ett datum som inte finns.")
    today = today or tid.today()
    if born > today:
        raise ValidationError("Födelsedatumet i personnumret ligger i framtiden.")
    if year < today.year - _MAX_AGE_YEARS:
        raise ValidationError(f"Födelseåret {year} är inte rimligt. Kontrollera personnumret.")
    twelve = f"{year:04d}{head[-4:]}{tail}"
    if not _luhn_ok(twelve[2:]):
        raise ValidationError("Kontrollsiffran stämmer inte.")
    return twelve


def format_personnummer(twelve: str) -> str:
    """"191212121212" -> "19121212-1212"."""
    if not isinstance(twelve, str) or not re.fullmatch(r"\d{12}", twelve):
        raise ValidationError("Personnumret ska vara lagrat som 12 siffror.")
    return f"{twelve[:8]}-{twelve[8:]}"


def is_samordningsnummer(text: Any, *, today: date | None = None) -> bool:
    """True for a valid samordningsnummer (day of birth + 60), False otherwise."""
    try:
        return int(normalize_personnummer(text, today=today)[6:8]) > 60
    except ValidationError:
        return False


# --- other values ---------------------------------------------------------------------

# The one parser for every typed date (wizard, API, samtycke, closing, API-nycklar): people type the
# ISO date the hint asks for, but also without dashes or with the separator their keyboard or habit
# gives. Only the year-first order is read: 03/04/2026 means different days to different people.
DATE_HINT = "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-12-15."
_DATE_SEP = r"\s*[-./\s]\s*"
_DATE_YMD = re.compile(rf"(\d{{4}}){_DATE_SEP}(\d{{1,2}}){_DATE_SEP}(\d{{1,2}})")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_YEAR_LAST = re.compile(rf"\d{{1,2}}{_DATE_SEP}\d{{1,2}}{_DATE_SEP}\d{{4}}")
_DATE_SHORT_YEAR = re.compile(rf"\d{{2}}{_DATE_SEP}\d{{1,2}}{_DATE_SEP}\d{{1,2}}|\d{{6}}")
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december")


def parse_date(value: Any) -> date:
    """ÅÅÅÅ-MM-DD, also ÅÅÅÅMMDD and ÅÅÅÅ-M-D with "-", " ", "." or "/" (a date object passes through).
    Raises ValidationError with a Swedish sentence that says what is wrong and the format."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = " ".join(ascii_digits(str(value)).split())
    match = _DATE_COMPACT.fullmatch(text) or _DATE_YMD.fullmatch(text)
    if not match:
        if _DATE_YEAR_LAST.fullmatch(text):
            raise ValidationError("Skriv året först, som ÅÅÅÅ-MM-DD, till exempel 2026-12-15. Med året sist "
                                  "går det inte att veta vilket tal som är dagen och vilket som är månaden.")
        if _DATE_SHORT_YEAR.fullmatch(text):
            raise ValidationError(f"Skriv året med fyra siffror. {DATE_HINT}")
        raise ValidationError(DATE_HINT)
    year, month, day = map(int, match.groups())
    if not 1 <= month <= 12:
        raise ValidationError(f"Månad {match[2]} finns inte; månaden ska vara 01–12. {DATE_HINT}")
    try:
        return date(year, month, day)
    except ValueError:
        if year < 1:
            raise ValidationError(f"År {match[1]} finns inte. {DATE_HINT}") from None
        days = calendar.monthrange(year, month)[1]
        raise ValidationError(f"Dag {match[3]} finns inte i {_MONTHS[month - 1]} {year}, "
                              f"som har {days} dagar.") from None


def date_or_error(value: Any, label: str) -> tuple[date | None, str | None]:
    """For forms outside the blanketter (samtycke, closing, API-nycklar): (the date, None), or
    (None, the message naming the field as the wizard's do). A blank value is an error too."""
    try:
        return parse_date(value), None
    except ValidationError as exc:
        return None, _message(label, exc)


def parse_time(value: Any) -> time:
    """HH:MM (also H:MM and the Swedish HH.MM)."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", str(value).strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValidationError("Skriv tiden som TT:MM, t.ex. 09:30.")
    return time(int(match[1]), int(match[2]))


def normalize_phone(value: Any) -> str:
    """A Swedish (or +country) phone number kept readable: spaces tidied, 0046 -> +46."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    text = text.replace("(0)", "").replace("  ", " ")
    digits = re.sub(r"\D", "", text)
    if (not re.fullmatch(r"\+?[\d\s-]+", text) or not text.lstrip("+").strip()[:1].isdigit()
            or not (text.startswith("+") or text.startswith("0"))):
        raise ValidationError("Skriv telefonnumret med siffror och riktnummer, "
                              "t.ex. 08-123 456 78 eller +46 8 123 456 78.")
    if not 7 <= len(digits) <= 15:
        raise ValidationError("Telefonnumret har för få eller för många siffror.")
    return text


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def validate_email(value: Any) -> str:
    text = str(value).strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ValidationError("Skriv en e-postadress som namn@exempel.se.")
    return text


def parse_percent(value: Any) -> int:
    """An integer 0–100; "50", "50%" and "50 %" are accepted."""
    if isinstance(value, bool):
        raise ValidationError("Ange omfattningen i hela procent, 0–100.")
    if isinstance(value, int):
        number = value
    else:
        match = re.fullmatch(r"(\d{1,3})\s*%?", str(value).strip())
        if not match:
            raise ValidationError("Ange omfattningen i hela procent, 0–100.")
        number = int(match[1])
    if not 0 <= number <= 100:
        raise ValidationError("Omfattningen ska vara mellan 0 och 100 %.")
    return number


def parse_scale(value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ValidationError(f"Välj ett värde på skalan {low}–{high}.")
    return number


def parse_choice(value: Any, choices) -> str:
    text = str(value).strip()
    if text not in {c.value for c in choices}:
        raise ValidationError("Välj ett av alternativen.")
    return text


_TRUE = {"on", "true", "1", "ja", "yes", "x"}
_FALSE = {"", "off", "false", "0", "nej", "no"}


def parse_checkbox(value: Any) -> bool:
    """HTML "on", JSON true, "1"/"true"/"ja", and a returned PDF's "/On"/"/Off"."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return value != 0
    text = str(value).strip().lower().lstrip("/")
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError("Ogiltigt värde för en kryssruta.")


def _text(value: Any, *, multiline: bool) -> str:
    if isinstance(value, (dict, list, tuple, set)):
        raise ValidationError("Ogiltigt värde.")
    text = str(value)
    if multiline:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()
    return " ".join(text.split())


# --- a field / a blankett --------------------------------------------------------------

def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_value(field, value: Any) -> Any:
    """One non-blank value of `field` -> its clean form; raises ValidationError."""
    kind = field.type
    if kind in ("text", "textarea"):
        result = _text(value, multiline=kind == "textarea")
    elif kind == "personnummer":
        result = normalize_personnummer(str(value))
    elif kind == "date":
        result = parse_date(value).isoformat()
    elif kind == "time":
        result = parse_time(value).strftime("%H:%M")
    elif kind == "phone":
        result = normalize_phone(value)
    elif kind == "email":
        result = validate_email(value)
    elif kind == "checkbox":
        result = parse_checkbox(value)
    elif kind == "choice":
        result = parse_choice(value, field.choices)
    elif kind == "percent":
        result = parse_percent(value)
    elif kind == "scale":
        result = parse_scale(value, field.scale_min, field.scale_max)
    else:
        raise ValidationError(f"Okänd fälttyp {kind!r}.")
    if isinstance(result, str) and field.max_length and len(result) > field.max_length:
        raise ValidationError(too_long(field.max_length, len(result)))
    return result


def too_long(max_length: int, length: int) -> str:
    """The message, after "<label>: ", for a text over its field's limit. The web forms have no
    maxlength attribute (a browser cuts a paste there without a word), so both numbers are said."""
    def count(n: int) -> str:
        return f"{n:,}".replace(",", "\u00a0")
    return (f"får vara högst {count(max_length)} tecken, men texten har {count(length)}. "
            f"Korta den med {count(length - max_length)} tecken.")


def _message(label: str, error: ValidationError) -> str:
    text = str(error)
    # "Kontrollsiffran stämmer inte." -> "Personnummer: kontrollsiffran stämmer inte."
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return f"{label.rstrip('.:')}: {text}"


MAX_ROW_NUMBER = 1000  # far above any definition's max_rows; a higher row number is not a row


def _raw_rows(name: str, raw: Mapping) -> Any:
    """Rows as a list of dicts, or from flat keys "steg.1.vad" (web form, returned PDF)."""
    if name in raw:
        return raw[name]
    prefix = f"{name}."
    flat: dict[int, dict[str, Any]] = {}
    for key, value in raw.items():
        if isinstance(key, str) and key.startswith(prefix):
            index, _, column = key[len(prefix):].partition(".")
            # ASCII digits only ("²" passes isdigit but not int), and a row number a form can have:
            # "name.99999999.x" must not build a list of a hundred million rows.
            if index.isascii() and index.isdigit() and 1 <= int(index) <= MAX_ROW_NUMBER and column:
                flat.setdefault(int(index), {})[column] = value
    if not flat:
        return None
    return [flat.get(i, {}) for i in range(1, max(flat) + 1)]


def _clean_rows(field, value: Any, errors: dict[str, str], partial: bool) -> list[dict]:
    if not isinstance(value, (list, tuple)):
        errors[field.name] = f"{field.label}: ogiltigt värde, förväntade en lista med rader."
        return []
    rows: list[dict] = []
    for index, row in enumerate(value, 1):   # 1-based, as the rows are shown to people
        if not isinstance(row, Mapping):
            errors[f"{field.name}.{index}"] = f"{field.label}, rad {index}: ogiltig rad."
            continue
        if all(_is_blank(row.get(c.name)) or (c.type == "checkbox" and not row.get(c.name))
               for c in field.columns):
            continue                          # an empty row is dropped, never an error
        clean: dict[str, Any] = {}
        for col in field.columns:
            key, cell = f"{field.name}.{index}.{col.name}", row.get(col.name)
            where = f"{field.label}, rad {index}, {col.label}"
            if col.type == "checkbox":
                try:
                    clean[col.name] = parse_checkbox(cell)
                except ValidationError as exc:
                    errors[key] = _message(where, exc)
            elif _is_blank(cell):
                if col.required and not partial:
                    errors[key] = f"{where}: måste fyllas i."
            else:
                try:
                    clean[col.name] = clean_value(col, cell)
                except ValidationError as exc:
                    errors[key] = _message(where, exc)
        rows.append(clean)
    if field.max_rows is not None and len(rows) > field.max_rows:
        errors[field.name] = f"{field.label}: högst {field.max_rows} rader."
    return rows


def validate_values(blankett, raw: Mapping, *, partial: bool = False
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and normalise the answers `raw` to one blankett (see validate_fields)."""
    return validate_fields(blankett.fields, raw, partial=partial)


def validate_fields(fields, raw: Mapping, *, partial: bool = False
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """Check and normalise the answers `raw` to the given fields (a blankett's, or one wizard page's).

    Returns (clean, errors). Keys in `raw` that are not fields of the blankett are
    ignored. Blank answers are left out of `clean`, except checkboxes, which are
    always True/False (an HTML form leaves an unticked box out). `partial=True`
    (a draft) skips the required checks but still rejects malformed values.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.type == "rows":
            value = _raw_rows(field.name, raw)
            rows = [] if value is None else _clean_rows(field, value, errors, partial)
            if rows:
                clean[field.name] = rows
            elif field.required and not partial and field.name not in errors:
                errors[field.name] = f"{field.label}: fyll i minst en rad."
            continue
        value = raw.get(field.name)
        if field.type == "checkbox":
            try:
                clean[field.name] = parse_checkbox(value)
            except ValidationError as exc:
                errors[field.name] = _message(field.label, exc)
                continue
            if field.required and not partial and not clean[field.name]:
                errors[field.name] = f"{field.label.rstrip('.:')}: måste kryssas i."
            continue
        if _is_blank(value):
            if field.required and not partial:
                errors[field.name] = f"{field.label}: måste fyllas i."
            continue
        try:
            result = clean_value(field, value)
        except ValidationError as exc:
            errors[field.name] = _message(field.label, exc)
            continue
        if result == "" and field.required and not partial:
            errors[field.name] = f"{field.label}: måste fyllas i."
        elif result != "":
            clean[field.name] = result
    return clean, errors
