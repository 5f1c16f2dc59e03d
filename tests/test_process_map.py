"""The process map: the shipped forms/processkarta.yaml against the handläggarstöd (content checks,
skipped when the suite runs on another map: FORMSERVICE_TEST_PROCESSKARTA), and validation of broken
copies of the shipped map from tests/fixtures (written to tmp_path, never to tests/data)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from formservice.paths import FORMS_DIR
from formservice.processkarta import loader as pm_module
from formservice.processkarta.loader import _contrast_on_white, load_process_map
from formservice.processkarta.model import Edge, ProcessMapError, UnknownIdError, ruta_to_dict

from .fixture_maps import FIXTURES, ORIGINAL

ROOT = Path(__file__).resolve().parents[1]
REAL = FORMS_DIR / "processkarta.yaml"  # the map the suite runs with
SHIPPED = FIXTURES / ORIGINAL  # what the validation tests break: the same file whatever forms/ holds
BLANKETT_IDS = frozenset({"forandringsplan", "rehabiliteringsforfragan", "sip_kallelse", "finsamteam_anmalan",
                          "fk_ansokan_samordning"})


@pytest.fixture(scope="module")
def process_map():
    """The map in forms/, for the content checks against the handläggarstöd: they hold for the map
    as shipped, not for a förbund's own edit (that one `formservice check` validates)."""
    if os.environ.get("FORMSERVICE_TEST_PROCESSKARTA"):
        pytest.skip("innehållskontroll av kartan som levereras; sviten körs med en annan karta "
                    "(FORMSERVICE_TEST_PROCESSKARTA), som formservice check kontrollerar")
    return load_process_map(REAL, BLANKETT_IDS)


@pytest.fixture(scope="module")
def map_in_use():
    """The map in forms/ whatever it is (also an edited one): for what must hold on every map."""
    return load_process_map(REAL, BLANKETT_IDS)


@pytest.fixture
def make_broken_copy(tmp_path):
    """Load the real YAML, let the test mutate it, write it to tmp_path and return the path.

    The module's own loader is used, not yaml.safe_load: PyYAML's YAML 1.1 rules would turn the
    keys `yes:` and `no:` of every decision into booleans."""

    def make(mutate) -> Path:
        raw = yaml.load(SHIPPED.read_text(encoding="utf-8"), Loader=pm_module._Loader)  # noqa: S506
        mutate(raw)
        path = tmp_path / "processkarta.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        shutil.copy(REAL.parent / "_lagrum.yaml", tmp_path)  # the shared citations the map refers to
        return path

    return make


def raw_ruta(raw: dict, ruta_id: str) -> dict:
    lane = next(lane for lane in raw["lanes"] if lane["id"] == ruta_id.split(".")[0])
    return next(r for r in lane["rutor"] if r["id"] == ruta_id)


def errors_of(path: Path) -> str:
    with pytest.raises(ProcessMapError) as excinfo:
        load_process_map(path, BLANKETT_IDS)
    message = str(excinfo.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    return message


# ---------------------------------------------------------------- the real map
RUTOR_PER_LANE = {
    "soc1": ["1a", "1b", *map(str, range(2, 18)), "slut", "slut-ingetbehov", "slut-ersattning"],
    "soc2": [*map(str, range(1, 11)), "slut"],
    "hsv": [*map(str, range(1, 11)), "slut-ingetbehov"],
    "fk": ["1", "2", "3", "4", "5a", "5b", "5c", "6", "7", "8", "slut", "slut-avslag", "slut-ingetbehov"],
    "af": [*map(str, range(1, 10)), "10a", "10b", "10c", "10d", "10e", "11", "12", "13", "14", "slut",
           "slut-ingeninsats", "slut-ingetbehov"],
    "jobbtorg": ["1", "1a", "2", "3", "4", "5", "6a", "6b", "6c", "7", "8", "9", "10", "slut"],
    "finsamteam": [*map(str, range(1, 10)), "slut-genomford"],
    "finsaminsats": ["1", "1a", "2", "3", "4", "5", "slut-insats"],
}
# The end states added where the handläggarstöd stops a lane without saying how (issue 13): the
# seed's own "Slut" says "självförsörjande", which these cases are not.
HONEST_ENDS = {
    "soc1.16": ["soc1.slut-ingetbehov", "soc1.slut-ersattning"], "hsv.9": ["hsv.slut-ingetbehov"],
    "fk.4": ["fk.slut-avslag"], "fk.7": ["fk.slut-ingetbehov"], "af.8": ["af.slut-ingeninsats"],
    "af.13": ["af.slut-ingetbehov"], "finsamteam.9": ["finsamteam.6", "finsamteam.slut-genomford"],
    "finsaminsats.5": ["finsaminsats.slut-insats"],
}


def test_lanes_in_order(process_map):
    assert [(lane.id, lane.number) for lane in process_map.lanes] == [
        (lane_id, n) for n, lane_id in enumerate(RUTOR_PER_LANE, 1)]
    assert process_map.lane("soc1").title == "Socialtjänsten – sjukskriven"
    assert process_map.lane("finsaminsats").title == "Finsam-insatser"


@pytest.mark.parametrize("lane_id, numbers", RUTOR_PER_LANE.items())
def test_rutor_per_lane_match_the_handlaggarstod(process_map, lane_id, numbers):
    lane = process_map.lane(lane_id)
    assert [r.id for r in lane.rutor] == [f"{lane_id}.{n}" for n in numbers]
    assert [r.label for r in lane.rutor] == ["Slut" if n.startswith("slut") else f"Ruta {n}" for n in numbers]
    assert all(r.lane == lane_id and r.title and r.guidance and r.actors for r in lane.rutor)


def test_rutor_counts(process_map):
    assert {lane.id: len(lane.rutor) for lane in process_map.lanes} == {
        "soc1": 21, "soc2": 11, "hsv": 11, "fk": 13, "af": 21, "jobbtorg": 14, "finsamteam": 10, "finsaminsats": 7}
    assert len(process_map.rutor) == 108


@pytest.mark.parametrize("lane_id, starts", [
    ("soc1", ("soc1.1a", "soc1.1b")), ("soc2", ("soc2.1",)), ("hsv", ("hsv.1",)), ("fk", ("fk.1",)),
    ("af", ("af.1",)), ("jobbtorg", ("jobbtorg.1", "jobbtorg.1a")), ("finsamteam", ("finsamteam.1",)),
    ("finsaminsats", ("finsaminsats.1", "finsaminsats.1a"))])
def test_starts(process_map, lane_id, starts):
    assert process_map.lane(lane_id).start == starts
    assert all(process_map.ruta(s).kind == "start" for s in starts)


@pytest.mark.parametrize("role, lane_id", [
    ("socialsekreterare", "soc1"), ("vardpersonal", "hsv"), ("handlaggare", "fk"),
    ("arbetsformedlare", "af"), ("jobbcoach", "jobbtorg"), ("koordinator", "finsamteam")])
def test_default_lane_for_role(process_map, role, lane_id):
    assert process_map.default_lane_for_role(role).id == lane_id


def test_role_without_lane(process_map):
    assert process_map.default_lane_for_role("admin") is None


def test_lane_colours_meet_wcag_aa_on_white(process_map):
    for lane in process_map.lanes:
        assert _contrast_on_white(lane.colour) >= 3.0, lane.id  # the 6px border: non-text contrast
        assert _contrast_on_white(lane.text_colour) >= 4.5, lane.id  # text
    assert process_map.lane("finsamteam").colour == process_map.lane("finsaminsats").colour
    assert process_map.individ.colour == "#7B3F98"


DECISIONS = [
    ("soc1.5", "soc1.7", "soc1.6"), ("soc1.8", "soc1.11", "soc1.9"), ("soc1.15", "soc1.17", "soc1.16"),
    ("soc2.2", "soc2.3", "soc2.4"), ("soc2.4", "soc2.5", "soc2.6"), ("soc2.7", "soc2.8", "soc2.9"),
    ("hsv.4", "hsv.5", "hsv.3"), ("hsv.8", "hsv.10", "hsv.9"), ("fk.3", "fk.5a", "fk.4"),
    ("fk.6", "fk.8", "fk.7"), ("af.10c", "af.10d", "af.10e"), ("af.12", "af.14", "af.13"),
    ("finsaminsats.3", "finsaminsats.5", "finsaminsats.4"),
]


@pytest.mark.parametrize("ruta_id, yes, no", DECISIONS)
def test_decisions(process_map, ruta_id, yes, no):
    ruta = process_map.ruta(ruta_id)
    assert ruta.kind == "decision" and ruta.next is None
    assert (ruta.decision.yes, ruta.decision.no) == (yes, no)
    assert ruta.decision.question.endswith("?")


def test_only_the_listed_rutor_are_decisions(process_map):
    assert {r.id for r in process_map.rutor.values() if r.kind == "decision"} == {d[0] for d in DECISIONS}


def test_decision_questions(process_map):
    assert process_map.ruta("soc1.5").decision.question == "Finns läkarintyg?"
    assert process_map.ruta("fk.3").decision.question == "Finns rätt till samordning?"
    assert process_map.ruta("finsaminsats.3").decision.question == "Behövs stöd i att hitta insats?"
    assert process_map.ruta("finsaminsats.3").note  # the seed's self-contradiction is explained


def test_targets_of_a_decision(process_map):
    assert process_map.targets("soc1.5") == (Edge("Ja", "soc1.7", "yes"), Edge("Nej", "soc1.6", "no"))


@pytest.mark.parametrize("ruta_id, targets", [
    ("soc1.11", ["soc1.12", "soc1.13", "soc1.14"]),
    ("af.3", ["af.4", "af.5", "af.6"]),
])
def test_choices(process_map, ruta_id, targets):
    ruta = process_map.ruta(ruta_id)
    assert ruta.kind == "choice"
    assert [c.target for c in ruta.choices] == targets


@pytest.mark.parametrize("ruta_id, lanes", [
    ("soc1.17", {"fk", "af", "hsv", "jobbtorg", "finsamteam", "finsaminsats"}),
    ("hsv.10", {"fk", "af", "jobbtorg", "finsamteam", "finsaminsats"}),
    ("fk.8", {"af", "hsv", "jobbtorg", "finsamteam", "finsaminsats"}),
    ("af.14", {"fk", "soc1", "hsv", "jobbtorg", "finsaminsats"}),
    ("jobbtorg.7", {"fk", "af", "hsv", "jobbtorg", "finsaminsats"}),
])
def test_samverkan_med_annan_part_leads_into_the_parties_lanes(process_map, ruta_id, lanes):
    ruta = process_map.ruta(ruta_id)
    assert ruta.title == "Samverkan med annan part?" and ruta.kind == "choice"
    assert {process_map.ruta(c.target).lane for c in ruta.choices} == lanes
    assert all(process_map.ruta(c.target).lane != ruta.lane for c in ruta.choices
               if c.target not in ("jobbtorg.8", "jobbtorg.9"))  # Jobbtorg's own Finsamteam and återremiss


LINKS = [
    ("soc1.6", {"soc2.1"}), ("soc1.12", {"jobbtorg.1"}), ("soc1.13", {"finsamteam.1"}), ("soc1.14", {"fk.1"}),
    ("soc2.3", {"hsv.1"}), ("soc2.6", {"af.1", "jobbtorg.1"}), ("soc2.8", {"finsamteam.1", "finsaminsats.1a"}),
    ("soc2.9", {"jobbtorg.1"}), ("hsv.6", {"finsamteam.1"}), ("hsv.7", {"soc1.14"}), ("fk.2", {"finsamteam.1"}),
    ("fk.6", {"finsamteam.1"}), ("af.10d", {"fk.1"}), ("af.11", {"finsamteam.1"}), ("jobbtorg.2", {"af.1"}),
    ("jobbtorg.6c", {"af.1"}), ("jobbtorg.8", {"finsamteam.1"}), ("jobbtorg.9", {"soc1.11"}),
    ("jobbtorg.10", {"af.1"}), ("finsamteam.6", {"finsaminsats.1"}),
]


@pytest.mark.parametrize("ruta_id, targets", LINKS)
def test_cross_lane_links(process_map, ruta_id, targets):
    ruta = process_map.ruta(ruta_id)
    assert {link.target for link in ruta.links} == targets
    assert all(process_map.ruta(t).lane != ruta.lane for t in targets)
    assert all(link.label for link in ruta.links)


def test_no_other_rutor_have_links(process_map):
    assert {r.id for r in process_map.rutor.values() if r.links} == {ruta_id for ruta_id, _ in LINKS}


@pytest.mark.parametrize("ruta_id, next_id", [
    ("soc1.1a", "soc1.2"), ("soc1.1b", "soc1.3"), ("soc1.2", "soc1.3"), ("soc1.9", "soc1.10"),
    ("soc1.10", "soc1.11"), ("soc1.12", "soc1.15"), ("soc1.13", "soc1.15"), ("soc1.14", "soc1.15"),
    ("soc1.16", None), ("soc1.17", "soc1.slut"), ("soc2.8", "soc2.9"), ("soc2.10", "soc2.slut"),
    ("hsv.9", "hsv.slut-ingetbehov"), ("fk.4", "fk.slut-avslag"), ("fk.5c", "fk.slut"), ("fk.7", "fk.slut-ingetbehov"),
    ("af.4", "af.slut"), ("af.5", "af.slut"), ("af.8", "af.slut-ingeninsats"), ("af.10d", None), ("af.10e", "af.11"),
    ("af.13", "af.slut-ingetbehov"),
    ("jobbtorg.1a", "jobbtorg.2"), ("jobbtorg.9", None), ("jobbtorg.10", None), ("finsamteam.9", None),
    ("finsaminsats.4", "finsaminsats.5"), ("finsaminsats.5", "finsaminsats.slut-insats"),
])
def test_next_chain(process_map, ruta_id, next_id):
    assert process_map.ruta(ruta_id).next == next_id


def test_every_lane_has_a_way_out(map_in_use):
    """A wizard following a lane must reach an end state or a ruta where the lane stops."""
    for lane in map_in_use.lanes:
        assert any(r.kind == "end" or not (r.next or r.decision or r.choices) for r in lane.rutor), lane.id


def test_end_states(process_map):
    ends = [r for r in process_map.rutor.values() if r.kind == "end"]
    seed_ends = [r for r in ends if r.id.endswith(".slut")]
    assert [r.id for r in seed_ends] == ["soc1.slut", "soc2.slut", "fk.slut", "af.slut", "jobbtorg.slut"]
    for ruta in ends:
        assert ruta.label == "Slut" and ruta.targets() == ()
    for ruta in seed_ends:
        assert ruta.title.startswith("Individen blir självförsörjande genom arbete/studier/arbetssökande")


@pytest.mark.parametrize("ruta_id, targets", HONEST_ENDS.items())
def test_lanes_that_stopped_lead_to_an_honest_end_state(process_map, ruta_id, targets):
    """No way out of these rutor records "självförsörjande" (the seed's Slut), which did not happen."""
    ruta = process_map.ruta(ruta_id)
    assert [e.target for e in ruta.targets()] == targets
    for target in targets:
        end = process_map.ruta(target)
        if end.kind == "end":
            assert "självförsörjande" not in end.title and end.guidance


def test_every_ruta_without_a_way_on_is_an_end_state(map_in_use):
    assert [r.id for r in map_in_use.rutor.values() if not r.targets() and r.kind != "end"] == []


BLANKETTER = [
    ("soc1.4", ["forandringsplan"]), ("soc1.9", ["rehabiliteringsforfragan"]),
    ("soc1.13", ["finsamteam_anmalan"]), ("soc1.14", ["sip_kallelse", "fk_ansokan_samordning"]),
    ("soc2.8", ["finsamteam_anmalan"]), ("hsv.6", ["finsamteam_anmalan"]), ("hsv.7", ["sip_kallelse"]),
    ("fk.1", ["fk_ansokan_samordning"]), ("fk.6", ["finsamteam_anmalan"]), ("af.10d", ["fk_ansokan_samordning"]),
    ("af.11", ["finsamteam_anmalan"]), ("jobbtorg.5", ["forandringsplan"]), ("jobbtorg.8", ["finsamteam_anmalan"]),
    ("finsamteam.3", ["finsamteam_anmalan"]), ("finsamteam.4", ["finsamteam_anmalan"]),
]


@pytest.mark.parametrize("ruta_id, ids", BLANKETTER)
def test_blanketter_per_ruta(process_map, ruta_id, ids):
    assert list(process_map.ruta(ruta_id).blankett_ids) == ids


def test_no_other_rutor_offer_blanketter(process_map):
    assert {r.id for r in process_map.rutor.values() if r.blanketter} == {ruta_id for ruta_id, _ in BLANKETTER}


def test_conditional_blankett(process_map):
    sip, fk = process_map.ruta("soc1.14").blanketter
    assert sip.when is None
    assert fk.when == "när arbetslivsinriktad rehabilitering behövs"


def refs(process_map, ruta_id):
    return " | ".join(ref.text for ref in process_map.ruta(ruta_id).legal_refs)


@pytest.mark.parametrize("ruta_id", ["fk.1", "fk.2", "fk.3", "fk.5a", "fk.5b", "fk.8", "af.10d",
                                     "soc1.14", "soc1.15", "soc1.17"])
def test_samordning_cites_sfb(process_map, ruta_id):
    assert "30 kap. 10 § socialförsäkringsbalken (2010:110)" in refs(process_map, ruta_id)


@pytest.mark.parametrize("ruta_id", ["soc1.14", "hsv.7"])
def test_sip_cites_hsl_and_the_new_socialtjanstlag(process_map, ruta_id):
    assert "16 kap. 4 § hälso- och sjukvårdslagen (2017:30)" in refs(process_map, ruta_id)
    assert "socialtjänstlagen (2025:400)" in refs(process_map, ruta_id)


@pytest.mark.parametrize("ruta_id", ["soc1.9", "soc1.13", "soc2.8", "hsv.6", "fk.6", "af.11", "jobbtorg.8",
                                     "finsamteam.3", "finsamteam.4"])
def test_samtycke_cites_osl(process_map, ruta_id):
    assert "12 kap. 2 § offentlighets- och sekretesslagen (2009:400)" in refs(process_map, ruta_id)


def test_no_paragraph_of_a_socialtjanstlag_and_never_the_repealed_one(process_map):
    for ruta in process_map.rutor.values():
        for ref in ruta.legal_refs:
            assert "2001:453" not in ref.text, ruta.id
            if "socialtjänstlagen" in ref.text:
                assert ref.text == "socialtjänstlagen (2025:400)", ruta.id
    assert "socialtjänstlagen (2025:400)" in refs(process_map, "soc1.2")
    assert all(ref.about for r in process_map.rutor.values() for ref in r.legal_refs)


@pytest.mark.parametrize("typo", ["Handläggarsöd", "Individens kontaktar", "Jobbtorgetts", "KommunikERING",
                                  "aktivitetserättning", "arbetsökande", "musknapp", "klicka", "bilaga",
                                  "Lagen om Särskilt Stöd"])
def test_guidance_is_cleaned_up(process_map, typo):
    for ruta in process_map.rutor.values():
        assert typo.lower() not in " ".join((ruta.title, *ruta.guidance)).lower(), ruta.id


def test_finsamteam_guidance_names_the_lanes_own_anmalare(process_map):
    # The seed copied "Vårdpersonal"/"Arbetsförmedlaren" into the socialtjänst and Jobbtorg lanes.
    assert any("Socialsekreteraren har en dialog" in p for p in process_map.ruta("soc2.8").guidance)
    assert any("Jobbcoachen har en dialog" in p for p in process_map.ruta("jobbtorg.8").guidance)


def test_every_actor_is_declared(map_in_use):
    assert {a for r in map_in_use.rutor.values() for a in r.actors} <= set(map_in_use.actors)


def test_unknown_ids_raise_a_lookup_error_not_key_error(map_in_use):
    with pytest.raises(UnknownIdError, match="soc1.99") as excinfo:
        map_in_use.ruta("soc1.99")
    assert isinstance(excinfo.value, LookupError) and not isinstance(excinfo.value, KeyError)
    with pytest.raises(LookupError, match="nej"):
        map_in_use.lane("nej")


def test_model_is_read_only(map_in_use):
    with pytest.raises(AttributeError):
        map_in_use.ruta("soc1.5").next = "soc1.6"
    with pytest.raises(TypeError):
        map_in_use.rutor["soc1.5"] = None


def test_to_dict_is_json_and_round_trips_the_ids(process_map):
    data = json.loads(json.dumps(process_map.to_dict(), ensure_ascii=False))
    assert [lane["id"] for lane in data["lanes"]] == [lane.id for lane in process_map.lanes]
    assert [r["id"] for lane in data["lanes"] for r in lane["rutor"]] == list(process_map.rutor)
    soc1_5 = next(r for r in data["lanes"][0]["rutor"] if r["id"] == "soc1.5")
    assert soc1_5["decision"] == {"question": "Finns läkarintyg?", "yes": "soc1.7", "no": "soc1.6"}
    assert ruta_to_dict(process_map.ruta("soc1.5")) == soc1_5
    soc1_14 = ruta_to_dict(process_map.ruta("soc1.14"))
    assert soc1_14["blanketter"][1] == {"id": "fk_ansokan_samordning",
                                        "when": "när arbetslivsinriktad rehabilitering behövs"}
    assert soc1_14["links"] == [{"label": "Ansökan om samordning av rehabiliteringsinsatser (Försäkringskassan)",
                                 "target": "fk.1"}]
    assert {"text", "about"} == set(soc1_14["legal_refs"][0])


def test_module_does_not_import_flask():
    # The package's __init__ imports flask only inside create_app, so the wing imports on its own.
    code = ("import sys\n"
            "from formservice.processkarta.loader import load_process_map\n"
            f"load_process_map({str(REAL)!r}, {sorted(BLANKETT_IDS)!r})\n"
            "assert 'flask' not in sys.modules, 'flask imported'\n"
            "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- validation of broken copies
def test_missing_target(make_broken_copy):
    path = make_broken_copy(lambda raw: raw_ruta(raw, "soc1.5")["decision"].update(no="soc1.66"))
    assert 'ruta soc1.5: Nej-målet "soc1.66" finns inte' in errors_of(path)


def test_missing_next_and_choice_targets(make_broken_copy):
    def mutate(raw):
        raw_ruta(raw, "soc1.2")["next"] = "soc1.99"
        raw_ruta(raw, "soc1.11")["choices"][0] = {"label": "Jobbtorg", "target": "jobbtorg.77"}
        raw_ruta(raw, "hsv.7")["links"][0] = {"label": "SIP {kommunen}", "target": "soc9.14"}

    message = errors_of(make_broken_copy(mutate))
    assert 'ruta soc1.2: nästa ruta (next) pekar på "soc1.99", som inte finns' in message
    assert 'ruta soc1.11: valet "Jobbtorg" pekar på "jobbtorg.77", som inte finns' in message
    assert 'ruta hsv.7: länken "SIP {kommunen}" pekar på "soc9.14", som inte finns' in message


def test_all_errors_are_collected_in_file_order(make_broken_copy):
    def mutate(raw):
        raw_ruta(raw, "af.2")["actors"] = ["arbetsförmedlar"]
        raw_ruta(raw, "fk.1")["blanketter"] = ["fk_ansokan"]
        raw_ruta(raw, "soc1.12")["links"][0]["target"] = "jobbtorg.99"

    lines = errors_of(make_broken_copy(mutate)).splitlines()
    assert len(lines) == 3
    assert "ruta soc1.12: " in lines[0] and "ruta fk.1: " in lines[1] and "ruta af.2: " in lines[2]
    assert 'menade du "arbetsförmedlare"?' in lines[2]


def test_duplicate_id(make_broken_copy):
    def mutate(raw):
        raw_ruta(raw, "soc1.7")["id"] = "soc1.6"

    message = errors_of(make_broken_copy(mutate))
    assert "ruta soc1.6: id förekommer flera gånger" in message
    assert 'ruta soc1.6: id ska vara "soc1.7" enligt banan och etiketten "Ruta 7"' in message


def test_unreachable_ruta(make_broken_copy):
    def mutate(raw):
        raw_ruta(raw, "soc1.9")["next"] = "soc1.11"  # nothing leads to ruta 10 any more

    message = errors_of(make_broken_copy(mutate))
    assert message.splitlines() == [
        f"{message.split(': ')[0]}: ruta soc1.10: kan inte nås från banans start (soc1.1a, soc1.1b) "
        "eller från någon annan bana"]


def test_cut_off_part_of_a_lane_is_one_line(make_broken_copy):
    path = make_broken_copy(lambda raw: raw_ruta(raw, "jobbtorg.4").pop("next"))
    lines = errors_of(path).splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("ruta jobbtorg.5: kan inte nås från banans start (jobbtorg.1, jobbtorg.1a) eller från "
                             "någon annan bana; inte heller jobbtorg.6a, jobbtorg.6b, jobbtorg.6c, jobbtorg.7, "
                             "jobbtorg.8, jobbtorg.9, jobbtorg.10, jobbtorg.slut")


def test_ruta_entered_only_by_a_link_is_reachable(make_broken_copy):
    def mutate(raw):
        raw_ruta(raw, "soc1.8")["decision"]["yes"] = "soc1.12"  # soc1.11 now only reached from jobbtorg.9
        raw_ruta(raw, "soc1.10")["next"] = "soc1.12"

    assert load_process_map(make_broken_copy(mutate), BLANKETT_IDS).ruta("soc1.11")


def test_decision_missing_a_branch(make_broken_copy):
    path = make_broken_copy(lambda raw: raw_ruta(raw, "fk.3")["decision"].pop("no"))
    assert "ruta fk.3: beslutet saknar Nej-målet (no)" in errors_of(path)


def test_decision_ruta_without_decision(make_broken_copy):
    path = make_broken_copy(lambda raw: raw_ruta(raw, "hsv.4").pop("decision"))
    assert 'ruta hsv.4: en beslutsruta (kind "decision") behöver "decision"' in errors_of(path)


def test_unknown_blankett(make_broken_copy):
    path = make_broken_copy(lambda raw: raw_ruta(raw, "soc1.14")["blanketter"][1].update(id="fk_ansokan"))
    message = errors_of(path)
    assert 'ruta soc1.14: blanketten "fk_ansokan" finns inte' in message
    assert "fk_ansokan_samordning" in message  # the known ids are listed


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "processkarta.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("    next: soc1.3\n", "    next: [soc1.3\n", 1),
                    encoding="utf-8")
    message = errors_of(path)
    assert "ogiltig YAML" in message and "rad " in message and "kolumn " in message
    assert "Traceback" not in message


def test_repeated_key_is_an_error(tmp_path):
    path = tmp_path / "processkarta.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace(
        "        next: soc1.2\n", "        next: soc1.2\n        next: soc1.3\n", 1), encoding="utf-8")
    assert 'nyckeln "next" förekommer två gånger' in errors_of(path)


@pytest.mark.parametrize("mutate, expected", [
    (lambda raw: raw_ruta(raw, "soc1.9").update(actors="socialsekreterare"),
     'ruta soc1.9: "actors" ska vara en lista, inte text'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(guidance={"a": 1}),
     'ruta soc1.9: "guidance" ska vara en lista, inte mappning'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(next=10),
     'ruta soc1.9: "next" ska vara ett ruta-id, inte tal'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(blanketter=[["rehabiliteringsforfragan"]]),
     "ruta soc1.9: blanketter, punkt 1, ska vara ett blankett-id"),
    (lambda raw: raw["lanes"][0].update(number="ett"),
     'bana soc1: "number" ska vara ett heltal från 1, inte text'),
    (lambda raw: raw["lanes"][0].update(rutor={"soc1.1a": {}}),
     'bana soc1: "rutor" ska vara en lista, inte mappning'),
    (lambda raw: raw.update(lanes="soc1"), '"lanes" ska vara en lista, inte text'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(nxet="soc1.10"),
     'ruta soc1.9: okänd nyckel "nxet" (menade du "next"?)'),
    (lambda raw: raw_ruta(raw, "soc1.9").pop("title"), 'ruta soc1.9: nyckeln "title" saknas'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(kind="steg"), 'ruta soc1.9: "kind" ska vara en av'),
    (lambda raw: raw_ruta(raw, "soc1.9").update(label="Rutan 9"), 'ruta soc1.9: etiketten "Rutan 9"'),
    (lambda raw: raw_ruta(raw, "soc1.17").update(choices=[{"label": "FK", "target": "fk.1"}]),
     "ruta soc1.17: en valruta"),
    (lambda raw: raw_ruta(raw, "soc1.slut").update(next="soc1.1a"), "ruta soc1.slut: en slutruta har inga"),
    (lambda raw: raw_ruta(raw, "soc1.12")["links"].append({"label": "Ruta 15", "target": "soc1.15"}),
     'ruta soc1.12: länken "Ruta 15" pekar på "soc1.15" i samma bana'),
    (lambda raw: raw_ruta(raw, "soc1.3").update(kind="start"), 'ruta soc1.3: har kind "start" men'),
    (lambda raw: raw["lanes"][1].update(roles=["socialsekreterare"]),
     'bana soc2: rollen "socialsekreterare" hör redan till bana soc1'),
])
def test_wrong_types_and_shapes(make_broken_copy, mutate, expected):
    assert expected in errors_of(make_broken_copy(mutate))


@pytest.mark.parametrize("colour, expected", [
    ("#C6282", '"colour" ska vara en hexkod inom citattecken'),
    (None, '"colour" ska vara en hexkod inom citattecken, t.ex. "#C62828", inte tomt värde'),
    ("#F4A6A6", '"colour" #F4A6A6 har kontrasten 1,9:1 mot vit bakgrund; minst 3:1 krävs (WCAG AA)'),
])
def test_bad_colours(make_broken_copy, colour, expected):
    path = make_broken_copy(lambda raw: raw["lanes"][5].update(colour=colour))
    assert f"bana jobbtorg: {expected}" in errors_of(path)


def test_unquoted_hex_colour_is_explained(tmp_path):
    # In YAML "#" starts a comment, so an unquoted colour silently becomes empty.
    path = tmp_path / "processkarta.yaml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace('colour: "#1565C0"', "colour: #1565C0", 1),
                    encoding="utf-8")
    assert 'bana hsv: "colour" ska vara en hexkod inom citattecken' in errors_of(path)


@pytest.mark.parametrize("content, expected", [
    ("", "filen är tom"),
    ("# bara en kommentar\n", "filen är tom"),
    ("- soc1\n- soc2\n", "överst i filen: ska vara en mappning"),
    ("lanes: []\n", 'överst i filen: nyckeln "actors" saknas'),
])
def test_empty_and_odd_files(tmp_path, content, expected):
    path = tmp_path / "processkarta.yaml"
    path.write_text(content, encoding="utf-8")
    assert expected in errors_of(path)


def test_missing_file(tmp_path):
    assert "filen finns inte" in errors_of(tmp_path / "saknas.yaml")


def test_yes_and_no_keys_stay_keys(tmp_path):
    # YAML 1.1 would read `yes:`/`no:`/`on:` as booleans; the loader uses YAML 1.2 booleans.
    path = tmp_path / "processkarta.yaml"
    path.write_text("actors: [individ]\nlanes:\n- id: x\n  number: 1\n  title: X\n  party: X\n"
                    '  colour: "#C62828"\n  text_colour: "#B71C1C"\n  start: [x.1]\n  rutor:\n'
                    "  - {id: x.1, label: Ruta 1, title: Fråga?, kind: start, actors: [individ], guidance: [T],"
                    " next: x.2}\n"
                    "  - {id: x.2, label: Ruta 2, title: Fråga?, kind: decision, actors: [individ], guidance: [T],"
                    " decision: {question: Ja?, yes: x.3, no: x.slut}}\n"
                    "  - {id: x.3, label: Ruta 3, title: 'on', kind: step, actors: [individ], guidance: [no],"
                    " next: x.slut}\n"
                    "  - {id: x.slut, label: Slut, title: Slut, kind: end, actors: [individ], guidance: [T]}\n",
                    encoding="utf-8")
    pm = load_process_map(path, ())
    assert pm.ruta("x.2").decision.yes == "x.3" and pm.ruta("x.3").guidance == ("no",)
