"""Parallel text (issue 30, docs/sprak.md): the sekretessmedgivande and the Finsamteam samtycke
printed after the Swedish once more in lättläst, English or Arabic, from message catalogues
extracted from the YAML definitions; each block tagged with its language (PDF /Lang, DOCX
w:lang), Arabic right to left in an embedded font; without a language byte for byte as before."""
from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy import select

from formservice import db, paths
from formservice.arenden import operations
from formservice.arenden.models import Arende
from formservice.blanketter import sprak, wizard
from formservice.blanketter.catalogue import load_catalogue
from formservice.rendering import documents, parallel
from formservice.rendering import pdf as pdf_rendering
from formservice.rendering.pdf import DocumentContext

from .formparse import form_with
from .test_api_blanketter import api, token  # noqa: F401 (fixtures)
from .test_current_facts import enhet, sara  # noqa: F401 (fixtures)
from .wizard_driver import create_arende, fill_blankett

SEKRETESS, FINSAM = "sekretessmedgivande", "finsamteam_samtycke"
CTX = DocumentContext(organisation="Exempelstads kommun", document_number="D-1", created=date(2026, 12, 7))
VALUES = {
    SEKRETESS: {"individ_namn": "Tolvan Tolvansson", "individ_personnummer": "19121212-1212",
                "handlaggare_verksamhet": "Socialtjänsten Centrum", "sekretess_uppgifter": "Hälsa och arbetsförmåga",
                "sekretess_syfte": "Planera rehabilitering", "sekretess_giltighet": "12 månader",
                "lakare_namn": "Doktor Exempel"},
    FINSAM: {"individ_namn": "Tolvan Tolvansson", "individ_personnummer": "19121212-1212",
             "finsam_samtycke_uppgifter": "Arbetsförmåga", "finsam_samtycke_syfte": "Samordning",
             "finsam_samtycke_giltighet": "12 månader", "samtycke_part_fk": True},
}
# What each language's part says first and one text of its own (the title of the sekretessmedgivande).
EXPECTED = {
    "en": ("The Swedish text is the one that applies.", "has not been checked by a qualified translator",
           "Consent to share confidential information"),
    "ar": ("النص السويدي هو النص المعتمد", "لم يراجع مترجم مؤهل", "موافقة على رفع السرية"),
    "fa": ("متن سوئدی معتبر است.", "مترجم واجد شرایط بررسی نکرده است", "رضایت‌نامه برای تبادل اطلاعات محرمانه"),
    "so": ("Qoraalka iswiidhishka ayaa ansax ah.", "Turjubaan xirfad leh ma hubin",
           "Ogolaansho ku saabsan sirta"),
    "sv_lattlast": ("Det är blanketten på vanlig svenska som gäller.", "Ingen utbildad person har granskat",
                    "Sekretessmedgivande på lättläst svenska"),
}
LANG = {"en": "en", "ar": "ar", "fa": "fa", "so": "so", "sv_lattlast": "sv"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(paths.FORMS_DIR)


def produce(catalogue, blankett_id, fmt="pdf", **extra) -> bytes:
    return documents.produce(catalogue, blankett_id, {**VALUES[blankett_id], **extra}, CTX, fmt).content


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def languages_by_page(pdf: bytes) -> dict[int, set[str]]:
    """The language of every structure element (its own /Lang or its nearest ancestor's), by page."""
    found: dict[int, set[str]] = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pages = {page.objgen: n for n, page in enumerate(doc.pages)}
        assert str(doc.Root.Lang) == "sv"

        def walk(node, inherited):
            lang = str(node.Lang) if "/Lang" in node else inherited
            if "/Pg" in node:
                found.setdefault(pages[node.Pg.objgen], set()).add(lang)
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid, lang)

        walk(doc.Root.StructTreeRoot.K[0], "sv")
    return found


# ------------------------------------------------------------------ catalogues and extraction


def test_the_extractor_finds_the_fixed_texts(catalogue):
    pot = read_po(io.BytesIO(sprak.pot(catalogue.blanketter.values())))
    ids = {m.id for m in pot if m.id}
    sek = catalogue.blanketter[SEKRETESS]
    assert {sek.title, sek.subtitle, sek.intro, "Jag som lämnar samtycket", "Behandlande läkare",
            "Fyll i om samtycket ska upphöra ett visst datum.", "Underskrift", "Arbetsförmedlingen",
            sprak.SWEDISH_APPLIES, sprak.NOT_REVIEWED} <= ids
    assert not any(c.label in ids for f in sek.fields if f.name == "sprak" for c in f.choices)  # wizard only
    # Only blanketter that ask for a language; the POT in the repository is up to date.
    assert catalogue.blanketter["rehabiliteringsforfragan"].title not in ids
    with (paths.FORMS_DIR.parent / "translations" / "blanketter.pot").open("rb") as fileobj:
        stored = read_po(fileobj)
    assert {m.id for m in stored if m.id} == ids


def test_the_babel_extraction_method_reads_a_definition():
    with (paths.FORMS_DIR / f"{SEKRETESS}.yaml").open("rb") as fileobj:
        found = [(text, comments) for _line, _fn, text, comments in sprak.extract_yaml(fileobj, (), (), {})]
    assert ("Sekretessmedgivande", ["sekretessmedgivande.title"]) in found
    with (paths.FORMS_DIR / "rehabiliteringsforfragan.yaml").open("rb") as fileobj:
        assert list(sprak.extract_yaml(fileobj, (), (), {})) == []


def test_every_language_is_complete_and_unreviewed(catalogue):
    languages = sprak.load_languages()
    assert list(languages) == ["sv_lattlast", "en", "ar", "fa", "so"]
    assert languages["ar"].rtl and not languages["en"].rtl and languages["sv_lattlast"].lang == "sv"
    assert languages["fa"].rtl and languages["fa"].font == languages["ar"].font and not languages["so"].rtl
    for code, messages in sprak.catalogues().items():
        assert not messages.reviewed, code  # "X-Formservice-Granskad: nej" until a translator has read it
        for blankett_id in (SEKRETESS, FINSAM):
            assert sprak.missing(catalogue.blanketter[blankett_id], messages) == [], (code, blankett_id)


def test_a_changed_label_is_untranslated_and_never_printed_wrong(catalogue, tmp_path):
    from dataclasses import replace

    sek = catalogue.blanketter[SEKRETESS]
    changed = replace(sek, sections=tuple(
        replace(s, fields=tuple(replace(f, label="Behandlande läkare eller psykolog") if f.name == "lakare_namn" else f
                                for f in s.fields)) for s in sek.sections))
    messages = sprak.catalogues()["en"]
    assert sprak.missing(changed, messages) == ["Behandlande läkare eller psykolog"]
    with pytest.raises(sprak.Untranslated):
        sprak.translate(changed, messages)
    errors = parallel.errors([changed], {"sprak": "en"})
    assert "inte komplett (1 text saknas)" in errors["sprak"]
    # A translation that lost a {placeholder} counts as missing too.
    broken = sprak.Messages(messages.language, {**messages.texts, sek.title: "Consent"}, False)
    assert sprak.missing(replace(sek, title="Samtycke {individ_namn}"), broken)[0] == "Samtycke {individ_namn}"
    # A reviewed catalogue is read as such.
    po = tmp_path / "en" / "LC_MESSAGES" / "blanketter.po"
    po.parent.mkdir(parents=True)
    source = paths.FORMS_DIR.parent / "translations" / "en" / "LC_MESSAGES" / "blanketter.po"
    po.write_text(source.read_text(encoding="utf-8").replace("Granskad: nej", "Granskad: ja"), encoding="utf-8")
    reviewed = sprak.read_messages(messages.language, tmp_path)
    assert reviewed.reviewed and sprak.notes(reviewed) == [[("en", "ltr", "The Swedish text is the one that applies."),
                                                             ("sv", "ltr", "Den svenska texten gäller.")]]


# ------------------------------------------------------------------------------------ PDF


@pytest.mark.parametrize("blankett_id", [SEKRETESS, FINSAM])
def test_without_a_language_the_documents_are_as_before(catalogue, blankett_id, monkeypatch):
    plain = {fmt: produce(catalogue, blankett_id, fmt) for fmt in ("pdf", "docx")}
    assert produce(catalogue, blankett_id, "pdf", sprak="ingen") == plain["pdf"]
    assert produce(catalogue, blankett_id, "docx", sprak="ingen") == plain["docx"]
    # The same bytes as with the feature taken out (no translated parts, no /Lang below the root).
    monkeypatch.setattr(parallel, "with_translations", lambda parts, values: parts)
    monkeypatch.setattr(parallel, "mark_docx", lambda *args: None)
    assert produce(catalogue, blankett_id, "pdf", sprak="en") == plain["pdf"]
    assert produce(catalogue, blankett_id, "docx", sprak="en") == plain["docx"]


@pytest.mark.parametrize("code", ["en", "ar", "fa", "so", "sv_lattlast"])
def test_the_sekretessmedgivande_in_another_language(catalogue, code):
    swedish = produce(catalogue, SEKRETESS)
    both = produce(catalogue, SEKRETESS, sprak=code)
    swedish_pages, pages = page_texts(swedish), page_texts(both)
    assert len(swedish_pages) == 1 and len(pages) == 2  # the Swedish page, then the parallel page
    assert pages[0] == swedish_pages[0]  # the Swedish part unchanged
    applies, unreviewed, title = EXPECTED[code]
    translated = pages[1]
    for text in (applies, unreviewed, title):
        # The Persian zero-width non-joiner (U+200C) is drawn as no glyph, so not extracted.
        assert text.replace("\u200c", "") in translated, text
    if code != "sv_lattlast":  # and in Swedish
        assert "Den svenska texten gäller." in translated and sprak.NOT_REVIEWED in translated
    # Typed values as typed.
    for value in ("Tolvan Tolvansson", "19121212-1212", "Hälsa och arbetsförmåga", "12 månader"):
        assert value in translated
    # The individ signs under captions in the language, and reads the running head and foot in it
    # (the layout's own words). Word by word: text extraction orders a right-to-left header line
    # with a bracketed Latin word ("(personnummer)") its own way.
    messages = sprak.catalogues()[code]
    for word in sprak.LAYOUT_WORDS:  # "Bilaga" is printed in capitals (print.css)
        for token in messages.texts[word].replace("\u200c", "").strip("()").split():
            assert token.strip("()").casefold() in translated.casefold(), (word, token)
    if code not in ("sv", "sv_lattlast"):
        for swedish in ("Namnteckning", "Namnförtydligande", "Dokumentnr", "Sida "):
            assert swedish not in translated, swedish
    # Every block on the translated page in its language, the Swedish notes in Swedish.
    langs = languages_by_page(both)
    assert langs[0] == {"sv"}
    assert LANG[code] in langs[1] and ("sv" in langs[1])
    with pikepdf.open(io.BytesIO(both)) as doc:
        outline = [str(item.title) for item in doc.open_outline().root]
    assert outline[0] == "Sekretessmedgivande" and outline[1].startswith(title)


def test_arabic_is_drawn_right_to_left_in_the_embedded_font(catalogue):
    both = produce(catalogue, SEKRETESS, sprak="ar")
    html = pdf_rendering.document_html(documents.print_parts(
        catalogue, SEKRETESS, documents.validate(catalogue, SEKRETESS, {**VALUES[SEKRETESS], "sprak": "ar"})), CTX)
    assert '<div class="parallel" lang="ar" dir="rtl"' in html
    assert '<p lang="sv" dir="ltr">Den svenska texten gäller.</p>' in html
    # The Arabic font is embedded, and has a glyph for every Arabic letter of the part (no .notdef).
    font = TTFont(paths.STATIC_DIR / "fonts" / "NotoSansArabic-Regular.ttf")
    cmap = font.getBestCmap()
    arabic = {ch for text in sprak.catalogues()["ar"].texts.values() for ch in text if "\u0600" <= ch <= "\u06ff"}
    assert arabic and all(ord(ch) in cmap for ch in arabic)
    with pikepdf.open(io.BytesIO(both)) as doc:
        fonts = {str(f.get("/BaseFont")) for page in doc.pages for f in page.Resources.Font.values()}
    assert any("Formservice-Arabic" in name for name in fonts), fonts  # print.css: Noto Sans Arabic
    # Text extraction returns the Arabic text (shaped glyphs mapped back to their letters).
    assert "موافقة على رفع السرية" in page_texts(both)[1]


def test_persian_is_drawn_right_to_left_in_the_arabic_font(catalogue):
    both = produce(catalogue, SEKRETESS, sprak="fa")
    html = pdf_rendering.document_html(documents.print_parts(
        catalogue, SEKRETESS, documents.validate(catalogue, SEKRETESS, {**VALUES[SEKRETESS], "sprak": "fa"})), CTX)
    assert '<div class="parallel" lang="fa" dir="rtl"' in html
    # Noto Sans Arabic has the Persian letters (پ چ ژ گ ی ک), Persian digits and the ZWNJ.
    cmap = TTFont(paths.STATIC_DIR / "fonts" / "NotoSansArabic-Regular.ttf").getBestCmap()
    persian = {ch for text in sprak.catalogues()["fa"].texts.values() for ch in text
               if "\u0600" <= ch <= "\u06ff" or ch == "\u200c"}
    assert {"پ", "چ", "گ", "ی", "ک", "\u200c"} <= persian and all(ord(ch) in cmap for ch in persian)
    assert all(ord(ch) in cmap for ch in "ژ۰۱۲۳۴۵۶۷۸۹")
    with pikepdf.open(io.BytesIO(both)) as doc:
        fonts = {str(f.get("/BaseFont")) for page in doc.pages for f in page.Resources.Font.values()}
    assert any("Formservice-Arabic" in name for name in fonts), fonts
    assert "پزشک معالج" in page_texts(both)[1]


def test_the_finsamteam_samtycke_in_english_and_arabic(catalogue):
    for code, title in (("en", "Consent to lifting confidentiality in the Finsam team"),
                        ("ar", "موافقة على رفع السرية في فريق فينسام"),
                        ("fa", "رضایت به رفع محرمانگی در تیم فینسام"),
                        ("so", "Ogolaansho in sirta laga qaado kooxda Finsam")):
        pages = page_texts(produce(catalogue, FINSAM, sprak=code))
        assert len(pages) == 2 and title in pages[1]


# ------------------------------------------------------------------------------------ DOCX


def test_the_docx_carries_the_language_of_the_translated_part(catalogue):
    for code, lang in (("en", "en"), ("ar", "ar"), ("fa", "fa"), ("so", "so")):
        docx = produce(catalogue, SEKRETESS, "docx", sprak=code)
        body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode("utf-8")
        swedish, _, translated = body.partition("<w:sectPr")  # the first part's section ends it
        assert f'w:val="{lang}"' not in swedish
        assert f'<w:lang w:val="{lang}" w:bidi="{lang}"/>' in translated
        assert EXPECTED[code][0] in translated and "Den svenska texten gäller." in translated
        if code in ("ar", "fa"):
            assert "<w:bidi/>" in translated and "<w:rtl/>" in translated and "<w:bidiVisual/>" in translated
            # A typed Latin value is not set right to left (Word printed "12 månader" as "månader 12").
            cell = translated[translated.index("12 månader") - 400:translated.index("12 månader")]
            assert "<w:rtl/>" not in cell.rsplit("<w:r>", 1)[-1]


# ------------------------------------------------------------------------------------- API


def test_the_api_takes_the_language(app, api):
    body = {**VALUES[SEKRETESS], "sprak": "en"}
    res = api.post(f"/api/v1/blanketter/{SEKRETESS}/pdf", json=body)
    assert res.status_code == 200, res.get_data(as_text=True)
    pages = page_texts(res.data)
    assert len(pages) == 2 and "Consent to share confidential information" in pages[1]
    # "sv-lattlast" as written in docs/sprak.md's table too.
    res = api.post(f"/api/v1/blanketter/{SEKRETESS}/pdf", json={**body, "sprak": "sv-lattlast"})
    assert res.status_code == 200 and "lättläst" in page_texts(res.data)[1]


def test_the_api_refuses_an_unknown_language_in_swedish(app, api):
    res = api.post(f"/api/v1/blanketter/{SEKRETESS}/pdf", json={**VALUES[SEKRETESS], "sprak": "xx"})
    assert res.status_code == 422
    assert res.get_json()["errors"]["sprak"] == "Språket 'xx' finns inte. Välj ett av: ingen, sv_lattlast, en, ar, fa, so."
    res = api.post("/api/v1/blanketter/fk_ansokan_samordning/pdf", json={"sprak": "en"})
    assert res.status_code == 422 and "finns bara på svenska" in res.get_json()["error"]


# ---------------------------------------------------------------------------------- wizard


@pytest.mark.db
def test_the_wizard_stores_the_language_on_the_individ_and_the_next_document_uses_it(app, sara):
    pid = create_arende(sara, ruta="soc1.9")
    cat = app.extensions["catalogue"]
    forfragan = "rehabiliteringsforfragan"
    parts = documents.parts_of(cat, forfragan)
    number = next(p.number for p in wizard.pages(parts) if any(f.name == "sprak" for f in p.fields))
    url = f"/arenden/{pid}/blankett/{forfragan}/sida/{number}"
    page = sara.get(url).get_data(as_text=True)
    assert "Språk för en översättning till individen" in page
    form = form_with(page, "version")["fields"]
    assert form["sprak"] == "ingen"  # no language on the record yet: prefilled, not typed
    data = {k: v or "" for k, v in form.items() if v is not None}
    assert sara.post(url, data=dict(data, sprak="ar", action="next")).status_code == 302
    first = fill_blankett(sara, pid, forfragan, cat)
    assert "موافقة على رفع السرية" in first["text"]
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        assert operations.individ(arende)["sprak"] == "ar"
    # The next document's wizard is prefilled with it.
    again = form_with(sara.get(url).get_data(as_text=True), "version")["fields"]
    assert again["sprak"] == "ar"


def test_the_arabic_font_has_its_licence_noted():
    readme = (paths.STATIC_DIR / "fonts" / "README.txt").read_text(encoding="utf-8")
    assert "NotoSansArabic-Regular.ttf" in readme and "OFL" in readme
    assert Path(paths.STATIC_DIR / "fonts" / "OFL.txt").is_file()


def test_update_brings_a_catalogue_up_to_a_changed_definition_and_keeps_its_review_status(catalogue, tmp_path):
    from dataclasses import replace

    shutil.copytree(paths.FORMS_DIR.parent / "translations", tmp_path, dirs_exist_ok=True)
    po = tmp_path / "en" / "LC_MESSAGES" / "blanketter.po"
    po.write_text(po.read_text(encoding="utf-8").replace("Granskad: nej", "Granskad: ja"), encoding="utf-8")
    sek = catalogue.blanketter[SEKRETESS]
    changed = replace(sek, subtitle="Samtycke till att socialtjänsten och vården delar uppgifter")
    sprak.update("en", sprak.pot([changed, catalogue.blanketter[FINSAM]]), tmp_path)
    messages = sprak.read_messages(sprak.load_languages()["en"], tmp_path)
    assert messages.reviewed  # kept (pybabel update would drop the header)
    assert sprak.missing(changed, messages) == [changed.subtitle]  # new, untranslated, not guessed
    assert sek.subtitle not in messages.texts  # the old text is obsolete, not used


# ------------------------------------------------------------------ the pseudo-locale: 40 % longer
_MM = 72 / 25.4
A4_WIDTH = 210 * _MM
CONTENT_LEFT, CONTENT_RIGHT = 18 * _MM, A4_WIDTH - 16 * _MM  # print.css: @page margin 22mm 16mm 15mm 18mm


def _pseudo(text: str) -> str:
    """A text 40 % longer, in letters the print font has (a translation that runs long)."""
    words = text.split(" ")
    extra = max(1, round(len(text) * 0.4))
    filler = []
    while len(" ".join(filler)) < extra:
        filler.append("ÅÄÖåäöéü"[len(filler) % 8] * (1 + len(filler) % 9))
    return " ".join(words + filler)


def _word_boxes(pdf: bytes, tmp_path: Path) -> list[tuple[int, float, float, str]]:
    """(page, xMin, xMax, word) for every word poppler finds."""
    import re
    import subprocess

    path = tmp_path / "pseudo.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    boxes, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', line)
        if found:
            boxes.append((page, float(found.group(1)), float(found.group(2)), found.group(3)))
    return boxes


@pytest.mark.parametrize("blankett_id", [SEKRETESS, FINSAM])
def test_a_translation_40_percent_longer_flows_and_nothing_overflows(catalogue, blankett_id, monkeypatch, tmp_path):
    """The pseudo-locale run (issue 30): every fixed text 40 % longer. The translated part may take
    more pages, but no word is drawn outside the page's text area and the Swedish part is unchanged."""
    assert_pseudo_locale_flows(lambda **extra: produce(catalogue, blankett_id, **extra), monkeypatch, tmp_path)


def assert_pseudo_locale_flows(produce_pdf, monkeypatch, tmp_path) -> None:
    """`produce_pdf(**extra)`, one blankett's PDF, with every fixed text of the English catalogue 40 %
    longer (placeholders kept, so the catalogue stays complete) against the Swedish only."""
    english = sprak.catalogues()["en"]
    language = sprak.Language(code="en", name="Pseudo", own_name="Pseudo", lang="en", direction="ltr", font=None)
    pseudo = sprak.Messages(language, {sv: _pseudo(sv) for sv in english.texts}, False)
    monkeypatch.setattr(sprak, "catalogues", lambda: {"en": pseudo})
    swedish_only = produce_pdf()
    pdf = produce_pdf(sprak="en")
    swedish_pages = len(PdfReader(io.BytesIO(swedish_only)).pages)
    texts = page_texts(pdf)
    assert texts[:swedish_pages] == page_texts(swedish_only)
    assert any("ÅÅ" in t for t in texts[swedish_pages:])  # the pseudo texts are what was printed
    outside = [(page, round(x0), round(x1), word) for page, x0, x1, word in _word_boxes(pdf, tmp_path)
               if x0 < CONTENT_LEFT - 1 or x1 > CONTENT_RIGHT + 1]
    assert outside == []


def test_a_language_added_in_sprak_yaml_is_offered_by_every_language_question(catalogue, tmp_path):
    """A language is added in translations/sprak.yaml (and its catalogue), never in each definition:
    every blankett that asks the question offers it, by its Swedish and its own name; a blankett
    without the question is left as it was."""
    shipped = (paths.TRANSLATIONS_DIR / "sprak.yaml").read_text(encoding="utf-8")
    (tmp_path / "sprak.yaml").write_text(shipped + """  - kod: ti
    namn: Tigrinja
    eget_namn: ትግርኛ
    lang: ti
    riktning: ltr
""", encoding="utf-8")
    offered = sprak.offer_languages(catalogue.blanketter, tmp_path)
    asking = [b for b in offered.values() if b.has_field(sprak.FIELD)]
    assert {b.id for b in asking} >= {SEKRETESS, FINSAM, "sip_kallelse", "forandringsplan"}
    for b in asking:
        choices = [(c.value, c.label) for c in b.field(sprak.FIELD).choices]
        assert choices[0][0] == sprak.NONE and ("ti", "Tigrinja (ትግርኛ)") in choices
        assert ("sv_lattlast", "Lättläst svenska") in choices and len(choices) == len(set(choices))
    assert offered["rehabiliteringsforfragan"] == catalogue.blanketter["rehabiliteringsforfragan"]
    # The shipped catalogue offers exactly the shipped languages.
    shipped_choices = [c.value for c in catalogue.blanketter[SEKRETESS].field(sprak.FIELD).choices]
    assert shipped_choices == [sprak.NONE, *sprak.load_languages()]
