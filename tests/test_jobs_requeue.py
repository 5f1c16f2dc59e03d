"""A job the user waits for is never forgotten: when DBOS has lost it (its queue restored from an
older backup than the database, or instance/jobb.sqlite deleted), the worker queues it again at
start; one DBOS still knows is not run twice."""
import time

import pytest
from sqlalchemy import select

from formservice import db, jobs
from formservice.accounts.models import User

from .conftest import outside_event_loop

pytestmark = pytest.mark.db  # also run against PostgreSQL in CI


def _state(app, public_id):
    with app.app_context():
        return db.session().scalar(select(jobs.Jobb.status).where(jobs.Jobb.public_id == public_id))


def _wait(app, public_id, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (state := _state(app, public_id)) in (jobs.KLAR, jobs.FEL):
            return state
        time.sleep(0.2)
    raise AssertionError(f"jobbet blev inte klart: {_state(app, public_id)}")


def test_a_job_dbos_lost_is_queued_again_when_the_worker_starts(app, soc, make_user):
    from formservice.arenden.registerutdrag import JOB_KIND

    jobs.migrate(app)
    make_user(username="adam", role="admin", namn="Adam Admin")
    with app.test_request_context():
        admin = db.session().scalar(select(User).where(User.username == "adam"))
        lost = jobs.create(admin, JOB_KIND, {"personnummer": "191212121212", "format": "json"}).public_id
        kept = jobs.create(admin, JOB_KIND, {"personnummer": "191212121212", "format": "json"}).public_id
    client = jobs.client(app)
    client.delete_workflow(jobs.workflow_id(lost))  # as if the queue came from an older backup
    assert client.retrieve_workflow(jobs.workflow_id(kept)).get_status().status == "ENQUEUED"
    assert _state(app, lost) == jobs.VANTAR

    outside_event_loop(jobs.start_worker, app)
    try:
        assert _wait(app, lost) == jobs.KLAR
        assert _wait(app, kept) == jobs.KLAR
        # The one DBOS kept ran once: queueing it again at start attached to the same workflow.
        assert [w.workflow_id for w in client.list_workflows() if w.workflow_id == jobs.workflow_id(kept)] \
            == [jobs.workflow_id(kept)]
        with app.app_context():
            from formservice.audit import AuditEntry

            extracts = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "registerutdrag",
                                                                     AuditEntry.object_type == "person")).all()
            assert len(extracts) == 2
    finally:
        outside_event_loop(jobs.stop_worker)
        jobs.close_clients()
