"""Error pages in Swedish: a user never meets Werkzeug's English defaults, and an error page
itself can never fail (a plain page is the fallback)."""
from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from formservice import db
from formservice.arenden.operations import ArendeClosed
from formservice.rendering.pool import JobOverLimit, RendererBusy

MESSAGES = {
    401: ("Inloggning krävs", "Logga in, eller ange en giltig API-nyckel."),
    400: ("Felaktig begäran", "Sidan kunde inte ta emot det som skickades."),
    403: ("Åtkomst nekad", "Du har inte behörighet till den här sidan."),
    404: ("Sidan finns inte", "Kontrollera adressen, eller gå tillbaka till startsidan."),
    405: ("Metoden är inte tillåten", "Sidan kan inte användas på det här sättet."),
    409: ("Någon annan har ändrat samma sak", "Gå tillbaka, ladda om sidan och försök igen."),
    413: ("Filen är för stor", "Det du skickade är större än vad tjänsten tar emot."),
    429: ("För många försök", "Vänta en stund och försök igen."),
    503: ("Tjänsten är hårt belastad just nu", "Dokumenten kunde inte tas fram i tid eftersom många arbetar "
          "samtidigt. Ingenting har gått förlorat och inget dokument skapades – försök igen om en stund."),
    500: ("Något gick fel", "Ett oväntat fel inträffade. Det du skrev har inte försvunnit; försök igen om en stund."),
}
_PLAIN = ("<!doctype html><html lang=\"sv\"><meta charset=\"utf-8\"><title>{title}</title>"
          "<h1>{title}</h1><p>{text}</p><p><a href=\"/\">Till startsidan</a></p></html>")
log = logging.getLogger(__name__)


def _page(code: int, title: str, text: str, headers=None):
    if request.path.startswith("/api/"):
        return {"error": title}, code, headers or {}
    try:
        return render_template("web/errors/error.html", code=code, title=title, text=text), code, headers or {}
    except Exception:  # noqa: BLE001 — the error page must answer whatever broke the real one
        log.exception("error page for %s could not be rendered", code)
        return _PLAIN.format(title=title, text=text), code, {"Content-Type": "text/html; charset=utf-8",
                                                              **(headers or {})}


def register(app) -> None:
    @app.errorhandler(JobOverLimit)
    def _too_big(exc: JobOverLimit):
        # One document needed more than a render job may take; the render process was replaced and
        # everyone else's documents go on. Not a bug of the user's making: a 503 that says so.
        db.session().rollback()
        log.warning("ett dokument överskred renderjobbets gräns: %s", exc)
        return _page(503, "Dokumentet kunde inte tas fram",
                     "Dokumentet blev för stort eller tog för lång tid att lägga ut och avbröts. Inget "
                     "dokument skapades och ingenting har gått förlorat. Försök igen om en stund; händer "
                     "det igen, kontakta tjänstens administratör.", headers={"Retry-After": str(exc.retry_after)})

    @app.errorhandler(RendererBusy)
    def _busy(exc: RendererBusy):
        # Overload is not a bug: never a 500 for it. Nothing was filed (the print PDF comes before
        # the document row), so trying again is safe.
        db.session().rollback()
        log.warning("renderprocesserna var upptagna: %s", exc)
        return _page(503, *MESSAGES[503], headers={"Retry-After": str(exc.retry_after)})

    @app.errorhandler(StaleDataError)
    def _changed_meanwhile(_exc):
        # Two requests changed the same row at once and this one lost: say so, never a 500.
        db.session().rollback()
        return _page(409, *MESSAGES[409])

    @app.errorhandler(ArendeClosed)
    def _closed(exc: ArendeClosed):
        # A closed ärende is read-only. A page that changes it sends the reader to the overview
        # (where it can be reopened); a form posted from a tab opened before the closing shows
        # what was typed, so that nothing is lost.
        db.session().rollback()
        if request.path.startswith("/api/"):
            return {"error": str(exc)}, 409
        if request.method == "GET":
            flash(str(exc), "warning")
            return redirect(url_for("arenden.show", public_id=exc.arende.public_id))
        typed = [(k, v) for k, v in request.form.items(multi=True)
                 if k not in ("csrf_token", "version", "utkast", "action") and isinstance(v, str) and v.strip()]
        return render_template("web/errors/closed.html", arende=exc.arende, typed=typed), 409

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        title, text = MESSAGES.get(exc.code, (exc.name, exc.description))
        # Keep what an HTTP error says about itself: Allow on 405, Retry-After on 429, ...
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        # An unhandled exception reaches here as InternalServerError (outside tests, which let it
        # propagate); Flask has already logged it.
        return _page(exc.code, title, text, headers)
