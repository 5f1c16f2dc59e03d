"""The blankett wizard inside an ärende: short pages, a Granska page, then the documents."""
from __future__ import annotations

from functools import cached_property

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from formservice.accounts.login import current_user, login_required
from formservice.accounts.operations import organisation_settings
from formservice.arenden import operations as arenden
from formservice.arenden import consents, registry
from formservice.blanketter import prefill, wizard
from formservice.blanketter.validation import validate_fields
from formservice.doctor import answers as doctor_answers
from formservice.doctor import underlag
from formservice.rendering import documents, fonts
from formservice.rendering.display import format_value
from formservice.arenden.operations import local_today

from .paging import posted_version
from .processkarta import require_on_map

bp = Blueprint("blankett", __name__, url_prefix="/arenden/<public_id>/blankett/<blankett_id>")


class Context:
    """Everything a wizard request needs, loaded once and only when asked for: ärende, blankett
    parts, pages, values (the done page needs the ärende and the blankett, not the prefill)."""

    def __init__(self, public_id: str, blankett_id: str):
        self.user = current_user()
        try:
            self.arende = arenden.get(self.user, public_id)
        except arenden.NotFound:
            abort(404)
        require_on_map(self.arende)
        arenden.require_open(self.arende)
        cat = current_app.extensions["catalogue"]
        if blankett_id not in cat.main_blanketter:
            abort(404)
        self.catalogue = cat
        self.blankett = cat.blanketter[blankett_id]
        self.parts = documents.parts_of(cat, blankett_id)

    @cached_property
    def pages(self) -> list[wizard.Page]:
        return wizard.pages(self.parts)

    @cached_property
    def draft(self):
        return arenden.draft(self.arende, self.blankett.id)

    @cached_property
    def individ(self):
        return arenden.individ(self.arende)

    @cached_property
    def answers(self):
        return arenden.answers(self.arende)

    @cached_property
    def sources(self):
        return prefill.sources(individ=self.individ, user=self.user, settings=organisation_settings(self.user),
                               extra=doctor_answers.prefill_sources(self.arende, self.catalogue.blanketter),
                               answers=self.answers)

    @cached_property
    def _resolved(self):
        return prefill.resolve(self.parts, sources=self.sources, answers=self.answers,
                               draft=arenden.draft_values(self.draft), user_id=self.user.id)

    @property
    def values(self):
        return self._resolved[0]

    @property
    def origin(self):
        return self._resolved[1]

    def page(self, number: int) -> wizard.Page:
        for p in self.pages:
            if p.number == number:
                return p
        abort(404)

    def url(self, endpoint: str, **kw) -> str:
        return url_for(endpoint, public_id=self.arende.public_id, blankett_id=self.blankett.id, **kw)

    def render(self, template: str, status: int = 200, **kw):
        pm = current_app.extensions["catalogue"].process_map
        return render_template(template, c=self, pm=pm, **kw), status


@bp.get("")
@login_required
def start(public_id: str, blankett_id: str):
    c = Context(public_id, blankett_id)
    first = wizard.next_page(c.pages, 0, c.origin)
    return redirect(c.url("blankett.page", number=first.number) if first else c.url("blankett.review"))


def _error_id(key: str) -> str:
    return "f-" + key.replace(".", "-")


@bp.route("/sida/<int:number>", methods=["GET", "POST"])
@login_required
def page(public_id: str, blankett_id: str, number: int):
    c = Context(public_id, blankett_id)
    pg = c.page(number)
    errors: dict[str, str] = {}
    values = c.values
    if request.method == "POST":
        posted = wizard.form_keys(pg.fields, request.form)
        clean, errors = validate_fields(pg.fields, posted)
        errors = {**fonts.unprintable_errors(posted, fonts.field_labels(pg.fields)), **errors}  # printable
        # Keep exactly what was typed (even when invalid) so nothing is lost on an error.
        for f in pg.fields:
            if f.type != "rows":
                clean.setdefault(f.name, "" if f.type != "checkbox" else False)
        to_save = {k: v for k, v in clean.items() if k not in errors}
        for f in pg.fields:  # rows replace the whole list, also when emptied
            if f.type == "rows" and f.name not in to_save and not any(k.startswith(f.name + ".") for k in errors):
                to_save[f.name] = []
        # A value saved just as its live source says is not copied into the draft (see prefill).
        same = [f.name for f in pg.fields if f.name in to_save and prefill.from_source(f, to_save[f.name], c.sources)]
        producer = [f.name for f in pg.fields if prefill.is_producer_fact(f)]
        try:
            arenden.save_draft(c.user, c.arende, blankett_id, to_save, posted_version(), from_source=same,
                               producer=producer)
        except arenden.Conflict as exc:
            return c.render("web/blankett/conflict.html", 409, page=pg, mine=clean, theirs=exc.theirs,
                            version=exc.version, format_value=format_value)
        if not errors:
            if request.form.get("action") == "back":
                prev = wizard.previous_page(c.pages, number, c.origin)
                return redirect(c.url("blankett.page", number=prev.number) if prev else
                                url_for("arenden.step", public_id=public_id))
            if request.form.get("from_review"):
                return redirect(c.url("blankett.review"))
            nxt = wizard.next_page(c.pages, number, c.origin)
            return redirect(c.url("blankett.page", number=nxt.number) if nxt else c.url("blankett.review"))
        values = dict(values, **posted)
    draft = arenden.draft(c.arende, blankett_id)
    asked = [p for p in c.pages if wizard.needs_input(p, c.origin)]
    position = next((i + 1 for i, p in enumerate(asked) if p.number == number), None)
    return c.render("web/blankett/page.html", 400 if errors else 200, page=pg, values=values, errors=errors,
                    error_id=_error_id, version=draft.version if draft else 0, position=position,
                    total=len(asked), from_review=request.values.get("from_review"), passed_over=_passed_over(c, pg))


def _passed_over(c: Context, pg: wizard.Page) -> dict[str, list[str]]:
    """The sections between the previous page asked and this one that are not asked: "known" (filled in
    from a live source, shown on Granska) and "doctor" (the doctor's part). Said on the page, so that
    nobody wonders where a topic of the paper blankett went."""
    page_of = {(p.part.id, p.section.id): p for p in c.pages}
    out: dict[str, list[str]] = {"known": [], "doctor": []}
    for part in c.parts:
        for section in part.sections:
            page = page_of.get((part.id, section.id))
            if page is pg:
                return out
            if page is not None and wizard.needs_input(page, c.origin):
                out = {"known": [], "doctor": []}
            elif section.fields and not section.text_only:
                name = (f"{part.title}: " if part.id != pg.part.id else "") + section.title
                asked = any(wizard.is_asked(f, section) for f in section.fields)
                out["known" if asked else "doctor"].append(name)
    return out


@bp.route("/granska", methods=["GET", "POST"])
@login_required
def review(public_id: str, blankett_id: str):
    c = Context(public_id, blankett_id)
    errors: dict[str, str] = {}
    changed = False
    if request.method == "POST":
        posted = request.form.get("utkast", "")
        if arenden.review_ref(c.arende, blankett_id, c.draft, c.values) != posted:
            earlier = registry.by_utkast_ref(c.arende, posted)
            if earlier is not None:  # a double click, or the same review in two tabs
                return _already_produced(c, earlier)
            changed = True  # someone changed the draft after this review was shown: review again
        else:
            asked = wizard.asked_fields(c.parts)
            clean, errors = validate_fields(asked, c.values)
            errors = {**fonts.unprintable_errors(c.values, fonts.field_labels(asked)), **errors}
            clean, carried_errors = underlag.attach(c.arende, c.catalogue, c.blankett, clean,
                                                    chosen=bool(request.form.get(underlag.CHOICE_FIELD)))
            errors = {**carried_errors, **errors}
            if not errors:
                # Fields nobody types here (the doctor's part) are left empty for the paper form.
                try:
                    dok, finish = registry.produce(c.user, c.arende, c.catalogue, blankett_id, clean,
                                                   current_app.extensions["official_pdfs"], utkast_ref=posted,
                                                   draft=c.draft)
                except registry.AlreadyProduced as exc:
                    return _already_produced(c, exc.dokument)
                # The done page says what was made and warns of a missing samtycke itself: no
                # message through the session, which would cost this request and the next a write.
                response = redirect(url_for("blankett.done", public_id=public_id, blankett_id=blankett_id,
                                            doc_id=dok.public_id))
                # The rest of the document after the user has the answer – in a thread of its own: run
                # in the server's thread, it came before the next request of this keep-alive connection,
                # which is the browser following this redirect (the done page waited ×2.4–2.6 of bare
                # WeasyPrint for the förfrågan). Tests finish it inline, as the response closes.
                in_thread = current_app.config["DOCUMENT_REST_IN_THREAD"]
                rest = registry.in_background(finish, after_done_page=dok) if in_thread else finish
                response.call_on_close(rest)
                return response
    page_of = {f.name: p.number for p in c.pages for f in p.fields}
    status = 409 if changed else 400 if errors else 200
    missing = consents.missing_for(c.catalogue, c.arende, c.blankett, local_today())
    return c.render("web/blankett/review.html", status, values=c.values, errors=errors, changed=changed,
                    consent_missing=missing, consent_missing_names=consents.party_names(missing),
                    page_of=page_of, format_value=format_value, is_asked=wizard.is_asked,
                    underlag=underlag.offered(c.arende, c.catalogue, c.blankett),
                    underlag_chosen=bool(request.form.get(underlag.CHOICE_FIELD)),
                    utkast=arenden.review_ref(c.arende, blankett_id, c.draft, c.values), **_origins(c))


def _origins(c: Context) -> dict:
    """Where each value on Granska comes from: `origin` by field name ("utkast", "arende" or a prefill
    source key) and, for facts carried over, `given_in`: the document they were given in."""
    origin = prefill.provenance(c.parts, values=c.values, origin=c.origin, sources=c.sources, answers=c.answers)
    changed = prefill.changes_since(c.parts, values=c.values, answers=c.answers)
    documents_by_number = {d.document_number: d for d in registry.of(c.arende)}
    given_in = {}
    for name, number in arenden.answers_given_in(c.arende).items():
        dok = documents_by_number.get(number)
        if (origin.get(name) == "arende" or name in changed) and dok is not None:
            part = c.catalogue.blanketter.get(dok.blankett_id)
            given_in[name] = (part.title if part else dok.blankett_id, dok)
    # Typed here instead of what the individ's record says: saved to the record with the document.
    to_record = {f.name for p in c.pages for f in p.fields
                 if origin.get(f.name) == "utkast" and (f.prefill or "").startswith("individ.")}
    return {"origin": origin, "given_in": given_in, "changed_since": changed, "to_individ": to_record}


def _already_produced(c: Context, dok):
    flash(f"{c.blankett.title} var redan framtagen ({dok.document_number}); inget nytt dokument skapades.",
          "info")
    return redirect(c.url("blankett.done", doc_id=dok.public_id))


@bp.get("/klar/<doc_id>")
@login_required
def done(public_id: str, blankett_id: str, doc_id: str):
    c = Context(public_id, blankett_id)
    dok = registry.get(c.arende, doc_id)
    if dok is None:
        abort(404)
    # A document with a part for the doctor: the ruta after the one that sends it waits for the answer.
    pm = c.catalogue.process_map
    for_doctor = doctor_answers.has_doctor_part(c.blankett)
    waiting = next((pm.ruta(r.next) for r in pm.rutor.values() if dok.blankett_id in r.blankett_ids and r.next),
                   None) if for_doctor else None
    missing = consents.missing_for(c.catalogue, c.arende, c.blankett, local_today())
    page = c.render("web/blankett/done.html", dok=dok, waiting=waiting, for_doctor=for_doctor,
                    underlag=underlag.carried_by(dok), consent_missing_names=consents.party_names(missing)
                    if missing else None)
    registry.done_page_shown(dok)  # the rest of the document may take the CPU now
    return page


@bp.route("/kasta", methods=["GET", "POST"])
@login_required
def discard(public_id: str, blankett_id: str):
    """GET asks first (WCAG 3.3.4: deleting a whole draft is not one click); POST deletes."""
    c = Context(public_id, blankett_id)
    if request.method == "GET":
        return c.render("web/blankett/discard.html")
    arenden.discard_draft(c.arende, blankett_id)
    flash("Utkastet är borttaget.", "info")
    return redirect(url_for("arenden.step", public_id=public_id))
