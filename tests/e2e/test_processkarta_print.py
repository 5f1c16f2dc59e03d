"""The drawn process map on paper, printed by Chromium as a reader's browser would: the overview on
one A3 landscape sheet, each party's lane on its own sheet. Paper has no hover and no link, so
every ruta's whole title must be on it, and a lane must use its sheet rather than a strip of it.
Set FORMSERVICE_KEEP_ARTIFACTS to a folder to keep the PDFs for looking at them."""
from __future__ import annotations

import os
import re
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from formservice.blanketter.catalogue import load_catalogue
from formservice.processkarta import layout

from .conftest import login, open_page

pytestmark = pytest.mark.e2e

PM = load_catalogue().process_map
MM_PER_PX = 25.4 / 96
MM_PER_PT = 25.4 / 72
# The printable box of a landscape sheet in mm (print-a3.css, print-a4.css: 6 mm margins).
PRINTABLE_MM = {"A3": (420 - 12, 297 - 12), "A4": (297 - 12, 210 - 12)}


@pytest.fixture(scope="module")
def print_page(browser, live_server):
    context, pg = open_page(browser)
    login(pg, live_server)
    yield pg
    context.close()


def _words(text: str) -> str:
    """Text for comparing: one space between words, breaks from wrapping (after "-" or "/") undone."""
    return " ".join(text.split()).replace("- ", "").replace("-", "").replace("/ ", "/")


def _print(page, url: str, keep_as: str) -> tuple[str, PdfReader, dict]:
    page.goto(url)
    page.emulate_media(media="print")
    paper = "A3" if page.locator("link[href*='print-a3.css']").count() else "A4"
    # The drawing printed: the visible one of the page's maps, laid out in a window the size of the
    # sheet's printable box (Chromium prints at 96 px to the inch).
    sheet_w, sheet_h = PRINTABLE_MM[paper]
    page.set_viewport_size({"width": round(sheet_w / MM_PER_PX), "height": round(sheet_h / MM_PER_PX)})
    box = page.evaluate("""() => {
        const svg = [...document.querySelectorAll('svg.karta')].find(s => s.getBoundingClientRect().width > 0);
        const r = svg.getBoundingClientRect();
        return {width: r.width, height: r.height, id: svg.id};
    }""")
    pdf = page.pdf(format=paper, landscape=True, print_background=True)
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    if os.environ.get("FORMSERVICE_KEEP_ARTIFACTS"):
        (Path(os.environ["FORMSERVICE_KEEP_ARTIFACTS"]) / keep_as).write_bytes(pdf)
    return paper, PdfReader(BytesIO(pdf)), box


def _assert_every_title_whole(reader: PdfReader, rutor) -> None:
    text = reader.pages[0].extract_text()
    assert "…" not in text, re.findall(r".{0,30}…", text)
    flat = _words(text)
    missing = [r.id for r in rutor if _words(r.title) not in flat]
    assert not missing, f"titles not whole on paper: {missing}"


def test_the_overview_prints_every_title_whole_on_one_a3_sheet(print_page, live_server):
    paper, reader, _box = _print(print_page, live_server + "/processkarta", "processkarta-a3.pdf")
    assert paper == "A3" and len(reader.pages) == 1
    _assert_every_title_whole(reader, PM.rutor.values())


@pytest.mark.parametrize("lane_id", [lane.id for lane in PM.lanes])
def test_a_lane_folded_for_paper_keeps_text_of_at_least_6_pt(lane_id):
    from formservice.web.processkarta import A4_WIDTH

    d = layout.draw(PM, (PM.lane(lane_id),), layout.LANE)
    # The drawing's box on the sheet (print-a3.css, print-a4.css); the page picks the paper by
    # the long drawing's width.
    box_w, box_h = (285, 170) if d.width <= A4_WIDTH else (408, 258)
    assert d.paper.style.font * min(box_w / d.paper.width, box_h / d.paper.height) / MM_PER_PT >= 6.0


@pytest.mark.parametrize("lane_id", [lane.id for lane in PM.lanes])
def test_a_lane_prints_whole_and_fills_its_sheet(print_page, live_server, lane_id):
    paper, reader, box = _print(print_page, live_server + f"/processkarta/bana/{lane_id}",
                                f"processkarta-{lane_id}.pdf")
    assert len(reader.pages) == 1
    _assert_every_title_whole(reader, PM.lane(lane_id).rutor)
    width, height = box["width"] * MM_PER_PX, box["height"] * MM_PER_PX
    sheet_w, sheet_h = PRINTABLE_MM[paper]
    assert width * height >= 0.5 * sheet_w * sheet_h, (paper, round(width), round(height))
