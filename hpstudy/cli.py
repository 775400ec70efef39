"""The ``hpstudy`` command: run, resume, status, export.

Exit codes: 0 on success, 2 on bad input (the message goes to stderr), 1 on an
unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hpstudy.errors import ConfigError, HpstudyError, StorageError
from hpstudy.report.cli import HANDLERS as _REPORT_HANDLERS
from hpstudy.report.cli import add_commands as _add_report_commands
from hpstudy.trials import TrialState

__all__ = ["main"]


def load_callable(spec: str, what: str = "objective") -> Callable[..., Any]:
    """Import ``MODULE:FUNCTION`` (or ``path/to/file.py:FUNCTION``)."""
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"--{what}: must be MODULE:FUNCTION (got {spec!r})")
    module_name, attr = spec.split(":")
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        if not path.is_file():
            raise ConfigError(f"--{what}: no such file {module_name!r}")
        sys.path.insert(0, str(path.parent))  # spawned workers inherit sys.path
        module_name = path.stem
    elif "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--{what}: cannot import module {module_name!r} ({exc})") from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise ConfigError(f"--{what}: module {module_name!r} has no function {attr!r}")
    return func


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hpstudy", description="Hyperparameter studies you can trust.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start (or continue) a study from a W&B sweep YAML file")
    run.add_argument("config", help="sweep configuration (W&B YAML format)")
    run.add_argument("--objective", required=True, help="MODULE:FUNCTION taking (params, ctx)")
    run.add_argument("--storage", required=True, help="SQLite file of the study")
    run.add_argument("--trials", type=int, default=None, help="total trials the study should have")
    run.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    run.add_argument("--seed", type=int, default=0, help="the study's seed")
    run.add_argument("--folds", default=None, help="MODULE:FUNCTION returning hpstudy Folds")
    resume = sub.add_parser("resume", help="continue a stopped or crashed study")
    resume.add_argument("storage")
    resume.add_argument("--trials", type=int, default=None, help="total trials (default: as planned)")
    resume.add_argument("--jobs", type=int, default=1)
    status = sub.add_parser("status", help="show a study's progress (safe while it runs)")
    status.add_argument("storage")
    export = sub.add_parser("export", help="write a study's trials as CSV or JSON")
    export.add_argument("storage")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--output", default="-", help="file to write (default: stdout)")
    export.add_argument("--folds", action="store_true", help="one row per fold result")
    _add_report_commands(sub)  # report, analyze, compare (hpstudy/report/cli.py)
    return p


def _run_study(study, planned: int | None, jobs: int) -> int:
    objective = load_callable(study.annotations.get("objective") or "", "objective")
    created = len(study.trials)
    n_new = None if planned is None else max(0, planned - created)
    if n_new is None and study.run_cap is None and study.meta.get("optimizer") != "grid":
        raise ConfigError("--trials: give the number of trials (the sweep has no run_cap)")
    study.run(objective, n_trials=n_new, n_jobs=jobs)
    print(_status_text(study))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hpstudy.study import Study
    from hpstudy.sweep import Sweep

    load_callable(args.objective, "objective")  # fail early, before creating the storage
    folds = load_callable(args.folds, "folds")() if args.folds else None
    sweep = Sweep.from_yaml(args.config)
    annotations = {"objective": args.objective, "planned_trials": args.trials,
                   "folds_factory": args.folds, "config": os.fspath(args.config)}
    study = Study.from_sweep(sweep, storage=args.storage, seed=args.seed, folds=folds,
                             annotations=annotations)
    return _run_study(study, args.trials, args.jobs)


def _open(path: str):
    from hpstudy.storage import SQLiteStorage

    if not os.path.isfile(path):
        raise StorageError(f"storage {path!r}: no such file")
    return SQLiteStorage(path)


def _cmd_resume(args: argparse.Namespace) -> int:
    from hpstudy.study import Study

    store = _open(args.storage)
    notes = store.load_meta().get("annotations") or {}
    if not notes.get("objective"):
        raise ConfigError(f"storage {args.storage!r}: was not started by `hpstudy run`; "
                          "resume it from Python with Study.load(...).run(objective)")
    folds = load_callable(notes["folds_factory"], "folds")() if notes.get("folds_factory") else None
    study = Study.load(store, folds=folds)
    planned = args.trials if args.trials is not None else notes.get("planned_trials")
    return _run_study(study, planned, args.jobs)


def _status_text(study) -> str:
    trials = study.trials
    counts = {s: len(trials.with_state(s)) for s in TrialState}
    planned = study.annotations.get("planned_trials") or study.run_cap
    lines = [f"study {study.name!r}: {len(trials)} trials"
             + (f" of {planned} planned" if planned else ""),
             "  " + ", ".join(f"{s.value} {n}" for s, n in counts.items())]
    best = trials.best()
    if best is not None:
        lines.append(f"  best: trial {best.number}, {study.metric} = {best.value:.6g} "
                     f"({study.goal.value})")
        lines.extend(f"    {k} = {v!r}" for k, v in best.params.items())
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    from hpstudy.study import Study

    store = _open(args.storage)
    meta = store.load_meta()
    study = Study.load(store, folds=_FoldsStub(meta) if meta.get("folds") else None,
                       optimizer="random")
    print(_status_text(study))
    return 0


class _FoldsStub:
    """Stands for the stored folds when only reading a study (status, export)."""

    def __init__(self, meta: dict) -> None:
        self._meta = meta["folds"]

    def describe(self) -> dict:
        return self._meta["describe"]

    def fingerprint(self) -> str:
        return self._meta["fingerprint"]


def _cmd_export(args: argparse.Namespace) -> int:
    from hpstudy.study import Study

    store = _open(args.storage)
    meta = store.load_meta()
    study = Study.load(store, folds=_FoldsStub(meta) if meta.get("folds") else None,
                       optimizer="random")
    frame = study.trials.to_frame(folds=args.folds)
    if args.format == "csv":
        text = frame.to_csv(index=False)
    else:
        text = json.dumps(json.loads(frame.to_json(orient="records")), indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


_COMMANDS = {"run": _cmd_run, "resume": _cmd_resume, "status": _cmd_status, "export": _cmd_export,
             **_REPORT_HANDLERS}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hpstudy`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ConfigError, StorageError) as exc:
        print(f"hpstudy {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except HpstudyError as exc:
        print(f"hpstudy {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
