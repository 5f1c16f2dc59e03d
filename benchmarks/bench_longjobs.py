"""Long jobs against an interactive click: does "Ta fram" stay quick while the long documents run?

Set-up (benchmarks/_live_server.py): a throw-away instance with the demo data and ``formservice run``
with ``--render-processes N`` given explicitly (default: one per core, as the service's own default),
gunicorn gthread 2 workers × 4 threads and the job worker.

**Long jobs**: N + 1 clients, each on its own keep-alive connection, each keeping one long document in
progress, one after another, for as long as the loaded phase lasts. They alternate, starting with the
uppföljning report:

* the **uppföljning report** as the demo uppföljare ``uppf.demo``, default selection: where the
  uppföljning page has the form for it, ``POST /uppfoljning/rapport`` (a background job, followed as
  below); otherwise ``GET /uppfoljning/rapport.pdf``, laid out while the request waits;
* a **registerutdrag as PDF** for the demo's person, Tolvan Tolvansson 19121212-1212
  (``POST /admin/registerutdrag`` with ``personnummer`` and ``format=pdf``, as the demo admin
  ``admin.demo``): a background job.

A background job is followed as the user's browser does: the 303 to its status page, its ``/status``
polled every 0.5 s until it is done, then the file downloaded (``/hamta``).

**The caseworker** (benchmarks/_live_client.py): the demo socialsekreterare on one keep-alive connection
clicks "Ta fram" on a förändringsplan (``--blankett``) again and again: a draft with the sample values
saved outside the timing, Granska fetched, then timed from the POST through the done page to the
print PDF in hand. Before the next click it waits until the document is complete (``klar``).

**Phases**, interleaved: each of ``--rounds`` rounds (default 4, ``--quick`` 2) has an *idle* phase
(the server quiet, nothing else running) and a *loaded* phase (the long jobs started, and under way
for ``--lead`` s, before the first click), ``--clicks`` clicks each (default 6, ``--quick`` 3), their
order swapped every round. After a loaded phase the long-job clients stop asking for more; the jobs in
progress are finished and the server is quiet again before the next phase.

Targets (issue 23): the click's p50 under load (POST → print PDF) ≤ 2 × its idle p50 in the same run;
no response ≥ 500 to anyone (the 503 "försök igen om en stund" are counted among them and also
reported on their own), no connection error.

    .venv/bin/python benchmarks/bench_longjobs.py [--quick] [--rounds N] [--clicks N] [--render-processes N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._live_client import Browser, InstanceApp, click, settle  # noqa: E402
from benchmarks._live_server import DEMO_USER, LiveService, csrf, percentile  # noqa: E402

TARGET = 2.0
ADMIN, UPPFOLJARE = "admin.demo", "uppf.demo"
PERSONNUMMER = "19121212-1212"  # the demo's person (Skatteverket's test number)
KINDS = ("uppfoljning", "registerutdrag")


class LongJobs:
    """N clients, each keeping one long document in progress while the phase lasts."""

    def __init__(self, port: int, count: int, password: str):
        self.clients = []
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            browser = Browser(port, timeout=600)
            browser.login(UPPFOLJARE if kind == "uppfoljning" else ADMIN, password)
            self.clients.append((kind, browser))
        self.done: dict[str, list[float]] = defaultdict(list)  # kind -> seconds per finished job
        self.failed: list[str] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.stop.clear()
        started = [threading.Event() for _ in self.clients]
        self.threads = [threading.Thread(target=self._loop, args=(kind, browser, ev), daemon=True)
                        for (kind, browser), ev in zip(self.clients, started)]
        for t in self.threads:
            t.start()
        for ev in started:
            ev.wait(60)

    def finish(self, limit: float = 900) -> int:
        """Ask for no more; wait for the jobs in progress. Returns how many were still running at the limit."""
        self.stop.set()
        deadline = time.monotonic() + limit
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return sum(t.is_alive() for t in self.threads)

    def _loop(self, kind: str, browser: Browser, started: threading.Event) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = (self._report if kind == "uppfoljning" else self._extract)(browser, started)
            except Exception as exc:  # noqa: BLE001  (counted: connection errors fail the run)
                self.failed.append(f"{kind}: {exc!r}")
                started.set()
                time.sleep(0.5)
                continue
            if ok:
                self.done[kind].append(time.perf_counter() - t0)
            else:
                self.failed.append(kind)
                time.sleep(0.5)

    @staticmethod
    def _report(browser: Browser, started: threading.Event) -> bool:
        page = browser.get("/uppfoljning")
        if 'action="/uppfoljning/rapport"' in page.text:  # asked for on the page, made as a background job
            res = browser.post("/uppfoljning/rapport", {"csrf_token": csrf(page.text)})
            started.set()
            return LongJobs._follow(browser, res)
        started.set()  # made while the request waits
        res = browser.get("/uppfoljning/rapport.pdf")
        return res.status == 200 and res.body.startswith(b"%PDF")

    @staticmethod
    def _extract(browser: Browser, started: threading.Event) -> bool:
        page = browser.get("/admin/registerutdrag")
        res = browser.post("/admin/registerutdrag", {"csrf_token": csrf(page.text), "personnummer": PERSONNUMMER,
                                                     "format": "pdf"})
        started.set()
        return LongJobs._follow(browser, res)

    @staticmethod
    def _follow(browser: Browser, res) -> bool:
        """The job's status page polled every 0.5 s, as its page does, until it is done; then downloaded."""
        if res.status != 303:
            return False
        job = res.location
        while True:
            status = browser.get(job + "/status")
            if status.status != 200:
                return False
            state = json.loads(status.body)
            if state["status"] == "klar":
                pdf = browser.get(job + "/hamta")
                return pdf.status == 200 and pdf.body.startswith(b"%PDF")
            if state["status"] == "fel":
                return False
            time.sleep(0.5)


def run(rounds: int, clicks: int, render_processes: int, blankett: str, lead: float) -> dict:
    from formservice.cli import DEMO_PASSWORD

    with LiveService(render_processes=render_processes, seed_document=False) as svc:
        inst = InstanceApp(svc)
        try:
            caseworker = Browser(svc.port)
            caseworker.login(DEMO_USER, DEMO_PASSWORD)
            arende = inst.new_arende(DEMO_USER)
            values = inst.values(blankett)
            load = LongJobs(svc.port, render_processes + 1, DEMO_PASSWORD)

            def one_click() -> float:
                inst.save_draft(DEMO_USER, arende, blankett, values)
                seconds = click(caseworker, arende, blankett)["pdf_s"]
                settle(None, inst)  # the document complete before the next click
                return seconds

            one_click()  # warm: not counted
            times: dict[str, list[float]] = {"idle": [], "loaded": []}
            per_round, stragglers = [], 0
            for i in range(rounds):
                medians = {}
                for phase in (("idle", "loaded") if i % 2 == 0 else ("loaded", "idle")):
                    if phase == "loaded":
                        load.start()
                        time.sleep(lead)
                    else:
                        settle(svc, inst)
                    series = [one_click() for _ in range(clicks)]
                    if phase == "loaded":
                        stragglers += load.finish()
                        settle(svc, inst)
                    times[phase] += series
                    medians[phase] = statistics.median(series)
                per_round.append(round(medians["loaded"] / medians["idle"], 3))
            browsers = [caseworker] + [b for _k, b in load.clients]
            errors = sum(b.server_errors()[0] for b in browsers)
            unavailable = sum(b.server_errors()[1] for b in browsers)
            connection_errors = sum(b.errors for b in browsers)
            statuses = sum((b.statuses for b in browsers), start=type(caseworker.statuses)())
        finally:
            inst.close()
    idle, loaded = statistics.median(times["idle"]), statistics.median(times["loaded"])
    ratio = loaded / idle
    jobs = {kind: {"finished": len(v), "p50_s": round(statistics.median(v), 2) if v else None,
                   "max_s": round(max(v), 2) if v else None} for kind, v in load.done.items()}
    ok = ratio <= TARGET and errors == 0 and connection_errors == 0 and not load.failed and not stragglers
    return {"rounds": rounds, "clicks": clicks, "render_processes": render_processes,
            "long_jobs": render_processes + 1, "blankett": blankett, "load": os.getloadavg()[0],
            "idle_ms": round(idle * 1000, 1), "loaded_ms": round(ratio * idle * 1000, 1), "ratio": round(ratio, 3),
            "per_round_ratios": per_round, "idle_p95_ms": round(percentile(times["idle"], 95) * 1000, 1),
            "loaded_p95_ms": round(percentile(times["loaded"], 95) * 1000, 1),
            "loaded_max_ms": round(max(times["loaded"]) * 1000, 1), "jobs": jobs,
            "failed_jobs": load.failed[:20], "failed_job_count": len(load.failed), "stragglers": stragglers,
            "responses_5xx": errors, "responses_503": unavailable, "connection_errors": connection_errors,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}, "target": TARGET,
            "verdict": "PASS" if ok else "FAIL"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--clicks", type=int, help="clicks per phase")
    parser.add_argument("--render-processes", type=int, default=os.cpu_count())
    parser.add_argument("--blankett", default="forandringsplan")
    parser.add_argument("--lead", type=float, default=1.0, help="seconds the long jobs run before the first click")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 4)
    clicks = args.clicks or (3 if args.quick else 6)
    r = run(rounds, clicks, args.render_processes, args.blankett, args.lead)
    print(f"\"Ta fram\" ({r['blankett']}) while {r['long_jobs']} long jobs run ({r['render_processes']} render "
          f"processes; {rounds} rounds × {clicks} clicks per phase, load {r['load']:.2f}; target loaded p50 ≤ "
          f"{TARGET} × idle p50, no response ≥ 500)")
    print(f"click POST → print PDF: idle p50 {r['idle_ms']} ms, loaded p50 {r['loaded_ms']} ms = ×{r['ratio']} "
          f"(per round {r['per_round_ratios']}); loaded max {r['loaded_max_ms']} ms")
    for kind, v in r["jobs"].items():
        print(f"  {kind}: {v['finished']} finished, p50 {v['p50_s']} s, max {v['max_s']} s")
    print(f"responses ≥ 500: {r['responses_5xx']} (503: {r['responses_503']}); connection errors "
          f"{r['connection_errors']}; failed jobs {r['failed_job_count']}; jobs unfinished at the limit "
          f"{r['stragglers']}; statuses {r['statuses']}  -> {r['verdict']}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2), encoding="utf-8")
    return 0 if r["verdict"] == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
