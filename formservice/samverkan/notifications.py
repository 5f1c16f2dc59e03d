"""E-mail to an enhet's funktionsadress when a hand-over arrives in its inbox ("Inkommande").

The mail says only that something waits and where: the enhet's name, the kind of document and a
link to /inkommande; never the individ's name, personnummer or anything else of the ärende. It is
sent by the job worker (`formservice jobb`) as a durable DBOS workflow on a queue of its own
("epost"), so it never waits behind a long document on "langa", and it survives restarts:

- enqueued by the web worker through DBOS's client (instance/jobb.sqlite, or schema "dbos" in
  PostgreSQL), it is sent when a worker runs, even one started after the web process went away;
- a worker killed before the mail went out sends it when it starts again (DBOS recovers the
  workflow); delivery is at least once: a worker cut off right after the server accepted the mail
  and before DBOS recorded it sends it again, with the same Message-ID;
- an SMTP server that is down or answers with a temporary error is tried again with back-off
  (DBOS step retries, about 8½ minutes), and then once an hour for a day (durable sleeps, which a
  restart does not reset). A permanent refusal (5xx) is logged and not tried again.

DBOS keeps the workflow's inputs — the address, subject and text given here — in its tables, which
are neither encrypted nor gallrade: the caller must put no personal data in them (message_for_inbox
builds such a text). Sending is off while MAIL_SERVER is unset: queue() then does nothing.
"""
from __future__ import annotations

import hashlib
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from dbos import DBOS

from formservice import jobs

QUEUE = jobs.queue("epost", worker_concurrency=8)
WORKFLOW = "epost"
# Step retries: after 1, 2, 4 … 256 s (ten attempts, about 8½ minutes) ...
ATTEMPTS, FIRST_PAUSE_SECONDS, BACKOFF = 10, 1.0, 2.0
# ... and when those are spent, again after an hour, for a day: a server down for a night still
# gets the mail. The sleeps are DBOS's, durable across restarts of the worker.
ROUNDS, ROUND_PAUSE_SECONDS = 25, 3600.0
SENT, REFUSED, GAVE_UP = "skickat", "avvisat", "gav upp"
INBOX_PATH = "/inkommande"


def enabled(app) -> bool:
    return bool(app.config.get("MAIL_SERVER"))


def workflow_id(key: str) -> str:
    """The mail's workflow id in DBOS: a digest of the caller's key (which may name a hand-over's
    public id or anything else: it is not stored), so queueing the same mail twice sends it once."""
    return "epost-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def queue(app, to_address: str, subject: str, text: str, *, key: str | None = None) -> str | None:
    """Queue an e-mail for the job worker to send; returns its DBOS workflow id, or None when
    e-mail is off (MAIL_SERVER unset) or there is no address. `key` names the event the mail is
    about (e.g. f"overlamning-{public_id}"): a second call with the same key is a no-op while DBOS
    knows the first. The address, subject and text are stored in DBOS's tables as they are: they
    must carry no personal data."""
    to_address = (to_address or "").strip()
    if not enabled(app) or not to_address:
        return None
    options = {"queue_name": QUEUE, "workflow_name": WORKFLOW,
               "workflow_id": workflow_id(key if key is not None else secrets.token_urlsafe(18))}
    return jobs.client(app).enqueue(options, to_address, subject, text).get_workflow_id()


def message_for_inbox(enhet_namn: str, what: str = "anmälan", base_url: str | None = None) -> tuple[str, str]:
    """Subject and text of the mail telling an enhet that a hand-over waits in its inbox: only the
    enhet's own name, the kind of document (`what`, e.g. "anmälan", "förfrågan", "SIP-kallelse")
    and the link."""
    subject = f"Ny {what} till {enhet_namn} i formservice"
    lines = [
        "Hej!",
        "",
        f"En ny {what} till {enhet_namn} väntar under Inkommande i formservice.",
    ]
    if base_url:
        lines += ["", f"Logga in och öppna Inkommande: {base_url.rstrip('/')}{INBOX_PATH}"]
    else:
        lines += ["", "Logga in i formservice och öppna Inkommande."]
    lines += ["", "Meddelandet innehåller inga personuppgifter. Svara inte på det: adressen tar inte emot e-post.",
              "", "formservice"]
    return subject, "\n".join(lines) + "\n"


def notify_enhet(app, enhet, what: str = "anmälan", *, key: str) -> str | None:
    """Queue the mail telling `enhet` (accounts.models.Enhet) that a hand-over waits in its inbox;
    None when the enhet has no funktionsadress or e-mail is off."""
    if not enhet.funktionsadress:
        return None
    subject, text = message_for_inbox(enhet.namn, what, app.config.get("PUBLIC_URL"))
    return queue(app, enhet.funktionsadress, subject, text, key=key)


# ------------------------------------------------------------------ the worker side

def permanent(error: BaseException) -> bool:
    """A refusal no retry will change: the server answered 5xx (an unknown address, a refused
    sender). Connection errors, timeouts and 4xx answers are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def build_message(config, to_address: str, subject: str, text: str, message_id: str) -> EmailMessage:
    sender = config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    # The same id on every attempt, so a mail sent again after a cut-off attempt can be recognised.
    message["Message-ID"] = f"<{message_id}@{sender.rpartition('@')[2] or 'localhost'}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a function address
    message.set_content(text)
    return message


def send(config, message: EmailMessage) -> None:
    """One attempt at handing the message to the SMTP server of MAIL_*."""
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                      timeout=float(config["MAIL_TIMEOUT_SECONDS"])) as smtp:
        if config.get("MAIL_USE_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


@DBOS.step(name="epost.skicka", retries_allowed=True, max_attempts=ATTEMPTS, interval_seconds=FIRST_PAUSE_SECONDS,
           backoff_rate=BACKOFF, should_retry=lambda error: not permanent(error))
def _send_step(to_address: str, subject: str, text: str) -> None:
    config = jobs.app().config
    send(config, build_message(config, to_address, subject, text, DBOS.workflow_id))


@DBOS.workflow(name=WORKFLOW)
def _deliver(to_address: str, subject: str, text: str) -> str:
    for round_ in range(ROUNDS):
        try:
            _send_step(to_address, subject, text)
            return SENT
        except Exception as error:  # noqa: BLE001 — logged; the mail is tried again or given up
            if permanent(error):
                DBOS.logger.error("e-post till %s avvisades av servern: %s", to_address, error)
                return REFUSED
            DBOS.logger.warning("e-post till %s kunde inte skickas (omgång %d av %d): %s",
                                to_address, round_ + 1, ROUNDS, error)
        if round_ + 1 < ROUNDS:
            DBOS.sleep(ROUND_PAUSE_SECONDS)
    DBOS.logger.error("e-post till %s gavs upp efter %d omgångar", to_address, ROUNDS)
    return GAVE_UP
