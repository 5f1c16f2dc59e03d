"""Samverkan with every party: the Finsamteam's decision and gemensam plan, a SIP-kallelse answered
by two invited enheter (one returns another's), Försäkringskassan's receipt and decision – each
status set by the recipient's action, each party's ruta on every party's map; closing tells the
linked parties; the registerutdrag shows who saw what; no one uninvited reaches any route."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from formservice import tid

from .conftest import AuthActions, csrf_token
from .wizard_driver import create_arende, fill_blankett, place


@pytest.fixture
def parties(app, make_enhet, make_user):
    """A förbund: Teststaden's socialtjänst (the sender), a vårdcentral, Arbetsförmedlingen,
    Försäkringskassan, a Jobbtorg and the förbund's own Finsamteam; one user in each."""
    from formservice import db
    from formservice.accounts.models import Enhet, Organisation

    make_enhet()  # Teststaden with its socialtjänst enhet
    with app.app_context():
        dbs = db.session()
        forbund = Organisation(namn="Samordningsförbundet Test", typ="samordningsforbund")
        dbs.add(forbund)
        dbs.flush()
        ids = {}
        for org_name, typ, enhet_name, enhet_typ in (
                ("Region Test", "region", "Vårdcentral Prov", "vard"),
                ("Arbetsförmedlingen", "myndighet", "Arbetsförmedlingen Prov", "arbetsformedlingen"),
                ("Försäkringskassan", "myndighet", "Försäkringskassan Samordning", "forsakringskassan"),
                ("Teststaden", None, "Jobbtorg Prov", "jobbtorg"),
                (forbund.namn, None, "Finsamteam Prov", "finsam")):
            org = dbs.scalar(select(Organisation).where(Organisation.namn == org_name))
            if org is None:
                org = Organisation(namn=org_name, typ=typ, forbund_id=forbund.id)
                dbs.add(org)
                dbs.flush()
            enhet = Enhet(organisation_id=org.id, namn=enhet_name, typ=enhet_typ)
            dbs.add(enhet)
            dbs.flush()
            ids[enhet_typ] = enhet.id
        dbs.scalar(select(Organisation).where(Organisation.namn == "Teststaden")).forbund_id = forbund.id
        dbs.commit()
    roles = {"vard": "vardpersonal", "arbetsformedlingen": "arbetsformedlare", "forsakringskassan": "handlaggare",
             "jobbtorg": "jobbcoach", "finsam": "koordinator"}
    clients = {}
    for typ, role in roles.items():
        make_user(username=f"u-{typ}", role=role, enhet_id=ids[typ], namn=f"Person {typ}")
        c = app.test_client()
        AuthActions(c).login(username=f"u-{typ}")
        clients[typ] = c
    return ids, clients


def _doc_id(result) -> str:
    return result["pdf_url"].rsplit("/", 1)[-1].split(".")[0]


def _consent_all(soc, pid):
    page = soc.get(f"/arenden/{pid}/samtycke/nytt?blankett=finsamteam_samtycke").get_data(as_text=True)
    today = tid.today()
    r = soc.post(f"/arenden/{pid}/samtycke/nytt", data={
        "csrf_token": csrf_token(page), "blankett": "finsamteam_samtycke",
        "parties": ["socialtjanst", "vard", "fk", "af", "jobbtorg"], "given_by": "Tolvan Tolvansson", "scope": "",
        "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=300)).isoformat()})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]


def _send(soc, pid, doc_id, enhet_ids):
    url = f"/arenden/{pid}/dokument/{doc_id}/skicka"
    return soc.post(url, data={"csrf_token": csrf_token(soc.get(url).get_data(as_text=True)),
                               "till": [str(i) for i in enhet_ids]})


def _incoming_id(client) -> str:
    return re.search(r'href="/inkommande/([A-Za-z0-9_-]+)"', client.get("/inkommande").get_data(as_text=True)).group(1)


def _post(client, url, data=None):
    token = csrf_token(client.get("/inkommande").get_data(as_text=True))
    return client.post(url, data=dict(data or {}, csrf_token=token))


def _status(app, doc_id):
    from formservice import db
    from formservice.arenden.models import Dokument

    with app.app_context():
        return db.session().scalar(select(Dokument.status).where(Dokument.public_id == doc_id))


def test_every_party_answers_online_and_sees_every_partys_ruta(app, soc, parties):
    from formservice import db
    from formservice.arenden.models import Arende
    from formservice.samverkan.models import Overlamning

    ids, c = parties
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.13")
    anmalan = _doc_id(fill_blankett(soc, pid, "finsamteam_anmalan", cat))
    sip = _doc_id(fill_blankett(soc, pid, "sip_kallelse", cat))
    ansokan = _doc_id(fill_blankett(soc, pid, "fk_ansokan_samordning", cat))
    # Without the Finsamteam samtycke (the anmälan's own consent) the anmälan does not go.
    refused = _send(soc, pid, anmalan, [ids["finsam"]])
    assert refused.status_code == 400 and "inget gällande samtycke" in refused.get_data(as_text=True)
    _consent_all(soc, pid)
    assert _send(soc, pid, anmalan, [ids["finsam"]]).status_code == 302
    assert _send(soc, pid, sip, [ids["vard"], ids["arbetsformedlingen"], ids["jobbtorg"]]).status_code == 302
    assert _send(soc, pid, ansokan, [ids["forsakringskassan"]]).status_code == 302
    assert {_status(app, d) for d in (anmalan, sip, ansokan)} == {"skickad"}
    # A blankett that goes to one recipient cannot go to two; an enhet of the wrong kind is refused.
    assert _send(soc, pid, ansokan, [ids["forsakringskassan"], ids["vard"]]).status_code == 400

    # The koordinator: the plan is required when the individ is taken in; then the status is besvarad.
    koord = c["finsam"]
    item = _incoming_id(koord)
    bad = _post(koord, f"/inkommande/{item}/svara", {"beslut": "antagen", "gemensam_plan": ""})
    assert bad.status_code == 400 and "Fyll i gemensam plan" in bad.get_data(as_text=True)
    assert _post(koord, f"/inkommande/{item}/svara", {"beslut": "antagen",
                                                      "gemensam_plan": "Delmål 1: arbetsträning 25 %."}).status_code == 302
    assert _status(app, anmalan) == "besvarad"
    with app.app_context():
        own = db.session().scalar(select(Overlamning).where(Overlamning.public_id == item)).mottagare_arende
        assert (own.lane, own.ruta, own.enhet_id) == ("finsamteam", "finsamteam.6", ids["finsam"])

    # SIP: the vårdcentral comes, Arbetsförmedlingen sends another person, the Jobbtorg returns it.
    vard_item = _incoming_id(c["vard"])
    assert _post(c["vard"], f"/inkommande/{vard_item}/svara", {"deltar": "ja"}).status_code == 302
    assert _status(app, sip) == "mottagen"  # one of three answered: not yet besvarad
    af_item = _incoming_id(c["arbetsformedlingen"])
    assert _post(c["arbetsformedlingen"], f"/inkommande/{af_item}/svara", {"deltar": "annan"}).status_code == 400
    assert _post(c["arbetsformedlingen"], f"/inkommande/{af_item}/svara",
                 {"deltar": "annan", "ersattare": "Arne Arbetsförmedlare"}).status_code == 302
    jt_item = _incoming_id(c["jobbtorg"])
    assert _post(c["jobbtorg"], f"/inkommande/{jt_item}/returnera", {"anledning": ""}).status_code == 400
    assert _post(c["jobbtorg"], f"/inkommande/{jt_item}/returnera",
                 {"anledning": "Individen är inte inskriven hos oss."}).status_code == 302
    assert _status(app, sip) == "besvarad"  # everyone who did not return it has answered

    # Försäkringskassan: receipt first (mottagen), then the decision with its date.
    fk = c["forsakringskassan"]
    fk_item = _incoming_id(fk)
    assert _post(fk, f"/inkommande/{fk_item}/ta-emot").status_code == 302
    assert _status(app, ansokan) == "mottagen"
    assert _post(fk, f"/inkommande/{fk_item}/svara", {"beslut": "ratt", "beslutsdatum": "i går"}).status_code == 400
    assert _post(fk, f"/inkommande/{fk_item}/svara",
                 {"beslut": "ratt", "beslutsdatum": tid.today().isoformat()}).status_code == 302
    assert _status(app, ansokan) == "besvarad"

    sender_page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Individen är inte inskriven hos oss." in sender_page and "Arne Arbetsförmedlare" in sender_page
    # Every party's ruta, on every party's page.
    for client, url in ((soc, f"/arenden/{pid}"), (koord, f"/inkommande/{item}"), (fk, f"/inkommande/{fk_item}")):
        table = client.get(url).get_data(as_text=True).split("parter-tabell", 1)[1].split("</table>", 1)[0]
        for name in ("Testenheten", "Finsamteam Prov", "Försäkringskassan Samordning", "Vårdcentral Prov",
                     "Arbetsförmedlingen Prov"):
            assert name in table, (url, name)
        assert "Jobbtorg Prov" not in table  # it returned the kallelse: no ärende, no place on the map
    # The koordinator sees the sender's documents only as sent: no drafts, no notes, no other document.
    koord_item = koord.get(f"/inkommande/{item}").get_data(as_text=True)
    assert "Påbörjade blanketter" not in koord_item and ansokan not in koord_item and sip not in koord_item

    # Closing the sender's ärende tells every linked party in its own history.
    from .test_arende_closing import close

    with app.app_context():
        linked = {a.enhet_id: a.public_id for a in db.session().scalars(select(Arende).where(Arende.enhet_id.in_(
            [ids["finsam"], ids["forsakringskassan"]])))}
    close(soc, pid, reason="flyttat")
    for client, arende_id in ((koord, linked[ids["finsam"]]), (fk, linked[ids["forsakringskassan"]])):
        assert "Testenheten – Ekonomiskt bistånd (Teststaden) har avslutat sitt ärende" in client.get(
            f"/arenden/{arende_id}").get_data(as_text=True)


def test_no_one_uninvited_reaches_a_samverkan_route(app, soc, parties, make_user, make_enhet):
    """Every route of the samverkan blueprint with real ids, GET and POST, for users who were not
    sent the item: another enhet of the same party, an admin of the recipient's organisation, an
    uppföljare, the sender's own colleague at another enhet. All 404 – and the recipient gets 200."""
    from formservice import db
    from formservice.accounts.models import Enhet

    ids, c = parties
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.13")
    anmalan = _doc_id(fill_blankett(soc, pid, "finsamteam_anmalan", cat))
    _consent_all(soc, pid)
    assert _send(soc, pid, anmalan, [ids["finsam"]]).status_code == 302
    item = _incoming_id(c["finsam"])
    with app.app_context():
        forbund_org = db.session().get(Enhet, ids["finsam"]).organisation_id
        second_team = Enhet(organisation_id=forbund_org, namn="Finsamteam Annat", typ="finsam")
        db.session().add(second_team)
        db.session().commit()
        second_team = second_team.id
    outsiders = {}
    for username, role, enhet in (("team2", "koordinator", second_team), ("forbund-admin", "admin", ids["finsam"]),
                                  ("uppf", "uppfoljare", ids["finsam"]),
                                  ("farsta", "socialsekreterare", make_enhet(namn="Farsta – Ekonomiskt bistånd"))):
        make_user(username=username, role=role, enhet_id=enhet)
        client = app.test_client()
        AuthActions(client).login(username=username)
        outsiders[username] = client
    real = {"public_id": item, "doc_id": anmalan}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("samverkan.") and "<public_id>" in r.rule]
    assert len(rules) >= 6
    for rule in rules:
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: real[m.group(1)], rule.rule)
        if "/arenden/" in url:  # the sender's own route: the ärende's id, not the item's
            url = url.replace(f"/arenden/{item}", f"/arenden/{pid}")
        for name, client in outsiders.items():
            if "GET" in rule.methods:
                assert client.get(url).status_code == 404, (name, url)
            if "POST" in rule.methods:
                token = csrf_token(client.get("/processkarta").get_data(as_text=True))
                assert client.post(url, data={"csrf_token": token, "beslut": "antagen", "gemensam_plan": "x",
                                              "anledning": "x", "till": str(ids["finsam"])}).status_code == 404, (name, url)
        if "/inkommande/" in url and "GET" in rule.methods:
            assert c["finsam"].get(url).status_code == 200, url
    for client in outsiders.values():
        assert item not in client.get("/inkommande?visa=alla").get_data(as_text=True)
    # Nothing was changed by any of those posts.
    from formservice.samverkan.models import Overlamning

    with app.app_context():
        assert db.session().scalar(select(Overlamning.status).where(Overlamning.public_id == item)) == "skickad"


def test_the_registerutdrag_shows_the_hand_overs_and_who_saw_them(app, soc, parties, make_user):
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import registerutdrag

    ids, c = parties
    cat = app.extensions["catalogue"]
    pid = create_arende(soc, ruta="soc1.13")
    anmalan = _doc_id(fill_blankett(soc, pid, "finsamteam_anmalan", cat))
    _consent_all(soc, pid)
    _send(soc, pid, anmalan, [ids["finsam"]])
    item = _incoming_id(c["finsam"])
    c["finsam"].get(f"/inkommande/{item}")
    c["finsam"].get(f"/inkommande/{item}/dokument.pdf")
    make_user(username="adm", role="admin")
    with app.test_request_context():
        admin = db.session().scalar(select(User).where(User.username == "adm"))
        extract = registerutdrag.collect(admin, "191212121212", cat)
        entries = list(extract.arenden)
    rows = [row for e in entries for row in e.get("samverkan", [])]
    assert len(rows) == 1 and rows[0]["riktning"] == "skickad" and "Finsamteam Prov" in rows[0]["till"]
    assert [v["vad"] for v in rows[0]["visningar"]] == ["överlämningen", "dokumentet (PDF)"]
    assert {v["av"] for v in rows[0]["visningar"]} == {"Person finsam"}
