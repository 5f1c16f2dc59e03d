"""Issue 30 in the browser: the wizard page that asks for the individ's language, for every blankett
that has the question (sekretessmedgivandet through the förfrågan, the Finsamteam samtycke through
the anmälan, the SIP-kallelse and the förändringsplan), has no axe violation, and the choice offers
every language with its own name (lättläst svenska by its Swedish name)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from formservice.blanketter import sprak, wizard

from ..wizard_driver import ruta_with_blankett
from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e

QUESTION = "Språk för en översättning till individen"


def _page_with_question(catalogue, blankett_id: str) -> int:
    """The number of the wizard page that asks for the language (the blankett's own or a bilaga's)."""
    from formservice.rendering import documents

    parts = documents.parts_of(catalogue, blankett_id)
    return next(p.number for p in wizard.pages(parts) if any(f.name == sprak.FIELD for f in p.fields))


@pytest.mark.parametrize("blankett_id", ["rehabiliteringsforfragan", "finsamteam_anmalan", "sip_kallelse",
                                         "forandringsplan"])
def test_the_language_question_is_accessible_in_every_blankett_that_asks_it(page, live_server, live_app,
                                                                           make_arende, blankett_id):
    client, pid = make_arende()
    lane = next(lane.id for lane in live_app.extensions["catalogue"].process_map.lanes
                if any(blankett_id in r.blankett_ids for r in lane.rutor))
    ruta = ruta_with_blankett(client, blankett_id, lane=lane)
    number = _page_with_question(live_app.extensions["catalogue"], blankett_id)
    login(page, live_server)
    page.goto(f"{live_server}/arenden/{pid}/blankett/{blankett_id}/sida/{number}")
    choice = page.get_by_role("group", name=QUESTION)
    expect(choice).to_be_visible()
    for messages in sprak.catalogues().values():
        radio = choice.get_by_role("radio", name=messages.language.own_name)
        expect(radio).to_have_count(1)
    choice.get_by_role("radio", name="Arabiska").check()  # a choice made: still nothing for axe
    assert ruta  # the blankett is offered on the map (the page is reachable from a ruta)
    assert_accessible(page)
