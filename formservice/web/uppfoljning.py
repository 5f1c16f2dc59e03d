"""Uppföljning for the Samordningsförbund: charts and tables of the anonymised follow-up, each
table as CSV, and the whole as a PDF report. For uppföljare and admins; no page here shows a
name, a personnummer or a link to an ärende."""
from __future__ import annotations

import csv
import functools
import io
import re
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, render_template, request

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden.demografi import AGE_BANDS, KON
from formservice.arenden.operations import local_today
from formservice.rendering.pdf import render_report
from formservice.uppfoljning import queries, rapport
from formservice.uppfoljning.anonymisering import SUPPRESSED_TEXT, THRESHOLD
from formservice.uppfoljning.diagram import chart

bp = Blueprint("uppfoljning", __name__, url_prefix="/uppfoljning")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
ROLES = ("uppfoljare", "admin")


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


def _filter(enhet_ids: list[int]) -> tuple[queries.Filter, dict[str, str], dict[str, str]]:
    """The filter from the query string, (filter, what was typed, errors). Defaults: the last
    twelve months up to this one; a wrong value gets a Swedish message and the default."""
    today = local_today()
    args, errors = request.args, {}
    typed = {k: args.get(k, "") for k in ("fran", "till", "enhet", "kon", "alder")}
    till = _month(typed["till"]) if typed["till"] else (today.year, today.month)
    if till is None:
        errors["till"] = "Ange månaden som ÅÅÅÅ-MM, t.ex. 2026-10."
        till = (today.year, today.month)
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


def _build():
    user = current_user()
    enhet_ids = queries.scope(user)
    f, typed, errors = _filter(enhet_ids)
    choices = queries.enheter(enhet_ids)
    names = {eid: (f"{namn} ({org})" if len({o for _i, _n, o in choices}) > 1 else namn)
             for eid, namn, org in choices}
    cat = current_app.extensions["catalogue"]
    return rapport.build(cat.process_map, cat, f, enhet_ids, names), typed, errors, choices, names


def _description(result, names) -> str:
    f = result.filter
    parts = [f"{f.fran.isoformat()} – {f.till.isoformat()}"]
    if f.enhet_id is not None:
        parts.append(names.get(f.enhet_id, ""))
    if f.kon:
        parts.append(KON[f.kon].lower())
    if f.alder:
        parts.append(next(t for k, t, *_ in AGE_BANDS if k == f.alder))
    return ", ".join(parts)


@bp.get("")
@uppfoljare_required
def index():
    result, typed, errors, choices, names = _build()
    audit.record("uppfoljning_visad", user=current_user(), object_type="uppfoljning")
    return render_template("web/uppfoljning/index.html", result=result, typed=typed, errors=errors,
                           enheter=choices, kon=KON, age_bands=AGE_BANDS, chart=chart,
                           description=_description(result, names), threshold=THRESHOLD,
                           suppressed_text=SUPPRESSED_TEXT, query=request.query_string.decode()), \
        400 if errors else 200


@bp.get("/<key>.csv")
@uppfoljare_required
def table_csv(key: str):
    result, *_ = _build()
    try:
        table = result.table(key)
    except StopIteration:
        abort(404)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(table.csv_rows())
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="uppfoljning-{key}.csv"'
    return response


@bp.get("/rapport.pdf")
@uppfoljare_required
def report_pdf():
    result, _typed, _errors, _choices, names = _build()
    user = current_user()
    pdf = render_report("uppfoljning.html", result=result, chart=chart, description=_description(result, names),
                        organisation=user.enhet.organisation.namn, created=local_today().isoformat(),
                        suppressed_text=SUPPRESSED_TEXT, threshold=THRESHOLD)
    audit.record("uppfoljning_rapport", user=user, object_type="uppfoljning")
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="uppfoljning.pdf"'
    return response
