"""Gallring with a clock we control: exactly what the rules say goes, with everything of it, and
nothing else; exemptions, gallringsstopp, the dry run, the gallringslogg, the command."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from formservice import tid
from formservice.db import utcnow

# Test numbers only (Luhn-valid, never a real person): born the 12th, the 5th, the 13th, a
# samordningsnummer for the 25th (day + 60), and one born 1945.
PNR_12 = "191212121212"
PNR_05 = "191212051237"
PNR_13 = "191212131237"
SAMORDNING_25 = "191212851230"
PNR_45 = "194501012340"

NOW = datetime(2031, 6, 1, 3, 0)  # the controlled clock


@pytest.fixture
def admin_id(make_user, make_enhet):
    return make_user(username="admin", role="admin", enhet_id=make_enhet())


@pytest.fixture
def make_arende(app, admin_id):
    """An ärende with something in every table that hangs on it, its last entry at ``last``."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import operations
    from formservice.arenden.models import Dokument, DokumentDel, Handelse, Samtycke, Utkast
    from formservice.doctor.models import Svar

    def make(pnr: str, last: datetime, *, closed: bool = True, namn: str = "Tolvan Tolvansson",
             user_id: int | None = None) -> str:
        with app.app_context():
            dbs = db.session()
            user = dbs.get(User, user_id or admin_id)
            arende = operations.create(user, {"namn": namn, "personnummer": pnr}, lane="soc1", ruta="soc1.1")
            kr = operations.keyring()
            dok = Dokument(public_id=operations.new_public_id(), arende_id=arende.id, blankett_id="forandringsplan",
                           blankett_version="1", document_number=f"FS-{arende.public_id[:8]}",
                           pdf_enc=kr.encrypt(b"%PDF"), values_enc=kr.encrypt_json({}))
            dbs.add(dok)
            dbs.flush()
            dbs.add(DokumentDel(dokument_id=dok.id, position=0, blankett_id="forandringsplan",
                                title_enc=kr.encrypt(b"del"), pdf_enc=kr.encrypt(b"%PDF")))
            dbs.add(Samtycke(public_id=operations.new_public_id(), arende_id=arende.id, dokument_id=dok.id,
                             blankett_id="sekretessmedgivande", parties="fk", given_by_enc=kr.encrypt(b"individen"),
                             valid_from=last.date(), valid_until=last.date()))
            dbs.add(Svar(public_id=operations.new_public_id(), arende_id=arende.id, dokument_id=dok.id,
                         source="papper", status="bekraftad", answers_enc=kr.encrypt_json({})))
            dbs.add(Utkast(arende_id=arende.id, blankett_id="sip", values_enc=kr.encrypt_json({}), updated_at=last))
            for h in dbs.scalars(select(Handelse).where(Handelse.arende_id == arende.id)):
                h.at = last - timedelta(days=30)
            dbs.add(Handelse(arende_id=arende.id, kind="andrad", beslut="sista anteckningen", at=last))
            arende.created_at = arende.updated_at = last - timedelta(days=60)
            if closed:
                arende.status, arende.closed_on = "avslutat", (last - timedelta(days=10)).date()
            dbs.commit()
            return arende.public_id

    return make


def _ids(dbs, model, column="public_id"):
    return set(dbs.scalars(select(getattr(model, column))))


def _counts(dbs) -> dict[str, int]:
    tables = ["arende", "arende_sokord", "handelse", "utkast", "dokument", "dokument_del", "samtycke", "svar",
              "audit_entry", "gallringslogg", "gallringsstopp"]
    return {t: dbs.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}


def _run(app, now, dry_run):
    from formservice.arenden import gallring

    with app.app_context():
        return {(o.rule.key, o.organisation.id if o.organisation else None): (o.count, o.kept)
                for o in gallring.run(now, dry_run=dry_run)}


def _hold(app, admin_id, public_id, reason="Begäran om utlämnande 2031"):
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import gallringsstopp

    with app.app_context():
        gallringsstopp.set_hold(db.session().get(User, admin_id), public_id, reason)


@pytest.mark.db
def test_gallra_deletes_exactly_what_the_rules_say(app, dbs, admin_id, make_arende):
    from formservice.arenden.models import Arende, ArendeSokord, Gallringslogg, Utkast
    from formservice.audit import AuditEntry
    from formservice.doctor.models import Svar

    old = NOW - timedelta(days=5 * 365 + 30)  # more than five years before NOW
    due = make_arende(PNR_12, old)
    born_5th = make_arende(PNR_05, old, namn="Femman Femte")
    samordning_25th = make_arende(SAMORDNING_25, old, namn="Tjugofem Samordnad")
    on_hold = make_arende(PNR_13, old, namn="Tretton Stoppad")
    recent = make_arende(PNR_12, NOW - timedelta(days=4 * 365), namn="Tolvan Nyare")  # the same person, 4 years
    open_old = make_arende(PNR_45, old - timedelta(days=3000), closed=False, namn="Öppen Gammal")
    sibling_of_open = make_arende(PNR_45, old, namn="Öppen Gammal")  # closed, but the person's akt is in use
    _hold(app, admin_id, on_hold)
    due_id = dbs.scalar(select(Arende.id).where(Arende.public_id == due))
    due_pnr_hash = dbs.scalar(select(Arende.pnr_hash).where(Arende.public_id == due))
    # The person of "due" also has "recent": their akt's last entry is 4 years old, so neither goes yet;
    # the 5th-born, the samordningsnummer for the 25th and the ärende on hold are due but kept.
    assert _run(app, NOW, dry_run=True)[("arende_avslutat", 1)] == (0, 3)
    # Now let "recent" be someone else's: "due" is the only entry of its person, five years old.
    recent_id = dbs.scalar(select(Arende.id).where(Arende.public_id == recent))
    dbs.execute(text("UPDATE arende SET pnr_hash = 'another-person' WHERE id = :a"), {"a": recent_id})
    # Drafts of open ärenden: one untouched 100 days (goes), one changed 10 days ago (stays).
    open_id = dbs.scalar(select(Arende.id).where(Arende.public_id == open_old))
    dbs.execute(text("UPDATE utkast SET updated_at = :t WHERE arende_id = :a"),
                {"t": NOW - timedelta(days=100), "a": open_id})
    dbs.add(Utkast(arende_id=open_id, blankett_id="forandringsplan", values_enc=b"x",
                   updated_at=NOW - timedelta(days=10)))
    # The audit log: six years before NOW goes (also without an organisation), two years stays, and
    # so does what was logged about the ärende now.
    dbs.add_all([AuditEntry(at=NOW - timedelta(days=6 * 365), organisation_id=1, action="login"),
                 AuditEntry(at=NOW - timedelta(days=6 * 365), organisation_id=None, action="login"),
                 AuditEntry(at=NOW - timedelta(days=2 * 365), organisation_id=1, action="login"),
                 AuditEntry(at=utcnow(), organisation_id=1, action="arende_viewed", object_type="arende",
                            object_id=due)])
    dbs.commit()
    audit_before = dbs.scalar(select(func.count()).select_from(AuditEntry))

    before = _counts(dbs)
    sokord_of_due = dbs.scalar(select(func.count()).select_from(ArendeSokord).where(ArendeSokord.arende_id == due_id))
    assert sokord_of_due > 0
    preview = _run(app, NOW, dry_run=True)
    assert _counts(dbs) == before  # the dry run deletes nothing and writes no log
    assert preview[("arende_avslutat", 1)] == (1, 3)  # "due" goes; 5th, 25th (samordning) and the hold stay
    assert preview[("utkast", 1)] == (1, 0)
    assert preview[("granskningslogg", 1)] == (1, 0)
    assert preview[("granskningslogg", None)] == (1, 0)

    done = _run(app, NOW, dry_run=False)
    assert done == preview  # the real run deletes what the dry run counted
    dbs.expire_all()
    assert _ids(dbs, Arende) == {born_5th, samordning_25th, on_hold, recent, open_old, sibling_of_open}
    assert not dbs.scalar(select(func.count()).select_from(Arende).where(Arende.pnr_hash == due_pnr_hash))
    for table in ("arende_sokord", "handelse", "utkast", "dokument", "samtycke", "svar"):
        assert not dbs.execute(text(f"SELECT count(*) FROM {table} WHERE arende_id = :a"), {"a": due_id}).scalar()
    assert _counts(dbs)["dokument_del"] == before["dokument_del"] - 1
    assert _counts(dbs)["arende_sokord"] == before["arende_sokord"] - sokord_of_due
    assert dbs.scalar(select(func.count()).select_from(Svar)) == before["svar"] - 1
    assert set(dbs.scalars(select(Utkast.blankett_id).where(Utkast.arende_id == open_id))) == {"forandringsplan"}
    # Audit entries about the deleted ärende stay; the two old ones went.
    assert dbs.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == due)) == 1
    assert dbs.scalar(select(func.count()).select_from(AuditEntry)) == audit_before - 2

    log = dbs.scalars(select(Gallringslogg).order_by(Gallringslogg.id)).all()
    closed = next(e for e in log if e.kind == "arende_avslutat")
    assert (closed.organisation_id, closed.count, closed.kept, closed.at) == (1, 1, 3, NOW)
    assert closed.rule == "5 år efter sista anteckningen i personens ärenden"
    assert {e.kind for e in log} >= {"arende_avslutat", "utkast", "granskningslogg", "obekraftade_lakarsvar",
                                     "sessioner", "inloggningsforsok", "api_anrop"}
    written = " ".join(f"{e.kind} {e.rule}" for e in log)
    for secret in (PNR_12, "19121212", "Tolvan", due, due_pnr_hash):
        assert secret not in written
    assert set(Gallringslogg.__table__.c.keys()) == {"id", "at", "organisation_id", "kind", "rule", "count", "kept"}

    assert _run(app, NOW, dry_run=False)[("arende_avslutat", 1)] == (0, 3)  # nothing more is due


@pytest.mark.db
def test_the_arende_of_a_person_goes_five_years_after_the_last_entry_in_any_of_their_arenden(
        app, dbs, make_arende):
    from formservice.arenden.models import Arende

    first = make_arende(PNR_12, datetime(2024, 1, 10))
    second = make_arende(PNR_12, datetime(2025, 3, 1))
    assert _run(app, datetime(2030, 2, 1), dry_run=True)[("arende_avslutat", 1)] == (0, 0)
    assert _run(app, datetime(2030, 3, 2), dry_run=False)[("arende_avslutat", 1)] == (2, 0)
    assert not _ids(dbs, Arende) & {first, second}


def test_an_open_arende_is_never_gallrat(app, dbs, make_arende):
    from formservice.arenden.models import Arende

    kept = make_arende(PNR_12, datetime(1990, 1, 1), closed=False)
    assert _run(app, NOW, dry_run=False)[("arende_avslutat", 1)] == (0, 0)
    assert _ids(dbs, Arende) == {kept}


def test_keep_all_and_an_organisations_own_period(app, dbs, admin_id, make_arende):
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import gallring

    make_arende(PNR_12, NOW - timedelta(days=6 * 365))
    with app.app_context():
        user = db.session().get(User, admin_id)
        _typed, conf, errors = gallring.parse_settings({"period_arende_avslutat": "7", "period_utkast": "30",
                                                        "period_granskningslogg": "3", "birth_days": "",
                                                        "keep_all": "1"})
        assert not errors
        gallring.save_settings(user, conf)
    assert _run(app, NOW, dry_run=True)[("arende_avslutat", 1)] == (0, 0)  # 7 years now
    assert _run(app, NOW + timedelta(days=2 * 365), dry_run=True)[("arende_avslutat", 1)] == (0, 1)  # kept: all
    with app.app_context():
        conf.keep_all = False
        gallring.save_settings(db.session().get(User, admin_id), conf)
    assert _run(app, NOW + timedelta(days=2 * 365), dry_run=True)[("arende_avslutat", 1)] == (1, 0)


def test_default_exemptions_hold_for_a_kommun_only(app, make_enhet):
    from formservice import db
    from formservice.accounts.models import Organisation
    from formservice.arenden import gallring

    make_enhet(organisation="Regionen")
    with app.app_context():
        dbs = db.session()
        kommun = dbs.scalar(select(Organisation).where(Organisation.namn == "Regionen"))
        kommun.typ = "region"
        dbs.commit()
        assert gallring.settings(kommun).birth_days == ()
        kommun.typ = "kommun"
        assert gallring.settings(kommun).birth_days == (5, 15, 25)


def test_birth_day_reads_samordningsnummer():
    from formservice.arenden.gallring import birth_day

    assert [birth_day(p) for p in (PNR_12, PNR_05, SAMORDNING_25, "", "1912")] == [12, 5, 25, None, None]


@pytest.mark.parametrize("form, field, message", [
    ({"period_arende_avslutat": "4"}, "period_arende_avslutat", "minst 5 år: socialtjänstlagen kräver"),
    ({"period_arende_avslutat": "0"}, "period_arende_avslutat", "minst 5 år"),
    ({"period_arende_avslutat": "-5"}, "period_arende_avslutat", "skriv ett helt antal år"),
    ({"period_arende_avslutat": "fem"}, "period_arende_avslutat", "skriv ett helt antal år, t.ex. 5"),
    ({"period_arende_avslutat": "1000"}, "period_arende_avslutat", "högst 100 år"),
    ({"period_utkast": "0"}, "period_utkast", "minst 1 dag."),
    ({"period_utkast": "2.5"}, "period_utkast", "skriv ett helt antal dagar"),
    ({"period_granskningslogg": "0"}, "period_granskningslogg", "yngre än ett år"),
    ({"birth_days": "5, 32"}, "birth_days", "dagar i månaden (1–31)"),
    ({"birth_days": "femte"}, "birth_days", "dagar i månaden"),
    ({"birth_days": "5," * 60}, "birth_days", "Högst 100 tecken"),
])
def test_bad_settings_get_a_swedish_message_and_keep_what_was_typed(app, form, field, message):
    from formservice.arenden import gallring

    full = {"period_arende_avslutat": "5", "period_utkast": "90", "period_granskningslogg": "5",
            "birth_days": "5, 15, 25", **form}
    typed, conf, errors = gallring.parse_settings(full)
    assert conf is None and message in errors[field]
    assert typed[field] == str(form[field])[:200]


@pytest.mark.db
def test_database_refuses_to_delete_young_audit_entries_and_the_gallringslogg(app, dbs):
    from sqlalchemy.exc import DatabaseError

    from formservice.arenden.models import Gallringslogg
    from formservice.audit import AuditEntry

    old = AuditEntry(at=utcnow() - timedelta(days=400), action="login")
    young = AuditEntry(at=utcnow() - timedelta(days=300), action="login")
    dbs.add_all([old, young, Gallringslogg(at=utcnow(), kind="utkast", rule="90 dagar", count=0, kept=0)])
    dbs.commit()
    dbs.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": old.id})
    dbs.commit()
    for sql in ("DELETE FROM audit_entry WHERE id = :i", "UPDATE audit_entry SET action = 'x' WHERE id = :i",
                "DELETE FROM gallringslogg", "UPDATE gallringslogg SET count = 9"):
        with pytest.raises(DatabaseError):
            dbs.execute(text(sql), {"i": young.id})
        dbs.rollback()


def test_a_hold_keeps_drafts_and_is_audited_without_its_reason(app, dbs, admin_id, make_arende):
    from formservice.arenden.models import Gallringsstopp, Utkast
    from formservice.audit import AuditEntry

    pid = make_arende(PNR_12, NOW - timedelta(days=200), closed=False)
    _hold(app, admin_id, pid, reason="Tvist om beslutet")
    assert _run(app, NOW, dry_run=False)[("utkast", 1)] == (0, 0)
    assert dbs.scalar(select(func.count()).select_from(Utkast)) == 1
    reason_blob = dbs.scalar(select(Gallringsstopp.reason_enc))
    assert b"Tvist" not in reason_blob
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "gallringsstopp_set")).one()
    assert entry.object_id == pid and "Tvist" not in (entry.detail or "")


def test_holds_only_for_the_admins_own_organisation(app, admin_id, make_user, make_enhet, make_arende):
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import gallringsstopp

    other = make_user(username="annan", role="admin", enhet_id=make_enhet(organisation="Annan kommun"))
    pid = make_arende(PNR_12, NOW)
    with app.app_context():
        with pytest.raises(gallringsstopp.HoldError, match="inget ärende med det id"):
            gallringsstopp.set_hold(db.session().get(User, other), pid, "skäl")
        admin = db.session().get(User, admin_id)
        with pytest.raises(gallringsstopp.HoldError, match="Skriv varför"):
            gallringsstopp.set_hold(admin, pid, "   ")
        with pytest.raises(gallringsstopp.HoldError, match="högst 500 tecken"):
            gallringsstopp.set_hold(admin, pid, "x" * 501)
        gallringsstopp.set_hold(admin, pid, "skäl")
        assert [h.public_id for h in gallringsstopp.holds(admin)] == [pid]
        assert gallringsstopp.holds(db.session().get(User, other)) == []
        gallringsstopp.lift_hold(admin, pid)
        assert gallringsstopp.holds(admin) == []


# ---------------------------------------------------------------- the command
def test_gallra_command_dry_run_per_date_then_real_run(app, runner, dbs, make_arende):
    from formservice.arenden.models import Arende, Gallringslogg
    from formservice.cli import main

    make_arende(PNR_12, utcnow() - timedelta(days=4 * 365 + 200))  # due in well under a year
    res = runner.invoke(main, ["gallra", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "Skulle ta bort 0 avslutade ärenden (Teststaden: 5 år efter sista anteckningen i personens ärenden)" \
        in res.output
    future = (tid.today() + timedelta(days=366)).isoformat()
    res = runner.invoke(main, ["gallra", "--dry-run", "--per", future])
    assert res.exit_code == 0 and "Skulle ta bort 1 avslutade ärenden" in res.output
    assert "ingenting togs bort" in res.output
    assert dbs.scalar(select(func.count()).select_from(Arende)) == 1
    assert dbs.scalar(select(func.count()).select_from(Gallringslogg)) == 0

    res = runner.invoke(main, ["gallra", "--per", future])
    assert res.exit_code != 0 and "--per går bara med --dry-run" in res.output
    res = runner.invoke(main, ["gallra", "--dry-run", "--per", "2031-13-01"])
    assert res.exit_code != 0 and "ÅÅÅÅ-MM-DD" in res.output

    res = runner.invoke(main, ["gallra"])
    assert res.exit_code == 0 and "Tog bort 0 avslutade ärenden" in res.output
    assert "Tog bort 0 obekräftade läkarsvar (24 timmar efter uppladdningen)" in res.output
    assert dbs.scalar(select(func.count()).select_from(Arende)) == 1
    assert dbs.scalar(select(func.count()).select_from(Gallringslogg)) >= 7


def test_one_organisations_settings_never_reach_another(app, dbs, admin_id, make_user, make_enhet, make_arende):
    """Organisation 1 keeps everything (keep_all, longer periods); organisation 2 keeps the defaults:
    its due ärende goes, organisation 1's ärende of the same age stays, and the same personnummer
    in two organisations are two personakter."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import gallring
    from formservice.arenden.models import Arende

    other_admin = make_user(username="admin2", role="admin", enhet_id=make_enhet(namn="Annan enhet",
                                                                                 organisation="Annan kommun"))
    last = NOW - timedelta(days=6 * 365)
    ours = make_arende(PNR_12, last)
    theirs = make_arende(PNR_12, last, user_id=other_admin)
    with app.app_context():
        _typed, conf, errors = gallring.parse_settings({"period_arende_avslutat": "10", "period_utkast": "3650",
                                                        "period_granskningslogg": "10", "birth_days": "",
                                                        "keep_all": "1"})
        assert not errors
        gallring.save_settings(db.session().get(User, admin_id), conf)
    _run(app, NOW, dry_run=False)
    dbs.expire_all()
    assert set(dbs.scalars(select(Arende.public_id))) == {ours}
    assert theirs not in set(dbs.scalars(select(Arende.public_id)))
