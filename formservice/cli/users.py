"""Organisations, enheter, users and API tokens from the command line (the first admin, and what an
admin cannot do in the browser when no admin can sign in), and the demo data."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from formservice import tid

from ..accounts.models import ENHET_TYPES, ORGANISATION_TYPES, ROLES
from . import DEMO_PASSWORD, main


@main.command("create-organisation")
@click.option("--namn", required=True, help="Organisationens namn, t.ex. Stockholms stad.")
@click.option("--typ", required=True, type=click.Choice(sorted(ORGANISATION_TYPES)))
@with_appcontext
def create_organisation(namn, typ):
    """Skapa en organisation (kommun, region, myndighet eller samordningsförbund)."""
    from ..accounts import administration
    from ..accounts.operations import AccountError

    try:
        org = administration.create_organisation(namn, typ)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Skapade organisationen {org.namn} (id {org.id}).")


@main.command("create-enhet")
@click.option("--organisation-id", type=int, required=True, help="Id för enhetens organisation.")
@click.option("--namn", required=True, help="Enhetens namn som det står på blanketterna.")
@click.option("--typ", default="socialtjanst", show_default=True, type=click.Choice(sorted(ENHET_TYPES)))
@click.option("--adress", default="", help="Utdelningsadress.")
@click.option("--postnummer", default="")
@click.option("--ort", default="")
@click.option("--telefon", default="")
@with_appcontext
def create_enhet(organisation_id, namn, typ, adress, postnummer, ort, telefon):
    """Skapa en enhet i en organisation."""
    from ..accounts import administration
    from ..accounts.operations import AccountError

    data = administration.EnhetData(namn=namn, typ=typ, utdelningsadress=adress, postnummer=postnummer, ort=ort,
                                    telefon=telefon)
    try:
        enhet = administration.create_enhet(None, organisation_id, data)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Skapade enheten {enhet.namn} (id {enhet.id}).")


@main.command("list-enheter")
@with_appcontext
def list_enheter():
    """Visa organisationer och enheter med sina id:n."""
    from sqlalchemy import select

    from .. import db
    from ..accounts.models import Organisation

    orgs = db.session().scalars(select(Organisation).order_by(Organisation.id)).all()
    if not orgs:
        click.echo("Inga organisationer än: börja med 'formservice create-organisation'.")
    for org in orgs:
        click.echo(f"{org.id:>4}  {org.namn} ({ORGANISATION_TYPES.get(org.typ, org.typ)})")
        for enhet in sorted(org.enheter, key=lambda e: e.id):
            click.echo(f"{enhet.id:>10}  {enhet.namn}")


@main.command("create-user")
@click.option("--username", required=True, help="Användarnamn (inloggning).")
@click.option("--namn", required=True, help="För- och efternamn.")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--enhet-id", type=int, required=True, help="Id för användarens enhet.")
@click.option("--titel", default="")
@click.option("--telefon", default="")
@click.option("--epost", default="")
@click.option("--oidc-identity", default="", metavar="ID",
              help="Identiteten hos inloggningstjänsten (värdet av FORMSERVICE_OIDC_USER_CLAIM, t.ex. sub eller "
                   "HSA-id). Utan lösenord: användaren loggar bara in via inloggningstjänsten.")
@click.option("--password-stdin", is_flag=True, help="Läs lösenordet från standard in (första raden), för skript.")
@click.option("--password", default=None, hidden=True)  # in argv is visible to ps and shell history; tests
@with_appcontext
def create_user(username, namn, role, enhet_id, titel, telefon, epost, oidc_identity, password_stdin, password):
    """Skapa en användare (den första administratören: --role admin). Lösenordet frågas efter, utom med
    --oidc-identity: då loggar användaren in via organisationens inloggningstjänst."""
    from ..accounts import administration
    from ..accounts.operations import AccountError

    oidc_identity = oidc_identity.strip()
    if password_stdin:
        password = _password_from_stdin()
    elif password is None and not oidc_identity:
        if not current_app.config["PASSWORD_LOGIN"]:
            raise click.ClickException(
                "Inloggning med lösenord är avstängd (FORMSERVICE_PASSWORD_LOGIN=0): ange användarens identitet "
                "hos inloggningstjänsten med --oidc-identity.")
        password = _prompt_password()
    data = administration.UserData(namn=namn, role=role, enhet_id=enhet_id, titel=titel, telefon=telefon,
                                   epost=epost, external_id=oidc_identity)
    try:
        # "" with an identity: no usable password, sign-in only through the identity provider.
        user, _ = administration.create_user(None, username, data, password=password or "")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    how = " (loggar in via inloggningstjänsten)" if oidc_identity and not password else ""
    click.echo(f"Skapade användaren {user.username} (id {user.id}){how}.")


@main.command("set-oidc-identity")
@click.argument("username")
@click.argument("identity")
@with_appcontext
def set_oidc_identity(username, identity):
    """Sätt användarens identitet hos inloggningstjänsten ("" tar bort den)."""
    from sqlalchemy import select

    from .. import audit, db
    from ..accounts.models import User

    user = _user(username)
    identity = identity.strip()
    if identity and db.session().scalar(select(User).where(User.external_id == identity, User.id != user.id)):
        raise click.ClickException("En annan användare har redan den identiteten hos inloggningstjänsten.")
    user.external_id = identity or None
    audit.record("user_changed", object_type="anvandare", object_id=str(user.id), detail="external_id",
                 commit=False, organisation_id=user.enhet.organisation_id)
    db.session().commit()
    click.echo(f"{user.username}: identiteten hos inloggningstjänsten är {identity or 'borttagen'}.")


@main.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Läs lösenordet från standard in (första raden), för skript.")
@click.option("--must-change", is_flag=True, help="Användaren måste byta lösenordet vid nästa inloggning.")
@with_appcontext
def reset_password(username, password_stdin, must_change):
    """Sätt ett nytt lösenord (frågas efter). Användarens sessioner upphör och spärren efter
    felaktiga försök släpps."""
    from .. import audit, db
    from ..accounts import login
    from ..accounts.sessions import end_sessions
    from ..db import utcnow

    user = _user(username)
    password = _password_from_stdin() if password_stdin else _prompt_password()
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise click.ClickException(f"Lösenordet måste ha minst {minimum} tecken.")
    user.password_hash = login.hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    end_sessions(user.id)
    login.unlock(user)
    audit.record("password_reset", object_type="anvandare", object_id=str(user.id), commit=False,
                 organisation_id=user.enhet.organisation_id)
    db.session().commit()
    click.echo(f"Nytt lösenord för {user.username}." + ("" if user.active else
               f" Kontot är inaktiverat: 'formservice reactivate-user {user.username}'."))


@main.command("deactivate-user")
@click.option("--username", required=True)
@with_appcontext
def deactivate_user(username):
    """Inaktivera en användare: alla sessioner och API-nycklar upphör direkt."""
    from ..accounts import administration
    from ..accounts.operations import AccountError

    user = _user(username)
    try:
        administration.deactivate_user(None, user)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.username} är inaktiverad.")


@main.command("reactivate-user")
@click.argument("username")
@with_appcontext
def reactivate_user(username):
    """Aktivera en inaktiverad användare igen (eller godkänn ett konto som väntar på godkännande)."""
    from ..accounts import administration

    user = _user(username)
    if user.active:
        click.echo(f"{user.username} är redan aktiv.")
        return
    administration.reactivate_user(None, user)
    click.echo(f"{user.username} är aktiv igen.")


def _user(username: str):
    from ..accounts import administration

    user = administration.user_by_username(username)
    if user is None:
        raise click.ClickException(f"Det finns ingen användare {username}.")
    return user


def _prompt_password() -> str:
    return click.prompt("Lösenord", hide_input=True, confirmation_prompt="Upprepa lösenordet")


def _password_from_stdin() -> str:
    import sys

    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.ClickException("Inget lösenord på standard in.")
    return line


@main.command("demo")
@click.option("--if-empty", is_flag=True, help="Gör ingenting om det redan finns användare.")
@click.option("--login-help-only", is_flag=True, help="Visa bara demoinloggningen, om demodatan finns.")
@click.option("--exempelarenden", type=click.IntRange(min=0), default=None,
              help="Antal genererade ärenden för uppföljningen (standard 1 200: tillräckligt många för att "
                   "varje tabell ska visa något; färre ger en snabbare installation att prova på).")
@with_appcontext
def demo(if_empty, login_help_only, exempelarenden):
    """Lägg in demodata: organisation, enheter, användare, ett ärende med testpersonnummer och
    genererade ärenden för uppföljningen."""
    from sqlalchemy import select

    from .. import db
    from ..samverkan import demo as demo_module  # the whole demo: accounts, Tolvan, the hand-overs

    if login_help_only:
        if demo_module.is_present():
            click.echo(demo_module.login_help(DEMO_PASSWORD))
        return
    from sqlalchemy import func

    from ..accounts.models import User
    from . import testsigill

    app = current_app._get_current_object()
    if demo_module.is_present() or not (if_empty and db.session().scalar(select(func.count()).select_from(User))):
        _demo_test_seal(app)
    with testsigill.services(app):  # the demo's own documents (Tolvan's) are sealed as they are made
        created = demo_module.seed(DEMO_PASSWORD, only_if_empty=if_empty)
    if created:
        from ..accounts.models import Enhet
        from ..uppfoljning import exempeldata

        enhet = db.session().scalar(select(Enhet).where(
            Enhet.namn == demo_module.DEMO_ENHETER[demo_module.EXAMPLE_ENHET][1]))
        exempeldata.generate(current_app.extensions["catalogue"].process_map, [enhet.id],
                             demo_module.EXAMPLE_ARENDEN if exempelarenden is None else exempelarenden,
                             today=tid.today(), documents=True)
        click.echo("Demodata inlagd.")
    else:
        click.echo("Databasen har redan användare; demodata lades inte in.")
    click.echo(demo_module.login_help(DEMO_PASSWORD))


def _demo_test_seal(app) -> None:
    """The demo's test seal (cli/testsigill.py), one per demo organisation, made once into
    instance/testsigill/: never when the installation configures a seal of its own."""
    from ..arenden import seals
    from ..arenden.demo import DEMO_ORGANISATIONER
    from . import testsigill

    if testsigill.is_demo(app.instance_path):
        return
    if seals.enabled(app.config):
        click.echo("Ett sigill är inställt (SEAL_*, SEALS): demon förseglar med det, inget testsigill skapas.")
        return
    if not testsigill.available():
        click.echo("certomancer saknas (pip install 'formservice[demo]'): demon får inget testsigill och "
                   "arkivexemplaren förseglas inte.")
        return
    testsigill.create_for_demo(app.instance_path, {key: namn for key, (namn, _typ, _settings)
                                                   in DEMO_ORGANISATIONER.items()})
    click.echo(f"Testsigill skapat i {testsigill.folder_of(app.instance_path)} (TESTSIGILL, endast för demo, "
               "ingen bevisverkan): demons arkivexemplar förseglas med det.")

# ---------------------------------------------------------------- API and documents
@main.command("login-help")
@with_appcontext
def login_help():
    """Visa hur man loggar in: demoinloggningen om demodatan finns, annars – i en databas utan
    användare – exakt hur den första administratören skapas."""
    from sqlalchemy import func, select

    from .. import db
    from ..accounts.models import Enhet, User
    from ..samverkan import demo as demo_module

    if demo_module.is_present():
        click.echo(demo_module.login_help(DEMO_PASSWORD))
    elif not db.session().scalar(select(func.count()).select_from(User)):
        enhet = db.session().scalar(select(Enhet).order_by(Enhet.id).limit(1))
        click.echo(first_admin_help(enhet.id if enhet else None, current_app.config["PASSWORD_LOGIN"]))


def first_admin_help(enhet_id: int | None, password_login: bool) -> str:
    """The exact commands for the first administrator, with the program as it was called (the
    same environment – database, instance folder – is needed, so the commands say so)."""
    program = _program()
    lines = ["Databasen har inga användare än. Skapa den första administratören (med samma miljövariabler "
             "som tjänsten, t.ex. FORMSERVICE_DATABASE_URL och FORMSERVICE_INSTANCE_PATH):"]
    if enhet_id is None:
        lines += [f'  {program} create-organisation --namn "Exempelstadens kommun" --typ kommun   # → id 1',
                  f'  {program} create-enhet --organisation-id 1 --namn "Förvaltningen"   # → id 1']
        enhet_id = 1
    user = f'  {program} create-user --username forvaltare --namn "Förnamn Efternamn" --role admin --enhet-id {enhet_id}'
    if password_login:
        lines += [user + "   # frågar efter lösenordet",
                  "  (loggar administratören in via organisationens inloggningstjänst: lägg till "
                  "--oidc-identity <identitet hos inloggningstjänsten>)"]
    else:
        lines += [user + " --oidc-identity <identitet hos inloggningstjänsten>",
                  "  (inloggning med lösenord är avstängd: administratören loggar in via inloggningstjänsten)"]
    return "\n".join(lines)


def _program() -> str:
    """How the person at the console called us: ".venv/bin/formservice" from scripts/serve,
    "formservice" through /usr/local/bin/formservice (deploy/formservice) or when it is on PATH."""
    import os
    import shutil
    import sys

    if os.environ.get("FORMSERVICE_PROGRAM"):  # /usr/local/bin/formservice says it is the one to call
        return os.environ["FORMSERVICE_PROGRAM"]
    called = sys.argv[0] if sys.argv and sys.argv[0] else "formservice"
    if os.sep not in called or shutil.which(os.path.basename(called)) == os.path.abspath(called):
        return os.path.basename(called) or "formservice"
    relative = os.path.relpath(os.path.abspath(called))
    return relative if not relative.startswith("..") else os.path.abspath(called)


@main.command("create-token")
@click.option("--username", required=True, help="Användaren som nyckeln agerar som.")
@click.option("--name", "token_name", required=True, help="Vad nyckeln används till (t.ex. systemets namn).")
@click.option("--expires", default="", help="Sista giltighetsdag ÅÅÅÅ-MM-DD (annars tills vidare).")
@with_appcontext
def create_token(username, token_name, expires):
    """Skapa en API-nyckel (visas en gång)."""
    from ..accounts import administration
    from ..accounts.operations import AccountError

    user = _user(username)
    try:
        click.echo(administration.create_token(None, user, token_name, administration.parse_expiry(expires)))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
