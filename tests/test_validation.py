"""Tests for formservice.blanketter.validation. Test personnummer only (never a real person)."""
from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from formservice.blanketter.loader import load_definitions
from formservice.blanketter.validation import _luhn_ok  # the check digit of a made-up test number
from formservice.blanketter.validation import (
    ValidationError, format_personnummer, is_samordningsnummer, normalize_personnummer,
    normalize_phone, parse_checkbox, parse_choice, parse_date, parse_percent, parse_scale,
    parse_time, validate_email, validate_values,
)

FORMS_DIR = Path(__file__).resolve().parents[1] / "forms"
TODAY = date(2026, 3, 1)


def luhn_digit(nine: str) -> str:
    """The check digit that makes `nine` + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def definitions():
    return load_definitions(FORMS_DIR)


@pytest.fixture
def forandringsplan(definitions):
    return definitions["forandringsplan"]


# --- personnummer --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["19121212-1212", "191212121212", "19121212 1212",
                                  " 1912 1212-1212 "])
def test_personnummer_twelve_digits(text):
    assert normalize_personnummer(text, today=TODAY) == "191212121212"


def test_personnummer_ten_digits_century_from_today():
    # "-": the most recent century that does not lie in the future.
    assert normalize_personnummer("121212-1212", today=TODAY) == "201212121212"
    assert normalize_personnummer("1212121212", today=TODAY) == "201212121212"
    # "+": 100 years or older.
    assert normalize_personnummer("121212+1212", today=TODAY) == "191212121212"


def test_personnummer_ten_digits_birthday_later_this_year_is_last_century():
    nine = "261231" + "123"
    ten = nine + luhn_digit(nine)
    assert normalize_personnummer(ten, today=TODAY) == "19" + ten


def test_personnummer_bad_check_digit():
    with pytest.raises(ValidationError, match="Kontrollsiffran stämmer inte"):
        normalize_personnummer("191212121213", today=TODAY)


def test_personnummer_impossible_date():
    nine = "121312121"               # month 13
    pnr = "19" + nine[:6] + "-" + nine[6:] + luhn_digit(nine)
    with pytest.raises(ValidationError, match="datum som inte finns"):
        normalize_personnummer(pnr, today=TODAY)


@pytest.mark.parametrize("text", ["", "19121212121", "19121212-121", "abc", "19121212/1212",
                                  "1912121212123"])
def test_personnummer_wrong_format(text):
    with pytest.raises(ValidationError, match="10 eller 12 siffror"):
        normalize_personnummer(text, today=TODAY)


def test_personnummer_messages_are_distinct():
    messages = set()
    nine = "121312121"
    for text in ["12", "19121212-1213", "19" + nine + luhn_digit(nine)]:
        with pytest.raises(ValidationError) as info:
            normalize_personnummer(text, today=TODAY)
        messages.add(str(info.value))
    assert len(messages) == 3


def test_samordningsnummer():
    nine = "121272121"               # day 12 + 60
    twelve = "19" + nine + luhn_digit(nine)
    assert normalize_personnummer(twelve, today=TODAY) == twelve
    assert is_samordningsnummer(twelve)
    assert is_samordningsnummer(nine[:6] + "-" + nine[6:] + luhn_digit(nine), today=TODAY)
    assert not is_samordningsnummer("19121212-1212")
    assert not is_samordningsnummer("not a number")


def test_samordningsnummer_impossible_day():
    nine = "121292121"               # day 32 + 60
    with pytest.raises(ValidationError, match="datum som inte finns"):
        normalize_personnummer("19" + nine + luhn_digit(nine), today=TODAY)


def test_format_personnummer():
    assert format_personnummer("191212121212") == "19121212-1212"
    with pytest.raises(ValidationError):
        format_personnummer("1212121212")


# --- other validators ----------------------------------------------------------------

def test_parse_date():
    assert parse_date("2026-03-31") == date(2026, 3, 31)
    assert parse_date("20260331") == date(2026, 3, 31)
    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)
    with pytest.raises(ValidationError, match="ÅÅÅÅ-MM-DD"):
        parse_date("31/3 2026")
    with pytest.raises(ValidationError, match="finns inte"):
        parse_date("2026-02-30")


def test_parse_time():
    assert parse_time("09:30") == time(9, 30)
    assert parse_time("9.30") == time(9, 30)
    for bad in ("25:00", "12:60", "klockan tolv", "1230"):
        with pytest.raises(ValidationError, match="TT:MM"):
            parse_time(bad)


@pytest.mark.parametrize("text, expected", [
    ("08-123 456 78", "08-123 456 78"),
    ("  070 - 123  45 67 ", "070 - 123 45 67"),
    ("+46 8 123 456 78", "+46 8 123 456 78"),
    ("0046 8 123 456 78", "+46 8 123 456 78"),
    ("+46 (0)70-123 45 67", "+46 70-123 45 67"),
])
def test_normalize_phone(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize("text", ["08-123 ABC", "ring mig", "123 45", "8-123 456 78",
                                  "0812345678901234567"])
def test_normalize_phone_rejects(text):
    with pytest.raises(ValidationError):
        normalize_phone(text)


def test_validate_email():
    assert validate_email(" anna.andersson@stockholm.se ") == "anna.andersson@stockholm.se"
    for bad in ("anna", "anna@", "anna@stockholm", "an na@stockholm.se", "a@b@c.se"):
        with pytest.raises(ValidationError, match="e-postadress"):
            validate_email(bad)


@pytest.mark.parametrize("value, expected", [("50", 50), ("50%", 50), ("50 %", 50),
                                             (0, 0), (100, 100), ("25", 25)])
def test_parse_percent(value, expected):
    assert parse_percent(value) == expected


@pytest.mark.parametrize("value", ["101", 150, "-5", "12,5", "hälften", True])
def test_parse_percent_rejects(value):
    with pytest.raises(ValidationError):
        parse_percent(value)


def test_parse_scale():
    assert parse_scale("7", 1, 10) == 7
    for bad in ("0", "11", "sju"):
        with pytest.raises(ValidationError, match="1–10"):
            parse_scale(bad, 1, 10)


def test_parse_choice(definitions):
    field = definitions["sip_kallelse"].field("sip_syfte")
    assert parse_choice("uppfoljning", field.choices) == "uppfoljning"
    with pytest.raises(ValidationError):
        parse_choice("annat", field.choices)


@pytest.mark.parametrize("value, expected", [
    ("on", True), ("true", True), ("1", True), (True, True), ("/On", True), ("Ja", True),
    ("", False), (None, False), ("off", False), (False, False), ("/Off", False),
])
def test_parse_checkbox(value, expected):
    assert parse_checkbox(value) is expected


def test_parse_checkbox_rejects_nonsense():
    with pytest.raises(ValidationError):
        parse_checkbox("kanske")


# --- validate_values -------------------------------------------------------------------

def complete_plan(**extra):
    values = {
        "forandringsplan_datum": "2026-03-01",
        "individ_namn": "Test Testsson",
        "individ_personnummer": "121212-1212",
        "handlaggare_namn": "Sara Socialsekreterare",
        "aktuell_situation": "Söker arbete.\r\nHar försörjningsstöd.  ",
        "bedomning_sjalvforsorjning": "7",
    }
    values.update(extra)
    return values


def test_validate_values_complete(forandringsplan):
    clean, errors = validate_values(forandringsplan, complete_plan(okand_nyckel="x"))
    assert errors == {}
    assert clean["individ_personnummer"] == "201212121212"
    assert clean["forandringsplan_datum"] == "2026-03-01"
    assert clean["aktuell_situation"] == "Söker arbete.\nHar försörjningsstöd."
    assert clean["bedomning_sjalvforsorjning"] == 7
    assert "okand_nyckel" not in clean          # unknown keys are ignored
    assert "tidplan_uppfoljning" not in clean   # blank answers are left out


def test_validate_values_rows(forandringsplan):
    raw = complete_plan(steg=[
        {"vad": "Skriva CV", "nar": "vecka 12"},
        {"vad": "", "nar": "  "},                 # empty: dropped
        {"vad": "Söka tre jobb", "nar": ""},
    ], hinder=[{"hinder": "Ont i ryggen", "agera": "", "stodbehov": "Ja"}])
    clean, errors = validate_values(forandringsplan, raw)
    assert errors == {}
    assert clean["steg"] == [{"vad": "Skriva CV", "nar": "vecka 12"}, {"vad": "Söka tre jobb"}]
    assert clean["hinder"] == [{"hinder": "Ont i ryggen", "stodbehov": "Ja"}]


def test_validate_values_row_cell_error_is_keyed_one_based(forandringsplan):
    raw = complete_plan(steg=[{"vad": "Skriva CV"}, {"nar": "i morgon"}])
    clean, errors = validate_values(forandringsplan, raw)
    assert errors == {"steg.2.vad": "Du kommer att ta följande steg, rad 2, "
                                    "Vad börjar du med?: måste fyllas i."}


def test_validate_values_rows_from_flat_keys(forandringsplan):
    raw = complete_plan(**{"steg.1.vad": "Skriva CV", "steg.1.nar": "mars",
                           "steg.3.vad": "Ringa AF"})
    clean, errors = validate_values(forandringsplan, raw)
    assert errors == {}
    assert clean["steg"] == [{"vad": "Skriva CV", "nar": "mars"}, {"vad": "Ringa AF"}]


def test_validate_values_required_missing(forandringsplan):
    raw = complete_plan(individ_namn="   ")
    del raw["individ_personnummer"]
    clean, errors = validate_values(forandringsplan, raw)
    assert errors["individ_namn"] == "Namn: måste fyllas i."
    assert errors["individ_personnummer"] == "Personnummer: måste fyllas i."


def test_validate_values_personnummer_message_names_field(forandringsplan):
    _, errors = validate_values(forandringsplan,
                                complete_plan(individ_personnummer="191212121213"))
    assert errors == {"individ_personnummer": "Personnummer: kontrollsiffran stämmer inte."}


def test_validate_values_max_length(forandringsplan):
    _, errors = validate_values(forandringsplan, complete_plan(individ_namn="x" * 201))
    assert errors["individ_namn"] == "Namn: får vara högst 200 tecken, men texten har 201. Korta den med 1 tecken."


def test_validate_values_partial_skips_required_but_not_format(forandringsplan):
    clean, errors = validate_values(forandringsplan, {"aktuell_situation": "Utkast"},
                                    partial=True)
    assert errors == {}
    assert clean == {"aktuell_situation": "Utkast"}
    _, errors = validate_values(forandringsplan, {"forandringsplan_datum": "igår"},
                                partial=True)
    assert set(errors) == {"forandringsplan_datum"}


def test_validate_values_scale_out_of_bounds(forandringsplan):
    _, errors = validate_values(forandringsplan, complete_plan(bedomning_sjalvforsorjning=11))
    assert errors["bedomning_sjalvforsorjning"].endswith("välj ett värde på skalan 1–10.")


def test_validate_values_percent_out_of_range_names_field(definitions):
    blankett = definitions["rehabiliteringsforfragan"]
    raw = {"individ_namn": "Test Testsson", "individ_personnummer": "19121212-1212",
           "handlaggare_namn": "Sara", "handlaggare_telefon": "08-123 456 78",
           "aktivitet_jobbtorg_omfattning": "150 %", "aktivitet_sprak_omfattning": "50 %",
           "aktivitet_sprak_kan_delta": "on"}
    clean, errors = validate_values(blankett, raw)
    assert errors == {"aktivitet_jobbtorg_omfattning":
                      "Jobbtorg: omfattning i %: omfattningen ska vara mellan 0 och 100 %."}
    assert clean["aktivitet_sprak_omfattning"] == 50
    assert clean["aktivitet_sprak_kan_delta"] is True
    assert clean["aktivitet_jobbtorg_kan_delta"] is False   # checkboxes are always bool


def test_validate_values_required_checkbox_and_choice(definitions):
    blankett = definitions["sip_kallelse"]
    _, errors = validate_values(blankett, {"sip_syfte": "annat"})
    assert errors["sip_samtycke"].endswith("måste kryssas i.")
    assert errors["sip_syfte"] == "Syfte: välj ett av alternativen."
    clean, errors = validate_values(blankett, {"sip_samtycke": "on",
                                               "sip_starttid": "9.00"}, partial=True)
    assert errors == {}
    assert clean["sip_samtycke"] is True and clean["sip_starttid"] == "09:00"


def test_validate_values_too_many_rows(forandringsplan):
    raw = complete_plan(hinder=[{"hinder": f"Hinder {i}"} for i in range(11)])
    _, errors = validate_values(forandringsplan, raw)
    assert errors["hinder"].endswith("högst 10 rader.")


# ---------------------------------------------------------------- personnummer by Skatteverket's rules, strictly
@pytest.mark.parametrize("text, message", [
    ("20300101-1232", "framtiden"),
    ("12121212-1212", "inte rimligt"),
    ("18500101-0008", "inte rimligt"),
])
def test_personnummer_impossible_birth_dates_are_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        normalize_personnummer(text, today=date(2026, 11, 27))


@pytest.mark.parametrize("typed", [
    "١٩١٢١٢١٢-١٢١٢",            # Arabic-Indic digits
    "１９１２１２１２－１２１２",  # full-width digits and hyphen
    "19121212\u22121212",        # a minus sign pasted from a word processor
    "19121212\u20131212",        # an en dash
])
def test_personnummer_other_digits_are_stored_as_ascii(typed):
    assert normalize_personnummer(typed, today=date(2026, 11, 27)) == "191212121212"


def test_personnummer_born_today_is_accepted_but_tomorrow_is_not():
    today = date(2026, 11, 27)
    twelve = "20261127" + "000"
    check = next(d for d in "0123456789" if _luhn_ok((twelve + d)[2:]))
    assert normalize_personnummer(f"{twelve[:8]}-{twelve[8:]}{check}", today=today) == twelve + check
    with pytest.raises(ValidationError, match="framtiden"):
        normalize_personnummer(f"{twelve[:8]}-{twelve[8:]}{check}", today=date(2026, 11, 26))


def test_today_is_sweden_s_date_wherever_the_server_runs(monkeypatch):
    """Between midnight in Sweden and midnight UTC the server's own date (a UTC clock) is still
    yesterday: the date a document is prefilled with, and what is "in the future", follow the
    Swedish date (formservice.tid), as the pages do."""
    from types import SimpleNamespace

    from formservice import tid
    from formservice.blanketter import prefill
    from formservice.blanketter.validation import ValidationError, normalize_personnummer

    def number(born: str) -> str:  # a made-up number with a valid check digit
        return next(f"{born}-{n:04d}" for n in range(10000) if _luhn_ok(f"{born[2:]}{n:04d}"))

    monkeypatch.setattr(tid, "today", lambda: date(2031, 3, 3))
    enhet = SimpleNamespace(namn="Enheten", utdelningsadress="", postadress="", typ="socialtjanst",
                            organisation=SimpleNamespace(namn="Teststaden"))
    user = SimpleNamespace(namn="Sara", titel="", telefon="", epost="", enhet=enhet)
    assert prefill.sources(individ={}, user=user, settings={})["today"] == "2031-03-03"
    assert normalize_personnummer(number("20310303")).startswith("20310303")  # born "today": not in the future
    with pytest.raises(ValidationError, match="framtiden"):
        normalize_personnummer(number("20310304"))
