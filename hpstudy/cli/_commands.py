"""The subcommands run, resume, status, check and audit, and the parser of them all
(confirm: :mod:`._confirm`; export: :mod:`._export`; report, analyze, compare:
:mod:`hpstudy.report.cli`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from hpstudy.cli._code import _make_folds, _stored_study_code, load_callable
from hpstudy.cli._confirm import _add_confirm_command, _cmd_confirm
from hpstudy.cli._files import _open, _reading, _require_file
from hpstudy.cli._options import (
    MAX_JOBS,
    MAX_SEED,
    MAX_TRIALS,
    _add_control_options,
    _add_dask_option,
    _dask_client,
    _int_option,
    _Parser,
)
from hpstudy.cli._output import _emit
from hpstudy.errors import ConfigError, StorageError
from hpstudy.report.cli import add_commands as _add_report_commands
from hpstudy.trials import TrialState

__all__ = ["MAX_JOBS", "MAX_SEED", "MAX_TRIALS", "_cmd_audit", "_cmd_check", "_cmd_confirm",
           "_cmd_resume", "_cmd_run", "_cmd_status", "_parser", "load_callable"]


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
    run.add_argument("--balance", default=None, metavar="PARAM",
                     help="a categorical parameter whose values get as many trials (random, "
                          "grid) or complete configurations (bayes); overrides the sweep's "
                          "balance key; stored with the study")
    _add_control_options(run, "default: the sweep's key of that name, else no limit")
    _add_dask_option(run)
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
    _add_control_options(resume, "default: as the study was run")
    _add_dask_option(resume)
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


def _run_study(study, planned: int | None, jobs: int, objective: Callable[..., Any],
               args: argparse.Namespace) -> int:
    created = len(study.trials)
    n_new = None if planned is None else max(0, planned - created)
    if n_new is None and study.run_cap is None and study.meta.get("optimizer") != "grid":
        raise ConfigError("--trials: give the number of trials (the sweep has no run_cap)")
    with _dask_client(args.dask) as client:
        study.run(objective, n_trials=n_new, n_jobs=None if client and jobs == 1 else jobs,
                  client=client, trial_timeout=args.trial_timeout, max_failures=args.max_failures)
    _emit(_status_text(study, planned))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hpstudy.study import Study
    from hpstudy.sweep import Sweep

    objective = load_callable(args.objective, "objective")  # fail early, before the storage
    folds = _make_folds(args.folds) if args.folds else None
    sweep = Sweep.from_yaml(args.config)
    if args.balance is not None:  # checked as the sweep's key is (ConfigError naming balance)
        import attrs

        sweep = attrs.evolve(sweep, balance=args.balance)
    balanced: dict[str, Any] = {}
    if sweep.balance is not None:
        from hpstudy.optimizers import make_optimizer

        balanced["optimizer"] = make_optimizer(sweep.method, balance=sweep.balance)
    annotations = {"objective": args.objective, "planned_trials": args.trials,
                   "folds_factory": args.folds, "config": os.fspath(args.config),
                   # what resume runs with, unless given again
                   "trial_timeout": args.trial_timeout or sweep.trial_timeout,
                   "max_failures": args.max_failures or sweep.max_failures}
    def create() -> Any:
        return Study.from_sweep(sweep, storage=args.storage, seed=args.seed, folds=folds,
                                annotations=annotations, **balanced)

    # an existing file is read first (to continue its study): it may be damaged
    study = _reading(args.storage, create) if os.path.exists(args.storage) else create()
    return _run_study(study, args.trials, args.jobs, objective, args)


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
    for key in ("trial_timeout", "max_failures"):  # as the study was run, unless given
        if getattr(args, key) is None and notes.get(key) is not None:
            setattr(args, key, notes[key])
    return _run_study(study, planned, args.jobs, objective, args)


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

    _require_file(args.storage)
    # status_text reads the lease: whether the coordinator lives, or its trials will re-run
    _emit(_reading(args.storage, lambda: status_text(args.storage)))
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
