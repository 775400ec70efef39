"""The code a CLI command imports and runs: ``--objective`` and ``--folds``
(``MODULE:FUNCTION`` or a ``.py`` file), given on the command line or, for resume and
confirm, named by the study file (only with ``--trust-stored-objective``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpstudy.cli._files import _open, _reading, _require_file
from hpstudy.cli._output import _describe, printable
from hpstudy.errors import ConfigError

_FROM_FILES: set[str] = set()  # modules load_callable imported from a .py path


def load_callable(spec: str, what: str = "objective") -> Callable[..., Any]:
    """Import ``MODULE:FUNCTION`` (or ``path/to/file.py:FUNCTION``).

    Parameters
    ----------
    spec : str
        ``MODULE:FUNCTION`` with a dotted module name, or a ``.py`` file and a function.
    what : str
        The option named in error messages (``objective``, ``folds``).

    Returns
    -------
    callable

    Raises
    ------
    ConfigError
        On a malformed spec, a module that cannot be found or fails while it is
        imported (an exception, a syntax error, ``sys.exit``), or a missing or
        non-callable function.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"--{what}: must be MODULE:FUNCTION (got {spec!r})")
    module_name, attr = spec.split(":")
    if not attr.isidentifier():
        raise ConfigError(f"--{what}: {attr!r} is not a function name (got {spec!r})")
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        if not path.is_file():
            raise ConfigError(f"--{what}: no such file {module_name!r}")
        if not path.stem.isidentifier():
            raise ConfigError(f"--{what}: {path.name!r} cannot be imported: a module file "
                              f"name must be a Python identifier")
        loaded = sys.modules.get(path.stem)
        where = getattr(loaded, "__file__", None)
        if loaded is not None and (where is None or Path(where).resolve() != path):
            if path.stem not in _FROM_FILES:  # json.py must not shadow (or be) json
                raise ConfigError(f"--{what}: a module named {path.stem!r} is already "
                                  f"imported (from {where or 'built-in'}); rename {path.name!r}")
            del sys.modules[path.stem]  # an earlier file of ours: this one replaces it
            importlib.invalidate_caches()
        _FROM_FILES.add(path.stem)
        sys.path.insert(0, str(path.parent))  # spawned workers inherit sys.path
        module_name = path.stem
    else:
        if not all(part.isidentifier() for part in module_name.split(".")):
            raise ConfigError(f"--{what}: {module_name!r} is not a module name: give a dotted "
                              f"name (package.module) or a .py file (got {spec!r})")
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--{what}: cannot import module {module_name!r} "
                          f"({_describe(exc)})") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (the user's module: any failure)
        raise ConfigError(f"--{what}: importing module {module_name!r} failed: "
                          f"{_describe(exc)}") from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise ConfigError(f"--{what}: module {module_name!r} has no function {attr!r}")
    return func


def _make_folds(spec: str) -> Any:
    """Call the ``--folds`` factory; it must return :class:`hpstudy.evaluation.Folds`."""
    from hpstudy.evaluation import Folds

    factory = load_callable(spec, "folds")
    try:
        folds = factory()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 (the user's code: any failure)
        raise ConfigError(f"--folds: calling {spec}() failed: {_describe(exc)}") from None
    if not isinstance(folds, Folds):
        raise ConfigError(f"--folds: {spec}() must return hpstudy Folds "
                          f"(got {type(folds).__name__})")
    return folds


def _code_to_run(args: argparse.Namespace, stored: str, stored_folds: str | None
                 ) -> tuple[str, str | None]:
    """The objective and folds factory a resume imports: given, or trusted from the file."""
    if args.trust_stored_objective:
        return args.objective or stored, args.folds or stored_folds
    if args.objective is None or (stored_folds and args.folds is None):
        named = f"objective {stored!r}" + (f" and folds {stored_folds!r}" if stored_folds else "")
        confirm = f"--objective {stored}" + (f" --folds {stored_folds}" if stored_folds else "")
        raise ConfigError(f"the study file names the code it runs ({named}); resume imports and "
                          f"runs it, so confirm with {confirm}, or pass "
                          f"--trust-stored-objective if you trust this file")
    if args.objective != stored:
        print(printable(f"hpstudy {args.command}: note: running --objective {args.objective} "
                        f"(the study was started with {stored})"), file=sys.stderr)
    return args.objective, args.folds


def _stored_study_code(args: argparse.Namespace, from_python: str
                       ) -> tuple[dict[str, Any], Callable[..., Any], Any]:
    """The study's annotations, and the objective and folds a resume or confirm runs: the
    ones given on the command line, or (with --trust-stored-objective) the stored ones."""
    _require_file(args.storage)
    meta = _reading(args.storage, lambda: _open(args.storage).load_meta())
    notes = meta.get("annotations") or {}
    if not isinstance(notes, dict) or not isinstance(notes.get("objective"), str):
        raise ConfigError(f"storage {args.storage!r}: was not started by `hpstudy run`; "
                          f"{args.command} it from Python with {from_python}")
    stored_folds = notes.get("folds_factory")
    objective_spec, folds_spec = _code_to_run(
        args, notes["objective"], stored_folds if isinstance(stored_folds, str) else None)
    objective = load_callable(objective_spec, "objective")
    folds = _make_folds(folds_spec) if folds_spec else None
    return notes, objective, folds
