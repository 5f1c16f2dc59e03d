"""Each organisation itself (issue 26, item 1): the header, the footer, the accessibility statement and
the blanketter name the signed-in user's organisation and the Samordningsförbund it belongs to, never
another kommun; an organisation's admin renames it and chooses its förbund, and the pages follow."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from formservice.blanketter.model import issuer_name, unknown_issuer_placeholders

from .conftest import csrf_token
from .wizard_driver import create_arende, fill_blankett

pytestmark = pytest.mark.db

HUDDINGE, HUDDINGE_FORBUND = "Huddinge kommun", "Samordningsförbundet Huddinge, Botkyrka och Salem"
STOCKHOLM, STOCKHOLM_FORBUND = "Stockholms stad", "Samordningsförbundet Stockholms stad"


@pytest.fixture
def two_kommuner(app, make_enhet, make_user):
    """Stockholm and Huddinge, each a member of its own förbund, each with a caseworker and an admin."""
    from formservice import db
    from formservice.accounts.models import Organisation

    sthlm = make_enhet("Skärholmen – Ekonomiskt bistånd", organisation=STOCKHOLM)
    hudd = make_enhet("Huddinge – Ekonomiskt bistånd", organisation=HUDDINGE)
    make_enhet("Förbundets kansli", organisation=STOCKHOLM_FORBUND)
    make_enhet("Förbundets kansli (Huddinge)", organisation=HUDDINGE_FORBUND)
    make_user(username="sara", enhet_id=sthlm)
    make_user(username="hugo", enhet_id=hudd, namn="Hugo Handläggare")
    make_user(username="hedda", role="admin", enhet_id=hudd)
    with app.app_context():
        dbs = db.session()
        orgs = {o.namn: o for o in dbs.scalars(select(Organisation))}
        for forbund in (STOCKHOLM_FORBUND, HUDDINGE_FORBUND):
            orgs[forbund].typ = "samordningsforbund"
        orgs[STOCKHOLM].forbund_id = orgs[STOCKHOLM_FORBUND].id
        orgs[HUDDINGE].forbund_id = orgs[HUDDINGE_FORBUND].id
        dbs.commit()
        return {namn: org.id for namn, org in orgs.items()}


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return " ".join(re.sub(r"<[^>]+>", "", z.read(n).decode()) for n in z.namelist() if n.endswith(".xml"))


def test_a_second_kommun_sees_itself_and_its_forbund_never_stockholm(two_kommuner, client, auth):
    auth.login("hugo")
    for path in ("/arenden", "/processkarta", "/tillganglighet"):
        html = client.get(path).get_data(as_text=True)
        assert f'<span class="site-header__org">{HUDDINGE}</span>' in html, path
        assert f"för {HUDDINGE_FORBUND} och dess medlemmar" in html, path
        assert STOCKHOLM not in html, path
    assert f"{HUDDINGE} står bakom formservice" in client.get("/tillganglighet").get_data(as_text=True)
    # The ruta's blankett names the organisation that produces it, as this user's would.
    ruta = client.get("/processkarta/soc1.4").get_data(as_text=True)
    assert f"({HUDDINGE})" in ruta and "{organisation}" not in ruta


def test_huddinges_blanketter_name_huddinge_and_its_forbund(two_kommuner, client, auth, app):
    auth.login("hugo")
    cat = app.extensions["catalogue"]
    plan = fill_blankett(client, create_arende(client, ruta="soc1.4"), "forandringsplan", cat)
    assert HUDDINGE in plan["text"] and STOCKHOLM not in plan["text"] and "{organisation}" not in plan["text"]
    assert "Förändringsplan –" not in plan["text"]  # the issuer is the masthead's organisation: said once
    docx_url = re.search(r'href="([^"]+\.docx)"', plan["done"]).group(1)
    docx = _docx_text(client.get(docx_url).data)
    assert HUDDINGE in docx and STOCKHOLM not in docx
    anmalan = fill_blankett(client, create_arende(client, ruta="finsamteam.3"), "finsamteam_anmalan", cat)
    assert HUDDINGE_FORBUND in anmalan["text"] and STOCKHOLM not in anmalan["text"]
    # Stockholm's caseworker gets Stockholm's förbund on the same blankett.
    auth.logout()
    auth.login("sara")
    other = fill_blankett(client, create_arende(client, ruta="finsamteam.3"), "finsamteam_anmalan", cat)
    assert STOCKHOLM_FORBUND in other["text"] and HUDDINGE not in other["text"]


def test_the_admin_renames_the_organisation_and_chooses_its_forbund(two_kommuner, client, auth, app):
    from formservice import db
    from formservice.accounts.models import Organisation

    auth.login("hedda")
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert re.search(rf'<option selected value="{two_kommuner[HUDDINGE_FORBUND]}">|'
                     rf'<option value="{two_kommuner[HUDDINGE_FORBUND]}" selected>', page), "the förbund is shown chosen"
    assert f'value="{two_kommuner[HUDDINGE]}"' not in page  # a kommun is no förbund to choose
    data = {"csrf_token": csrf_token(page), "namn": "Huddinge kommun – socialtjänsten", "typ": "kommun",
            "forbund_id": str(two_kommuner[STOCKHOLM_FORBUND])}
    assert client.post("/admin/organisation", data=data).status_code == 302
    html = client.get("/admin").get_data(as_text=True)
    assert '<span class="site-header__org">Huddinge kommun – socialtjänsten</span>' in html
    assert f"för {STOCKHOLM_FORBUND} och dess medlemmar" in html
    # Not a förbund, or a förbund that does not exist: a Swedish message, nothing saved.
    for wrong in (str(two_kommuner[STOCKHOLM]), "99999", "x"):
        res = client.post("/admin/organisation", data=dict(data, forbund_id=wrong, csrf_token=csrf_token(html)))
        assert res.status_code == 400 and "samordningsförbund" in res.get_data(as_text=True).lower(), wrong
    with app.app_context():
        org = db.session().get(Organisation, two_kommuner[HUDDINGE])
        assert org.forbund_id == two_kommuner[STOCKHOLM_FORBUND]


def test_signed_out_pages_name_no_kommun_unless_the_installation_does(client, app):
    html = client.get("/logga-in").get_data(as_text=True)
    assert STOCKHOLM not in html
    assert app.config["ORGANISATION_NAME"] in html  # the suite's installation is named "Teststaden"
    from formservice.config import DEFAULTS

    assert DEFAULTS["ORGANISATION_NAME"] == ""  # no kommun's name in the code's defaults


def test_issuer_placeholders():
    assert issuer_name("{organisation}", HUDDINGE, {}) == HUDDINGE
    assert issuer_name("{samordningsforbund}", HUDDINGE, {"samordningsforbund": HUDDINGE_FORBUND}) == HUDDINGE_FORBUND
    assert issuer_name("{samordningsforbund}", HUDDINGE, {}) == "Samordningsförbundet"
    assert issuer_name("Försäkringskassan", HUDDINGE, {}) == "Försäkringskassan"
    assert unknown_issuer_placeholders("{kommun} och {organisation}") == {"{kommun}"}
