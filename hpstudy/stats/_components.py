"""``variance_components``: random-effects variances of any data frame."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.stats._anova import BalancedFit, Stratum, fit_balanced, term_codes
from hpstudy.stats._mixed import BOUNDARY_RTOL, fit_mixedlm, parametric_bootstrap
from hpstudy.stats._results import ResultBase, Table, fmt, interval
from hpstudy.stats.intervals import _check_confidence, percentile_interval

__all__ = ["VarianceComponents", "variance_components"]

_METHODS = ("reml", "ml", "anova")
_SOLVERS = ("auto", "balanced", "mixedlm")


@attrs.frozen(kw_only=True)
class VarianceComponents(ResultBase):
    """Variance components of a linear mixed model, with intervals.

    Attributes
    ----------
    response : str
        The response column.
    method : str
        ``"reml"``, ``"ml"`` or ``"anova"``.
    solver : str
        ``"balanced"`` (closed form from expected mean squares) or ``"mixedlm"``
        (statsmodels' MixedLM).
    components : dict of str to float
        Each random factor's variance estimate.
    intervals : dict of str to tuple of float
        Each random factor's ``(low, high)`` interval, and ``"Residual"``'s.
    residual : float
        The residual variance.
    fixed : dict of str to tuple of float
        ``{"Intercept": (estimate, se)}``: the overall mean (balanced designs:
        the mean of all rows; MixedLM: the GLS intercept, fixed factors in
        sum-to-zero coding) and its standard error.
    fixed_spread : dict of str to tuple of float
        For each fixed factor, ``(theta, low, high)`` with ``theta = sum(a_i^2) / (k - 1)``
        the spread of its ``k`` effects ``a_i`` (balanced designs only).
    loglike : float or None
        Maximised log-likelihood (restricted for REML); None for ANOVA.
    reml_criterion : float or None
        ``-2`` times the REML log-likelihood (lme4's "REML criterion").
    n_obs : int
        Rows used.
    n_levels : dict of str to int
        Levels (cells) of each factor.
    boundary : tuple of str
        Components estimated as zero (on the boundary of the parameter space).
    anova_table : tuple of Stratum
        Sums of squares, degrees of freedom and mean squares (balanced solver).
    confidence : float
        Level of the intervals.
    interval_method : str
        How the intervals were computed.
    converged : bool
        Whether the optimiser converged (always True for closed forms).
    notes : tuple of str
        Warnings and remarks.
    """

    response: str
    method: str
    solver: str
    components: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    residual: float
    fixed: dict[str, tuple[float, float]]
    fixed_spread: dict[str, tuple[float, float, float]] = attrs.field(factory=dict)
    loglike: float | None = None
    reml_criterion: float | None = None
    n_obs: int
    n_levels: dict[str, int]
    boundary: tuple[str, ...] = ()
    anova_table: tuple[Stratum, ...] = ()
    confidence: float = 0.95
    interval_method: str = ""
    converged: bool = True
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        """Sum of the random components and the residual (truncated at zero)."""
        return sum(max(v, 0.0) for v in self.components.values()) + max(self.residual, 0.0)

    @property
    def shares(self) -> dict[str, float]:
        """Each component's (and ``"Residual"``'s) fraction of :attr:`total`.

        Fixed factors are no part of the total (see :attr:`fixed_spread`). All
        NaN when the total is 0 (a constant response) or not finite.
        """
        tot = self.total
        ok = math.isfinite(tot) and tot > 0
        values = {**self.components, "Residual": self.residual}
        return {k: (max(v, 0.0) / tot if ok else math.nan) for k, v in values.items()}

    @property
    def sd(self) -> dict[str, float]:
        """Standard deviations (square roots of the truncated variances)."""
        out = {k: math.sqrt(max(v, 0.0)) for k, v in self.components.items()}
        out["Residual"] = math.sqrt(max(self.residual, 0.0))
        return out

    def _tables(self) -> list[Table]:
        rows = []
        values = {**self.components, "Residual": self.residual}
        for name, v in values.items():
            lo, hi = self.intervals.get(name, (math.nan, math.nan))
            flag = " (boundary)" if name in self.boundary else ""
            rows.append((name, str(self.n_levels.get(name, self.n_obs)), fmt(v) + flag,
                         fmt(math.sqrt(max(v, 0.0))), interval(lo, hi),
                         f"{self.shares[name]:.1%}"))
        notes = [f"method {self.method}, solver {self.solver}, n = {self.n_obs}; "
                 f"{self.confidence:.0%} intervals: {self.interval_method}."]
        for name, (est, se) in self.fixed.items():
            notes.append(f"{name}: {fmt(est)} (SE {fmt(se)})")
        for name, (theta, lo, hi) in self.fixed_spread.items():
            notes.append(f"fixed {name}: spread sum(a^2)/(k-1) = {fmt(theta)} {interval(lo, hi)}")
        if self.loglike is not None:
            notes.append(f"log-likelihood {fmt(self.loglike, 7)}" + (
                f", REML criterion {fmt(self.reml_criterion, 6)}" if self.reml_criterion else ""))
        notes.extend(self.notes)
        tables = [Table(title=f"Variance components of {self.response}",
                        columns=("component", "levels", "variance", "sd", "interval", "share"),
                        rows=tuple(rows), notes=tuple(notes))]
        if self.anova_table:
            arows = tuple((s.name, str(s.df), fmt(s.ss), fmt(s.ms)) for s in self.anova_table[1:])
            tables.append(Table(title="ANOVA", columns=("stratum", "df", "sum sq", "mean sq"),
                                rows=arows))
        return tables


def _validate(data, response, random, nested, fixed) -> tuple[dict, dict]:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise ConfigError(f"data: must be a pandas DataFrame (got {type(data).__name__})")
    if not isinstance(response, str) or response not in data.columns:
        raise ConfigError(f"response: column {response!r} is not in data")
    if isinstance(random, str) or not isinstance(random, Sequence) or not random:
        raise ConfigError(f"random: must be a non-empty list of column names (got {random!r})")
    nested = dict(nested or {})
    fixed = [fixed] if isinstance(fixed, str) else list(fixed)
    names = list(random) + fixed
    if len(set(names)) != len(names):
        raise ConfigError(f"random, fixed: a factor is listed twice ({names})")
    for col in names:
        if col not in data.columns:
            raise ConfigError(f"random: column {col!r} is not in data")
        if data[col].isna().any():
            raise ConfigError(f"{col}: factor has missing values")
    for child, parent in nested.items():
        if child not in random:
            raise ConfigError(f"nested: {child!r} must be one of the random factors {list(random)}")
        if parent not in names:
            raise ConfigError(f"nested: parent {parent!r} of {child!r} must be a random or fixed factor")
    y = data[response]
    if not np.issubdtype(y.dtype, np.number):
        raise ConfigError(f"{response}: response must be numeric (got dtype {y.dtype})")
    bad = int((~np.isfinite(y.to_numpy(dtype=float))).sum())
    if bad:
        raise ConfigError(f"{response}: response must be finite ({bad} rows are NaN or infinite)")
    if len(y) < 3:
        raise ConfigError(f"data: needs at least 3 rows (got {len(y)})")
    terms = {}
    for f in names:
        chain, seen = [f], {f}
        while chain[0] in nested:
            parent = nested[chain[0]]
            if parent in seen:
                raise ConfigError(f"nested: the chain through {f!r} is a cycle")
            chain.insert(0, parent)
            seen.add(parent)
        terms[f] = tuple(chain)
    codes = {f: np.asarray(pd.factorize(data[f])[0]) for f in names}
    for f in names:
        k = int(term_codes(codes, terms[f]).max()) + 1
        parent_k = int(term_codes(codes, terms[f][:-1]).max()) + 1 if len(terms[f]) > 1 else 1
        if k < 2 or k <= parent_k:
            raise ConfigError(f"{f}: needs at least 2 levels (within each parent; got {k} cells)")
    return terms, codes


def variance_components(
    data,
    response: str,
    random: Sequence[str],
    *,
    nested: Mapping[str, str] | None = None,
    fixed: Sequence[str] = (),
    method: str = "reml",
    confidence: float = 0.95,
    solver: str = "auto",
    n_boot: int = 100,
    seed: int | None = 0,
) -> VarianceComponents:
    """Estimate the variance of each random factor of a linear mixed model.

    The model is ``response = mean + fixed effects + one random effect per
    factor in random + residual``, with random effects independent normal.
    Factors named in ``nested`` are nested in their parent (their labels mean
    something only within the parent); all others are crossed.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    response : str
        The numeric response column.
    random : list of str
        Random factors (columns).
    nested : dict of str to str, optional
        ``{child: parent}``; the parent is a random or a fixed factor.
    fixed : list of str, optional
        Categorical fixed factors (e.g. a handful of architectures).
    method : {"reml", "ml", "anova"}, default "reml"
        REML, maximum likelihood, or the ANOVA (expected mean squares)
        estimates, which are unbiased but can be negative (balanced designs only).
    confidence : float, default 0.95
        Level of the intervals.
    solver : {"auto", "balanced", "mixedlm"}, default "auto"
        ``"auto"`` takes the closed form when the design is balanced, else
        statsmodels' MixedLM.
    n_boot : int, default 100
        Parametric bootstrap refits for the intervals of the MixedLM solver
        (each refit costs one MixedLM fit: for large unbalanced designs lower
        it, or 0 for no intervals).
    seed : int or None, default 0
        Seed of the parametric bootstrap.

    Returns
    -------
    VarianceComponents

    Raises
    ------
    ConfigError
        For a missing column, a non-numeric or non-finite response, a factor
        with fewer than 2 levels, a bad option, or ``method="anova"`` (or
        ``solver="balanced"``) on an unbalanced design.

    Notes
    -----
    Balanced designs: sums of squares per stratum, ANOVA estimates by solving
    the expected mean squares; REML equals ANOVA when every component is
    positive, else the REML/ML likelihood of the strata is maximised under
    ``variance >= 0``. Intervals: modified large-sample (Graybill-Wang, Ting
    et al. 1990) on the ANOVA combination of mean squares; exact chi-square
    for the residual. Unbalanced designs: MixedLM on the standardised
    response, boundary checked here, parametric bootstrap percentile intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"g": list("aabbcc"), "y": [1.0, 1.2, 2.0, 2.3, 0.5, 0.4]})
    >>> r = variance_components(df, "y", random=["g"])
    >>> round(r.residual, 4)
    0.0233
    """
    if method not in _METHODS:
        raise ConfigError(f"method: must be one of {_METHODS} (got {method!r})")
    if solver not in _SOLVERS:
        raise ConfigError(f"solver: must be one of {_SOLVERS} (got {solver!r})")
    if method == "anova" and solver == "mixedlm":
        raise ConfigError("method: 'anova' needs solver 'auto' or 'balanced' (got 'mixedlm')")
    conf = _check_confidence(confidence)
    n_boot = check_int("n_boot", n_boot, minimum=0)
    terms, codes = _validate(data, response, random, nested, fixed)
    y = data[response].to_numpy(dtype=float)
    n = len(y)
    fixed = [fixed] if isinstance(fixed, str) else list(fixed)
    kinds = {f: ("fixed" if f in fixed else "random") for f in terms}
    cells = {f: term_codes(codes, terms[f]) for f in terms}
    n_levels = {f: int(cells[f].max()) + 1 for f in terms}
    fixed_cells = {f: cells[f] for f in fixed}
    fit: BalancedFit | None = None
    reason: str | None = None
    if solver != "mixedlm":
        from hpstudy.stats._mixed import _fixed_matrix

        x = _fixed_matrix(fixed_cells, n)
        logdet = float(np.linalg.slogdet(x.T @ x)[1])
        balanced = fit_balanced(y, codes, terms, kinds, method=method, confidence=conf,
                                logdet_xtx=logdet, n_fixed_params=x.shape[1])
        if isinstance(balanced, str):
            reason = balanced
            if method == "anova" or solver == "balanced":
                raise ConfigError(f"method: {method!r} with solver {solver!r} needs a balanced "
                                  f"design ({reason})")
        else:
            fit = balanced
    random_names = [f for f in terms if kinds[f] == "random"]
    if fit is not None:
        est = dict(zip(fit.components, fit.estimates.tolist(), strict=True))
        ints: dict[str, tuple[float, float]] = {
            c: (float(lo), float(hi))
            for c, (lo, hi) in zip(fit.components, fit.intervals, strict=True)}
        tol = BOUNDARY_RTOL * sum(max(v, 0.0) for v in est.values())
        boundary = tuple(c for c in random_names if est[c] <= tol)
        notes: tuple[str, ...] = ()
        if method == "anova" and any(est[c] < 0 for c in random_names):
            notes = ("negative ANOVA estimates are kept as they are (unbiased); REML sets them to 0",)
        return VarianceComponents(
            response=response, method=method, solver="balanced",
            components={c: est[c] for c in random_names}, intervals=ints,
            residual=est["Residual"], fixed={"Intercept": (fit.mean, fit.mean_se)},
            fixed_spread={k: v[:3] for k, v in fit.fixed_spread.items()},
            loglike=fit.loglike, reml_criterion=fit.reml_criterion, n_obs=n, n_levels=n_levels,
            boundary=boundary, anova_table=fit.strata, confidence=conf,
            interval_method="modified large-sample (Graybill-Wang); chi-square for Residual",
            converged=fit.converged, notes=notes,
        )
    rand_cells = {f: cells[f] for f in random_names}
    mfit = fit_mixedlm(y, rand_cells, fixed_cells, method=method)
    tol = BOUNDARY_RTOL * (sum(mfit.components.values()) + mfit.residual)
    boundary = tuple(c for c in random_names if mfit.components[c] <= tol)
    ints = {}
    how = "none (n_boot = 0)"
    if n_boot > 0:
        draws = parametric_bootstrap(mfit, rand_cells, fixed_cells, method=method, n_boot=n_boot,
                                     rng=np.random.default_rng(seed))
        for j, c in enumerate([*random_names, "Residual"]):
            ints[c] = percentile_interval(draws[:, j], conf)
        how = f"parametric bootstrap percentiles ({n_boot} refits)"
    notes = tuple(mfit.warnings)
    if reason:
        notes = (f"not balanced: {reason}", *notes)
    return VarianceComponents(
        response=response, method=method, solver="mixedlm", components=mfit.components,
        intervals=ints, residual=mfit.residual,
        fixed={"Intercept": (mfit.intercept, mfit.intercept_se)},
        loglike=mfit.loglike, reml_criterion=-2 * mfit.loglike if method == "reml" else None,
        n_obs=n, n_levels=n_levels, boundary=boundary, confidence=conf, interval_method=how,
        converged=mfit.converged, notes=notes,
    )
