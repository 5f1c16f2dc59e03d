#!/usr/bin/env python
"""Benchmark: the ärende's overview with many documents (issue 23: p95 ≤ 50 ms at 100 documents).

Set-up, in a temporary directory: a migrated SQLite database (or --database-url), the app with a
fixed keyring, bench_click's socialsekreterare (and its ärende), and two ärenden: one with N produced documents (default 100),
each a förfrågan-sized record with its two parts (the blankett and the sekretessmedgivande, titles
encrypted as produced), and one with none — the baseline, the same page without the list. Rows are
written directly (laying out 100 PDFs would measure WeasyPrint, not the page); the stored PDFs are
small, which the overview never reads (their columns are deferred).

Each round GETs both overviews through the test client, interleaved, so that the machine's noise
hits both alike; the result is the p95 of the many-document page and its ratio to the baseline.

    .venv/bin/python benchmarks/bench_overview.py [--documents 100] [--rounds 60] [--json out.json]
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_arenden import fictitious_individ, login, make_app, summarise  # noqa: E402

TARGET_P95_MS = 50.0


def seed(app, documents: int) -> tuple[str, str]:
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import operations as arenden
    from formservice.arenden.models import Dokument, DokumentDel
    from formservice.arenden.registry import new_document_number

    from bench_click import set_up  # the same organisation, enhet and socialsekreterare

    user_id, _pid = set_up(app)
    rng = random.Random(23)
    with app.app_context():
        dbs = db.session()
        user = dbs.get(User, user_id)
        used: set[str] = set()
        many = arenden.create(user, arenden.clean_individ(fictitious_individ(rng, used))[0], lane="soc1",
                              ruta="soc1.10")
        none = arenden.create(user, arenden.clean_individ(fictitious_individ(rng, used))[0], lane="soc1",
                              ruta="soc1.10")
        kr = app.extensions["keyring"]
        small = kr.encrypt(b"%PDF-1.7 benchmark")
        for _ in range(documents):
            dok = Dokument(public_id=arenden.new_public_id(), arende_id=many.id, blankett_id="rehabiliteringsforfragan",
                           blankett_version="2026-1", document_number=new_document_number(), created_by=user.id,
                           pdf_enc=small, values_enc=kr.encrypt_json({}), docx_enc=small, archive_enc=small,
                           fillable_enc=small, klar=True)
            dbs.add(dok)
            dbs.flush()
            for position, (bid, title) in enumerate((("rehabiliteringsforfragan", "Rehabiliteringsförfrågan"),
                                                     ("sekretessmedgivande", "Sekretessmedgivande"))):
                dbs.add(DokumentDel(dokument_id=dok.id, position=position, blankett_id=bid,
                                    title_enc=kr.encrypt_json(title), pdf_enc=small, docx_enc=small))
        dbs.commit()
        return many.public_id, none.public_id


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--database-url")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="20 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 20
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), args.database_url)
        many, none = seed(app, args.documents)
        client = app.test_client()
        login(client)
        samples: dict[str, list[float]] = {"many": [], "none": []}
        for _ in range(5):  # warm-up: templates compiled, caches filled
            client.get(f"/arenden/{many}"), client.get(f"/arenden/{none}")
        # As `formservice run` does for its workers (create_app for a server): the app's own objects
        # out of the collector's sight, so that a full collection does not walk them every time.
        gc.collect()
        gc.freeze()
        for _ in range(args.rounds):
            for name, pid in (("many", many), ("none", none)):
                t = time.perf_counter()
                res = client.get(f"/arenden/{pid}")
                samples[name].append(time.perf_counter() - t)
                if res.status_code != 200:
                    raise SystemExit(f"GET /arenden/{pid}: {res.status_code}")
        many_s, none_s = summarise(samples["many"]), summarise(samples["none"])
        result = {"documents": args.documents, "overview": many_s, "baseline_no_documents": none_s,
                  "ratio_p95": round(many_s["p95_ms"] / none_s["p95_ms"], 2),
                  "target_p95_ms": TARGET_P95_MS, "pass": many_s["p95_ms"] <= TARGET_P95_MS,
                  "verdict": "PASS" if many_s["p95_ms"] <= TARGET_P95_MS else "FAIL"}
    print(f"översikt med {args.documents} dokument: p50 {many_s['p50_ms']} ms, p95 {many_s['p95_ms']} ms "
          f"(utan dokument p95 {none_s['p95_ms']} ms, × {result['ratio_p95']}); mål p95 ≤ {TARGET_P95_MS:g} ms: "
          f"{'PASS' if result['pass'] else 'FAIL'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
