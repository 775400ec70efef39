"""The winner's curse: bias-corrected performance of the selected configuration.

Choosing the best of many configurations scored on the same folds picks, in
part, the one that was lucky on those folds: its score is optimistic. BBC-CV
(bootstrap bias-corrected cross-validation; Tsamardinos, Greasidou &
Borboudakis 2018, *Machine Learning* 107:1895-1922) estimates the
performance of the *selection procedure* without extra training:

for ``b = 1..B``: draw the columns (folds, or test items) with replacement;
select the best configuration on the drawn (in-bag) columns; score it on the
columns not drawn (out-of-bag). The BBC estimate is the mean out-of-bag score;
the optimism is the naive best score minus it.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.stats._results import ResultBase, Table, fmt, interval
from hpstudy.stats.intervals import _check_confidence, percentile_interval
from hpstudy.trials import Goal

__all__ = ["SelectionBias", "bbc_cv"]


@attrs.frozen(kw_only=True)
class SelectionBias(ResultBase):
    """Bias-corrected estimate of the selected configuration's performance.

    Attributes
    ----------
    selected : int
        Row of the configuration the naive selection picks.
    naive : float
        Its mean score over all columns (optimistic).
    estimate : float
        BBC-CV estimate (mean out-of-bag score of the in-bag winner).
    interval : tuple of float
        Percentile interval of the out-of-bag scores.
    optimism : float
        ``naive - estimate`` for a maximised metric (``estimate - naive`` when
        minimised): how much the naive figure flatters, in metric units.
    optimism_interval : tuple of float
        Percentile interval of the per-resample optimism (in-bag best minus its
        out-of-bag score).
    n_configs, n_columns, n_boot : int
        Matrix shape and bootstrap resamples.
    goal : str
        ``"maximize"`` or ``"minimize"``.
    confidence : float
        Level of the intervals.
    """

    selected: int
    naive: float
    estimate: float
    interval: tuple[float, float]
    optimism: float
    optimism_interval: tuple[float, float]
    n_configs: int
    n_columns: int
    n_boot: int
    goal: str
    confidence: float

    def _tables(self) -> list[Table]:
        rows = (("naive best (optimistic)", fmt(self.naive), ""),
                ("BBC-CV estimate", fmt(self.estimate), interval(*self.interval)),
                ("optimism", fmt(self.optimism), interval(*self.optimism_interval)))
        note = (f"best of {self.n_configs} configurations on {self.n_columns} columns; "
                f"{self.n_boot} bootstrap resamples, {self.confidence:.0%} percentile intervals.")
        return [Table(title="Winner's curse (BBC-CV)", columns=("", "value", "interval"),
                      rows=rows, notes=(note,))]


def bbc_cv(
    scores,
    *,
    goal: str | Goal = "maximize",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> SelectionBias:
    """Bootstrap bias-corrected estimate of the best configuration's score.

    Parameters
    ----------
    scores : array-like of shape (n_configs, n_columns)
        Score of each configuration on each fold (or each test item: 0/1
        correctness for an accuracy), the same columns for every row.
    goal : {"maximize", "minimize"}, default "maximize"
        Direction of the metric.
    n_boot : int, default 1000
        Bootstrap resamples of the columns.
    confidence : float, default 0.95
        Level of the percentile intervals.
    seed : int or None, default 0
        Seed of the resampling.

    Returns
    -------
    SelectionBias

    Raises
    ------
    ConfigError
        For fewer than 2 configurations or 3 columns, non-finite scores, or
        bad options.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = bbc_cv(0.8 + rng.normal(0, 0.02, (50, 10)))
    >>> r.naive > r.estimate
    True
    """
    m = np.asarray(scores, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2 or m.shape[1] < 3:
        raise ConfigError(f"scores: must be a 2-d array with >= 2 rows and >= 3 columns "
                          f"(got shape {m.shape})")
    if not np.all(np.isfinite(m)):
        raise ConfigError("scores: values must be finite")
    try:
        g = Goal(goal)
    except ValueError:
        raise ConfigError(f"goal: must be 'maximize' or 'minimize' (got {goal!r})") from None
    n_boot = check_int("n_boot", n_boot, minimum=10)
    conf = _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    c, k = m.shape
    s = g.sign
    means = m.mean(axis=1)
    selected = int(np.argmax(s * means))
    oob_scores, optimism = [], []
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)
    for cnt in counts:
        out = cnt == 0
        if not out.any():
            continue
        inbag = (m @ cnt) / k
        best = int(np.argmax(s * inbag))
        oob = float(m[best, out].mean())
        oob_scores.append(oob)
        optimism.append(s * (inbag[best] - oob))
    oob_arr = np.asarray(oob_scores)
    estimate = float(oob_arr.mean()) if oob_arr.size else math.nan
    return SelectionBias(
        selected=selected, naive=float(means[selected]), estimate=estimate,
        interval=percentile_interval(oob_arr, conf), optimism=s * (float(means[selected]) - estimate),
        optimism_interval=percentile_interval(optimism, conf), n_configs=c, n_columns=k,
        n_boot=n_boot, goal=g.value, confidence=conf,
    )
