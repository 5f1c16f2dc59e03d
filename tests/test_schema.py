import pytest
from sqlalchemy import create_engine, inspect

from formservice.schema import current_revision, downgrade, head_revision, upgrade

from .conftest import PG_URL, reset_postgres

EXPECTED_TABLES = {"organisation", "enhet", "app_user", "login_attempt", "web_session", "alembic_version",
                   "api_token", "arende", "arende_sokord", "handelse", "utkast", "dokument", "audit_entry", "svar",
                   "gallringsregel", "gallringsundantag", "gallringsstopp", "gallringslogg"}


@pytest.fixture
def empty_url(tmp_path):
    if PG_URL:
        reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path}/empty.sqlite"


@pytest.mark.db
def test_migrations_from_empty(empty_url):
    upgrade(empty_url)
    engine = create_engine(empty_url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.db
def test_migrations_down_and_up(empty_url):
    upgrade(empty_url)
    downgrade(empty_url, "base")
    engine = create_engine(empty_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_pragmas(tmp_path):
    from formservice.db import make_engine

    url = f"sqlite:///{tmp_path}/p.sqlite"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.mark.db
def test_models_match_migrations(empty_url):
    """Every wing's models describe what the migrations build (Alembic's autogenerate finds nothing)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import formservice.accounts.models  # noqa: F401 — every wing's tables on Base.metadata
    import formservice.arenden.models  # noqa: F401
    import formservice.audit  # noqa: F401
    import formservice.doctor.dfa_review_models  # noqa: F401
    import formservice.doctor.models  # noqa: F401
    import formservice.jobs  # noqa: F401
    import formservice.samverkan.models  # noqa: F401
    from formservice.db import Base

    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
