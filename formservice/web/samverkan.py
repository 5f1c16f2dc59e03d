"""Samverkan: send a produced document to another party's enhet, the recipient's inbox
("Inkommande"), accepting, returning and answering online, the förbund's address book."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice.accounts.login import current_user, login_required
from formservice.arenden import registry
from formservice.arenden import operations as arenden
from formservice.arenden.models import DOKUMENT_STATUS
from formservice.blanketter.model import PARTIES
from formservice.doctor import answers as doctor_answers, dfa
from formservice.doctor import readback
from formservice.rendering.display import format_value
from formservice.samverkan import access, answers as answer_forms, operations as samverkan, sdk
from formservice.samverkan.models import OVERLAMNING_STATUS

from .processkarta import parties_map

bp = Blueprint("samverkan", __name__)


def _catalogue():
    return current_app.extensions["catalogue"]


def _incoming(public_id: str):
    try:
        return access.get_incoming(current_user(), public_id)
    except access.NotShared:
        abort(404)


def _map(arende):
    """The parties' current rutor for an ärende ("vem gör vad nu"), drawn; (None, []) when alone."""
    positions = access.positions(arende)
    if not positions:
        return None, []
    return parties_map(_catalogue().process_map, positions)


def panel(arende) -> dict:
    """What the ärende page shows of samverkan: what was sent and received, who of another party has
    seen what, and every linked party's ruta."""
    drawing, positions = _map(arende)
    routes = access.rules().routes
    return {"samverkan_sent": access.sent_from(arende), "samverkan_received": access.received_into(arende),
            "samverkan_views": access.views_grouped(arende), "samverkan_sendable": set(routes),
            "samverkan_map": drawing, "samverkan_positions": positions,
            "overlamning_status": OVERLAMNING_STATUS, "samverkan_answer": access.answer_of,
            "samverkan_answer_lines": access.answer_lines, "samverkan_locked": access.status_set_by_recipient(arende),
            "samverkan_reason": access.return_reason, "enhet_label": access.enhet_label}


# ---------------------------------------------------------------- sending
@bp.route("/arenden/<public_id>/dokument/<doc_id>/skicka", methods=["GET", "POST"])
@login_required
def send(public_id: str, doc_id: str):
    user = current_user()
    try:
        arende = arenden.get(user, public_id)
    except arenden.NotFound:
        abort(404)
    dok = registry.get(arende, doc_id)
    route = access.rules().route(dok.blankett_id) if dok is not None else None
    if dok is None or route is None:
        abort(404)
    arenden.require_open(arende)
    blankett = _catalogue().blanketter[dok.blankett_id]
    recipients = access.recipients_for(user, dok.blankett_id)
    gate = {e.id: access.missing_consent(arende, blankett, e) for e in recipients}
    chosen = [int(i) for i in request.form.getlist("till") if i.isdigit()] if request.method == "POST" else []
    error = None
    if request.method == "POST":
        try:
            sent = samverkan.send(user, arende, dok, chosen)
        except samverkan.Refused as exc:
            error = exc.message
        else:
            names = ", ".join(access.enhet_label(ov.till_enhet) + (" (via SDK)" if ov.sdk_konversation else "")
                              for ov in sent)
            later = (" SDK-paketet skrivs nu i bakgrunden; under Samverkan ser du när det är skrivet."
                     if any(ov.sdk_konversation for ov in sent) else "")
            flash(f"{dok.document_number} är skickad till {names}.{later}" if sent else
                  f"{dok.document_number} var redan skickad dit.", "success")
            return redirect(url_for("arenden.show", public_id=public_id) + "#samverkan")
    return render_template("web/samverkan/send.html", arende=arende, individ=arenden.individ(arende),
                           pm=_catalogue().process_map, dok=dok, blankett=blankett, route=route,
                           recipients=recipients, gate=gate, chosen=chosen, error=error, parties=PARTIES,
                           sent=access.sent_for_document(arende, dok.id), status=OVERLAMNING_STATUS,
                           label=access.enhet_label, over_sdk=sdk.outside(e.id for e in recipients)), \
        400 if error else 200


# ---------------------------------------------------------------- the recipient
@bp.get("/inkommande")
@login_required
def inbox():
    user = current_user()
    everything = request.args.get("visa") == "alla"
    items = access.incoming(user, include_done=everything)
    return render_template("web/samverkan/inbox.html", items=items, everything=everything,
                           identity=access.individ_identity, status=OVERLAMNING_STATUS, blanketter=_catalogue().blanketter,
                           label=access.enhet_label)


@bp.get("/inkommande/<public_id>")
@login_required
def item(public_id: str):
    user = current_user()
    ov = _incoming(public_id)
    access.record_view(user, ov, "överlämningen")
    cat = _catalogue()
    route = access.rules().route(ov.dokument.blankett_id)
    drawing, positions = _map(ov.mottagare_arende or ov.fran_arende)
    blankett = cat.blanketter.get(ov.dokument.blankett_id)
    doctor_answer = None
    if route and route.svar == "lakare" and ov.status == "besvarad":
        current = doctor_answers.current_answer(ov.dokument)
        if current is not None:
            doctor_answer = (current, doctor_answers.pending_answers(current), doctor_answers.doctor_sections(blankett))
    return render_template("web/samverkan/item.html", ov=ov, identity=access.individ_identity(ov), route=route,
                           blankett=blankett, status=OVERLAMNING_STATUS, label=access.enhet_label,
                           answer=access.answer_of(ov), form=answer_forms.FORMS.get(route.svar) if route else None,
                           doctor_answer=doctor_answer, format_value=format_value,
                           samverkan_map=drawing, samverkan_positions=positions, pm=cat.process_map)


@bp.get("/inkommande/<public_id>/dokument.pdf")
@login_required
def document(public_id: str):
    user = current_user()
    ov = _incoming(public_id)
    try:
        filename, mimetype, content = registry.content(ov.dokument, "pdf")
    except LookupError:
        abort(404)
    access.record_view(user, ov, "dokumentet (PDF)")
    response = current_app.response_class(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/inkommande/<public_id>/ta-emot")
@login_required
def accept(public_id: str):
    ov = _incoming(public_id)
    try:
        own = samverkan.accept(current_user(), ov)
    except samverkan.Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("samverkan.item", public_id=public_id))
    except arenden.ArendeClosed:
        flash("Avsändarens ärende är avslutat; handlingen kan inte tas emot.", "error")
        return redirect(url_for("samverkan.item", public_id=public_id))
    flash(f"{ov.dokument.document_number} är mottagen och kopplad till ert ärende.", "success")
    return redirect(url_for("samverkan.item", public_id=public_id) + ("#svara" if own else ""))


@bp.route("/inkommande/<public_id>/returnera", methods=["GET", "POST"])
@login_required
def give_back(public_id: str):
    ov = _incoming(public_id)
    reason, error = request.form.get("anledning", ""), None
    if request.method == "POST":
        try:
            samverkan.give_back(current_user(), ov, reason)
        except samverkan.Refused as exc:
            error = exc.message
        else:
            flash(f"{ov.dokument.document_number} är returnerad till {access.enhet_label(ov.fran_enhet)}.", "success")
            return redirect(url_for("samverkan.inbox"))
    return render_template("web/samverkan/return.html", ov=ov, reason=reason, error=error,
                           label=access.enhet_label), 400 if error else 200


@bp.route("/inkommande/<public_id>/svara", methods=["GET", "POST"])
@login_required
def reply(public_id: str):
    user = current_user()
    ov = _incoming(public_id)
    route = access.rules().route(ov.dokument.blankett_id)
    if route is None:
        abort(404)
    if ov.status in ("besvarad", "returnerad"):
        flash("Handlingen är redan " + OVERLAMNING_STATUS[ov.status].lower() + ".", "info")
        return redirect(url_for("samverkan.item", public_id=public_id))
    if route.svar == "lakare":
        return _doctor_reply(user, ov)
    form = answer_forms.FORMS[route.svar]
    values, errors = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in request.form if k != "csrf_token"}
        try:
            errors = samverkan.answer(user, ov, values)
        except arenden.ArendeClosed:
            errors = {"_": "Avsändarens ärende är avslutat; svaret kan inte lämnas här."}
        if not errors:
            flash(f"Svaret på {ov.dokument.document_number} är skickat till {access.enhet_label(ov.fran_enhet)}.",
                  "success")
            return redirect(url_for("samverkan.item", public_id=public_id))
    return render_template("web/samverkan/reply.html", ov=ov, form=form, values=values, errors=errors,
                           label=access.enhet_label), 400 if errors else 200


def _doctor_reply(user, ov):
    """The doctor answers the förfrågan here: the same fields and checks as the fillable PDF, and the
    same archive copy; the answer counts at once (it is the doctor's own, nothing was read off a file)."""
    blankett = _catalogue().blanketter[ov.dokument.blankett_id]
    fields = doctor_answers.doctor_fields(blankett)
    values = doctor_answers.known_answers(ov.dokument, blankett)
    if not values.get("lakare_namn") and "lakare_namn" in {f.name for f in fields}:
        values["lakare_namn"] = user.namn
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {f.name: request.form.get(f.name) for f in fields}
        try:
            errors = samverkan.doctor_answer(user, ov, blankett, values)
        except arenden.ArendeClosed:
            errors = {"_": "Socialtjänstens ärende är avslutat; svaret kan inte lämnas här."}
        if not errors:
            flash(f"Ditt svar på {ov.dokument.document_number} är skickat till {access.enhet_label(ov.fran_enhet)}.",
                  "success")
            return redirect(url_for("samverkan.item", public_id=ov.public_id))
    return render_template("web/samverkan/reply_doctor.html", ov=ov, blankett=blankett, values=values, errors=errors,
                           sections=doctor_answers.doctor_sections(blankett), label=access.enhet_label,
                           required=readback.REQUIRED_DOCTOR_FIELDS, hints=dfa.kapitel_hints(fields, values),
                           error_id=lambda k: "f-" + k.replace(".", "-")), 400 if errors else 200


# ---------------------------------------------------------------- the address book
@bp.get("/adressbok")
@login_required
def address_book():
    user = current_user()
    enheter = access.address_book(user)
    return render_template("web/samverkan/adressbok.html", enheter=enheter, kinds=access.rules().parter,
                           statuses=DOKUMENT_STATUS)
