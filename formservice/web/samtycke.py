"""Consents in an ärende: record a signed consent that came back, and its revocation."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden import consents, registry
from formservice.arenden import operations as arenden
from formservice.blanketter.model import PARTIES
from formservice.blanketter.validation import date_or_error
from formservice.arenden.operations import local_today

from .processkarta import require_on_map

bp = Blueprint("samtycke", __name__, url_prefix="/arenden/<public_id>/samtycke")


def _open_arende(public_id: str):
    try:
        arende = arenden.get(current_user(), public_id)
    except arenden.NotFound:
        abort(404)
    require_on_map(arende)
    arenden.require_open(arende)
    return arende


@bp.route("/nytt", methods=["GET", "POST"])
@login_required
def new(public_id: str):
    """The form starts from what the document says (its parties, dates, text); the caseworker
    corrects it from the signed paper."""
    user = current_user()
    arende = _open_arende(public_id)
    cat = current_app.extensions["catalogue"]
    kinds = consents.kinds(cat)
    dok = registry.get(arende, request.values.get("dokument", "")) if request.values.get("dokument") else None
    blankett = kinds.get(request.values.get("blankett", ""))
    if blankett is None:
        parts = consents.consent_parts(cat, dok) if dok is not None else consents.kinds_in_lane(cat, arende.lane)
        blankett = parts[0] if parts else next(iter(kinds.values()))
    proposal = consents.propose(cat, arende, dok, blankett, arenden.individ(arende))
    form = {"parties": proposal.parties, "given_by": proposal.given_by, "scope": proposal.scope,
            "valid_from": proposal.valid_from, "valid_until": proposal.valid_until}
    errors = {}
    if request.method == "POST":
        form = {"parties": request.form.getlist("parties"),
                **{k: request.form.get(k, "") for k in ("given_by", "scope", "valid_from", "valid_until")}}
        clean, errors = consents.check(blankett, form, local_today())
        if not errors:
            s = consents.record(user, arende, blankett, clean, dok)
            audit.record("arende_changed", user=user, object_type="samtycke", object_id=s.public_id,
                         detail="samtycke registrerat")
            flash(f"Samtycket är registrerat: {consents.party_names(clean['parties'])}, till och med "
                  f"{clean['valid_until'].isoformat()}.", "success")
            return redirect(url_for("arenden.show", public_id=public_id) + "#samtycken")
    return render_template("web/samtycke/form.html", arende=arende, individ=arenden.individ(arende),
                           pm=cat.process_map, blankett=blankett, kinds=kinds, dok=dok, form=form, errors=errors,
                           parties={k: PARTIES[k] for k in consents.allowed_parties(blankett)},
                           today=local_today().isoformat()), 400 if errors else 200


@bp.route("/<samtycke_id>/aterkalla", methods=["GET", "POST"])
@login_required
def revoke(public_id: str, samtycke_id: str):
    user = current_user()
    arende = _open_arende(public_id)
    s = consents.get(arende, samtycke_id)
    if s is None:
        abort(404)
    if consents.state(s, local_today()) not in ("aktivt", "kommande"):
        flash("Samtycket är redan återkallat eller har gått ut; det kan inte återkallas igen.", "warning")
        return redirect(url_for("arenden.show", public_id=public_id) + "#samtycken")
    form = {"datum": local_today().isoformat(), "note": ""}
    errors = {}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        on, error = date_or_error(form["datum"], "Återkallat från och med")
        if error:
            errors["datum"] = error
        elif on > local_today():
            errors["datum"] = "Datumet kan inte vara i framtiden; registrera återkallelsen när den har kommit."
        elif on < s.valid_from:
            errors["datum"] = f"Datumet kan inte vara före samtycket gavs ({s.valid_from.isoformat()})."
        if len(form["note"]) > consents.TEXT_MAX_LENGTH:
            errors["note"] = f"Anteckningen får vara högst {consents.TEXT_MAX_LENGTH} tecken (nu {len(form['note'])})."
        if not errors:
            consents.revoke(user, arende, s, on, form["note"] or None)
            audit.record("arende_changed", user=user, object_type="samtycke", object_id=s.public_id,
                         detail="samtycke återkallat")
            flash("Återkallelsen är registrerad.", "success")
            return redirect(url_for("arenden.show", public_id=public_id) + "#samtycken")
    cat = current_app.extensions["catalogue"]
    return render_template("web/samtycke/revoke.html", arende=arende, individ=arenden.individ(arende),
                           pm=cat.process_map, s=s, form=form, errors=errors, party_names=consents.party_names,
                           title=getattr(consents.kind_of(cat, s.blankett_id), "title", s.blankett_id)
                           ), 400 if errors else 200
