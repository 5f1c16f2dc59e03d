"""Sign-in with OpenID Connect: the one module that imports Authlib (and joserfc, the JOSE engine
Authlib itself verifies tokens with) and requests, Authlib's HTTP client.

Authorization code flow with PKCE (S256). The provider's endpoints come from discovery
(``<issuer>/.well-known/openid-configuration``, whose ``issuer`` must be the configured one). State,
nonce and the PKCE verifier wait in the server-side, encrypted session until the callback, which
takes them out (one use) and checks them. The ID token is verified with the provider's JWKS
(signature; a key id we have not seen fetches the JWKS again, for key rotation), then iss, aud,
exp/iat (with ``OIDC_LEEWAY_SECONDS``), nonce, azp and at_hash. Claims the ID token lacks (a
conforming provider keeps profile claims for the userinfo endpoint) are read from userinfo, whose
``sub`` must be the token's. Log-out ends the provider's session too where discovery names an
``end_session_endpoint`` (RP-initiated logout, with ``id_token_hint``).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, MutableMapping

import requests
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from .providers import ExternalIdentity, LoginFailed, new_users_policy

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10  # seconds, for every call to the provider
CACHE_SECONDS = 3600  # discovery document and JWKS
PENDING_SECONDS = 600  # a sign-in must come back within ten minutes
PENDING_MAX = 5  # sign-ins started in parallel in one session (several tabs)
SESSION_KEY = "oidc_pending"

UNREACHABLE = ("Organisationens inloggningstjänst svarar inte just nu. Försök igen om en stund; kontakta "
               "din administratör om felet kvarstår.")
MISCONFIGURED = ("Inloggningen via organisationens inloggningstjänst är felaktigt inställd. Kontakta din "
                 "administratör.")
DENIED = "Inloggningen avbröts eller nekades hos organisationens inloggningstjänst."
PROVIDER_ERROR = "Organisationens inloggningstjänst kunde inte logga in dig (felkod: {code})."
NO_MATCH = ("Inloggningen kunde inte slutföras: svaret från inloggningstjänsten hör inte till en inloggning "
            "som påbörjades här, eller så tog inloggningen för lång tid. Försök igen.")
REJECTED = ("Inloggningen kunde inte slutföras: intyget från inloggningstjänsten om vem du är gick inte att "
            "godkänna. Försök igen; kontakta din administratör om felet kvarstår.")
MISSING_CLAIM = ("Inloggningstjänsten skickade inte uppgiften som formservice känner igen användare på "
                 "({claim}). Kontakta din administratör.")
UNVERIFIED_EMAIL = ("Inloggningstjänsten har inte bekräftat din e-postadress, så den kan inte användas för att "
                    "känna igen dig. Kontakta din administratör.")

_cache: dict[str, tuple[float, dict]] = {}  # url -> (fetched at, JSON): discovery and JWKS


def _get_json(url: str, *, fresh: bool = False) -> dict:
    hit = _cache.get(url)
    if hit is not None and not fresh and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LoginFailed(UNREACHABLE, f"{url}: {type(exc).__name__}", 502) from None
    if not isinstance(data, dict):
        raise LoginFailed(UNREACHABLE, f"{url}: not a JSON object", 502)
    _cache[url] = (time.monotonic(), data)
    return data


def _safe_code(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "", text)[:60] or "okänd"


class OidcProvider:
    """The ``LoginProvider`` for OpenID Connect (see providers.py)."""

    id = "oidc"

    def __init__(self, *, issuer: str, client_id: str, client_secret: str | None = None,
                 scopes: str = "openid profile email", user_claim: str = "sub",
                 label: str = "Logga in med organisationens inloggning", leeway: int = 60,
                 unknown_users: str = "refuse", pending_enhet_id: int | None = None):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret or None
        names = scopes.split()
        self.scope = " ".join(["openid"] + [s for s in names if s != "openid"])
        self.user_claim = user_claim or "sub"
        self.label = label
        self.leeway = int(leeway)
        self.new_users = new_users_policy(unknown_users, pending_enhet_id)

    @classmethod
    def from_config(cls, config: Mapping) -> "OidcProvider":
        return cls(issuer=config["OIDC_ISSUER"], client_id=config["OIDC_CLIENT_ID"],
                   client_secret=config.get("OIDC_CLIENT_SECRET"), scopes=config.get("OIDC_SCOPES") or "openid",
                   user_claim=config.get("OIDC_USER_CLAIM") or "sub",
                   label=config.get("OIDC_BUTTON_LABEL") or "Logga in med organisationens inloggning",
                   leeway=config.get("OIDC_LEEWAY_SECONDS", 60),
                   unknown_users=config.get("OIDC_UNKNOWN_USERS"),
                   pending_enhet_id=config.get("OIDC_PENDING_ENHET_ID"))

    # ------------------------------------------------------------ discovery and keys
    def metadata(self) -> dict:
        meta = _get_json(self.issuer + "/.well-known/openid-configuration")
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was fetched for.
        if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
            raise LoginFailed(MISCONFIGURED, "discovery: issuer differs from OIDC_ISSUER", 502)
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not meta.get(k)]
        if missing:
            raise LoginFailed(MISCONFIGURED, "discovery: missing " + ", ".join(missing), 502)
        return meta

    def _key_set(self, meta: dict, fresh: bool = False) -> KeySet:
        try:
            return KeySet.import_key_set(_get_json(meta["jwks_uri"], fresh=fresh))
        except (JoseError, ValueError, KeyError, TypeError):
            raise LoginFailed(MISCONFIGURED, "jwks: unreadable", 502) from None

    def _oauth(self, meta: dict, redirect_uri: str) -> OAuth2Session:
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if self.client_secret is None:
            auth_method = "none"  # a public client: PKCE is what binds the code to us
        elif "client_secret_basic" not in methods and "client_secret_post" in methods:
            auth_method = "client_secret_post"
        else:
            auth_method = "client_secret_basic"
        return OAuth2Session(self.client_id, self.client_secret, scope=self.scope, redirect_uri=redirect_uri,
                             code_challenge_method="S256", token_endpoint_auth_method=auth_method,
                             default_timeout=HTTP_TIMEOUT)

    # ------------------------------------------------------------ the flow
    def start(self, store: MutableMapping, redirect_uri: str) -> str:
        meta = self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        with self._oauth(meta, redirect_uri) as oauth:
            url, _ = oauth.create_authorization_url(meta["authorization_endpoint"], state=state,
                                                    code_verifier=verifier, nonce=nonce)
        pending = dict(store.get(SESSION_KEY) or {})
        newest = sorted(pending.items(), key=lambda item: item[1]["at"])[-(PENDING_MAX - 1):]
        store[SESSION_KEY] = dict(newest) | {state: {"nonce": nonce, "verifier": verifier, "at": time.time()}}
        return url

    def finish(self, store: MutableMapping, params: Mapping[str, str], redirect_uri: str) -> ExternalIdentity:
        pending = dict(store.get(SESSION_KEY) or {})
        waiting = pending.pop(params.get("state") or "", None)
        store[SESSION_KEY] = pending  # one use: the same answer cannot be replayed
        if params.get("error"):
            code = _safe_code(params["error"])
            if code in {"access_denied", "login_required", "interaction_required"}:
                raise LoginFailed(DENIED, f"provider error {code}", 401)
            raise LoginFailed(PROVIDER_ERROR.format(code=code), f"provider error {code}", 502)
        if waiting is None:
            raise LoginFailed(NO_MATCH, "state unknown or missing", 400)
        if time.time() - waiting["at"] > PENDING_SECONDS:
            raise LoginFailed(NO_MATCH, "state expired", 400)
        meta = self.metadata()
        # RFC 9207: where the provider names itself in the answer, it must be ours (mix-up defence).
        if "iss" in params and params["iss"].rstrip("/") != self.issuer:
            raise LoginFailed(NO_MATCH, "iss parameter differs", 400)
        if not params.get("code"):
            raise LoginFailed(NO_MATCH, "no code", 400)
        token = self._exchange(meta, params["code"], waiting["verifier"], redirect_uri)
        claims = self.verify_id_token(token["id_token"], waiting["nonce"], token.get("access_token"))
        claims = self._with_userinfo(meta, claims, token.get("access_token"))
        return self._identity(claims, token["id_token"])

    def _exchange(self, meta: dict, code: str, verifier: str, redirect_uri: str) -> dict:
        try:
            with self._oauth(meta, redirect_uri) as oauth:
                token = oauth.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                          code_verifier=verifier)
        except OAuthError as exc:
            raise LoginFailed(REJECTED, f"token endpoint: {_safe_code(exc.error or '')}", 502) from None
        except (requests.RequestException, ValueError) as exc:
            raise LoginFailed(UNREACHABLE, f"token endpoint: {type(exc).__name__}", 502) from None
        if not token.get("id_token"):
            raise LoginFailed(REJECTED, "token endpoint: no id_token (is 'openid' among the scopes?)", 502)
        return dict(token)

    def verify_id_token(self, id_token: str, nonce: str, access_token: str | None = None) -> dict:
        """The ID token's claims once signature, iss, aud, exp, nonce (and azp, at_hash) hold."""
        meta = self.metadata()
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        # Asymmetric signatures only: never "none", and no HS* (that key would be our client secret).
        algorithms = [a for a in offered if a != "none" and not a.startswith("HS")] or ["RS256"]
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        options = {"iss": {"essential": True, "value": meta["issuer"]},
                   "aud": {"essential": True, "value": self.client_id}}
        params = {"nonce": nonce, "client_id": self.client_id, "access_token": access_token}
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(meta), registry=registry)
            except InvalidKeyIdError:  # the provider has rolled its keys: fetch them again, once
                decoded = jwt.decode(id_token, self._key_set(meta, fresh=True), registry=registry)
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(leeway=self.leeway)
        except JoseError as exc:
            raise LoginFailed(REJECTED, f"id_token {exc.error}: {exc.description}"[:150], 401) from None
        except (ValueError, TypeError) as exc:
            raise LoginFailed(REJECTED, f"id_token unreadable: {type(exc).__name__}", 401) from None
        return dict(claims)

    def _with_userinfo(self, meta: dict, claims: dict, access_token: str | None) -> dict:
        if not meta.get("userinfo_endpoint") or not access_token:
            return claims
        try:
            response = requests.get(meta["userinfo_endpoint"], timeout=HTTP_TIMEOUT,
                                    headers={"Authorization": f"Bearer {access_token}",
                                             "Accept": "application/json"})
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("oidc userinfo not read (%s): using the ID token's claims only", type(exc).__name__)
            return claims
        if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
            raise LoginFailed(REJECTED, "userinfo sub differs from the ID token's", 401)
        return info | claims  # the verified ID token wins where both say something

    def _identity(self, claims: dict, id_token: str) -> ExternalIdentity:
        value = claims.get(self.user_claim)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise LoginFailed(MISSING_CLAIM.format(claim=self.user_claim), f"claim {self.user_claim} missing", 403)
        if self.user_claim == "email" and claims.get("email_verified") is False:
            raise LoginFailed(UNVERIFIED_EMAIL, "email not verified", 403)
        name = claims.get("name") or " ".join(
            str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
        return ExternalIdentity(provider=self.id, external_id=value.strip(), namn=str(name or "").strip(),
                                epost=str(claims.get("email") or "").strip(), logout_data={"id_token": id_token})

    # ------------------------------------------------------------ log-out
    def logout_url(self, logout_data: Mapping, post_logout_redirect_uri: str) -> str | None:
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except LoginFailed as exc:
            log.warning("oidc log-out only here: %s", exc.reason)
            return None
        if not endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if logout_data.get("id_token"):
            params["id_token_hint"] = logout_data["id_token"]
        return add_params_to_uri(endpoint, params)
