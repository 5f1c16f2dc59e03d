"""The start page."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..auth import current_user, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("web/main/index.html", user=current_user())
