"""The ``hpstudy`` command: run, resume, status, export.

Exit codes: 0 on success, 2 on bad input (the message goes to stderr), 1 on an
unexpected error.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
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
    export.add_argument("--reports", action="store_true",
                        help="the reported series: in JSON a 'reports' list per row; in CSV "
                             "one row per report (trial, fold, step, value)")
    _add_report_commands(sub)  # report, analyze, compare (hpstudy/report/cli.py)
    audit = sub.add_parser("audit", help="leakage audit of an image-folder data set: "
                           "augmented copies and near-duplicates within and across splits")
    audit.add_argument("data_dir", help="split folders ({train,valid,test}/<class>/) or <class>/")
    audit.add_argument("--max-distance", type=int, default=8,
                       help="largest pHash distance (of 64 bits) counted as the same photo")
    audit.add_argument("--format", choices=["text", "json"], default="text")
    return p


def _run_study(study, planned: int | None, jobs: int) -> int:
    objective = load_callable(study.annotations.get("objective") or "", "objective")
    created = len(study.trials)
    n_new = None if planned is None else max(0, planned - created)
    if n_new is None and study.run_cap is None and study.meta.get("optimizer") != "grid":
        raise ConfigError("--trials: give the number of trials (the sweep has no run_cap)")
    study.run(objective, n_trials=n_new, n_jobs=jobs)
    print(_status_text(study, planned))
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
    rows = _export_rows(study.trials, study.metric, folds=args.folds,
                        reports=args.reports and args.format == "json")
    if args.format == "json":
        text = json.dumps(rows, indent=2, default=_plain_json) + "\n"  # floats as repr: exact
    elif args.reports:
        header = ["trial", "fold", "step", "value"]
        text = _csv_text(header, [{"trial": t.number, "fold": r.fold, "step": r.step,
                                   "value": r.value} for t in study.trials for r in t.reports])
    else:
        header = list(dict.fromkeys(k for row in rows for k in row))
        text = _csv_text(header, rows)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def _export_rows(trials, metric: str, *, folds: bool, reports: bool) -> list[dict[str, Any]]:
    """One dict per trial (or fold result) holding the stored values themselves.

    Not through pandas: a DataFrame turns the ints of a mixed column into floats
    and prints floats rounded; these rows keep every value exactly as stored.
    """
    rows: list[dict[str, Any]] = []
    for t in trials:
        base: dict[str, Any] = {"number": t.number, "state": t.state.value}
        base.update({f"params.{k}": v for k, v in t.params.items()})
        if not folds:
            row = dict(base, value=t.value)
            row.update({f"metrics.{k}": v for k, v in t.metrics.items()})
            row.update(seed=t.seed, duration=t.duration, n_reports=len(t.reports), error=t.error)
            if reports:
                row["reports"] = [_report(r) for r in t.reports]
            rows.append(row)
            continue
        for f in t.folds:
            row = dict(base, fold=f.fold, repeat=f.repeat, fold_seed=f.seed,
                       fold_state=f.state.value, value=f.metrics.get(metric))
            row.update({f"metrics.{k}": v for k, v in f.metrics.items()})
            row.update(duration=f.duration, error=f.error)
            if reports:
                row["reports"] = [_report(r) for r in t.reports if r.fold == f.fold]
            rows.append(row)
    return rows


def _report(r) -> dict[str, Any]:
    return {"step": r.step, "value": r.value, "fold": r.fold}


def _csv_text(header: list[str], rows: list[dict[str, Any]]) -> str:
    """CSV whose cells read back exactly: floats as ``repr``, ints as ints, None empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in header])
    return buf.getvalue()


def _plain_json(value: Any) -> Any:
    """Read-only mappings (frozen trial records) as dicts, for ``json.dumps``."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot export a {type(value).__name__} as JSON")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, default=_plain_json)


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


_COMMANDS = {"run": _cmd_run, "resume": _cmd_resume, "status": _cmd_status, "export": _cmd_export,
             "audit": _cmd_audit, **_REPORT_HANDLERS}


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
