"""The tillgänglighetsredogörelse as data: known problems, assessment date and method from
forms/_tillganglighet.yaml, contact from the organisations (or the installation's admin).

The statement was a template with a hard-coded date and problem list that went stale: it said the
map was not drawn long after it was. Data that a test checks against the service keeps it true.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from formservice import db
from formservice.paths import FORMS_DIR

from .models import Organisation, User

STATEMENT_FILE = "_tillganglighet.yaml"

# The three kinds of problem that lag (2018:1937) and Digg's template for the statement distinguish.
CATEGORIES = {
    "bristande_forenlighet": "Bristande förenlighet med lagkraven",
    "oskaligt_betungande": "Oskäligt betungande anpassning",
    "utanfor_lagen": "Innehåll som faller utanför lagens tillämpningsområde",
}
# EN 301 549 repeats WCAG's success criteria as clause 9.x.y.z for the web and 10.x.y.z for
# non-web documents (PDF, DOCX), so the clause follows from the criterion and where it applies.
EN_CHAPTER = {"webb": "9", "dokument": "10"}
_CRITERION = re.compile(r"(\d\.\d{1,2}\.\d{1,2}) \S.*")


class StatementError(ValueError):
    pass


@dataclass(frozen=True)
class Problem:
    id: str
    text: str
    category: str
    criteria: tuple[str, ...]  # "1.4.10 Omflöde"
    scope: str  # "webb" or "dokument"
    since: date
    planned: str

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def en_clauses(self) -> tuple[str, ...]:
        return tuple(f"{EN_CHAPTER[self.scope]}.{_CRITERION.match(c).group(1)}" for c in self.criteria)


@dataclass(frozen=True)
class Statement:
    assessed: date
    updated: date
    standard: str
    method: tuple[str, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""


def load_statement(forms_dir: Path | str = FORMS_DIR) -> Statement:
    path = Path(forms_dir) / STATEMENT_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StatementError(f"{STATEMENT_FILE}: filen kan inte läsas ({exc})") from None
    try:
        problems = tuple(_problem(item) for item in raw.get("brister") or ())
        method = tuple(str(m).strip() for m in raw["metod"])
        statement = Statement(_date(raw["granskad"]), _date(raw.get("uppdaterad") or raw["granskad"]),
                              str(raw["standard"]).strip(), method, problems)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise StatementError(f"{STATEMENT_FILE}: {exc}") from None
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids) or not method:
        raise StatementError(f"{STATEMENT_FILE}: varje brist behöver ett eget id, och metoden får inte vara tom")
    return statement


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _problem(item: dict) -> Problem:
    criteria = tuple(str(c).strip() for c in item["kriterier"])
    problem = Problem(str(item["id"]), " ".join(str(item["text"]).split()), str(item["kategori"]), criteria,
                      str(item["omfattning"]), _date(item["sedan"]), " ".join(str(item["atgard"]).split()))
    if problem.category not in CATEGORIES:
        raise ValueError(f'brist {problem.id}: okänd kategori "{problem.category}" (tillåtna: {", ".join(CATEGORIES)})')
    if problem.scope not in EN_CHAPTER:
        raise ValueError(f'brist {problem.id}: omfattning ska vara "webb" eller "dokument"')
    if not criteria or not all(_CRITERION.fullmatch(c) for c in criteria):
        raise ValueError(f'brist {problem.id}: kriterier ska vara WCAG-nummer och namn, t.ex. "1.4.10 Omflöde"')
    return problem


def contacts(email: str | None, phone: str | None, service_name: str) -> list[Contact]:
    """Where to report a problem, never empty: the installation's configured contact and every
    organisation's (Administration → Organisation), else the installation's administrator, else
    the service's owner by name with the way to reach it."""
    found = [Contact(service_name, email or "", phone or "")] if email or phone else []
    found += [Contact(org.namn, org.kontakt_epost or "", org.kontakt_telefon or "")
              for org in db.session().scalars(select(Organisation).where(
                  Organisation.kontakt_epost.is_not(None) | Organisation.kontakt_telefon.is_not(None))
                  .order_by(Organisation.namn))]
    if found:
        return found
    # A fresh install names no contact yet: the first active administrator is the one who runs it.
    admin = db.session().scalars(select(User).where(User.role == "admin", User.active.is_(True),
                                                    User.pending_approval.is_(False)).order_by(User.id)).first()
    if admin is not None and (admin.epost or admin.telefon or admin.enhet.telefon):
        return [Contact(f"Tjänstens administratör, {admin.enhet.organisation.namn}", admin.epost,
                        admin.telefon or admin.enhet.telefon)]
    return []
