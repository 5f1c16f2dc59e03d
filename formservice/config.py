"""Configuration: defaults, then instance/config.py, then FORMSERVICE_* environment variables."""
from __future__ import annotations

import json
import os
from datetime import timedelta

DEFAULTS = {
    "ORGANISATION_NAME": "",  # the installation's name before sign-in; signed in, each user's own organisation
    "DATABASE_URL": None,  # None: sqlite:///<instance>/formservice.sqlite
    "SESSION_LIFETIME_MINUTES": 30,
    "SESSION_COOKIE_NAME": "formservice_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_CLIENT": 20,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,  # a returned PDF; requests may be a little larger (form fields)
    "MAX_CONTENT_LENGTH": None,  # None: UPLOAD_MAX_BYTES + 1 MB
    "PASSWORD_MIN_LENGTH": 10,
    "API_RENDERS_PER_MINUTE": 30,  # per API token (or logged-in user); each render costs ~0.3 s of CPU
    "RENDER_CACHE_BYTES": 16 * 1024 * 1024,  # repeated identical API renders, per worker, in memory
    # The rest of a produced document (archive, parts, DOCX) in a thread of its own after the response
    # (web/blankett.py); False writes it in the server's thread as the response closes (the tests).
    "DOCUMENT_REST_IN_THREAD": True,
    # Archive copies sealed by the job worker (arenden/seal_jobs.py): set by `formservice run`, which
    # starts one; elsewhere (commands, the demo, tests) a copy is sealed at once.
    "SEAL_BY_JOB_WORKER": False,
    # Where to report an accessibility problem or ask for content in another form (tillgänglighetsredogörelsen).
    "ACCESSIBILITY_EMAIL": None,
    "ACCESSIBILITY_PHONE": None,
    # Encryption keys for personal data: {"active", "data_keys", "index_key"}; None = instance/keys.json.
    "KEYS": None,
    "DOCUMENT_SIGNING_KEY": None,  # None: derived from SECRET_KEY
    # Behind a reverse proxy: how many proxies in front of us set X-Forwarded-For/-Proto/-Host.
    # 0 = none (X-Forwarded-* ignored; the peer address is the client).
    "TRUSTED_PROXIES": 0,
    # The process map (pages, ruta pages, GET /api/v1/processkarta) open to anyone without login,
    # read-only and without any ärende data: for publishing on the Samordningsförbund's website.
    "PUBLIC_PROCESSKARTA": False,
    # Sign-in: password login can be turned off when the organisation's identity provider is used.
    "PASSWORD_LOGIN": True,
    # OpenID Connect (authorization code flow with PKCE); on when ISSUER and CLIENT_ID are set.
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_SCOPES": "openid profile email",
    "OIDC_USER_CLAIM": "sub",  # the claim a user is matched on (User.external_id): sub, an HSA-id, email
    "OIDC_UNKNOWN_USERS": "refuse",  # "refuse" or "pending" (created inactive for an admin to approve)
    "OIDC_BUTTON_LABEL": "Logga in med organisationens inloggning",
    # The enhet a user created at a first sign-in ("pending") belongs to until an admin moves them;
    # None: unknown users are refused even with "pending".
    "OIDC_PENDING_ENHET_ID": None,
    "OIDC_LEEWAY_SECONDS": 60,  # clock difference tolerated between us and the provider (exp, iat)
    # SAML 2.0 (docs/saml.md); on when IDP_METADATA (a file or an https URL) and SP_ENTITY_ID are set.
    "SAML_IDP_METADATA": None,
    "SAML_SP_ENTITY_ID": None,
    "SAML_SP_KEY_FILE": None,  # with CERT_FILE: AuthnRequests signed, encrypted assertions readable
    "SAML_SP_CERT_FILE": None,
    # The attribute a user is matched on (User.external_id); "nameid" for a persistent NameID.
    "SAML_USER_ATTRIBUTE": "http://sambi.se/attributes/1/employeeHsaId",
    "SAML_NAME_ATTRIBUTE": None,  # None: displayName, else givenName + sn
    "SAML_EMAIL_ATTRIBUTE": None,  # None: mail (urn:oid:0.9.2342.19200300.100.1.3)
    "SAML_UNKNOWN_USERS": "refuse",
    "SAML_PENDING_ENHET_ID": None,
    "SAML_BUTTON_LABEL": "Logga in med organisationens inloggning (SAML)",
    "SAML_LEEWAY_SECONDS": 60,  # clock difference tolerated (NotBefore, NotOnOrAfter)
    # The address users reach the service at (https://formservice.example.se), for links in e-mail;
    # None: the e-mail has no link.
    "PUBLIC_URL": None,
    # E-mail to enheternas funktionsadresser when a hand-over arrives (samverkan/notifications.py),
    # sent by the job worker through this SMTP server; None: no e-mail is sent (nothing is queued).
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_FROM": "formservice@localhost",
    "MAIL_USE_STARTTLS": False,
    "MAIL_USERNAME": None,  # both set: the server is signed in to (after STARTTLS, when it is on)
    "MAIL_PASSWORD": None,
    "MAIL_TIMEOUT_SECONDS": 30,
    # The organisation's seal on every archive copy (docs/forsegling.md): on when SEAL_PKCS12 (or
    # SEAL_PKCS11_MODULE) and SEAL_TSA_URL are set. Without it archive copies are unsealed, as before.
    "SEAL_PKCS12": None,  # path of the seal's PKCS#12 file (certificate, key, CA chain)
    "SEAL_PASSWORD": None,
    "SEAL_PASSWORD_FILE": None,  # preferred to SEAL_PASSWORD: the password in a file only the service reads
    "SEAL_PKCS11_MODULE": None,  # a token instead: the module (.so), token label, key label and PIN
    "SEAL_PKCS11_TOKEN": None,
    "SEAL_PKCS11_KEY": None,
    "SEAL_PKCS11_PIN": None,
    "SEAL_PKCS11_PIN_FILE": None,
    "SEAL_TSA_URL": None,  # the RFC 3161 timestamp authority
    "SEAL_TRUST_ROOTS": None,  # comma-separated CA certificate files trusted for seals and uploaded signatures
    # Whose seal it is (an organisation's namn); None: used only while the installation has one organisation.
    "SEAL_ORGANISATION": None,
    # Several organisations, one seal each: {organisation namn: {"pkcs12", "password_file", "tsa_url", …}}.
    "SEALS": None,
    # SDK packages for enheter outside formservice (docs/sdk.md): the folder the organisations' SDK
    # clients collect packages from, and the one they deliver replies to; None: SDK is off.
    "SDK_UTKORG": None,
    "SDK_INKORG": None,
}

def _flag(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on", "ja"}


# Environment variables that override a setting, and how to read their text.
_ENV = {
    "DATABASE_URL": str,
    "SECRET_KEY": str,
    "ORGANISATION_NAME": str,
    "SESSION_LIFETIME_MINUTES": int,
    "SESSION_COOKIE_SECURE": _flag,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": int,
    "LOGIN_MAX_FAILURES_PER_CLIENT": int,
    "LOGIN_LOCKOUT_MINUTES": int,
    "MAX_CONTENT_LENGTH": int,
    "UPLOAD_MAX_BYTES": int,
    "KEYS": lambda v: __import__("json").loads(v),
    "TRUSTED_PROXIES": int,
    "API_RENDERS_PER_MINUTE": int,
    "RENDER_CACHE_BYTES": int,
    "ACCESSIBILITY_EMAIL": str,
    "ACCESSIBILITY_PHONE": str,
    "PASSWORD_LOGIN": _flag,
    "PUBLIC_PROCESSKARTA": _flag,
    "OIDC_ISSUER": str,
    "OIDC_CLIENT_ID": str,
    "OIDC_CLIENT_SECRET": str,
    "OIDC_SCOPES": str,
    "OIDC_USER_CLAIM": str,
    "OIDC_UNKNOWN_USERS": str,
    "OIDC_BUTTON_LABEL": str,
    "OIDC_PENDING_ENHET_ID": int,
    "OIDC_LEEWAY_SECONDS": int,
    "SAML_IDP_METADATA": str,
    "SAML_SP_ENTITY_ID": str,
    "SAML_SP_KEY_FILE": str,
    "SAML_SP_CERT_FILE": str,
    "SAML_USER_ATTRIBUTE": str,
    "SAML_NAME_ATTRIBUTE": str,
    "SAML_EMAIL_ATTRIBUTE": str,
    "SAML_UNKNOWN_USERS": str,
    "SAML_PENDING_ENHET_ID": int,
    "SAML_BUTTON_LABEL": str,
    "SAML_LEEWAY_SECONDS": int,
    "PUBLIC_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_FROM": str,
    "MAIL_USE_STARTTLS": _flag,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_TIMEOUT_SECONDS": int,
    "SEAL_PKCS12": str,
    "SEAL_PASSWORD": str,
    "SEAL_PASSWORD_FILE": str,
    "SEAL_PKCS11_MODULE": str,
    "SEAL_PKCS11_TOKEN": str,
    "SEAL_PKCS11_KEY": str,
    "SEAL_PKCS11_PIN": str,
    "SEAL_PKCS11_PIN_FILE": str,
    "SEAL_TSA_URL": str,
    "SEAL_TRUST_ROOTS": str,
    "SEAL_ORGANISATION": str,
    "SEALS": json.loads,
    "SDK_UTKORG": str,
    "SDK_INKORG": str,
}


def from_environment(environ=os.environ) -> dict:
    out = {}
    for key, parse in _ENV.items():
        raw = environ.get(f"FORMSERVICE_{key}")
        if raw is not None and raw != "":
            out[key] = parse(raw)
    return out


def finalise(config, instance_path: str) -> None:
    """Derive settings that depend on others, after every source has been applied."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "formservice.sqlite")
    if not config.get("MAX_CONTENT_LENGTH"):
        config["MAX_CONTENT_LENGTH"] = int(config["UPLOAD_MAX_BYTES"]) + 1024 * 1024
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=int(config["SESSION_LIFETIME_MINUTES"]))
