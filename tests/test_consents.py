"""Consents as tracked data: recorded from the signed blankett, checked before a blankett shares
information with a party, revoked, running out, ended by closing the ärende."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from formservice import tid
from formservice.arenden import consents
from formservice.arenden.models import Arende, Samtycke

from .formparse import form_with
from .wizard_driver import create_arende, fill_blankett

pytestmark = pytest.mark.db  # also run against PostgreSQL in CI


def mark_received(client, pid, doc_id):
    show = client.get(f"/arenden/{pid}").get_data(as_text=True)
    form = form_with(show, "status")["fields"]
    action = f"/arenden/{pid}/dokument/{doc_id}/status"
    return client.post(action, data={"csrf_token": form["csrf_token"], "status": "mottagen"})


def record(client, location, **changes):
    page = client.get(location).get_data(as_text=True)
    form = form_with(page, "given_by")
    data = {k: v for k, v in form["fields"].items() if v is not None and k != "parties"}
    data["parties"] = re.findall(r'name="parties" value="(\w+)" checked', page)
    data["valid_until"] = ""  # as long as the blankett allows, unless the test says otherwise
    data.update(changes)
    return page, client.post(location, data=data)


def stored(dbs, pid) -> list[Samtycke]:
    dbs.expire_all()
    a = dbs.scalar(select(Arende).where(Arende.public_id == pid))
    return dbs.scalars(select(Samtycke).where(Samtycke.arende_id == a.id)).all()


def review_page(client, pid, blankett_id="rehabiliteringsforfragan"):
    res = client.get(f"/arenden/{pid}/blankett/{blankett_id}/granska")
    return res.get_data(as_text=True)


def test_a_forfragan_without_consent_warns_and_the_signed_one_is_recorded_from_the_document(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    # Produced without a consent on record: the overview flashed a warning (see the done page test
    # below); the review of the next förfrågan warns too, naming the party.
    assert "Samtycke saknas för Hälso- och sjukvården" in review_page(soc, pid)
    res = mark_received(soc, pid, doc_id)
    assert res.status_code == 302 and "/samtycke/nytt" in res.headers["Location"]
    page, res = record(soc, res.headers["Location"], valid_from=(tid.today() - timedelta(days=10)).isoformat(),
                       valid_until="")
    assert 'value="socialtjanst" checked' in page and 'value="vard" checked' in page
    assert 'value="fk" checked' not in page
    assert "Tilda Testperson" in page  # who consented, from the document
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    (s,) = stored(dbs, pid)
    signed = tid.today() - timedelta(days=10)
    assert s.party_keys == ("socialtjanst", "vard") and s.valid_from == signed
    assert s.valid_until == consents.add_months(signed, 12) - timedelta(days=1)  # the blankett's own limit
    assert s.dokument_id is not None
    assert "Samtycke saknas" not in review_page(soc, pid)
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Aktivt" in show and "Socialtjänsten och Hälso- och sjukvården" in show
    assert "Samtycke registrerat (Sekretessmedgivande)" in show


def test_a_consent_cannot_hold_longer_than_its_blankett_says(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    location = mark_received(soc, pid, doc_id).headers["Location"]
    signed = tid.today() - timedelta(days=1)
    _, res = record(soc, location, valid_from=signed.isoformat(),
                    valid_until=(signed + timedelta(days=400)).isoformat(), parties=[])
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Samtycket gäller längst 12 månader från underskriften" in body
    assert "Kryssa för minst en part" in body
    assert stored(dbs, pid) == []
    _, res = record(soc, location, valid_from=(tid.today() + timedelta(days=3)).isoformat())
    assert res.status_code == 400 and "framtiden" in res.get_data(as_text=True)


def test_revoking_brings_the_warning_back(soc, forfragan, dbs, app):
    pid, doc_id, _ = forfragan
    record(soc, mark_received(soc, pid, doc_id).headers["Location"], valid_from=tid.today().isoformat())
    (s,) = stored(dbs, pid)
    url = f"/arenden/{pid}/samtycke/{s.public_id}/aterkalla"
    form = form_with(soc.get(url).get_data(as_text=True), "datum")["fields"]
    res = soc.post(url, data=dict(form, datum=(tid.today() + timedelta(days=1)).isoformat()))
    assert res.status_code == 400 and "framtiden" in res.get_data(as_text=True)
    res = soc.post(url, data=dict(form, note="Ringde och tog tillbaka samtycket"))
    assert res.status_code == 302
    again = soc.post(url, data=dict(form, datum=(tid.today() - timedelta(days=0)).isoformat(), note=""))
    assert again.status_code == 302  # refused: the first revocation stands as recorded
    assert "redan återkallat" in soc.get(f"/arenden/{pid}").get_data(as_text=True)
    (s,) = stored(dbs, pid)
    assert s.revoked_on == tid.today() and consents.state(s, tid.today()) == "återkallat"
    with app.app_context():
        assert consents.note(s) == "Ringde och tog tillbaka samtycket"
    assert "Samtycke saknas för Hälso- och sjukvården" in review_page(soc, pid)
    assert "Återkallat" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_consents_running_out_within_30_days_are_on_the_start_page(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    signed = consents.add_months(tid.today(), -12) + timedelta(days=20)  # runs out in about 19 days
    record(soc, mark_received(soc, pid, doc_id).headers["Location"], valid_from=signed.isoformat())
    start = soc.get("/").get_data(as_text=True)
    assert "Samtycken som löper ut inom 30 dagar" in start and pid in start
    (s,) = stored(dbs, pid)
    assert f"gäller till och med {s.valid_until.isoformat()}" in start
    s.valid_until = tid.today() + timedelta(days=31)
    dbs.commit()
    assert "Samtycken som löper ut" not in soc.get("/").get_data(as_text=True)


def test_closing_the_ärende_ends_a_consent_that_holds_until_then(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    record(soc, mark_received(soc, pid, doc_id).headers["Location"], valid_from=tid.today().isoformat())
    page = soc.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    form = form_with(page, "reason")["fields"]
    assert soc.post(f"/arenden/{pid}/avsluta", data=dict(form, reason="flyttat")).status_code == 302
    (s,) = stored(dbs, pid)
    assert s.valid_until == tid.today()


def test_producing_without_consent_says_so_when_done(soc, app):
    pid = create_arende(soc, ruta="soc1.9")
    result = fill_blankett(soc, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    assert "Det finns inget aktivt samtycke för Hälso- och sjukvården" in result["done"]
    result = fill_blankett(soc, pid, "forandringsplan", app.extensions["catalogue"])
    assert "aktivt samtycke" not in result["done"]  # the förändringsplan shares nothing


def test_finsamteam_consent_covers_only_the_parties_ticked(app, dbs, make_user):
    from formservice.accounts.models import User
    from formservice.arenden import operations

    user_id = make_user(username="kim")
    cat = app.extensions["catalogue"]
    with app.test_request_context():
        user = dbs.get(User, user_id)
        a = operations.create(user, {"namn": "Tilda Testperson", "personnummer": "191212121212"},
                              lane="finsamteam", ruta="finsamteam.3")
        blankett = cat.blanketter["finsamteam_samtycke"]
        clean, errors = consents.check(blankett, {"parties": ["af", "fk"], "given_by": "Tilda Testperson",
                                                  "valid_from": tid.today().isoformat()}, tid.today())
        assert errors == {}
        consents.record(user, a, blankett, clean)
        missing = consents.missing_for(cat, a, cat.blanketter["finsamteam_anmalan"], tid.today())
        assert missing == ["jobbtorg", "socialtjanst", "vard"]
        assert consents.party_names(missing) == "Jobbtorg, Socialtjänsten och Hälso- och sjukvården"
        assert consents.missing_for(cat, a, cat.blanketter["forandringsplan"], tid.today()) == []
        # The Finsamteam samtycke does not count for the förfrågan to the doctor: its own
        # sekretessmedgivande does, even when the Finsamteam consent names hälso- och sjukvården.
        clean2, _ = consents.check(blankett, {"parties": ["vard"], "given_by": "Tilda Testperson",
                                              "valid_from": tid.today().isoformat()}, tid.today())
        consents.record(user, a, blankett, clean2)
        assert consents.missing_for(cat, a, cat.blanketter["rehabiliteringsforfragan"], tid.today()) == ["vard"]
        # the day after the consent's last day it covers nothing
        later = clean["valid_until"] + timedelta(days=1)
        assert consents.missing_for(cat, a, cat.blanketter["finsamteam_anmalan"], later) == [
            "af", "fk", "jobbtorg", "socialtjanst", "vard"]


def test_a_consent_names_only_the_parties_its_blankett_has_and_odd_dates_are_messages(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    location = mark_received(soc, pid, doc_id).headers["Location"]
    page, res = record(soc, location, parties=["socialtjanst", "vard", "fk"], valid_from=tid.today().isoformat())
    assert 'value="fk"' not in page  # the sekretessmedgivande is between socialtjänsten and vården only
    assert res.status_code == 400 and "gäller bara Socialtjänsten och Hälso- och sjukvården" in res.get_data(as_text=True)
    for odd in ("9999-12-31", "0001-01-01", "2026-02-30", "i morgon"):
        _, res = record(soc, location, valid_from=odd)
        assert res.status_code == 400, odd
    assert stored(dbs, pid) == []
    _, first = record(soc, location, valid_from=tid.today().isoformat())
    _, second = record(soc, location, valid_from=tid.today().isoformat())  # a double click
    assert first.status_code == second.status_code == 302 and len(stored(dbs, pid)) == 1


def test_the_last_day_is_the_day_before_a_year_on():
    from formservice.blanketter.catalogue import load_catalogue

    blankett = load_catalogue().blanketter["sekretessmedgivande"]
    assert consents.latest_end(blankett, date(2026, 3, 15)) == date(2027, 3, 14)
    assert consents.latest_end(blankett, date(2024, 2, 29)) == date(2025, 2, 28)
    assert consents.latest_end(blankett, date(2026, 1, 31)) == date(2027, 1, 30)
    assert consents.latest_end(blankett, date(9999, 6, 1)) == date.max
