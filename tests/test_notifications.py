"""E-mail to an enhet's funktionsadress (formservice/samverkan/notifications.py), sent by the job
worker through a real SMTP server (aiosmtpd, tests/smtp_server.py): it arrives without personal data,
it waits for a server that is down, it survives a worker that was not running (or was killed) when it
was queued, and nothing is queued while e-mail is off."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from formservice import db, jobs, tid
from formservice.samverkan import notifications

from .command_line import job_worker, kill_hard
from .conftest import TEST_PERSONNUMMER, outside_event_loop
from .smtp_server import SMTPServer

FUNKTIONSADRESS = "finsam.skarholmen@example.se"
PUBLIC_URL = "https://formservice.example.se"


@pytest.fixture
def smtp():
    """A real SMTP server on a port of its own, not started: each test starts it when it wants it."""
    server = SMTPServer()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return {**app_config, "MAIL_SERVER": smtp.host, "MAIL_PORT": smtp.port,
            "MAIL_FROM": "formservice@example.se", "PUBLIC_URL": PUBLIC_URL}


class Worker:
    """The job worker (`formservice jobb`) in this process, as tests/test_jobs_requeue.py runs it."""

    def __init__(self, app):
        self.app, self.running = app, False

    def start(self) -> None:
        outside_event_loop(jobs.start_worker, self.app)
        self.running = True

    def stop(self) -> None:
        if self.running:
            outside_event_loop(jobs.stop_worker)
            self.running = False


@pytest.fixture
def worker(app):
    jobs.migrate(app)  # DBOS's tables, as `formservice init-db` makes them
    worker = Worker(app)
    yield worker
    worker.stop()
    jobs.close_clients()


@pytest.fixture
def enhet(app, make_enhet):
    """The Finsamteam's enhet with its funktionsadress; a user with a name beside it in the database."""
    from formservice.accounts.models import Enhet

    enhet_id = make_enhet(namn="Finsamteam Skärholmen", organisation="Samordningsförbundet")
    with app.app_context():
        row = db.session().get(Enhet, enhet_id)
        row.funktionsadress = FUNKTIONSADRESS
        db.session().commit()
        db.session().expunge(row)
        return row


def workflow_state(app, workflow_id: str) -> str | None:
    return jobs.client(app).retrieve_workflow(workflow_id).get_status().status


def wait_state(app, workflow_id: str, wanted: set[str], seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (state := workflow_state(app, workflow_id)) in wanted:
            return state
        time.sleep(0.05)
    raise AssertionError(f"{workflow_state(app, workflow_id)} blev inte {wanted}")


@pytest.mark.db  # also against PostgreSQL (DBOS in schema "dbos") in CI
def test_a_notification_arrives_without_personal_data(app, smtp, worker, enhet):
    smtp.start()
    worker.start()
    workflow_id = notifications.notify_enhet(app, enhet, "anmälan", key="overlamning-abc123")
    assert workflow_id == notifications.workflow_id("overlamning-abc123")

    (mail,) = smtp.wait_for(1)
    assert mail.rcpt_tos == [FUNKTIONSADRESS]
    assert mail.mail_from == "formservice@example.se"
    message = mail.message
    assert message["Subject"] == "Ny anmälan till Finsamteam Skärholmen i formservice"
    assert message["To"] == FUNKTIONSADRESS and message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == f"<{workflow_id}@example.se>"
    body = message.get_content()
    assert "Inkommande" in body and f"{PUBLIC_URL}/inkommande" in body
    raw = message.as_string()
    for personal in (TEST_PERSONNUMMER, TEST_PERSONNUMMER[2:8], "Tolvan", "Test Testsson"):
        assert personal not in raw
    assert wait_state(app, workflow_id, {"SUCCESS", "ERROR"}) == "SUCCESS"
    # DBOS keeps the workflow's inputs: the function address and the text, nothing else.
    status = jobs.client(app).retrieve_workflow(workflow_id).get_status()
    assert status.input["args"] == (FUNKTIONSADRESS, message["Subject"], body.replace("\r\n", "\n"))


def test_the_text_has_no_link_without_a_public_url():
    subject, text = notifications.message_for_inbox("Vårdcentralen Axelsberg", "förfrågan", None)
    assert subject == "Ny förfrågan till Vårdcentralen Axelsberg i formservice"
    assert "http" not in text and "Inkommande" in text


RETRYING = "Step being automatically retried"  # DBOS's log line when a step waits to try again


def wait_until(found, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError("väntade förgäves")
        time.sleep(0.05)


def test_a_server_that_is_down_gets_the_mail_when_it_is_back(app, smtp, worker, enhet, caplog):
    worker.start()
    workflow_id = notifications.notify_enhet(app, enhet, key="overlamning-nere")
    # The first attempt was refused (nobody listens); the step waits to try again.
    wait_until(lambda: any(RETRYING in r.getMessage() for r in caplog.records))
    assert workflow_state(app, workflow_id) == "PENDING" and smtp.messages() == []

    smtp.start()
    (mail,) = smtp.wait_for(1)
    assert mail.rcpt_tos == [FUNKTIONSADRESS]
    assert wait_state(app, workflow_id, {"SUCCESS", "ERROR"}) == "SUCCESS"
    assert len(smtp.messages()) == 1


def test_a_mail_queued_while_no_worker_runs_is_sent_when_one_starts_and_only_once(app, smtp, worker, enhet):
    """The web process queues (DBOS's client) while the job worker is down; the same key again is
    the same mail."""
    smtp.start()
    jobs.migrate(app)
    first = notifications.notify_enhet(app, enhet, key="overlamning-1")
    again = notifications.notify_enhet(app, enhet, key="overlamning-1")
    other = notifications.queue(app, FUNKTIONSADRESS, "Ny SIP-kallelse till Finsamteam Skärholmen i formservice",
                                "En ny SIP-kallelse väntar under Inkommande.\n", key="overlamning-2")
    assert first == again != other
    time.sleep(0.5)
    assert workflow_state(app, first) == "ENQUEUED" and smtp.messages() == []

    worker.start()
    mails = smtp.wait_for(2)
    assert wait_state(app, first, {"SUCCESS", "ERROR"}) == "SUCCESS"
    assert wait_state(app, other, {"SUCCESS", "ERROR"}) == "SUCCESS"
    time.sleep(0.5)
    assert sorted(m.message["Subject"] for m in smtp.messages()) == sorted(m.message["Subject"] for m in mails)
    assert len(smtp.messages()) == 2


def worker_process(app, smtp, log) -> subprocess.Popen:
    """`formservice jobb` in a process of its own that sends to the test's SMTP server."""
    return job_worker(app, log, "formservice.samverkan.notifications", FORMSERVICE_MAIL_SERVER=smtp.host,
                      FORMSERVICE_MAIL_PORT=str(smtp.port), FORMSERVICE_MAIL_FROM="formservice@example.se")


def test_a_worker_killed_before_the_mail_went_out_sends_it_when_it_starts_again(app, smtp, worker, enhet, tmp_path):
    """kill -9 while the step waits for the SMTP server to come back; the next worker recovers the
    workflow (same executor id and application version) and delivers it, once."""
    log_path = tmp_path / "jobb.log"
    with open(log_path, "a") as log:
        first = worker_process(app, smtp, log)
    try:
        workflow_id = notifications.notify_enhet(app, enhet, key="overlamning-kill")
        assert wait_state(app, workflow_id, {"PENDING", "SUCCESS", "ERROR"}, seconds=30) == "PENDING", \
            log_path.read_text()
        wait_until(lambda: RETRYING in log_path.read_text())  # refused once, it waits to try again
        assert kill_hard(first) == -signal.SIGKILL
    finally:
        kill_hard(first)
    smtp.start()
    time.sleep(0.5)
    assert workflow_state(app, workflow_id) == "PENDING" and smtp.messages() == []  # nobody sent it

    with open(log_path, "a") as log:
        again = worker_process(app, smtp, log)
    try:
        (mail,) = smtp.wait_for(1, seconds=30)
        assert mail.rcpt_tos == [FUNKTIONSADRESS]
        assert wait_state(app, workflow_id, {"SUCCESS", "ERROR"}) == "SUCCESS", log_path.read_text()
        again.send_signal(signal.SIGTERM)  # a worker stopped as systemd stops it ends cleanly
        assert again.wait(timeout=30) == 0, log_path.read_text()
    finally:
        kill_hard(again)
    assert len(smtp.messages()) == 1


def test_nothing_is_queued_while_mail_is_off(app, smtp, worker, enhet):
    app.config["MAIL_SERVER"] = None
    assert notifications.queue(app, FUNKTIONSADRESS, "Ämne", "Text", key="av") is None
    assert notifications.notify_enhet(app, enhet, key="av") is None
    assert jobs.client(app).list_workflows() == []


def test_an_enhet_without_funktionsadress_gets_no_mail(app, smtp, worker, enhet):
    enhet.funktionsadress = ""
    assert notifications.notify_enhet(app, enhet, key="ingen-adress") is None
    assert notifications.queue(app, "  ", "Ämne", "Text") is None
    assert jobs.client(app).list_workflows() == []


def test_a_hand_over_tells_the_recipient_and_the_answer_tells_the_sender(app, smtp, worker, soc, forfragan, make_user):
    """Through the service itself: the socialsekreterare sends the förfrågan while no worker runs
    (the worker restarted between send and delivery); the vårdcentral's funktionsadress gets its
    notice once a worker starts, and the doctor's answer tells the sender's enhet – without a name,
    a personnummer or a word of the answer."""
    import re
    from datetime import timedelta

    from formservice.accounts.models import Enhet, Organisation

    from .conftest import AuthActions, csrf_token

    pid, doc_id, _pdf = forfragan
    from .test_samverkan import make_forbund

    vc_id, _other = make_forbund(app)
    with app.app_context():  # the sender's enhet is told of the answer
        stad = db.session().query(Organisation).filter_by(namn="Teststaden").one()
        db.session().query(Enhet).filter(Enhet.organisation_id == stad.id).first().funktionsadress = \
            "ekonomiskt.bistand@example.se"
        db.session().commit()
    page = soc.get(f"/arenden/{pid}/samtycke/nytt?blankett=sekretessmedgivande").get_data(as_text=True)
    assert soc.post(f"/arenden/{pid}/samtycke/nytt", data={
        "csrf_token": csrf_token(page), "blankett": "sekretessmedgivande", "parties": ["socialtjanst", "vard"],
        "given_by": "Tolvan", "scope": "", "valid_from": tid.today().isoformat(),
        "valid_until": (tid.today() + timedelta(days=90)).isoformat()}).status_code == 302
    url = f"/arenden/{pid}/dokument/{doc_id}/skicka"
    assert soc.post(url, data={"csrf_token": csrf_token(soc.get(url).get_data(as_text=True)),
                               "till": str(vc_id)}).status_code == 302
    smtp.start()
    time.sleep(0.5)
    assert smtp.messages() == []  # no worker yet: nothing sent, nothing lost
    worker.start()
    wait_until(lambda: len(smtp.messages()) == 1)
    notice = smtp.messages()[0]
    assert notice.rcpt_tos == ["vc@example.se"]
    assert notice.message["Subject"] == "Ny rehabiliteringsförfrågan till Vårdcentral Prov i formservice"

    make_user(username="lakare", role="vardpersonal", enhet_id=vc_id, namn="Åsa Läkarsson")
    doctor = app.test_client()
    AuthActions(doctor).login(username="lakare")
    item = re.search(r'href="/inkommande/([A-Za-z0-9_-]+)"', doctor.get("/inkommande").get_data(as_text=True)).group(1)
    form = doctor.get(f"/inkommande/{item}/svara").get_data(as_text=True)
    assert doctor.post(f"/inkommande/{item}/svara", data={
        "csrf_token": csrf_token(form), "lakare_namn": "Åsa Läkarsson", "vardenhet": "Vårdcentral Prov",
        "aktivitet_jobbtorg_kan_delta": "ja", "aktivitet_jobbtorg_omfattning": "50"}).status_code == 302
    wait_until(lambda: len(smtp.messages()) == 2)
    answer = smtp.messages()[1]
    assert answer.rcpt_tos == ["ekonomiskt.bistand@example.se"]
    assert answer.message["Subject"] == "Svar till Testenheten – Ekonomiskt bistånd i formservice"
    raw = answer.message.as_string() + answer.message.get_content()
    for personal in (TEST_PERSONNUMMER, "19121212", "Tolvan", "Åsa", "Läkarsson"):
        assert personal not in raw
