import os
from pathlib import Path

import pytest

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_processkarta_pages_are_accessible(page, live_server):
    login(page, live_server)
    page.goto(live_server + "/processkarta")
    assert page.get_by_role("heading", level=1).inner_text() == "Processkartan – Stockholmsmodellen"
    assert page.locator("section.lane").count() == 8
    assert_accessible(page)
    page.get_by_role("link", name="Ruta 5 Finns läkarintyg?").first.click()
    assert page.url.endswith("/processkarta/soc1.5")
    assert_accessible(page)
    page.get_by_role("link", name="Ruta 7").first.click()
    assert page.url.endswith("/processkarta/soc1.7")
    page.goto(live_server + "/processkarta/soc1.14")
    assert_accessible(page)


def test_processkarta_prints_on_a3_landscape(page, live_server, tmp_path):
    login(page, live_server)
    page.goto(live_server + "/processkarta")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True)
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the print by eye
        (Path(os.environ["FORMSERVICE_KEEP_ARTIFACTS"]) / "processkarta-a3.pdf").write_bytes(pdf)
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf))
    box = reader.pages[0].mediabox
    # A3 landscape is 420 × 297 mm = 1190.6 × 841.9 pt.
    assert abs(float(box.width) - 1190.55) < 2 and abs(float(box.height) - 841.89) < 2
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for lane in ("Socialtjänsten", "Hälso-", "Försäkringskassan", "Arbetsförmedlingen", "Jobbtorg", "Finsamteam"):
        assert lane in text
    assert "Ruta 1a" in text and "Ruta 17" in text
    assert len(reader.pages) <= 3, "the overview should fit on a few A3 sheets"
