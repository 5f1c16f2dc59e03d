"""Values and layout prepared for display on paper and in Word — shared by the
PDF and the DOCX renderer, so a personnummer, a percentage or a choice reads the
same in both. Pure Python: no WeasyPrint, no docxtpl, no flask.

Values follow docs/architecture.md: str for the text types (personnummer as 12
digits, dates ÅÅÅÅ-MM-DD), bool for checkboxes, int for percent and scale,
list[dict] for rows.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from formservice.blanketter.model import FILLABLE_ROLES, config_text, field_role, fill_placeholders, issuer_name
from formservice.blanketter.validation import ValidationError
from formservice.blanketter.validation import format_personnummer as _format_twelve
from formservice.rendering import parallel

CHECKED = "☒"
UNCHECKED = "☐"

# A note under the heading of a section that someone else fills in.
FILLED_BY_NOTE = {
    "lakare": "Fylls i av behandlande läkare.",
    "vardpersonal": "Fylls i av hälso- och sjukvården.",
}

WIDTHS = {"full": Fraction(1), "half": Fraction(1, 2), "third": Fraction(1, 3)}

# Field types written on one line; they can share a line with others.
INLINE_TYPES = frozenset({"text", "date", "time", "personnummer", "phone", "email",
                          "percent", "choice", "checkbox"})
# One-line fields whose help text is an instruction for filling in by hand:
# printed only while the field is empty.
HELP_WHEN_EMPTY = INLINE_TYPES - {"choice", "checkbox"}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def format_personnummer(value: Any) -> str:
    """12 digits -> ÅÅÅÅMMDD-NNNN; anything else is shown as it is."""
    text = str(value or "").strip()
    try:
        return _format_twelve(text)
    except ValidationError:
        return text


def format_value(field: Any, value: Any, *, checkbox: str = "Ja") -> str:
    """A single value as text for paper and Word (not for rows).

    ``checkbox`` is the text of a ticked box: "Ja" (an unticked box gives ""),
    or CHECKED ("☒"), in which case an unticked box gives UNCHECKED ("☐").
    """
    kind = field.type
    if kind == "checkbox":
        if checkbox == CHECKED:
            return CHECKED if value else UNCHECKED
        return checkbox if value else ""
    if value is None or value == "":
        return ""
    if kind == "personnummer":
        return format_personnummer(value)
    if kind == "percent":
        return f"{value} %"
    if kind == "choice":
        return field.choice_label(str(value))
    if kind == "date" and isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if kind == "time" and isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def row_items(field: Any, value: Any) -> list[Mapping[str, Any]]:
    """Rows of a rows field, padded with blank rows up to ``min_rows``."""
    rows = [r for r in (value or []) if isinstance(r, Mapping)]
    return rows + [{} for _ in range(max(0, int(field.min_rows or 0) - len(rows)))]


def scale_points(field: Any) -> list[int]:
    return list(range(int(field.scale_min), int(field.scale_max) + 1))


def show_help(field: Any, value: Any) -> bool:
    """Whether a field's help text belongs on paper: questions and instructions
    of multi-line fields always; those of one-line fields while empty. Never a help text
    meant for the wizard only (``print_help: false``)."""
    if not field.help or not getattr(field, "print_help", True):
        return False
    return field.type not in HELP_WHEN_EMPTY or is_empty(value)


def width_of(field: Any) -> Fraction:
    return WIDTHS.get(field.width or "full", Fraction(1))


class Line(NamedTuple):
    """One printed line of a section: boxes side by side, or a single block."""

    kind: str                         # "boxes" | "textarea" | "scale" | "rows"
    items: tuple[tuple[Any, float], ...]  # (field, width in % of the line)


def layout_lines(section: Any, values: Mapping[str, Any] | None = None) -> list[Line]:
    """How a section's own fields (not those placed in a grid or a signature)
    are printed: consecutive one-line fields of the same width share a line
    while they fit (half + half, third × 3); textareas, scales and rows take a
    line each. A line that is not full is not stretched, so boxes of equal
    width line up under each other. A field printed only when filled
    (``print: if_filled``) has a line of its own, left out while it is empty
    (with ``values``; without them every line, as in the Word template)."""
    lines = _cached(_layout_lines, section)
    if values is None:
        return lines
    return [line for line in lines if not (line.items[0][0].print_rule == "if_filled"
                                           and is_empty(values.get(line.items[0][0].name)))]


def printed_fields(section: Any) -> tuple[Any, ...]:
    """A section's own fields that get a box on paper: not those in a grid or a signature block,
    nor the wizard-only ones (``print: false``, e.g. the SIP-kallelse's choice of one common copy),
    nor those printed only inside a text (``print: in_text``, the SIP-kallelse's lagrum)."""
    return tuple(f for f in section.ungrouped_fields if f.print_rule in ("always", "if_filled"))


def masthead(blankett: Any, organisation: str, config: Mapping[str, str] | None = None) -> str:
    """The name at the top of every page: the organisation that prints the document, or the
    blankett's issuer for another authority's own form (``masthead: issuer``, Försäkringskassan)."""
    if getattr(blankett, "masthead", "organisation") == "issuer":
        return issuer_name(blankett.issuer, organisation, config)
    return organisation


def header_title(blankett: Any, organisation: str, config: Mapping[str, str] | None = None) -> str:
    """The blankett's title in the page header, with its issuer unless the masthead names it (the
    organisation's own blankett: "{organisation}")."""
    issuer = issuer_name(blankett.issuer, organisation, config)
    if not issuer or issuer == masthead(blankett, organisation, config):
        return blankett.title
    return f"{blankett.title} – {issuer}"


def _cached(function: Any, key: Any) -> Any:
    """``function(key)`` memoised while ``key`` is hashable (frozen definitions)."""
    try:
        return function(key)
    except TypeError:
        return function.__wrapped__(key)


@lru_cache(maxsize=512)
def _layout_lines(section: Any) -> list[Line]:
    lines: list[Line] = []
    current: list[tuple[Any, Fraction]] = []

    def flush() -> None:
        if current:
            lines.append(Line("boxes", tuple((f, float(w * 100)) for f, w in current)))
            current.clear()

    for fld in printed_fields(section):
        if fld.type not in INLINE_TYPES:
            flush()
            lines.append(Line(fld.type, ((fld, 100.0),)))
            continue
        if fld.print_rule == "if_filled":
            flush()
            lines.append(Line("boxes", ((fld, float(width_of(fld) * 100)),)))
            continue
        width = width_of(fld)
        if current and (current[-1][1] != width or sum(w for _, w in current) + width > 1):
            flush()
        current.append((fld, width))
    flush()
    return lines


def column_widths(columns: Sequence[Any]) -> list[float]:
    """Percent widths of the columns of a rows table, relative to their
    ``width`` hints (full = 3 × third)."""
    hints = [width_of(c) for c in columns]
    total = sum(hints) or 1
    return [round(float(h / total) * 100, 3) for h in hints]


_GRID_CELL_WIDTH = {"checkbox": 2, "percent": 3, "date": 3, "time": 2, "scale": 4}


def grid_column_widths(section: Any) -> list[float]:
    """Percent widths of a grid section's columns: the label column, then one
    per field column (check boxes narrow, percentages a little wider, text the
    rest)."""
    return _cached(_grid_column_widths, section)


@lru_cache(maxsize=128)
def _grid_column_widths(section: Any) -> list[float]:
    types = {f.name: f.type for f in section.fields}
    first = section.grid_rows[0].fields if section.grid_rows else ()
    units = [_GRID_CELL_WIDTH.get(types[n], 8) for n in first]
    label_units = 9 if len(units) > 2 else 8
    total = label_units + sum(units)
    return [round(u / total * 100, 3) for u in [label_units, *units]]


class SignatureView(NamedTuple):
    role: str
    place: tuple[Any, str] | None     # (field, display value)
    date: tuple[Any, str] | None
    name: tuple[Any, str] | None
    title: tuple[Any, str] | None


def signature_views(blankett: Any, section: Any, values: Mapping[str, Any]) -> list[SignatureView]:
    def item(name: str | None) -> tuple[Any, str] | None:
        if not name:
            return None
        fld = blankett.field(name)
        return fld, format_value(fld, values.get(name))

    return [SignatureView(s.role, item(s.place_field), item(s.date_field), item(s.name_field),
                          item(s.title_field)) for s in section.signatures]


def attribute_text(text: Any) -> Markup:
    """A value for an HTML attribute, escaped, its line breaks and tabs written as character
    references: HTML keeps a line break typed in an attribute, XML turns it into a space, and the
    document is read by both (rendering/markup.py) – written out, it is the same for each."""
    return Markup(str(escape(text)).replace("\r\n", "\n").replace("\n", "&#10;").replace("\t", "&#9;")
                  .replace("\r", "&#10;"))


def paragraphs(text: Any) -> list[str]:
    """Split a definition's intro text into paragraphs at blank lines (single
    line breaks stay inside a paragraph)."""
    if not text:
        return []
    return [p.strip() for p in str(text).replace("\r\n", "\n").split("\n\n") if p.strip()]


def fill_text(blankett: Any, text: str | None, values: Mapping[str, Any]) -> str:
    """An intro with its {field_name} placeholders replaced by the display
    value of the field (or a dotted line to write on)."""
    if not text:
        return ""
    shown = {n: format_value(blankett.field(n), v) for n, v in values.items()
             if blankett.has_field(n) and not isinstance(v, list)}
    if parallel.right_to_left(values):  # a typed Swedish value in an Arabic sentence keeps its order
        shown = {n: f"\u2068{v}\u2069" for n, v in shown.items()}
    return fill_placeholders(text, shown)


def send_to_text(blankett: Any, overrides: Mapping[str, str] | None = None) -> str:
    return config_text(blankett.send_to, overrides) or ""


def header_personnummer(blankett: Any, values: Mapping[str, Any]) -> str:
    """The individ's personnummer for the running page header (so that loose
    pages can be put back together), or "" when the blankett has none."""
    for name in ("individ_personnummer",):
        if blankett.has_field(name) and values.get(name):
            return format_personnummer(values[name])
    return ""


def header_meta(blankett: Any, values: Mapping[str, Any], document_number: str | None) -> str:
    """The second line of the page header: personnummer and document number, in the part's language."""
    rtl = parallel.right_to_left(values)
    pairs = [(blankett.word(label), value) for label, value in (
        ("Personnummer", header_personnummer(blankett, values)), ("Dokumentnr", document_number)) if value]
    if not rtl:
        return " · ".join(f"{label} {value}" for label, value in pairs)
    # Right to left: a line each (the header box breaks lines there), each a right-to-left isolate
    # with its value a left-to-right one – in the page box's left-to-right context the bidi
    # algorithm mixed label, number and separator up.
    return "\n".join(f"{_RLI}{label}{_NBSP}{_LRI}{value}{_PDI}{_PDI}" for label, value in pairs)


def footer(blankett: Any, values: Mapping[str, Any], created: date | None) -> str:
    """The page footer's text: the blankett's title, its version and the date, in the part's
    language; right to left with the version and the date in their own order ("2026-1", not "1-2026")."""
    iso = (lambda text: f"{_LRI}{text}{_PDI}") if parallel.right_to_left(values) else str
    version = f", {blankett.word('version')} {iso(blankett.version)}" if blankett.version else ""
    return f"{blankett.title}{version}" + (f" · {iso(created.isoformat())}" if created else "")


_LRI, _RLI, _PDI, _NBSP = "\u2066", "\u2067", "\u2069", "\u00a0"


def is_fillable(field: Any, section: Any, value: Any, fillable: bool) -> bool:
    """Whether ``field`` becomes an AcroForm input in a fillable PDF: filled in by a role that
    answers on the returned document. A ``value`` already known (the doctor's name and vårdenhet,
    filled in by the socialsekreterare) does not make it fixed print: it is the field's default
    value, which the doctor can correct."""
    return fillable and field_role(field, section) in FILLABLE_ROLES


def recipients(blankett: Any, values: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rows of the blankett's ``per_recipient_rows`` field that name someone:
    one copy of the document goes to each."""
    if not blankett.per_recipient_rows:
        return []
    if blankett.per_recipient_unless and values.get(blankett.per_recipient_unless) is True:
        return []  # one common kallelse to everybody
    rows = values.get(blankett.per_recipient_rows) or []
    return [r for r in rows if isinstance(r, Mapping) and any(
        str(v).strip() for v in r.values() if v is not None)]


def recipient_text(blankett: Any, row: Mapping[str, Any]) -> str:
    """A recipient row as one line: its non-empty columns in order."""
    rows_field = blankett.field(blankett.per_recipient_rows)
    return ", ".join(format_value(c, row.get(c.name)) for c in rows_field.columns
                     if not is_empty(row.get(c.name)))


TEMPLATE_GLOBALS = {
    "format_value": format_value,
    "row_items": row_items,
    "scale_points": scale_points,
    "show_help": show_help,
    "layout_lines": layout_lines,
    "column_widths": column_widths,
    "grid_column_widths": grid_column_widths,
    "signature_views": signature_views,
    "paragraphs": paragraphs,
    "fill_text": fill_text,
    "send_to_text": send_to_text,
    "is_empty": is_empty,
    "is_fillable": is_fillable,
    "recipient_text": recipient_text,
    "masthead": masthead,
    "header_title": header_title,
    "FILLED_BY_NOTE": FILLED_BY_NOTE,
    "zip": zip,
}
