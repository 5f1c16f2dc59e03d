"""Reading a changed process map without a restart: an admin sees the map in use and the one on
disk, with what `formservice check` says about both (the files and the ärenden in the database),
and takes the new one into use only when nothing is wrong. Every worker process of every host on the
database follows: the approved version is stored in the database (arenden/kartversion.py) and each
worker compares it at most every ten seconds."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from sqlalchemy.exc import SQLAlchemyError

from formservice import audit, db
from formservice.accounts.login import admin_required, current_user
from formservice.arenden import kartversion, mapcheck
from formservice.blanketter.catalogue import CatalogueError, load_catalogue
from formservice.processkarta.diff import diff_maps

bp = Blueprint("admin_processkarta", __name__, url_prefix="/admin/processkarta")

# How often a worker asks the database for the approved version. One statement per worker per look;
# seconds are soon enough after an admin's approval, and a test that counts a request's statements
# is not hit by a look in the middle of it.
POLL_SECONDS = 10.0
log = logging.getLogger("formservice")


def _candidate():
    """(catalogue on disk or None, its errors, how it fits the database)."""
    try:
        cat = load_catalogue()
    except CatalogueError as exc:
        return None, str(exc).splitlines(), None
    return cat, [], mapcheck.check(cat.process_map)


@bp.get("")
@admin_required
def index():
    running = current_app.extensions["catalogue"]
    cat, errors, fit = _candidate()
    # What the new map changes, so the admin approves a known change and not just a new hash.
    changes = diff_maps(running.process_map, cat.process_map) if cat is not None else None
    return render_template("web/admin/processkarta.html", running=running, candidate=cat, errors=errors, fit=fit,
                           changes=changes)


@bp.post("")
@admin_required
def reload_map():
    cat, errors, fit = _candidate()
    if cat is None or not fit.ok:
        flash("Processkartan lästes inte in: rätta felen nedan först.", "error")
        return redirect(url_for("admin_processkarta.index"))
    old = current_app.extensions["catalogue"].process_map.version
    kartversion.approve(cat.process_map.version, current_user())
    current_app.extensions["catalogue"] = cat
    # audit.record commits the approval together with its audit row
    audit.record("processkarta_inlast", user=current_user(), object_type="processkarta",
                 object_id=cat.process_map.version, detail=f"från {old}")
    flash(f"Den ändrade processkartan används nu (version {cat.process_map.version}).", "success")
    return redirect(url_for("admin_processkarta.index"))


@bp.before_app_request
def follow_approved_map() -> None:
    """Per worker: take up the map an admin approved in another worker or on another host (looked
    at every ten seconds)."""
    state = current_app.extensions.setdefault("processkarta_follower", {"next_look": 0.0, "carried": False,
                                                                        "warned": None})
    now = time.monotonic()
    if now < state["next_look"]:
        return
    state["next_look"] = now + POLL_SECONDS
    try:
        if not state["carried"]:  # once per process: an approval from before migration 0025
            kartversion.carry_over_file(current_app.instance_path)
            state["carried"] = True
        approved = kartversion.approved_version()
    except SQLAlchemyError:  # e.g. a database not yet migrated: keep the map in use, serve the page
        db.session().rollback()
        return
    if approved is None or approved == current_app.extensions["catalogue"].process_map.version:
        return
    try:
        cat = load_catalogue()  # cached by content: cheap while the files stay as they are
    except CatalogueError:
        return  # the files changed again after the approval and are broken: keep the map in use
    if cat.process_map.version == approved:  # exactly what was approved, nothing edited since
        current_app.extensions["catalogue"] = cat
    elif state["warned"] != approved:
        state["warned"] = approved
        # Once per approval: a host whose forms/ differs from the one the admin approved on.
        log.warning("processkartan version %s är godkänd, men forms/ här ger version %s; kartan i bruk (%s) "
                    "behålls. Har varje värd samma forms/?", approved, cat.process_map.version,
                    current_app.extensions["catalogue"].process_map.version)
