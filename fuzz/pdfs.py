"""Malformed-PDF campaign: mutated returned förfrågningar and the issue's monsters, through the upload
path, each timed in wall-clock and CPU time.

    .venv/bin/python fuzz/pdfs.py [--quick] [--mutants N] [--seed S] [--keep DIR] [--json out.json]

Every file goes through ``formservice.doctor.readback.open_returned`` — what the doctor's upload page
calls: ``rendering.untrusted_pdf.open_untrusted`` parses it in a child process (RLIMIT_CPU 2 s, 768 MB
address space) — and, when accepted, ``readback.check_reference`` (the signed reference). Per file:
accepted or refused (with the Swedish message), wall time, and CPU time of the check = this process
(``RUSAGE_SELF``) + the child (``RUSAGE_CHILDREN``), as deltas around the call. Files are checked one
after another, so the children's CPU is attributed to the right file.

The corpus (tests/data/returned_pdfs.py; ``fuzz/monsters.py``):

* **bases**: the filled förfrågan (as pypdf writes it; resaved by pikepdf; with object streams and an
  xref stream), the hostile builders (JavaScript, URI/Launch/GoToR/SubmitForm actions, rich media,
  XFA, attachments, 25,000 objects, 200-deep nesting, a page tree claiming 99,000 pages, encrypted,
  without fields, truncated, malformed, other ärende/organisation, altered reference, not ours);
* **mutants** (``--mutants``, default 300; seeded): a base × a mutation: byte flips (1, 8, 64),
  truncation, removed xref, wrong or huge startxref, a duplicated xref section, garbage in an object,
  an object deleted or duplicated, zeroed or inserted runs, swapped spans, broken dictionaries, huge or
  negative numbers, dangling and circular references, lying /Length;
* **monsters**: 99,000 real pages (~0.9 MB, also with a lying /Count and inside the filled förfrågan),
  a million objects within 10 MB (also with a lying /Size, referenced, chained), 1 GiB decompression
  bombs (an object stream holding the catalog; an incremental update naming an object in one; a
  plain stream).

Target (issue 11): every file accepted or refused within 2 s of CPU. Expected: the good bases
accepted with a valid reference, every hostile base refused, no exception other than the refusal.
``--quick``: 40 mutants, and the monsters. Exit status 1 when a file breaks the target, raises
anything else than a refusal, or a hostile base is accepted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, not fuzz/, so `tests` and `formservice` import as packages

from formservice.doctor import readback  # noqa: E402
from fuzz import monsters  # noqa: E402
from tests.data import returned_pdfs as corpus  # noqa: E402

TARGET_CPU = 2.0
GOOD = ["filled", "filled_resaved", "filled_objstm", "filled_other_on_states", "opening_at_a_page"]
HOSTILE = ["with_javascript", "with_field_javascript", "with_javascript_name_tree", "with_file_attachment_annotation",
           "with_attachment", "with_uri_link", "with_launch_action", "with_unc_gotor", "with_submit_form",
           "with_rich_media", "with_xfa", "too_many_objects", "deeply_nested", "claiming_many_pages", "encrypted",
           "without_fields", "truncated", "malformed", "from_other_arende", "from_other_organisation",
           "altered_reference", "not_ours"]


def filled_objstm() -> bytes:
    """The filled förfrågan saved with object streams and a cross-reference stream."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(corpus.filled())) as doc:
        out = io.BytesIO()
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def bases() -> dict[str, bytes]:
    out = {}
    for name in GOOD + HOSTILE:
        out[name] = filled_objstm() if name == "filled_objstm" else getattr(corpus, name)()
    return out


# ---------------------------------------------------------------- mutations
_OBJ = re.compile(rb"(\d+) (\d+) obj\b")
_REF = re.compile(rb"(\d+) 0 R\b")
_NUM = re.compile(rb"(?<![\w.])\d+(?![\w.])")


def _objects(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every ``N G obj … endobj`` written in the file."""
    spans = []
    for m in _OBJ.finditer(data):
        end = data.find(b"endobj", m.end())
        if end > 0:
            spans.append((m.start(), end + len(b"endobj")))
    return spans


def flip(rng, data, n):
    b = bytearray(data)
    for _ in range(n):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8) if rng.random() < 0.5 else rng.randrange(1, 256)
    return bytes(b)


def truncate(rng, data):
    return data[:rng.randrange(min(8, len(data) - 1), len(data))]


def remove_xref(rng, data):
    start = data.rfind(b"\nxref")
    if start < 0:  # an xref stream: cut the stream object instead
        start = data.rfind(b"/Type /XRef")
        start = data.rfind(b"obj", 0, start) if start > 0 else -1
    end = data.rfind(b"startxref")
    return data[:start] + data[end:] if 0 <= start < end else data[: len(data) - 40]


def wrong_startxref(rng, data):
    value = rng.choice([0, 1, rng.randrange(len(data)), len(data) + 10, 10 ** 18, -5])
    return re.sub(rb"startxref\s+-?\d+", b"startxref\n%d" % value, data)


def duplicate_xref(rng, data):
    start = max(data.rfind(b"\nxref"), data.rfind(b"/Type /XRef"))
    start = data.rfind(b"\n", 0, start) if start > 0 else len(data) // 2
    section = data[start:]
    return data + section * rng.randint(1, 3)


def garbage_in_object(rng, data):
    spans = _objects(data)
    if not spans:
        return flip(rng, data, 16)
    s, e = rng.choice(spans)
    head = data.find(b"obj", s) + 3
    body_len = max(1, e - head - 6)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, min(body_len * 2, 4096))))
    return data[:head] + b"\n" + junk + b"\n" + data[e - 6:]


def delete_object(rng, data):
    spans = _objects(data)
    if not spans:
        return truncate(rng, data)
    s, e = rng.choice(spans)
    return data[:s] + data[e:]


def duplicate_object(rng, data):
    spans = _objects(data)
    if not spans:
        return data + data[: len(data) // 3]
    s, e = rng.choice(spans)
    at = rng.choice(spans)[1]
    return data[:at] + b"\n" + data[s:e] + data[at:]


def zero_run(rng, data):
    i = rng.randrange(len(data))
    n = rng.randint(1, 2048)
    return data[:i] + bytes(min(n, len(data) - i)) + data[i + n:]


def insert_run(rng, data):
    i = rng.randrange(len(data))
    return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 512))) + data[i:]


def swap_spans(rng, data):
    n = rng.randint(1, max(1, min(4096, len(data) // 4)))
    i, j = sorted(rng.randrange(max(1, len(data) - n)) for _ in range(2))
    if j < i + n:
        return flip(rng, data, 8)
    return data[:i] + data[j:j + n] + data[i + n:j] + data[i:i + n] + data[j + n:]


def break_dictionaries(rng, data):
    b = data
    for _ in range(rng.randint(1, 20)):
        token = rng.choice([b"<<", b">>", b"[", b"]", b"/Kids", b"/Fields", b"/Root", b"/Type"])
        hits = [m.start() for m in re.finditer(re.escape(token), b)]
        if hits:
            i = rng.choice(hits)
            b = b[:i] + rng.choice([b"", b"(", b"<", b"[[[[", b"/", b"<<<<", token * 50]) + b[i + len(token):]
    return b


def huge_numbers(rng, data):
    hits = list(_NUM.finditer(data))
    b = bytearray(data)
    for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 30))), key=lambda m: -m.start()):
        b[m.start():m.end()] = rng.choice([b"99999999999999999999999", b"-1", b"2147483648", b"0", b"-999999999",
                                           b"1e308", b"4294967296"])
    return bytes(b)


def bad_references(rng, data):
    hits = list(_REF.finditer(data))
    spans = _objects(data)
    b = bytearray(data)
    for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 40))), key=lambda m: -m.start()):
        if rng.random() < 0.5 or not spans:
            target = rng.choice([b"999999", b"0", b"2147483647", b"-3"])
        else:  # point at the object the reference sits in, or at one before it: cycles
            around = [int(_OBJ.match(data, s).group(1)) for s, e in spans if s <= m.start() < e] or [1]
            target = b"%d" % around[0]
        b[m.start():m.end()] = target + b" 0 R"
    return bytes(b)


def lying_length(rng, data):
    hits = list(re.finditer(rb"/Length \d+", data))
    if not hits:
        return flip(rng, data, 8)
    b = bytearray(data)
    for m in sorted(rng.sample(hits, min(len(hits), rng.randint(1, 10))), key=lambda m: -m.start()):
        b[m.start():m.end()] = b"/Length %d" % rng.choice([0, 1, 10 ** 9, 2 ** 31, 99999999999])
    return bytes(b)


MUTATIONS = {
    "flip1": lambda r, d: flip(r, d, 1), "flip8": lambda r, d: flip(r, d, 8), "flip64": lambda r, d: flip(r, d, 64),
    "truncate": truncate, "remove_xref": remove_xref, "wrong_startxref": wrong_startxref,
    "duplicate_xref": duplicate_xref, "garbage_in_object": garbage_in_object, "delete_object": delete_object,
    "duplicate_object": duplicate_object, "zero_run": zero_run, "insert_run": insert_run, "swap_spans": swap_spans,
    "break_dictionaries": break_dictionaries, "huge_numbers": huge_numbers, "bad_references": bad_references,
    "lying_length": lying_length,
}


def mutants(base: dict[str, bytes], count: int, seed: int):
    names = list(base)
    kinds = list(MUTATIONS)
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        name = names[i % len(names)]
        kind = kinds[(i // len(names) + i) % len(kinds)]
        try:
            data = MUTATIONS[kind](rng, base[name])
        except (ValueError, IndexError):  # a mutation that does not fit this file: flip bytes instead
            kind, data = "flip8", flip(rng, base[name], 8)
        yield f"{kind}[{name}]#{i}", name, data


# ---------------------------------------------------------------- checking
def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def check(data: bytes) -> dict:
    """The upload path on ``data``: outcome, message, wall and CPU seconds (self + child)."""
    self0, child0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    outcome, message = "accepted", ""
    try:
        returned = readback.open_returned(data)
        try:
            readback.check_reference(returned, corpus.SECRET, arende_id=corpus.ARENDE_ID,
                                     organisation_id=corpus.ORGANISATION_ID)
            message = f"{len(returned.fields)} fields, reference valid"
        except readback.ReturnedPdfError as exc:
            outcome, message = "refused (reference)", str(exc)
    except readback.ReturnedPdfError as exc:
        outcome, message = "refused", str(exc)
    except Exception as exc:  # noqa: BLE001 — anything else would be a 500 on the upload page
        outcome, message = "EXCEPTION", f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - started
    self1, child1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"outcome": outcome, "message": message, "wall": wall, "cpu_self": _cpu(self1) - _cpu(self0),
            "cpu_child": _cpu(child1) - _cpu(child0), "cpu": _cpu(self1) - _cpu(self0) + _cpu(child1) - _cpu(child0)}


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def short(message: str) -> str:
    return message if len(message) <= 60 else message[:57] + "…"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 mutants and the monsters")
    ap.add_argument("--mutants", type=int, help="mutated files (default 300)")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--keep", type=Path, help="write files that break the target or raise to this folder")
    ap.add_argument("--no-monsters", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    count = args.mutants if args.mutants is not None else (40 if args.quick else 300)

    t0 = time.perf_counter()
    base = bases()
    filled = corpus.filled()
    monster_files = {} if args.no_monsters else monsters.all_monsters(filled)
    build_seconds = time.perf_counter() - t0
    readback.open_returned(filled)  # warm up (imports in this process; the page cache for the child)

    rows = []

    def run(kind, name, data, expect=None):
        result = check(data)
        result.update(kind=kind, name=name, bytes=len(data), expect=expect)
        rows.append(result)
        if args.keep and (result["outcome"] == "EXCEPTION" or result["cpu"] > TARGET_CPU):
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / (re.sub(r"[^\w.#\[\]-]", "_", name) + ".pdf")).write_bytes(data)
        return result

    started = time.perf_counter()
    for name, data in base.items():
        run("base", name, data, "accepted" if name in GOOD else "refused")
    for label, _base_name, data in mutants(base, count, args.seed):
        run("mutant", label, data)
    for name, (what, data) in monster_files.items():
        run("monster", name, data)
    elapsed = time.perf_counter() - started

    # ------------------------------------------------------------ report
    print(f"Malformed-PDF campaign: {len(rows)} files ({len(base)} bases, {count} mutants, {len(monster_files)} "
          f"monsters), seed {args.seed}, built in {build_seconds:.1f} s, checked in {elapsed:.1f} s, "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| files | n | accepted | refused | refused (reference) | exception | CPU p50 s | CPU p95 s | CPU p99 s | "
          "CPU max s | wall p50 s | wall max s | over 2 s CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("base", "mutant", "monster", None):
        sel = [r for r in rows if kind is None or r["kind"] == kind]
        if not sel:
            continue
        c = Counter(r["outcome"] for r in sel)
        cpu, wall = [r["cpu"] for r in sel], [r["wall"] for r in sel]
        print(f"| {kind or '**all**'} | {len(sel)} | {c['accepted']} | {c['refused']} | {c['refused (reference)']} | "
              f"{c['EXCEPTION']} | {statistics.median(cpu):.2f} | {pct(cpu, 95):.2f} | {pct(cpu, 99):.2f} | "
              f"{max(cpu):.2f} | {statistics.median(wall):.2f} | {max(wall):.2f} | "
              f"{sum(1 for x in cpu if x > TARGET_CPU)} |")
    print()
    print("Refusal messages (all files):")
    for message, n in Counter(short(r["message"]) for r in rows if r["outcome"] != "accepted").most_common():
        print(f"  {n:4}  {message}")
    print()
    print("By mutation (mutants):")
    print("| mutation | n | accepted | refused | CPU max s |")
    print("|---|---|---|---|---|")
    for kind in MUTATIONS:
        sel = [r for r in rows if r["kind"] == "mutant" and r["name"].startswith(kind + "[")]
        if sel:
            print(f"| {kind} | {len(sel)} | {sum(r['outcome'] == 'accepted' for r in sel)} | "
                  f"{sum(r['outcome'] != 'accepted' for r in sel)} | {max(r['cpu'] for r in sel):.2f} |")
    if monster_files:
        print()
        print("Monsters:")
        print("| monster | what | bytes | outcome | message | wall s | CPU s (self + child) |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            if r["kind"] == "monster":
                print(f"| {r['name']} | {monster_files[r['name']][0]} | {r['bytes']:,} | {r['outcome']} | "
                      f"{short(r['message'])} | {r['wall']:.2f} | {r['cpu']:.2f} ({r['cpu_self']:.2f} + "
                      f"{r['cpu_child']:.2f}) |")
    print()
    print("Slowest five (CPU):")
    for r in sorted(rows, key=lambda r: -r["cpu"])[:5]:
        print(f"  {r['cpu']:.2f} s CPU, {r['wall']:.2f} s wall  {r['name']}: {r['outcome']} {short(r['message'])}")

    bad = []
    for r in rows:
        if r["outcome"] == "EXCEPTION":
            bad.append(f"{r['name']}: raised {r['message']}")
        if r["cpu"] > TARGET_CPU:
            bad.append(f"{r['name']}: {r['cpu']:.2f} s CPU (> {TARGET_CPU} s)")
        if r["expect"] == "refused" and r["outcome"] == "accepted":
            bad.append(f"{r['name']}: a hostile file was accepted")
        if r["expect"] == "accepted" and r["outcome"] != "accepted":
            bad.append(f"{r['name']}: a good file was refused: {r['message']}")
    accepted_mutants = [r["name"] for r in rows if r["kind"] == "mutant" and r["outcome"] == "accepted"
                        and r["name"].split("[")[1].split("]")[0] in HOSTILE]
    if accepted_mutants:
        print(f"\nMutants of hostile bases that were accepted ({len(accepted_mutants)}; the mutation can remove what "
              f"made them hostile — look at each): " + ", ".join(accepted_mutants[:20]))
    print()
    print("VERDICT: " + ("PASS: every file accepted or refused within 2 s of CPU, no exception" if not bad
                         else "FAIL:\n  " + "\n  ".join(bad)))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "problems": bad, "seconds": elapsed}, indent=2,
                                        ensure_ascii=False))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
