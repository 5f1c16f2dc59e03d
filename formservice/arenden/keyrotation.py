"""Rotate the data key (and optionally the index key): every encrypted column is re-encrypted.

Crash-safe order: the key file first gets the new key as active while keeping the old ones, then
every row is re-encrypted in one transaction, then the old keys are dropped from the file.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from formservice.accounts.models import WebSession
from formservice.crypto import Keyring, keyring_from_dict, name_prefixes, new_key, new_key_id, write_key_file
from formservice.db import Base

from . import statistik
from .models import Arende, ArendeSokord


def encrypted_columns() -> list[tuple[type, tuple[str, ...]]]:
    """(model, encrypted columns) of every mapped model, in every wing: each model names its
    encrypted columns in ``__encrypted__``, so a wing's new table is rotated without a list here."""
    return [(m.class_, m.class_.__encrypted__) for m in sorted(Base.registry.mappers, key=lambda m: m.class_.__name__)
            if getattr(m.class_, "__encrypted__", ())]


def rotate(dbs, key_file: Path, data: dict, *, index_key: bool = False) -> tuple[Keyring, int]:
    """Returns the new keyring and the number of values re-encrypted."""
    old = keyring_from_dict(data)
    kid = new_key_id()
    next_index = new_key() if index_key else data["index_key"]
    # Staged: the new data key is active, the old ones still readable, the index key unchanged
    # until the database holds hashes made with the new one.
    staged = {"active": kid, "data_keys": dict(data["data_keys"], **{kid: new_key()}),
              "index_key": data["index_key"]}
    write_key_file(key_file, staged)
    new = keyring_from_dict(dict(staged, index_key=next_index))
    count = 0
    for model, columns in encrypted_columns():
        for row in dbs.scalars(select(model)):
            for col in columns:
                blob = getattr(row, col)
                if blob:
                    setattr(row, col, new.encrypt(old.decrypt(blob)))
                    count += 1
    # Sessions are short-lived: dropping them logs everybody out, which a key change warrants.
    dbs.query(WebSession).delete()
    if index_key:
        for arende in dbs.scalars(select(Arende)):
            individ = new.decrypt_json(arende.individ_enc, {})
            arende.pnr_hash = new.keyed_hash("pnr", individ.get("personnummer", ""))
            dbs.query(ArendeSokord).filter_by(arende_id=arende.id).delete()
            for prefix in name_prefixes(individ.get("namn", "")):
                dbs.add(ArendeSokord(arende_id=arende.id, token_hash=new.keyed_hash("namn", prefix)))
        statistik.rekey(new)  # the follow-up's cell keys derive from the index key too
    dbs.commit()
    final = {"active": kid, "data_keys": {kid: staged["data_keys"][kid]}, "index_key": next_index}
    write_key_file(key_file, final)
    return keyring_from_dict(final), count
