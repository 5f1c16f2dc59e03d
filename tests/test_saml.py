"""Sign-in with SAML 2.0 against a real IdP (tests/saml_idp.py: pysaml2's IdP on 127.0.0.1). The
browser is played honestly: the IdP's POST to our ACS is cross-site, so it is sent by a client that
holds none of our cookies (SameSite=Lax keeps the session cookie off it); the redirect after it is a
top-level GET, which does carry the cookie. Nothing of the protocol is mocked."""
from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from formservice import create_app
from formservice.accounts import login
from formservice.accounts.models import SamlAssertion, User
from formservice.audit import AuditEntry

from .saml_idp import posted_form, saml_idp  # noqa: F401 — the fixture

ACS = "http://localhost/logga-in/saml/acs"
HSA_ID = "SE2321000016-TEST1"


@pytest.fixture
def app_config(app_config, saml_idp):  # noqa: F811
    return {**app_config, **saml_idp.settings()}


@pytest.fixture
def make_external_user(make_user, dbs):
    """A user known by their HSA-id at the IdP, without a password of their own."""
    def make(external_id=HSA_ID, username="tessan", active=True, **kw):
        user = dbs.get(User, make_user(username=username, **kw))
        user.external_id, user.active, user.password_hash = external_id, active, login.UNUSABLE_PASSWORD
        dbs.commit()
        return user.id

    return make


@pytest.fixture(autouse=True)
def registered_at_the_idp(client, saml_idp):  # noqa: F811
    """Our SP metadata, from our own metadata address, registered at the IdP (once)."""
    if saml_idp.sp_metadata is None:
        saml_idp.register_sp(client.get("/logga-in/saml/metadata").get_data(as_text=True))


def start(client, next_url=None) -> str:
    res = client.get("/logga-in/saml" + (f"?next={next_url}" if next_url else ""))
    assert res.status_code == 302, res.get_data(as_text=True)
    return res.headers["Location"]


def at_idp(url: str) -> tuple[str, dict]:
    """The browser at the IdP: it signs the test person in and hands back its auto-posting form."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return posted_form(page.text)


def cross_site_post(app, action: str, fields: dict):
    """The IdP's form posted to our ACS, as a browser does from another site: without our cookies."""
    assert action == ACS, action
    return app.test_client().post(urlsplit(action).path, data=fields)


def back(app, client, action, fields):
    """The whole way back: the cross-site POST, then (when it hands over) the top-level GET."""
    res = cross_site_post(app, action, fields)
    if res.status_code != 303:
        return res
    location = res.headers["Location"]
    assert location.startswith("/logga-in/saml/svar?overlamning=") and HSA_ID not in location
    return client.get(location)


def sign_in(app, client, next_url=None):
    return back(app, client, *at_idp(start(client, next_url)))


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def refused(res, status, message):
    text = unescape(res.get_data(as_text=True))
    assert res.status_code == status, text[:2000]
    assert 'role="alert"' in text and message in text


def assert_refused(app, client, res, status, message):
    refused(res, status, message)
    assert not signed_in(client)
    with app.app_context():
        from formservice import db
        assert db.session().scalar(select(func.count()).select_from(User).where(User.external_id == HSA_ID
                                                                                 ).where(User.pending_approval)) == 0


def last_audit(dbs, action):
    dbs.expire_all()
    return dbs.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())).first()


# ---------------------------------------------------------------- the button, the request, the metadata
def test_login_page_offers_saml(client):
    html = client.get("/logga-in").get_data(as_text=True)
    assert 'href="/logga-in/saml"' in html and "Logga in med organisationens inloggning (SAML)" in html


def test_authn_request_is_redirect_binding_to_the_idp(client, saml_idp):  # noqa: F811
    url = start(client)
    assert url.startswith(saml_idp.base + "/sso?SAMLRequest=")


def test_sp_metadata_names_entity_id_and_acs(client):
    res = client.get("/logga-in/saml/metadata")
    assert res.status_code == 200 and res.mimetype == "application/samlmetadata+xml"
    xml = res.get_data(as_text=True)
    assert 'entityID="https://formservice.test/saml"' in xml
    assert f'Location="{ACS}"' in xml and "HTTP-POST" in xml


def test_not_configured_means_no_saml_routes(app, client):
    app.config["SAML_IDP_METADATA"] = None
    assert "/logga-in/saml" not in client.get("/logga-in").get_data(as_text=True)
    for path in ("/logga-in/saml", "/logga-in/saml/metadata"):
        assert client.get(path).status_code == 404
    assert client.post("/logga-in/saml/acs", data={"SAMLResponse": "x"}).status_code == 404


# ---------------------------------------------------------------- success
def test_signed_assertion_signs_in_the_matched_user(app, client, make_external_user, dbs):
    user_id = make_external_user()
    res = sign_in(app, client, next_url="/arenden")
    assert res.status_code == 302 and res.headers["Location"] == "/arenden", res.get_data(as_text=True)[:2000]
    assert "Välkommen, Test Testsson" in client.get("/").get_data(as_text=True)
    entry = last_audit(dbs, "login")
    assert entry.user_id == user_id and entry.detail == "saml"


def test_signed_response_around_an_unsigned_assertion_is_accepted(app, client, saml_idp,  # noqa: F811
                                                                  make_external_user):
    make_external_user()
    saml_idp.next = {"sign": False, "sign_response": True}
    assert sign_in(app, client).status_code == 302
    assert signed_in(client)


def test_attributes_map_to_a_pending_user_as_oidc_claims_do(app, client, make_enhet, dbs):
    app.config.update(SAML_UNKNOWN_USERS="pending", SAML_PENDING_ENHET_ID=make_enhet())
    res = sign_in(app, client)
    refused(res, 403, "Ett konto har skapats åt dig")
    user = dbs.scalar(select(User).where(User.external_id == HSA_ID))
    assert user.namn == "Tessan Testdotter" and user.epost == "tessan@example.se"
    assert user.username == "tessan@example.se" and user.pending_approval and not user.active
    assert not signed_in(client)


def test_pending_without_an_enhet_names_the_saml_setting(app, client):
    app.config.update(SAML_UNKNOWN_USERS="pending", SAML_PENDING_ENHET_ID=None)
    assert_refused(app, client, sign_in(app, client), 403, "FORMSERVICE_SAML_PENDING_ENHET_ID")


# ---------------------------------------------------------------- refused
REJECTED, NO_MATCH = "gick inte att godkänna", "hör inte till en inloggning"


@pytest.mark.parametrize("spoil, status, message, reason", [
    ({"sign": False}, 401, REJECTED, "not signed"),
    ({"audience": "https://annan-tjanst.example/saml"}, 401, REJECTED, "wrong audience"),
    # addressed to another service's ACS, posted to ours
    ({"destination": "https://annan-tjanst.example/saml/acs"}, 401, REJECTED, "Destination"),
    # NotOnOrAfter ten minutes ago, beyond the 60 s skew
    ({"lifetime_minutes": -10}, 401, REJECTED, "NotOnOrAfter) not met"),
    ({"in_response_to": None}, 400, NO_MATCH, "unsolicited"),
    ({"in_response_to": "_an-id-we-never-sent"}, 400, NO_MATCH, "not a request of this session"),
], ids=["unsigned", "wrong-audience", "wrong-destination", "expired", "unsolicited", "wrong-in-response-to"])
def test_spoiled_response_refused(app, client, saml_idp, make_external_user, dbs,  # noqa: F811
                                  spoil, status, message, reason):
    make_external_user()
    saml_idp.next = spoil
    assert_refused(app, client, sign_in(app, client), status, message)
    assert reason in last_audit(dbs, "login_failed").detail


def test_response_to_another_sessions_request_refused(app, client, saml_idp, make_external_user):  # noqa: F811
    """A response to a request started in another browser (e.g. an attacker's own sign-in) is refused
    when this browser brings it back: its InResponseTo is no request of this session."""
    make_external_user()
    attacker = app.test_client()
    action, fields = at_idp(start(attacker))
    start(client)  # the victim has a sign-in of their own under way
    assert_refused(app, client, back(app, client, action, fields), 400, "hör inte till en inloggning")


def test_replayed_response_refused_also_by_a_new_app_on_the_same_database(app, app_config, client, dbs,
                                                                          make_external_user):
    make_external_user()
    action, fields = at_idp(start(client))
    assert back(app, client, action, fields).status_code == 302
    dbs.expire_all()
    used = dbs.scalars(select(SamlAssertion)).all()
    assert len(used) == 1 and used[0].identity_enc is None and used[0].handoff_hash is None  # kept, emptied
    client.post("/logga-ut", data={"csrf_token": _csrf(client)})
    start(client)
    assert_refused(app, client, cross_site_post(app, action, fields), 400, "har redan använts")
    other = create_app(app_config)  # another worker or host: only the database is shared
    try:
        refused(cross_site_post(other, action, fields), 400, "har redan använts")
    finally:
        other.extensions["db_engine"].dispose()


def test_hand_over_is_one_use(app, client, make_external_user):
    make_external_user()
    res = cross_site_post(app, *at_idp(start(client)))
    location = res.headers["Location"]
    assert client.get(location).status_code == 302
    client.post("/logga-ut", data={"csrf_token": _csrf(client)})
    assert_refused(app, client, client.get(location), 400, "hör inte till en inloggning")


def test_unknown_user_refused(app, client):
    assert_refused(app, client, sign_in(app, client), 403, "Du har inget konto i formservice")


def test_deactivated_user_refused(app, client, make_external_user):
    make_external_user(active=False)
    assert_refused(app, client, sign_in(app, client), 403, "inaktiverat")


def test_no_personal_data_in_the_audit_reason(app, client, dbs):
    sign_in(app, client)
    entry = last_audit(dbs, "login_failed")
    assert entry.detail == "saml: okänd användare" and HSA_ID not in (entry.detail or "")


# ---------------------------------------------------------------- signature wrapping (XSW)
def _xml(fields) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def _encoded(xml: str) -> dict:
    return {"SAMLResponse": base64.b64encode(xml.encode()).decode()}


def _assertion(xml: str) -> re.Match:
    match = re.search(r"<(\w+:)?Assertion\b.*?</\1?Assertion>", xml, re.S)
    assert match, xml[:1000]
    return match


def _evil(assertion: str, new_id: str | None = None) -> str:
    """A copy of the signed assertion naming someone else, without its signature."""
    evil = re.sub(r"<(\w+:)?Signature\b.*?</\1?Signature>", "", assertion, flags=re.S)
    evil = evil.replace(HSA_ID, "SE2321000016-EVIL9")
    if new_id:
        evil = re.sub(r'\bID="[^"]+"', f'ID="{new_id}"', evil, count=1)
    return evil


@pytest.mark.parametrize("variant", ["evil-before", "evil-after", "evil-same-id-before", "signed-inside-evil",
                                     "tampered", "moved-signature"])
def test_signature_wrapping_refused(app, client, make_external_user, variant, caplog):
    make_external_user(external_id="SE2321000016-EVIL9", username="mallory")
    action, fields = at_idp(start(client))
    xml = _xml(fields)
    match = _assertion(xml)
    signed = match.group(0)
    if variant == "evil-before":
        wrapped = xml[:match.start()] + _evil(signed, "_evil1") + signed + xml[match.end():]
    elif variant == "evil-after":
        wrapped = xml[:match.start()] + signed + _evil(signed, "_evil1") + xml[match.end():]
    elif variant == "evil-same-id-before":
        wrapped = xml[:match.start()] + _evil(signed) + signed + xml[match.end():]
    elif variant == "tampered":  # the signed assertion itself edited, signature kept
        wrapped = xml.replace(HSA_ID, "SE2321000016-EVIL9")
    elif variant == "moved-signature":  # the evil one carries the signature; the original hides inside it
        prefix = match.group(1) or ""
        signature = re.search(r"<(\w+:)?Signature\b.*?</\1?Signature>", signed, re.S).group(0)
        sig_prefix = re.match(r"<(\w+:)?", signature).group(1) or ""
        moved = signature.replace(f"</{sig_prefix}Signature>",
                                  f"<{sig_prefix}Object>{signed}</{sig_prefix}Object></{sig_prefix}Signature>")
        evil = _evil(signed)  # same ID as the signed one
        issuer_end = evil.index(f"</{prefix}Issuer>") + len(f"</{prefix}Issuer>")
        wrapped = xml[:match.start()] + evil[:issuer_end] + moved + evil[issuer_end:] + xml[match.end():]
    else:  # the signed original moved inside the evil one's Advice
        evil = _evil(signed, "_evil1")
        prefix = match.group(1) or ""
        close = f"</{prefix}Assertion>"
        evil = evil[: evil.rindex(close)] + f"<{prefix}Advice>{signed}</{prefix}Advice>" + close
        wrapped = xml[:match.start()] + evil + xml[match.end():]
    res = back(app, client, action, _encoded(wrapped))
    assert res.status_code in (400, 401), res.get_data(as_text=True)[:1000]
    assert not signed_in(client)
    assert "SE2321000016" not in caplog.text  # pysaml2 would log the whole assertion


def _csrf(client) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True))
    return match.group(1) if match else ""


BOMB = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><samlp:Response '
        'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="&c;"/>')


@pytest.mark.parametrize("value", ["", "inte base64 !!", base64.b64encode(b"inte xml").decode(),
                                   base64.b64encode(BOMB.encode()).decode(),
                                   base64.b64encode(b'<Response InResponseTo="_x"/>').decode()],
                         ids=["empty", "not-base64", "not-xml", "entity-expansion", "foreign-element"])
def test_garbage_at_the_acs_is_refused_without_a_server_error(app, client, value):
    res = cross_site_post(app, ACS, {"SAMLResponse": value})
    assert res.status_code in (400, 401), res.get_data(as_text=True)[:500]
    assert "Inloggningen kunde inte slutföras" in unescape(res.get_data(as_text=True))


def test_unreachable_idp_metadata_gives_a_clear_message(app, client):
    from .oidc.server import free_port

    app.config["SAML_IDP_METADATA"] = f"http://127.0.0.1:{free_port()}/metadata"
    res = client.get("/logga-in/saml")
    assert res.status_code == 502
    assert "Organisationens inloggningstjänst" in unescape(res.get_data(as_text=True))
