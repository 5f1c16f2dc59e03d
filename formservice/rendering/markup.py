"""The document's HTML parsed for WeasyPrint, by expat where it can be.

WeasyPrint parses HTML with tinyhtml5, an HTML5 parser in pure Python: 8 ms of a förändringsplan's
130 ms layout, 17 ms of a förfrågan's 300 (measured). The service's own document templates
(templates/documents/) write well-formed markup (void elements closed, attributes with values), and
for such markup the standard library's expat parser (C) builds the same tree – the same elements,
attributes and text, apart from whitespace between elements, which the layout collapses anyway
(tests/test_rendering_pdf.py compares both trees and both PDFs for every blankett and report). Any
HTML it cannot take as it is goes to WeasyPrint's own parser: markup that is not well-formed, and
an attribute value holding a line break or a tab, which XML would turn into a space where HTML keeps
it (a typed value in a fillable field).

The one place that builds WeasyPrint's `HTML` without its constructor: the attributes set here are
those `HTML.__init__` sets (WeasyPrint 70, pinned in constraints.txt; the test above fails first
if a new version changes them).
"""
from __future__ import annotations

import re
from xml.etree import ElementTree

import cssselect2

from formservice.rendering import libraries  # noqa: F401, I001 — before WeasyPrint: see there
from weasyprint import HTML

_LINE_BREAK_IN_ATTRIBUTE = re.compile(r'="[^"]*[\n\r\t]')


def well_formed_tree(html: str) -> ElementTree.Element | None:
    """The tree expat makes of `html`, or None where WeasyPrint's parser must read it."""
    if _LINE_BREAK_IN_ATTRIBUTE.search(html):
        return None
    try:
        return ElementTree.fromstring(html)
    except ElementTree.ParseError:
        return None


def html_document(html: str, *, base_url: str, url_fetcher) -> HTML:
    """`weasyprint.HTML(string=html, base_url=…, url_fetcher=…)`, parsed by expat when it can be."""
    root = well_formed_tree(html)
    if root is None or root.find("head/base") is not None:  # a <base> would change the base URL
        return HTML(string=html, base_url=base_url, url_fetcher=url_fetcher)
    document = HTML.__new__(HTML)
    document.base_url = base_url
    document.url_fetcher = url_fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document
