"""db.py: bulk loads leave every PostgreSQL sequence past its table's largest id, so the next
ordinary insert (a caseworker's "Nytt ärende") never collides with a loaded row."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from formservice import db
from formservice.cli import DEMO_PASSWORD, main

from .command_line import SMALL_DEMO, SMALL_DEMO_ARENDEN
from .conftest import AuthActions
from .wizard_driver import INDIVID, create_arende

pytestmark = pytest.mark.db


def _new_arende_as(app, username: str) -> str:
    client = app.test_client()
    assert AuthActions(client).login(username=username, password=DEMO_PASSWORD).status_code == 302
    return create_arende(client, dict(INDIVID, personnummer="19000101-0008"))


def test_a_new_arende_after_the_demo_load(app, runner):
    res = runner.invoke(main, SMALL_DEMO)
    assert res.exit_code == 0, res.output
    pid = _new_arende_as(app, "soc.demo")  # was a 500 on PostgreSQL: duplicate key in arende_pkey
    from formservice.arenden.models import Arende

    with app.app_context():
        ids = db.session().execute(select(func.max(Arende.id), func.count())).one()
        newest = db.session().scalar(select(Arende.id).where(Arende.public_id == pid))
    assert newest == ids[0] and ids[1] == 1 + SMALL_DEMO_ARENDEN + 1  # Tolvan, the generated ones, the new one


def test_a_new_arende_after_a_restore(app, runner, make_user, tmp_path):
    """A dump whose sequence lags behind its rows (as the demo left them before this was fixed):
    the restore moves it on."""
    make_user(username="sara", password=DEMO_PASSWORD)
    client = app.test_client()
    AuthActions(client).login(username="sara", password=DEMO_PASSWORD)
    create_arende(client)
    create_arende(client, dict(INDIVID, personnummer="19000101-0008"))
    engine = app.extensions["db_engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('arende', 'id'), 1)"))
    res = runner.invoke(main, ["backup", str(tmp_path / "kopior"), "--keys-dest", str(tmp_path / "nycklar")])
    assert res.exit_code == 0, res.output
    [archive] = (tmp_path / "kopior").glob("*.tar.gz")
    res = runner.invoke(main, ["restore", str(archive), "--yes"])
    assert res.exit_code == 0, res.output
    create_arende(client, dict(INDIVID, personnummer="19000202-0006"))


def test_reset_sequences_moves_forward_never_back(app):
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        assert db.reset_sequences(engine) == 0  # SQLite: a new row's id follows the largest one anyway
        return
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (id, namn, typ, installningar) "
                          "VALUES (500, 'Laddad', 'kommun', '{}')"))
    assert db.reset_sequences(engine) > 10  # every table's id sequence
    with engine.begin() as conn:
        assert conn.execute(text("SELECT nextval(pg_get_serial_sequence('organisation', 'id'))")).scalar() == 501
        conn.execute(text("DELETE FROM organisation WHERE id = 500"))
    db.reset_sequences(engine)
    with engine.begin() as conn:  # the deleted row's id is not handed out again
        assert conn.execute(text("SELECT nextval(pg_get_serial_sequence('organisation', 'id'))")).scalar() == 502
