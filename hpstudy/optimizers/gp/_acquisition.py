"""Acquisition functions (log Expected Improvement, UCB) and their maximisation.

Everything is written for maximisation of standardised targets. Log EI follows
the numerically stable evaluation of Ament et al. (2023, "Unexpected improvements
to expected improvement for Bayesian optimization"): ``EI = sigma * h(z)`` with
``h(z) = phi(z) + z Phi(z)``, and ``log h`` is evaluated through ``erfcx`` for
negative ``z`` so it stays finite (and accurate) far into the tail, where the
plain formula underflows to ``log(0)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special
from scipy.stats import qmc

if TYPE_CHECKING:
    from hpstudy.optimizers.gp._encoding import Encoder
    from hpstudy.optimizers.gp._model import GPModel

__all__ = ["AcquisitionSpec", "log_h", "log_h_grad", "maximize_acquisition"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_HALF_LOG_PI_2 = 0.5 * math.log(math.pi / 2.0)
_INV_SQRT_EPS = 1.0 / math.sqrt(np.finfo(float).eps)
#: A space of discrete columns only, with at most this many points, is searched exhaustively.
EXHAUSTIVE_MAX = 20_000
#: ... and at most this many (points x model rows), the cost of predicting every point.
EXHAUSTIVE_WORK = 1_000_000
#: Greedy one-column moves at most, from each start of the discrete local search.
MAX_MOVES = 4
#: The best observed points that also start a local search (their neighbours are candidates).
N_BEST_STARTS = 0
#: How the starts of the polish are picked among the candidates: "top" (the best distinct
#: ones) or "roulette" (the best one, the others drawn with probabilities proportional to
#: ``exp(value - max)``, that is to EI itself for log EI; Optuna GPSampler's rule).
START_RULE = "top"
#: Share of the candidates that are Gaussian perturbations of the five best observed points.
LOCAL_SHARE = 0.25
#: Rounds of alternation on mixed spaces: after the discrete moves, the starts that moved
#: get their continuous columns polished again, then moved again (0: one polish, then moves).
ALTERNATE = 0


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x < 0``, accurate on both sides of ``-log 2``."""
    return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z * Phi(z))``, finite for every finite ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(zu * special.ndtr(zu) + np.exp(-0.5 * zu * zu - _HALF_LOG_2PI))
    mid = ~upper & (z > -_INV_SQRT_EPS)
    zm = -z[mid]
    inner = np.log(special.erfcx(zm / math.sqrt(2.0)) * zm) + _HALF_LOG_PI_2
    out[mid] = -0.5 * zm * zm - _HALF_LOG_2PI + _log1mexp(inner)
    far = ~upper & ~mid
    zf = -z[far]
    out[far] = -0.5 * zf * zf - _HALF_LOG_2PI - 2.0 * np.log(zf)
    return out


def log_h_grad(z: np.ndarray, lh: np.ndarray) -> np.ndarray:
    """``d log h / dz = Phi(z) / h(z)`` computed in log space."""
    return np.exp(special.log_ndtr(z) - lh)


class AcquisitionSpec:
    """Which acquisition to use and against which incumbent.

    Parameters
    ----------
    kind : {"ei", "ucb"}
        Log expected improvement or upper confidence bound.
    best : float
        Incumbent (standardised, maximisation) for EI.
    kappa : float
        UCB's multiple of the standard deviation.
    """

    def __init__(self, kind: str, best: float, kappa: float) -> None:
        self.kind, self.best, self.kappa = kind, best, kappa

    def value(self, model: GPModel, X: np.ndarray) -> np.ndarray:
        """Acquisition values at rows of ``X``."""
        mu, var = model.predict(X)
        sigma = np.sqrt(var)
        if self.kind == "ucb":
            return mu + self.kappa * sigma
        return np.log(sigma) + log_h((mu - self.best) / sigma)

    def value_grad(self, model: GPModel, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Acquisition values and gradients (m, d) at rows of ``X``."""
        mu, var, dmu, dvar = model.predict_grad(X)
        sigma = np.sqrt(var)
        dsigma = dvar / (2.0 * sigma[:, None])
        if self.kind == "ucb":
            return mu + self.kappa * sigma, dmu + self.kappa * dsigma
        z = (mu - self.best) / sigma
        lh = log_h(z)
        g = log_h_grad(z, lh)
        dz = (dmu - z[:, None] * dsigma) / sigma[:, None]
        return np.log(sigma) + lh, dsigma / sigma[:, None] + g[:, None] * dz


def _candidates(enc: Encoder, model: GPModel, rng: np.random.Generator, n_sobol: int):
    d = enc.n_columns
    sobol = qmc.Sobol(d, scramble=True, seed=rng).random(n_sobol)
    cands = [enc.from_cube(sobol)]
    # Local perturbations around the best observed points help exploitation.
    order = np.argsort(-model.y)[:5]
    n_local = max(1, int(LOCAL_SHARE * n_sobol) // max(1, len(order))) if LOCAL_SHARE else 0
    if len(order) and n_local:
        base = np.repeat(model.X[order], n_local, axis=0)
        noise = rng.normal(scale=0.05, size=base.shape) * enc.cont_mask
        local = base + noise
        local[:, enc.cont_mask] = np.clip(local[:, enc.cont_mask], 0.0, 1.0)
        cands.append(enc.snap(local))
    return np.vstack(cands)


def _polish(acq: AcquisitionSpec, model: GPModel, enc: Encoder, starts: np.ndarray):
    """Joint L-BFGS-B over the optimisable columns of every start (one separable problem)."""
    cols = np.flatnonzero(enc.cont_mask)
    if len(cols) == 0:
        return starts
    base = starts.copy()
    m, k = len(starts), len(cols)

    def fun(flat):
        X = base.copy()
        X[:, cols] = flat.reshape(m, k)
        val, grad = acq.value_grad(model, X)
        return -float(val.sum()), -grad[:, cols].ravel()

    res = optimize.minimize(
        fun,
        base[:, cols].ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * (m * k),
        options={"maxiter": 100},
    )
    out = base.copy()
    out[:, cols] = np.clip(res.x.reshape(m, k), 0.0, 1.0)
    return enc.snap(out)


def _discrete_moves(acq: AcquisitionSpec, model: GPModel, enc: Encoder, x: np.ndarray):
    """Greedy coordinate ascent over the discrete columns of one point."""
    if not enc.levels:
        return x
    cur, cur_val = x, acq.value(model, x[None])[0]
    for _ in range(MAX_MOVES):
        nbrs = enc.neighbours(cur)
        if len(nbrs) == 0:
            break
        vals = acq.value(model, nbrs)
        j = int(np.argmax(vals))
        if vals[j] <= cur_val:
            break
        cur, cur_val = nbrs[j], vals[j]
    return cur


def maximize_acquisition(
    acq: AcquisitionSpec,
    model: GPModel,
    enc: Encoder,
    rng: np.random.Generator,
    exclude: set,
    *,
    n_sobol: int = 1024,
    n_starts: int = 5,
) -> np.ndarray | None:
    """The best new encoded point, or None when every candidate is excluded.

    A space of discrete columns only is searched exhaustively when it is small
    (:data:`EXHAUSTIVE_MAX` points, :data:`EXHAUSTIVE_WORK` points x model rows):
    the exact maximum over the points not excluded. Otherwise a Sobol sweep seeds
    a few starts, polished by L-BFGS-B on the continuous columns and by greedy
    one-column moves on the discrete ones.

    ``exclude`` holds the keys (:meth:`Encoder.key`) of points already evaluated,
    pending or chosen in this batch; such points are never returned.
    """
    grid = _finite_grid(enc, len(model.y))
    if grid is not None:
        return _best_unexcluded(grid, acq.value(model, grid), enc, exclude)
    cands = _candidates(enc, model, rng, n_sobol)
    vals = cand_vals = acq.value(model, cands)
    if N_BEST_STARTS:
        # the best observed points start a local search too (ranked first)
        best = model.X[np.argsort(-model.y, kind="stable")[:N_BEST_STARTS]]
        cand_vals = np.r_[acq.value(model, best), vals]
        cands, vals = np.vstack([best, cands]), np.r_[np.full(len(best), np.inf), vals]
    order = np.argsort(-vals, kind="stable")
    if START_RULE == "roulette":
        order = _roulette_order(vals, rng, n_starts)
    starts, seen = [], set()
    for i in order:
        key = enc.key(cands[i])
        if key in seen:
            continue
        seen.add(key)
        starts.append(cands[i])
        if len(starts) == n_starts:
            break
    if not starts:
        return None
    polished = _polish(acq, model, enc, np.array(starts))
    finals = np.array([_discrete_moves(acq, model, enc, p) for p in polished])
    for _ in range(ALTERNATE if enc.cont_mask.any() else 0):
        moved = np.array([enc.key(a) != enc.key(b) for a, b in zip(finals, polished, strict=True)])
        if not moved.any():
            break
        polished = finals.copy()
        polished[moved] = _polish(acq, model, enc, finals[moved])
        finals = polished.copy()
        finals[moved] = [_discrete_moves(acq, model, enc, p) for p in polished[moved]]
    pool = np.vstack([finals, cands])
    pool_vals = np.r_[acq.value(model, finals), cand_vals]
    return _best_unexcluded(pool, pool_vals, enc, exclude)


def _roulette_order(vals: np.ndarray, rng: np.random.Generator, k: int) -> np.ndarray:
    """The best index first, then ``4 k`` indices drawn without replacement, ``p ~ exp(v - max)``."""
    order = np.argsort(-vals, kind="stable")
    finite = np.isfinite(vals)
    w = np.where(finite, np.exp(np.where(finite, vals, 0.0) - np.max(vals[finite])), 0.0)
    w[order[0]] = 0.0
    m = min(4 * k, int(np.count_nonzero(w > 0)))
    if m == 0:
        return order
    drawn = rng.choice(len(vals), size=m, replace=False, p=w / w.sum())
    return np.r_[order[0], drawn, order[1:]]


def _best_unexcluded(pool: np.ndarray, vals: np.ndarray, enc: Encoder, exclude: set):
    for i in np.argsort(-vals, kind="stable"):
        if enc.key(pool[i]) not in exclude:
            return pool[i]
    return None


_GRIDS: dict[tuple, np.ndarray] = {}


def _finite_grid(enc: Encoder, n: int) -> np.ndarray | None:
    """Every point of a space of discrete columns only, when it has few enough points.

    "Few enough": at most ``EXHAUSTIVE_MAX`` points, and at most ``EXHAUSTIVE_WORK``
    points times model rows (the cost of predicting them all).
    """
    if enc.cont_mask.any() or len(enc.levels) != enc.n_columns:
        return None
    levels = [np.asarray(enc.levels[j], dtype=float) for j in range(enc.n_columns)]
    size = math.prod(len(v) for v in levels)
    if size > EXHAUSTIVE_MAX or size * n > EXHAUSTIVE_WORK:
        return None
    key = tuple(tuple(v.tolist()) for v in levels)
    grid = _GRIDS.get(key)
    if grid is None:
        mesh = np.meshgrid(*levels, indexing="ij")
        grid = np.stack([m.ravel() for m in mesh], axis=1)
        _GRIDS.clear()
        _GRIDS[key] = grid
    return grid
