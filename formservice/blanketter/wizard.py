"""The blankett wizard's pages, derived from the definition: one section (one topic) per page.

Fields that another party fills in on paper (the doctor's part of the förfrågan) are not asked.
A page whose every field is a fact read from a live source (the individ's record, the signed-in
user, the enhet) is skipped on the way through and shown on the Granska page instead, where it can
still be changed. A fact only suggested from an earlier document never hides its page, nor does an
answer that belongs to this one document (`scope: dokument`) or a checkbox: nothing is ticked or
carried over on a page the user never saw.
Pure Python: no flask import.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .model import FILLABLE_ROLES, Blankett, Field, Section, field_role



@dataclass(frozen=True)
class Page:
    number: int  # 1-based, stable for a blankett
    part: Blankett
    section: Section
    fields: tuple[Field, ...]

    @property
    def title(self) -> str:
        return self.section.title or self.part.title


def is_asked(field: Field, section: Section) -> bool:
    # The parts answered on the returned document (the doctor's) are not typed here.
    return field_role(field, section) not in FILLABLE_ROLES


def pages(parts: Sequence[Blankett]) -> list[Page]:
    out: list[Page] = []
    for part in parts:
        for section in part.sections:
            if getattr(section, "text_only", False):
                continue
            fields = tuple(f for f in section.fields if is_asked(f, section)
                           and not any(f.name == p.name for page in out for p in page.fields))
            if fields:
                out.append(Page(len(out) + 1, part, section, fields))
    return out


def asked_fields(parts: Sequence[Blankett]) -> list[Field]:
    return [f for page in pages(parts) for f in page.fields]


def is_known(field: Field, origin: Mapping[str, str]) -> bool:
    """A fact the service reads from a live source (never a checkbox, never a suggestion)."""
    return field.is_fact and field.type != "checkbox" and origin.get(field.name) == "kalla"


def needs_input(page: Page, origin: Mapping[str, str]) -> bool:
    """False when every field on the page is a fact read from a live source."""
    return not all(is_known(f, origin) for f in page.fields)


def next_page(all_pages: Sequence[Page], after: int, origin: Mapping[str, str]) -> Page | None:
    for page in all_pages:
        if page.number > after and needs_input(page, origin):
            return page
    return None


def previous_page(all_pages: Sequence[Page], before: int, origin: Mapping[str, str]) -> Page | None:
    for page in reversed(all_pages):
        if page.number < before and needs_input(page, origin):
            return page
    return None


def form_keys(fields: Iterable[Field], form: Mapping[str, Any]) -> dict[str, Any]:
    """The posted values that belong to these fields (rows come as flat "name.i.column" keys)."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.type == "rows":
            prefix = f.name + "."
            out.update({k: v for k, v in form.items() if k.startswith(prefix)})
        else:
            out[f.name] = form.get(f.name)
    return out
