"""Cold start to the first PDF: a new interpreter that creates the app (as a gunicorn worker
does) and writes a förändringsplan, against a new interpreter that imports bare WeasyPrint and
writes the same print HTML with the same CSS. Interleaved, each in its own process.

    .venv/bin/python benchmarks/bench_cold.py [--quick] [--runs N] [--json out.json]

Target (issue 14): the service's cold start ≤ 1.2 s; the ratio to bare WeasyPrint is reported
beside it, since bare WeasyPrint alone needs about 0.85 s cold on the reference machine.
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
TARGET_S = 1.2

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    result = run(args.runs or (3 if args.quick else 9))
    print(f"cold start to first PDF: service {result['service_s']} s, bare WeasyPrint {result['bare_s']} s, "
          f"×{result['ratio']} -> {result['verdict']} (target ≤ {TARGET_S} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
