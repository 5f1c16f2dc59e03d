"""Cold start to the first PDF, two ways, each interleaved with a bare cold WeasyPrint process.

**The server** (issue 23): from spawning ``formservice run`` (gunicorn gthread, 2 workers × 4 threads,
the render processes, one per core, and the job worker) until a first print PDF has come back to a
client. The instance is prepared beforehand, outside the timing (``init-instance``, ``init-db``,
``demo``; benchmarks/_live_server.py), and before every start, with the server stopped, a draft of
a förändringsplan with the sample values is saved in an ärende of the demo socialsekreterare. Timed:
the spawn; polling ``GET /healthz`` every 10 ms on new connections until it answers 200 (**up**);
a browser-like client on one keep-alive connection signs in through the login page (**login**);
it opens Granska and clicks "Ta fram", follows the 302 to the done page and downloads the print PDF
it links (**click**; benchmarks/_live_client.py). The server is stopped (SIGINT) after the rest of
the document is written. The first start fills the OS file cache and the compiled-template cache in
the instance (instance/cache/jinja), as any earlier start of an installation has: it is not counted.
**bare**: a new interpreter that imports WeasyPrint and writes exactly the print HTML of a document
that the server produced, with the service's CSS and fonts, timed from its spawn to the PDF in hand.
Target: ≤ 1 s, absolute; the ratio to bare and the parts are reported so a gap can be explained.

**Where the server's start goes** (the explanation of a gap, measured in the same run): a new
interpreter that does, one after the other, what `formservice run` does before its first answer –
imports the service and its libraries, creates the app, and warms a render process (fonts, CSS and
one layout) – timing each step; and the password check at sign-in (werkzeug's scrypt, deliberately
slow). What the server's **up** takes beyond the sum (import + app) is gunicorn's boot, the forks
and the other processes starting on the same cores.

**In one interpreter** (issue 14, kept as a row): a new interpreter that creates the app (as a gunicorn
worker does) and writes a förändringsplan, against a new interpreter with bare WeasyPrint on the same
print HTML. Target ≤ 1.2 s.

    .venv/bin/python benchmarks/bench_cold.py [--quick] [--runs N] [--json out.json]

Exit status 0 only when both targets pass.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._live_client import Browser, InstanceApp, click, settle  # noqa: E402
from benchmarks._live_server import DEMO_USER, LiveService  # noqa: E402

TARGET_S = 1.2
TARGET_SERVER_S = 1.0
BLANKETT = "forandringsplan"

# The child that measures the service: the app made as `formservice` makes it (the server, the
# commands), then the document. Each child prints the moment it holds the PDF (CLOCK_MONOTONIC,
# shared by all processes), so the interpreter's start counts and its exit does not.
SERVICE = """
import time
from formservice import create_app
app = create_app()
from formservice.rendering import documents
from formservice.rendering.pdf import DocumentContext
catalogue = app.extensions["catalogue"]
values = {values!r}
doc = documents.produce_pdf(catalogue, "forandringsplan", values, DocumentContext(organisation="Teststaden"))
assert doc.content.startswith(b"%PDF")
print(time.monotonic())
"""

BARE = """
import time
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()
css = CSS(filename={css!r}, font_config=fonts)
pdf = HTML(string=open({html!r}, encoding="utf-8").read(), base_url={base!r}).write_pdf(
    stylesheets=[css], font_config=fonts, pdf_variant={variant!r})
assert pdf.startswith(b"%PDF")
print(time.monotonic())
"""

# What `formservice run` does before its first answer, step by step in one new interpreter.
STEPS = """
import time
t0 = time.monotonic()
import formservice.cli, formservice.server  # the command and the server (gunicorn)
t1 = time.monotonic()
from formservice import create_app
app = create_app()
t2 = time.monotonic()
from formservice.rendering.pdf import warm_up
warm_up(render=True)  # as each render process does before its first job
t3 = time.monotonic()
with app.app_context():
    from werkzeug.security import check_password_hash, generate_password_hash
    from formservice.accounts import login
    hashed = generate_password_hash("ett-lösenord", method=login._HASH_METHOD)
    t4 = time.monotonic()
    check_password_hash(hashed, "ett-lösenord")
    t5 = time.monotonic()
print(t0, t1, t2, t3, t5 - t4)
"""


def steps_once(env: dict) -> dict:
    t_spawn = time.monotonic()
    done = subprocess.run([sys.executable, "-c", STEPS], env=env, check=True, capture_output=True, cwd=ROOT,
                          text=True)
    t0, t1, t2, t3, check = (float(x) for x in done.stdout.strip().splitlines()[-1].split())
    return {"interpreter_s": t0 - t_spawn, "imports_s": t1 - t0, "create_app_s": t2 - t1,
            "render_warm_up_s": t3 - t2, "password_check_s": check}


def prepare(tmp: Path) -> tuple[str, str]:
    """An instance with keys and a migrated database; the sample values and their print HTML."""
    env = {**os.environ, "FORMSERVICE_INSTANCE_PATH": str(tmp / "instance")}
    env.pop("FORMSERVICE_DATABASE_URL", None)
    cli = [str(Path(sys.executable).with_name("formservice"))]
    for command in ("init-instance", "init-db"):
        subprocess.run([*cli, command], env=env, check=True, capture_output=True)
    # As scripts/serve does: the editable install is not byte-compiled by pip.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "formservice")], check=True,
                   capture_output=True)
    sys.path.insert(0, str(ROOT))
    from formservice import paths
    from formservice.blanketter.catalogue import load_catalogue
    from formservice.rendering import documents, pdf
    from tests.sample_values import sample_values

    catalogue = load_catalogue()
    values = documents.validate(catalogue, "forandringsplan",
                                sample_values(*documents.parts_of(catalogue, "forandringsplan")))
    html = pdf.document_html(documents.print_parts(catalogue, "forandringsplan", values),
                             pdf.DocumentContext(organisation="Teststaden"))
    (tmp / "print.html").write_text(html, encoding="utf-8")
    static = Path(paths.STATIC_DIR).resolve()
    service = SERVICE.format(values=values)
    bare = BARE.format(css=str(static / pdf.PRINT_CSS), html=str(tmp / "print.html"),
                       base=static.as_uri() + "/", variant=pdf.PDF_VARIANT)
    return service, bare


def once(code: str, env: dict) -> float:
    """Seconds from starting the process to the PDF in hand (interpreter start included, exit not)."""
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, cwd=ROOT,
                          text=True)
    return float(done.stdout.strip().splitlines()[-1]) - t0


def run(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        service, bare = prepare(tmp)
        env = {**os.environ, "FORMSERVICE_INSTANCE_PATH": str(tmp / "instance")}
        env.pop("FORMSERVICE_DATABASE_URL", None)
        once(service, env)  # the first run of each fills the OS file cache: not counted
        once(bare, env)
        services, bares = [], []
        for i in range(runs):
            order = (service, bare) if i % 2 == 0 else (bare, service)
            for code in order:
                (services if code is service else bares).append(once(code, env))
    s, b = statistics.median(services), statistics.median(bares)
    return {"service_s": round(s, 3), "bare_s": round(b, 3), "ratio": round(s / b, 3), "runs": runs,
            "target_s": TARGET_S, "verdict": "PASS" if s <= TARGET_S else "FAIL"}


def server_once(svc: LiveService, inst: InstanceApp, arende: str, values: dict) -> dict:
    """Spawn `formservice run` and time it to the first print PDF in a client's hand."""
    from formservice.cli import DEMO_PASSWORD

    inst.save_draft(DEMO_USER, arende, BLANKETT, values)  # the server is stopped: outside the timing
    t0 = time.perf_counter()
    up = svc.start(poll=0.01, limit=120)
    browser = Browser(svc.port)
    try:
        browser.login(DEMO_USER, DEMO_PASSWORD)
        login = time.perf_counter() - t0 - up
        clicked = click(browser, arende, BLANKETT)
        total = time.perf_counter() - t0
        settle(svc, inst)  # the rest of the document written before the server stops
    finally:
        browser.close()
        svc.stop()
    return {"total_s": total, "up_s": up, "login_s": login, "click_s": total - up - login,
            "post_to_pdf_s": clicked["pdf_s"], "document": clicked["document"],
            "errors": browser.server_errors()[0]}


def run_server(runs: int) -> dict:
    svc, inst = LiveService(seed_document=False), None
    try:
        svc.prepare()
        inst = InstanceApp(svc)
        arende = inst.new_arende(DEMO_USER)
        values = inst.values(BLANKETT)
        first = server_once(svc, inst, arende, values)  # fills the caches: not counted
        html_path = svc.folder / "print.html"
        html_path.write_text(inst.print_html(DEMO_USER, arende, first["document"]), encoding="utf-8")
        from formservice import paths
        from formservice.rendering import pdf

        static = Path(paths.STATIC_DIR).resolve()
        bare = BARE.format(css=str(static / pdf.PRINT_CSS), html=str(html_path), base=static.as_uri() + "/",
                           variant=pdf.PDF_VARIANT)
        once(bare, svc.env)
        steps_once(svc.env)
        servers, bares, steps = [], [], []
        for i in range(runs):
            for what in (("server", "bare", "steps") if i % 2 == 0 else ("steps", "bare", "server")):
                if what == "server":
                    servers.append(server_once(svc, inst, arende, values))
                elif what == "bare":
                    bares.append(once(bare, svc.env))
                else:
                    steps.append(steps_once(svc.env))
    finally:
        if inst is not None:
            inst.close()
        svc.__exit__(None, None, None)
    p50 = statistics.median
    total, b = p50([s["total_s"] for s in servers]), p50(bares)
    parts = {f"{k}_s": round(p50([s[f"{k}_s"] for s in servers]), 3) for k in ("up", "login", "click", "post_to_pdf")}
    errors = sum(s["errors"] for s in servers)
    where = {k: round(p50([s[k] for s in steps]), 3) for k in steps[0]}
    where["rest_of_up_s"] = round(parts["up_s"] - where["interpreter_s"] - where["imports_s"] - where["create_app_s"], 3)
    return {"server_s": round(total, 3), "bare_s": round(b, 3), "ratio": round(total / b, 3), **parts,
            "where": where,
            "max_s": round(max(s["total_s"] for s in servers), 3), "runs": runs, "errors_5xx": errors,
            "target_s": TARGET_SERVER_S, "verdict": "PASS" if total <= TARGET_SERVER_S and not errors else "FAIL"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 9)
    server = run_server(runs)
    result = run(runs) | {"server": server}
    print(f"formservice run to its first print PDF ({runs} runs): {server['server_s']} s (up {server['up_s']} s, "
          f"login {server['login_s']} s, click {server['click_s']} s; POST to PDF {server['post_to_pdf_s']} s), "
          f"bare cold WeasyPrint {server['bare_s']} s, ×{server['ratio']} -> {server['verdict']} "
          f"(target ≤ {TARGET_SERVER_S} s)")
    w = server["where"]
    print(f"  where the start goes: interpreter {w['interpreter_s']} s, imports {w['imports_s']} s, create_app "
          f"{w['create_app_s']} s, the rest of up (gunicorn, forks, the other processes starting) "
          f"{w['rest_of_up_s']} s; a render process's warm-up {w['render_warm_up_s']} s; "
          f"the password check at sign-in {w['password_check_s']} s")
    print(f"cold start to first PDF in one interpreter: service {result['service_s']} s, bare WeasyPrint "
          f"{result['bare_s']} s, ×{result['ratio']} -> {result['verdict']} (target ≤ {TARGET_S} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["verdict"] == server["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
