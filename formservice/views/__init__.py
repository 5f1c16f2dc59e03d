"""One blueprint per module, each named bp."""
from __future__ import annotations


def register_blueprints(app) -> None:
    from . import auth, health, main

    for module in (auth, health, main):
        app.register_blueprint(module.bp)

    from ..auth import current_user

    @app.context_processor
    def _inject():
        return {"current_user": current_user(), "organisation_name": app.config["ORGANISATION_NAME"]}

    from .errors import register as register_errors

    register_errors(app)
