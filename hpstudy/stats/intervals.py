"""Confidence intervals: variance components, proportions, bootstrap percentiles.

* :func:`mls_interval` - the modified large-sample (MLS) interval of Graybill and
  Wang (1980) as extended by Ting, Burdick, Graybill, Jeyaratnam and Lu (1990)
  for a linear combination of independent mean squares
  ``theta = sum_i c_i MS_i`` (``df_i MS_i / E[MS_i]`` chi-square on ``df_i``).
  Every variance component of a balanced design is such a combination; the
  interval is exact for a single mean square and close to nominal otherwise
  (Burdick & Graybill 1992, *Confidence Intervals on Variance Components*).
* :func:`proportion_interval` - Wilson score and Clopper-Pearson intervals for an
  accuracy measured on ``n`` independent items.
"""

from __future__ import annotations

import math
from numbers import Real

import attrs
import numpy as np

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.stats._results import ResultBase, Table, fmt

__all__ = ["ProportionInterval", "mls_interval", "percentile_interval", "proportion_interval"]


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real) \
            or not 0 < confidence < 1:
        raise ConfigError(f"confidence: must be in (0, 1) (got {confidence!r})")
    return float(confidence)


def mls_interval(
    coefficients, mean_squares, dfs, confidence: float = 0.95, *, nonnegative: bool = True
) -> tuple[float, float]:
    """Modified large-sample interval for ``theta = sum_i c_i MS_i``.

    Parameters
    ----------
    coefficients : array-like of float
        The ``c_i`` (any signs).
    mean_squares : array-like of float
        Independent mean squares ``MS_i``, each ``E[MS_i] chi2(df_i) / df_i``.
    dfs : array-like of float
        Their degrees of freedom.
    confidence : float, default 0.95
        Two-sided confidence level.
    nonnegative : bool, default True
        Clip the interval at zero (for variances).

    Returns
    -------
    tuple of float
        ``(low, high)``.

    Raises
    ------
    ConfigError
        When the arrays differ in length, a ``df`` is not positive or a mean
        square is negative.

    Examples
    --------
    >>> lo, hi = mls_interval([1.0], [2.0], [10])  # exact chi-square interval
    >>> round(lo, 4), round(hi, 4)
    (0.9764, 6.1596)
    """
    from scipy import stats

    c = np.asarray(coefficients, dtype=float)
    s = np.asarray(mean_squares, dtype=float)
    d = np.asarray(dfs, dtype=float)
    if not (c.shape == s.shape == d.shape) or c.ndim != 1:
        raise ConfigError("coefficients, mean_squares, dfs: must be 1-d arrays of one length")
    if np.any(d <= 0):
        raise ConfigError(f"dfs: must be > 0 (got {d.tolist()})")
    if np.any(s < 0):
        raise ConfigError(f"mean_squares: must be >= 0 (got {s.tolist()})")
    alpha = (1 - _check_confidence(confidence)) / 2
    keep = np.abs(c) > 0
    c, s, d = c[keep], s[keep], d[keep]
    theta = float(c @ s)
    g = 1 - d / stats.chi2.ppf(1 - alpha, d)
    h = d / stats.chi2.ppf(alpha, d) - 1
    pos, neg = np.flatnonzero(c > 0), np.flatnonzero(c < 0)
    a = np.abs(c) * s
    v_lo = float(np.sum(g[pos] ** 2 * a[pos] ** 2) + np.sum(h[neg] ** 2 * a[neg] ** 2))
    v_hi = float(np.sum(h[pos] ** 2 * a[pos] ** 2) + np.sum(g[neg] ** 2 * a[neg] ** 2))
    for q in pos:
        for r in neg:
            f_up = stats.f.ppf(1 - alpha, d[q], d[r])
            f_lo = stats.f.ppf(alpha, d[q], d[r])
            g_qr = ((f_up - 1) ** 2 - g[q] ** 2 * f_up**2 - h[r] ** 2) / f_up
            h_qr = ((1 - f_lo) ** 2 - h[q] ** 2 * f_lo**2 - g[r] ** 2) / f_lo
            v_lo += g_qr * a[q] * a[r]
            v_hi += h_qr * a[q] * a[r]
    if len(pos) > 1:
        for i, q in enumerate(pos):
            for t in pos[i + 1 :]:
                nq, nt = d[q], d[t]
                gqt = 1 - (nq + nt) / stats.chi2.ppf(1 - alpha, nq + nt)
                gstar = (gqt**2 * (nq + nt) ** 2 / (nq * nt) - g[q] ** 2 * nq / nt
                         - g[t] ** 2 * nt / nq) / (len(pos) - 1)
                v_lo += gstar * a[q] * a[t]
    low = theta - math.sqrt(max(v_lo, 0.0))
    high = theta + math.sqrt(max(v_hi, 0.0))
    if nonnegative:
        low, high = max(low, 0.0), max(high, 0.0)
    return low, high


def percentile_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap (or posterior) samples, NaNs ignored.

    Parameters
    ----------
    samples : array-like of float
        The replicates.
    confidence : float, default 0.95
        Two-sided level.

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN when no sample is finite.
    """
    alpha = (1 - _check_confidence(confidence)) / 2
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(x, [alpha, 1 - alpha])
    return float(lo), float(hi)


@attrs.frozen(kw_only=True)
class ProportionInterval(ResultBase):
    """An accuracy (proportion) with its confidence interval.

    Attributes
    ----------
    successes, n : int
        Correct items and items.
    estimate : float
        ``successes / n``.
    low, high : float
        The interval.
    method : str
        ``"wilson"`` or ``"clopper-pearson"``.
    confidence : float
        Two-sided level.
    """

    successes: int
    n: int
    estimate: float
    low: float
    high: float
    method: str
    confidence: float

    def _tables(self) -> list[Table]:
        row = (f"{self.successes}/{self.n}", fmt(self.estimate), fmt(self.low), fmt(self.high))
        note = f"{self.method} interval, {self.confidence:.0%}; one item is {1 / self.n:.2%}."
        return [Table(title="Proportion", columns=("count", "estimate", "low", "high"),
                      rows=(row,), notes=(note,))]


def proportion_interval(
    successes: int, n: int, *, method: str = "wilson", confidence: float = 0.95
) -> ProportionInterval:
    """Interval for an accuracy measured on ``n`` independent items.

    Parameters
    ----------
    successes : int
        Number of correct items, ``0 <= successes <= n``.
    n : int
        Number of items (images), ``>= 1``.
    method : {"wilson", "clopper-pearson"}, default "wilson"
        Wilson's score interval (good coverage on average) or the exact
        Clopper-Pearson interval (coverage at least nominal, wider).
    confidence : float, default 0.95
        Two-sided level.

    Returns
    -------
    ProportionInterval

    Raises
    ------
    ConfigError
        For counts out of range or an unknown method.

    Examples
    --------
    >>> r = proportion_interval(34, 39)
    >>> round(r.low, 3), round(r.high, 3)
    (0.733, 0.944)
    """
    successes, n = check_int("successes", successes), check_int("n", n, minimum=1)
    if not 0 <= successes <= n:
        raise ConfigError(f"successes: must be in [0, n={n}] (got {successes})")
    from scipy import stats

    conf = _check_confidence(confidence)
    alpha = 1 - conf
    x, n = int(successes), int(n)
    p = x / n
    if method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        denom = 1 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = max(center - half, 0.0), min(center + half, 1.0)
    elif method == "clopper-pearson":
        low = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        high = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    else:
        raise ConfigError(f"method: must be 'wilson' or 'clopper-pearson' (got {method!r})")
    return ProportionInterval(successes=x, n=n, estimate=p, low=float(low), high=float(high),
                              method=method, confidence=conf)
