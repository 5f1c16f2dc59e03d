"""The whole Soc 1 journey through the wizard, producing all five blanketter for one ärende."""
import pytest

from .wizard_driver import INDIVID, create_arende, fill_blankett, place, ruta_with_blankett, step, walk

FIVE = ["forandringsplan", "rehabiliteringsforfragan", "finsamteam_anmalan", "sip_kallelse",
        "fk_ansokan_samordning"]


@pytest.fixture
def soc(client, auth, make_user):
    make_user(username="sara", namn="Sara Handläggare", titel="Socialsekreterare", telefon="08-111 222 33",
              epost="sara@example.se")
    auth.login(username="sara")
    return client


@pytest.mark.db
def test_soc1_journey_produces_all_five_blanketter(soc, app):
    cat = app.extensions["catalogue"]
    pid = create_arende(soc)
    results = {}
    walk(soc, pid, ruta_with_blankett(soc, "forandringsplan"))  # by way of "Finns läkarintyg?" if the map asks first
    results["forandringsplan"] = fill_blankett(soc, pid, "forandringsplan", cat)
    walk(soc, pid, "soc1.7")  # Finns läkarintyg? Ja (before or after the förändringsplan)
    step(soc, pid, "soc1.8")
    step(soc, pid, "soc1.9")  # Nej: intyget är inte komplett
    results["rehabiliteringsforfragan"] = fill_blankett(soc, pid, "rehabiliteringsforfragan", cat)
    step(soc, pid, "soc1.10")
    step(soc, pid, "soc1.11")
    step(soc, pid, "soc1.13")
    results["finsamteam_anmalan"] = fill_blankett(soc, pid, "finsamteam_anmalan", cat)
    place(soc, pid, "soc1.14")
    results["sip_kallelse"] = fill_blankett(soc, pid, "sip_kallelse", cat)
    results["fk_ansokan_samordning"] = fill_blankett(soc, pid, "fk_ansokan_samordning", cat)

    for blankett_id in FIVE:
        text = results[blankett_id]["text"]
        assert "19121212-1212" in text, blankett_id
        assert INDIVID["namn"] in text or "Tilda" in text, blankett_id
    assert "Sara Handläggare" in results["rehabiliteringsforfragan"]["text"]
    assert "08-111 222 33" in results["rehabiliteringsforfragan"]["text"]
    assert "Provgatan 12" in results["sip_kallelse"]["text"]
    assert "Provgatan 12" in results["fk_ansokan_samordning"]["text"]

    # Each datum typed once: the individ's details and the caseworker's never, shared facts only once.
    typed = [name for r in results.values() for name in r["typed"]]
    assert len(typed) == len(set(typed)), sorted(n for n in typed if typed.count(n) > 1)
    assert not {"individ_namn", "individ_personnummer", "handlaggare_namn"} & set(typed)
    total = sum(r["fields"] for r in results.values())
    print(f"\nfält att skriva: {len(typed)} av {total}")
    assert (len(typed), total) == (55, 191), "update README's \"55 av de 191 fälten\" too"

    page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert page.count("FS-") >= 5
    assert "Finns läkarintyg? Ja" in page and "Läkarintyg komplett? Nej" in page
