"""Ärenden: the list and search, a new ärende, the overview, where it stands, the ruta step."""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice import audit
from formservice.accounts.login import current_user, login_required
from formservice.arenden import closing, consents, seals, sus
from formservice.arenden import operations as arenden
from formservice.arenden import registry
from formservice.arenden.models import DOKUMENT_STATUS
from formservice.blanketter.validation import format_personnummer, too_long
from formservice.doctor import answers as doctor_answers
from formservice.doctor.models import Svar
from formservice.processkarta.model import UnknownIdError
from formservice.rendering import fonts
from formservice.rendering.display import format_value
from formservice.arenden.operations import local_today

from formservice.samverkan import access as samverkan_access, operations as samverkan_ops

from .paging import page_number, posted_version
from .processkarta import arende_map, require_on_map
from .samverkan import panel as samverkan_panel

bp = Blueprint("arenden", __name__, url_prefix="/arenden")
NOTE_MAX_LENGTH = 1000  # a note to the history on a step


def pm():
    return current_app.extensions["catalogue"].process_map


def load(public_id: str, *, for_change: bool = False):
    """The ärende by its public id (404 outside the user's reach); ``for_change``: it must be open
    (a closed ärende sends the reader to its overview, see errors.py)."""
    try:
        arende = arenden.get(current_user(), public_id)
    except arenden.NotFound:
        abort(404)
    require_on_map(arende)
    if for_change:
        arenden.require_open(arende)
    return arende


@bp.app_template_filter("pnr")
def _pnr(value: str) -> str:
    return format_personnummer(value) if value and len(value) == 12 and value.isdigit() else (value or "")


@bp.app_template_filter("in_sentence")
def _in_sentence(title: str) -> str:
    """A blankett's title inside a sentence or on a button: "Fyll i anmälan till Finsamteam", "… (SIP)".
    Only the first letter is lowered (not in an abbreviation); names keep their capitals."""
    first = (title.split() or [""])[0]
    return title if first.isupper() else title[:1].lower() + title[1:]


# ---------------------------------------------------------------- list and search
@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    user = current_user()
    # The search text is posted, never put in the URL: it may be a personnummer.
    query = request.form.get("q", "").strip() if request.method == "POST" else ""
    lane = request.values.get("bana") or None
    ruta = request.values.get("ruta") or None
    # A search finds closed ärenden too (a person's earlier ärende must not look absent); the list
    # without a search shows the open ones unless asked otherwise.
    status = request.values.get("status") or ("alla" if query else "oppet")
    status = status if status in ("oppet", "avslutat", "alla") else "oppet"
    page = page_number(request.args.get("sida"))
    rows, total = arenden.search(user, query=query, lane=lane, ruta=ruta, status=None if status == "alla" else status,
                                 limit=50, offset=(page - 1) * 50)
    if query:
        audit.record("arende_searched", user=user, detail=f"{total} träffar")
    return render_template("web/arenden/index.html", rows=rows, total=total, query=query, lane=lane, ruta=ruta,
                           status=status, page=page, pm=pm(), reason_title=closing.reason_title)


# ---------------------------------------------------------------- create and edit the individ
@bp.route("/nytt", methods=["GET", "POST"])
@login_required
def new():
    user = current_user()
    default_lane = pm().default_lane_for_role(user.role) or pm().lanes[0]
    data, errors, duplicates = {}, {}, []
    if request.method == "POST":
        data, errors = _clean_individ(request.form)
        start = request.form.get("ruta") or default_lane.start[0]
        try:
            pm().ruta(start)
        except UnknownIdError:
            errors["ruta"] = "Välj en ruta i processkartan."
        if not errors and request.form.get("skapa_anda") != data["personnummer"]:
            # A second open ärende for the same person in the enhet is most often a mistake: warn,
            # link to the first, and create only on "Skapa ändå ett nytt ärende" for this personnummer.
            duplicates = arenden.open_in_enhet(user, data["personnummer"])
            if duplicates:
                audit.record("arende_searched", user=user,
                             detail=f"Nytt ärende: {len(duplicates)} öppna med samma personnummer")
        if not errors and not duplicates:
            arende = arenden.create(user, data, lane=start.split(".")[0], ruta=start)
            audit.record("arende_created", user=user, object_type="arende", object_id=arende.public_id)
            flash("Ärendet är skapat.", "success")
            return redirect(url_for("arenden.show", public_id=arende.public_id))
        data = {k: request.form.get(k, "") for k, *_ in arenden.INDIVID_FIELDS}
    return render_template("web/arenden/individ_form.html", data=data, errors=errors, fields=arenden.INDIVID_FIELDS,
                           individ_choices=arenden.individ_choices(),
                           arende=None, starts=_start_choices(), default_start=default_lane.start[0],
                           duplicates=duplicates, pm=pm()), 400 if errors else 200


def _clean_individ(form):
    """The individ's details checked, and each one printable by the documents' fonts."""
    data, errors = arenden.clean_individ(form)
    labels = {key: label for key, label, *_ in arenden.INDIVID_FIELDS}
    return data, {**fonts.unprintable_errors(form, labels), **errors}


def _start_choices():
    return [(r, pm().lane(r.lane)) for lane in pm().lanes for r in lane.rutor if r.id in lane.start]


@bp.route("/<public_id>/uppgifter", methods=["GET", "POST"])
@login_required
def edit_individ(public_id: str):
    user = current_user()
    arende = load(public_id, for_change=True)
    current = arenden.individ(arende)
    data, errors, conflict = current, {}, None
    if request.method == "POST":
        data, errors = _clean_individ(request.form)
        if not errors:
            try:
                arenden.update_individ(user, arende, data, posted_version())
            except arenden.Conflict as exc:
                conflict = exc
            else:
                audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                             detail="individ")
                flash("Uppgifterna är sparade.", "success")
                return redirect(url_for("arenden.show", public_id=public_id))
        data = {k: request.form.get(k, "") for k, *_ in arenden.INDIVID_FIELDS}
    status = 409 if conflict else 400 if errors else 200
    return render_template("web/arenden/individ_form.html", data=data, errors=errors, fields=arenden.INDIVID_FIELDS,
                           individ_choices=arenden.individ_choices(),
                           arende=arende, conflict=conflict, stored=current, pm=pm()), status


# ---------------------------------------------------------------- overview
_DOC, _POSITION, _KIND = "{doc}", 987654321, "{kind}"


def _document_rows(public_id: str, documents, parts: dict, consent_parts) -> list[tuple[object, SimpleNamespace]]:
    """Each listed document with what its row links to: `(document, links)`, where links has one URL
    per action (status, pdf, docx, arkiv, zip, ifyllbar, svar), `parts` as (title, pdf, docx) from
    `parts` (registry.listed_parts) and `samtycke` as (consent blankett, url). The template shows
    them; which of them apply stays its decision. Each URL is built once per page and filled in
    per row (url_for for every link of every row was most of the overview's time at 100
    documents), and here rather than by a call from the template per link (Jinja's call, lookups
    and escapes per link were most of what was left). Public ids are URL-safe: no quoting needed."""
    if not documents:
        return []
    doc = {"doc_id": _DOC}
    made = {
        "status": url_for("arenden.document_status", public_id=public_id, **doc),
        **{fmt: url_for("arenden.download", public_id=public_id, fmt=fmt, **doc)
           for fmt in ("pdf", "docx", "arkiv", "zip", "ifyllbar")},
        "svar": url_for("svar.upload", public_id=public_id, **doc),
    }
    part_pdf, part_docx = (url_for("arenden.download_part", public_id=public_id, position=_POSITION, fmt=fmt, **doc)
                           for fmt in ("pdf", "docx"))
    consent = url_for("samtycke.new", public_id=public_id, dokument=_DOC, blankett=_KIND)
    doc_mark, kind_mark, position_mark = quote(_DOC, safe=""), quote(_KIND, safe=""), f"/{_POSITION}."
    kinds: dict[str, list] = {}  # a packet's consent blanketter depend on its blankett alone

    rows = []
    for d in documents:
        pid = d.public_id
        if d.blankett_id not in kinds:
            kinds[d.blankett_id] = [(kind, consent.replace(kind_mark, quote(kind.id, safe="")))
                                    for kind in consent_parts(d)]
        links = SimpleNamespace(**{name: url.replace(doc_mark, pid) for name, url in made.items()})
        pdf, docx = part_pdf.replace(doc_mark, pid), part_docx.replace(doc_mark, pid)
        links.parts = [(title, pdf.replace(position_mark, f"/{position}."), docx.replace(position_mark, f"/{position}."))
                       for position, title in parts.get(d.id, ())]
        links.samtycke = [(kind, url.replace(doc_mark, pid)) for kind, url in kinds[d.blankett_id]]
        rows.append((d, links))
    return rows


@bp.get("/<public_id>")
@login_required
def show(public_id: str, reopen_note: str = "", reopen_error: str | None = None):
    user = current_user()
    arende = load(public_id)
    audit.record("arende_viewed", user=user, object_type="arende", object_id=arende.public_id)
    cat = current_app.extensions["catalogue"]
    answers = [(s, v, doctor_answers.doctor_sections(cat.blanketter[s.dokument.blankett_id]))
               for s, v in doctor_answers.confirmed(arende) if s.dokument.blankett_id in cat.blanketter]
    # What exists, never a layout: a document still being completed shows its print PDF and says
    # the rest is on its way (a download of the rest completes it on demand).
    documents = registry.listing(arende)
    rows = _document_rows(arende.public_id, documents, registry.listed_parts(documents),
                          lambda d: consents.consent_parts(cat, d))
    history = arenden.history(arende)
    way, walked = arende_map(pm(), history, arende.ruta)
    return render_template("web/arenden/show.html", way=way, walked=walked, arende=arende, individ=arenden.individ(arende),
                           closed_reason=closing.reason_title(arende.closed_reason),
                           consents=consents.of(arende), consent_kinds=consents.kinds(cat), today=local_today(),
                           consent_state=consents.state,
                           consent_given_by=consents.given_by, party_names=consents.party_names,
                           ruta=pm().ruta(arende.ruta), lane=pm().lane(pm().ruta(arende.ruta).lane), pm=pm(),
                           history=history, documents=rows,
                           official_pdfs=current_app.extensions.get("official_pdfs") or {},
                           for_doctor={b.id for b in cat.blanketter.values() if doctor_answers.has_doctor_part(b)},
                           drafts=arenden.drafts(arende), blanketter=cat.blanketter,
                           statuses=DOKUMENT_STATUS, doctor_answers=answers, format_value=format_value,
                           reopen_note=reopen_note, reopen_error=reopen_error,
                           seal_status=seals.document_statuses([d.id for d in documents if d.has_archive]),
                           answer_seal=seals.statuses(Svar, "pdf_enc", [s.id for s, _v, _sec in answers]),
                           sus_applies=sus.applies(arende), **samverkan_panel(arende)), 400 if reopen_error else 200


# ---------------------------------------------------------------- where is the case?
@bp.route("/<public_id>/var", methods=["GET", "POST"])
@login_required
def where(public_id: str):
    user = current_user()
    arende = load(public_id, for_change=True)
    note = (request.form.get("note") or "").strip()
    error = None
    if request.method == "POST" and len(note) > NOTE_MAX_LENGTH:
        error = f"Anteckningen {too_long(NOTE_MAX_LENGTH, len(note))}"
    elif request.method == "POST":
        target = request.form.get("ruta", "")
        try:
            pm().ruta(target)
        except UnknownIdError:
            flash("Välj en ruta.", "error")
            # Back to the lane the user was looking at: one of the map's, never the posted text itself
            # (it would be echoed, unbounded, into the Location header).
            lane = request.form.get("bana")
            lane = lane if lane in {l.id for l in pm().lanes} else None
            return redirect(url_for("arenden.where", public_id=public_id, bana=lane))
        if posted_version() != arende.version:
            flash("Ärendet har ändrats av någon annan medan du valde. Kontrollera var det står och välj igen.",
                  "warning")
            return redirect(url_for("arenden.where", public_id=public_id))
        if target != arende.ruta:
            arenden.move(user, arende, target, kind="placering", beslut="Placerad på processkartan",
                         note=note or None)
            audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                         detail="ruta")
        return redirect(url_for("arenden.step", public_id=public_id))
    current = pm().rutor.get(arende.ruta)  # None: the map no longer has the ruta it stood on
    default_lane = current.lane if current else (arende.lane if arende.lane in {l.id for l in pm().lanes}
                                                 else pm().lanes[0].id)
    try:
        lane = pm().lane(request.values.get("bana") or default_lane)
    except UnknownIdError:
        abort(404)
    return render_template("web/arenden/where.html", arende=arende, lane=lane, pm=pm(), current=current,
                           individ=arenden.individ(arende), note=note, error=error,
                           chosen=request.form.get("ruta")), 400 if error else 200


# ---------------------------------------------------------------- closing and reopening
@bp.route("/<public_id>/avsluta", methods=["GET", "POST"])
@login_required
def close(public_id: str):
    user = current_user()
    arende = load(public_id, for_change=True)
    reasons = closing.reasons_for(arende, pm())
    asks_sus = sus.applies(arende)  # a Finsam participant: SUS's "efter" questions too
    form = {"reason": reasons[0].key if reasons[0].end_state else "", "datum": local_today().isoformat(), "note": "",
            **(sus.closing_defaults(arende) if asks_sus else {})}
    errors, sus_values = {}, None
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        on, errors = closing.check_close(arende, reason=form["reason"], on_text=form["datum"], note=form["note"],
                                         today=local_today())
        if asks_sus:
            sus_values, sus_errors = sus.check_closing(form, form["reason"])
            errors.update(sus_errors)
        if not errors and posted_version() != arende.version:
            errors["reason"] = "Ärendet har ändrats av någon annan medan du fyllde i. Kontrollera och avsluta igen."
        if not errors:
            closing.close(user, arende, reason=form["reason"], on=on, note=form["note"] or None,
                          expected_version=arende.version, sus_values=sus_values)
            samverkan_ops.tell_linked_of_closing(user, arende)
            audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                         detail="avslutat")
            flash(f"Ärendet är avslutat: {closing.reason_title(form['reason'])}.", "success")
            return redirect(url_for("arenden.show", public_id=public_id))
    return render_template("web/arenden/close.html", arende=arende, individ=arenden.individ(arende), pm=pm(),
                           reasons=reasons, form=form, errors=errors, today=local_today().isoformat(),
                           sus_fields=sus.closing_fields(arende, form["reason"]) if asks_sus else None,
                           ruta=pm().ruta(arende.ruta)), 400 if errors else 200


@bp.post("/<public_id>/oppna")
@login_required
def reopen(public_id: str):
    user = current_user()
    arende = load(public_id)
    note = (request.form.get("note") or "").strip()
    error = None
    if arende.status != "avslutat":  # opened already (a double click, or someone else)
        flash("Ärendet är öppet.", "info")
        return redirect(url_for("arenden.show", public_id=public_id))
    if not note:
        error = "Skriv varför ärendet öppnas igen."
    elif len(note) > NOTE_MAX_LENGTH:
        error = f"Skälet {too_long(NOTE_MAX_LENGTH, len(note))}"
    elif posted_version() != arende.version:
        error = "Ärendet har ändrats av någon annan under tiden. Kontrollera och försök igen."
    if error is None:
        closing.reopen(user, arende, note=note, expected_version=arende.version)
        audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                     detail="återöppnat")
        flash("Ärendet är öppet igen.", "success")
        return redirect(url_for("arenden.show", public_id=public_id))
    # The overview shows the reopen form again with what was typed and the message at the field.
    return show(public_id, reopen_note=note, reopen_error=error)


# ---------------------------------------------------------------- the ruta step
@bp.route("/<public_id>/steg", methods=["GET", "POST"])
@login_required
def step(public_id: str):
    user = current_user()
    arende = load(public_id, for_change=True)
    ruta = pm().ruta(arende.ruta)
    errors = {}
    if request.method == "POST":
        if posted_version() != arende.version:
            flash("Ärendet har flyttats av någon annan under tiden. Här är var det står nu.", "warning")
            return redirect(url_for("arenden.step", public_id=public_id))
        choice = request.form.get("val", "")
        note = (request.form.get("note") or "").strip() or None
        targets = {f"{e.kind}:{e.target}": e for e in ruta.targets()}
        edge = targets.get(choice)
        if edge is None:
            errors["val"] = (ruta.decision.question + " Välj Ja eller Nej.") if ruta.decision else "Välj hur ärendet går vidare."
        if note and len(note) > NOTE_MAX_LENGTH:
            errors["note"] = f"Anteckningen {too_long(NOTE_MAX_LENGTH, len(note))}"
        if not errors:
            beslut = {"yes": f"{ruta.decision.question} Ja", "no": f"{ruta.decision.question} Nej"}.get(
                edge.kind, edge.label) if ruta.decision else edge.label
            arenden.move(user, arende, edge.target, kind="beslut" if edge.kind in ("yes", "no", "choice") else "ruta",
                         beslut=beslut, note=note)
            audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                         detail="steg")
            target = pm().ruta(edge.target)
            flash(f"Ärendet står nu i {target.label}: {target.title} ({pm().lane(target.lane).title}).", "success")
            return redirect(url_for("arenden.step", public_id=public_id))
    cat = current_app.extensions["catalogue"]
    close_reasons = closing.reasons_for(arende, pm()) if ruta.kind == "end" else None
    return render_template("web/arenden/step.html", arende=arende, ruta=ruta, lane=pm().lane(ruta.lane), pm=pm(),
                           individ=arenden.individ(arende), errors=errors, blanketter=cat.blanketter,
                           drafts={d.blankett_id: d for d in arenden.drafts(arende)},
                           doctor=_doctor_part(arende, ruta, cat.blanketter),
                           close_reasons=close_reasons,
                           sus_fields=sus.closing_fields(arende, close_reasons[0].key)
                           if close_reasons and sus.applies(arende) else None,
                           today=local_today().isoformat(),
                           note=request.form.get("note", "") if errors else ""), 400 if errors else 200


def _doctor_part(arende, ruta, blanketter):
    """On the ruta that waits for the doctor's answer (soc1.10) and on the one the answer leads to
    (soc1.11) — read off the process map as doctor.answers.ruta_after_answer does — the förfrågan
    documents still without a confirmed answer, and the confirmed answers as text; else None."""
    waits, leads_to = set(), set()
    for sender in pm().rutor.values():
        for blankett_id in sender.blankett_ids:
            if not (sender.next and doctor_answers.has_doctor_part(blanketter[blankett_id])):
                continue
            after = doctor_answers.ruta_after_answer(pm(), blankett_id, sender.next)
            if ruta.id == sender.next and after:
                waits.add(blankett_id)
            elif ruta.id == after:
                leads_to.add(blankett_id)
    ids = waits | leads_to
    if not ids:
        return None
    answered = [(svar, doctor_answers.summary(blanketter[svar.dokument.blankett_id], values))
                for svar, values in doctor_answers.confirmed(arende) if svar.dokument.blankett_id in ids]
    done = {svar.dokument_id for svar, _ in answered}
    pending = [d for d in registry.of(arende) if d.blankett_id in ids and (d.has_fillable or not d.klar)
               and d.id not in done]
    return {"waiting": bool(waits), "blanketter": [blanketter[b] for b in sorted(ids)], "pending": pending,
            "answered": answered}


# ---------------------------------------------------------------- documents
def _send_document(public_id: str, doc_id: str, fetch, detail: str, *, inline: bool = False):
    """A stored file of a document of this ärende, exactly as produced; audited, never a 500."""
    dok = registry.get(load(public_id), doc_id)
    if dok is None:
        abort(404)
    try:
        filename, mimetype, content = fetch(dok)
    except LookupError:
        abort(404)
    audit.record("document_downloaded", user=current_user(), object_type="dokument", object_id=dok.public_id,
                 detail=detail)
    response = current_app.response_class(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


@bp.get("/<public_id>/dokument/<doc_id>.<any(pdf, docx, ifyllbar, arkiv, zip):fmt>")
@login_required
def download(public_id: str, doc_id: str, fmt: str):
    return _send_document(public_id, doc_id, lambda dok: registry.content(dok, fmt), fmt,
                          inline=fmt == "pdf" and bool(request.args.get("visa")))


@bp.get("/<public_id>/dokument/<doc_id>/del/<int:position>.<any(pdf, docx):fmt>")
@login_required
def download_part(public_id: str, doc_id: str, position: int, fmt: str):
    """One part of a document (a bilaga, one recipient's copy) as PDF or DOCX, exactly as produced."""
    return _send_document(public_id, doc_id, lambda dok: registry.part_content(dok, position, fmt),
                          f"del {position + 1} {fmt}")


@bp.post("/<public_id>/dokument/<doc_id>/status")
@login_required
def document_status(public_id: str, doc_id: str):
    arende = load(public_id, for_change=True)
    dok = registry.get(arende, doc_id)
    status = request.form.get("status", "")
    if dok is None:
        abort(404)
    if dok.id in samverkan_access.status_set_by_recipient(arende):
        flash(f"{dok.document_number} är skickad i formservice: mottagaren sätter statusen när den tar emot och "
              "svarar.", "warning")
    elif status not in DOKUMENT_STATUS:
        flash("Välj en status.", "error")
    else:
        try:
            registry.set_status(current_user(), arende, dok, status, confirmed_from=request.form.get("fran"))
        except registry.StatusMovesBack as back:
            # Never backwards without asking: say from what to what, and let the user confirm.
            return render_template("web/arenden/status_back.html", arende=arende, individ=arenden.individ(arende),
                                   pm=pm(), dok=dok, back=back, statuses=DOKUMENT_STATUS,
                                   blankett=current_app.extensions["catalogue"].blanketter.get(dok.blankett_id))
        flash(f"{dok.document_number} har status {DOKUMENT_STATUS[status].lower()}.", "success")
        # A signed consent came back with the document: record it now (who, which parties, how long).
        parts = consents.consent_parts(current_app.extensions["catalogue"], dok)
        if status == "mottagen" and parts and not any(s.dokument_id == dok.id for s in consents.of(arende)):
            flash("Dokumentet innehåller ett samtycke. Registrera det från den underskrivna blanketten.", "info")
            return redirect(url_for("samtycke.new", public_id=public_id, dokument=dok.public_id, blankett=parts[0].id))
    return redirect(url_for("arenden.show", public_id=public_id) + "#dokument")
