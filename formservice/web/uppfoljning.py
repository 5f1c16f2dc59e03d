"""Uppföljning for the Samordningsförbund: charts and tables of the anonymised follow-up, each
table as CSV, and the whole as a PDF report, made as a background job (uppfoljning/pdfrapport.py)
whose status page is web/jobb.py. For uppföljare and admins; no page here shows a name, a
personnummer or a link to an ärende."""
from __future__ import annotations

import csv
import functools
import io
import re
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden.demografi import AGE_BANDS, KON
from formservice.arenden.operations import local_today
from formservice.uppfoljning import pdfrapport, queries, rapport
from formservice.uppfoljning.anonymisering import NOTE
from formservice.uppfoljning.diagram import chart

from . import jobb

bp = Blueprint("uppfoljning", __name__, url_prefix="/uppfoljning")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
ROLES = ("uppfoljare", "admin")
jobb.register(pdfrapport.JOB_KIND, jobb.Kind(
    heading="Uppföljning som PDF", waiting="Rapporten tas fram i bakgrunden, oftast på några sekunder.",
    download="Hämta rapporten (PDF)", back="uppfoljning.index", back_text="Tillbaka till uppföljningen",
    roles=ROLES))


def uppfoljare_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user().role not in ROLES:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _month(text: str | None) -> tuple[int, int] | None:
    match = _MONTH.fullmatch((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        return None
    return int(match.group(1)), int(match.group(2))


def _filter(enhet_ids: list[int], args) -> tuple[queries.Filter, dict[str, str], dict[str, str]]:
    """The filter from the query string or the posted form, (filter, what was typed, errors).
    Defaults: the twelve months up to the last complete one (a running month's counts are partial
    and change by the day); a wrong value gets a Swedish message and the default."""
    today = local_today()
    errors = {}
    typed = {k: args.get(k, "") for k in ("fran", "till", "enhet", "kon", "alder")}
    last_complete = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    till = _month(typed["till"]) if typed["till"] else last_complete
    if till is None:
        errors["till"] = "Ange månaden som ÅÅÅÅ-MM, t.ex. 2026-10."
        till = last_complete
    default_from = (till[0] - 1, till[1] + 1) if till[1] < 12 else (till[0], 1)
    fran = _month(typed["fran"]) if typed["fran"] else default_from
    if fran is None:
        errors["fran"] = "Ange månaden som ÅÅÅÅ-MM, t.ex. 2026-01."
        fran = default_from
    if fran > till:
        errors["fran"] = "Första månaden kan inte komma efter den sista."
        fran = default_from
    last_day = (date(till[0] + (till[1] == 12), till[1] % 12 + 1, 1) - timedelta(days=1))
    # ASCII digits only: "²" passes isdigit() but int() refuses it (it was a 500); and bounded in length.
    wanted = typed["enhet"]
    enhet = int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) <= 12 and int(wanted) in enhet_ids \
        else None
    if typed["enhet"] and enhet is None:
        errors["enhet"] = "Välj en enhet i listan."
    kon = typed["kon"] if typed["kon"] in KON else None
    alder = typed["alder"] if typed["alder"] in {k for k, *_ in AGE_BANDS} else None
    f = queries.Filter(date(fran[0], fran[1], 1), last_day, enhet, kon, alder)
    typed.update(fran=f"{fran[0]:04d}-{fran[1]:02d}", till=f"{till[0]:04d}-{till[1]:02d}")
    return f, typed, errors


def _chosen(f: queries.Filter) -> dict[str, str]:
    """The filter as the page's query parameters: only checked values, never what was typed."""
    values = {"fran": f"{f.fran:%Y-%m}", "till": f"{f.till:%Y-%m}", "enhet": f.enhet_id, "kon": f.kon,
              "alder": f.alder}
    return {k: str(v) for k, v in values.items() if v is not None}


def _build(args, only: str | None = None):
    enhet_ids = queries.scope(current_user())
    f, typed, errors = _filter(enhet_ids, args)
    result, choices, names = rapport.follow_up(current_app.extensions["catalogue"], f, enhet_ids, only)
    return result, typed, errors, choices, names


def _page(args):
    result, typed, errors, choices, names = _build(args)
    audit.record("uppfoljning_visad", user=current_user(), object_type="uppfoljning")
    return render_template("web/uppfoljning/index.html", result=result, typed=typed, errors=errors,
                           enheter=choices, kon=KON, age_bands=AGE_BANDS, chart=chart,
                           description=rapport.describe(result.filter, names), chosen=_chosen(result.filter),
                           note=NOTE), 400 if errors else 200


@bp.get("")
@uppfoljare_required
def index():
    return _page(request.args)


@bp.get("/<key>.csv")
@uppfoljare_required
def table_csv(key: str):
    if key not in rapport.TABLE_KEYS:
        abort(404)
    result, *_ = _build(request.args, only=key)
    try:
        table = result.table(key)
    except StopIteration:
        abort(404)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(table.csv_rows())
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="uppfoljning-{key}.csv"'
    return response


@bp.post("/rapport")
@uppfoljare_required
def report():
    """Queue the PDF report of the posted selection; a tampered selection gets the page with its
    messages, and nothing is queued."""
    f, _typed, errors = _filter(queries.scope(current_user()), request.form)
    if errors:
        return _page(request.form)
    job = pdfrapport.start(current_user(), f)
    return redirect(url_for("jobb.show", public_id=job.public_id), 303)


@bp.get("/rapport.pdf")
@uppfoljare_required
def old_report_address():
    """A bookmark from when the report was made while one waited: the page with the same selection
    (its checked values only), where the report is now asked for."""
    f, _typed, _errors = _filter(queries.scope(current_user()), request.args)
    flash("Rapporten tas nu fram i bakgrunden: välj ”Ta fram rapport (PDF)” nedan.", "info")
    return redirect(url_for(".index", **_chosen(f)), 303)
