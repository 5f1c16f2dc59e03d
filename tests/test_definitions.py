"""Tests for formservice.blanketter (model and loader) and the shipped forms/*.yaml."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from formservice.blanketter.loader import load_definitions
from formservice.blanketter.model import (
    BLANKETT_IDS, CONFIG_DEFAULTS, KNOWN_PREFILL_SOURCES, DefinitionError, blankett_ids,
    config_text, fill_placeholders,
)

ROOT = Path(__file__).resolve().parents[1]
FORMS_DIR = ROOT / "forms"


@pytest.fixture(scope="module")
def definitions():
    return load_definitions(FORMS_DIR)


@pytest.fixture
def forms_copy(tmp_path):
    """A writable copy of the shipped definitions (without the process map)."""
    target = tmp_path / "forms"
    target.mkdir()
    for path in FORMS_DIR.glob("*.yaml"):
        if not path.name.startswith(("processkarta", "_")):
            shutil.copy(path, target / path.name)
    shutil.copy(FORMS_DIR / "_lagrum.yaml", target)  # the shared citations some blanketter refer to
    return target


def break_file(forms_dir: Path, name: str, old: str, new: str) -> None:
    path = forms_dir / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_of(forms_dir: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definitions(forms_dir)
    assert "Traceback" not in str(info.value)
    return info.value.errors


SHIPPED = set(BLANKETT_IDS)

# --- the shipped definitions -----------------------------------------------------------

def test_all_seven_load(definitions):
    assert set(definitions) == SHIPPED
    assert blankett_ids(definitions) == tuple(sorted(SHIPPED))
    for bid, blankett in definitions.items():
        assert blankett.id == bid
        assert blankett.version == "2026-1"
        assert blankett.fields, bid


def test_ignores_process_map_and_underscore_files(forms_copy):
    (forms_copy / "processkarta.yaml").write_text("lanes: [", encoding="utf-8")
    (forms_copy / "_config.yaml").write_text("not: [valid", encoding="utf-8")
    assert set(load_definitions(forms_copy)) == SHIPPED


EXPECTED_FIELDS = {
    "forandringsplan": {
        "forandringsplan_datum": "date", "individ_namn": "text",
        "individ_personnummer": "personnummer", "aktuell_situation": "textarea",
        "forandring_mal": "textarea", "forandring_anledningar": "textarea",
        "mal_atgarder": "textarea", "steg": "rows", "hinder": "rows",
        "bedomning_sjalvforsorjning": "scale", "bedomning_kommentar": "textarea",
        "oka_mojligheter": "textarea", "tidplan_uppfoljning": "textarea",
        "villkor_ekonomiskt_bistand": "textarea", "ansvar_sokande": "textarea",
        "ansvar_socialsekreterare": "textarea", "forandringsplan_datum_sokande": "date",
        "forandringsplan_datum_socialsekreterare": "date", "handlaggare_namn": "text",
        "handlaggare_titel": "text",
    },
    "rehabiliteringsforfragan": {
        "individ_namn": "text", "individ_personnummer": "personnummer",
        "handlaggare_namn": "text", "handlaggare_telefon": "phone",
        "handlaggare_epost": "email", "aktivitet_annat_vad": "text",
        "lakare_anpassning": "textarea", "lakare_kommentar": "textarea",
        "lakare_namn": "text", "vardenhet": "text", "forfragan_svar_datum": "date",
        **{f"aktivitet_{a}_{suffix}": kind
           for a in ("jobbtorg", "sysselsattning", "medicinsk_rehabilitering", "sprak",
                     "arbetssokande", "forrehabilitering", "annat")
           for suffix, kind in (("kan_delta", "checkbox"), ("omfattning", "percent"),
                                ("kan_inte", "textarea"))},  # the motivation: several lines
    },
    "sekretessmedgivande": {
        "individ_namn": "text", "individ_personnummer": "personnummer",
        "handlaggare_verksamhet": "text", "lakare_namn": "text", "vardenhet": "text",
        "sekretess_uppgifter": "textarea", "sekretess_syfte": "textarea",
        "sekretess_giltighet": "text", "sekretess_giltig_till": "date",
        "sekretess_ort": "text", "sekretess_datum": "date",
    },
    "sip_kallelse": {
        "sip_lagrum": "text", "sip_samtycke": "checkbox", "individ_namn": "text",
        "individ_personnummer": "personnummer", "individ_adress": "text",
        "individ_telefon": "phone", "individ_epost": "email",
        "individ_foretradare_namn": "text", "individ_foretradare_kontakt": "text",
        "handlaggare_namn": "text", "handlaggare_telefon": "phone",
        "handlaggare_epost": "email", "handlaggare_titel": "text",
        "handlaggare_verksamhet": "text", "sip_datum": "date", "sip_starttid": "time",
        "sip_sluttid": "time", "sip_plats": "text", "sip_adress": "text", "sip_lank": "text",
        "sip_syfte": "choice", "sip_fragestallningar": "textarea", "sip_inbjudna": "rows",
    },
    "finsamteam_anmalan": {
        "individ_namn": "text", "individ_personnummer": "personnummer",
        "individ_adress": "text", "individ_postnummer_ort": "text",
        "individ_telefon": "phone", "handlaggare_namn": "text",
        "handlaggare_verksamhet": "text", "handlaggare_telefon": "phone",
        "handlaggare_epost": "email", "finsam_anledning": "textarea",
        "finsam_fragestallning": "textarea", "finsam_anmalan_datum": "date",
        **{f"har_kontakt_{p}": "checkbox" for p in ("af", "fk", "jobbtorg", "socialtjanst",
                                                    "vard")},
        **{f"kontakt_{p}": "text" for p in ("af", "fk", "jobbtorg", "socialtjanst", "vard")},
    },
    "finsamteam_samtycke": {
        "individ_namn": "text", "individ_personnummer": "personnummer",
        **{f"samtycke_part_{p}": "checkbox" for p in ("af", "fk", "jobbtorg",
                                                      "socialtjanst", "vard")},
        "finsam_samtycke_uppgifter": "textarea", "finsam_samtycke_syfte": "textarea",
        "finsam_samtycke_giltighet": "text", "finsam_samtycke_ort": "text",
        "finsam_samtycke_datum": "date",
    },
    "fk_ansokan_samordning": {
        "individ_namn": "text", "individ_personnummer": "personnummer",
        "individ_adress": "text", "individ_postnummer_ort": "text",
        "fk_varfor_inte_arbeta": "textarea", "fk_rehabiliteringsbehov": "textarea",
        "fk_uppgifter_i_bilaga": "checkbox", "fk_uppgifter_muntligt": "checkbox",
        "fk_medicinskt_underlag": "choice", "har_kontakt_socialtjanst": "checkbox",
        "kontakt_socialtjanst": "text", "har_kontakt_vard": "checkbox",
        "kontakt_vard": "text", "har_kontakt_af": "checkbox", "kontakt_af": "text",
        "har_kontakt_annan": "checkbox", "kontakt_annan_typ": "text",
        "kontakt_annan": "text", "fk_medgivande": "checkbox",
        "fk_ovriga_upplysningar": "textarea", "fk_ovriga_i_bilaga": "checkbox",
        "fk_ansokan_datum": "date", "individ_telefon": "phone",
        "individ_telefon_kvall": "phone",
    },
}


@pytest.mark.parametrize("bid", sorted(EXPECTED_FIELDS))
def test_blankett_covers_the_original(definitions, bid):
    blankett = definitions[bid]
    types = {f.name: f.type for f in blankett.fields}
    for name, kind in EXPECTED_FIELDS[bid].items():
        assert types.get(name) == kind, f"{bid}.{name}"


def test_same_fact_same_name_across_blanketter(definitions):
    def having(name):
        return {bid for bid, b in definitions.items() if b.has_field(name)}

    everywhere = SHIPPED
    assert having("individ_namn") == everywhere
    assert having("individ_personnummer") == everywhere
    assert having("handlaggare_namn") >= {"forandringsplan", "rehabiliteringsforfragan",
                                          "sip_kallelse", "finsamteam_anmalan"}
    assert having("handlaggare_telefon") >= {"rehabiliteringsforfragan", "sip_kallelse",
                                             "finsamteam_anmalan"}
    assert having("handlaggare_verksamhet") >= {"sekretessmedgivande", "sip_kallelse",
                                                "finsamteam_anmalan"}
    assert having("individ_adress") >= {"sip_kallelse", "finsamteam_anmalan",
                                        "fk_ansokan_samordning"}
    assert having("lakare_namn") == having("vardenhet") == {"rehabiliteringsforfragan", "sekretessmedgivande",
                                                            "lakarintyg_komplettering"}
    assert having("kontakt_af") == {"finsamteam_anmalan", "fk_ansokan_samordning"}
    # One name, one type everywhere (the loader enforces it; this shows it holds).
    seen = {}
    for blankett in definitions.values():
        for field in blankett.fields:
            assert seen.setdefault(field.name, field.type) == field.type, field.name


def test_prefills_and_kinds(definitions):
    for blankett in definitions.values():
        for field in blankett.fields:
            assert field.prefill is None or field.prefill in KNOWN_PREFILL_SOURCES
        assert blankett.field("individ_personnummer").prefill == "individ.personnummer"
    assert {b.id for b in definitions.values() if b.kind == "bilaga"} == {
        "sekretessmedgivande", "finsamteam_samtycke"}


def test_attachments(definitions):
    assert definitions["rehabiliteringsforfragan"].attachments == ("sekretessmedgivande",)
    assert definitions["finsamteam_anmalan"].attachments == ("finsamteam_samtycke",)
    assert definitions["forandringsplan"].attachments == ()


def test_forandringsplan_layout(definitions):
    plan = definitions["forandringsplan"]
    assert [s.number for s in plan.sections if s.number] == ["1", "2", "3", "4", "5", "6"]
    steg, hinder = plan.field("steg"), plan.field("hinder")
    assert [c.name for c in steg.columns] == ["vad", "nar"] and steg.min_rows == 4
    assert [c.name for c in hinder.columns] == ["hinder", "agera", "stodbehov"]
    assert hinder.min_rows == 2
    scale = plan.field("bedomning_sjalvforsorjning")
    assert (scale.scale_min, scale.scale_max) == (1, 10)
    assert scale.scale_label(1) and scale.scale_label(10) and not scale.scale_label(5)
    bedomning = next(s for s in plan.sections if s.id == "bedomning")
    assert bedomning.page_break_before
    signatures = next(s for s in plan.sections if s.id == "underskrifter").signatures
    assert [(s.role, s.name_field, s.title_field) for s in signatures] == [
        ("Sökande", "individ_namn", None),
        ("Socialsekreterare", "handlaggare_namn", "handlaggare_titel")]
    assert plan.field("aktuell_situation").max_length == 5000
    assert plan.field("individ_namn").max_length == 200


def test_forfragan_grid_and_explanations(definitions):
    forfragan = definitions["rehabiliteringsforfragan"]
    grid = next(s for s in forfragan.sections if s.layout == "grid")
    # Aktivitet | Kan delta | Omfattning i % | Kan inte delta | Motivering
    assert len(grid.grid_rows) == 7 and len(grid.grid_columns) == 5
    assert all(row.fields[2].endswith("_kan_inte_delta") for row in grid.grid_rows)
    assert grid.filled_by == "lakare"
    assert all(f.filled_by == "lakare" for f in grid.fields)
    assert forfragan.field("individ_namn").filled_by == "socialsekreterare"
    assert grid.grid_rows[-1].label_field == "aktivitet_annat_vad"
    assert grid.ungrouped_fields == ()
    text_sections = [s for s in forfragan.sections if s.text_only]
    assert text_sections[0].title == "Förklaring till insatser"
    assert text_sections[0].page_break_before
    assert {s.title for s in text_sections} >= {"Jobbtorg", "Sysselsättning",
                                                "Språkundervisning",
                                                "Förrehabiliterande insatser"}
    intro = fill_placeholders(forfragan.intro, {"handlaggare_namn": "Sara Exempel"})
    assert "Sara Exempel" in intro and "{" not in intro


def test_send_to_and_config(definitions):
    fk = definitions["fk_ansokan_samordning"]
    assert fk.send_to == "config.fk_inlasningscentral_adress"
    assert config_text(fk.send_to) == "Försäkringskassans inläsningscentral\n839 88 Östersund"
    finsam = definitions["finsamteam_anmalan"]
    assert config_text(finsam.send_to, {"finsam_koordinator_adress": "Box 1"}) == "Box 1"
    assert config_text("Fri text") == "Fri text"
    # Socialtjänstlagen (2001:453) is repealed: the default must not cite it.
    lagrum = CONFIG_DEFAULTS["sip_lagrum"]
    assert "2025:400" in lagrum and "2001:453" not in lagrum and "2 kap. 7 §" not in lagrum
    sip = definitions["sip_kallelse"]
    assert sip.field("sip_lagrum").prefill == "config.sip_lagrum"
    assert sip.per_recipient_rows == "sip_inbjudna"
    assert not any("2001:453" in ref for ref in sip.legal_refs)


def test_fill_placeholders():
    text = "Hej {namn}, {{inte}} {saknas}."
    assert fill_placeholders(text, {"namn": "Test"}, missing="…") == "Hej Test, {inte} …."


# --- broken definitions ---------------------------------------------------------------

def test_unknown_type(forms_copy):
    break_file(forms_copy, "forandringsplan", "type: textarea\n        lines: 5",
               "type: textruta\n        lines: 5")
    (error,) = errors_of(forms_copy)
    assert error.startswith("forandringsplan.yaml: ")
    assert "'aktuell_situation'" in error and "okänd typ 'textruta'" in error


def test_duplicate_field_name(forms_copy):
    break_file(forms_copy, "sip_kallelse", "name: individ_epost", "name: individ_telefon")
    errors = errors_of(forms_copy)
    assert any(e.startswith("sip_kallelse.yaml:") and "'individ_telefon'" in e
               and "en gång per blankett" in e for e in errors)


def test_choice_without_choices(forms_copy):
    break_file(forms_copy, "sip_kallelse",
               "        choices:\n          - {value: forsta_sip, label: En första SIP}\n"
               "          - {value: uppfoljning, label: Uppföljning av SIP}\n", "")
    (error,) = errors_of(forms_copy)
    assert error.startswith("sip_kallelse.yaml:") and "'sip_syfte'" in error
    assert "behöver choices" in error


def test_unknown_prefill_source(forms_copy):
    break_file(forms_copy, "finsamteam_anmalan", "prefill: user.epost", "prefill: user.mejl")
    (error,) = errors_of(forms_copy)
    assert error.startswith("finsamteam_anmalan.yaml:") and "'handlaggare_epost'" in error
    assert "okänd prefill-källa 'user.mejl'" in error


def test_yaml_syntax_error(forms_copy):
    break_file(forms_copy, "forandringsplan", "title: Förändringsplan\n",
               "title: [Förändringsplan\n")
    (error,) = errors_of(forms_copy)
    assert error.startswith("forandringsplan.yaml: rad ") and "YAML-syntaxfel" in error


def test_duplicate_yaml_key(forms_copy):
    break_file(forms_copy, "forandringsplan", "title: Förändringsplan\n",
               "title: Förändringsplan\ntitle: Igen\n")
    (error,) = errors_of(forms_copy)
    assert "förekommer två gånger" in error


def test_unknown_key(forms_copy):
    break_file(forms_copy, "sekretessmedgivande", "required: true\n        lines: 3",
               "requird: true\n        lines: 3")
    (error,) = errors_of(forms_copy)
    assert error.startswith("sekretessmedgivande.yaml:") and "'sekretess_uppgifter'" in error
    assert "okänd nyckel 'requird'" in error


def test_missing_required_key(forms_copy):
    break_file(forms_copy, "finsamteam_samtycke", "        label: Jobbtorg Stockholm\n", "")
    (error,) = errors_of(forms_copy)
    assert error.startswith("finsamteam_samtycke.yaml:") and "'samtycke_part_jobbtorg'" in error
    assert "nyckeln 'label' saknas" in error


def test_not_snake_case_and_all_errors_collected(forms_copy):
    break_file(forms_copy, "forandringsplan", "name: oka_mojligheter", "name: öka möjligheter")
    break_file(forms_copy, "sip_kallelse", "type: personnummer", "type: pnr")
    errors = errors_of(forms_copy)
    assert any(e.startswith("forandringsplan.yaml:") and "snake_case" in e for e in errors)
    assert any(e.startswith("sip_kallelse.yaml:") and "'pnr'" in e for e in errors)


def test_same_name_different_type_across_blanketter(forms_copy):
    break_file(forms_copy, "sip_kallelse", "name: sip_plats\n        label: Plats/lokal\n"
               "        type: text", "name: sip_plats\n        label: Plats/lokal\n"
               "        type: textarea")
    load_definitions(forms_copy)   # only one blankett has sip_plats: fine
    break_file(forms_copy, "finsamteam_anmalan", "name: individ_telefon\n        label: Telefon\n"
               "        type: phone", "name: individ_telefon\n        label: Telefon\n"
               "        type: text")
    errors = errors_of(forms_copy)
    assert any("'individ_telefon'" in e and "samma uppgift" in e for e in errors)


def test_id_must_match_file_name(forms_copy):
    break_file(forms_copy, "forandringsplan", "id: forandringsplan", "id: plan")
    (error,) = errors_of(forms_copy)
    assert "filnamnet" in error


def test_attachment_must_exist_and_be_bilaga(forms_copy):
    break_file(forms_copy, "rehabiliteringsforfragan", "attachments: [sekretessmedgivande]",
               "attachments: [sekretessmedgivande, forandringsplan, saknas]")
    errors = errors_of(forms_copy)
    assert any("'forandringsplan'" in e and "'bilaga'" in e for e in errors)
    assert any("'saknas'" in e and "finns inte" in e for e in errors)


def test_grid_and_signature_references(forms_copy):
    break_file(forms_copy, "finsamteam_anmalan", "fields: [har_kontakt_af, kontakt_af]",
               "fields: [har_kontakt_af, kontakt_arbetsformedlingen]")
    break_file(forms_copy, "forandringsplan", "title_field: handlaggare_titel",
               "title_field: handlaggare_befattning")
    errors = errors_of(forms_copy)
    assert any(e.startswith("finsamteam_anmalan.yaml:") and "'kontakt_arbetsformedlingen'"
               in e for e in errors)
    assert any(e.startswith("forandringsplan.yaml:") and "'handlaggare_befattning'" in e
               for e in errors)


def test_scale_rows_and_placeholders(forms_copy):
    break_file(forms_copy, "forandringsplan", "scale_max: 10", "scale_max: 1")
    break_file(forms_copy, "sip_kallelse", "        min_rows: 4\n        max_rows: 20\n", "")
    break_file(forms_copy, "sip_kallelse", "columns:", "kolumner:")
    break_file(forms_copy, "rehabiliteringsforfragan", "{handlaggare_telefon}", "{telefon}")
    errors = errors_of(forms_copy)
    assert any("'bedomning_sjalvforsorjning'" in e and "scale_min" in e for e in errors)
    assert any("'sip_inbjudna'" in e and "columns" in e for e in errors)
    assert any(e.startswith("rehabiliteringsforfragan.yaml: intro") and "{telefon}" in e
               for e in errors)


def test_module_does_not_import_flask():
    # Load the modules by path so the package __init__ (the Flask app) is not involved.
    code = (
        "import sys\n"
        "import formservice.blanketter.validation\n"
        "from formservice.blanketter.loader import load_definitions\n"
        f"load_definitions(__import__('pathlib').Path(r'{FORMS_DIR}'))\n"
        "assert 'flask' not in sys.modules, 'flask imported'\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
