"""Sign-in with SAML 2.0 (Web Browser SSO, SP-initiated): the one module that imports pysaml2, which
verifies XML signatures with Debian's ``xmlsec1``.

The AuthnRequest goes out with the HTTP-Redirect binding; its ID waits in the server-side session
(as OIDC's state does). The IdP answers with the HTTP-POST binding to the assertion consumer service
(ACS). That POST is cross-site, so the SameSite=Lax session cookie does not come with it: the ACS
(``receive``) therefore needs no session. It verifies everything that does not depend on who the
browser is (signature on the assertion or on the response around it, issuer, Destination,
audience, NotBefore/NotOnOrAfter with ``SAML_LEEWAY_SECONDS``, an InResponseTo that is present and
repeated in the subject confirmation), records the assertion as used in the database (the replay
cache all workers and hosts share) together with who it names (encrypted), and sends the browser on
with a one-use hand-over token to a same-site GET. That top-level GET carries the session cookie;
``finish`` takes the hand-over (one use) and requires its InResponseTo to be a request this session
sent, so a response (or a hand-over) stolen from someone else's sign-in does not sign anyone in here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import time
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta, timezone

import saml2
from flask import current_app
from saml2 import samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from formservice import db
from formservice.db import utcnow

from .models import SamlAssertion
from .providers import ExternalIdentity, LoginFailed, new_users_policy

log = logging.getLogger(__name__)
# pysaml2 writes whole responses (names, HSA-ids, even personnummer) to its log, at DEBUG and, for a
# refused signature, at ERROR: none of it reaches ours. The failed check is logged without personal
# data by web/auth.py ("login via saml failed: <reason>").
logging.getLogger("saml2").setLevel(logging.CRITICAL)

XMLSEC_BINARY = "/usr/bin/xmlsec1"
CACHE_SECONDS = 3600  # the IdP's metadata (and the pysaml2 configuration built on it)
PENDING_SECONDS = 600  # a sign-in must come back within ten minutes
PENDING_MAX = 5  # sign-ins started in parallel in one session (several tabs)
HANDOFF_SECONDS = 120  # from the ACS to the same-site return: one redirect
SESSION_KEY = "saml_pending"
# Employee HSA-id, as Inera's IdP (SITHS) sends it: Sambi's attribute name; its OID is
# urn:oid:1.2.752.29.6.2.1 (sambi.se attribute list). Not the personnummer (urn:oid:1.2.752.29.4.13).
DEFAULT_USER_ATTRIBUTE = "http://sambi.se/attributes/1/employeeHsaId"
NAME_ATTRIBUTES = ("urn:oid:2.16.840.1.113730.3.1.241", "displayName")  # displayName
GIVEN_NAME_ATTRIBUTES = ("urn:oid:2.5.4.42", "givenName", "http://sambi.se/attributes/1/givenName")
SURNAME_ATTRIBUTES = ("urn:oid:2.5.4.4", "sn", "http://sambi.se/attributes/1/surname")
EMAIL_ATTRIBUTE = "urn:oid:0.9.2342.19200300.100.1.3"  # mail

UNREACHABLE = ("Organisationens inloggningstjänst svarar inte just nu. Försök igen om en stund; kontakta "
               "din administratör om felet kvarstår.")
MISCONFIGURED = ("Inloggningen via organisationens inloggningstjänst är felaktigt inställd. Kontakta din "
                 "administratör.")
DENIED = "Inloggningen avbröts eller nekades hos organisationens inloggningstjänst."
NO_MATCH = ("Inloggningen kunde inte slutföras: svaret från inloggningstjänsten hör inte till en inloggning "
            "som påbörjades här, eller så tog inloggningen för lång tid. Försök igen.")
REJECTED = ("Inloggningen kunde inte slutföras: intyget från inloggningstjänsten om vem du är gick inte att "
            "godkänna. Försök igen; kontakta din administratör om felet kvarstår.")
REPLAYED = ("Inloggningen kunde inte slutföras: intyget från inloggningstjänsten har redan använts. "
            "Börja om inloggningen.")
MISSING_ATTRIBUTE = ("Inloggningstjänsten skickade inte uppgiften som formservice känner igen användare på "
                     "({attribute}). Kontakta din administratör.")

_cache: dict[tuple, tuple[float, SPConfig]] = {}  # settings + ACS address -> (built at, config)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def acs_url(redirect_uri: str) -> str:
    """The ACS beside the return address: /logga-in/<id>/svar -> /logga-in/<id>/acs."""
    return redirect_uri.rsplit("/", 1)[0] + "/acs"


class SamlProvider:
    """The ``LoginProvider`` for SAML 2.0 (see providers.py), with ``receive`` for the ACS."""

    id = "saml"

    def __init__(self, *, idp_metadata: str, sp_entity_id: str, sp_key_file: str | None = None,
                 sp_cert_file: str | None = None, user_attribute: str = DEFAULT_USER_ATTRIBUTE,
                 name_attribute: str | None = None, email_attribute: str | None = None,
                 label: str = "Logga in med organisationens inloggning (SAML)", leeway: int = 60,
                 unknown_users: str = "refuse", pending_enhet_id: int | None = None):
        self.idp_metadata = idp_metadata.strip()
        self.sp_entity_id = sp_entity_id.strip()
        self.sp_key_file = sp_key_file or None
        self.sp_cert_file = sp_cert_file or None
        self.user_attribute = user_attribute or DEFAULT_USER_ATTRIBUTE
        self.name_attribute = name_attribute or None
        self.email_attribute = email_attribute or EMAIL_ATTRIBUTE
        self.label = label
        self.leeway = int(leeway)
        self.new_users = new_users_policy(unknown_users, pending_enhet_id)

    @classmethod
    def from_config(cls, config: Mapping) -> "SamlProvider":
        return cls(idp_metadata=config["SAML_IDP_METADATA"], sp_entity_id=config["SAML_SP_ENTITY_ID"],
                   sp_key_file=config.get("SAML_SP_KEY_FILE"), sp_cert_file=config.get("SAML_SP_CERT_FILE"),
                   user_attribute=config.get("SAML_USER_ATTRIBUTE") or DEFAULT_USER_ATTRIBUTE,
                   name_attribute=config.get("SAML_NAME_ATTRIBUTE"),
                   email_attribute=config.get("SAML_EMAIL_ATTRIBUTE"),
                   label=config.get("SAML_BUTTON_LABEL") or "Logga in med organisationens inloggning (SAML)",
                   leeway=config.get("SAML_LEEWAY_SECONDS", 60),
                   unknown_users=config.get("SAML_UNKNOWN_USERS"),
                   pending_enhet_id=config.get("SAML_PENDING_ENHET_ID"))

    # ------------------------------------------------------------ pysaml2's configuration
    def _config(self, acs: str) -> SPConfig:
        key = (self.idp_metadata, self.sp_entity_id, self.sp_key_file, self.sp_cert_file, self.leeway, acs)
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        if self.idp_metadata.startswith(("https://", "http://")):
            metadata = {"remote": [{"url": self.idp_metadata}]}
        else:
            metadata = {"local": [self.idp_metadata]}
        settings = {
            "entityid": self.sp_entity_id,
            "xmlsec_binary": XMLSEC_BINARY,
            "metadata": metadata,
            "accepted_time_diff": self.leeway,
            "allow_unknown_attributes": True,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(acs, saml2.BINDING_HTTP_POST)]},
                "allow_unsolicited": False,  # an InResponseTo is required (and checked again in finish)
                # A signature over the assertion, or over the response that wraps it; never neither.
                "want_assertions_signed": False,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
                "authn_requests_signed": bool(self.sp_key_file and self.sp_cert_file),
            }},
        }
        if self.sp_key_file and self.sp_cert_file:
            settings |= {"key_file": self.sp_key_file, "cert_file": self.sp_cert_file,
                         "encryption_keypairs": [{"key_file": self.sp_key_file, "cert_file": self.sp_cert_file}]}
        config = SPConfig()
        try:
            config.load(settings)
        except Exception as exc:  # noqa: BLE001 — pysaml2 raises anything from a bad file or URL
            raise LoginFailed(UNREACHABLE if metadata.get("remote") else MISCONFIGURED,
                              f"saml metadata: {type(exc).__name__}", 502) from None
        if not list(config.metadata.identity_providers()):
            raise LoginFailed(MISCONFIGURED, "saml metadata: no IdP", 502)
        _cache[key] = (time.monotonic(), config)
        return config

    def _client(self, acs: str) -> Saml2Client:
        # A new client per request: its in-memory identity cache would otherwise grow with every sign-in.
        return Saml2Client(config=self._config(acs))

    def sp_metadata(self, redirect_uri: str) -> str:
        """Our SP metadata (entity id, ACS, signing/encryption certificate) for the IdP's administrator."""
        return create_metadata_string(None, config=self._config(acs_url(redirect_uri)), valid=24 * 365).decode()

    # ------------------------------------------------------------ the flow
    def start(self, store: MutableMapping, redirect_uri: str) -> str:
        client = self._client(acs_url(redirect_uri))
        idp = next(iter(client.metadata.identity_providers()))
        try:
            request_id, info = client.prepare_for_authenticate(entityid=idp, binding=saml2.BINDING_HTTP_REDIRECT)
        except Exception as exc:  # noqa: BLE001 — e.g. metadata without an HTTP-Redirect SSO service
            raise LoginFailed(MISCONFIGURED, f"saml authn request: {type(exc).__name__}", 502) from None
        location = dict(info["headers"])["Location"]
        pending = dict(store.get(SESSION_KEY) or {})
        newest = sorted(pending.items(), key=lambda item: item[1])[-(PENDING_MAX - 1):]
        store[SESSION_KEY] = dict(newest) | {request_id: time.time()}
        return location

    def receive(self, form: Mapping[str, str], redirect_uri: str) -> str:
        """The ACS: verify the posted response, use up its assertion, return a hand-over token for
        ``finish``. Needs no session (the POST is cross-site). Raises LoginFailed."""
        xml = _decoded(form.get("SAMLResponse") or "")
        in_response_to = _in_response_to(xml)
        if not in_response_to:  # unsolicited (IdP-initiated) sign-in is refused: nothing binds it to a browser
            raise LoginFailed(NO_MATCH, "saml response unsolicited (no InResponseTo)", 400)
        acs = acs_url(redirect_uri)
        client = self._client(acs)
        try:
            # pysaml2 then requires the assertion's subject confirmation to name the same request;
            # whether this browser sent that request is checked in finish, with the session.
            response = client.parse_authn_request_response(form["SAMLResponse"], saml2.BINDING_HTTP_POST,
                                                           outstanding={in_response_to: ""})
        except StatusError as exc:
            _release(exc)
            raise LoginFailed(DENIED, f"saml status: {type(exc).__name__}", 401) from None
        except Exception as exc:  # noqa: BLE001 — pysaml2 signals every failed check by an exception
            _release(exc)
            raise LoginFailed(REJECTED, f"saml response refused: {_why(exc)}", 401) from None
        if response is None:
            raise LoginFailed(REJECTED, "saml response refused (not a Response)", 401)
        # pysaml2 skips the Destination check when the attribute is absent, and answers a wrong one by
        # leaving the assertion unverified (None): required and checked here, by name.
        if response.response.destination != acs:
            raise LoginFailed(REJECTED, "saml response refused: wrong or missing Destination", 401)
        if response.assertion is None:  # not verified (e.g. IssueInstant far off)
            raise LoginFailed(REJECTED, "saml response without a verified assertion", 401)
        identity = self._identity(response)
        return _use_up(response, in_response_to, identity, self.leeway)

    def finish(self, store: MutableMapping, params: Mapping[str, str], redirect_uri: str) -> ExternalIdentity:
        pending = dict(store.get(SESSION_KEY) or {})
        data = _take_handoff(params.get("overlamning") or "")
        if data is None:
            raise LoginFailed(NO_MATCH, "saml hand-over unknown, used or expired", 400)
        started = pending.pop(data["in_response_to"], None)
        store[SESSION_KEY] = pending  # one use
        if started is None:
            raise LoginFailed(NO_MATCH, "saml InResponseTo is not a request of this session", 400)
        if time.time() - started > PENDING_SECONDS:
            raise LoginFailed(NO_MATCH, "saml request expired", 400)
        return ExternalIdentity(provider=self.id, external_id=data["external_id"], namn=data["namn"],
                                epost=data["epost"], logout_data={})

    def _identity(self, response) -> dict:
        attributes = _attributes(response.assertion)
        if self.user_attribute.lower() == "nameid":
            value = response.name_id.text if response.name_id is not None else None
        else:
            value = _first(attributes, (self.user_attribute,))
        if not value or not value.strip():
            raise LoginFailed(MISSING_ATTRIBUTE.format(attribute=self.user_attribute),
                              f"attribute {self.user_attribute} missing", 403)
        names = (self.name_attribute,) if self.name_attribute else NAME_ATTRIBUTES
        name = _first(attributes, names) or " ".join(
            v for v in (_first(attributes, GIVEN_NAME_ATTRIBUTES), _first(attributes, SURNAME_ATTRIBUTES)) if v)
        return {"external_id": value.strip(), "namn": name.strip(),
                "epost": (_first(attributes, (self.email_attribute, "mail")) or "").strip()}

    # ------------------------------------------------------------ log-out
    def logout_url(self, logout_data: Mapping, post_logout_redirect_uri: str) -> str | None:
        return None  # single log-out is not implemented: the IdP's session ends on its own terms


# pysaml2's messages for the checks, as a reason without personal data (its message may quote the XML).
_WHY = (("Audience", "wrong audience"), ("Condition not OK", "conditions (NotBefore/NotOnOrAfter) not met"),
        ("not signed", "not signed"), ("are signed", "not signed"),
        ("number of assertions", "more than one assertion (wrapping?)"),
        ("Signature", "signature invalid"), ("signature", "signature invalid"), ("Destination", "wrong Destination"),
        ("Unsolicited", "InResponseTo not outstanding"), ("ssuer", "unknown issuer"))


def _why(exc: Exception) -> str:
    if type(exc).__name__ == "SignatureError":
        return "SignatureError: signature invalid"
    text = str(exc)
    found = next((why for marker, why in _WHY if marker in text), None)
    return f"{type(exc).__name__}: {found}" if found else type(exc).__name__


def _release(exc: BaseException | None) -> None:
    """pysaml2 hands xmlsec1 the IdP's certificate as temporary files held in its frames' locals; a
    refused signature's traceback would keep them open until a garbage collection (which then warns
    of unclosed files). Clearing the frames closes and deletes them now."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:  # and every exception it was raised from
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise LoginFailed(REJECTED, "saml response not base64", 400) from None


def _in_response_to(xml: bytes) -> str | None:
    """The response's InResponseTo, read before verification only to name the outstanding request."""
    try:
        parsed = samlp.response_from_string(xml)
    except Exception:  # noqa: BLE001 — defusedxml and the schema classes raise many kinds
        raise LoginFailed(REJECTED, "saml response unreadable", 400) from None
    if parsed is None:
        raise LoginFailed(REJECTED, "saml response unreadable", 400)
    value = parsed.in_response_to
    return value if value and len(value) <= 200 else None


def _attributes(assertion) -> dict[str, list[str]]:
    """Every attribute of the verified assertion by its name and by its friendly name."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = [v.text for v in attribute.attribute_value or [] if isinstance(v.text, str)]
            for name in (attribute.name, attribute.friendly_name):
                if name:
                    found.setdefault(name.lower(), []).extend(values)
    return found


def _first(attributes: dict[str, list[str]], names) -> str | None:
    for name in names:
        for value in attributes.get(name.lower(), []):
            if value and value.strip():
                return value
    return None


def _use_up(response, in_response_to: str, identity: dict, leeway: int) -> str:
    """Record the assertion as used (a second use fails on the unique key, on any worker or host) and
    keep who it names for the same-site return. Returns the hand-over token."""
    assertion = response.assertion
    issuer = response.issuer() or ""
    if not assertion.id:
        raise LoginFailed(REJECTED, "saml assertion without ID", 401)
    if not response.not_on_or_after:
        raise LoginFailed(REJECTED, "saml assertion without NotOnOrAfter", 401)
    # Kept until it could no longer be accepted anyway: its NotOnOrAfter plus the tolerated skew.
    until = datetime.fromtimestamp(response.not_on_or_after, timezone.utc).replace(tzinfo=None)
    token = secrets.token_urlsafe(32)
    keyring = current_app.extensions["keyring"]
    dbs = db.session()
    now = utcnow()
    dbs.execute(delete(SamlAssertion).where(SamlAssertion.expires_at < now))
    dbs.execute(update(SamlAssertion).where(SamlAssertion.created_at < now - timedelta(seconds=HANDOFF_SECONDS))
                .values(handoff_hash=None, identity_enc=None))
    dbs.add(SamlAssertion(assertion_key=_digest(f"{issuer}\n{assertion.id}"),
                          expires_at=until + timedelta(seconds=leeway), created_at=now,
                          handoff_hash=_digest(token),
                          identity_enc=keyring.encrypt_json(identity | {"in_response_to": in_response_to})))
    try:
        dbs.commit()
    except IntegrityError:
        dbs.rollback()
        raise LoginFailed(REPLAYED, "saml assertion replayed", 400) from None
    return token


def _take_handoff(token: str) -> dict | None:
    if not token or len(token) > 100:
        return None
    dbs = db.session()
    row = dbs.scalar(select(SamlAssertion).where(SamlAssertion.handoff_hash == _digest(token)))
    if row is None or row.identity_enc is None:
        return None
    blob, created_at, handoff_hash = row.identity_enc, row.created_at, row.handoff_hash
    # One use, whoever asks first: the row stays (the replay cache) without the identity.
    taken = dbs.execute(update(SamlAssertion).where(SamlAssertion.id == row.id,
                                                    SamlAssertion.handoff_hash == handoff_hash)
                        .values(handoff_hash=None, identity_enc=None))
    fresh = utcnow() - created_at <= timedelta(seconds=HANDOFF_SECONDS)
    data = current_app.extensions["keyring"].decrypt_json(blob) if taken.rowcount == 1 else None
    dbs.commit()
    return data if fresh else None
