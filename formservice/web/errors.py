"""Error pages in Swedish: a user never meets Werkzeug's English defaults."""
from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

MESSAGES = {
    401: ("Inloggning krävs", "Logga in, eller ange en giltig API-nyckel."),
    400: ("Felaktig begäran", "Sidan kunde inte ta emot det som skickades."),
    403: ("Åtkomst nekad", "Du har inte behörighet till den här sidan."),
    404: ("Sidan finns inte", "Kontrollera adressen, eller gå tillbaka till startsidan."),
    405: ("Metoden är inte tillåten", "Sidan kan inte användas på det här sättet."),
    413: ("Filen är för stor", "Det du skickade är större än vad tjänsten tar emot."),
    429: ("För många försök", "Vänta en stund och försök igen."),
    500: ("Något gick fel", "Ett oväntat fel inträffade. Det du skrev har inte försvunnit; försök igen om en stund."),
}


def register(app) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return {"error": MESSAGES.get(exc.code, (exc.name, ""))[0]}, exc.code
        title, text = MESSAGES.get(exc.code, (exc.name, exc.description))
        return render_template("web/errors/error.html", code=exc.code, title=title, text=text), exc.code
