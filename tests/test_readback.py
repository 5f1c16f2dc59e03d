"""Tests for formservice.doctor.readback: reading a returned fillable PDF safely, the
doctor's answers and their validation, and the flattened archive copy. The
corpus of returned PDFs is built in tests/data/returned_pdfs.py."""
from __future__ import annotations

import io
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from formservice import paths
from formservice.doctor import readback
from formservice.blanketter.loader import load_definitions
from formservice.doctor.readback import ReturnedPdfError
from formservice.doctor.reference import Reference
from formservice.rendering import pdf
from tests.data import returned_pdfs as corpus

ROOT = Path(__file__).resolve().parents[1]

DAMAGED = "PDF-filen är skadad eller ofullständig och kan inte läsas."
NOT_A_PDF = "Filen är inte en PDF."


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def open_and_check(data: bytes, **kwargs) -> Reference:
    returned = readback.open_returned(data, **kwargs)
    return readback.check_reference(returned, corpus.SECRET, arende_id=corpus.ARENDE_ID,
                                    organisation_id=corpus.ORGANISATION_ID)


@pytest.fixture(scope="module")
def blankett():
    return corpus.forfragan()


@pytest.fixture(scope="module")
def checkbox_blankett():
    """The förfrågan, which has a "Kan inte delta" checkbox per activity."""
    return load_definitions(paths.FORMS_DIR)["rehabiliteringsforfragan"]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("build, message", [
    (corpus.empty, "Filen är tom."),
    (corpus.png, NOT_A_PDF),
    (corpus.text_file, NOT_A_PDF),
    (corpus.truncated, DAMAGED),
    (corpus.malformed, DAMAGED),
    (corpus.encrypted, "PDF-filen är lösenordsskyddad och kan inte läsas. "
                       "Spara den utan lösenord och ladda upp den igen."),
    (corpus.without_fields, "PDF-filen innehåller inga ifyllbara fält – "),
    (corpus.with_javascript, "PDF-filen innehåller JavaScript och tas inte emot av "
                             "säkerhetsskäl."),
    (corpus.with_field_javascript, "PDF-filen innehåller JavaScript"),
    (corpus.with_attachment, "PDF-filen innehåller bifogade filer och tas inte emot av "
                             "säkerhetsskäl."),
    (corpus.with_javascript_name_tree, "PDF-filen innehåller JavaScript"),
    (corpus.with_file_attachment_annotation, "PDF-filen innehåller bifogade filer"),
    (corpus.too_many_objects, "PDF-filen är för komplex och kan inte läsas."),
    (corpus.claiming_many_pages, "PDF-filen är för komplex och kan inte läsas."),
    (corpus.with_launch_action, "PDF-filen innehåller åtgärder som startar program"),
    (corpus.with_uri_link, "PDF-filen innehåller åtgärder som startar program"),
    (corpus.with_unc_gotor, "PDF-filen innehåller åtgärder som startar program"),
    (corpus.with_submit_form, "PDF-filen innehåller åtgärder som startar program"),
    (corpus.with_rich_media, "PDF-filen innehåller inbäddad media"),
    (corpus.with_xfa, "PDF-filen är ett XFA-formulär"),
    (corpus.deeply_nested, "PDF-filen är för komplex och kan inte läsas."),
    (corpus.not_ours, "PDF-filen kommer inte från formservice (referensen saknas)."),
    (corpus.altered_reference, "PDF-filen har ändrats (referensen stämmer inte) och kan inte "
                               "tas emot."),
    (corpus.from_other_arende, "PDF-filen hör till ett annat ärende. Kontrollera att du "
                               "laddar upp den i rätt ärende."),
    (corpus.from_other_organisation, "PDF-filen hör till ett annat ärende i en annan "
                                     "organisation och kan inte tas emot här."),
], ids=lambda v: getattr(v, "__name__", ""))
def test_bad_input_is_refused_in_swedish(build, message):
    with pytest.raises(ReturnedPdfError) as info:
        open_and_check(build())
    assert str(info.value).startswith(message)


def test_messages_do_not_reveal_other_ids():
    for build in (corpus.from_other_arende, corpus.from_other_organisation):
        with pytest.raises(ReturnedPdfError) as info:
            open_and_check(build())
        assert corpus.OTHER_ARENDE_ID not in str(info.value)
        assert corpus.ARENDE_ID not in str(info.value)
        assert str(corpus.ORGANISATION_ID + 1) not in str(info.value)


def test_oversized():
    with pytest.raises(ReturnedPdfError, match=r"^Filen är större än 50 kB\.$"):
        readback.open_returned(corpus.filled(), max_bytes=50 * 1024)
    huge = b"%PDF-1.7\n" + bytes(readback.MAX_BYTES)
    with pytest.raises(ReturnedPdfError, match=r"^Filen är större än 10 MB\.$"):
        readback.open_returned(huge)


def test_damaged_files_never_raise_anything_else():
    good = corpus.filled()
    rng = random.Random(20261123)
    for i in range(40):
        data = bytearray(good)
        start = rng.randrange(9, len(data))
        if i % 3 == 0:
            data[start:start + 64] = bytes(rng.randrange(256) for _ in range(64))
        elif i % 3 == 1:
            del data[start:start + rng.randrange(1, 2000)]
        else:
            data = data[:start] + b"\n%%EOF\n"
        try:
            readback.open_returned(bytes(data))
        except ReturnedPdfError as exc:
            assert str(exc) in (DAMAGED, NOT_A_PDF) or str(exc).startswith("PDF-filen")


# -------------------------------------------------------------------- good input


@pytest.mark.parametrize("build", [corpus.filled, corpus.filled_resaved],
                         ids=["pypdf", "pypdf+pikepdf"])
def test_filled_pdf_gives_the_typed_values(build, blankett):
    returned = readback.open_returned(build())
    assert readback.check_reference(
        returned, corpus.SECRET, arende_id=corpus.ARENDE_ID,
        organisation_id=corpus.ORGANISATION_ID) == Reference(
        corpus.DOCUMENT_ID, corpus.ARENDE_ID, corpus.ORGANISATION_ID)
    raw = readback.doctor_answers(blankett, returned.fields)
    ticked = ("aktivitet_jobbtorg_kan_delta", "aktivitet_sysselsattning_kan_delta")
    assert raw == {**corpus.DOCTOR_VALUES, **dict.fromkeys(ticked, True),
                   **{f.name: False for f in blankett.fields if f.type == "checkbox" and f.name not in ticked}}
    clean, errors = readback.validate_doctor_answers(blankett, raw)
    assert errors == {}
    assert clean["aktivitet_jobbtorg_omfattning"] == 50
    assert clean["aktivitet_sysselsattning_omfattning"] == 25
    assert clean["aktivitet_jobbtorg_kan_delta"] is True
    assert clean["lakare_namn"] == "Åsa Läkarsson"
    assert clean["forfragan_svar_datum"] == "2026-12-01"
    assert clean["vardenhet_telefon"] == "08-123 456 78"


def test_any_on_state_ticks_the_box():
    fields = readback.open_returned(corpus.filled_other_on_states()).fields
    assert fields["aktivitet_jobbtorg_kan_delta"] is True        # /Yes
    assert fields["aktivitet_annat_kan_delta"] is True           # /On
    assert fields["aktivitet_sprak_kan_delta"] is False          # /Off


def test_doctor_answers_takes_only_the_doctors_fields(blankett):
    raw = readback.doctor_answers(blankett, {
        "individ_personnummer": "191212121212", "okant_falt": "x",
        "lakare_namn": "  Åsa  ", "vardenhet": " ", "aktivitet_jobbtorg_omfattning": "50 %",
        "aktivitet_jobbtorg_kan_delta": False})
    assert raw == {"lakare_namn": "Åsa", "aktivitet_jobbtorg_omfattning": "50 %",
                   "aktivitet_jobbtorg_kan_delta": False}


# -------------------------------------------------------------------- validation


VALID = {"aktivitet_jobbtorg_kan_delta": True, "aktivitet_jobbtorg_omfattning": "50",
         "lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen"}


def test_valid_answers(blankett):
    clean, errors = readback.validate_doctor_answers(blankett, VALID)
    assert errors == {} and clean["aktivitet_jobbtorg_omfattning"] == 50


def test_percent_must_be_0_to_100(blankett):
    _, errors = readback.validate_doctor_answers(
        blankett, {**VALID, "aktivitet_jobbtorg_omfattning": "101 %"})
    assert errors == {"aktivitet_jobbtorg_omfattning":
                      "Jobbtorg: omfattning i %: omfattningen ska vara mellan 0 och 100 %."}


def test_at_least_one_activity(blankett):
    answers = {"lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentralen Skärholmen"}
    _, errors = readback.validate_doctor_answers(blankett, answers)
    assert list(errors) == ["aktiviteter"]
    assert errors["aktiviteter"].startswith("Läkaren har inte besvarat någon aktivitet.")
    for answer in ({"aktivitet_annat_kan_delta": "/on", "aktivitet_annat_omfattning": "25"},
                   {"aktivitet_sprak_kan_inte": "Smärta"},
                   {"aktivitet_arbetssokande_kan_delta": "/on"}):
        assert readback.validate_doctor_answers(blankett, {**answers, **answer})[1] == {}
    # A percentage alone answers nothing: it belongs to "Kan delta", which is not ticked.
    assert list(readback.validate_doctor_answers(blankett, {**answers, "aktivitet_annat_omfattning": "25"})[1]) == [
        "aktivitet_annat_kan_delta"]


def test_doctors_name_and_unit_are_required(blankett):
    answers = {k: v for k, v in VALID.items() if k not in ("lakare_namn", "vardenhet")}
    _, errors = readback.validate_doctor_answers(blankett, answers)
    assert errors == {"lakare_namn": "Läkare: måste fyllas i.",
                      "vardenhet": "Vårdenhet: måste fyllas i."}


def test_kan_inte_delta_needs_a_motivation(checkbox_blankett):
    ticked = {**VALID, "aktivitet_sysselsattning_kan_inte_delta": True}
    _, errors = readback.validate_doctor_answers(checkbox_blankett, ticked)
    assert errors == {"aktivitet_sysselsattning_kan_inte":
                      "Sysselsättning: ”Kan inte delta” är ikryssat – motivera varför."}
    motivated = {**ticked, "aktivitet_sysselsattning_kan_inte": "Svår ångest i grupp"}
    assert readback.validate_doctor_answers(checkbox_blankett, motivated)[1] == {}
    # a ticked "Kan inte delta" alone answers the question; the motivation is what is missing
    only = {"aktivitet_sprak_kan_inte_delta": True, "lakare_namn": "Å", "vardenhet": "V"}
    assert list(readback.validate_doctor_answers(checkbox_blankett, only)[1]) == [
        "aktivitet_sprak_kan_inte"]


def test_checkbox_definition_renders_and_reads_back(checkbox_blankett):
    values = corpus.socialsekreterare_values(checkbox_blankett)
    data = pdf.render_pdf(checkbox_blankett, values, corpus.CTX, fillable=True).pdf
    filled = corpus.fill_with_pypdf(data, {"aktivitet_jobbtorg_kan_inte_delta": "/on",
                                           "lakare_namn": "Å", "vardenhet": "V"})
    fields = readback.open_returned(filled).fields
    assert fields["aktivitet_jobbtorg_kan_inte_delta"] is True
    raw = readback.doctor_answers(checkbox_blankett, fields)
    assert readback.validate_doctor_answers(checkbox_blankett, raw)[1] == {
        "aktivitet_jobbtorg_kan_inte": "Jobbtorg: ”Kan inte delta” är ikryssat – motivera varför."}


# ------------------------------------------------------------- the documents




def test_fillable_pdf_is_small():
    assert len(corpus.fillable()) <= 100 * 1024
    assert len(corpus.issued()) <= 100 * 1024


def test_print_version_has_no_form_fields():
    reader = PdfReader(io.BytesIO(corpus.printed()))
    assert not reader.get_fields()
    assert "/AcroForm" not in reader.trailer["/Root"]


def test_modules_do_not_import_flask():
    code = ("import sys\n"
            "import formservice.doctor.reference, formservice.doctor.readback\n"
            "assert 'flask' not in sys.modules, 'flask imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_opening_at_a_page_is_not_an_action():
    fields = readback.open_returned(corpus.opening_at_a_page()).fields
    assert fields["lakare_namn"] == corpus.DOCTOR_VALUES["lakare_namn"]


def test_a_stream_that_inflates_is_never_inflated():
    # 64 MB inflated, 64 kB in the file: read at once, since answers never need a stream decoded.
    fields = readback.open_returned(corpus.with_inflating_stream()).fields
    assert fields["lakare_namn"] == corpus.DOCTOR_VALUES["lakare_namn"]


def test_a_file_that_costs_too_much_cpu_is_refused_within_the_limit():
    import time

    from formservice.rendering import untrusted_pdf

    started = time.monotonic()
    # Zero CPU seconds allowed: the child is stopped at once, as a costly file would be at the limit.
    with pytest.raises(untrusted_pdf.UntrustedPdfError, match="för komplex"):
        untrusted_pdf.open_untrusted(corpus.filled(), info_key="/FormserviceRef", cpu_seconds=0)
    assert time.monotonic() - started < 5


# ------------------------------------------- one activity, one statement (issue 22)


def test_a_percentage_belongs_to_kan_delta_only(checkbox_blankett):
    message = ("Sysselsättning: en omfattning i procent är ifylld men ”Kan delta” är inte ikryssat. "
               "Kryssa i ”Kan delta” eller ta bort omfattningen.")
    # As measured: "kan inte delta" ticked and motivated, with a percentage left in Omfattning …
    inverted = {**VALID, "aktivitet_sysselsattning_kan_inte_delta": True,
                "aktivitet_sysselsattning_kan_inte": "Svår ångest i grupp", "aktivitet_sysselsattning_omfattning": "50"}
    assert readback.validate_doctor_answers(checkbox_blankett, inverted)[1] == {
        "aktivitet_sysselsattning_kan_delta": message}
    # … and on paper with neither box ticked (a form posts "" for an unticked box).
    bare = {**VALID, "aktivitet_sysselsattning_omfattning": "50 %", "aktivitet_sysselsattning_kan_delta": ""}
    assert readback.validate_doctor_answers(checkbox_blankett, bare)[1] == {
        "aktivitet_sysselsattning_kan_delta": message}
    # 0 % is a percentage too; an unreadable one gets both messages at once.
    zero = {**VALID, "aktivitet_sysselsattning_omfattning": "0"}
    assert list(readback.validate_doctor_answers(checkbox_blankett, zero)[1]) == ["aktivitet_sysselsattning_kan_delta"]
    unreadable = {**VALID, "aktivitet_sysselsattning_omfattning": "ca 25"}
    assert set(readback.validate_doctor_answers(checkbox_blankett, unreadable)[1]) == {
        "aktivitet_sysselsattning_kan_delta", "aktivitet_sysselsattning_omfattning"}
    # With "Kan delta" ticked the percentage is the answer.
    ticked = {**VALID, "aktivitet_sysselsattning_kan_delta": "/on", "aktivitet_sysselsattning_omfattning": "50"}
    clean, errors = readback.validate_doctor_answers(checkbox_blankett, ticked)
    assert errors == {} and clean["aktivitet_sysselsattning_omfattning"] == 50


def test_kan_delta_with_a_motivation_for_kan_inte_is_an_error(checkbox_blankett):
    answers = {**VALID, "aktivitet_jobbtorg_kan_inte": "Bara förmiddagar"}
    assert readback.validate_doctor_answers(checkbox_blankett, answers)[1] == {"aktivitet_jobbtorg_kan_inte": (
        "Jobbtorg: ”Kan delta” är ikryssat men det finns en motivering till ”Kan inte delta”. Kryssa i bara det "
        "som läkaren menar; en kommentar som inte gäller ”Kan inte delta” hör hemma under Kommentar/övrig "
        "information.")}


def test_activity_answers_read_the_table_as_it_stands(checkbox_blankett):
    by_name = {a.activity.name: a for a in readback.activity_answers(checkbox_blankett, {
        "aktivitet_jobbtorg_kan_delta": True, "aktivitet_jobbtorg_omfattning": 50,
        "aktivitet_sysselsattning_kan_inte_delta": True, "aktivitet_sysselsattning_omfattning": 50,
        "aktivitet_sprak_kan_inte": "  Smärta ", "aktivitet_annat_omfattning": 0})}
    assert by_name["Jobbtorg"][1:] == (True, False, 50, "")
    assert by_name["Sysselsättning"][1:] == (False, True, 50, "")   # never "kan" for a percentage alone
    assert by_name["Språkundervisning/utbildning"][1:] == (False, True, None, "Smärta")
    assert by_name["Annat"][1:] == (False, False, 0, "")
    assert by_name["Söka arbete"][1:] == (False, False, None, "")


def test_the_doctors_phone_is_a_field_of_the_fillable_pdf_and_read_back(checkbox_blankett):
    data = pdf.render_pdf(checkbox_blankett, corpus.socialsekreterare_values(checkbox_blankett), corpus.CTX,
                          fillable=True).pdf
    assert "vardenhet_telefon" in PdfReader(io.BytesIO(data)).get_fields()
    filled = corpus.fill_with_pypdf(data, {"vardenhet_telefon": "08 123 456 78", "lakare_namn": "Å", "vardenhet": "V",
                                           "aktivitet_jobbtorg_kan_delta": "/on"})
    raw = readback.doctor_answers(checkbox_blankett, readback.open_returned(filled).fields)
    clean, errors = readback.validate_doctor_answers(checkbox_blankett, raw)
    assert errors == {} and clean["vardenhet_telefon"] == "08 123 456 78"
    bad = readback.validate_doctor_answers(checkbox_blankett, {**raw, "vardenhet_telefon": "ring mig"})[1]
    assert list(bad) == ["vardenhet_telefon"] and bad["vardenhet_telefon"].startswith("Telefon: ")
