"""The document HTML parsed by expat instead of WeasyPrint's HTML5 parser (rendering/markup.py):
the same tree and the same PDF, for every blankett, its fillable copy, a translated part and both
reports; and WeasyPrint's own parser for anything expat would read differently."""
from __future__ import annotations

import io
from datetime import date

import pytest
import tinyhtml5
from pypdf import PdfReader
from weasyprint import HTML

from formservice.blanketter.catalogue import load_catalogue
from formservice.rendering import documents, markup, pdf
from formservice.rendering.pdf import DocumentContext
from tests.sample_values import sample_values

CATALOGUE = load_catalogue()
CTX = DocumentContext(organisation="Teststaden", document_number="T-2026-000042", created=date(2026, 12, 7))


def _shape(root) -> list:
    """Elements, attributes and text in document order; whitespace between elements left out (the
    layout collapses it) – everything else must be the same."""
    out: list = []

    def walk(element, depth: int) -> None:
        if not isinstance(element.tag, str):  # a comment: WeasyPrint skips it
            return
        out.append((depth, element.tag, sorted(element.attrib.items()), (element.text or "").strip()))
        for child in element:
            walk(child, depth + 1)
        out.append(("tail", (element.tail or "").strip()))

    walk(root, 0)
    return out


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _print_html(blankett_id: str, **extra) -> str:
    values = documents.validate(CATALOGUE, blankett_id,
                                {**sample_values(*documents.parts_of(CATALOGUE, blankett_id)), **extra})
    return pdf.document_html(documents.print_parts(CATALOGUE, blankett_id, values), CTX)


def _html(name: str) -> str:
    """A blankett's print HTML (all its parts), or "fillable": the doctor's fillable förfrågan."""
    if name != "fillable":
        return _print_html(name)
    forfragan = CATALOGUE.blanketter["rehabiliteringsforfragan"]
    values = documents.validate(CATALOGUE, forfragan.id,
                                sample_values(*documents.parts_of(CATALOGUE, forfragan.id)))
    return pdf.render_html(forfragan, values, CTX, fillable=True)


@pytest.mark.parametrize("name", sorted(CATALOGUE.main_blanketter) + ["fillable"])
def test_expat_reads_the_document_as_weasyprint_does(name):
    html = _html(name)
    tree = markup.well_formed_tree(html)
    assert tree is not None, f"{name}: the template wrote markup that is not well-formed (a void element left open?)"
    assert _shape(tree) == _shape(tinyhtml5.parse(html, namespace_html_elements=False))


@pytest.mark.parametrize("name", ["forandringsplan", "fillable"])
def test_the_pdf_is_the_one_weasyprints_own_parser_gives(name):
    html, engine = _html(name), pdf._ensure_engine()
    forms = name == "fillable"
    stylesheets = [engine.css, engine.forms_css] if forms else [engine.css]

    def written(document) -> bytes:
        return document.render(stylesheets=stylesheets, font_config=engine.font_config,
                               pdf_forms=forms).write_pdf(pdf_variant=pdf.PDF_VARIANT, pdf_forms=forms)

    ours = written(markup.html_document(html, base_url=engine.base_url, url_fetcher=engine.fetcher))
    theirs = written(HTML(string=html, base_url=engine.base_url, url_fetcher=engine.fetcher))
    assert _pages(ours) == _pages(theirs) and len(_pages(ours)) >= 2


def test_a_translated_part_too():
    html = _print_html("forandringsplan", sprak="ar")
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    assert _shape(markup.well_formed_tree(html)) == _shape(tinyhtml5.parse(html, namespace_html_elements=False))


@pytest.mark.parametrize("html", [
    '<html><body><p title="två\nrader">x</p></body></html>',   # XML makes the line break a space
    '<html><body><p>öppen<br></p></body></html>',              # not well-formed
    '<html><head><base href="file:///etc/"></head><body><p>x</p></body></html>',  # its own base URL
])
def test_what_expat_would_read_differently_goes_to_weasyprints_parser(html, monkeypatch):
    used = []
    monkeypatch.setattr(markup, "HTML", lambda **kw: used.append(kw) or HTML(**kw))
    document = markup.html_document(html, base_url="file:///tmp/", url_fetcher=None)
    assert used and used[0]["string"] == html and document.etree_element is not None


def parsed_by_expat(monkeypatch) -> list[bool]:
    """For each layout from now on, whether expat read its HTML (the reports' tests use it)."""
    seen: list[bool] = []
    well_formed = markup.well_formed_tree

    def recording(html: str):
        tree = well_formed(html)
        seen.append(tree is not None)
        return tree

    monkeypatch.setattr(markup, "well_formed_tree", recording)
    return seen
