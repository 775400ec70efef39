"""The tables behind each section of a report: pure functions of a study's trials.

Every function returns a :class:`Section`: its data, or the sentence saying why
it cannot be computed (zero trials, all failed, no folds, no reports...). The
HTML page, the figures and ``hpstudy analyze`` all render these records.
"""

from __future__ import annotations

import math
import time
from typing import Any

import attrs
import numpy as np

from hpstudy.report._load import StudyRecord
from hpstudy.trials import Trial, Trials, TrialState

__all__ = [
    "Curve", "History", "ParamData", "ScoreMatrix", "Section", "TopTrial", "curves_section",
    "detect_model", "duration_text", "param_text", "history_section", "params_section", "score_matrix",
    "settings_section", "top_section",
]

MAX_CURVES = 400  # learning curves drawn at most (the best and the stopped ones first)


@attrs.frozen(kw_only=True)
class Section:
    """One part of a report: its data, or why it could not be computed.

    Attributes
    ----------
    key : str
        Stable identifier (``"history"``, ``"importance"``...).
    title : str
        Heading shown to the reader.
    data : object
        The section's numbers (a record of this module, or a stats result).
    reason : str or None
        A sentence saying why the section is empty; None when ``data`` is set.
    notes : tuple of str
        Plain-words remarks shown under the section.
    """

    key: str
    title: str
    data: Any = None
    reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the section has data."""
        return self.reason is None


def duration_text(seconds: float | None) -> str:
    """A duration in words: ``"42 s"``, ``"3.5 min"``, ``"2.1 h"``."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def param_text(params: dict[str, Any]) -> str:
    """``"a=1, lr=0.001234"``: parameters with floats at 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def detect_model(trials: Trials, model: str | None = "model_name") -> str | None:
    """``model`` when some trial has that parameter, else None (a single architecture)."""
    if model is None:
        return None
    return model if any(model in t.params for t in trials) else None


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------ settings
def _space_text(spec: Any) -> str:
    if not isinstance(spec, dict):
        return str(spec)
    if "values" in spec:
        return "one of " + ", ".join(str(v) for v in spec["values"])
    if "value" in spec:
        return f"fixed at {spec['value']}"
    dist = str(spec.get("distribution", "uniform"))
    if "min" in spec and "max" in spec:
        dist += f" from {spec['min']} to {spec['max']}"
    rest = ", ".join(f"{k} {v}" for k, v in spec.items() if k not in ("distribution", "min", "max"))
    return f"{dist} ({rest})" if rest else dist


def _folds_text(folds: dict | None) -> str:
    if not folds:
        return "none: one evaluation per trial (no folds)"
    d = folds.get("describe") or {}
    parts = [str(d.get("kind", "folds"))]
    if d.get("n_splits") is not None:
        parts.append(f"{d['n_splits']} splits x {d.get('n_repeats', 1)} repeat(s) x "
                     f"{d.get('n_seeds', 1)} seed(s) = {d.get('n_tasks', '?')} tasks")
    if d.get("n_samples") is not None:
        parts.append(f"{d['n_samples']} samples")
    for key in ("stratified", "groups", "n_groups", "splitter"):
        if d.get(key) not in (None, False):
            parts.append(f"{key} {d[key]}")
    if d.get("seed") is not None:
        parts.append(f"seed {d['seed']}")
    return ", ".join(parts)


def _stopper_text(settings: dict, trials: Trials) -> str:
    et = settings.get("early_terminate")
    if et:
        kind = et.get("type", "?")
        rest = ", ".join(f"{k}={v}" for k, v in et.items() if k != "type")
        return f"{kind} ({rest})" if rest else str(kind)
    rules = sorted({d.rule for t in trials for d in t.decisions})
    if rules:
        return "a stopper given in Python (rules seen: " + ", ".join(rules) + ")"
    return "none: every trial runs to its end"


def settings_section(record: StudyRecord, *, stale_after: float = 600.0) -> Section:
    """The study's settings and status as ``(label, value)`` rows, plus the space rows."""
    s, trials = record.settings, record.trials
    counts = {st.value: len(trials.with_state(st)) for st in TrialState}
    starts = [t.started_at for t in trials if t.started_at is not None]
    elapsed = (record.last_event_at - min(starts)) if starts and record.last_event_at else None
    status = f"{len(trials)} trials: " + ", ".join(f"{n} {k}" for k, n in counts.items())
    if counts["running"] and record.last_event_at is not None:
        idle = record.read_at - record.last_event_at
        if idle > stale_after:
            status += (f"; no event for {duration_text(idle)}: the run has probably stopped "
                       "(resume it to finish the running trials)")
    goal = trials.goal.value
    rows = [("study", record.name), ("read from", record.source),
            ("metric", f"{trials.metric} ({goal})")]
    if s:
        rows += [("search method", str(s.get("optimizer", "?"))), ("seed", str(s.get("seed", "?"))),
                 ("folds", _folds_text(s.get("folds")))]
        fp = (s.get("folds") or {}).get("fingerprint")
        rows.append(("data fingerprint", f"{fp[:16]}... (SHA-256 of the folds)" if fp else "none"))
    rows.append(("early stopping", _stopper_text(s, trials)))
    for key, label in (("run_cap", "run cap"), ("target", "target")):
        if s.get(key) is not None:
            rows.append((label, str(s[key])))
    rows += [("status", status), ("elapsed", duration_text(elapsed)),
             ("report written", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.read_at)))]
    if s.get("hpstudy_version"):
        rows.append(("hpstudy version", str(s["hpstudy_version"])))
    space = s.get("space") or {}
    if not space and len(trials):
        names = dict.fromkeys(k for t in trials for k in t.params)
        space = {k: {"distribution": "(not stored)"} for k in names}
    data = {"rows": rows, "space": [(k, _space_text(v)) for k, v in space.items()],
            "counts": counts, "elapsed": elapsed}
    return Section(key="settings", title="Study settings and status", data=data)


# ------------------------------------------------------------------ history
@attrs.frozen(kw_only=True)
class History:
    """Per-trial arrays in trial-number order (values NaN where missing)."""

    numbers: np.ndarray
    states: tuple[str, ...]
    values: np.ndarray
    elapsed: np.ndarray  # seconds from the study's first start to the trial's end (NaN: running)
    best_so_far: np.ndarray  # best COMPLETE value among trials up to this number
    goal: str
    metric: str


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
        v = t.value if _finite(t.value) else math.nan
        values.append(v)
        elapsed.append(t.finished_at - t0 if t.finished_at is not None else math.nan)
        if t.state is TrialState.COMPLETE and _finite(t.value):
            cur = max(cur, sign * t.value)
        best.append(sign * cur if math.isfinite(cur) else math.nan)
    data = History(numbers=np.array([t.number for t in trials]),
                   states=tuple(t.state.value for t in trials), values=np.array(values, float),
                   elapsed=np.array(elapsed, float), best_so_far=np.array(best, float),
                   goal=trials.goal.value, metric=trials.metric)
    notes = ()
    n_failed = len(trials.with_state(TrialState.FAILED))
    if n_failed:
        notes = (f"{n_failed} failed trial(s) have no value and are marked below the axis.",)
    return Section(key="history", title=title, data=data, notes=notes)


# ------------------------------------------------------------------ parameters
@attrs.frozen(kw_only=True)
class ParamData:
    """Complete trials' parameters and values, with how each parameter is scaled."""

    frame: Any  # pandas DataFrame: one column per parameter, then "value" and "model"
    kinds: dict[str, str]  # parameter -> "linear", "log" or "categorical"
    metric: str
    model: str | None


def _kind(name: str, column, space: dict) -> str:
    import pandas as pd

    spec = space.get(name) or {}
    if "values" in spec or not pd.api.types.is_numeric_dtype(column) \
            or pd.api.types.is_bool_dtype(column):
        return "categorical"
    if "log" in str(spec.get("distribution", "")):
        return "log"
    return "linear"


def params_section(trials: Trials, space: dict | None = None, model: str | None = None) -> Section:
    """Parameters of the COMPLETE trials against their value (parallel coordinates, slices)."""
    import pandas as pd

    title = "Parameters against the metric"
    done = [t for t in trials.complete if _finite(t.value)]
    if not done:
        return Section(key="params", title=title,
                       reason="No trial completed with a finite value, so there is nothing to plot.")
    frame = pd.DataFrame([t.params for t in done])
    varying = [c for c in frame.columns if frame[c].astype(str).nunique() > 1]
    if not varying:
        return Section(key="params", title=title,
                       reason="No parameter varies across the completed trials.")
    kinds = {c: _kind(c, frame[c], space or {}) for c in varying}
    out = frame[varying].copy()
    out["value"] = [t.value for t in done]
    out["model"] = [str(t.params.get(model, "all")) if model else "all" for t in done]
    return Section(key="params", title=title,
                   data=ParamData(frame=out, kinds=kinds, metric=trials.metric, model=model))


# ------------------------------------------------------------------ score matrix
@attrs.frozen(kw_only=True)
class ScoreMatrix:
    """Completed configurations x folds: ``scores[i, j]`` is trial ``numbers[i]`` on ``folds[j]``."""

    scores: np.ndarray
    numbers: np.ndarray
    folds: tuple[tuple[int, int], ...]  # (repeat, fold)
    dropped: int  # COMPLETE trials without a value on every fold

    @property
    def test_train_ratio(self) -> float | None:
        """``1 / (k - 1)`` for k folds per repeat (None for one fold per repeat)."""
        per: dict[int, int] = {}
        for r, _ in self.folds:
            per[r] = per.get(r, 0) + 1
        k = min(per.values()) if per else 0
        return 1.0 / (k - 1) if k >= 2 else None


def _fold_values(t: Trial, metric: str) -> dict[tuple[int, int], float]:
    return {(f.repeat, f.fold): float(f.metrics[metric]) for f in t.folds
            if f.state is TrialState.COMPLETE and _finite(f.metrics.get(metric))}


def score_matrix(trials: Trials) -> ScoreMatrix:
    """The complete trials that have a finite value on every fold, as a matrix."""
    per = {t.number: _fold_values(t, trials.metric) for t in trials.complete}
    keys = sorted({k for v in per.values() for k in v})
    rows = [(n, v) for n, v in per.items() if v and all(k in v for k in keys)]
    scores = np.array([[v[k] for k in keys] for _, v in rows], float).reshape(len(rows), len(keys))
    return ScoreMatrix(scores=scores, numbers=np.array([n for n, _ in rows], int),
                       folds=tuple(keys), dropped=len(per) - len(rows))


# ------------------------------------------------------------------ top trials
@attrs.frozen(kw_only=True)
class TopTrial:
    """One row of the top-trials table."""

    rank: int
    number: int
    value: float
    interval: tuple[float, float] | None
    folds: tuple[float, ...]
    params: dict[str, Any]
    duration: float | None


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
    done = [t for t in trials.complete if _finite(t.value)]
    if not done:
        return Section(key="top", title=title, reason="No trial completed with a finite value.")
    matrix = score_matrix(trials)
    ratio = matrix.test_train_ratio
    ranked = sorted(done, key=lambda t: (-trials.goal.sign * t.value, t.number))[:k]
    rows = []
    for i, t in enumerate(ranked, 1):
        fv = _fold_values(t, trials.metric)
        vals = np.array([fv[key] for key in sorted(fv)], float)
        rows.append(TopTrial(rank=i, number=t.number, value=float(t.value),
                             interval=mean_interval(vals, ratio, confidence),
                             folds=tuple(vals.tolist()), params=dict(t.params), duration=t.duration))
    how = ("corrected for overlapping training sets (Nadeau & Bengio)" if ratio
           else "plain t over the folds")
    notes = (f"Each mean is over the trial's folds; the {confidence:.0%} interval is a t-interval "
             f"{how}. One fold gives no interval.",)
    return Section(key="top", title=title, data=tuple(rows), notes=notes)


# ------------------------------------------------------------------ learning curves
@attrs.frozen(kw_only=True)
class Curve:
    """The reports of one fold of one trial."""

    number: int
    fold: int | None
    steps: np.ndarray
    values: np.ndarray
    state: str
    model: str
    stopped_at: int | None  # step of the decision that stopped this fold


def curves_section(trials: Trials, model: str | None = None, limit: int = MAX_CURVES) -> Section:
    """Learning curves (every report, per fold) and the stopper's decisions."""
    title = "Learning curves and early stopping"
    with_reports = [t for t in trials if t.reports]
    if not with_reports:
        return Section(key="curves", title=title,
                       reason="No trial reported intermediate values (ctx.report), so there "
                              "are no learning curves and no early-stopping decisions.")
    goal = trials.goal
    decisions = [(t.number, d) for t in with_reports for d in t.decisions]
    stopped = {t.number for t in with_reports if any(d.stop for d in t.decisions)}

    def rank(t: Trial) -> tuple:
        v = t.value if _finite(t.value) else -goal.sign * math.inf
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
    notes.append(f"{len(decisions)} stopping decisions recorded, {n_stop} of them stopped a trial.")
    data = {"curves": tuple(curves), "decisions": tuple(decisions), "n_trials": len(with_reports)}
    return Section(key="curves", title=title, data=data, notes=tuple(notes))

