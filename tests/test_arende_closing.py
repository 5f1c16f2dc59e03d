"""Closing and reopening an ärende: honest end states, a reason and a date, read-only while closed."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from formservice import tid
from formservice.arenden.models import Arende, Handelse

from .conftest import csrf_token
from .formparse import form_with
from .wizard_driver import create_arende, step

pytestmark = pytest.mark.db  # also run against PostgreSQL in CI


def close(client, pid, **data):
    page = client.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    form = form_with(page, "reason")["fields"]
    return client.post(f"/arenden/{pid}/avsluta", data={"csrf_token": form["csrf_token"], "version": form["version"],
                                                        "datum": tid.today().isoformat(), **data})


def arende(dbs, pid) -> Arende:
    dbs.expire_all()
    return dbs.scalar(select(Arende).where(Arende.public_id == pid))


def test_too_ill_right_now_ends_in_its_own_end_state_and_the_ärende_is_closed(soc, dbs):
    pid = create_arende(soc, ruta="soc1.16")
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert "Inget behov just nu" in page and "sjukersättning eller aktivitetsersättning" in page
    assert "självförsörjande" not in page.split("Vägval")[1].split("</fieldset>")[0]
    step(soc, pid, "soc1.slut-ingetbehov")
    page = soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    assert "Processen är slut här" in page
    form = form_with(page, "reason")["fields"]
    assert form["reason"] == "soc1.slut-ingetbehov"  # the end state is chosen already
    res = soc.post(f"/arenden/{pid}/avsluta", data=form)
    assert res.status_code == 302
    a = arende(dbs, pid)
    assert (a.status, a.closed_on, a.closed_reason) == ("avslutat", tid.today(), "soc1.slut-ingetbehov")
    kinds = [h.kind for h in dbs.scalars(select(Handelse).where(Handelse.arende_id == a.id).order_by(Handelse.id))]
    assert kinds == ["skapad", "beslut", "avslutat"]
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Ärendet är avslutat" in show and "Inget behov av samordnad rehabilitering just nu" in show
    assert "Fortsätt i processen" not in show and "Ändra uppgifterna" not in show


def test_a_closed_ärende_is_read_only_and_a_stale_form_keeps_what_was_typed(soc, dbs, app):
    pid = create_arende(soc, ruta="soc1.3")
    where = soc.get(f"/arenden/{pid}/var?bana=soc1").get_data(as_text=True)  # opened before the closing
    assert close(soc, pid, reason="flyttat").status_code == 302
    for url in (f"/arenden/{pid}/steg", f"/arenden/{pid}/var", f"/arenden/{pid}/uppgifter",
                f"/arenden/{pid}/blankett/forandringsplan", f"/arenden/{pid}/samtycke/nytt"):
        res = soc.get(url)
        assert res.status_code == 302 and res.headers["Location"].endswith(f"/arenden/{pid}"), url
    assert "Ärendet är avslutat. Öppna det igen" in soc.get(f"/arenden/{pid}").get_data(as_text=True)
    form = form_with(where, "ruta")["fields"]
    res = soc.post(f"/arenden/{pid}/var", data=dict(form, ruta="soc1.4", note="Ringde om tider för läkarbesök"))
    assert res.status_code == 409
    assert "Ringde om tider för läkarbesök" in res.get_data(as_text=True)
    a = arende(dbs, pid)
    assert a.ruta == "soc1.3" and a.status == "avslutat"


def test_closing_checks_reason_date_and_note_and_keeps_what_was_typed(soc, dbs):
    pid = create_arende(soc, ruta="soc1.3")
    res = close(soc, pid, reason="annat", note="", datum=(tid.today() + timedelta(days=1)).isoformat())
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Datumet kan inte vara i framtiden." in body and "Beskriv skälet i anteckningen" in body
    res = close(soc, pid, reason="soc1.slut", note="Fick jobb")  # an end state it does not stand in
    assert res.status_code == 400 and "Välj varför ärendet avslutas." in res.get_data(as_text=True)
    assert 'value="Fick jobb"' in res.get_data(as_text=True) or ">Fick jobb<" in res.get_data(as_text=True)
    res = close(soc, pid, reason="avbojt", datum="igår")
    assert res.status_code == 400 and "ÅÅÅÅ-MM-DD" in res.get_data(as_text=True)
    assert arende(dbs, pid).status == "oppet"


def test_closing_a_form_shown_before_someone_moved_the_ärende_is_refused(soc, dbs):
    pid = create_arende(soc, ruta="soc1.3")
    page = soc.get(f"/arenden/{pid}/avsluta").get_data(as_text=True)
    step(soc, pid, soc.application.extensions["catalogue"].process_map.ruta("soc1.3").next)  # someone moves it
    form = form_with(page, "reason")["fields"]
    res = soc.post(f"/arenden/{pid}/avsluta", data=dict(form, reason="avbojt"))
    assert res.status_code == 400 and "ändrats av någon annan" in res.get_data(as_text=True)
    assert arende(dbs, pid).status == "oppet"


def test_reopening_needs_a_reason_and_is_in_the_history(soc, dbs):
    pid = create_arende(soc, ruta="soc1.3")
    close(soc, pid, reason="avbojt")
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    form = form_with(show, "note")["fields"]
    res = soc.post(f"/arenden/{pid}/oppna", data=dict(form, note=""))
    assert res.status_code == 400 and "Skriv varför ärendet öppnas igen." in res.get_data(as_text=True)
    assert arende(dbs, pid).status == "avslutat"
    res = soc.post(f"/arenden/{pid}/oppna", data=dict(form, note="Individen vill delta igen"))
    assert res.status_code == 302
    a = arende(dbs, pid)
    assert (a.status, a.closed_on, a.closed_reason) == ("oppet", None, None)
    history = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Ärendet öppnades igen (hade avslutats: Individen vill inte längre delta)" in history
    assert "Individen vill delta igen" in history
    step(soc, pid, soc.application.extensions["catalogue"].process_map.ruta("soc1.3").next)  # the process goes on
    again = soc.post(f"/arenden/{pid}/oppna", data=dict(form, note="Dubbelklick"))
    assert again.status_code == 302 and arende(dbs, pid).status == "oppet"  # nothing to reopen: no change


def test_the_closing_date_is_not_before_the_last_entry(soc, dbs):
    pid = create_arende(soc, ruta="soc1.3")
    res = close(soc, pid, reason="flyttat", datum=(tid.today() - timedelta(days=3)).isoformat())
    assert res.status_code == 400 and "före ärendets senaste händelse" in res.get_data(as_text=True)


def test_the_list_filters_open_and_closed(soc):
    open_pid = create_arende(soc, ruta="soc1.3")
    closed_pid = create_arende(soc, dict(namn="Sven Stängd", personnummer="19121212-1212"), ruta="soc1.3")
    close(soc, closed_pid, reason="flyttat")
    default = soc.get("/arenden").get_data(as_text=True)
    assert open_pid in default and closed_pid not in default and "1 öppet ärende." in default
    closed = soc.get("/arenden?status=avslutat").get_data(as_text=True)
    assert closed_pid in closed and open_pid not in closed and "Individen har flyttat" in closed
    everything = soc.get("/arenden?status=alla").get_data(as_text=True)
    assert open_pid in everything and closed_pid in everything
    assert "1 öppet ärende i din enhet" in soc.get("/").get_data(as_text=True)
    # A search finds the closed ärende too: a person's earlier ärende must not look absent.
    page = soc.get("/arenden").get_data(as_text=True)
    found = soc.post("/arenden", data={"csrf_token": csrf_token(page), "q": "Sven"}).get_data(as_text=True)
    assert closed_pid in found and "Avslutat" in found


def test_no_route_changes_a_closed_ärende(soc, forfragan, app, dbs):
    """Every POST route of an ärende on a closed ärende that has a document, a started paper answer
    from the doctor, a consent and a draft, with the real ids: none changes anything. The rule is
    in the arenden wing, so also a direct call is refused."""
    import pytest

    from formservice.accounts.models import User
    from formservice.arenden import operations
    from formservice.arenden.models import Dokument, DokumentDel, Samtycke, Utkast
    from formservice.doctor.models import Svar

    pid, doc_id, _ = forfragan
    show = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    token = csrf_token(show)
    assert soc.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": token}).status_code == 302
    page = soc.get(f"/arenden/{pid}/samtycke/nytt?dokument={doc_id}").get_data(as_text=True)
    form = form_with(page, "given_by")["fields"]
    assert soc.post(f"/arenden/{pid}/samtycke/nytt", data=dict(
        {k: v for k, v in form.items() if v is not None and k != "parties"}, parties=["socialtjanst", "vard"],
        valid_from=tid.today().isoformat(), valid_until="")).status_code == 302
    soc.get(f"/arenden/{pid}/blankett/forandringsplan")  # a draft
    svar_id = dbs.scalar(select(Svar.public_id))
    samtycke_id = dbs.scalar(select(Samtycke.public_id))
    step(soc, pid, "soc1.11")
    close(soc, pid, reason="flyttat")
    a = arende(dbs, pid)
    models = (Dokument, DokumentDel, Samtycke, Utkast, Svar, Handelse)
    version, rows = a.version, {m: dbs.query(m).count() for m in models}
    ids = {"doc_id": doc_id, "svar_id": svar_id, "samtycke_id": samtycke_id, "blankett_id": "forandringsplan",
           "int:number": "1", "int:position": "0"}
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and "<public_id>" in r.rule
             and r.rule.startswith("/arenden/") and r.endpoint != "arenden.reopen"]  # an ärende's routes
    assert len(rules) >= 12
    for rule in rules:
        url = re.sub(r"<([a-z_:]+)>", lambda m: ids.get(m.group(1), "x"), rule.rule.replace("<public_id>", pid))
        res = soc.post(url, data={"csrf_token": token, "version": str(version), "note": "försök", "status": "skickad",
                                  "reason": "avbojt", "datum": tid.today().isoformat(), "val": "next:soc1.12"})
        assert res.status_code in (302, 400, 405, 409), (url, res.status_code)
    a = arende(dbs, pid)
    assert (a.status, a.ruta, a.version) == ("avslutat", "soc1.11", version)
    assert {m: dbs.query(m).count() for m in models} == rows
    assert dbs.scalar(select(Dokument.status)) == "skapad"
    user = dbs.scalar(select(User).where(User.username == "sara"))
    with app.test_request_context():
        with pytest.raises(operations.ArendeClosed):
            operations.move(user, a, "soc1.4")
        with pytest.raises(operations.ArendeClosed):
            operations.save_draft(user, a, "forandringsplan", {"x": "y"}, 0)
