"""Liveness for load balancers and monitoring."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from formservice import db
from formservice.arenden import keycheck

bp = Blueprint("health", __name__)

# A passing key check (about 20 ms of sampling) holds this long per process: monitors ask every few
# seconds, and neither the keyring nor the data's keys change under a running service.
KEYS_CHECKED_FOR = 60.0


@bp.get("/healthz")
def healthz():
    if not db.is_reachable(db.engine()):
        return jsonify({"status": "error", "database": "unreachable"}), 503
    # Reachable is not enough: with keys that cannot read the data, sign-in works but every ärende is a 500.
    ext = current_app.extensions
    if time.monotonic() - ext.get("keys_fit_at", -KEYS_CHECKED_FOR) >= KEYS_CHECKED_FOR:
        problem = keycheck.app_mismatch(current_app)
        if problem:
            return jsonify({"status": "error", "database": "reachable", "keys": "mismatch", "error": problem}), 503
        ext["keys_fit_at"] = time.monotonic()
    return jsonify({"status": "ok", "database": "reachable"}), 200
