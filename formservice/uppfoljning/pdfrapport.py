"""The whole follow-up as a PDF report ("för styrelsen"), made as a background job (formservice/jobs.py)
in the job worker process. Laying out every table and chart takes seconds (about 8 s for a year of
the demo's 1,200 ärenden, more with junk filters), which a web worker must not spend and the render
processes must not be blocked by.

The filter travels in the job's encrypted parameters, already checked by the web; the worker runs
the queries again, over the enheter in the user's scope when the job runs (a sharing withdrawn in
between is respected), so the report shows what the page would show at that moment.
"""
from __future__ import annotations

from datetime import date

from formservice import audit, db, jobs
from formservice.accounts.models import User
from formservice.arenden.operations import local_today
from formservice.rendering.pdf import render_report

from . import queries, rapport
from .anonymisering import NOTE
from .diagram import chart
from .queries import Filter

JOB_KIND = "uppfoljningsrapport"
FAILED = "Rapporten kunde inte tas fram. Försök igen, eller kontakta den som sköter formservice."


def start(user: User, f: Filter) -> jobs.Jobb:
    return jobs.create(user, JOB_KIND, {"fran": f.fran.isoformat(), "till": f.till.isoformat(),
                                        "enhet_id": f.enhet_id, "kon": f.kon, "alder": f.alder})


def produce(user: User, f: Filter, catalogue) -> tuple[bytes, str, str]:
    """The report as (PDF, file name, mimetype), with its audit row; the caller commits."""
    enhet_ids = queries.scope(user)
    if f.enhet_id is not None and f.enhet_id not in enhet_ids:
        # Shared when asked for, no longer: the job fails rather than report on another's enhet.
        raise PermissionError("enheten ingår inte längre i användarens uppföljning")
    result, _choices, names = rapport.follow_up(catalogue, f, enhet_ids)
    pdf = render_report("uppfoljning.html", result=result, chart=chart, description=rapport.describe(f, names),
                        organisation=user.enhet.organisation.namn, created=local_today().isoformat(),
                        note=NOTE, model=catalogue.process_map.model)
    audit.record("uppfoljning_rapport", user=user, object_type="uppfoljning", commit=False)
    return pdf, f"uppfoljning-{f.fran:%Y-%m}-{f.till:%Y-%m}.pdf", "application/pdf"


def _produce_job(job: jobs.Jobb) -> tuple[bytes, str, str]:
    asked = jobs.params(job)
    f = Filter(date.fromisoformat(asked["fran"]), date.fromisoformat(asked["till"]), asked["enhet_id"],
               asked["kon"], asked["alder"])
    return produce(db.session().get(User, job.user_id), f, jobs.app().extensions["catalogue"])


uppfoljningsrapport_workflow = jobs.workflow(JOB_KIND, _produce_job, FAILED)
