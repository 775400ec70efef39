"""Comparisons: corrected t-test (scikit-learn gallery numbers), Bayesian, proportions, McNemar."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from hpstudy.errors import ConfigError
from hpstudy.stats import bayesian_ttest, corrected_ttest, mcnemar_test, proportion_interval


@pytest.fixture(scope="module")
def gallery_scores():
    """Fold scores of scikit-learn's "Statistical comparison of models using grid search".

    make_moons(100, noise=0.352, random_state=1); RepeatedStratifiedKFold(10, 10,
    random_state=0); SVC(random_state=0) with rbf and linear kernels; ROC AUC (the
    per-split scores GridSearchCV records are those of cross_val_score on the same cv).
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
    from sklearn.svm import SVC

    X, y = make_moons(noise=0.352, random_state=1, n_samples=100)
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=10, random_state=0)
    rbf = cross_val_score(SVC(kernel="rbf", random_state=0), X, y, cv=cv, scoring="roc_auc")
    lin = cross_val_score(SVC(kernel="linear", random_state=0), X, y, cv=cv, scoring="roc_auc")
    return rbf, lin


def test_corrected_ttest_reproduces_gallery(gallery_scores):
    rbf, lin = gallery_scores
    r = corrected_ttest(rbf, lin, n_train=90, n_test=10, alternative="greater")
    assert r.mean_difference == pytest.approx(0.0100, abs=5e-5)
    assert r.t == pytest.approx(0.750, abs=5e-4)
    assert r.p_value == pytest.approx(0.227, abs=5e-4)
    assert r.t_uncorrected == pytest.approx(2.611, abs=5e-4)
    assert r.df == 99 and r.interval[0] < 0 < r.interval[1]
    same = corrected_ttest(rbf, lin, test_train_ratio=1 / 9, alternative="greater")
    assert same.t == pytest.approx(r.t)


def test_bayesian_reproduces_gallery(gallery_scores):
    rbf, lin = gallery_scores
    r0 = bayesian_ttest(rbf, lin, n_train=90, n_test=10, rope=0.0)
    assert r0.prob_a_better == pytest.approx(0.773, abs=5e-4)
    r = bayesian_ttest(rbf, lin, n_train=90, n_test=10, rope=0.01)
    assert r.prob_equivalent == pytest.approx(0.432, abs=5e-4)
    assert r.prob_positive == pytest.approx(0.773, abs=5e-4)
    assert r.prob_a_better + r.prob_equivalent + r.prob_b_better == pytest.approx(1.0)


def test_compare_validation():
    with pytest.raises(ConfigError, match="one length"):
        corrected_ttest([1, 2, 3], [1, 2], n_train=9, n_test=1)
    with pytest.raises(ConfigError, match="n_train, n_test"):
        corrected_ttest([1, 2, 3], [1, 2, 4])
    with pytest.raises(ConfigError, match="alternative"):
        corrected_ttest([1, 2, 3], [1, 2, 4], test_train_ratio=0.25, alternative="up")
    with pytest.raises(ConfigError, match="rope"):
        bayesian_ttest([1, 2, 3], [1, 2, 4], test_train_ratio=0.25, rope=-1)


@pytest.mark.parametrize("method,sm", [("wilson", "wilson"), ("clopper-pearson", "beta")])
@pytest.mark.parametrize("x,n", [(0, 10), (34, 39), (39, 39), (20, 40), (871, 979), (3, 7)])
def test_proportion_interval_matches_statsmodels(method, sm, x, n):
    r = proportion_interval(x, n, method=method)
    lo, hi = proportion_confint(x, n, alpha=0.05, method=sm)
    assert r.low == pytest.approx(lo, abs=1e-10) and r.high == pytest.approx(hi, abs=1e-10)
    assert r.estimate == x / n


def test_proportion_interval_validation():
    with pytest.raises(ConfigError, match="successes"):
        proportion_interval(41, 40)
    with pytest.raises(ConfigError, match="method"):
        proportion_interval(4, 40, method="wald")


def test_mcnemar_agresti_example():
    """Agresti (2002) presidential approval: 794, 150, 86, 570 -> chi2 17.36 uncorrected."""
    a = np.array([1] * 794 + [1] * 150 + [0] * 86 + [0] * 570)
    b = np.array([1] * 794 + [0] * 150 + [1] * 86 + [0] * 570)
    r = mcnemar_test(a, b, exact=False, correction=False)
    assert r.statistic == pytest.approx(17.356, abs=1e-3)
    assert r.p_value == pytest.approx(3.1e-5, rel=0.05)
    assert r.only_a == 150 and r.only_b == 86


def test_mcnemar_exact_for_small_counts():
    a = np.array([1] * 30 + [1] * 6 + [0] * 1 + [0] * 3)
    b = np.array([1] * 30 + [0] * 6 + [1] * 1 + [0] * 3)
    r = mcnemar_test(a, b)
    assert r.exact
    # exact two-sided binomial: 2 * P(X <= 1 | n=7, p=1/2) = 16/128
    assert r.p_value == pytest.approx(0.125, abs=1e-12)
    with pytest.raises(ConfigError, match="one length"):
        mcnemar_test([1, 0], [1])
