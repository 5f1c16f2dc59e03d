"""PDF output: a blankett definition + values -> print HTML -> WeasyPrint -> PDF.

With its helpers (markup.py: parsing; parallel.py: languages; finishing.py) the only module that
uses WeasyPrint. The HTML comes from
``templates/documents/`` (one generic template driven by the definition), the
print CSS and the fonts from ``formservice/static/``; WeasyPrint may read nothing
else: every URL goes through :class:`RestrictedURLFetcher`.

The parsed CSS, the font configuration and the Jinja environment are built
once per process (lazily, under a lock) and reused by every render.
"""
from __future__ import annotations

import base64
import copy
import io
import logging
import mimetypes
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import pikepdf

from formservice.rendering import libraries  # noqa: F401, I001 — before WeasyPrint: see there
from weasyprint import CSS
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from formservice import paths, tid
from formservice.rendering import display, finishing, markup, parallel, pool, render_process

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"
ARCHIVE_VARIANT = "pdf/a-2a"  # PDF/A-2 with the structure tree and Unicode text kept (level A)
PRINT_CSS = "print/print.css"
FORMS_CSS = "print/fillable.css"
REPORT_CSS = "print/report.css"  # reports that are not blanketter (the registerutdrag)


@dataclass(frozen=True)
class DocumentContext:
    """What a document knows besides the blankett and its values.

    ``config`` overrides the organisation-configurable texts
    (definitions.CONFIG_DEFAULTS), e.g. the address in "Skickas till".
    """

    organisation: str
    document_number: str | None = None
    created: date = field(default_factory=tid.today)  # a Swedish date
    config: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The organisation's logo (a PNG its admin uploaded, re-encoded by accounts/logo.py), printed
    # beside its name at the top of each page of its own blanketter.
    logo: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def logo_url(self) -> str | None:
        return LOGO_PREFIX + base64.b64encode(self.logo).decode("ascii") if self.logo else None

    def logo_width(self, height_mm: float) -> float:
        """The logo's width in mm at this height (from the PNG's IHDR: width, height in pixels)."""
        width, height = int.from_bytes(self.logo[16:20], "big"), int.from_bytes(self.logo[20:24], "big")
        return round(height_mm * width / max(height, 1), 2)


# The one data: URL the print fetcher accepts: the organisation's logo as PNG, at most this size.
LOGO_PREFIX = "data:image/png;base64,"
LOGO_MAX_BYTES = 512 * 1024


class Rendered(NamedTuple):
    html: str
    pdf: bytes


# --------------------------------------------------------------------------- fetcher


class RestrictedURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that reads only regular files under ``root``
    (``formservice/static`` by default). Everything else — other files,
    ``..``/symlink escapes, http(s), data:, ftp … — is refused with
    :class:`URLFetchingError`, which makes WeasyPrint skip the resource.

    Static files are immutable while the service runs; their bytes are cached
    (keyed by path, size and mtime) so a render does no file reads.
    """

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
        self.root = Path(root or paths.STATIC_DIR).resolve()
        self._cache: dict[tuple[str, int, int], bytes] = {}

    def _refuse(self, reason: str, scheme: str) -> URLFetchingError:
        # Never log the URL itself: it is not ours to trust and could carry data.
        log.warning("Print renderer refused a %s resource (%s)", scheme or "relative", reason)
        return URLFetchingError(f"resource refused: {reason}")

    def resolve(self, url: str) -> Path:
        """The file under ``root`` that ``url`` names; raises URLFetchingError."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme != "file":
            raise self._refuse("scheme not allowed", scheme)
        if parts.netloc not in ("", "localhost"):
            raise self._refuse("remote file host", scheme)
        try:
            path = Path(url2pathname(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise self._refuse("no such file", scheme) from None
        if not path.is_relative_to(self.root) or not path.is_file():
            raise self._refuse("outside the static folder", scheme)
        return path

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith(LOGO_PREFIX):
            return self._logo(url)
        path = self.resolve(url)
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        body = self._cache.get(key)
        if body is None:
            body = path.read_bytes()
            self._cache[key] = body
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": content_type})


    def _logo(self, url: str) -> URLFetcherResponse:
        """The organisation's logo, inline: a PNG (checked by its signature) of bounded size. Only our
        templates write a data: URL (values are escaped text, never a URL)."""
        try:
            body = base64.b64decode(url[len(LOGO_PREFIX):], validate=True)
        except ValueError:
            raise self._refuse("not base64", "data") from None
        if len(body) > LOGO_MAX_BYTES or not body.startswith(b"\x89PNG\r\n\x1a\n"):
            raise self._refuse("not a logo", "data")
        return URLFetcherResponse("data:image/png", body, {"Content-Type": "image/png"})


# ----------------------------------------------------------------- shared machinery


class _Engine:
    """Per-process objects shared by all renders, built on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready = False

    def build(self) -> None:
        with self.lock:
            if self.ready:
                return
            static = Path(paths.STATIC_DIR).resolve()
            self.fetcher = RestrictedURLFetcher(static)
            self.base_url = static.as_uri() + "/"
            self.font_config = FontConfiguration()
            self.css = CSS(
                filename=str(static / PRINT_CSS),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
            self.report_css = CSS(
                filename=str(static / REPORT_CSS),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
            self.forms_css = CSS(
                filename=str(static / FORMS_CSS),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
            self.jinja = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(Path(paths.TEMPLATES_DIR) / "documents")),
                bytecode_cache=_bytecode_cache,
                autoescape=True,
                auto_reload=False,
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
            )
            self.jinja.globals.update(display.TEMPLATE_GLOBALS)
            self.jinja.filters["paragraphs"] = display.paragraphs
            self.jinja.filters["attribute"] = display.attribute_text
            self.jinja.globals["sprak_del"] = parallel.view  # a translated part's lang and notes
            self.template = self.jinja.get_template("document.html")
            self.ready = True


_engine = _Engine()
_bytecode_cache: jinja2.BytecodeCache | None = None


def use_bytecode_cache(cache: jinja2.BytecodeCache | None) -> None:
    """Compiled document templates from (and into) `cache`: the app's, kept across restarts."""
    global _bytecode_cache
    _bytecode_cache = cache
    if _engine.ready:
        _engine.jinja.bytecode_cache = cache


def _ensure_engine() -> _Engine:
    if not _engine.ready:
        parallel.tag_languages()  # /Lang per structure element
        _engine.build()
    return _engine


_inherited: list = []  # engines a forked process replaced: kept, never collected (reset_engine)


def reset_engine(*, after_fork: bool = False) -> None:
    """Forget the cached CSS/fonts/templates (tests, or after editing templates). After a fork the
    replaced engine is kept for the life of the process: WeasyPrint's FontConfiguration deletes its
    temporary font folder when it is collected, and that folder is the parent's – a render process
    dropping its copy took the fonts the parent had not loaded yet (the Arabic one) from the parent
    and its web workers, which then drew Arabic in a fallback font. Render processes end with
    os._exit, so the kept copy never runs its finaliser."""
    global _engine
    if after_fork:
        _inherited.append(_engine)
    _engine = _Engine()


# ------------------------------------------------------------------------ rendering


class Part(NamedTuple):
    """One part of a printed document: a blankett, a bilaga, or one recipient's copy."""

    blankett: Any
    values: Mapping[str, Any]
    recipient: Mapping[str, Any] | None = None
    title: str = ""  # the part's bookmark: the blankett's title, with the recipient for a copy


def copies(blankett: Any, values: Mapping[str, Any]) -> list[Part]:
    """The parts one blankett prints as: one copy per recipient of a blankett with
    ``per_recipient_rows`` (the SIP-kallelse: one per invited party), else one."""
    rows = display.recipients(blankett, values)
    if not rows:
        return [Part(blankett, values, None, blankett.title)]
    return [Part(blankett, values, row, f"{blankett.title} – Till: {display.recipient_text(blankett, row)}")
            for row in rows]


def document_html(parts: list[Part], ctx: DocumentContext, *, fillable: bool = False) -> str:
    """The print HTML of a whole document: every part in one HTML document.

    With ``fillable=True`` the empty fields that the doctor fills in
    (blanketter FILLABLE_ROLES) become form inputs named after the field, for a
    PDF with AcroForm fields."""
    engine = _ensure_engine()
    main = parts[0].blankett
    return engine.template.render(
        parts=parts, ctx=ctx, fillable=fillable, title=main.title,
        description=main.title + (f" – {main.subtitle}" if main.subtitle else ""),
        header_meta_of=display.header_meta, footer_of=display.footer,
    )


def render_html(blankett: Any, values: Mapping[str, Any], ctx: DocumentContext, *,
                fillable: bool = False, recipient: Mapping[str, Any] | None = None) -> str:
    """The print HTML of one blankett (one copy) filled with ``values``."""
    return document_html([Part(blankett, values, recipient, blankett.title)], ctx, fillable=fillable)


def layout(html: str, *, forms: bool = False, report: bool = False):
    """Lay the HTML out once (WeasyPrint's Document): every PDF variant is written from it. A
    report (not a blankett) is laid out with the report CSS instead of the print CSS."""
    engine = _ensure_engine()
    stylesheets = [engine.report_css] if report else [engine.css, engine.forms_css] if forms else [engine.css]
    document = markup.html_document(html, base_url=engine.base_url, url_fetcher=engine.fetcher).render(
        stylesheets=stylesheets, font_config=engine.font_config, pdf_forms=forms)
    document.other_languages = parallel.other_languages(html)
    return document


def write(document, *, variant: str = PDF_VARIANT, forms: bool = False) -> bytes:
    """A laid-out document as PDF: the print copy (PDF/UA-1) or the archive copy (PDF/A)."""
    with parallel.tagging(getattr(document, "other_languages", True)):
        return document.write_pdf(pdf_variant=variant, pdf_forms=forms,
                                  finisher=finishing.fillable if forms else finishing.scope_header_cells)


class Job(NamedTuple):
    """What to write from one layout of `html`, in this order: the whole document as `variant`
    (what the caller waits for), then its archive copy (PDF/A) if asked, then each of its first
    `parts` parts on its own (the pages up to each part's end marker, see document.html)."""

    html: str
    forms: bool = False
    report: bool = False
    variant: str = PDF_VARIANT
    archive: bool = False
    parts: int = 0


# WeasyPrint lays out through Pango, HarfBuzz and GLib, which are not safe in two threads of one
# process at once (measured: "GLib-WARNING **: corrupted double-linked list detected" under bursts in
# the web workers' threads, and segfault reports from threaded servers). Render processes are single-
# threaded; a layout in a web or command process (no render processes, or one that died mid-job)
# takes this lock, so two requests in one process take turns instead of corrupting each other.
_ONE_AT_A_TIME = threading.Lock()


def fresh_lock_after_fork() -> None:
    """In a forked render process: a fork copies the lock as it is, and held by another thread of the
    parent at that moment (a layout in progress) it would never be released in the child, whose
    first job would wait for ever. (Not an os.register_at_fork hook: with one, a process that had
    laid documents out crashed at exit.)"""
    global _ONE_AT_A_TIME
    _ONE_AT_A_TIME = threading.Lock()


def run_job(job: Job) -> Iterator[bytes]:
    """The job's outputs, written lazily from one layout in this process (one layout or write at a
    time in the process: the lock is held for each call, never across a yield)."""
    with _ONE_AT_A_TIME, render_process.collector_paused():  # what the caller waits for
        document = layout(job.html, forms=job.forms, report=job.report)
        first = write(document, variant=job.variant, forms=job.forms)
    yield first
    if job.archive:
        with _ONE_AT_A_TIME:
            archive = write(document, variant=ARCHIVE_VARIANT)
        yield archive
    for pages in _part_pages(document, job.parts):
        with _ONE_AT_A_TIME:
            part = write(_part_document(document, pages))
        yield part


def outputs(job: Job) -> Iterator[bytes]:
    """The job's outputs from the render processes when the server runs them (rendering/pool.py),
    else from this process."""
    return started(job)()


def started(job: Job) -> Callable[[], Iterator[bytes]]:
    """The job handed to a render process now, if the server runs them; the call returns its outputs
    (waiting for the first), or runs the job here if no render process has it."""
    handed = pool.hand_over(job)

    def taken() -> Iterator[bytes]:
        remote = handed.outputs() if handed is not None else None
        return remote if remote is not None else run_job(job)

    taken.cancel = handed.cancel if handed is not None else (lambda: None)
    return taken


def html_to_pdf(html: str, *, forms: bool = False) -> bytes:
    """Render an HTML string with the shared print CSS, fonts and restricted fetcher."""
    return next(outputs(Job(html, forms=forms)))


def render_report(template: str, *, tagged: bool = True, **context: Any) -> bytes:
    """A report that is not a blankett (the registerutdrag) from templates/documents/<template>, as
    a tagged PDF (PDF/UA-1) with the service's fonts and the restricted fetcher; untagged for what
    join_report draws over the pages as an artifact."""
    engine = _ensure_engine()
    html = engine.jinja.get_template(template).render(**context)
    return next(outputs(Job(html, report=True, variant=PDF_VARIANT if tagged else "")))


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def join_report(parts: list[bytes], overlays: list[bytes]) -> bytes:
    """Tagged report PDFs laid out one part at a time (a layout's memory grows with its length)
    as one: the later parts' pages, structure elements and bookmarks appended to the first's, so
    the whole keeps the first's catalog (PDF/UA identification, /Lang, metadata) and one structure
    tree (copying pages alone would drop it, see DESIGN.md); then the overlays' pages, in order,
    drawn over the pages as artifacts (the running head and "Sida x av y", known only now)."""
    whole = pikepdf.open(io.BytesIO(parts[0]))
    # Copied streams are read from their source when the whole is written: the sources stay open.
    sources = [pikepdf.open(io.BytesIO(p)) for p in parts[1:] + overlays]
    tree = whole.Root.StructTreeRoot
    document, nums, title = tree.K[0], tree.ParentTree.Nums, whole.Root.Outlines.First
    offset = max(int(key) for key in list(nums)[::2]) + 1
    for src in sources[:len(parts) - 1]:
        first_page = len(whole.pages)
        whole.pages.extend(src.pages)  # first: the structure copied next then points at these copies
        for page in whole.pages[first_page:]:  # keys into the parent tree: a page's and its links'
            for holder in [page.obj, *page.obj.get("/Annots", [])]:
                for key in ("/StructParents", "/StructParent"):
                    if key in holder:
                        holder[key] = int(holder[key]) + offset
        for kid in src.Root.StructTreeRoot.K[0].K:
            kid = whole.copy_foreign(kid)
            kid.P = document
            document.K.append(kid)
        src_nums = list(src.Root.StructTreeRoot.ParentTree.Nums)
        for key, value in zip(src_nums[::2], src_nums[1::2]):  # a page's elements, or a link's one
            nums.extend([int(key) + offset, whole.copy_foreign(value) if value.is_indirect else
                         pikepdf.Array([whole.copy_foreign(e) for e in value])])
        offset += max(int(key) for key in src_nums[::2]) + 1
        item = whole.copy_foreign(src.Root.Outlines.First) if "/First" in src.Root.Outlines else None
        while item is not None:  # a later part's top bookmarks go under the report's title
            item.Parent = title
            if "/Last" in title:
                title.Last.Next, item.Prev = item, title.Last
            else:
                title.First = item
            title.Last = item
            item = item.get("/Next")
    _recount(whole.Root.Outlines)
    overlay_pages = (page for src in sources[len(parts) - 1:] for page in src.pages)
    for page, overlay in zip(whole.pages, overlay_pages):
        name = page.add_resource(whole.copy_foreign(overlay.as_form_xobject()), pikepdf.Name.XObject)
        # The page's content leaves its coordinates flipped: the overlay is drawn after a q … Q of it.
        page.contents_add(whole.make_stream(b"q\n"), prepend=True)
        page.contents_add(whole.make_stream(b"\nQ /Artifact BMC q " + str(name).encode() + b" Do Q EMC\n"))
    out = io.BytesIO()
    whole.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    for src in sources:
        src.close()
    return out.getvalue()


def _recount(node) -> int:
    """An outline node's /Count: all its descendants, every level open (as WeasyPrint writes it)."""
    count, child = 0, node.get("/First")
    while child is not None:
        count += 1 + _recount(child)
        child = child.get("/Next")
    node.Count = count
    return count


def render_pdf(blankett: Any, values: Mapping[str, Any], ctx: DocumentContext, *,
               fillable: bool = False, recipient: Mapping[str, Any] | None = None) -> Rendered:
    html = render_html(blankett, values, ctx, fillable=fillable, recipient=recipient)
    return Rendered(html, html_to_pdf(html, forms=fillable))


class RenderedDocument:
    """A document laid out once: `pdf` at once, and what was asked for later (`archive()`,
    `part_pdfs()`) from the same layout when it is taken."""

    def __init__(self, html: str, job: Job) -> None:
        self.html, self.job = html, job
        self._started = started(job)  # a render process is at it; nothing waited for yet
        self._outputs: Iterator[bytes] | None = None
        self._taken: list[bytes] = []

    @property
    def pdf(self) -> bytes:
        return self._output(0)

    def cancel(self) -> None:
        if self._outputs is None:
            self._started.cancel()

    def _output(self, index: int) -> bytes:
        if self._outputs is None:
            self._outputs = self._started()
        while len(self._taken) <= index:
            self._taken.append(next(self._outputs))
        return self._taken[index]

    def archive(self) -> bytes:
        if not self.job.archive:
            raise ValueError("the archive copy was not asked for")
        return self._output(1)

    def part_pdfs(self) -> list[bytes]:
        """Each part on its own, its pages numbered within the part."""
        first = 2 if self.job.archive else 1
        return [self._output(first + i) for i in range(self.job.parts)]


def render_document(parts: list[Part], ctx: DocumentContext, *, variant: str = PDF_VARIANT,
                    archive: bool = False, part_pdfs: bool = False) -> RenderedDocument:
    """A document of one or more parts, laid out once: the whole as `variant` (by default the print
    PDF, PDF/UA-1, one bookmark per part); with `archive` and `part_pdfs` also its archive copy and
    each part on its own, written from the same layout when taken."""
    html = document_html(parts, ctx)
    return RenderedDocument(html, Job(html, variant=variant, archive=archive,
                                      parts=len(parts) if part_pdfs else 0))


def _part_document(document, pages: range):
    """The pages of one part as a document of its own, titled as the part (its bookmark: the
    sekretessmedgivande is not announced as the förfrågan it travels with), in the same language."""
    part = document.copy([document.pages[i] for i in pages])
    part.other_languages = getattr(document, "other_languages", True)
    title = next((label for level, label, *_ in part.pages[0].bookmarks if level == 1), None)
    if title:
        part.metadata = copy.copy(document.metadata)
        part.metadata.title = part.metadata.description = title
    return part


def _part_pages(document, count: int) -> list[range]:
    """Which pages belong to which part: part N ends on the page holding its end marker "slut-N"
    (document.html), and the next part starts on the following page."""
    ranges, start = [], 0
    for n in range(1, count + 1):
        end = next(i for i, page in enumerate(document.pages) if f"slut-{n}" in page.anchors)
        ranges.append(range(start, end + 1))
        start = end + 1
    return ranges


def warm_up(*, render: bool = False) -> None:
    """Build the shared CSS, fonts and templates now (e.g. in a gunicorn
    ``post_fork`` hook) instead of in the first request; with ``render``, also lay out and write a
    one-line page, so that the fonts are loaded and shaped before a user waits for them."""
    _ensure_engine()
    if render:
        html_to_pdf('<html lang="sv"><body><p>Åäö 0123 <b>fet</b> <i>kursiv</i></p></body></html>')


__all__ = [
    "ARCHIVE_VARIANT",
    "DocumentContext",
    "Job",
    "Part",
    "Rendered",
    "RenderedDocument",
    "RestrictedURLFetcher",
    "copies",
    "document_html",
    "html_to_pdf",
    "layout",
    "outputs",
    "render_document",
    "render_html",
    "render_pdf",
    "reset_engine",
    "run_job",
    "warm_up",
    "write",
]
