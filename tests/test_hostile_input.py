"""Hostile input that once gave a 500 or worse: the login's next, the Host header, page numbers,
versions, files where text is expected; and what an upload leaves behind."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from formservice.accounts.login import is_safe_next
from formservice.audit import AuditEntry
from formservice.db import utcnow
from formservice.doctor.models import Svar

from .conftest import PASSWORD, csrf_token
from .data import returned_pdfs as corpus
from .test_doctor_answers import confirm, upload


@pytest.mark.parametrize("target", [
    "/%09/evil.example/", "/\t/evil.example/", "//evil.example", "/\\evil.example", "https://evil.example/",
    "/\n/evil.example", "/x\r\nSet-Cookie: a=b", "javascript:alert(1)", "", None, "evil.example", "/" + "a" * 3000,
    "/\u2028/evil", "/\x00",
])
def test_unsafe_next_is_refused(target):
    assert not is_safe_next(target)


@pytest.mark.parametrize("target", ["/", "/arenden", "/arenden/abc/steg?bana=soc1", "/processkarta#lane-soc1"])
def test_local_next_is_followed(target):
    assert is_safe_next(target)


def test_login_with_a_tab_in_next_stays_home(client, make_user):
    make_user(username="sara")
    page = client.get("/logga-in?next=/%09/evil.example/")
    res = client.post("/logga-in?next=/%09/evil.example/", data={
        "username": "sara", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert res.status_code == 302 and res.headers["Location"] == "/"


@pytest.mark.parametrize("host", ["a" * 70 + ".example", "x" * 300, "exa mple", "ä.se", "[::1", "a..b"])
def test_a_host_header_that_is_no_host_gets_a_plain_400(client, host):
    res = client.get("/logga-in", headers={"Host": host})
    assert res.status_code == 400 and "Felaktig begäran" in res.get_data(as_text=True)


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1", "[::1]:8080", "formservice.example.se"])
def test_ordinary_hosts_pass(client, host):
    assert client.get("/logga-in", headers={"Host": host}).status_code == 200


def test_huge_page_numbers_are_page_one(client, auth, make_user):
    make_user(username="sara")
    auth.login(username="sara")
    for page in ("9" * 5000, "²", "-3", "0"):
        assert client.get(f"/arenden?sida={page}").status_code == 200


def test_a_file_where_text_is_expected_is_ignored(client, auth, make_user):
    make_user(username="sara")
    auth.login(username="sara")
    token = csrf_token(client.get("/konto/losenord").get_data(as_text=True))
    res = client.post("/konto/losenord", data={"csrf_token": token, "current_password": (io.BytesIO(b"x"), "a.txt"),
                                               "new_password": "nytt-lösenord-1", "repeat_password": "nytt-lösenord-1"},
                      content_type="multipart/form-data")
    assert res.status_code == 400 and "Skriv ditt nuvarande lösenord." in res.get_data(as_text=True)


def test_the_error_page_answers_even_when_the_page_itself_cannot(app, client):
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/__trasig")
    def _broken():
        raise RuntimeError("boom")

    res = client.get("/__trasig")
    assert res.status_code == 500 and "Något gick fel" in res.get_data(as_text=True)
    # And when rendering the error page fails too, a plain page is the fallback.
    app.jinja_env.globals["url_for"] = None
    res = client.get("/__trasig")
    assert res.status_code == 500 and "Något gick fel" in res.get_data(as_text=True)


# ---------------------------------------------------------------- what an upload leaves behind
def _svar_count(dbs) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(Svar))


def test_a_refused_upload_stores_nothing(soc, forfragan, dbs):
    pid, doc_id, _ = forfragan
    res = upload(soc, pid, doc_id, corpus.with_uri_link())
    assert res.status_code == 400 and "åtgärder" in res.get_data(as_text=True)
    assert _svar_count(dbs) == 0


def test_an_accepted_upload_keeps_no_bytes_and_cancel_leaves_nothing(soc, forfragan, dbs):
    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    location = res.headers["Location"]
    svar = dbs.scalar(select(Svar))
    assert svar.status == "granskas" and svar.pdf_enc is None  # the uploaded file is not kept
    page = soc.get(location).get_data(as_text=True)
    res = soc.post(location + "/avbryt", data={"csrf_token": csrf_token(page)})
    assert res.status_code == 302
    assert _svar_count(dbs) == 0


def test_unconfirmed_answers_are_purged_after_a_day(app, soc, forfragan, dbs):
    from formservice.doctor.answers import purge_pending

    pid, doc_id, fillable = forfragan
    upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    with app.app_context():
        assert purge_pending(timedelta(hours=24)) == 0
    svar = dbs.scalar(select(Svar))
    svar.created_at = utcnow() - timedelta(hours=25)
    dbs.commit()
    with app.app_context():
        assert purge_pending(timedelta(hours=24), dry_run=True) == 1
        assert purge_pending(timedelta(hours=24)) == 1
    assert _svar_count(dbs) == 0


def test_archive_is_rendered_from_the_confirmed_answers_and_every_view_is_audited(soc, forfragan, dbs):
    from pypdf import PdfReader

    pid, doc_id, fillable = forfragan
    res = upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    page, res = confirm(soc, res.headers["Location"])
    svar = dbs.scalar(select(Svar))
    archive = soc.get(f"/arenden/{pid}/svar/{svar.public_id}/arkiv.pdf").data
    reader = PdfReader(io.BytesIO(archive))
    assert not reader.get_fields()
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Korta pass med pauser" in text and "Tilda Testperson" in text  # the doctor's and the caseworker's part
    soc.get(f"/arenden/{pid}/svar/{svar.public_id}")
    actions = [(e.action, e.object_id) for e in dbs.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("document_downloaded", svar.public_id) in actions
    assert actions.count(("answers_viewed", svar.public_id)) >= 2  # reviewed, then viewed once confirmed


def test_gallra_removes_abandoned_uploads(app, runner, soc, forfragan, dbs):
    from formservice.cli import main

    pid, doc_id, fillable = forfragan
    upload(soc, pid, doc_id, corpus.fill_with_pypdf(fillable, corpus.DOCTOR_VALUES))
    svar = dbs.scalar(select(Svar))
    svar.created_at = utcnow() - timedelta(hours=30)
    dbs.commit()
    res = runner.invoke(main, ["gallra", "--dry-run"])
    assert "Skulle ta bort 1 obekräftade läkarsvar" in res.output
    assert _svar_count(dbs) == 1
    res = runner.invoke(main, ["gallra"])
    assert res.exit_code == 0 and "Tog bort 1 obekräftade läkarsvar" in res.output
    assert _svar_count(dbs) == 0


def test_a_too_long_note_on_where_is_refused_with_the_text_kept(client, auth, make_user):
    from .formparse import form_with
    from .wizard_driver import create_arende

    make_user(username="sara")
    auth.login(username="sara")
    pid = create_arende(client)
    form = form_with(client.get(f"/arenden/{pid}/var").get_data(as_text=True), "ruta")
    data = {k: v for k, v in form["fields"].items() if v is not None}
    res = client.post(f"/arenden/{pid}/var", data=dict(data, ruta="soc1.3", note="x" * 1200))
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and "högst 1\u00a0000 tecken" in html and "x" * 1200 in html
    assert 'value="soc1.3" checked' in html


def test_the_accessibility_statement_is_public_and_linked_from_every_page(app, client, auth, make_user):
    page = client.get("/tillganglighet")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for heading in ("Kända brister", "Tillsyn", "Hur tillgänglig är tjänsten?", "annan form"):
        assert heading in html
    assert "digg.se" in html
    assert 'href="/tillganglighet"' in client.get("/logga-in").get_data(as_text=True)
    make_user(username="sara")
    auth.login(username="sara")
    assert 'href="/tillganglighet"' in client.get("/").get_data(as_text=True)
    app.config["ACCESSIBILITY_EMAIL"] = "tillganglighet@example.se"
    assert "mailto:tillganglighet@example.se" in client.get("/tillganglighet").get_data(as_text=True)


def test_keepalive_needs_login_and_csrf_and_restarts_the_idle_clock(app, client, auth, make_user, dbs):
    from formservice.accounts.models import WebSession

    assert client.post("/sessionen/forlang").status_code in (302, 400)
    make_user(username="sara")
    auth.login(username="sara")
    html = client.get("/").get_data(as_text=True)
    assert 'data-keepalive-url="/sessionen/forlang"' in html and 'id="idle-dialog"' in html
    assert client.post("/sessionen/forlang").status_code == 400  # no CSRF token
    session_row = dbs.query(WebSession).one()
    session_row.last_seen = utcnow() - timedelta(minutes=20)
    dbs.commit()
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    assert client.post("/sessionen/forlang", headers={"X-CSRFToken": token}).status_code == 204
    dbs.expire_all()
    assert utcnow() - dbs.query(WebSession).one().last_seen < timedelta(minutes=1)


# ---------------------------------------------------------------- digits that are not ASCII digits
def test_superscript_digits_are_refused_not_a_500(client, auth, make_user, app):
    """"²" passes str.isdigit() but int() refuses it: every parsed number takes ASCII digits only."""
    from formservice.arenden.gallring import parse_birth_days
    from formservice.blanketter.validation import validate_fields

    make_user(username="uppf", role="uppfoljare")
    auth.login(username="uppf")
    res = client.get("/uppfoljning?enhet=%C2%B2")
    assert res.status_code == 400 and "Välj en enhet i listan." in res.get_data(as_text=True)
    with pytest.raises(ValueError, match="Skriv dagar"):
        parse_birth_days("5, ²")
    sip = app.extensions["catalogue"].blanketter["sip_kallelse"]
    rows = next(f for f in sip.fields if f.type == "rows")
    clean, errors = validate_fields([rows], {f"{rows.name}.².verksamhet": "x", f"{rows.name}.99999999.namn": "y",
                                             f"{rows.name}.1.verksamhet": "Jobbtorg"}, partial=True)
    assert clean[rows.name] == [{"verksamhet": "Jobbtorg"}] and not errors
