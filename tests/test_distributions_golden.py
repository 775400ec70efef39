"""Golden tests: every W&B distribution against closed forms from scipy.stats.

For each distribution (read from its W&B spec), 10,000 samples with a fixed seed:
the support, the mean and the variance (within 5 standard errors of the closed
form), the unit-cube round trip, and a KS test that ``to_unit`` of the samples is
uniform. A second table checks ``from_unit`` against the W&B engine's inverse
CDFs (``wandb/sweeps`` ``params.py``), written out here as formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hpstudy.sweep import space_from_dict

# the deprecated exponent forms (log_uniform, ...) are tested here on purpose;
# tests/test_sweep_engine.py checks that they warn
pytestmark = pytest.mark.filterwarnings("ignore::hpstudy.sweep.SweepDeprecationWarning")

N = 10_000
SEED = 20261128


def _dim(spec: dict):
    return space_from_dict({"p": spec})["p"]


def _quantised(dist, q: float, lo: float = -math.inf, hi: float = math.inf):
    """The exact pmf of ``round(X / q) * q`` for a scipy distribution X."""
    a = dist.ppf(1e-13) if math.isinf(lo) else lo
    b = dist.ppf(1 - 1e-13) if math.isinf(hi) else hi
    ks = np.arange(math.floor(a / q) - 1, math.ceil(b / q) + 2)
    pmf = dist.cdf((ks + 0.5) * q) - dist.cdf((ks - 0.5) * q)
    return ks * q, pmf / pmf.sum()


def _moments_of_pmf(x: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.sum(p * x))
    var = float(np.sum(p * (x - mean) ** 2))
    mu4 = float(np.sum(p * (x - mean) ** 4))
    return mean, var, mu4


def _moments(dist) -> tuple[float, float, float]:
    mean, var, kurt = (float(v) for v in dist.stats(moments="mvk"))
    return mean, var, (kurt + 3) * var**2


E = math.e
# (W&B spec, closed form: a frozen scipy distribution, or (values, pmf), support (lo, hi))
CONTINUOUS = [
    ({"distribution": "uniform", "min": -2.0, "max": 5.0}, stats.uniform(-2, 7), (-2, 5)),
    ({"distribution": "log_uniform", "min": -3, "max": 2},
     stats.loguniform(E**-3, E**2), (E**-3, E**2)),
    ({"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-3},
     stats.loguniform(1e-5, 1e-3), (1e-5, 1e-3)),
    ({"distribution": "inv_log_uniform", "min": 1, "max": 4},
     stats.loguniform(E**-4, E**-1), (E**-4, E**-1)),
    ({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 10},
     stats.loguniform(0.01, 10), (0.01, 10)),
    ({"distribution": "normal", "mu": 3, "sigma": 2}, stats.norm(3, 2), (-math.inf, math.inf)),
    ({"distribution": "normal"}, stats.norm(0, 1), (-math.inf, math.inf)),
    ({"distribution": "log_normal", "mu": 1, "sigma": 0.5},
     stats.lognorm(s=0.5, scale=E), (0, math.inf)),
    ({"distribution": "beta", "a": 2, "b": 5}, stats.beta(2, 5), (0, 1)),
    ({"distribution": "beta", "a": 0.5, "b": 0.5}, stats.beta(0.5, 0.5), (0, 1)),
]

DISCRETE = [
    ({"distribution": "int_uniform", "min": -3, "max": 7}, stats.randint(-3, 8)),
    ({"min": 1, "max": 100}, stats.randint(1, 101)),
    ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
     _quantised(stats.uniform(0, 10), 2, 0, 10)),
    ({"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.1},
     _quantised(stats.uniform(0, 1), 0.1, 0, 1)),
    ({"distribution": "q_log_uniform", "min": 0, "max": 4, "q": 1},
     _quantised(stats.loguniform(1, E**4), 1, 1, E**4)),
    ({"distribution": "q_log_uniform_values", "min": 1, "max": 256, "q": 8},
     _quantised(stats.loguniform(1, 256), 8, 1, 256)),
    ({"distribution": "q_normal", "mu": 10, "sigma": 3}, _quantised(stats.norm(10, 3), 1.0)),
    ({"distribution": "q_log_normal", "mu": 2, "sigma": 0.5, "q": 2},
     _quantised(stats.lognorm(s=0.5, scale=E**2), 2, 0)),
    ({"distribution": "q_beta", "a": 2, "b": 2, "q": 0.1},
     _quantised(stats.beta(2, 2), 0.1, 0, 1)),
]


def _ids(table):
    return [spec.get("distribution", "inferred") for spec, *_ in table]


def _check_moments(x: np.ndarray, mean: float, var: float, mu4: float) -> None:
    n = len(x)
    se_mean = math.sqrt(var / n)
    se_var = math.sqrt(max(mu4 - var**2, 0.0) / n)
    assert abs(x.mean() - mean) < 5 * se_mean, (x.mean(), mean, se_mean)
    assert abs(x.var(ddof=1) - var) < 5 * se_var, (x.var(ddof=1), var, se_var)


@pytest.mark.parametrize(("spec", "dist", "support"), CONTINUOUS, ids=_ids(CONTINUOUS))
def test_continuous_distribution(spec, dist, support) -> None:
    dim = _dim(spec)
    x = np.array(dim.sample(np.random.default_rng(SEED), N))
    lo, hi = support
    assert np.all((x >= lo - 1e-12 * abs(lo)) & (x <= hi + 1e-12 * abs(hi)))
    _check_moments(x, *_moments(dist))
    u = dim.to_unit(list(x))
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3
    np.testing.assert_allclose(dim.from_unit(u), x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(u, dist.cdf(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("spec", "closed"), DISCRETE, ids=_ids(DISCRETE))
def test_discrete_distribution(spec, closed) -> None:
    dim = _dim(spec)
    x = np.array(dim.sample(np.random.default_rng(SEED), N), dtype=float)
    if isinstance(closed, tuple):
        values, pmf = closed
        mean, var, mu4 = _moments_of_pmf(values, pmf)
    else:
        values = np.arange(closed.support()[0], closed.support()[1] + 1)
        pmf = closed.pmf(values)
        mean, var, mu4 = _moments(closed)
    support = values[pmf > 1e-12]
    assert np.all(np.isin(np.round(x, 9), np.round(support, 9)))
    _check_moments(x, mean, var, mu4)
    # every frequent value's share within 5 standard errors of its probability
    for v, p in zip(values, pmf, strict=True):
        if p > 0.01:
            share = np.mean(np.isclose(x, v))
            assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / N), (v, share, p)
    back = dim.from_unit(dim.to_unit(list(dim.sample(np.random.default_rng(1), 500))))
    assert back == dim.sample(np.random.default_rng(1), 500)


@pytest.mark.parametrize("probs", [[0.1, 0.2, 0.7], [0.5, 0.5], [0.0, 0.25, 0.25, 0.5]])
def test_categorical_probabilities(probs) -> None:
    values = [f"v{i}" for i in range(len(probs))]
    dim = _dim({"values": values, "probabilities": probs})
    x = dim.sample(np.random.default_rng(SEED), N)
    counts = np.array([x.count(v) for v in values])
    for c, p in zip(counts, probs, strict=True):
        assert abs(c / N - p) < 5 * math.sqrt(p * (1 - p) / N) + 1e-12
    expected = np.array(probs) * N
    keep = expected > 0
    assert stats.chisquare(counts[keep], expected[keep]).pvalue > 1e-3


def test_uniform_categorical() -> None:
    dim = _dim({"values": [16, 32, 64]})
    x = dim.sample(np.random.default_rng(SEED), N)
    counts = [x.count(v) for v in (16, 32, 64)]
    assert stats.chisquare(counts).pvalue > 1e-3


# -- from_unit is the W&B engine's inverse CDF ------------------------------------------
def _wandb_round(r, q):
    return np.round(r / q) * q


WANDB_PPF = [
    ({"distribution": "uniform", "min": -1, "max": 3}, lambda u: -1 + u * 4),
    ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 3},
     lambda u: _wandb_round(u * 10, 3)),
    ({"distribution": "log_uniform", "min": -5, "max": 1}, lambda u: np.exp(-5 + u * 6)),
    ({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
     lambda u: np.exp(np.log(1e-4) + u * (np.log(1e-1) - np.log(1e-4)))),
    ({"distribution": "q_log_uniform", "min": 0, "max": 5, "q": 2},
     lambda u: _wandb_round(np.exp(u * 5), 2)),
    ({"distribution": "q_log_uniform_values", "min": 2, "max": 512, "q": 4},
     lambda u: _wandb_round(np.exp(np.log(2) + u * (np.log(512) - np.log(2))), 4)),
    # W&B: exp(-uniform.ppf(1 - u, min, max - min))
    ({"distribution": "inv_log_uniform", "min": 2, "max": 6},
     lambda u: np.exp(-(2 + (1 - u) * 4))),
    # W&B: the same with min, max = -log(max), -log(min)
    ({"distribution": "inv_log_uniform_values", "min": 0.5, "max": 20},
     lambda u: np.exp(-(-np.log(20) + (1 - u) * (np.log(20) - np.log(0.5))))),
    ({"distribution": "normal", "mu": -2, "sigma": 3}, lambda u: stats.norm.ppf(u, -2, 3)),
    ({"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 5},
     lambda u: _wandb_round(stats.norm.ppf(u, 0, 10), 5)),
    ({"distribution": "log_normal", "mu": 1, "sigma": 2},
     lambda u: stats.lognorm.ppf(u, s=2, scale=np.exp(1))),
    ({"distribution": "q_log_normal", "mu": 3, "sigma": 1, "q": 1},
     lambda u: _wandb_round(stats.lognorm.ppf(u, s=1, scale=np.exp(3)), 1)),
    ({"distribution": "beta", "a": 3, "b": 0.7}, lambda u: stats.beta.ppf(u, 3, 0.7)),
    ({"distribution": "q_beta", "a": 2, "b": 3, "q": 0.05},
     lambda u: _wandb_round(stats.beta.ppf(u, 2, 3), 0.05)),
    ({"distribution": "int_uniform", "min": -4, "max": 9},
     lambda u: stats.randint.ppf(u, -4, 10)),
]


@pytest.mark.parametrize(("spec", "ppf"), WANDB_PPF, ids=_ids(WANDB_PPF))
def test_from_unit_matches_the_wandb_engine(spec, ppf) -> None:
    u = np.random.default_rng(7).uniform(0.001, 0.999, 2000)
    ours = np.array(_dim(spec).from_unit(u), dtype=float)
    np.testing.assert_allclose(ours, ppf(u), rtol=1e-9, atol=1e-12)


def test_int_q_gives_ints_like_wandb() -> None:
    # W&B returns ints when q is an int (``isinstance(q, int)``), floats otherwise
    assert all(type(v) is int for v in _dim({"distribution": "q_normal", "q": 2}).from_unit(
        [0.1, 0.5, 0.9]))
    assert all(type(v) is float for v in _dim({"distribution": "q_normal", "q": 2.0}).from_unit(
        [0.1, 0.5, 0.9]))
