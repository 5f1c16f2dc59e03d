"""One blueprint per module, each named bp."""
from __future__ import annotations


def register_blueprints(app) -> None:
    from . import admin, api, arenden, auth, blankett, health, main, processkarta, svar

    for module in (auth, health, main, processkarta, arenden, blankett, svar, admin, api):
        app.register_blueprint(module.bp)

    from ..auth import current_user

    @app.context_processor
    def _inject():
        return {"current_user": current_user(), "organisation_name": app.config["ORGANISATION_NAME"]}

    from .errors import register as register_errors

    register_errors(app)
