"""Försäkringskassan's ansökan printed as Försäkringskassan's own form, and the SIP-kallelse printed
without the caseworker's texts, one named copy per invited party (issue 12).

The texts are read back out of the PDFs (pypdf) and the Word documents (python-docx)."""
from __future__ import annotations

import io
import re
import shutil
from datetime import date

import docx
import pytest
from pypdf import PdfReader

from formservice import paths
from formservice.blanketter.catalogue import load_catalogue
from formservice.blanketter.loader import load_definitions
from formservice.blanketter.model import DefinitionError
from formservice.rendering import display, documents
from formservice.rendering.pdf import DocumentContext
from tests.sample_values import sample_values

ORGANISATION = "Stockholms stad"
FK = "fk_ansokan_samordning"
SIP = "sip_kallelse"
# Bilaga 5, "Vad händer när ansökan kommit in?", word for word.
FK_VAD_HANDER = ("En handläggare kontaktar dig efter att din ansökan har kommit in till Försäkringskassan. "
                 "Tillsammans går ni genom ansökan och du får information om den fortsatta handläggningen.")
# Texts for the caseworker in the wizard, on no kallelse.
CASEWORKER_ONLY = ("En gemensam kallelse", "Fyll i om mötet", "Annars skrivs en kallelse",
                   "Förifylls från organisationens")

# Typical answers of someone applying: a few sentences where the form asks for a description.
FK_TYPICAL = {
    "individ_namn": "Eva Exempelsson",
    "individ_adress": "Exempelgatan 12 lgh 1102",
    "individ_postnummer_ort": "123 45 Stockholm",
    "fk_varfor_inte_arbeta": (
        "Jag har haft ont i ryggen och nacken i över ett år och orkar inte sitta eller stå mer än en "
        "kort stund. Jag har också svårt att sova och blir snabbt trött, och det har blivit värre "
        "sedan i våras."),
    "fk_rehabiliteringsbehov": (
        "Jag behöver hjälp att komma tillbaka till arbete i lagom takt, till exempel arbetsträning "
        "några timmar om dagen, och fortsatt fysioterapi. Jag vill gärna att vården, kommunen och "
        "Arbetsförmedlingen planerar tillsammans med mig."),
    "fk_ovriga_upplysningar": (
        "Jag har kontakt med en socialsekreterare på försörjningsstödsenheten som hjälper mig med "
        "ansökan. Jag har också kontakt med en kurator på vårdcentralen. Eftermiddagar passar mig "
        "bäst för möten på grund av min medicinering."),
    "kontakt_socialtjanst": "Anna Andersson, 08-508 000 00",
    "kontakt_vard": "Dr Berit Berg, Vårdcentralen Exempel, 08-123 456 78",
    "kontakt_af": "Carl Carlsson, 0771-60 00 00",
    "kontakt_annan_typ": "Psykolog",
    "kontakt_annan": "David Dahl, 08-987 654 32",
}
INVITED = [{"verksamhet": "Vårdcentralen Exempel", "namn": "Berit Berg", "kontakt": "08-123 456 78"},
           {"verksamhet": "Försäkringskassan", "namn": "Fia Fredriksson", "kontakt": "0771-524 524"}]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_pages(data: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def docx_text(data: bytes) -> tuple[str, str]:
    """(page header, body with its tables) of a Word document."""
    document = docx.Document(io.BytesIO(data))
    header = " ".join(cell.text for table in document.sections[0].header.tables
                      for row in table.rows for cell in row.cells)
    body = [p.text for p in document.paragraphs]
    body += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return squash(header), squash(" ".join(body))


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(paths.FORMS_DIR)


@pytest.fixture(scope="module")
def ctx():
    return DocumentContext(ORGANISATION, "FS-ABCD-EFGH", date(2026, 11, 27))


@pytest.fixture(scope="module")
def fk(catalogue, ctx):
    values = documents.validate(catalogue, FK, sample_values(catalogue.blanketter[FK]) | FK_TYPICAL)
    return documents.produce_print_and_archive(catalogue, FK, values, ctx)


@pytest.fixture(scope="module")
def sip(catalogue, ctx):
    raw = sample_values(catalogue.blanketter[SIP]) | {"sip_inbjudna": INVITED, "sip_gemensam_kallelse": False}
    values = documents.validate(catalogue, SIP, raw)
    return documents.produce_print_and_archive(catalogue, SIP, values, ctx)


# ------------------------------------------------------------------ Försäkringskassan's ansökan


def test_fk_pdf_is_forsakringskassans_form_on_two_pages(fk):
    pages = pdf_pages(fk.print_pdf.content)
    assert len(pages) == 2                       # as the original, with typical answers
    for number, text in enumerate(pages, 1):
        assert "Försäkringskassan" in text and f"Sida {number} (2)" in text
        assert ORGANISATION not in text          # no municipality's masthead on FK's form
    first, second = pages
    assert "Skicka blanketten till Försäkringskassans inläsningscentral 839 88 Östersund" in first
    assert "4. Kontakt med andra myndigheter" in second and "4. Kontakt" not in first


def test_fk_pdf_has_the_originals_text_and_nothing_in_fks_name(fk):
    text = " ".join(pdf_pages(fk.print_pdf.content))
    assert "Vad händer när ansökan kommit in? " + FK_VAD_HANDER in text
    assert "30 dagar" not in text and "handläggas inom" not in text
    assert "Uppgifterna hanteras i Försäkringskassans datasystem." in text


def test_fk_docx_is_forsakringskassans_form(fk):
    [part] = fk.parts
    header, body = docx_text(part.docx)
    assert header.startswith("Försäkringskassan") and ORGANISATION not in header + body
    assert "Skicka blanketten till" in body
    assert "Vad händer när ansökan kommit in? " + FK_VAD_HANDER in body
    assert "30 dagar" not in body


def test_other_blanketter_keep_the_organisations_masthead(catalogue, ctx):
    blankett = catalogue.blanketter["sekretessmedgivande"]
    assert blankett.masthead == "organisation"
    assert display.masthead(blankett, ORGANISATION) == ORGANISATION
    assert display.masthead(catalogue.blanketter[FK], ORGANISATION) == "Försäkringskassan"
    assert display.header_title(catalogue.blanketter[FK], ORGANISATION) == catalogue.blanketter[FK].title


# ------------------------------------------------------------------------ the SIP-kallelse


def test_each_sip_copy_names_its_recipient_in_pdf_and_docx(sip):
    assert len(sip.parts) == len(INVITED)
    for part, invited in zip(sip.parts, INVITED):
        till = f"Till: {invited['verksamhet']}, {invited['namn']}, {invited['kontakt']}"
        first_page = pdf_pages(part.pdf)[0]
        assert till in first_page
        others = [i["namn"] for i in INVITED if i is not invited]
        assert not any(f"Till: {o}" in first_page for o in others)
        document = docx.Document(io.BytesIO(part.docx))
        top = [p.text for p in document.paragraphs if p.text.strip()][:3]
        assert till in top                        # at the top, under the title
    packet = " ".join(pdf_pages(sip.print_pdf.content))
    assert all(f"Till: {i['verksamhet']}" in packet for i in INVITED)


def test_sip_copies_carry_nothing_meant_for_the_caseworker(sip):
    texts = [" ".join(pdf_pages(sip.print_pdf.content))]
    for part in sip.parts:
        texts.append(" ".join(pdf_pages(part.pdf)))
        texts.append(" ".join(docx_text(part.docx)))
    for text in texts:
        for caseworker_text in CASEWORKER_ONLY:
            assert caseworker_text not in text


def test_blank_and_common_sip_kallelse_carry_nothing_meant_for_the_caseworker(catalogue, ctx):
    """A blank kallelse (help texts of empty fields used to print) and one common kallelse."""
    blankett = catalogue.blanketter[SIP]
    common = documents.validate(catalogue, SIP, sample_values(blankett) | {"sip_gemensam_kallelse": True})
    for values in ({}, common):
        printed = documents.produce_print_and_archive(catalogue, SIP, values, ctx)
        assert len(printed.parts) == 1
        text = " ".join(pdf_pages(printed.print_pdf.content)) + " ".join(docx_text(printed.parts[0].docx))
        assert "Till:" not in text
        for caseworker_text in CASEWORKER_ONLY:
            assert caseworker_text not in text


def test_wizard_still_asks_the_caseworker(catalogue):
    blankett = catalogue.blanketter[SIP]
    common = blankett.field("sip_gemensam_kallelse")
    assert not common.printed and common.help        # asked (with its help) in the wizard only
    assert blankett.field("sip_lank").printed and not blankett.field("sip_lank").print_help


def test_no_caseworker_boxes_on_the_sip_print(catalogue, ctx):
    """The lagrum is said in the letter, not again in a box of its own; the link to a digital meeting
    has a box only when there is a link (print: in_text, print: if_filled), in PDF and DOCX alike."""
    blankett = catalogue.blanketter[SIP]
    assert blankett.field("sip_lagrum").print_rule == "in_text"
    assert blankett.field("sip_lank").print_rule == "if_filled"
    base = sample_values(blankett) | {"sip_gemensam_kallelse": True, "sip_lagrum": "16 kap. 4 § HSL"}
    for lank in ("", "https://mote.example.se/abc"):
        values = documents.validate(catalogue, SIP, dict(base, sip_lank=lank))
        printed = documents.produce_print_and_archive(catalogue, SIP, values, ctx)
        pdf = " ".join(pdf_pages(printed.print_pdf.content))
        _header, word = docx_text(printed.parts[0].docx)
        for text in (pdf, word):
            assert "enligt 16 kap. 4 § HSL." in text      # in the letter
            assert "Lagrum" not in text                     # and in no box
            assert ("Länk till digitalt möte" in text) == bool(lank)
            assert (lank in text) if lank else True
    layout = display.layout_lines(blankett.sections[3], {"sip_lank": ""})
    assert [f.name for line in layout for f, _ in line.items] == [
        "sip_datum", "sip_starttid", "sip_sluttid", "sip_plats", "sip_adress"]


# ---------------------------------------------------------------------- the definition keys


@pytest.fixture
def forms_copy(tmp_path):
    target = tmp_path / "forms"
    target.mkdir()
    for path in paths.FORMS_DIR.glob("*.yaml"):
        if not path.name.startswith(("processkarta", "_")):
            shutil.copy(path, target / path.name)
    shutil.copy(paths.FORMS_DIR / "_lagrum.yaml", target)  # the shared citations some blanketter refer to
    return target


def errors_after(forms_dir, name: str, old: str, new: str) -> str:
    path = forms_dir / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definitions(forms_dir)
    return "\n".join(info.value.errors)


def test_masthead_must_be_known(forms_copy):
    errors = errors_after(forms_copy, FK, "\nmasthead: issuer", "\nmasthead: utfardare")
    assert "masthead 'utfardare' ska vara 'organisation' eller 'issuer'" in errors


def test_a_field_that_is_never_printed_cannot_be_placed_on_paper(forms_copy):
    old = "      - {name: har_kontakt_af, label: Arbetsförmedlingen, type: checkbox}"
    errors = errors_after(forms_copy, FK, old, old[:-1] + ", print: false}")
    assert "fält 'har_kontakt_af': ett fält med print: false får inte stå i en tabell" in errors


def test_print_is_not_for_a_column(forms_copy):
    old = "          - name: kontakt\n            label: Kontaktuppgifter\n            type: text\n"
    errors = errors_after(forms_copy, SIP, old, old + "            print: false\n")
    assert "print och print_help gäller hela fältet av typen rows" in errors


AF_ROW = "      - {name: har_kontakt_af, label: Arbetsförmedlingen, type: checkbox}"
ROWS = "        min_rows: 4\n        max_rows: 20\n"


@pytest.mark.parametrize("name, old, new, message", [
    (SIP, "        print: false", "        print: nej",
     "print ska vara true, false, if_filled (bara när fältet är ifyllt) eller in_text"),
    (SIP, ROWS, ROWS + "        print: if_filled\n", "print: if_filled gäller inte typen rows"),
    (SIP, "enligt {sip_lagrum}.", "enligt lag.", "fält 'sip_lagrum': print: in_text skrivs bara där en platshållare"),
    (FK, AF_ROW, AF_ROW[:-1] + ", print: if_filled}",
     "fält 'har_kontakt_af': print: if_filled gäller ett fält med en egen ruta"),
])
def test_print_rules_are_checked(forms_copy, name, old, new, message):
    assert message in errors_after(forms_copy, name, old, new)
