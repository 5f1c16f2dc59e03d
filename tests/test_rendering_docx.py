"""Tests for formservice.rendering.docx and the generated Word templates."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import docx
import pytest

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.rendering import display, docx_templates
from formservice.rendering.docx import DocxTemplateMissing, docx_context, render_docx
from formservice.rendering.pdf import DocumentContext
from tests.sample_values import TEST_PERSONNUMMER
from tests.test_rendering_pdf import BLANKETT_IDS, text_values

ORGANISATION = "Farsta stadsdelsförvaltning"


def document_text(data: bytes) -> str:
    """All text of a .docx as python-docx reads it: body paragraphs, tables
    (nested too), headers and footers."""
    document = docx.Document(io.BytesIO(data))
    parts: list[str] = [p.text for p in document.paragraphs]

    def tables(container):
        for table in container.tables:
            for row in table.rows:
                for cell in row.cells:
                    parts.extend(p.text for p in cell.paragraphs)
                    tables(cell)

    tables(document)
    for section in document.sections:
        for part in (section.header, section.footer):
            parts.extend(p.text for p in part.paragraphs)
            tables(part)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def definitions():
    return load_definitions(paths.FORMS_DIR)


@pytest.fixture(scope="module")
def ctx():
    return DocumentContext(ORGANISATION, "FA-2026-7", date(2026, 11, 23))


@pytest.fixture(scope="module")
def rendered(definitions, ctx):
    out = {}
    for bid, blankett in definitions.items():
        values = text_values(blankett)
        out[bid] = (values, render_docx(blankett, values, ctx))
    return out


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_every_value_is_in_the_document(rendered, definitions, bid):
    values, data = rendered[bid]
    text = document_text(data)
    blankett = definitions[bid]
    missing = []
    for field in blankett.fields:
        value = values[field.name]
        if not field.printed:       # wizard-only (print: false): neither the question nor its help
            missing += [f"{field.name}: printed" for s in (field.label, field.help) if s and s in text]
            continue
        if field.type == "rows":
            shown = [display.format_value(c, row[c.name]) for row in value for c in field.columns]
        elif field.type == "choice":
            shown = [f"{display.CHECKED} {field.choice_label(value)}"]
        else:
            shown = [display.format_value(field, value, checkbox=display.CHECKED)]
        missing += [f"{field.name}: {s!r}" for s in shown if s not in text]
    assert not missing
    assert "19121212-1212" in text and TEST_PERSONNUMMER not in text


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_header_footer_and_properties(rendered, definitions, bid):
    values, data = rendered[bid]
    document = docx.Document(io.BytesIO(data))
    header = document_text(data)
    assert "FA-2026-7" in header
    if definitions[bid].masthead == "issuer":     # another authority's own form: its name, not ours
        assert definitions[bid].issuer in header and ORGANISATION not in header
    else:
        assert ORGANISATION in header
    props = document.core_properties
    assert props.title == definitions[bid].title
    assert props.author == ORGANISATION
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        metadata = b"".join(archive.read(n) for n in archive.namelist()
                            if n.startswith("docProps/") and n.endswith(".xml")).decode()
    for secret in (TEST_PERSONNUMMER, "19121212-1212", values["individ_namn"]):
        assert secret not in metadata


def test_nothing_is_left_of_the_template_tags(rendered):
    for bid, (_, data) in rendered.items():
        text = document_text(data)
        assert "{{" not in text and "{%" not in text, bid


def test_markup_in_values_stays_literal_text(definitions, ctx):
    blankett = definitions["forandringsplan"]
    hostile = 'A <&> B </w:t><w:r><w:t>INJICERAT</w:t></w:r> "C" {{ v }}'
    values = {"individ_namn": hostile, "aktuell_situation": hostile,
              "steg": [{"vad": hostile, "nar": "<maj>"}]}
    data = render_docx(blankett, values, DocumentContext("Org & Co <AB>"))
    text = document_text(data)
    assert text.count(hostile) >= 3
    assert "<maj>" in text
    assert "Org & Co <AB>" in text
    document = docx.Document(io.BytesIO(data))
    runs = [r.text for p in document.paragraphs for r in p.runs]
    assert "INJICERAT" not in runs           # no run of its own: no injected markup


def test_newlines_become_line_breaks(definitions, ctx):
    blankett = definitions["forandringsplan"]
    data = render_docx(blankett, {"aktuell_situation": "rad ett\nrad två"}, ctx)
    assert "rad ett\nrad två" in document_text(data)


def test_rows_have_at_least_min_rows(definitions, ctx):
    blankett = definitions["forandringsplan"]
    data = render_docx(blankett, {"steg": [{"vad": "Ett", "nar": "Två"}]}, ctx)
    document = docx.Document(io.BytesIO(data))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Vad börjar du med?")
    assert len(table.rows) == 1 + blankett.field("steg").min_rows


def test_empty_values_render(definitions, ctx):
    for blankett in definitions.values():
        text = document_text(render_docx(blankett, {}, ctx))
        assert blankett.title in text


def test_page_break_before(rendered):
    _, data = rendered["forandringsplan"]
    document = docx.Document(io.BytesIO(data))
    heading = next(p for p in document.paragraphs if p.text == "Bedömning")
    assert heading.paragraph_format.page_break_before


def test_context_prepares_values_for_display(definitions, ctx):
    blankett = definitions["rehabiliteringsforfragan"]
    context = docx_context(blankett, {"individ_personnummer": TEST_PERSONNUMMER,
                                      "aktivitet_jobbtorg_kan_delta": True,
                                      "aktivitet_jobbtorg_omfattning": 25}, ctx)
    v = context["v"]
    assert v["individ_personnummer"] == "19121212-1212"
    assert v["aktivitet_jobbtorg_kan_delta"] == display.CHECKED
    assert v["aktivitet_sprak_kan_delta"] == display.UNCHECKED
    assert v["aktivitet_jobbtorg_omfattning"] == "25 %"
    assert context["p"]["handlaggare_namn"] == "………………"


# ------------------------------------------------------------------ templates


def test_templates_are_up_to_date(definitions):
    stale = docx_templates.generate(definitions, docx_templates.template_dir(), check=True)
    assert not stale, ("Word templates out of date; run "
                       "python -m formservice.rendering.docx_templates: " + ", ".join(stale))


def test_template_generation_is_reproducible(definitions, tmp_path):
    blankett = definitions["rehabiliteringsforfragan"]
    first = docx_templates.build_template(blankett)
    assert docx_templates.build_template(blankett) == first
    assert docx_templates.main(["--out", str(tmp_path), "sekretessmedgivande"]) == 0
    assert (tmp_path / "sekretessmedgivande.docx").is_file()
    assert docx_templates.main(["--out", str(tmp_path), "--check", "sekretessmedgivande"]) == 0


def test_template_tags(definitions):
    data = docx_templates.build_template(definitions["forandringsplan"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert "{%tr for r in rows['steg'] %}" in xml
    assert "{{ v['individ_personnummer'] }}" in xml
    assert "{{ r['nar'] }}" in xml


def test_literal_braces_in_definition_text():
    assert docx_templates.with_placeholders("Hej {namn}, {{x}}") == (
        "Hej {{ p['namn'] }}, {{ '{' }}x{{ '}' }}")


def test_missing_template_has_a_swedish_message(definitions, ctx, tmp_path):
    with pytest.raises(DocxTemplateMissing, match="Word-mallen för forandringsplan saknas"):
        render_docx(definitions["forandringsplan"], {}, ctx, template_directory=tmp_path)
