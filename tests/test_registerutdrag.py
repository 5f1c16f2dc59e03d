"""Registerutdrag: an admin produces everything stored about one person, as PDF and as JSON; audited
without the personnummer; nothing of other persons or other organisations."""
import io
import json
import re
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice import tid
from formservice.audit import AuditEntry

from .conftest import csrf_token, outside_event_loop
from .formparse import form_with
from .test_consents import mark_received, record
from .test_rendering_markup import parsed_by_expat
from .wizard_driver import create_arende, step

pytestmark = pytest.mark.db  # also run against PostgreSQL in CI


@pytest.fixture(autouse=True)
def worker(app):
    """The job worker, in this process: real DBOS on the test's own databases."""
    from formservice import jobs

    # On PostgreSQL DBOS's schema outlives the test's reset of "public": an earlier test's workflow
    # the worker might pick up finds no job row in this database and does nothing. Its tables are
    # made first, as `formservice init-db` makes them before any worker starts.
    jobs.migrate(app)
    outside_event_loop(jobs.start_worker, app)
    yield
    if jobs._app is not None:  # still running: let it finish what it took, so that no layout of this
        finish_jobs(app)       # test goes on in a thread while a later test forks a render process
    outside_event_loop(jobs.stop_worker)
    jobs.close_clients()


def finish_jobs(app, seconds: float = 120) -> None:
    from formservice import db, jobs

    deadline = time.monotonic() + seconds
    with app.app_context():
        while time.monotonic() < deadline:
            db.session().rollback()
            if not db.session().scalar(select(jobs.Jobb.id).where(jobs.Jobb.status.in_((jobs.VANTAR, jobs.PAGAR)))):
                return
            time.sleep(0.1)


def wait_until_done(client, location, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"{location}/status").get_json()
        if state["status"] in ("klar", "fel"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"jobbet blev inte klart: {state}")


def extract(client, pnr, fmt):
    """Ask for the extract, follow the job to "Klar – hämta" and download it."""
    page = client.get("/admin/registerutdrag").get_data(as_text=True)
    res = client.post("/admin/registerutdrag", data={"csrf_token": csrf_token(page), "personnummer": pnr,
                                                     "format": fmt})
    if res.status_code != 303:
        return res
    location = res.headers["Location"]
    assert pnr not in location and normalized(pnr) not in location
    state = wait_until_done(client, location)
    assert state["status"] == "klar", state
    page = client.get(location).get_data(as_text=True)
    assert "Klar – hämta" in page and 'href="' + state["download"] + '"' in page
    return client.get(state["download"])


def normalized(pnr):
    return re.sub(r"\D", "", pnr)


def as_admin(client, auth, make_user, username="adam", **kw):
    auth.logout()
    make_user(username=username, role="admin", namn="Adam Admin", **kw)
    auth.login(username=username)


def test_an_admin_gets_everything_about_one_person_as_json_and_pdf(soc, forfragan, auth, make_user, dbs):
    pid, doc_id, _ = forfragan
    record(soc, mark_received(soc, pid, doc_id).headers["Location"], valid_from=tid.today().isoformat())
    step(soc, pid, "soc1.11", note="Läkaren ringde om svaret")
    # The doctor's answer from paper, confirmed.
    token = csrf_token(soc.get(f"/arenden/{pid}").get_data(as_text=True))
    location = soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": token}).headers["Location"]
    fields = {k: v for k, v in form_with(soc.get(location).get_data(as_text=True), "lakare_namn")["fields"].items()
              if v is not None}
    assert soc.post(location, data=dict(fields, aktivitet_jobbtorg_kan_delta="1", aktivitet_jobbtorg_omfattning="75",
                                        lakare_namn="Åsa Läkarsson",
                                        vardenhet="Vårdcentralen Skärholmen")).status_code == 302
    other = create_arende(soc, dict(namn="Olle Annanperson", personnummer="19121212-1212"), ruta="soc1.3")
    # Olle has the same test personnummer as Tilda in this suite; give him another, valid one.
    page = soc.get(f"/arenden/{other}/uppgifter").get_data(as_text=True)
    data = {k: v for k, v in form_with(page, "namn")["fields"].items() if v is not None}
    assert soc.post(f"/arenden/{other}/uppgifter", data=dict(data, personnummer="20000101-0008")).status_code == 302
    as_admin(soc, auth, make_user)

    res = extract(soc, "191212121212", "json")
    assert res.status_code == 200 and res.mimetype == "application/json"
    assert "19121212" not in res.headers["Content-Disposition"]
    data = json.loads(res.data)
    assert data["person"]["namn"] == "Tilda Testperson"
    (a,) = data["arenden"]
    assert a["arende"] == pid
    assert any(h["anteckning"] == "Läkaren ringde om svaret" for h in a["historik"])
    (dok,) = a["dokument"]
    assert dok["blankett"] == "Rehabiliteringsförfrågan" and dok["varden"]
    assert {"blankett": "Sekretessmedgivande", "uppgift": "Jag som lämnar samtycket – Namn", "varde": "Tilda Testperson"} in dok["varden"]
    (s,) = a["samtycken"]
    assert s["parter"] == "Socialtjänsten och Hälso- och sjukvården" and s["lamnat_av"] == "Tilda Testperson"
    (svar,) = a["lakarsvar"]  # the doctor's wing adds its part
    assert svar["status"] == "Bekräftat" and svar["kalla"] == "pappersblankett"
    assert any(row["varde"] == "Åsa Läkarsson" for row in svar["svar"])
    assert any(row["varde"] == "75 %" for row in svar["svar"])
    actions = {e["handelse"] for e in a["granskningslogg"]}
    assert {"Ärende skapat", "Dokument framtaget", "Ärende visat"} <= actions
    assert "Olle" not in res.get_data(as_text=True)

    res = extract(soc, "19121212-1212", "pdf")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(res.data))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    for expected in ("Registerutdrag", "Tilda Testperson", "19121212-1212", "Läkaren ringde om svaret", "Åsa Läkarsson",
                     "Sekretessmedgivande", "Socialtjänsten och Hälso- och sjukvården", "Loggade åtgärder"):
        assert expected in text, expected
    assert "Olle" not in text
    meta = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert "19121212" not in meta and "121212" not in meta  # no personnummer in the PDF's metadata

    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "registerutdrag")
                          .order_by(AuditEntry.id)).all()
    # One entry per extract, with its format and number of ärenden, never the personnummer.
    assert [(e.object_type, e.object_id, e.detail) for e in entries] == [
        ("person", None, "JSON, 1 ärenden"), ("person", None, "PDF, 1 ärenden")]
    assert all("1912" not in (e.detail or "") for e in entries)


def test_a_person_with_many_ärenden_gets_one_pdf_laid_out_in_parts_and_a_streamed_json(
        soc, auth, make_user, dbs, monkeypatch):
    from formservice.arenden import registerutdrag

    from .wizard_driver import INDIVID

    # Parts of about two ärenden and page numbers drawn three pages at a time: several of each.
    monkeypatch.setattr(registerutdrag, "PART_ROWS", 20)
    monkeypatch.setattr(registerutdrag, "STAMP_PAGES", 3)
    monkeypatch.setattr(registerutdrag, "LOAD_ARENDEN", 3)
    monkeypatch.setattr(registerutdrag, "JOIN_PARTS", 2)  # joined in steps, as a long extract is
    layouts, expat = [], parsed_by_expat(monkeypatch)
    render_report = registerutdrag.render_report
    monkeypatch.setattr(registerutdrag, "render_report", lambda *a, **kw: layouts.append(
        "sidnummer" if kw.get("stamp") else "del") or render_report(*a, **kw))
    count = 7
    pids = [create_arende(soc, dict(INDIVID, adress=f"Delgatan {n}"), ruta="soc1.3") for n in range(1, count + 1)]
    other = create_arende(soc, dict(INDIVID, namn="Olle Annanperson", personnummer="20000101-0008",
                                    adress="Annangatan 99"), ruta="soc1.3")
    as_admin(soc, auth, make_user)

    res = extract(soc, "19121212-1212", "pdf")
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(res.data))
    pages = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    total = len(pages)
    assert layouts.count("del") >= 3 and layouts.count("sidnummer") == -(-total // 3) >= 3
    assert len(expat) == len(layouts) and all(expat)  # its template is well-formed: the fast parser read it
    for number, text in enumerate(pages, start=1):  # numbered through the whole, in order, each once
        assert text.count(f"Sida {number} av {total}") == 1 and text.count("Registerutdrag") >= 1, number
    text = " ".join(pages)
    # Every ärende once and in order, each with its own facts under its heading.
    places = [text.index(f"Ärende {n} (") for n in range(1, count + 1)]
    assert places == sorted(places) and f"Ärende {count + 1} (" not in text
    addresses = [text.index(f"Delgatan {n} ") for n in range(1, count + 1)]
    assert all(a < b for a, b in zip(places, addresses)) and addresses == sorted(addresses)
    assert f"Antal ärenden: {count}" in text and "Olle" not in text and "Annangatan" not in text
    meta = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert "19121212" not in meta and "121212" not in meta
    # One tagged document: one structure tree, the language, one bookmark per ärende under the title.
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "sv" and root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    (title,) = reader.outline[:1]
    assert title.title == "Registerutdrag"
    bookmarks = [item for item in reader.outline[1] if not isinstance(item, list)]
    assert [b.title.split(" (")[0] for b in bookmarks] == [f"Ärende {n}" for n in range(1, count + 1)]
    targets = [reader.get_destination_page_number(b) for b in bookmarks]
    assert targets == sorted(targets) and pages[targets[-1]].count(f"Ärende {count} (") == 1

    res = extract(soc, "19121212-1212", "json")
    data = json.loads(res.data)
    assert [a["arende"] for a in data["arenden"]] == pids and other not in res.get_data(as_text=True)
    assert data["person"] == {"namn": "Tilda Testperson", "personnummer": "191212121212"}
    assert set(data) == {"registerutdrag", "person", "arenden"}

    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "registerutdrag")
                          .order_by(AuditEntry.id)).all()
    assert [(e.object_type, e.object_id, e.detail) for e in entries] == [
        ("person", None, f"PDF, {count} ärenden"), ("person", None, f"JSON, {count} ärenden")]


def test_the_streamed_json_is_the_text_json_dumps_makes():
    from formservice.arenden import registerutdrag

    for arenden in ([], [{"arende": "a", "rader": [{"varde": "två\nrader"}], "tom": []}], [{"arende": "a"}, {"arende": "b"}]):
        extract = registerutdrag.Extract({"framtaget": "2026-12-07 08:00"}, {"personnummer": "191212121212"},
                                         len(arenden), iter(arenden))
        whole = {"registerutdrag": extract.meta, "person": extract.person, "arenden": arenden}
        assert registerutdrag._json(extract) == json.dumps(whole, ensure_ascii=False, indent=2).encode()


def test_bad_personnummer_is_a_clear_message_and_kept(soc, auth, make_user):
    as_admin(soc, auth, make_user)
    res = extract(soc, "19121212-1213", "pdf")
    body = res.get_data(as_text=True)
    assert res.status_code == 400 and "Personnummer:" in body and 'value="19121212-1213"' in body


def test_a_person_without_ärenden_gets_an_extract_saying_so(soc, auth, make_user):
    as_admin(soc, auth, make_user)
    data = json.loads(extract(soc, "20000101-0008", "json").data)
    assert data["arenden"] == []


def test_only_an_admin_and_only_the_own_organisation(soc, forfragan, auth, make_user, make_enhet):
    res = soc.get("/admin/registerutdrag")
    assert res.status_code in (302, 403)  # a socialsekreterare may not
    other_org = make_enhet(namn="Annan enhet", organisation="Annan kommun")
    as_admin(soc, auth, make_user, username="eva", enhet_id=other_org)
    assert json.loads(extract(soc, "19121212-1212", "json").data)["arenden"] == []


def test_the_status_page_says_tas_fram_until_the_worker_is_done_and_only_to_the_admin_who_asked(
        soc, auth, make_user, client, app):
    from formservice import jobs

    outside_event_loop(jobs.stop_worker)  # no worker yet: the job waits
    as_admin(soc, auth, make_user)
    page = soc.get("/admin/registerutdrag").get_data(as_text=True)
    res = soc.post("/admin/registerutdrag", data={"csrf_token": csrf_token(page), "personnummer": "19121212-1212",
                                                  "format": "pdf"})
    assert res.status_code == 303
    location = res.headers["Location"]
    assert "1912" not in location and "121212" not in location
    page = soc.get(location)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Tas fram…" in body and 'aria-live="polite"' in body
    assert ">Uppdatera</a>" in body and "js/jobb.js" in body and "http-equiv" not in body
    assert soc.get(f"{location}/status").get_json() == {"status": "väntar", "text": "Tas fram…", "error": None,
                                                         "download": None, "note": None}
    assert soc.get(f"{location}/hamta").status_code == 404  # nothing to fetch yet
    # A status page left open from before jobs had addresses of their own keeps working.
    old = soc.get(f"/admin/registerutdrag{location}/status")
    assert old.status_code == 308 and old.headers["Location"].endswith(f"{location}/status")
    # The personnummer is in no plain column of the job.
    with app.app_context():
        from formservice import db

        job = db.session().scalar(select(jobs.Jobb))
        plain = " ".join(str(getattr(job, c.key)) for c in jobs.Jobb.__table__.columns if not c.key.endswith("_enc"))
        assert "121212" not in plain and b"121212" not in job.params_enc

    # Another admin of the same organisation: as unknown as a job that never was.
    auth.logout()
    make_user(username="bertil", role="admin", namn="Bertil Admin")
    auth.login(username="bertil")
    for suffix in ("", "/status", "/hamta"):
        assert soc.get(location + suffix).status_code == 404
    assert soc.get("/jobb/finns-inte").status_code == 404

    outside_event_loop(jobs.start_worker, app)
    auth.logout()
    auth.login(username="adam")
    state = wait_until_done(soc, location)
    assert state["status"] == "klar" and state["text"] == "Klar – hämta"
    res = soc.get(state["download"])
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    assert "Registerutdrag" in PdfReader(io.BytesIO(res.data)).pages[0].extract_text()
    auth.logout()
    auth.login(username="bertil")
    assert soc.get(state["download"]).status_code == 404


def test_a_downloaded_result_is_gone_after_a_day_and_any_after_a_week(soc, auth, make_user, app, dbs):
    from datetime import timedelta

    from formservice import jobs
    from formservice.db import utcnow

    as_admin(soc, auth, make_user)
    extract(soc, "19121212-1212", "json")
    page = soc.get("/admin/registerutdrag").get_data(as_text=True)
    soc.post("/admin/registerutdrag", data={"csrf_token": csrf_token(page), "personnummer": "19121212-1212",
                                            "format": "json"})
    with app.app_context():
        now = utcnow()
        assert jobs.purge(now) == 0  # downloaded just now, and one not downloaded: both kept
        assert jobs.purge(now + timedelta(hours=25)) == 1  # the downloaded one
        from formservice import db

        assert db.session().scalar(select(jobs.Jobb)).downloaded_at is None
        assert jobs.purge(now + timedelta(days=6)) == 0
        assert jobs.purge(now + timedelta(days=7, minutes=1)) == 1


def test_a_job_that_keeps_failing_ends_as_fel_with_a_swedish_message(soc, auth, make_user, app):
    from formservice import jobs
    from formservice.accounts.models import User
    from formservice.arenden.registerutdrag import FAILED, JOB_KIND

    as_admin(soc, auth, make_user)
    with app.test_request_context():
        from formservice import db

        admin = db.session().scalar(select(User).where(User.username == "adam"))
        job = jobs.create(admin, JOB_KIND, {})  # parameters without a personnummer: every attempt fails
    location = f"/jobb/{job.public_id}"
    state = wait_until_done(soc, location)
    assert state == {"status": "fel", "text": "Det gick inte att ta fram", "error": FAILED, "download": None,
                     "note": None}
    body = soc.get(location).get_data(as_text=True)
    assert FAILED in body and "Tas fram…" not in body
    assert soc.get(f"{location}/hamta").status_code == 404
