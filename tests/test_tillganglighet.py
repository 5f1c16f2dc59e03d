"""The tillgänglighetsredogörelse (/tillganglighet) built from forms/_tillganglighet.yaml and the
organisations' contact details, and kept true: a listed problem that a check can see must still be
there, a problem taken off the list must stay fixed, and the list and this file name the same ones."""
from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

from formservice.accounts.tillganglighet import CATEGORIES, STATEMENT_FILE, StatementError, load_statement
from formservice.paths import FORMS_DIR, TEMPLATES_DIR

STATEMENT = load_statement()
LISTED = {p.id for p in STATEMENT.problems}


def page(client) -> str:
    res = client.get("/tillganglighet")
    assert res.status_code == 200
    return res.get_data(as_text=True)


# ---------------------------------------------------------------- the statement as data
def test_every_listed_problem_has_category_criteria_and_a_plan():
    assert STATEMENT.problems and STATEMENT.method
    for p in STATEMENT.problems:
        assert p.category in CATEGORIES and p.scope in ("webb", "dokument"), p.id
        assert p.criteria and all(re.fullmatch(r"\d\.\d{1,2}\.\d{1,2} \S.*", c) for c in p.criteria), p.id
        assert p.text and p.planned and p.since <= STATEMENT.assessed, p.id
        # EN 301 549 repeats WCAG as clause 9 (web) and 10 (documents).
        assert all(en.startswith("9." if p.scope == "webb" else "10.") for en in p.en_clauses), p.id


def test_a_malformed_statement_is_a_swedish_error(tmp_path):
    text = (FORMS_DIR / STATEMENT_FILE).read_text(encoding="utf-8")
    (tmp_path / STATEMENT_FILE).write_text(text.replace("kategori: bristande_forenlighet", "kategori: okand", 1),
                                           encoding="utf-8")
    with pytest.raises(StatementError, match='okänd kategori "okand"'):
        load_statement(tmp_path)
    (tmp_path / STATEMENT_FILE).write_text(text.replace('["2.2.1 Justerbar tidsgräns"]', '["Justerbar"]'),
                                           encoding="utf-8")
    with pytest.raises(StatementError, match="kriterier ska vara WCAG-nummer"):
        load_statement(tmp_path)


# ---------------------------------------------------------------- the page
def test_a_fresh_install_shows_date_method_problems_and_a_contact(app, client):
    html = page(client)
    assert f"granskades senast den {STATEMENT.assessed.isoformat()}" in html
    assert "27 november" not in html  # the date came from the template once and went stale
    for method in STATEMENT.method:
        assert method.split(",")[0] in html
    for p in STATEMENT.problems:
        assert f'id="brist-{p.id}"' in html and p.category_label in html
        for criterion, clause in zip(p.criteria, p.en_clauses):
            assert f"WCAG 2.1 {criterion} (EN 301 549 {clause})" in html
    assert "delvis förenlig" in html
    assert 'href="https://www.digg.se/tdosanmalan"' in html
    # Nobody has entered a contact: the page still says how to reach the service's owner.
    assert f"Kontakta {app.config['ORGANISATION_NAME']} via växeln eller registratorn" in html


def test_the_map_is_not_said_to_be_undrawn(client):
    assert not re.search(r"inte (som )?(en )?ritad|inte ritas|inte ritad", page(client))


def test_the_installations_admin_is_the_contact_until_an_organisation_names_one(app, client, make_user, make_enhet):
    from formservice import db
    from formservice.accounts.models import Organisation

    make_user(username="adam", role="admin", epost="forvaltare@teststaden.example", telefon="08-508 000 00")
    html = page(client)
    assert "Tjänstens administratör" in html and "mailto:forvaltare@teststaden.example" in html
    with app.app_context():
        org = db.session().query(Organisation).first()
        org.kontakt_epost = "tillganglighet@teststaden.example"
        db.session().commit()
    html = page(client)
    assert "mailto:tillganglighet@teststaden.example" in html and "forvaltare@" not in html


def test_the_installations_own_contact_comes_first(app, client):
    app.config.update(ACCESSIBILITY_EMAIL="webb@example.se", ACCESSIBILITY_PHONE="08-123 00 00")
    html = page(client)
    assert "mailto:webb@example.se" in html and "telefon 08-123 00 00" in html
    assert "via växeln" not in html


# ---------------------------------------------------------------- kept current
def _logged_in_html(client, auth, make_user, url: str) -> str:
    make_user(username="kontroll")
    auth.login(username="kontroll")
    return client.get(url).get_data(as_text=True)


def idle_warning_needs_javascript(app, client, auth, make_user) -> bool:
    html = _logged_in_html(client, auth, make_user, "/")
    return 'id="idle-dialog"' in html and not re.search(r"<noscript>[^<]*utlogg", html, re.I)


def date_fields_are_native(app, client, auth, make_user) -> bool:
    with app.test_request_context("/"):
        field = app.extensions["catalogue"].blanketter["forandringsplan"].field("forandringsplan_datum")
        html = app.jinja_env.from_string(
            '{% from "web/_macros.html" import input_field %}{% from "web/blankett/_fields.html" import input %}'
            '{{ input_field("d", "Datum", "", type="date") }}{{ input(f, "", "d2", "f-d2", {}, "d2") }}').render(f=field)
    return 'type="date"' in html


def own_contact_fields_lack_autocomplete(app, client, auth, make_user) -> bool:
    with app.test_request_context("/"):
        blanketter = app.extensions["catalogue"].blanketter
        fields = [f for b in blanketter.values() for s in b.sections for f in s.fields
                  if f.prefill in ("user.namn", "user.titel", "user.telefon", "user.epost")]
        html = app.jinja_env.from_string(
            '{% from "web/blankett/_fields.html" import input %}'
            '{% for f in fields %}{{ input(f, "", f.name, "f-" ~ f.name, {}, f.name) }}{% endfor %}').render(fields=fields)
    return not fields or html.count("autocomplete=") < len(fields)


def docx_tables_lack_header_rows(app, client, auth, make_user) -> bool:
    for path in sorted((TEMPLATES_DIR / "docx").glob("*.docx")):
        xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
        if "{%tr for" in xml and "<w:tblHeader" not in xml:
            return True
    return False


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[list] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and (a.get("href") or "").startswith("/processkarta/"):
            self.open.append([a["href"].split("#")[0], a.get("aria-label"), []])

    def handle_endtag(self, tag):
        if tag == "a" and self.open:
            href, label, text = self.open.pop()
            self.found.append((href, label or " ".join("".join(text).split())))

    def handle_data(self, data):
        for link in self.open:
            link[2].append(data)


def map_links_share_names(app, client, auth, make_user) -> bool:
    parser = _Links()
    parser.feed(_logged_in_html(client, auth, make_user, "/processkarta"))
    targets = defaultdict(set)
    for href, name in parser.found:
        targets[name].add(href)
    return not parser.found or any(len(hrefs) > 1 for hrefs in targets.values())


def map_said_to_be_undrawn(app, client, auth, make_user) -> bool:
    return bool(re.search(r"inte som en ritad karta", page(client)))


# Listed problems a unit test can see: each check is true while the problem is there.
STILL_PRESENT = {
    "utloggning-utan-javascript": idle_warning_needs_javascript,
}
# Listed problems that need a browser, a screen reader or another tool: what checks them.
CHECKED_ELSEWHERE = {
    "pdf-tabell-sidbrytning": "PDF-strukturen över en sidbrytning (WeasyPrint), granskas för hand",
}
# Problems taken off the list: each check is true while they stay fixed.
STAYS_FIXED = {
    "datumfalt": lambda *a: not date_fields_are_native(*a),  # e2e: tests/e2e/test_date_entry.py
    "omflodning-320": None,  # 320 px, in Chromium: tests/e2e/test_reflow.py crawls every page
    "autocomplete-egna-uppgifter": lambda *a: not own_contact_fields_lack_autocomplete(*a),
    "docx-rubrikrader": lambda *a: not docx_tables_lack_header_rows(*a),
    "karta-samma-namn": lambda *a: not map_links_share_names(*a),
    "karta-ritas-inte": lambda *a: not map_said_to_be_undrawn(*a),
    "fokus-fellankar": None,  # every error summary link and the focus after a submit: tests/e2e/test_error_links.py
    "karta-skarmlasare": None,  # lanes as named groups, Ja/Nej hidden: tests/e2e/test_processkarta_a11y.py
    "upptagen-status": None,  # busy buttons and status messages: tests/e2e/test_busy.py
}


def test_the_list_and_this_test_know_the_same_problems():
    """A new known problem is added here with its check (or what checks it); a fixed one moves to
    STAYS_FIXED. Then the statement cannot quietly fall behind the service again."""
    assert LISTED == set(STILL_PRESENT) | set(CHECKED_ELSEWHERE), (
        f"{STATEMENT_FILE} och testet skiljer sig: {sorted(LISTED ^ (set(STILL_PRESENT) | set(CHECKED_ELSEWHERE)))}")
    assert not LISTED & set(STAYS_FIXED)


@pytest.mark.parametrize("problem_id", sorted(STILL_PRESENT))
def test_a_listed_problem_is_still_there(problem_id, app, client, auth, make_user):
    assert STILL_PRESENT[problem_id](app, client, auth, make_user), (
        f"Bristen {problem_id} verkar åtgärdad: ta bort den ur forms/{STATEMENT_FILE} (och uppdatera "
        f"granskad), och flytta kontrollen till STAYS_FIXED.")


@pytest.mark.parametrize("problem_id", sorted(k for k, check in STAYS_FIXED.items() if check))
def test_a_fixed_problem_stays_fixed(problem_id, app, client, auth, make_user):
    assert STAYS_FIXED[problem_id](app, client, auth, make_user), (
        f"Bristen {problem_id} är tillbaka: åtgärda den, eller lägg till den i forms/{STATEMENT_FILE}.")


# ---------------------------------------------------------------- smaller things on every page
def test_favicon_is_a_small_icon_not_a_404(client):
    res = client.get("/favicon.ico")
    assert res.status_code == 200 and res.mimetype == "image/vnd.microsoft.icon"
    assert res.get_data()[:4] == b"\x00\x00\x01\x00" and len(res.get_data()) < 8000  # an ICO header
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/logga-in").get_data(as_text=True)


def _anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a document's headings (lower case, punctuation dropped, - for space)."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower().replace("`", "")).replace(" ", "-")
            for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_the_readme_and_docs_link_only_inside_the_repository_and_every_link_lands():
    """A newcomer has only the clone: no link outside it (../shared), and every relative link and
    #anchor in README.md and docs/ goes to a file and a heading that exist."""
    root = Path(__file__).resolve().parents[1]
    for path in (root / "README.md", *sorted((root / "docs").glob("*.md"))):
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text, path.name
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            assert linked.is_relative_to(root) and linked.exists(), f"{path.name}: {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked.read_text(encoding="utf-8")), f"{path.name}: {target}"
