"""Samverkan: a hand-over sent only under samtycke, the recipient's inbox, acceptance, the doctor's
answer online, what each party sees, and revocation ending the recipient's access at once."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from formservice import tid

from .conftest import PASSWORD, AuthActions, csrf_token


def make_forbund(app) -> tuple[int, int]:
    """A förbund with Teststaden (socialtjänst) and a region whose vårdcentral takes förfrågningar
    (funktionsadress vc@example.se), plus a second vårdcentral that is never sent anything."""
    from formservice import db
    from formservice.accounts.models import Enhet, Organisation

    with app.app_context():
        dbs = db.session()
        f = Organisation(namn="Samordningsförbundet Test", typ="samordningsforbund")
        region = Organisation(namn="Region Test", typ="region")
        dbs.add_all([f, region])
        dbs.flush()
        region.forbund_id = f.id
        dbs.query(Organisation).filter_by(namn="Teststaden").one().forbund_id = f.id
        vc = Enhet(organisation_id=region.id, namn="Vårdcentral Prov", typ="vard", funktionsadress="vc@example.se")
        other = Enhet(organisation_id=region.id, namn="Vårdcentral Annan", typ="vard")
        dbs.add_all([vc, other])
        dbs.commit()
        return vc.id, other.id


@pytest.fixture
def forbund(app, make_enhet):
    return lambda: make_forbund(app)


def _doctor_client(app, make_user, enhet_id, username="lakare"):
    client = app.test_client()
    make_user(username=username, role="vardpersonal", enhet_id=enhet_id, namn="Åsa Läkarsson", titel="Läkare")
    AuthActions(client).login(username=username)
    return client


def _record_consent(soc, pid, parties=("socialtjanst", "vard"), blankett="sekretessmedgivande"):
    page = soc.get(f"/arenden/{pid}/samtycke/nytt?blankett={blankett}").get_data(as_text=True)
    today = tid.today()
    r = soc.post(f"/arenden/{pid}/samtycke/nytt", data={
        "csrf_token": csrf_token(page), "blankett": blankett, "parties": list(parties), "given_by": "Tolvan Tolvansson",
        "scope": "", "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=180)).isoformat()})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def _send(soc, pid, doc_id, enhet_ids):
    url = f"/arenden/{pid}/dokument/{doc_id}/skicka"
    page = soc.get(url).get_data(as_text=True)
    return soc.post(url, data={"csrf_token": csrf_token(page), "till": [str(i) for i in enhet_ids]})


def test_forfragan_sent_under_samtycke_answered_online_and_access_ends_with_revocation(app, soc, forfragan, forbund,
                                                                                      make_user):
    from formservice import db
    from formservice.samverkan.models import Overlamning

    pid, doc_id, _pdf = forfragan
    vc_id, other_id = forbund()
    # Without a samtycke covering vården nothing is sent, and the page says why and where to fix it.
    refused = _send(soc, pid, doc_id, [vc_id])
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "inget gällande samtycke omfattar Hälso- och sjukvården" in text
    assert f"/arenden/{pid}/samtycke/nytt" in text
    with app.app_context():
        assert db.session().query(Overlamning).count() == 0

    _record_consent(soc, pid)
    assert _send(soc, pid, doc_id, [vc_id]).status_code == 302
    _send(soc, pid, doc_id, [vc_id])  # a second click sends nothing more
    with app.app_context():
        assert db.session().query(Overlamning).count() == 1
        ov_id = db.session().query(Overlamning).one().public_id
    assert "Skickad" in soc.get(f"/arenden/{pid}").get_data(as_text=True)

    doctor = _doctor_client(app, make_user, vc_id)
    inbox = doctor.get("/inkommande").get_data(as_text=True)
    assert ov_id in inbox and "19121212-1212" in inbox
    page = doctor.get(f"/inkommande/{ov_id}")
    assert page.status_code == 200
    pdf = doctor.get(f"/inkommande/{ov_id}/dokument.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # The doctor answers in the browser: the fillable PDF's checks (a name is required).
    form_url = f"/inkommande/{ov_id}/svara"
    form = doctor.get(form_url).get_data(as_text=True)
    bad = doctor.post(form_url, data={"csrf_token": csrf_token(form), "lakare_namn": "", "vardenhet": "",
                                      "aktivitet_jobbtorg_omfattning": "120"})
    assert bad.status_code == 400
    good = doctor.post(form_url, data={"csrf_token": csrf_token(form), "lakare_namn": "Åsa Läkarsson",
                                       "vardenhet": "Vårdcentral Prov", "aktivitet_jobbtorg_kan_delta": "ja",
                                       "aktivitet_jobbtorg_omfattning": "50"})
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]

    sender_page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Besvarad" in sender_page and "Åsa Läkarsson" in sender_page  # the answer, and "Vem har sett vad"
    with app.app_context():
        from formservice.arenden.models import Arende, Dokument

        dok = db.session().query(Dokument).filter_by(public_id=doc_id).one()
        assert dok.status == "besvarad"
        assert db.session().query(Arende).filter_by(public_id=pid).one().ruta == "soc1.11"

    # An enhet that was never sent anything sees nothing.
    stranger = _doctor_client(app, make_user, other_id, username="annan")
    for url in (f"/inkommande/{ov_id}", f"/inkommande/{ov_id}/dokument.pdf", form_url):
        assert stranger.get(url).status_code == 404
    assert ov_id not in stranger.get("/inkommande?visa=alla").get_data(as_text=True)

    # Revoking the samtycke ends the doctor's access at once; the doctor's own ärende stays.
    with app.app_context():
        from formservice.samverkan.models import Overlamning as O

        own = db.session().query(O).one().mottagare_arende.public_id
    page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    revoke_url = re.search(r'href="(/arenden/[^"]+/samtycke/[^"]+/aterkalla)"', page).group(1)
    form = soc.get(revoke_url).get_data(as_text=True)
    r = soc.post(revoke_url, data={"csrf_token": csrf_token(form), "datum": tid.today().isoformat(), "note": ""})
    assert r.status_code == 302
    for url in (f"/inkommande/{ov_id}", f"/inkommande/{ov_id}/dokument.pdf", form_url):
        assert doctor.get(url).status_code == 404, url
    for url in (f"/inkommande/{ov_id}/ta-emot", f"/inkommande/{ov_id}/returnera"):
        assert doctor.post(url, data={"csrf_token": csrf_token(doctor.get("/inkommande").get_data(as_text=True))}
                           ).status_code == 404, url
    assert ov_id not in doctor.get("/inkommande?visa=alla").get_data(as_text=True)
    assert doctor.get(f"/arenden/{own}").status_code == 200


def test_the_inbox_reads_the_samtycken_of_all_its_hand_overs_at_once(app, soc, forbund, make_user):
    """The recipient's inbox checks every hand-over's samtycke: with one query for all of them (and
    the documents, ärenden and enheter loaded with the hand-overs), not four per hand-over."""
    from sqlalchemy import event

    from formservice import db
    from formservice.accounts.models import User
    from formservice.samverkan import access

    from .wizard_driver import create_arende, fill_blankett, step

    vc_id, _other = forbund()
    make_user(username="lakare", role="vardpersonal", enhet_id=vc_id, namn="Åsa Läkarsson", titel="Läkare")

    def send_one() -> None:
        pid = create_arende(soc, ruta="soc1.9")
        fill_blankett(soc, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
        step(soc, pid, "soc1.10")
        doc_id = re.search(r'/dokument/([^/"]+)\.ifyllbar', soc.get(f"/arenden/{pid}").get_data(as_text=True)).group(1)
        _record_consent(soc, pid)
        assert _send(soc, pid, doc_id, [vc_id]).status_code == 302

    def statements() -> tuple[int, int]:
        seen = []
        with app.app_context():
            doctor = db.session().query(User).filter_by(username="lakare").one()
            engine = app.extensions["db_engine"]
            listen = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listen)
            try:
                shown = len(access.incoming(doctor))
            finally:
                event.remove(engine, "before_cursor_execute", listen)
        return shown, len(seen)

    send_one()
    one = statements()
    send_one()
    send_one()
    three = statements()
    assert one[0] == 1 and three[0] == 3
    assert three[1] == one[1], (one, three)
