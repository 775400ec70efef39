"""Closed-form variance components for balanced designs (expected mean squares).

A design is a set of *terms*; each term is a set of basic factors (a nested
factor's term holds its parents too, so ``config`` within ``model`` is the term
``{model, config}``). When every term's cells hold the same number of rows and
every two terms are orthogonal (each combination of their cells is equally
filled), the data split into independent *strata*: the sum of squares of term
``T`` is ``lambda_T`` times a chi-square on ``df_T`` degrees of freedom, with

``lambda_T = sigma_e^2 + sum over random terms R containing T of n_R * sigma_R^2``

(``n_R`` rows per cell of ``R``). Then

* ANOVA estimates solve ``lambda_T = MS_T`` (unbiased; can be negative),
* the REML log-likelihood is ``-1/2 sum_T (df_T log lambda_T + SS_T / lambda_T)``
  over the random strata and the residual, maximised at the ANOVA estimates when
  they are all positive (else on the boundary, found numerically),
* the ML log-likelihood adds ``df_F log lambda_F`` for the fixed strata
  (the grand mean and fixed factors),

all from a handful of sums, in time linear in the number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import numpy as np

from hpstudy.stats.intervals import mls_interval

__all__ = ["BalancedFit", "Stratum", "fit_balanced", "term_codes"]

_LOG2PI = math.log(2 * math.pi)


@attrs.frozen(kw_only=True)
class Stratum:
    """One line of the ANOVA table: a term's sum of squares and its expectation."""

    name: str
    kind: str  # "mean", "fixed", "random" or "residual"
    df: int
    ss: float
    n_per_cell: float
    n_cells: int

    @property
    def ms(self) -> float:
        """Mean square ``ss / df``."""
        return self.ss / self.df if self.df > 0 else math.nan


@attrs.frozen(kw_only=True)
class BalancedFit:
    """What :func:`fit_balanced` found (internal; wrapped by the public results)."""

    strata: tuple[Stratum, ...]
    components: tuple[str, ...]  # random terms, then "Residual"
    anova: np.ndarray  # unbiased ANOVA estimates, same order as components
    estimates: np.ndarray  # the chosen method's estimates
    intervals: np.ndarray  # shape (n_components, 2)
    contrasts: np.ndarray  # anova = contrasts @ ms of the random strata and residual
    fixed_spread: dict[str, tuple[float, float, float, float, float]]  # est, lo, hi, F, p
    mean: float
    mean_se: float
    loglike: float | None
    reml_criterion: float | None
    converged: bool


def term_codes(codes: Mapping[str, np.ndarray], factors: tuple[str, ...]) -> np.ndarray:
    """Integer cell codes ``0..k-1`` of the cells defined jointly by ``factors``."""
    if not factors:
        n = len(next(iter(codes.values())))
        return np.zeros(n, dtype=np.int64)
    arrays = [np.asarray(codes[f], dtype=np.int64) for f in factors]
    dims = [int(a.max()) + 1 for a in arrays]
    flat = np.ravel_multi_index(arrays, dims) if len(arrays) > 1 else arrays[0]
    _, inverse = np.unique(flat, return_inverse=True)
    return inverse.astype(np.int64)


def _check_balance(
    names: list[str], sets: dict[str, frozenset], cells: dict[str, np.ndarray],
    kinds: Mapping[str, str], n: int,
) -> str | None:
    """Why the design is not balanced and orthogonal, or None when it is.

    Random terms need equally filled cells; fixed terms may be unequal as long
    as every two terms have proportional frequencies within their common cells.
    """
    counts = {t: np.bincount(cells[t]) for t in names}
    for name in names:
        c = counts[name]
        if kinds[name] == "random" and c.min() != c.max():
            return f"{name}: cells hold {c.min()} to {c.max()} rows"
    known: dict[frozenset, str | None] = {frozenset(): None} | {sets[t]: t for t in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            meet = sets[a] & sets[b]
            if meet not in known:
                return f"{a} and {b} share factors {sorted(meet)} that are no term"
            if meet in (sets[a], sets[b]):
                continue  # nested: nothing more to check
            m = known[meet]
            cm = np.zeros(n, dtype=np.int64) if m is None else cells[m]
            nm = np.array([n]) if m is None else counts[m]
            kb = len(counts[b])
            joint = np.bincount(cells[a] * kb + cells[b], minlength=len(counts[a]) * kb)
            joint = joint.reshape(len(counts[a]), kb)
            # meet cell of each a-cell and b-cell (constant within them)
            ma = np.zeros(len(counts[a]), dtype=np.int64)
            ma[cells[a]] = cm
            mb = np.zeros(kb, dtype=np.int64)
            mb[cells[b]] = cm
            same = ma[:, None] == mb[None, :]
            expected = np.where(same, counts[a][:, None] * counts[b][None, :] / nm[ma][:, None], 0)
            if not np.allclose(joint, expected):
                return f"{a} and {b} are not orthogonal (unequal or empty combinations)"
    return None


def _solve(
    method: str,
    coef: np.ndarray,
    df: np.ndarray,
    ss: np.ndarray,
    is_fixed: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Maximise the REML or ML likelihood over variances >= 0 (scaled to O(1))."""
    from scipy import optimize

    scale = float(np.sum(ss[~is_fixed]) / max(np.sum(df[~is_fixed]), 1))
    scale = scale if scale > 0 else 1.0
    ssn = ss / scale
    use = ~is_fixed if method == "reml" else np.ones_like(is_fixed)

    def objective(sig: np.ndarray) -> tuple[float, np.ndarray]:
        lam = coef @ sig
        lam = np.maximum(lam, 1e-300)
        quad = np.where(is_fixed, 0.0, ssn / lam)
        f = float(np.sum(df[use] * np.log(lam[use])) + np.sum(quad))
        dlam = np.where(use, df / lam, 0.0) - np.where(is_fixed, 0.0, ssn / lam**2)
        return f, coef.T @ dlam

    x0 = np.maximum(start / scale, 1e-3)
    bounds = [(0.0, None)] * (len(x0) - 1) + [(1e-10, None)]
    res = optimize.minimize(
        objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
    )
    return res.x * scale, bool(res.success)


def fit_balanced(
    y: np.ndarray,
    codes: Mapping[str, np.ndarray],
    terms: Mapping[str, tuple[str, ...]],
    kinds: Mapping[str, str],
    *,
    method: str = "reml",
    confidence: float = 0.95,
    logdet_xtx: float | None = None,
    n_fixed_params: int = 1,
) -> BalancedFit | str:
    """Fit the variance components of a balanced design in closed form.

    ``terms`` maps a term name to its basic factors (nested parents included),
    ``kinds`` maps it to ``"random"`` or ``"fixed"``. Returns the fit, or a string
    saying why the design is not balanced (the caller then uses a mixed model).
    """
    from scipy import stats as sps

    y = np.asarray(y, dtype=float)
    n = len(y)
    names = sorted(terms, key=lambda t: len(terms[t]))
    sets = {t: frozenset(terms[t]) for t in names}
    cells = {t: term_codes(codes, tuple(terms[t])) for t in names}
    reason = _check_balance(names, sets, cells, kinds, n)
    if reason is not None:
        return reason
    mean = float(y.mean())
    effects: dict[str, np.ndarray] = {}
    strata: list[Stratum] = [Stratum(name="Intercept", kind="mean", df=1, ss=n * mean**2,
                                     n_per_cell=n, n_cells=1)]
    df_of: dict[str, int] = {}
    resid = y - mean
    for t in names:
        cnt = np.bincount(cells[t])
        k = len(cnt)
        sub = [s for s in names if sets[s] < sets[t]]
        lower = mean + sum((effects[s] for s in sub), np.zeros(n))
        cell_eff = np.bincount(cells[t], weights=y - lower, minlength=k) / cnt
        effects[t] = cell_eff[cells[t]]
        resid = resid - effects[t]
        df_of[t] = k - 1 - sum(df_of[s] for s in sub)
        strata.append(Stratum(name=t, kind=kinds[t], df=df_of[t],
                              ss=float(cnt @ cell_eff**2), n_per_cell=n / k, n_cells=k))
    df_res = n - 1 - sum(df_of.values())
    strata.append(Stratum(name="Residual", kind="residual", df=df_res, ss=float(resid @ resid),
                          n_per_cell=1, n_cells=n))
    for s in strata[1:]:
        if s.df < 1:
            return f"{s.name}: no degrees of freedom left (df = {s.df})"
    random = [t for t in names if kinds[t] == "random"]
    comps = (*random, "Residual")
    coef = np.zeros((len(strata), len(comps)))
    for i, s in enumerate(strata):
        coef[i, -1] = 1.0
        if s.kind == "residual":
            continue
        own = frozenset() if s.kind == "mean" else sets[s.name]
        for j, r in enumerate(random):
            if own <= sets[r]:
                coef[i, j] = n // (int(cells[r].max()) + 1)
    df = np.array([s.df for s in strata], dtype=float)
    ss = np.array([s.ss for s in strata])
    ms = ss / df
    is_fixed = np.array([s.kind in ("mean", "fixed") for s in strata])
    rows = np.flatnonzero(~is_fixed)
    contrasts = np.linalg.inv(coef[rows])  # components = contrasts @ ms[rows]
    anova = contrasts @ ms[rows]
    converged = True
    if method == "anova":
        est = anova.copy()
    elif method == "reml" and np.all(anova[:-1] >= 0):
        est = anova.copy()
    else:
        est, converged = _solve(method, coef, df, ss, is_fixed, np.maximum(anova, 0))
    lam = coef @ np.maximum(est, 0)
    loglike = reml = None
    if method in ("reml", "ml") and np.all(lam > 0):
        quad = float(np.sum(ss[rows] / lam[rows]))
        if method == "ml":
            loglike = -0.5 * (n * _LOG2PI + float(df @ np.log(lam)) + quad)
        else:
            ldx = math.log(n) if logdet_xtx is None else logdet_xtx
            reml = (n - n_fixed_params) * _LOG2PI + float(df[rows] @ np.log(lam[rows])) + quad + ldx
            loglike = -0.5 * reml
    mdf, mss = df[rows], ms[rows]
    intervals = np.array([mls_interval(c, mss, mdf, confidence) for c in contrasts])
    fixed_spread = {}
    for i, s in enumerate(strata):
        if s.kind != "fixed":
            continue
        # E[MS_F] = lambda_F + n_F * theta_F with lambda_F a combination of random strata
        c = -(coef[i] @ contrasts)
        w = np.concatenate([[1.0], c]) / s.n_per_cell
        msa, dfa = np.concatenate([[ms[i]], mss]), np.concatenate([[df[i]], mdf])
        theta = max(float(w @ msa), 0.0)  # a spread: a negative unbiased estimate means 0
        lo, hi = mls_interval(w, msa, dfa, confidence)
        denom = float(coef[i] @ anova)
        f_stat = ms[i] / denom if denom > 0 else math.inf
        den_df = _satterthwaite(coef[i] @ contrasts, mss, mdf)
        p = float(sps.f.sf(f_stat, s.df, den_df)) if math.isfinite(f_stat) else 0.0
        fixed_spread[s.name] = (theta, lo, hi, float(f_stat), p)
    return BalancedFit(
        strata=tuple(strata), components=comps, anova=anova, estimates=est, intervals=intervals,
        contrasts=contrasts, fixed_spread=fixed_spread, mean=mean,
        mean_se=math.sqrt(max(float(lam[0]), 0.0) / n), loglike=loglike, reml_criterion=reml,
        converged=converged,
    )


def _satterthwaite(c: np.ndarray, ms: np.ndarray, df: np.ndarray) -> float:
    """Satterthwaite's degrees of freedom of the combination ``c @ ms``."""
    num = float(c @ ms) ** 2
    den = float(np.sum((c * ms) ** 2 / df))
    return num / den if den > 0 else math.inf
