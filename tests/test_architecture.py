"""The house in wings: imports run one way (README, "För utvecklare"; docs/architecture.md).

Reads every module of the package with ``ast`` (nothing is imported), resolves relative imports
and checks each import against the rules of the wing it sits in. Also: no module over 600 lines,
no more than twelve modules at the package root.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "formservice"

# Infrastructure at the package root: imported by every wing, imports no wing.
INFRASTRUCTURE = {"config", "db", "crypto", "audit", "security", "paths", "schema", "backup", "jobs", "tid"}
# The top of the house: the app factory, the command and the server may import anything.
TOP = {"__init__", "cli", "server"}
WINGS = {"accounts", "processkarta", "blanketter", "rendering", "arenden", "doctor", "uppfoljning", "samverkan",
         "web"}

# Which parts of formservice each wing may import (besides itself).
ALLOWED = {
    "processkarta": set(),
    "blanketter": {"processkarta", "paths", "tid"},
    "rendering": {"blanketter", "paths", "tid"},
    "accounts": INFRASTRUCTURE,
    "arenden": INFRASTRUCTURE | {"accounts", "blanketter", "rendering", "processkarta"},
    "doctor": INFRASTRUCTURE | {"arenden", "accounts", "blanketter", "rendering", "processkarta"},
    "uppfoljning": INFRASTRUCTURE | {"arenden", "accounts", "blanketter", "processkarta", "rendering", "doctor"},
    "samverkan": INFRASTRUCTURE | {"arenden", "accounts", "blanketter", "rendering", "processkarta", "doctor"},
    "web": INFRASTRUCTURE | WINGS - {"web"},
    "migrations": INFRASTRUCTURE | {"accounts", "arenden", "doctor", "uppfoljning", "samverkan"},
    **{name: INFRASTRUCTURE for name in INFRASTRUCTURE},
}
# Third-party packages a part must not import.
WEB_AND_DATABASE = {"flask", "flask_wtf", "wtforms", "werkzeug", "sqlalchemy", "alembic", "gunicorn"}
ENGINES = {"weasyprint", "docxtpl", "docx", "pypdf", "pikepdf"}  # wrapped by rendering alone
FORBIDDEN = {
    "processkarta": WEB_AND_DATABASE | ENGINES,
    "blanketter": WEB_AND_DATABASE | ENGINES,
    "rendering": WEB_AND_DATABASE,
}
MAX_LINES = 600
MAX_ROOT_MODULES = 12


def part_of(path: Path, root: Path) -> str:
    """The wing (or root module) a file belongs to."""
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a module, relative ones resolved. For
    `from a import b` both `a` and `a.b` are listed, since b may be a submodule."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    # The package a module sits in (for __init__.py: the package it initialises).
    package = list(path.relative_to(root.parent).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            out.append((node.lineno, prefix))
            if prefix.split(".")[0] == root.name:
                out += [(node.lineno, f"{prefix}.{alias.name}") for alias in node.names]
    return out


def violations(root: Path) -> list[str]:
    found: list[str] = []
    package = root.name
    for path in sorted(root.rglob("*.py")):
        if "versions" in path.parts:  # migration scripts use alembic and sqlalchemy only
            continue
        here = part_of(path, root)
        where = path.relative_to(root.parent)
        for line, name in imported_modules(path, root):
            top = name.split(".")[0]
            if top == package:
                parts = name.split(".")
                if len(parts) < 2:
                    continue
                target = parts[1]
                if target not in WINGS | INFRASTRUCTURE | TOP | {"migrations"}:
                    continue  # a name, not a module: `from formservice import create_app`
                if target == here or here in TOP:
                    continue
                if target == "web":
                    found.append(f"{where}:{line}: imports web; nothing imports web")
                elif target not in ALLOWED.get(here, set()):
                    found.append(f"{where}:{line}: {here} may not import {target}")
            elif top in FORBIDDEN.get(here, set()):
                found.append(f"{where}:{line}: {here} may not import {top}")
            elif top in ENGINES and here != "rendering":
                found.append(f"{where}:{line}: only rendering imports {top}")
    return list(dict.fromkeys(found))  # `from a.b import c` lists a.b and a.b.c: report once


def test_imports_run_one_way():
    assert violations(PACKAGE) == []


def test_no_module_over_600_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_few_modules_at_the_package_root():
    root_modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(root_modules) <= MAX_ROOT_MODULES, root_modules
    assert set(root_modules) <= INFRASTRUCTURE | TOP


def test_every_wing_says_what_it_owns_and_may_import():
    for wing in sorted(WINGS):
        init = PACKAGE / wing / "__init__.py"
        if not init.exists():
            continue  # a wing that is not built yet
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{wing}/__init__.py needs a docstring naming what it may import"


@pytest.mark.parametrize("wing, source, expected", [
    ("blanketter", "from formservice.rendering import display\n", "blanketter may not import rendering"),
    ("blanketter", "import flask\n", "blanketter may not import flask"),
    ("processkarta", "from sqlalchemy import select\n", "processkarta may not import sqlalchemy"),
    ("arenden", "from ..doctor import answers\n", "arenden may not import doctor"),
    ("arenden", "from formservice.web import api\n", "imports web"),
    ("doctor", "import pikepdf\n", "only rendering imports pikepdf"),
    ("rendering", "from ..arenden.models import Dokument\n", "rendering may not import arenden"),
])
def test_the_checker_finds_a_wrong_import(tmp_path, wing, source, expected):
    root = tmp_path / "formservice"
    (root / wing).mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / wing / "__init__.py").write_text('"""A wing. May import nothing."""\n')
    (root / wing / "module.py").write_text(source)
    found = violations(root)
    assert len(found) == 1 and expected in found[0], found


def test_the_checker_accepts_allowed_imports(tmp_path):
    root = tmp_path / "formservice"
    (root / "doctor").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "doctor" / "module.py").write_text(
        "from formservice import db\nfrom ..arenden import registry\nfrom . import readback\nimport yaml\n")
    assert violations(root) == []


def test_every_audited_action_has_a_swedish_label():
    """The audit log shows ACTIONS' label; an action without one would show its code name."""
    from formservice.audit import ACTIONS

    used = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r'audit\.record\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used and used - set(ACTIONS) == set()


def test_the_ci_lanes_cover_the_suite():
    """.ci/run runs the suite as tests/e2e, tests/test_[a-h]*.py and tests/test_[i-z]*.py side by side:
    a test module anywhere else, or named outside those letters, would run in no lane."""
    tests = Path(__file__).resolve().parent
    for path in tests.rglob("test_*.py"):
        where = path.relative_to(tests)
        assert where.parts[0] == "e2e" or (len(where.parts) == 1 and re.fullmatch(r"test_[a-z]\w*\.py", where.name)), where
    lanes = (tests.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "tests/test_[a-h]*.py" in lanes and "tests/test_[i-z]*.py" in lanes and " tests/e2e" in lanes
