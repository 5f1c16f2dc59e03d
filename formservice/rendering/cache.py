"""A bounded, content-addressed cache of rendered documents for repeated identical requests (the
API renders the same blankett with the same values again: the output is byte-identical).

The key is a hash of everything the bytes depend on: the blankett, the format, the values as sent,
the document context, and a fingerprint of the templates, the print CSS, the fonts, the blankett
definitions and the organisation's official PDFs, taken once at start-up. The cache lives in the
worker's memory only — rendered documents hold personal data, so they are never written to a
shared store — and forgets the least recently used entries beyond its size; a worker restart
empties it.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from formservice import paths

from .documents import Document


def fingerprint(forms_dir: Path, official: Mapping[str, Any], extra: Iterable[Path] = ()) -> str:
    """A hash of the files the rendered bytes depend on."""
    digest = hashlib.sha256()
    roots = [Path(paths.TEMPLATES_DIR) / "documents", Path(paths.TEMPLATES_DIR) / "docx",
             Path(paths.STATIC_DIR) / "print", Path(paths.STATIC_DIR) / "fonts", Path(forms_dir), *extra]
    for root in roots:
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for blankett_id, pdf in sorted(official.items()):
        digest.update(blankett_id.encode() + b"\0" + pdf.template + json.dumps(dict(pdf.mapping), sort_keys=True).encode())
    return digest.hexdigest()


def request_key(fingerprint_: str, blankett_id: str, fmt: str, raw: Mapping[str, Any], ctx: Any) -> str:
    """The key of one render request: equal keys give equal bytes."""
    material = {"f": fingerprint_, "b": blankett_id, "fmt": fmt, "v": raw,
                "ctx": [ctx.organisation, ctx.document_number, str(ctx.created), dict(ctx.config),
                        hashlib.sha256(getattr(ctx, "logo", None) or b"").hexdigest()]}
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


class RenderCache:
    """Least recently used documents up to ``max_bytes`` in all (0 turns the cache off)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Document] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> Document | None:
        with self._lock:
            doc = self._entries.get(key)
            if doc is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return doc

    def put(self, key: str, doc: Document) -> None:
        size = len(doc.content)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = doc
            self._size += size
            while self._size > self.max_bytes:
                _key, old = self._entries.popitem(last=False)
                self._size -= len(old.content)

    def get_or_make(self, key: str, make: Callable[[], Document]) -> Document:
        doc = self.get(key)
        if doc is None:
            doc = make()
            self.put(key, doc)
        return doc

    def __len__(self) -> int:
        return len(self._entries)
