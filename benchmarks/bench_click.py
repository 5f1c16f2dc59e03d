"""What the user waits for when pressing "Ta fram PDF och DOCX", against bare WeasyPrint on the
same print HTML, interleaved in the same run.

For each blankett (förändringsplan, rehabiliteringsförfrågan by default): a draft with the sample
values is saved outside the timing; then the timed **click** is the POST of the Granska form through
the Flask test client (validation, the print PDF laid out and written, encryption, the database,
the audit entry, the redirect). The rest of the document (each part's PDF and DOCX, the PDF/A
archive copy, the doctor's fillable copy) is written after the response (`response.call_on_close`);
it is timed separately as **after** by closing the response, outside the click. **bare** is
`weasyprint.HTML(string=html).write_pdf(...)` with the service's CSS and fonts for exactly the print
HTML of that document. The order of click and bare alternates every round.

    .venv/bin/python benchmarks/bench_click.py [--quick] [--runs N] [--render-processes N] [--json out.json]

As under `formservice run`, the layouts go to a render process (rendering/pool.py) by default, so the
click includes handing the job over and getting the PDF back; `--render-processes 0` lays out in the
benchmark's own process.

Target (issue 14): the click's p50 ≤ 1.3 × the bare render's p50. "before" is what the click cost
when everything was written in the request: click + after. Also: an API render and its identical
repeat (served by the render cache; target ≤ 5 ms).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._bench_common import csrf_token  # noqa: E402
from benchmarks.bench_arenden import make_app  # noqa: E402  (the same temporary database and app)
from benchmarks.bench_blanketter import Bare  # noqa: E402  (the same bare WeasyPrint path)

TARGET = 1.3
BLANKETTER = ("forandringsplan", "rehabiliteringsforfragan")
INDIVID = {"namn": "Tilda Testperson", "personnummer": "191212121212", "adress": "Provgatan 12",
           "postnummer": "123 45", "ort": "Skärholmen"}


def set_up(app):
    from formservice import db
    from formservice.accounts import operations as accounts
    from formservice.accounts.models import Enhet, Organisation
    from formservice.arenden import operations as arenden

    with app.app_context():
        dbs = db.session()
        org = Organisation(namn="Teststaden", typ="kommun")
        dbs.add(org)
        dbs.flush()
        enhet = Enhet(organisation_id=org.id, namn="Benchmarkenheten", utdelningsadress="Provgatan 1",
                      postnummer="111 11", ort="Stockholm")
        dbs.add(enhet)
        dbs.commit()
        user = accounts.create_user(username="bench", password="benchmark-lösenord-123", role="socialsekreterare",
                                    enhet_id=enhet.id, namn="Bänk Benchsson", titel="Socialsekreterare")
        arende = arenden.create(user, INDIVID, lane="soc1", ruta="soc1.9")
        return user.id, arende.public_id


def values_for(catalogue, blankett_id):
    from formservice.rendering import documents
    from tests.sample_values import sample_values

    return documents.validate(catalogue, blankett_id, sample_values(*documents.parts_of(catalogue, blankett_id)))


def one_click(app, client, user_id, pid, blankett_id, values):
    """Save the draft (untimed), then time the POST of Granska; returns (click s, after s, html)."""
    from formservice import db
    from formservice.accounts.models import User
    from formservice.arenden import operations as arenden
    from formservice.rendering import documents, pdf
    from formservice.arenden.registry import document_context

    with app.app_context():
        user = db.session().get(User, user_id)
        a = arenden.get(user, pid)
        d = arenden.draft(a, blankett_id)
        arenden.save_draft(user, a, blankett_id, values, d.version if d else 0)
        # The print HTML of this document, for the bare path (document number and date as printed).
        html = pdf.document_html(documents.print_parts(app.extensions["catalogue"], blankett_id, values),
                                 document_context(user, "FS-BNCH-0000"))
    url = f"/arenden/{pid}/blankett/{blankett_id}/granska"
    page = client.get(url).get_data(as_text=True)
    utkast = page.split('name="utkast" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": csrf_token(page), "utkast": utkast}
    gc.collect()
    t0 = time.perf_counter()
    res = client.post(url, data=data)
    click = time.perf_counter() - t0
    if res.status_code != 302 or "/klar/" not in res.headers.get("Location", ""):
        raise SystemExit(f"{blankett_id}: the click answered {res.status_code} {res.headers.get('Location')}")
    t1 = time.perf_counter()
    res.close()  # runs what the response left for after it (call_on_close)
    return click, time.perf_counter() - t1, html


def run(runs: int, warmup: int, render_processes: int = 1) -> dict:
    from formservice.rendering import pool

    render_pool = pool.RenderPool(render_processes) if render_processes else None
    if render_pool is not None:
        pool.use(render_pool.start())
    try:
        return _run(runs, warmup) | {"render_processes": render_processes}
    finally:
        if render_pool is not None:
            pool.use(None)
            render_pool.stop()


def _run(runs: int, warmup: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        user_id, pid = set_up(app)
        client = app.test_client()
        page = client.get("/logga-in").get_data(as_text=True)
        client.post("/logga-in", data={"csrf_token": csrf_token(page), "username": "bench",
                                       "password": "benchmark-lösenord-123"})
        bare = Bare()
        catalogue = app.extensions["catalogue"]
        result = {}
        for blankett_id in BLANKETTER:
            values = values_for(catalogue, blankett_id)
            clicks, afters, bares = [], [], []
            for i in range(warmup + runs):
                order = ("click", "bare") if i % 2 == 0 else ("bare", "click")
                html = None
                for what in order:
                    if what == "click":
                        c, a, html = one_click(app, client, user_id, pid, blankett_id, values)
                    else:
                        if html is None:
                            _c, _a, html = one_click(app, client, user_id, pid, blankett_id, values)
                        gc.collect()
                        t0 = time.perf_counter()
                        bare.render(html)
                        b = time.perf_counter() - t0
                if i >= warmup:
                    clicks.append(c)
                    afters.append(a)
                    bares.append(b)
            p50 = statistics.median
            result[blankett_id] = {
                "click_ms": round(p50(clicks) * 1000, 1), "after_ms": round(p50(afters) * 1000, 1),
                "bare_ms": round(p50(bares) * 1000, 1), "ratio": round(p50(clicks) / p50(bares), 3),
                "before_ratio": round(p50([c + a for c, a in zip(clicks, afters)]) / p50(bares), 3),
                "paired": round(p50([c / b for c, b in zip(clicks, bares)]), 3),
            }
            result[blankett_id]["verdict"] = "PASS" if result[blankett_id]["ratio"] <= TARGET else "FAIL"
        return {"runs": runs, "load": os.getloadavg()[0], "target": TARGET, "blanketter": result,
                "api_cache": api_repeat(app, user_id, catalogue, runs)}


def api_repeat(app, user_id, catalogue, runs: int) -> dict:
    """POST /api/v1/blanketter/<id>/pdf: the first render against identical repeats (the cache)."""
    from formservice import db
    from formservice.accounts.api_tokens import create_token
    from formservice.accounts.models import User
    from tests.sample_values import sample_values
    from formservice.rendering import documents

    with app.app_context():
        token = create_token(db.session().get(User, user_id), "bench")
    app.config["API_RENDERS_PER_MINUTE"] = 10_000
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    values = sample_values(*documents.parts_of(catalogue, "rehabiliteringsforfragan"))
    firsts, repeats = [], []
    for i in range(runs):
        body = dict(values, individ_namn=f"Tilda Testperson {i}")
        for bucket in (firsts, repeats):
            t0 = time.perf_counter()
            res = client.post("/api/v1/blanketter/rehabiliteringsforfragan/pdf", json=body, headers=headers)
            bucket.append(time.perf_counter() - t0)
            if res.status_code != 200:
                raise SystemExit(f"api render answered {res.status_code}")
    first, repeat = statistics.median(firsts) * 1000, statistics.median(repeats) * 1000
    return {"first_ms": round(first, 1), "repeat_ms": round(repeat, 2), "target_ms": 5.0,
            "verdict": "PASS" if repeat <= 5.0 else "FAIL"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--render-processes", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    runs = 5 if args.quick else args.runs
    result = run(runs, warmup=2, render_processes=args.render_processes)
    print(f"click vs bare WeasyPrint ({runs} rounds, load {result['load']:.2f}, render processes "
          f"{args.render_processes}; target click p50 ≤ {TARGET} × bare)")
    print(f"{'blankett':28} {'bare ms':>8} {'click ms':>9} {'after ms':>9} {'ratio':>6} {'paired':>7} {'before':>7}  verdict")
    for bid, r in result["blanketter"].items():
        print(f"{bid:28} {r['bare_ms']:8.1f} {r['click_ms']:9.1f} {r['after_ms']:9.1f} {r['ratio']:6.3f} "
              f"{r['paired']:7.3f} {r['before_ratio']:7.3f}  {r['verdict']}")
    api = result["api_cache"]
    print(f"API render of a förfrågan: first {api['first_ms']} ms, identical repeat {api['repeat_ms']} ms "
          f"(target ≤ {api['target_ms']} ms)  {api['verdict']}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0 if all(r["verdict"] == "PASS" for r in [*result["blanketter"].values(), api]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
