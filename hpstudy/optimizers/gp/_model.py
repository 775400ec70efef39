"""Gaussian-process regression on encoded inputs: likelihood, fit and posterior.

Hyperparameters are kept in log space, ``theta = [log l_1 .. log l_d, log s2, log noise]``,
for standardised targets (zero mean, unit variance). They are chosen by maximising
the log marginal likelihood plus weak Gaussian priors on ``theta`` (MAP), inside
bounds that keep lengthscales from collapsing, with analytic gradients and
scipy's L-BFGS-B.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, optimize

from hpstudy.optimizers.gp._kernel import (
    cross_sqdist,
    matern52,
    matern52_cross,
    matern52_grad_x,
    matern52_parts,
)

__all__ = ["GPModel", "HyperPrior", "fit_theta", "neg_log_posterior"]

_LOG_2PI = math.log(2.0 * math.pi)
_JITTER = 1e-8
#: Prior medians of a lengthscale (unit cube) and of the noise variance (standardised targets).
LENGTHSCALE_MEDIAN = 0.5
#: Bounds of every lengthscale (unit cube).
LENGTHSCALE_MIN = 0.02
LENGTHSCALE_MAX = 20.0
#: The noise variance's floor (standardised targets).
NOISE_MIN = 1e-6
#: The noise prior's median (standardised targets). At the floor (1e-6, with the same s.d.)
#: the fit interpolates a rugged deterministic function's ripples instead of calling them
#: noise: Rastrigin gained, Schwefel lost a row against SMAC3 and moderate noise was found
#: less reliably, so the median stayed here (issue 10's Rastrigin study, docs/gp.rst).
NOISE_MEDIAN = 1e-3
#: Standard deviations of the Gaussian priors on ``log l`` and on ``log noise`` (natural log).
LENGTHSCALE_SD = 1.5
NOISE_SD = 3.0
#: The noise-free fit's prior on ``log noise``: median :data:`NOISE_MIN`, this standard
#: deviation (Optuna GPSampler's ``deterministic_objective`` holds it at its floor likewise).
NOISE_FREE_SD = 1.0
#: Shape of the lengthscale prior: "lognormal" (Gaussian on ``log l``) or "cosh"
#: (``-c (l^2 + l^-2)``, flat around 1 with steep walls, Optuna GPSampler's shape).
LENGTHSCALE_PRIOR = "lognormal"
#: Shape of the noise prior: "lognormal", "gamma" (``a log v - b v`` in ``v``, the noise
#: variance: Optuna GPSampler's) or "horseshoe" (``log log(1 + 3 (c / v) ** 2)``: SMAC3's).
NOISE_PRIOR = "lognormal"
#: Constants of the "cosh" lengthscale prior and of the "gamma" and "horseshoe" noise priors.
COSH_C = 0.1
GAMMA_A, GAMMA_B = 0.1, 30.0
HORSESHOE_SCALE = 0.1
#: With at most this many observations, the "cosh" lengthscale and "gamma" noise priors
#: are used whatever :data:`LENGTHSCALE_PRIOR` and :data:`NOISE_PRIOR` say (0: never);
#: :data:`SMALL_N_KINDS` says which of the two.
SMALL_N_PRIORS = 0
SMALL_N_KINDS = frozenset({"lengthscale", "noise"})


class HyperPrior:
    """Gaussian priors on ``theta`` and its box bounds, for ``d`` input dimensions.

    ``noise_free=True`` centres the noise prior on its floor (:data:`NOISE_MIN`, standard
    deviation :data:`NOISE_FREE_SD`): the fit then interpolates the observations, and a
    rugged deterministic objective's ripples stay signal instead of becoming noise.
    """

    def __init__(self, d: int, noise_free: bool = False) -> None:
        self.d, self.noise_free = d, noise_free
        noise_median, noise_sd = (NOISE_MIN, NOISE_FREE_SD) if noise_free else (NOISE_MEDIAN,
                                                                                 NOISE_SD)
        self.mean = np.r_[np.full(d, math.log(LENGTHSCALE_MEDIAN)), 0.0, math.log(noise_median)]
        self.sd = np.r_[np.full(d, LENGTHSCALE_SD), 1.5, noise_sd]
        lo = np.r_[np.full(d, math.log(LENGTHSCALE_MIN)), math.log(1e-2), math.log(NOISE_MIN)]
        hi = np.r_[np.full(d, math.log(LENGTHSCALE_MAX)), math.log(1e2), math.log(1.0)]
        self.bounds = list(zip(lo, hi, strict=True))
        self.lo, self.hi = lo, hi

    def log_prior(self, theta: np.ndarray, n: int = 0) -> tuple[float, np.ndarray]:
        """Log prior density of ``theta`` (up to a constant) and its gradient.

        ``n`` (the number of observations) matters only when it is at most
        :data:`SMALL_N_PRIORS`.
        """
        z = (theta - self.mean) / self.sd
        lp = -0.5 * z * z
        grad = -z / self.sd
        d = self.d
        small = 0 < n <= SMALL_N_PRIORS
        if (small and "lengthscale" in SMALL_N_KINDS) or LENGTHSCALE_PRIOR == "cosh":
            up, down = np.exp(2.0 * theta[:d]), np.exp(-2.0 * theta[:d])
            lp[:d] = -COSH_C * (up + down)
            grad[:d] = -2.0 * COSH_C * (up - down)
        if self.noise_free:
            pass  # the noise prior stays the Gaussian on log noise at the floor
        elif (small and "noise" in SMALL_N_KINDS) or NOISE_PRIOR == "gamma":
            v = math.exp(theta[d + 1])
            lp[d + 1] = GAMMA_A * theta[d + 1] - GAMMA_B * v
            grad[d + 1] = GAMMA_A - GAMMA_B * v
        elif NOISE_PRIOR == "horseshoe":
            u = 3.0 * HORSESHOE_SCALE**2 * math.exp(-2.0 * theta[d + 1])
            log1pu = math.log1p(u)
            lp[d + 1] = math.log(log1pu)
            grad[d + 1] = -2.0 * u / ((1.0 + u) * log1pu)
        return float(lp.sum()), grad

    def starts(self) -> list[np.ndarray]:
        """Fixed starting points for a fit from scratch (no randomness)."""
        out = []
        for ls, noise in ((0.5, 1e-2), (0.15, 1e-3), (2.0, 1e-1)):
            out.append(np.r_[np.full(self.d, math.log(ls)), 0.0, math.log(noise)])
        return out


def _unpack(theta: np.ndarray, d: int) -> tuple[np.ndarray, float, float]:
    return np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))


def _cholesky(K: np.ndarray) -> np.ndarray:
    jitter = _JITTER
    for _ in range(6):
        try:
            return linalg.cholesky(K, lower=True, check_finite=False)
        except linalg.LinAlgError:
            K = K + jitter * np.eye(len(K))
            jitter *= 10.0
    raise linalg.LinAlgError("kernel matrix is not positive definite")


def neg_log_posterior(
    theta: np.ndarray, D: np.ndarray, y: np.ndarray, prior: HyperPrior
) -> tuple[float, np.ndarray]:
    """Negative (log marginal likelihood + log prior) and its gradient in ``theta``."""
    d, n = D.shape[0], len(y)
    ls, s2, noise = _unpack(theta, d)
    Kf, C = matern52_parts(D, ls, s2)
    K = Kf.copy()
    K[np.diag_indices(n)] += noise + _JITTER
    try:
        L = _cholesky(K)
    except linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = linalg.cho_solve((L, True), y, check_finite=False)
    lml = -0.5 * y @ alpha - np.log(np.diag(L)).sum() - 0.5 * n * _LOG_2PI
    Kinv, info = linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        return 1e25, np.zeros_like(theta)
    Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
    W = np.outer(alpha, alpha) - Kinv
    grad = np.empty_like(theta)
    # dK/dlog(l_j) = C * D_j / l_j^2 (see matern52_parts)
    grad[:d] = 0.5 * (D.reshape(d, -1) @ (W * C).ravel()) / ls**2
    grad[d] = 0.5 * np.sum(W * Kf)
    grad[d + 1] = 0.5 * noise * np.trace(W)
    lp, grad_lp = prior.log_prior(theta, n)
    return float(-(lml + lp)), -(grad + grad_lp)


def fit_theta(
    D: np.ndarray,
    y: np.ndarray,
    prior: HyperPrior,
    starts: list[np.ndarray],
    maxiter: int = 200,
) -> np.ndarray:
    """MAP hyperparameters by L-BFGS-B from each start; the best result wins."""
    best_theta, best_f = None, np.inf
    for start in starts:
        x0 = np.clip(start, prior.lo, prior.hi)
        res = optimize.minimize(
            neg_log_posterior,
            x0,
            args=(D, y, prior),
            jac=True,
            method="L-BFGS-B",
            bounds=prior.bounds,
            options={"maxiter": maxiter},
        )
        f = float(res.fun) if np.isfinite(res.fun) else np.inf
        if best_theta is None or f < best_f:
            best_theta, best_f = np.asarray(res.x, dtype=float), f
    assert best_theta is not None
    return best_theta


class GPModel:
    """The posterior of a fitted GP over standardised targets.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Encoded inputs.
    y : ndarray, shape (n,)
        Standardised targets (larger is better).
    is_cat : ndarray of bool, shape (d,)
        Which columns are categorical codes.
    theta : ndarray, shape (d + 2,)
        Log hyperparameters.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, is_cat: np.ndarray, theta: np.ndarray):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.is_cat = is_cat
        self.theta = theta
        d = X.shape[1]
        self.ls, self.s2, self.noise = _unpack(theta, d)
        K = matern52(cross_sqdist(self.X, self.X, is_cat), self.ls, self.s2)
        K[np.diag_indices(len(K))] += self.noise + _JITTER
        self.L = _cholesky(K)
        self.alpha = linalg.cho_solve((self.L, True), self.y, check_finite=False)

    def _cross(self, Xq: np.ndarray) -> np.ndarray:
        return matern52_cross(Xq, self.X, self.ls, self.s2, self.is_cat)

    def predict(self, Xq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent mean and variance (noise excluded) at rows of ``Xq``."""
        k = self._cross(np.atleast_2d(Xq))
        mu = k @ self.alpha
        v = linalg.solve_triangular(self.L, k.T, lower=True, check_finite=False)
        var = np.maximum(self.s2 - np.sum(v * v, axis=0), 1e-12)
        return mu, var

    def predict_grad(
        self, Xq: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients (m, d) in ``Xq`` (zero on categorical columns)."""
        k, dk = matern52_grad_x(np.atleast_2d(Xq), self.X, self.ls, self.s2, self.is_cat)
        mu = k @ self.alpha
        kinv_k = linalg.cho_solve((self.L, True), k.T, check_finite=False).T
        var = self.s2 - np.sum(k * kinv_k, axis=1)
        dmu = np.einsum("mnj,n->mj", dk, self.alpha)
        dvar = -2.0 * np.einsum("mnj,mn->mj", dk, kinv_k)
        small = var < 1e-12
        var = np.where(small, 1e-12, var)
        dvar[small] = 0.0
        return mu, var, dmu, dvar

    def with_fantasies(self, Xf: np.ndarray) -> GPModel:
        """A model with extra observations at ``Xf`` equal to the current mean (kriging believer)."""
        Xf = np.atleast_2d(Xf)
        mu, _ = self.predict(Xf)
        new = object.__new__(GPModel)
        new.is_cat, new.theta = self.is_cat, self.theta
        new.ls, new.s2, new.noise = self.ls, self.s2, self.noise
        new.X = np.vstack([self.X, Xf])
        new.y = np.r_[self.y, mu]
        k12 = self._cross(Xf).T
        k22 = matern52(cross_sqdist(Xf, Xf, self.is_cat), self.ls, self.s2)
        k22[np.diag_indices(len(k22))] += self.noise + _JITTER
        l21 = linalg.solve_triangular(self.L, k12, lower=True, check_finite=False).T
        l22 = _cholesky(k22 - l21 @ l21.T)
        n, m = len(self.L), len(Xf)
        L = np.zeros((n + m, n + m))
        L[:n, :n], L[n:, :n], L[n:, n:] = self.L, l21, l22
        new.L = L
        new.alpha = linalg.cho_solve((L, True), new.y, check_finite=False)
        return new
