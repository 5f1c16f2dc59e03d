"""Generate the Word templates ``templates/docx/<id>.docx`` from the blankett
definitions — reproducibly: the same definitions give the same bytes.

    python -m formservice.rendering.docx_templates [--forms DIR] [--out DIR] [id ...]
    python -m formservice.rendering.docx_templates --check     # exit 1 if out of date

Each template is an ordinary Word document with docxtpl (Jinja) tags, so an
organisation can restyle it in Word or LibreOffice (logo, fonts) as long as the
tags stay. Its layout (docx_layout.py) mirrors the print template's.
"""
from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from formservice import paths
from formservice.blanketter.loader import load_definitions
from formservice.blanketter.model import Blankett
from formservice.rendering.docx_layout import TemplateBuilder, with_placeholders

__all__ = ["build_template", "deterministic_zip", "generate", "main", "normalise_zip", "template_dir",
           "with_placeholders"]

ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def template_dir() -> Path:
    return Path(paths.TEMPLATES_DIR) / "docx"


# ----------------------------------------------------------------- reproducible


def build_template(blankett: Blankett) -> bytes:
    """The template of ``blankett`` as .docx bytes (deterministic)."""
    doc = TemplateBuilder(blankett).build()
    out = io.BytesIO()
    doc.save(out)
    return normalise_zip(out.getvalue())


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a .docx with fixed timestamps and a fixed member order, so the
    same content gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return deterministic_zip({name: source.read(name) for name in source.namelist()})


def deterministic_zip(members: dict[str, bytes]) -> bytes:
    """A .docx (zip) from its members with fixed timestamps and a fixed member order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        # [Content_Types].xml first, as Office writes it
        for name in sorted(members, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, members[name])
    return out.getvalue()


def generate(defs: dict[str, Blankett], out_dir: Path, ids: Iterable[str] | None = None,
             *, check: bool = False) -> list[str]:
    """Write (or with ``check`` compare) the templates; returns the ids that
    were written (or are out of date)."""
    changed = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for bid in sorted(ids or defs):
        data = build_template(defs[bid])
        path = out_dir / f"{bid}.docx"
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(bid)
        if not check:
            path.write_bytes(data)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m formservice.rendering.docx_templates",
        description="Skapar Word-mallarna templates/docx/<id>.docx från blankettdefinitionerna.")
    parser.add_argument("ids", nargs="*", help="blankett-id (alla om inget anges)")
    parser.add_argument("--forms", type=Path, default=None, help="mappen med blankettdefinitioner")
    parser.add_argument("--out", type=Path, default=None, help="mappen för mallarna")
    parser.add_argument("--check", action="store_true",
                        help="skriv inget; avsluta med 1 om någon mall är inaktuell")
    args = parser.parse_args(argv)
    defs = load_definitions(args.forms or paths.FORMS_DIR)
    unknown = [i for i in args.ids if i not in defs]
    if unknown:
        print(f"Okänd blankett: {', '.join(unknown)}", file=sys.stderr)
        return 2
    out_dir = args.out or template_dir()
    changed = generate(defs, out_dir, args.ids or None, check=args.check)
    if args.check:
        for bid in changed:
            print(f"Inaktuell mall: {out_dir / (bid + '.docx')}", file=sys.stderr)
        return 1 if changed else 0
    for bid in changed:
        print(f"Skrev {out_dir / (bid + '.docx')}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
