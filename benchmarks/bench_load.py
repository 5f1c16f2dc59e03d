"""Sustained load over HTTP against `formservice run` (gunicorn, gthread), against the ceiling
`cores ÷ bare render time` measured in the same run.

The service is started as in production (`formservice run --workers W --threads T`, demo data)
and rendered to through the API: `POST /api/v1/blanketter/forandringsplan/pdf` with the sample
values, each request with a different name so that no answer comes from the render cache.

* **single**: one client, one request at a time: p50 latency.
* **load**: C clients (default 4) without pause for D seconds: documents per second, p95 latency,
  and the server's CPU seconds per document (master and workers, from /proc).
* **bare**: WeasyPrint on the same print HTML in this process (the service idle), before and after
  the load: median wall and CPU time. The ceiling is cores ÷ bare wall time.

    .venv/bin/python benchmarks/bench_load.py [--quick] [--workers 2] [--threads 4] [--clients 4] [--json out.json]

Targets (issue 14): throughput ≥ 0.90 × ceiling; p95 at concurrency 4 ≤ 2.5 × the single p50.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._live_server import LiveService, percentile  # noqa: E402

BLANKETT = "forandringsplan"


def sample_body():
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents
    from tests.sample_values import sample_values

    catalogue = load_catalogue()
    return catalogue, sample_values(*documents.parts_of(catalogue, BLANKETT))


def bare_times(catalogue, values, rounds: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of bare WeasyPrint on the document's print HTML."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from formservice import paths
    from formservice.rendering import documents, pdf
    from formservice.rendering.pdf import DocumentContext

    static = Path(paths.STATIC_DIR).resolve()
    fonts = FontConfiguration()
    css = CSS(filename=str(static / pdf.PRINT_CSS), font_config=fonts)
    clean = documents.validate(catalogue, BLANKETT, values)
    html = pdf.document_html(documents.print_parts(catalogue, BLANKETT, clean), DocumentContext(organisation="Demo"))
    walls, cpus = [], []
    for i in range(rounds + 2):
        w0, c0 = time.perf_counter(), time.process_time()
        HTML(string=html, base_url=static.as_uri() + "/").write_pdf(stylesheets=[css], font_config=fonts,
                                                                     pdf_variant=pdf.PDF_VARIANT)
        if i >= 2:
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


class Client:
    def __init__(self, port: int, token: str, values: dict):
        self.port, self.token, self.values = port, token, values
        self.counter = 0
        self.lock = threading.Lock()

    def render(self) -> float:
        with self.lock:
            self.counter += 1
            n = self.counter
        body = json.dumps(dict(self.values, individ_namn=f"Tilda Testperson {n}")).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        t0 = time.perf_counter()
        conn.request("POST", f"/api/v1/blanketter/{BLANKETT}/pdf", body=body,
                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        res = conn.getresponse()
        data = res.read()
        took = time.perf_counter() - t0
        conn.close()
        if res.status != 200 or not data.startswith(b"%PDF"):
            raise RuntimeError(f"render answered {res.status}: {data[:200]!r}")
        return took


def load_phase(client: Client, clients: int, seconds: float) -> tuple[list[float], float]:
    times: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    errors: list[BaseException] = []

    def worker():
        while time.perf_counter() < stop:
            try:
                took = client.render()
            except BaseException as exc:  # noqa: BLE001 — reported after the phase
                errors.append(exc)
                return
            with lock:
                times.append(took)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return times, time.perf_counter() - t0


def worker_rss_mib(svc) -> float:
    """The largest resident set of the server's workers, MiB."""
    sizes = []
    for pid in svc.worker_pids():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return round(max(sizes), 1) if sizes else 0.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    seconds = args.seconds or (10 if args.quick else 30)
    singles = 6 if args.quick else 15
    catalogue, values = sample_body()
    cores = os.cpu_count() or 1

    service = LiveService(workers=args.workers, threads=args.threads)
    service.env["FORMSERVICE_API_RENDERS_PER_MINUTE"] = "1000000"
    with service as svc:
        token = svc._cli("create-token", "--username", "soc.demo", "--name", "bench-load").strip().splitlines()[-1]
        client = Client(svc.port, token, values)
        for _ in range(4):  # every worker thread warm
            client.render()
        bare_before = bare_times(catalogue, values, 5 if args.quick else 10)
        single = [client.render() for _ in range(singles)]
        cpu0 = svc.cpu_seconds()
        loaded, took = load_phase(client, args.clients, seconds)
        cpu_per_doc = (svc.cpu_seconds() - cpu0) / len(loaded)
        rss_after_load = worker_rss_mib(svc)
        for _ in range(2 * args.workers):  # logins (scrypt) on every worker, most likely
            svc.session()
        rss_after_logins = worker_rss_mib(svc)
        bare_after = bare_times(catalogue, values, 5 if args.quick else 10)
    bare_wall = statistics.median([bare_before[0], bare_after[0]])
    bare_cpu = statistics.median([bare_before[1], bare_after[1]])
    ceiling = cores / bare_wall
    throughput = len(loaded) / took
    single_p50 = statistics.median(single)
    p95 = percentile(loaded, 95)
    result = {
        "workers": args.workers, "threads": args.threads, "clients": args.clients, "cores": cores,
        "load": os.getloadavg()[0], "bare_ms": round(bare_wall * 1000, 1), "bare_cpu_ms": round(bare_cpu * 1000, 1),
        "ceiling_per_s": round(ceiling, 2), "throughput_per_s": round(throughput, 2),
        "throughput_ratio": round(throughput / ceiling, 3), "single_p50_ms": round(single_p50 * 1000, 1),
        "p95_ms": round(p95 * 1000, 1), "p95_ratio": round(p95 / single_p50, 2),
        "server_cpu_per_doc_ms": round(cpu_per_doc * 1000, 1), "cpu_ratio": round(cpu_per_doc / bare_cpu, 3),
        "documents": len(loaded),
        "worker_rss_mib_after_load": rss_after_load, "worker_rss_mib_after_logins": rss_after_logins,
    }
    result["verdict"] = "PASS" if result["throughput_ratio"] >= 0.90 and result["p95_ratio"] <= 2.5 else "FAIL"
    print(f"{args.workers} workers × {args.threads} threads, {args.clients} clients for {seconds:.0f} s, "
          f"{cores} cores, load {result['load']:.2f}")
    print(f"bare render {result['bare_ms']} ms (CPU {result['bare_cpu_ms']} ms) → ceiling {result['ceiling_per_s']}/s")
    print(f"throughput {result['throughput_per_s']}/s = {result['throughput_ratio']} × ceiling (target ≥ 0.90)")
    print(f"single p50 {result['single_p50_ms']} ms; p95 under load {result['p95_ms']} ms = "
          f"{result['p95_ratio']} × (target ≤ 2.5)")
    print(f"server CPU per document {result['server_cpu_per_doc_ms']} ms = {result['cpu_ratio']} × bare CPU")
    print(f"worker RSS (largest) after the load {rss_after_load} MiB, after logins {rss_after_logins} MiB "
          "(budget 150 MiB)")
    print(f"VERDICT: {result['verdict']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["verdict"] == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
