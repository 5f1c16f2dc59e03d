"""The caseworker's journey in the real browser: a new ärende, decisions on the process map, the
rehabiliteringsförfrågan wizard and the downloaded PDF, with axe-core on every page visited.
Also: one decision made with the keyboard only, and another enhet's user meeting a 404."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..wizard_driver import way
from .conftest import DEMO_PASSWORD, assert_accessible, login

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("FORMSERVICE_KEEP_ARTIFACTS")  # a folder: full-page screenshots to look at by eye
SARA = "Sara Socialsekreterare"
TOLVAN = "Tolvan Tolvansson"


def luhn_digit(nine: str) -> str:
    """The personnummer check digit for the nine digits ÅÅMMDDNNN."""
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


# A fictitious person: born 1938-04-04, serial 998, check digit computed (Luhn).
SIGNE_PNR = "19380404-998" + luhn_digit("380404998")
SIGNE = "Signe Provperson"


def check(page, name: str) -> None:
    """axe-core with zero violations, and a screenshot when FORMSERVICE_KEEP_ARTIFACTS is set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
    assert_accessible(page)


def h1(page):
    return page.get_by_role("heading", level=1)


def decide(page, label, expect_heading: str) -> None:
    """On a step page: click the radio's label (a text or a pattern), save, and land on the next ruta."""
    page.locator("label", has_text=label).click()
    name = label if isinstance(label, re.Pattern) else re.compile(re.escape(label))
    expect(page.get_by_role("radio", name=name)).to_be_checked()
    page.get_by_role("button", name="Spara beslutet och gå vidare").click()
    expect(h1(page)).to_have_text(expect_heading)


def sample_for(control: dict) -> str:
    kind, label = control["type"], control["label"]
    if kind == "date":
        return "2026-11-23"
    if kind == "time":
        return "13:30"
    if kind == "number":
        return "50"
    if kind == "tel":
        return "08-123 456 78"
    if kind == "email":
        return "provsvar@example.se"
    if control["inputmode"] == "numeric":
        return SIGNE_PNR
    text = "Provsvar " + re.sub(r"\s*\(frivilligt\)$", "", label).lower()
    return text[: control["maxlength"]] if control["maxlength"] > 0 else text


CONTROLS_JS = """() => [...document.querySelectorAll('main form[method=post] :is(input, textarea, select)')]
  .filter(el => el.type !== 'hidden')
  .map(el => ({id: el.id, name: el.name, value: el.value, checked: el.checked,
               // a date is a text field with its format hint (issue 25)
               type: document.getElementById(`${el.id}-format`) ? 'date' : el.type,
               inputmode: el.inputMode, maxlength: el.maxLength,
               label: (document.querySelector(`label[for="${el.id}"]`) || {}).innerText || ''}))"""


def fill_empty_fields(page) -> list[str]:
    """Type into every empty field of the wizard page, finding each by its label. Returns the labels."""
    typed = []
    radio_groups_done = set()
    for control in page.evaluate(CONTROLS_JS):
        label = " ".join(control["label"].split())
        assert label, f"a control without a label: {control}"
        if control["type"] == "radio":
            if control["name"] in radio_groups_done:
                continue
            radio_groups_done.add(control["name"])
            if not page.locator(f'input[name="{control["name"]}"]:checked').count():
                page.get_by_text(label, exact=True).click()
                typed.append(label)
            continue
        field = page.get_by_label(label, exact=True)
        if control["type"] == "checkbox":
            if not control["checked"]:
                field.check()
                typed.append(label)
        elif not control["value"]:
            field.fill(sample_for(control))
            typed.append(label)
    return typed


def test_journey_to_a_downloaded_rehabiliteringsforfragan(page, live_server, live_app, tmp_path):
    login(page, live_server)
    check(page, "01-start")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    expect(h1(page)).to_have_text("Ärenden")
    check(page, "02-arenden")

    # A new ärende: first sent empty, to see the errors.
    page.get_by_role("link", name="Nytt ärende").click()
    expect(h1(page)).to_have_text("Nytt ärende")
    check(page, "03-nytt")
    page.get_by_role("button", name="Skapa ärendet").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Fyll i namn.")
    assert page.title().startswith("Fel: ")
    check(page, "04-nytt-fel")
    summary.get_by_role("link", name="Fyll i namn.").click()
    assert page.evaluate("document.activeElement.id") == "f-namn"
    page.get_by_label("Namn", exact=True).fill(SIGNE)
    page.get_by_label("Personnummer eller samordningsnummer").fill(SIGNE_PNR.replace("-", ""))
    page.get_by_label("Utdelningsadress (frivilligt)").fill("Provgatan 3")
    page.get_by_label("Postnummer (frivilligt)").fill("12345")
    page.get_by_label("Ort (frivilligt)").fill("Skärholmen")
    page.get_by_text("Ruta 1b: Individ utan sjukpenninggrundande inkomst").click()
    expect(page.get_by_role("radio", name=re.compile("Ruta 1b: "))).to_be_checked()
    page.get_by_role("button", name="Skapa ärendet").click()

    # The overview.
    expect(h1(page)).to_have_text("Översikt")
    expect(page.get_by_role("status").filter(has_text="Ärendet är skapat.")).to_be_visible()
    expect(page.locator(".arende-header")).to_contain_text(SIGNE_PNR)
    check(page, "05-oversikt")

    # Var står ärendet? (looked at, not changed)
    page.get_by_role("navigation", name="Ärendet").get_by_role("link", name="Var står ärendet?").click()
    expect(h1(page)).to_have_text("Var står ärendet?")
    check(page, "06-var")

    # Decisions, each by clicking a label on the step page.
    page.get_by_role("navigation", name="Ärendet").get_by_role("link", name="Nuvarande steg").click()
    expect(h1(page)).to_have_text(re.compile("^Ruta 1b: "))
    check(page, "07-ruta1b")
    # Along the map the suite runs with (the shipped one: Ruta 3, 4, 5, Ja → 7, 8, Nej → 9; a förbund's
    # edited map takes its own way) to the ruta that offers the förfrågan.
    pm = live_app.extensions["catalogue"].process_map
    target = next(r.id for r in pm.lane("soc1").rutor if "rehabiliteringsforfragan" in r.blankett_ids)
    for n, ruta_id in enumerate(way(pm, "soc1.1b", target)):
        ruta = pm.ruta(ruta_id)
        label = r"\s+".join(map(re.escape, ruta.label.split()))  # the page may break or pad the spaces
        decide(page, re.compile(rf"(Nästa steg:|vidare till)\s+{label}(?!\w)"), f"{ruta.label}: {ruta.title}")
        check(page, f"{8 + n:02d}-{ruta_id}")

    # The wizard: every empty field is typed, page by page, until Granska.
    page.get_by_role("link", name="Fyll i Rehabiliteringsförfrågan").click()
    wizard_pages, typed = [], []
    while "/sida/" in page.url:
        heading = h1(page).inner_text()
        assert heading not in wizard_pages, f"the wizard came back to {heading}"
        wizard_pages.append(heading)
        check(page, f"13-sida-{len(wizard_pages)}")
        if len(wizard_pages) == 1:
            # An error state: a required, prefilled field emptied, then put back.
            label = next(" ".join(c["label"].split()) for c in page.evaluate(CONTROLS_JS)
                         if c["type"] in ("text", "textarea") and c["value"] and "(frivilligt)" not in c["label"])
            required = page.get_by_label(label, exact=True)
            kept = required.input_value()
            required.fill("")
            page.get_by_role("button", name="Spara och fortsätt").click()
            expect(page.get_by_role("alert")).to_contain_text("Det finns fel i formuläret")
            assert page.title().startswith("Fel: ")
            check(page, "14-sida-fel")
            expect(required).to_have_attribute("aria-invalid", "true")
            required.fill(kept)
        typed += fill_empty_fields(page)
        before = page.url
        page.get_by_role("button", name="Spara och fortsätt").click()
        page.wait_for_url(lambda url: url != before)
    assert wizard_pages and typed
    # Nobody types what the ärende and the account already know.
    assert not {"Namn", "Personnummer", "Telefon"} & set(typed), typed

    # Granska shows what came from the ärende without anyone typing it.
    expect(h1(page)).to_have_text("Granska innan dokumentet tas fram")
    main = page.get_by_role("main")
    expect(main).to_contain_text(SIGNE)
    expect(main).to_contain_text(SIGNE_PNR)
    expect(main).to_contain_text(SARA)
    check(page, "15-granska")
    page.get_by_role("button", name="Ta fram PDF och DOCX").click()

    # Done: the PDF downloads and carries the name, personnummer and the caseworker.
    expect(h1(page)).to_have_text("Rehabiliteringsförfrågan är klar")
    check(page, "16-klar")
    with page.expect_download() as info:
        page.get_by_role("link", name="Hämta PDF för utskrift").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf_path = tmp_path / "forfragan.pdf"
    download.save_as(pdf_path)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert SIGNE in text
    assert SIGNE_PNR in text
    assert SARA in text

    # The administrator's log records the work, and is accessible too.
    page.get_by_role("button", name="Logga ut").click()
    login(page, live_server, "admin.demo", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Administration").click()
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Granskningslogg").click()
    expect(h1(page)).to_have_text("Granskningslogg")
    expect(page.get_by_role("table")).to_contain_text("arende")
    check(page, "17-granskningslogg")


FOCUSED_JS = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', checked: !!el.checked,
          text: (el.innerText || el.value || '').trim().replace(/\\s+/g, ' '),
          role: el.getAttribute('role') || '',
          visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED_JS)


def tab_to(page, wanted, *, key: str = "Tab", limit: int = 60) -> dict:
    """Press Tab (or Shift+Tab) until `wanted(focused)` holds; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        f = focused(page)
        assert f["tag"] == "body" or f["visible"], f"focus is not visible on {f}"
        if wanted(f):
            return f
    raise AssertionError(f"never reached the wanted element with {key}; last: {focused(page)}")


def press_enter_on(page, text: str, heading) -> None:
    tab_to(page, lambda f: f["text"] == text)
    page.keyboard.press("Enter")
    expect(h1(page)).to_have_text(heading)


def test_a_decision_with_the_keyboard_only(page, live_server, live_app):
    login(page, live_server)
    expect(h1(page)).to_have_text(f"Välkommen, {SARA}")
    press_enter_on(page, "Ärenden", "Ärenden")
    press_enter_on(page, TOLVAN, "Översikt")
    press_enter_on(page, "Fortsätt i processen", re.compile("^Ruta "))
    save = "Spara beslutet och gå vidare"

    # The demo ärende starts in Ruta 1b; a step with one way out has that way already chosen. The way
    # to the decision "Finns läkarintyg?" is the map's (Ruta 3, 4, 5 on the shipped map).
    expect(h1(page)).to_have_text(re.compile("^Ruta 1b: "))
    pm = live_app.extensions["catalogue"].process_map
    decision = next(r.id for r in pm.lane("soc1").rutor if r.title == "Finns läkarintyg?")
    for ruta_id in way(pm, "soc1.1b", decision):
        press_enter_on(page, save, f"{pm.ruta(ruta_id).label}: {pm.ruta(ruta_id).title}")

    # Saving without choosing Ja or Nej: the error summary is announced and takes the focus.
    tab_to(page, lambda f: f["text"] == save)
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Finns läkarintyg? Välj Ja eller Nej.")
    expect(summary).to_be_focused()
    assert focused(page)["visible"]
    expect(page.get_by_role("group", name="Finns läkarintyg?")).to_have_accessible_description(
        re.compile("Välj Ja eller Nej"))

    # From the summary's link to the first radio, then the arrow keys choose.
    link = tab_to(page, lambda f: f["tag"] == "a")
    assert link["text"] == "Finns läkarintyg? Välj Ja eller Nej."
    page.keyboard.press("Enter")
    f = focused(page)
    assert (f["id"], f["type"]) == ("val-0", "radio") and f["visible"], f
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "val-1" and focused(page)["checked"]
    page.keyboard.press("ArrowUp")
    f = focused(page)
    assert f["id"] == "val-0" and f["checked"] and f["visible"], f
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    # Shift+Tab back from the note to the chosen radio, then on to the button.
    tab_to(page, lambda f: f["tag"] == "textarea")
    tab_to(page, lambda f: f["type"] == "radio", key="Shift+Tab")
    ja = next(e.target for e in pm.targets(decision) if e.kind == "yes")
    press_enter_on(page, save, f"{pm.ruta(ja).label}: {pm.ruta(ja).title}")
    expect(page.get_by_role("status").filter(has_text=f"Ärendet står nu i {pm.ruta(ja).label}")).to_be_visible()


def test_another_enhet_gets_the_swedish_404(page, live_server):
    login(page, live_server)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    arende_url = page.get_by_role("link", name=TOLVAN).get_attribute("href")
    page.get_by_role("button", name="Logga ut").click()

    login(page, live_server, "soc2.demo")
    for path in (arende_url, arende_url + "/steg", arende_url + "/var",
                 arende_url + "/blankett/rehabiliteringsforfragan"):
        response = page.goto(live_server + path)
        assert response.status == 404, path
        expect(h1(page)).to_have_text("Sidan finns inte")
        assert page.title() == "Sidan finns inte – formservice"
        expect(page.get_by_role("main")).not_to_contain_text(TOLVAN)
    check(page, "20-404")
    page.get_by_role("link", name="Till startsidan").click()
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    expect(page.get_by_role("main")).not_to_contain_text(TOLVAN)
