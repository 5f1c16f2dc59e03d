"""Tests for formservice.rendering.packets: merge with bookmarks, read back form
fields, flatten, zip."""
from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.rendering import packets, pdf
from formservice.rendering.pdf import DocumentContext


def html_pdf(title: str, pages: int, *, forms: str = "") -> bytes:
    body = "".join(f'<h1 style="break-before: page">{title} sida {i}</h1>' for i in range(1, pages + 1))
    return pdf.html_to_pdf(f'<html lang="sv"><head><title>{title}</title></head>'
                           f"<body>{body}{forms}</body></html>", forms=bool(forms))


@pytest.fixture(scope="module")
def parts():
    return [("Rehabiliteringsförfrågan", html_pdf("Förfrågan", 3)),
            ("Sekretessmedgivande", html_pdf("Medgivande", 1)),
            ("Förändringsplan", html_pdf("Plan", 2))]


@pytest.fixture(scope="module")
def packet(parts):
    return packets.build_packet(parts, title="Paket")


def test_packet_has_all_pages_in_order(packet, parts):
    reader = PdfReader(io.BytesIO(packet))
    assert len(reader.pages) == 6
    texts = [page.extract_text() for page in reader.pages]
    assert "Förfrågan sida 1" in texts[0]
    assert "Medgivande sida 1" in texts[3]
    assert "Plan sida 2" in texts[5]


def test_one_bookmark_per_part_at_its_first_page(packet, parts):
    reader = PdfReader(io.BytesIO(packet))
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top] == [title for title, _ in parts]
    assert [reader.get_destination_page_number(item) for item in top] == [0, 3, 4]
    # each part's own headings are kept beneath its bookmark
    nested = [item for item in reader.outline if isinstance(item, list)]
    assert [entry.title for entry in nested[0]] == [f"Förfrågan sida {i}" for i in (1, 2, 3)]


def test_packet_keeps_the_pdf_version_and_opens_with_bookmarks(packet):
    assert packet.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(packet))
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"
    assert reader.metadata.title == "Paket"


def test_packet_of_real_blanketter():
    defs = load_definitions(paths.FORMS_DIR)
    ctx = DocumentContext("Teststaden", None, date(2026, 11, 23))
    plan = pdf.render_pdf(defs["forandringsplan"], {}, ctx).pdf
    consent = pdf.render_pdf(defs["sekretessmedgivande"], {}, ctx).pdf
    data = packets.build_packet([("Förändringsplan", plan), ("Sekretessmedgivande", consent)])
    reader = PdfReader(io.BytesIO(data))
    plan_pages = len(PdfReader(io.BytesIO(plan)).pages)
    assert len(reader.pages) == plan_pages + len(PdfReader(io.BytesIO(consent)).pages)
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [reader.get_destination_page_number(i) for i in top] == [0, plan_pages]


def test_bad_input_has_swedish_errors():
    with pytest.raises(packets.PacketError, match="inga dokument"):
        packets.build_packet([])
    with pytest.raises(packets.PacketError, match="inte en PDF"):
        packets.build_packet([("Trasig", b"hej")])


# ------------------------------------------------------------------ forms

FORM = """<p>Namn</p><input name="namn" title="Namn">
<p><input type="checkbox" name="kan_delta" title="Kan delta"> Kan delta</p>
<p><input type="checkbox" name="kan_inte" title="Kan inte"> Kan inte</p>"""


@pytest.fixture(scope="module")
def form_pdf():
    return html_pdf("Formulär", 1, forms=FORM)


def test_read_form_fields(form_pdf):
    assert packets.read_form_fields(form_pdf) == {"namn": "", "kan_delta": False,
                                                  "kan_inte": False}
    assert packets.read_form_fields(html_pdf("Utan fält", 1)) == {}


def filled(form_pdf: bytes) -> bytes:
    from pypdf import PdfWriter
    reader = PdfReader(io.BytesIO(form_pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    writer.update_page_form_field_values(writer.pages[0], {"namn": "Tolvan Tolvansson",
                                                           "kan_delta": "/on"},
                                         auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_read_back_filled_fields(form_pdf):
    assert packets.read_form_fields(filled(form_pdf)) == {
        "namn": "Tolvan Tolvansson", "kan_delta": True, "kan_inte": False}


def test_flatten_burns_in_the_values(form_pdf, tmp_path):
    flat = packets.flatten(filled(form_pdf))
    assert flat.startswith(b"%PDF-1.7")
    assert packets.read_form_fields(flat) == {}
    with pikepdf.open(io.BytesIO(flat)) as doc:
        assert "/AcroForm" not in doc.Root
        assert not any("/Annots" in page and len(page.Annots) for page in doc.pages)
    path = tmp_path / "flat.pdf"
    path.write_bytes(flat)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Tolvan Tolvansson" in text


# -------------------------------------------------------------------- zip


def test_zip_is_deterministic_and_safe():
    files = [("Förändringsplan.pdf", b"%PDF-1.7 a"), ("Förändringsplan.pdf", b"%PDF-1.7 b"),
             ("../../etc/passwd", b"x"), ("plan.docx", b"PK")]
    first = packets.zip_documents(files)
    assert packets.zip_documents(files) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        assert names == ["Förändringsplan.pdf", "Förändringsplan (2).pdf", "_.._etc_passwd",
                         "plan.docx"]
        assert archive.read("Förändringsplan (2).pdf") == b"%PDF-1.7 b"
        assert {info.date_time for info in archive.infolist()} == {packets.ZIP_TIMESTAMP}
        assert all(".." not in n.split("/") and not n.startswith("/") for n in names)
