"""Tests for formservice.rendering.official_pdf, with an "official" fillable PDF
the test suite makes itself (WeasyPrint pdf_forms, as an agency's form would be)."""
from __future__ import annotations

import io
import subprocess

import pikepdf
import pytest
from pypdf import PdfReader

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.rendering import official_pdf, packets, pdf
from formservice.rendering.official_pdf import OfficialPdfError
from tests.sample_values import TEST_PERSONNUMMER

OFFICIAL_HTML = """<html lang="sv"><head><title>Ansökan</title></head><body>
<h1>Ansökan – Samordning av rehabiliteringsinsatser</h1>
<p>Förnamn och efternamn</p><input name="Fornamn och efternamn" title="Namn">
<p>Personnummer (12 siffror)</p><input name="Personnummer" title="Personnummer">
<p>Beskriv varför du inte kan arbeta</p><textarea name="Varfor" title="Varför"></textarea>
<p><input type="checkbox" name="Kryssruta bilaga" title="Bilaga"> Jag lämnar uppgifterna i en bilaga</p>
<p><input type="checkbox" name="Kryssruta muntligt" title="Muntligt"> Jag vill lämna uppgifterna muntligt</p>
</body></html>"""

MAPPING = {
    "individ_namn": "Fornamn och efternamn",
    "individ_personnummer": "Personnummer",
    "fk_varfor_inte_arbeta": "Varfor",
    "fk_uppgifter_i_bilaga": "Kryssruta bilaga",
    "fk_uppgifter_muntligt": "Kryssruta muntligt",
}

VALUES = {
    "individ_namn": "Tolvan Tolvansson",
    "individ_personnummer": TEST_PERSONNUMMER,
    "fk_varfor_inte_arbeta": "Ryggont & trötthet <3",
    "fk_uppgifter_i_bilaga": True,
    "fk_uppgifter_muntligt": False,
}


@pytest.fixture(scope="module")
def template():
    return pdf.html_to_pdf(OFFICIAL_HTML, forms=True)


@pytest.fixture(scope="module")
def blankett():
    return load_definitions(paths.FORMS_DIR)["fk_ansokan_samordning"]


@pytest.fixture(scope="module")
def filled(template, blankett):
    return official_pdf.fill_official_pdf(template, MAPPING, VALUES, blankett=blankett)


def test_fields_and_checkbox_states_are_read_from_the_pdf(template):
    fields = official_pdf.pdf_fields(template)
    assert fields["Personnummer"].kind == "text"
    assert fields["Kryssruta bilaga"].kind == "checkbox"
    assert fields["Kryssruta bilaga"].states == ("on",)


def test_filled_values_read_back(filled):
    assert packets.read_form_fields(filled) == {
        "Fornamn och efternamn": "Tolvan Tolvansson",
        "Personnummer": "19121212-1212",
        "Varfor": "Ryggont & trötthet <3",
        "Kryssruta bilaga": True,
        "Kryssruta muntligt": False,
    }


def test_filled_pdf_keeps_its_version_and_asks_for_appearances(filled):
    assert filled.startswith(b"%PDF-1.7")
    with pikepdf.open(io.BytesIO(filled)) as doc:
        assert doc.Root.AcroForm.NeedAppearances is True
        states = {str(a.T): str(a.get("/AS")) for a in doc.pages[0].Annots
                  if a.get("/FT") == "/Btn"}
    assert states == {"Kryssruta bilaga": "/on", "Kryssruta muntligt": "/Off"}


def test_values_show_in_the_page(filled, tmp_path):
    path = tmp_path / "filled.pdf"
    path.write_bytes(filled)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Tolvan Tolvansson" in text
    assert "19121212-1212" in text
    flat = tmp_path / "flat.pdf"
    flat.write_bytes(packets.flatten(filled))
    text = subprocess.run(["pdftotext", str(flat), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Tolvan Tolvansson" in text and "Ryggont & trötthet <3" in text


def test_without_blankett_values_are_written_as_they_are(template):
    out = official_pdf.fill_official_pdf(template, {"namn": "Fornamn och efternamn",
                                                    "bilaga": "Kryssruta bilaga"},
                                         {"namn": "Test", "bilaga": True})
    assert packets.read_form_fields(out)["Kryssruta bilaga"] is True
    assert packets.read_form_fields(out)["Fornamn och efternamn"] == "Test"


def test_mapping_to_a_field_the_pdf_lacks(template):
    with pytest.raises(OfficialPdfError) as error:
        official_pdf.fill_official_pdf(template, {"individ_namn": "Namn"}, {})
    message = str(error.value)
    assert 'PDF-blanketten har inget fält "Namn"' in message
    assert '"Personnummer"' in message          # lists the fields the PDF has


# ----------------------------------------------------------- mapping files


@pytest.fixture
def instance(tmp_path, template):
    folder = tmp_path / "instance" / official_pdf.OFFICIAL_DIR
    folder.mkdir(parents=True)
    (folder / "fk.pdf").write_bytes(template)
    return tmp_path / "instance"


def write_mapping(instance, text):
    (instance / official_pdf.OFFICIAL_DIR / "fk_ansokan_samordning.yaml").write_text(
        text, encoding="utf-8")


def test_find_official_pdf(instance, blankett):
    assert official_pdf.find_official_pdf(instance, blankett) is None
    write_mapping(instance, "pdf: fk.pdf\nfields:\n" + "".join(
        f'  {ours}: "{theirs}"\n' for ours, theirs in MAPPING.items()))
    official = official_pdf.find_official_pdf(instance, blankett)
    assert official.mapping == MAPPING
    out = official.fill(VALUES, blankett)
    assert packets.read_form_fields(out)["Personnummer"] == "19121212-1212"
    assert len(PdfReader(io.BytesIO(out)).pages) == 1


@pytest.mark.parametrize("text, message", [
    ("pdf: fk.pdf\nfields:\n  individ_namn: Namnfält\n",
     'PDF-blanketten har inget fält "Namnfält"'),
    ("pdf: fk.pdf\nfields:\n  finns_inte: Personnummer\n",
     'fältet "finns_inte" finns inte i blanketten fk_ansokan_samordning'),
    ("pdf: fk.pdf\nfields: {}\n", 'ska innehålla "fields:"'),
    ("pdf: fk.pdf\nfelt: 1\nfields:\n  individ_namn: Personnummer\n", "okänd nyckel 'felt'"),
    ("fields: [\n", "YAML-syntaxfel"),
    ("pdf: saknas.pdf\nfields:\n  individ_namn: Personnummer\n", "PDF-filen saknas.pdf finns inte"),
    ("pdf: ../fk.pdf\nfields:\n  individ_namn: Personnummer\n", "pdf ska vara ett filnamn"),
])
def test_mapping_errors_are_clear_swedish(instance, blankett, text, message):
    write_mapping(instance, text)
    with pytest.raises(OfficialPdfError, match=message.replace("(", r"\(")):
        official_pdf.find_official_pdf(instance, blankett)


def test_the_api_fills_the_organisations_official_pdf(instance, app_config, monkeypatch):
    """With instance/official_pdf/<id>.yaml in place, the API returns the official PDF, filled."""
    import yaml as _yaml

    from formservice import create_app
    from formservice.accounts import operations as accounts
    from formservice.accounts.api_tokens import create_token
    from formservice.accounts.models import Enhet, Organisation
    from tests.sample_values import sample_values

    write_mapping(instance, _yaml.safe_dump({"pdf": "fk.pdf", "fields": MAPPING}, allow_unicode=True))
    monkeypatch.setenv("FORMSERVICE_INSTANCE_PATH", str(instance))
    app = create_app(app_config)
    with app.app_context():
        from formservice import db

        dbs = db.session()
        org = Organisation(namn="Teststaden", typ="kommun")
        dbs.add(org)
        dbs.flush()
        enhet = Enhet(organisation_id=org.id, namn="Enheten")
        dbs.add(enhet)
        dbs.commit()
        user = accounts.create_user(username="api", password="långt-lösenord-1", role="socialsekreterare",
                                    enhet_id=enhet.id, namn="Api Användare")
        token = create_token(user, "test")
    blankett_def = app.extensions["catalogue"].blanketter["fk_ansokan_samordning"]
    values = dict(sample_values(blankett_def), **VALUES)
    res = app.test_client().post("/api/v1/blanketter/fk_ansokan_samordning/pdf", json=values,
                                 headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200, res.get_json()
    fields = packets.read_form_fields(res.data)
    assert fields["Fornamn och efternamn"] == "Tolvan Tolvansson"
    assert fields["Personnummer"] == "19121212-1212"
    assert fields["Kryssruta bilaga"] is True
    app.extensions["db_engine"].dispose()
