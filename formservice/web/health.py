"""Liveness for load balancers and monitoring."""
from __future__ import annotations

from flask import Blueprint, jsonify

from formservice import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    reachable = db.is_reachable(db.engine())
    body = {"status": "ok" if reachable else "error", "database": "reachable" if reachable else "unreachable"}
    return jsonify(body), 200 if reachable else 503
