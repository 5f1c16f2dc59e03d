"""Administration → Språk (issue 30, docs/sprak.md "Granskning"): an organisation's admin marks a
language of the individ's documents reviewed or not and replaces its texts with a PO file; the
organisation's documents print accordingly at once, another organisation's do not change; bad
files are refused in Swedish with nothing changed; only the organisation's own admin reaches it."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from formservice.arenden.models import SprakTexter
from formservice.blanketter import sprak, wizard
from formservice.cli import main
from formservice.rendering import documents

from .conftest import PASSWORD, AuthActions, csrf_token
from .formparse import form_with
from .test_admin import admin, audit_actions  # noqa: F401 — the admin fixture (organisation Teststaden)
from .wizard_driver import create_arende, fill_blankett

SEKRETESS = "sekretessmedgivande"
VALUES = {"individ_namn": "Tolvan Tolvansson", "individ_personnummer": "19121212-1212",
          "handlaggare_verksamhet": "Socialtjänsten Centrum", "sekretess_uppgifter": "Hälsa och arbetsförmåga",
          "sekretess_syfte": "Planera rehabilitering", "sekretess_giltighet": "12 månader",
          "lakare_namn": "Doktor Exempel"}
EN_PO = sprak.TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "blanketter.po"
TITLE_EN = "Consent to share confidential information"
NOTE_EN = "has not been checked by a qualified translator"


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def api_for(app, client, runner, make_user, make_enhet):
    """An API caller in the given organisation: its PDF text of the sekretessmedgivande in a language."""
    made = {}

    def caller(organisation: str):
        if organisation not in made:
            username = f"api.{len(made)}"
            make_user(username=username, enhet_id=make_enhet(namn=f"Enheten i {organisation}", organisation=organisation))
            res = runner.invoke(main, args=["create-token", "--username", username, "--name", "test"])
            assert res.exit_code == 0, res.output
            made[organisation] = res.output.strip()
        token = made[organisation]

        def render(code: str = "en", fmt: str = "pdf") -> str:
            res = client.post(f"/api/v1/blanketter/{SEKRETESS}/{fmt}", json={**VALUES, "sprak": code},
                              headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 200, res.get_data(as_text=True)
            if fmt == "docx":
                return zipfile.ZipFile(io.BytesIO(res.data)).read("word/document.xml").decode("utf-8")
            return text_of(res.data)
        return render

    return caller


def post(client, url: str, data: dict | None = None, page: str = "/admin/sprak/en", **kw):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kw)


def upload(client, body: bytes, code: str = "en", **extra):
    """The upload form posted, its multipart body made here: Werkzeug's test client spools a body over
    500 kB to a temporary file it never closes (a ResourceWarning, an error under filterwarnings)."""
    token = csrf_token(client.get(f"/admin/sprak/{code}").get_data(as_text=True))
    boundary = "----formservice-test-boundary"
    out = b""
    for name, value in {"csrf_token": token, **extra}.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="po"; filename="blanketter.po"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    return client.post(f"/admin/sprak/{code}/texter", data=out,
                       content_type=f"multipart/form-data; boundary={boundary}")


def english_po(**replace_texts: str) -> bytes:
    """The shipped English file with some translations replaced (msgid → new msgstr)."""
    text = EN_PO.read_text(encoding="utf-8")
    for swedish, new in replace_texts.items():
        pattern = re.compile(r'(msgid "' + re.escape(swedish) + r'"\nmsgstr )"[^\n]*"')
        text, n = pattern.subn(lambda m: m.group(1) + '"' + new + '"', text)
        assert n == 1, swedish
    return text.encode("utf-8")


def rows(dbs):
    dbs.expire_all()
    return dbs.scalars(select(SprakTexter)).all()


# ----------------------------------------------------------------------------------- the page


def test_the_page_lists_every_language_with_its_status(admin):
    html = admin.get("/admin/sprak").get_data(as_text=True)
    for code, language in sprak.load_languages().items():
        assert language.name in html and language.own_name in html
        assert f'href="/admin/sprak/{code}"' in html
    assert "Inte granskad" in html and 'aria-current="page">Språk<' in html
    assert 'href="/admin/sprak"' in admin.get("/admin").get_data(as_text=True)
    page = admin.get("/admin/sprak/ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in page and "Markera som granskat" in page
    assert admin.get("/admin/sprak/xx").status_code == 404


def test_marking_a_language_reviewed_takes_the_note_away_for_that_organisation_only(admin, api_for, dbs):
    ours, theirs = api_for("Teststaden"), api_for("Andra kommunen")
    assert NOTE_EN in ours() and NOTE_EN in theirs()
    # Without a name or without the confirmation: refused, nothing stored.
    res = post(admin, "/admin/sprak/en/granskad", {"granskad_av": "  ", "bekraftat": "1"})
    assert res.status_code == 400 and "Skriv vem som granskade översättningen" in res.get_data(as_text=True)
    res = post(admin, "/admin/sprak/en/granskad", {"granskad_av": "Auktoriserad translator Tove Testsson"})
    assert res.status_code == 400 and "Bekräfta att en kvalificerad översättare" in res.get_data(as_text=True)
    assert rows(dbs) == []

    res = post(admin, "/admin/sprak/en/granskad", {"granskad_av": "Auktoriserad translator Tove Testsson",
                                                   "bekraftat": "1"})
    assert res.status_code == 302
    text = ours()
    assert TITLE_EN in text and NOTE_EN not in text and sprak.NOT_REVIEWED not in text
    assert "The Swedish text is the one that applies." in text
    assert NOTE_EN in theirs()  # another organisation: still not reviewed
    assert sprak.NOT_REVIEWED in ours("ar")  # another language: unchanged
    page = admin.get("/admin/sprak/en").get_data(as_text=True)
    assert "Granskad av Auktoriserad translator Tove Testsson" in page
    assert "sprak_granskad" in audit_actions(dbs)

    assert post(admin, "/admin/sprak/en/inte-granskad").status_code == 302
    assert audit_actions(dbs)[-1] == "sprak_ej_granskad"
    assert NOTE_EN in ours()


def test_an_uploaded_text_is_printed_and_unreviews_the_language(admin, api_for, dbs):
    ours, theirs = api_for("Teststaden"), api_for("Andra kommunen")
    post(admin, "/admin/sprak/en/granskad", {"granskad_av": "Auktoriserad translator Tove Testsson", "bekraftat": "1"})
    swedish = next(iter(_titles()))
    new_title = "Consent to sharing confidential information (reviewed wording)"
    res = upload(admin, english_po(**{swedish: new_title}))
    assert res.status_code == 302, res.get_data(as_text=True)
    text = ours()
    assert new_title in text and NOTE_EN in text  # replaced, and not reviewed any more
    assert new_title not in theirs()
    assert "sprak_texter_ersatta" in audit_actions(dbs)
    # The download is the file in use, for the translator.
    res = admin.get("/admin/sprak/en/blanketter.po")
    assert res.status_code == 200 and new_title in res.get_data(as_text=True)
    assert "X-Formservice-Granskad: nej" in res.get_data(as_text=True)

    # Uploaded as reviewed (with who reviewed it): no note.
    res = upload(admin, english_po(**{swedish: new_title}), granskad="1", granskad_av="")
    assert res.status_code == 400 and "Skriv vem som granskade" in res.get_data(as_text=True)
    res = upload(admin, english_po(**{swedish: new_title}), granskad="1",
                 granskad_av="Auktoriserad translator Tove Testsson")
    assert res.status_code == 302
    assert NOTE_EN not in ours() and new_title in ours()

    # Back to the shipped texts.
    assert post(admin, "/admin/sprak/en/aterstall").status_code == 302
    text = ours()
    assert new_title not in text and TITLE_EN in text and NOTE_EN in text
    assert rows(dbs) == []


def _titles():
    """The Swedish title of the sekretessmedgivande (the msgid the test replaces)."""
    from formservice import paths
    from formservice.blanketter.catalogue import load_catalogue

    yield load_catalogue(paths.FORMS_DIR).blanketter[SEKRETESS].title


@pytest.mark.parametrize("make, message", [
    (lambda: b"\x89PNG\r\n\x1a\n\x00\x00 garbage", "inte en PO-fil i UTF-8"),
    (lambda: b"hello, this is not a PO file", "gick inte att läsa som en PO-fil"),
    (lambda: b"msgid \"x\"\nmsgstr \"y\"\n" + b"#" * (600 * 1024), "Filen är för stor"),
    (lambda: english_po() + b'\nmsgid "En text som inte finns"\nmsgstr "A text that does not exist"\n',
     "som inte finns i blanketterna"),
    (lambda: english_po(**{next(iter(_titles())): ""}), "Texter saknas för"),
    (lambda: b"", "Välj en PO-fil"),
])
def test_bad_uploads_are_refused_in_swedish_and_change_nothing(admin, api_for, dbs, make, message):
    ours = api_for("Teststaden")
    before = ours()
    res = upload(admin, make())
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and message in html, html[:3000]
    assert 'aria-invalid="true"' in html and 'href="#po"' in html
    assert rows(dbs) == [] and "sprak_texter_ersatta" not in audit_actions(dbs)
    assert ours() == before


def test_an_added_placeholder_is_refused(admin, dbs):
    res = upload(admin, english_po(**{next(iter(_titles())): "Consent for {organisation}"}))
    assert res.status_code == 400 and "har platshållaren {organisation}" in res.get_data(as_text=True)
    assert rows(dbs) == []


def test_a_caseworker_gets_403(client, auth, make_user):
    make_user(username="sara")
    auth.login(username="sara")
    assert client.get("/admin/sprak").status_code == 403
    assert client.get("/admin/sprak/en/blanketter.po").status_code == 403
    token = csrf_token(client.get("/arenden").get_data(as_text=True))
    assert client.post("/admin/sprak/en/granskad", data={"csrf_token": token, "granskad_av": "X",
                                                         "bekraftat": "1"}).status_code == 403


def test_without_the_csrf_token_nothing_changes(admin, dbs):
    res = admin.post("/admin/sprak/en/granskad", data={"granskad_av": "X", "bekraftat": "1"})
    assert res.status_code == 400 and rows(dbs) == []


def test_another_organisations_admin_neither_sees_nor_affects_it(app, admin, make_user, make_enhet, api_for, dbs):
    other = app.test_client()
    make_user(username="bodil", role="admin", enhet_id=make_enhet(namn="Kansliet", organisation="Andra kommunen"))
    AuthActions(other).login(username="bodil", password=PASSWORD)
    post(admin, "/admin/sprak/en/granskad", {"granskad_av": "Auktoriserad translator Tove Testsson", "bekraftat": "1"})
    swedish = next(iter(_titles()))
    assert upload(admin, english_po(**{swedish: "Our own title"}), granskad="1",
                  granskad_av="Auktoriserad translator Tove Testsson").status_code == 302
    # The Word document too: the translated part's template is never the other organisation's.
    assert "Our own title" in api_for("Teststaden")("en", "docx")
    assert "Our own title" not in api_for("Andra kommunen")("en", "docx")
    page = other.get("/admin/sprak/en").get_data(as_text=True)
    assert "Tove Testsson" not in page and "Inte granskad" in page and "levererade med formservice" in page
    assert "Our own title" not in other.get("/admin/sprak/en/blanketter.po").get_data(as_text=True)
    # Her marks are her organisation's: ours stays as it is.
    assert post(other, "/admin/sprak/en/inte-granskad").status_code == 302
    assert post(other, "/admin/sprak/en/aterstall").status_code == 302
    ours = api_for("Teststaden")()
    assert "Our own title" in ours and NOTE_EN not in ours
    (left,) = rows(dbs)  # hers was made and removed again; ours is as it was
    assert left.granskad and b"Our own title" in left.po


@pytest.mark.db
def test_a_document_made_in_an_arende_follows_the_organisations_mark(app, admin, client, auth, make_user):
    """Through the document registry (the wizard; the rest – DOCX, parts – after the response)."""
    post(admin, "/admin/sprak/en/granskad", {"granskad_av": "Auktoriserad translator Tove Testsson", "bekraftat": "1"})
    swedish = next(iter(_titles()))
    upload(admin, english_po(**{swedish: "Consent, our organisation's wording"}), granskad="1",
           granskad_av="Auktoriserad translator Tove Testsson")
    soc = app.test_client()
    make_user(username="sara", enhet_id=admin.enhet_id)
    AuthActions(soc).login(username="sara")
    pid = create_arende(soc, ruta="soc1.9")
    cat, forfragan = app.extensions["catalogue"], "rehabiliteringsforfragan"
    number = next(p.number for p in wizard.pages(documents.parts_of(cat, forfragan))
                  if any(f.name == sprak.FIELD for f in p.fields))
    url = f"/arenden/{pid}/blankett/{forfragan}/sida/{number}"
    form = form_with(soc.get(url).get_data(as_text=True), "version")["fields"]
    assert soc.post(url, data={**{k: v or "" for k, v in form.items() if v is not None}, "sprak": "en",
                               "action": "next"}).status_code == 302
    done = fill_blankett(soc, pid, forfragan, cat)
    assert "Consent, our organisation's wording" in done["text"]
    assert NOTE_EN not in done["text"] and "The Swedish text is the one that applies." in done["text"]
    docx = soc.get(done["pdf_url"][:-len(".pdf")] + ".docx")
    assert docx.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode("utf-8")
    assert "Consent, our organisation" in xml and NOTE_EN not in xml


def test_a_lost_placeholder_is_refused():
    """No shipped text has a placeholder yet: a definition with one, and a file that loses it."""
    from dataclasses import replace

    from formservice import paths
    from formservice.arenden.sprakgranskning import SprakError, check_po
    from formservice.blanketter.catalogue import load_catalogue

    blanketter = dict(load_catalogue(paths.FORMS_DIR).blanketter)
    title = blanketter[SEKRETESS].title
    blanketter[SEKRETESS] = replace(blanketter[SEKRETESS], title="Sekretessmedgivande för {organisation}")
    text = EN_PO.read_text(encoding="utf-8")
    shipped = re.search(r'msgid "' + re.escape(title) + r'"\nmsgstr "([^"]*)"', text).group(1)
    english = sprak.load_languages()["en"]
    for translated, message in (("Consent", "Platshållaren {organisation} saknas i översättningen"),
                                ("Consent for {organisation}", None)):
        data = text.replace(f'msgid "{title}"\nmsgstr "{shipped}"',
                            f'msgid "Sekretessmedgivande för {{organisation}}"\nmsgstr "{translated}"').encode()
        if message is None:
            assert check_po(english, data, blanketter.values()).texts["Sekretessmedgivande för {organisation}"]
            continue
        with pytest.raises(SprakError) as refused:
            check_po(english, data, blanketter.values())
        assert message in str(refused.value)
