"""BBC-CV: the naive best is optimistic; the corrected estimate is near the truth."""

from __future__ import annotations

import numpy as np
import pytest

from hpstudy.errors import ConfigError
from hpstudy.stats import bbc_cv


def test_equal_configs_naive_is_optimistic_bbc_is_not():
    truth, biases_naive, biases_bbc = 0.80, [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        scores = truth + rng.normal(0, 0.03, (100, 10))
        r = bbc_cv(scores, n_boot=300, seed=seed)
        biases_naive.append(r.naive - truth)
        biases_bbc.append(r.estimate - truth)
        assert r.optimism > 0
    # expected max of 100 N(0, 0.03/sqrt(10)) means ~ 2.5 * 0.0095 = 0.024
    assert np.mean(biases_naive) > 0.015
    assert abs(np.mean(biases_bbc)) < 0.006


def test_minimize_and_real_differences():
    rng = np.random.default_rng(0)
    means = np.linspace(0.1, 0.3, 30)  # config 0 truly best (lowest error)
    scores = means[:, None] + rng.normal(0, 0.01, (30, 20))
    r = bbc_cv(scores, goal="minimize", n_boot=200)
    assert r.selected == 0
    # a clear winner: no curse to correct
    assert r.estimate == pytest.approx(0.1, abs=0.005)
    assert abs(r.optimism) < 0.003
    assert r.optimism == pytest.approx(r.estimate - r.naive)
    equal = bbc_cv(0.2 + rng.normal(0, 0.02, (50, 10)), goal="minimize", n_boot=200)
    assert equal.naive < equal.estimate  # the lowest error is optimistic
    assert "Winner's curse" in r.summary()


def test_validation():
    with pytest.raises(ConfigError, match="scores"):
        bbc_cv(np.ones((1, 5)))
    with pytest.raises(ConfigError, match="goal"):
        bbc_cv(np.ones((3, 5)), goal="up")
