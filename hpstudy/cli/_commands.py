"""The subcommands (run, resume, status, check, confirm, audit) and the parser."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from hpstudy.cli._output import _describe, _emit, _one_line, printable
from hpstudy.errors import ConfigError, HpstudyError, StorageError
from hpstudy.report.cli import add_commands as _add_report_commands
from hpstudy.trials import TrialState

#: Bounds of the integer options (``--jobs 10**12`` is refused, not an OverflowError).
MAX_JOBS = 1024
MAX_TRIALS = 10**9
MAX_SEED = 2**63 - 1

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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, printable(f"{self.prog}: error: {_one_line(message)} "
                               f"(see {self.prog} --help)") + "\n")


def _int_option(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[minimum, maximum]``."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer (got {text[:40]!r})") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum} and {maximum:,} "
                                             f"(got {text[:40]})")
        return value
    return convert


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hpstudy", description="Hyperparameter studies you can trust.",
                epilog="Security: run and resume import and run Python code; resume runs the "
                       "code a study file names only when confirmed (see hpstudy resume "
                       "--help). status, export, check, report, analyze and compare never "
                       "import code.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start (or continue) a study from a W&B sweep YAML file")
    run.add_argument("config", help="sweep configuration (W&B YAML format)")
    run.add_argument("--objective", required=True, help="MODULE:FUNCTION taking (params, ctx)")
    run.add_argument("--storage", required=True, help="SQLite file of the study")
    run.add_argument("--trials", type=_int_option(1, MAX_TRIALS), default=None,
                     help="total trials the study should have")
    run.add_argument("--jobs", type=_int_option(1, MAX_JOBS), default=1,
                     help=f"parallel worker processes (1 to {MAX_JOBS})")
    run.add_argument("--seed", type=_int_option(0, MAX_SEED), default=0, help="the study's seed")
    run.add_argument("--folds", default=None, help="MODULE:FUNCTION returning hpstudy Folds")
    resume = sub.add_parser(
        "resume", help="continue a stopped or crashed study (runs Python code: see resume --help)",
        description="Continue a stopped or crashed study. SECURITY: a study file names the "
                    "objective and folds factory it was run with, and resuming imports and "
                    "calls them: resuming a study file from someone else runs their code. "
                    "So give the objective (and folds factory) on the command line; the code "
                    "the file names runs only with --trust-stored-objective.")
    resume.add_argument("storage")
    resume.add_argument("--objective", default=None,
                        help="MODULE:FUNCTION to run (the error message without it names the "
                             "stored one)")
    resume.add_argument("--folds", default=None,
                        help="MODULE:FUNCTION returning hpstudy Folds (when the study has folds)")
    resume.add_argument("--trust-stored-objective", action="store_true",
                        help="import and run the objective and folds factory the study file "
                             "names (only for a study file you trust)")
    resume.add_argument("--trials", type=_int_option(1, MAX_TRIALS), default=None,
                        help="total trials (default: as planned)")
    resume.add_argument("--jobs", type=_int_option(1, MAX_JOBS), default=1,
                        help=f"parallel worker processes (1 to {MAX_JOBS})")
    status = sub.add_parser("status", help="show a study's progress (safe while it runs; "
                                           "read-only, imports nothing)")
    status.add_argument("storage")
    check = sub.add_parser("check", help="check a study file (read-only): SQLite's quick_check, "
                                         "the metadata and every event")
    check.add_argument("storage")
    export = sub.add_parser("export", help="write a study's trials as CSV or JSON")
    export.add_argument("storage")
    export.add_argument("--format", choices=["csv", "json"], default="csv",
                        help="csv (a text cell starting with = + - @, a tab or a carriage "
                             "return gets a leading ' against formula injection; numbers as "
                             "they are) or json (every value exact)")
    export.add_argument("--output", default="-", help="file to write (default: stdout)")
    export.add_argument("--folds", action="store_true", help="one row per fold result")
    export.add_argument("--reports", action="store_true",
                        help="the reported series: in JSON a 'reports' list per row; in CSV "
                             "one row per report (trial, fold, step, value)")
    _add_report_commands(sub)  # report, analyze, compare (hpstudy/report/cli.py)
    _add_confirm_command(sub)
    audit = sub.add_parser("audit", help="leakage audit of an image-folder data set: "
                           "augmented copies and near-duplicates within and across splits")
    audit.add_argument("data_dir", help="split folders ({train,valid,test}/<class>/) or <class>/")
    audit.add_argument("--max-distance", type=int, default=8,
                       help="largest pHash distance (of 64 bits) counted as the same photo")
    audit.add_argument("--format", choices=["text", "json"], default="text")
    return p


def _run_study(study, planned: int | None, jobs: int, objective: Callable[..., Any]) -> int:
    created = len(study.trials)
    n_new = None if planned is None else max(0, planned - created)
    if n_new is None and study.run_cap is None and study.meta.get("optimizer") != "grid":
        raise ConfigError("--trials: give the number of trials (the sweep has no run_cap)")
    study.run(objective, n_trials=n_new, n_jobs=jobs)
    _emit(_status_text(study, planned))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hpstudy.study import Study
    from hpstudy.sweep import Sweep

    objective = load_callable(args.objective, "objective")  # fail early, before the storage
    folds = _make_folds(args.folds) if args.folds else None
    sweep = Sweep.from_yaml(args.config)
    annotations = {"objective": args.objective, "planned_trials": args.trials,
                   "folds_factory": args.folds, "config": os.fspath(args.config)}
    def create() -> Any:
        return Study.from_sweep(sweep, storage=args.storage, seed=args.seed, folds=folds,
                                annotations=annotations)

    # an existing file is read first (to continue its study): it may be damaged
    study = _reading(args.storage, create) if os.path.exists(args.storage) else create()
    return _run_study(study, args.trials, args.jobs, objective)


def _require_file(path: str) -> None:
    if not os.path.isfile(path):
        raise StorageError(f"storage {path!r}: no such file")


def _open(path: str, *, read_only: bool = True):
    from hpstudy.storage import SQLiteStorage

    _require_file(path)
    return SQLiteStorage(path, read_only=read_only)


def _reading(path: str, read: Callable[[], Any]) -> Any:
    """``read()``, with a study file that does not read as a study reported as a StorageError."""
    try:
        return read()
    except HpstudyError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, LookupError, sqlite3.Error) as exc:
        raise StorageError(f"storage {path!r}: not a readable hpstudy study "
                           f"({_describe(exc)})") from None


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


def _cmd_resume(args: argparse.Namespace) -> int:
    from hpstudy.storage import lease_info
    from hpstudy.study import Study

    notes, objective, folds = _stored_study_code(args, "Study.load(...).run(objective)")
    store = _open(args.storage, read_only=False)
    study = _reading(args.storage, lambda: Study.load(store, folds=folds))
    planned = args.trials if args.trials is not None else notes.get("planned_trials")
    if args.trials is not None and args.trials != notes.get("planned_trials"):
        lease = lease_info(args.storage)
        if lease is not None and lease.fresh():  # refused before the plan is changed
            raise StorageError(f"{lease.describe()}; one coordinator at a time")
        store.update_annotations({"planned_trials": args.trials})
        study.annotations["planned_trials"] = args.trials
    return _run_study(study, planned, args.jobs, objective)


def _status_text(study, planned: int | None = None) -> str:
    trials = study.trials
    counts = {s: len(trials.with_state(s)) for s in TrialState}
    first = study.annotations.get("planned_trials") or study.run_cap
    planned = planned or first
    if planned and len(trials) > planned:  # resumed with a larger --trials since
        plan = f" (resumed beyond the {planned} first planned)"
    else:
        plan = f" of {planned} planned" if planned else ""
    lines = [f"study {study.name!r}: {len(trials)} trials{plan}",
             "  " + ", ".join(f"{s.value} {n}" for s, n in counts.items())]
    best = trials.best()
    if best is not None:
        lines.append(f"  best: trial {best.number}, {study.metric} = {best.value:.6g} "
                     f"({study.goal.value})")
        lines.extend(f"    {k} = {v!r}" for k, v in best.params.items())
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    from hpstudy.report import status_text
    from hpstudy.storage import lease_info

    _require_file(args.storage)
    lines = _reading(args.storage, lambda: status_text(args.storage)).split("\n")
    lease = _reading(args.storage, lambda: lease_info(args.storage))
    if lease is not None:  # after the counts: who runs the study, or that its runner died
        lines.insert(2, "  coordinator: " + (lease.describe() if lease.fresh() else
                                             f"PID {lease.pid} on {lease.host} is gone "
                                             f"(stale lease): `hpstudy resume` continues it"))
    _emit("\n".join(lines))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from hpstudy.storage import check

    _require_file(args.storage)
    problems = _reading(args.storage, lambda: check(args.storage))
    if problems:
        raise StorageError(f"storage {args.storage!r}: {len(problems)} problem(s): "
                           + "; ".join(problems))
    _emit(f"storage {args.storage!r}: ok")
    return 0


def _load_for_reading(path: str):
    from hpstudy.study import Study

    return Study.load(_open(path), optimizer="random")  # stored folds stand in: reading only


def _add_confirm_command(sub: Any) -> None:
    confirm = sub.add_parser(
        "confirm", help="re-evaluate the best configurations without pruning, on the same "
        "folds with seed repeats, into the study file's confirm phase (resumes if interrupted)")
    confirm.add_argument("storage", help="the study's SQLite file")
    confirm.add_argument("--top", type=int, default=3, help="configurations to confirm "
                         "(per model value with --per-model)")
    confirm.add_argument("--per-model", default=None, metavar="PARAM",
                         help="confirm the best --top of each value of this parameter")
    confirm.add_argument("--seeds", type=int, default=1, help="initialisation seeds per split")
    confirm.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    confirm.add_argument("--objective", default=None, help="MODULE:FUNCTION (the stored one: "
                         "give it again, or pass --trust-stored-objective)")
    confirm.add_argument("--folds", default=None, help="MODULE:FUNCTION returning the folds")
    confirm.add_argument("--trust-stored-objective", action="store_true",
                         help="import and run the objective and folds the file names")


def _cmd_confirm(args: argparse.Namespace) -> int:
    from hpstudy.study import Study

    _, objective, folds = _stored_study_code(args, "Study.load(...).confirm(objective)")
    study = _reading(args.storage, lambda: Study.load(_open(args.storage, read_only=False),
                                                      folds=folds))
    phase = study.confirm(objective, top=args.top, per_model=args.per_model, seeds=args.seeds,
                          n_jobs=args.jobs)
    trials = phase.trials
    sources = [c.get("source") for c in phase.annotations.get("configurations", [])]
    lines = [f"confirm phase of {args.storage}: {len(trials)} configurations re-evaluated "
             f"without pruning ({args.seeds} seed(s) per split)"]
    for t, source in zip(trials, sources, strict=False):
        value = "-" if t.value is None else f"{t.value:.6g}"
        lines.append(f"  trial {t.number} (search trial {source}): {phase.metric} = {value} "
                     f"[{t.state.value}] {dict(t.params)}")
    try:
        from hpstudy.stats import analyze

        lines.append(analyze(trials).summary())
    except ConfigError as exc:
        lines.append(f"no analysis: {exc}")
    lines.append(f"read it from Python: hpstudy.Study.load_confirm({args.storage!r}).trials")
    print("\n".join(lines))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from hpstudy.evaluation import audit_image_folder

    try:
        result = audit_image_folder(args.data_dir, max_distance=args.max_distance)
    except ImportError as exc:  # Pillow missing: the message says what to install
        print(f"hpstudy audit: error: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.table())
    return 0
