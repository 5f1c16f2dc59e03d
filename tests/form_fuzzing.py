"""Random and malformed posts to every form route of the web app, for the suite's bounded fuzz test
(tests/test_forms_fuzz.py) and the full campaign (fuzz/forms.py).

A world with one of everything a route can name (an ärende, a draft, a document, the doctor's
answers waiting for confirmation, a user, an enhet, an API token) is built through the app itself;
each post takes the field names the real page offers, fills them with hostile values (control
characters, "²", 5,000-digit numbers, files where text is expected, lists, huge strings) and adds
keys the page never had. What is checked: never a 5xx, never Werkzeug's English error page.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from hypothesis import strategies as st
from sqlalchemy import select

from formservice import tid

from .conftest import PASSWORD, AuthActions, csrf_token
from .formparse import forms
from .wizard_driver import create_arende, fill_blankett, step

SPECIAL = st.sampled_from([
    "", " ", "²", "٣", "１２", "-1", "0", "1" * 5000, "9" * 4301, "1e309", "NaN", "\x00", "\r\n",
    "\t/evil.example", "//evil.example", "/\t/evil.example/", "/\n/x", "<script>alert(1)</script>",
    "' OR 1=1 --", "ÅÄÖ" * 3000, "../../etc/passwd", "19121212-1212", "20300101-1232", "2026-02-30", "25:99",
    "true", "on", "/Off", "{{7*7}}", "%s%s%n", "soc1.99", "nej:soc1.2", "yes:soc1.2", "skickad", "aterkalla"])
# The special values most of the time: random text alone rarely hits what breaks a parser.
HOSTILE_TEXT = st.one_of(SPECIAL, SPECIAL, SPECIAL, st.text(max_size=40),
                         st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str))
QUERY_KEYS = st.sampled_from(["sida", "next", "bana", "ruta", "visa", "handelse", "from_review", "q",
                              "fran", "till", "enhet", "kon", "alder"])
EXTRA_KEYS = st.sampled_from(["version", "action", "val", "ruta", "bana", "status", "next", "utkast", "from_review",
                              "q", "fil", "blankett", "inloggning", "x" * 300, "steg.0.nar", "steg.999999.nar",
                              "rows.-1.x", "__proto__"])


@dataclass
class World:
    urls: dict[str, str]   # endpoint → a URL that reaches it with real ids
    client: object


def build_world(app) -> World:
    """An admin who is also a caseworker of the enhet, with one of every object, logged in."""
    from formservice import db
    from formservice.accounts import administration, operations

    with app.app_context():
        org = administration.create_organisation("Fuzzkommunen", "kommun")
        enhet = administration.create_enhet(None, org.id, administration.EnhetData(namn="Fuzzenheten"))
        operations.create_user(username="fuzzadmin", password=PASSWORD, role="admin", enhet_id=enhet.id,
                               namn="Fia Fuzz")
        other = operations.create_user(username="fuzzother", password=PASSWORD, role="socialsekreterare",
                                       enhet_id=enhet.id, namn="Olle Annan")
        token_id = None
        administration.create_token(None, other, "fuzz", None)
        from formservice.accounts.models import ApiToken

        token_id = db.session().query(ApiToken).first().id
        other_id, enhet_id = other.id, enhet.id
    from formservice import jobs

    jobs.migrate(app)  # as `formservice init-db` does: the registerutdrag and the report are queued
    client = app.test_client()
    AuthActions(client).login(username="fuzzadmin")
    pid = create_arende(client, ruta="soc1.9")
    fill_blankett(client, pid, "rehabiliteringsforfragan", app.extensions["catalogue"])
    step(client, pid, "soc1.10")
    html = client.get(f"/arenden/{pid}").get_data(as_text=True)
    doc_id = re.search(r'/dokument/([^/."]+)\.ifyllbar', html).group(1)
    page = client.get(f"/arenden/{pid}/dokument/{doc_id}/svar").get_data(as_text=True)
    res = client.post(f"/arenden/{pid}/dokument/{doc_id}/papper", data={"csrf_token": csrf_token(page)})
    svar_url = res.headers["Location"]
    draft_page = client.get(f"/arenden/{pid}/blankett/forandringsplan/sida/1")
    assert draft_page.status_code == 200
    base = f"/arenden/{pid}"
    samtycke_id = _a_samtycke(app, client, base)
    urls = {
        "admin_users.user": f"/admin/anvandare/{other_id}",
        "admin_users.user_action": f"/admin/anvandare/{other_id}/hav-sparr",
        "admin_users.new_user": "/admin/anvandare/ny",
        "admin_users.tokens": "/admin/api-nycklar",
        "admin_users.revoke_token": f"/admin/api-nycklar/{token_id}/aterkalla",
        "admin.enhet": f"/admin/enheter/{enhet_id}",
        "admin.enhet.ny": "/admin/enheter/ny",
        "admin.organisation": "/admin/organisation",
        "admin.texts": "/admin/organisation/texter",
        "admin.texts_pdf": "/admin/organisation/texter/forhandsgranska.pdf",
        "arenden.index": "/arenden",
        "blankett.review": f"{base}/blankett/forandringsplan/granska",
        "blankett.discard": f"{base}/blankett/sip_kallelse/kasta",
        "blankett.page": f"{base}/blankett/forandringsplan/sida/1",
        "blankett.page.rows": f"{base}/blankett/forandringsplan/sida/3",
        "svar.paper": f"{base}/dokument/{doc_id}/papper",
        "arenden.document_status": f"{base}/dokument/{doc_id}/status",
        "svar.upload": f"{base}/dokument/{doc_id}/svar",
        "arenden.step": f"{base}/steg",
        "svar.confirm": svar_url,
        "dfa.review": f"{base}/dfa-granskning",
        "arenden.edit_individ": f"{base}/uppgifter",
        "arenden.where": f"{base}/var",
        "arenden.new": "/arenden/nytt",
        "auth.change_password": "/konto/losenord",
        "admin_gallring.save": "/admin/gallring",
        "admin_gallring.set_hold": "/admin/gallring/stopp",
        "admin_gallring.lift_hold": "/admin/gallring/stopp/hav",
        "admin_processkarta.reload_map": "/admin/processkarta",
        "admin_sprak.language": "/admin/sprak/en",
        "admin_sprak.review": "/admin/sprak/en/granskad",
        "admin_sprak.unreview": "/admin/sprak/en/inte-granskad",
        "admin_sprak.upload": "/admin/sprak/en/texter",
        "admin_sprak.restore": "/admin/sprak/en/aterstall",
        "admin_registerutdrag.index": "/admin/registerutdrag",
        "uppfoljning.report": "/uppfoljning/rapport",
        "samtycke.new": f"{base}/samtycke/nytt",
        "samtycke.revoke": f"{base}/samtycke/{samtycke_id}/aterkalla",
        "svar.cancel": f"{svar_url}/avbryt",
        "main.keepalive": "/sessionen/forlang",
        "arenden.close": f"{base}/avsluta",
        "arenden.reopen": f"{base}/oppna",
        "auth.login": "/logga-in",
        "auth.logout": "/logga-ut",
        "admin.logo": "/admin/organisation/logotyp",
        "samverkan.send": f"{base}/dokument/{doc_id}/skicka",
        # An admin has no inbox: these answer 404 for every post, which must stay a 404 (their
        # behaviour for the recipient is tests/test_samverkan*.py's).
        "samverkan.accept": "/inkommande/fuzzfinnsinte/ta-emot",
        "samverkan.give_back": "/inkommande/fuzzfinnsinte/returnera",
        "samverkan.reply": "/inkommande/fuzzfinnsinte/svara",
        # Pages without a form of their own whose query string is read (GETs only).
        "uppfoljning.index": "/uppfoljning",
        "uppfoljning.table_csv": "/uppfoljning/oppna-per-ruta.csv",
        "arenden.show": base,
    }
    return World(urls=urls, client=client)


def _a_samtycke(app, client, base: str) -> str:
    """A samtycke recorded on the ärende through its page, for the revoke form; its public id."""
    from formservice import db
    from formservice.arenden.models import Samtycke

    page = client.get(f"{base}/samtycke/nytt").get_data(as_text=True)
    form = next(f for f in forms(page) if "given_by" in f["names"])
    data = {k: v for k, v in form["fields"].items() if v is not None and k != "parties"}
    data["parties"] = re.findall(r'name="parties" value="(\w+)"', page)[:1]
    data.update(valid_from=tid.today().isoformat(), valid_until="", given_by=data.get("given_by") or "skriftligt")
    res = client.post(f"{base}/samtycke/nytt", data=data)
    assert res.status_code in (302, 303), re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', res.get_data(as_text=True))
    with app.app_context():
        return db.session().scalars(select(Samtycke.public_id)).first()


# Every form route of the app (tests/test_forms_fuzz.py checks that none is missing), in the order
# the suite's test posts to them: the ones that end what others need (closing the ärende, signing
# out) last.
ENDPOINTS = ["admin_users.user", "admin_users.user_action", "admin_users.new_user", "admin_users.tokens",
             "admin_users.revoke_token", "admin.enhet", "admin.enhet.ny", "admin.organisation", "admin.texts",
             "admin.texts_pdf", "arenden.index", "blankett.review", "blankett.discard", "blankett.page",
             "blankett.page.rows", "svar.paper", "arenden.document_status", "svar.upload", "arenden.step",
             "svar.confirm", "dfa.review", "arenden.edit_individ", "arenden.where", "arenden.new", "auth.change_password",
             "admin_gallring.save", "admin_gallring.set_hold", "admin_gallring.lift_hold",
             "admin_processkarta.reload_map", "admin_sprak.review", "admin_sprak.unreview", "admin_sprak.upload",
             "admin_sprak.restore", "admin_registerutdrag.index", "uppfoljning.report", "samtycke.new",
             "samtycke.revoke", "svar.cancel", "main.keepalive", "admin.logo", "samverkan.send", "samverkan.accept",
             "samverkan.give_back", "samverkan.reply", "arenden.close", "arenden.reopen", "auth.login",
             "auth.logout"]
# Where a page reads its query string but has no form: hostile GETs only.
GET_ONLY = ["uppfoljning.index", "uppfoljning.table_csv", "arenden.show"]
# A route the form fuzzing leaves to another campaign: the JSON API (tests/test_api_fuzz.py, fuzz/api.py).
ELSEWHERE = {"api.render", "auth.external_acs"}  # the SAML ACS: tests/test_saml.py


# The form a page shows for a URL that only takes posts (its form sits on another page).
SHOWN_ON = {"admin_users.user_action": "admin_users.user", "admin_users.revoke_token": "admin_users.tokens",
            "admin.texts_pdf": "admin.texts", "blankett.discard": "blankett.review", "svar.paper": "svar.upload",
            "arenden.document_status": "svar.upload", "admin_gallring.set_hold": "admin_gallring.save",
            "admin_gallring.lift_hold": "admin_gallring.save", "uppfoljning.report": "uppfoljning.index",
            "svar.cancel": "svar.confirm", "main.keepalive": "arenden.show", "arenden.reopen": "arenden.show",
            "auth.logout": "arenden.show", "admin.logo": "admin.organisation", "samverkan.accept": "arenden.show",
            "samverkan.give_back": "arenden.show", "samverkan.reply": "arenden.show",
            "admin_sprak.review": "admin_sprak.language", "admin_sprak.unreview": "admin_sprak.language",
            "admin_sprak.upload": "admin_sprak.language", "admin_sprak.restore": "admin_sprak.language"}


def field_names(client, url: str) -> tuple[str, list[str]]:
    """(CSRF token, the names of the fields on the page at ``url``)."""
    html = client.get(url).get_data(as_text=True)
    names: list[str] = []
    for form in forms(html):
        names += [n for n in form["names"] if n != "csrf_token"]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return (match.group(1) if match else ""), sorted(set(names))


@st.composite
def hostile_post(draw, names: list[str]):
    """A post body: most of the page's fields, some foreign keys, hostile values; now and then a file
    where text is expected, or a field given twice."""
    chosen = [n for n in names if draw(st.integers(0, 4))]  # each field present four times in five
    chosen += draw(st.lists(EXTRA_KEYS, max_size=3, unique=True))
    data = {}
    for name in chosen:
        kind = draw(st.integers(0, 11))
        if kind == 0:
            data[name] = (io.BytesIO(draw(st.binary(max_size=64))), draw(st.sampled_from(["a.pdf", "x", "ä.txt"])))
        elif kind == 1:
            data[name] = draw(st.lists(HOSTILE_TEXT, min_size=2, max_size=3))
        else:
            data[name] = draw(HOSTILE_TEXT)
    return data


@st.composite
def hostile_query(draw) -> str:
    """A query string of the parameters pages read (page numbers, next, filters), hostile values."""
    from urllib.parse import urlencode

    pairs = [(key, draw(HOSTILE_TEXT)) for key in draw(st.lists(QUERY_KEYS, max_size=3, unique=True))]
    return ("?" + urlencode(pairs)) if pairs else ""


def post(client, url: str, token: str, data: dict, query: str = ""):
    body = dict(data)
    if "csrf_token" not in body:
        body["csrf_token"] = token
    return client.post(url + query, data=body, content_type="multipart/form-data")


ENGLISH = re.compile(r"Internal Server Error|Bad Request</h1>|The browser \(or proxy\)|Method Not Allowed</h1>")


def problem(response) -> str | None:
    """What is wrong with an answer to a hostile post, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.mimetype == "text/html" and ENGLISH.search(response.get_data(as_text=True)):
        return "Werkzeug's English error page"
    return None
