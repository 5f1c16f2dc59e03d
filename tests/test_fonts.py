"""Characters the printed documents cannot draw (formservice/rendering/fonts.py): found from the print
fonts' own cmaps, refused with a Swedish message naming the character at every input – the wizard,
the individ's details, the API – and what was typed stays in the form."""
from __future__ import annotations

import html
import io
import re

import pikepdf
import pytest

from formservice.rendering import fonts, pdf

from .formparse import form_with
from .wizard_driver import INDIVID, create_arende

EMOJI, CJK = "😀", "李"
SWEDISH = "Åsa Öberg-Ångström – ½ € “citat” ’s 12 %, §3 ±1 °C ł Ø ß Ω é ü"


def embedded_fonts(data: bytes) -> set[str]:
    with pikepdf.open(io.BytesIO(data)) as doc:
        return {str(font.BaseFont).split("+", 1)[-1] for page in doc.pages
                for font in page.Resources.get("/Font", {}).values()}


def test_what_a_person_writes_in_swedish_is_printable():
    assert fonts.unprintable(SWEDISH + "\n\t rad två") == []


def test_emoji_and_cjk_are_not_and_invisible_joiners_are_not_named():
    assert fonts.unprintable(f"Li {CJK} {EMOJI}\u200d{EMOJI}\ufe0f {CJK}") == sorted([CJK, EMOJI])
    assert fonts.message([EMOJI]) == f"tecknet ”{EMOJI}” kan inte skrivas ut på blanketten. Skriv texten utan det."
    assert fonts.message([CJK, EMOJI]).startswith(f"tecknen ”{CJK}” och ”{EMOJI}” kan inte")
    many = fonts.message([chr(0x4E00 + n) for n in range(8)])
    assert "med flera (8 tecken)" in many and many.endswith("Skriv texten utan dem.")


def test_the_check_agrees_with_what_the_print_draws(caplog):
    """What the check lets through is drawn by the print's own font alone; what it refuses is drawn
    as an empty box (WeasyPrint's ".notdef glyph"), or in whatever font the machine falls back to."""
    printable = pdf.html_to_pdf(f'<html lang="sv"><body><p>{SWEDISH}</p></body></html>')
    assert embedded_fonts(printable) == {"Formservice-Sans"} and ".notdef" not in caplog.text
    pdf.html_to_pdf(f'<html lang="sv"><body><p>Li {CJK}</p></body></html>')
    assert f'.notdef glyph rendered for Unicode string unsupported by fonts: "{CJK}"' in caplog.text
    assert ord("Å") in fonts.printable_codepoints() and ord(CJK) not in fonts.printable_codepoints()


def test_errors_name_the_field_and_the_row():
    labels = {"namn": "Namn", "steg": "Steg", "steg.vad": "Vad börjar du med?"}
    errors = fonts.unprintable_errors({"namn": f"Li {CJK}", "steg": [{"vad": "ok"}, {"vad": EMOJI}],
                                       "steg.3.vad": EMOJI, "annat": EMOJI, "csrf_token": "x"}, labels)
    assert errors == {
        "namn": f"Namn: tecknet ”{CJK}” kan inte skrivas ut på blanketten. Skriv texten utan det.",
        "steg.2.vad": f"Steg, rad 2, Vad börjar du med?: tecknet ”{EMOJI}” kan inte skrivas ut på blanketten. "
                      "Skriv texten utan det.",
        "steg.3.vad": f"Steg, rad 3, Vad börjar du med?: tecknet ”{EMOJI}” kan inte skrivas ut på blanketten. "
                      "Skriv texten utan det.",
    }


# ------------------------------------------------------------------------------ the inputs


@pytest.fixture
def token(app, runner, make_user):
    from formservice.cli import main

    make_user(username="api.user")
    return runner.invoke(main, args=["create-token", "--username", "api.user", "--name", "test"]).output.strip()


def test_the_api_refuses_an_unprintable_value(app, client, token):
    from .sample_values import sample_values

    values = sample_values(app.extensions["catalogue"].blanketter["forandringsplan"])
    values["individ_namn"] = f"Li {CJK}"
    values["steg"] = [{"vad": f"Ring {EMOJI}", "nar": "maj"}]
    res = client.post("/api/v1/blanketter/forandringsplan/docx", json=values,
                      headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 422
    errors = res.get_json()["errors"]
    assert errors["individ_namn"] == f"Namn: tecknet ”{CJK}” kan inte skrivas ut på blanketten. Skriv texten utan det."
    assert f"”{EMOJI}”" in errors["steg.1.vad"]


def test_the_wizard_says_so_and_keeps_what_was_typed(soc):
    pid = create_arende(soc, ruta="soc1.9")
    url = soc.get(f"/arenden/{pid}/blankett/rehabiliteringsforfragan").headers["Location"]
    form = form_with(soc.get(url).get_data(as_text=True), "version")
    data = {name: value or "" for name, value in form["fields"].items()}
    data["handlaggare_namn"] = f"Tolvan {EMOJI} Tolvansson"
    res = soc.post(url, data=dict(data, action="next"))
    page = res.get_data(as_text=True)
    assert res.status_code == 400
    assert f"tecknet ”{EMOJI}” kan inte skrivas ut på blanketten. Skriv texten utan det." in html.unescape(page)
    assert f"Tolvan {EMOJI} Tolvansson" in html.unescape(page)  # still in the form


def test_the_individs_details_say_so_and_keep_what_was_typed(soc):
    page = soc.get("/arenden/nytt").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    res = soc.post("/arenden/nytt", data=dict(INDIVID, namn=f"Tilda {CJK}", ruta="soc1.1a", csrf_token=token))
    page = html.unescape(res.get_data(as_text=True))
    assert res.status_code == 400
    assert f"Namn: tecknet ”{CJK}” kan inte skrivas ut på blanketten. Skriv texten utan det." in page
    assert f'value="Tilda {CJK}"' in page
