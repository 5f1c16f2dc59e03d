"""formservice: Stockholmsmodellen's process map, caseworker guide and pre-filled blanketter."""
from __future__ import annotations

import logging
import os
import secrets

from flask import Flask

from . import config as config_module
from .paths import STATIC_DIR, TEMPLATES_DIR

__all__ = ["create_app"]


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
        instance_path=os.environ.get("FORMSERVICE_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(config_module.DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    app.config.from_mapping(config_module.from_environment())
    config_module.finalise(app.config, app.instance_path)
    if not app.config.get("SECRET_KEY"):
        if not app.testing and not app.debug:
            raise RuntimeError(
                "Ingen SECRET_KEY: kör 'formservice init-instance' eller sätt FORMSERVICE_SECRET_KEY.")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    _configure_logging(app)

    from . import db, security
    from .sessions import DatabaseSessionInterface

    db.init_app(app)
    app.session_interface = DatabaseSessionInterface()
    security.init_app(app)

    from .views import register_blueprints

    register_blueprints(app)

    from . import cli

    cli.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    # Log lines name events and ids, never a personnummer or a form value (see README, Säkerhet).
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
