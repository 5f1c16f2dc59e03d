"""Where the data folders live: templates/ and forms/ sit beside the package in a
checkout; an installed package finds forms under <prefix>/share/formservice, and
FORMSERVICE_FORMS_DIR / FORMSERVICE_TEMPLATES_DIR override both; translations/ (the blanketter's
texts in other languages, blanketter/sprak.py) likewise, FORMSERVICE_TRANSLATIONS_DIR."""
from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
_CHECKOUT = PACKAGE_DIR.parent


def _resolve(env: str, name: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env]).resolve()
    beside = _CHECKOUT / name
    if beside.is_dir():
        return beside
    return Path(sys.prefix) / "share" / "formservice" / name


FORMS_DIR = _resolve("FORMSERVICE_FORMS_DIR", "forms")
TEMPLATES_DIR = _resolve("FORMSERVICE_TEMPLATES_DIR", "templates")
TRANSLATIONS_DIR = _resolve("FORMSERVICE_TRANSLATIONS_DIR", "translations")
