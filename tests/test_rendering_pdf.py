"""Tests for formservice.rendering.pdf: print HTML, WeasyPrint PDF, the restricted
URL fetcher, fonts, metadata and PDF/UA markers, for every shipped blankett."""
from __future__ import annotations

import io
import logging
import re
import socket
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.rendering import display, packets, pdf
from formservice.rendering.pdf import DocumentContext, RestrictedURLFetcher
from tests.sample_values import TEST_PERSONNUMMER, sample_values

ORGANISATION = "Skärholmens stadsdelsförvaltning"
DOCUMENT_NUMBER = "SKH-2026-0042"


# ------------------------------------------------------------------ helpers


def text_values(blankett):
    """sample_values with text answers that end in "slut", so that no value is
    a prefix of another one (individ_telefon / individ_telefon_kvall)."""
    values = sample_values(blankett)
    for field in blankett.fields:
        if field.type in ("text", "textarea"):
            values[field.name] = f"Värde {field.name.replace('_', ' ')} slut"
        if field.type == "rows":
            values[field.name] = [
                {c.name: f"Rad {i} {c.name} slut" for c in field.columns} for i in (1, 2)]
    return values


def expected_texts(blankett, values):
    """Every value as it must read on paper (checkboxes, choices and scales are
    marks, checked separately)."""
    for field in blankett.fields:
        value = values.get(field.name)
        if field.type == "rows":
            for row in value:
                for column in field.columns:
                    yield f"{field.name}.{column.name}", display.format_value(
                        column, row.get(column.name))
        elif field.type not in ("checkbox", "choice", "scale"):
            yield field.name, display.format_value(field, value)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def definitions():
    return load_definitions(paths.FORMS_DIR)


@pytest.fixture(scope="module")
def ctx():
    return DocumentContext(ORGANISATION, DOCUMENT_NUMBER, date(2026, 11, 23))


@pytest.fixture(scope="module")
def rendered(definitions, ctx):
    """Every blankett rendered once with a full set of values: id -> (values, Rendered)."""
    out = {}
    for bid, blankett in definitions.items():
        values = text_values(blankett)
        out[bid] = (values, pdf.render_pdf(blankett, values, ctx))
    return out


BLANKETT_IDS = ("finsamteam_anmalan", "finsamteam_samtycke", "fk_ansokan_samordning",
                "forandringsplan", "lakarintyg_komplettering", "rehabiliteringsforfragan", "sekretessmedgivande",
                "sip_kallelse")


# ------------------------------------------------------------- every blankett


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_every_value_is_printed(rendered, definitions, bid):
    values, result = rendered[bid]
    text = squash("".join(pdf_text(result.pdf)))
    missing = [name for name, shown in expected_texts(definitions[bid], values)
               if squash(shown) not in text]
    assert not missing, f"{bid}: values not in the PDF text: {missing}"


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_checkboxes_choices_and_scales_are_marked(rendered, definitions, bid):
    values, result = rendered[bid]
    blankett = definitions[bid]
    marks = sum(1 for f in blankett.fields if f.type in ("checkbox", "choice", "scale") and f.printed)
    assert result.html.count('<span class="box">X</span>') == marks
    for field in blankett.fields:      # a wizard-only field (print: false) is on no paper
        assert field.printed or field.label not in result.html
    empty = pdf.render_html(blankett, {}, DocumentContext(ORGANISATION))
    assert '<span class="box">X</span>' not in empty


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_page_header_and_footer_on_every_page(rendered, definitions, bid):
    _, result = rendered[bid]
    pages = pdf_text(result.pdf)
    total = len(pages)
    # The förfrågan: the doctor's part is four pages of its own (the DFA blocks on two, the activities,
    # then anpassning and signature), after the socialsekreterare's page and before the explanations.
    assert 1 <= total <= (6 if bid == "rehabiliteringsforfragan" else 4)
    issuer_form = definitions[bid].masthead == "issuer"   # another authority's own form
    for number, text in enumerate(pages, 1):
        assert f"Sida {number} ({total})" in text
        if issuer_form:
            assert definitions[bid].issuer in text and ORGANISATION not in text
        else:
            assert ORGANISATION in text
        assert DOCUMENT_NUMBER in text
        assert definitions[bid].title in text.replace("\n", " ")
        assert "19121212-1212" in text          # the individ, so loose pages can be matched


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_metadata_has_title_and_organisation_but_no_personal_data(rendered, definitions, bid):
    values, result = rendered[bid]
    with pikepdf.open(io.BytesIO(result.pdf)) as doc:
        info = {str(k): str(v) for k, v in doc.docinfo.items()}
        xmp = doc.Root.Metadata.read_bytes().decode()
    assert info["/Title"] == definitions[bid].title
    assert info["/Author"] == ORGANISATION
    assert f"<rdf:li>{ORGANISATION}</rdf:li>" in xmp
    secrets = [TEST_PERSONNUMMER, "19121212-1212", "121212-1212", values["individ_namn"]]
    for secret in secrets:
        assert secret not in " ".join(info.values())
        assert secret not in xmp


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_tagged_pdf_ua(rendered, bid):
    _, result = rendered[bid]
    assert result.pdf.startswith(b"%PDF-1.7")
    with pikepdf.open(io.BytesIO(result.pdf)) as doc:
        assert doc.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in doc.Root
        assert str(doc.Root.Lang) == "sv"
        assert 'pdfuaid:part="1"' in doc.Root.Metadata.read_bytes().decode()
    assert '<html lang="sv">' in result.html
    assert "<title>" in result.html


@pytest.mark.parametrize("bid", BLANKETT_IDS)
def test_only_packaged_fonts_are_embedded(rendered, bid):
    _, result = rendered[bid]
    with pikepdf.open(io.BytesIO(result.pdf)) as doc:
        fonts = {}
        for page in doc.pages:
            for font in page.Resources.get("/Font", {}).values():
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                fonts[str(font.BaseFont)] = "/FontFile2" in descendant.FontDescriptor
    assert fonts
    for base_name, embedded in fonts.items():
        # subset prefix + the family of our @font-face rules: a system font
        # would carry its own name (DejaVuSans, LiberationSans …)
        assert re.fullmatch(r"/[A-Z]{6}\+Formservice-Sans(-Bold|-Italic|-BoldItalic)?", base_name)
        assert embedded, base_name


def test_print_css_names_no_other_font():
    css = (paths.STATIC_DIR / "print" / "print.css").read_text()
    families = set(re.findall(r"font-family:\s*([^;]+);", css))
    assert families == {'"Formservice Sans"'}
    for url in re.findall(r'url\("([^"]+)"\)', css):
        assert (paths.STATIC_DIR / "print" / url).resolve().is_file()
    assert "display: flex" not in css and "display: grid" not in css
    assert (paths.STATIC_DIR / "fonts" / "OFL.txt").is_file()
    # The translated parts' sheet (issue 30) adds the embedded Arabic font and nothing from the system.
    sprak = (paths.STATIC_DIR / "print" / "sprak.css").read_text()
    assert {f.replace(" !important", "") for f in re.findall(r"font-family:\s*([^;]+);", sprak)} <= {
        '"Formservice Arabic"', '"Formservice Sans", "Formservice Arabic"'}
    for url in re.findall(r'url\("([^"]+)"\)', sprak):
        assert (paths.STATIC_DIR / "print" / url).resolve().is_file()


# ------------------------------------------------------------- layout rules


def test_forandringsplan_is_two_pages_with_short_values(rendered):
    _, result = rendered["forandringsplan"]
    assert page_count(result.pdf) == 2
    first, second = pdf_text(result.pdf)
    assert "Sida 1 (2)" in first and "Sida 2 (2)" in second
    assert "Bedömning" in second and "Bedömning" not in first   # page_break_before


def test_personnummer_is_printed_formatted(rendered):
    values, result = rendered["forandringsplan"]
    text = "".join(pdf_text(result.pdf))
    assert "19121212-1212" in text
    assert TEST_PERSONNUMMER not in text


def test_long_text_flows_onto_the_next_pages(definitions, ctx):
    blankett = definitions["forandringsplan"]
    words = [f"ord{i:04d}" for i in range(625)]
    long_text = " ".join(words) + "."
    assert len(long_text) == 5000
    values = text_values(blankett) | {"aktuell_situation": long_text}
    result = pdf.render_pdf(blankett, values, ctx)
    assert page_count(result.pdf) > 2
    text = squash("".join(pdf_text(result.pdf)))
    # every word, once and in order (page headers and footers come in between)
    assert re.findall(r"ord\d{4}", text) == words
    # nothing else got lost or overlapped away
    assert all(squash(shown) in text for name, shown in expected_texts(blankett, values)
               if name != "aktuell_situation")


def test_values_are_html_escaped(definitions, ctx):
    blankett = definitions["forandringsplan"]
    hostile = '<b>fet</b> & <img src="file:///etc/passwd"> </div><script>x()</script>'
    values = {"individ_namn": hostile, "aktuell_situation": hostile}
    result = pdf.render_pdf(blankett, values, ctx)
    assert "<b>fet</b>" not in result.html and "<script>" not in result.html
    assert "&lt;b&gt;fet&lt;/b&gt; &amp; &lt;img" in result.html
    assert squash(hostile) in squash("".join(pdf_text(result.pdf)))


def test_rows_print_at_least_min_rows(definitions, ctx):
    blankett = definitions["forandringsplan"]
    html = pdf.render_html(blankett, {"steg": [{"vad": "Ett steg", "nar": "Maj"}]}, ctx)
    steg = blankett.field("steg")
    body = html.split("Vad börjar du med?")[1].split("</tbody>")[0]
    assert body.count("<tr>") == steg.min_rows


def test_grid_section_is_a_table_of_activities(rendered, definitions):
    _, result = rendered["rehabiliteringsforfragan"]
    section = next(s for s in definitions["rehabiliteringsforfragan"].sections
                   if s.layout == "grid")
    grid = result.html.split('<table class="grid')[1].split("</table>")[0]
    assert grid.count("<tr>") == 1 + len(section.grid_rows)
    for heading in section.grid_columns:
        assert heading in grid
    assert "50 %" in grid


def test_empty_fields_leave_room_to_write(definitions, ctx):
    blankett = definitions["forandringsplan"]
    html = pdf.render_html(blankett, {}, ctx)
    lines = sum(f.lines for f in blankett.fields if f.type == "textarea")
    assert html.count('<div class="hw"></div>') == lines
    assert 'class="block textarea empty"' in html


def test_signature_blocks(rendered, definitions):
    values, result = rendered["forandringsplan"]
    html = result.html
    assert html.count('<div class="td sign"></div>') == 2
    text = "".join(pdf_text(result.pdf))
    for caption in ("Namnteckning", "Namnförtydligande", "Befattning"):
        assert caption in text
    assert squash(values["handlaggare_titel"]) in squash(text)


def test_intro_placeholders_are_filled(rendered, definitions, ctx):
    values, result = rendered["rehabiliteringsforfragan"]
    assert values["handlaggare_telefon"] in pdf_text(result.pdf)[0]
    empty = pdf.render_html(definitions["rehabiliteringsforfragan"], {}, ctx)
    assert "………………" in empty


def test_send_to_comes_from_configuration(definitions):
    blankett = definitions["fk_ansokan_samordning"]
    html = pdf.render_html(blankett, {}, DocumentContext(ORGANISATION))
    assert "839 88 Östersund" in html
    other = DocumentContext(ORGANISATION, config={"fk_inlasningscentral_adress": "Box 1\n111 11 Ort"})
    assert "111 11 Ort" in pdf.render_html(blankett, {}, other)


def test_copy_for_one_recipient(definitions, ctx):
    blankett = definitions["sip_kallelse"]
    values = dict(text_values(blankett), sip_gemensam_kallelse=False)
    recipients = display.recipients(blankett, values)
    assert len(recipients) == 2
    result = pdf.render_pdf(blankett, values, ctx, recipient=recipients[1])
    first_page = squash(pdf_text(result.pdf)[0])
    assert squash("Till") in first_page
    assert squash("Rad 2 verksamhet slut") in first_page


def test_one_copy_per_recipient_in_one_tagged_document(definitions, ctx):
    blankett = definitions["sip_kallelse"]
    parts = pdf.copies(blankett, dict(text_values(blankett), sip_gemensam_kallelse=False))
    assert [part.title for part in parts] == [
        f"{blankett.title} – Till: Rad {i} verksamhet slut, Rad {i} namn slut, Rad {i} kontakt slut"
        for i in (1, 2)]
    rendered = pdf.render_document(parts, ctx)
    with pikepdf.open(io.BytesIO(rendered.pdf)) as doc:
        assert [str(item.title) for item in doc.open_outline().root] == [p.title for p in parts]
        assert "/StructTreeRoot" in doc.Root and str(doc.Root.Lang) == "sv"
    single = pdf.render_document(pdf.copies(blankett, {}), ctx)
    assert page_count(rendered.pdf) == 2 * page_count(single.pdf)
    assert [p.title for p in pdf.copies(blankett, {})] == [blankett.title]
    common = pdf.copies(blankett, text_values(blankett))  # sip_gemensam_kallelse ticked
    assert [p.title for p in common] == [blankett.title]


def test_shared_css_and_fonts_are_built_once(definitions, ctx):
    pdf.render_html(definitions["sekretessmedgivande"], {}, ctx)
    engine = pdf._engine
    css, fonts = engine.css, engine.font_config
    pdf.render_pdf(definitions["sekretessmedgivande"], {}, ctx)
    assert pdf._engine.css is css and pdf._engine.font_config is fonts


# ---------------------------------------------------------------- fillable


@pytest.fixture(scope="module")
def fillable(definitions, ctx):
    blankett = definitions["rehabiliteringsforfragan"]
    values = {k: v for k, v in text_values(blankett).items()
              if blankett.field(k).filled_by != "lakare"}
    return blankett, values, pdf.render_pdf(blankett, values, ctx, fillable=True)


def test_fillable_pdf_has_the_doctors_fields(fillable):
    blankett, values, result = fillable
    fields = packets.read_form_fields(result.pdf)
    # A choice is one checkbox per option, "prognos__PROGNOS_OKLAR" (doctor.readback.choice_box).
    doctors = {name for f in blankett.fields if f.filled_by == "lakare"
               for name in ([f"{f.name}__{c.value}" for c in f.choices] if f.type == "choice" else [f.name])}
    assert set(fields) == doctors
    assert fields["prognos__ATER_X_ANTAL_DGR"] is False and fields["atgard_ej_aktuellt"] is False
    assert fields["aktivitet_jobbtorg_kan_delta"] is False
    assert fields["lakare_anpassning"] == ""
    assert len(result.pdf) < 150_000        # the field font is a small subset


def test_fillable_pdf_embeds_the_field_font_and_keeps_values_printed(fillable):
    blankett, values, result = fillable
    with pikepdf.open(io.BytesIO(result.pdf)) as doc:
        names = {str(f.BaseFont) for p in doc.pages for f in p.Resources.Font.values()}
    assert any(n.endswith("+Formservice-Fields") for n in names)
    assert squash(values["individ_namn"]) in squash("".join(pdf_text(result.pdf)))


# ------------------------------------------------------------------ fetcher


@pytest.fixture
def static_root(tmp_path):
    root = tmp_path / "static"
    (root / "img").mkdir(parents=True)
    (root / "img" / "ok.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "secret.txt").write_text("HEMLIGT")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


def test_fetcher_reads_files_under_static(static_root):
    fetcher = RestrictedURLFetcher(static_root)
    response = fetcher.fetch((static_root / "img" / "ok.svg").as_uri())
    assert response.read().startswith(b"<svg")
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1/x.png",
    "https://example.com/logo.png",
    "data:text/plain,hej",
    "ftp://example.com/x",
    "file://otherhost/etc/passwd",
])
def test_fetcher_refuses_everything_else(static_root, url, caplog):
    fetcher = RestrictedURLFetcher(static_root)
    with caplog.at_level(logging.WARNING, logger="formservice.rendering.pdf"):
        with pytest.raises(URLFetchingError):
            fetcher.fetch(url)
    assert caplog.records and all(url not in r.getMessage() for r in caplog.records)
    assert all("passwd" not in r.getMessage() for r in caplog.records)


def test_fetcher_refuses_escapes_from_static(static_root):
    fetcher = RestrictedURLFetcher(static_root)
    with pytest.raises(URLFetchingError):
        fetcher.fetch((static_root / "link.txt").as_uri())           # symlink out
    with pytest.raises(URLFetchingError):
        fetcher.fetch(static_root.as_uri() + "/img/../../secret.txt")  # ..
    with pytest.raises(URLFetchingError):
        fetcher.fetch(static_root.as_uri() + "/img")                  # a directory
    with pytest.raises(URLFetchingError):
        fetcher.fetch(static_root.as_uri() + "/missing.png")


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, a))
    return attempts


def test_render_skips_local_files_and_network(tmp_path, no_network, caplog):
    secret = tmp_path / "hemligt.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
                      '<text x="0" y="20">HEMLIGT-4711</text></svg>')
    html = f"""<html lang="sv"><head><title>t</title>
      <link rel="stylesheet" href="http://127.0.0.1:9/evil.css">
      <style>@import url("file:///etc/passwd"); body {{ background: url("{secret.as_uri()}") }}</style>
      </head><body><p>Innehåll</p>
      <img src="{secret.as_uri()}"><img src="file:///etc/passwd">
      <img src="https://example.com/pixel.png"><img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E">
      </body></html>"""
    with caplog.at_level(logging.WARNING):
        data = pdf.html_to_pdf(html)
    text = "".join(pdf_text(data))
    assert "Innehåll" in text
    assert "HEMLIGT" not in text and b"HEMLIGT" not in data
    assert "root:" not in text
    assert no_network == []


def test_a_value_cannot_reference_a_file(definitions, ctx):
    html = pdf.render_html(definitions["forandringsplan"],
                           {"individ_namn": '<img src="file:///etc/passwd">'}, ctx)
    assert '<img src="file' not in html


def _structure(doc) -> list:
    """Every structure element of a tagged PDF as (type, attributes dict or None)."""
    out, stack = [], [doc.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        if kids is None:
            continue
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                out.append((str(kid.S), kid.get("/A")))
                stack.append(kid)
    return out


def _tables(doc) -> list[int]:
    """For each /Table structure element: how many /TH it holds."""
    def count(node, kind):
        kids = node.get("/K")
        kids = [] if kids is None else (kids if isinstance(kids, pikepdf.Array) else [kids])
        return sum((str(k.S) == kind) + count(k, kind) for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k)
    out, stack = [], [doc.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        for kid in ([] if kids is None else (kids if isinstance(kids, pikepdf.Array) else [kids])):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                if str(kid.S) == "/Table":
                    out.append(count(kid, "/TH"))
                stack.append(kid)
    return out


@pytest.mark.parametrize("blankett_id", ["rehabiliteringsforfragan", "finsamteam_anmalan", "forandringsplan"])
def test_a_packet_is_one_tagged_pdf_ua_document(definitions, ctx, blankett_id):
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents

    catalogue = load_catalogue()
    main = catalogue.blanketter[blankett_id]
    values = {}
    for part in documents.parts_of(catalogue, blankett_id):
        values.update(text_values(part))
    packet = documents.produce_pdf(catalogue, blankett_id, values, ctx).content
    with pikepdf.open(io.BytesIO(packet)) as doc:
        meta = doc.open_metadata()
        assert meta.get("pdfuaid:part") == "1"
        assert str(doc.Root.Lang) == "sv" and doc.Root.ViewerPreferences.DisplayDocTitle
        assert str(doc.docinfo.Title) == main.title
        titles = [str(item.title) for item in doc.open_outline().root]
        assert titles == [p.title for p in documents.parts_of(catalogue, blankett_id)]
        structure = _structure(doc)
        grids = sum(1 for p in documents.parts_of(catalogue, blankett_id) for s in p.sections if s.layout == "grid")
        rows = sum(1 for p in documents.parts_of(catalogue, blankett_id) for f in p.fields if f.type == "rows")
        # Tables in the structure are the data grids and row lists only (a table that runs over a
        # page break is tagged once per page), never layout: every one has header cells.
        tables = _tables(doc)
        assert (len(tables) >= grids + rows) and (bool(tables) == bool(grids + rows))
        assert all(headers for headers in tables)
        scopes = {str(a.get("/Scope")) for kind, a in structure if kind == "/TH"}
        assert scopes <= {"/Column", "/Row"} and (not tables or "/Column" in scopes)
    for page in pdf_text(packet):
        assert re.search(r"Sida \d+ \(\d+\)", page)


@pytest.mark.parametrize("blankett_id", ["rehabiliteringsforfragan", "sip_kallelse"])
def test_each_part_pdf_carries_its_own_title_and_the_sip_bookmarks_name_the_recipient(ctx, blankett_id):
    """A part written on its own is announced by its own title (the sekretessmedgivande is not
    "Rehabiliteringsförfrågan"), in the info dictionary and in the XMP metadata, in Swedish; the
    packet's bookmarks name each SIP copy's recipient."""
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents

    catalogue = load_catalogue()
    invited = [{"verksamhet": "Jobbtorg Skärholmen", "namn": "Anna Andersson"},
               {"verksamhet": "Vårdcentralen Exempel", "namn": "Berit Berg", "kontakt": "08-123 456 78"}]
    raw = sample_values(*documents.parts_of(catalogue, blankett_id)) | {"sip_inbjudna": invited,
                                                                          "sip_gemensam_kallelse": False}
    values = documents.validate(catalogue, blankett_id, raw)
    printed = documents.produce_print_and_archive(catalogue, blankett_id, values, ctx)
    expected = {"rehabiliteringsforfragan": ["Rehabiliteringsförfrågan", "Sekretessmedgivande"],
                "sip_kallelse": [
                    "Kallelse till samordnad individuell plan (SIP) – Till: Jobbtorg Skärholmen, Anna Andersson",
                    "Kallelse till samordnad individuell plan (SIP) – Till: Vårdcentralen Exempel, Berit Berg, "
                    "08-123 456 78"]}[blankett_id]
    assert [part.title for part in printed.parts] == expected
    for part, title in zip(printed.parts, expected):
        reader = PdfReader(io.BytesIO(part.pdf))
        assert reader.metadata.title == title
        assert reader.xmp_metadata.dc_title == {"x-default": title}
        assert reader.trailer["/Root"]["/Lang"] == "sv"
        assert reader.outline[0].title == title
    packet = PdfReader(io.BytesIO(printed.print_pdf.content))
    assert [item.title for item in packet.outline if not isinstance(item, list)] == expected
    assert packet.metadata.title == catalogue.blanketter[blankett_id].title  # the whole: the blankett's
