"""SUS's category lists: the coded answers the Samordningsförbund registers for each Finsam participant
in SUS, the follow-up system Försäkringskassan runs for the förbund (susam.se).

Pure data (no flask, no database): the anmälan's YAML (forms/finsamteam_anmalan.yaml) carries the
same lists as `choices` for the "före" fields, the closing form offers them for "efter", and the
SUS-underlag prints them; tests/test_sus.py keeps the YAML and these lists equal.

What is confirmed and what is not (docs/sus.md has the sources):
- SYSSELSATTNING: the four groups SUS reports on (förvärvsarbete, studier, aktivt arbetssökande,
  övriga); susam.se also says a labour-market training counts as studies. Confirmed.
- FORSORJNING: susam.se defines offentlig försörjning (a-kassa, Försäkringskassan's benefits,
  försörjningsstöd) and says föräldrapenning and pensions count as "ingen offentlig försörjning";
  the finer list of benefits below is ours, NOT confirmed against SUS's own list. SUS may ask for
  several sources; this records the main one.
- UTBILDNINGSNIVA: susam.se says foreign education is given as the equivalent Swedish level; the
  levels themselves are ours, NOT confirmed.
- TID_OFFENTLIG_FORSORJNING: susam.se says breaks of up to a month are ignored; the bands are ours,
  NOT confirmed.
- AVSLUTSANLEDNING: susam.se confirms "felregistrering" (and blankett 9449 lists the rest); the other
  reasons are ours, NOT confirmed.
Every list has "uppgift saknas": SUS's answers are optional here, never a new obstacle to closing.
"""
from __future__ import annotations

SAKNAS = "saknas"
SAKNAS_LABEL = "Uppgift saknas"

FORSORJNING: dict[str, str] = {
    "ingen_offentlig": "Ingen offentlig försörjning (lön, studiemedel, föräldrapenning, pension)",
    "a_kassa": "Arbetslöshetsersättning (a-kassa)",
    "aktivitetsstod": "Aktivitetsstöd, utvecklingsersättning eller etableringsersättning",
    "sjukpenning": "Sjukpenning eller rehabiliteringspenning",
    "sjuk_aktivitetsersattning": "Sjukersättning eller aktivitetsersättning",
    "forsorjningsstod": "Försörjningsstöd (ekonomiskt bistånd)",
    "annan_offentlig": "Annan offentlig försörjning",
    SAKNAS: SAKNAS_LABEL,
}

SYSSELSATTNING: dict[str, str] = {
    "forvarvsarbete": "Förvärvsarbete",
    "studier": "Studier (även arbetsmarknadsutbildning)",
    "aktivt_arbetssokande": "Aktivt arbetssökande",
    "ovriga": "Övriga (ingen av ovanstående)",
    SAKNAS: SAKNAS_LABEL,
}

UTBILDNINGSNIVA: dict[str, str] = {
    "ej_grundskola": "Ej fullständig grundskola",
    "grundskola": "Grundskola",
    "gymnasium": "Gymnasieskola",
    "eftergymnasial": "Eftergymnasial utbildning",
    SAKNAS: SAKNAS_LABEL,
}

TID_OFFENTLIG_FORSORJNING: dict[str, str] = {
    "ingen": "Ingen tid i offentlig försörjning",
    "under_1_ar": "Mindre än 1 år",
    "ar_1_till_3": "1 år till mindre än 3 år",
    "ar_3_till_5": "3 år till mindre än 5 år",
    "ar_5_eller_mer": "5 år eller mer",
    SAKNAS: SAKNAS_LABEL,
}

ARBETE_STUDIER_OKAT: dict[str, str] = {
    "ja": "Ja, har börjat eller ökat arbete eller studier",
    "nej": "Nej",
    SAKNAS: SAKNAS_LABEL,
}

AVSLUTSANLEDNING: dict[str, str] = {
    "planen_genomford": "Insatsen avslutad enligt plan",
    "overlamnad": "Överlämnad till annan aktör eller insats",
    "ohalsa": "Ohälsa",
    "eget_val": "Avbrutit på egen begäran",
    "flyttat": "Flyttat",
    "avliden": "Avliden",
    "annan": "Annan anledning",
    "felregistrering": "Felregistrering",
}

# The ärende's facts (Arende.svar_enc) that hold SUS's answers, by the moment they arise.
FORE = {"sus_forsorjning_fore": FORSORJNING, "sus_sysselsattning_fore": SYSSELSATTNING,
        "sus_tid_offentlig_forsorjning": TID_OFFENTLIG_FORSORJNING, "sus_utbildningsniva": UTBILDNINGSNIVA}
EFTER = {"sus_forsorjning_efter": FORSORJNING, "sus_sysselsattning_efter": SYSSELSATTNING,
         "sus_arbete_studier_okat": ARBETE_STUDIER_OKAT, "sus_avslutsanledning": AVSLUTSANLEDNING}
