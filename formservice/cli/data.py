"""Documents, keys, backups and gallring from the command line."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import main


@main.command("render", with_appcontext=False)
@click.argument("blankett_id")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="JSON-fil med fältvärdena.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Utfil; formatet följer filändelsen (.pdf, .docx eller .zip).")
@click.option("--organisation", default=None, help="Organisationens namn i sidhuvudet.")
def render(blankett_id, data_path, out_path, organisation):
    """Ta fram en blankett från en JSON-fil med värden."""
    import json

    from ..blanketter.catalogue import CatalogueError, load_catalogue
    from ..config import DEFAULTS, from_environment
    from ..rendering.official_pdf import OfficialPdfError
    from ..rendering import documents
    from ..rendering.pdf import DocumentContext

    fmt = Path(out_path).suffix.lower().lstrip(".")
    if fmt not in documents.PRODUCERS:
        raise click.ClickException("Utfilen ska sluta på .pdf, .docx eller .zip.")
    try:
        cat = load_catalogue()
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        raw = json.loads(Path(data_path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{data_path} är inte giltig JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise click.ClickException(f"{data_path} ska innehålla ett JSON-objekt med fältvärden.")
    if not (org := organisation or from_environment().get("ORGANISATION_NAME") or DEFAULTS["ORGANISATION_NAME"]):
        raise click.ClickException("Ange organisationens namn (överst på blanketten): --organisation eller "
                                   "FORMSERVICE_ORGANISATION_NAME.")
    instance = os.environ.get("FORMSERVICE_INSTANCE_PATH") or str(Path.cwd() / "instance")
    try:
        official = documents.load_official(instance, cat)
        doc = documents.produce(cat, blankett_id, raw, DocumentContext(organisation=org), fmt, official)
    except OfficialPdfError as exc:
        raise click.ClickException(str(exc)) from None
    except documents.UnknownBlankett:
        raise click.ClickException(f"Okänd blankett: {blankett_id}. Finns: {', '.join(sorted(cat.blanketter))}")
    except documents.InvalidValues as exc:
        lines = "\n".join(f"  {name}: {msg}" for name, msg in exc.errors.items())
        raise click.ClickException(f"Värdena klarade inte valideringen:\n{lines}") from None
    Path(out_path).write_bytes(doc.content)
    click.echo(f"Skrev {out_path} ({len(doc.content) // 1024} kB).")


@main.command("rotate-key")
@click.option("--index-key", is_flag=True, help="Byt även nyckeln för sökindexet (personnummer, namn).")
@with_appcontext
def rotate_key(index_key):
    """Byt krypteringsnyckel och kryptera om alla personuppgifter."""
    import json

    from .. import db
    from ..arenden.keyrotation import rotate

    key_file = Path(current_app.instance_path) / "keys.json"
    if current_app.config.get("KEYS") is not None or not key_file.exists():
        raise click.ClickException("Nycklarna kommer inte från instance/keys.json; byt dem där de konfigureras.")
    data = json.loads(key_file.read_text(encoding="utf-8"))
    keyring, count = rotate(db.session(), key_file, data, index_key=index_key)
    current_app.extensions["keyring"] = keyring
    click.echo(f"Ny nyckel {keyring.active}: {count} värden omkrypterade. Alla användare har loggats ut.")


# ---------------------------------------------------------------- backups
def _current_keys() -> dict:
    import json

    configured = current_app.config.get("KEYS")
    if configured is not None:
        return dict(configured)
    return json.loads((Path(current_app.instance_path) / "keys.json").read_text(encoding="utf-8"))


@main.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--keys-dest", type=click.Path(file_okay=False), default=None,
              help="Mapp för en kopia av krypteringsnycklarna (på ett annat ställe än DEST).")
@with_appcontext
def backup_command(dest, keys_dest):
    """Säkerhetskopiera databasen till DEST (en tidsstämplad .tar.gz) och nycklarna till --keys-dest."""
    from .. import backup, db
    from ..schema import current_revision

    url = current_app.config["DATABASE_URL"]
    try:
        archive, keys_file = backup.backup(url, current_revision(db.engine()), _current_keys(), Path(dest),
                                           Path(keys_dest) if keys_dest else None)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Säkerhetskopia: {archive}")
    if keys_file:
        click.echo(f"Nycklar: {keys_file}  (förvara dem åtskilda från säkerhetskopian)")
    else:
        click.echo("Obs: nycklarna kopierades inte (--keys-dest). Utan dem går säkerhetskopian inte att läsa.",
                   err=True)


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--keys", "keys_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Nyckelfilen från säkerhetskopieringen; ersätter instance/keys.json.")
@click.option("--yes", is_flag=True, help="Fråga inte: skriv över databasen.")
@with_appcontext
def restore_command(archive, keys_path, yes):
    """Återställ databasen (och nycklarna) från en säkerhetskopia. Stoppa tjänsten först."""
    import json

    from sqlalchemy.engine import make_url

    from .. import backup, db
    from ..crypto import CryptoError, keyring_from_dict, write_key_file
    from ..schema import all_revisions, head_revision, upgrade

    key_file = Path(current_app.instance_path) / "keys.json"
    keys = json.loads(Path(keys_path).read_text(encoding="utf-8")) if keys_path else _current_keys()
    try:
        keyring_from_dict(keys)
        manifest = backup.read_manifest(Path(archive))
        backup.check_keys(manifest, keys)
    except (backup.BackupError, CryptoError) as exc:
        raise click.ClickException(str(exc)) from exc
    if keys_path and current_app.config.get("KEYS") is not None:
        raise click.ClickException("Nycklarna sätts med FORMSERVICE_KEYS; byt dem där i stället för med --keys.")
    url = current_app.config["DATABASE_URL"]
    if not yes:
        click.confirm(f"Databasen ({make_url(url).render_as_string()}) ersätts med säkerhetskopian från "
                      f"{manifest.created}. Fortsätta?", abort=True)
    db.engine().dispose()  # no pooled connection may hold the old database open
    try:
        backup.restore(Path(archive), url, head_revision(), all_revisions())
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if keys_path:
        if key_file.exists():
            key_file.replace(key_file.with_name(f"keys.json.fore-aterstallning-{manifest.created}"))
        write_key_file(key_file, keys)
        current_app.extensions["keyring"] = keyring_from_dict(keys)
    upgrade(url)
    db.reset_sequences(db.engine())  # whatever the dump said, the next new row gets a free id
    click.echo(f"Återställd från {archive} (säkerhetskopia {manifest.created}). Databasen är uppdaterad.")


# ---------------------------------------------------------------- housekeeping
@main.command("gallra")
@click.option("--dry-run", is_flag=True, help="Räkna bara: visa vad som skulle tas bort, ta inte bort något.")
@click.option("--per", "per", default=None, metavar="ÅÅÅÅ-MM-DD",
              help="Med --dry-run: visa vad en körning det datumet (kl. 00 UTC) skulle ta bort.")
@with_appcontext
def gallra(dry_run, per):
    """Ta bort det som gallringsreglerna säger ska bort och skriv gallringsloggen (kör dagligen)."""
    from datetime import datetime, time

    from ..arenden import gallring
    from ..db import utcnow

    now = utcnow()
    if per is not None:
        if not dry_run:
            raise click.ClickException("--per går bara med --dry-run: en riktig gallring använder alltid dagens datum.")
        try:
            now = datetime.combine(gallring.parse_day(per), time.min)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    for o in gallring.run(now, dry_run=dry_run):
        where = f"{o.organisation.namn}: " if o.organisation else ""
        kept = f"; {o.kept} behålls (gallringsstopp eller undantag)" if o.kept else ""
        click.echo(f"{'Skulle ta bort' if dry_run else 'Tog bort'} {o.count} {o.rule.label} "
                   f"({where}{o.rule_text}{kept})")
    if dry_run:
        click.echo("Provkörning: ingenting togs bort och gallringsloggen skrevs inte.")
    else:
        from .. import jobs

        purged = jobs.purge(now)
        if purged:
            click.echo(f"Tog bort {purged} bakgrundsjobb med resultat (hämtade för ett dygn sedan, eller en vecka gamla)")


@main.command("forsegla")
def forsegla():
    """Försegla de arkivkopior som saknar organisationens sigill (äldre kopior, och de som inte kunde
    förseglas när tidsstämpeltjänsten inte svarade)."""
    from ..arenden import seals
    from . import testsigill

    with testsigill.services(current_app._get_current_object()):  # a demo's test seal, nothing else
        outcome = seals.seal_missing()
    click.echo(f"Förseglade: {outcome.sealed}, redan förseglade: {outcome.already}, "
               f"utan sigill för organisationen: {outcome.not_configured}, misslyckade: {len(outcome.failed)}")
    for line in outcome.failed:
        click.echo(f"  {line}", err=True)
    if outcome.failed:
        raise SystemExit(1)


@main.command("verifiera-arkiv")
@click.option("--online", is_flag=True, help="Fråga också OCSP/CRL där en kopia saknar spärrinformation.")
def verifiera_arkiv(online):
    """Kontrollera sigillet på varje sparad arkivkopia och lista dem som inte håller."""
    from ..arenden import seals
    from . import testsigill

    testsigill.apply(current_app._get_current_object())  # a demo's test seal: its CA is trusted
    checked, failures = seals.verify_all(online=online)
    click.echo(f"Kontrollerade arkivkopior: {checked}, som inte håller: {len(failures)}")
    for label, status in failures:
        click.echo(f"  {label}: {status}")
    if failures:
        raise SystemExit(1)
