"""A process map that is safe to edit: renamed rutor (`formerly`), `formservice check` against the
live database, ärenden standing on a ruta the map no longer has, reloading without a restart, the
map version on every history entry, and an ärende's way drawn on its lanes.

Behaviour tests: they run on the fixture maps in tests/fixtures (the shipped map, and the same map
with the Skärholmen edit: soc1.4 renamed soc1.5a with `formerly: [soc1.4]`), never on a text edit
of forms/processkarta.yaml, so a förbund's own edit of its map cannot break them."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from formservice import db
from formservice.arenden import kartversion
from formservice.blanketter.catalogue import CatalogueError, load_catalogue

from .fixture_maps import ORIGINAL, SKARHOLMEN, fixture_catalogue, fixture_forms, without_formerly
from .wizard_driver import create_arende, place, step


def renamed_forms(tmp_path, formerly: bool):
    """forms/ with the Skärholmen map: the förändringsplan (soc1.4) is now soc1.5a, with or without `formerly`."""
    return fixture_forms(tmp_path, SKARHOLMEN, None if formerly else without_formerly)


def test_formerly_finds_a_renamed_ruta_by_its_old_id(tmp_path):
    pm = load_catalogue(renamed_forms(tmp_path, formerly=True)).process_map
    assert pm.ruta("soc1.4").id == "soc1.5a" and "soc1.4" in pm.rutor
    assert pm.rutor.get("soc1.4").label == "Ruta 5a"
    assert "soc1.4" not in list(pm.rutor) and len(pm.rutor) == len(list(pm.rutor))
    assert pm.version != fixture_catalogue(tmp_path, ORIGINAL).process_map.version


def test_formerly_may_not_name_a_ruta_that_exists_or_one_named_twice(tmp_path):
    forms = fixture_forms(tmp_path, SKARHOLMEN, lambda t: t.replace("formerly: [soc1.4]", "formerly: [soc1.4, soc1.3]"))
    with pytest.raises(CatalogueError, match=r'ruta soc1.5a: "formerly" nämner "soc1.3", som är en ruta i kartan'):
        load_catalogue(forms)
    forms = fixture_forms(tmp_path, SKARHOLMEN,
                          lambda t: t.replace("- id: soc1.6\n", "- id: soc1.6\n        formerly: [soc1.4]\n", 1))
    with pytest.raises(CatalogueError, match=r'"soc1.4" står redan under "formerly" i ruta soc1.5a'):
        load_catalogue(forms)


def _cli_env(app, monkeypatch):
    import json

    monkeypatch.setenv("FORMSERVICE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("FORMSERVICE_SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("FORMSERVICE_KEYS", json.dumps(app.config["KEYS"]))


@pytest.mark.db
def test_check_names_the_arenden_a_rename_would_strand(soc, app, original_map, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from formservice.cli import main

    pid = create_arende(soc)
    place(soc, pid, "soc1.4")
    _cli_env(app, monkeypatch)
    runner = CliRunner()
    res = runner.invoke(main, ["check", "--forms", str(fixture_forms(tmp_path, ORIGINAL))])
    assert res.exit_code == 0, res.stderr
    assert "varje ruta och varje historikpost finns i kartan – OK" in res.output

    res = runner.invoke(main, ["check", "--forms", str(renamed_forms(tmp_path / "a", formerly=False))])
    assert res.exit_code == 1
    assert f'1 ärenden står på rutan "soc1.4", som inte finns i kartan: {pid} (' in res.stderr
    assert 'historikposter nämner rutan "soc1.4"' in res.stderr
    assert "19121212" not in res.stderr + res.output  # public ids only, never the personnummer

    res = runner.invoke(main, ["check", "--forms", str(renamed_forms(tmp_path / "b", formerly=True))])
    assert res.exit_code == 0, res.stderr


@pytest.mark.db
def test_an_arende_on_a_ruta_the_map_no_longer_has_is_asked_where_it_stands(soc, app, original_map, dbs):
    from formservice.arenden.models import Arende

    pid = create_arende(soc)
    dbs.execute(update(Arende).where(Arende.public_id == pid).values(ruta="soc1.99", lane="soc1"))
    dbs.commit()
    for url in (f"/arenden/{pid}", f"/arenden/{pid}/steg", f"/arenden/{pid}/uppgifter",
                f"/arenden/{pid}/blankett/forandringsplan", f"/arenden/{pid}/samtycke/nytt"):
        res = soc.get(url)
        assert res.status_code == 302 and res.headers["Location"].endswith(f"/arenden/{pid}/var"), url
    page = soc.get(f"/arenden/{pid}/var")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ärendet stod på rutan ”soc1.99”, som inte längre finns i processkartan" in html
    assert "Rutan ”soc1.99” finns inte längre – välj var ärendet står" in soc.get("/arenden").get_data(as_text=True)
    place(soc, pid, "soc1.4")
    assert soc.get(f"/arenden/{pid}").status_code == 200


def test_after_a_rename_with_formerly_every_arende_page_still_works(soc, app, original_map, tmp_path):
    pid = create_arende(soc)
    place(soc, pid, "soc1.3")
    step(soc, pid, "soc1.4")
    app.extensions["catalogue"] = load_catalogue(renamed_forms(tmp_path, formerly=True))
    for url in (f"/arenden/{pid}", f"/arenden/{pid}/steg", f"/arenden/{pid}/var"):
        res = soc.get(url)
        assert res.status_code == 200, url
    assert "Ruta 5a" in soc.get(f"/arenden/{pid}/steg").get_data(as_text=True)
    where = soc.get(f"/arenden/{pid}/var").get_data(as_text=True)
    assert re.search(r'value="soc1.5a"\s+checked', where)
    step(soc, pid, "soc1.7")  # the renamed ruta's way on in the edited map


@pytest.mark.db
def test_every_history_entry_records_the_map_version(soc, app, dbs):
    from formservice.arenden.models import Arende, Handelse

    pid = create_arende(soc)
    step(soc, pid, "soc1.2")
    arende_id = dbs.scalar(select(Arende.id).where(Arende.public_id == pid))
    versions = dbs.scalars(select(Handelse.karta_version).where(Handelse.arende_id == arende_id)).all()
    assert len(versions) == 2 and set(versions) == {app.extensions["catalogue"].process_map.version}
    assert re.fullmatch(r"[0-9a-f]{12}", versions[0])


@pytest.fixture
def admin(client, auth, make_user):
    make_user(username="adam", role="admin")
    auth.login("adam")
    return client


def test_an_admin_takes_a_changed_map_into_use_without_a_restart(admin, app, original_map, tmp_path, monkeypatch):
    import formservice.web.admin_processkarta as reload_view

    running = original_map.version
    same = fixture_forms(tmp_path, ORIGINAL)
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(same))
    page = admin.get("/admin/processkarta").get_data(as_text=True)
    assert f"version {running}" in page and "Filerna är desamma som kartan i bruk" in page

    forms = renamed_forms(tmp_path, formerly=True)
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    page = admin.get("/admin/processkarta").get_data(as_text=True)
    assert "Ta den ändrade processkartan i bruk" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = admin.post("/admin/processkarta", data={"csrf_token": token})
    assert res.status_code == 302
    new = app.extensions["catalogue"].process_map
    assert new.version != running and "soc1.5a" in new.rutor
    with app.app_context():
        assert kartversion.approved_version() == new.version  # in the database: every host follows it
    assert 'href="/processkarta/soc1.5a"' in admin.get("/processkarta").get_data(as_text=True)


def test_a_map_that_would_strand_arenden_is_refused(soc, app, original_map, tmp_path, monkeypatch, auth, make_user):
    import formservice.web.admin_processkarta as reload_view

    pid = create_arende(soc)
    place(soc, pid, "soc1.4")
    make_user(username="adam", role="admin")
    auth.login("adam")
    forms = renamed_forms(tmp_path, formerly=False)
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    page = soc.get("/admin/processkarta").get_data(as_text=True)
    assert "Kartan passar inte ärendena" in page and pid in page
    assert "Ta den ändrade processkartan i bruk" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    soc.post("/admin/processkarta", data={"csrf_token": token})
    assert "soc1.4" in app.extensions["catalogue"].process_map.rutor
    assert "soc1.5a" not in app.extensions["catalogue"].process_map.rutor


def test_another_worker_follows_the_approved_map(app, original_map, tmp_path, monkeypatch):
    """A second process (or host) sees the approval in the database and takes up exactly the approved version."""
    import formservice.web.admin_processkarta as reload_view

    forms = renamed_forms(tmp_path, formerly=True)
    approved = load_catalogue(forms).process_map.version
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    with app.app_context():
        kartversion.approve(approved)
        db.session().commit()
    app.test_client().get("/logga-in")
    assert app.extensions["catalogue"].process_map.version == approved


def test_an_approval_file_from_before_is_carried_into_the_database_once(app, original_map, tmp_path, monkeypatch,
                                                                        caplog):
    """instance/processkarta-godkand.txt (before migration 0025) is read once when the table is empty;
    after that only the database counts, whatever the file says."""
    import formservice.web.admin_processkarta as reload_view

    forms = renamed_forms(tmp_path, formerly=True)
    approved = load_catalogue(forms).process_map.version
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    old_file = Path(app.instance_path) / kartversion.OLD_FILE
    old_file.write_text(approved + "\n")
    with caplog.at_level("INFO", logger="formservice"):
        app.test_client().get("/logga-in")
    assert app.extensions["catalogue"].process_map.version == approved
    assert f"({approved}) flyttad från {old_file} till databasen" in caplog.text
    with app.app_context():
        assert kartversion.approved_version() == approved
        old_file.write_text("000000000000\n")
        assert kartversion.carry_over_file(app.instance_path) is None  # the table has a version: file ignored
        assert kartversion.approved_version() == approved


def test_the_arende_page_draws_its_way_on_the_map(soc, app, original_map):
    pid = create_arende(soc)
    for target in ("soc1.2", "soc1.3", "soc1.4"):
        step(soc, pid, target)
    html = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Ärendets väg i processkartan" in html
    svg = html[html.index('<svg class="karta" id="karta-arende"'):]
    svg = svg[:svg.index("</svg>")]
    assert re.search(r'class="karta__ruta karta__ruta--step is-current" href="/processkarta/soc1.4"', svg)
    for done in ("soc1.1a", "soc1.2", "soc1.3"):
        assert re.search(rf'is-visited" href="/processkarta/{re.escape(done)}"', svg), done
    assert len(re.findall(r'class="karta__pil karta__pil--next is-path"', svg)) == 3
    assert re.search(r">Nu · 4: \d+ [a-z]+</text>", svg)
    assert not re.search(r'karta__ruta[^"]*" href="/processkarta/fk\.', svg)  # only the lanes it has been in
    assert re.search(r'karta__chip" href="/processkarta/fk\.1"', svg)  # the way on to them is a link


def test_every_ruta_id_fits_the_database_and_a_longer_one_is_refused(tmp_path):
    """PostgreSQL refused a move to "finsamteam.slut-genomford" (25 characters) when the columns
    held 20; the loader now keeps ids within what the columns hold."""
    from formservice.arenden.models import Arende, Handelse
    from formservice.processkarta.model import RUTA_ID_MAX

    pm = load_catalogue().process_map
    assert max(len(r) for r in pm.rutor) <= RUTA_ID_MAX
    for column in (Arende.ruta, Arende.lane, Handelse.from_ruta, Handelse.to_ruta):
        assert column.type.length >= RUTA_ID_MAX
    long_end = "soc1.slut-" + "x" * 60
    forms = fixture_forms(tmp_path, ORIGINAL, lambda t: t.replace("soc1.slut-ingetbehov", long_end))
    with pytest.raises(CatalogueError, match=f"id:t är {len(long_end)} tecken; högst {RUTA_ID_MAX}"):
        load_catalogue(forms)


@pytest.mark.db
def test_an_arende_reaches_the_longest_end_state_on_every_database(soc, app):
    pid = create_arende(soc)
    place(soc, pid, "finsamteam.9")
    step(soc, pid, "finsamteam.slut-genomford")
    assert "Finsamteamets plan är genomförd" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_check_on_a_new_instance_leaves_the_embedded_database_uncreated(tmp_path, monkeypatch):
    """`scripts/serve` runs `check` before it decides that a new embedded database gets the demo
    data: checking must not create the database file (an empty SQLite file meant no demo users)."""
    from click.testing import CliRunner

    from formservice.cli import main

    for name in [n for n in os.environ if n.startswith("FORMSERVICE_")]:
        monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    runner = CliRunner()
    assert runner.invoke(main, ["init-instance"]).exit_code == 0
    res = runner.invoke(main, ["check"])
    assert res.exit_code == 0, res.output
    assert "Databasen finns inte än (kör init-db)" in res.output
    assert not (instance / "formservice.sqlite").exists()


@pytest.mark.skipif(bool(os.environ.get("FORMSERVICE_TEST_PROCESSKARTA")),
                    reason="forms/ är en kopia med en annan karta i den här körningen")
def test_the_fixture_maps_follow_the_shipped_map():
    """The fixture maps are the shipped map and its Skärholmen edit: when forms/processkarta.yaml
    changes, regenerate them (python -m tests.fixture_maps) so the edited-map CI lane tests today's map."""
    from .fixture_maps import FIXTURES, expected_fixtures

    for name, text in expected_fixtures().items():
        assert (FIXTURES / name).read_text(encoding="utf-8") == text, \
            f"tests/fixtures/{name} följer inte forms/processkarta.yaml: kör .venv/bin/python -m tests.fixture_maps"
