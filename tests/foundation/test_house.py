"""House rules the tools do not check: module length and purpose, and no staging shims."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gis", "layers", "ui")
MAX_LINES = 600
REASON = "Long because:"
#: Long modules waiting for a reason or a split (none: keep it so).
PENDING: dict[str, str] = {}
#: The only module that may import by name: the CLI's lazy command table.
LAZY_TABLE = "gis/cli/__init__.py"
#: Handlers that name a missing module: any try around our own imports with one is a shim.
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}
#: Handlers that swallow everything: a shim when the try holds nothing but imports.
CATCH_ALL = {"Exception", "BaseException"}


def _modules() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [*files, ROOT / "app.py"]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def long_without_reason(source: str) -> bool:
    """True when a module is over the limit and its docstring's second paragraph gives no reason."""
    if len(source.splitlines()) <= MAX_LINES:
        return False
    doc = ast.get_docstring(_parse(source)) or ""
    paragraphs = doc.split("\n\n")
    return len(paragraphs) < 2 or not paragraphs[1].startswith(REASON)


def docstring_problem(source: str) -> str | None:
    """What is wrong with a module's docstring: missing, or a first paragraph over one line."""
    doc = ast.get_docstring(_parse(source))
    if not doc:
        return "no module docstring"
    if "\n" in doc.split("\n\n")[0]:
        return "the first paragraph of the docstring is not one line"
    return None


@functools.cache
def _parse(source: str) -> ast.Module:
    """A module's syntax tree, parsed once for all the rules (the trees are only read)."""
    return ast.parse(source)


def _own(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def staging_shims(source: str, *, lazy_table: bool = False) -> list[str]:
    """Imports hidden from the tools: ``optional_module``, ``importlib.import_module`` (outside
    the CLI's lazy table), and imports of the project's own modules under an ``except`` that
    names ImportError (or that swallows everything around nothing but imports)."""
    found = []
    tree = _parse(source)
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Name | ast.FunctionDef):
            name = node.id if isinstance(node, ast.Name) else node.name
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            name = "optional_module" if "optional_module" in names else None
        if name == "optional_module":
            found.append(f"line {node.lineno}: optional_module")
        if name == "import_module" and not lazy_table:
            found.append(f"line {node.lineno}: importlib.import_module")
        if isinstance(node, ast.Try):
            caught: set[str] = set()
            for h in node.handlers:
                if h.type is None:
                    caught.add("BaseException")
                else:
                    caught |= {n.id for n in ast.walk(h.type) if isinstance(n, ast.Name)}
            only_imports = all(isinstance(s, ast.Import | ast.ImportFrom) for s in node.body)
            if not (caught & IMPORT_ERRORS or (caught & CATCH_ALL and only_imports)):
                continue
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Import):
                        mods = [a.name for a in sub.names]
                    elif isinstance(sub, ast.ImportFrom) and sub.level == 0:
                        mods = [sub.module or ""]
                    elif isinstance(sub, ast.ImportFrom):
                        mods = ["gis"]  # relative: always our own
                    else:
                        continue
                    for m in mods:
                        if _own(m):
                            found.append(f"line {sub.lineno}: import {m} under except")
    return found


def test_no_long_module_without_a_reason() -> None:
    offenders = []
    for path in _modules():
        rel = _rel(path)
        if rel in PENDING:
            continue
        if long_without_reason(path.read_text(encoding="utf-8")):
            n = len(path.read_text(encoding="utf-8").splitlines())
            offenders.append(f"{rel} ({n} lines)")
    assert not offenders, (
        f"modules over {MAX_LINES} lines without a '{REASON}' paragraph: split them by concept "
        f"or give the reason as the docstring's second paragraph: {offenders}"
    )


def test_every_module_says_what_it_is_for() -> None:
    problems = []
    for path in _modules():
        why = docstring_problem(path.read_text(encoding="utf-8"))
        if why:
            problems.append(f"{_rel(path)}: {why}")
    assert not problems, problems


def test_no_staging_shims() -> None:
    found = []
    for path in _modules():
        rel = _rel(path)
        for hit in staging_shims(path.read_text(encoding="utf-8"), lazy_table=rel == LAZY_TABLE):
            found.append(f"{rel} {hit}")
    assert not found, f"use plain imports (a function-level import stays lazy): {found}"


def test_the_lazy_command_table_is_the_one_exception() -> None:
    """The CLI's table loads command modules by name (fast ``--help``); it must still do so."""
    source = (ROOT / LAZY_TABLE).read_text(encoding="utf-8")
    assert staging_shims(source, lazy_table=False)
    assert not staging_shims(source, lazy_table=True)


# -- the checks themselves catch what they are for ---------------------------------------------


def _long(doc: str) -> str:
    return f'"""{doc}"""\n' + "x = 1\n" * MAX_LINES


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        (_long("Summary."), True),
        (_long("Summary.\n\nMore words."), True),
        (_long("Summary.\n\nLong because: a catalogue is long by nature."), False),
        ('"""Summary."""\n' + "x = 1\n" * (MAX_LINES - 1), False),
        ("x = 1\n" * (MAX_LINES + 1), True),
    ],
)
def test_length_rule(source: str, bad: bool) -> None:
    assert long_without_reason(source) is bad


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("x = 1\n", "no module docstring"),
        ('"""A summary that wraps\nonto a second line."""\n', "not one line"),
        ('"""One line.\n\nDetail that wraps\nover lines."""\n', None),
    ],
)
def test_docstring_rule(source: str, problem: str | None) -> None:
    got = docstring_problem(source)
    assert (got is None) if problem is None else (got is not None and problem in got)


@pytest.mark.parametrize(
    "source",
    [
        "from ui.common import optional_module\nm = optional_module('gis.store')\n",
        "import importlib\nm = importlib.import_module('gis.store')\n",
        "try:\n    from gis.cases.intake import x\nexcept ImportError:\n    x = None\n",
        "try:\n    import layers.route\nexcept Exception:\n    pass\n",
        "def f():\n    try:\n        from gis import store\n    except:\n        return None\n",
    ],
)
def test_shims_are_found(source: str) -> None:
    assert staging_shims(source)


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from gis.store import open_store\n    return open_store\n",
        "try:\n    import psycopg2\nexcept ImportError:\n    psycopg2 = None\n",
        "from gis.cases.intake import x\ntry:\n    y = x()\nexcept (OSError, ValueError):\n    y = 0\n",
        # a command's last line of defence, with a lazy import among its steps
        "try:\n    from gis.store import s\n    run(s)\nexcept Exception as exc:\n    report(exc)\n",
    ],
)
def test_plain_and_third_party_imports_pass(source: str) -> None:
    assert not staging_shims(source)
