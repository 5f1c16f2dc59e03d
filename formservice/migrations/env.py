"""Alembic environment: the URL comes from the caller (formservice.schema.upgrade), never from a file."""
from alembic import context

from formservice import audit  # noqa: F401 — every wing's tables on Base.metadata
from formservice.accounts import models as _accounts  # noqa: F401
from formservice.arenden import models as _arenden  # noqa: F401
from formservice.db import Base, make_engine
from formservice.doctor import models as _doctor  # noqa: F401
from formservice.doctor import dfa_review_models as _dfa_review  # noqa: F401
from formservice import jobs as _jobs  # noqa: F401 — the jobb table
from formservice.samverkan import models as _samverkan  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode recreates tables instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
