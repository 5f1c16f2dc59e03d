"""Run every benchmark and write one table of targets, measured figures and verdicts into
benchmarks/README.md (between the "results" markers), with the date, the machine's load and the
command. Needs only what `scripts/serve` installs (no test extras).

    .venv/bin/python benchmarks/run_all.py [--quick] [--only click,arenden,...] [--no-write] [--database-url URL]

Each script runs in its own process (a fresh interpreter, so one cannot warm the next) with
`--json`; the JSON is kept in benchmarks/results/ with the date, and the table is built from the
latest result of every benchmark, each row dated: `--only` re-runs some and keeps the others.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
RESULTS = HERE / "results"  # each benchmark's latest result, kept with when and how it ran
POSTGRESQL = " (PostgreSQL)"


def _click(r: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    errors = f"; responses ≥ 500: {r['responses_5xx']} (503: {r['responses_503']})" if r["responses_5xx"] else ""
    for bid, v in r["blanketter"].items():
        rows.append((f"click as the user sees it: {bid}",
                     f"p50 ≤ {r['target']} × bare WeasyPrint, POST → done page and POST → print PDF (live server, "
                     "one keep-alive connection, same run)",
                     f"done page {v['done_ms']} ms = ×{v['done_ratio']}, print PDF {v['pdf_ms']} ms = ×{v['pdf_ratio']} "
                     f"vs bare {v['bare_ms']} ms (302 ×{v['post_ratio']}; the rest written {v['rest_ms']} ms after)"
                     + errors, "PASS" if v["pass_click"] and not r["responses_5xx"] else "FAIL"))
        rows.append((f"click, {r['clients']} clients at once: {bid}",
                     f"p95 ≤ {r['target_burst']} × the single client's p50 (same run)",
                     f"p95 to the print PDF {v['burst_pdf_p95_ms']} ms = ×{v['burst_pdf_ratio']} (to the done page "
                     f"×{v['burst_done_ratio']}, to the 302 ×{v['burst_post_ratio']})", "PASS" if v["pass_burst"] else "FAIL"))
    api = r["api_cache"]
    rows.append(("API: identical repeat", "≤ 5 ms", f"{api['repeat_ms']} ms (first {api['first_ms']} ms)",
                 api["verdict"]))
    return rows


def _cold(r: dict) -> list[tuple[str, str, str, str]]:
    s = r["server"]
    errors = f"; responses ≥ 500: {s['errors_5xx']}" if s["errors_5xx"] else ""
    return [("cold start: `formservice run` to its first print PDF",
             f"≤ {s['target_s']} s; bare cold WeasyPrint process reported",
             f"{s['server_s']} s (server up {s['up_s']} s, login {s['login_s']} s, click {s['click_s']} s) vs bare "
             f"{s['bare_s']} s = ×{s['ratio']}" + errors + _cold_where(s.get("where")), s["verdict"]),
            ("cold start in one interpreter (create_app + one render, to the PDF in hand)",
             f"≤ {r['target_s']} s; ratio to bare WeasyPrint reported",
             f"{r['service_s']} s vs bare {r['bare_s']} s = ×{r['ratio']}", r["verdict"])]


def _cold_where(w: dict | None) -> str:
    """Where the start goes, measured in the same run (bench_cold.STEPS): the gap explained."""
    if not w:
        return ""
    return (f"; measured parts: interpreter {w['interpreter_s']} s, imports {w['imports_s']} s, create_app "
            f"{w['create_app_s']} s, gunicorn + forks + other processes {w['rest_of_up_s']} s, password check "
            f"(scrypt, on purpose) {w['password_check_s']} s")


def _longjobs(r: dict) -> list[tuple[str, str, str, str]]:
    jobs = ", ".join(f"{kind} {v['finished']} done (p50 {v['p50_s']} s)" for kind, v in r["jobs"].items())
    return [(f"\"Ta fram\" while {r['long_jobs']} long jobs run ({r['render_processes']} render processes)",
             f"p50 ≤ {r['target']} × idle p50 (same run, interleaved); no response ≥ 500",
             f"idle {r['idle_ms']} ms, loaded {r['loaded_ms']} ms = ×{r['ratio']}; {jobs}; responses ≥ 500: "
             f"{r['responses_5xx']} (503: {r['responses_503']}), connection errors {r['connection_errors']}, failed "
             f"jobs {r['failed_job_count']}", r["verdict"])]


def _uppfoljning(r: dict) -> list[tuple[str, str, str, str]]:
    if "worst" not in r:  # a result from before issue 24 (three page views, target 1 s)
        return [(f"uppföljning: {name} ({r['arenden']:,} ärenden, {r['database']})", "p95 < 1 s",
                 f"p95 {v['p95_s']} s (p50 {v['p50_s']} s)", "PASS" if v["pass"] else "FAIL")
                for name, v in r["views"].items()]
    pages = {k: v for k, v in r["views"].items() if k.startswith("page")}
    csvs = {k: v for k, v in r["views"].items() if k.startswith("CSV")}
    rows = [(f"uppföljning {name} ({r['arenden']:,} ärenden, {r['database']})", f"p95 ≤ {r['target_s']} s",
             f"p95 {v['p95_s']} s (p50 {v['p50_s']} s)", "PASS" if v["pass"] else "FAIL") for name, v in pages.items()]
    slowest = max(csvs.items(), key=lambda kv: kv[1]["p95_s"])
    rows.append((f"uppföljning: the CSV of each of its {len(csvs)} tables ({r['arenden']:,} ärenden, {r['database']})",
                 f"p95 ≤ {r['target_s']} s each", f"slowest {slowest[0][5:]}: p95 {slowest[1]['p95_s']} s",
                 "PASS" if all(v["pass"] for v in csvs.values()) else "FAIL"))
    rep = r["report"]
    rows.append((f"uppföljning PDF report at {rep['arenden']:,} ärenden ({r['database']})",
                 f"< {rep['target_s']} s (ratio to the page in the same run reported)",
                 f"p50 {rep['report_p50_s']} s (max {rep['report_max_s']} s) = ×{rep['ratio']} the page's "
                 f"{rep['page_p50_s']} s", rep["verdict"]))
    return rows


def _arenden(r: dict) -> list[tuple[str, str, str, str]]:
    count = r["config"]["arenden"]
    return [(f"pages: {name}", f"p95 ≤ 50 ms ({count:,} ärenden in the enhet)",
             f"p95 {v['p95_ms']} ms (p50 {v['p50_ms']} ms)", "PASS" if v["pass"] else "FAIL")
            for name, v in r["operations"].items()]


def _pnr_search(r: dict) -> list[tuple[str, str, str, str]]:
    v = r["operations"]["search_pnr"]
    return [(f"personnummer search at {r['config']['arenden']:,} ärenden", "one index lookup; p95 ≤ 50 ms",
             f"p95 {v['p95_ms']} ms (p50 {v['p50_ms']} ms)", "PASS" if v["pass"] else "FAIL")]


def _blanketter(r: dict) -> list[tuple[str, str, str, str]]:
    s = r["summary"]
    rows = [("render: service vs bare", "≤ 1.10 × bare WeasyPrint (paired, every blankett)",
             f"geomean ×{s['geomean_paired_ratio']}, worst ×{s['worst_paired_ratio']}",
             "PASS" if s["all_pass"] else "FAIL")]
    docx = r.get("docx") or {}
    if docx:
        slowest = max(docx, key=lambda bid: docx[bid]["docx_ms_median"])
        ms = docx[slowest]["docx_ms_median"]
        rows.append(("DOCX per blankett", "≤ 30 ms (median, the slowest blankett)", f"{ms} ms ({slowest})",
                     "PASS" if ms <= 30 else "FAIL"))
    if s.get("memory_flat") is not None:
        rows.append(("render: memory over many documents", "flat (≤ +10 %)", "flat" if s["memory_flat"] else "growing",
                     "PASS" if s["memory_flat"] else "FAIL"))
    return rows


def _simple(name: str, target: str):
    def rows(r: dict) -> list[tuple[str, str, str, str]]:
        figures = ", ".join(f"{k} {v:.2f}" for k, v in r.items() if isinstance(v, (int, float)) and "p95" in k)
        return [(name, target, figures or "see JSON", r.get("verdict", "?"))]
    return rows


BENCHMARKS = {
    "click": ("bench_click.py", _click),
    "arenden": ("bench_arenden.py", _arenden),
    "blanketter": ("bench_blanketter.py", _blanketter),
    "load": ("bench_load.py", lambda r: [(
        f"load over HTTP: {r['workers']} workers × {r['threads']} threads, {r['render_processes']} render "
        f"processes, {r['clients']} clients",
        "≥ 0.90 × ceiling (bare WeasyPrint, a process per core, same clients, interleaved); p95 ≤ 2.5 × single "
        "p50 (or ≤ the bare server's own ratio in the run); RSS ≤ 150 MiB per process",
        f"{r['throughput_per_s']}/s = ×{r['throughput_ratio']} of {r['ceiling_per_s']}/s; p95 ×{r['p95_ratio']} "
        f"(bare server ×{r['bare_p95_ratio']}); server CPU/document ×{r['cpu_ratio']} bare; RSS worker "
        f"{r['worker_rss_mib_after_logins']} MiB after logins, render process {r['render_process_rss_mib']} MiB",
        r["verdict"])]),
    "cold": ("bench_cold.py", _cold),
    "longjobs": ("bench_longjobs.py", _longjobs),
    "uppfoljning": ("bench_uppfoljning.py", _uppfoljning),
    "overview": ("bench_overview.py", lambda r: [(
        f"ärende overview with {r['documents']} documents", "p95 ≤ 50 ms",
        f"p95 {r['overview']['p95_ms']} ms (p50 {r['overview']['p50_ms']} ms; the ärende without documents "
        f"p95 {r['baseline_no_documents']['p95_ms']} ms, ×{r['ratio_p95']})", r["verdict"])]),
    "upload": ("bench_upload.py", _simple("hostile uploads: /healthz under load", "p95 ≤ 1 s, no 5xx")),
    "slow_clients": ("bench_slow_clients.py", _simple("slow-header clients: /healthz", "p95 ≤ 1 s, no timeout")),
    # Seeding 100,000 ärenden takes 4–5 minutes on SQLite; --quick seeds 10,000.
    "search_100k": ("bench_arenden.py", _pnr_search, {"full": ["--arenden", "100000", "--rounds", "30"],
                                                      "quick": ["--arenden", "10000", "--rounds", "20"]}),
}


# Where the database matters: run again on PostgreSQL when run_all is given --database-url.
ON_POSTGRESQL = {"arenden", "search_100k", "uppfoljning"}


def run(names: list[str], quick: bool, database_url: str | None = None) -> list[str]:
    """Run the benchmarks; each result is kept in results/<name>.json with when and how it was run,
    so that a run of some (--only) leaves the others' latest figures in the table. Returns the
    scripts that did not finish."""
    failures = []
    lanes = [(name, "", []) for name in names]
    if database_url:
        lanes += [(name, POSTGRESQL, ["--database-url", database_url]) for name in names if name in ON_POSTGRESQL]
    RESULTS.mkdir(exist_ok=True)
    for name, label, database in lanes:
        script, _summarise, *extra = BENCHMARKS[name]
        args = (extra[0]["quick" if quick else "full"] if extra else []) + database
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            cmd = [sys.executable, str(HERE / script), "--json", str(out), *args] + (["--quick"] if quick else [])
            print(f"== {script} {' '.join(args)}{' --quick' if quick else ''}", flush=True)
            started = time.perf_counter()
            proc = subprocess.run(cmd, cwd=HERE.parent)
            took = time.perf_counter() - started
            if not out.exists():
                print(f"   did not finish (exit {proc.returncode})", flush=True)
                failures.append(script)
                continue
            load = os.getloadavg()[0]
            kept = {"when": f"{datetime.now():%Y-%m-%d %H:%M}", "quick": quick, "load": round(load, 2),
                    "seconds": round(took), "result": json.loads(out.read_text(encoding="utf-8"))}
            (RESULTS / f"{name}{'-postgresql' if label else ''}.json").write_text(
                json.dumps(kept, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"   done in {took:.0f} s", flush=True)
    return failures


def rows_from_results() -> tuple[list[tuple[str, str, str, str, str]], list[str]]:
    """Every benchmark's latest kept result as table rows (with when it ran), and the failing ones."""
    rows, failing = [], []
    for name, (script, summarise, *_extra) in BENCHMARKS.items():
        for suffix, label in (("", ""), ("-postgresql", POSTGRESQL)):
            path = RESULTS / f"{name}{suffix}.json"
            if not path.exists():
                continue
            kept = json.loads(path.read_text(encoding="utf-8"))
            when = f"{kept['when']}{' (--quick)' if kept['quick'] else ''}, load {kept['load']}"
            try:
                found = [(what + label, *rest) for what, *rest in summarise(kept["result"])]
            except (KeyError, TypeError, ValueError) as exc:
                found = [(script + label, "–", f"unreadable result ({exc})", "ERROR")]
            rows += [(*row, when) for row in found]
            failing += [script for *_r, verdict in found if verdict != "PASS"]
    return rows, failing


def table(rows, quick: bool, only: str | None = None) -> str:
    load = os.getloadavg()
    command = "benchmarks/run_all.py" + (" --quick" if quick else "") + (f" --only {only}" if only else "")
    head = (f"Table written {datetime.now():%Y-%m-%d %H:%M} by `{command}` on {os.cpu_count()} cores (load "
            f"average then {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}); each row from the latest run of its "
            "benchmark (`benchmarks/results/`), dated. Ratios are against a baseline measured in the same run."
            " A `--quick` run is noisy: repeat a FAIL with the full run before trusting it.\n\n")
    lines = ["| benchmark | target | measured | verdict | run |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    return head + "\n".join(lines) + "\n"


def write(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    block = f"{START}\n{text}{END}"
    if START in readme and END in readme:
        readme = readme[:readme.index(START)] + block + readme[readme.index(END) + len(END):]
    else:
        readme = readme.replace("## Reading the numbers", f"## Latest results (all benchmarks)\n\n{block}\n\n"
                                                           "## Reading the numbers", 1)
    README.write_text(readme, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--no-write", action="store_true", help="print the table, leave README.md alone")
    parser.add_argument("--database-url", help="also run the database benchmarks on this (empty) PostgreSQL "
                                               "database: " + ", ".join(sorted(ON_POSTGRESQL)))
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    unfinished = run(names, args.quick, args.database_url)
    rows, failing = rows_from_results()
    failures = unfinished + [script for script in failing if script in {BENCHMARKS[n][0] for n in names}]
    text = table(rows, args.quick, args.only)
    print(text)
    if not args.no_write:
        write(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
