"""Reading a changed process map without a restart: an admin sees the map in use and the one on
disk, with what `formservice check` says about both (the files and the ärenden in the database),
and takes the new one into use only when nothing is wrong. Every worker process follows: the
approved version is written to instance/ and each worker compares it at most every few seconds."""
from __future__ import annotations

import time
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from formservice import audit
from formservice.accounts.login import admin_required, current_user
from formservice.arenden import mapcheck
from formservice.blanketter.catalogue import CatalogueError, load_catalogue
from formservice.processkarta.diff import diff_maps

bp = Blueprint("admin_processkarta", __name__, url_prefix="/admin/processkarta")

APPROVED_FILE = "processkarta-godkand.txt"  # in the instance folder: the version an admin took into use
POLL_SECONDS = 3.0


def _approved_path() -> Path:
    return Path(current_app.instance_path) / APPROVED_FILE


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
    _approved_path().parent.mkdir(parents=True, exist_ok=True)
    _approved_path().write_text(cat.process_map.version + "\n", encoding="utf-8")
    current_app.extensions["catalogue"] = cat
    audit.record("processkarta_inlast", user=current_user(), object_type="processkarta",
                 object_id=cat.process_map.version, detail=f"från {old}")
    flash(f"Den ändrade processkartan används nu (version {cat.process_map.version}).", "success")
    return redirect(url_for("admin_processkarta.index"))


@bp.before_app_request
def follow_approved_map() -> None:
    """Per worker: take up the map an admin approved in another worker (looked at every few seconds)."""
    state = current_app.extensions.setdefault("processkarta_follower", {"next_look": 0.0, "mtime": None})
    now = time.monotonic()
    if now < state["next_look"]:
        return
    state["next_look"] = now + POLL_SECONDS
    path = _approved_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return
    if mtime == state["mtime"]:
        return
    state["mtime"] = mtime
    approved = path.read_text(encoding="utf-8").strip()
    if approved == current_app.extensions["catalogue"].process_map.version:
        return
    try:
        cat = load_catalogue()
    except CatalogueError:
        return  # the files changed again after the approval and are broken: keep the map in use
    if cat.process_map.version == approved:  # exactly what was approved, nothing edited since
        current_app.extensions["catalogue"] = cat
