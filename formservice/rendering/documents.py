"""Producing a blankett's documents: validate the values, render the PDF (with its bilagor as one
packet) and the DOCX, or a ZIP of everything. One path for the API, the CLI, the web and the
benchmark. Pure Python: no flask import."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from formservice import tid
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import Blankett
from formservice.blanketter.validation import validate_values

from . import fonts, packets, parallel, pool
from . import pdf as pdf_rendering
from .pdf import DocumentContext

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP = "application/zip"


class UnknownBlankett(LookupError):
    pass


class InvalidValues(ValueError):
    """The values do not pass validation; `errors` maps field name → Swedish message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(f"{len(self.errors)} fel i fälten")


@dataclass(frozen=True)
class Document:
    filename: str
    mimetype: str
    content: bytes


# Bilagor a document carries in its values rather than in its definition (the doctor's confirmed
# answer as FK's medicinskt underlag, doctor/underlag.py): values key -> parts(catalogue, values).
# Validation keeps only fields, so values from outside (the API) never carry one.
_carried: dict[str, Any] = {}


def register_carried_bilaga(values_key: str, parts) -> None:
    """Called by a higher wing's install(); rendering does not import it."""
    _carried[values_key] = parts


def parts_of(catalogue: Catalogue, blankett_id: str) -> list[Blankett]:
    """The blankett followed by the bilagor that travel with it."""
    try:
        main = catalogue.blanketter[blankett_id]
    except KeyError:
        raise UnknownBlankett(blankett_id) from None
    return [main] + [catalogue.blanketter[a] for a in main.attachments]


def validate(catalogue: Catalogue, blankett_id: str, raw: Mapping[str, Any], *, partial: bool = False
             ) -> dict[str, Any]:
    """Validate the values for the blankett and its bilagor (they share field names); raise InvalidValues.
    A text with a character the document fonts cannot print is an error too (fonts.py)."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for part in parts_of(catalogue, blankett_id):
        part_clean, part_errors = validate_values(part, raw, partial=partial)
        clean.update(part_clean)
        part_errors = {**fonts.unprintable_errors(raw, fonts.field_labels(part.fields)), **part_errors}
        for name, message in part_errors.items():
            errors.setdefault(name, message)
    for name, message in parallel.errors(parts_of(catalogue, blankett_id), clean).items():
        errors.setdefault(name, message)
    if errors:
        raise InvalidValues(errors)
    return clean


def _stem(blankett: Blankett, ctx: DocumentContext) -> str:
    # File names carry the blankett and the date, never a name or personnummer.
    return f"{blankett.id}-{(ctx.created or tid.today()).isoformat()}"


def load_official(instance_path, catalogue: Catalogue) -> dict[str, Any]:
    """The organisation's own fillable PDFs (instance/official_pdf/<id>.pdf + .yaml), checked now."""
    from pathlib import Path

    if not (Path(instance_path) / "official_pdf").is_dir():
        return {}  # none (the usual case): pypdf is not loaded at start-up
    from .official_pdf import find_official_pdf

    found = {}
    for blankett in catalogue.blanketter.values():
        official = find_official_pdf(instance_path, blankett)
        if official is not None:
            found[blankett.id] = official
    return found


def print_parts(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any]) -> list[pdf_rendering.Part]:
    """Every part the blankett prints as, in order: the blankett and its bilagor, one copy per
    recipient where the blankett has recipients (the SIP-kallelse), each part the individ reads
    followed by its translation when the values choose a language (parallel.py), then the bilagor
    the values carry (register_carried_bilaga)."""
    own = [copy for part in parts_of(catalogue, blankett_id) for copy in pdf_rendering.copies(part, values)]
    own = parallel.with_translations(own, values)
    return own + [part for carried in _carried.values() for part in carried(catalogue, values)]


@dataclass(frozen=True)
class PrintedPart:
    title: str
    blankett_id: str
    pdf: bytes
    docx: bytes


@dataclass(frozen=True)
class Printed:
    print_pdf: Document
    archive_pdf: bytes | None  # PDF/A, written from the same layout; None for an official PDF
    parts: list[PrintedPart]    # each part on its own, as PDF and DOCX


@dataclass(frozen=True)
class PrintJob:
    """A document whose print PDF is written: what the rest (archive copy, each part's PDF and
    DOCX) is made from — the parts, the context and the layout (None for an organisation's
    official PDF, which is filled instead of laid out)."""

    parts: list[pdf_rendering.Part]
    ctx: DocumentContext
    rendered: Any
    official_pdfs: list[bytes]  # the filled parts, when there is no layout


def produce_print(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any], ctx: DocumentContext,
                  official: Mapping[str, Any] | None = None) -> tuple[Document, PrintJob]:
    """The print PDF (PDF/UA-1) — the one file the user waits for — laid out once; the job keeps
    the layout, so that finish_print writes the other variants without laying it out again."""
    return start_print(catalogue, blankett_id, values, ctx, official).result()


class PendingPrint:
    """produce_print begun: the layout is with a render process (when the server runs them) while
    the caller does its own work; `result()` waits for the print PDF, `cancel()` gives it up."""

    def __init__(self, name: str, parts: list[pdf_rendering.Part], ctx: DocumentContext, rendered: Any,
                 filled: tuple[bytes, list[bytes]] | None = None) -> None:
        self.name, self.parts, self.ctx, self.rendered, self.filled = name, parts, ctx, rendered, filled

    def result(self) -> tuple[Document, PrintJob]:
        packet, pdfs = self.filled if self.filled is not None else (self.rendered.pdf, [])
        return Document(self.name, PDF, packet), PrintJob(self.parts, self.ctx, self.rendered, pdfs)

    def cancel(self) -> None:
        if self.rendered is not None:
            self.rendered.cancel()


def start_print(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any], ctx: DocumentContext,
                official: Mapping[str, Any] | None = None) -> PendingPrint:
    """produce_print handed over without waiting (an organisation's official PDF is filled at once)."""
    parts = print_parts(catalogue, blankett_id, values)
    name = _stem(catalogue.blanketter[blankett_id], ctx) + ".pdf"
    if official and any(p.blankett.id in official for p in parts):
        packet, pdfs, _none = _print(parts, ctx, official)
        return PendingPrint(name, parts, ctx, None, (packet, pdfs))
    return PendingPrint(name, parts, ctx, pdf_rendering.render_document(
        parts, ctx, archive=True, part_pdfs=len(parts) > 1))


def finish_print(job: PrintJob) -> tuple[bytes | None, list[PrintedPart]]:
    """The archive copy (PDF/A-2a) and every part on its own as PDF and DOCX, the PDFs written from
    the job's layout (an official PDF's parts are filled again)."""
    parts, ctx = job.parts, job.ctx
    if job.rendered is None:
        pdfs, archive = job.official_pdfs, None
    else:
        archive = job.rendered.archive()
        pdfs = [job.rendered.pdf] if len(parts) == 1 else job.rendered.part_pdfs()
    docx = []
    for p in parts:
        pool.yield_to_prints()  # in a document's rest: each DOCX after the clicks' prints in progress
        docx.append(_render_docx(p.blankett, p.values, ctx, recipient=p.recipient))
    return archive, [PrintedPart(p.title, p.blankett.id, pdf, d) for p, pdf, d in zip(parts, pdfs, docx)]


def produce_print_and_archive(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any],
                              ctx: DocumentContext, official: Mapping[str, Any] | None = None) -> Printed:
    """The print PDF (PDF/UA-1), its archive copy (PDF/A-2a) and every part on its own (PDF and
    DOCX), the PDFs all written from one layout."""
    printed, job = produce_print(catalogue, blankett_id, values, ctx, official)
    archive, parts = finish_print(job)
    return Printed(printed, archive, parts)


def produce_pdf(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any], ctx: DocumentContext,
                official: Mapping[str, Any] | None = None) -> Document:
    """The print PDF: every part laid out once as one tagged document (PDF/UA-1, a bookmark per part)."""
    main = catalogue.blanketter[blankett_id]
    packet, _parts, _rendered = _print(print_parts(catalogue, blankett_id, values), ctx, official)
    return Document(_stem(main, ctx) + ".pdf", PDF, packet)


def _print(parts: list[pdf_rendering.Part], ctx: DocumentContext, official: Mapping[str, Any] | None):
    """(packet PDF, each filled part's PDF, the rendered document). A part with an
    organisation's official PDF is filled instead, and the packet then joins the PDFs page by page
    (the official form is not ours to tag, and there is no layout to write variants from)."""
    if official and any(p.blankett.id in official for p in parts):
        pdfs = [official[p.blankett.id].fill(p.values, p.blankett) if p.blankett.id in official
                else pdf_rendering.render_document([p], ctx).pdf for p in parts]
        packet = pdfs[0] if len(pdfs) == 1 else packets.build_packet(
            [(p.title, pdf) for p, pdf in zip(parts, pdfs)], title=parts[0].blankett.title)
        return packet, pdfs, None
    rendered = pdf_rendering.render_document(parts, ctx)
    return rendered.pdf, [], rendered


def _render_docx(part: Blankett, values: Mapping[str, Any], ctx: DocumentContext, *,
                 recipient: Mapping[str, Any] | None = None) -> bytes:
    from . import docx as docx_rendering  # docxtpl/lxml loaded on first use, not at start-up

    return docx_rendering.render_docx(part, values, ctx, recipient=recipient)


def packet_docx(parts: list[PrintedPart]) -> bytes:
    """The whole document as one Word document: its parts' DOCX, as they were written, one after
    the other, each a section of its own (a new page, its own header and footer)."""
    from . import docx as docx_rendering

    return docx_rendering.packet_docx([part.docx for part in parts])


def produce_docx(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any], ctx: DocumentContext,
                 official: Mapping[str, Any] | None = None) -> Document:
    """The whole document as one Word document: the blankett, its bilagor and every recipient's
    copy, as the print PDF has them (each part starting on a new page with its own header)."""
    from . import docx as docx_rendering

    main = catalogue.blanketter[blankett_id]
    parts = [(p.blankett, p.values, p.recipient) for p in print_parts(catalogue, blankett_id, values)]
    return Document(_stem(main, ctx) + ".docx", DOCX, docx_rendering.render_packet_docx(parts, ctx))


def produce_zip(catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any], ctx: DocumentContext,
                official: Mapping[str, Any] | None = None) -> Document:
    """Every document of one request: the PDF packet and a DOCX per part (one per recipient's copy)."""
    main = catalogue.blanketter[blankett_id]
    files = [(d.filename, d.content) for d in (produce_pdf(catalogue, blankett_id, values, ctx, official),)]
    for n, part in enumerate(print_parts(catalogue, blankett_id, values), start=1):
        name = _stem(part.blankett, ctx) + (f"-{n}" if part.recipient is not None else "") + ".docx"
        files.append((name, _render_docx(part.blankett, part.values, ctx, recipient=part.recipient)))
    return Document(_stem(main, ctx) + ".zip", ZIP, packets.zip_documents(files))


PRODUCERS = {"pdf": produce_pdf, "docx": produce_docx, "zip": produce_zip}


def produce(catalogue: Catalogue, blankett_id: str, raw: Mapping[str, Any], ctx: DocumentContext,
            fmt: str = "pdf", official: Mapping[str, Any] | None = None) -> Document:
    """The full path: definition → validation → HTML → PDF (or DOCX/ZIP)."""
    values = validate(catalogue, blankett_id, raw)
    return PRODUCERS[fmt](catalogue, blankett_id, values, ctx, official)
