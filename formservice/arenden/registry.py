"""The document registry of an ärende: produce, store (encrypted, exactly as produced), fetch, status."""
from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import datetime
from typing import Any, Callable, Mapping, NamedTuple

from flask import current_app

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from formservice import audit, db, tid
from formservice.accounts.models import Enhet, User
from formservice.accounts.operations import organisation_settings, settings_of
from formservice.blanketter import prefill
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import Blankett
from formservice.db import utcnow
from formservice.rendering import documents, pool
from formservice.rendering.packets import zip_documents
from formservice.rendering.pdf import DocumentContext

from . import seal_jobs, sprakgranskning, statistik
from .models import DOKUMENT_STATUS, Arende, Dokument, DokumentDel, Handelse
from .operations import individ, individ_from_document, keyring, new_public_id, require_open, store_answers

log = logging.getLogger(__name__)

# A copy for a party who answers on the document itself (the doctor's fillable förfrågan). The wing
# that owns that party registers the maker: (blankett, values, ctx, dokument, ärende) -> PDF bytes or
# None when the blankett has no part for it. The registry stays ignorant of what the copy is for.
FillableCopyMaker = Callable[[Blankett, Mapping[str, Any], DocumentContext, Dokument, Arende], "bytes | None"]
_fillable_copy_makers: list[FillableCopyMaker] = []


def register_fillable_copy(maker: FillableCopyMaker) -> None:
    if maker not in _fillable_copy_makers:
        _fillable_copy_makers.append(maker)


def document_context(user: User, document_number: str | None = None) -> DocumentContext:
    """What a produced document knows about who produced it (dated in Swedish time)."""
    return DocumentContext(organisation=user.enhet.organisation.namn, document_number=document_number,
                           created=tid.today(), config=organisation_settings(user),
                           logo=user.enhet.organisation.logo)

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: the number is read off paper


def new_document_number() -> str:
    return "FS-" + "".join(secrets.choice(_ALPHABET) for _ in range(4)) + "-" + \
        "".join(secrets.choice(_ALPHABET) for _ in range(4))


class AlreadyProduced(Exception):
    """This draft version has already become a document (a double click, or two tabs)."""

    def __init__(self, dokument: Dokument):
        self.dokument = dokument
        super().__init__(dokument.document_number)


def by_utkast_ref(arende: Arende, utkast_ref: str) -> Dokument | None:
    if not utkast_ref:
        return None
    return db.session().scalar(select(Dokument).where(Dokument.arende_id == arende.id,
                                                      Dokument.utkast_ref == utkast_ref))


def produce(user: User, arende: Arende, catalogue: Catalogue, blankett_id: str, values: Mapping[str, Any],
            official: Mapping[str, Any] | None = None, *, utkast_ref: str | None = None, draft: Any = None
            ) -> tuple[Dokument, Callable[[], None]]:
    """Render the blankett's print PDF from validated values and file it in the ärende; returns the
    document and `finish`, which writes the rest (each part as PDF and DOCX, the archive copy, the
    fillable copy) from the same layout — the caller runs it after the response (the click waits
    for the print PDF only). A document nobody finished is completed on first use (`ensure_complete`).
    ``utkast_ref`` names the draft version the values come from: it becomes one document only
    (AlreadyProduced otherwise, also when two requests race); ``draft``, the draft itself, is
    deleted in the same transaction (the draft becomes the document)."""
    require_open(arende)
    existing = by_utkast_ref(arende, utkast_ref)
    if existing is not None:
        raise AlreadyProduced(existing)
    number = new_document_number()
    ctx = document_context(user, number)
    # The layout goes to a render process first (when the server runs them); what needs no write is
    # prepared while it lays the document out. The writes come after the print PDF: a transaction
    # that writes holds SQLite's one write lock until it commits – held across the layout, it made
    # every other click wait for it (four clients at once ×3.6 of one, measured).
    pending = documents.start_print(catalogue, blankett_id, values, ctx, official)
    dbs = db.session()
    blankett = catalogue.blanketter[blankett_id]
    kr = keyring()
    try:
        updates = prefill.individ_updates(documents.parts_of(catalogue, blankett_id), values, individ(arende))
        values_enc = kr.encrypt_json(dict(values))
        printed, job = pending.result()
    except BaseException:
        pending.cancel()
        raise
    try:
        # What the document says about the individ is the individ's record from now on.
        individ_from_document(user, arende, updates, f"{blankett.title} ({number})")
        store_answers(arende, values, catalogue.blanketter.values(), document_number=number)
        dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="dokument", from_ruta=arende.ruta,
                         to_ruta=arende.ruta, beslut=f"{blankett.title} ({number})"))
        if draft is not None:
            dbs.delete(draft)  # the draft becomes the document, in the same transaction
        dok = Dokument(public_id=new_public_id(), arende_id=arende.id, blankett_id=blankett_id,
                       blankett_version=blankett.version, document_number=number, created_by=user.id,
                       pdf_enc=kr.encrypt(printed.content), values_enc=values_enc,
                       utkast_ref=utkast_ref or None, klar=False)
        dbs.add(dok)
        dbs.flush()  # a second request for the same draft version stops here (unique utkast_ref)
        statistik.on_document(arende, blankett_id, utcnow())  # counted once: after the flush that can refuse it
        audit.record("document_produced", user=user, object_type="dokument", object_id=dok.public_id,
                     detail=blankett_id, commit=False)
        dbs.commit()
    except (IntegrityError, StaleDataError):
        dbs.rollback()
        existing = by_utkast_ref(arende, utkast_ref)
        if existing is not None:
            raise AlreadyProduced(existing) from None
        raise
    except BaseException:
        dbs.rollback()
        raise
    app, dok_id = current_app._get_current_object(), dok.id
    # Claimed now, before the response: a download of the rest in this process waits for `finish`
    # (which has the layout) instead of laying the document out a second time.
    with _in_flight_lock:
        claimed = _in_flight.setdefault(dok_id, threading.Event())
        _made_here.add(dok_id)

    def finish() -> None:
        with app.app_context():
            try:
                ensure_complete(db.session().get(Dokument, dok_id), job, claimed=claimed)
            except Exception:  # noqa: BLE001 — after the response nobody can be told; first use retries
                log.exception("document %s could not be completed after the response", dok_id)

    return dok, finish


class _FirstLook:
    """What the user does right after a click: the done page, then (usually at once) one of the
    document's files, the print PDF mostly. Its rest starts after both, so that neither shares the
    CPU with it."""

    def __init__(self) -> None:
        self.done_page, self.file = threading.Event(), threading.Event()

    def wait(self) -> None:
        if self.done_page.wait(REST_WAIT_S):  # the done page came: the print PDF is usually next
            self.file.wait(REST_WAIT_S)


def done_page_shown(dok: Dokument) -> None:
    """The done page of a document this process has just produced is served."""
    look = _first_look.get(dok.id)
    if look is not None:
        look.done_page.set()


def file_asked_for(dok: Dokument) -> None:
    """One of its files is asked for – the print PDF served, or a file from the rest, which is then
    waited for: the rest of the document may take the CPU now."""
    look = _first_look.get(dok.id)
    if look is not None:
        look.file.set()


_first_look: dict[int, _FirstLook] = {}  # documents made here whose rest waits for the user's first look
REST_WAIT_S = 0.5


# ---------------------------------------------------------------- completing a document
COMPLETION_WAIT = 30.0  # seconds a request waits for this process's own completion in progress
_in_flight: dict[int, threading.Event] = {}
_in_flight_lock = threading.Lock()
_made_here: set[int] = set()  # documents this process produced: nobody elsewhere is completing them


def ensure_complete(dok: Dokument, job: documents.PrintJob | None = None, *,
                    claimed: threading.Event | None = None) -> None:
    """Make sure the document's DOCX, parts, archive and fillable copies exist: wait for this
    process's completion in progress (`claimed`: the caller is it), or for the process that made it
    moments ago, or complete it now (another process may do the same at the same moment; the first
    to commit wins and the other's work is dropped)."""
    if dok.klar:
        if claimed is not None:
            with _in_flight_lock:
                _in_flight.pop(dok.id, None)
            claimed.set()
        return
    with _in_flight_lock:
        event = _in_flight.get(dok.id)
        mine = event is None or event is claimed
        if event is None:
            event = _in_flight[dok.id] = threading.Event()
    if not mine:
        event.wait(COMPLETION_WAIT)
        db.session().refresh(dok)
        if dok.klar:
            return
    elif job is None and _wait_for_elsewhere(dok):
        with _in_flight_lock:
            _in_flight.pop(dok.id, None)
        event.set()
        return
    try:
        _complete(dok, job)
    except Exception:
        db.session().rollback()
        raise
    finally:
        if mine:
            with _in_flight_lock:
                _in_flight.pop(dok.id, None)
            event.set()


PENDING_ELSEWHERE_S = 30.0  # how long a fresh document may be being completed by the process that made it


def _wait_for_elsewhere(dok: Dokument) -> bool:
    """A document made moments ago is being completed by the process that made it (from the layout
    it already has): wait for that – a page view or a download in another process must not lay it out
    a second time. True when it became complete; False when it is older, or still not complete after
    PENDING_ELSEWHERE_S (that process ended mid-way: then the caller completes it)."""
    if dok.id in _made_here:
        return False
    made = dok.created_at
    deadline = time.monotonic() + PENDING_ELSEWHERE_S - max(0.0, (utcnow() - made).total_seconds())
    while time.monotonic() < deadline:
        time.sleep(0.2)
        db.session().rollback()  # a fresh snapshot: see the other process's commit
        db.session().refresh(dok)
        if dok.klar:
            return True
    return False


def in_background(finish: Callable[[], None], *, after_done_page: Dokument | None = None) -> Callable[[], None]:
    """`finish` in a thread of its own, started when the response has been sent: the server's thread
    goes back to its connection at once, so the browser's next request (the done page, on the same
    keep-alive connection) does not wait for the archive copy, every part and DOCX. With
    `after_done_page`, it also waits until that document's done page has been served and then one
    of its files – usually the print PDF – asked for (or REST_WAIT_S for each): the rest shares this process's GIL with those requests.
    Then it goes after every click's print in progress (pool.yield_to_prints), step by step."""
    look = _first_look.setdefault(after_done_page.id, _FirstLook()) if after_done_page is not None else None

    def work() -> None:
        if look is not None:
            look.wait()
            _first_look.pop(after_done_page.id, None)
        with pool.background():  # what it lays out or writes waits for every click's print render
            pool.yield_to_prints()
            finish()

    def start() -> None:
        threading.Thread(target=work, name="document-rest").start()
    return start


def context_of(dok: Dokument) -> DocumentContext:
    """The context a stored document was produced in: its number, its organisation and the day it
    was made (a document completed later keeps its own date)."""
    dbs = db.session()
    arende = dbs.get(Arende, dok.arende_id)
    organisation = dbs.get(Enhet, arende.enhet_id).organisation
    created = tid.local_date(dok.created_at)
    return DocumentContext(organisation=organisation.namn, document_number=dok.document_number, created=created,
                           config=settings_of(organisation), logo=organisation.logo)


def _complete(dok: Dokument, job: documents.PrintJob | None) -> None:
    """Completed with the texts of the document's organisation (whoever asks: another party too)."""
    arende = db.session().get(Arende, dok.arende_id)
    with sprakgranskning.for_organisation(db.session().get(Enhet, arende.enhet_id).organisation_id):
        _complete_in(dok, job)


def _complete_in(dok: Dokument, job: documents.PrintJob | None) -> None:
    catalogue = current_app.extensions["catalogue"]
    kr = keyring()
    values = kr.decrypt_json(dok.values_enc, {})
    blankett = catalogue.blanketter[dok.blankett_id]
    if job is None:  # nobody kept the layout (another process, or a restart): lay it out again
        printed, job = documents.produce_print(catalogue, dok.blankett_id, values, context_of(dok),
                                               current_app.extensions.get("official_pdfs"))
        if not kr.decrypt(dok.pdf_enc):  # filed without its print (the demo's generated ärenden): that too
            dok.pdf_enc = kr.encrypt(printed.content)
    archive, parts = documents.finish_print(job)
    dbs = db.session()
    arende = dbs.get(Arende, dok.arende_id)
    fillable = None
    for make_copy in _fillable_copy_makers:
        fillable = make_copy(blankett, values, job.ctx, dok, arende) or fillable
    for position, part in enumerate(parts):
        dbs.add(DokumentDel(dokument_id=dok.id, position=position, blankett_id=part.blankett_id,
                            title_enc=kr.encrypt_json(part.title), pdf_enc=kr.encrypt(part.pdf),
                            docx_enc=kr.encrypt(part.docx)))
    dok.docx_enc = kr.encrypt(documents.packet_docx(parts))
    # Stored unsealed; the job worker seals it (seal_jobs): its CPU and the TSA never share a web
    # worker with the next click.
    dok.archive_enc = kr.encrypt(archive) if archive else None
    dok.fillable_enc = kr.encrypt(fillable) if fillable else None
    dok.klar = True
    try:
        dbs.commit()
    except IntegrityError:  # another process completed it first (the parts' unique position)
        dbs.rollback()
        dbs.refresh(dok)
        return
    if archive:
        seal_jobs.seal_later("dokument", dok.id)


def of(arende: Arende) -> list[Dokument]:
    return db.session().scalars(select(Dokument).where(Dokument.arende_id == arende.id)
                                .order_by(Dokument.created_at.desc(), Dokument.id.desc())).all()


def get(arende: Arende, public_id: str) -> Dokument | None:
    return db.session().scalar(select(Dokument).where(Dokument.arende_id == arende.id,
                                                      Dokument.public_id == public_id))


def content(dok: Dokument, fmt: str) -> tuple[str, str, bytes]:
    """(filename, mimetype, bytes) exactly as produced."""
    kr = keyring()
    stem = f"{dok.blankett_id}-{dok.document_number}"
    if fmt == "pdf":  # the print is there from the click on (decrypted once); empty: never laid out yet
        pdf = kr.decrypt(dok.pdf_enc)
        if not pdf:
            ensure_complete(dok)
            pdf = kr.decrypt(dok.pdf_enc)
        file_asked_for(dok)
        return stem + ".pdf", documents.PDF, pdf
    file_asked_for(dok)
    ensure_complete(dok)
    if fmt == "docx" and dok.docx_enc is not None:
        return stem + ".docx", documents.DOCX, kr.decrypt(dok.docx_enc)
    if fmt == "ifyllbar" and dok.fillable_enc is not None:
        return stem + "-ifyllbar.pdf", documents.PDF, kr.decrypt(dok.fillable_enc)
    if fmt == "arkiv" and dok.archive_enc is not None:
        return stem + "-arkiv.pdf", documents.PDF, kr.decrypt(dok.archive_enc)
    if fmt == "zip":
        files = [(stem + ".pdf", kr.decrypt(dok.pdf_enc))]
        for part in parts_of(dok):
            name = f"{stem}-{part.position + 1}-{part.blankett_id}"
            files += [(name + ".pdf", kr.decrypt(part.pdf_enc)), (name + ".docx", kr.decrypt(part.docx_enc))]
        if dok.archive_enc is not None:
            files.append((stem + "-arkiv.pdf", kr.decrypt(dok.archive_enc)))
        return stem + ".zip", documents.ZIP, zip_documents(files)
    raise LookupError(fmt)


def parts_of(dok: Dokument) -> list[DokumentDel]:
    return db.session().scalars(select(DokumentDel).where(DokumentDel.dokument_id == dok.id)
                                .order_by(DokumentDel.position)).all()


def part_titles(dok: Dokument) -> list[tuple[DokumentDel, str]]:
    ensure_complete(dok)
    kr = keyring()
    return [(part, kr.decrypt_json(part.title_enc)) for part in parts_of(dok)]


class Listed(NamedTuple):
    """One document as the overview lists it (registry.listing)."""
    id: int
    public_id: str
    blankett_id: str
    blankett_version: str
    document_number: str
    created_at: datetime
    status: str
    klar: bool
    has_archive: bool
    has_fillable: bool
    creator_namn: str | None


def listing(arende: Arende) -> list[Listed]:
    """The ärende's documents as its overview lists them, newest first: the columns shown and the
    creator's name, from one query. No ORM objects: at a hundred documents, building and tracking
    them (and their creators) cost more than the query; no PDFs or values either. Plain tuples, not
    SQLAlchemy rows: the template reads each field of each row, and a row's attribute costs five
    times a tuple's."""
    return [Listed(*row) for row in db.session().execute(
        select(Dokument.id, Dokument.public_id, Dokument.blankett_id, Dokument.blankett_version,
               Dokument.document_number, Dokument.created_at, Dokument.status, Dokument.klar,
               Dokument.has_archive, Dokument.has_fillable, User.namn)
        .outerjoin(User, User.id == Dokument.created_by)
        .where(Dokument.arende_id == arende.id)
        .order_by(Dokument.created_at.desc(), Dokument.id.desc()))]


def listed_parts(documents) -> dict[int, list[tuple[int, str]]]:
    """The parts a page lists under each of many documents (anything with ``id`` and ``klar``), as
    (position, title), in one query: what exists, without laying anything out (the ärende's
    overview). Only documents of more than one part are listed: a document of one part is that part,
    and its title is not decrypted for nothing. A document whose parts are still being written
    (`klar` false) simply has none yet; a download completes it on demand. Only the three columns
    needed are read."""
    ids = [d.id for d in documents if d.klar]
    if not ids:
        return {}
    found: dict[int, list[tuple[int, bytes]]] = {}
    for dokument_id, position, title_enc in db.session().execute(
            select(DokumentDel.dokument_id, DokumentDel.position, DokumentDel.title_enc)
            .where(DokumentDel.dokument_id.in_(ids)).order_by(DokumentDel.dokument_id, DokumentDel.position)):
        found.setdefault(dokument_id, []).append((position, title_enc))
    kr = keyring()
    return {dokument_id: [(position, kr.decrypt_json(title_enc)) for position, title_enc in parts]
            for dokument_id, parts in found.items() if len(parts) > 1}


def part_content(dok: Dokument, position: int, fmt: str) -> tuple[str, str, bytes]:
    """(filename, mimetype, bytes) of one part, exactly as produced."""
    file_asked_for(dok)
    ensure_complete(dok)
    part = db.session().scalar(select(DokumentDel).where(DokumentDel.dokument_id == dok.id,
                                                         DokumentDel.position == position))
    if part is None or fmt not in ("pdf", "docx") or (fmt == "docx" and part.docx_enc is None):
        raise LookupError(position)
    name = f"{dok.blankett_id}-{dok.document_number}-{position + 1}-{part.blankett_id}.{fmt}"
    blob = part.pdf_enc if fmt == "pdf" else part.docx_enc
    return name, documents.PDF if fmt == "pdf" else documents.DOCX, keyring().decrypt(blob)


class StatusMovesBack(Exception):
    """A status earlier in the document's life (skapad → utskriven → skickad → mottagen →
    besvarad) than the one it has, asked for without confirming that very step back."""

    def __init__(self, dok: Dokument, status: str):
        self.from_status, self.to_status = dok.status, status
        super().__init__(f"{dok.status} -> {status}")


def moves_back(dok: Dokument, status: str) -> bool:
    """Whether ``status`` comes before the document's present status (e.g. mottagen after besvarad)."""
    order = list(DOKUMENT_STATUS)
    return dok.status in order and status in order and order.index(status) < order.index(dok.status)


def set_status(user: User, arende: Arende, dok: Dokument, status: str, *,
               confirmed_from: str | None = None) -> None:
    """Set the document's status. Forwards (or the same) goes through; backwards only when the user
    confirmed going back from exactly the present status (``confirmed_from``), else StatusMovesBack:
    a status set meanwhile by someone else, or by the doctor's answer, asks again."""
    if status not in DOKUMENT_STATUS:
        raise ValueError(status)
    require_open(arende)
    previous = dok.status
    back = moves_back(dok, status)
    if back and confirmed_from != previous:
        raise StatusMovesBack(dok, status)
    dbs = db.session()
    dok.status = status
    dok.status_at = utcnow()
    said = DOKUMENT_STATUS[status] + (f" (tillbaka från {DOKUMENT_STATUS[previous].lower()})" if back else "")
    dbs.add(Handelse(arende_id=arende.id, user_id=user.id, kind="status", from_ruta=arende.ruta,
                     to_ruta=arende.ruta, beslut=f"{dok.document_number}: {said}"))
    audit.record("document_status", user=user, object_type="dokument", object_id=dok.public_id,
                 detail=status, commit=False)
    dbs.commit()
