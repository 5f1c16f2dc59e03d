"""The uppföljning's PDF report ("för styrelsen") as a background job: the button on the page posts
the selection shown, the job page says "Tas fram…" until a real DBOS worker has laid the report out,
and the download carries the numbers of that selection; only the uppföljare who asked may see it,
an old bookmark of the report leads to the page, and junk never gives a 5xx."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice.uppfoljning.anonymisering import NOTE

from .conftest import AuthActions, csrf_token, outside_event_loop
from .formparse import forms
from .test_registerutdrag import wait_until_done, worker  # noqa: F401 — worker: the job worker, autouse
from .test_uppfoljning import _page, _row, _rows, dataset, near, ulla  # noqa: F401 — fixtures

YEAR = {"fran": "2026-01", "till": "2026-12"}


def report_form(html: str) -> dict:
    (form,) = [f for f in forms(html) if f["action"] == "/uppfoljning/rapport"]
    return form["fields"]


def ask_for_report(client, **selection) -> str:
    """Press "Ta fram rapport (PDF)" on the page showing this selection; the job page's address."""
    html = _page(client, **selection)
    assert "Ta fram rapport (PDF)</button>" in html
    res = client.post("/uppfoljning/rapport", data=report_form(html))
    assert res.status_code == 303, res.get_data(as_text=True)[:500]
    location = res.headers["Location"]
    assert location.startswith("/jobb/")
    return location


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def fetch(client, location) -> bytes:
    state = wait_until_done(client, location)
    assert state["status"] == "klar", state
    page = client.get(location).get_data(as_text=True)
    assert "Klar – hämta" in page and ">Hämta rapporten (PDF)</a>" in page
    res = client.get(state["download"])
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    assert res.headers["Cache-Control"] == "no-store"
    return res.data


def test_the_report_is_a_job_that_carries_the_selection_on_the_screen(ulla, dataset, app, monkeypatch):
    from formservice import jobs

    from .test_rendering_markup import parsed_by_expat

    expat = parsed_by_expat(monkeypatch)

    outside_event_loop(jobs.stop_worker)  # no worker yet: the job waits
    everyone = ask_for_report(ulla)
    page = ulla.get(everyone)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>Uppföljning som PDF</h1>" in body and "Tas fram…" in body and 'aria-live="polite"' in body
    assert 'data-download-text="Hämta rapporten (PDF)"' in body and 'href="/uppfoljning">Tillbaka' in body
    assert ulla.get(f"{everyone}/hamta").status_code == 404  # nothing to fetch yet
    assert ulla.get(f"{everyone}/status").get_json()["note"] is None and "data-note" not in body
    # Not started after five minutes: no worker takes it, and the user hears so.
    from datetime import timedelta

    from formservice import db

    with app.app_context():
        job = db.session().scalar(select(jobs.Jobb).where(jobs.Jobb.public_id == everyone.rsplit("/", 1)[1]))
        job.created_at -= timedelta(minutes=6)
        db.session().commit()
    note = ulla.get(f"{everyone}/status").get_json()["note"]
    assert "jobbprocessen troligen inte igång" in note and note in ulla.get(everyone).get_data(as_text=True)
    women = ask_for_report(ulla, kon="K")

    outside_event_loop(jobs.start_worker, app)
    text = text_of(fetch(ulla, everyone))
    assert text.startswith("Uppföljning – Stockholmsmodellen")
    assert "Urval: 2026-01-01 – 2026-12-31." in text
    # The numbers of the page with the same selection, rounded the same way (the cell key is fixed).
    page = _page(ulla)
    nord = _row(page, "oppna-per-enhet", "Enhet Nord")[0]
    assert nord in near(6) and "Öppna ärenden per enhet" in text
    assert "Enhet Syd 20" in text and f"Enhet Nord {nord}" in text
    fk2 = _row(page, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras")[0]
    assert fk2 in near(12) and f"Bana 4 · Ruta 2: Ansökan hanteras {fk2}" in text
    assert " ".join(NOTE.split()) in text and "färre än 5" not in text
    assert "Testperson" not in text and "191212" not in text

    text = text_of(fetch(ulla, women))
    assert "Urval: 2026-01-01 – 2026-12-31, kvinnor." in text
    assert expat == [True, True]  # both laid out from HTML the fast parser read (a well-formed template)
    # As on the page with the same selection: the 9 women at fk.2, rounded to 5 or 10.
    women_fk2 = _rows(_page(ulla, kon="K"), "oppna-per-ruta").get("Bana 4 · Ruta 2: Ansökan hanteras", ["0"])[0]
    assert women_fk2 in near(9)
    assert (f"Bana 4 · Ruta 2: Ansökan hanteras {women_fk2}" in text) == (women_fk2 != "0")

    from formservice import db
    from formservice.audit import AuditEntry

    with app.app_context():
        made = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "uppfoljning_rapport")).all()
        assert len(made) == 2  # one per report, written with its result


def test_only_the_uppfoljare_who_asked_may_see_the_job(ulla, dataset, app, make_user):
    location = ask_for_report(ulla, **YEAR)
    state = wait_until_done(ulla, location)
    assert state["status"] == "klar"
    others = {"ursula": "uppfoljare", "anna": "admin", "sam": "socialsekreterare"}
    for username, role in others.items():
        make_user(username=username, role=role, enhet_id=dataset["syd"])
        other = app.test_client()
        AuthActions(other).login(username)
        for suffix in ("", "/status", "/hamta"):
            assert other.get(location + suffix).status_code == 404, (username, suffix)
    anonymous = app.test_client().get(location + "/hamta")
    assert anonymous.status_code == 302 and "/logga-in" in anonymous.headers["Location"]
    assert ulla.get(state["download"]).status_code == 200


def test_a_report_that_keeps_failing_ends_as_fel_with_a_swedish_message(ulla, dataset, app):
    from formservice import db, jobs
    from formservice.accounts.models import User
    from formservice.uppfoljning.pdfrapport import FAILED, JOB_KIND

    with app.test_request_context():
        user = db.session().scalar(select(User).where(User.username == "ulla"))
        # An enhet outside the uppföljare's scope (a sharing withdrawn after the click): never reported on.
        job = jobs.create(user, JOB_KIND, {"fran": "2026-01-01", "till": "2026-12-31", "enhet_id": 10 ** 6,
                                           "kon": None, "alder": None})
    location = f"/jobb/{job.public_id}"
    assert wait_until_done(ulla, location) == {"status": "fel", "text": "Det gick inte att ta fram",
                                               "error": FAILED, "download": None, "note": None}
    assert FAILED in ulla.get(location).get_data(as_text=True)


def test_an_old_bookmark_of_the_report_leads_to_the_page_with_its_selection(ulla, dataset):
    res = ulla.get("/uppfoljning/rapport.pdf", query_string={**YEAR, "kon": "K", "enhet": "x" * 5000})
    assert res.status_code == 303
    where = urlsplit(res.headers["Location"])
    assert where.path == "/uppfoljning" and parse_qs(where.query) == {"fran": ["2026-01"], "till": ["2026-12"],
                                                                       "kon": ["K"]}
    page = ulla.get(res.headers["Location"]).get_data(as_text=True)
    assert "Rapporten tas nu fram i bakgrunden" in page
    assert ulla.get("/uppfoljning/rapport").status_code == 405  # the button posts; a GET is told so in Swedish


JUNK = ["²", "9" * 4301, "-1", "", "1e309", "\x00", "2026-13", "0000-01", "2101-01", "K\r\nX", "<script>", "%00"]


@pytest.mark.parametrize("field", ["fran", "till", "enhet", "kon", "alder"])
def test_junk_in_the_selection_never_gives_a_server_error_or_a_job(ulla, dataset, app, field):
    from formservice import db, jobs

    outside_event_loop(jobs.stop_worker)  # what is queued waits: counted below
    token = csrf_token(_page(ulla))
    for value in JUNK:
        res = ulla.post("/uppfoljning/rapport", data={"csrf_token": token, **YEAR, field: value})
        assert res.status_code in (303, 400), (field, value, res.status_code)
        if res.status_code == 400:
            assert "Fel:" in res.get_data(as_text=True)
        res = ulla.get("/uppfoljning/rapport.pdf", query_string={field: value})
        assert res.status_code == 303 and len(res.headers["Location"]) < 100
    assert ulla.post("/uppfoljning/rapport", data=YEAR).status_code == 400  # no CSRF token
    with app.app_context():
        queued = db.session().scalars(select(jobs.Jobb)).all()
        for job in queued:  # a value the filter ignores (kön "<script>") is queued as no filter
            asked = jobs.params(job)
            assert asked["kon"] in (None, "K", "M") and asked["alder"] in (None, "-29", "30-39", "40-49", "50-59",
                                                                            "60-")
            assert asked["enhet_id"] in (None, dataset["syd"], dataset["nord"])
