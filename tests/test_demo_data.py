"""The demo's generated ärenden (uppfoljning/exempeldata.py through `formservice demo`): every
view of the uppföljning has something to show, and what a user can open of them works – the
ärende's page, its documents (laid out on first download from their stored values) and the
doctor's answers – without Skatteverket's one test number anywhere in them."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from formservice import db, tid
from formservice.accounts.models import Enhet
from formservice.arenden.demo import DEMO_ENHETER, EXAMPLE_ENHET
from formservice.arenden.models import Arende, Dokument, Handelse
from formservice.arenden.operations import keyring
from formservice.cli import DEMO_PASSWORD, main
from formservice.doctor import readback
from formservice.doctor.models import Svar
from formservice.rendering import documents as rendering_documents
from formservice.uppfoljning import queries

from .conftest import TEST_PERSONNUMMER, AuthActions

GENERATED = 60
TEST_NUMBERS = (TEST_PERSONNUMMER, "19121212-1212", "121212-1212")


@pytest.fixture
def demo(app, runner):
    """`formservice demo` with a few generated ärenden; the id of the enhet they belong to."""
    res = runner.invoke(main, ["demo", "--exempelarenden", str(GENERATED)])
    assert res.exit_code == 0, res.output
    with app.app_context():
        return db.session().scalar(select(Enhet.id).where(Enhet.namn == DEMO_ENHETER[EXAMPLE_ENHET][1]))


def _whole_period():
    today = tid.today()
    return date(today.year - 2, today.month, 1), today


def test_the_uppfoljning_has_lead_times_and_blanketter_per_month(app, demo):
    fran, till = _whole_period()
    with app.app_context():
        src, f = _source([demo], fran, till), queries.Filter(fran=fran, till=till)
        for key in queries.LEAD_TIMES:
            histogram = queries.lead_time(src, f, key)
            assert sum(_count(n) for n in histogram.values()) > 0, key
        per_month = queries.documents(src, f)
    months = {month for (_blankett, month), n in per_month.items() if _count(n)}
    blanketter = {blankett for (blankett, _month), n in per_month.items() if _count(n)}
    assert len(months) >= 6
    assert {"forandringsplan", "rehabiliteringsforfragan", "finsamteam_anmalan"} <= blanketter


def _source(enhet_ids, fran, till):
    return queries.Source(enhet_ids, fran, till)


def _count(n) -> int:
    """A count, or the true count of a tally (Tally.n)."""
    return int(getattr(n, "n", n))


def test_documents_sit_where_the_map_offers_them_and_the_answer_follows(app, demo):
    with app.app_context():
        pm = app.extensions["catalogue"].process_map
        catalogue = app.extensions["catalogue"]
        kr = keyring()
        docs = db.session().scalars(select(Dokument).join(Arende).where(Arende.enhet_id == demo)).all()
        assert docs
        for dok in docs:
            made_at = db.session().scalar(select(Handelse.from_ruta).where(
                Handelse.arende_id == dok.arende_id, Handelse.kind == "dokument",
                Handelse.beslut.contains(dok.document_number)))
            assert dok.blankett_id in pm.ruta(made_at).blankett_ids
            assert not dok.klar
            # the values are those of a produced document: they pass the blankett's own validation
            rendering_documents.validate(catalogue, dok.blankett_id, kr.decrypt_json(dok.values_enc))
        answers = db.session().scalars(select(Svar).join(Arende).where(Arende.enhet_id == demo)).all()
        assert answers
        blankett = catalogue.blanketter["rehabiliteringsforfragan"]
        for svar in answers:
            assert svar.status == "bekraftad" and svar.dokument.status == "besvarad"
            assert svar.confirmed_at > svar.dokument.created_at
            _clean, errors = readback.validate_doctor_answers(blankett, kr.decrypt_json(svar.answers_enc))
            assert errors == {}


def test_a_generated_arende_opens_and_its_documents_download(app, demo):
    with app.app_context():
        svar = db.session().scalars(select(Svar).join(Arende).where(Arende.enhet_id == demo)).first()
        pid = db.session().get(Arende, svar.arende_id).public_id
        doc_id, number = svar.dokument.public_id, svar.dokument.document_number
    client = app.test_client()
    # The Exempelenheten has no caseworker of its own: the demo's administrator sees its organisation.
    assert AuthActions(client).login(username="admin.demo", password=DEMO_PASSWORD).status_code == 302
    page = client.get(f"/arenden/{pid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert number in html and "Läkarens svar" in html
    pdf = client.get(f"/arenden/{pid}/dokument/{doc_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    again = client.get(f"/arenden/{pid}/dokument/{doc_id}.pdf")
    assert again.data == pdf.data  # laid out once, then kept exactly as produced
    for fmt in ("docx", "zip", "ifyllbar"):
        assert client.get(f"/arenden/{pid}/dokument/{doc_id}.{fmt}").status_code == 200, fmt
    with app.app_context():
        dok = db.session().scalar(select(Dokument).where(Dokument.public_id == doc_id))
        assert dok.klar
    assert client.get(f"/arenden/{pid}").status_code == 200


def test_nothing_generated_uses_the_test_number(app, demo):
    with app.app_context():
        kr = keyring()
        texts = [json.dumps(kr.decrypt_json(a.individ_enc)) for a in db.session().scalars(
            select(Arende).where(Arende.enhet_id == demo))]
        texts += [json.dumps(kr.decrypt_json(d.values_enc)) for d in db.session().scalars(
            select(Dokument).join(Arende).where(Arende.enhet_id == demo))]
        texts += [json.dumps(kr.decrypt_json(s.answers_enc)) for s in db.session().scalars(
            select(Svar).join(Arende).where(Arende.enhet_id == demo))]
    assert len(texts) > GENERATED
    for text in texts:
        digits = text.replace("-", "")
        assert not any(n.replace("-", "") in digits for n in TEST_NUMBERS), text


def test_the_demo_at_its_own_size_shows_sus_before_and_after(app, runner):
    """`formservice demo` as the README runs it (1,200 generated ärenden): the Finsam participants
    closed in the last twelve complete months fill the uppföljning's before/after tables."""
    from formservice.arenden.demo import EXAMPLE_ARENDEN

    assert runner.invoke(main, ["demo"]).exit_code == 0
    today = tid.today()
    till = today.replace(day=1) - timedelta(days=1)  # the default period: the last twelve complete months
    fran = date(till.year - 1, till.month + 1, 1) if till.month < 12 else date(till.year, 1, 1)
    with app.app_context():
        enhet = db.session().scalar(select(Enhet.id).where(Enhet.namn == DEMO_ENHETER[EXAMPLE_ENHET][1]))
        counts = queries.sus_outcomes(_source([enhet], fran, till), queries.Filter(fran=fran, till=till))
        generated = db.session().scalar(select(func.count()).select_from(Arende).where(Arende.enhet_id == enhet))
    assert generated == EXAMPLE_ARENDEN
    participants = sum(_count(t) for k, t in counts.items() if k.startswith("sus_avslutsanledning:"))
    assert participants >= 5, participants  # about 14; the dates follow today, so the window moves
    for name in ("sus_forsorjning_fore", "sus_forsorjning_efter", "sus_sysselsattning_fore",
                 "sus_sysselsattning_efter", "sus_arbete_studier_okat"):
        assert sum(_count(t) for k, t in counts.items() if k.startswith(name + ":")) == participants, name
