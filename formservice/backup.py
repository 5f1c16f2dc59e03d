"""Backups: one timestamped archive with a consistent copy of the database, and the key file
written to a separate destination (a backup and its keys should never sit side by side).

SQLite is copied with its online backup API (consistent while the service runs); PostgreSQL with
pg_dump's custom format, restored with pg_restore. The archive carries a manifest: the format, the
database kind, the migration revision and the ids of the data keys its contents are encrypted with,
so that a restore can refuse a backup it cannot read before it overwrites anything.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
from contextlib import contextmanager
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
    archive = dest / f"formservice-backup-{stamp}.tar.gz"
    name = "database.sqlite" if kind == "sqlite" else "database.pgdump"
    # Every file in the making sits in the destination (not the system temp folder, out of reach of
    # gallring and of whoever reads /tmp), owner-only, named *.partial: removed on every exit this
    # process sees, and by the next run after one it does not (kill -9, a power cut).
    copy = dest / f"formservice-backup-{stamp}.{name}.partial"
    partial = archive.with_suffix(".partial")
    with _exclusive(dest), _removed_on_exit(copy, partial):
        os.close(_private_file(copy))  # owner-only before SQLite or pg_dump writes a byte into it
        if kind == "sqlite":
            _sqlite_copy(f"file:{_sqlite_path(url)}?mode=ro", copy)  # consistent even while the service writes
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={copy}",
                  f"--dbname={_libpq_url(url)}"], "pg_dump")
        with os.fdopen(_private_file(partial), "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            info = tarfile.TarInfo(MANIFEST)
            data = manifest.to_json()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(copy, arcname=name)
        os.replace(partial, archive)
    keys_file = None
    if keys_dest is not None:
        Path(keys_dest).mkdir(parents=True, exist_ok=True)
        keys_file = Path(keys_dest) / f"formservice-keys-{stamp}.json"
        write_key_file(keys_file, dict(keys))
    return archive, keys_file


def _sqlite_copy(source_uri: str, target: Path) -> None:
    """SQLite's online backup: a consistent copy, page by page, of a database others may be using."""
    source = sqlite3.connect(source_uri, uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


# Files a backup is making in its destination; what a crashed run left is removed by the next.
_LEFTOVERS = "formservice-backup-*.partial*"  # with SQLite's -journal, -wal and -shm beside a copy
_LOCK = ".formservice-backup.lock"


def _private_file(path: Path) -> int:
    """Create (or empty) ``path`` readable by the owner only; returns an open descriptor for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    return fd


@contextmanager
def _exclusive(dest: Path):
    """One backup at a time per destination (its leftovers may then be removed without taking a
    running backup's files); the lock goes with the process, however it ends. The empty lock file
    stays: removing it would let a waiting run lock a file nobody else sees."""
    fd = os.open(dest / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"En annan säkerhetskopiering till {dest} pågår; försök igen när den är klar.") from None
        for stale in dest.glob(_LEFTOVERS):
            stale.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)


@contextmanager
def _removed_on_exit(*paths: Path):
    """Remove ``paths`` (and SQLite's files beside them) however the block ends: normally, by an
    exception, by Ctrl+C, or by SIGTERM/SIGHUP (turned into SystemExit here, so that this runs;
    only the main thread can install signal handlers). kill -9 leaves them to the next run."""
    def _stop(signum, _frame):
        raise SystemExit(128 + signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, _stop)
    try:
        yield
    finally:
        for path in paths:
            for leftover in (path, *(path.with_name(path.name + end) for end in ("-journal", "-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    name = "database.sqlite" if kind == "sqlite" else "database.pgdump"
    # The extracted copy is owner-only and removed however the restore ends (kill -9 aside). SQLite's
    # sits beside the database it replaces under one fixed name, so a crashed restore's copy is
    # overwritten and removed by the next; pg_restore's goes to a private folder of its own.
    if kind == "sqlite":
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        folder = None
        copy = target_path.with_name(target_path.name + ".restore.partial")
    else:
        folder = Path(tempfile.mkdtemp(prefix="formservice-restore-"))
        copy = folder / name
    try:
        with _removed_on_exit(copy), tarfile.open(archive, mode="r:gz") as tar:
            try:
                member = tar.getmember(name)
            except KeyError:
                raise BackupError(f"{archive} saknar {name}.") from None
            if not member.isfile():
                raise BackupError(f"{archive}: {name} är ingen vanlig fil.")
            # Copied by hand rather than tar.extract(): nothing in the archive decides where it is written
            # (and Debian 12's Python 3.11.2 has no extraction filters).
            with tar.extractfile(member) as src, os.fdopen(_private_file(copy), "wb") as dst:
                shutil.copyfileobj(src, dst)
            if kind == "sqlite":
                # Page by page into the live file; WAL readers see a consistent state.
                _sqlite_copy(copy.as_uri(), target_path)
            else:
                _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                      f"--dbname={_libpq_url(url)}", str(copy)], "pg_restore")
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return manifest
