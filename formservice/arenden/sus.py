"""SUS: the answers the Samordningsförbund registers for each Finsam participant, recorded where they
arise, and the SUS-underlag the deltagaransvarig registers from.

Where each answer comes from (docs/sus.md):
- "före" (försörjning, sysselsättning, tid i offentlig försörjning, utbildningsnivå): the anmälan to
  Finsamteam (forms/finsamteam_anmalan.yaml, section 5) — facts of the ärende, stored encrypted
  with the other answers when the anmälan is produced; utbildningsnivå is also written to the
  individ's record (prefill `individ.utbildningsniva`), so it is asked once.
- "efter" (försörjning, sysselsättning, började/ökade arbete eller studier, avslutsanledning): the
  closing form (web/arenden.close); the avslutsanledning is proposed from the reason the ärende
  is closed for (AVSLUT_BY_REASON) and the caseworker may choose another.

A SUS-underlag names the person only while the individ's SUS samtycke (consents.SUS_KIND) is active
and the individ has no skyddade personuppgifter; otherwise it is anonymous, as SUS registers
anonymous participants: kön and the year the participant started, nothing else.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from sqlalchemy import select

from formservice import db
from formservice.blanketter.sus_categories import (AVSLUTSANLEDNING, EFTER, FORE, SAKNAS, SAKNAS_LABEL)

from . import consents, demografi, statistik
from .models import Arende, Handelse
from .operations import answers, individ

# The lanes of the map whose ärenden are Finsam participants (handläggarstödet: Finsamteam 7,
# Finsam-insatser 8): closing one of them asks SUS's "efter" questions.
FINSAM_LANES = ("finsamteam", "finsaminsats")

# The avslutsanledning proposed for a closing reason: the map's end states by the part of their id
# after the lane ("fk.slut-avslag" → "slut-avslag"), the general reasons (closing.GENERAL_REASONS) by key.
AVSLUT_BY_REASON = {
    "slut": "planen_genomford",            # självförsörjande genom arbete, studier, arbetssökande …
    "slut-genomford": "planen_genomford",  # Finsamteamets plan är genomförd och uppföljd
    "slut-insats": "overlamnad",           # fortsätter i en insats hos parten
    "slut-avslag": "overlamnad",           # fortsätter hos den part som ansökte
    "slut-ersattning": "ohalsa",           # ansökan om sjuk- eller aktivitetsersättning
    "slut-ingeninsats": "ohalsa",          # helt sjukskriven, inte aktivt arbetssökande
    "slut-ingetbehov": "annan",
    "avbojt": "eget_val",
    "flyttat": "flyttat",
    "overlamnat": "overlamnad",
    "avliden": "avliden",
    "annat": "annan",
}

# SUS's order: the inregistrering (who, when, before) then the utregistrering (when, why, after).
# (key, label, personal): personal fields are left out of an anonymous underlag.
FIELD_ORDER = (
    ("personnummer", "Personnummer", True),
    ("namn", "Namn", True),
    ("kon", "Kön", False),
    ("alder", "Ålder vid start", True),
    ("startdatum", "Startdatum i insatsen", True),
    ("startar", "Budgetår då deltagaren startade", False),
    ("sus_utbildningsniva", "Högsta slutförda utbildningsnivå", True),
    ("sus_forsorjning_fore", "Försörjning före", True),
    ("sus_tid_offentlig_forsorjning", "Tid i offentlig försörjning före insatsen", True),
    ("sus_sysselsattning_fore", "Sysselsättning före", True),
    ("slutdatum", "Slutdatum", True),
    ("sus_avslutsanledning", "Avslutsanledning", True),
    ("sus_forsorjning_efter", "Försörjning efter", True),
    ("sus_sysselsattning_efter", "Sysselsättning efter", True),
    ("sus_arbete_studier_okat", "Har börjat eller ökat arbete eller studier", True),
)
CATEGORIES = {**FORE, **EFTER}


def applies(arende: Arende) -> bool:
    """Whether the ärende is a Finsam participant's: it stands in a Finsam lane or has SUS answers."""
    lane = arende.ruta.split(".")[0]
    return lane in FINSAM_LANES or arende.lane in FINSAM_LANES or any(k in CATEGORIES for k in answers(arende))


def proposed_avslut(reason: str) -> str:
    """The avslutsanledning for a closing reason (an end state's id or a general reason's key)."""
    key = reason.split(".", 1)[1] if "." in reason else reason
    return AVSLUT_BY_REASON.get(key, "annan")


# ---------------------------------------------------------------- recording at closing
EFTER_FIELDS = tuple(EFTER)  # the closing form's order
EFTER_LABELS = {"sus_forsorjning_efter": "Försörjning efter", "sus_sysselsattning_efter": "Sysselsättning efter",
                "sus_arbete_studier_okat": "Har individen börjat eller ökat arbete eller studier?",
                "sus_avslutsanledning": "Avslutsanledning i SUS"}


def check_closing(form: Mapping[str, str], reason: str) -> tuple[dict[str, str], dict[str, str]]:
    """The closing form's SUS answers; (clean, errors by field) with Swedish messages. Empty answers
    are "uppgift saknas"; an empty avslutsanledning is the one proposed for the reason."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in EFTER_FIELDS:
        value = str(form.get(name) or "").strip()
        if name == "sus_avslutsanledning" and not value:
            value = proposed_avslut(reason)
        value = value or SAKNAS
        if value not in CATEGORIES[name]:
            errors[name] = f"{EFTER_LABELS[name]}: välj ett av alternativen i listan."
            continue
        clean[name] = value
    return clean, errors


def closing_defaults(arende: Arende) -> dict[str, str]:
    """What the closing form starts from: answers given at an earlier closing (the ärende was
    reopened), so closing again does not erase them; the avslutsanledning follows the new reason."""
    efter = recorded(arende).efter
    return {name: "" if name == "sus_avslutsanledning" or efter[name] == SAKNAS else efter[name]
            for name in EFTER_FIELDS}


@dataclass(frozen=True)
class ClosingField:
    """One SUS question on the closing form."""

    name: str
    label: str
    options: dict[str, str]
    hint: str = ""
    empty: str = ""  # the text of the empty choice (the proposal, for the avslutsanledning)


def closing_fields(arende: Arende, reason: str = "") -> list[ClosingField]:
    """The closing form's SUS questions, each "efter" one with what the anmälan said "före"."""
    rec = recorded(arende)
    before = {"sus_forsorjning_efter": "sus_forsorjning_fore", "sus_sysselsattning_efter": "sus_sysselsattning_fore"}
    out = []
    for name in EFTER_FIELDS:
        options = dict(CATEGORIES[name])
        hint = f"Vid anmälan: {rec.label(before[name])}." if name in before else ""
        empty = SAKNAS_LABEL
        if name == "sus_avslutsanledning":
            hint = "Lämnas valet som det är, följer avslutsanledningen skälet ovan."
            empty = "Enligt skälet ovan" + (f" ({AVSLUTSANLEDNING[proposed_avslut(reason)]})" if reason else "")
        else:
            options.pop(SAKNAS)
        out.append(ClosingField(name, EFTER_LABELS[name], options, hint, empty))
    return out


# ---------------------------------------------------------------- reading
@dataclass(frozen=True)
class Recorded:
    """One ärende's SUS answers as codes (SAKNAS where nothing was recorded)."""

    arende_id: int
    fore: dict[str, str]
    efter: dict[str, str]
    closed_on: date | None

    def label(self, name: str) -> str:
        value = {**self.fore, **self.efter}.get(name, SAKNAS)
        return CATEGORIES[name].get(value, SAKNAS_LABEL)


def recorded(arende: Arende) -> Recorded:
    """The SUS values recorded in one ärende, before and after (for the uppföljning's before/after
    tables as for the underlag). Utbildningsnivå falls back on the individ's record."""
    facts = answers(arende)
    fore = {name: str(facts.get(name) or SAKNAS) for name in FORE}
    if fore["sus_utbildningsniva"] == SAKNAS:
        fore["sus_utbildningsniva"] = individ(arende).get("utbildningsniva") or SAKNAS
    efter = {name: str(facts.get(name) or SAKNAS) for name in EFTER}
    if arende.status == "avslutat" and efter["sus_avslutsanledning"] == SAKNAS and arende.closed_reason:
        efter["sus_avslutsanledning"] = proposed_avslut(arende.closed_reason)
    return Recorded(arende.id, fore, efter, arende.closed_on)


# The answers the uppföljning counts before and after (uppfoljning/rapport.py's SUS tables), as
# "name:code" keys of the summary table (arenden.statistik, kind "sus").
OUTCOME_FIELDS = ("sus_forsorjning_fore", "sus_forsorjning_efter", "sus_sysselsattning_fore",
                  "sus_sysselsattning_efter", "sus_arbete_studier_okat", "sus_avslutsanledning")


def outcome_keys(rec: Recorded) -> list[str]:
    values = {**rec.fore, **rec.efter}
    return [f"{name}:{values[name]}" for name in OUTCOME_FIELDS]


def count_closing(arende: Arende, sign: int = 1) -> None:
    """Count a Finsam participant's closing in the uppföljning's before/after tables (after the
    ärende is closed), or take the count back (sign -1, before it is opened again). Caller commits."""
    if arende.status == "avslutat" and arende.closed_on and applies(arende):
        statistik.on_sus(arende, outcome_keys(recorded(arende)), arende.closed_on, sign)


def closings() -> list[tuple[int, date, list[str]]]:
    """(ärende id, closed on, outcome keys) of every closed Finsam participant: what count_closing
    counted, for a rebuild of the summary table (each ärende's answers decrypted, nothing kept)."""
    rows = db.session().scalars(select(Arende).where(Arende.status == "avslutat", Arende.closed_on.is_not(None)))
    return [(a.id, a.closed_on, outcome_keys(recorded(a))) for a in rows if applies(a)]


def recorded_many(arende_ids: Iterable[int]) -> dict[int, Recorded]:
    """recorded() for many ärenden at once, by ärende id (each one decrypted; no personal data out)."""
    ids = list(arende_ids)
    rows = db.session().scalars(select(Arende).where(Arende.id.in_(ids))).all() if ids else []
    return {a.id: recorded(a) for a in rows}


def has_consent(arende: Arende, today: date) -> bool:
    return any(s.blankett_id == consents.SUS_KIND.id and s.active_on(today) for s in consents.of(arende))


def anonymous_because(arende: Arende, today: date) -> str | None:
    """Why the underlag must be anonymous, in Swedish; None when it may name the person."""
    if individ(arende).get("skyddade_personuppgifter"):
        return "Individen har skyddade personuppgifter. Registrera deltagaren som anonym i SUS."
    # A closed ärende: the samtycke ended with it, and the utregistrering is made for that day.
    if not has_consent(arende, arende.closed_on or today):
        return ("Inget aktivt samtycke till registrering i SUS är registrerat i ärendet. "
                "Registrera deltagaren som anonym i SUS.")
    return None


@dataclass(frozen=True)
class Underlag:
    rows: list[tuple[str, str, str]]     # (key, label, value) in SUS's order
    anonymous_because: str | None

    @property
    def anonymous(self) -> bool:
        return self.anonymous_because is not None


def _start(arende: Arende) -> date:
    """The day the participant started: the first history entry in a Finsam lane, else the ärende's start."""
    first = db.session().scalar(
        select(Handelse.at).where(Handelse.arende_id == arende.id,
                                  Handelse.to_ruta.like("finsamteam.%") | Handelse.to_ruta.like("finsaminsats.%"))
        .order_by(Handelse.at).limit(1))
    return (first or arende.created_at).date()


def _age(personnummer: str, on: date) -> str:
    if len(personnummer) != 12 or not personnummer.isdigit():
        return ""
    day = int(personnummer[6:8])
    try:
        born = date(int(personnummer[:4]), int(personnummer[4:6]), day - 60 if day > 60 else day)
    except ValueError:
        return ""
    return str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def underlag(arende: Arende, today: date) -> Underlag:
    """The SUS-underlag for one participant: every variable in SUS's order, or, anonymous, only kön
    and the budgetår the participant started (what SUS registers for an anonymous participant)."""
    why = anonymous_because(arende, today)
    person = individ(arende)
    pnr = person.get("personnummer", "")
    rec = recorded(arende)
    start = _start(arende)
    values: dict[str, str] = {
        "personnummer": f"{pnr[:8]}-{pnr[8:]}" if len(pnr) == 12 else pnr,
        "namn": person.get("namn", ""),
        "kon": {"K": "Kvinna", "M": "Man"}.get(demografi.kon(pnr) or "", SAKNAS_LABEL),
        "alder": _age(pnr, start),
        "startdatum": start.isoformat(),
        "startar": str(start.year),
        "slutdatum": rec.closed_on.isoformat() if rec.closed_on else "",
    }
    values.update({name: rec.label(name) for name in CATEGORIES})
    rows = [(key, label, values[key]) for key, label, personal in FIELD_ORDER if not (why and personal)]
    return Underlag(rows, why)


def csv_text(u: Underlag) -> str:
    """The underlag as CSV in SUS's field order: one header row, one row of values (semicolons, as
    Swedish Excel reads them)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _key, label, _value in u.rows])
    writer.writerow([_safe_cell(value) for _key, _label, value in u.rows])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit() else value
