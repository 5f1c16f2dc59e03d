"""The database engine and a request-scoped session; the only place that knows the URL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker


class Base(DeclarativeBase):
    """The one declarative base; each wing keeps its tables in its own models module."""


def utcnow() -> datetime:
    """Naive UTC: SQLite has no time zones, so every timestamp is stored as naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL for concurrent readers; FKs are off by default
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["db_engine"] = engine
    app.extensions["db_session"] = scoped_session(factory)

    @app.teardown_appcontext
    def _remove_session(_exc):
        app.extensions["db_session"].remove()


def session() -> Session:
    from flask import current_app

    return current_app.extensions["db_session"]()


def engine() -> Engine:
    from flask import current_app

    return current_app.extensions["db_engine"]


class DatabaseUnreachable(RuntimeError):
    """The configured database cannot be reached: one Swedish line saying which and why, instead of
    the driver's traceback (158 lines for a refused connection, the useful one at 156)."""


def unreachable(url: str) -> str | None:
    """One Swedish line saying why the database at ``url`` cannot be used, or None when a connection
    can be made. An embedded SQLite database is not asked: connecting creates it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return None
        # A host that drops packets would otherwise hold the command for the kernel's TCP timeout.
        args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
        eng = create_engine(parsed, poolclass=NullPool, connect_args=args)
    except (ArgumentError, ImportError) as exc:  # not a URL, or an unknown dialect or driver
        return (f"FORMSERVICE_DATABASE_URL går inte att använda ({_first_line(exc)}); den ska se ut som "
                "postgresql+psycopg://användare:lösenord@127.0.0.1:5432/databas.")
    try:
        with eng.connect():
            return None
    except SQLAlchemyError as exc:
        return f"Databasen {parsed.render_as_string(hide_password=True)} gick inte att nå: {_reason(exc)}"
    finally:
        eng.dispose()


def _reason(exc: Exception) -> str:
    """What the person at the console can do about a failed connection, from the driver's error."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig)
    state = getattr(orig, "sqlstate", None)
    if state == "28P01" or "password authentication failed" in text:
        return ("användarnamnet eller lösenordet i FORMSERVICE_DATABASE_URL stämmer inte "
                "(rollen behöver ett lösenord för anslutning över TCP).")
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return "databasen finns inte på servern: skapa den (createdb --owner …) eller rätta namnet i URL:en."
    if "no pg_hba.conf entry" in text:
        return "servern tar inte emot anslutningar från den här användaren eller adressen (pg_hba.conf)."
    if "Connection refused" in text or "No such file or directory" in text:
        return "ingen databasserver svarar på den adressen och porten – är den startad, och stämmer värd och port?"
    if "timeout" in text.lower():
        return "servern svarade inte inom 10 sekunder – stämmer värden, och släpper brandväggen igenom?"
    return _first_line(orig)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def is_reachable(eng: Engine) -> bool:
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 — any failure means "not reachable" for /healthz
        return False


# Every sequence that hands out a column's values (serial: owned "a"; identity: "i") in this schema.
_OWNED_SEQUENCES = text("""
    SELECT s.relname, t.relname, a.attname
    FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    JOIN pg_namespace n ON n.oid = s.relnamespace
    WHERE s.relkind = 'S' AND n.nspname = current_schema()
""")


def reset_sequences(eng: Engine) -> int:
    """After any bulk load that writes explicit ids (the demo's generated ärenden, a restore, a
    benchmark's seed): every PostgreSQL sequence moved past the largest value in its column, so the
    next ordinary insert (a caseworker's "Nytt ärende") cannot collide with a loaded row. Never
    moved back: ids of deleted rows are not handed out again. SQLite needs nothing (a new row's id
    follows the largest one). Returns how many sequences were looked at."""
    if eng.dialect.name != "postgresql":
        return 0
    quote = eng.dialect.identifier_preparer.quote
    with eng.begin() as conn:
        owned = conn.execute(_OWNED_SEQUENCES).all()
        for sequence, table, column in owned:
            seq = quote(sequence)
            conn.execute(text(
                f"SELECT setval(CAST(:seq AS regclass), GREATEST("
                f"  (SELECT COALESCE(MAX({quote(column)}), 0) + 1 FROM {quote(table)}),"
                f"  (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {seq})), false)"),
                {"seq": seq})
    return len(owned)
