"""Functional-ANOVA importance against functions with known Sobol indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hpstudy.errors import ConfigError
from hpstudy.stats import forest_importance, importance, simulate_study


def test_additive_shares():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1000, 3))
    y = 2.0 * x[:, 0] + 1.0 * x[:, 1]  # x3 does nothing; shares 0.8, 0.2, 0
    r = forest_importance(pd.DataFrame(x, columns=["a", "b", "c"]), y, seed=1)
    assert r.shares["a"] == pytest.approx(0.8, abs=0.04)
    assert r.shares["b"] == pytest.approx(0.2, abs=0.04)
    assert r.shares["c"] < 0.02
    assert abs(r.interactions) < 0.05
    lo, hi = r.intervals["a"]
    assert lo <= r.shares["a"] <= hi


def test_ishigami():
    """Ishigami (a=7, b=0.1): S1 0.3139, S2 0.4424, S3 0, interactions 0.2437."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-np.pi, np.pi, (3000, 3))
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    r = forest_importance(pd.DataFrame(x, columns=["x1", "x2", "x3"]), y, n_trees=32, seed=0)
    assert r.shares["x1"] == pytest.approx(0.3139, abs=0.06)
    assert r.shares["x2"] == pytest.approx(0.4424, abs=0.06)
    assert r.shares["x3"] < 0.05
    assert r.interactions == pytest.approx(0.2437, abs=0.08)


def test_deterministic_and_categorical():
    rng = np.random.default_rng(2)
    opt = rng.choice(["adam", "sgd", "rmsprop"], 300)
    lr = rng.uniform(0, 1, 300)
    y = np.where(opt == "sgd", -1.0, 0.0) + 0.1 * lr
    frame = pd.DataFrame({"optimizer": opt, "lr": lr})
    a = forest_importance(frame, y, seed=3)
    b = forest_importance(frame, y, seed=3)
    assert a == b
    assert a.shares["optimizer"] > 0.9
    assert "Hyperparameter importance" in a.summary()


def test_importance_from_study_frame():
    r = importance(simulate_study(configs_per_model=10, n_folds=3), n_trees=16)
    assert set(r.shares) == {"model_name", "learning_rate", "optimizer"}
    with pytest.raises(ConfigError, match="unknown parameter 'dropout'"):
        importance(simulate_study(configs_per_model=10, n_folds=3), params=["dropout"])
    with pytest.raises(ConfigError, match="at least 4"):
        forest_importance(pd.DataFrame({"a": [1.0, 2.0]}), [1.0, 2.0])


def test_conditional_parameter_with_missing_values():
    rng = np.random.default_rng(4)
    opt = rng.choice(["adam", "sgd"], 400)
    momentum = np.where(opt == "sgd", rng.uniform(0, 1, 400), np.nan)  # only sgd has one
    lr = rng.uniform(0, 1, 400)
    y = 2.0 * lr + np.nan_to_num(momentum, nan=0.5) * 0.0
    r = forest_importance(pd.DataFrame({"optimizer": opt, "momentum": momentum, "lr": lr}), y)
    assert r.shares["lr"] > 0.9 and r.shares["momentum"] < 0.05
