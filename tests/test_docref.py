"""Tests for formservice.doctor.reference: references without personal data, their MAC,
and their place in the PDF's document information."""
from __future__ import annotations

import io

import pikepdf
import pytest
from pypdf import PdfReader, PdfWriter

from formservice.doctor import reference as docref
from formservice.doctor.reference import DocumentReferenceError, Reference
from formservice.rendering import packets
from tests.data import returned_pdfs as corpus
from tests.sample_values import TEST_PERSONNUMMER

SECRET = corpus.SECRET


def make(**overrides):
    ids = {"document_id": "dok_7Hq-2xPa", "arende_id": "ar-9fK_w3Zt", "organisation_id": 3}
    return docref.make_reference(SECRET, **{**ids, **overrides})


# ------------------------------------------------------------------ the reference


def test_round_trip():
    ref = make()
    assert ref.startswith("fs1.dok_7Hq-2xPa.ar-9fK_w3Zt.3.")
    assert len(ref.rsplit(".", 1)[1]) == 22           # 16 bytes of HMAC-SHA256, base64url
    assert docref.verify_reference(SECRET, ref) == Reference("dok_7Hq-2xPa", "ar-9fK_w3Zt", 3)
    assert make() == ref                              # deterministic


def test_reference_holds_no_personal_data():
    ref = make()
    assert TEST_PERSONNUMMER not in ref and TEST_PERSONNUMMER[2:] not in ref


@pytest.mark.parametrize("overrides", [
    {"document_id": "dok.1"}, {"arende_id": ""}, {"arende_id": "a b"},
    {"document_id": "å"}, {"document_id": "x" * 65}, {"organisation_id": -1},
    {"organisation_id": True}, {"organisation_id": "3"},
])
def test_make_rejects_bad_ids(overrides):
    with pytest.raises(ValueError):
        make(**overrides)


def test_secret_must_be_long_enough():
    with pytest.raises(ValueError):
        docref.make_reference(b"short", document_id="d", arende_id="a", organisation_id=1)
    with pytest.raises(ValueError):
        docref.verify_reference(b"", make())


def test_every_part_is_covered_by_the_mac():
    ref = make()
    version, document, arende, org, mac = ref.split(".")
    for altered in (f"{version}.{document}x.{arende}.{org}.{mac}",
                    f"{version}.{document}.ar-Q2m_8LbV.{org}.{mac}",
                    f"{version}.{document}.{arende}.4.{mac}",
                    f"{version}.{document}.{arende}.{org}.{corpus.flip(mac, 5)}",
                    f"{version}.{document}.{arende}.{org}.{corpus.flip(mac, 21)}"):
        with pytest.raises(DocumentReferenceError) as info:
            docref.verify_reference(SECRET, altered)
        assert info.value.reason == "altered"
        assert "har ändrats" in str(info.value)


def test_wrong_secret():
    with pytest.raises(DocumentReferenceError) as info:
        docref.verify_reference(b"another-secret-of-enough-length", make())
    assert info.value.reason == "altered"


@pytest.mark.parametrize("ref", [
    "", "fs1", "fs2.d.a.3.AAAAAAAAAAAAAAAAAAAAAA", "fs1.d.a.3", "fs1.d.a.03.AAAAAAAAAAAAAAAAAAAAAA",
    "fs1.d.a.+3.AAAAAAAAAAAAAAAAAAAAAA", "fs1.d.a.3.AAAAAAAAAAAAAAAAAAAAAA==",
    "fs1.d.a.3.AAAA", "fs1.d.a.b.3.AAAAAAAAAAAAAAAAAAAAAA", "fs1.d.a.3.AAAAAAAAAAAAAAAAAAAA+/",
    "fs1." + "x" * 400, None, b"fs1.d.a.3.AAAAAAAAAAAAAAAAAAAAAA",
])
def test_malformed_references(ref):
    with pytest.raises(DocumentReferenceError) as info:
        docref.verify_reference(SECRET, ref)
    assert info.value.reason == "malformed"
    assert str(info.value) == "Dokumentreferensen är felaktigt utformad."


# ---------------------------------------------------------------------- the PDF


def test_embedded_reference_keeps_the_form_the_tagging_and_the_header():
    original, embedded = corpus.fillable(), corpus.issued()
    assert docref.read_reference(embedded) == corpus.reference()
    assert docref.read_reference(original) is None
    assert packets.pdf_version(embedded) == packets.pdf_version(original) == "1.7"
    assert packets.read_form_fields(embedded) == packets.read_form_fields(original)
    with pikepdf.open(io.BytesIO(original)) as before, pikepdf.open(io.BytesIO(embedded)) as after:
        assert "/StructTreeRoot" in after.Root and after.Root.MarkInfo.Marked
        assert after.Root.Lang == before.Root.Lang
        assert after.Root.AcroForm.NeedAppearances == before.Root.AcroForm.NeedAppearances
        assert after.open_metadata().get("pdfuaid:part") == "1"
        assert after.docinfo.Title == before.docinfo.Title


def test_reference_survives_filling_with_pypdf():
    assert docref.read_reference(corpus.filled()) == corpus.reference()
    # a writer that does not copy the header (writes %PDF-1.3) keeps it too
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(corpus.issued())))
    writer.update_page_form_field_values(writer.pages[0], {"lakare_namn": "Åsa"},
                                         auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(b"%PDF-1.3")
    assert docref.read_reference(out.getvalue()) == corpus.reference()


def test_reference_survives_a_pikepdf_resave():
    resaved = corpus.filled_resaved()
    assert docref.read_reference(resaved) == corpus.reference()
    assert docref.verify_reference(SECRET, docref.read_reference(resaved)).arende_id == \
        corpus.ARENDE_ID


def test_read_reference_of_an_open_reader_and_of_garbage():
    reader = PdfReader(io.BytesIO(corpus.issued()))
    assert docref.read_reference(reader) == corpus.reference()
    with pytest.raises(DocumentReferenceError):
        docref.read_reference(b"inte en pdf")


def test_embed_refuses_what_is_not_a_pdf():
    with pytest.raises(ValueError):
        docref.embed_reference(b"GIF89a", make())
