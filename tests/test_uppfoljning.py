"""Uppföljning: kön and age band from the personnummer, the cell-key rounding of every count, the
numbers from a generated data set, the page and CSV, and who may see it (the PDF report:
test_uppfoljning_rapport.py; the attacker who subtracts views: test_uppfoljning_attack.py)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from formservice import tid
from formservice.arenden import demografi
from formservice.uppfoljning.anonymisering import BASE, HIDDEN_TEXT, KEY_MOD, NOTE, Cell, Tally, publish

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
    today = tid.today()
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


# ---------------------------------------------------------------- the cell-key rounding
def near(n: int) -> set[str]:
    """What a true count n may be shown as: the multiple of five below or above it."""
    return {str(BASE * (n // BASE)), str(BASE * -(-n // BASE))}


def test_every_count_is_rounded_to_five_never_1_to_4_and_unbiased():
    keys = [k * KEY_MOD // 1000 for k in range(1000)]  # cell keys spread evenly over the key space
    for n in range(0, 60):
        shown = [publish(Tally(n, k)) for k in keys]
        assert set(map(str, shown)) <= near(n)
        assert not {1, 2, 3, 4} & set(shown)
        assert abs(sum(shown) / len(shown) - n) < 0.01  # rounded up with probability remainder/5
    assert publish(Tally(0, 123)) == 0 and publish(Tally(1085, 0)) in (1085,)


def test_the_same_units_get_the_same_key_whatever_the_order_and_a_new_unit_a_new_one():
    from formservice.arenden.statistik import microcell_key

    def tally(secret, n, *coords):
        return Tally(n, microcell_key(secret, n, *coords))

    s = b"s" * 32
    a, b, c = tally(s, 3, "vistelse", "soc1.3", 1, "K", "30-39"), tally(s, 2, "vistelse", "soc1.3", 1, "M", "30-39"), \
        tally(s, 1, "vistelse", "soc1.4", 2, "K", "-29")
    assert a + b + c == c + (b + a) and (a + b).n == 5
    assert tally(s, 4, "vistelse", "soc1.3", 1, "K", "30-39").key != a.key  # one more: a fresh key
    assert tally(b"t" * 32, 3, "vistelse", "soc1.3", 1, "K", "30-39").key != a.key  # another secret
    assert microcell_key(s, 0, "x") == 0


def test_every_arende_has_its_own_random_record_key(soc, app, dbs):
    """The open and closed ärenden are counted with their record keys: random, fixed at creation."""
    from formservice.arenden.models import Arende

    from .wizard_driver import create_arende

    for _ in range(3):
        create_arende(soc)
    keys = [a.cellnyckel for a in dbs.scalars(select(Arende))]
    assert len(keys) == 3 and len(set(keys)) == 3 and all(0 <= k < KEY_MOD for k in keys)


def test_a_hidden_median_says_why_and_never_gives_a_count():
    assert str(Cell(None)) == HIDDEN_TEXT and "färre än" not in HIDDEN_TEXT
    assert str(Cell(1085)) == "1 085" and str(Cell(None, "–")) == "–"


# ---------------------------------------------------------------- a generated data set
WORKS = {"sus_forsorjning_efter": "ingen_offentlig", "sus_sysselsattning_efter": "forvarvsarbete",
         "sus_arbete_studier_okat": "ja"}
STILL = {"sus_forsorjning_efter": "forsorjningsstod", "sus_sysselsattning_efter": "ovriga",
         "sus_arbete_studier_okat": "nej"}
SUS_PARTICIPANTS = ([(lambda syd, nord: syd, "K", "30-39", WORKS)] * 7
                    + [(lambda syd, nord: nord, "M", "50-59", STILL)] * 5)


@pytest.fixture
def dataset(app, make_enhet, make_user):
    """Two enheter, both kön, several age bands, ärenden along different paths with dates in
    2026, closings with end states and documents. Kön and age are set directly on the rows (the
    derivation is tested above), so every ärende can carry the test personnummer."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import operations
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
        # Twelve Finsam participants closed in April with SUS's answers (SUS_PARTICIPANTS): all had
        # försörjningsstöd at the anmälan; seven women in Syd work afterwards, five men in Nord do not.
        for n, (enhet, kon, alder, efter) in enumerate(SUS_PARTICIPANTS):
            a = arenden.create(user, {"namn": f"Deltagare {n}", "personnummer": "191212121212"},
                               lane="finsamteam", ruta="finsamteam.1")
            a.enhet_id, a.kon, a.aldersgrupp = enhet(syd, nord), kon, alder
            operations.store_answers(a, {"sus_forsorjning_fore": "forsorjningsstod",
                                         "sus_sysselsattning_fore": "ovriga", **efter})
            a.ruta, a.status, a.closed_on = "finsamteam.slut-genomford", "avslutat", date(2026, 4, 15)
            a.closed_reason = "finsamteam.slut-genomford"
        dbs.commit()
        # Rows written directly, as a bulk load would: the counts are rebuilt from the history.
        from formservice.uppfoljning import exempeldata

        exempeldata.rebuild_counts(app.extensions["catalogue"].process_map)
    return {"syd": syd, "nord": nord}


def _page(client, **params):
    res = client.get("/uppfoljning", query_string={"fran": "2026-01", "till": "2026-12", **params})
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    return res.get_data(as_text=True)


def _rows(html: str, table: str) -> dict[str, list[str]]:
    """Every row of a table on the page: label -> the cells' texts."""
    body = html[html.index(f'id="t-{table}"'):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return {re.sub(r"<[^>]+>", "", label).strip(): [re.sub(r"<[^>]+>", "", c).strip()
                                                    for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
            for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body)}


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
    # Every count is shown rounded to a multiple of five (the true count in the comment).
    (bana1,) = _row(html, "oppna-per-bana", "1. Socialtjänsten – sjukskriven")
    assert bana1 in near(14)
    assert _row(html, "oppna-per-bana", "4. Försäkringskassan")[0] in near(12)
    assert _row(html, "oppna-per-ruta", "Bana 4 · Ruta 2: Ansökan hanteras")[0] in near(12)
    assert _row(html, "oppna-per-enhet", "Enhet Syd") == ["20"]  # a multiple of five stays itself
    assert _row(html, "oppna-per-enhet", "Enhet Nord")[0] in near(6)
    assert _row(html, "floden", "1. Socialtjänsten – sjukskriven → 4. Försäkringskassan")[0] in near(12)
    # The 2 closed ärenden: shown as 0 (then no row) or 5, the end state with its lane, never "färre än 5".
    closed = _rows(html, "utfall")
    assert closed.get("Bana 1 · Inget behov av samordnad rehabilitering just nu", ["5"]) == ["5"]
    assert "färre än" not in html and NOTE in html.replace("&#34;", '"')
    # The twelve Finsam participants closed in April: SUS before and after.
    forsorjning = _rows(html, "sus-forsorjning")
    assert forsorjning["Försörjningsstöd (ekonomiskt bistånd)"][0] in near(12)
    assert forsorjning["Försörjningsstöd (ekonomiskt bistånd)"][1] in near(5)
    assert forsorjning.get("Ingen offentlig försörjning (lön, studiemedel, föräldrapenning, pension)",
                           ["0", "0"])[1] in near(7)
    works = _rows(html, "sus-sysselsattning").get("Förvärvsarbete", ["0", "0"])
    assert works[0] == "0" and works[1] in near(7)
    assert _rows(html, "sus-avslut")["Insatsen avslutad enligt plan"][0] in near(12)
    assert _rows(html, "sus-arbete-studier").get("Ja, har börjat eller ökat arbete eller studier", ["0"])[0] in near(7)
    stay = _row(html, "tid-per-ruta", "Bana 1 · Ruta 3: Kartläggning")
    assert stay[0] in near(26) and stay[1:] == ["10", "10"]  # everyone with 3+ steps stayed ten days
    assert "Testperson" not in html and "191212" not in html and "/arenden/" not in html


@pytest.mark.db
def test_filtering_on_kon_shows_rounded_counts_whose_difference_reveals_nothing_exact(ulla, dataset):
    everyone = _page(ulla)
    women = _page(ulla, kon="K")
    men = _page(ulla, kon="M")
    fk2 = "Bana 4 · Ruta 2: Ansökan hanteras"
    # 9 women and 3 men at fk.2, 12 in all: each rounded on its own, so the difference of the shown
    # numbers is a multiple of five and never the men's 3.
    shown = [int(_rows(p, "oppna-per-ruta").get(fk2, ["0"])[0]) for p in (everyone, women, men)]
    assert str(shown[0]) in near(12) and str(shown[1]) in near(9) and str(shown[2]) in near(3)
    assert (shown[0] - shown[1]) % 5 == 0 and shown[0] - shown[1] != 3
    for page in (everyone, women, men):  # no cell anywhere shows 1–4, no label says "färre än"
        assert "färre än" not in page
        for cell in re.findall(r'<td class="tal[^"]*">([^<]*)</td>', page):
            assert cell.strip() not in {"1", "2", "3", "4"}, cell


@pytest.mark.parametrize("selection", [{}, {"kon": "K"}, {"kon": "M", "alder": "30-39"}, {"alder": "-29"}])
def test_every_number_and_label_on_the_page_tells_the_truth(ulla, dataset, app, selection):
    """Each cell of each table on the page against the true count from the database: a number is
    the true count rounded to a multiple of five (so within 4 of it, never 1–4, never beside "färre
    än"); a median is shown only over at least ten and otherwise said to be hidden; totals are always
    numbers. The true tables are the same build with publish=exact."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.uppfoljning import queries, rapport
    from formservice.uppfoljning.anonymisering import exact
    from formservice.uppfoljning.queries import Filter

    html = _page(ulla, **selection)
    assert "färre än" not in html
    with app.app_context():
        scope = queries.scope(db.session().query(User).filter_by(username="ulla").one())
        names = rapport.enhet_names(queries.enheter(scope))
        f = Filter(date(2026, 1, 1), date(2026, 12, 31), None, selection.get("kon"), selection.get("alder"))
        cat = app.extensions["catalogue"]
        true = rapport.build(cat.process_map, cat, f, scope, names, publish=exact)
    checked = 0
    for table in true.tables:
        shown = _rows(html, table.key)
        truth = {r.label: r.cells for r in table.rows}
        assert set(shown) <= set(truth) or table.key == "oppna-per-bana", table.key
        for label, cells in shown.items():
            for column, text, cell in zip(table.columns, cells, truth.get(label, [])):
                if column in ("Median", "75:e percentilen"):
                    n = truth[label][0].value
                    assert text == (str(cell.value) if n >= 10 else HIDDEN_TEXT if n else "–"), (label, text)
                else:
                    assert text.replace(" ", "") in near(cell.value), (table.key, label, column, text, cell.value)
                checked += 1
        if table.total is not None:  # a total is a number of its own, never hidden
            foot = html[html.index(f'id="t-{table.key}"'):]
            foot = foot[foot.index("<tfoot>"):foot.index("</tfoot>")]
            (text,) = re.findall(r'<td class="tal">([^<]*)</td>', foot)
            assert text.replace(" ", "") in near(table.total.value)
    assert checked > 10


def test_the_default_period_ends_with_the_last_complete_month(ulla, dataset):
    from formservice.arenden.operations import local_today

    today = local_today()
    last = today.replace(day=1) - timedelta(days=1)
    first = date(last.year - 1, last.month + 1, 1) if last.month < 12 else date(last.year, 1, 1)
    html = ulla.get("/uppfoljning").get_data(as_text=True)
    assert f"Urval: {first.isoformat()} – {last.isoformat()}." in html


def test_csv_carries_the_numbers_on_the_screen(ulla, dataset):
    """(The PDF report is a background job: tests/test_uppfoljning_rapport.py.)"""
    html = _page(ulla)
    res = ulla.get("/uppfoljning/oppna-per-enhet.csv", query_string={"fran": "2026-01", "till": "2026-12"})
    assert res.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(res.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Enhet", "Öppna ärenden"]
    shown = {label: value for label, value in rows[1:]}
    assert shown["Enhet Syd"] == "20" and shown["Enhet Nord"] in near(6) and shown["Totalt"] in near(26)
    assert _row(html, "oppna-per-enhet", "Enhet Nord") == [shown["Enhet Nord"]]  # the same numbers as the page
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
def test_the_counts_kept_as_arenden_move_equal_a_rebuild_from_the_history(soc, app, dbs, original_map):
    """Moves, documents and the doctor's answer through the real views update the summary table
    exactly as recomputing it from the history would. On the shipped map (original_map): the
    expected counts follow one journey through it, step by step."""
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
        return sorted((r.slag, r.manad, r.enhet_id, r.kon, r.aldersgrupp, r.nyckel, r.dagar, r.antal, r.cellnyckel)
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
    andra = make_enhet("Andra förbundets kansli", organisation="Andra förbundet")
    ulla = make_user(username="ulla", role="uppfoljare", enhet_id=forbund)
    olle = make_user(username="olle", role="uppfoljare", enhet_id=andra)
    admin = make_user(username="adam", role="admin", enhet_id=kommun)
    with app.app_context():
        dbs = db.session()
        for namn in ("Förbundet", "Andra förbundet"):
            dbs.scalars(select(Organisation).where(Organisation.namn == namn)).one().typ = "samordningsforbund"
        dbs.commit()
        forbund_org = dbs.scalars(select(Organisation.id).where(Organisation.namn == "Förbundet")).one()
        assert queries.scope(dbs.get(User, ulla)) == [forbund]
    # The kommun's admin agrees to share: the förbund's uppföljare now counts its enheter too.
    auth.login("adam")
    page = client.get("/admin/organisation").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    res = client.post("/admin/organisation", data={"csrf_token": token, "namn": "Kommunen", "typ": "kommun",
                                                   "uppfoljning_delas": "y", "forbund_id": str(forbund_org)})
    assert res.status_code == 302
    with app.app_context():
        assert sorted(queries.scope(db.session().get(User, ulla))) == sorted([kommun, forbund])
        # Another förbund, which the kommun is not a member of, never counts it.
        assert queries.scope(db.session().get(User, olle)) == [andra]
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
        return sorted((r.slag, r.manad, r.enhet_id, r.kon, r.aldersgrupp, r.nyckel, r.dagar, r.antal, r.cellnyckel)
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

    table = Table("x", "X", ["Antal"], "Enhet", [Row("=HYPERLINK(\"http://x\")", [Cell(1085)]), Row("Syd", [Cell(None)])])
    assert table.csv_rows() == [["Enhet", "Antal"], ["'=HYPERLINK(\"http://x\")", "1085"], ["Syd", HIDDEN_TEXT]]
