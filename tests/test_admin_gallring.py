"""The admin page for gallring: the rules and their sources, the organisation's periods and
exemptions (bad input: a Swedish message next to the field, what was typed kept, never a 500),
gallringsstopp from the page and from the ärende's overview, the gallringslogg."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from formservice.arenden.models import Gallringsregel, Gallringsstopp, Gallringsundantag
from formservice.audit import AuditEntry

from .formparse import form_with
from .test_admin import admin, audit_actions, post_form  # noqa: F401 — the admin fixture
from .wizard_driver import create_arende


def test_page_shows_the_rules_with_defaults_and_sources(admin):
    html = admin.get("/admin/gallring").get_data(as_text=True)
    for text in ("Avslutade ärenden med dokument, svar, samtycken och historik",
                 "5 år efter sista anteckningen i personens ärenden", "socialtjänstlagen (2025:400): uppgifter i en personakt", "90 dagar efter senaste ändringen",
                 "24 timmar efter uppladdningen", "12 timmar efter att sessionen gick ut",
                 "samma för alla organisationer", "Inga ärenden har gallringsstopp.", "Ingen gallring har körts än.",
                 "7 kap. 2 § socialtjänstförordningen (2001:937)"):
        assert text in html
    form = form_with(html, "period_arende_avslutat")["fields"]
    assert (form["period_arende_avslutat"], form["period_utkast"], form["birth_days"]) == ("5", "90", "5, 15, 25")
    assert "period_sessioner" not in form  # global rules are read-only
    assert 'aria-current="page">Gallring<' in html


@pytest.mark.parametrize("values, message", [
    ({"period_arende_avslutat": "3"}, "minst 5 år: socialtjänstlagen kräver"),
    ({"period_utkast": "0"}, "minst 1 dag."),
    ({"period_utkast": "-4"}, "skriv ett helt antal dagar"),
    ({"period_granskningslogg": "tre"}, "skriv ett helt antal år"),
    ({"birth_days": "5, 40"}, "dagar i månaden (1–31)"),
])
def test_bad_input_is_refused_next_to_the_field_and_kept(admin, dbs, values, message):
    res = post_form(admin, "/admin/gallring", "period_utkast", values)
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and message in html
    (name, typed), = values.items()
    assert f'id="{name}-error"' in html and 'aria-invalid="true"' in html
    assert form_with(html, "period_utkast")["fields"][name] == typed
    assert html.count('class="error-summary"') == 1 and f'href="#{name}"' in html
    assert dbs.scalar(select(Gallringsregel)) is None


def test_saving_periods_and_exemptions_is_audited(admin, dbs):
    res = post_form(admin, "/admin/gallring", "period_utkast",
                    {"period_utkast": "30", "period_arende_avslutat": "10", "birth_days": "25 5", "keep_all": "1"},
                    follow=True)
    assert res.status_code == 200 and "Gallringsreglerna är sparade" in res.get_data(as_text=True)
    stored = {r.kind: r.period for r in dbs.scalars(select(Gallringsregel))}
    assert stored == {"arende_avslutat": 10, "utkast": 30, "granskningslogg": 5}
    exemption = dbs.scalar(select(Gallringsundantag))
    assert (exemption.birth_days, exemption.keep_all) == ("5,25", True)
    assert "gallring_changed" in audit_actions(dbs)
    form = form_with(admin.get("/admin/gallring").get_data(as_text=True), "period_utkast")["fields"]
    assert (form["period_utkast"], form["birth_days"], form["keep_all"]) == ("30", "5, 25", "1")


def test_hold_from_the_admin_page_and_from_the_arende(admin, dbs):
    pid = create_arende(admin)
    res = post_form(admin, "/admin/gallring", "reason", {"arende": "finns-inte", "reason": "Tvist"})
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and "Det finns inget ärende med det id:t" in html and ">Tvist</textarea>" in html
    res = post_form(admin, "/admin/gallring", "reason", {"arende": pid, "reason": ""})
    assert res.status_code == 400 and "Skriv varför ärendet inte får gallras." in res.get_data(as_text=True)

    res = post_form(admin, "/admin/gallring", "reason", {"arende": pid, "reason": "Begäran om utlämnande"},
                    follow=True)
    html = res.get_data(as_text=True)
    assert "Ärendet har gallringsstopp" in html and "Begäran om utlämnande" in html and pid in html
    assert dbs.scalar(select(Gallringsstopp)).arende.public_id == pid
    show = admin.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Skäl: Begäran om utlämnande" in show and "Häv gallringsstoppet" in show

    res = post_form(admin, f"/arenden/{pid}", "from", {}, follow=False)  # the lift form on the overview
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/arenden/{pid}")
    dbs.expire_all()
    assert dbs.scalar(select(Gallringsstopp)) is None
    show = admin.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Sätt gallringsstopp" in show
    res = post_form(admin, f"/arenden/{pid}", "from", {"reason": "Pågående tvist"})
    assert res.status_code == 302 and dbs.scalar(select(Gallringsstopp)) is not None
    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action.like("gallringsstopp%"))).all()
    assert [e.action for e in entries] == ["gallringsstopp_set", "gallringsstopp_lifted", "gallringsstopp_set"]
    assert all(e.object_id == pid and not e.detail for e in entries)


def test_caseworkers_see_no_hold_form_and_cannot_reach_the_page(client, auth, make_user):
    make_user(username="sara")
    auth.login(username="sara")
    pid = create_arende(client)
    assert "gallringsstopp" not in client.get(f"/arenden/{pid}").get_data(as_text=True).lower()
    assert client.get("/admin/gallring").status_code == 403


def test_the_log_is_shown_after_a_run(admin, runner):
    from formservice.cli import main

    assert runner.invoke(main, ["gallra"]).exit_code == 0
    html = admin.get("/admin/gallring").get_data(as_text=True)
    assert "Ingen gallring har körts än." not in html
    assert "5 år efter sista anteckningen i personens ärenden" in html and "alla organisationer" in html
