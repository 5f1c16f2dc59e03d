"""Tests for formservice.rendering.docx and the generated Word templates."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import docx
import pytest

from docx.oxml.ns import qn

from formservice import paths
from formservice.blanketter.catalogue import load_catalogue
from formservice.blanketter.loader import load_definitions
from formservice.rendering import display, documents, docx_templates
from formservice.rendering.docx import DocxTemplateMissing, docx_context, packet_docx, render_docx
from formservice.rendering.pdf import DocumentContext
from tests.sample_values import TEST_PERSONNUMMER, sample_values
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


# ------------------------------------------------------------------ layout as in print


def test_the_scale_is_drawn_as_a_scale(definitions, ctx):
    """Every point of the scale with a box under it, the chosen one crossed, as the PDF draws it
    (Word showed a bare "3")."""
    blankett = definitions["forandringsplan"]
    data = render_docx(blankett, {"bedomning_sjalvforsorjning": 3}, ctx)
    document = docx.Document(io.BytesIO(data))
    scales = [t for outer in document.tables for row in outer.rows for cell in row.cells for t in cell.tables
              if [c.text for c in t.rows[0].cells] == [str(p) for p in range(1, 11)]]
    assert len(scales) == 1
    boxes = [c.text for c in scales[0].rows[1].cells]
    assert boxes == [display.CHECKED if p == 3 else display.UNCHECKED for p in range(1, 11)]
    assert [c.text for c in scales[0].rows[2].cells][0] == "Mycket liten"


def test_boxes_print_their_label_over_the_value_and_help_only_while_empty(definitions, ctx):
    blankett = definitions["sip_kallelse"]
    lank = blankett.field("sip_lank")
    text = document_text(render_docx(blankett, {"sip_lank": "https://mote.example.se/1"}, ctx))
    assert "Länk till digitalt möte\nhttps://mote.example.se/1" in text
    assert lank.help not in text                                     # print_help: false
    plan = definitions["forandringsplan"]
    text = document_text(render_docx(plan, {}, ctx))
    assert "Markera på skalan." in text                              # a scale's help: always


def test_signature_blocks_never_split(definitions, ctx):
    """A signature pair is a table row that cannot split, and keeps with the heading before it."""
    data = render_docx(definitions["forandringsplan"], text_values(definitions["forandringsplan"]), ctx)
    document = docx.Document(io.BytesIO(data))
    heading = next(p for p in document.paragraphs if p.text == "Underskrifter")
    assert heading.paragraph_format.keep_with_next is not False      # Heading 2 keeps with next
    table = document.tables[-1]
    assert "Namnförtydligande" in document_text(data).split("Underskrifter", 1)[1]
    for row in table.rows:
        assert row._tr.trPr.find(qn("w:cantSplit")) is not None


# ------------------------------------------------------------------ the whole packet


def sections_text(data: bytes) -> list[tuple[str, str, str]]:
    """(header, footer, body) of each section of a .docx: the body split at its section breaks."""
    document = docx.Document(io.BytesIO(data))
    bodies, current = [], []
    for block in document.element.body:
        current.append("".join(block.itertext()))
        if block.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None or block.tag == qn("w:sectPr"):
            bodies.append(" ".join(current))
            current = []
    heads = [(" ".join(p.text for t in s.header.tables for r in t.rows for c in r.cells for p in c.paragraphs),
              " ".join(p.text for t in s.footer.tables for r in t.rows for c in r.cells for p in c.paragraphs))
             for s in document.sections]
    return [(h, f, b) for (h, f), b in zip(heads, bodies)]


def test_the_whole_docx_holds_every_part_each_with_its_own_header(ctx):
    catalogue = load_catalogue(paths.FORMS_DIR)
    values = documents.validate(catalogue, "rehabiliteringsforfragan", sample_values(
        *documents.parts_of(catalogue, "rehabiliteringsforfragan")))
    printed = documents.produce_print_and_archive(catalogue, "rehabiliteringsforfragan", values, ctx)
    whole = documents.packet_docx(printed.parts)
    assert whole != printed.parts[0].docx
    (h1, f1, b1), (h2, f2, b2) = sections_text(whole)
    assert "Rehabiliteringsförfrågan" in h1 and "Rehabiliteringsförfrågan, version" in f1
    assert "Sekretessmedgivande" in h2 and "Sekretessmedgivande, version" in f2
    assert "Kan personen delta i aktiviteter?" in b1 and "Sekretessmedgivande" not in b1
    assert "Jag som lämnar samtycket" in b2 and "FA-2026-7" in h2
    document = docx.Document(io.BytesIO(whole))
    assert document.core_properties.title == "Rehabiliteringsförfrågan"
    # each part starts on a new page (a section break of the default kind) with its own header
    for section in document.sections:
        assert section._sectPr.find(qn("w:type")) is None
    assert document.sections[0].header.part is not document.sections[1].header.part
    assert len({p.partname for p in document.part.package.iter_parts()}) == len(list(document.part.package.iter_parts()))
    # the same document from the API's producer, which renders the parts from the same values
    api = documents.produce_docx(catalogue, "rehabiliteringsforfragan", values, ctx)
    assert api.filename.endswith(".docx") and [b for _, _, b in sections_text(api.content)] == [b1, b2]


def test_the_whole_sip_docx_has_each_recipients_copy(ctx):
    catalogue = load_catalogue(paths.FORMS_DIR)
    invited = [{"verksamhet": "Jobbtorg Skärholmen", "namn": "Anna Andersson"},
               {"verksamhet": "Vårdcentralen Exempel", "namn": "Berit Berg"}]
    values = documents.validate(catalogue, "sip_kallelse", sample_values(catalogue.blanketter["sip_kallelse"])
                                | {"sip_inbjudna": invited, "sip_gemensam_kallelse": False})
    whole = documents.produce_docx(catalogue, "sip_kallelse", values, ctx).content
    bodies = [body for _, _, body in sections_text(whole)]
    assert len(bodies) == 2
    assert "Till: Jobbtorg Skärholmen, Anna Andersson" in bodies[0] and "Till: Vårdcentralen" not in bodies[0]
    assert "Till: Vårdcentralen Exempel, Berit Berg" in bodies[1]


def test_a_packet_keeps_each_parts_own_header_pictures(definitions, ctx, tmp_path):
    """An organisation's restyled templates may carry a logo: each part keeps its own, under a
    part name of its own."""
    from PIL import Image

    logos = []
    for n, colour in enumerate(("red", "blue")):
        path = tmp_path / f"logo{n}.png"
        Image.new("RGB", (20, 10), colour).save(path)
        logos.append(path)
    parts = []
    for bid, logo in zip(("rehabiliteringsforfragan", "sekretessmedgivande"), logos):
        document = docx.Document(io.BytesIO(render_docx(definitions[bid], {}, ctx)))
        document.sections[0].header.paragraphs[0].add_run().add_picture(str(logo))
        buffer = io.BytesIO()
        document.save(buffer)
        parts.append(buffer.getvalue())
    whole = docx.Document(io.BytesIO(packet_docx(parts)))
    images = [p for p in whole.part.package.iter_parts() if p.partname.startswith("/word/media/")]
    assert sorted(Image.open(io.BytesIO(p.blob)).getpixel((0, 0)) for p in images) == [(0, 0, 255), (255, 0, 0)]
    assert len({p.partname for p in images}) == 2
