"""Parallel text for the SIP-kallelse and the förändringsplan's summary (issue 30, docs/sprak.md):
the kallelse printed once more, as the individ's copy, in lättläst, English, Arabic, Persian or
Somali; the förändringsplan followed by a one-page summary in the language (blanketter/
sammanfattning.py). Each block tagged with its language, Arabic and Persian right to left, typed
values as typed, within the pages Swedish needs; without a language byte for byte as before."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice import db, paths
from formservice.arenden import operations
from formservice.arenden.models import Arende
from formservice.blanketter import sammanfattning, sprak, wizard
from formservice.blanketter.catalogue import load_catalogue
from formservice.rendering import documents, parallel
from formservice.rendering import pdf as pdf_rendering
from formservice.rendering.pdf import DocumentContext

from .formparse import form_with
from .test_current_facts import enhet, sara  # noqa: F401 (fixtures)
from .test_sprak import LANG, assert_pseudo_locale_flows, languages_by_page, page_texts
from .wizard_driver import INDIVID, create_arende, fill_blankett, ruta_with_blankett

SIP, PLAN = "sip_kallelse", "forandringsplan"
CODES = ["sv_lattlast", "en", "ar", "fa", "so"]
CTX = DocumentContext(organisation="Exempelstads kommun", document_number="D-1", created=date(2026, 12, 7))
LAGRUM = "2 kap. 7 § hälso- och sjukvårdslagen (2017:30)"
VALUES = {
    SIP: {"sip_lagrum": LAGRUM, "sip_samtycke": True,
          "individ_namn": "Tolvan Tolvansson", "individ_personnummer": "19121212-1212",
          "individ_adress": "Exempelgatan 1", "individ_postnummer_ort": "123 45 Exempelstad",
          "handlaggare_namn": "Sara Handläggare", "handlaggare_telefon": "08-765 432 10",
          "handlaggare_verksamhet": "Socialtjänsten Centrum", "sip_datum": "2026-12-15",
          "sip_starttid": "13:30", "sip_sluttid": "15:00", "sip_plats": "Rum 4, Stadshuset",
          "sip_syfte": "forsta_sip", "sip_fragestallningar": "Hur kan vården stödja en återgång i arbete?",
          "sip_gemensam_kallelse": True,
          "sip_inbjudna": [{"verksamhet": "Vårdcentralen Exempel", "namn": "Doktor Exempel", "kontakt": "08-111 222 33"},
                           {"verksamhet": "Arbetsförmedlingen", "namn": "Anna Arbetsförmedlare"}]},
    PLAN: {"forandringsplan_datum": "2026-12-07", "individ_namn": "Tolvan Tolvansson",
           "individ_personnummer": "19121212-1212", "aktuell_situation": "Sjukskriven sedan ett år.",
           "forandring_mal": "Arbeta halvtid inom handeln om ett år.",
           "mal_atgarder": "Träna upp orken och söka arbetsträning.",
           "steg": [{"vad": "Boka tid hos fysioterapeut", "nar": "December"},
                    {"vad": "Arbetsträning två timmar om dagen", "nar": "Februari"}],
           "hinder": [{"hinder": "Ont i ryggen", "agera": "Vila", "stodbehov": "Nej"}],
           "ansvar_sokande": "Komma på möten och ringa om förhinder.",
           "ansvar_socialsekreterare": "Kontakta Arbetsförmedlingen varje månad.",
           "villkor_ekonomiskt_bistand": "Delta i arbetsträningen.",
           "tidplan_uppfoljning": "Uppföljning den 15 mars.",
           "handlaggare_namn": "Sara Handläggare", "handlaggare_titel": "Socialsekreterare"},
}
# What was typed, as it must be printed on the translated part.
TYPED = {
    SIP: ("Tolvan Tolvansson", "19121212-1212", "Exempelgatan 1", "2026-12-15", "13:30", "15:00",
          "Rum 4, Stadshuset", "Socialtjänsten Centrum", "Vårdcentralen Exempel", "Doktor Exempel",
          "Hur kan vården stödja en återgång i arbete?", "Sara Handläggare"),
    PLAN: ("Tolvan Tolvansson", "19121212-1212", "2026-12-07", "Arbeta halvtid inom handeln om ett år.",
           "Boka tid hos fysioterapeut", "December", "Arbetsträning två timmar om dagen", "Februari",
           "Komma på möten och ringa om förhinder.", "Kontakta Arbetsförmedlingen varje månad.",
           "Delta i arbetsträningen.", "Uppföljning den 15 mars.", "Sara Handläggare"),
}
# The translated part's title in each language.
TITLE = {
    SIP: {"sv_lattlast": "Kallelse till SIP-möte på lättläst svenska",
          "en": "Invitation to a coordinated individual plan (SIP) meeting",
          "ar": "دعوة إلى اجتماع الخطة الفردية المنسقة", "fa": "دعوت‌نامه برای جلسه برنامه فردی هماهنگ",
          "so": "Casuumaad shir qorshe shakhsi ah oo la isku dubbariday (SIP)"},
    PLAN: {"sv_lattlast": "Din förändringsplan i korthet på lättläst svenska", "en": "Summary of your change plan",
           "ar": "ملخص خطة التغيير الخاصة بك", "fa": "خلاصه برنامه تغییر شما",
           "so": "Soo koobidda qorshahaaga isbeddelka"},
}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(paths.FORMS_DIR)


def produce(catalogue, blankett_id, fmt="pdf", values=None, **extra) -> bytes:
    return documents.produce(catalogue, blankett_id, {**(values or VALUES[blankett_id]), **extra}, CTX, fmt).content


def visible(text: str) -> str:
    """A text as poppler extracts it: the Persian zero-width non-joiner is drawn as no glyph."""
    return text.replace("\u200c", "")


# ------------------------------------------------------------------ catalogues and the summary


def test_every_language_has_every_text_of_both_documents(catalogue):
    for code, messages in sprak.catalogues().items():
        for blankett_id in (SIP, PLAN):
            assert sprak.translatable(catalogue.blanketter[blankett_id])
            assert sprak.missing(catalogue.blanketter[blankett_id], messages) == [], (code, blankett_id)


def test_the_summary_is_derived_from_the_plan_and_only_its_texts_are_translated(catalogue):
    plan = catalogue.blanketter[PLAN]
    summary = sprak.translated_form(plan)
    assert summary.id == "forandringsplan_sammanfattning" and summary.derived_from == PLAN
    assert not any(s.signatures for s in summary.sections)  # the Swedish plan is the one signed
    names = [f.name for f in summary.fields]
    assert names == ["individ_namn", "individ_personnummer", "forandringsplan_datum", "handlaggare_namn",
                     "forandring_mal", "mal_atgarder", "steg", "ansvar_sokande", "ansvar_socialsekreterare",
                     "villkor_ekonomiskt_bistand", "tidplan_uppfoljning"]
    assert all(plan.field(f.name).type == f.type for f in summary.fields)  # the plan's own values fill it
    # The POT has the summary's texts, not the plan's own (the plan is printed in Swedish only).
    from babel.messages.pofile import read_po

    ids = {m.id for m in read_po(io.BytesIO(sprak.pot([plan]))) if m.id}
    assert {summary.title, summary.intro, "Dina steg", "Vem gör vad"} <= ids
    assert plan.title not in ids and "Aktuell situation" not in ids
    # A plan without a field leaves it out; a blankett with no summary is translated as itself.
    fewer = replace(plan, sections=tuple(replace(s, fields=tuple(f for f in s.fields if f.name != "steg"))
                                         for s in plan.sections))
    assert "steg" not in [f.name for f in sprak.translated_form(fewer).fields]
    assert "Dina steg" not in [s.title for s in sprak.translated_form(fewer).sections]
    assert sprak.translated_form(catalogue.blanketter[SIP]) is catalogue.blanketter[SIP]
    assert sammanfattning.summary(summary) is None


# ------------------------------------------------------------------------------------ PDF


@pytest.mark.parametrize("blankett_id", [SIP, PLAN])
def test_without_a_language_the_documents_are_as_before(catalogue, blankett_id, monkeypatch):
    plain = {fmt: produce(catalogue, blankett_id, fmt) for fmt in ("pdf", "docx")}
    assert produce(catalogue, blankett_id, "pdf", sprak="ingen") == plain["pdf"]
    assert produce(catalogue, blankett_id, "docx", sprak="ingen") == plain["docx"]
    assert "Språk för en översättning" not in " ".join(page_texts(plain["pdf"]))  # wizard only
    # "Ingen översättning" prints no parallel part: the same bytes as with the feature taken out.
    monkeypatch.setattr(parallel, "with_translations", lambda parts, values: parts)
    monkeypatch.setattr(parallel, "mark_docx", lambda *args: None)
    assert produce(catalogue, blankett_id, "pdf", sprak="en") == plain["pdf"]
    assert produce(catalogue, blankett_id, "docx", sprak="en") == plain["docx"]


@pytest.mark.parametrize("code", CODES)
def test_the_sip_kallelse_in_another_language(catalogue, code):
    swedish = page_texts(produce(catalogue, SIP))
    pages = page_texts(produce(catalogue, SIP, sprak=code))
    n = len(swedish)
    # The translated kallelse takes no more pages than the Swedish one (the page-count rule).
    assert len(pages) == 2 * n and pages[:n] == swedish
    translated = " ".join(pages[n:])
    assert visible(TITLE[SIP][code]) in translated
    messages = sprak.catalogues()[code]
    assert visible(messages.texts[sprak.SWEDISH_APPLIES]) in translated
    for value in TYPED[SIP]:
        assert value in translated, value
    assert "Till:" not in translated  # the individ's copy is addressed to no one
    if code != "sv_lattlast":
        assert "Den svenska texten gäller." in translated and "Mötet äger rum" not in translated
    langs = languages_by_page(produce(catalogue, SIP, sprak=code))
    assert all(langs[p] == {"sv"} for p in range(n))
    assert all(LANG[code] in langs[p] for p in range(n, 2 * n)) and "sv" in langs[n]


@pytest.mark.parametrize("code", CODES)
def test_the_forandringsplan_is_followed_by_a_one_page_summary(catalogue, code):
    swedish = page_texts(produce(catalogue, PLAN))
    pdf = produce(catalogue, PLAN, sprak=code)
    pages = page_texts(pdf)
    n = len(swedish)
    assert len(pages) == n + 1 and pages[:n] == swedish  # the Swedish plan unchanged, then one page
    summary = pages[n]
    messages = sprak.catalogues()[code]
    assert visible(TITLE[PLAN][code]) in summary
    plan_summary = sprak.translated_form(catalogue.blanketter[PLAN])
    # What the plan is and that the Swedish plan applies, in the language.
    assert visible(messages.texts[plan_summary.intro])[:40] in summary
    for value in TYPED[PLAN]:
        assert value in summary, value
    # Only what the summary is for: not the situation, the obstacles or the signatures.
    assert "Sjukskriven sedan ett år." not in summary and "Ont i ryggen" not in summary
    assert visible(messages.texts["Namnteckning"]) not in summary
    langs = languages_by_page(pdf)
    assert all(langs[p] == {"sv"} for p in range(n)) and LANG[code] in langs[n]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        outline = [str(item.title) for item in doc.open_outline().root]
    assert outline[0] == "Förändringsplan" and visible(outline[1]).startswith(visible(TITLE[PLAN][code]))


def test_the_kallelse_to_each_party_is_followed_by_one_translated_copy_for_the_individ(catalogue):
    values = {**VALUES[SIP], "sip_gemensam_kallelse": False}
    per_party = produce(catalogue, SIP, values=values)
    both = produce(catalogue, SIP, values=values, sprak="en")
    swedish, pages = page_texts(per_party), page_texts(both)
    one_copy = len(swedish) // 2  # two invited parties
    assert len(pages) == len(swedish) + one_copy and pages[:len(swedish)] == swedish
    with pikepdf.open(io.BytesIO(both)) as doc:
        outline = [str(item.title) for item in doc.open_outline().root]
    assert outline[:2] == [f"{catalogue.blanketter[SIP].title} – Till: Vårdcentralen Exempel, Doktor Exempel, 08-111 222 33",
                           f"{catalogue.blanketter[SIP].title} – Till: Arbetsförmedlingen, Anna Arbetsförmedlare"]
    assert outline[2] == f"{TITLE[SIP]['en']} (English)" and len(outline) == 3
    assert "Till:" not in " ".join(pages[len(swedish):])


@pytest.mark.parametrize("code", ["ar", "fa"])
@pytest.mark.parametrize("blankett_id", [SIP, PLAN])
def test_arabic_and_persian_are_right_to_left_in_the_embedded_font(catalogue, blankett_id, code):
    values = documents.validate(catalogue, blankett_id, {**VALUES[blankett_id], "sprak": code})
    html = pdf_rendering.document_html(documents.print_parts(catalogue, blankett_id, values), CTX)
    assert f'<div class="parallel" lang="{code}" dir="rtl"' in html
    assert html.count('class="parallel"') == 1
    if blankett_id == SIP:
        # The Swedish lagrum in the Arabic sentence is an isolate: it keeps its own order.
        assert f"\u2068{LAGRUM}\u2069" in html and html.count("\u2068") == 1
    pdf = produce(catalogue, blankett_id, sprak=code)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        fonts = {str(f.get("/BaseFont")) for page in doc.pages for f in page.Resources.Font.values()}
    assert any("Formservice-Arabic" in name for name in fonts), fonts
    assert visible(TITLE[blankett_id][code]) in page_texts(pdf)[-1 if blankett_id == PLAN else -2]


# ---------------------------------------------------------------------------- the pseudo-locale


@pytest.mark.parametrize("blankett_id", [SIP, PLAN])
def test_a_translation_40_percent_longer_flows_and_nothing_overflows(catalogue, blankett_id, monkeypatch, tmp_path):
    assert_pseudo_locale_flows(lambda **extra: produce(catalogue, blankett_id, **extra), monkeypatch, tmp_path)


# ------------------------------------------------------------------------------------ DOCX


@pytest.mark.parametrize("blankett_id", [SIP, PLAN])
def test_the_docx_carries_the_language_of_the_translated_part(catalogue, blankett_id):
    for code in CODES:
        docx = produce(catalogue, blankett_id, "docx", sprak=code)
        body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode("utf-8")
        swedish, _, translated = body.partition("<w:sectPr")  # the first part's section ends it
        lang = LANG[code]
        assert 'w:lang w:val="' not in swedish
        assert f'<w:lang w:val="{lang}" w:bidi="{lang}"/>' in translated, code
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", translated))
        assert TITLE[blankett_id][code] in text, code
        for value in ("Tolvan Tolvansson", "19121212-1212"):
            assert value in text
        if code in ("ar", "fa"):
            assert "<w:bidi/>" in translated and "<w:rtl/>" in translated and "<w:bidiVisual/>" in translated


def test_libreoffice_lays_the_translated_docx_out_as_the_pdf(catalogue, tmp_path):
    """The whole Word document with its translated part, laid out by LibreOffice: at most a page more
    than the PDF (the house rule of tests/test_docx_layout.py)."""
    from .test_docx_layout import convert, page_count

    keys = [(bid, code) for bid in (SIP, PLAN) for code in CODES]
    files = {f"{bid}-{code}": produce(catalogue, bid, "docx", sprak=code) for bid, code in keys}
    converted, _seconds = convert(files, tmp_path)
    for bid, code in keys:
        pdf = page_count(produce(catalogue, bid, sprak=code))
        assert page_count(converted[f"{bid}-{code}"]) <= pdf + 1, (bid, code)


# ------------------------------------------------------------------------- no values of others


def test_another_individs_values_never_appear(catalogue):
    """Translated definitions and Word templates are cached per process: the values never are."""
    other = {**VALUES[PLAN], "individ_namn": "Tilda Testperson", "forandring_mal": "Studera till undersköterska.",
             "steg": [{"vad": "Söka till Komvux", "nar": "Mars"}]}
    first = page_texts(produce(catalogue, PLAN, sprak="ar"))
    second = " ".join(page_texts(produce(catalogue, PLAN, values=other, sprak="ar")))
    second_docx = produce(catalogue, PLAN, "docx", values=other, sprak="ar")
    assert "Arbeta halvtid inom handeln" in first[-1]
    for value in ("Tolvan Tolvansson", "Arbeta halvtid inom handeln", "Boka tid hos fysioterapeut"):
        assert value not in second
    docx_text = zipfile.ZipFile(io.BytesIO(second_docx)).read("word/document.xml").decode("utf-8")
    assert "Tolvan" not in docx_text and "Söka till Komvux" in docx_text
    sip_other = {**VALUES[SIP], "individ_namn": "Tilda Testperson", "sip_plats": "Rum 9"}
    produce(catalogue, SIP, sprak="so")
    assert "Rum 4" not in " ".join(page_texts(produce(catalogue, SIP, values=sip_other, sprak="so")))


# ---------------------------------------------------------------------------------- wizard


def _language_page(client, pid: str, blankett_id: str, cat) -> str:
    number = next(p.number for p in wizard.pages(documents.parts_of(cat, blankett_id))
                  if any(f.name == sprak.FIELD for f in p.fields))
    return f"/arenden/{pid}/blankett/{blankett_id}/sida/{number}"


@pytest.mark.db
def test_the_plans_wizard_asks_for_the_language_and_another_arende_does_not_get_it(app, sara):
    cat = app.extensions["catalogue"]
    pid = create_arende(sara, ruta=ruta_with_blankett(sara, PLAN))
    url = _language_page(sara, pid, PLAN, cat)
    page = sara.get(url).get_data(as_text=True)
    assert "Språk för en översättning till individen" in page and "en sammanfattning till individen" in page
    form = form_with(page, "version")["fields"]
    assert form["sprak"] == "ingen"
    data = {k: v or "" for k, v in form.items() if v is not None}
    assert sara.post(url, data=dict(data, sprak="en", action="next")).status_code == 302
    done = fill_blankett(sara, pid, PLAN, cat)
    assert "Summary of your change plan" in done["text"]
    with app.app_context():
        arende = db.session().scalar(select(Arende).where(Arende.public_id == pid))
        assert operations.individ(arende)["sprak"] == "en"
    # Another individ's ärende: no language of the first one, and its plan has no summary.
    other = create_arende(sara, individ={**INDIVID, "namn": "Tolvan Tolvansson"}, ruta=ruta_with_blankett(sara, PLAN))
    again = form_with(sara.get(_language_page(sara, other, PLAN, cat)).get_data(as_text=True), "version")["fields"]
    assert again["sprak"] == "ingen"
    second = fill_blankett(sara, other, PLAN, cat)
    assert "Summary of your change plan" not in second["text"] and "Tilda Testperson" not in second["text"]
    # The SIP-kallelse asks too, prefilled from the individ (the first ärende's own record).
    sip_url = _language_page(sara, pid, SIP, cat)
    sip_page = sara.get(sip_url).get_data(as_text=True)
    assert form_with(sip_page, "version")["fields"]["sprak"] == "en"
