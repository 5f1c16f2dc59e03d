#!/usr/bin/env python
"""Benchmark: the service's document path against bare WeasyPrint, per blankett.

For each of the five blanketter (the main ones; a blankett's bilagor travel with it):

* **bare**    – ``weasyprint.HTML(string=html).write_pdf()`` for exactly the HTML the service
  renders (``formservice.rendering.pdf.render_html``), with the same print CSS parsed once,
  one ``FontConfiguration``, the same ``base_url`` and the same ``pdf_variant``. WeasyPrint's
  default URL fetcher is used: that is what "bare WeasyPrint" means.
* **service** – ``formservice.rendering.documents.produce(catalogue, id, raw_values, ctx, "pdf")``:
  definition → validation → HTML (Jinja) → PDF (WeasyPrint, restricted fetcher) → packet.

A blankett with bilagor (or with one copy per recipient, the SIP-kallelse) becomes a packet of
several PDFs in the service. The comparison is made per *document*: the bare time is the sum
of bare renders of every part's HTML (same parts, same copies), the service time is one
``produce`` call, so the packet merge (pypdf) counts as service overhead.

Also measured: the cheap service steps on their own (validation, HTML templating, packet
merge) to show where any overhead goes, the DOCX render (``documents.produce_docx``), and the
peak memory of one process producing many documents in a row (in a subprocess, so the
timing phase does not inflate its peak RSS).

Timings alternate the order of the two paths on every round (bare→service, service→bare, …)
so that drift on a shared machine hits both equally. Only ratios measured in the same run
are meaningful; absolute milliseconds depend on the machine's load.

    .venv/bin/python benchmarks/bench_blanketter.py [--quick] [--json out.json]
"""
from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.10          # the service may add at most 10 % to bare WeasyPrint
FLAT_LIMIT = 1.10            # memory: last sample at most 10 % above the first one
CTX_ARGS = {"organisation": "Teststaden", "document_number": "BENCH-2026-000001",
            "created": date(2026, 11, 22)}


# --------------------------------------------------------------------------- set-up

class Case:
    """One blankett with its sample values, the service's inputs and the bare path's inputs."""

    def __init__(self, catalogue, blankett_id: str, ctx):
        from formservice.rendering import documents
        from formservice.rendering import pdf
        from tests.sample_values import sample_values

        self.id = blankett_id
        self.parts = documents.parts_of(catalogue, blankett_id)
        self.raw = sample_values(*self.parts)
        self.values = documents.validate(catalogue, blankett_id, self.raw)
        # Exactly what documents.produce_pdf lays out: every part (one copy per recipient) in one HTML.
        self.copies = documents.print_parts(catalogue, blankett_id, self.values)
        self.htmls = [pdf.document_html(self.copies, ctx)]


class Bare:
    """Bare WeasyPrint with the service's CSS file, font configuration, base URL and PDF variant."""

    def __init__(self):
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration

        from formservice import paths
        from formservice.rendering import pdf

        static = Path(paths.STATIC_DIR).resolve()
        self.HTML = HTML
        self.base_url = static.as_uri() + "/"
        self.font_config = FontConfiguration()
        self.css = CSS(filename=str(static / pdf.PRINT_CSS), font_config=self.font_config)
        self.variant = pdf.PDF_VARIANT

    def render(self, html: str) -> bytes:
        return self.HTML(string=html, base_url=self.base_url).write_pdf(
            stylesheets=[self.css], font_config=self.font_config, pdf_variant=self.variant)


def load():
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents
    from formservice.rendering.pdf import DocumentContext

    catalogue = load_catalogue()
    ctx = DocumentContext(**CTX_ARGS)
    cases = [Case(catalogue, bid, ctx) for bid in sorted(catalogue.main_blanketter)]
    return catalogue, ctx, cases, documents


def timed(fn):
    """(wall seconds, CPU seconds of this process, result); a GC pass first, outside the timing."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w0, time.process_time() - c0, result


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- phases

def bench_pdf(catalogue, ctx, cases, documents, bare: Bare, runs: int, warmup: int, steps_runs: int
              ) -> list[dict]:
    from pypdf import PdfReader

    from formservice.rendering import pdf

    def bare_doc(case):
        return [bare.render(h) for h in case.htmls]

    def service_doc(case):
        return documents.produce(catalogue, case.id, case.raw, ctx, "pdf")

    for _ in range(warmup):
        for case in cases:
            bare_doc(case)
            service_doc(case)

    samples = {c.id: {"bare": [], "service": [], "bare_cpu": [], "service_cpu": []} for c in cases}
    last = {}
    for i in range(runs):
        for case in cases:
            order = ("bare", "service") if i % 2 == 0 else ("service", "bare")
            for path in order:
                wall, cpu, out = timed(lambda: bare_doc(case) if path == "bare" else service_doc(case))
                samples[case.id][path].append(wall)
                samples[case.id][path + "_cpu"].append(cpu)
                last[(case.id, path)] = out
        if (i + 1) % max(1, runs // 10) == 0 or i + 1 == runs:
            print(f"  round {i + 1}/{runs}", file=sys.stderr, flush=True)

    # The service's own steps, timed alone (cheap: no WeasyPrint involved).
    results = []
    for case in cases:
        s = samples[case.id]
        validate_t = [timed(lambda: documents.validate(catalogue, case.id, case.raw))[0] for _ in range(steps_runs)]
        html_t = [timed(lambda: pdf.document_html(case.copies, ctx))[0] for _ in range(steps_runs)]
        packet_t = [0.0]  # one layout for the whole packet: there is no merge step any more
        service_pdf = last[(case.id, "service")].content
        packet_med = statistics.median(packet_t)
        bare_med, service_med = statistics.median(s["bare"]), statistics.median(s["service"])
        bare_cpu, service_cpu = statistics.median(s["bare_cpu"]), statistics.median(s["service_cpu"])
        # The two paths of one round ran back to back: their ratio cancels slower and faster phases
        # of the machine better than the ratio of two medians does.
        paired = [sv / bv for sv, bv in zip(s["service"], s["bare"])]
        paired_cpu = [sv / bv for sv, bv in zip(s["service_cpu"], s["bare_cpu"])]
        verdicts = {service_med / bare_med <= TARGET_RATIO, statistics.median(paired) <= TARGET_RATIO,
                    service_cpu / bare_cpu <= TARGET_RATIO}
        results.append({
            "blankett": case.id,
            "parts": [p.id for p in case.parts],
            "copies": len(case.copies),
            "pages": len(PdfReader(io.BytesIO(service_pdf)).pages),
            "bare_ms_median": ms(bare_med),
            "service_ms_median": ms(service_med),
            "ratio": round(service_med / bare_med, 3),
            # Estimate: the service's time less its packet merge, over bare (all parts rendered).
            "ratio_without_packet_est": round((service_med - packet_med) / bare_med, 3),
            "bare_ms_p90": ms(pct(s["bare"], 90)),
            "service_ms_p90": ms(pct(s["service"], 90)),
            "bare_cpu_ms_median": ms(bare_cpu),
            "service_cpu_ms_median": ms(service_cpu),
            "paired_ratio_median": round(statistics.median(paired), 3),
            "paired_ratio_p25": round(pct(paired, 25), 3),
            "paired_ratio_p75": round(pct(paired, 75), 3),
            "cpu_ratio": round(service_cpu / bare_cpu, 3),
            "paired_cpu_ratio_median": round(statistics.median(paired_cpu), 3),
            "bare_pdf_bytes": sum(len(b) for b in last[(case.id, "bare")]),
            "service_pdf_bytes": len(service_pdf),
            "steps_ms_median": {
                "validate": ms(statistics.median(validate_t)),
                "render_html": ms(statistics.median(html_t)),
                "build_packet": ms(statistics.median(packet_t)),
            },
            # Judged on the paired ratio; 'consistent' says whether ratio of medians, paired ratio and
            # CPU ratio all agree about the target (they may not on a busy machine).
            "pass": statistics.median(paired) <= TARGET_RATIO,
            "consistent": len(verdicts) == 1,
        })
    return results


def bench_docx(catalogue, ctx, cases, documents, runs: int, warmup: int) -> dict[str, dict]:
    out = {}
    for case in cases:
        for _ in range(warmup):
            documents.produce_docx(catalogue, case.id, case.values, ctx)
        times, size = [], 0
        for _ in range(runs):
            wall, _cpu, doc = timed(lambda: documents.produce_docx(catalogue, case.id, case.values, ctx))
            times.append(wall)
            size = len(doc.content)
        out[case.id] = {"docx_ms_median": ms(statistics.median(times)), "docx_bytes": size}
    return out


def rss_mib() -> tuple[float, float]:
    """(peak RSS, current RSS) of this process in MiB."""
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with open("/proc/self/statm") as fh:
        resident_pages = int(fh.read().split()[1])
    return round(peak_kib / 1024, 1), round(resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def memory_child(docs: int, every: int, out_path: str) -> None:
    """Run in a fresh process: produce `docs` documents cycling through the blanketter."""
    catalogue, ctx, cases, documents = load()
    start_peak, start_rss = rss_mib()
    series = []
    t0 = time.perf_counter()
    for i in range(docs):
        case = cases[i % len(cases)]
        documents.produce(catalogue, case.id, case.raw, ctx, "pdf")
        if (i + 1) % every == 0 or i + 1 == docs:
            peak, rss = rss_mib()
            series.append({"documents": i + 1, "peak_rss_mib": peak, "rss_mib": rss,
                           "elapsed_s": round(time.perf_counter() - t0, 1)})
            print(f"  memory: {i + 1}/{docs} documents, peak {peak} MiB", file=sys.stderr, flush=True)
    Path(out_path).write_text(json.dumps({"start_peak_rss_mib": start_peak, "start_rss_mib": start_rss,
                                          "series": series}))


def bench_memory(docs: int) -> dict:
    every = 100 if docs >= 1000 else max(1, docs // 10)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "memory.json"
        subprocess.run([sys.executable, __file__, "--memory-child", str(docs), "--every", str(every),
                        "--child-out", str(out)], check=True)
        data = json.loads(out.read_text())
    series = data["series"]
    first, last = series[0], series[-1]
    peak_growth = last["peak_rss_mib"] / first["peak_rss_mib"]
    rss_growth = last["rss_mib"] / first["rss_mib"]
    data.update({
        "documents": docs,
        "sample_every": every,
        "peak_growth": round(peak_growth, 3),
        "rss_growth": round(rss_growth, 3),
        "verdict": "flat" if peak_growth <= FLAT_LIMIT and rss_growth <= FLAT_LIMIT else "growing",
        "docs_per_s": round(docs / last["elapsed_s"], 2) if last["elapsed_s"] else None,
    })
    return data


# --------------------------------------------------------------------------- report

def print_report(result: dict) -> None:
    cfg = result["config"]
    print()
    print(f"Blanketter: service path vs bare WeasyPrint  (runs={cfg['runs']}, warm-up={cfg['warmup']}, "
          f"order alternated every round; {result['machine']['cpus']} CPUs, load {result['machine']['loadavg']})")
    print("bare/service: median wall-clock ms per document (all parts); ratio = service / bare medians;")
    print("paired = median (and p25-p75) of the per-round ratios; cpu = ratio of median CPU times.")
    print(f"Verdict on the paired ratio, target <= {TARGET_RATIO:.2f}; '?' = the three ratios disagree.")
    head = (f"{'blankett':<26}{'copies':>6}{'pages':>6}{'bare':>8}{'service':>8}{'ratio':>7}"
            f"{'paired (p25-p75)':>22}{'cpu':>7}{'bare B':>8}{'service B':>10}{'docx ms':>8}{'docx B':>7}  verdict")
    print(head)
    print("-" * len(head))
    for r in result["pdf"]:
        d = result["docx"][r["blankett"]]
        spread = f"{r['paired_ratio_median']:.3f} ({r['paired_ratio_p25']:.2f}-{r['paired_ratio_p75']:.2f})"
        print(f"{r['blankett']:<26}{r['copies']:>6}{r['pages']:>6}{r['bare_ms_median']:>8.1f}"
              f"{r['service_ms_median']:>8.1f}{r['ratio']:>7.3f}{spread:>22}{r['cpu_ratio']:>7.3f}"
              f"{r['bare_pdf_bytes']:>8}{r['service_pdf_bytes']:>10}{d['docx_ms_median']:>8.1f}{d['docx_bytes']:>7}  "
              f"{'PASS' if r['pass'] else 'FAIL'}{'' if r['consistent'] else ' ?'}")
    s = result["summary"]
    print("-" * len(head))
    print(f"{'all five (sum of medians)':<38}{s['bare_ms_sum']:>8.1f}{s['service_ms_sum']:>8.1f}"
          f"{s['ratio_of_sums']:>7.3f}{s['geomean_paired_ratio']:>22.3f}{s['cpu_ratio_of_sums']:>7.3f}"
          f"   (paired: geometric mean; worst paired {s['worst_paired_ratio']:.3f})")
    print()
    print("Service steps outside WeasyPrint (medians, ms):")
    print(f"{'blankett':<26}{'validate':>10}{'html':>8}{'packet':>8}{'sum':>8}{'service - bare':>16}"
          f"{'ratio w/o packet (est.)':>25}")
    for r in result["pdf"]:
        st = r["steps_ms_median"]
        total = st["validate"] + st["render_html"] + st["build_packet"]
        print(f"{r['blankett']:<26}{st['validate']:>10.1f}{st['render_html']:>8.1f}{st['build_packet']:>8.1f}"
              f"{total:>8.1f}{r['service_ms_median'] - r['bare_ms_median']:>16.1f}"
              f"{r['ratio_without_packet_est']:>25.3f}")
    m = result.get("memory")
    if m:
        print()
        print(f"Memory: {m['documents']} consecutive documents in one fresh process, cycling through the "
              f"five blanketter (start: peak {m['start_peak_rss_mib']} MiB, RSS {m['start_rss_mib']} MiB)")
        print(f"{'documents':>10}{'peak RSS MiB':>14}{'RSS MiB':>10}{'elapsed s':>11}")
        for row in m["series"]:
            print(f"{row['documents']:>10}{row['peak_rss_mib']:>14.1f}{row['rss_mib']:>10.1f}{row['elapsed_s']:>11.1f}")
        print(f"last / first sample: peak x{m['peak_growth']:.3f}, RSS x{m['rss_growth']:.3f} "
              f"(limit x{FLAT_LIMIT:.2f}) -> {m['verdict']}; {m['docs_per_s']} documents/s")
    print()
    print(f"Overall: {'PASS' if s['all_pass'] else 'FAIL'} (service within {round((TARGET_RATIO - 1) * 100)} % "
          f"of bare WeasyPrint for every blankett)"
          + (f"; memory {m['verdict']}" if m else ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 5 rounds, 30 documents for memory")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    ap.add_argument("--runs", type=int, help="timed rounds per blankett and path (default 30, --quick 5)")
    ap.add_argument("--docs", type=int, help="documents in the memory run (default 1000, --quick 30; 0 = skip)")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--every", type=int, default=100, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child is not None:
        memory_child(args.memory_child, args.every, args.child_out)
        return 0

    runs = args.runs or (5 if args.quick else 30)
    docs = args.docs if args.docs is not None else (30 if args.quick else 1000)
    warmup = 1 if args.quick else 2
    started = time.perf_counter()

    catalogue, ctx, cases, documents = load()
    bare = Bare()
    print(f"PDF: {len(cases)} blanketter x {runs} rounds x 2 paths ...", file=sys.stderr)
    pdf_results = bench_pdf(catalogue, ctx, cases, documents, bare, runs, warmup,
                            steps_runs=runs if args.quick else max(runs, 10))
    print("DOCX ...", file=sys.stderr)
    docx_results = bench_docx(catalogue, ctx, cases, documents, 3 if args.quick else runs, warmup)
    memory = None
    if docs:
        print(f"Memory: {docs} documents in a subprocess ...", file=sys.stderr)
        memory = bench_memory(docs)

    bare_sum = sum(r["bare_ms_median"] for r in pdf_results)
    service_sum = sum(r["service_ms_median"] for r in pdf_results)
    cpu_bare = sum(r["bare_cpu_ms_median"] for r in pdf_results)
    cpu_service = sum(r["service_cpu_ms_median"] for r in pdf_results)
    ratios = [r["ratio"] for r in pdf_results]
    result = {
        "benchmark": "bench_blanketter",
        "timestamp": datetime.now().isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]},
        "config": {"runs": runs, "warmup": warmup, "memory_documents": docs, "quick": args.quick,
                   "target_ratio": TARGET_RATIO, "baseline": "weasyprint.HTML(string=html, base_url=static)"
                   ".write_pdf(stylesheets=[print.css parsed once], font_config=one FontConfiguration, "
                   "pdf_variant=pdf/ua-1), summed over every part/copy of the document",
                   "service": "formservice.rendering.documents.produce(catalogue, id, raw, ctx, 'pdf')"},
        "pdf": pdf_results,
        "docx": docx_results,
        "memory": memory,
        "summary": {
            "bare_ms_sum": round(bare_sum, 1), "service_ms_sum": round(service_sum, 1),
            "ratio_of_sums": round(service_sum / bare_sum, 3),
            "cpu_ratio_of_sums": round(cpu_service / cpu_bare, 3),
            "geomean_ratio": round(statistics.geometric_mean(ratios), 3),
            "worst_ratio": max(ratios),
            "geomean_paired_ratio": round(statistics.geometric_mean([r["paired_ratio_median"]
                                                                     for r in pdf_results]), 3),
            "worst_paired_ratio": max(r["paired_ratio_median"] for r in pdf_results),
            "all_pass": all(r["pass"] for r in pdf_results),
            "memory_flat": None if memory is None else memory["verdict"] == "flat",
            "duration_s": round(time.perf_counter() - started, 1),
        },
    }
    print_report(result)
    print(f"(took {result['summary']['duration_s']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
