"""Samverkan from the command line: SDK addresses and the SDK inbox (samverkan/sdk.py, docs/sdk.md)."""
from __future__ import annotations

import click

from . import main


@main.command("sdk-adress")
@click.argument("enhet_id", type=int)
@click.argument("deltagare")
@click.argument("funktionsadress")
@click.option("--utanfor", is_flag=True, help="Enheten använder inte formservice; den nås bara via SDK.")
def sdk_adress(enhet_id, deltagare, funktionsadress, utanfor):
    """Ge en enhet dess SDK-adress (deltagar-id, t.ex. 0203:2120001234, och funktionsadress)."""
    from .. import db
    from ..accounts.models import Enhet
    from ..samverkan import sdk

    enhet = db.session().get(Enhet, enhet_id)
    if enhet is None:
        raise click.ClickException(f"Det finns ingen enhet med id {enhet_id}.")
    try:
        sdk.set_address(enhet, deltagare, funktionsadress, utanfor=utanfor)
    except sdk.SdkError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{enhet.namn}: SDK-adress {deltagare} / {funktionsadress}"
               + (" (nås bara via SDK)" if utanfor else ""))


@main.command("sdk-inkorg")
def sdk_inkorg():
    """Ta emot svar som SDK-klienterna har lämnat i inkorgen (kör med några minuters mellanrum)."""
    from ..samverkan import sdk

    counts = sdk.read_inbox()
    click.echo(f"SDK: {counts['besvarade']} besvarade, {counts['redan']} redan mottagna, "
               f"{counts['avvisade']} avvisade, {counts['tillbakadragna']} paket tillbakadragna")
