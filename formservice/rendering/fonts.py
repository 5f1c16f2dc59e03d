"""Which characters a printed document can draw: the characters in every font that the print CSS
declares (print/fonts.css: the packaged Liberation Sans, whose metrics the DOCX's Arial shares), read
from the fonts' cmaps with fontTools. A typed value with a character outside them – an emoji, a
Chinese name – would print as an empty box, or in whatever font the machine happens to fall back to
(and not at all the same in Word). So every typed value is checked against them at input, with a
Swedish message naming the character, and nothing typed is lost: the caller keeps the value in the
form. Pure Python (fontTools, which WeasyPrint depends on): no WeasyPrint import."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from formservice import paths

_FONT_URL = re.compile(r"""url\(["']?\.\./fonts/([^"')]+\.(?:ttf|otf))["']?\)""")
SHOWN = 5  # characters named in one message at most


@lru_cache(maxsize=1)
def printable_codepoints() -> frozenset[int]:
    """The code points that every face of the print font has a glyph for."""
    from fontTools.ttLib import TTFont

    static = Path(paths.STATIC_DIR)
    css = (static / "print" / "fonts.css").read_text(encoding="utf-8")
    faces = sorted(set(_FONT_URL.findall(css)))
    if not faces:
        raise RuntimeError("print/fonts.css names no font file")
    cmaps = []
    for name in faces:
        with TTFont(static / "fonts" / name, lazy=True) as font:
            cmaps.append(frozenset(font.getBestCmap()))
    return frozenset.intersection(*cmaps)


def _drawn(ch: str) -> bool:
    """Whether the character is something to draw (not a line break, a space or an invisible
    joiner or variation selector, which are laid out, not drawn)."""
    return not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") or "\ufe00" <= ch <= "\ufe0f")


def unprintable(text: str) -> list[str]:
    """The distinct characters of ``text`` that the document fonts cannot draw, sorted."""
    drawable = printable_codepoints()
    return sorted({ch for ch in text if ord(ch) not in drawable and _drawn(ch)})


def message(chars: list[str]) -> str:
    """The Swedish message for unprintable characters (lower case: it follows a label and a colon)."""
    quoted = [f"”{ch}”" for ch in chars[:SHOWN]]
    if len(chars) == 1:
        return f"tecknet {quoted[0]} kan inte skrivas ut på blanketten. Skriv texten utan det."
    named = ", ".join(quoted[:-1]) + " och " + quoted[-1] if len(chars) <= SHOWN else \
        ", ".join(quoted) + f" med flera ({len(chars)} tecken)"
    return f"tecknen {named} kan inte skrivas ut på blanketten. Skriv texten utan dem."


def field_labels(fields: Iterable[Any]) -> dict[str, str]:
    """Labels by field name, and by "name.column" for the columns of rows fields."""
    labels: dict[str, str] = {}
    for fld in fields:
        labels[fld.name] = fld.label
        labels.update({f"{fld.name}.{col.name}": col.label for col in getattr(fld, "columns", ())})
    return labels


def unprintable_errors(values: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, str]:
    """A message ("Label: tecknet …") for each typed text in ``values`` that the document fonts
    cannot print, by the key validation uses: the field's name, or for a cell of a rows field
    (a list of dicts, or the web form's flat "name.1.column" keys) "name.1.column". Only keys
    in ``labels`` (see field_labels) are looked at."""
    errors: dict[str, str] = {}
    for key, value in values.items():
        name = key.split(".", 1)[0]
        if name not in labels:
            continue
        if isinstance(value, str):
            cells = [(key, value)]
        elif isinstance(value, (list, tuple)):
            cells = [(f"{name}.{i}.{col}", cell) for i, row in enumerate(value, 1) if isinstance(row, Mapping)
                     for col, cell in row.items() if isinstance(cell, str)]
        else:
            continue
        for cell_key, text in cells:
            chars = unprintable(text)
            if chars:
                errors[cell_key] = f"{_where(cell_key, labels)}: {message(chars)}"
    return errors


def _where(key: str, labels: Mapping[str, str]) -> str:
    name, _, rest = key.partition(".")
    if not rest:
        return labels[name]
    index, _, column = rest.partition(".")
    return f"{labels[name]}, rad {index}, {labels.get(f'{name}.{column}', column)}"


__all__ = ["field_labels", "message", "printable_codepoints", "unprintable", "unprintable_errors"]
