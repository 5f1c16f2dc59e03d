"""Two busy colleagues on one ärende: no silent overwrite, no 500 — on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from formservice.arenden.models import Dokument, Utkast

from .conftest import AuthActions
from .formparse import form_with
from .wizard_driver import create_arende

pytestmark = pytest.mark.db
PAGE = "/arenden/{pid}/blankett/forandringsplan/sida/2"


@pytest.fixture
def colleagues(app, make_user, make_enhet):
    """Sara and Sam of the same enhet, each logged in on a client of their own, and an ärende."""
    enhet = make_enhet()
    make_user(username="sara", enhet_id=enhet, namn="Sara Handläggare")
    make_user(username="sam", enhet_id=enhet, namn="Sam Handläggare")
    sara, sam = app.test_client(), app.test_client()
    AuthActions(sara).login(username="sara")
    AuthActions(sam).login(username="sam")
    pid = create_arende(sara, ruta="soc1.4")
    return sara, sam, pid


def page_form(client, url: str) -> dict:
    form = form_with(client.get(url).get_data(as_text=True), "version")
    return {k: v for k, v in form["fields"].items() if v is not None}


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def stored_draft(dbs, app):
    dbs.expire_all()
    row = dbs.scalar(select(Utkast))
    return app.extensions["keyring"].decrypt_json(row.values_enc, {}) if row else None


def test_the_first_save_of_a_new_draft_is_version_checked(app, colleagues, dbs):
    sara, sam, pid = colleagues
    url = PAGE.format(pid=pid)
    sara_form, sam_form = page_form(sara, url), page_form(sam, url)  # both see no draft yet
    assert sara_form["version"] == "0"
    ok = sara.post(url, data=dict(sara_form, aktuell_situation="Saras text", action="next"))
    assert ok.status_code == 302
    late = sam.post(url, data=dict(sam_form, aktuell_situation="Sams text", action="next"))
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Saras text" in html and "Sams text" in html  # both versions shown, nothing lost
    assert stored_draft(dbs, app)["aktuell_situation"] == "Saras text"


def test_simultaneous_saves_give_one_success_and_one_conflict(app, colleagues, dbs):
    sara, sam, pid = colleagues
    url = PAGE.format(pid=pid)
    sara.post(url, data=dict(page_form(sara, url), aktuell_situation="Start", action="next"))
    for round_ in range(5):
        sara_form, sam_form = page_form(sara, url), page_form(sam, url)
        assert sara_form["version"] == sam_form["version"]
        results = at_once(
            lambda: sara.post(url, data=dict(sara_form, aktuell_situation=f"Sara {round_}", action="next")),
            lambda: sam.post(url, data=dict(sam_form, aktuell_situation=f"Sam {round_}", action="next")))
        codes = sorted(r.status_code for r in results)
        assert codes == [302, 409], codes
        winner = "Sara" if results[0].status_code == 302 else "Sam"
        assert stored_draft(dbs, app)["aktuell_situation"] == f"{winner} {round_}"


def review_form(client, pid):
    url = f"/arenden/{pid}/blankett/forandringsplan/granska"
    return url, form_with(client.get(url).get_data(as_text=True), "utkast")["fields"]


def test_a_document_is_never_made_from_values_changed_after_the_review(app, colleagues, dbs):
    sara, sam, pid = colleagues
    url = PAGE.format(pid=pid)
    sara.post(url, data=dict(page_form(sara, url), aktuell_situation="Före granskningen", action="next"))
    review_url, sara_review = review_form(sara, pid)
    # Sam changes the text after Sara opened the review.
    sam.post(url, data=dict(page_form(sam, url), aktuell_situation="Ändrad av Sam", action="next"))
    res = sara.post(review_url, data=sara_review)
    assert res.status_code == 409
    assert "Någon har ändrat utkastet" in res.get_data(as_text=True)
    assert "Ändrad av Sam" in res.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(Dokument)) == 0


def test_a_double_click_makes_one_document(app, colleagues, dbs):
    from .wizard_driver import fill_blankett

    sara, _sam, pid = colleagues
    fill_blankett(sara, pid, "forandringsplan", app.extensions["catalogue"])  # one produced the normal way
    assert dbs.scalar(select(func.count()).select_from(Dokument)) == 1
    # A second copy of the same blankett: fill again, then click "Ta fram" twice at the same moment.
    url = PAGE.format(pid=pid)
    sara.post(url, data=dict(page_form(sara, url), aktuell_situation="Andra exemplaret", action="next"))
    review_url, form = review_form(sara, pid)
    first, second = at_once(lambda: sara.post(review_url, data=form), lambda: sara.post(review_url, data=form))
    assert {first.status_code, second.status_code} <= {302}, (first.status_code, second.status_code)
    assert first.headers["Location"] == second.headers["Location"]
    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(Dokument)) == 2
    # And a third click later, after the draft is gone: the same document again, nothing new.
    third = sara.post(review_url, data=form)
    assert third.status_code == 302 and third.headers["Location"] == first.headers["Location"]
    assert dbs.scalar(select(func.count()).select_from(Dokument)) == 2


def test_a_new_draft_that_reuses_a_deleted_drafts_id_is_produced_too(soc, app, dbs):
    """SQLite reuses the id of a deleted draft: a second förändringsplan after the first was
    produced (its draft deleted) must become a document of its own, not 'already produced'."""
    from .wizard_driver import fill_blankett

    pid = create_arende(soc, ruta="soc1.4")
    cat = app.extensions["catalogue"]
    fill_blankett(soc, pid, "forandringsplan", cat)
    first_id = dbs.scalar(select(Dokument.utkast_ref)).split(":")[0]
    assert dbs.query(Utkast).count() == 0  # the draft is gone once produced
    result = fill_blankett(soc, pid, "forandringsplan", cat, overrides={"mal": "Ett nytt mål"})
    refs = dbs.scalars(select(Dokument.utkast_ref).order_by(Dokument.id)).all()
    assert len(refs) == 2 and refs[0] != refs[1]
    if dbs.bind.dialect.name == "sqlite":
        assert refs[1].split(":")[0] == first_id  # SQLite gave the new draft the deleted one's id
    assert "redan framtagen" not in result["done"]
