"""Benchmark: the doctor's fillable förfrågan out, and a returned one read back and validated.

    .venv/bin/python benchmarks/bench_doctor_answers.py [--quick] [--json out.json]

Reports, in one run on the same machine:
- the print version of the förfrågan (baseline) against the fillable version with its signed
  reference (median ms, ratio, bytes; the issue asks for at most 100 KB);
- reading back a returned PDF (filled with pypdf as a PDF reader would): the safety checks,
  the reference check, picking the doctor's answers and validating them (median and max ms;
  the issue asks for well under a second).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formservice.doctor import readback  # noqa: E402
from formservice.doctor import reference as docref  # noqa: E402
from formservice.rendering import pdf  # noqa: E402
from tests.data import returned_pdfs as corpus  # noqa: E402


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few runs, for a smoke test")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    n = 5 if args.quick else 30

    blankett = corpus.forfragan()
    values = corpus.socialsekreterare_values(blankett)
    ref = corpus.reference()

    def print_version():
        return pdf.render_pdf(blankett, values, corpus.CTX).pdf

    def fillable_version():
        return docref.embed_reference(pdf.render_pdf(blankett, values, corpus.CTX, fillable=True).pdf, ref)

    print_version(), fillable_version()  # warm up (CSS, fonts, templates)
    base, fill = [], []
    for _ in range(n):  # interleaved, so drift on a shared machine hits both alike
        base += timed(print_version, 1)
        fill += timed(fillable_version, 1)
    returned = corpus.fill_with_pypdf(fillable_version(), corpus.DOCTOR_VALUES)

    def read_back():
        got = readback.open_returned(returned)
        readback.check_reference(got, corpus.SECRET, arende_id=corpus.ARENDE_ID,
                                 organisation_id=corpus.ORGANISATION_ID)
        clean, errors = readback.validate_doctor_answers(blankett, readback.doctor_answers(blankett, got.fields))
        assert not errors, errors

    read_back()
    reads = timed(read_back, n)
    results = {
        "print_ms_median": statistics.median(base),
        "fillable_ms_median": statistics.median(fill),
        "fillable_over_print": statistics.median(fill) / statistics.median(base),
        "print_bytes": len(print_version()),
        "fillable_bytes": len(fillable_version()),
        "returned_bytes": len(returned),
        "read_back_ms_median": statistics.median(reads),
        "read_back_ms_max": max(reads),
        "runs": n,
    }
    print(f"{'':28} {'median ms':>10} {'bytes':>9}")
    print(f"{'förfrågan, utskrift':28} {results['print_ms_median']:10.1f} {results['print_bytes']:9d}")
    print(f"{'förfrågan, ifyllbar + ref':28} {results['fillable_ms_median']:10.1f} {results['fillable_bytes']:9d}"
          f"   ({results['fillable_over_print']:.2f} × utskrift; gräns 100 KB: "
          f"{'OK' if results['fillable_bytes'] <= 100 * 1024 else 'ÖVER'})")
    print(f"{'inläsning + validering':28} {results['read_back_ms_median']:10.1f} {results['returned_bytes']:9d}"
          f"   (max {results['read_back_ms_max']:.1f} ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
