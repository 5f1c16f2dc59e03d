"""SDK packages (issue 29.4): a Finsamteam anmälan sent to a Finsamteam outside formservice is
written, whole, into the sending organisation's SDK outbox by the job worker (issue 23.3,
samverkan/packages.py); its XHE envelope and MessageWithAttachments payload validate against DIGG's
published schemas (tests/data/sdk, see its README) and DIGG's business rules; the PDF is the
document's archive copy and the JSON its values; a reply delivered to the inbox makes the hand-over
besvarad. The samtycke gate is the same as inside formservice. The worker's side – a worker killed
between the send and the write, a permanent failure, written once – is tests/test_sdk_packages.py."""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path

import pytest
from lxml import etree

from formservice import tid

from .conftest import csrf_token
from .test_notifications import Worker, wait_state
from .test_samverkan import _record_consent, _send
from .wizard_driver import create_arende, fill_blankett

DATA = Path(__file__).parent / "data" / "sdk"
PNR = re.compile(r"\d{6}(\d{2})?[-+]?\d{4}")
TESTSTADEN = ("0203:teststaden.example.se", "sdk.0203:teststaden.example.se.ekonomiskt-bistand")
FINSAM = ("0203:finsam-norr.example.se", "sdk.0203:finsam-norr.example.se.finsamteam")
ANNANSTAD = ("0203:annanstad.example.se", "sdk.0203:annanstad.example.se.socialtjanst")
ALL_PARTIES = ("af", "fk", "jobbtorg", "socialtjanst", "vard")


@pytest.fixture(scope="module")
def schemas():
    xhe = etree.XMLSchema(etree.parse(str(DATA / "xhe" / "XHE-1.0.xsd")))
    mwa = etree.XMLSchema(etree.parse(str(DATA / "meddelande"
                                          / "infrastructure_messaging_MessageWithAttachments_3.0.xsd")))
    return xhe, mwa


def validate(schemas, xml: bytes) -> etree._Element:
    """Both schemas (the payload on its own against its own) and DIGG's business rules."""
    xhe, mwa = schemas
    root = etree.fromstring(xml)
    assert xhe.validate(root.getroottree()), xhe.error_log
    payload = root.find(".//{http://docs.oasis-open.org/bdxr/ns/XHE/1/AggregateComponents}PayloadContent")[0]
    assert mwa.validate(etree.ElementTree(payload)), mwa.error_log
    assert digg_rules(root) == []
    return root


NS = {"x": "http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope",
      "xha": "http://docs.oasis-open.org/bdxr/ns/XHE/1/AggregateComponents",
      "xhb": "http://docs.oasis-open.org/bdxr/ns/XHE/1/BasicComponents",
      "ext": "http://docs.oasis-open.org/bdxr/ns/XHE/1/ExtensionComponents",
      "en": "http://www.w3.org/2001/04/xmlenc#",
      "tns": "urn:riv:infrastructure:messaging:MessageWithAttachments:3"}
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def digg_rules(root) -> list[str]:
    """DIGG's schematron rules, which are XPath 2 (lxml runs XPath 1), transcribed: the XHE profile's
    R1–R14 (DIGG-XHE-Business-Rules.scmt) and the message's constraints (MessageConstraints.xml)."""
    def x(path):
        return root.xpath(path, namespaces=NS)

    broken = []
    forbidden = ("/x:XHE/ext:XHEExtensions", "/x:XHE/xhb:ProfileID", "/x:XHE/xhb:ProfileExecutionID",
                 "//xha:BusinessScope/xha:ExternalReference", "//xha:Payload/xhb:Description",
                 "//xha:Payload/xhb:CustomizationID", "//xha:Payload/xhb:ProfileID",
                 "//xha:Payload/xhb:ValidationTypeCode",
                 "//xha:Payload/xhb:InstanceEncryptionMethod", "//xha:Payload/xhb:InstanceHashValue",
                 "//xha:Payload/xha:RelevantExternalReference")
    broken += [f"R1 {p}" for p in forbidden if x(p)]
    if x("//*[not(*) and not(normalize-space()) and not(ancestor::xha:PayloadContent)"
         " and namespace-uri() != 'http://www.w3.org/2001/04/xmlenc#'"
         " and namespace-uri() != 'http://www.w3.org/2000/09/xmldsig#']"):
        broken.append("R2 empty element")
    if x("normalize-space(/x:XHE/xhb:CustomizationID)") != "urn:fdc:digg.se:edelivery:xhe:1":
        broken.append("R3")
    for code in ("DOCUMENTID", "DOCUMENTID_SCHEME", "PROCESSID", "PROCESSID_SCHEME", "FEDERATIONID"):
        if not x(f"//xha:BusinessScopeCriterion[normalize-space(xhb:BusinessScopeCriterionTypeCode)='{code}']"):
            broken.append(f"R4-8 {code}")
    if x("normalize-space(/x:XHE/xhb:XHEVersionID)") != "1.0":
        broken.append("R9")
    for party in ("FromParty", "ToParty"):
        if x(f"count(//xha:{party}/xha:PartyIdentification)") != 1 or \
                x(f"string(//xha:{party}/xha:PartyIdentification/xhb:ID/@schemeID)") != "iso6523-actorid-upis":
            broken.append(f"R10/11/14 {party}")
    if x("count(//xha:Payloads/xha:Payload)") != 1 or not x("//xha:Payload/xhb:DocumentTypeCode") or \
            not x("//xha:Payload/xhb:ContentTypeCode") or not x("//xha:Payload/xha:PayloadContent"):
        broken.append("R14 payload")
    if x("//xha:Payload[xhb:InstanceEncryptionIndicator='false']/xha:PayloadContent/en:EncryptedData"):
        broken.append("R13")
    # MessageConstraints: nothing empty; UUIDs; the timestamp's form; roots; the subject's length.
    if x("//tns:messagePayload//*[not(normalize-space(.))]"):
        broken.append("empty element in the message")
    for name in ("messageId", "conversationId", "refToMessageId"):
        broken += [name for v in x(f"//tns:{name}/text()") if not re.fullmatch(UUID, v)]
    broken += ["creationDateTime" for v in x("//tns:creationDateTime/text()")
               if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,3}Z", v)]
    if x("count(//tns:messageHeader/tns:conversationId)") != 1:
        broken.append("conversationId must exist")
    broken += ["recipient/sender root" for v in x("//tns:recipientID/tns:root/text() | //tns:senderID/tns:root/text()")
               if v != "iso6523-actorid-upis"]
    broken += ["participant 0203" for v in x("//tns:recipientID/tns:extension/text()"
                                             " | //tns:senderID/tns:extension/text()") if not v.startswith("0203:")]
    broken += ["functional address root" for v in x("//tns:subOrganization/tns:organizationId/tns:root/text()")
               if v != "urn:riv:infrastructure:messaging:functionalAddress"]
    broken += ["label > 256" for v in x("//tns:messageHeader/tns:label/text()") if len(v) > 256]
    broken += ["base64" for v in x("//tns:ContentFiles/tns:content/text()") if not re.match(r"[a-zA-Z0-9+/]", v)]
    return broken


# ---------------------------------------------------------------- set-up
def sdk_forbund(app) -> dict[str, int]:
    """Teststaden (the sender, with its SDK address) and Annanstad in a förbund whose Finsamteam is
    outside formservice, reached over SDK; and a Finsamteam of another förbund, also over SDK."""
    from formservice import db
    from formservice.accounts.models import Enhet, Organisation, User
    from formservice.samverkan import sdk

    with app.app_context():
        dbs = db.session()
        forbund = Organisation(namn="Samordningsförbundet Test", typ="samordningsforbund")
        annat = Organisation(namn="Samordningsförbundet Annat", typ="samordningsforbund")
        annanstad = Organisation(namn="Annanstad", typ="kommun")
        dbs.add_all([forbund, annat, annanstad])
        dbs.flush()
        annanstad.forbund_id = forbund.id
        dbs.query(Organisation).filter_by(namn="Teststaden").one().forbund_id = forbund.id
        finsam = Enhet(organisation_id=forbund.id, namn="Finsamteam Norr", typ="finsam")
        fjarran = Enhet(organisation_id=annat.id, namn="Finsamteam Fjärran", typ="finsam")
        annan_soc = Enhet(organisation_id=annanstad.id, namn="Socialtjänsten Annanstad", typ="socialtjanst")
        dbs.add_all([finsam, fjarran, annan_soc])
        dbs.commit()
        sara = dbs.query(User).filter_by(username="sara").one()
        sdk.set_address(sara.enhet, *TESTSTADEN, utanfor=False)
        sdk.set_address(finsam, *FINSAM, utanfor=True)
        sdk.set_address(fjarran, "0203:fjarran.example.se", "sdk.0203:fjarran.example.se.finsamteam", utanfor=True)
        sdk.set_address(annan_soc, *ANNANSTAD, utanfor=False)
        return {"finsam": finsam.id, "fjarran": fjarran.id, "annan": annan_soc.id}


@pytest.fixture
def job_queue(app):
    """DBOS's tables, as `formservice init-db` makes them: the send queues each package there."""
    from formservice import jobs

    jobs.migrate(app)
    yield
    jobs.close_clients()


@pytest.fixture
def worker(app):
    """The job worker (`formservice jobb`) in this process, not started: a test starts it."""
    worker = Worker(app)
    yield worker
    worker.stop()


def write_packages(app) -> list[str]:
    """What the job worker does for every package still to be written, called directly (the
    workflow's own function): for the tests about what a package holds."""
    from formservice.samverkan import packages

    with app.app_context():
        return [packages.write(public_id) for public_id in packages.unwritten()]


@pytest.fixture
def folders(app, tmp_path, job_queue):
    out, inbox = tmp_path / "sdk-utkorg", tmp_path / "sdk-inkorg"
    app.config.update(SDK_UTKORG=str(out), SDK_INKORG=str(inbox))
    return out, inbox


def _anmalan(app, soc) -> tuple[str, str]:
    from formservice import db
    from formservice.arenden.models import Arende, Dokument

    pid = create_arende(soc, ruta="soc1.14")
    fill_blankett(soc, pid, "finsamteam_anmalan", app.extensions["catalogue"])
    with app.app_context():
        arende = db.session().query(Arende).filter_by(public_id=pid).one()
        dok = db.session().query(Dokument).filter_by(arende_id=arende.id, blankett_id="finsamteam_anmalan").one()
        return pid, dok.public_id


def _reply(conversation: str, *, frm=FINSAM, to=TESTSTADEN, answer: dict | None = None, text="Välkommen!") -> bytes:
    """What the Finsamteam's SDK client delivers: a MessageWithAttachments in the same conversation."""
    from datetime import datetime, timezone

    from formservice.samverkan import sdk

    files = (sdk.Attachment("svar.json", "application/json", json.dumps(answer).encode()),) if answer else ()
    return sdk.envelope(sdk.Message(
        message_id=str(uuid.uuid4()), conversation_id=conversation, ref_to=conversation,
        created=datetime.now(timezone.utc), sender=sdk.Party(*frm, "Finsamteam Norr"),
        recipient=sdk.Party(*to, "Testenheten"), subject="Svar", text=text, document_id="svar",
        document_name="Svar", files=files))


def _deliver(inbox: Path, participant: str, name: str, data: bytes) -> Path:
    from formservice.samverkan.sdk import folder_name

    folder = inbox / folder_name(participant)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


# ---------------------------------------------------------------- the journey
@pytest.mark.db  # also against PostgreSQL (DBOS in schema "dbos")
def test_finsamteam_anmalan_as_sdk_package_validates_and_round_trips_a_reply(app, soc, folders, schemas, caplog,
                                                                             worker):
    from formservice import db, jobs
    from formservice.arenden import registry
    from formservice.arenden.models import Dokument
    from formservice.samverkan import access, packages, sdk
    from formservice.samverkan.models import Overlamning

    out, inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    page = soc.get(f"/arenden/{pid}/dokument/{doc_id}/skicka").get_data(as_text=True)
    assert "Finsamteam Norr (Samordningsförbundet Test) – nås via SDK" in page
    assert "Finsamteam Fjärran" not in page  # another förbund's: not in the address book

    # No samtycke: refused, and nothing is written.
    refused = _send(soc, pid, doc_id, [ids["finsam"]])
    assert refused.status_code == 400 and "inget gällande samtycke" in refused.get_data(as_text=True)
    assert not out.exists() or not any(out.rglob("*"))

    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    # Another förbund's Finsamteam is refused even with the samtycke: nothing written for it.
    assert _send(soc, pid, doc_id, [ids["fjarran"]]).status_code == 400
    assert not out.exists() or not any(out.rglob("*"))

    sent = _send(soc, pid, doc_id, [ids["finsam"]])
    assert sent.status_code == 302
    _send(soc, pid, doc_id, [ids["finsam"]])  # a second click queues nothing more
    # No job worker runs yet: the hand-over is recorded, its package waits for the worker.
    assert not out.exists() or not any(out.rglob("*"))
    shown = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Skickad via SDK" in shown and "SDK-paketet skrivs…" in shown
    with app.app_context():
        public_id = db.session().query(Overlamning).one().public_id
    workflow_id = packages.workflow_id(public_id)
    assert [w.workflow_id for w in jobs.client(app).list_workflows()] == [workflow_id]
    # DBOS holds the hand-over's public id only: nothing of the individ, the document or the text.
    assert jobs.client(app).retrieve_workflow(workflow_id).get_status().input["args"] == (public_id,)

    worker.start()
    assert wait_state(app, workflow_id, {"SUCCESS", "ERROR"}, seconds=60) == "SUCCESS"
    own_folder = out / sdk.folder_name(TESTSTADEN[0])
    packages = list(own_folder.iterdir())
    assert len(packages) == 1 and not packages[0].name.startswith(".")  # no temporary left behind
    package = packages[0]
    assert [p.name for p in out.iterdir()] == [own_folder.name]  # only Teststaden's client sees it
    with app.app_context():
        ov = db.session().query(Overlamning).one()
        conversation = ov.sdk_konversation
        dok = db.session().query(Dokument).filter_by(public_id=doc_id).one()
        number = dok.document_number
        archive = registry.content(dok, "arkiv")[2]
    assert package.name == conversation
    assert sorted(p.name for p in package.iterdir()) == sorted(["meddelande.xml", f"{number}.pdf", f"{number}.json"])

    # The envelope: both schemas and DIGG's rules; addressed to the Finsamteam's participant and
    # function address, from Teststaden's; confidential; the subject without the personnummer.
    root = validate(schemas, (package / "meddelande.xml").read_bytes())
    assert root.xpath("string(//xha:ToParty//xhb:ID)", namespaces=NS) == FINSAM[0]
    assert root.xpath("string(//xha:FromParty//xhb:ID)", namespaces=NS) == TESTSTADEN[0]
    assert root.xpath("string(//xhb:HandlingServiceID)", namespaces=NS) == FINSAM[1]
    assert root.xpath("string(//tns:conversationId)", namespaces=NS) == conversation
    assert root.xpath("string(//tns:confidentiality)", namespaces=NS) == "true"
    subject = root.xpath("string(//tns:messageHeader/tns:label)", namespaces=NS)
    assert number in subject and not PNR.search(subject) and "Tilda" not in subject
    assert not any(PNR.search(p.name) for p in package.rglob("*"))
    text = root.xpath("string(//tns:ContentText/tns:characterSequence)", namespaces=NS)
    assert "Tilda Testperson, 19121212-1212" in text  # named inside the confidential payload only

    # The PDF inside and beside is the stored archive copy; the JSON carries the values.
    pdf = (package / f"{number}.pdf").read_bytes()
    assert pdf == archive and pdf.startswith(b"%PDF")
    contents = {f.xpath("string(tns:fileName)", namespaces=NS):
                base64.b64decode(f.xpath("string(tns:content)", namespaces=NS))
                for f in root.xpath("//tns:ContentFiles", namespaces=NS)}
    assert contents[f"{number}.pdf"] == archive
    side = json.loads((package / f"{number}.json").read_text(encoding="utf-8"))
    assert json.loads(contents[f"{number}.json"]) == side
    assert side["varden"]["individ_personnummer"] == "191212121212"  # as stored: 12 digits
    assert side["varden"]["individ_namn"] == "Tilda Testperson"
    assert side["dokument"]["nummer"] == number and side["dokument"]["konversation"] == conversation
    assert set(side["svar"]["val"]["beslut"]) == {"antagen", "ej_antagen"}
    shown = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Skickad via SDK" in shown and "SDK-paket skrivet" in shown and "SDK-paketet skrivs" not in shown

    # Replies that are not this hand-over's are refused and logged without personal data: an unknown
    # conversation, the right one from another party, and the right one delivered to another
    # organisation's folder (Annanstad's client never answers Teststaden's hand-over).
    answer = {"beslut": "antagen", "gemensam_plan": "Mål: arbete på deltid. Teamet träffas varannan vecka."}
    _deliver(inbox, TESTSTADEN[0], "okand.xml", _reply(str(uuid.uuid4()), answer=answer))
    _deliver(inbox, TESTSTADEN[0], "fel-avsandare.xml", _reply(conversation, frm=ANNANSTAD, answer=answer))
    _deliver(inbox, ANNANSTAD[0], "fel-mapp.xml", _reply(conversation, to=ANNANSTAD, answer=answer))
    caplog.set_level(logging.WARNING)
    with app.app_context():
        counts = sdk.read_inbox()
        assert counts["avvisade"] == 3 and counts["besvarade"] == 0
        assert db.session().query(Overlamning).one().status == "skickad"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "okand_konversation" in logged and "19121212" not in logged and "Tilda" not in logged
    refused_dir = inbox / sdk.folder_name(TESTSTADEN[0]) / "avvisade"
    assert (refused_dir / "okand.xml.orsak.txt").read_text(encoding="utf-8").startswith("okand_konversation")

    # The Finsamteam's reply round-trips: besvarad, the decision and the plan recorded for the sender.
    folder = _deliver(inbox, TESTSTADEN[0], "svar.xml", _reply(conversation, answer=answer))
    validate(schemas, (folder / "svar.xml").read_bytes())
    with app.app_context():
        assert sdk.read_inbox()["besvarade"] == 1
        ov = db.session().query(Overlamning).one()
        assert ov.status == "besvarad"
        assert {k: v for k, v in access.answer_of(ov).items() if v} == dict(answer, meddelande="Välkommen!")
        assert db.session().query(Dokument).filter_by(public_id=doc_id).one().status == "besvarad"
    assert (folder / "behandlade" / "svar.xml").exists() and not (folder / "svar.xml").exists()
    shown = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "Besvarad (via SDK)" in shown and "Ja, individen tas emot" in shown and "Välkommen!" in shown
    # The client delivering it again changes nothing.
    _deliver(inbox, TESTSTADEN[0], "svar-igen.xml", _reply(conversation, answer={"beslut": "ej_antagen",
                                                                                  "motivering": "x"}))
    with app.app_context():
        assert sdk.read_inbox()["redan"] == 1
        assert access.answer_of(db.session().query(Overlamning).one())["beslut"] == "antagen"
    # The delivered files are kept for the operator a while, then deleted (the answer is in the ärende).
    old = time.time() - (sdk.KEEP_DAYS + 1) * 86400
    for kept in [*(folder / "behandlade").iterdir(), *refused_dir.iterdir()]:
        os.utime(kept, (old, old))
    with app.app_context():
        sdk.read_inbox()
    assert list((folder / "behandlade").iterdir()) == [] and list(refused_dir.iterdir()) == []


def test_a_package_not_collected_is_withdrawn_when_the_samtycke_ends(app, soc, folders):
    from formservice import db
    from formservice.samverkan import sdk
    from formservice.samverkan.models import Overlamning

    out, _inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    assert _send(soc, pid, doc_id, [ids["finsam"]]).status_code == 302
    assert write_packages(app) == ["skrivet"]
    folder = out / sdk.folder_name(TESTSTADEN[0])
    assert len(list(folder.iterdir())) == 1
    page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    revoke_url = re.search(r'href="(/arenden/[^"]+/samtycke/[^"]+/aterkalla)"', page).group(1)
    form = soc.get(revoke_url).get_data(as_text=True)
    assert soc.post(revoke_url, data={"csrf_token": csrf_token(form), "datum": tid.today().isoformat(),
                                      "note": ""}).status_code == 302
    with app.app_context():
        assert sdk.read_inbox()["tillbakadragna"] == 1
        assert db.session().query(Overlamning).one().status == "returnerad"
    assert list(folder.iterdir()) == []
    assert "samtycket gäller inte längre" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_each_organisations_client_sees_only_its_own_packages(app, soc, folders, make_user):
    """Annanstad, in the same förbund, sends its own anmälan to the same Finsamteam: its package is in
    Annanstad's folder only, from Annanstad's participant, and Teststaden's folder holds only its own."""
    from .conftest import AuthActions

    out, _inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    assert _send(soc, pid, doc_id, [ids["finsam"]]).status_code == 302
    anna = app.test_client()
    make_user(username="anna", enhet_id=ids["annan"], namn="Anna Annansson")
    AuthActions(anna).login(username="anna")
    pid2, doc2 = _anmalan(app, anna)
    _record_consent(anna, pid2, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    assert _send(anna, pid2, doc2, [ids["finsam"]]).status_code == 302
    assert write_packages(app) == ["skrivet", "skrivet"]
    from formservice.samverkan.sdk import folder_name

    theirs, ours = out / folder_name(ANNANSTAD[0]), out / folder_name(TESTSTADEN[0])
    assert sorted(p.name for p in out.iterdir()) == sorted([theirs.name, ours.name])
    for folder, sender in ((ours, TESTSTADEN[0]), (theirs, ANNANSTAD[0])):
        [package] = list(folder.iterdir())
        root = etree.fromstring((package / "meddelande.xml").read_bytes())
        assert root.xpath("string(//xha:FromParty//xhb:ID)", namespaces=NS) == sender
        assert root.xpath("string(//xha:ToParty//xhb:ID)", namespaces=NS) == FINSAM[0]
    assert {p.name for p in ours.iterdir()}.isdisjoint(p.name for p in theirs.iterdir())


def test_sending_without_the_senders_sdk_address_or_outbox_writes_nothing(app, soc, folders):
    from formservice import db
    from formservice.samverkan.models import Overlamning, SdkAdress

    out, _inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    app.config["SDK_UTKORG"] = None
    r = _send(soc, pid, doc_id, [ids["finsam"]])
    assert r.status_code == 400 and "SDK-utkorgen är inte inställd" in r.get_data(as_text=True)
    app.config["SDK_UTKORG"] = str(out)
    with app.app_context():
        db.session().query(SdkAdress).filter(SdkAdress.utanfor.is_(False)).delete()
        db.session().commit()
    r = _send(soc, pid, doc_id, [ids["finsam"]])
    assert r.status_code == 400 and "er enhet har ingen SDK-adress" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session().query(Overlamning).count() == 0
    assert not out.exists() or not any(out.rglob("*"))


# ---------------------------------------------------------------- pure parts
def test_a_package_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    from formservice.samverkan import sdk

    seen = []
    real_fsync = sdk.os.fsync

    def fsync(fd):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))  # what a client polling now would see
        if len(seen) == 2:
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(sdk.os, "fsync", fsync)
    with pytest.raises(OSError):
        sdk._write_atomically(tmp_path, "abc", {"a.xml": b"<a/>", "b.pdf": b"%PDF"})
    assert all(name.startswith(".") for names in seen for name in names)
    assert list(tmp_path.iterdir()) == []  # the half-written package is gone
    monkeypatch.setattr(sdk.os, "fsync", real_fsync)
    done = sdk._write_atomically(tmp_path, "abc", {"a.xml": b"<a/>", "b.pdf": b"%PDF"})
    assert [p.name for p in tmp_path.iterdir()] == ["abc"] and (done / "b.pdf").read_bytes() == b"%PDF"


def test_digg_examples_validate_and_are_read(schemas):
    """The specification's own examples pass the same checks, and formservice reads DIGG's example
    envelope (other prefixes, a signature) as it reads its own."""
    from formservice.samverkan import sdk

    example = (DATA / "exempel" / "xhe_unencrypted_payload.xml").read_bytes()
    validate(schemas, example)
    assert schemas[1].validate(etree.parse(str(DATA / "exempel" / "messageWithAttachments3.xml")))
    msg = sdk.parse(example)
    assert msg.conversation_id == "7bc5576a-3f87-4cf5-a0c5-277da06fcacb"
    assert msg.sender.deltagare == "0203:testb.testbed.inera.se"
    assert msg.recipient.deltagare == "0203:testa.testbed.inera.se"
    assert msg.recipient.funktionsadress == "sdk.testbed.0203:testa.testbed.inera.se" and msg.text == "Anslut till SDK!"


def test_what_is_not_taken_in(tmp_path):
    from formservice.samverkan import sdk

    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    for data, code in ((b"not xml", "inte_xhe"), (bomb, "inte_xhe"), (b"<a/>", "inte_xhe")):
        with pytest.raises(sdk.BadMessage) as exc:
            sdk.parse(data)
        assert exc.value.code == code
    encrypted = (DATA / "exempel" / "xhe_unencrypted_payload.xml").read_bytes().replace(
        b"<InstanceEncryptionIndicator>false", b"<InstanceEncryptionIndicator>true")
    with pytest.raises(sdk.BadMessage) as exc:
        sdk.parse(encrypted)
    assert exc.value.code == "krypterat"


def test_the_sidecar_names_forsakringskassans_ids():
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.samverkan import sdk

    blankett = load_catalogue().blanketter["rehabiliteringsforfragan"]
    side = sdk.sidecar([blankett], {"grund_undersokning_datum": "2026-12-01", "okand": "x"},
                       document={"nummer": "FS-1"}, answer_form=None)
    assert side["varden"] == {"grund_undersokning_datum": "2026-12-01"}
    assert side["fk"] == {"grund_undersokning_datum": "1.2 UNDERSOKNING"}
    assert "svar" not in side


def test_addresses_are_sdk_participants():
    from formservice.samverkan import sdk

    assert sdk.PARTICIPANT.fullmatch("0203:kommun.se") and sdk.PARTICIPANT.fullmatch("0203:2120001234")
    assert not sdk.PARTICIPANT.fullmatch("0007:2120001234") and not sdk.PARTICIPANT.fullmatch("finsam@kommun.se")
    assert sdk.folder_name("0203:kommun.se") == "0203_kommun.se"


def test_the_commands_set_an_address_and_take_in_the_inbox(app, runner, folders):
    """`formservice sdk-adress` (a wrong address gets a Swedish message, nothing stored) and
    `formservice sdk-inkorg` on an empty inbox."""
    from formservice import db
    from formservice.accounts.models import Enhet, Organisation
    from formservice.cli import main
    from formservice.samverkan import sdk

    with app.app_context():
        forbund = Organisation(namn="Samordningsförbundet Kommando", typ="samordningsforbund")
        db.session().add(forbund)
        db.session().flush()
        enhet = Enhet(organisation_id=forbund.id, namn="Finsamteam SDK", typ="finsam")
        db.session().add(enhet)
        db.session().commit()
        enhet_id = enhet.id
    res = runner.invoke(main, ["sdk-adress", str(enhet_id), "finsam@kommun.se", "x"])
    assert res.exit_code != 0 and "finsam@kommun.se" not in (res.output.split("Error:")[0])
    with app.app_context():
        assert sdk.address_of(enhet_id) is None
    res = runner.invoke(main, ["sdk-adress", str(enhet_id), *FINSAM, "--utanfor"])
    assert res.exit_code == 0, res.output
    with app.app_context():
        assert sdk.address_of(enhet_id).utanfor
    res = runner.invoke(main, ["sdk-inkorg"])
    assert res.exit_code == 0 and "SDK: 0 besvarade" in res.output
    assert runner.invoke(main, ["sdk-adress", "999999", *FINSAM]).exit_code != 0
