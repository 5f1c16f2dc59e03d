"""Fixture process maps (tests/fixtures/processkarta_*.yaml) for the behaviour tests of map
editing: they run on these files, not on forms/processkarta.yaml, so a förbund's own edit of its
map (the Skärholmen edit is the example the CI runs with) cannot break them."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from formservice.blanketter.catalogue import Catalogue, load_catalogue
from formservice.paths import FORMS_DIR

FIXTURES = Path(__file__).parent / "fixtures"
ORIGINAL = "processkarta_original.yaml"  # forms/processkarta.yaml as shipped
SKARHOLMEN = "processkarta_skarholmen.yaml"  # "Finns läkarintyg?" before the förändringsplan; soc1.4 -> soc1.5a


def fixture_forms(tmp_path: Path, map_name: str = ORIGINAL, edit=None) -> Path:
    """A fresh copy of forms/ (for the blanketter) with a fixture map, optionally edited by edit(text)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    forms = Path(tempfile.mkdtemp(dir=tmp_path, prefix=map_name.removesuffix(".yaml") + "-")) / "forms"
    shutil.copytree(FORMS_DIR, forms)
    text = (FIXTURES / map_name).read_text(encoding="utf-8")
    if edit is not None:
        edited = edit(text)
        assert edited != text, "the edit changed nothing: the fixture map is not what the test expects"
        text = edited
    (forms / "processkarta.yaml").write_text(text, encoding="utf-8")
    return forms


def fixture_catalogue(tmp_path: Path, map_name: str = ORIGINAL, edit=None) -> Catalogue:
    return load_catalogue(fixture_forms(tmp_path, map_name, edit))


def without_formerly(text: str) -> str:
    """The Skärholmen map as a careless editor would write it: soc1.4 renamed without `formerly`."""
    return text.replace("        formerly: [soc1.4]\n", "")


# ---------------------------------------------------------------- keeping the fixtures current
ORIGINAL_HEADER = (
    "# Test fixture: forms/processkarta.yaml as shipped, the base map of the behaviour\n"
    "# tests (tests/test_processkarta_diff.py, tests/test_processkarta_editing.py), so they do not\n"
    "# depend on how a förbund has edited its own forms/. processkarta_skarholmen.yaml is this map\n"
    "# with the Skärholmen edit. Regenerate both with: .venv/bin/python -m tests.fixture_maps\n")
SKARHOLMEN_HEADER = (
    "# Test fixture: forms/processkarta.yaml with the edit Skärholmen asked for (seed 001):\n"
    "# \"Finns läkarintyg?\" (soc1.5) comes before the förändringsplan, which is renamed from\n"
    "# soc1.4 to soc1.5a and keeps its old id under `formerly`. The suite must pass with this map\n"
    "# (FORMSERVICE_TEST_PROCESSKARTA, see tests/conftest.py and .ci/run).\n"
    "# Regenerate both fixtures with: .venv/bin/python -m tests.fixture_maps\n")


def skarholmen_edit(text: str) -> str:
    """The Skärholmen edit made on the text of a map, as a förbund's editor would make it by hand:
    the decision block moves before the förändringsplan's, which gets label "Ruta 5a"."""
    start, mid, end = (text.index(f"      - id: {ruta_id}\n") for ruta_id in ("soc1.4", "soc1.5", "soc1.6"))
    plan, decision = text[start:mid], text[mid:end]
    plan = plan.replace("- id: soc1.4\n        label: Ruta 4\n",
                        "- id: soc1.5a\n        label: Ruta 5a\n        formerly: [soc1.4]\n", 1)
    plan = plan.replace("next: soc1.5", "next: soc1.7", 1)
    decision = decision.replace("yes: soc1.7", "yes: soc1.5a", 1)
    edited = text[:start] + decision.rstrip("\n") + "\n\n" + plan.rstrip("\n") + "\n\n" + text[end:]
    return edited.replace("        next: soc1.4\n", "        next: soc1.5\n", 1)


def expected_fixtures() -> dict[str, str]:
    shipped = (FORMS_DIR / "processkarta.yaml").read_text(encoding="utf-8")
    return {ORIGINAL: ORIGINAL_HEADER + shipped, SKARHOLMEN: SKARHOLMEN_HEADER + skarholmen_edit(shipped)}


if __name__ == "__main__":  # python -m tests.fixture_maps: rewrite the fixtures from forms/
    for name, text in expected_fixtures().items():
        (FIXTURES / name).write_text(text, encoding="utf-8")
        print(f"skrev {FIXTURES / name}")
