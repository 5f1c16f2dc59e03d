import os
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e

A3_LANDSCAPE_PT = (1190.55, 841.89)
A4_LANDSCAPE_PT = (841.89, 595.28)


def _keep(name: str, data: bytes) -> None:
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):  # for looking at the result by eye
        (Path(os.environ["FORMSERVICE_KEEP_ARTIFACTS"]) / name).write_bytes(data)


def _print(page, keep_as: str | None = None) -> PdfReader:
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    if keep_as:
        _keep(keep_as, pdf)
    return PdfReader(BytesIO(pdf))


def _size(reader: PdfReader) -> tuple[float, float]:
    box = reader.pages[0].mediabox
    return float(box.width), float(box.height)


def test_the_drawn_map_fits_1280x800_and_every_ruta_is_a_keyboard_link(page, live_server):
    login(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/processkarta")
    assert page.get_by_role("heading", level=1).inner_text() == "Processkartan – Stockholmsmodellen"
    svg = page.locator("svg#karta-alla")
    box = svg.bounding_box()
    # The whole map is on screen at first: no scrolling, neither in the page nor in its frame.
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 800, box
    _keep("processkarta-1280x800.png", page.screenshot())
    assert_accessible(page)
    # Tab from the frame into the drawing: the first link is ruta 1a, in reading order.
    page.locator(".karta-ram").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused.startswith("Ruta 1a: Individ som saknar sjukpenninggrundande inkomst")
    page.get_by_role("link", name="Ruta 5: Finns läkarintyg? (beslut, ja eller nej)").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/processkarta/soc1.5")
    assert_accessible(page)


def test_zoom_buttons_enlarge_and_fit_the_map(page, live_server):
    login(page, live_server)
    page.goto(live_server + "/processkarta")
    svg = page.locator("svg#karta-alla")
    before = svg.bounding_box()["width"]
    page.get_by_role("button", name="Förstora").click()
    assert svg.bounding_box()["width"] > before * 1.3
    page.get_by_role("button", name="Hela kartan").click()
    assert abs(svg.bounding_box()["width"] - before) < 2


def test_the_map_prints_on_one_a3_landscape_sheet(page, live_server):
    login(page, live_server)
    page.goto(live_server + "/processkarta")
    reader = _print(page, "processkarta-a3.pdf")
    assert len(reader.pages) == 1
    width, height = _size(reader)
    assert abs(width - A3_LANDSCAPE_PT[0]) < 2 and abs(height - A3_LANDSCAPE_PT[1]) < 2
    text = " ".join(reader.pages[0].extract_text().split())
    for words in ("Socialtjänsten", "Försäkringskassan", "Arbetsförmedlingen", "Jobbtorg", "Finsamteam",
                  "Kartläggning", "Förändringsplan", "Start eller slut"):
        assert words in text


@pytest.mark.parametrize("lane_id, sheet", [("fk", A4_LANDSCAPE_PT), ("soc1", A3_LANDSCAPE_PT)])
def test_a_party_page_prints_on_one_sheet(page, live_server, lane_id, sheet):
    login(page, live_server)
    page.goto(live_server + f"/processkarta/bana/{lane_id}")
    assert_accessible(page)
    reader = _print(page, f"processkarta-{lane_id}.pdf")
    assert len(reader.pages) == 1
    width, height = _size(reader)
    assert abs(width - sheet[0]) < 2 and abs(height - sheet[1]) < 2


def test_the_public_map_for_an_anonymous_browser(page, live_app, live_server):
    live_app.config["PUBLIC_PROCESSKARTA"] = True
    try:
        for url in ("/processkarta", "/processkarta/bana/hsv", "/processkarta/hsv.4", "/processkarta/lista"):
            page.goto(live_server + url)
            assert page.url == live_server + url  # not sent to the login page
            assert page.get_by_role("link", name="Logga in").count() or "Logga ut" not in page.content()
            assert_accessible(page)
        page.goto(live_server + "/arenden")
        assert "/logga-in" in page.url
    finally:
        live_app.config["PUBLIC_PROCESSKARTA"] = False


def test_an_arende_shows_its_way_on_the_map(page, live_app, live_server):
    login(page, live_server)
    page.goto(live_server + "/arenden")
    page.locator("table a[href^='/arenden/']").first.click()
    section = page.locator("section.arende-vag")
    assert section.locator(".is-current").count() == 1
    assert_accessible(page)
    _keep("arende-vag.png", section.screenshot())


def test_the_admin_page_for_the_process_map(page, live_server):
    login(page, live_server, "admin.demo")
    page.goto(live_server + "/admin/processkarta")
    assert page.get_by_role("heading", level=1).inner_text() == "Processkartan"
    assert "Filerna är desamma som kartan i bruk" in page.content()
    assert_accessible(page)
