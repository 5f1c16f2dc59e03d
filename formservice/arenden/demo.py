"""Demo data: a fictitious organisation, enheter and users. Never a real person."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from formservice import db
from formservice.accounts.models import Enhet, Organisation, User
from formservice.accounts.operations import create_user

from .models import Arende

DEMO_USERS = [
    # username, role, namn, titel, telefon, e-post, enhet key
    ("soc.demo", "socialsekreterare", "Sara Socialsekreterare", "Socialsekreterare", "08-000 00 01",
     "sara.demo@example.se", "skarholmen"),
    ("soc2.demo", "socialsekreterare", "Sam Socialsekreterare", "Socialsekreterare", "08-000 00 02",
     "sam.demo@example.se", "farsta"),
    ("vard.demo", "vardpersonal", "Vera Vårdpersonal", "Kurator", "08-000 00 03",
     "vera.demo@example.se", "vardcentral"),
    ("admin.demo", "admin", "Adam Administratör", "Systemförvaltare", "08-000 00 04",
     "adam.demo@example.se", "skarholmen"),
    ("uppf.demo", "uppfoljare", "Ulla Uppföljare", "Utvecklingsledare", "08-000 00 05",
     "ulla.demo@example.se", "exempel"),
    ("fk.demo", "handlaggare", "Frida Försäkringshandläggare", "Handläggare", "08-000 00 06",
     "frida.demo@example.se", "fk"),
    ("af.demo", "arbetsformedlare", "Anders Arbetsförmedlare", "Arbetsförmedlare", "08-000 00 07",
     "anders.demo@example.se", "af"),
    ("koord.demo", "koordinator", "Kim Koordinator", "Koordinator", "08-000 00 08",
     "kim.demo@example.se", "finsamteam"),
]

DEMO_ENHETER = {
    # organisation, namn, utdelningsadress, postnummer, ort, telefon, typ (the party), funktionsadress
    "skarholmen": ("stockholm", "Skärholmen – Ekonomiskt bistånd", "Demovägen 1", "127 00", "Skärholmen",
                   "08-000 10 00", "socialtjanst", "ekonomiskt.bistand.skarholmen@example.se"),
    "farsta": ("stockholm", "Farsta – Ekonomiskt bistånd", "Exempelgatan 2", "123 00", "Farsta", "08-000 20 00",
               "socialtjanst", "ekonomiskt.bistand.farsta@example.se"),
    "vardcentral": ("region", "Vårdcentral Demo", "Testvägen 3", "127 01", "Skärholmen", "08-000 30 00",
                    "vard", "vardcentral.demo@example.se"),
    # Generated ärenden for the follow-up live here, apart from the caseworkers' own enheter.
    "exempel": ("stockholm", "Exempelenheten (genererade ärenden för uppföljningen)", "Exempelgatan 9", "123 00",
                "Stockholm", "08-000 40 00", "socialtjanst", "exempelenheten@example.se"),
    "fk": ("fk", "Försäkringskassan, samordning Stockholm", "Provgatan 5", "127 02", "Skärholmen", "08-000 50 00",
           "forsakringskassan", "samordning.stockholm@example.se"),
    "af": ("af", "Arbetsförmedlingen Stockholm syd", "Provgatan 7", "127 03", "Skärholmen", "08-000 60 00",
           "arbetsformedlingen", "stockholm.syd@example.se"),
    # The förbund's own enhet: the Finsamteam's koordinator receives the anmälningar.
    "finsamteam": ("forbund", "Finsamteam Skärholmen", "Demovägen 11", "127 00", "Skärholmen", "08-000 70 00",
                   "finsam", "finsamteam.skarholmen@example.se"),
}
EXAMPLE_ENHET = "exempel"
EXAMPLE_ARENDEN = 1200

DEMO_ORGANISATIONER = {
    "stockholm": ("Stockholms stad", "kommun", {
        "finsam_koordinator_adress": "Finsamteamets koordinator\nSamordningsförbundet Stockholms stad\nBox 000\n100 00 Stockholm",
    }),
    "region": ("Region Stockholm (demo)", "region", {}),
    "fk": ("Försäkringskassan (demo)", "myndighet", {}),
    "af": ("Arbetsförmedlingen (demo)", "myndighet", {}),
    "forbund": ("Samordningsförbundet Stockholms stad (demo)", "samordningsforbund", {}),
}
DEMO_MEMBERS = ("stockholm", "region", "fk", "af")  # members of the demo förbund


def seed(password: str, *, only_if_empty: bool = False) -> bool:
    dbs = db.session()
    if only_if_empty and dbs.scalar(select(func.count()).select_from(User)):
        return False
    orgs = {}
    for key, (namn, typ, settings) in DEMO_ORGANISATIONER.items():
        org = dbs.scalar(select(Organisation).where(Organisation.namn == namn))
        if org is None:
            org = Organisation(namn=namn, typ=typ, installningar=json.dumps(settings, ensure_ascii=False))
            dbs.add(org)
            dbs.flush()
        orgs[key] = org
    for key in DEMO_MEMBERS:
        orgs[key].forbund_id = orgs["forbund"].id
    enheter = {}
    for key, (org_key, namn, adress, postnr, ort, tel, typ, funktionsadress) in DEMO_ENHETER.items():
        enhet = dbs.scalar(select(Enhet).where(Enhet.namn == namn))
        if enhet is None:
            enhet = Enhet(organisation_id=orgs[org_key].id, namn=namn, utdelningsadress=adress,
                          postnummer=postnr, ort=ort, telefon=tel, typ=typ, funktionsadress=funktionsadress)
            dbs.add(enhet)
            dbs.flush()
        elif enhet.organisation_id == orgs[org_key].id:
            # A demo made before the enheter had a party and an inbox: given the demo's now (an
            # enhet still at the column's defaults only, so an admin's own choice stays).
            if enhet.typ == "socialtjanst" and typ != "socialtjanst":
                enhet.typ = typ
            enhet.funktionsadress = enhet.funktionsadress or funktionsadress
        enheter[key] = enhet
    dbs.commit()
    for username, role, namn, titel, tel, epost, enhet_key in DEMO_USERS:
        if dbs.scalar(select(User).where(User.username == username)) is None:
            create_user(username=username, password=password, role=role, enhet_id=enheter[enhet_key].id,
                        namn=namn, titel=titel, telefon=tel, epost=epost)
    _seed_arende(dbs)
    return True


# Skatteverket's test personnummer and its customary test name: never a real person.
DEMO_INDIVID = {"namn": "Tolvan Tolvansson", "personnummer": "191212121212", "adress": "Testgatan 12",
                "postnummer": "127 00", "ort": "Skärholmen", "telefon": "070-000 00 00"}


def _seed_arende(dbs) -> None:
    from . import operations as arenden

    if dbs.scalar(select(func.count()).select_from(Arende)):
        return
    user = dbs.scalar(select(User).where(User.username == "soc.demo"))
    arenden.create(user, DEMO_INDIVID, lane="soc1", ruta="soc1.1b")


def is_present() -> bool:
    """Whether the demo accounts are in this database (their password is in the README)."""
    names = [u[0] for u in DEMO_USERS]
    return db.session().scalar(select(func.count()).select_from(User).where(User.username.in_(names))) > 0


def login_help(password: str) -> str:
    lines = ["Demoinloggning (lösenord för alla: %s):" % password]
    for username, role, namn, *_rest, enhet_key in DEMO_USERS:
        lines.append(f"  {username:<11} {namn} – {DEMO_ENHETER[enhet_key][1]}")
    return "\n".join(lines)
