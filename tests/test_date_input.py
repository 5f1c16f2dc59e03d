"""Dates as people type them (issue 25): one parser (validation.parse_date) for the wizard, the API,
the samtycke and closing forms and the API-nycklar; ISO and its obvious variants are read, a
day-month order is refused with the reason, and what is stored is ISO. The fields are plain text
fields with the format said before any error (a native date input looped in English browsers)."""
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from formservice.arenden import operations
from formservice.arenden.models import Arende, Samtycke
from formservice.arenden.operations import local_today
from formservice.blanketter.validation import (DATE_HINT, ValidationError, clean_value, date_or_error,
                                               parse_date)

from .formparse import form_with
from .test_admin import post_form
from .test_arende_closing import close
from .test_consents import record
from .wizard_driver import create_arende

DECEMBER_15 = date(2026, 12, 15)


@pytest.mark.parametrize("typed", [
    "2026-12-15", "20261215", "2026 12 15", "2026.12.15", "2026/12/15",
    " 2026-12-15 ", "2026 - 12 - 15", "2026–12–15", "２０２６-１２-１５",
])
def test_iso_and_its_obvious_variants_are_read(typed):
    assert parse_date(typed) == DECEMBER_15


def test_one_digit_months_and_days_are_read():
    assert parse_date("2026-1-5") == parse_date("2026/1/5") == parse_date("2026.01.5") == date(2026, 1, 5)


def test_date_objects_pass_through():
    assert parse_date(DECEMBER_15) == DECEMBER_15
    assert parse_date(datetime(2026, 12, 15, 13, 30)) == DECEMBER_15


@pytest.mark.parametrize("typed", ["12/15/2026", "15/12/2026", "15.12.2026", "3/4 2026", "15-12-2026"])
def test_the_year_last_is_refused_with_the_reason_never_guessed(typed):
    with pytest.raises(ValidationError, match=r"^Skriv året först, som ÅÅÅÅ-MM-DD.*dagen.*månaden"):
        parse_date(typed)


@pytest.mark.parametrize("typed", ["26-12-15", "261215"])
def test_a_two_digit_year_asks_for_four(typed):
    with pytest.raises(ValidationError, match="Skriv året med fyra siffror. Skriv datumet som ÅÅÅÅ-MM-DD"):
        parse_date(typed)


@pytest.mark.parametrize("typed, message", [
    ("2026-13-40", "Månad 13 finns inte; månaden ska vara 01–12. " + DATE_HINT),
    ("2026-00-10", "Månad 00 finns inte"),
    ("2026-02-30", "Dag 30 finns inte i februari 2026, som har 28 dagar."),
    ("2028-02-30", "Dag 30 finns inte i februari 2028, som har 29 dagar."),
    ("2026-12-00", "Dag 00 finns inte i december 2026"),
    ("0000-01-01", "År 0000 finns inte"),
    ("", DATE_HINT), ("i morgon", DATE_HINT), ("61215", DATE_HINT), ("2026-12-15-1", DATE_HINT),
    ("2026--12-15", DATE_HINT), ("2026-1215", DATE_HINT),
])
def test_what_is_not_a_date_says_why_in_swedish(typed, message):
    with pytest.raises(ValidationError) as exc:
        parse_date(typed)
    assert str(exc.value).startswith(message)


def test_a_long_run_of_separators_is_refused_at_once():
    with pytest.raises(ValidationError):
        parse_date("2026" + " -" * 50_000 + "x")


def test_date_or_error_names_the_field_as_the_wizard_does():
    assert date_or_error("2026/12/15", "Datum då ärendet avslutas") == (DECEMBER_15, None)
    day, error = date_or_error("2026-13-40", "Datum då ärendet avslutas")
    assert day is None and error.startswith("Datum då ärendet avslutas: månad 13 finns inte")


def test_a_blankett_date_is_stored_as_iso():
    field = SimpleNamespace(type="date", max_length=10)
    assert clean_value(field, "2026 12 15") == clean_value(field, "20261215") == "2026-12-15"


def test_the_arenden_parser_is_the_same_one():
    assert operations.parse_date("2026.12.15") == DECEMBER_15
    assert operations.parse_date("12/15/2026") is None and operations.parse_date("") is None


# ---------------------------------------------------------------- the forms
def date_input(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def assert_text_date_field(html: str, name: str) -> None:
    """A text field, its format hint before it in the page and named in aria-describedby; no numeric
    keyboard (a phone's keypad has no "-", and the hint asks for one)."""
    tag = date_input(html, name)
    assert 'type="text"' in tag and 'inputmode' not in tag and 'autocomplete="off"' in tag
    hint_id = re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()[0]
    hint = re.search(rf'<p class="hint[^"]*" id="{re.escape(hint_id)}">([^<]*)</p>', html)
    assert hint and "ÅÅÅÅ-MM-DD" in hint.group(1), hint_id
    assert html.index(hint.group(0)) < html.index(tag)
    assert 'type="date"' not in html


@pytest.mark.db
def test_a_wizard_date_is_a_text_field_and_a_variant_is_stored_as_iso(soc):
    pid = create_arende(soc, ruta="soc1.9")
    url = f"/arenden/{pid}/blankett/sip_kallelse/sida/4"
    page = soc.get(url).get_data(as_text=True)
    assert_text_date_field(page, "sip_datum")
    assert DATE_HINT in page
    form = form_with(page, "version")["fields"]
    res = soc.post(url, data=dict(form, sip_datum="2026-13-40", action="next"))
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and "Datum: månad 13 finns inte" in body
    tag = date_input(body, "sip_datum")
    assert 'value="2026-13-40"' in tag and 'aria-invalid="true"' in tag
    assert "f-sip_datum-format f-sip_datum-error" in tag  # the hint first, then the error
    form = form_with(soc.get(url).get_data(as_text=True), "version")["fields"]
    soc.post(url, data=dict(form, sip_datum="20261215", action="next"))
    assert 'value="2026-12-15"' in date_input(soc.get(url).get_data(as_text=True), "sip_datum")


@pytest.mark.db
def test_closing_reads_a_variant_and_keeps_a_wrong_date_as_typed(soc, dbs):
    pid = create_arende(soc, ruta="soc1.3")
    page = soc.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    assert_text_date_field(page, "datum")
    res = close(soc, pid, reason="avbojt", datum="2026-13-40")
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and "Datum då ärendet avslutas: månad 13 finns inte" in body
    assert 'value="2026-13-40"' in date_input(body, "datum")
    today = local_today()
    assert close(soc, pid, reason="avbojt", datum=today.strftime("%Y/%m/%d")).status_code == 302
    dbs.expire_all()
    assert dbs.scalar(select(Arende).where(Arende.public_id == pid)).closed_on == today


@pytest.mark.db
def test_a_consent_reads_variants_and_names_the_field_it_refuses(soc, dbs):
    pid = create_arende(soc, ruta="soc1.9")
    location = f"/arenden/{pid}/samtycke/nytt"
    page = soc.get(location).get_data(as_text=True)
    assert_text_date_field(page, "valid_from")
    assert_text_date_field(page, "valid_until")
    today = local_today()
    _, res = record(soc, location, valid_from="12/15/2026", valid_until="2026-02-30")
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Datum för underskriften: skriv året först" in body
    assert "Gäller till och med: dag 30 finns inte i februari 2026" in body  # both said at once
    assert 'value="12/15/2026"' in date_input(body, "valid_from")
    until = today + timedelta(days=30)
    _, res = record(soc, location, valid_from=today.strftime("%Y%m%d"), valid_until=until.strftime("%Y %m %d"))
    assert res.status_code == 302
    dbs.expire_all()
    a = dbs.scalar(select(Arende).where(Arende.public_id == pid))
    s = dbs.scalars(select(Samtycke).where(Samtycke.arende_id == a.id)).one()
    assert (s.valid_from, s.valid_until) == (today, until)


@pytest.mark.db
def test_a_token_expiry_reads_the_same_variants(client, auth, make_user, make_enhet):
    enhet = make_enhet(namn="Förvaltningen")
    make_user(username="adam", role="admin", enhet_id=enhet, namn="Adam Admin")
    auth.login(username="adam")
    res = post_form(client, "/admin/api-nycklar", "name", {"name": "X", "expires": "2099/12/31", "user_id": "1"})
    assert res.status_code == 200 and "2099-12-31" in client.get("/admin/api-nycklar").get_data(as_text=True)
    res = post_form(client, "/admin/api-nycklar", "name", {"name": "Y", "expires": "31/12 2099", "user_id": "1"})
    assert res.status_code == 400 and "ÅÅÅÅ-MM-DD" in res.get_data(as_text=True)
