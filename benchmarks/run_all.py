"""Run every benchmark and write one table of targets, measured figures and verdicts into
benchmarks/README.md (between the "results" markers), with the date, the machine's load and the
command. Needs only what `scripts/serve` installs (no test extras).

    .venv/bin/python benchmarks/run_all.py [--quick] [--only click,arenden,...] [--no-write]

Each script runs in its own process (a fresh interpreter, so one cannot warm the next) with
`--json`; the row's figures come from that JSON and its verdict from the script's own verdict.
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


def _click(r: dict) -> list[tuple[str, str, str, str]]:
    rows = [(f"click: {bid}", "p50 ≤ 1.3 × bare WeasyPrint (same run)",
             f"{v['click_ms']} ms vs bare {v['bare_ms']} ms = ×{v['ratio']} (before: ×{v['before_ratio']})",
             v["verdict"]) for bid, v in r["blanketter"].items()]
    api = r["api_cache"]
    rows.append(("API: identical repeat", "≤ 5 ms", f"{api['repeat_ms']} ms (first {api['first_ms']} ms)",
                 api["verdict"]))
    return rows


def _arenden(r: dict) -> list[tuple[str, str, str, str]]:
    count = r["config"]["arenden"]
    return [(f"pages: {name}", f"p95 ≤ 50 ms ({count:,} ärenden in the enhet)",
             f"p95 {v['p95_ms']} ms (p50 {v['p50_ms']} ms)", "PASS" if v["pass"] else "FAIL")
            for name, v in r["operations"].items()]


def _blanketter(r: dict) -> list[tuple[str, str, str, str]]:
    s = r["summary"]
    rows = [("render: service vs bare", "≤ 1.10 × bare WeasyPrint (paired, every blankett)",
             f"geomean ×{s['geomean_paired_ratio']}, worst ×{s['worst_paired_ratio']}",
             "PASS" if s["all_pass"] else "FAIL")]
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
        f"load over HTTP: {r['workers']} workers × {r['threads']} threads, {r['clients']} clients",
        "≥ 0.90 × ceiling (cores ÷ bare); p95 ≤ 2.5 × single p50",
        f"{r['throughput_per_s']}/s = ×{r['throughput_ratio']} of {r['ceiling_per_s']}/s; p95 ×{r['p95_ratio']}; "
        f"server CPU/document ×{r['cpu_ratio']} bare", r["verdict"])]),
    "cold": ("bench_cold.py", lambda r: [(
        "cold start to the first PDF (new interpreter)", f"≤ {r['target_s']} s; ratio to bare WeasyPrint reported",
        f"{r['service_s']} s vs bare {r['bare_s']} s = ×{r['ratio']}", r["verdict"])]),
    "uppfoljning": ("bench_uppfoljning.py", lambda r: [(
        f"uppföljning: {name} ({r['arenden']:,} ärenden, {r['database']})", "p95 < 1 s",
        f"p95 {v['p95_s']} s (p50 {v['p50_s']} s)", "PASS" if v["pass"] else "FAIL")
        for name, v in r["views"].items()]),
    "upload": ("bench_upload.py", _simple("hostile uploads: /healthz under load", "p95 ≤ 1 s, no 5xx")),
    "slow_clients": ("bench_slow_clients.py", _simple("slow-header clients: /healthz", "p95 ≤ 1 s, no timeout")),
}


def run(names: list[str], quick: bool) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    rows, failures = [], []
    for name in names:
        script, summarise = BENCHMARKS[name]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            cmd = [sys.executable, str(HERE / script), "--json", str(out)] + (["--quick"] if quick else [])
            print(f"== {script}{' --quick' if quick else ''}", flush=True)
            started = time.perf_counter()
            proc = subprocess.run(cmd, cwd=HERE.parent)
            took = time.perf_counter() - started
            if not out.exists():
                rows.append((script, "–", f"did not finish (exit {proc.returncode})", "ERROR"))
                failures.append(script)
                continue
            try:
                found = summarise(json.loads(out.read_text(encoding="utf-8")))
            except (KeyError, TypeError, ValueError) as exc:
                found = [(script, "–", f"unreadable result ({exc})", "ERROR")]
            rows += found
            failures += [script for *_r, verdict in found if verdict not in ("PASS",)]
            print(f"   {len(found)} rows in {took:.0f} s", flush=True)
    return rows, failures


def table(rows, quick: bool) -> str:
    load = os.getloadavg()
    head = (f"Last run: {datetime.now():%Y-%m-%d %H:%M}, `benchmarks/run_all.py{' --quick' if quick else ''}`, "
            f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} cores. "
            "Ratios are against a baseline measured in the same run."
            + (" A `--quick` run (5 rounds) is noisy: repeat a FAIL with the full run before trusting it."
               if quick else "") + "\n\n")
    lines = ["| benchmark | target | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
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
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    rows, failures = run(names, args.quick)
    text = table(rows, args.quick)
    print(text)
    if not args.no_write:
        write(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
