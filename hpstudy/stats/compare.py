"""Comparing two configurations or two models.

* :func:`corrected_ttest` - Nadeau & Bengio's (2003) corrected resampled t-test
  for two configurations scored on the same (repeated) cross-validation folds:
  the variance of the mean difference is inflated by ``1/J + n_test/n_train``
  instead of ``1/J``, because the training sets overlap.
* :func:`bayesian_ttest` - Benavoli et al.'s (2017) Bayesian correlated t-test
  (the same corrected variance), with a region of practical equivalence.
* :func:`mcnemar_test` - McNemar's test for two models on the same test items.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from hpstudy._validation import check_real
from hpstudy.errors import ConfigError
from hpstudy.stats._results import ResultBase, Table, fmt, interval
from hpstudy.stats.intervals import _check_confidence

__all__ = [
    "BayesianComparison",
    "CorrectedTTest",
    "McNemarTest",
    "bayesian_ttest",
    "corrected_ttest",
    "mcnemar_test",
]

_ALTERNATIVES = ("two-sided", "greater", "less")


def _paired(a, b) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ConfigError(f"a, b: must be 1-d arrays of one length (got {x.shape} and {y.shape})")
    if x.size < 2:
        raise ConfigError(f"a: needs at least 2 paired scores (got {x.size})")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConfigError("a, b: scores must be finite")
    return x - y


def _ratio(n_train, n_test, test_train_ratio) -> float:
    if test_train_ratio is not None:
        if n_train is not None or n_test is not None:
            raise ConfigError("test_train_ratio: give it or n_train and n_test, not both")
        return check_real("test_train_ratio", test_train_ratio, minimum=0)
    if n_train is None or n_test is None:
        raise ConfigError("n_train, n_test: both are needed (or test_train_ratio)")
    n_train, n_test = check_real("n_train", n_train), check_real("n_test", n_test)
    if n_train <= 0 or n_test <= 0:
        raise ConfigError(f"n_train, n_test: must be > 0 (got {n_train}, {n_test})")
    return n_test / n_train


@attrs.frozen(kw_only=True)
class CorrectedTTest(ResultBase):
    """Nadeau-Bengio corrected resampled t-test of ``a - b``.

    Attributes
    ----------
    mean_difference : float
        Mean of ``a - b`` over the folds.
    se : float
        Corrected standard error ``sqrt((1/J + n_test/n_train) var)``.
    t, df, p_value : float
        Corrected statistic, degrees of freedom ``J - 1`` and p-value.
    alternative : str
        ``"two-sided"``, ``"greater"`` (a better) or ``"less"``.
    interval : tuple of float
        Two-sided confidence interval of the mean difference (corrected).
    t_uncorrected, p_uncorrected : float
        The naive paired t-test, for contrast (too liberal).
    n : int
        Number of paired scores ``J``.
    confidence : float
        Level of the interval.
    """

    mean_difference: float
    se: float
    t: float
    df: int
    p_value: float
    alternative: str
    interval: tuple[float, float]
    t_uncorrected: float
    p_uncorrected: float
    n: int
    confidence: float

    def _tables(self) -> list[Table]:
        rows = (("corrected", fmt(self.t), fmt(self.p_value)),
                ("uncorrected (too liberal)", fmt(self.t_uncorrected), fmt(self.p_uncorrected)))
        notes = (f"mean difference {fmt(self.mean_difference)}, corrected SE {fmt(self.se)}, "
                 f"{self.confidence:.0%} CI {interval(*self.interval)}; "
                 f"{self.n} paired folds, df {self.df}, alternative {self.alternative}.",)
        return [Table(title="Corrected resampled t-test (Nadeau & Bengio)",
                      columns=("test", "t", "p"), rows=rows, notes=notes)]


def _p(t: float, df: int, alternative: str) -> float:
    from scipy import stats

    if alternative == "greater":
        return float(stats.t.sf(t, df))
    if alternative == "less":
        return float(stats.t.cdf(t, df))
    return float(2 * stats.t.sf(abs(t), df))


def corrected_ttest(
    a,
    b,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    test_train_ratio: float | None = None,
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> CorrectedTTest:
    """Nadeau and Bengio's corrected resampled t-test for paired fold scores.

    Parameters
    ----------
    a, b : array-like of float
        Scores of two configurations on the same ``J`` folds (same order).
    n_train, n_test : int, optional
        Training and test set sizes of a fold.
    test_train_ratio : float, optional
        ``n_test / n_train`` directly (``1 / (k - 1)`` for k-fold).
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        ``"greater"`` tests whether ``a`` scores higher than ``b``.
    confidence : float, default 0.95
        Level of the interval of the mean difference.

    Returns
    -------
    CorrectedTTest

    Raises
    ------
    ConfigError
        For unpaired or non-finite scores, fewer than 2 folds, or missing sizes.

    Examples
    --------
    >>> r = corrected_ttest([0.9, 0.8, 0.85, 0.95], [0.85, 0.8, 0.8, 0.9], n_train=90, n_test=10)
    >>> round(r.t, 3)
    2.496
    """
    if alternative not in _ALTERNATIVES:
        raise ConfigError(f"alternative: must be one of {_ALTERNATIVES} (got {alternative!r})")
    conf = _check_confidence(confidence)
    d = _paired(a, b)
    ratio = _ratio(n_train, n_test, test_train_ratio)
    j = d.size
    mean, var = float(d.mean()), float(d.var(ddof=1))
    se = math.sqrt((1 / j + ratio) * var)
    se_naive = math.sqrt(var / j)
    df = j - 1
    t = mean / se if se > 0 else math.copysign(math.inf, mean) if mean else 0.0
    t0 = mean / se_naive if se_naive > 0 else t
    from scipy import stats

    q = stats.t.ppf(1 - (1 - conf) / 2, df)
    return CorrectedTTest(
        mean_difference=mean, se=se, t=t, df=df, p_value=_p(t, df, alternative),
        alternative=alternative, interval=(mean - q * se, mean + q * se), t_uncorrected=t0,
        p_uncorrected=_p(t0, df, alternative), n=j, confidence=conf,
    )


@attrs.frozen(kw_only=True)
class BayesianComparison(ResultBase):
    """Posterior of the mean difference ``a - b`` (Bayesian correlated t-test).

    Attributes
    ----------
    mean_difference, scale : float
        Location and scale of the Student-t posterior (df ``J - 1``).
    df : int
        Its degrees of freedom.
    rope : float
        Half-width of the region of practical equivalence.
    prob_a_better, prob_equivalent, prob_b_better : float
        ``P(mu > rope)``, ``P(|mu| <= rope)``, ``P(mu < -rope)``; they sum to one.
    prob_positive : float
        ``P(mu > 0)`` whatever the rope.
    credible_interval : tuple of float
        Central credible interval of ``mu`` at ``confidence``.
    confidence : float
        Its level.
    """

    mean_difference: float
    scale: float
    df: int
    rope: float
    prob_a_better: float
    prob_equivalent: float
    prob_b_better: float
    prob_positive: float
    credible_interval: tuple[float, float]
    confidence: float

    def _tables(self) -> list[Table]:
        rows = ((f"a better (diff > {fmt(self.rope)})", fmt(self.prob_a_better)),
                ("practically equivalent", fmt(self.prob_equivalent)),
                (f"b better (diff < {fmt(-self.rope)})", fmt(self.prob_b_better)),
                ("a better at all (diff > 0)", fmt(self.prob_positive)))
        note = (f"posterior Student-t(df {self.df}, loc {fmt(self.mean_difference)}, scale "
                f"{fmt(self.scale)}); {self.confidence:.0%} credible interval "
                f"{interval(*self.credible_interval)}.")
        return [Table(title="Bayesian correlated t-test", columns=("event", "probability"),
                      rows=rows, notes=(note,))]


def bayesian_ttest(
    a,
    b,
    *,
    rope: float = 0.01,
    n_train: int | None = None,
    n_test: int | None = None,
    test_train_ratio: float | None = None,
    confidence: float = 0.95,
) -> BayesianComparison:
    """Bayesian correlated t-test (Benavoli et al. 2017) with a rope.

    Parameters
    ----------
    a, b : array-like of float
        Scores of two configurations on the same folds.
    rope : float, default 0.01
        Differences within ``[-rope, rope]`` count as practically equivalent.
    n_train, n_test, test_train_ratio
        As in :func:`corrected_ttest`.
    confidence : float, default 0.95
        Level of the credible interval.

    Returns
    -------
    BayesianComparison

    Raises
    ------
    ConfigError
        For bad scores, sizes or a negative rope.
    """
    rope = check_real("rope", rope, minimum=0)
    conf = _check_confidence(confidence)
    d = _paired(a, b)
    ratio = _ratio(n_train, n_test, test_train_ratio)
    j = d.size
    mean = float(d.mean())
    scale = math.sqrt((1 / j + ratio) * float(d.var(ddof=1)))
    if scale == 0:
        raise ConfigError("a, b: the differences have zero variance; the posterior is degenerate")
    from scipy import stats

    post = stats.t(j - 1, loc=mean, scale=scale)
    pa = float(post.sf(rope))
    pb = float(post.cdf(-rope))
    lo, hi = post.interval(conf)
    return BayesianComparison(
        mean_difference=mean, scale=scale, df=j - 1, rope=float(rope), prob_a_better=pa,
        prob_equivalent=max(0.0, 1.0 - pa - pb), prob_b_better=pb, prob_positive=float(post.sf(0)),
        credible_interval=(float(lo), float(hi)), confidence=conf,
    )


@attrs.frozen(kw_only=True)
class McNemarTest(ResultBase):
    """McNemar's test of two models' error rates on the same items.

    Attributes
    ----------
    table : tuple of tuple of int
        ``((both right, only a right), (only b right, both wrong))``.
    only_a, only_b : int
        Discordant counts.
    statistic, p_value : float
        Test statistic (the smaller discordant count when exact, else chi-square)
        and two-sided p-value.
    exact : bool
        Whether the exact binomial test was used.
    """

    table: tuple[tuple[int, int], tuple[int, int]]
    only_a: int
    only_b: int
    statistic: float
    p_value: float
    exact: bool

    def _tables(self) -> list[Table]:
        (n11, n10), (n01, n00) = self.table
        rows = (("a right", str(n11), str(n10)), ("a wrong", str(n01), str(n00)))
        how = "exact binomial" if self.exact else "chi-square with continuity correction"
        return [Table(title="McNemar's test", columns=("", "b right", "b wrong"), rows=rows,
                      notes=(f"{how}: statistic {fmt(self.statistic)}, p = {fmt(self.p_value)}",))]


def mcnemar_test(correct_a, correct_b, *, exact: bool | None = None,
                 correction: bool = True) -> McNemarTest:
    """McNemar's test for two models evaluated on the same test items.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool
        Whether each model got each item right (same items, same order).
    exact : bool or None, default None
        Exact binomial test; None chooses it when fewer than 25 items are
        discordant.
    correction : bool, default True
        Continuity correction of the chi-square version.

    Returns
    -------
    McNemarTest

    Raises
    ------
    ConfigError
        For arrays of different lengths, empty ones, or values other than 0/1.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    a = np.asarray(correct_a)
    b = np.asarray(correct_b)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ConfigError(f"correct_a, correct_b: must be non-empty 1-d arrays of one length "
                          f"(got {a.shape} and {b.shape})")
    for name, v in (("correct_a", a), ("correct_b", b)):
        if not np.all(np.isin(v, (0, 1))):
            raise ConfigError(f"{name}: must hold booleans (0/1)")
    a, b = a.astype(bool), b.astype(bool)
    n11, n10 = int(np.sum(a & b)), int(np.sum(a & ~b))
    n01, n00 = int(np.sum(~a & b)), int(np.sum(~a & ~b))
    use_exact = (n10 + n01) < 25 if exact is None else bool(exact)
    res = mcnemar([[n11, n10], [n01, n00]], exact=use_exact, correction=correction)
    return McNemarTest(table=((n11, n10), (n01, n00)), only_a=n10, only_b=n01,
                       statistic=float(res.statistic), p_value=float(res.pvalue), exact=use_exact)
