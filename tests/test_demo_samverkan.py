"""The demo's samverkan (samverkan/demo.py through `formservice demo`): the parties' accounts in
their organisations, all in the demo förbund; Tolvan's samtycken; the förfrågan waiting in
Vårdcentral Demo's inbox and the anmälan in the Finsamteam's – and nowhere else; seeding again adds
nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from formservice import db
from formservice.accounts.models import Enhet, Organisation, User
from formservice.arenden.models import Arende, Dokument, Handelse, Samtycke
from formservice.cli import DEMO_PASSWORD, main
from formservice.samverkan.models import Overlamning

from .conftest import AuthActions

FORBUND = "Samordningsförbundet Stockholms stad (demo)"
# username → role, enhet, the enhet's party (typ), the organisation's typ
ACCOUNTS = {
    "soc.demo": ("socialsekreterare", "Skärholmen – Ekonomiskt bistånd", "socialtjanst", "kommun"),
    "soc2.demo": ("socialsekreterare", "Farsta – Ekonomiskt bistånd", "socialtjanst", "kommun"),
    "vard.demo": ("vardpersonal", "Vårdcentral Demo", "vard", "region"),
    "fk.demo": ("handlaggare", "Försäkringskassan, samordning Stockholm", "forsakringskassan", "myndighet"),
    "af.demo": ("arbetsformedlare", "Arbetsförmedlingen Stockholm syd", "arbetsformedlingen", "myndighet"),
    "koord.demo": ("koordinator", "Finsamteam Skärholmen", "finsam", "samordningsforbund"),
}
DEMO = ["demo", "--exempelarenden", "0"]


@pytest.fixture
def demo(app, runner):
    res = runner.invoke(main, DEMO)
    assert res.exit_code == 0, res.output
    return res.output


def _user(username: str) -> User:
    return db.session().scalar(select(User).where(User.username == username))


def _inbox(username: str) -> list[Overlamning]:
    from formservice.samverkan import access

    return access.incoming(_user(username))


def test_the_parties_accounts_sit_in_their_organisations_all_in_the_forbund(app, demo):
    for username in ACCOUNTS:
        assert username in demo  # the login help the command prints
    with app.app_context():
        forbund = db.session().scalar(select(Organisation).where(Organisation.namn == FORBUND))
        assert forbund.typ == "samordningsforbund"
        for username, (role, enhet_namn, typ, org_typ) in ACCOUNTS.items():
            user = _user(username)
            assert (user.role, user.enhet.namn, user.enhet.typ) == (role, enhet_namn, typ), username
            org = user.enhet.organisation
            assert org.typ == org_typ, username
            assert org.id == forbund.id or org.forbund_id == forbund.id, username
        for enhet in db.session().scalars(select(Enhet)):
            assert enhet.funktionsadress.endswith("@example.se"), enhet.namn
        # Every organisation of the demo is a member of the förbund (the förbund is itself).
        for org in db.session().scalars(select(Organisation).where(Organisation.id != forbund.id)):
            assert org.forbund_id == forbund.id, org.namn


def test_tolvans_forfragan_waits_at_the_vardcentral_and_the_anmalan_at_the_koordinator(app, demo):
    from formservice.arenden import consents
    from formservice.arenden.operations import individ, local_today

    with app.app_context():
        vard, koord = _inbox("vard.demo"), _inbox("koord.demo")
        assert [(ov.dokument.blankett_id, ov.status) for ov in vard] == [("rehabiliteringsforfragan", "skickad")]
        assert [(ov.dokument.blankett_id, ov.status) for ov in koord] == [("finsamteam_anmalan", "skickad")]
        tolvan = vard[0].fran_arende
        assert koord[0].fran_arende_id == tolvan.id
        assert individ(tolvan)["personnummer"] == "191212121212"
        assert tolvan.enhet.namn == "Skärholmen – Ekonomiskt bistånd" and tolvan.ruta == "soc1.1b"
        for ov in vard + koord:
            assert ov.dokument.klar and ov.dokument.status == "skickad"
            assert ov.skickad_av == _user("soc.demo").id
        active = {s.blankett_id: set(s.party_keys) for s in consents.of(tolvan) if s.active_on(local_today())}
        assert active["sekretessmedgivande"] == {"socialtjanst", "vard"}
        assert active["finsamteam_samtycke"] == {"af", "fk", "jobbtorg", "socialtjanst", "vard"}
        # Nothing was sent to Försäkringskassan, Arbetsförmedlingen or the other socialtjänst enhet.
        for username in ("fk.demo", "af.demo", "soc2.demo"):
            assert _inbox(username) == [], username
        ids = [ov.public_id for ov in vard + koord]

    # What vard.demo and koord.demo find under Inkommande; another enhet gets 404 on both.
    for username, public_id in (("vard.demo", ids[0]), ("koord.demo", ids[1])):
        client = app.test_client()
        AuthActions(client).login(username=username, password=DEMO_PASSWORD)
        assert public_id in client.get("/inkommande").get_data(as_text=True), username
        assert client.get(f"/inkommande/{public_id}").status_code == 200, username
    stranger = app.test_client()
    AuthActions(stranger).login(username="soc2.demo", password=DEMO_PASSWORD)
    for public_id in ids:
        assert stranger.get(f"/inkommande/{public_id}").status_code == 404
        assert public_id not in stranger.get("/inkommande?visa=alla").get_data(as_text=True)


def _counts() -> dict[str, int]:
    return {model.__name__: db.session().scalar(select(func.count()).select_from(model))
            for model in (Organisation, Enhet, User, Arende, Dokument, Samtycke, Overlamning, Handelse)}


def test_seeding_again_adds_nothing(app, runner, demo):
    with app.app_context():
        before = _counts()
    assert before["Overlamning"] == 2 and before["Samtycke"] == 2 and before["Dokument"] == 2
    again = runner.invoke(main, DEMO)
    assert again.exit_code == 0, again.output
    at_start = runner.invoke(main, ["demo", "--if-empty"])  # as scripts/serve runs it
    assert at_start.exit_code == 0 and "lades inte in" in at_start.output
    with app.app_context():
        assert _counts() == before


def test_a_demo_made_before_samverkan_gets_its_parties_and_handovers(app, runner):
    """An existing demo database (made before the enheter had a party, an inbox and the FK, AF and
    Finsamteam accounts) is brought up to date by `formservice demo`, as new accounts always were."""
    from formservice.arenden import demo as accounts_demo

    with app.app_context():
        accounts_demo.seed(DEMO_PASSWORD)
        dbs = db.session()
        for username in ("fk.demo", "af.demo", "koord.demo"):
            dbs.delete(_user(username))
        vc = dbs.scalar(select(Enhet).where(Enhet.namn == "Vårdcentral Demo"))
        vc.typ, vc.funktionsadress = "socialtjanst", ""
        dbs.commit()
        assert dbs.scalar(select(func.count()).select_from(Overlamning)) == 0
    assert runner.invoke(main, DEMO).exit_code == 0
    with app.app_context():
        vc = db.session().scalar(select(Enhet).where(Enhet.namn == "Vårdcentral Demo"))
        assert (vc.typ, vc.funktionsadress) == ("vard", "vardcentral.demo@example.se")
        assert _user("koord.demo").enhet.typ == "finsam"
        assert len(_inbox("vard.demo")) == 1 and len(_inbox("koord.demo")) == 1


def test_the_demo_queues_no_mail_to_its_example_addresses(app, runner, monkeypatch):
    """Seeded where e-mail is on, the demo's hand-overs still queue nothing: example.se is nobody's."""
    from formservice.samverkan import notifications

    queued = []
    monkeypatch.setattr(notifications, "queue", lambda *args, **kwargs: queued.append(args))
    app.config["MAIL_SERVER"] = "127.0.0.1"
    res = runner.invoke(main, DEMO)
    assert res.exit_code == 0, res.output
    assert app.config["MAIL_SERVER"] == "127.0.0.1" and queued == []
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Overlamning)) == 2
