"""What a new process map changes (formservice/processkarta/diff.py) and the admin page that shows
it before the map is taken into use. Behaviour tests on the fixture maps in tests/fixtures, not on
forms/, so they hold whatever the förbund does to its own map."""
from __future__ import annotations

import re

import pytest

from formservice.blanketter.catalogue import load_catalogue
from formservice.processkarta.diff import SECTIONS, diff_maps

from .fixture_maps import ORIGINAL, SKARHOLMEN, fixture_forms, without_formerly


@pytest.fixture
def original(tmp_path):
    return load_catalogue(fixture_forms(tmp_path, ORIGINAL)).process_map


@pytest.fixture
def skarholmen(tmp_path):
    return load_catalogue(fixture_forms(tmp_path, SKARHOLMEN)).process_map


def test_the_same_map_changes_nothing(original):
    assert not diff_maps(original, original) and diff_maps(original, original).sections() == []


def test_the_skarholmen_edit_is_one_rename_and_three_edges(original, skarholmen):
    diff = diff_maps(original, skarholmen)
    assert [c.text for c in diff.of_kind("renamed")] == [
        "soc1.4 heter nu soc1.5a (Ruta 5a: Förändringsplan); ärenden på soc1.4 följer med genom formerly."]
    assert not diff.of_kind("added") and not diff.of_kind("removed") and not diff.of_kind("title")
    edges = {c.ruta: c.text for c in diff.of_kind("edge")}
    assert edges == {
        "soc1.3": "soc1.3: Nästa-pilen går nu till soc1.5 (Ruta 5: Finns läkarintyg?) "
                  "i stället för soc1.4 (Ruta 4: Förändringsplan).",
        "soc1.5": "soc1.5: Ja-pilen går nu till soc1.5a (Ruta 5a: Förändringsplan) "
                  "i stället för soc1.7 (Ruta 7: Individ sjukskriven med läkarintyg).",
        "soc1.5a": "soc1.5a: Nästa-pilen går nu till soc1.7 (Ruta 7: Individ sjukskriven med läkarintyg) "
                   "i stället för soc1.5 (Ruta 5: Finns läkarintyg?).",
    }
    assert [heading for heading, _ in diff.sections()] == ["Rutor med nytt id", "Ändrade pilar och villkor"]


def test_a_rename_without_formerly_is_a_ruta_removed_and_one_added(tmp_path, original):
    new = load_catalogue(fixture_forms(
        tmp_path, SKARHOLMEN, without_formerly)).process_map
    diff = diff_maps(original, new)
    assert [c.ruta for c in diff.of_kind("added")] == ["soc1.5a"]
    assert [c.ruta for c in diff.of_kind("removed")] == ["soc1.4"]
    assert diff.of_kind("removed")[0].text.startswith("soc1.4 (Ruta 4: Förändringsplan) i banan ")
    assert not diff.of_kind("renamed")


def test_titles_notes_conditions_and_links_are_reported(tmp_path, original):
    ruta = next(r for r in original.rutor.values() if r.choices)
    choice = ruta.choices[0]
    quiet = next(r for r in original.rutor.values() if r.note is None)

    def edit(text: str) -> str:
        text = text.replace("        title: Kartläggning\n", "        title: Kartläggning och samtal\n", 1)
        text = text.replace(f"question: {original.ruta('soc1.5').decision.question}\n",
                            "question: Finns ett aktuellt läkarintyg?\n", 1)
        text = text.replace(f"label: {choice.label}\n            target: {choice.target}\n",
                            f"label: Nytt villkor\n            target: {choice.target}\n", 1)
        return text.replace(f"      - id: {quiet.id}\n", f"      - id: {quiet.id}\n        note: En ny notering.\n", 1)

    new = load_catalogue(fixture_forms(tmp_path, ORIGINAL, edit)).process_map
    texts = [c.text for c in diff_maps(original, new).changes]
    assert "soc1.3: rubriken ”Kartläggning” är nu ”Kartläggning och samtal”." in texts
    assert ("soc1.5: frågan ”Finns läkarintyg?” är nu ”Finns ett aktuellt läkarintyg?”." in texts)
    assert (f"{ruta.id}: vägvalet till {choice.target} heter nu ”Nytt villkor” i stället för ”{choice.label}”."
            in texts)
    assert f"{quiet.id}: noteringen var ingen, är nu ”En ny notering.”." in texts


def test_lanes_and_their_notes_are_compared(original):
    from dataclasses import replace

    from formservice.processkarta.model import ProcessMap

    lanes = list(original.lanes)
    lanes[0] = replace(lanes[0], note="Ny notering för banan.", title=lanes[0].title + " (ny)")
    del lanes[-1]
    new = ProcessMap(lanes, original.actors, original.individ)
    diff = diff_maps(original, new)
    assert any(c.text.endswith("är nu ”Ny notering för banan.”.") for c in diff.of_kind("note"))
    assert any("är borttagen" in c.text and c.ruta == original.lanes[-1].id for c in diff.of_kind("lane"))
    assert {c.ruta for c in diff.of_kind("removed")} == {r.id for r in original.lanes[-1].rutor}
    assert [k for k, _ in SECTIONS][:3] == ["added", "removed", "renamed"]


# ---------------------------------------------------------------- the admin page
@pytest.fixture
def admin(client, auth, make_user):
    make_user(username="adam", role="admin")
    auth.login("adam")
    return client


def test_the_admin_page_shows_what_the_new_map_changes_before_it_is_used(admin, app, tmp_path, monkeypatch):
    import formservice.web.admin_processkarta as reload_view

    app.extensions["catalogue"] = load_catalogue(fixture_forms(tmp_path, ORIGINAL))
    forms = fixture_forms(tmp_path, SKARHOLMEN)
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    html = admin.get("/admin/processkarta").get_data(as_text=True)
    section = html[html.index('<section aria-labelledby="andringar">'):html.index("</section>")]
    assert "Det här ändrar den nya kartan" in section
    assert "<h3>Rutor med nytt id</h3>" in section and "<h3>Ändrade pilar och villkor</h3>" in section
    assert "soc1.4 heter nu soc1.5a (Ruta 5a: Förändringsplan)" in section
    assert "soc1.3: Nästa-pilen går nu till soc1.5 (Ruta 5: Finns läkarintyg?)" in section
    assert html.index("Det här ändrar den nya kartan") < html.index("Ta den ändrade processkartan i bruk")


def test_the_admin_page_shows_the_changes_also_when_the_map_is_refused(soc, app, tmp_path, monkeypatch, auth,
                                                                      make_user):
    """A map that would strand ärenden is not taken into use, but the admin still sees which rutor
    it removes: that is what to fix."""
    import formservice.web.admin_processkarta as reload_view

    from .wizard_driver import create_arende, place

    app.extensions["catalogue"] = load_catalogue(fixture_forms(tmp_path, ORIGINAL))
    pid = create_arende(soc)
    place(soc, pid, "soc1.4")
    make_user(username="adam", role="admin")
    auth.login("adam")
    forms = fixture_forms(tmp_path, SKARHOLMEN,
                          without_formerly)
    monkeypatch.setattr(reload_view, "load_catalogue", lambda: load_catalogue(forms))
    html = soc.get("/admin/processkarta").get_data(as_text=True)
    assert "Kartan passar inte ärendena" in html and "Ta den ändrade processkartan i bruk" not in html
    assert "<h3>Borttagna rutor</h3>" in html and re.search(r"<li>soc1\.4 \(Ruta 4: Förändringsplan\) i banan ", html)
    assert "<h3>Nya rutor</h3>" in html


def test_the_admin_page_without_changes_has_no_change_list(admin):
    html = admin.get("/admin/processkarta").get_data(as_text=True)
    assert "Filerna är desamma som kartan i bruk" in html and "Det här ändrar den nya kartan" not in html
