"""Uppföljning: kön and age band from the personnummer, suppression of small cells (also against
differencing), the numbers from a generated data set, the page and CSV, and who may see it (the
PDF report: test_uppfoljning_rapport.py)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from formservice.arenden import demografi
from formservice.uppfoljning.anonymisering import SUPPRESSED_TEXT, Cell, protect

TEST_PNR = "191212121212"  # Skatteverket's test number, which every generated ärende used to carry

# ---------------------------------------------------------------- derived columns
def test_kon_is_the_ninth_digit_and_age_the_band_on_the_day():
    assert demografi.kon("191212121212") == "M"  # 9th digit of 1212121212 is 1: odd
    assert demografi.kon("191212121222") == "K"  # 2: even
    assert demografi.kon("19121212") is None
    assert demografi.aldersgrupp("191212121212", date(1940, 12, 11)) == "-29"  # 27
    assert demografi.aldersgrupp("191212121212", date(1942, 12, 12)) == "30-39"  # 30 on the day
    assert demografi.aldersgrupp("191212721212", date(1965, 1, 1)) == "50-59"  # samordningsnummer: day + 60
    assert demografi.aldersgrupp("191299991212", date(1965, 1, 1)) is None


def test_generated_arenden_are_distinct_fictitious_people(app, make_enhet):
    """The demo's generated ärenden: each its own valid personnummer of nobody alive, never the one
    test number for all (one "person" owning 1,200 ärenden); kön as its ninth digit says, and the
    realistic spread of kön and age bands the follow-up counts."""
    from collections import Counter

    from formservice import db
    from formservice.arenden import operations
    from formservice.arenden.models import Arende
    from formservice.blanketter.validation import normalize_personnummer
    from formservice.uppfoljning import exempeldata

    enhet = make_enhet()
    today = date.today()
    with app.app_context():
        exempeldata.generate(app.extensions["catalogue"].process_map, [enhet], 600, today=today)
        rows = db.session().scalars(select(Arende)).all()
        people = [(operations.individ(a)["personnummer"], a.kon, a.aldersgrupp, a.pnr_hash) for a in rows]
        kr = operations.keyring()
    pnrs = [p for p, *_ in people]
    assert len(rows) == 600 and len(set(pnrs)) == 600 and TEST_PNR not in pnrs
    assert all(normalize_personnummer(p) == p for p in pnrs)  # the service's own check: date, Luhn, ≤ 130 years
    assert all(today.year - 127 <= int(p[:4]) <= today.year - 123 for p in pnrs)  # older than anybody alive
    assert all(int(p[6:8]) > 60 for p in pnrs)  # samordningsnummer: none the register gave anyone born then
    assert all(demografi.kon(p) == kon for p, kon, *_ in people)
    assert all(kr.keyed_hash("pnr", p) == h for p, *_, h in people)  # each found by a search on its number
    kon = Counter(k for _, k, *_ in people)
    assert 0.5 < kon["K"] / 600 < 0.66
    bands = Counter(band for *_, band, _ in people)
    assert set(bands) == {key for key, *_ in demografi.AGE_BANDS} and bands["-29"] > bands["60-"]


# ---------------------------------------------------------------- suppression
def test_small_cells_are_suppressed_and_zero_is_shown():
    cells = protect({"a": 12, "b": 4, "c": 0, "d": 7})
    assert cells["a"] == Cell(12) and cells["c"] == Cell(0)
    assert cells["b"].suppressed and str(cells["b"]) == SUPPRESSED_TEXT
    # one hidden cell beside a total would be total minus the rest: the next smallest goes too
    assert cells["d"].suppressed and not cells["a"].suppressed


def test_a_filtered_cell_whose_complement_is_small_is_suppressed():
    # 12 at a ruta, 9 of them women: the women's 9 minus the 12 would give away 3 men.
    women = protect({"soc1.9": 9, "soc1.4": 20, "soc1.3": 8},
                    complements=[{"soc1.9": 12, "soc1.4": 30, "soc1.3": 15}])
    assert women["soc1.9"].suppressed and women["soc1.4"] == Cell(20)
    assert women["soc1.3"].suppressed  # else the total minus the rest would give the 9 back


def test_a_period_cell_is_suppressed_when_a_shorter_period_would_give_away_a_small_count():
    # Over Jan–Mar 9, of which 2 in January: "Feb–Mar" would show 7 and reveal the 2.
    cells = protect({"x": 9, "y": 30, "z": 12}, monthly={"x": [2, 3, 4], "y": [10, 10, 10], "z": [6, 0, 6]})
    assert cells["x"].suppressed and cells["y"] == Cell(30) and cells["z"].suppressed
    assert protect({"x": 10}, monthly={"x": [0, 5, 5]})["x"] == Cell(10)


# ---------------------------------------------------------------- a generated data set
@pytest.fixture
def dataset(app, make_enhet, make_user):
    """Two enheter, both kön, several age bands, ärenden along different paths with dates in
    2026, closings with end states and documents. Kön and age are set directly on the rows (the
    derivation is tested above), so every ärende can carry the test personnummer."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import operations as arenden
    from formservice.arenden.models import Arende, Dokument, Handelse

    syd = make_enhet("Enhet Syd")
    nord = make_enhet("Enhet Nord")
    soc_id = make_user(username="sara", enhet_id=syd)
    make_user(username="nils", enhet_id=nord)
    make_user(username="ulla", role="uppfoljare", enhet_id=syd)
    path = ["soc1.2", "soc1.3", "soc1.4", "soc1.5", "soc1.7", "soc1.8", "soc1.9", "soc1.10", "soc1.11",
            "soc1.14", "fk.1", "fk.2"]
    with app.app_context():
        dbs = db.session()
        user = dbs.get(User, soc_id)
        plan = ([(syd, "K", "30-39", 12)] * 9 + [(syd, "M", "30-39", 12)] * 3 + [(syd, "K", "-29", 4)] * 8
                + [(nord, "M", "50-59", 7)] * 6 + [(nord, "K", "40-49", 2)] * 2)
        for n, (enhet, kon, alder, steps) in enumerate(plan):
            a = arenden.create(user, {"namn": f"Testperson {n}", "personnummer": "191212121212"},
                               lane="soc1", ruta="soc1.1a")
            a.enhet_id, a.kon, a.aldersgrupp = enhet, kon, alder
            start = datetime(2026, 2, 2, 9) + timedelta(days=n % 5)
            first = dbs.scalars(select(Handelse).where(Handelse.arende_id == a.id)).one()
            first.at = start
            here = "soc1.1a"
            for k, target in enumerate(path[:steps]):
                dbs.add(Handelse(arende_id=a.id, kind="beslut", from_ruta=here, to_ruta=target,
                                 at=start + timedelta(days=10 * (k + 1))))
                here = target
            a.ruta, a.lane = here, here.split(".")[0]
            if steps >= 4:
                dbs.add(Dokument(public_id=f"dok{n}", arende_id=a.id, blankett_id="forandringsplan",
                                 blankett_version="1", document_number=f"FS-T-{n:04d}", pdf_enc=b"x",
                                 values_enc=b"x", created_at=start + timedelta(days=31)))
            if steps == 2:
                a.status, a.closed_on, a.closed_reason = "avslutat", date(2026, 3, 20), "soc1.slut-ingetbehov"
        dbs.commit()
        # Rows written directly, as a bulk load would: the counts are rebuilt from the history.
        from formservice.uppfoljning import exempeldata

        exempeldata.rebuild_counts(app.extensions["catalogue"].process_map)
    return {"syd": syd, "nord": nord}


def _page(client, **params):
    res = client.get("/uppfoljning", query_string={"fran": "2026-01", "till": "2026-12", **params})
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    return res.get_data(as_text=True)


def _row(html: str, table: str, label: str) -> list[str]:
    body = html[html.index(f'id="t-{table}"'):]
    body = body[:body.index("</table>")]
    match = re.search(r"<tr><th scope=\"row\">" + re.escape(label) + r"</th>(.*?)</tr>", body)
    assert match, (table, label)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))]


@pytest.fixture
def ulla(client, auth, dataset):
    auth.login("ulla")
    return client


@pytest.mark.db
def test_the_uppfoljare_sees_counts_for_the_organisation(ulla, dataset):
    html = _page(ulla)
    # 28 ärenden, 2 closed: 26 open. fk.2 holds the 12 with the whole path (9 women, 3 men),
    # soc1.5 the 8 young women, soc1.9 the 6 men in Nord.
    assert _row(html, "oppna-per-bana", "1. Socialtjänsten – sjukskriven") == ["14"]
    assert _row(html, "oppna-per-bana", "4. Försäkringskassan") == ["12"]
    assert _row(html, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras") == ["12"]
    assert _row(html, "oppna-per-enhet", "Enhet Syd") == ["20"]
    assert _row(html, "oppna-per-enhet", "Enhet Nord") == ["6"]
    assert _row(html, "floden", "1. Socialtjänsten – sjukskriven → 4. Försäkringskassan") == ["12"]
    assert _row(html, "utfall", "Inget behov av samordnad rehabilitering just nu") == [SUPPRESSED_TEXT]  # 2
    stay = _row(html, "tid-per-ruta", "Bana 1 · Ruta 3: Kartläggning")
    assert stay == ["26", "10", "10"]  # everyone with 3+ steps stayed ten days
    assert "Testperson" not in html and "191212" not in html and "/arenden/" not in html


@pytest.mark.db
def test_filtering_on_kon_suppresses_what_the_difference_would_reveal(ulla, dataset):
    everyone = _page(ulla)
    women = _page(ulla, kon="K")
    men = _page(ulla, kon="M")
    assert _row(everyone, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras") == ["12"]
    # 9 women and 3 men at fk.2: the women's 9 would give the men's 3 away, so both are hidden.
    assert _row(women, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras") == [SUPPRESSED_TEXT]
    assert _row(men, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras") == [SUPPRESSED_TEXT]
    for page in (women, men):  # no cell anywhere shows 1–4
        for cell in re.findall(r'<td class="tal[^"]*">([^<]*)</td>', page):
            assert cell.strip() not in {"1", "2", "3", "4"}, cell


def test_csv_carries_the_numbers_on_the_screen(ulla, dataset):
    """(The PDF report is a background job: tests/test_uppfoljning_rapport.py.)"""
    html = _page(ulla)
    res = ulla.get("/uppfoljning/oppna-per-enhet.csv", query_string={"fran": "2026-01", "till": "2026-12"})
    assert res.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Enhet", "Öppna ärenden"]
    assert ["Enhet Syd", "20"] in rows and ["Enhet Nord", "6"] in rows and ["Totalt", "26"] in rows
    assert 'href="/uppfoljning/oppna-per-enhet.csv?fran=2026-01&amp;till=2026-12"' in html


def test_a_wrong_month_gets_a_swedish_message_and_the_default(ulla, dataset):
    res = ulla.get("/uppfoljning", query_string={"fran": "januari", "till": "2026-12"})
    assert res.status_code == 400
    assert "Ange månaden som ÅÅÅÅ-MM" in res.get_data(as_text=True)


def test_only_uppfoljare_and_admins_see_it_and_an_uppfoljare_sees_no_arende(client, auth, dataset, app):
    from formservice import db
    from formservice.arenden.models import Arende

    from .conftest import AuthActions

    auth.login("sara")
    assert client.get("/uppfoljning").status_code == 403
    client = app.test_client()
    AuthActions(client).login("ulla")
    assert client.get("/").headers["Location"].endswith("/uppfoljning")
    with app.app_context():
        pid = db.session().scalars(select(Arende.public_id)).first()
    assert client.get(f"/arenden/{pid}").status_code == 404
    assert "Testperson" not in client.get("/arenden").get_data(as_text=True)


@pytest.mark.db
def test_new_arenden_get_kon_and_age_band_and_init_db_fills_old_ones(soc, app, dbs):
    from formservice.arenden.models import Arende

    from .wizard_driver import create_arende

    pid = create_arende(soc)
    row = dbs.scalars(select(Arende).where(Arende.public_id == pid)).one()
    assert row.kon == "M" and row.aldersgrupp == "60-"
    row.kon = row.aldersgrupp = None
    dbs.commit()
    with app.app_context():
        assert demografi.backfill() == 1
    dbs.expire_all()
    assert dbs.scalars(select(Arende.kon).where(Arende.public_id == pid)).one() == "M"


@pytest.mark.db
def test_the_counts_kept_as_arenden_move_equal_a_rebuild_from_the_history(soc, app, dbs):
    """Moves, documents and the doctor's answer through the real views update the summary table
    exactly as recomputing it from the history would."""
    from formservice.arenden.models import Statistik
    from formservice.uppfoljning import exempeldata

    from .wizard_driver import create_arende, fill_blankett, step

    cat = app.extensions["catalogue"]
    for _ in range(2):
        pid = create_arende(soc)
        for target in ("soc1.2", "soc1.3", "soc1.4"):
            step(soc, pid, target)
        fill_blankett(soc, pid, "forandringsplan", cat)
        for target in ("soc1.5", "soc1.6", "soc2.1"):
            step(soc, pid, target)

    def table():
        dbs.expire_all()
        return sorted((r.slag, r.manad, r.enhet_id, r.kon, r.aldersgrupp, r.nyckel, r.dagar, r.antal)
                      for r in dbs.scalars(select(Statistik)))

    # A Finsamteam anmälan three days before the ärende reaches the team's plan (finsamteam ruta 6).
    from formservice.arenden.models import Arende, Dokument

    from .wizard_driver import place

    pid = create_arende(soc)
    place(soc, pid, "finsamteam.5")
    from formservice import db
    from formservice.arenden import statistik

    with app.app_context():  # a document row as the registry writes it, three days ago
        session = db.session()
        arende = session.scalars(select(Arende).where(Arende.public_id == pid)).one()
        made = datetime.utcnow() - timedelta(days=3, hours=1)
        session.add(Dokument(public_id="anmalan1", arende_id=arende.id, blankett_id="finsamteam_anmalan",
                             blankett_version="1", document_number="FS-T-ANM1", pdf_enc=b"", values_enc=b"",
                             created_at=made))
        statistik.on_document(arende, "finsamteam_anmalan", made)
        session.commit()
    step(soc, pid, "finsamteam.6")

    kept = table()
    assert [r[6] for r in kept if r[5] == "finsamteam_beslut"] == [3, 3]  # by kön and age, and for everyone
    assert ("flode", "soc1>soc2") in {(r[0], r[5]) for r in kept}
    # six stays ended in each of the first two ärenden, two in the third
    assert sum(r[7] for r in kept if r[0] == "vistelse" and r[3] != "*") == 14
    assert sum(r[7] for r in kept if r[0] == "vistelse" and r[3] == "*") == 14  # and once more for everyone
    assert sum(r[7] for r in kept if r[0] == "dokument") == 3  # two förändringsplaner, one anmälan
    with app.app_context():
        exempeldata.rebuild_counts(cat.process_map)
    assert table() == kept


@pytest.mark.db
def test_a_forbund_sees_the_organisations_that_share_with_it(app, make_enhet, make_user, client, auth):
    from formservice import db
    from formservice.accounts.models import Organisation, User
    from formservice.uppfoljning import queries

    kommun = make_enhet("Kommunens enhet", organisation="Kommunen")
    region = make_enhet("Regionens enhet", organisation="Regionen")
    forbund = make_enhet("Förbundets kansli", organisation="Förbundet")
    ulla = make_user(username="ulla", role="uppfoljare", enhet_id=forbund)
    admin = make_user(username="adam", role="admin", enhet_id=kommun)
    with app.app_context():
        dbs = db.session()
        dbs.scalars(select(Organisation).where(Organisation.namn == "Förbundet")).one().typ = "samordningsforbund"
        dbs.commit()
        assert queries.scope(dbs.get(User, ulla)) == [forbund]
    # The kommun's admin agrees to share: the förbund's uppföljare now counts its enheter too.
    auth.login("adam")
    page = client.get("/admin/organisation").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/admin/organisation", data={"csrf_token": token, "namn": "Kommunen", "typ": "kommun",
                                                   "uppfoljning_delas": "y"})
    assert res.status_code == 302
    with app.app_context():
        assert sorted(queries.scope(db.session().get(User, ulla))) == sorted([kommun, forbund])
        # An ordinary organisation's uppföljare never sees another organisation's numbers.
        assert queries.scope(db.session().get(User, admin)) == [kommun]
    assert region  # a region that has not agreed stays out


@pytest.mark.db
def test_the_doctors_first_answer_counts_its_lead_time_as_a_rebuild_would(soc, app, dbs, forfragan):
    from formservice.arenden.models import Statistik
    from formservice.uppfoljning import exempeldata

    from .data import returned_pdfs as corpus
    from .test_doctor_answers import confirm, upload

    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    _page, res = confirm(soc, res.headers["Location"])
    assert res.status_code == 302

    def table():
        dbs.expire_all()
        return sorted((r.slag, r.manad, r.enhet_id, r.kon, r.aldersgrupp, r.nyckel, r.dagar, r.antal)
                      for r in dbs.scalars(select(Statistik)))

    kept = table()
    answered = [r for r in kept if r[0] == "ledtid" and r[5] == "forfragan_svar"]
    assert sum(r[7] for r in answered) == 2 and {r[6] for r in answered} == {0}  # same day; + "everyone"
    with app.app_context():
        exempeldata.rebuild_counts(app.extensions["catalogue"].process_map)
    assert table() == kept


def test_a_label_that_looks_like_a_formula_stays_text_in_the_csv():
    from formservice.uppfoljning.anonymisering import Cell
    from formservice.uppfoljning.rapport import Row, Table

    table = Table("x", "X", ["Antal"], "Enhet", [Row("=HYPERLINK(\"http://x\")", [Cell(7)]), Row("Syd", [Cell(None)])])
    assert table.csv_rows() == [["Enhet", "Antal"], ["'=HYPERLINK(\"http://x\")", "7"], ["Syd", SUPPRESSED_TEXT]]
