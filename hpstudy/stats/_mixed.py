"""Variance components by statsmodels' MixedLM, for designs that are not balanced.

Every random term becomes a variance component of one all-covering group
(``vc_formula={term: "0 + C(term)"}``, ``re_formula="0"``), which handles crossed
and nested terms alike. Known pitfalls, handled here:

* MixedLM decides that a variance is on the boundary with an *absolute*
  threshold (0.01, see its ``ConvergenceWarning``); the response is therefore
  standardised before the fit (variances O(1)) and the estimates scaled back.
* Zero (boundary) components are detected here, relative to the total variance.
* ``bse_re`` is not a usable standard error for a variance near zero (the
  sampling distribution is skewed and truncated); intervals come from a
  parametric bootstrap instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

__all__ = ["MixedFit", "fit_mixedlm", "parametric_bootstrap"]

BOUNDARY_RTOL = 1e-4  # a component under 0.01% of the total variance is "zero"


@attrs.frozen(kw_only=True)
class MixedFit:
    """The scaled-back estimates of one MixedLM fit (internal)."""

    components: dict[str, float]
    residual: float
    intercept: float
    intercept_se: float
    fixed_effects: np.ndarray  # every fixed coefficient (scaled back), intercept first
    loglike: float
    converged: bool
    warnings: tuple[str, ...]


def _fixed_matrix(fixed_codes: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Intercept plus sum-to-zero (deviation) coding of each fixed factor."""
    cols = [np.ones(n)]
    for codes in fixed_codes.values():
        k = int(codes.max()) + 1
        for level in range(k - 1):
            cols.append((codes == level).astype(float) - (codes == k - 1).astype(float))
    return np.column_stack(cols)


def fit_mixedlm(
    y: np.ndarray,
    random_codes: Mapping[str, np.ndarray],
    fixed_codes: Mapping[str, np.ndarray],
    *,
    method: str = "reml",
) -> MixedFit:
    """Fit ``y ~ fixed + (1|term) ...`` with MixedLM on the standardised response."""
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    y = np.asarray(y, dtype=float)
    n = len(y)
    loc, scale = float(y.mean()), float(y.std())
    scale = scale if scale > 0 else 1.0
    ys = (y - loc) / scale
    exog = _fixed_matrix(fixed_codes, n)
    names = list(random_codes)
    # one all-covering group: every term is a variance component of it
    mats, colnames = [], []
    for t in names:
        codes = np.asarray(random_codes[t])
        k = int(codes.max()) + 1
        mats.append([np.eye(k)[codes]])
        colnames.append([[f"{t}[{j}]" for j in range(k)]])
    exog_vc = VCSpec(names, colnames, mats)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = MixedLM(ys, exog, groups=np.zeros(n), exog_re=np.zeros((n, 0)), exog_vc=exog_vc)
        try:
            result = model.fit(reml=(method == "reml"))
            vc_names = list(model.exog_vc.names)
            ratios = np.asarray(result.vcomp, dtype=float) / float(result.scale)
            fe, s2, llf = np.asarray(result.fe_params, float), float(result.scale), result.llf
            converged = bool(result.converged)
        except np.linalg.LinAlgError:
            # MixedLM failed on its Hessian (a component on the boundary): the estimates
            # need no Hessian, so maximise its profile likelihood directly
            caught.append("MixedLM's Hessian was singular; refitted without it")
            vc_names = list(model.exog_vc.names)
            ratios, fe, s2, llf, converged = _fit_profile(model, method == "reml")
    for w in record:
        caught.append(f"{w.category.__name__}: {w.message}")
    z = [mats[names.index(t)][0] for t in vc_names]
    se0 = _intercept_se(exog, z, ratios, s2)
    vcomp = ratios * s2
    comps = {t: float(vcomp[vc_names.index(t)]) * scale**2 for t in names}
    p = exog.shape[1]
    shift = (n - p) if method == "reml" else n
    fe = fe * scale
    fe[0] += loc
    return MixedFit(
        components=comps,
        residual=s2 * scale**2,
        intercept=float(fe[0]),
        intercept_se=se0 * scale,
        fixed_effects=fe,
        loglike=float(llf) - shift * math.log(scale),
        converged=converged,
        warnings=tuple(caught),
    )


def _fit_profile(model, reml: bool):
    """Maximise MixedLM's profile likelihood over variance ratios >= 0 (no Hessian)."""
    from scipy import optimize
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    model.reml = reml
    empty = np.zeros((0, 0))
    k = model.k_vc

    def nll(x: np.ndarray) -> float:
        params = MixedLMParams.from_components(cov_re=empty, vcomp=np.asarray(x, dtype=float))
        value = model.loglike(params, profile_fe=True)
        return -float(value) if np.isfinite(value) else 1e300

    best: Any = None  # scipy's OptimizeResult
    for start in (np.ones(k), np.full(k, 0.1), np.full(k, 10.0)):
        res = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(0.0, None)] * k,
                                options={"ftol": 1e-14, "gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    ratios = np.asarray(best.x, dtype=np.float64)
    fe, _ = model.get_fe_params(empty, ratios)
    s2 = float(model.get_scale(fe, empty, ratios))
    return ratios, np.asarray(fe, dtype=float), s2, -float(best.fun), bool(best.success)


def _intercept_se(x: np.ndarray, z: list[np.ndarray], ratios: np.ndarray, s2: float) -> float:
    """GLS standard error of the first fixed effect, ``V = s2 (I + sum r_k Z_k Z_k')``."""
    zz = np.hstack(z)
    d = np.concatenate([np.full(m.shape[1], max(r, 0.0)) for m, r in zip(z, ratios, strict=True)])
    zd = zz * np.sqrt(d)
    inner = np.eye(zd.shape[1]) + zd.T @ zd
    xz = x.T @ zd
    xtvix = x.T @ x - xz @ np.linalg.solve(inner, xz.T)  # Woodbury
    cov = s2 * np.linalg.inv(xtvix)
    return math.sqrt(max(float(cov[0, 0]), 0.0))


def parametric_bootstrap(
    fit: MixedFit,
    random_codes: Mapping[str, np.ndarray],
    fixed_codes: Mapping[str, np.ndarray],
    *,
    method: str,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Refit ``n_boot`` responses simulated from ``fit``; rows of (components..., residual)."""
    n = len(next(iter(random_codes.values())))
    mean = _fixed_matrix(fixed_codes, n) @ fit.fixed_effects
    out = np.full((n_boot, len(random_codes) + 1), np.nan)
    for b in range(n_boot):
        y = mean + rng.normal(0.0, math.sqrt(fit.residual), n)
        for t, codes in random_codes.items():
            k = int(codes.max()) + 1
            y = y + rng.normal(0.0, math.sqrt(max(fit.components[t], 0.0)), k)[codes]
        try:
            refit = fit_mixedlm(y, random_codes, fixed_codes, method=method)
        except (np.linalg.LinAlgError, ValueError):  # a refit that fails is left out
            continue
        out[b] = [*refit.components.values(), refit.residual]
    return out
