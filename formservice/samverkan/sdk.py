"""SDK-ready packages (Säker digital kommunikation) for enheter outside formservice, and the
replies their side sends back (docs/sdk.md).

formservice is no access point. For a hand-over to an enhet reached over SDK it writes a package
into the sending organisation's outbox folder: the XHE envelope (DIGG's Kuverteringsprofil XHE,
OASIS XHE 1.0) around a MessageWithAttachments 3 payload (DIGG's Innehållsspecifikation
Meddelande) that carries the document's archive copy and a JSON sidecar with its values, plus the
same two files beside it. The organisation's own SDK client collects the package, signs, encrypts
and sends it, and delivers incoming messages to the inbox folder, where `read_inbox` matches a
reply to its hand-over by conversation id. The package is written by the job worker after the
send request (samverkan/packages.py), never in the request.

Building and reading the XML (`envelope`, `parse`) and the sidecar (`sidecar`) are pure; the rest
touches the database and the folders."""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import current_app
from lxml import etree
from sqlalchemy import select

from formservice import audit, db
from formservice.db import utcnow
from formservice.accounts.models import Enhet
from formservice.arenden import registry
from formservice.arenden.models import Handelse
from formservice.arenden.operations import keyring
from formservice.rendering.display import format_personnummer

from . import access, answers as answer_forms
from .models import Overlamning, SdkAdress

XHE = "http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope"
XHA = "http://docs.oasis-open.org/bdxr/ns/XHE/1/AggregateComponents"
XHB = "http://docs.oasis-open.org/bdxr/ns/XHE/1/BasicComponents"
MWA = "urn:riv:infrastructure:messaging:MessageWithAttachments:3"
NS = {"xhe": XHE, "xha": XHA, "xhb": XHB, "mwa": MWA}
CUSTOMIZATION = "urn:fdc:digg.se:edelivery:xhe:1"
PARTY_SCHEME = "iso6523-actorid-upis"
FUNCTIONAL_ADDRESS = "urn:riv:infrastructure:messaging:functionalAddress"
# The business scope DIGG's examples give a MessageWithAttachments 3 message in the SDK federation.
# The transport model named in DOCUMENTID (signed and encrypted, "tm-base-ext-sigenc") is carried out
# by the organisation's SDK client: the package it collects is neither signed nor encrypted.
SCOPE = (("FEDERATIONID", "urn:fdc:digg.se:edelivery:federation:sdk"),
         ("PROCESSID", "bdx:noprocess"),
         ("PROCESSID_SCHEME", "urn:fdc:digg.se:edelivery:process"),
         ("DOCUMENTID", f"{MWA}::messagePayload##3.0::tm-base-ext-sigenc"),
         ("DOCUMENTID_SCHEME", "busdox-docid-qns"))
DOCUMENT_TYPE = "Q{" + MWA + "}messagePayload"

# SDK participant ids are ISO 6523 identifiers under the SDK scheme 0203 (DIGG's schematron checks
# the prefix); what follows is the organisation's own (a domain or an organisation number).
PARTICIPANT = re.compile(r"0203:[A-Za-z0-9][A-Za-z0-9.\-]{0,94}")
FUNCTION_ADDRESS = re.compile(r"\S{1,254}")
UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
ENVELOPE_FILE = "meddelande.xml"
ANSWER_FILE = "svar.json"
SIDECAR_FORMAT = "formservice-sdk-varden/1"
MAX_REPLY_BYTES = 25 * 1024 * 1024
DONE, REFUSED = "behandlade", "avvisade"
# Delivered files are kept this long for the operator, then deleted: what counts – the answer – is
# in the ärende (encrypted, gallrad with it); the files would otherwise outlive every gallring.
KEEP_DAYS = 30

# Why a delivered message was not taken in: written beside it in avvisade/ and logged (the code and
# the message id only – never a name, a personnummer or the text).
REASONS = {
    "for_stor": "Filen är större än formservice tar emot.",
    "inte_xhe": "Filen är inte ett XHE-kuvert (XHE 1.0).",
    "krypterat": "Innehållet är krypterat; SDK-klienten ska lämna meddelandet dekrypterat.",
    "inte_meddelande": "Kuvertet bär inget MessageWithAttachments 3-meddelande.",
    "fel_falt": "Meddelandet saknar konversations-id, meddelande-id eller avsändare.",
    "okand_konversation": "Ingen överlämning från er organisation har den konversationen med den avsändaren.",
    "returnerad": "Överlämningen är redan returnerad.",
    "ogiltigt_svar": "svar.json följer inte svarets fält (se JSON-filen i paketet).",
}


class SdkError(Exception):
    """A package that cannot be written, or an address that is not right: Swedish, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadMessage(ValueError):
    """A delivered message formservice does not take in; `code` is a key of REASONS."""

    def __init__(self, code: str, message_id: str = ""):
        super().__init__(code)
        self.code, self.message_id = code, message_id


# ---------------------------------------------------------------- addresses
def set_address(enhet: Enhet, deltagare: str, funktionsadress: str, *, utanfor: bool) -> SdkAdress:
    """Give an enhet its SDK address (the command `formservice sdk-adress`). `utanfor`: the enhet is
    outside formservice, so hand-overs to it are written as SDK packages."""
    deltagare, funktionsadress = deltagare.strip(), funktionsadress.strip()
    if not PARTICIPANT.fullmatch(deltagare):
        raise SdkError("Deltagar-id ska vara SDK:s organisationsidentitet, t.ex. 0203:kommun.se.")
    if not FUNCTION_ADDRESS.fullmatch(funktionsadress):
        raise SdkError("Funktionsadressen ska vara SDK-funktionsadressen, utan mellanslag (högst 254 tecken).")
    dbs = db.session()
    row = address_of(enhet.id) or SdkAdress(enhet_id=enhet.id)
    row.deltagare, row.funktionsadress, row.utanfor = deltagare, funktionsadress, utanfor
    dbs.add(row)
    dbs.commit()
    return row


def address_of(enhet_id: int) -> SdkAdress | None:
    return db.session().scalar(select(SdkAdress).where(SdkAdress.enhet_id == enhet_id))


def outside(enhet_ids: Iterable[int]) -> set[int]:
    """Which of these enheter are outside formservice, reached over SDK."""
    ids = list(enhet_ids)
    if not ids:
        return set()
    return set(db.session().scalars(select(SdkAdress.enhet_id).where(SdkAdress.enhet_id.in_(ids),
                                                                     SdkAdress.utanfor.is_(True))))


def folder_name(deltagare: str) -> str:
    """The organisation's folder in the outbox and inbox: its participant id, safe as a file name
    everywhere (':' is not on Windows shares)."""
    return re.sub(r"[^A-Za-z0-9.\-]", "_", deltagare)


# ---------------------------------------------------------------- the message (pure)
@dataclass(frozen=True)
class Party:
    deltagare: str         # participant id, 0203:…
    funktionsadress: str   # the SDK functional address
    label: str             # the enhet's name, for the reader


@dataclass(frozen=True)
class Attachment:
    name: str
    mimetype: str
    content: bytes


@dataclass(frozen=True)
class Message:
    message_id: str
    conversation_id: str
    created: datetime
    sender: Party
    recipient: Party
    subject: str
    text: str
    document_id: str
    document_name: str
    files: tuple[Attachment, ...] = ()
    confidential: bool = True
    ref_to: str | None = None


def _el(parent, ns: str, tag: str, text: str | None = None, **attrib: str):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        el.text = text
    return el


def _timestamp(moment: datetime) -> str:
    """UTC with milliseconds and Z, the form DIGG's schematron asks for."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _party(header, role: str, party: Party) -> None:
    el = _el(header, MWA, role)
    ident = _el(el, MWA, f"{role}ID")
    _el(ident, MWA, "root", PARTY_SCHEME)
    _el(ident, MWA, "extension", party.deltagare)
    _el(el, MWA, "label", party.label[:256])
    sub = _el(_el(el, MWA, "attention"), MWA, "subOrganization")
    org = _el(sub, MWA, "organizationId")
    _el(org, MWA, "root", FUNCTIONAL_ADDRESS)
    _el(org, MWA, "extension", party.funktionsadress)


def envelope(msg: Message) -> bytes:
    """The XHE envelope with the MessageWithAttachments payload, unsigned and unencrypted (the
    client's part), as UTF-8 XML."""
    root = etree.Element(f"{{{XHE}}}XHE", nsmap={"xhe": XHE, "xha": XHA, "xhb": XHB, "mwa": MWA})
    _el(root, XHB, "XHEVersionID", "1.0")
    _el(root, XHB, "CustomizationID", CUSTOMIZATION)
    header = _el(root, XHA, "Header")
    _el(header, XHB, "ID", msg.message_id)
    _el(header, XHB, "CreationDateTime", _timestamp(msg.created))
    scope = _el(header, XHA, "BusinessScope")
    for code, value in SCOPE:
        criterion = _el(scope, XHA, "BusinessScopeCriterion")
        _el(criterion, XHB, "BusinessScopeCriterionTypeCode", code)
        _el(criterion, XHB, "BusinessScopeCriterionValue", value)
    for tag, party in (("FromParty", msg.sender), ("ToParty", msg.recipient)):
        _el(_el(_el(header, XHA, tag), XHA, "PartyIdentification"), XHB, "ID", party.deltagare, schemeID=PARTY_SCHEME)
    payload = _el(_el(root, XHA, "Payloads"), XHA, "Payload")
    _el(payload, XHB, "DocumentTypeCode", DOCUMENT_TYPE)
    _el(payload, XHB, "ContentTypeCode", "application/xml")
    _el(payload, XHB, "HandlingServiceID", msg.recipient.funktionsadress)
    _el(payload, XHB, "InstanceEncryptionIndicator", "false")
    message = _el(_el(_el(payload, XHA, "PayloadContent"), MWA, "messagePayload"), MWA, "message")
    head = _el(message, MWA, "messageHeader")
    _el(head, MWA, "creationDateTime", _timestamp(msg.created))
    _el(head, MWA, "messageId", msg.message_id)
    _el(head, MWA, "conversationId", msg.conversation_id)
    if msg.ref_to:
        _el(head, MWA, "refToMessageId", msg.ref_to)
    _el(head, MWA, "label", msg.subject[:256])
    _el(head, MWA, "confidentiality", "true" if msg.confidential else "false")
    _party(head, "recipient", msg.recipient)
    _party(head, "sender", msg.sender)
    document = _el(_el(message, MWA, "messageBody"), MWA, "documents")
    _el(document, MWA, "documentID", msg.document_id)
    _el(document, MWA, "documentName", msg.document_name)
    _el(document, MWA, "index", "1")
    for f in msg.files:
        content = _el(document, MWA, "ContentFiles")
        _el(content, MWA, "fileName", f.name)
        _el(content, MWA, "contentType", f.mimetype)
        _el(content, MWA, "content", base64.b64encode(f.content).decode("ascii"))
    _el(_el(document, MWA, "ContentText"), MWA, "characterSequence", msg.text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# Never fetch or expand anything a delivered file names (no DTDs, entities or network).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(data: bytes) -> Message:
    """A delivered XHE message read back (DIGG's examples and `envelope`'s own output alike);
    BadMessage when it is not one formservice can take in."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        raise BadMessage("inte_xhe") from None
    if root.tag != f"{{{XHE}}}XHE" or root.getroottree().docinfo.doctype:
        raise BadMessage("inte_xhe")
    payload = root.find("xha:Payloads/xha:Payload", NS)
    if payload is None:
        raise BadMessage("inte_meddelande")
    if _text(payload, "xhb:InstanceEncryptionIndicator") == "true":
        raise BadMessage("krypterat")
    message = payload.find("xha:PayloadContent/mwa:messagePayload/mwa:message", NS)
    if message is None:
        raise BadMessage("inte_meddelande")
    head = message.find("mwa:messageHeader", NS)
    message_id, conversation = _text(head, "mwa:messageId"), _text(head, "mwa:conversationId")
    shown_id = message_id if UUID.fullmatch(message_id) else ""
    sender, recipient = (_party_of(root, head, "FromParty", "sender"), _party_of(root, head, "ToParty", "recipient"))
    if not (shown_id and UUID.fullmatch(conversation) and sender.deltagare and recipient.deltagare):
        raise BadMessage("fel_falt", shown_id)
    files, texts = [], []
    for document in message.findall("mwa:messageBody/mwa:documents", NS):
        for f in document.findall("mwa:ContentFiles", NS):
            try:
                content = base64.b64decode("".join(_text(f, "mwa:content").split()), validate=True)
            except ValueError:
                raise BadMessage("fel_falt", shown_id) from None
            files.append(Attachment(_text(f, "mwa:fileName"), _text(f, "mwa:contentType"), content))
        texts += [t.strip() for t in document.xpath("mwa:ContentText/mwa:characterSequence/text()", namespaces=NS)]
    first = message.find("mwa:messageBody/mwa:documents", NS)
    return Message(message_id=message_id, conversation_id=conversation, created=datetime.now(timezone.utc),
                   sender=sender, recipient=recipient, subject=_text(head, "mwa:label"), text="\n\n".join(texts),
                   document_id=_text(first, "mwa:documentID") if first is not None else "",
                   document_name=_text(first, "mwa:documentName") if first is not None else "",
                   files=tuple(files), confidential=_text(head, "mwa:confidentiality") != "false",
                   ref_to=_text(head, "mwa:refToMessageId") or None)


def _text(el, path: str) -> str:
    return (el.findtext(path, namespaces=NS) or "").strip() if el is not None else ""


def _party_of(root, head, xhe_role: str, role: str) -> Party:
    """The envelope's party (what the access points route by) with the payload's function address."""
    deltagare = _text(root, f"xha:Header/xha:{xhe_role}/xha:PartyIdentification/xhb:ID")
    org = f"mwa:{role}/mwa:attention/mwa:subOrganization/mwa:organizationId/mwa:extension"
    return Party(deltagare, _text(head, org), _text(head, f"mwa:{role}/mwa:label"))


# ---------------------------------------------------------------- the sidecar (pure)
def sidecar(parts, values: Mapping[str, Any], *, document: Mapping[str, str], answer_form) -> dict[str, Any]:
    """The document's structured values for the recipient's system: every field of the blankett and
    its bilagor that has a value, by name, with its label and (where the blankett has one)
    Försäkringskassan's delsvar id; and how a structured answer is given back (svar.json)."""
    fields = []
    for part in parts:
        for f in part.fields:
            if f.name in values and values[f.name] not in (None, ""):
                entry = {"namn": f.name, "etikett": f.label, "blankett": part.id, "varde": values[f.name]}
                if f.fk:
                    entry["fk"] = f.fk
                fields.append(entry)
    out: dict[str, Any] = {"format": SIDECAR_FORMAT, "dokument": dict(document),
                           "varden": {e["namn"]: e["varde"] for e in fields},
                           "fk": {e["namn"]: e["fk"] for e in fields if "fk" in e}, "falt": fields}
    if answer_form is not None:
        out["svar"] = {"fil": ANSWER_FILE, "rubrik": answer_form.title,
                       "val": {answer_form.choice_name: {c.value: c.label for c in answer_form.choices}},
                       "text": {name: label for name, label, _req, _hint in answer_form.texts}}
        if answer_form.date_field:
            out["svar"]["datum"] = {answer_form.date_field[0]: answer_form.date_field[1]}
    return out


# ---------------------------------------------------------------- writing a package
def _config(key: str) -> Path | None:
    value = current_app.config.get(key)
    return Path(value) if value else None


def require_ready(sender_enhet_id: int) -> SdkAdress:
    """The sender's SDK address, when packages can be written at all; else SdkError."""
    if _config("SDK_UTKORG") is None:
        raise SdkError("Mottagaren nås via SDK, men SDK-utkorgen är inte inställd i formservice "
                       "(FORMSERVICE_SDK_UTKORG). Be driften ställa in den, eller skicka på annat säkert sätt.")
    own = address_of(sender_enhet_id)
    if own is None:
        raise SdkError("Mottagaren nås via SDK, men er enhet har ingen SDK-adress i formservice ännu. "
                       "Be administratören lägga in den.")
    return own


def write_package(ov: Overlamning, contact: str) -> Path:
    """Write the hand-over's package into the sending organisation's outbox folder, whole or not at
    all: built in a hidden folder, then renamed (the client never sees half a package). Sets the
    hand-over's conversation id. `contact`: who at the sender to ask (name, phone). A package of
    this conversation already in the outbox is done: it is not written a second time."""
    own = require_ready(ov.fran_enhet_id)
    theirs = address_of(ov.till_enhet_id)
    if theirs is None or not theirs.utanfor:
        raise SdkError("Mottagaren har ingen SDK-adress i formservice längre. Be administratören lägga in den "
                       "(formservice sdk-adress … --utanfor) och skicka sedan handlingen igen.")
    if ov.sdk_konversation and (done := _config("SDK_UTKORG") / folder_name(own.deltagare)
                                / ov.sdk_konversation).is_dir():
        return done
    dok = ov.dokument
    try:
        _name, _mime, pdf = registry.content(dok, "arkiv")  # completes the document when nobody has
    except LookupError:
        raise SdkError("Dokumentet har inget arkivexemplar (PDF/A) att lägga i ett SDK-paket. "
                       "Skicka det på annat säkert sätt.") from None
    cat = current_app.extensions["catalogue"]
    route = access.rules().route(dok.blankett_id)
    blankett = cat.blanketter[dok.blankett_id]
    parts = [blankett] + [cat.blanketter[a] for a in blankett.attachments if a in cat.blanketter]
    conversation = ov.sdk_konversation = ov.sdk_konversation or str(uuid.uuid4())
    number, what = dok.document_number, (route.kallas if route else blankett.title.lower())
    sender_label, recipient_label = access.enhet_label(ov.fran_enhet), access.enhet_label(ov.till_enhet)
    values = keyring().decrypt_json(dok.values_enc, {})
    side = sidecar(parts, values, answer_form=answer_forms.FORMS.get(route.svar) if route else None,
                   document={"nummer": number, "blankett": dok.blankett_id, "version": dok.blankett_version,
                             "titel": blankett.title, "konversation": conversation, "fran": sender_label,
                             "till": recipient_label})
    sidecar_bytes = json.dumps(side, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    individ = access.individ_identity(ov)
    # The subject travels where the payload's protection may not reach (client logs, lists): the
    # document's number and the parties only, never who it is about. The text names the individ.
    msg = Message(
        message_id=conversation, conversation_id=conversation, created=datetime.now(timezone.utc),
        sender=Party(own.deltagare, own.funktionsadress, sender_label),
        recipient=Party(theirs.deltagare, theirs.funktionsadress, recipient_label),
        subject=f"{what[:1].upper()}{what[1:]} {number} från {sender_label}",
        text=(f"{blankett.title} från {sender_label}.\n"
              f"Gäller: {individ['namn']}, {format_personnummer(individ['personnummer'])}.\n"
              f"Dokument {number} bifogas som PDF/A ({number}.pdf) och blankettens värden som JSON ({number}.json).\n"
              f"Kontakt: {contact}.\n"
              f"Svara i samma konversation. Ett strukturerat svar kan bifogas som {ANSWER_FILE} "
              "(fälten står under \"svar\" i JSON-filen)."),
        document_id=number, document_name=blankett.title,
        files=(Attachment(f"{number}.pdf", "application/pdf", pdf),
               Attachment(f"{number}.json", "application/json", sidecar_bytes)))
    files = {ENVELOPE_FILE: envelope(msg), f"{number}.pdf": pdf, f"{number}.json": sidecar_bytes}
    return _write_atomically(_config("SDK_UTKORG") / folder_name(own.deltagare), conversation, files)


def _write_atomically(folder: Path, name: str, files: Mapping[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    final = folder / name
    try:
        for file_name, data in files.items():
            with open(tmp / file_name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.rename(tmp, final)  # one step on one file system: the whole package appears, or none
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if final.is_dir() and any(final.iterdir()):
            return final  # written by an earlier run of the same job: once is enough
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# ---------------------------------------------------------------- the inbox
def read_inbox() -> dict[str, int]:
    """Take in what the SDK clients delivered (the command `formservice sdk-inkorg`, run every few
    minutes): each organisation's folder's *.xml, claimed by renaming (two hosts never take the same
    file), then moved to behandlade/ or avvisade/ (with the reason beside it), where they are deleted
    after KEEP_DAYS. Also withdraws packages not yet collected whose samtycke no longer holds.
    Returns counts."""
    counts = {"besvarade": 0, "redan": 0, "avvisade": 0, "tillbakadragna": withdraw_uncollected()}
    root = _config("SDK_INKORG")
    if root is None or not root.is_dir():
        return counts
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        _prune(folder)
        for path in sorted(p for p in folder.glob("*.xml") if not p.name.startswith(".")):
            claimed = folder / f".{uuid.uuid4().hex[:8]}.{path.name}.claimed"
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another host took it
            try:
                outcome = _take_in(claimed, folder.name)
                counts[outcome] += 1
                _file_away(claimed, folder / DONE, path.name)
            except BadMessage as exc:
                db.session().rollback()
                counts["avvisade"] += 1
                current_app.logger.warning("SDK: meddelande avvisat (%s), meddelande-id %s", exc.code,
                                           exc.message_id or "okänt")
                kept = _file_away(claimed, folder / REFUSED, path.name)
                kept.with_name(kept.name + ".orsak.txt").write_text(f"{exc.code}: {REASONS[exc.code]}\n",
                                                                    encoding="utf-8")
            except Exception:
                db.session().rollback()
                os.rename(claimed, path)  # not this file's fault (the database, a bug): tried again next run
                raise
    return counts


def _prune(folder: Path) -> None:
    cutoff = datetime.now(timezone.utc).timestamp() - KEEP_DAYS * 86400
    for kept in (f for sub in (DONE, REFUSED) if (folder / sub).is_dir() for f in (folder / sub).iterdir()):
        if kept.is_file() and kept.stat().st_mtime < cutoff:
            kept.unlink(missing_ok=True)


def _file_away(claimed: Path, dest: Path, name: str) -> Path:
    dest.mkdir(exist_ok=True)
    target = dest / name
    if target.exists():
        target = dest / f"{uuid.uuid4().hex[:8]}-{name}"
    os.rename(claimed, target)
    return target


def _take_in(path: Path, folder: str) -> str:
    """One delivered message: the answer to the hand-over whose conversation it continues, sent by
    the enhet it went to, to the organisation whose folder it came in."""
    if path.stat().st_size > MAX_REPLY_BYTES:
        raise BadMessage("for_stor")
    msg = parse(path.read_bytes())
    ov = db.session().scalar(select(Overlamning).where(Overlamning.sdk_konversation == msg.conversation_id))
    own = address_of(ov.fran_enhet_id) if ov is not None else None
    theirs = address_of(ov.till_enhet_id) if ov is not None else None
    if (ov is None or own is None or theirs is None or folder_name(own.deltagare) != folder
            or msg.recipient.deltagare != own.deltagare or msg.sender.deltagare != theirs.deltagare):
        raise BadMessage("okand_konversation", msg.message_id)  # never said which of them
    if ov.status == "besvarad":
        return "redan"  # the client delivered it twice
    if ov.status == "returnerad":
        raise BadMessage("returnerad", msg.message_id)
    route = access.rules().route(ov.dokument.blankett_id)
    form = answer_forms.FORMS.get(route.svar) if route else None
    values: dict[str, str] = {}
    given = next((f for f in msg.files if f.name.lower() == ANSWER_FILE), None)
    if given is not None:
        try:
            raw = json.loads(given.content.decode("utf-8"))
        except ValueError:
            raise BadMessage("ogiltigt_svar", msg.message_id) from None
        if form is None or not isinstance(raw, dict):
            raise BadMessage("ogiltigt_svar", msg.message_id)
        values, errors = answer_forms.check(form, raw)
        if errors:
            raise BadMessage("ogiltigt_svar", msg.message_id)
    if msg.text:
        values["meddelande"] = msg.text[:answer_forms.MAX_TEXT]
    said = answer_forms.summary(form, values) if form is not None and given is not None else "meddelande"
    from .operations import answer_over_sdk  # operations writes packages: imported here, not at the top

    answer_over_sdk(ov, values, said or "meddelande")
    return "besvarade"


def withdraw_uncollected() -> int:
    """Packages still in the outbox whose samtycke no longer holds are taken back: the gate is the
    same as for a hand-over inside formservice, checked again until the client has collected it."""
    root = _config("SDK_UTKORG")
    if root is None or not root.is_dir():
        return 0
    taken = 0
    for package in (p for folder in root.iterdir() if folder.is_dir() for p in folder.iterdir()
                    if p.is_dir() and UUID.fullmatch(p.name)):
        ov = db.session().scalar(select(Overlamning).where(Overlamning.sdk_konversation == package.name))
        if ov is None or ov.status != "skickad" or access.consent_holds(ov):
            continue
        shutil.rmtree(package, ignore_errors=True)
        if package.exists():
            continue  # the client is collecting it right now: it goes, as a collected package would
        mark_returned(ov, "SDK-paketet hämtades aldrig och togs bort: samtycket gäller inte längre.",
                      "togs bort – samtycket gäller inte längre", "SDK: samtycket upphört")
        taken += 1
    return taken


def mark_returned(ov: Overlamning, reason: str, said: str, detail: str) -> None:
    """An SDK hand-over that will not reach its recipient, returned (committed) so that the sender
    sees why (`reason`, Swedish) and may send again: a line "<number>: SDK-paketet till <enhet>
    <said>" in the sender's ärende and an audit row (`detail`)."""
    ov.status, ov.besvarad_at = "returnerad", utcnow()
    ov.anledning_enc = keyring().encrypt_json(reason)
    sender = ov.fran_arende
    line = f"{ov.dokument.document_number}: SDK-paketet till {access.enhet_label(ov.till_enhet)} {said}"
    db.session().add(Handelse(arende_id=sender.id, user_id=None, kind="samverkan", from_ruta=sender.ruta,
                              to_ruta=sender.ruta, beslut=line[:200]))
    audit.record("handover_returned", object_type="overlamning", object_id=ov.public_id, detail=detail,
                 organisation_id=ov.fran_enhet.organisation_id, commit=False)
    db.session().commit()
