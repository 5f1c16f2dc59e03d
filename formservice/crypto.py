"""Encryption at rest (AES-256-GCM) and keyed hashes for exact search. Pure Python, no flask.

A keyring holds named data keys; new data is encrypted with the active key and carries the key's
name, so old data stays readable during a key rotation. The index key (for keyed hashes of
personnummer and name tokens) is separate from the data keys.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"fs1"
_NONCE = 12


class CryptoError(Exception):
    pass


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]  # key id -> 32 bytes
    active: str
    index_key: bytes

    @classmethod
    def from_config(cls, data_keys: Mapping[str, str], active: str, index_key: str) -> "Keyring":
        keys = {kid: base64.urlsafe_b64decode(k) for kid, k in data_keys.items()}
        if active not in keys:
            raise CryptoError(f"Den aktiva nyckeln {active!r} finns inte bland DATA_KEYS.")
        if any(len(k) != 32 for k in keys.values()):
            raise CryptoError("Varje datanyckel ska vara 32 byte (base64).")
        return cls(keys=keys, active=active, index_key=base64.urlsafe_b64decode(index_key))

    # ---------------------------------------------------------------- bytes
    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        kid = self.active.encode()
        nonce = os.urandom(_NONCE)
        ct = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, _MAGIC + kid + context)
        return _MAGIC + bytes([len(kid)]) + kid + nonce + ct

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> bytes:
        if not blob.startswith(_MAGIC):
            raise CryptoError("Okänt krypteringsformat.")
        n = blob[len(_MAGIC)]
        start = len(_MAGIC) + 1
        kid = blob[start:start + n]
        nonce = blob[start + n:start + n + _NONCE]
        try:
            key = self.keys[kid.decode()]
        except KeyError:
            raise CryptoError(f"Nyckeln {kid.decode()!r} saknas i nyckelringen.") from None
        return AESGCM(key).decrypt(nonce, blob[start + n + _NONCE:], _MAGIC + kid + context)

    # ---------------------------------------------------------------- JSON
    def encrypt_json(self, value: Any) -> bytes:
        return self.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())

    def decrypt_json(self, blob: bytes | None, default: Any = None) -> Any:
        if blob is None:
            return default
        return json.loads(self.decrypt(blob))

    # ---------------------------------------------------------------- keyed hashes
    def keyed_hash(self, purpose: str, text: str) -> str:
        return hmac.new(self.index_key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()


def name_tokens(name: str) -> set[str]:
    """Lower-cased words of a name, without diacritics folding (å, ä, ö are letters of their own)."""
    text = unicodedata.normalize("NFC", name).casefold()
    return {t for t in re.split(r"[^\w]+", text) if t}


def name_prefixes(name: str, minimum: int = 2) -> set[str]:
    """Every prefix (>= minimum letters) of every word: what a name search may type."""
    out = set()
    for token in name_tokens(name):
        for i in range(min(minimum, len(token)), len(token) + 1):
            out.add(token[:i])
    return out


# ---------------------------------------------------------------- the key file (instance/keys.json)
def keyring_from_dict(data: Mapping[str, Any]) -> Keyring:
    try:
        return Keyring.from_config(data["data_keys"], data["active"], data["index_key"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CryptoError(f"Nyckelfilen är ofullständig eller felaktig: {exc}") from None


def new_keyring_dict() -> dict[str, Any]:
    kid = new_key_id()
    return {"active": kid, "data_keys": {kid: new_key()}, "index_key": new_key()}


def write_key_file(path, data: Mapping[str, Any]) -> None:
    """Write atomically with owner-only permissions: a half-written key file would lose data."""
    from pathlib import Path

    path = Path(path)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)
