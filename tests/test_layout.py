"""The package's shape: no import circle, no reach into another package's privates.

Walks every module of ``hpstudy`` with :mod:`ast` (nothing is executed), so the
rules hold for imports inside functions too. ``TYPE_CHECKING`` blocks are
skipped: they never run.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib

import numpy as np
import pytest

import hpstudy
from hpstudy import ConfigError

ROOT = pathlib.Path(hpstudy.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str) -> set[str]:
    """The hpstudy modules ``name`` imports (``from m import x`` counts x when x is a module)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return {m for m in found if m in MODULES}


GRAPH = {name: _imports(name) for name in MODULES}


def test_the_walk_sees_the_package():
    assert {"hpstudy", "hpstudy.study._loop", "hpstudy.space._base",
            "hpstudy.storage._replay", "hpstudy.optimizers.gp._model"} <= set(MODULES)
    assert "hpstudy.storage.events" in GRAPH["hpstudy.storage._replay"]


def test_no_import_circle():
    """No module reaches itself through its explicit imports (``hpstudy`` -> ``study``
    -> ``_meta`` -> ``hpstudy`` was one: a module reading ``hpstudy.__version__``)."""
    def edges(name: str) -> set[str]:
        return GRAPH[name]

    cycles = []
    for start in MODULES:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges(node):
                if nxt == start:
                    cycles.append(" -> ".join(path + (start,)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + (nxt,)))
    assert not cycles, "import circles:\n" + "\n".join(sorted(set(cycles))[:20])


def test_no_module_imports_another_packages_private_names():
    bad = []
    for name in MODULES:
        for target in GRAPH[name]:
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and part != "__init__":
                    owner = ".".join(parts[:i])  # the package the private module belongs to
                    if not (name == owner or name.startswith(owner + ".")):
                        bad.append(f"{name} imports {target}")
                    break
    assert not bad, "\n".join(bad)


def test_no_private_family_of_files_at_the_top():
    # DESIGN.md's layout: only _version.py and _validation.py (no __main__.py: the command
    # is ``hpstudy`` or ``python -m hpstudy.cli``, inside its own subpackage)
    top = sorted(p.name for p in ROOT.glob("_*.py") if p.name != "__init__.py")
    assert top == ["_validation.py", "_version.py"]


def test_py_typed_marker_ships():
    assert (ROOT / "py.typed").is_file()


def test_every_module_imports():
    """Each module imports on its own (a moved module's stale import would fail here)."""
    for name in MODULES:
        if name.endswith("__main__"):
            continue  # runs the command when imported
        module = importlib.import_module(name)
        assert module.__name__ == name


@pytest.mark.parametrize("make", [
    lambda n: hpstudy.evaluation.kfold(n * 10, n),
    lambda n: hpstudy.Hyperband(min_iter=n, eta=3),
    lambda n: hpstudy.GPOptimizer(n_initial=n),
    lambda n: hpstudy.Study(hpstudy.SearchSpace({"x": hpstudy.Real(0, 1)}), seed=n),
    lambda n: hpstudy.SearchSpace({"x": hpstudy.Real(0, 1)}).sample(n, seed=0),
])
def test_numpy_integers_are_integers_everywhere(make):
    make(np.int64(3))
    with pytest.raises(ConfigError, match="must be an integer"):
        make(3.0)
    with pytest.raises(ConfigError, match="must be an integer"):
        make(True)
