"""PDF output: a blankett definition + values -> print HTML -> WeasyPrint -> PDF.

This is the only module that imports WeasyPrint. The HTML comes from
``templates/documents/`` (one generic template driven by the definition), the
print CSS and the fonts from ``formservice/static/``; WeasyPrint may read nothing
else: every URL goes through :class:`RestrictedURLFetcher`.

The parsed CSS, the font configuration and the Jinja environment are built
once per process (lazily, under a lock) and reused by every render.
"""
from __future__ import annotations

import logging
import mimetypes
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Mapping, NamedTuple
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from formservice import paths
from formservice.rendering import display

log = logging.getLogger(__name__)

PDF_VARIANT = "pdf/ua-1"
PRINT_CSS = "print/print.css"
FORMS_CSS = "print/fillable.css"


@dataclass(frozen=True)
class DocumentContext:
    """What a document knows besides the blankett and its values.

    ``config`` overrides the organisation-configurable texts
    (definitions.CONFIG_DEFAULTS), e.g. the address in "Skickas till".
    """

    organisation: str
    document_number: str | None = None
    created: date = field(default_factory=date.today)
    config: Mapping[str, str] = field(default_factory=dict, compare=False)


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
        path = self.resolve(url)
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        body = self._cache.get(key)
        if body is None:
            body = path.read_bytes()
            self._cache[key] = body
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": content_type})


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
            self.forms_css = CSS(
                filename=str(static / FORMS_CSS),
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
            self.jinja = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(Path(paths.TEMPLATES_DIR) / "documents")),
                autoescape=True,
                auto_reload=False,
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
            )
            self.jinja.globals.update(display.TEMPLATE_GLOBALS)
            self.jinja.filters["paragraphs"] = display.paragraphs
            self.template = self.jinja.get_template("blankett.html")
            self.ready = True


_engine = _Engine()


def _ensure_engine() -> _Engine:
    if not _engine.ready:
        _engine.build()
    return _engine


def reset_engine() -> None:
    """Forget the cached CSS/fonts/templates (tests, or after editing templates)."""
    global _engine
    _engine = _Engine()


# ------------------------------------------------------------------------ rendering


def render_html(blankett: Any, values: Mapping[str, Any], ctx: DocumentContext, *,
                fillable: bool = False, recipient: Mapping[str, Any] | None = None) -> str:
    """The print HTML of ``blankett`` filled with ``values``.

    With ``fillable=True`` the empty fields that the doctor fills in
    (display.FILLABLE_ROLES) become form inputs named after the field, for a
    PDF with AcroForm fields. ``recipient`` (a row of the blankett's
    ``per_recipient_rows`` field, see display.recipients) addresses this copy.
    """
    engine = _ensure_engine()
    return engine.template.render(
        blankett=blankett,
        values=values,
        ctx=ctx,
        fillable=fillable,
        recipient=recipient,
        header_meta=display.header_meta(blankett, values, ctx.document_number),
    )


def html_to_pdf(html: str, *, forms: bool = False) -> bytes:
    """Render an HTML string with the shared print CSS, fonts and restricted fetcher."""
    engine = _ensure_engine()
    stylesheets = [engine.css, engine.forms_css] if forms else [engine.css]
    document = HTML(string=html, base_url=engine.base_url, url_fetcher=engine.fetcher)
    return document.write_pdf(
        stylesheets=stylesheets,
        font_config=engine.font_config,
        pdf_variant=PDF_VARIANT,
        pdf_forms=forms,
    )


def render_pdf(blankett: Any, values: Mapping[str, Any], ctx: DocumentContext, *,
               fillable: bool = False, recipient: Mapping[str, Any] | None = None) -> Rendered:
    html = render_html(blankett, values, ctx, fillable=fillable, recipient=recipient)
    return Rendered(html, html_to_pdf(html, forms=fillable))


def render_copies(blankett: Any, values: Mapping[str, Any],
                  ctx: DocumentContext) -> list[tuple[str, Rendered]]:
    """One copy per recipient of a blankett with ``per_recipient_rows`` (the
    SIP kallelse: one per invited party), as (bookmark title, Rendered) for
    packets.build_packet; a single untitled copy when there are none."""
    rows = display.recipients(blankett, values)
    if not rows:
        return [(blankett.title, render_pdf(blankett, values, ctx))]
    return [(f"{blankett.title} – {display.recipient_text(blankett, row)}",
             render_pdf(blankett, values, ctx, recipient=row)) for row in rows]


def warm_up() -> None:
    """Build the shared CSS, fonts and templates now (e.g. in a gunicorn
    ``post_fork`` hook) instead of in the first request."""
    _ensure_engine()


__all__ = [
    "DocumentContext",
    "Rendered",
    "RestrictedURLFetcher",
    "html_to_pdf",
    "render_copies",
    "render_html",
    "render_pdf",
    "reset_engine",
    "warm_up",
]
