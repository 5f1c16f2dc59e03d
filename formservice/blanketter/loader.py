"""Reading and checking forms/<id>.yaml into Blankett definitions.

Every problem is collected and reported together in Swedish, naming file, place and problem;
a broken definition never surfaces as a traceback. The format is documented in docs/blanketter.md.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from formservice.processkarta.lagrum import resolve_references

from .fk_ids import fk_attribute, fk_code
from .model import (CONFIG_DEFAULTS, DEFAULT_MAX_LENGTH, FIELD_TYPES, KINDS, KNOWN_PREFILL_SOURCES, LAYOUTS, ROW_SOURCES, MASTHEADS, PARTIES, PRINT_RULES, ROLES,
                    SCOPES, WIDTHS, Blankett, Choice, Consent, DefinitionError, Field, GridRow, Section, Signature, placeholders,
                    ISSUER_PLACEHOLDERS, unknown_issuer_placeholders)

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# --- loading -------------------------------------------------------------------------

class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's C parser where installed) that rejects a key written twice (PyYAML
    would keep the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nyckeln {key!r} förekommer två gånger", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_BLANKETT_KEYS = {"id", "title", "subtitle", "version", "issuer", "kind", "attachments",
                  "legal_refs", "send_to", "intro", "filled_by", "per_recipient_rows", "per_recipient_unless",
                  "masthead", "sections", "consent", "shares_with"}
_BLANKETT_REQUIRED = {"id", "title", "version", "issuer", "kind", "sections"}
_SECTION_KEYS = {"id", "number", "title", "intro", "filled_by", "fields", "layout",
                 "grid_columns", "grid_rows", "signatures", "page_break_before", "text_only", "scope"}
_FIELD_KEYS = {"name", "label", "type", "help", "required", "max_length", "filled_by",
               "prefill", "choices", "scale_min", "scale_max", "scale_labels", "columns",
               "min_rows", "max_rows", "width", "lines", "scope", "print", "print_help", "declaration", "fk"}
_GRID_ROW_KEYS = {"label", "help", "fields", "label_field"}
_CONSENT_KEYS = {"months", "signed_field", "until_field", "parties", "party_fields", "ends_with_arende"}
_SIGNATURE_KEYS = {"role", "date_field", "name_field", "title_field", "place_field"}


def load_definitions(forms_dir: Path) -> dict[str, Blankett]:
    """Load every forms/*.yaml except processkarta*.yaml and _*.yaml; raise DefinitionError
    listing every problem found (never a traceback)."""
    forms_dir = Path(forms_dir)
    errors: list[str] = []
    defs: dict[str, Blankett] = {}
    if not forms_dir.is_dir():
        raise DefinitionError([f"{forms_dir}: mappen finns inte."])
    for path in sorted(forms_dir.iterdir()):
        if path.name.startswith(("_", "processkarta", ".")):
            continue
        if path.suffix == ".yml":
            errors.append(f"{path.name}: filändelsen ska vara .yaml, annars läses filen inte.")
        if path.suffix != ".yaml":
            continue
        blankett = _Reader(path, errors).blankett()
        if blankett is not None:
            defs[path.stem] = blankett
    if not defs and not errors:
        errors.append(f"{forms_dir}: inga blankettdefinitioner (*.yaml) hittades.")
    _check_across(defs, errors)
    if errors:
        raise DefinitionError(errors)
    return defs


def _check_across(defs: dict[str, Blankett], errors: list[str]) -> None:
    for b in defs.values():
        for att in b.attachments:
            other = defs.get(att)
            if other is None:
                errors.append(f"{b.id}.yaml: attachments: bilagan {att!r} finns inte.")
            elif other.kind != "bilaga":
                errors.append(f"{b.id}.yaml: attachments: {att!r} har kind {other.kind!r}, "
                              "men en bifogad blankett ska ha kind 'bilaga'.")
    # The same name is the same fact: its answer is offered on the other blanketter,
    # so it must have the same type (and the same choices / columns).
    first: dict[str, tuple[str, Field]] = {}
    for b in defs.values():
        for f in b.fields:
            if f.name not in first:
                first[f.name] = (b.id, f)
                continue
            other_id, g = first[f.name]
            if f.type != g.type:
                problem = f"typen {f.type!r} skiljer sig från {g.type!r} i {other_id}.yaml"
            elif {c.value for c in f.choices} != {c.value for c in g.choices}:
                problem = f"valen skiljer sig från dem i {other_id}.yaml"
            elif [c.name for c in f.columns] != [c.name for c in g.columns]:
                problem = f"kolumnerna skiljer sig från dem i {other_id}.yaml"
            elif f.scope != g.scope:
                problem = f"scope {f.scope!r} skiljer sig från {g.scope!r} i {other_id}.yaml"
            else:
                continue
            errors.append(f"{b.id}.yaml: fält {f.name!r}: {problem} – samma fältnamn betyder "
                          "samma uppgift på alla blanketter.")


class _Reader:
    """Builds one Blankett from one file, collecting errors instead of stopping."""

    def __init__(self, path: Path, errors: list[str]):
        self.path = path
        self.errors = errors

    def error(self, where: str, problem: str) -> None:
        self.errors.append(f"{self.path.name}: {where}: {problem}" if where
                           else f"{self.path.name}: {problem}")

    # -- generic checks
    def keys(self, data: Any, allowed: set[str], required: set[str], where: str) -> bool:
        if not isinstance(data, dict):
            self.error(where, "ska vara en mappning (nyckel: värde).")
            return False
        for key in sorted(set(data) - allowed, key=str):
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = (f"menade du {close[0]!r}?" if close
                    else f"tillåtna: {', '.join(sorted(allowed))}")
            self.error(where, f"okänd nyckel {key!r} ({hint}).")
        for key in sorted(required - set(data)):
            self.error(where, f"nyckeln {key!r} saknas.")
        return True

    def text(self, data: dict, key: str, where: str, *, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            return "" if required else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(where, f"{key} ska vara en text.")
            return None
        if required and not value.strip():
            self.error(where, f"{key} får inte vara tom.")
        return value

    def flag(self, data: dict, key: str, where: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(where, f"{key} ska vara true eller false.")
            return False
        return value

    def integer(self, data: dict, key: str, where: str, default: int | None,
                minimum: int | None = 0) -> int | None:
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or (
                minimum is not None and value < minimum):
            self.error(where, f"{key} ska vara ett heltal"
                              + (f" (minst {minimum})." if minimum is not None else "."))
            return default
        return value

    def str_list(self, data: dict, key: str, where: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(where, f"{key} ska vara en lista med texter.")
            return ()
        return tuple(value)

    def name(self, value: Any, where: str, what: str = "name") -> bool:
        if not isinstance(value, str) or not _SNAKE.match(value):
            self.error(where, f"{what} {value!r} ska vara snake_case: små bokstäver a–z, "
                              "siffror och understreck (inga å, ä, ö eller mellanslag).")
            return False
        return True

    def scope(self, data: dict, where: str, default: str) -> str:
        value = data.get("scope", default)
        if value not in SCOPES:
            self.error(where, f"scope {value!r} är okänd (tillåtna: arende = en uppgift i ärendet, "
                              "dokument = gäller bara det här dokumentet).")
            return default
        return value

    def print_rule(self, data: dict, where: str, ftype: str) -> str:
        value = data.get("print", True)  # true, false, if_filled or in_text (model.PRINT_RULES)
        if isinstance(value, bool) or value in PRINT_RULES[2:]:
            if value == "if_filled" and ftype == "rows":
                self.error(where, "print: if_filled gäller inte typen rows (tabellen skrivs alltid ut).")
            return ("always" if value else "never") if isinstance(value, bool) else value
        self.error(where, "print ska vara true, false, if_filled (bara när fältet är ifyllt) eller in_text "
                          "(bara där en platshållare i en text sätter in det).")
        return "always"

    def role(self, data: dict, where: str, default: str | None) -> str | None:
        value = data.get("filled_by", default)
        if value is not None and value not in ROLES:
            self.error(where, f"filled_by {value!r} är okänd "
                              f"(tillåtna: {', '.join(sorted(ROLES))}).")
        return value

    # -- the file
    def load(self) -> Any:
        try:
            return yaml.load(self.path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        except UnicodeDecodeError:
            self.error("", "filen är inte sparad som UTF-8.")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"rad {mark.line + 1}, kolumn {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            self.error(where, f"YAML-syntaxfel: {problem}.")
        return None

    def blankett(self) -> Blankett | None:
        data = self.load()
        if data is None and not self.path.read_bytes().strip():
            self.error("", "filen är tom.")
        if data is None or not self.keys(data, _BLANKETT_KEYS, _BLANKETT_REQUIRED, ""):
            return None
        bid = data.get("id")
        if bid != self.path.stem:
            self.error("id", f"id {bid!r} ska vara samma som filnamnet ({self.path.stem!r}).")
        kind = data.get("kind")
        if kind not in KINDS:
            self.error("kind", f"kind {kind!r} ska vara 'blankett' eller 'bilaga'.")
        send_to = self.text(data, "send_to", "send_to")
        if send_to and send_to.startswith("config.") and send_to[7:] not in CONFIG_DEFAULTS:
            self.error("send_to", f"okänd inställning {send_to!r} "
                                  f"(kända: {', '.join(sorted(CONFIG_DEFAULTS))}).")
        attachments = self.str_list(data, "attachments", "attachments")
        if attachments and kind == "bilaga":
            self.error("attachments", "en bilaga kan inte ha egna bilagor.")
        default_role = self.role(data, "filled_by", None)

        sections: list[Section] = []
        raw_sections = data.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            self.error("sections", "ska vara en lista med minst ett avsnitt.")
            raw_sections = []
        for i, raw in enumerate(raw_sections, 1):
            section = self.section(raw, i, default_role)
            if section is not None:
                sections.append(section)

        blankett = Blankett(
            id=self.path.stem, title=self.text(data, "title", "title", required=True) or "",
            subtitle=self.text(data, "subtitle", "subtitle"),
            version=self.text(data, "version", "version", required=True) or "",
            issuer=self.text(data, "issuer", "issuer", required=True) or "",
            kind=kind if kind in KINDS else "blankett", attachments=attachments,
            legal_refs=resolve_references(self.str_list(data, "legal_refs", "legal_refs"), self.path.parent,
                                          lambda problem: self.error("legal_refs", problem)), send_to=send_to,
            intro=self.text(data, "intro", "intro"), sections=tuple(sections),
            per_recipient_rows=self.text(data, "per_recipient_rows", "per_recipient_rows"),
            per_recipient_unless=self.text(data, "per_recipient_unless", "per_recipient_unless"),
            masthead=self.masthead(data), consent=self.consent(data.get("consent")),
            shares_with=self.parties(data, "shares_with", "shares_with"))
        self.check_blankett(blankett)
        return blankett

    def parties(self, data: dict, key: str, where: str) -> tuple[str, ...]:
        parties = self.str_list(data, key, where)
        for p in parties:
            if p not in PARTIES:
                self.error(where, f"okänd part {p!r} (kända: {', '.join(PARTIES)}).")
        return tuple(p for p in parties if p in PARTIES)

    def consent(self, raw: Any) -> Consent | None:
        if raw is None or not self.keys(raw, _CONSENT_KEYS, {"months", "signed_field"}, "consent"):
            return None
        months = raw.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
            self.error("consent", "months ska vara ett antal månader (1–120).")
            months = 12
        fields = raw.get("party_fields") or {}
        if not isinstance(fields, dict) or any(p not in PARTIES for p in fields.values()):
            self.error("consent", f"party_fields ska ge en part ({', '.join(PARTIES)}) per kryssruta.")
            fields = {}
        return Consent(months=months, signed_field=str(raw.get("signed_field")),
                       until_field=self.text(raw, "until_field", "consent"),
                       parties=self.parties(raw, "parties", "consent"), party_fields=tuple(fields.items()),
                       ends_with_arende=raw.get("ends_with_arende") is True)

    def masthead(self, data: dict) -> str:
        value = data.get("masthead", "organisation")
        if value not in MASTHEADS:
            self.error("masthead", f"masthead {value!r} ska vara 'organisation' eller 'issuer'.")
            return "organisation"
        return value

    def check_blankett(self, b: Blankett) -> None:
        if unknown_issuer_placeholders(b.issuer):
            self.error("issuer", f"issuer får bara ha platshållarna {', '.join(sorted(ISSUER_PLACEHOLDERS))}.")
        seen_sections: set[str] = set()
        seen_fields: dict[str, str] = {}
        for s in b.sections:
            if s.id in seen_sections:
                self.error(f"avsnitt {s.id!r}", "avsnittets id förekommer två gånger.")
            seen_sections.add(s.id)
            for f in s.fields:
                if f.name in seen_fields:
                    self.error(f"avsnitt {s.id!r}, fält {f.name!r}",
                               f"fältnamnet finns redan i avsnitt {seen_fields[f.name]!r} – "
                               "ett fältnamn får bara förekomma en gång per blankett.")
                seen_fields.setdefault(f.name, s.id)
        for s in b.sections:
            for sig in s.signatures:
                for name in sig.field_names:
                    if name not in seen_fields:
                        self.error(f"avsnitt {s.id!r}, underskrift {sig.role!r}",
                                   f"fältet {name!r} finns inte på blanketten.")
        texts = [("intro", b.intro)] + [(f"avsnitt {s.id!r}, intro", s.intro)
                                        for s in b.sections]
        for where, text in texts:
            for ph in placeholders(text):
                if ph not in seen_fields:
                    self.error(where, f"platshållaren {{{ph}}} är inget fält på blanketten "
                                      "(skriv {{ och }} för klammerparenteser).")
        if b.per_recipient_rows is not None:
            f = b._by_name.get(b.per_recipient_rows)
            if f is None or f.type != "rows":
                self.error("per_recipient_rows",
                           f"{b.per_recipient_rows!r} ska vara namnet på ett fält av typen rows.")
        # A field that is never printed cannot be where the paper shows it.
        shown_elsewhere = {b.per_recipient_rows, *placeholders(b.intro)}
        for s in b.sections:
            shown_elsewhere.update(placeholders(s.intro))
            shown_elsewhere.update(n for row in s.grid_rows for n in (*row.fields, row.label_field))
            shown_elsewhere.update(n for sig in s.signatures for n in sig.field_names)
        in_texts = set(placeholders(b.intro)).union(*(placeholders(s.intro) for s in b.sections))
        for f in b.fields:
            if not f.printed and f.name in shown_elsewhere:
                self.error(f"fält {f.name!r}", "ett fält med print: false får inte stå i en tabell, en underskrift, "
                                               "en platshållare eller per_recipient_rows – det skrivs aldrig ut.")
            elif f.print_rule in ("if_filled", "in_text") and f.name in shown_elsewhere - in_texts:
                self.error(f"fält {f.name!r}", f"print: {f.print_rule} gäller ett fält med en egen ruta, inte ett "
                                               "i en tabell, en underskrift eller per_recipient_rows.")
            elif f.print_rule == "in_text" and f.name not in in_texts:
                self.error(f"fält {f.name!r}", "print: in_text skrivs bara där en platshållare i en text sätter in "
                                               f"fältet, men ingen intro har {{{f.name}}}.")
        if b.consent is not None:
            for name, types in ((b.consent.signed_field, {"date"}), (b.consent.until_field, {"date"}),
                                *((n, {"checkbox"}) for n, _ in b.consent.party_fields)):
                if name is not None and (name not in b._by_name or b._by_name[name].type not in types):
                    self.error("consent", f"{name!r} ska vara ett fält av typen {'/'.join(sorted(types))} på blanketten.")
            if not (b.consent.parties or b.consent.party_fields):
                self.error("consent", "ett samtycke behöver parties eller party_fields.")
        if b.per_recipient_unless is not None:
            f = b._by_name.get(b.per_recipient_unless)
            if f is None or f.type != "checkbox" or b.per_recipient_rows is None:
                self.error("per_recipient_unless", f"{b.per_recipient_unless!r} ska vara namnet på en kryssruta, "
                                                   "och blanketten ska ha per_recipient_rows.")

    # -- sections
    def section(self, raw: Any, index: int, default_role: str | None) -> Section | None:
        sid = raw.get("id") if isinstance(raw, dict) else None
        where = f"avsnitt {sid!r}" if sid else f"avsnitt nr {index}"
        if not self.keys(raw, _SECTION_KEYS, {"id", "title"}, where):
            return None
        self.name(sid, where, "id")
        role = self.role(raw, where, default_role)
        scope = self.scope(raw, where, "arende")
        number = raw.get("number")
        number = None if number is None else str(number)
        text_only = self.flag(raw, "text_only", where)
        intro = self.text(raw, "intro", where)

        fields: list[Field] = []
        raw_fields = raw.get("fields") or []
        if not isinstance(raw_fields, list):
            self.error(where, "fields ska vara en lista.")
            raw_fields = []
        for j, rf in enumerate(raw_fields, 1):
            f = self.field(rf, f"{where}, fält", j, role, scope)
            if f is not None:
                fields.append(f)
        names = {f.name for f in fields}

        if text_only and (raw_fields or raw.get("signatures")):
            self.error(where, "ett avsnitt med text_only: true får inte ha fält "
                              "eller underskrifter.")
        if text_only and not intro:
            self.error(where, "ett avsnitt med text_only: true behöver en intro-text.")
        if not text_only and not raw_fields:
            self.error(where, "avsnittet har inga fält (ange text_only: true för ren text).")

        layout = raw.get("layout", "fields")
        grid_columns: tuple[str, ...] = ()
        grid_rows: list[GridRow] = []
        if layout not in LAYOUTS:
            self.error(where, f"layout {layout!r} ska vara 'fields' eller 'grid'.")
        elif layout == "grid":
            grid_columns = self.str_list(raw, "grid_columns", where)
            if len(grid_columns) < 2:
                self.error(where, "grid_columns ska ha minst två rubriker (etikettkolumnen "
                                  "och minst en kolumn med fält).")
            rows = raw.get("grid_rows")
            if not isinstance(rows, list) or not rows:
                self.error(where, "grid_rows ska vara en lista med minst en rad.")
                rows = []
            used: set[str] = set()
            for k, rr in enumerate(rows, 1):
                row = self.grid_row(rr, f"{where}, grid-rad {k}", names, len(grid_columns) - 1,
                                    used)
                if row is not None:
                    grid_rows.append(row)
        elif "grid_columns" in raw or "grid_rows" in raw:
            self.error(where, "grid_columns och grid_rows gäller bara layout: grid.")

        signatures: list[Signature] = []
        raw_sigs = raw.get("signatures") or []
        if not isinstance(raw_sigs, list):
            self.error(where, "signatures ska vara en lista.")
            raw_sigs = []
        for k, rs in enumerate(raw_sigs, 1):
            swhere = f"{where}, underskrift {k}"
            if not self.keys(rs, _SIGNATURE_KEYS, {"role", "date_field"}, swhere):
                continue
            refs = {}
            for key in ("date_field", "name_field", "title_field", "place_field"):
                value = rs.get(key)
                if value is not None and not isinstance(value, str):
                    self.error(swhere, f"{key} ska vara ett fältnamn.")
                    value = None
                refs[key] = value
            signatures.append(Signature(role=self.text(rs, "role", swhere, required=True) or "",
                                        **refs))

        return Section(
            id=sid if isinstance(sid, str) else f"avsnitt_{index}", number=number,
            title=self.text(raw, "title", where, required=True) or "", intro=intro,
            filled_by=role, fields=tuple(fields), layout=layout if layout in LAYOUTS else "fields",
            grid_columns=grid_columns, grid_rows=tuple(grid_rows),
            signatures=tuple(signatures),
            page_break_before=self.flag(raw, "page_break_before", where), text_only=text_only)

    def grid_row(self, raw: Any, where: str, names: set[str], width: int,
                 used: set[str]) -> GridRow | None:
        if not self.keys(raw, _GRID_ROW_KEYS, {"label", "fields"}, where):
            return None
        fields = self.str_list(raw, "fields", where)
        if width > 0 and len(fields) != width:
            self.error(where, f"raden ska ha {width} fält, ett per kolumn efter etiketten "
                              f"(har {len(fields)}).")
        label_field = raw.get("label_field")
        if label_field is not None and not isinstance(label_field, str):
            self.error(where, "label_field ska vara ett fältnamn.")
            label_field = None
        for name in fields + ((label_field,) if label_field else ()):
            if name not in names:
                self.error(where, f"fältet {name!r} finns inte i avsnittet.")
            elif name in used:
                self.error(where, f"fältet {name!r} står redan på en annan rad.")
            used.add(name)
        return GridRow(label=self.text(raw, "label", where, required=True) or "",
                       help=self.text(raw, "help", where), fields=fields,
                       label_field=label_field)

    # -- fields
    def field(self, raw: Any, prefix: str, index: int, role: str | None, scope: str = "arende", *,
              in_rows: bool = False) -> Field | None:
        name = raw.get("name") if isinstance(raw, dict) else None
        where = f"{prefix} {name!r}" if isinstance(name, str) else f"{prefix} nr {index}"
        if not self.keys(raw, _FIELD_KEYS, {"name", "label", "type"}, where):
            return None
        ok = self.name(name, where)
        ftype = raw.get("type")
        allowed_types = FIELD_TYPES[:-1] if in_rows else FIELD_TYPES
        if ftype not in allowed_types:
            self.error(where, f"okänd typ {ftype!r} (tillåtna: {', '.join(allowed_types)}).")
            ftype = "text"
        filled_by = self.role(raw, where, role)
        if in_rows and "scope" in raw:
            self.error(where, "scope gäller hela fältet av typen rows, inte en kolumn.")
        if in_rows and ("print" in raw or "print_help" in raw):
            self.error(where, "print och print_help gäller hela fältet av typen rows, inte en kolumn.")
        scope = self.scope(raw, where, scope)

        prefill = raw.get("prefill")
        if prefill is not None:
            if prefill not in KNOWN_PREFILL_SOURCES:
                self.error(where, f"okänd prefill-källa {prefill!r} (se docs/blanketter.md).")
            elif prefill == "today" and ftype != "date":
                self.error(where, "prefill 'today' kan bara användas på fält av typen date.")
            if (ftype == "rows") != (prefill in ROW_SOURCES):
                self.error(where, "ett fält av typen rows förifylls bara med förslag på rader "
                                  f"({', '.join(sorted(ROW_SOURCES))}), och bara ett sådant fält med dem.")
            if ftype == "checkbox" and scope == "dokument":
                self.error(where, "en kryssruta med scope: dokument förifylls aldrig – den kryssas i "
                                  "av den som fyller i just det här dokumentet.")

        declaration = self.flag(raw, "declaration", where)
        if declaration and prefill is not None:
            self.error(where, "en försäkran eller ett samtycke (declaration: true) förifylls aldrig – "
                              "ta bort prefill.")
        if declaration and scope != "dokument":
            self.error(where, "en försäkran eller ett samtycke (declaration: true) gäller bara ett dokument: "
                              "ange scope: dokument.")
        if declaration and in_rows:
            self.error(where, "declaration gäller ett helt fält, inte en kolumn.")

        choices = self.choices(raw, where, ftype)
        scale_min = scale_max = None
        scale_labels: tuple[str, ...] = ()
        if ftype == "scale":
            scale_min = self.integer(raw, "scale_min", where, None, minimum=None)
            scale_max = self.integer(raw, "scale_max", where, None, minimum=None)
            if scale_min is None or scale_max is None or scale_min >= scale_max:
                self.error(where, "en skala behöver scale_min och scale_max (min < max).")
            labels = raw.get("scale_labels") or {}
            if not isinstance(labels, dict) or not all(
                    isinstance(k, int) and isinstance(v, str) for k, v in labels.items()):
                self.error(where, "scale_labels ska vara en mappning tal: text, "
                                  "t.ex. 1: Inte alls.")
                labels = {}
            for k in labels:
                if scale_min is not None and scale_max is not None and not (
                        scale_min <= k <= scale_max):
                    self.error(where, f"scale_labels: {k} ligger utanför skalan.")
            if scale_min is not None and scale_max is not None and scale_min < scale_max:
                scale_labels = tuple(labels.get(p, "") for p in range(scale_min, scale_max + 1))
        else:
            for key in ("scale_min", "scale_max", "scale_labels"):
                if key in raw:
                    self.error(where, f"{key} gäller bara typen scale.")

        columns: list[Field] = []
        min_rows, max_rows = 0, None
        if ftype == "rows":
            raw_cols = raw.get("columns")
            if not isinstance(raw_cols, list) or not raw_cols:
                self.error(where, "ett fält av typen rows behöver columns (minst en kolumn).")
                raw_cols = []
            for k, rc in enumerate(raw_cols, 1):
                col = self.field(rc, f"{where}, kolumn", k, filled_by, scope, in_rows=True)
                if col is not None:
                    if any(c.name == col.name for c in columns):
                        self.error(where, f"kolumnnamnet {col.name!r} förekommer två gånger.")
                    columns.append(col)
            min_rows = self.integer(raw, "min_rows", where, 3) or 0
            max_rows = self.integer(raw, "max_rows", where, 20, minimum=1)
            if max_rows is not None and max_rows < min_rows:
                self.error(where, "max_rows får inte vara mindre än min_rows.")
        else:
            for key in ("columns", "min_rows", "max_rows"):
                if key in raw:
                    self.error(where, f"{key} gäller bara typen rows.")

        width = raw.get("width", "full")
        if width not in WIDTHS:
            self.error(where, f"width {width!r} ska vara full, half eller third.")
            width = "full"
        required = self.flag(raw, "required", where)
        if not ok:
            return None
        return Field(
            name=name, label=self.text(raw, "label", where, required=True) or "", type=ftype,
            help=self.text(raw, "help", where), required=required,
            max_length=self.integer(raw, "max_length", where, DEFAULT_MAX_LENGTH.get(ftype),
                                    minimum=1),
            filled_by=filled_by, prefill=prefill if isinstance(prefill, str) else None,
            choices=choices, scale_min=scale_min, scale_max=scale_max,
            scale_labels=scale_labels, columns=tuple(columns), min_rows=min_rows,
            max_rows=max_rows, width=width, scope=scope, declaration=declaration, fk=fk_attribute(self, raw, where),
            print_rule=self.print_rule(raw, where, ftype),
            print_help=self.flag(raw, "print_help", where, default=True),
            lines=self.integer(raw, "lines", where, 4 if ftype == "textarea" else 1,
                               minimum=1) or 1)

    def choices(self, raw: dict, where: str, ftype: str) -> tuple[Choice, ...]:
        if ftype != "choice":
            if "choices" in raw:
                self.error(where, "choices gäller bara typen choice.")
            return ()
        raw_choices = raw.get("choices")
        if not isinstance(raw_choices, list) or not raw_choices:
            self.error(where, "ett fält av typen choice behöver choices (minst ett val).")
            return ()
        out: list[Choice] = []
        for k, rc in enumerate(raw_choices, 1):
            cwhere = f"{where}, val {k}"
            if not self.keys(rc, {"value", "label"}, {"value", "label"}, cwhere):
                continue
            # PyYAML reads a bare `ja`/`no`/`on` as a boolean: insist on text.
            if not (fk_code(raw, rc["value"]) or self.name(rc["value"], cwhere, "value")):
                continue
            if any(c.value == rc["value"] for c in out):
                self.error(cwhere, f"värdet {rc['value']!r} förekommer två gånger.")
            out.append(Choice(rc["value"], self.text(rc, "label", cwhere, required=True) or ""))
        return tuple(out)
