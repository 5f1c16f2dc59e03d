"""An organisation's logo: uploaded by its admin, checked and re-encoded, shown in the header of its
own users' pages and at the top of its own blanketter (PDF and DOCX) – never another organisation's,
never on another authority's form."""
from __future__ import annotations

import io
import re
import zipfile

import pikepdf
import pytest

from .conftest import AuthActions, csrf_token
from .wizard_driver import create_arende, fill_blankett, ruta_with_blankett, walk


def _png(width=300, height=100) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(image).rectangle((0, 0, width // 2, height - 1), fill=(0, 90, 160, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def admin(app, make_user):
    make_user(username="adm", role="admin", namn="Adam Admin")
    client = app.test_client()
    AuthActions(client).login(username="adm")
    return client


def _upload(client, data: bytes, name="logo.png"):
    token = csrf_token(client.get("/admin/organisation").get_data(as_text=True))
    return client.post("/admin/organisation/logotyp", data={"csrf_token": token, "action": "spara",
                                                            "logotyp": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _images_on_first_page(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        found = 0
        stack = [doc.pages[0].Resources]
        while stack:
            resources = stack.pop()
            for _name, xobject in (resources.get("/XObject") or {}).items():
                if xobject.get("/Subtype") == "/Image":
                    found += 1
                elif "/Resources" in xobject:
                    stack.append(xobject.Resources)
        return found


def test_the_logo_is_the_organisations_own_in_pages_and_blanketter(app, admin, soc, make_user, make_enhet):
    refused = _upload(admin, b"%PDF-1.7 not an image", "logo.pdf")
    assert refused.status_code == 400 and "kunde inte läsas som en bild" in refused.get_data(as_text=True)
    assert admin.get("/organisation/logotyp.png").status_code == 404

    assert _upload(admin, _png()).status_code == 302
    stored = admin.get("/organisation/logotyp.png")
    assert stored.status_code == 200 and stored.mimetype == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(stored.data)).size == (240, 80)  # re-encoded, 80 px high
    assert re.search(r'<img class="site-header__logo" src="/organisation/logotyp.png\?v=\d+"', soc.get("/").get_data(as_text=True))

    # Another organisation's user sees no logo, and cannot fetch this one.
    make_user(username="hud", enhet_id=make_enhet(namn="Huddinge – Försörjningsstöd", organisation="Huddinge kommun"))
    other = app.test_client()
    AuthActions(other).login(username="hud")
    assert "site-header__logo" not in other.get("/").get_data(as_text=True)
    assert other.get("/organisation/logotyp.png").status_code == 404

    # The organisation's own blankett carries it (PDF: an image in the header, an artifact; DOCX: in
    # the header part); Försäkringskassan's ansökan does not, nor another organisation's förändringsplan.
    cat = app.extensions["catalogue"]
    pid = create_arende(soc)
    walk(soc, pid, ruta_with_blankett(soc, "forandringsplan"))
    plan = fill_blankett(soc, pid, "forandringsplan", cat)
    assert _images_on_first_page(plan["pdf"]) >= 1
    docx = soc.get(plan["pdf_url"].replace(".pdf", ".docx")).data
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        assert any(n.startswith("word/media/") for n in z.namelist())
        headers = [z.read(n).decode() for n in z.namelist() if re.fullmatch(r"word/header\d*\.xml", n)]
        assert any("<w:drawing>" in h for h in headers)
    ansokan = fill_blankett(soc, pid, "fk_ansokan_samordning", cat)
    assert _images_on_first_page(ansokan["pdf"]) == 0
    hud_pid = create_arende(other)
    walk(other, hud_pid, ruta_with_blankett(other, "forandringsplan"))
    assert _images_on_first_page(fill_blankett(other, hud_pid, "forandringsplan", cat)["pdf"]) == 0

    # Removed: gone from the header and from the next document.
    token = csrf_token(admin.get("/admin/organisation").get_data(as_text=True))
    assert admin.post("/admin/organisation/logotyp", data={"csrf_token": token, "action": "ta_bort"}).status_code == 302
    assert "site-header__logo" not in soc.get("/").get_data(as_text=True)
    assert soc.get("/organisation/logotyp.png").status_code == 404


@pytest.mark.parametrize("data, message", [
    (b"", "Välj en bildfil"),
    (b"GIF89a" + b"\0" * 100, "kunde inte läsas"),
    (_png(5, 5), "orimliga mått"),
])
def test_a_bad_logo_gets_a_swedish_message_and_changes_nothing(admin, data, message):
    res = _upload(admin, data)
    assert res.status_code == 400 and message in res.get_data(as_text=True)
    assert admin.get("/organisation/logotyp.png").status_code == 404


def test_the_print_fetcher_takes_only_a_png_as_inline_logo():
    from weasyprint.urls import URLFetchingError

    from formservice.rendering.pdf import LOGO_PREFIX, RestrictedURLFetcher

    fetcher = RestrictedURLFetcher()
    assert fetcher.fetch(LOGO_PREFIX + __import__("base64").b64encode(_png()).decode()).headers["Content-Type"] == "image/png"
    for url in ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", LOGO_PREFIX + "bm90IGEgcG5n", LOGO_PREFIX + "!!!"):
        with pytest.raises(URLFetchingError):
            fetcher.fetch(url)
