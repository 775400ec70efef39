"""Turning :class:`~hpstudy.trials.Trials` into GP training data, and fitting it.

Targets are ``goal.sign * value`` (so larger is always better). Treatment of
unfinished or unusual trials:

- COMPLETE with a finite value: observed.
- FAILED (or COMPLETE with a NaN/inf value): with ``failed="worst"`` (default)
  imputed with the worst modelled target (complete and pruned), like W&B's ``impute: worst``, so the
  optimizer steers away from configurations that crash; with ``failed="ignore"``
  not modelled. Either way the point is never suggested again.
- PRUNED: the value is an early value, not a final one. With ``pruned="worst"``
  the trial is imputed with ``min(its own target, worst complete
  target)``: a stopper ended it because it trailed its peers, so the model learns
  "not here" (before any trial completes, its own last value is used); with ``pruned="pending"`` it is left out of the fit and treated
  like a RUNNING trial (a kriging-believer fantasy), so it is only avoided.
  With ``pruned="rung"`` (default) it is imputed from the trials that passed the step it
  was stopped at (:func:`rung_imputations`): its rank among the values judged at
  that step, mapped onto the final values of the COMPLETE trials judged there (a
  quantile mapping); with fewer than :data:`MIN_PASSED` such trials, as ``"worst"``.
- RUNNING: pending; fantasised at the posterior mean (kriging believer).

Imputed targets depend on other trials (the worst value so far), so they can
change when a new trial ends. The hyperparameters are therefore fitted on the
observed targets only (:attr:`Data.observed`: COMPLETE trials with a finite
value, which never change), and the imputed points join the GP afterwards,
conditioned with those hyperparameters. A new worst value then changes no
checkpoint of :class:`ThetaCache`'s warm-start chain.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict

import numpy as np
from scipy import optimize

from hpstudy.optimizers.gp._encoding import Encoder
from hpstudy.optimizers.gp._kernel import cross_sqdist
from hpstudy.optimizers.gp._model import HyperPrior, fit_theta
from hpstudy.trials import Trials, TrialState

__all__ = ["Data", "ThetaCache", "collect", "rung_imputations"]

#: Up to this many observations the hyperparameters are fitted from fixed starts.
SCRATCH_MAX = 50
#: Above it, checkpoints at ceil(m * GROWTH) from SCRATCH_MAX warm-start each other in a chain.
GROWTH = 1.1
#: Up to this many observations every ask refits (warm-started from the last checkpoint);
#: above it an ask uses the last checkpoint's hyperparameters as they are.
REFIT_MAX = 100


def checkpoints(n: int) -> list[int]:
    """The checkpoints ``<= n``: SCRATCH_MAX, then ``ceil(m * GROWTH)`` each."""
    out = [SCRATCH_MAX]
    while math.ceil(out[-1] * GROWTH) <= n:
        out.append(math.ceil(out[-1] * GROWTH))
    return out


class Data:
    """Encoded observations, pending points and keys of every point tried.

    ``observed[i]`` is True when ``y[i]`` is the trial's own final value (not imputed).
    """

    def __init__(self) -> None:
        self.X: list[np.ndarray] = []
        self.y: list[float] = []
        self.observed: list[bool] = []
        self.pending: list[np.ndarray] = []
        self.keys: set = set()

    def fit_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows the hyperparameters are fitted on: the observed ones.

        Imputed rows are left out so that a new worst value, which changes them,
        changes no cached fit. With fewer than 3 observed rows, or constant ones,
        every modelled row is used (a small fit from scratch).
        """
        X, y = np.asarray(self.X), np.asarray(self.y, dtype=float)
        obs = np.asarray(self.observed, dtype=bool)
        if obs.sum() >= 3 and np.ptp(y[obs]) > 0:
            return X[obs], y[obs]
        return X, y


#: ``pruned="rung"`` needs this many COMPLETE trials judged at the step a trial was
#: stopped at; with fewer, the trial is imputed as with ``pruned="worst"``.
MIN_PASSED = 2


def rung_imputations(trials: Trials) -> dict[int, float]:
    """Targets (``goal.sign * value``) for PRUNED trials, from the trials that passed their rung.

    A pruned trial was stopped at the step of its last stopping decision. Every
    trial judged at that step has a judged value there (its decision's
    ``value``: the mean of the folds judged, or the best so far, as the stopper
    compares). The pruned trial's level is the share of the *other* trials judged
    at that step whose value was worse (ties count half): ``(n - r) / (n - 1)``
    when it ranked ``r``-th of ``n``. Its target is that quantile (linear
    interpolation) of the final values of the COMPLETE trials judged at the step,
    the trials that passed it. A trial that ranked 2nd of 9 at its rung is
    imputed near the top of the passed trials' finals, one that ranked last at
    their worst; never below them, so a slow learner stopped early is not ruled
    out by an early value that posed as a final one.

    Parameters
    ----------
    trials : Trials
        Every trial of the study.

    Returns
    -------
    dict of int to float
        Trial number -> imputed target, for the PRUNED trials that have a stop
        decision and at least :data:`MIN_PASSED` COMPLETE trials judged at its step.

    Examples
    --------
    >>> from hpstudy.trials import StopDecision, Trial, Trials, TrialState
    >>> def judged(n, value, stop, final=None):
    ...     d = StopDecision(step=3, stop=stop, rule="asha", value=value, threshold=0.5)
    ...     state = TrialState.PRUNED if stop else TrialState.COMPLETE
    ...     return Trial(number=n, params={}, state=state, value=value if stop else final,
    ...                  decisions=(d,))
    >>> trials = Trials([judged(0, 0.6, False, 0.80), judged(1, 0.7, False, 0.90),
    ...                  judged(2, 0.3, True), judged(3, 0.55, True)])
    >>> {k: round(v, 3) for k, v in rung_imputations(trials).items()}
    {2: 0.8, 3: 0.833}
    """
    sign = trials.goal.sign
    at_step: dict[int, dict[int, float]] = {}  # step -> trial number -> judged target
    for t in trials:
        for d in t.decisions:
            if math.isfinite(d.value):
                at_step.setdefault(d.step, {})[t.number] = sign * d.value
    finals = {t.number: sign * t.value for t in trials
              if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)}
    out: dict[int, float] = {}
    for t in trials:
        if t.state is not TrialState.PRUNED:
            continue
        stop = next((d for d in reversed(t.decisions) if d.stop), None)
        if stop is None or not math.isfinite(stop.value):
            continue
        judged = at_step.get(stop.step, {})
        passed = [finals[k] for k in judged if k in finals and k != t.number]
        if len(passed) < MIN_PASSED:
            continue
        own = sign * stop.value
        peers = [v for k, v in judged.items() if k != t.number]
        worse = sum(v < own for v in peers) + 0.5 * sum(v == own for v in peers)
        out[t.number] = float(np.quantile(passed, worse / len(peers)))
    return out


def collect(enc: Encoder, trials: Trials, failed: str, pruned: str) -> Data:
    """Encode ``trials`` into :class:`Data` (see the module docstring for the rules)."""
    sign = trials.goal.sign
    by_rung = rung_imputations(trials) if pruned == "rung" else {}
    rows: list[tuple[TrialState, np.ndarray, float | None]] = []
    imputed: list[float | None] = []  # the rung rule's target of each row
    for t in trials:
        try:
            x = enc.encode_one(t.params)
        except (KeyError, ValueError, TypeError):
            continue  # a trial from another space: nothing to learn from it
        value = t.value
        target = sign * value if value is not None and math.isfinite(value) else None
        state = t.state
        if state is TrialState.COMPLETE and target is None:
            state = TrialState.FAILED
        rows.append((state, x, target))
        imputed.append(by_rung.get(t.number))
    complete = [v for s, _, v in rows if s is TrialState.COMPLETE and v is not None]
    worst_complete = min(complete) if complete else None
    targets: list[float | None] = []  # the modelled target of each row, None if not modelled
    for (state, _, v), by_rank in zip(rows, imputed, strict=True):
        if state is TrialState.COMPLETE:
            targets.append(v)
        elif state is TrialState.PRUNED and by_rank is not None:
            targets.append(by_rank)
        elif state is TrialState.PRUNED and pruned in ("worst", "rung"):
            if worst_complete is None:
                targets.append(v)  # before any trial completes: its own last value
            else:
                targets.append(worst_complete if v is None else min(v, worst_complete))
        else:
            targets.append(None)
    known = [v for v in targets if v is not None]
    worst = min(known) if known else None
    data = Data()
    for (state, x, _), target in zip(rows, targets, strict=True):
        data.keys.add(enc.key(x))
        if state is TrialState.RUNNING or (state is TrialState.PRUNED and pruned == "pending"):
            data.pending.append(x)
            continue
        if target is None and failed == "worst" and state is not TrialState.RUNNING:
            target = worst
        if target is not None:
            data.X.append(x)
            data.y.append(target)
            data.observed.append(state is TrialState.COMPLETE)
    return data


def standardize(y: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (a constant vector becomes zeros)."""
    sd = float(np.std(y))
    return (y - np.mean(y)) / (sd if sd > 0 else 1.0)


#: ``warp="auto"`` warps when the targets' sample skewness exceeds this in magnitude.
AUTO_SKEW = 2.0


def transform_targets(y: np.ndarray, warp: bool | str) -> np.ndarray:
    """Standardised targets, first warped by a Yeo-Johnson power transform when asked.

    ``warp`` is True, False or ``"auto"`` (warp when the absolute sample skewness
    of ``y`` exceeds :data:`AUTO_SKEW`: long-tailed metrics). The transform is
    monotone, so the best point stays the best; its exponent is the
    maximum-likelihood one within ``[-2, 4]``, fitted on the standardised
    targets. It tames the long tails of HPO metrics (a diverged run's loss of
    5000 next to good runs at 0.01) that would otherwise flatten the GP.
    """
    z = standardize(np.asarray(y, dtype=float))
    if not warp or len(z) < 3 or np.ptp(z) == 0:
        return z
    if warp == "auto" and abs(float(np.mean(z**3))) <= AUTO_SKEW:
        return z
    with np.errstate(all="ignore"):
        res = optimize.minimize_scalar(
            _yj_neg_llf, bounds=(-2.0, 4.0), args=(z,), method="bounded",
            options={"xatol": 1e-4},
        )
        t = _yeojohnson(z, float(res.x))
    if not np.all(np.isfinite(t)) or np.ptp(t) == 0:
        return z
    return standardize(t)


def _yeojohnson(x: np.ndarray, lmbda: float) -> np.ndarray:
    pos = x >= 0
    out = np.empty_like(x)
    if abs(lmbda) < 1e-8:
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = np.expm1(lmbda * np.log1p(x[pos])) / lmbda
    if abs(lmbda - 2.0) < 1e-8:
        out[~pos] = -np.log1p(-x[~pos])
    else:
        out[~pos] = -np.expm1((2.0 - lmbda) * np.log1p(-x[~pos])) / (2.0 - lmbda)
    return out


def _yj_neg_llf(lmbda: float, x: np.ndarray) -> float:
    """Negative Yeo-Johnson profile log-likelihood (as scipy.stats.yeojohnson_llf)."""
    t = _yeojohnson(x, lmbda)
    var = float(np.var(t))
    if not var > 0 or not np.isfinite(var):
        return np.inf
    return 0.5 * len(x) * np.log(var) - (lmbda - 1.0) * float(np.sum(np.sign(x) * np.log1p(np.abs(x))))


class ThetaCache:
    """Deterministic hyperparameter fits with warm starts.

    Up to ``SCRATCH_MAX`` observations the fit runs from fixed starts. Above,
    checkpoints ``m`` (``SCRATCH_MAX`` times powers of ``GROWTH``, rounded up)
    are fitted on the first ``m`` observations, each warm-started from the
    previous checkpoint's fit; up to ``REFIT_MAX`` observations every ask
    refits warm-started from the latest checkpoint, and beyond it the latest
    checkpoint's hyperparameters are used as they are (the GP itself is always
    conditioned on every observation). The result is a function of the data alone: the cache only
    saves recomputing checkpoints, it never changes what is computed. The noise-free fits
    (``noise_free=True``: :class:`HyperPrior`'s noise prior at its floor) keep a chain of
    their own.
    """

    def __init__(self, maxsize: int = 64, *, warp: bool | str = "auto") -> None:
        self.warp = warp
        self._store: OrderedDict = OrderedDict()
        self.maxsize = maxsize

    def _get(self, key):
        if key in self._store:
            self._store.move_to_end(key)
            return self._store[key]
        return None

    def _put(self, key, value) -> None:
        self._store[key] = value
        while len(self._store) > self.maxsize:
            self._store.popitem(last=False)

    @staticmethod
    def _key(X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, noise_free: bool) -> str:
        h = hashlib.sha1(np.ascontiguousarray(X).tobytes())
        h.update(np.ascontiguousarray(y).tobytes())
        h.update(is_cat.tobytes())
        h.update(b"noise-free" if noise_free else b"")
        return h.hexdigest()

    def fit(self, X: np.ndarray, y: np.ndarray, is_cat: np.ndarray,
            noise_free: bool = False) -> np.ndarray:
        """MAP ``theta`` for raw targets ``y`` (transformed here, see :func:`transform_targets`).

        ``noise_free``: under :class:`HyperPrior`'s noise-free prior (an interpolating fit).
        """
        n = len(y)
        key = self._key(X, y, is_cat, noise_free)
        hit = self._get(key)
        if hit is not None:
            return hit
        marks = checkpoints(n) if n > SCRATCH_MAX else []
        if marks and marks[-1] != n and n > REFIT_MAX:
            # cached after the first ask
            return self.fit(X[: marks[-1]], y[: marks[-1]], is_cat, noise_free)
        prior = HyperPrior(X.shape[1], noise_free)
        D, ys = cross_sqdist(X, X, is_cat), transform_targets(y, self.warp)
        if not marks:
            theta = fit_theta(D, ys, prior, prior.starts())
        elif marks[-1] == n:  # a checkpoint: warm start from the previous one
            start = self.fit(X[: marks[-2]], y[: marks[-2]], is_cat, noise_free)
            theta = fit_theta(D, ys, prior, [start], 50)
        else:
            start = self.fit(X[: marks[-1]], y[: marks[-1]], is_cat, noise_free)
            theta = fit_theta(D, ys, prior, [start], 30)
        self._put(key, theta)
        return theta
