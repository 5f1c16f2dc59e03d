"""SDK packages written by the job worker (docs/sdk.md): the send request checks the samtycke and
the SDK addresses, records the hand-over and commits, then queues its package here; the job worker
(`formservice jobb`) writes it (samverkan.sdk.write_package) as a durable DBOS workflow on a queue
of its own ("sdk"), so the click never waits for the archive copy or the outbox, and the package
never waits behind a long document on "langa".

- The workflow's id comes from the hand-over's public id: queueing it twice writes one package.
  DBOS is given that id only – the package's content is read from the app's database in the
  worker, so no personal data reaches DBOS's tables (neither encrypted nor gallrade).
- A worker that is down or killed (even by kill -9) between the send and the write writes the
  package when it starts again: DBOS recovers the workflow, and the worker queues again, at start,
  every hand-over whose package is neither written nor failed (its enqueue failed, or DBOS lost it).
- Written once: the hand-over records when (`sdk_paket_at`); a run cut off after the package's
  rename and before that commit finds the package in the outbox and takes it as written.
- A failure that no retry changes (an SDK address removed, the outbox switched off, no archive
  copy) returns the hand-over with the Swedish reason and what to do (`sdk_paket_fel`); other
  errors (a full disk, an outbox not mounted, the database) are tried again with back-off, then once
  an hour for a day (durable sleeps), and then given up the same way.
- The samtycke is the gate until the package is written: when it no longer covers the recipient,
  nothing is written and the hand-over is returned, as a package not yet collected would be.
"""
from __future__ import annotations

from dbos import DBOS
from sqlalchemy import select

from formservice import db, jobs
from formservice.db import utcnow

from . import access, sdk
from .models import Overlamning

QUEUE = jobs.queue("sdk", worker_concurrency=2)
WORKFLOW = "sdk-paket"
# Step retries after 2, 4 … 128 s (eight attempts, about 4 minutes) ...
ATTEMPTS, FIRST_PAUSE_SECONDS, BACKOFF = 8, 2.0, 2.0
# ... and when those are spent, again after an hour, for a day.
ROUNDS, ROUND_PAUSE_SECONDS = 24, 3600.0
WRITTEN, NOT_NEEDED, WITHDRAWN, FAILED = "skrivet", "behövs inte", "samtycket upphört", "misslyckades"
GAVE_UP = ("SDK-paketet kunde inte skrivas i SDK-utkorgen (formservice försökte i ett dygn). Be den som sköter "
           "formservice kontrollera utkorgen, och skicka sedan handlingen igen.")
NO_CONSENT = "SDK-paketet skrevs aldrig: samtycket gäller inte längre."


def workflow_id(public_id: str) -> str:
    """The package's workflow id in DBOS, from the hand-over's public id (an opaque id)."""
    return f"sdk-paket-{public_id}"


def enqueue(app, public_id: str) -> str:
    """Queue the package of the hand-over `public_id` for the job worker; a second call for the same
    hand-over is a no-op while DBOS knows the first. Returns DBOS's workflow id."""
    options = {"queue_name": QUEUE, "workflow_name": WORKFLOW, "workflow_id": workflow_id(public_id)}
    return jobs.client(app).enqueue(options, public_id).get_workflow_id()


def unwritten() -> list[str]:
    """The public ids of the hand-overs whose package is still to be written."""
    return list(db.session().scalars(select(Overlamning.public_id).where(
        Overlamning.sdk_konversation.is_not(None), Overlamning.sdk_paket_at.is_(None),
        Overlamning.sdk_paket_fel.is_(None), Overlamning.status == "skickad")))


@jobs.at_start
def requeue_unwritten(app) -> int:
    """At the worker's start: queue again every package still to be written (DBOS keeps the ones
    it knows as they are)."""
    with app.app_context():
        waiting = unwritten()
    for public_id in waiting:
        enqueue(app, public_id)
    return len(waiting)


def _contact(ov: Overlamning) -> str:
    """Who at the sender to ask: the handläggare who sent it (name, phone), else the enhet."""
    user = ov.avsandare
    found = ", ".join(p for p in (user.namn, user.telefon) if p) if user is not None else ""
    return found or access.enhet_label(ov.fran_enhet)


def _hand_over(public_id: str) -> Overlamning | None:
    return db.session().scalar(select(Overlamning).where(Overlamning.public_id == public_id))


def write(public_id: str) -> str:
    """One attempt at the hand-over's package, in an app context: what the workflow's step runs (and
    a test may call directly). SdkError when it can never be written; other errors may pass."""
    ov = _hand_over(public_id)
    if ov is None or ov.sdk_konversation is None or ov.status != "skickad" or ov.sdk_paket_fel:
        return NOT_NEEDED  # gone with its ärende, answered, returned, or given up
    if ov.sdk_paket_at is not None:
        return WRITTEN
    if not access.consent_holds(ov):
        sdk.mark_returned(ov, NO_CONSENT, "skrevs aldrig – samtycket gäller inte längre", "SDK: samtycket upphört")
        return WITHDRAWN
    jobs.test_pause()
    try:
        sdk.write_package(ov, _contact(ov))  # the archive copy completed first when it is not yet
        ov.sdk_paket_at = utcnow()
        db.session().commit()
    except Exception:
        db.session().rollback()
        raise
    return WRITTEN


def record_failure(public_id: str, reason: str) -> None:
    """The package will not be written: the hand-over is returned with `reason` (Swedish, what to do)."""
    ov = _hand_over(public_id)
    if ov is None or ov.status != "skickad" or ov.sdk_paket_at is not None:
        return
    ov.sdk_paket_fel = reason[:300]
    sdk.mark_returned(ov, reason, "kunde inte skrivas", "SDK: paketet kunde inte skrivas")


# ------------------------------------------------------------------ the worker side
@DBOS.step(name="sdk-paket.skriv", retries_allowed=True, max_attempts=ATTEMPTS, interval_seconds=FIRST_PAUSE_SECONDS,
           backoff_rate=BACKOFF, should_retry=lambda error: not isinstance(error, sdk.SdkError))
def _write_step(public_id: str) -> str:
    with jobs.app().app_context():
        return write(public_id)


@DBOS.step(name="sdk-paket.misslyckades")
def _failed_step(public_id: str, reason: str) -> None:
    with jobs.app().app_context():
        record_failure(public_id, reason)


@DBOS.workflow(name=WORKFLOW)
def _package(public_id: str) -> str:
    for round_ in range(ROUNDS):
        try:
            return _write_step(public_id)
        except sdk.SdkError as error:
            DBOS.logger.warning("SDK-paketet för överlämning %s kan inte skrivas: %s", public_id, error.message)
            _failed_step(public_id, error.message)
            return FAILED
        except Exception:  # noqa: BLE001 — logged; tried again in an hour, given up after a day
            DBOS.logger.exception("SDK-paketet för överlämning %s kunde inte skrivas (omgång %d av %d)",
                                  public_id, round_ + 1, ROUNDS)
        if round_ + 1 < ROUNDS:
            DBOS.sleep(ROUND_PAUSE_SECONDS)
    _failed_step(public_id, GAVE_UP)
    return FAILED
