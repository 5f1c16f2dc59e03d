"""API campaign: schemathesis against the service's own OpenAPI description, full size.

    .venv/bin/python fuzz/api.py [--quick] [--examples N] [--jobs J] [--no-coverage] [--seed S] [--json out.json]

The full-size run of tests/test_api_fuzz.py. The app is built as that test builds it (a migrated
SQLite database in a temporary folder, TESTING, the test keyring, one organisation, enhet and
socialsekreterare with an API token, no render rate limit) and schemathesis loads
``/api/v1/openapi.json`` from it in-process (WSGI). For each of the 25 operations:

* the **coverage** phase: schemathesis' deterministic cases (boundary values, missing and wrongly
  typed fields, positive and negative), as the suite's pytest integration also runs them;
* the **fuzzing** phase: ``--examples`` hypothesis examples (default 400) in **positive** mode and
  as many in **negative** mode: 25 × 2 × 400 = 20,000 cases.

Every case is sent with the API token and its response is checked with schemathesis' checks as in
the suite test (server errors, status codes, content types, response schemas, negative data
rejected, authentication not ignored …), all but ``positive_data_acceptance``: the schema cannot say
everything the validation checks (a personnummer's check digit and date, a date in range), so
schema-valid values may get a documented 422. With TESTING on, an exception in a view is not turned
into a 500 but raised into the campaign, which records it as a failure too.

Operations are spread over ``--jobs`` worker processes (default 2), each with its own app and
database. ``--quick``: 12 examples per mode and operation, coverage phase capped at 20 cases per
operation. Exit status 1 when any case failed.
"""
from __future__ import annotations

import argparse
import atexit
import json
import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, not fuzz/, so `tests` and `formservice` import as packages
# Hypothesis keeps caches in a folder of its own: a temporary one, removed at the end (see main).
STORAGE = tempfile.mkdtemp(prefix="formservice-apifuzz-hypothesis-")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = STORAGE
atexit.register(shutil.rmtree, STORAGE, ignore_errors=True)  # also after --help or an early error

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

EXCLUDED = [schemathesis.checks.positive_data_acceptance]

# ---------------------------------------------------------------- one worker's app
_WORKER: dict = {}


def _build(folder: str) -> None:
    """The app of tests/test_api_fuzz.py, in ``folder``; kept per worker process."""
    from formservice import create_app
    from formservice.schema import upgrade

    from tests.conftest import TEST_KEYS

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.makedirs(folder, exist_ok=True)
    url = f"sqlite:///{os.path.join(folder, 'fuzz.sqlite')}"
    upgrade(url)
    os.environ["FORMSERVICE_INSTANCE_PATH"] = os.path.join(folder, "instance")
    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "DATABASE_URL": url, "SESSION_COOKIE_SECURE": False,
                      "KEYS": TEST_KEYS, "API_RENDERS_PER_MINUTE": 1_000_000})
    with app.app_context():
        from formservice.accounts import administration, operations

        org = administration.create_organisation("Fuzzstaden", "kommun")
        enhet = administration.create_enhet(None, org.id, administration.EnhetData(namn="Fuzzenheten"))
        user = operations.create_user(username="fuzz", password="fuzz-lösenord-123", role="socialsekreterare",
                                      enhet_id=enhet.id, namn="Fuzz Testsson")
        token = administration.create_token(None, user, "fuzz", None)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    _WORKER.update(app=app, schema=schema, token=token,
                   ops={op.label: op for op in (r.ok() for r in schema.get_all_operations())})


def _worker_init(parent: str) -> None:
    _build(os.path.join(parent, f"worker-{os.getpid()}"))


def _coverage_cases(op, limit: int | None):
    """schemathesis' coverage-phase cases for ``op`` (positive and negative), or None when this
    schemathesis version has no such generator."""
    try:
        from schemathesis.generation.drivers import CoverageGenerator
        from schemathesis.generation.feedback import FeedbackSources
        from schemathesis.generation.overrides import Override
    except ImportError:
        return None
    schema = _WORKER["schema"]
    generator = CoverageGenerator(operation=op, generation_modes=list(GenerationMode),
                                  generation_config=schema.config.generation_for(operation=op, phase="coverage"),
                                  auth_storage=None, override=Override(), feedback=FeedbackSources())
    cases = []
    for case in generator:
        cases.append(case)
        if limit is not None and len(cases) >= limit:
            break
    return cases


def run_task(task: tuple) -> dict:
    """One operation in one phase: ("coverage", label, limit, _) or ("fuzzing", label, n, mode, seed)."""
    phase, label = task[0], task[1]
    op, token = _WORKER["ops"][label], _WORKER["token"]
    headers = {"Authorization": f"Bearer {token}"}
    result = {"phase": phase, "label": label, "mode": task[3] if phase == "fuzzing" else "both",
              "cases": 0, "status": Counter(), "modes": Counter(), "failures": [], "ms": [], "note": ""}
    started = time.perf_counter()

    def one(case):
        mode = case.meta.generation.mode.value if case.meta is not None else "?"
        t0 = time.perf_counter()
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 — with TESTING on, a view's exception lands here
            result["cases"] += 1
            result["modes"][mode] += 1
            result["status"]["exception"] += 1
            result["failures"].append({"label": label, "mode": mode, "status": None,
                                       "error": f"{type(exc).__name__}: {exc}"[:1500],
                                       "curl": case.as_curl_command(headers={"Authorization": "Bearer <TOKEN>"})})
            return
        result["ms"].append((time.perf_counter() - t0) * 1000)
        result["cases"] += 1
        result["modes"][mode] += 1
        result["status"][response.status_code] += 1
        try:
            case.validate_response(response, headers=headers, excluded_checks=EXCLUDED,
                                   transport_kwargs={"headers": dict(headers)})
        except Exception as exc:  # noqa: BLE001 — a failed check (FailureGroup, AssertionError, …)
            result["failures"].append({"label": label, "mode": mode, "status": response.status_code,
                                       "error": f"{type(exc).__name__}: {exc}"[:1500],
                                       "curl": case.as_curl_command(headers={"Authorization": "Bearer <TOKEN>"})})

    if phase == "coverage":
        cases = _coverage_cases(op, task[2])
        if cases is None:
            result["note"] = "coverage generator not available in this schemathesis"
        for case in cases or []:
            one(case)
    else:
        n, mode, base = task[2], GenerationMode(task[3]), task[4]

        @seed(base)
        @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode))
        def run(case):
            one(case)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 — e.g. Unsatisfiable: no such data for this operation
            result["note"] = f"{type(exc).__name__}: {exc}"[:300]
    result["seconds"] = time.perf_counter() - started
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short smoke run (12 examples per mode)")
    ap.add_argument("--examples", type=int, help="hypothesis examples per operation and mode (default 400)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--no-coverage", action="store_true", help="skip the coverage phase")
    ap.add_argument("--seed", type=int, default=20261127, help="hypothesis seed base (default 20261127)")
    ap.add_argument("--json", type=Path, help="write the counts and failures here")
    args = ap.parse_args()
    examples = args.examples or (12 if args.quick else 400)
    coverage_limit = 20 if args.quick else None

    folder = tempfile.mkdtemp(prefix="formservice-apifuzz-")
    started, results = time.perf_counter(), []
    try:
        # The operation list, from an app of our own (it is cheap): the workers build theirs.
        _build(os.path.join(folder, "main"))
        labels = list(_WORKER["ops"])
        tasks = []
        for i, label in enumerate(labels):
            if not args.no_coverage:
                tasks.append(("coverage", label, coverage_limit, None))
            for j, mode in enumerate(("positive", "negative")):
                tasks.append(("fuzzing", label, examples, mode, args.seed + 10 * i + j))
        _WORKER["app"].extensions["db_engine"].dispose()
        context = multiprocessing.get_context("fork")
        with context.Pool(max(1, args.jobs), initializer=_worker_init, initargs=(folder,)) as pool:
            for result in pool.imap_unordered(run_task, tasks):
                results.append(result)
                print(f"[{len(results):3}/{len(tasks)}] {result['label']:48} {result['phase']:8} {result['mode']:8} "
                      f"{result['cases']:5} cases {result['seconds']:6.1f} s  failures {len(result['failures'])}"
                      + (f"  ({result['note']})" if result["note"] else ""), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(STORAGE, ignore_errors=True)
    elapsed = time.perf_counter() - started

    by_label: dict[str, dict] = {}
    for r in results:
        row = by_label.setdefault(r["label"], {"coverage": 0, "positive": 0, "negative": 0, "status": Counter(),
                                               "failures": 0, "ms": [], "seconds": 0.0})
        if r["phase"] == "coverage":
            row["coverage"] += r["cases"]
        else:
            row[r["mode"]] += r["cases"]
        row["status"].update(r["status"])
        row["failures"] += len(r["failures"])
        row["ms"] += r["ms"]
        row["seconds"] += r["seconds"]
    print()
    print(f"API campaign: {len(by_label)} operations, {examples} examples per mode, jobs {args.jobs}, "
          f"seed {args.seed}, schemathesis {schemathesis.__version__ if hasattr(schemathesis, '__version__') else ''}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| operation | coverage | positive | negative | status distribution | failures | p50 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    total, totals = Counter(), Counter()
    for label in sorted(by_label):
        row = by_label[label]
        total.update(row["status"])
        for k in ("coverage", "positive", "negative", "failures"):
            totals[k] += row[k]
        ms = row["ms"] or [0.0]
        print(f"| `{label}` | {row['coverage']} | {row['positive']} | {row['negative']} | "
              f"{' '.join(f'{k}:{v}' for k, v in sorted(row['status'].items(), key=str))} | {row['failures']} | "
              f"{statistics.median(ms):.1f} | {max(ms):.1f} |")
    cases = totals["coverage"] + totals["positive"] + totals["negative"]
    print(f"| **all** | {totals['coverage']} | {totals['positive']} | {totals['negative']} | "
          f"{' '.join(f'{k}:{v}' for k, v in sorted(total.items(), key=str))} | {totals['failures']} | | |")
    print()
    print(f"{cases} cases ({totals['positive'] + totals['negative']} fuzzing, {totals['coverage']} coverage) "
          f"in {elapsed:.1f} s wall; failures: {totals['failures']}.")
    failures = [f for r in results for f in r["failures"]]
    for f in failures[:15]:
        print(f"\n- {f['label']} ({f['mode']}) -> {f['status']}: {f['error'][:800]}\n  {f['curl'][:1500]}")
    notes = [f"{r['label']} {r['phase']} {r['mode']}: {r['note']}" for r in results if r["note"]]
    if notes:
        print("\nNotes:\n  " + "\n  ".join(notes))
    if args.json:
        args.json.write_text(json.dumps({
            "operations": {k: {kk: (dict(vv) if isinstance(vv, Counter) else vv) for kk, vv in v.items() if kk != "ms"}
                           for k, v in by_label.items()},
            "cases": cases, "seconds": elapsed, "failures": failures, "notes": notes, "examples": examples,
            "seed": args.seed}, indent=2, ensure_ascii=False, default=str))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
