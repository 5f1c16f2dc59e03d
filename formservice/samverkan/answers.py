"""What the recipient answers online, per kind of hand-over (forms/_samverkan.yaml `svar`):
the Finsamteam's decision and gemensam plan, a SIP invitee's reply, Försäkringskassan's decision.
(The doctor's answer is the förfrågan's own part for the doctor: doctor.readback validates it.)"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from formservice.blanketter.model import Choice
from formservice.blanketter.validation import date_or_error

MAX_TEXT = 4000


@dataclass(frozen=True)
class AnswerForm:
    kind: str
    title: str                       # the page's heading
    question: str                    # the radio group's legend
    choice_name: str
    choices: tuple[Choice, ...]
    # text fields: (name, label, required for these choice values, hint)
    texts: tuple[tuple[str, str, tuple[str, ...], str], ...] = ()
    date_field: tuple[str, str] | None = None   # (name, label): a required date


FORMS = {
    "finsamteam": AnswerForm(
        "finsamteam", "Finsamteamets beslut", "Tas individen emot i Finsamteamet?", "beslut",
        (Choice("antagen", "Ja, individen tas emot och en gemensam plan är upprättad"),
         Choice("ej_antagen", "Nej, individen tas inte emot")),
        (("gemensam_plan", "Gemensam plan", ("antagen",),
          "Planens mål, delmål och vem som gör vad (varje part ansvarar för sin del)."),
         ("motivering", "Motivering", ("ej_antagen",), "Varför teamet inte tar emot individen och vad som föreslås i stället."))),
    "sip": AnswerForm(
        "sip", "Svar på kallelse till SIP", "Deltar ni på mötet?", "deltar",
        (Choice("ja", "Ja, vi deltar"), Choice("nej", "Nej, vi deltar inte"),
         Choice("annan", "En annan person deltar i stället")),
        (("ersattare", "Vem deltar i stället (namn och titel)", ("annan",), ""),
         ("kommentar", "Kommentar", (), "Till exempel önskemål om tid eller vad ni vill ta upp."))),
    "fk": AnswerForm(
        "fk", "Försäkringskassans beslut", "Vad har Försäkringskassan beslutat?", "beslut",
        (Choice("ratt", "Rätt till samordning av rehabiliteringsinsatser"),
         Choice("avslag", "Avslag på ansökan")),
        (("kommentar", "Kommentar till socialtjänsten", ("avslag",),
          "Vid avslag: skälen i korthet och vad individen kan göra (beslutet skickas till individen som vanligt)."),),
        ("beslutsdatum", "Beslutsdatum")),
}


def check(form: AnswerForm, raw: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(clean values, errors by field name) – every problem at once, in Swedish; nothing typed is lost."""
    values = {form.choice_name: str(raw.get(form.choice_name) or "").strip()}
    errors: dict[str, str] = {}
    choice = values[form.choice_name]
    if choice not in {c.value for c in form.choices}:
        errors[form.choice_name] = f"Välj ett svar: {form.question.lower().rstrip('?')}."
        choice = ""
    for name, label, required_for, _hint in form.texts:
        text = str(raw.get(name) or "").strip()
        values[name] = text
        if choice and choice in required_for and not text:
            errors[name] = f"Fyll i {label.lower()}."
        elif len(text) > MAX_TEXT:
            errors[name] = f"{label} får vara högst {MAX_TEXT} tecken (nu {len(text)})."
    if form.date_field:
        name, label = form.date_field
        values[name] = str(raw.get(name) or "").strip()
        day, error = date_or_error(values[name], label)
        if error:
            errors[name] = error
        elif day is not None:
            values[name] = day.isoformat()
    return values, errors


def summary(form: AnswerForm, values: Mapping[str, str]) -> str:
    """One line for the sender's history: the choice as said (never the free text)."""
    chosen = next((c.label for c in form.choices if c.value == values.get(form.choice_name)), "")
    date = f" ({values[form.date_field[0]]})" if form.date_field and values.get(form.date_field[0]) else ""
    return chosen + date
