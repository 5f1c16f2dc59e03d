"""Reflow (WCAG 1.4.10) of every page a user can reach: signed in as each demo role (and signed
out), the test follows the same-origin links from the start page and checks at a 320 px wide
window that the page itself never scrolls sideways. A table or a drawing may scroll inside its own
region (.table-scroll, .tabell-ram, .karta-ram); the page may not. Pages are found by crawling,
not listed, so a new page is checked the day it is linked."""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urldefrag, urlsplit

import pytest

from ..conftest import AuthActions
from ..wizard_driver import INDIVID, create_arende
from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

WIDTH = 320
ROLES = [None, "soc.demo", "vard.demo", "admin.demo", "uppf.demo"]  # None: signed out
# Per role (a shared cap let the roles crawled first use it up, and the last role measured nothing
# when earlier tests had added ärenden); the demo data gives about 300 distinct pages in all.
MAX_PAGES_PER_ROLE = 200
# Same page, other data: an ärende list's 24 pages or an uppföljning's filters are one layout, so
# only a few of each query shape are opened (every path is opened at least once).
QUERY_VARIANTS = 3
# Files, not pages: every format of a document (/dokument/<id>.<format>: pdf, docx, arkiv, ifyllbar, zip…)
# and the like; opening one would lay a document's rest out just to be thrown away.
NOT_PAGES = re.compile(r"logga-ut|/api/|download|ladda-ner|/dokument/[^/]+\.\w+$|"
                       r"\.(pdf|docx|csv|zip|json|ifyllbar|arkiv|png|svg|ico)$", re.I)

# The page's width, and if too wide the element that sticks out furthest: the widest one that is
# not inside a region that scrolls (or clips) by itself, named by a short CSS path.
MEASURE = """() => {
  const vw = window.innerWidth, sw = document.documentElement.scrollWidth;
  if (sw <= vw) return {width: sw};
  const contained = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      [...el.classList].map(c => '.' + c).join('');
  let worst = null, right = vw;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > right + 0.5 && !contained(el)) { right = r.right; worst = el; }
  }
  const path = [];
  for (let e = worst; e && e !== document.body && path.length < 4; e = e.parentElement) path.unshift(name(e));
  return {width: sw, widest: worst ? path.join(' > ') + ' (' + Math.round(worst.getBoundingClientRect().width) +
    ' px wide, right edge at ' + Math.round(right) + ' px)' : 'unknown'};
}"""


@pytest.fixture(scope="module")
def sip_pages(live_app):
    """An ärende at the SIP ruta with a started SIP-kallelse: every page of its wizard (one of them
    has the "Inbjudna" rows table, 388 px wide at 320 px before it was fixed)."""
    client = live_app.test_client()
    AuthActions(client).login(username="soc.demo", password=DEMO_PASSWORD)
    pid = create_arende(client, dict(INDIVID, namn="Leila Reflowsdóttir-Andersson", personnummer="19000101-0008"),
                        ruta="soc1.14")
    first = client.get(f"/arenden/{pid}/blankett/sip_kallelse").headers["Location"]
    pages, html = [], {}
    number = int(first.rsplit("/", 1)[-1])
    while (res := client.get(f"/arenden/{pid}/blankett/sip_kallelse/sida/{number}")).status_code == 200:
        pages.append(f"/arenden/{pid}/blankett/sip_kallelse/sida/{number}")
        html[pages[-1]] = res.get_data(as_text=True)
        number += 1
    assert any("rows-table" in h and "Inbjudna" in h for h in html.values()), "no SIP page with the rows table"
    return pages


@pytest.fixture(scope="module")
def crawl_state():
    """Shared by the roles: what has been opened already, so a page common to all is opened once."""
    return {"seen": set(), "shapes": Counter(), "opened": 0}


def _shape(path_and_query: str) -> str:
    """The page's layout, roughly: path segments with digits stand for ids; a query by its keys."""
    parts = urlsplit(path_and_query)
    path = re.sub(r"/[^/]*\d[^/]*", "/#", parts.path)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return path + ("?" + "&".join(keys) if keys else "")


def _links(page, origin: str) -> list[str]:
    # getAttribute, not .href: an SVG link's href is an object (the map's rutor are SVG links).
    hrefs = page.evaluate("""() => [...document.querySelectorAll('a[href]')]
        .filter(a => !a.hasAttribute('download')).map(a => new URL(a.getAttribute('href'), document.baseURI).href)""")
    # A form sent with GET (the ärende list's filter, uppföljning's) is a link with fields: as it stands.
    hrefs += page.evaluate("""() => [...document.querySelectorAll('form')]
        .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'get' && f.getAttribute('action'))
        .map(f => { const u = new URL(f.getAttribute('action'), document.baseURI);
                    u.search = new URLSearchParams(new FormData(f)).toString(); return u.href; })""")
    found = []
    for href in hrefs:
        url = urldefrag(href)[0]
        if not url.startswith(origin + "/") or NOT_PAGES.search(urlsplit(url).path):
            continue
        found.append(url[len(origin):])
    return found


def _sign_in(page, base_url: str, username: str) -> None:
    """As conftest.login, but each role lands on its own start page (uppf.demo on /uppfoljning)."""
    page.goto(base_url + "/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(lambda url: "/logga-in" not in url)


@pytest.mark.parametrize("username", ROLES, ids=lambda u: u or "utloggad")
def test_no_page_scrolls_sideways_at_320px(browser, live_server, sip_pages, crawl_state, username):
    context = browser.new_context(bypass_csp=True, locale="sv-SE", viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen, shapes = crawl_state["seen"], crawl_state["shapes"]
    own_shapes: set[str] = set()
    measured: dict[str, int] = {}
    too_wide: list[str] = []
    try:
        if username:
            _sign_in(page, live_server, username)
        # The map's text alternative and the SIP wizard: named in the issue, so always opened.
        queue = ["/", "/processkarta/lista", *(sip_pages if username == "soc.demo" else [])]
        while queue and len(measured) < MAX_PAGES_PER_ROLE:
            url = queue.pop(0)
            shape = _shape(url)
            # Opened before by another role: once more per shape for this role (its own header and
            # rights), not for every id. Query variants: a few per shape.
            if url in measured or (url in seen and shape in own_shapes) or (
                    "?" in url and shapes[shape] >= QUERY_VARIANTS and url not in seen):
                continue
            try:
                response = page.goto(live_server + url, wait_until="load")
            except Exception as exc:  # a file sent for download is not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            landed = page.url[len(live_server):] if page.url.startswith(live_server) else url
            if urlsplit(landed).path.startswith("/logga-in") and username:
                continue  # a link that signs out (or a session that ended): not this role's page
            seen.add(url)
            shapes[shape] += 1
            own_shapes.add(shape)
            crawl_state["opened"] += 1
            result = page.evaluate(MEASURE)
            measured[url] = result["width"]
            if result["width"] > WIDTH:
                too_wide.append(f"{url}: {result['width']} px; widest: {result['widest']}")
            queue += [link for link in _links(page, live_server) if link not in measured and link not in queue]
    finally:
        context.close()
    assert "/processkarta/lista" in measured
    if username == "soc.demo":
        assert set(sip_pages) <= set(measured)
    if username:
        assert len(measured) > 10, f"the crawl as {username} found only {sorted(measured)}"
    assert not too_wide, (f"{len(too_wide)} of {len(measured)} pages scroll sideways at {WIDTH} px "
                          f"(as {username or 'utloggad'}):\n" + "\n".join(too_wide))
