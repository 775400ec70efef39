"""Hyperparameter importance: functional ANOVA on a random-forest surrogate.

A :class:`sklearn.ensemble.RandomForestRegressor` is fitted to the
configurations' mean scores. For each tree ``t`` the first-order (Sobol)
variance ``V_j = Var_{x_j}( E[t(x) | x_j] )`` of every hyperparameter and the
total ``V = Var(t(x))`` are estimated by **Monte Carlo** under the product of
the observed marginal distributions of the hyperparameters (independent
columns, as in functional ANOVA): a base sample of ``n_samples`` points is
drawn; for ``n_grid`` values ``v`` of ``x_j`` the column is set to ``v`` and
the tree's mean prediction gives ``E[t | x_j = v]`` (common random numbers
across ``v``). The share of ``j`` in tree ``t`` is ``V_j / V``; the report
gives the mean over trees and the 2.5-97.5 % range of the per-tree shares.
The interaction share is ``1 - sum_j share_j`` (main effects are **not**
renormalised to sum to one, unlike Optuna's fANOVA evaluator).

This is a Monte-Carlo estimate of Hutter, Hoos & Leyton-Brown's (2014)
quantities, not their exact computation over the trees' partitions; the Monte
Carlo error adds about ``1 / n_samples`` of the variance to every main effect.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.stats._results import ResultBase, Table, fmt, interval
from hpstudy.stats.intervals import _check_confidence, percentile_interval

__all__ = ["Importance", "forest_importance", "importance"]


@attrs.frozen(kw_only=True)
class Importance(ResultBase):
    """Each hyperparameter's share of the metric's variance (functional ANOVA).

    Attributes
    ----------
    shares : dict of str to float
        Mean over trees of ``V_j / V`` (first-order share) per hyperparameter.
    intervals : dict of str to tuple of float
        Range of the per-tree shares (``confidence`` central range), also for
        ``"interactions"``.
    interactions : float
        ``1 - sum(shares)``: the variance explained by interactions.
    n_configs : int
        Configurations the forest was fitted on.
    n_trees : int
        Trees of the forest.
    r2_oob : float
        Out-of-bag R^2 of the forest (how well the surrogate fits).
    confidence : float
        Level of the per-tree ranges.
    """

    shares: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    interactions: float
    n_configs: int
    n_trees: int
    r2_oob: float
    confidence: float

    def _tables(self) -> list[Table]:
        order = sorted(self.shares, key=lambda k: -self.shares[k])
        rows = [(k, f"{self.shares[k]:.1%}", interval(*self.intervals[k], digits=3)) for k in order]
        rows.append(("interactions", f"{self.interactions:.1%}",
                     interval(*self.intervals["interactions"], digits=3)))
        notes: tuple[str, ...] = (f"random-forest surrogate on {self.n_configs} configurations, {self.n_trees} "
                 f"trees, out-of-bag R^2 {fmt(self.r2_oob, 3)}; Monte-Carlo functional ANOVA "
                 "(first-order Sobol shares, not renormalised).",
                 f"intervals: central {self.confidence:.0%} of the per-tree shares.")
        if self.r2_oob < 0.1:
            notes += ("warning: the forest predicts little out of bag (R^2 < 0.1); the shares "
                      "then describe noise the trees fitted, not the metric.",)
        return [Table(title="Hyperparameter importance", columns=("parameter", "share", "trees"),
                      rows=tuple(rows), notes=notes)]


def _encode(frame) -> np.ndarray:
    import pandas as pd

    cols = []
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            cols.append(pd.factorize(s.astype(str), sort=True)[0].astype(float))
        else:
            v = s.to_numpy(dtype=float)
            if np.any(np.isinf(v)):
                raise ConfigError(f"params.{name}: values must be finite (or categorical)")
            missing = np.isnan(v)
            if missing.all():
                raise ConfigError(f"params.{name}: every value is missing")
            if missing.any():  # a conditional parameter: missing becomes its own low value
                lo, hi = np.nanmin(v), np.nanmax(v)
                v = np.where(missing, lo - max(hi - lo, 1.0), v)
            cols.append(v)
    return np.column_stack(cols)


def forest_importance(
    X,
    y,
    *,
    n_trees: int = 64,
    n_samples: int = 256,
    n_grid: int = 32,
    min_samples_leaf: int = 1,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> Importance:
    """Functional-ANOVA importance of the columns of ``X`` for ``y``.

    Parameters
    ----------
    X : pandas.DataFrame
        One row per configuration, one column per hyperparameter (numbers or
        categories; a missing number, as for a conditional parameter, is treated
        as a value of its own below the others).
    y : array-like of float
        The metric of each configuration.
    n_trees : int, default 64
        Trees of the random forest.
    n_samples : int, default 256
        Monte-Carlo base sample size.
    n_grid : int, default 32
        Values of each hyperparameter at which its main effect is evaluated
        (every distinct value when there are fewer).
    min_samples_leaf : int, default 1
        Passed to the forest.
    confidence : float, default 0.95
        Central range of the per-tree shares.
    seed : int or None, default 0
        Seed of the forest and of the Monte Carlo (fixed seed: same result).

    Returns
    -------
    Importance

    Raises
    ------
    ConfigError
        For fewer than 4 configurations, no column, lengths that differ,
        non-finite values, or counts out of range.
    """
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        raise ConfigError("X: must be a pandas DataFrame with at least one column")
    yv = np.asarray(y, dtype=float)
    if yv.shape != (len(X),):
        raise ConfigError(f"y: must have one value per row of X ({len(X)}; got {yv.shape})")
    if not np.all(np.isfinite(yv)):
        raise ConfigError("y: values must be finite")
    if len(X) < 4:
        raise ConfigError(f"X: needs at least 4 configurations (got {len(X)})")
    n_trees = check_int("n_trees", n_trees, minimum=2)
    n_samples = check_int("n_samples", n_samples, minimum=16)
    n_grid = check_int("n_grid", n_grid, minimum=2)
    min_samples_leaf = check_int("min_samples_leaf", min_samples_leaf, minimum=1)
    conf = _check_confidence(confidence)
    x = _encode(X)
    n, d = x.shape
    forest = RandomForestRegressor(n_estimators=n_trees, min_samples_leaf=min_samples_leaf,
                                   oob_score=True, random_state=seed)
    with warnings.catch_warnings():  # few trees: some rows lack OOB predictions
        warnings.simplefilter("ignore", UserWarning)
        forest.fit(x, yv)
    rng = np.random.default_rng(seed)
    base = np.column_stack([x[rng.integers(0, n, n_samples), j] for j in range(d)])
    grids, weights = [], []
    for j in range(d):
        values, counts = np.unique(x[:, j], return_counts=True)
        if len(values) > n_grid:
            values = np.quantile(x[:, j], (np.arange(n_grid) + 0.5) / n_grid)
            counts = np.ones(n_grid, dtype=np.int64)
        grids.append(values)
        weights.append(counts / counts.sum())
    blocks = []
    for j in range(d):
        block = np.repeat(base[None, :, :], len(grids[j]), axis=0)
        block[:, :, j] = grids[j][:, None]
        blocks.append(block.reshape(-1, d))
    design = np.vstack([base, *blocks])
    shares = np.zeros((n_trees, d))
    for t, tree in enumerate(forest.estimators_):
        pred = tree.predict(design)
        total = float(np.var(pred[:n_samples]))
        pos = n_samples
        for j in range(d):
            g = len(grids[j])
            effect = pred[pos: pos + g * n_samples].reshape(g, n_samples).mean(axis=1)
            pos += g * n_samples
            w = weights[j]
            mu = float(w @ effect)
            shares[t, j] = float(w @ (effect - mu) ** 2) / total if total > 0 else 0.0
    inter = 1.0 - shares.sum(axis=1)
    names = [str(c) for c in X.columns]
    ints = {k: percentile_interval(shares[:, j], conf) for j, k in enumerate(names)}
    ints["interactions"] = percentile_interval(inter, conf)
    return Importance(
        shares={k: float(shares[:, j].mean()) for j, k in enumerate(names)}, intervals=ints,
        interactions=float(inter.mean()), n_configs=n, n_trees=n_trees,
        r2_oob=float(forest.oob_score_), confidence=conf,
    )


def importance(
    trials,
    params: Sequence[str] | None = None,
    *,
    goal=None,
    n_trees: int = 64,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> Importance:
    """Hyperparameter importance of a study (functional ANOVA on a forest).

    Parameters
    ----------
    trials : Trials or pandas.DataFrame
        A :class:`hpstudy.Trials` or its ``to_frame(folds=True)`` frame; the
        response is each complete configuration's mean over its folds.
    params : list of str, optional
        Hyperparameters to analyse (default: every ``params.`` column that varies).
    goal : {"maximize", "minimize"}, optional
        Unused for the shares (variance is sign-free); accepted for symmetry.
    n_trees : int, default 64
        Trees of the forest.
    seed : int or None, default 0
        Seed (fixed seed: same result).
    confidence : float, default 0.95
        Central range of the per-tree shares.

    Returns
    -------
    Importance

    Raises
    ------
    ConfigError
        For unknown parameters or too few configurations.
    """
    from hpstudy.stats._frame import study_data

    data = study_data(trials, goal=goal)
    frame: Any = data.params  # a pandas DataFrame
    if params is None:
        params = [c for c in frame.columns if frame[c].astype(str).nunique() > 1]
    else:
        params = list(params)
        for p in params:
            if p not in frame.columns:
                raise ConfigError(f"params: unknown parameter {p!r} (have {list(frame.columns)})")
    if not params:
        raise ConfigError("params: no hyperparameter varies across the configurations")
    return forest_importance(frame[params], data.scores.mean(axis=1), n_trees=n_trees, seed=seed,
                             confidence=confidence)
