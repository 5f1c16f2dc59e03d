"""The doctor's confirmed answer as Försäkringskassan's "medicinskt underlag": a bilaga of its own,
"Medicinskt underlag från läkare", that FK's ansökan om samordning can carry. Granska offers it when
the ärende has a confirmed answer with the DFA chain (diagnos, funktionsnedsättning,
aktivitetsbegränsning), naming that answer; the caseworker ticks it on the individ's word. The tick
is not a field of FK's blankett (nothing is added in FK's name) and the API has no ärende to take
an answer from, so it is the ärende's alone.

The bilaga is the förfrågan's own doctor sections, printed with the doctor's answers as confirmed,
unchanged; only empty fields are left out (no empty box on a medical document invites handwriting)
and no signature line is drawn (the doctor signed the answer, not this copy). The answer is copied
into the ansökan's values when the ansökan is produced: the document keeps what it carried, also
when a komplettering later replaces the answer (a new ansökan carries the new one)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from formservice import tid
from formservice.arenden.models import Arende
from formservice.blanketter.catalogue import Catalogue
from formservice.blanketter.model import Blankett, Field, Section, field_role
from formservice.rendering import documents
from formservice.rendering.pdf import Part

from .answers import confirmed
from .dfa import dfa_fields

UNDERLAG_ID = "medicinskt_underlag"
TITLE = "Medicinskt underlag från läkare"
# The blanketter whose reader asks for a medicinskt underlag: Försäkringskassan's ansökan
# ("Jag bifogar ett medicinskt underlag").
OFFERED_WITH = ("fk_ansokan_samordning",)
CHOICE_FIELD = "bifoga_lakarsvar"  # the tick on Granska
VALUES_KEY = "medicinskt_underlag"  # where the produced ansökan keeps the answer it carries
# Without these three FK cannot read the chain diagnos → funktionsnedsättning → aktivitetsbegränsning.
REQUIRED_FK_IDS = ("6.2", "35.1", "17.1")
NOT_AVAILABLE = ("Det finns inget bekräftat läkarsvar med diagnoskod, funktionsnedsättning och "
                 "aktivitetsbegränsning i ärendet. Bekräfta läkarens svar på rehabiliteringsförfrågan först, "
                 "eller lämna rutan tom.")
INTRO = ("Läkarens svar på socialtjänstens rehabiliteringsförfrågan, så som läkaren lämnade det. "
         "Socialtjänsten har inte ändrat något i svaret; tomma frågor är utelämnade.")


def _source_section() -> Section:
    def text(name: str, label: str) -> Field:
        return Field(name=name, label=label, type="text", width="half", scope="dokument")

    return Section(id="underlag_kalla", number=None, title="Underlaget", fields=(
        text("underlag_forfragan", "Rehabiliteringsförfrågan, dokumentnummer"),
        text("underlag_bekraftat", "Läkarens svar registrerat i ärendet"),
    ))


def bilaga(forfragan: Blankett) -> Blankett:
    """The bilaga built from a förfrågan's definition: who it is about, where the answer comes from,
    then every section the doctor fills in, each field printed only when answered."""
    patient = next(s for s in forfragan.sections if any(f.prefill == "individ.personnummer" for f in s.fields))
    # Filled in already: no "Fylls i av behandlande läkare", no instructions to the doctor (the
    # activity table keeps its question, which its columns answer).
    doctor = [replace(s, signatures=(), page_break_before=False, filled_by=None,
                      intro=s.intro if s.layout == "grid" else None,
                      fields=tuple(replace(f, print_rule="if_filled", lines=1, filled_by=None) for f in s.fields))
              for s in forfragan.sections if any(field_role(f, s) == "lakare" for f in s.fields)]
    return replace(forfragan, id=UNDERLAG_ID, title=TITLE, subtitle=None, kind="bilaga", attachments=(),
                   send_to=None, intro=INTRO, shares_with=(), consent=None, per_recipient_rows=None,
                   per_recipient_unless=None, masthead="organisation", derived_from=forfragan.id,
                   sections=(replace(patient, number=None, title="Patient"), _source_section(), *doctor))


def has_dfa(blankett: Blankett, answers: Mapping[str, Any]) -> bool:
    """Whether a confirmed answer carries the DFA chain FK reads (REQUIRED_FK_IDS all answered)."""
    given = {f.fk for f in dfa_fields(blankett.fields) if str(answers.get(f.name) or "").strip()}
    return all(fk in given for fk in REQUIRED_FK_IDS)


def available(arende: Arende, catalogue: Catalogue) -> dict[str, Any] | None:
    """What the ansökan would carry: the latest confirmed answer with the DFA chain, or None."""
    for svar, answers in confirmed(arende):
        blankett = catalogue.blanketter.get(svar.dokument.blankett_id)
        if blankett is not None and has_dfa(blankett, answers):
            return {"blankett": blankett.id, "dokument": svar.dokument.document_number,
                    "bekraftat": tid.text(svar.confirmed_at, with_time=False), "svar": dict(answers)}
    return None


def offered(arende: Arende, catalogue: Catalogue, blankett: Blankett) -> dict[str, Any] | None:
    """The answer Granska offers to print with this blankett, or None."""
    return available(arende, catalogue) if blankett.id in OFFERED_WITH else None


def attach(arende: Arende, catalogue: Catalogue, blankett: Blankett, values: Mapping[str, Any], chosen: bool
           ) -> tuple[dict[str, Any], dict[str, str]]:
    """The values to produce the blankett from: with the answer it carries when the caseworker chose
    it, or an error when the ärende no longer has such an answer (confirmed meanwhile elsewhere, or
    a stale page)."""
    out = {k: v for k, v in values.items() if k != VALUES_KEY}
    if not chosen:
        return out, {}
    found = offered(arende, catalogue, blankett)
    if found is None:
        return out, {CHOICE_FIELD: NOT_AVAILABLE}
    return {**out, VALUES_KEY: found}, {}


def carried_by(dok) -> dict[str, Any] | None:
    """The answer a produced document carries (its dokumentnummer and date), or None."""
    from formservice.arenden.operations import keyring

    carried = keyring().decrypt_json(dok.values_enc, {}).get(VALUES_KEY)
    return carried if isinstance(carried, Mapping) else None


def _parts(catalogue: Catalogue, values: Mapping[str, Any]) -> list[Part]:
    carried = values.get(VALUES_KEY)
    if not isinstance(carried, Mapping):
        return []
    forfragan = catalogue.blanketter.get(str(carried.get("blankett")))
    if forfragan is None:
        return []
    part = bilaga(forfragan)
    part_values = {**dict(carried.get("svar") or {}),
                   "underlag_forfragan": carried.get("dokument"), "underlag_bekraftat": carried.get("bekraftat")}
    for f in part.sections[0].fields:  # the patient as the ansökan names them now
        part_values[f.name] = values.get(f.name, part_values.get(f.name))
    return [Part(part, part_values, None, TITLE)]


def install() -> None:
    documents.register_carried_bilaga(VALUES_KEY, _parts)
