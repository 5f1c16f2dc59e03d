"""Which process map version an admin took into use, kept in the database (`KartaGodkand`) so that
every worker of every host on one database follows the same approval (web/admin_processkarta.py).

Before, the approval was a file in the instance folder, which a second host never saw. A file left
from then is carried over once, by the first process that finds the table empty; after that only
the database counts."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from formservice import db

from .models import KartaGodkand

OLD_FILE = "processkarta-godkand.txt"  # in the instance folder, before migration 0025

log = logging.getLogger("formservice")


def approved_version() -> str | None:
    """The version an admin approved last, or None when nobody has approved one."""
    return db.session().scalar(select(KartaGodkand.version).order_by(KartaGodkand.id.desc()).limit(1))


def approve(version: str, user=None) -> None:
    """Record that `version` is the map in use from now on. Caller commits (with its audit row)."""
    db.session().add(KartaGodkand(version=version, approved_by=getattr(user, "id", None)))


def carry_over_file(instance_path: str) -> str | None:
    """Store the version in instance/processkarta-godkand.txt when the table has none yet; returns
    it when carried over. Two processes doing this at once store the same version twice: harmless,
    the newest row counts."""
    path = Path(instance_path) / OLD_FILE
    if not path.is_file() or db.session().scalar(select(KartaGodkand.id).limit(1)) is not None:
        return None
    version = path.read_text(encoding="utf-8").strip()
    if not version:
        return None
    approve(version)
    db.session().commit()
    log.info("Den godkända processkartans version (%s) flyttad från %s till databasen; filen läses inte "
             "längre och kan tas bort", version, path)
    return version
