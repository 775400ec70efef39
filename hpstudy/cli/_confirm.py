"""``hpstudy confirm``: the search's best configurations re-run without pruning, on the
same folds with seed repeats, into the study file's confirm phase."""

from __future__ import annotations

import argparse
from typing import Any

from hpstudy.cli._code import _stored_study_code
from hpstudy.cli._files import _open, _reading
from hpstudy.cli._options import MAX_JOBS, MAX_SEEDS, MAX_TRIALS, _int_option
from hpstudy.cli._output import _emit
from hpstudy.errors import ConfigError


def _add_confirm_command(sub: Any) -> None:
    confirm = sub.add_parser(
        "confirm", help="re-evaluate the best configurations without pruning, on the same "
        "folds with seed repeats, into the study file's confirm phase (resumes if interrupted)")
    confirm.add_argument("storage", help="the study's SQLite file")
    confirm.add_argument("--top", type=_int_option(1, MAX_TRIALS), default=3,
                         help="configurations to confirm (per model value with --per-model)")
    confirm.add_argument("--per-model", default=None, metavar="PARAM",
                         help="confirm the best --top of each value of this parameter")
    confirm.add_argument("--seeds", type=_int_option(1, MAX_SEEDS), default=1,
                         help=f"initialisation seeds per split (1 to {MAX_SEEDS})")
    confirm.add_argument("--jobs", type=_int_option(1, MAX_JOBS), default=1,
                         help=f"parallel worker processes (1 to {MAX_JOBS})")
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
    import warnings

    from hpstudy.stats import analyze

    try:
        with warnings.catch_warnings(record=True) as warned:  # printed below, escaped
            warnings.simplefilter("always", UserWarning)
            lines.append(analyze(trials).summary())
    except ConfigError as exc:
        lines.append(f"no analysis: {exc}")
    lines.extend(f"warning: {w.message}" for w in warned if issubclass(w.category, UserWarning))
    lines.append(f"read it from Python: hpstudy.Study.load_confirm({args.storage!r}).trials")
    lines.append(f"its report: hpstudy report {args.storage} --phase confirm")
    _emit("\n".join(lines))
    return 0
