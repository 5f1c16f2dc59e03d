"""formservice: Stockholmsmodellen's process map, caseworker guide and pre-filled blanketter."""
from __future__ import annotations

import gc
import logging
import os
import secrets

from typing import TYPE_CHECKING

from .paths import STATIC_DIR, TEMPLATES_DIR

if TYPE_CHECKING:  # the pure wings (processkarta, blanketter, rendering) must import without flask
    from flask import Flask

__all__ = ["create_app", "KeysMissing"]


def create_app(test_config: dict | None = None) -> "Flask":
    # The app of a server or command lives as long as its process: no garbage collection while it
    # is built (the imports alone made the collector walk the growing heap again and again), and
    # what was built is then kept out of the collector's sight, so the first document does not pay
    # for scanning it either (cold start to the first PDF 1.35 -> 1.18 s). Tests build an app per
    # test and pass a configuration: theirs are collected as usual.
    lives_with_process = test_config is None and gc.isenabled()
    if lives_with_process:
        gc.disable()
    try:
        return _build_app(test_config)
    finally:
        if lives_with_process:
            gc.freeze()
            gc.enable()


def _build_app(test_config: dict | None) -> "Flask":
    from flask import Flask

    from . import config as config_module

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
    _trust_proxies(app)
    if test_config is None:  # a server or a command: no database, no start (one line, not a traceback per worker)
        from .db import DatabaseUnreachable, unreachable  # sqlalchemy: not at import (the pure wings)

        problem = unreachable(app.config["DATABASE_URL"])
        if problem:
            raise DatabaseUnreachable(problem)
    app.extensions["keyring"] = _load_keyring(app)

    from .blanketter.catalogue import CatalogueError, load_catalogue

    try:
        app.extensions["catalogue"] = load_catalogue()
    except CatalogueError as exc:  # the customer's data is broken: refuse to start, say where
        raise RuntimeError("Processkartan eller en blankettdefinition är felaktig:\n" + str(exc)) from None

    from .rendering.documents import load_official

    try:
        app.extensions["official_pdfs"] = load_official(app.instance_path, app.extensions["catalogue"])
    except ValueError as exc:  # OfficialPdfError; its module (pypdf) is loaded only when there are any
        raise RuntimeError("En officiell PDF i instance/official_pdf är felaktig:\n" + str(exc)) from None

    from .rendering.cache import RenderCache

    app.extensions["render_cache"] = RenderCache(app.config["RENDER_CACHE_BYTES"])

    from . import db, security
    from .accounts.sessions import DatabaseSessionInterface

    db.init_app(app)
    app.session_interface = DatabaseSessionInterface()
    security.init_app(app)

    from . import doctor
    from .arenden import sprakgranskning
    from .samverkan import records as samverkan_records
    from .web import register_blueprints

    doctor.install()
    samverkan_records.install()
    sprakgranskning.install()  # an organisation's own texts of the individ's languages (docs/sprak.md)
    register_blueprints(app)
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    from .rendering.pdf import use_bytecode_cache

    use_bytecode_cache(_COMPILED_TEMPLATES)
    # On disk only for a server or command; a test's app keeps its compiled templates in memory.
    _COMPILED_TEMPLATES.directory = _cache_folder(app.instance_path, "jinja") if test_config is None else None
    return app


def _cache_folder(instance_path: str, name: str) -> str | None:
    folder = os.path.join(instance_path, "cache", name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder


def _compiled_templates():
    """Compiled templates shared by every app in the process, and – for a server or command – kept
    in instance/cache/jinja across restarts (keyed by template, checked against the source's
    checksum and the Python version, so an edited template or a new Python compiles anew): a
    second app – the test suite makes one per test – does not compile the ärende page and the
    drawn map again, and a restarted server's workers do not compile anything at all."""
    from jinja2 import BytecodeCache

    class SharedBytecode(BytecodeCache):
        def __init__(self) -> None:
            self.store: dict[str, bytes] = {}
            self.directory: str | None = None

        def load_bytecode(self, bucket) -> None:
            code = self.store.get(bucket.key)
            if code is None and self.directory:
                try:
                    with open(os.path.join(self.directory, bucket.key + ".cache"), "rb") as fh:
                        code = fh.read()
                except OSError:
                    code = None
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket) -> None:
            code = bucket.bytecode_to_string()
            self.store[bucket.key] = code
            if self.directory:
                path = os.path.join(self.directory, bucket.key + ".cache")
                try:  # whole or not at all: another worker may read it at the same moment
                    with open(f"{path}.{os.getpid()}", "wb") as fh:
                        fh.write(code)
                    os.replace(f"{path}.{os.getpid()}", path)
                except OSError:
                    pass  # a read-only instance only compiles at every start

    return SharedBytecode()


_COMPILED_TEMPLATES = _compiled_templates()


def _load_keyring(app: "Flask"):
    import json

    from .crypto import CryptoError, keyring_from_dict

    data = app.config.get("KEYS")
    path = os.path.join(app.instance_path, "keys.json")
    # Named in every message about the keys (arenden/keycheck.py): where to put the right ones back.
    app.extensions["keyring_source"] = "FORMSERVICE_KEYS eller KEYS i instance/config.py" if data is not None else path
    if data is None:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise KeysMissing(path, app.config["DATABASE_URL"]) from None
    try:
        return keyring_from_dict(data)
    except CryptoError as exc:
        raise RuntimeError(str(exc)) from None


class KeysMissing(RuntimeError):
    """instance/keys.json is missing. Advising init-instance is right only for an empty database:
    beside encrypted data, new keys would make it unreadable for good."""

    def __init__(self, key_file: str, database_url: str):
        from pathlib import Path

        from .arenden import keycheck
        from .doctor import models  # noqa: F401 — every wing's encrypted tables are mapped before asking
        from .doctor import dfa_review_models  # noqa: F401
        from .samverkan import models as _samverkan  # noqa: F401

        self.data = keycheck.stored_data(database_url)
        super().__init__(keycheck.keys_missing_line(Path(key_file), database_url, self.data))


def _trust_proxies(app: "Flask") -> None:
    """Behind N reverse proxies, take the client's address and scheme from X-Forwarded-For/-Proto
    (the login limit and the audit log need the real client). Without it the headers are ignored:
    anyone could send them. The Host header is never taken from X-Forwarded-Host."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def _configure_logging(app: "Flask") -> None:
    # Log lines name events and ids, never a personnummer or a form value (see README, Säkerhet),
    # and each is one line: a path or a value with CR/LF cannot forge a line of its own.
    root = logging.getLogger()
    if not root.handlers:
        from .security import OneLineFormatter

        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for noisy in ("alembic", "weasyprint", "weasyprint.progress", "fontTools", "pikepdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
