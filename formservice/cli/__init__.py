"""The `formservice` command: serve, set up the instance and database, manage users, check data.

One click group (``main``, the entry point ``formservice.cli:main``); its commands live in modules
by topic: ``database`` (instance, migrations, check), ``users`` (organisations, enheter, users,
tokens, demo), ``serving`` (run, jobb), ``data`` (render, keys, backups, gallring) and
``samverkan`` (SDK addresses and inbox); ``testsigill`` is no command but the demo's test seal (a
test PKI that ``demo`` makes and ``run`` serves in a demo instance).
"""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

DEMO_PASSWORD = "demo-stockholm-2026"


def _create_app():
    from flask.cli import NoAppException

    from .. import create_app
    from ..db import DatabaseUnreachable

    try:
        return create_app()
    except DatabaseUnreachable as exc:  # one line, without click's usage text: nothing was typed wrong
        click.echo(str(exc), err=True)
        sys.exit(1)
    except RuntimeError as exc:  # a configuration problem: say what to do, not a traceback
        raise NoAppException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False,
             load_dotenv=False)
def main():
    """formservice – Stockholmsmodellen: processkarta, handläggarstöd och blanketter."""


# The commands register themselves on `main` when their modules are imported.
from . import data, database, samverkan, serving, users  # noqa: E402,F401
