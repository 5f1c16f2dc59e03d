"""Opening a PDF that comes from outside the service (the doctor's returned förfrågan) safely,
and the document information entries the service reads back from its own PDFs.

A hostile PDF can be cheap to send and dear to parse (a page tree of 99,000 pages, a million
objects, an object stream that inflates to a gigabyte). So the bytes are parsed in a child process
of their own with a hard CPU-time and memory limit: whatever the file does, the worker that
received it only waits (the child is killed at the limit) and the answer is a refusal. The child
reads nothing but dictionaries — never page content — and reports the form values, one document
information entry, and any active content (actions, JavaScript, attached files, rich media, XFA),
which is refused. Nothing of the uploaded file is kept: archive copies are rendered anew.

Every problem becomes an UntrustedPdfError whose str() is a Swedish sentence for the user.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DAMAGED", "MAX_BYTES", "TOO_COMPLEX", "OpenedPdf", "UntrustedPdfError", "embed_info",
           "open_untrusted", "read_info"]

MAX_BYTES = 10 * 1024 * 1024
# Limits of the child that parses: CPU seconds and address space. A returned förfrågan is read in
# about 0.15 s (most of it the interpreter starting) and a few tens of MB.
CPU_SECONDS = 2
MEMORY_BYTES = 512 * 1024 * 1024
# Bounds of what a returned förfrågan can be: it has 2-4 pages and about 500 objects.
MAX_PAGES = 50
MAX_OBJECTS = 20_000
MAX_NODES = 200_000
MAX_DEPTH = 64

DAMAGED = "PDF-filen är skadad eller ofullständig och kan inte läsas."
TOO_COMPLEX = "PDF-filen är för komplex och kan inte läsas."
_HEADER = re.compile(rb"%PDF-(\d\.\d)")

# What the child reports, and what the user is told.
_REFUSALS = {
    "damaged": DAMAGED,
    "too_complex": TOO_COMPLEX,
    "encrypted": "PDF-filen är lösenordsskyddad och kan inte läsas. Spara den utan lösenord och ladda upp den igen.",
    "javascript": "PDF-filen innehåller JavaScript och tas inte emot av säkerhetsskäl.",
    "attachment": "PDF-filen innehåller bifogade filer och tas inte emot av säkerhetsskäl.",
    "action": "PDF-filen innehåller åtgärder som startar program, öppnar adresser eller skickar data "
              "(t.ex. länkar eller knappar) och tas inte emot av säkerhetsskäl. Spara formuläret igen "
              "från en vanlig PDF-läsare, eller registrera svaren från pappersblanketten.",
    "rich_media": "PDF-filen innehåller inbäddad media (video, ljud eller 3D) och tas inte emot av "
                  "säkerhetsskäl.",
    "xfa": "PDF-filen är ett XFA-formulär, som inte kan läsas säkert. Spara formuläret som en vanlig PDF "
           "och ladda upp den igen.",
}
# Action types that leave the document: run a program, open a URL, send or fetch data, open another
# file, play media. /GoTo (a place in the same document) and /Named (next page, …) are harmless.
_FOREIGN_ACTIONS = {"/Launch": "action", "/URI": "action", "/SubmitForm": "action", "/ImportData": "action",
                    "/GoToR": "action", "/GoToE": "action", "/Thread": "action", "/JavaScript": "javascript",
                    "/RichMediaExecute": "rich_media", "/Rendition": "rich_media", "/Movie": "rich_media",
                    "/Sound": "rich_media", "/GoTo3DView": "rich_media"}
_MEDIA_SUBTYPES = {"/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}
_FF_PUSHBUTTON = 1 << 16
_FF_RADIO = 1 << 15


class UntrustedPdfError(ValueError):
    """A PDF that cannot be accepted; str(e) is Swedish, for the user."""


@dataclass(frozen=True)
class OpenedPdf:
    fields: Mapping[str, str | bool]   # AcroForm values by field name (empty when it has none)
    info: str | None                   # the document information entry asked for, not yet verified


def _size_text(n: int) -> str:
    if n >= 1024 * 1024:
        number, unit = n / (1024 * 1024), "MB"
    else:
        number, unit = n / 1024, "kB"
    return f"{number:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


def open_untrusted(data: bytes, *, info_key: str, max_bytes: int = MAX_BYTES, cpu_seconds: int = CPU_SECONDS
                   ) -> OpenedPdf:
    """Read a PDF from outside: its form values and one document information entry. Raises
    UntrustedPdfError for anything that is not a readable, unencrypted PDF without active content,
    or that costs more than ``cpu_seconds`` of CPU to read."""
    if not data:
        raise UntrustedPdfError("Filen är tom.")
    if len(data) > max_bytes:
        raise UntrustedPdfError(f"Filen är större än {_size_text(max_bytes)}.")
    if bytes(data[:5]) != b"%PDF-":
        raise UntrustedPdfError("Filen är inte en PDF.")
    try:
        done = subprocess.run([sys.executable, "-m", __name__, info_key, str(cpu_seconds)], input=data,
                              capture_output=True, timeout=cpu_seconds * 3 + 5, env=_child_env())
    except subprocess.TimeoutExpired:
        raise UntrustedPdfError(TOO_COMPLEX) from None
    if done.returncode != 0:
        # Killed at the CPU limit (SIGXCPU/SIGKILL) or out of memory: the file asked for too much.
        raise UntrustedPdfError(TOO_COMPLEX)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise UntrustedPdfError(DAMAGED) from None
    if report.get("refused"):
        raise UntrustedPdfError(_REFUSALS.get(report["refused"], DAMAGED))
    return OpenedPdf(fields=report["fields"], info=report["info"])


def _child_env() -> dict[str, str]:
    # A clean environment; the child imports from the same paths as the parent.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


# ---------------------------------------------------------------- the child
def _inspect(data: bytes, info_key: str) -> dict:
    """Runs in the child. Never decodes page content; follows every reachable object once."""
    import pikepdf

    try:
        doc = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return {"refused": "encrypted"}
    except (pikepdf.PdfError, ValueError, RecursionError):
        return {"refused": "damaged"}
    with doc:
        if doc.is_encrypted:
            return {"refused": "encrypted"}
        if int(doc.trailer.get("/Size", 0)) > MAX_OBJECTS:
            return {"refused": "too_complex"}
        pages = doc.Root.get("/Pages")
        if not isinstance(pages, pikepdf.Dictionary) or int(pages.get("/Count", 0)) > MAX_PAGES:
            return {"refused": "too_complex" if isinstance(pages, pikepdf.Dictionary) else "damaged"}
        found = _active_content(doc)
        if found:
            order = ("javascript", "attachment", "xfa", "rich_media", "action")
            return {"refused": next(kind for kind in order if kind in found)}
        info = doc.trailer.get("/Info")
        value = info.get(info_key) if isinstance(info, pikepdf.Dictionary) else None
        return {"fields": _form_fields(doc), "info": None if value is None else str(value)}


def _active_content(doc) -> set[str]:
    import pikepdf

    found: set[str] = set()
    acroform = doc.Root.get("/AcroForm")
    if isinstance(acroform, pikepdf.Dictionary) and "/XFA" in acroform:
        found.add("xfa")
    open_action = doc.Root.get("/OpenAction")
    if isinstance(open_action, pikepdf.Dictionary):  # an array is only "open at this page"
        found.add(_FOREIGN_ACTIONS.get(str(open_action.get("/S", "")), "action"))
    seen: set[tuple[int, int]] = set()
    stack = [(doc.trailer, 0)]
    nodes = 0
    while stack:
        obj, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _TooComplex
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
            if len(seen) > MAX_OBJECTS:
                raise _TooComplex
        if isinstance(obj, pikepdf.Array):
            if nodes + len(obj) > MAX_NODES:  # counted before listing: a million-entry array costs seconds
                raise _TooComplex
            children = list(obj)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            keys = set(obj.keys())
            if nodes + len(keys) > MAX_NODES:
                raise _TooComplex
            if keys & {"/JS", "/JavaScript"}:
                found.add("javascript")
            if keys & {"/EmbeddedFiles", "/EF"} or obj.get("/Type") == pikepdf.Name.EmbeddedFile:
                found.add("attachment")
            if "/AA" in keys:
                found.add("action")
            subtype = str(obj.get("/Subtype", ""))
            if subtype == "/FileAttachment":
                found.add("attachment")
            elif subtype in _MEDIA_SUBTYPES:
                found.add("rich_media")
            kind = str(obj.get("/S", "")) if "/S" in keys else ""
            if kind in _FOREIGN_ACTIONS:
                found.add(_FOREIGN_ACTIONS[kind])
            children = list(obj.values())
        else:
            continue
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)))
    return found


class _TooComplex(Exception):
    pass


def _form_fields(doc) -> dict[str, str | bool]:
    """AcroForm field values by fully qualified name: text as str ("" when empty), checkboxes as
    bool, radio groups as the chosen state's name; push buttons left out. /FT, /Ff and /V are
    inherited from parent fields as the PDF standard says."""
    import pikepdf

    acroform = doc.Root.get("/AcroForm")
    if not isinstance(acroform, pikepdf.Dictionary):
        return {}
    values: dict[str, str | bool] = {}
    stack = [(f, "", {}) for f in reversed(list(acroform.get("/Fields", [])))]
    while stack:
        field, prefix, inherited = stack.pop()
        if not isinstance(field, pikepdf.Dictionary):
            continue
        partial = str(field.get("/T", "")) if "/T" in field else None
        name = f"{prefix}.{partial}" if prefix and partial is not None else (partial or prefix)
        attrs = dict(inherited)
        for key in ("/FT", "/Ff", "/V"):
            if key in field:
                attrs[key] = field[key]
        kids = [k for k in field.get("/Kids", []) if isinstance(k, pikepdf.Dictionary) and "/T" in k]
        if kids:
            stack.extend((kid, name, attrs) for kid in reversed(kids))
            continue
        if not name:
            continue
        kind, value, flags = str(attrs.get("/FT", "")), attrs.get("/V"), int(attrs.get("/Ff", 0) or 0)
        if kind == "/Btn":
            if flags & _FF_PUSHBUTTON:
                continue
            state = str(value) if value is not None else "/Off"
            values[name] = ("" if state == "/Off" else state.lstrip("/")) if flags & _FF_RADIO else state != "/Off"
        elif kind == "/Ch" and isinstance(value, pikepdf.Array):
            values[name] = ", ".join(str(v) for v in value)
        else:
            values[name] = "" if value is None else str(value)
    return values


def _child_main(argv: list[str]) -> int:
    import resource

    info_key, cpu = argv[0], int(argv[1])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    data = sys.stdin.buffer.read(MAX_BYTES * 4 + 1)
    try:
        report = _inspect(data, info_key)
    except _TooComplex:
        report = {"refused": "too_complex"}
    except MemoryError:
        return 3
    except Exception:  # noqa: BLE001 — a file that breaks the parser is damaged, whatever broke
        report = {"refused": "damaged"}
    sys.stdout.write(json.dumps(report, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------- document information entries
def embed_info(pdf: bytes, key: str, value: str) -> bytes:
    """``pdf`` with ``key`` = ``value`` in its document information dictionary. Everything
    else (form fields, structure tree, XMP, the header version) is kept."""
    import pikepdf

    match = _HEADER.match(pdf[:16])
    if not match:
        raise ValueError("not a PDF")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.docinfo[pikepdf.Name(key)] = value
        out = io.BytesIO()
        doc.save(out, min_version=match.group(1).decode(), deterministic_id=True)
    return out.getvalue()


def read_info(pdf, key: str) -> str | None:
    """The document information entry ``key`` of a PDF the service made itself (bytes, or an open
    pypdf reader), or None. Raises UntrustedPdfError when bytes are not a readable PDF."""
    from pypdf import PdfReader

    try:
        reader = pdf if isinstance(pdf, PdfReader) else PdfReader(io.BytesIO(pdf))
        value = (reader.metadata or {}).get(key)
    except Exception as exc:  # pypdf raises many kinds of errors for broken input
        raise UntrustedPdfError(DAMAGED) from exc
    return None if value is None else str(value)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
