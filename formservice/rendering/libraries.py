"""WeasyPrint imported without its detour through `ctypes.util.find_library`: import this module
before WeasyPrint (pdf.py and markup.py do).

WeasyPrint loads GLib, Pango, HarfBuzz and fontconfig by trying a list of names per library, the
Windows and macOS ones first. cffi answers every name it cannot open directly with
`ctypes.util.find_library`, which on Linux runs `ldconfig -p` and, where a compiler is installed,
gcc and ld: 22 look-ups, 16 compiler runs, 0.19 s of every process that imports WeasyPrint
(measured here: a fifth of the app's creation, on the path of `formservice run` to its first page).
Each list also holds the Linux name (`libpango-1.0.so.0`, …), which the dynamic loader opens
directly; while WeasyPrint is imported, `find_library` finds nothing, so those are the ones taken.
Should a system lack them, WeasyPrint is imported again the ordinary way.
"""
from __future__ import annotations

import ctypes.util
import sys


def _import_weasyprint() -> None:
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        return
    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint  # noqa: F401
    except OSError:  # a library only find_library knows: forget the half-done import, take the long way
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = find_library


_import_weasyprint()
