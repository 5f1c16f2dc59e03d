import pytest
from sqlalchemy import select

from formservice.cli import main
from formservice.accounts.models import User


@pytest.mark.db
def test_demo_seeds_once(runner, dbs):
    res = runner.invoke(main, args=["demo", "--if-empty"])
    assert res.exit_code == 0, res.output
    assert "soc.demo" in res.output
    assert dbs.scalar(select(User).where(User.username == "soc.demo")).role == "socialsekreterare"
    again = runner.invoke(main, args=["demo", "--if-empty"])
    assert "lades inte in" in again.output


def test_create_user(runner, make_enhet, dbs):
    enhet_id = make_enhet()
    res = runner.invoke(main, args=["create-user", "--username", "Ny.Person", "--namn", "Ny Person", "--role", "jobbcoach",
                              "--enhet-id", str(enhet_id), "--password", "långt-lösenord-1"])
    assert res.exit_code == 0, res.output
    assert dbs.scalar(select(User).where(User.username == "ny.person")).role == "jobbcoach"


def test_create_user_refuses_bad_input(runner, make_enhet):
    enhet_id = make_enhet()
    res = runner.invoke(main, args=["create-user", "--username", "x", "--namn", "X", "--role", "jobbcoach",
                              "--enhet-id", "9999", "--password", "långt-lösenord-1"])
    assert res.exit_code != 0 and "Det finns ingen enhet med id 9999" in res.output
    res = runner.invoke(main, args=["create-user", "--username", "x", "--namn", "X", "--role", "jobbcoach",
                              "--enhet-id", str(enhet_id), "--password", "kort"])
    assert res.exit_code != 0 and "minst 10 tecken" in res.output


def test_init_db_is_idempotent(runner):
    res = runner.invoke(main, args=["init-db"])
    assert res.exit_code == 0 and "uppdaterad" in res.output
