"""Shared legal references (forms/_lagrum.yaml): one item per citation, read by the map, the
blanketter, the organisation texts' defaults and the gallring rules."""
from __future__ import annotations

import re
import shutil

import pytest

from formservice.blanketter.catalogue import CatalogueError, load_catalogue
from formservice.blanketter.model import CONFIG_DEFAULTS
from formservice.paths import FORMS_DIR
from formservice.processkarta.lagrum import LagrumError, load_lagrum


@pytest.fixture
def lagrum():
    return load_lagrum(FORMS_DIR)


@pytest.fixture
def forms_copy(tmp_path):
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    return target


def test_every_item_has_a_citation_and_says_where_it_comes_from(lagrum):
    assert {"sol", "hsl_sip", "sol_gallring"} <= set(lagrum)
    for item in lagrum.values():
        assert item.text and item.note, item.key
        # A repealed law is never the citation itself, and no paragraph is cited without being checked.
        assert "2001:453" not in item.text, item.key
    assert "§" not in lagrum["sol"].text and "§" not in lagrum["sol_gallring"].text


def test_the_map_the_sip_kallelse_and_the_gallring_rule_read_the_same_items(app, lagrum):
    from formservice.arenden.gallring import SOL_SOURCE

    cat = app.extensions["catalogue"]
    pm = cat.process_map
    citing_sol = [r.id for r in pm.rutor.values() if any(ref.text == lagrum["sol"].text for ref in r.legal_refs)]
    assert len(citing_sol) >= 4, citing_sol
    assert cat.blanketter["sip_kallelse"].legal_refs == (lagrum["hsl_sip"].text, lagrum["sol"].text)
    assert CONFIG_DEFAULTS["sip_lagrum"] == f'{lagrum["hsl_sip"].text} och {lagrum["sol"].text}'
    assert SOL_SOURCE.startswith(lagrum["sol_gallring"].text + ":")
    assert "12 kap. 1 §" not in SOL_SOURCE


def test_the_citation_is_typed_only_in_the_shared_file():
    """Outside comments, "socialtjänstlagen (2025:400)" as a citation lives in _lagrum.yaml alone."""
    for path in FORMS_DIR.glob("*.yaml"):
        if path.name == "_lagrum.yaml":
            continue
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
        cited = [line for line in lines if re.search(r"text:\s*socialtjänstlagen|^\s*-\s*socialtjänstlagen", line)]
        assert not cited, (path.name, cited)
        assert not re.search(r"kap\. \d+ § socialtjänstlagen \(2001:453\)", "\n".join(lines)), path.name


def test_an_unknown_item_is_a_swedish_error_naming_the_ruta_and_the_blankett(forms_copy):
    pk = forms_copy / "processkarta.yaml"
    pk.write_text(pk.read_text(encoding="utf-8").replace("lagrum: sol\n", "lagrum: sl\n", 1), encoding="utf-8")
    sip = forms_copy / "sip_kallelse.yaml"
    sip.write_text(sip.read_text(encoding="utf-8").replace("lagrum:hsl_sip", "lagrum:hsl"), encoding="utf-8")
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(forms_copy)
    message = str(excinfo.value)
    assert "sip_kallelse.yaml: legal_refs: lagrummet 'hsl' finns inte i _lagrum.yaml." in message


def test_the_map_names_a_missing_item_and_suggests_the_right_one(forms_copy):
    from formservice.processkarta.loader import load_process_map
    from formservice.processkarta.model import ProcessMapError

    pk = forms_copy / "processkarta.yaml"
    pk.write_text(pk.read_text(encoding="utf-8").replace("lagrum: sol\n", "lagrum: sl\n", 1), encoding="utf-8")
    with pytest.raises(ProcessMapError) as excinfo:
        load_process_map(pk, load_catalogue(FORMS_DIR).blanketter)
    assert 'ruta soc1.2, legal_refs 1: lagrummet "sl" finns inte i _lagrum.yaml (menade du "sol"?)' in str(excinfo.value)


def test_a_missing_or_broken_file_is_reported_not_a_traceback(tmp_path):
    with pytest.raises(LagrumError, match="_lagrum.yaml: filen finns inte"):
        load_lagrum(tmp_path)
    (tmp_path / "_lagrum.yaml").write_text("sol:\n  txt: x\n", encoding="utf-8")
    with pytest.raises(LagrumError, match='"sol": "text" saknas'):
        load_lagrum(tmp_path)


# The flow decisions the handläggarstöd does not spell out (issue 25): each says so where it is shown.
UNSPELLED_DECISIONS = ("soc1.11", "fk.3", "af.3", "af.4", "af.5", "af.9", "finsamteam.9")


@pytest.mark.parametrize("ruta_id", UNSPELLED_DECISIONS)
def test_each_inferred_flow_decision_has_a_visible_note(app, client, auth, make_user, ruta_id):
    ruta = app.extensions["catalogue"].process_map.ruta(ruta_id)
    assert "Handläggarstödet" in ruta.note, ruta_id
    make_user(username="sara")
    auth.login(username="sara")
    html = client.get(f"/processkarta/{ruta_id}").get_data(as_text=True)
    assert ruta.note.split(".")[0] in html
