"""Backups: one timestamped archive with a consistent copy of the database, and the key file
written to a separate destination (a backup and its keys should never sit side by side).

SQLite is copied with its online backup API (consistent while the service runs); PostgreSQL with
pg_dump's custom format, restored with pg_restore. The archive carries a manifest: the format, the
database kind, the migration revision and the ids of the data keys its contents are encrypted with,
so that a restore can refuse a backup it cannot read before it overwrites anything.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.engine import make_url

from .crypto import write_key_file

FORMAT = "formservice-backup-1"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A Swedish message for the operator."""


@dataclass(frozen=True)
class Manifest:
    created: str
    database: str            # "sqlite" | "postgresql"
    revision: str | None     # Alembic revision of the copied database
    key_ids: tuple[str, ...]
    index_key_check: str     # shows whether the restore has the same index (search) key

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, "created": self.created, "database": self.database,
                           "revision": self.revision, "key_ids": list(self.key_ids),
                           "index_key_check": self.index_key_check}, indent=2).encode()


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Säkerhetskopiering stöds för SQLite och PostgreSQL, inte {backend}.")
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("En databas i minnet kan inte säkerhetskopieras.")
    return Path(database)


def _libpq_url(url: str) -> str:
    """pg_dump and pg_restore take a libpq URI, without SQLAlchemy's "+driver"."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], what: str) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} saknas. Installera PostgreSQL:s klientprogram (Debian: postgresql-client) "
                          "i samma huvudversion som servern.")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} misslyckades: {result.stderr.strip()[:800]}")


def index_key_check(keys: Mapping[str, Any]) -> str:
    """A fingerprint of the index key that reveals nothing about it."""
    return hmac.new(str(keys.get("index_key", "")).encode(), b"formservice backup check",
                    hashlib.sha256).hexdigest()[:16]


def _timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------- backing up
def backup(url: str, revision: str | None, keys: Mapping[str, Any], dest: Path, keys_dest: Path | None
           ) -> tuple[Path, Path | None]:
    """Write formservice-backup-<time>.tar.gz to ``dest`` (and the key file to ``keys_dest``)."""
    kind = _kind(url)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if keys_dest is not None and Path(keys_dest).resolve() == dest.resolve():
        raise BackupError("Nycklarna ska sparas på ett annat ställe än säkerhetskopian: ange en annan mapp "
                          "med --keys-dest.")
    stamp = _timestamp()
    manifest = Manifest(created=stamp, database=kind, revision=revision,
                        key_ids=tuple(sorted(keys.get("data_keys", {}))), index_key_check=index_key_check(keys))
    with tempfile.TemporaryDirectory(prefix="formservice-backup-") as tmp:
        if kind == "sqlite":
            copy = Path(tmp) / "database.sqlite"
            source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # consistent even while the service writes
            finally:
                target.close()
                source.close()
        else:
            copy = Path(tmp) / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={copy}",
                  f"--dbname={_libpq_url(url)}"], "pg_dump")
        archive = dest / f"formservice-backup-{stamp}.tar.gz"
        partial = archive.with_suffix(".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            info = tarfile.TarInfo(MANIFEST)
            data = manifest.to_json()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(copy, arcname=copy.name)
        os.replace(partial, archive)
    keys_file = None
    if keys_dest is not None:
        Path(keys_dest).mkdir(parents=True, exist_ok=True)
        keys_file = Path(keys_dest) / f"formservice-keys-{stamp}.json"
        write_key_file(keys_file, dict(keys))
    return archive, keys_file


# ---------------------------------------------------------------- restoring
def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            member = tar.getmember(MANIFEST)
            data = json.loads(tar.extractfile(member).read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"{archive} är ingen läsbar säkerhetskopia från formservice ({exc}).") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"{archive} har ett okänt format ({data.get('format')!r}).")
    return Manifest(created=data["created"], database=data["database"], revision=data.get("revision"),
                    key_ids=tuple(data.get("key_ids", ())), index_key_check=data.get("index_key_check", ""))


def check_keys(manifest: Manifest, keys: Mapping[str, Any]) -> None:
    """Refuse a restore whose data the keys at hand cannot read (or search)."""
    missing = sorted(set(manifest.key_ids) - set(keys.get("data_keys", {})))
    if missing:
        raise BackupError("Nycklarna som säkerhetskopian krypterades med saknas (" + ", ".join(missing) + "). "
                          "Ange nyckelfilen från säkerhetskopieringen med --keys.")
    if manifest.index_key_check and manifest.index_key_check != index_key_check(keys):
        raise BackupError("Sökindexets nyckel skiljer sig från den i säkerhetskopian: sökning på personnummer "
                          "och namn skulle inte fungera. Ange nyckelfilen från säkerhetskopieringen med --keys.")


def restore(archive: Path, url: str, head_revision: str, known_revisions: set[str]) -> Manifest:
    """Replace the database at ``url`` with the archive's copy. The keys are the caller's concern
    (check_keys first). The database is migrated to this version's head afterwards by the caller."""
    manifest = read_manifest(archive)
    kind = _kind(url)
    if manifest.database != kind:
        raise BackupError(f"Säkerhetskopian är av en {manifest.database}-databas, men tjänsten använder {kind}.")
    if manifest.revision and manifest.revision not in known_revisions:
        raise BackupError(f"Säkerhetskopian kommer från en nyare version av formservice (databasversion "
                          f"{manifest.revision}, den här versionen känner till {head_revision}). Uppgradera först.")
    with tempfile.TemporaryDirectory(prefix="formservice-restore-") as tmp, \
            tarfile.open(archive, mode="r:gz") as tar:
        name = "database.sqlite" if kind == "sqlite" else "database.pgdump"
        copy = Path(tmp) / name
        try:
            member = tar.getmember(name)
        except KeyError:
            raise BackupError(f"{archive} saknar {name}.") from None
        if not member.isfile():
            raise BackupError(f"{archive}: {name} är ingen vanlig fil.")
        # Copied by hand rather than tar.extract(): nothing in the archive decides where it is written
        # (and Debian 12's Python 3.11.2 has no extraction filters).
        with tar.extractfile(member) as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst)
        if kind == "sqlite":
            target_path = _sqlite_path(url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            source = sqlite3.connect(copy)
            target = sqlite3.connect(target_path)
            try:
                source.backup(target)  # page by page into the live file; WAL readers see a consistent state
            finally:
                target.close()
                source.close()
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  f"--dbname={_libpq_url(url)}", str(copy)], "pg_restore")
    return manifest
