"""Blankett definitions: forms/<id>.yaml -> frozen dataclasses, validated at start-up.

One definition feeds the web form, the API schema, the PDF/DOCX and the read-back of a
returned PDF, so everything a renderer or a form builder needs is checked here once.
Pure Python: never import flask (used by the CLI, the API, tests and benchmarks).
The YAML format is documented for the staff who edit it in docs/blanketter.md.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from formservice.paths import FORMS_DIR
from formservice.processkarta.lagrum import LagrumError, load_lagrum


__all__ = [
    "BLANKETT_IDS", "CONFIG_DEFAULTS", "CONFIG_LABELS", "FIELD_TYPES", "FILLABLE_ROLES", "KNOWN_PREFILL_SOURCES",
    "MASTHEADS", "PRINT_RULES", "ROLES", "ROW_SOURCES",
    "SCOPES", "Blankett", "Choice", "DefinitionError", "Field", "GridRow", "Section", "Signature",
    "blankett_ids", "config_text", "facts", "field_role", "fill_placeholders",
]

FIELD_TYPES = ("text", "textarea", "date", "time", "personnummer", "phone", "email",
               "checkbox", "choice", "percent", "scale", "rows")
# Free-text types get a max length by default (the web form's maxlength, the API schema).
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000, "date": 10, "time": 5,
                      "personnummer": 15, "phone": 30, "email": 254}
WIDTHS = ("full", "half", "third")
KINDS = ("blankett", "bilaga")
# What an answer belongs to. "arende": a fact of the ärende (the individ's address, the doctor's
# name), carried to later blanketter and later copies. "dokument": this one document's own answer
# (a meeting's date, a consent, a tick, a signature date): kept with the document, asked again.
SCOPES = ("arende", "dokument")
LAYOUTS = ("fields", "grid")
# Who the printed document's masthead (the page header's top left) names: the organisation that
# prints it (standard), or the blankett's issuer, for another authority's own form (Försäkringskassan).
MASTHEADS = ("organisation", "issuer")
# Where a field is printed (YAML `print`, PDF and DOCX alike): "always" (true, the default) as a box of
# its own; "never" (false) – a question for the one who fills in the wizard; "if_filled" – its box
# only when it has a value (an empty box would be a question to the reader that nobody asked);
# "in_text" – only where a {placeholder} puts it into a text, never as a box of its own.
PRINT_RULES = ("always", "never", "if_filled", "in_text")
# Roles that fill their part in on paper (or in a fillable PDF) after the
# document has left the service: these fields stay empty with room to write,
# are not asked in the wizard, and become AcroForm inputs in a fillable PDF.
FILLABLE_ROLES = frozenset({"lakare"})
ROLES = frozenset({"socialsekreterare", "individ", "lakare", "anmalare", "sammankallande",
                   "handlaggare", "vardpersonal", "arbetsformedlare", "koordinator"})

# The parties information about the individ is shared between (a consent names them; a blankett
# that sends information names them in `shares_with`).
PARTIES = {
    "socialtjanst": "Socialtjänsten",
    "vard": "Hälso- och sjukvården",
    "fk": "Försäkringskassan",
    "af": "Arbetsförmedlingen",
    "jobbtorg": "Jobbtorg",  # the kommun's own (Jobbtorg Stockholm in the demo förbund's blanketter)
    # Not an authority one shares with but the follow-up register of the Samordningsförbund: only
    # the SUS samtycke names it (arenden/consents.SUS_KIND).
    "sus": "SUS, Samordningsförbundets uppföljning hos Försäkringskassan",
}


@dataclass(frozen=True)
class Consent:
    """A blankett that is a consent to share information (`consent:` in its YAML): how long it
    holds at most and where its parties and dates are on the blankett."""

    months: int                                   # at most this long from the signature
    signed_field: str                             # the signature's date field
    until_field: str | None = None                # an earlier end the individ may write
    parties: tuple[str, ...] = ()                 # parties the consent always covers
    party_fields: tuple[tuple[str, str], ...] = ()  # (checkbox field, party): covered when ticked
    ends_with_arende: bool = False                # "till dess att ärendet avslutas"


# A blankett's issuer is a name ("Försäkringskassan") or a placeholder for the organisation that
# produces it ("{organisation}") or the Samordningsförbund it belongs to ("{samordningsforbund}"),
# so that one definition serves every organisation of an installation.
ISSUER_PLACEHOLDERS = frozenset({"{organisation}", "{samordningsforbund}"})


def issuer_name(issuer: str, organisation: str, config: Mapping[str, str] | None = None) -> str:
    """The issuer as printed for ``organisation`` (``config``: its texts, the förbund's name among them)."""
    forbund = (config or {}).get("samordningsforbund") or "Samordningsförbundet"
    return issuer.replace("{organisation}", organisation).replace("{samordningsforbund}", forbund)


def unknown_issuer_placeholders(issuer: str) -> set[str]:
    return set(re.findall(r"\{[^{}]*\}", issuer)) - ISSUER_PLACEHOLDERS


# The blanketter shipped in forms/ (the process map links to these ids).
BLANKETT_IDS = ("forandringsplan", "rehabiliteringsforfragan", "sekretessmedgivande",
                "sip_kallelse", "finsamteam_anmalan", "finsamteam_samtycke",
                "fk_ansokan_samordning", "lakarintyg_komplettering")



def _lagrum(*keys: str) -> str:
    """Citations joined from forms/_lagrum.yaml, so the default follows the one place the map and
    the blanketter cite. Without the file: empty here, and `formservice check` names the file."""
    try:
        items = load_lagrum(FORMS_DIR)
        return " och ".join(items[key].text for key in keys)
    except (LagrumError, KeyError):
        return ""


# Organisation-configurable texts, referenced as `config.<key>` (prefill, send_to).
# An organisation overrides them in its instance configuration; these are the defaults.
CONFIG_DEFAULTS: dict[str, str] = {
    "fk_inlasningscentral_adress": "Försäkringskassans inläsningscentral\n839 88 Östersund",
    # The street address is the Samordningsförbund's to fill in (instance config).
    "finsam_koordinator_adress": "Finsamteamets koordinator",
    # Socialtjänstlagen (2001:453) was replaced on 1 July 2025 by (2025:400): never the repealed
    # 2 kap. 7 §. Both citations come from forms/_lagrum.yaml, the same items the map cites.
    "sip_lagrum": _lagrum("hsl_sip", "sol"),
    "sekretess_uppgifter": "Uppgifter om mitt hälsotillstånd, min arbetsförmåga och mitt "
                           "behov av rehabilitering som behövs för att besvara "
                           "rehabiliteringsförfrågan.",
    "sekretess_syfte": "Att socialtjänsten ska kunna utreda mina förutsättningar att delta "
                       "i aktiviteter och erbjuda mig rehabiliterande insatser.",
    "sekretess_giltighet": "Till dess att ärendet avslutas, dock längst 12 månader från "
                           "underskriften.",
    "finsam_samtycke_uppgifter": "Uppgifter om min hälsa, min arbetsförmåga, min "
                                 "försörjning och mina pågående kontakter och insatser "
                                 "som behövs för att teamet ska kunna ge stöd i min "
                                 "planering.",
    "finsam_samtycke_syfte": "Att parterna i Finsamteamet tillsammans med mig ska kunna "
                             "diskutera mitt behov av stöd och göra upp en gemensam plan "
                             "mot arbete eller studier.",
    "finsam_samtycke_giltighet": "Till och med teamets uppföljning av planen efter sex "
                                 "månader, dock längst 12 månader från underskriften.",
}

# What each organisation text is, for the administrator who edits it (same keys as CONFIG_DEFAULTS).
CONFIG_LABELS: dict[str, tuple[str, str]] = {
    "fk_inlasningscentral_adress": ("Försäkringskassans adress",
                                    "Dit ansökan om samordning av rehabiliteringsinsatser skickas."),
    "finsam_koordinator_adress": ("Finsam-koordinatorns adress",
                                  "Dit anmälan till Finsamteam skickas. Fyll i gatuadress eller box."),
    "sip_lagrum": ("Lagrum för SIP", "Står i kallelsen till samordnad individuell plan."),
    "sekretess_uppgifter": ("Sekretessmedgivande: vilka uppgifter", "Vad individen samtycker till att lämna ut."),
    "sekretess_syfte": ("Sekretessmedgivande: syfte", "Varför uppgifterna behövs."),
    "sekretess_giltighet": ("Sekretessmedgivande: giltighet", "Hur länge medgivandet gäller."),
    "finsam_samtycke_uppgifter": ("Finsamteam-samtycke: vilka uppgifter", "Vad teamets parter får utbyta."),
    "finsam_samtycke_syfte": ("Finsamteam-samtycke: syfte", "Varför uppgifterna utbyts."),
    "finsam_samtycke_giltighet": ("Finsamteam-samtycke: giltighet", "Hur länge samtycket gäller."),
}

_USER_AUTOCOMPLETE = {"user.namn": "name", "user.titel": "organization-title", "user.telefon": "tel",
                      "user.epost": "email"}

KNOWN_PREFILL_SOURCES = frozenset({
    "individ.namn", "individ.fornamn", "individ.efternamn", "individ.personnummer",
    "individ.adress", "individ.postnummer", "individ.ort", "individ.postadress",
    "individ.telefon", "individ.epost", "individ.foretradare_namn",
    "individ.foretradare_kontakt",
    # Högsta slutförda utbildningsnivå for SUS: asked once, kept with the individ (sus_categories.py).
    "individ.utbildningsniva",
    # The language the individ's documents are also printed in (blanketter/sprak.py, issue 30).
    "individ.sprak",
    "user.namn", "user.titel", "user.telefon", "user.epost", "user.kontakt",
    "enhet.namn", "enhet.adress", "organisation.namn", "today",
    # The producing user as socialtjänstens contact, when their enhet is socialtjänsten's.
    "socialtjanst.finns", "socialtjanst.kontakt",
    # Rows suggested for a `rows` field: the treating doctor and vårdenhet known in the ärende.
    "arende.vard_rad",
    # From the doctor's confirmed answers to a rehabiliteringsförfrågan in the same ärende.
    "lakarsvar.sammanfattning", "lakarsvar.kontakt", "lakarsvar.finns",
} | {f"config.{key}" for key in CONFIG_DEFAULTS})

# Sources whose value is a list of rows (for a field of type rows), not a text.
ROW_SOURCES = frozenset({"arende.vard_rad"})

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class DefinitionError(Exception):
    """All problems found in forms/, each naming file, place and problem in Swedish."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("Fel i blankettdefinitionerna:\n" +
                         "\n".join(f"- {e}" for e in self.errors))


# --- the model -------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    help: str | None = None
    required: bool = False
    max_length: int | None = None
    filled_by: str | None = None
    prefill: str | None = None
    choices: tuple[Choice, ...] = ()
    scale_min: int | None = None
    scale_max: int | None = None
    # One label per point scale_min..scale_max, "" where the point has none.
    scale_labels: tuple[str, ...] = ()
    columns: tuple[Field, ...] = ()                  # type "rows": one Field per column
    min_rows: int = 0                                # blank rows printed on paper
    max_rows: int | None = None
    width: str = "full"
    lines: int = 1                                   # handwriting lines when empty on paper
    scope: str = "arende"                            # see SCOPES
    # YAML `print` (see PRINT_RULES): `false` is a question for the wizard only, never printed.
    print_rule: str = "always"
    # YAML `print_help: false`: the help text is shown in the wizard only, never on paper.
    print_help: bool = True
    # YAML `declaration: true`: the applicant's or signer's own statement ("Jag bifogar …", a
    # consent, "har lämnat samtycke"): never prefilled from anything, on every copy it starts empty.
    declaration: bool = False
    # YAML `fk`: Försäkringskassan's delsvar id the field answers ("39.1"), followed by the code the
    # field stands for when it is one box of a coded list ("40.1 ARBETSTRANING"); see fk_ids.py.
    fk: str | None = None

    @property
    def printed(self) -> bool:
        """Whether the field can be on paper at all (anything but `print: false`)."""
        return self.print_rule != "never"

    @property
    def is_fact(self) -> bool:
        """A fact of the ärende (carried over), not an answer that belongs to one document."""
        return self.scope == "arende"

    @property
    def autocomplete(self) -> str | None:
        """The HTML autocomplete token (WCAG 1.3.5) of a field about the person filling it in: only
        the signed-in user's own details; the individ's phone must not be offered the caseworker's."""
        return _USER_AUTOCOMPLETE.get(self.prefill or "")

    def scale_label(self, point: int) -> str:
        if self.scale_min is None or not self.scale_labels:
            return ""
        index = point - self.scale_min
        return self.scale_labels[index] if 0 <= index < len(self.scale_labels) else ""

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)

    def column(self, name: str) -> Field:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}: ingen kolumn {name!r}")


@dataclass(frozen=True)
class GridRow:
    label: str
    help: str | None
    fields: tuple[str, ...]           # one field name per data column (grid_columns[1:])
    label_field: str | None = None    # text written in the label cell ("Annat, ange vad?")


@dataclass(frozen=True)
class Signature:
    role: str                         # printed under the line, e.g. "Sökande"
    date_field: str
    name_field: str | None = None     # namnförtydligande
    title_field: str | None = None    # befattning
    place_field: str | None = None    # ort

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.place_field, self.date_field, self.name_field,
                                 self.title_field) if n)


@dataclass(frozen=True)
class Section:
    id: str
    number: str | None
    title: str
    intro: str | None = None
    filled_by: str | None = None
    fields: tuple[Field, ...] = ()
    layout: str = "fields"
    grid_columns: tuple[str, ...] = ()   # first header is the label column's
    grid_rows: tuple[GridRow, ...] = ()
    signatures: tuple[Signature, ...] = ()
    page_break_before: bool = False
    text_only: bool = False

    @property
    def ungrouped_fields(self) -> tuple[Field, ...]:
        """Fields printed as plain fields: not placed in a grid row or signature block."""
        placed = {n for row in self.grid_rows for n in row.fields}
        placed |= {row.label_field for row in self.grid_rows if row.label_field}
        placed |= {n for sig in self.signatures for n in sig.field_names}
        return tuple(f for f in self.fields if f.name not in placed)


@dataclass(frozen=True)
class Blankett:
    id: str
    title: str
    subtitle: str | None
    version: str
    issuer: str
    kind: str
    attachments: tuple[str, ...]
    legal_refs: tuple[str, ...]
    send_to: str | None                  # address block or "config.<key>" (see config_text)
    intro: str | None                    # may contain {field_name} placeholders
    sections: tuple[Section, ...]
    per_recipient_rows: str | None = None  # rows field: one copy per row (SIP inbjudna)
    per_recipient_unless: str | None = None  # checkbox field: when ticked, one common copy instead
    masthead: str = "organisation"       # see MASTHEADS
    consent: Consent | None = None       # this blankett is a consent (see Consent)
    shares_with: tuple[str, ...] = ()    # parties (PARTIES) the blankett gives information to
    # The definition a part built in code was derived from (doctor/underlag.py: the medicinskt
    # underlag from the förfrågan); such a part has no committed Word template, its template is
    # built in memory (rendering/docx.py).
    derived_from: str | None = None
    # The print layout's own words (LAYOUT_WORDS: Bilaga, Datum, Namnteckning, Namnförtydligande) in
    # the blankett's language, as (Swedish, translated): set on a translated part
    # (blanketter/sprak.py); empty, the Swedish words.
    words: tuple[tuple[str, str], ...] = ()

    def word(self, swedish: str) -> str:
        """A word of the print layout in the blankett's language."""
        return dict(self.words).get(swedish, swedish)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for s in self.sections for f in s.fields)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.id}: inget fält {name!r}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name


def blankett_ids(defs: Mapping[str, Blankett]) -> tuple[str, ...]:
    return tuple(sorted(defs))


def config_text(value: str | None, overrides: Mapping[str, str] | None = None) -> str | None:
    """Resolve a `config.<key>` reference (send_to, prefill) to its text; other text as is."""
    if value is None or not value.startswith("config."):
        return value
    key = value.removeprefix("config.")
    if overrides and key in overrides:
        return overrides[key]
    return CONFIG_DEFAULTS[key]


def fill_placeholders(text: str, values: Mapping[str, Any], *, missing: str = "………………",
                      display=str) -> str:
    """Replace {field_name} in an intro with display(value); `{{`/`}}` are literal braces."""
    def sub(match: re.Match) -> str:
        value = values.get(match.group(1))
        return missing if value in (None, "") else display(value)
    escaped = text.replace("{{", "\0").replace("}}", "\1")
    return _PLACEHOLDER.sub(sub, escaped).replace("\0", "{").replace("\1", "}")


def placeholders(text: str | None) -> list[str]:
    if not text:
        return []
    return _PLACEHOLDER.findall(text.replace("{{", "").replace("}}", ""))


def facts(definitions: Iterable[Blankett], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that are facts of the ärende: all but those a definition marks `scope: dokument`
    (a field name has the same scope on every blankett; the loader checks it)."""
    own = {f.name for b in definitions for f in b.fields if not f.is_fact}
    return {name: value for name, value in values.items() if name not in own}


def field_role(field: Field, section: Section) -> str | None:
    """Who fills in the field: its own filled_by, else its section's."""
    return field.filled_by or section.filled_by
