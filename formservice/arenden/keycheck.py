"""Do the keys at hand fit the database? Checked by `check`, `init-db`, `run` and /healthz, and
before `init-instance` makes new keys.

With a fresh keys.json beside a database encrypted with other keys everything looked healthy
(sign-in needs no decryption) until an ärende was opened (500) or a personnummer searched
(silently nothing: the keyed hash differs). So the data itself is asked, cheaply and boundedly:
the key ids in the headers of a sample of each encrypted column (the oldest and the newest rows),
one value per table decrypted (a key of the same name but other bytes), and one ärende's
personnummer hashed with the index key and compared with the stored hash.

Every mapped model that names ``__encrypted__`` columns is asked (keyrotation.encrypted_columns):
the caller must have imported every wing's models (create_app does; cli and the app factory
import doctor.models before asking without an app). Tables or columns a not yet migrated
database lacks are skipped.
"""
from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidTag
from sqlalchemy import func, inspect, or_, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from formservice.crypto import CryptoError, Keyring

from .keyrotation import encrypted_columns
from .models import Arende

SAMPLE = 50      # rows from each end of every table with encrypted columns
_HEAD = 64       # bytes read of each value: b"fs1", the id's length, the id (our ids are 9 bytes)
_MAGIC = b"fs1"


def restore_advice(key_file: Path | str | None = None) -> str:
    """What to do instead of making new keys: put the old ones back, or restore a backup with them."""
    where = f" på {key_file}" if key_file else " där nycklarna konfigureras"
    return (f"Lägg den nyckelfil som databasen krypterades med{where} (t.ex. kopian formservice-keys-<tid>.json från "
            "'formservice backup --keys-dest') eller återställ en säkerhetskopia med 'formservice restore ARKIV "
            "--keys NYCKELFIL'; skapa inga nya nycklar.")


def _key_id(head: bytes | memoryview | None) -> str | None:
    if head is None:
        return None
    head = bytes(head)
    if not head.startswith(_MAGIC) or len(head) < len(_MAGIC) + 1:
        return None  # empty (a generated row without a document) or not ours
    n = head[len(_MAGIC)]
    return head[len(_MAGIC) + 1:len(_MAGIC) + 1 + n].decode("utf-8", "replace")


def _tables(conn):
    """(table, [encrypted columns present in the database]) for every encrypted model."""
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    for model, names in encrypted_columns():
        table = model.__table__
        if table.name not in present:
            continue
        existing = {c["name"] for c in inspector.get_columns(table.name)}
        columns = [table.c[name] for name in names if name in existing]
        if columns:
            yield table, columns


def mismatch(engine: Engine, keyring: Keyring, source: str, key_file: Path | None = None) -> str | None:
    """One Swedish line saying why the keyring cannot read this database, or None when it can (or
    when the database cannot be read at all: reachability is reported elsewhere)."""
    try:
        with engine.connect() as conn:
            return _mismatch(conn, keyring, source, restore_advice(key_file))
    except SQLAlchemyError:
        return None


def app_mismatch(app) -> str | None:
    """mismatch() for the app's engine and keyring, naming where its keys come from."""
    source = app.extensions["keyring_source"]
    key_file = Path(source) if app.config.get("KEYS") is None else None
    return mismatch(app.extensions["db_engine"], app.extensions["keyring"], source, key_file)


def _mismatch(conn, keyring: Keyring, source: str, advice: str) -> str | None:
    start = f"Krypteringsnycklarna ({source}) passar inte databasen: "
    for table, columns in _tables(conn):
        pk = next(iter(table.primary_key.columns))
        heads = [func.substr(c, 1, _HEAD) for c in columns]
        sizes = [func.length(c) for c in columns]
        smallest: tuple[int, int, int] | None = None  # (size, column index, pk) of a value to decrypt
        for order in (pk.asc(), pk.desc()):
            for row in conn.execute(select(pk, *heads, *sizes).order_by(order).limit(SAMPLE)):
                for i, head in enumerate(row[1:1 + len(columns)]):
                    kid = _key_id(head)
                    if kid is None:
                        continue
                    if kid not in keyring.keys:
                        return (start + f"uppgifterna i tabellen {table.name} är krypterade med nyckeln {kid!r}, "
                                "som saknas i nyckelringen. " + advice)
                    size = row[1 + len(columns) + i] or 0
                    if smallest is None or size < smallest[0]:
                        smallest = (size, i, row[0])
        if smallest is not None:
            _size, i, key = smallest
            blob = conn.execute(select(columns[i]).where(pk == key)).scalar_one_or_none()
            if blob:
                try:
                    keyring.decrypt(bytes(blob))
                except (CryptoError, InvalidTag, ValueError):
                    kid = _key_id(bytes(blob)[:_HEAD])
                    return (start + f"nyckeln {kid!r} i nyckelringen kan inte läsa uppgifterna i tabellen "
                            f"{table.name} (samma namn, andra nyckelbytes). " + advice)
    return _index_key_mismatch(conn, keyring, start, advice)


def _index_key_mismatch(conn, keyring: Keyring, start: str, advice: str) -> str | None:
    """The index key leaves no id in the data: hash the newest ärende's personnummer and compare."""
    table = Arende.__table__
    if not inspect(conn).has_table(table.name):
        return None
    row = conn.execute(select(table.c.individ_enc, table.c.pnr_hash)
                       .where(table.c.pnr_hash != "").order_by(table.c.id.desc()).limit(1)).first()
    if row is None or not row.individ_enc:
        return None
    try:
        pnr = keyring.decrypt_json(bytes(row.individ_enc), {}).get("personnummer")
    except (CryptoError, InvalidTag, ValueError):
        return None  # reported above if it matters; a single odd row is not the index key's fault
    if pnr and keyring.keyed_hash("pnr", pnr) != row.pnr_hash:
        return (start + "sökindexets nyckel (index_key) är en annan än den databasen byggdes med, så sökning "
                "på personnummer och namn skulle inte hitta något. " + advice)
    return None


# ---------------------------------------------------------------- before new keys are made
def stored_data(url: str) -> bool | None:
    """Whether the database at ``url`` holds any encrypted value: True, False, or None when it
    cannot be reached (then nobody can say that new keys would be harmless). An embedded SQLite
    database that does not exist is not created by asking."""
    from formservice.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for table, columns in _tables(conn):
                filled = or_(*(func.length(c) > 0 for c in columns))
                if conn.execute(select(1).select_from(table).where(filled).limit(1)).first():
                    return True
        return False
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def keys_missing_line(key_file: Path, url: str, data: bool | None) -> str:
    """What to say when keys.json is missing. "Run init-instance" only when the database is known
    to hold nothing encrypted: beside data, new keys would make it unreadable for good."""
    shown = make_url(url).render_as_string(hide_password=True)
    if data is False:
        return f"Krypteringsnycklarna saknas ({key_file}): kör 'formservice init-instance'."
    earlier = sorted(key_file.parent.glob(key_file.name + ".*")) + sorted(key_file.parent.glob("keys.tmp"))
    found = f" I instansmappen finns {', '.join(p.name for p in earlier)}." if earlier else ""
    if data is None:
        return (f"Krypteringsnycklarna saknas ({key_file}) och databasen ({shown}) gick inte att nå för att se om "
                f"den redan har krypterade uppgifter: starta databasen och försök igen.{found} Har den uppgifter: "
                + restore_advice(key_file))
    return (f"Krypteringsnycklarna saknas ({key_file}), men databasen ({shown}) har redan krypterade uppgifter, "
            f"som nya nycklar aldrig kan läsa.{found} " + restore_advice(key_file))
