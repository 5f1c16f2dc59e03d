"""SDK packages written by the job worker (formservice/samverkan/packages.py, issue 23.3): a worker
killed with SIGKILL between the send and the write writes the package when it starts again; a
package is written once, however often its job is queued or run; a failure no retry changes is shown
to the sender with what to do; a samtycke that ended before the worker came is still the gate; a
hand-over whose job could not be queued is written when the worker starts."""
from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest

from formservice import tid

from .command_line import job_worker, kill_hard
from .conftest import csrf_token
from .test_notifications import wait_state, wait_until
from .test_samverkan import _record_consent, _send
from .test_sdk import (ALL_PARTIES, FINSAM, TESTSTADEN, _anmalan, folders, job_queue, sdk_forbund,  # noqa: F401
                       worker, write_packages)


@pytest.fixture
def sent(app, soc, folders):  # noqa: F811 — folders: the fixture imported above
    """A Finsamteam anmälan sent over SDK under a samtycke, its package queued and not yet written:
    (ärende public id, hand-over public id, the sender's outbox folder)."""
    from formservice import db
    from formservice.samverkan import sdk
    from formservice.samverkan.models import Overlamning

    out, _inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")
    assert _send(soc, pid, doc_id, [ids["finsam"]]).status_code == 302
    with app.app_context():
        ov = db.session().query(Overlamning).one()
        assert ov.sdk_konversation and ov.sdk_paket_at is None and ov.sdk_paket_fel is None
        return pid, ov.public_id, out / sdk.folder_name(TESTSTADEN[0])


def packages_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def hand_over(app, public_id: str):
    from formservice import db
    from formservice.samverkan.models import Overlamning

    with app.app_context():
        ov = db.session().query(Overlamning).filter_by(public_id=public_id).one()
        db.session().expunge(ov)
        return ov


def worker_process(app, outbox: Path, log, **settings: str) -> subprocess.Popen:
    """`formservice jobb` in a process of its own that writes into the test's SDK outbox."""
    return job_worker(app, log, "formservice.samverkan.packages", FORMSERVICE_SDK_UTKORG=str(outbox), **settings)


def test_a_worker_killed_between_send_and_write_writes_the_package_when_it_starts_again(app, soc, sent, folders,
                                                                                       tmp_path):
    """kill -9 while the step holds (FORMSERVICE_JOBB_TESTPAUS) before it writes; the next worker
    recovers the workflow (same executor id and application version) and writes the package, once."""
    from formservice.samverkan import packages

    pid, public_id, outbox = sent
    workflow_id = packages.workflow_id(public_id)
    log_path = tmp_path / "jobb.log"
    with open(log_path, "a") as log:
        first = worker_process(app, folders[0], log, FORMSERVICE_JOBB_TESTPAUS="60")
    try:
        assert wait_state(app, workflow_id, {"PENDING", "SUCCESS", "ERROR"}, seconds=60) == "PENDING", \
            log_path.read_text()
        assert kill_hard(first) == -signal.SIGKILL
    finally:
        kill_hard(first)
    assert packages_in(outbox) == []  # nothing written, not even half a package
    assert hand_over(app, public_id).sdk_paket_at is None
    assert "SDK-paketet skrivs…" in soc.get(f"/arenden/{pid}").get_data(as_text=True)

    with open(log_path, "a") as log:
        again = worker_process(app, folders[0], log)
    try:
        assert wait_state(app, workflow_id, {"SUCCESS", "ERROR"}, seconds=60) == "SUCCESS", log_path.read_text()
        again.send_signal(signal.SIGTERM)  # a worker stopped as systemd stops it ends cleanly
        assert again.wait(timeout=30) == 0, log_path.read_text()
    finally:
        kill_hard(again)
    ov = hand_over(app, public_id)
    assert packages_in(outbox) == [ov.sdk_konversation]
    assert ov.sdk_paket_at is not None and ov.sdk_paket_fel is None and ov.status == "skickad"
    assert "SDK-paket skrivet" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_a_package_is_written_once(app, sent):
    """Queued twice: one workflow. Run again after a run cut off between the package's rename and
    its commit: the package in the outbox is taken as written, not written a second time."""
    from formservice import db, jobs
    from formservice.samverkan import packages
    from formservice.samverkan.models import Overlamning

    _pid, public_id, outbox = sent
    assert packages.enqueue(app, public_id) == packages.enqueue(app, public_id) == packages.workflow_id(public_id)
    assert [w.workflow_id for w in jobs.client(app).list_workflows()] == [packages.workflow_id(public_id)]

    assert write_packages(app) == ["skrivet"]
    [name] = packages_in(outbox)
    written = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (outbox / name).iterdir()}
    with app.app_context():
        assert packages.write(public_id) == packages.WRITTEN  # recorded: nothing to do
        db.session().query(Overlamning).one().sdk_paket_at = None  # as if cut off before the commit
        db.session().commit()
        assert packages.unwritten() == [public_id]
        assert packages.write(public_id) == packages.WRITTEN
        assert db.session().query(Overlamning).one().sdk_paket_at is not None
    assert packages_in(outbox) == [name]
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (outbox / name).iterdir()} == written


def test_a_permanent_failure_is_shown_to_the_sender_with_what_to_do(app, soc, sent, worker):
    """The recipient's SDK address removed before the worker came: not retried, the hand-over is
    returned with the reason and what to do, and the document can be sent again once it is back."""
    from formservice import db
    from formservice.accounts.models import Enhet
    from formservice.arenden.models import Dokument
    from formservice.samverkan import packages, sdk
    from formservice.samverkan.models import SdkAdress

    pid, public_id, outbox = sent
    with app.app_context():
        db.session().query(SdkAdress).filter(SdkAdress.utanfor.is_(True)).delete()
        db.session().commit()
    worker.start()
    assert wait_state(app, packages.workflow_id(public_id), {"SUCCESS", "ERROR"}, seconds=60) == "SUCCESS"
    ov = hand_over(app, public_id)
    assert ov.status == "returnerad" and ov.sdk_paket_at is None
    assert ov.sdk_paket_fel.startswith("Mottagaren har ingen SDK-adress i formservice längre.")
    assert packages_in(outbox) == []
    shown = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    assert "SDK-paketet kunde inte skrivas" in shown and "skicka sedan handlingen igen" in shown
    assert "SDK-paketet skrivs…" not in shown

    # The address back, the same document sent again: a new hand-over, and its package is written.
    with app.app_context():
        finsam = db.session().query(Enhet).filter_by(namn="Finsamteam Norr").one()
        finsam_id = finsam.id
        sdk.set_address(finsam, *FINSAM, utanfor=True)
        doc_id = db.session().get(Dokument, ov.dokument_id).public_id
    assert _send(soc, pid, doc_id, [finsam_id]).status_code == 302
    wait_until(lambda: len(packages_in(outbox)) == 1, seconds=60)
    assert "SDK-paket skrivet" in soc.get(f"/arenden/{pid}").get_data(as_text=True)


def test_a_samtycke_ended_before_the_worker_came_writes_nothing(app, soc, sent):
    from formservice import db
    from formservice.samverkan import packages
    from formservice.samverkan.models import Overlamning

    pid, public_id, outbox = sent
    page = soc.get(f"/arenden/{pid}").get_data(as_text=True)
    revoke_url = re.search(r'href="(/arenden/[^"]+/samtycke/[^"]+/aterkalla)"', page).group(1)
    form = soc.get(revoke_url).get_data(as_text=True)
    assert soc.post(revoke_url, data={"csrf_token": csrf_token(form), "datum": tid.today().isoformat(),
                                      "note": ""}).status_code == 302
    assert write_packages(app) == [packages.WITHDRAWN]
    assert packages_in(outbox) == []
    with app.app_context():
        assert db.session().query(Overlamning).one().status == "returnerad"
        assert packages.unwritten() == []
    assert "SDK-paketet skrevs aldrig: samtycket gäller inte längre" in soc.get(f"/arenden/{pid}").get_data(
        as_text=True)


def test_a_package_whose_job_could_not_be_queued_is_written_when_the_worker_starts(app, soc, folders, worker,
                                                                                  monkeypatch, caplog):
    """The queue out of reach at the send: the hand-over is still sent (logged for the operator,
    without personal data), and the worker queues the package when it starts."""
    from formservice.samverkan import packages, sdk

    out, _inbox = folders
    ids = sdk_forbund(app)
    pid, doc_id = _anmalan(app, soc)
    _record_consent(soc, pid, parties=ALL_PARTIES, blankett="finsamteam_samtycke")

    def unreachable(*_args):
        raise ConnectionError("kön nås inte")

    with monkeypatch.context() as patched:
        patched.setattr(packages, "enqueue", unreachable)
        assert _send(soc, pid, doc_id, [ids["finsam"]]).status_code == 302
    assert "SDK-paketet kunde inte läggas i kön" in caplog.text and "Tilda" not in caplog.text
    outbox = out / sdk.folder_name(TESTSTADEN[0])
    assert packages_in(outbox) == []
    worker.start()
    wait_until(lambda: len(packages_in(outbox)) == 1, seconds=60)
