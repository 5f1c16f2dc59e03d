"""The seal as background work (issue 23): an archive copy is stored unsealed when it is made, and
the job worker (`formservice jobb`, nice 10) seals it as a durable DBOS workflow on a queue of its
own ("sigill") – the seal's CPU (pyHanko, ~60 ms a copy) and the TSA's round trip never share a web
worker with the next click, and a TSA that does not answer is asked again with back-off instead of
leaving the copy to `formservice forsegla`.

DBOS is given the kind of copy and its row id only (no personal data). Sealing is idempotent (a
copy already sealed is left as it is), so a workflow run twice seals once. Where no job worker
serves the app (commands, the demo, the tests: SEAL_BY_JOB_WORKER, set by `run`) it is sealed at once.
A copy whose workflow never ran (its enqueue failed, the seal was configured later) is found by
`formservice forsegla`, as before."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from dbos import DBOS
from flask import current_app

from formservice import jobs

from . import seals
from .models import Dokument

log = logging.getLogger(__name__)

QUEUE = jobs.queue("sigill", worker_concurrency=1)
WORKFLOW = "sigill"
# Tried again after 5, 10 … 80 s (six attempts, about 2½ minutes): a TSA or OCSP responder that is
# down longer leaves the copy for `formservice forsegla`, logged.
ATTEMPTS, FIRST_PAUSE_SECONDS, BACKOFF = 6, 5.0, 2.0

# The stored copies that are sealed later, by kind: (model, column). Other wings register theirs
# (the doctor's confirmed answers) – this wing may not import them.
_KINDS: dict[str, tuple[Any, str]] = {"dokument": (Dokument, "archive_enc")}


def register_kind(kind: str, model: Any, column: str) -> None:
    _KINDS[kind] = (model, column)


def seal_later(kind: str, row_id: int) -> None:
    """After the copy is stored and committed: have it sealed by the job worker (at once where no
    job worker serves the app). Nothing when no seal is configured."""
    if not seals.enabled():
        return
    app = current_app._get_current_object()
    if not app.config.get("SEAL_BY_JOB_WORKER"):
        model, column = _KINDS[kind]
        seals.seal_stored(model, column, row_id)  # a seal that cannot be made now: unsealed, for forsegla
        return
    options = {"queue_name": QUEUE, "workflow_name": WORKFLOW,
               "workflow_id": f"sigill-{kind}-{row_id}-{secrets.token_hex(4)}"}
    try:
        jobs.client(app).enqueue(options, kind, row_id)
    except Exception:  # noqa: BLE001 — the copy is stored; `formservice forsegla` seals it later
        log.exception("the seal of a stored %s could not be queued; formservice forsegla seals it later", kind)


def seal_now(kind: str, row_id: int) -> bool:
    """Seal the stored copy now; SealUnavailable when its organisation has a seal that cannot be
    made now (the TSA or OCSP responder does not answer: the workflow tries again)."""
    model, column = _KINDS[kind]
    return seals.seal_stored(model, column, row_id, retry=True)


@DBOS.step(name="sigill.forsegla", retries_allowed=True, max_attempts=ATTEMPTS, interval_seconds=FIRST_PAUSE_SECONDS,
           backoff_rate=BACKOFF)
def _seal_step(kind: str, row_id: int) -> bool:
    with jobs.app().app_context():
        return seal_now(kind, row_id)


@DBOS.workflow(name=WORKFLOW)
def _seal(kind: str, row_id: int) -> bool:
    try:
        return _seal_step(kind, row_id)
    except Exception:  # noqa: BLE001 — logged; the copy stays unsealed for `formservice forsegla`
        DBOS.logger.exception("arkivexemplaret (%s %s) kunde inte förseglas; formservice forsegla gör det senare",
                              kind, row_id)
        return False
