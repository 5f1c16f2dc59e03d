"""A long blankett's summary for the individ (issue 30): the förändringsplan is several pages; the
individ gets, after the Swedish plan, one page in the language they read (blanketter/sprak.py)
that says what the plan is, their goal, the steps and who does what and when. The values are the
plan's own, printed as the caseworker typed them; only the summary's fixed texts are translated.
The Swedish plan applies, and the summary says so.

The summary is a definition derived from the blankett's (as doctor/underlag.py derives the
medicinskt underlag from the förfrågan): the blankett's own fields, picked by name and given the
summary's plainer labels, so the same values fill it. A field the definition does not have is left
out. Its fixed texts are what sprak.py extracts and translates for the blankett (translated_form);
the full plan itself is printed in Swedish only. Pure Python: no flask, no database, no PDF engine."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from .model import Blankett, Field, Section


@dataclass(frozen=True)
class Picked:
    """One field of the blankett in the summary, with the summary's label (and its columns')."""
    name: str
    label: str
    columns: tuple[tuple[str, str], ...] = ()  # rows: (column name, label), in this order
    width: str = "full"


@dataclass(frozen=True)
class Part:
    title: str
    fields: tuple[Picked, ...]


@dataclass(frozen=True)
class Summary:
    title: str
    intro: str
    sections: tuple[Part, ...]


# By the id of the blankett summarised. The texts are Swedish, the catalogues' message ids.
SUMMARIES: dict[str, Summary] = {
    "forandringsplan": Summary(
        title="Sammanfattning av din förändringsplan",
        intro=("Förändringsplanen är en plan för hur du ska gå från ekonomiskt bistånd till egen "
               "försörjning. Du och din socialsekreterare har gjort planen tillsammans. Här står det "
               "viktigaste i planen. Det som skrevs i planen står här på svenska, så som det skrevs. "
               "Den svenska förändringsplanen gäller."),
        sections=(
            Part("Planen", (
                Picked("individ_namn", "Namn", width="half"),
                Picked("individ_personnummer", "Personnummer", width="half"),
                Picked("forandringsplan_datum", "Planens datum", width="half"),
                Picked("handlaggare_namn", "Din socialsekreterare", width="half"),
            )),
            Part("Ditt mål", (
                Picked("forandring_mal", "Det här vill du förändra för att få egen försörjning"),
                Picked("mal_atgarder", "Det här behöver du göra för att nå målet"),
            )),
            Part("Dina steg", (
                Picked("steg", "Stegen i din plan", columns=(("vad", "Vad du ska göra"), ("nar", "När"))),
            )),
            Part("Vem gör vad", (
                Picked("ansvar_sokande", "Det här ansvarar du för"),
                Picked("ansvar_socialsekreterare", "Det här ansvarar socialsekreteraren för"),
                Picked("villkor_ekonomiskt_bistand", "Det här behöver du göra för att ha rätt till ekonomiskt bistånd"),
            )),
            Part("Uppföljning", (
                Picked("tidplan_uppfoljning", "När och hur planen följs upp"),
            )),
        ),
    ),
}


def summary(blankett: Blankett) -> Blankett | None:
    """The blankett's summary as a definition of its own, or None when it has none."""
    spec = SUMMARIES.get(blankett.id)
    if spec is None or blankett.derived_from is not None:
        return None
    return _build(blankett, spec)


@lru_cache(maxsize=16)
def _build(blankett: Blankett, spec: Summary) -> Blankett:
    sections = []
    for n, part in enumerate(spec.sections, start=1):
        fields = tuple(_field(blankett.field(p.name), p) for p in part.fields if blankett.has_field(p.name))
        if fields:
            sections.append(Section(id=f"sammanfattning_{n}", number=None, title=part.title, fields=fields))
    return replace(blankett, id=f"{blankett.id}_sammanfattning", title=spec.title, subtitle=None,
                   intro=spec.intro, sections=tuple(sections), attachments=(), send_to=None,
                   consent=None, shares_with=(), per_recipient_rows=None, per_recipient_unless=None,
                   derived_from=blankett.id)


def _field(fld: Field, picked: Picked) -> Field:
    """The blankett's field as the summary prints it: its label, no help, and no empty box for what
    the plan left empty (a summary says what was written; nothing on it is filled in by hand)."""
    columns = {c.name: c for c in fld.columns}
    return replace(fld, label=picked.label, help=None, print_help=False, filled_by=None, lines=1,
                   width=picked.width, print_rule="always" if fld.required else "if_filled",
                   declaration=False, min_rows=0,
                   columns=tuple(replace(columns[name], label=label, help=None, filled_by=None)
                                 for name, label in picked.columns if name in columns) or fld.columns)
