"""The tables behind each section of a report: pure functions of a study's trials.

Every function returns a :class:`Section`: its data, or the sentence saying why
it cannot be computed (zero trials, all failed, no folds, no reports...). The
HTML page, the figures and ``hpstudy analyze`` all render these records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from hpstudy.report._records import (
    Curve,
    CurvesData,
    History,
    ParamData,
    ScoreMatrix,
    Section,
    TopTrial,
)
from hpstudy.trials import Trial, Trials, TrialState

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_CURVES", "curves_section", "detect_model", "history_section", "mean_interval",
    "params_section", "score_matrix", "top_section",
]

MAX_CURVES = 400  # learning curves drawn at most (the best and the stopped ones first)


def detect_model(trials: Trials, model: str | None = "auto") -> str | None:
    """The architecture parameter, by :func:`hpstudy.stats.model_parameter`'s rule."""
    from hpstudy.stats import model_parameter

    return model_parameter(trials, model)


def finite(v: object) -> TypeGuard[float]:
    """True for an int or float (not bool) that is finite; narrows ``v`` to float."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------ history
def history_section(trials: Trials) -> Section:
    """Optimisation history: values, states, elapsed time and the best-so-far line."""
    title = "Optimisation history"
    if not len(trials):
        return Section(key="history", title=title, reason="The study has no trials yet.")
    starts = [t.started_at for t in trials if t.started_at is not None]
    t0 = min(starts) if starts else 0.0
    sign = trials.goal.sign
    values, elapsed, best, cur = [], [], [], -math.inf
    for t in trials:
        v = t.value if finite(t.value) else math.nan
        values.append(v)
        elapsed.append(t.finished_at - t0 if t.finished_at is not None else math.nan)
        if t.state is TrialState.COMPLETE and finite(t.value):
            cur = max(cur, sign * t.value)
        best.append(sign * cur if math.isfinite(cur) else math.nan)
    data = History(numbers=np.array([t.number for t in trials]),
                   states=tuple(t.state.value for t in trials), values=np.array(values, float),
                   elapsed=np.array(elapsed, float), best_so_far=np.array(best, float),
                   goal=trials.goal.value, metric=trials.metric)
    notes: tuple[str, ...] = ()
    n_failed = len(trials.with_state(TrialState.FAILED))
    if n_failed:
        notes = (f"{n_failed} failed trial(s) have no value and are marked below the axis.",)
    return Section(key="history", title=title, data=data, notes=notes)


# ------------------------------------------------------------------ parameters
def _kind(name: str, column: pd.Series, space: Mapping[str, Any]) -> str:
    import pandas as pd

    spec = space.get(name) or {}
    if "values" in spec or not pd.api.types.is_numeric_dtype(column) \
            or pd.api.types.is_bool_dtype(column):
        return "categorical"
    if "log" in str(spec.get("distribution", "")):
        return "log"
    return "linear"


def params_section(trials: Trials, space: Mapping[str, Any] | None = None,
                   model: str | None = None) -> Section:
    """Parameters of the COMPLETE and PRUNED trials against their value.

    Every parameter of the space (or seen in a trial) gets an axis, even one
    that happens to take a single value among these trials. A pruned trial's
    value is its last reported one (at an earlier step than a complete trial's).
    """
    import pandas as pd

    title = "Parameters against the metric"
    drawn = [t for t in trials.with_state(TrialState.COMPLETE, TrialState.PRUNED)
             if finite(t.value)]
    if not drawn:
        return Section(key="params", title=title,
                       reason="No trial completed or was stopped with a finite value, so there "
                              "is nothing to plot.")
    names = list(dict.fromkeys([*(space or {}), *(k for t in drawn for k in t.params)]))
    frame = pd.DataFrame([{k: t.params.get(k) for k in names} for t in drawn], columns=names)
    names = [c for c in names if frame[c].notna().any()]
    if not names:
        return Section(key="params", title=title, reason="The trials have no parameters.")
    kinds = {c: _kind(c, frame[c], space or {}) for c in names}
    out = frame[names].copy()
    out["value"] = [float(t.value) for t in drawn if finite(t.value)]
    out["model"] = [str(t.params.get(model, "all")) if model else "all" for t in drawn]
    out["state"] = [t.state.value for t in drawn]
    notes = []
    n_pruned = int((out["state"] == "pruned").sum())
    if n_pruned:
        notes.append(f"{n_pruned} of the {len(drawn)} trials drawn were stopped early: they are "
                     "grey, at their last reported value (taken at an earlier step, so usually "
                     "worse than they would have ended).")
    return Section(key="params", title=title, notes=tuple(notes),
                   data=ParamData(frame=out, kinds=kinds, metric=trials.metric, model=model))


# ------------------------------------------------------------------ score matrix
def _fold_values(t: Trial, metric: str) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for f in t.folds:
        v = f.metrics.get(metric)
        if f.state is TrialState.COMPLETE and finite(v):
            out[(f.repeat, f.fold)] = float(v)
    return out


def score_matrix(trials: Trials) -> ScoreMatrix:
    """The complete trials that have a finite value on every fold, as a matrix."""
    per = {t.number: _fold_values(t, trials.metric) for t in trials.complete}
    keys = sorted({k for v in per.values() for k in v})
    rows = [(n, v) for n, v in per.items() if v and all(k in v for k in keys)]
    scores = np.array([[v[k] for k in keys] for _, v in rows], float).reshape(len(rows), len(keys))
    return ScoreMatrix(scores=scores, numbers=np.array([n for n, _ in rows], int),
                       folds=tuple(keys), dropped=len(per) - len(rows))


# ------------------------------------------------------------------ top trials
def mean_interval(values: np.ndarray, ratio: float | None,
                  confidence: float = 0.95) -> tuple[float, float] | None:
    """Interval of a mean over folds: Nadeau-Bengio corrected t (``1/J + ratio``)."""
    from scipy import stats

    v = np.asarray(values, float)
    if v.size < 2:
        return None
    se = math.sqrt((1 / v.size + (ratio or 0.0)) * float(v.var(ddof=1)))
    q = float(stats.t.ppf(1 - (1 - confidence) / 2, v.size - 1))
    m = float(v.mean())
    return (m - q * se, m + q * se)


def top_section(trials: Trials, k: int = 10, confidence: float = 0.95) -> Section:
    """The ``k`` best COMPLETE trials with per-fold values and an interval per mean."""
    title = f"Top {k} trials"
    done = [(float(t.value), t) for t in trials.complete if finite(t.value)]
    if not done:
        return Section(key="top", title=title, reason="No trial completed with a finite value.")
    matrix = score_matrix(trials)
    ratio = matrix.test_train_ratio
    ranked = sorted(done, key=lambda p: (-trials.goal.sign * p[0], p[1].number))[:k]
    rows = []
    for i, (value, t) in enumerate(ranked, 1):
        fv = _fold_values(t, trials.metric)
        vals = np.array([fv[key] for key in sorted(fv)], float)
        rows.append(TopTrial(rank=i, number=t.number, value=value,
                             interval=mean_interval(vals, ratio, confidence),
                             folds=tuple(vals.tolist()), params=dict(t.params), duration=t.duration))
    how = ("corrected for overlapping training sets (Nadeau & Bengio)" if ratio
           else "plain t over the folds")
    notes = (f"Each mean is over the trial's folds; the {confidence:.0%} interval is a t-interval "
             f"{how}. One fold gives no interval.",)
    return Section(key="top", title=title, data=tuple(rows), notes=notes)


# ------------------------------------------------------------------ learning curves
def curves_section(trials: Trials, model: str | None = None, limit: int = MAX_CURVES) -> Section:
    """Learning curves (every report, per fold) and the stopper's decisions."""
    title = "Learning curves and early stopping"
    with_reports = [t for t in trials if t.reports]
    if not with_reports:
        return Section(key="curves", title=title,
                       reason="No trial reported intermediate values (ctx.report), so there "
                              "are no learning curves and no early-stopping decisions.")
    goal = trials.goal
    decisions = tuple((t.number, d) for t in with_reports for d in t.decisions)
    stopped = {t.number for t in with_reports if any(d.stop for d in t.decisions)}

    def rank(t: Trial) -> tuple[bool, float]:
        v = float(t.value) if finite(t.value) else -goal.sign * math.inf
        return (t.number not in stopped, -goal.sign * v)

    chosen = sorted(with_reports, key=rank)[:limit] if len(with_reports) > limit else with_reports
    curves = []
    for t in sorted(chosen, key=lambda t: t.number):
        label = str(t.params.get(model, "all")) if model else "all"
        for fold in dict.fromkeys(r.fold for r in t.reports):
            reps = [r for r in t.reports if r.fold == fold]
            stop = next((d.step for d in t.decisions if d.stop and d.fold == fold), None)
            curves.append(Curve(number=t.number, fold=fold,
                                steps=np.array([r.step for r in reps], float),
                                values=np.array([r.value for r in reps], float),
                                state=t.state.value, model=label, stopped_at=stop))
    notes = []
    if len(with_reports) > limit:
        notes.append(f"{len(with_reports)} trials reported; the {limit} drawn are the stopped "
                     "ones and the best of the rest.")
    n_stop = sum(1 for _, d in decisions if d.stop)
    if decisions:
        notes.append(f"The stopper took {len(decisions)} decisions; {n_stop} of them stopped "
                     "a trial (red crosses; the black dash is the threshold it missed).")
    data = CurvesData(curves=tuple(curves), decisions=decisions, n_trials=len(with_reports))
    return Section(key="curves", title=title, data=data, notes=tuple(notes))
