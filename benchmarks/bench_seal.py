"""Benchmark: what the organisation's seal adds to an archive copy (issue 29: "the seal adds less
than 150 ms per document", as a ratio to the unsealed archive copy in the same run).

    .venv/bin/python benchmarks/bench_seal.py [--quick] [--json out.json] [--runs N] [--blankett ID]

In each round, interleaved and in alternating order (A→B, then B→A), so a busy phase of the shared
machine hits both alike:
- A, the unsealed archive copy: the blankett laid out and written as PDF/A-2a (WeasyPrint), as the
  doctor's answers' archive copy is made (`render_document(..., variant=ARCHIVE_VARIANT)`);
- B, the seal on that copy: PAdES B-LT by a PKCS#12 seal – signature, RFC 3161 timestamp and the
  revocation data (OCSP, CRL) – from a test PKI on 127.0.0.1 (tests/pki.py, certomancer's
  animator in a thread of this process: the TSA and OCSP answer in about a millisecond, where a real
  TSA on the network adds its round trip).
Reports medians of wall-clock and CPU ms, the seal's p95, the ratio seal / archive copy and the
verdict against 150 ms; and, for reference, verifying the sealed copy offline. Needs the `test`
extra (certomancer) for the PKI; the service itself needs only pyHanko.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formservice.blanketter.catalogue import load_catalogue  # noqa: E402
from formservice.rendering import documents, pdf, seal  # noqa: E402
from tests import pki  # noqa: E402
from tests.sample_values import sample_values  # noqa: E402

TARGET_MS = 150.0


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few runs, for a smoke test")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--blankett", default="forandringsplan")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    runs = args.runs or (5 if args.quick else 30)

    catalogue = load_catalogue()
    raw = {}
    for part in documents.parts_of(catalogue, args.blankett):
        raw.update(sample_values(part))
    values = documents.validate(catalogue, args.blankett, raw)
    ctx = pdf.DocumentContext(organisation="Teststaden", document_number="FS-BNCH-SIGL",
                              created=datetime.date(2026, 12, 7))
    parts = documents.print_parts(catalogue, args.blankett, values)

    def archive_copy() -> bytes:
        return pdf.render_document(parts, ctx, variant=pdf.ARCHIVE_VARIANT).pdf

    with tempfile.TemporaryDirectory() as folder:
        test_pki = pki.start(Path(folder))
        try:
            sealer = seal.Sealer(seal.SealSettings(tsa_url=test_pki.tsa_url, pkcs12=test_pki.pkcs12("seal"),
                                                   password=pki.PASSWORD, trust_roots=(test_pki.ca_pem(),)))
            roots = seal.trust_roots([test_pki.ca_pem()])
            unsealed = archive_copy()
            for _ in range(2):  # warm up: fonts, CSS, pyHanko's imports, the first OCSP/CRL fetch
                sealed = sealer.seal(archive_copy())
            assert seal.seal_status(sealed, roots, online=False).valid
            a_wall, a_cpu, b_wall, b_cpu, ratios = [], [], [], [], []
            for i in range(runs):
                steps = [("a", archive_copy), ("b", lambda: sealer.seal(unsealed))]
                got = {}
                for name, fn in (steps if i % 2 == 0 else steps[::-1]):
                    _out, wall, cpu = _timed(fn)
                    got[name] = (wall, cpu)
                a_wall.append(got["a"][0]), a_cpu.append(got["a"][1])
                b_wall.append(got["b"][0]), b_cpu.append(got["b"][1])
                ratios.append(got["b"][0] / got["a"][0])
            verify = [_timed(lambda: seal.seal_status(sealed, roots, online=False))[1] for _ in range(min(runs, 10))]
        finally:
            test_pki.stop()

    results = {
        "blankett": args.blankett,
        "runs": runs,
        "load_average": os.getloadavg(),
        "archive_ms_median": statistics.median(a_wall),
        "archive_cpu_ms_median": statistics.median(a_cpu),
        "seal_ms_median": statistics.median(b_wall),
        "seal_ms_p95": _p95(b_wall),
        "seal_cpu_ms_median": statistics.median(b_cpu),
        "seal_over_archive": statistics.median(b_wall) / statistics.median(a_wall),
        "seal_over_archive_paired": statistics.median(ratios),
        "verify_ms_median": statistics.median(verify),
        "unsealed_bytes": len(unsealed),
        "sealed_bytes": len(sealed),
        "target_ms": TARGET_MS,
    }
    results["verdict"] = "PASS" if results["seal_ms_median"] < TARGET_MS else "FAIL"
    print(f"{args.blankett}, {runs} rounds, load {results['load_average'][0]:.2f}")
    print(f"{'':34} {'median ms':>10} {'cpu ms':>8} {'p95 ms':>8} {'bytes':>8}")
    print(f"{'arkivexemplar (PDF/A), osigillerat':34} {results['archive_ms_median']:10.1f} "
          f"{results['archive_cpu_ms_median']:8.1f} {_p95(a_wall):8.1f} {len(unsealed):8d}")
    print(f"{'försegling (PAdES B-LT)':34} {results['seal_ms_median']:10.1f} {results['seal_cpu_ms_median']:8.1f} "
          f"{results['seal_ms_p95']:8.1f} {len(sealed):8d}")
    print(f"{'kontroll av sigillet (offline)':34} {results['verify_ms_median']:10.1f}")
    print(f"sigill / arkivexemplar: {results['seal_over_archive']:.2f} (parvis {results['seal_over_archive_paired']:.2f}); "
          f"mål < {TARGET_MS:.0f} ms per dokument: {results['verdict']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
