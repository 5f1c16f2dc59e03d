"""The hostile PDFs the issue names, built in code (no binary files in the repository): cheap to send,
dear to parse. Used by fuzz/pdfs.py (the malformed-PDF campaign) and benchmarks/bench_upload.py
(uploads to a live service). Needs pikepdf (a service dependency), not pytest.

    .venv/bin/python fuzz/monsters.py OUT_DIR     # writes every monster to OUT_DIR, prints sizes

* ``pages_99000``: a real page tree with 99,000 page objects (in object streams, ~0.9 MB);
  ``pages_99000_count_lies``: the same tree whose /Count says 4; ``pages_99000_filled``: the filled
  förfrågan with 99,000 blank pages appended (its form fields and reference intact).
* ``objects_1m``: one million tiny objects (``<<>>``) in object streams with an xref stream, within
  10 MB; ``objects_1m_size_lies``: the same with the xref stream's /Size saying 10;
  ``objects_1m_referenced``: the million referenced from the catalog (and /Size 10);
  ``objects_1m_chain``: a chain of a million objects each pointing at the next.
* ``objstm_bomb_root``: the catalog inside an object stream (FlateDecode) that inflates to ~1 GB;
  ``objstm_bomb_update``: the filled förfrågan with an incremental update whose catalog points at an
  object inside such a stream; ``stream_bomb``: the filled förfrågan with a plain FlateDecode stream
  that inflates to ~1 GB (never decoded when reading answers, so accepted).
"""
from __future__ import annotations

import io
import re
import sys
import zlib
from pathlib import Path

GIB = 1024 ** 3


# ---------------------------------------------------------------- writing PDFs by hand
def deflate_zeros(size: int, fill: bytes = b" ", prefix: bytes = b"", level: int = 9) -> bytes:
    """zlib data that inflates to ``prefix`` followed by ``size`` bytes of ``fill``, built in chunks (the
    inflated bytes are never held in memory)."""
    comp = zlib.compressobj(level)
    out = [comp.compress(prefix)]
    block = fill * (1024 * 1024 // len(fill))
    left = size
    while left > 0:
        take = min(left, len(block))
        out.append(comp.compress(block[:take]))
        left -= take
    out.append(comp.flush())
    return b"".join(out)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def objstm_body(objects: list[tuple[int, bytes]], padding: int = 0, level: int = 6) -> bytes:
    """An object stream (/Type /ObjStm, FlateDecode) holding ``objects`` (number, body). ``padding``
    bytes of spaces after them make it inflate to any size."""
    offsets, data, pos = [], [], 0
    for number, body in objects:
        offsets.append(b"%d %d" % (number, pos))
        data.append(body)
        pos += len(body) + 1
    header = b" ".join(offsets) + b"\n"
    content = b" ".join(data) + b" "
    if padding:
        compressed = deflate_zeros(padding, prefix=header + content, level=level)
    else:
        compressed = zlib.compress(header + content, level)
    return _stream(b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(objects), len(header)),
                   compressed)


def xref_stream_pdf(direct: list[tuple[int, bytes]], in_streams: dict[int, int] | None = None, *,
                    root: int = 1, size: int | None = None, prev: int | None = None,
                    base: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", extra_trailer: bytes = b"") -> bytes:
    """A PDF (or, with ``base`` and ``prev``, an incremental update appended to ``base``) with a
    cross-reference stream. ``direct``: objects written in the file, (number, body); ``in_streams``:
    object number → (object stream number, index) packed as stream_number << 32 | index.
    ``size``: the /Size to claim (default: the truth)."""
    in_streams = in_streams or {}
    out = bytearray(base)
    offsets = {}
    for number, body in direct:
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_number = max([*offsets, *in_streams, 0]) + 1
    offsets[xref_number] = len(out)
    numbers = sorted(set(offsets) | set(in_streams) | ({0} if prev is None else set()))
    rows = bytearray()
    index = []
    run_start, previous = None, None
    for n in numbers:  # /Index runs of consecutive numbers (an update names only what it changes)
        if run_start is None or n != previous + 1:
            if run_start is not None:
                index += [run_start, previous - run_start + 1]
            run_start = n
        previous = n
        if n == 0:
            rows += b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(3, "big")
        elif n in offsets:
            rows += b"\x01" + offsets[n].to_bytes(4, "big") + (0).to_bytes(3, "big")
        else:
            packed = in_streams[n]
            rows += b"\x02" + (packed >> 32).to_bytes(4, "big") + (packed & 0xFFFFFFFF).to_bytes(3, "big")
    index += [run_start, previous - run_start + 1]
    true_size = xref_number + 1 if prev is None else max(xref_number + 1, size or 0)
    dictionary = (b"/Type /XRef /Size %d /W [1 4 3] /Index [%s] /Root %d 0 R /Filter /FlateDecode"
                  % (size if size is not None else true_size, b" ".join(b"%d" % i for i in index), root))
    if prev is not None:
        dictionary += b" /Prev %d" % prev
    dictionary += extra_trailer
    out += b"%d 0 obj\n" % xref_number + _stream(dictionary, zlib.compress(bytes(rows), 9)) + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def _packed(stream_number: int, index: int) -> int:
    return stream_number << 32 | index


def _in_object_streams(objects: list[tuple[int, bytes]], first_stream_number: int, per_stream: int
                       ) -> tuple[list[tuple[int, bytes]], dict[int, int]]:
    """Pack ``objects`` into object streams numbered from ``first_stream_number``."""
    streams, where = [], {}
    for k in range(0, len(objects), per_stream):
        number = first_stream_number + k // per_stream
        chunk = objects[k:k + per_stream]
        streams.append((number, objstm_body(chunk)))
        for i, (obj_number, _) in enumerate(chunk):
            where[obj_number] = _packed(number, i)
    return streams, where


# ---------------------------------------------------------------- (a) 99,000 pages
def pages_99000(count: int = 99_000, claimed: int | None = None) -> bytes:
    """A page tree of ``count`` real page objects (one /Pages node, every page in object streams).
    ``claimed``: the /Count to write (default: the truth)."""
    first_page = 3
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(count))
    objects = [(1, b"<< /Type /Catalog /Pages 2 0 R >>"),
               (2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d /MediaBox [0 0 595 842] >>"
                % (count if claimed is None else claimed))]
    objects += [(first_page + i, b"<< /Type /Page /Parent 2 0 R >>") for i in range(count)]
    streams, where = _in_object_streams(objects, first_page + count, per_stream=1000)
    return xref_stream_pdf(streams, where)


def pages_99000_filled(filled: bytes, count: int = 99_000) -> bytes:
    """The filled förfrågan (form fields, reference) with blank pages up to ``count`` pages, added the
    way a PDF reader saves changes: an incremental update (the new pages in object streams, a new
    version of the page tree root, a cross-reference stream)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(filled)) as doc:
        pages = doc.Root.Pages
        pages_number, root_number, size = pages.objgen[0], doc.Root.objgen[0], int(doc.trailer.Size)
        kept = [k.encode() + b" " + v.unparse() for k, v in pages.items() if k not in ("/Kids", "/Count")]
        old_kids = [k.unparse() for k in pages.Kids]
        trailer = _trailer_keys(doc)
    first = size
    new_kids = [b"%d 0 R" % (first + i) for i in range(count - len(old_kids))]
    tree = b"<< " + b" ".join(kept) + b" /Kids [" + b" ".join(old_kids + new_kids) + b"] /Count %d >>" % count
    blank = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % pages_number
    streams, where = _in_object_streams([(first + i, blank) for i in range(len(new_kids))],
                                        first + len(new_kids), per_stream=1000)
    base = filled if filled.endswith(b"\n") else filled + b"\n"
    return xref_stream_pdf([(pages_number, tree)] + streams, where, root=root_number,
                           prev=_last_startxref(filled), base=base, extra_trailer=trailer)


# ---------------------------------------------------------------- (b) a million objects
def objects_1m(count: int = 1_000_000, *, size: int | None = None, referenced: bool = False,
               chain: bool = False) -> bytes:
    """``count`` tiny objects in object streams (10,000 per stream) and an xref stream.
    ``referenced``: the catalog's /Extra array names every one; ``chain``: each points at the next;
    ``size``: the /Size to claim."""
    first = 4
    catalog = b"<< /Type /Catalog /Pages 2 0 R%s >>" % (b" /Extra 3 0 R" if referenced or chain else b"")
    objects = [(1, catalog), (2, b"<< /Type /Pages /Kids [] /Count 0 >>")]
    if chain:
        objects.append((3, b"[%d 0 R]" % first))
        objects += [(first + i, b"<< /N %d 0 R >>" % (first + i + 1) if i + 1 < count else b"<<>>")
                    for i in range(count)]
    else:
        if referenced:
            objects.append((3, b"[" + b" ".join(b"%d 0 R" % (first + i) for i in range(count)) + b"]"))
        objects += [(first + i, b"<<>>") for i in range(count)]
    streams, where = _in_object_streams(objects, first + count, per_stream=10_000)
    return xref_stream_pdf(streams, where, size=size)


# ---------------------------------------------------------------- (c) decompression bombs
def objstm_bomb_root(inflated: int = GIB) -> bytes:
    """The catalog and page tree inside one object stream that inflates to ``inflated`` bytes: opening
    the file at all means inflating it."""
    objects = [(1, b"<< /Type /Catalog /Pages 2 0 R >>"), (2, b"<< /Type /Pages /Kids [] /Count 0 >>")]
    return xref_stream_pdf([(3, objstm_body(objects, padding=inflated, level=9))],
                           {1: _packed(3, 0), 2: _packed(3, 1)})


def _trailer_keys(doc) -> bytes:
    """/Info and /ID of ``doc``'s trailer, for the trailer of an incremental update (a reader uses the
    newest trailer: without them the document information, and the service's reference, would be lost)."""
    return b"".join(b" " + key.encode() + b" " + doc.trailer[key].unparse()
                    for key in ("/Info", "/ID") if key in doc.trailer)


def _last_startxref(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def objstm_bomb_update(filled: bytes, inflated: int = GIB) -> bytes:
    """``filled`` with an incremental update (as a PDF reader saves a filled form): a new version of the
    catalog whose /Extra names an object that lives in an object stream inflating to ``inflated`` bytes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(filled)) as doc:
        root_number = doc.Root.objgen[0]
        root = doc.Root.unparse(resolved=True)  # the catalog's dictionary, its references kept
        size = int(doc.trailer.Size)
        trailer = _trailer_keys(doc)
    bomb_obj, stream_obj = size + 1, size + 2
    new_root = root.rstrip()[:-2] + b" /Extra %d 0 R >>" % bomb_obj
    base = filled if filled.endswith(b"\n") else filled + b"\n"
    return xref_stream_pdf([(root_number, new_root),
                            (stream_obj, objstm_body([(bomb_obj, b"<< /Bomb true >>")], padding=inflated, level=9))],
                           {bomb_obj: _packed(stream_obj, 0)}, root=root_number, prev=_last_startxref(filled),
                           base=base, size=stream_obj + 2, extra_trailer=trailer)


def stream_bomb(filled: bytes, inflated: int = GIB) -> bytes:
    """``filled`` with a plain FlateDecode stream (/Extra of the catalog) that inflates to ``inflated``
    bytes of zeros."""
    import pikepdf

    with pikepdf.open(io.BytesIO(filled)) as doc:
        bomb = pikepdf.Stream(doc, deflate_zeros(inflated, fill=b"\x00"))
        bomb.Filter = pikepdf.Name.FlateDecode
        doc.Root.Extra = doc.make_indirect(bomb)
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def all_monsters(filled: bytes) -> dict[str, tuple[str, bytes]]:
    """name → (what it is, bytes). ``filled``: a filled returned förfrågan."""
    return {
        "pages_99000": ("a page tree with 99,000 page objects", pages_99000()),
        "pages_99000_count_lies": ("the same, its /Count says 4", pages_99000(claimed=4)),
        "pages_99000_filled": ("the filled förfrågan + blank pages up to 99,000", pages_99000_filled(filled)),
        "objects_1m": ("1,000,000 objects <<>> in object streams", objects_1m()),
        "objects_1m_size_lies": ("the same, xref /Size says 10", objects_1m(size=10)),
        "objects_1m_referenced": ("1,000,000 objects named by the catalog, /Size says 10",
                                  objects_1m(size=10, referenced=True)),
        "objects_1m_chain": ("a chain of 1,000,000 objects, each pointing at the next", objects_1m(chain=True)),
        "objstm_bomb_root": ("catalog inside an object stream inflating to 1 GiB", objstm_bomb_root()),
        "objstm_bomb_update": ("filled förfrågan + update: catalog names an object in a 1 GiB object stream",
                               objstm_bomb_update(filled)),
        "stream_bomb": ("filled förfrågan + a plain FlateDecode stream inflating to 1 GiB", stream_bomb(filled)),
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1])
        return 2
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    from tests.data import returned_pdfs

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, (what, data) in all_monsters(returned_pdfs.filled()).items():
        (out / f"{name}.pdf").write_bytes(data)
        print(f"{name:24} {len(data):>10,} B  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
