"""WeasyPrint imported without ctypes.util.find_library (rendering/libraries.py): none of the 0.19 s
of ldconfig and compiler runs at every start, and the ordinary way still taken on a system whose
libraries only find_library knows."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COUNT_LOOKUPS = """
import ctypes.util
asked = []
find_library = ctypes.util.find_library
ctypes.util.find_library = lambda name: asked.append(name) or find_library(name)
{before}
from formservice.rendering import pdf
assert pdf.html_to_pdf('<html lang="sv"><p>Åäö</p></html>').startswith(b"%PDF")
print(len(asked))
"""


def _lookups(before: str = "") -> int:
    done = subprocess.run([sys.executable, "-c", COUNT_LOOKUPS.format(before=before)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_weasyprint_loads_its_libraries_by_their_linux_names():
    assert _lookups() == 0


def test_a_library_only_find_library_knows_is_found_the_ordinary_way():
    # Pango's Linux name refused, as on a system that has it under another name only find_library knows.
    refuse = """
import cffi.api
dlopen = cffi.api.FFI.dlopen
def refusing(self, name, flags=0):
    if name == "libpango-1.0.so.0":
        raise OSError("inte här")
    return dlopen(self, name, flags)
cffi.api.FFI.dlopen = refusing
"""
    assert _lookups(refuse) > 0  # imported, and the PDF written, after all
