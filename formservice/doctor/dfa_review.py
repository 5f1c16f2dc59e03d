"""The DFA review of a läkarintyg at rutor 7–8 ("Läkarintyg komplett?" in Soc 1).

The caseworker reviews any läkarintyg – a confirmed answer to a förfrågan in the ärende, a
läkarintyg typed in, or a PDF uploaded to look at – link by link along the DFA chain. The review
is stored encrypted in the ärende and sets the decision "Läkarintyg komplett?" through the same
move as the step page (arenden.operations.move, kind "beslut"), with the missing links named in
the history (the caseworker's own words in the encrypted note). "Nej" prepares a targeted
komplettering (blankett lakarintyg_komplettering) naming exactly the missing links: a draft the
caseworker produces through the normal wizard, with the same round trip as the förfrågan.

The rutor are read off the process map (the decision whose question is "Läkarintyg komplett?",
the rutor leading to it, and the rutor of its Nej branch until the Ja target), never by id."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import delete, select

from formservice import audit, db, tid
from formservice.accounts.models import User
from formservice.arenden import operations as arenden
from formservice.arenden.models import Arende
from formservice.arenden.operations import keyring, new_public_id, require_open

from . import fmb
from .dfa_review_models import DfaGranskning
from .models import Svar

QUESTION = "Läkarintyg komplett?"
KOMPLETTERING = "lakarintyg_komplettering"
MISSING_MAX = 500  # "what is missing", per link (the komplettering's box takes as much)
INTYG_MAX = 5000  # a läkarintyg typed in
DESCRIPTION_MAX = 200


@dataclass(frozen=True)
class Link:
    key: str
    question: str  # what the caseworker answers Ja/Nej
    short: str  # in the history's decision line
    asks: str  # the hint under "Vad saknas?"


LINKS = (
    Link("diagnos", "Är diagnosen angiven med diagnoskod (ICD-10-SE)?", "diagnoskod",
         "T.ex. diagnosen anges bara i ord, eller koden saknas."),
    Link("funktionsnedsattning", "Beskriver undersökningsfynd (inte bara symtom) funktionsnedsättningen?",
         "undersökningsfynd", "T.ex. bara patientens egna besvär, inga fynd, testresultat eller observationer."),
    Link("aktivitetsbegransning", "Är aktivitetsbegränsningen beskriven i förhållande till att söka arbete "
         "eller de aktiviteter som erbjuds?", "aktivitetsbegränsning",
         "T.ex. beskriven bara för nuvarande arbete, eller inte alls."),
    Link("sammanhang", "Hänger diagnos, funktionsnedsättning och aktivitetsbegränsning ihop (D → F → A)?",
         "DFA-sammanhang", "T.ex. aktivitetsbegränsningen följer inte av de beskrivna fynden."),
    Link("grad_period_prognos", "Är grad, period och prognos angivna?", "grad, period, prognos",
         "T.ex. ingen period, ingen grad av nedsättning eller ingen prognos."),
)
SOURCES = {"inskrivet": "Läkarintyget skrivs in här", "uppladdat": "Läkarintyget laddas upp som PDF"}


# ---------------------------------------------------------------- where on the map
@dataclass(frozen=True)
class Place:
    decision: Any  # the ruta with the decision "Läkarintyg komplett?"
    before: frozenset[str]  # the rutor leading to it (ruta 7)
    waiting: frozenset[str]  # its Nej branch up to the Ja target (rutor 9–10)


def place(process_map) -> Place | None:
    decision = next((r for r in process_map.rutor.values()
                     if r.decision and r.decision.question.strip() == QUESTION), None)
    if decision is None:
        return None
    before = frozenset(r.id for r in process_map.rutor.values()
                       if r.id != decision.id and any(e.target == decision.id for e in r.targets()))
    waiting, here = [], process_map.rutor.get(decision.decision.no)
    while here is not None and here.id != decision.decision.yes and here.id not in waiting and here.id != decision.id:
        waiting.append(here.id)
        here = process_map.rutor.get(here.next) if here.next else None
    return Place(decision, before, frozenset(waiting))


def _map():
    return current_app.extensions["catalogue"].process_map


def applies(arende: Arende) -> bool:
    """The review is offered on rutor 7–8 and on the Nej branch while a komplettering is awaited."""
    where = place(_map())
    here = _map().rutor.get(arende.ruta)
    return bool(where and here and (here.id == where.decision.id or here.id in where.before | where.waiting))


# ---------------------------------------------------------------- the läkarintyg to review
def answered_forfragningar(arende: Arende) -> list[tuple[Svar, dict[str, Any]]]:
    """The confirmed doctor's answers in the ärende (a förfrågan or an earlier komplettering)."""
    from .answers import confirmed

    return confirmed(arende)


def source_choices(arende: Arende) -> list[tuple[str, str]]:
    cat = current_app.extensions["catalogue"].blanketter
    out = []
    for svar, _values in answered_forfragningar(arende):
        blankett = cat.get(svar.dokument.blankett_id)
        title = blankett.title if blankett else svar.dokument.blankett_id
        out.append((f"svar:{svar.public_id}", f"Läkarens svar på {title} ({svar.dokument.document_number})"))
    return out + list(SOURCES.items())


# ---------------------------------------------------------------- checking what was posted
def check(form: Mapping[str, Any], arende: Arende, *, has_file: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """(clean values, Swedish errors by field name) of a posted review; the caller keeps what was typed."""
    errors: dict[str, str] = {}
    text = {k: str(form.get(k) or "").strip() for k in ("kalla", "intyg_text", "intyg_beskrivning", "diagnoskod")}
    clean: dict[str, Any] = {"kalla": text["kalla"], "intyg_beskrivning": text["intyg_beskrivning"],
                             "diagnoskod": fmb.normalise_code(text["diagnoskod"]), "lankar": {}}
    if text["kalla"] not in dict(source_choices(arende)):
        errors["kalla"] = "Välj vilket läkarintyg du granskar."
    elif text["kalla"] == "inskrivet":
        if not text["intyg_text"]:
            errors["intyg_text"] = "Skriv in läkarintygets text, eller välj ett annat läkarintyg."
        clean["intyg_text"] = text["intyg_text"]
    elif text["kalla"] == "uppladdat" and not has_file:
        errors["fil"] = "Välj PDF-filen med läkarintyget."
    if len(text["intyg_text"]) > INTYG_MAX:
        errors["intyg_text"] = f"Läkarintygets text är för lång: högst {INTYG_MAX} tecken (nu {len(text['intyg_text'])})."
    if len(text["intyg_beskrivning"]) > DESCRIPTION_MAX:
        errors["intyg_beskrivning"] = (f"Beskrivningen är för lång: högst {DESCRIPTION_MAX} tecken "
                                       f"(nu {len(text['intyg_beskrivning'])}).")
    if (code_error := fmb.code_error(text["diagnoskod"])) is not None:
        errors["diagnoskod"] = code_error
    for link in LINKS:
        answer = str(form.get(f"lank_{link.key}") or "")
        missing = str(form.get(f"saknas_{link.key}") or "").strip()
        if answer not in ("ja", "nej"):
            errors[f"lank_{link.key}"] = f"Svara ja eller nej: {link.question}"
        elif answer == "nej" and not missing:
            errors[f"saknas_{link.key}"] = "Skriv kort vad som saknas, så att läkaren vet vad som ska kompletteras."
        if len(missing) > MISSING_MAX:
            errors[f"saknas_{link.key}"] = f"Texten är för lång: högst {MISSING_MAX} tecken (nu {len(missing)})."
        clean["lankar"][link.key] = {"svar": answer, "saknas": missing if answer == "nej" else ""}
    return clean, errors


def outcome(lankar: Mapping[str, Mapping[str, str]]) -> str:
    return "ja" if all(lankar[link.key]["svar"] == "ja" for link in LINKS) else "nej"


def missing_links(lankar: Mapping[str, Mapping[str, str]]) -> list[Link]:
    return [link for link in LINKS if lankar[link.key]["svar"] == "nej"]


# ---------------------------------------------------------------- saving and deciding
def save(user: User, arende: Arende, clean: Mapping[str, Any], *, pdf: bytes | None = None) -> DfaGranskning:
    """Store the review and take the decision "Läkarintyg komplett?" on the map; on Nej prepare the
    komplettering (a draft naming exactly the missing links)."""
    require_open(arende)
    where = place(_map())
    if where is None or not applies(arende):
        raise arenden.NotFound("DFA-granskningen görs vid rutan Läkarintyg komplett?")
    svar_id = None
    if clean["kalla"].startswith("svar:"):
        svar = db.session().scalar(select(Svar).where(Svar.arende_id == arende.id,
                                                      Svar.public_id == clean["kalla"][len("svar:"):]))
        svar_id = svar.id if svar is not None else None
    kr = keyring()
    result = outcome(clean["lankar"])
    review = DfaGranskning(
        public_id=new_public_id(), arende_id=arende.id,
        source="forfragan" if svar_id else clean["kalla"], svar_id=svar_id,
        intyg_enc=kr.encrypt_json({"text": clean.get("intyg_text") or "", "beskrivning": clean["intyg_beskrivning"]}),
        pdf_enc=kr.encrypt(pdf) if pdf is not None else None,
        answers_enc=kr.encrypt_json({"lankar": clean["lankar"], "diagnoskod": clean["diagnoskod"]}),
        result=result, created_by=user.id)
    db.session().add(review)
    db.session().flush()
    audit.record("arende_changed", user=user, object_type="arende", object_id=arende.public_id,
                 detail="DFA-granskning", commit=False)
    _decide(user, arende, where, clean["lankar"], result)
    if result == "nej":
        _prepare_komplettering(user, arende, clean)
    return review


def _decide(user: User, arende: Arende, where: Place, lankar, result: str) -> None:
    """The decision of ruta 8, as the step page records it: from ruta 7 the ärende first steps onto
    ruta 8; on the Nej branch (awaiting a komplettering) Ja moves it on and Nej keeps it waiting."""
    decision = where.decision
    missing = missing_links(lankar)
    beslut = f"{QUESTION} {'Ja' if result == 'ja' else 'Nej'} (DFA-granskning"
    beslut += f"; saknas: {', '.join(link.short for link in missing)})" if missing else ")"
    note = "\n".join(f"{link.question} Nej – saknas: {lankar[link.key]['saknas']}" for link in missing) or None
    here = _map().rutor[arende.ruta].id
    if here in where.before:
        arenden.move(user, arende, decision.id, kind="ruta", beslut="Läkarintyget granskat utifrån DFA-kedjan")
        here = decision.id
    if here == decision.id:
        target = decision.decision.yes if result == "ja" else decision.decision.no
    else:  # on the Nej branch: Ja moves on, Nej keeps waiting for the komplettering
        target = decision.decision.yes if result == "ja" else here
    arenden.move(user, arende, target, kind="beslut", beslut=beslut[:200], note=note)


def _prepare_komplettering(user: User, arende: Arende, clean: Mapping[str, Any]) -> None:
    cat = current_app.extensions["catalogue"]
    if KOMPLETTERING not in cat.main_blanketter:
        return  # the förbund removed the blankett: the decision stands, nothing to prepare
    values = {f"saknas_{link.key}": clean["lankar"][link.key]["saknas"] for link in LINKS}
    values["komplettering_intyg"] = clean["intyg_beskrivning"]
    draft = arenden.draft(arende, KOMPLETTERING)
    arenden.save_draft(user, arende, KOMPLETTERING, values, draft.version if draft is not None else 0)


# ---------------------------------------------------------------- reading back
@dataclass(frozen=True)
class Review:
    row: DfaGranskning
    lankar: dict[str, dict[str, str]]
    diagnoskod: str
    intyg_text: str
    beskrivning: str

    @property
    def missing(self) -> list[Link]:
        return missing_links(self.lankar)

    @property
    def fmb(self) -> fmb.FmbLink | None:
        return fmb.link_for(self.diagnoskod) if self.diagnoskod else None


def _read(row: DfaGranskning) -> Review:
    kr = keyring()
    answers = kr.decrypt_json(row.answers_enc, {})
    intyg = kr.decrypt_json(row.intyg_enc, {}) if row.intyg_enc else {}
    return Review(row, answers.get("lankar") or {}, answers.get("diagnoskod") or "", intyg.get("text") or "",
                  intyg.get("beskrivning") or "")


def of(arende: Arende) -> list[Review]:
    """The ärende's reviews, newest first."""
    rows = db.session().scalars(select(DfaGranskning).where(DfaGranskning.arende_id == arende.id)
                                .order_by(DfaGranskning.created_at.desc(), DfaGranskning.id.desc())).all()
    return [_read(r) for r in rows]


def get(arende: Arende, public_id: str) -> Review | None:
    row = db.session().scalar(select(DfaGranskning).where(DfaGranskning.arende_id == arende.id,
                                                          DfaGranskning.public_id == public_id))
    return _read(row) if row is not None else None


def uploaded_pdf(review: Review) -> bytes | None:
    return keyring().decrypt(review.row.pdf_enc) if review.row.pdf_enc is not None else None


# ---------------------------------------------------------------- gallring and registerutdrag
def delete_for_arenden(dbs, arende_ids) -> None:
    dbs.execute(delete(DfaGranskning).where(DfaGranskning.arende_id.in_(list(arende_ids))),
                execution_options={"synchronize_session": False})


def extract_rows(arende: Arende, catalogue) -> tuple[list[dict[str, Any]], list[str]]:

    out, ids = [], []
    for review in reversed(of(arende)):
        ids.append(review.row.public_id)
        out.append({"granskad": tid.text(review.row.created_at), "lakarintyg": review.row.source_label,
                    "beskrivning": review.beskrivning or None, "diagnoskod": review.diagnoskod or None,
                    "komplett": "Ja" if review.row.result == "ja" else "Nej",
                    "saknas": [f"{link.question} {review.lankar[link.key]['saknas']}" for link in review.missing]})
    return out, ids


def install() -> None:
    from formservice.arenden import gallring, registerutdrag

    gallring.register_dependent(delete_for_arenden)
    registerutdrag.register_section("dfa_granskningar", extract_rows)


# ---------------------------------------------------------------- an uploaded läkarintyg
class UploadError(ValueError):
    """An uploaded läkarintyg that cannot be accepted; str(e) is Swedish."""


def check_upload(data: bytes) -> bytes:
    """An uploaded läkarintyg, checked as a returned förfrågan is (a real PDF, not encrypted, no
    JavaScript or attached files, within the size limit, read in a separate, limited process);
    the caller stores it encrypted with the review, or not at all."""
    from formservice.rendering import untrusted_pdf

    from .reference import INFO_KEY

    if not data:
        raise UploadError("Filen är tom. Välj PDF-filen med läkarintyget.")
    try:
        untrusted_pdf.open_untrusted(data, info_key=INFO_KEY, max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    except untrusted_pdf.UntrustedPdfError as exc:
        raise UploadError(str(exc)) from exc
    return data
