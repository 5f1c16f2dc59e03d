"""A user's background jobs (formservice/jobs.py), whatever their kind: the status page, which the
browser polls through the JSON status until "Klar – hämta", and the download. The page that queues
a job redirects here; each kind registers how its page is titled and where it leads back to.

Only the user who asked sees a job, and only while the user still has the role the kind needs:
anyone else, an admin too, gets 404, as for a job that never was. Nothing here may be cached: the
result is personal data (the registerutdrag) or an organisation's figures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for

from formservice import jobs
from formservice.db import utcnow
from formservice.accounts.login import current_user, login_required

bp = Blueprint("jobb", __name__, url_prefix="/jobb")


@dataclass(frozen=True)
class Kind:
    heading: str  # the page's h1, as on the page the job was asked for
    waiting: str  # said after "Tas fram…"
    download: str  # the download link's text
    back: str  # endpoint of the page to return to
    back_text: str
    roles: tuple[str, ...]  # who may see a job of this kind (besides being the one who asked)
    nav: str | None = None  # a template with the sub-navigation of the page the job came from


_kinds: dict[str, Kind] = {}


def register(kind: str, how: Kind) -> None:
    _kinds[kind] = how


def _own_job(public_id: str) -> tuple[jobs.Jobb, Kind]:
    user = current_user()
    job = jobs.own(user, public_id)
    kind = _kinds.get(job.kind) if job is not None else None
    if kind is None or user.role not in kind.roles:
        abort(404)  # another user's job is as unknown as one that never was
    return job, kind


# A job that has not started after this long has no worker taking it (one at a time: a long queue
# shows as "pågår" for the one ahead): the user should hear so rather than wait.
NOT_STARTED_AFTER = timedelta(minutes=5)
NOT_STARTED = ("Jobbet har inte börjat än. Om det inte börjar inom några minuter är jobbprocessen "
               "troligen inte igång: kontakta den som sköter formservice.")


def _state(job: jobs.Jobb) -> dict:
    done = job.status == jobs.KLAR
    stalled = job.status == jobs.VANTAR and utcnow() - job.created_at > NOT_STARTED_AFTER
    return {"status": job.status, "text": jobs.STATUS_TEXT[job.status], "error": job.error,
            "download": url_for(".download", public_id=job.public_id) if done else None,
            "note": NOT_STARTED if stalled else None}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<public_id>")
@login_required
def show(public_id):
    job, kind = _own_job(public_id)
    return _no_store(current_app.make_response(render_template("web/jobb.html", job=job, kind=kind,
                                                               state=_state(job))))


@bp.get("/<public_id>/status")
@login_required
def status(public_id):
    return _no_store(jsonify(_state(_own_job(public_id)[0])))


@bp.get("/<public_id>/hamta")
@login_required
def download(public_id):
    job, _kind = _own_job(public_id)
    body = jobs.result(job)
    if body is None:
        abort(404)
    jobs.mark_downloaded(job)
    response = current_app.response_class(body, mimetype=job.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return _no_store(response)
