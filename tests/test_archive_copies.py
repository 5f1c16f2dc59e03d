"""Archive copies: every produced document is also kept as PDF/A, written from the same layout as the
print copy; the doctor's answers are archived as PDF/A rendered from the confirmed values.

No PDF/A validator is reachable from the package registries here (veraPDF is not), so these are
structural checks of what PDF/A-2 requires of this kind of document: the XMP identification, an
output intent with an ICC profile, every font embedded, a tagged structure with /Lang (level A),
no encryption, no JavaScript or other actions, no embedded files, a file identifier, and a file
that qpdf reads without complaint."""
from __future__ import annotations

import io
import re

import pikepdf
import pytest

from .conftest import csrf_token  # noqa: F401
from .data import returned_pdfs as corpus
from .test_doctor_answers import confirm, upload
from .wizard_driver import create_arende, fill_blankett


def assert_pdfa(data: bytes) -> None:
    with pikepdf.open(io.BytesIO(data)) as doc:
        meta = doc.open_metadata()
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "A"
        intents = doc.Root.OutputIntents
        assert len(intents) >= 1 and "/DestOutputProfile" in intents[0]
        assert str(doc.Root.Lang) == "sv" and "/StructTreeRoot" in doc.Root
        assert doc.Root.MarkInfo.Marked
        assert not doc.is_encrypted and "/ID" in doc.trailer
        assert "/OpenAction" not in doc.Root and "/AA" not in doc.Root and "/AcroForm" not in doc.Root
        assert "/Names" not in doc.Root or "/EmbeddedFiles" not in doc.Root.Names
        fonts = 0
        for page in doc.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                fonts += 1
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0] if descendants else font).FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
        assert fonts
        assert not re.search(rb"/JavaScript|/JS\b", data)


def test_every_produced_document_has_a_pdfa_archive_copy(app, soc):
    pid = create_arende(soc, ruta="soc1.4")
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    archive = soc.get(result["pdf_url"].replace(".pdf", ".arkiv"))
    assert archive.status_code == 200 and archive.mimetype == "application/pdf"
    assert_pdfa(archive.data)
    text = " ".join(p.extract_text() for p in __import__("pypdf").PdfReader(io.BytesIO(archive.data)).pages)
    assert "Tilda Testperson" in text
    assert "Arkivexemplar (PDF/A)" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_the_doctors_answers_are_archived_as_pdfa(soc, forfragan, dbs):
    from sqlalchemy import select

    from formservice.doctor.models import Svar

    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    confirm(soc, res.headers["Location"])
    svar = dbs.scalar(select(Svar))
    assert_pdfa(soc.get(f"/arenden/{pid}/svar/{svar.public_id}/arkiv.pdf").data)


@pytest.mark.parametrize("blankett_id", ["rehabiliteringsforfragan", "sip_kallelse", "finsamteam_anmalan",
                                         "fk_ansokan_samordning"])
def test_archive_copies_of_every_blankett(blankett_id):
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents
    from formservice.rendering.pdf import DocumentContext

    from .sample_values import sample_values

    catalogue = load_catalogue()
    raw = {}
    for part in documents.parts_of(catalogue, blankett_id):
        raw.update(sample_values(part))
    values = documents.validate(catalogue, blankett_id, raw)
    printed = documents.produce_print_and_archive(catalogue, blankett_id, values,
                                                  DocumentContext(organisation="Teststaden", document_number="FS-A"))
    assert_pdfa(printed.archive_pdf)
    with pikepdf.open(io.BytesIO(printed.print_pdf.content)) as doc:
        assert doc.open_metadata().get("pdfuaid:part") == "1"
