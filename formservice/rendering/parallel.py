"""Parallel text (issue 30): a blankett the individ signs, printed after its Swedish part once
more in the language the individ reads (blanketter/sprak.py), as a part of its own in the PDF and
the DOCX. The translated part says first, in its language and in Swedish, that the Swedish text
applies, and – while no qualified translator has reviewed the language – that the translation is
unchecked. Values are printed as typed.

Every block carries its language: the part's HTML is wrapped in an element with `lang` (and
`dir="rtl"` for Arabic), which WeasyPrint writes as /Lang into the structure tree, and the part's
Word runs get `w:lang` (and `w:rtl`, paragraphs `w:bidi`, tables `w:bidiVisual`). The translated
part's values carry its language code under PART_KEY (never a field name: those begin with a
letter), so the PDF template and the DOCX renderer know it without a new argument."""
from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from typing import Any, Mapping

from formservice.blanketter import sprak
from formservice.blanketter.model import Blankett

PART_KEY = "_sprak_del"


def chosen(values: Mapping[str, Any]) -> sprak.Messages | None:
    code = values.get(sprak.FIELD)
    if not isinstance(code, str) or code in ("", sprak.NONE):
        return None
    return sprak.catalogues().get(code)


def errors(parts: list[Blankett], values: Mapping[str, Any]) -> dict[str, str]:
    """A Swedish message on the language field when a part would print untranslated texts (a label
    changed in the YAML since the translation): refused, never printed wrong."""
    code = values.get(sprak.FIELD)
    if not isinstance(code, str) or code in ("", sprak.NONE):
        return {}
    messages = sprak.catalogues().get(code)
    if messages is None:
        return {sprak.FIELD: f"Språket {code!r} finns inte. Välj ett av språken i listan."}
    for part in filter(sprak.translatable, parts):
        lacking = sprak.missing(part, messages)
        if lacking:
            return {sprak.FIELD: sprak.message(sprak.Untranslated(messages.language, lacking), part)}
    return {}


def api_code(code: Any) -> Any:
    """A language code as an API caller may write it: "sv-lattlast" for the choice "sv_lattlast"."""
    return code.strip().replace("-", "_") if isinstance(code, str) else code


def refused(parts: list[Blankett], code: Any) -> str | None:
    """The Swedish message for a language the blankett cannot be printed in, or None."""
    offered = [sprak.NONE, *sprak.catalogues()]
    if not any(sprak.translatable(p) for p in parts):
        return (None if code in ("", None, sprak.NONE) else
                f"{parts[0].title} finns bara på svenska: skicka inget språk (sprak).")
    if code in ("", None) or code in offered:
        return None
    return f"Språket {code!r} finns inte. Välj ett av: {', '.join(offered)}."


def with_translations(parts: list, values: Mapping[str, Any]) -> list:
    """The printed parts with, after each part offered in other languages, the same part (for the
    förändringsplan its summary, sprak.translated_form) in the chosen language, a pdf.Part of its
    own. A blankett printed once per recipient (the SIP-kallelse) gets one translated copy, after
    the last recipient's: the individ's, addressed to no one. Without a chosen language: the parts
    unchanged."""
    messages = chosen(values)
    if messages is None:
        return parts
    out = []
    for n, part in enumerate(parts):
        out.append(part)
        if part.blankett.derived_from is not None or not sprak.translatable(part.blankett):
            continue
        following = parts[n + 1] if n + 1 < len(parts) else None
        if part.recipient is not None and following is not None and following.blankett is part.blankett:
            continue  # another recipient's copy follows
        translated = sprak.translate(part.blankett, messages)
        title = f"{translated.title} ({messages.language.own_name})"
        out.append(part._replace(blankett=translated, values={**part.values, PART_KEY: messages.language.code},
                                 recipient=None, title=title))
    return out


def view(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """What _part.html needs of a translated part: its lang, dir, print font and notes."""
    code = values.get(PART_KEY)
    messages = sprak.catalogues().get(code) if code else None
    if messages is None:
        return None
    lang = messages.language
    return {"lang": lang.lang, "dir": lang.direction, "font": lang.font, "notes": sprak.notes(messages)}


def right_to_left(values: Mapping[str, Any]) -> bool:
    """Whether the part is printed right to left: its typed values in a sentence (the SIP-kallelse's
    "enligt {sip_lagrum}") are then set as isolates (U+2068 … U+2069, display.fill_text), so that a
    Swedish value keeps its own order ("2 kap. 7 §") inside an Arabic sentence."""
    part = view(values) if values.get(PART_KEY) else None
    return bool(part) and part["dir"] == "rtl"


def tag_languages() -> None:
    """Every block carries its language (PDF/UA 7.2, issue 30): WeasyPrint 70 writes `lang` only as
    the catalog's /Lang, so the structure element of an HTML element with a `lang` of its own (a
    part printed in another language, parallel.py) gets it as /Lang here; its descendants inherit it.
    Done by a wrapper of WeasyPrint's tree builder, which calls itself by its module name; the
    wrapper is put in place only while a document with such an element is written (`tagging`):
    it costs a generator per box, 3–5 % of a förfrågan's print PDF that has no other language."""
    import pydyf
    from weasyprint.pdf import tags

    if _builders:
        return
    original = tags._build_box_tree

    def build(box, parent, *args):
        own = getattr(box, "element", None)
        tag = getattr(box, "element_tag", None)
        lang = own.get("lang") if own is not None and tag not in ("html", "body") else None
        for element in original(box, parent, *args):
            # Only the element made for this box (html and body pass their children's through).
            if lang and "Lang" not in element and element.get("P") == parent.reference:
                element["Lang"] = pydyf.String(lang)
            yield element

    _builders.update(original=original, marking=build)


_builders: dict[str, Any] = {}


def other_languages(html: str) -> bool:
    """Whether the document HTML has an element in a language of its own below <html>."""
    return html.count(' lang="') > 1


@contextmanager
def tagging(needed: bool):
    """WeasyPrint's tree builder with /Lang per element while `needed` (one write at a time in a
    process: rendering/pdf.py's lock, or a single-threaded render process)."""
    from weasyprint.pdf import tags

    if not needed or not _builders:
        yield
        return
    tags._build_box_tree = _builders["marking"]
    try:
        yield
    finally:
        tags._build_box_tree = _builders["original"]


# ------------------------------------------------------------------------------------ DOCX


def mark_docx(document: Any, values: Mapping[str, Any], blankett: Any) -> None:
    """A translated part's Word document: the notes after its title, and every run in its language.
    Right to left (Arabic): each paragraph with text in the script is a bidi paragraph and its
    runs in the script are w:rtl; a paragraph of typed Latin text ("12 månader", a name) stays left
    to right, set at the right of its box – as a bidi paragraph Word printed it "månader 12"; tables
    are mirrored (w:bidiVisual). No-op for any other part."""
    part = view(values)
    if part is None:
        return
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from . import wordml

    rtl = part["dir"] == "rtl"
    body = document.element.body
    for p in body.iter(qn("w:p")):
        _mark_runs(p, part["lang"], rtl)
        if rtl:
            _direction(p)
    if rtl:
        for tbl_pr in body.iter(qn("w:tblPr")):
            wordml.put(tbl_pr, OxmlElement("w:bidiVisual"))
    _add_notes(document, part, blankett)


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _direction(p: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from . import wordml

    text = "".join(t.text or "" for t in p.iter(qn("w:t")))
    if _right_to_left(text) or not text.strip():
        wordml.put(p.get_or_add_pPr(), OxmlElement("w:bidi"))
    else:
        jc = OxmlElement("w:jc")
        jc.set(qn("w:val"), "right")
        wordml.put(p.get_or_add_pPr(), jc)


# w:rPr children after w:rtl, in the schema's order (ECMA-376 Part 1, 17.3.2.28).
_AFTER_RTL = ("cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath")


def _mark_runs(p: Any, lang: str, rtl: bool) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for r in p.iter(qn("w:r")):
        rpr = r.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            r.insert(0, rpr)
        for name in ("rtl", "lang"):
            for old in rpr.findall(qn(f"w:{name}")):
                rpr.remove(old)
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), lang)
        language.set(qn("w:bidi"), lang)  # the complex-script language: Arabic text is complex script
        _insert(rpr, language, ("eastAsianLayout", "specVanish", "oMath"))
        if rtl and _right_to_left("".join(t.text or "" for t in r.iter(qn("w:t")))):
            _insert(rpr, OxmlElement("w:rtl"), _AFTER_RTL)


def _insert(parent: Any, child: Any, later: tuple[str, ...]) -> None:
    from docx.oxml.ns import qn

    tags = {qn(f"w:{n}") for n in later}
    for i, existing in enumerate(parent):
        if existing.tag in tags:
            parent.insert(i, child)
            return
    parent.append(child)


def _add_notes(document: Any, part: Mapping[str, Any], blankett: Any) -> None:
    """The notes as paragraphs after the title and subtitle, each run in its own language."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from . import wordml

    paragraphs = document.paragraphs
    texts = [p.text.strip() for p in paragraphs]
    if blankett.title not in texts:
        return
    at = texts.index(blankett.title) + 1
    if blankett.subtitle and at < len(texts) and texts[at] == blankett.subtitle:
        at += 1
    if at >= len(paragraphs):
        return
    for line in part["notes"]:
        note = paragraphs[at].insert_paragraph_before()
        for i, (lang, direction, text) in enumerate(line):
            run = note.add_run(("" if i == 0 else " · ") + text)
            run.bold = True
            if direction == "rtl":  # Word draws Arabic (complex script) bold by w:bCs, not w:b
                run._r.rPr.find(qn("w:b")).addnext(OxmlElement("w:bCs"))
            _mark_runs(run._r, lang, direction == "rtl")
        if line[0][1] == "rtl":
            wordml.put(note._p.get_or_add_pPr(), OxmlElement("w:bidi"))
