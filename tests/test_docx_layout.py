"""The Word documents as LibreOffice lays them out: every blankett's DOCX (each part, and the whole
packet in one DOCX), filled with realistic values and also left blank, converted to PDF by
LibreOffice headless (soffice, all in one run, with a profile of its own) and read back with pypdf:
at most one page more than the print PDF, and no signature block split across pages (its role, date
and name on one page, with its section's heading).

LibreOffice is a test dependency (scripts/test installs libreoffice-writer-nogui): without it these
tests fail, they are not skipped. The DOCX names Arial, which a desktop has (or LibreOffice's
metric-compatible Liberation Sans); the minimal test machine has neither, so LibreOffice is shown
the print's own Liberation Sans (formservice/static/fonts) through a fontconfig file of its own."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from formservice import paths
from formservice.blanketter.catalogue import load_catalogue
from formservice.rendering import documents
from formservice.rendering.pdf import DocumentContext
from tests.sample_values import realistic_values, sample_values

CTX = DocumentContext("Stockholms stad", "FS-ABCD-EFGH", date(2026, 11, 27))
CATALOGUE = load_catalogue(paths.FORMS_DIR)
MAIN = sorted(CATALOGUE.main_blanketter)
CONVERT_TIMEOUT_S = 300


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pages_of(pdf: bytes) -> list[str]:
    return [squash(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def signature_dates(parts) -> dict[str, str]:
    """A date of its own for every signature's date field, found on exactly the signature's page."""
    names = [sig.date_field for part in parts for s in part.sections for sig in s.signatures]
    return {name: f"2026-12-{n:02d}" for n, name in enumerate(dict.fromkeys(names), 1)}


def fontconfig(tmp: Path) -> Path:
    conf = tmp / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{Path(paths.STATIC_DIR) / "fonts"}</dir>
  <cachedir>{tmp / "fontcache"}</cachedir>
</fontconfig>
""", encoding="utf-8")
    return conf


def convert(files: dict[str, bytes], tmp: Path) -> tuple[dict[str, bytes], float]:
    """Each DOCX converted to PDF by LibreOffice, in one soffice run (a document given twice, e.g. a
    packet of one part, once); and the seconds it took."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("LibreOffice saknas (soffice finns inte på PATH): scripts/test installerar Debians "
                    "libreoffice-writer-nogui.", pytrace=False)
    source, out = tmp / "docx", tmp / "pdf"
    source.mkdir()
    first: dict[bytes, str] = {}
    for name, data in files.items():
        if first.setdefault(data, name) == name:
            (source / f"{name}.docx").write_bytes(data)
    env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig(tmp)), HOME=str(tmp))
    started = time.perf_counter()
    run = subprocess.run([soffice, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
                          "--norestore", "--convert-to", "pdf", "--outdir", str(out),
                          *sorted(str(p) for p in source.glob("*.docx"))],
                         env=env, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S)
    seconds = time.perf_counter() - started
    converted = {name: (out / f"{first[data]}.pdf").read_bytes() for name, data in files.items()
                 if (out / f"{first[data]}.pdf").is_file()}
    assert len(converted) == len(files), f"soffice gav {len(converted)} av {len(files)} PDF:er\n{run.stderr}"
    return converted, seconds


KINDS = {  # the values a document is filled with, and whether its parts are converted one by one too
    "ifylld": (realistic_values, True),                       # free text as people write it
    "kort": (sample_values, False),                           # every field a few words (as issue 22 measured)
    "tom": (lambda *parts: {}, False),                        # blank: lines to write on
}


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    """For each main blankett and each of KINDS: the values, the print PDF and the whole DOCX
    (as "Ta fram" files them: each part on its own too, for "ifylld"; else as the API gives them),
    and the DOCX as LibreOffice lays it out."""
    out, files = {}, {}
    for bid in MAIN:
        parts = documents.parts_of(CATALOGUE, bid)
        for kind, (make, one_by_one) in KINDS.items():
            raw = make(*parts) | (signature_dates(parts) if kind != "tom" else {})
            values = documents.validate(CATALOGUE, bid, raw, partial=kind == "tom")
            key = f"{bid}-{kind}"
            if one_by_one:
                printed = documents.produce_print_and_archive(CATALOGUE, bid, values, CTX)
                entry = {"pdf": printed.print_pdf.content, "parts": printed.parts,
                         "docx": documents.packet_docx(printed.parts)}
            else:
                entry = {"pdf": documents.produce_pdf(CATALOGUE, bid, values, CTX).content, "parts": [],
                         "docx": documents.produce_docx(CATALOGUE, bid, values, CTX).content}
            out[key] = dict(entry, values=values)
            files[f"{key}-hela"] = entry["docx"]
            for n, part in enumerate(entry["parts"]):
                files[f"{key}-{n}"] = part.docx
    converted, seconds = convert(files, tmp_path_factory.mktemp("libreoffice"))
    print(f"\nLibreOffice: {len(set(files.values()))} DOCX till PDF på {seconds:.1f} s")
    for key, entry in out.items():
        entry["lo_whole"] = converted[f"{key}-hela"]
        entry["lo_parts"] = [converted[f"{key}-{n}"] for n in range(len(entry["parts"]))]
    return out


def _unnumbered(page: str) -> str:
    return re.sub(r"Sida \d+ \(\d+\)", "", page)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bid", MAIN)
def test_libreoffice_pages_at_most_one_more_than_the_pdf(produced, bid, kind):
    entry = produced[f"{bid}-{kind}"]
    for part, lo in zip(entry["parts"], entry["lo_parts"]):
        assert page_count(lo) <= page_count(part.pdf) + 1, f"{part.title}: {page_count(lo)} sidor i LibreOffice, " \
                                                          f"{page_count(part.pdf)} i PDF:en"
    whole, pdf = page_count(entry["lo_whole"]), page_count(entry["pdf"])
    assert whole <= pdf + 1, f"hela dokumentet: {whole} sidor i LibreOffice, {pdf} i PDF:en"


def assert_signatures_on_one_page(blankett, values, pages: list[str]) -> None:
    """Each section's signature blocks on one page, whole: its heading, each block's role, date and
    name, and every block's captions under its lines (the captions are printed nowhere else, the
    name may also be printed above the signatures)."""
    for section in (s for s in blankett.sections if s.signatures):
        shown = {i for sig in section.signatures for i, text in enumerate(pages) if values[sig.date_field] in text}
        assert len(shown) == 1, f"{blankett.id} {section.title}: underskrifternas datum på sidorna {sorted(shown)}"
        page = pages[shown.pop()]
        expected = [section.title, *(values[sig.name_field] for sig in section.signatures if sig.name_field),
                    *(sig.role for sig in section.signatures
                      if sig.role not in (section.title, "Namnteckning", "Underskrift"))]
        missing = [text for text in expected if squash(str(text)) not in page]
        assert not missing, f"{blankett.id}: {missing} är inte på samma sida som underskrifternas datum"
        names = sum(1 for sig in section.signatures if sig.name_field)
        assert page.count("Namnteckning") >= len(section.signatures), f"{blankett.id}: namnteckningen delad"
        assert page.count("Namnförtydligande") >= names, f"{blankett.id}: namnförtydligandet på en annan sida"


@pytest.mark.parametrize("kind", ["ifylld", "kort"])
@pytest.mark.parametrize("bid", MAIN)
def test_no_signature_block_is_split_across_pages(produced, bid, kind):
    entry = produced[f"{bid}-{kind}"]
    values = entry["values"]
    whole = pages_of(entry["lo_whole"])
    for part, lo in zip(entry["parts"], entry["lo_parts"]):
        assert_signatures_on_one_page(CATALOGUE.blanketter[part.blankett_id], values, pages_of(lo))
    for blankett in documents.parts_of(CATALOGUE, bid):
        # each part inside the whole document: its pages are those with its own footer
        footer = f"{blankett.title}, version {blankett.version}"
        assert_signatures_on_one_page(blankett, values, [p for p in whole if footer in p])


@pytest.mark.parametrize("bid", MAIN)
def test_the_whole_docx_has_every_part_each_on_its_own_pages(produced, bid):
    entry = produced[f"{bid}-ifylld"]
    document = docx.Document(io.BytesIO(entry["docx"]))
    assert len(document.sections) == len(entry["parts"])
    whole = pages_of(entry["lo_whole"])
    start = 0
    for part, lo in zip(entry["parts"], entry["lo_parts"]):
        own = pages_of(lo)
        blankett = CATALOGUE.blanketter[part.blankett_id]
        # page for page as the part on its own (numbered through the whole document)
        assert [_unnumbered(p) for p in whole[start:start + len(own)]] == [_unnumbered(p) for p in own]
        assert blankett.title in own[0]
        if part.title != blankett.title:  # a recipient's copy
            assert part.title.split(" – ", 1)[1] in own[0]
        start += len(own)
    assert start == len(whole)
