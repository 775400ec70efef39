"""The records a report is made of: one frozen record per section's data.

The section functions (``_data``, ``_stats``) fill them; the HTML page, the
figures and ``hpstudy analyze`` only read them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.trials import StopDecision

if TYPE_CHECKING:  # numpy, pandas and the stats results are imported only when used
    import numpy as np
    import pandas as pd

    from hpstudy.stats import BayesianComparison, CorrectedTTest, Importance, SelectionBias

__all__ = [
    "ComparisonData", "Curve", "CurvesData", "DistributionsData", "History", "ImportanceData",
    "ImportanceRow", "ModelScores", "ParamData", "ScoreMatrix", "Section",
    "SettingsData", "TopTrial", "degenerate", "duration_text", "interval_text", "param_text",
]


def duration_text(seconds: float | None) -> str:
    """A duration in words: ``"42 s"``, ``"3.5 min"``, ``"2.1 h"``."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def param_text(params: Mapping[str, Any]) -> str:
    """``"a=1, lr=0.001234"``: parameters with floats at 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


NO_INTERVAL = "could not be estimated"


def degenerate(interval: tuple[float, float] | None, scale: float = 1.0) -> bool:
    """True when an interval is missing, not finite, or of zero width.

    A zero-width bootstrap interval means every resample gave the same value
    (nothing to resample), not that the value is certain.
    """
    if interval is None:
        return True
    lo, hi = interval
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return True
    return hi - lo <= 1e-9 * max(abs(scale), abs(lo), abs(hi), 1e-300)


def interval_text(interval: tuple[float, float] | None, digits: int = 4) -> str:
    """``"0.91 to 0.93"``, or :data:`NO_INTERVAL` for a degenerate interval."""
    if interval is None or degenerate(interval):
        return NO_INTERVAL
    return f"{interval[0]:.{digits}g} to {interval[1]:.{digits}g}"


@attrs.frozen(kw_only=True)
class SettingsData:
    """The study's settings and status.

    Attributes
    ----------
    rows : tuple of (str, str)
        ``(label, value)`` rows: name, metric, method, folds, stopper, status...
    space : tuple of (str, str)
        ``(parameter, distribution in words)``.
    counts : dict of str to int
        Trials per state (``"running"``, ``"complete"``, ``"pruned"``, ``"failed"``).
    elapsed : float or None
        Seconds from the first trial's start to the latest event.
    """

    rows: tuple[tuple[str, str], ...]
    space: tuple[tuple[str, str], ...]
    counts: dict[str, int]
    elapsed: float | None


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


@attrs.frozen(kw_only=True)
class ParamData:
    """Trials' parameters and values, with how each parameter is scaled.

    ``frame`` has one column per parameter, then ``"value"`` (the trial's value:
    the last reported one for a pruned trial), ``"model"`` and ``"state"``.
    """

    frame: pd.DataFrame
    kinds: dict[str, str]  # parameter -> "linear", "log" or "categorical"
    metric: str
    model: str | None


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


@attrs.frozen(kw_only=True)
class CurvesData:
    """Learning curves drawn and every stopping decision ``(trial number, decision)``."""

    curves: tuple[Curve, ...]
    decisions: tuple[tuple[int, StopDecision], ...]
    n_trials: int  # trials that reported


@attrs.frozen(kw_only=True)
class ImportanceRow:
    """One parameter's share of the metric's variance, clipped to [0, 1]."""

    name: str
    share: float
    low: float
    high: float


@attrs.frozen(kw_only=True)
class ImportanceData:
    """Importance rows (the parameters by share, then ``"interactions"``) and the fit."""

    rows: tuple[ImportanceRow, ...]
    r2: float
    result: Importance


@attrs.frozen(kw_only=True)
class ModelScores:
    """One model's configurations (complete on every fold) and its best one."""

    means: np.ndarray  # each configuration's mean over folds
    numbers: np.ndarray
    best: int  # trial number of the best configuration
    best_folds: np.ndarray  # its score on each fold


@attrs.frozen(kw_only=True)
class DistributionsData:
    """Scores per model across folds."""

    models: dict[str, ModelScores]
    folds: tuple[tuple[int, int], ...]
    metric: str


@attrs.frozen(kw_only=True)
class ComparisonData:
    """Best vs runner-up: the two trials, the sentences, and the tests behind them."""

    best: tuple[int, float]  # (trial number, mean over folds)
    runner_up: tuple[int, float]
    sentences: tuple[str, ...]
    ttest: CorrectedTTest | None = None
    bayes: BayesianComparison | None = None
    selection: SelectionBias | None = None


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
        The section's record (:class:`History`, :class:`ParamData`...), or a
        stats result (:class:`hpstudy.stats.Decomposition`); None when empty.
    reason : str or None
        A sentence saying why the section is empty; None when ``data`` is set.
    notes : tuple of str
        Plain-words remarks shown under the section.
    """

    key: str
    title: str
    data: Any = None  # the record of this key; Any so that readers need not narrow it
    reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the section has data."""
        return self.reason is None
