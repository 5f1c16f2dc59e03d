"""Translations of a blankett's fixed texts (issue 30): the languages an organisation offers
(translations/sprak.yaml), their message catalogues (translations/<code>/LC_MESSAGES/blanketter.po,
read with Babel at first use, no compile step), the extractor that writes the POT from the YAML
definitions, and a blankett rebuilt in another language (a `Blankett` derived with
dataclasses.replace, so the PDF and the Word template are built from it like any other part).

The message id is the Swedish text itself: a label changed in the YAML is a new id with no
translation, so it is reported as untranslated (`missing`) and the translated part is refused,
never printed with the old wording. Pure Python (Babel, YAML): no flask, no database, no PDF engine.

Run `python -m formservice.blanketter.sprak extract > translations/blanketter.pot` to write the
POT, `python -m formservice.blanketter.sprak check` to list what each language lacks."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import yaml

from formservice import paths

from .model import Blankett, Choice, Field, Section
from .sammanfattning import summary

TRANSLATIONS_DIR = paths.TRANSLATIONS_DIR
DOMAIN = "blanketter"
FIELD = "sprak"  # the wizard-only field that asks for the language (print: false)
NONE = "ingen"  # its first choice, and what an individ record without a language stands for
REVIEW_HEADER = "X-Formservice-Granskad"  # "ja" once a qualified translator has reviewed it

# Fixed texts of the translated part itself, translated like the definitions' texts.
SWEDISH_APPLIES = "Den svenska texten gäller."
NOT_REVIEWED = "Översättningen har inte granskats av en kvalificerad översättare."
# The words the print layout itself writes (the signature block's captions, "Bilaga", the running
# head's and foot's "Personnummer", "Dokumentnr", "version" and "Sida"), so that the individ signs
# under captions in their language and reads every page's header and footer in it too.
LAYOUT_WORDS = ("Bilaga", "Datum", "Namnteckning", "Namnförtydligande", "Sida", "Personnummer", "Dokumentnr",
                "version")
SERVICE_TEXTS = (SWEDISH_APPLIES, NOT_REVIEWED, *LAYOUT_WORDS)
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Language:
    code: str        # the choice value and folder name, e.g. "en", "sv_lattlast"
    name: str        # its Swedish name, e.g. "Engelska"
    own_name: str    # its own name, e.g. "English", "العربية"
    lang: str        # BCP 47 for HTML lang, PDF /Lang and DOCX w:lang, e.g. "en", "ar", "sv"
    direction: str   # "ltr" or "rtl"
    font: str | None = None  # the print font family for its script, when not the default

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"


@dataclass(frozen=True)
class Messages:
    language: Language
    texts: Mapping[str, str]  # Swedish text -> translation (fuzzy and empty entries left out)
    reviewed: bool

    def get(self, text: str) -> str | None:
        return self.texts.get(text)


class Untranslated(LookupError):
    def __init__(self, language: Language, missing: list[str]):
        self.language, self.missing = language, missing
        super().__init__(f"{language.code}: {len(missing)} texts untranslated")


def message(exc: Untranslated, blankett: Blankett) -> str:
    """The Swedish message for the caseworker or the API caller."""
    count = len(exc.missing)
    return (f"Översättningen till {exc.language.name.lower()} av {blankett.title} är inte komplett "
            f"({count} {'text saknas' if count == 1 else 'texter saknas'}). Välj ett annat språk eller inget.")


# ------------------------------------------------------------------ languages and catalogues


def load_languages(directory: Path | None = None) -> dict[str, Language]:
    directory = directory or TRANSLATIONS_DIR
    path = directory / "sprak.yaml"
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, Language] = {}
    for item in raw.get("sprak", []):
        direction, font = item.get("riktning", "ltr"), item.get("typsnitt")
        if direction not in ("ltr", "rtl"):
            raise ValueError(f"{path}: riktning för {item.get('kod')!r} ska vara ltr eller rtl")
        if font is not None and not re.fullmatch(r"[A-Za-z0-9 ]+", font):  # it goes into a style attribute
            raise ValueError(f"{path}: typsnitt för {item.get('kod')!r} får bara ha bokstäver a–z, siffror och mellanslag")
        out[item["kod"]] = Language(code=item["kod"], name=item["namn"], own_name=item["eget_namn"],
                                    lang=item.get("lang", item["kod"]), direction=direction,
                                    font=font)
    return out


def read_messages(language: Language, directory: Path | None = None) -> Messages:
    from babel.messages.pofile import read_po

    path = (directory or TRANSLATIONS_DIR) / language.code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return Messages(language, {}, False)
    with path.open("rb") as fileobj:
        catalog = read_po(fileobj, charset="utf-8")
    texts = {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
    # Babel keeps only the headers it knows (mime_headers): ours is read from the header entry.
    header = re.search(rf'^"{REVIEW_HEADER}:\s*(\S*?)\s*\\n"$', path.read_text(encoding="utf-8"), re.M)
    return Messages(language, texts, bool(header) and header.group(1).lower() == "ja")


@lru_cache(maxsize=1)
def shipped() -> dict[str, Messages]:
    """Every offered language's messages as the files in translations/ have them, read once per process."""
    return {code: read_messages(lang) for code, lang in load_languages().items()}


_source: Callable[[dict[str, Messages]], dict[str, Messages]] | None = None


def register_source(source: Callable[[dict[str, Messages]], dict[str, Messages]] | None) -> None:
    """The hook through which a higher wing gives the catalogues in use: `source(shipped())` returns
    them (an organisation's own texts and review marks, arenden/sprakgranskning.py)."""
    global _source
    _source = source


def catalogues() -> dict[str, Messages]:
    """Every offered language's messages in use: the shipped ones, or what the registered source makes of them."""
    return _source(shipped()) if _source is not None else shipped()


def reset() -> None:
    """Forget the read files (tests, or after the files in translations/ were edited)."""
    shipped.cache_clear()


def offer_languages(blanketter: Mapping[str, Blankett], directory: Path | None = None) -> dict[str, Blankett]:
    """Every language question (the field FIELD) offers what its definition lists ("ingen") and
    then every language of translations/sprak.yaml, each by its Swedish and its own name: a
    language is added in sprak.yaml and its catalogue, never in each definition as well."""
    languages = load_languages(directory)
    offered = tuple(Choice(code, lang.name if lang.name == lang.own_name else f"{lang.name} ({lang.own_name})")
                    for code, lang in languages.items())

    def field(fld: Field) -> Field:
        if fld.name != FIELD:
            return fld
        return replace(fld, choices=tuple(c for c in fld.choices if c.value not in languages) + offered)

    def section(s: Section) -> Section:
        return replace(s, fields=tuple(field(f) for f in s.fields))

    return {k: replace(b, sections=tuple(section(s) for s in b.sections)) if b.has_field(FIELD) else b
            for k, b in blanketter.items()}


# ------------------------------------------------------------------------------ the texts


def texts_of(blankett: Blankett) -> Iterator[tuple[str, str]]:
    """Every fixed text the blankett prints, with where it is (for the translator): title,
    subtitle, intro, section titles and intros, table headers, printed labels and help, choice
    and scale labels, signature roles. Wizard-only fields and help are not printed: left out."""
    where = blankett.id
    for key in ("title", "subtitle", "intro"):
        if getattr(blankett, key):
            yield getattr(blankett, key), f"{where}.{key}"
    for section in blankett.sections:
        at = f"{where}.{section.id}"
        yield section.title, f"{at}.title"
        if section.intro:
            yield section.intro, f"{at}.intro"
        for header in section.grid_columns:
            yield header, f"{at}.grid_columns"
        for row in section.grid_rows:
            yield row.label, f"{at}.grid_rows"
            if row.help:
                yield row.help, f"{at}.grid_rows.help"
        for fld in section.fields:
            yield from _field_texts(fld, f"{at}.{fld.name}")
        for signature in section.signatures:
            yield signature.role, f"{at}.signature"


def _field_texts(fld: Field, at: str) -> Iterator[tuple[str, str]]:
    if not fld.printed:
        return
    yield fld.label, f"{at}.label"
    if fld.help and fld.print_help:
        yield fld.help, f"{at}.help"
    for choice in fld.choices:
        yield choice.label, f"{at}.{choice.value}"
    for label in fld.scale_labels:
        yield label, f"{at}.scale"
    for column in fld.columns:
        yield from _field_texts(column, f"{at}.{column.name}")


def translatable(blankett: Blankett) -> bool:
    """A blankett is offered in other languages when its definition asks for one."""
    return any(f.name == FIELD for f in blankett.fields)


def translated_form(blankett: Blankett) -> Blankett:
    """What the individ gets in their language: the blankett itself or, for a long one (the
    förändringsplan), its summary (sammanfattning.py); its texts are the ones translated."""
    return summary(blankett) or blankett


def missing(blankett: Blankett, messages: Messages) -> list[str]:
    """The blankett's texts (and the part's own notes) with no translation, or whose translation
    lost or invented a {placeholder}: such a text would print wrong."""
    wanted = [text for text, _ in texts_of(translated_form(blankett))] + list(SERVICE_TEXTS)
    out = []
    for text in dict.fromkeys(wanted):
        got = messages.get(text)
        if got is None or set(_PLACEHOLDER.findall(got)) != set(_PLACEHOLDER.findall(text)):
            out.append(text)
    return out


def translate(blankett: Blankett, messages: Messages) -> Blankett:
    """The blankett (or its summary, translated_form) with every fixed text in the language; raises
    Untranslated if one is missing. Its Word template is built from this definition (derived_from),
    its id names the language."""
    lacking = missing(blankett, messages)
    blankett = translated_form(blankett)
    if lacking:
        raise Untranslated(messages.language, lacking)
    t = messages.texts.__getitem__

    def field(fld: Field) -> Field:
        if not fld.printed:
            return fld
        return replace(fld, label=t(fld.label), help=t(fld.help) if fld.help and fld.print_help else fld.help,
                       choices=tuple(replace(c, label=t(c.label)) for c in fld.choices),
                       scale_labels=tuple(t(x) for x in fld.scale_labels),
                       columns=tuple(field(c) for c in fld.columns))

    def section(s: Section) -> Section:
        return replace(s, title=t(s.title), intro=t(s.intro) if s.intro else None,
                       grid_columns=tuple(t(h) for h in s.grid_columns),
                       grid_rows=tuple(replace(r, label=t(r.label), help=t(r.help) if r.help else None)
                                       for r in s.grid_rows),
                       fields=tuple(field(f) for f in s.fields),
                       signatures=tuple(replace(sig, role=t(sig.role)) for sig in s.signatures))

    return replace(blankett, id=f"{blankett.id}-{messages.language.code}", title=t(blankett.title),
                   subtitle=t(blankett.subtitle) if blankett.subtitle else None,
                   intro=t(blankett.intro) if blankett.intro else None,
                   sections=tuple(section(s) for s in blankett.sections),
                   words=tuple((w, t(w)) for w in LAYOUT_WORDS),
                   # The Swedish part is the consent that is registered and the one that applies.
                   attachments=(), consent=None, shares_with=(), derived_from=blankett.id)


def notes(messages: Messages) -> list[list[tuple[str, str, str]]]:
    """What the translated part says first, line by line, each line's texts as (lang, dir, text):
    the Swedish text applies and, unreviewed, that no qualified translator has checked it – in its
    language, then in Swedish (lättläst is Swedish: once). A language written left to right has
    both on one line, so that the part fits as many pages as the Swedish; right to left, a line each."""
    lang = messages.language
    wanted = [SWEDISH_APPLIES] + ([] if messages.reviewed else [NOT_REVIEWED])
    lines: list[list[tuple[str, str, str]]] = []
    if lang.lang == "sv":
        return [[(lang.lang, lang.direction, " ".join(messages.texts[text] for text in wanted))]]
    for text in wanted:
        own = (lang.lang, lang.direction, messages.texts[text])
        if lang.rtl:
            lines += [[own], [("sv", "ltr", text)]]
        else:
            lines.append([own, ("sv", "ltr", text)])
    return lines


# ------------------------------------------------------------------------------ extraction


def extract_yaml(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """A Babel extraction method (translations/babel.cfg): the fixed texts of one blankett
    definition. Only blanketter offered in other languages."""
    from .loader import load_definitions

    path = Path(fileobj.name)
    blankett_id = (yaml.safe_load(fileobj.read().decode("utf-8")) or {}).get("id")
    blankett = load_definitions(path.parent).get(blankett_id) if blankett_id else None
    if blankett is None or not translatable(blankett):
        return
    for text, where in texts_of(translated_form(blankett)):
        yield 0, None, text, [where]
    for text in SERVICE_TEXTS:
        yield 0, None, text, ["formservice.översatt_del"]


def pot(blanketter: Iterable[Blankett]) -> bytes:
    """The POT of the given blanketter' texts (and the translated part's own notes)."""
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project="formservice", domain=DOMAIN, charset="utf-8")
    for blankett in blanketter:
        if translatable(blankett):
            for text, where in texts_of(translated_form(blankett)):
                catalog.add(text, auto_comments=[where])
    for text in SERVICE_TEXTS:
        catalog.add(text, auto_comments=["formservice.översatt_del"])
    out = io.BytesIO()
    write_po(out, catalog, omit_header=False, sort_output=False, width=100)
    return out.getvalue()


def update(code: str, template: bytes, directory: Path | None = None) -> None:
    """A language's catalogue brought up to the template: new texts empty, texts no longer used
    kept as obsolete, never a guessed ("fuzzy") translation; its review status kept (`pybabel
    update` drops a header it does not know)."""
    import io

    from babel.messages.pofile import read_po, write_po

    path = (directory or TRANSLATIONS_DIR) / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    text = path.read_text(encoding="utf-8")
    status = re.search(rf'^"{REVIEW_HEADER}:\s*(\S*?)\s*\\n"$', text, re.M)
    catalog = read_po(io.BytesIO(text.encode("utf-8")), charset="utf-8")
    catalog.update(read_po(io.BytesIO(template)), no_fuzzy_matching=True)
    out = io.BytesIO()
    write_po(out, catalog, width=100, ignore_obsolete=False)
    written = out.getvalue().decode("utf-8")
    header = f'"{REVIEW_HEADER}: {status.group(1) if status else "nej"}\\n"\n'
    written = written.replace('"Generated-By:', header + '"Generated-By:', 1)
    path.write_text(written, encoding="utf-8")


def _main(argv: list[str]) -> int:
    from .catalogue import load_catalogue

    blanketter = list(load_catalogue(paths.FORMS_DIR).blanketter.values())
    if argv[:1] == ["extract"]:
        sys.stdout.buffer.write(pot(blanketter))
        return 0
    if argv[:1] == ["update"]:
        for code in load_languages():
            update(code, pot(blanketter))
        return 0
    if argv[:1] == ["check"]:
        bad = 0
        for code, messages in catalogues().items():
            for blankett in filter(translatable, blanketter):
                lacking = missing(blankett, messages)
                bad += len(lacking)
                for text in lacking:
                    print(f"{code} {blankett.id}: saknar översättning av {text!r}")
        return 1 if bad else 0
    print("användning: python -m formservice.blanketter.sprak extract|update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
