"""Simulated study frames with known variance components (tests, docs, benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpstudy._validation import check_int, check_real
from hpstudy.errors import ConfigError

__all__ = ["simulate_study"]


def simulate_study(
    *,
    model_effects: Sequence[float] = (0.0, -0.02),
    configs_per_model: int = 20,
    n_folds: int = 5,
    tuning_sd: float = 0.03,
    fold_sd: float = 0.01,
    noise_sd: float = 0.02,
    mean: float = 0.85,
    seed: int | None = 0,
):
    """A study frame like ``Trials.to_frame(folds=True)`` with known components.

    The metric of configuration ``c`` of architecture ``m`` on fold ``f`` is
    ``mean + model_effects[m] + N(0, tuning_sd) + N(0, fold_sd) + N(0, noise_sd)``
    (the fold draw shared by every configuration). Each configuration also gets
    a ``learning_rate`` and an ``optimizer`` parameter that do not matter.

    Parameters
    ----------
    model_effects : sequence of float, default (0.0, -0.02)
        One fixed effect per architecture (named ``M0``, ``M1``...).
    configs_per_model : int, default 20
        Configurations per architecture (>= 1).
    n_folds : int, default 5
        Folds every configuration is evaluated on (>= 1).
    tuning_sd, fold_sd, noise_sd : float
        Standard deviations of the configuration, fold and residual effects.
    mean : float, default 0.85
        Grand mean.
    seed : int or None, default 0
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        Columns ``number, state, params.model_name, params.learning_rate,
        params.optimizer, fold, repeat, fold_seed, fold_state, value``.

    Raises
    ------
    ConfigError
        For counts below 1, negative standard deviations or no architecture.

    Examples
    --------
    >>> frame = simulate_study(configs_per_model=3, n_folds=2)
    >>> frame.shape
    (12, 10)
    """
    import pandas as pd

    effects = [float(e) for e in model_effects]
    if not effects:
        raise ConfigError("model_effects: must name at least one architecture")
    configs_per_model = check_int("configs_per_model", configs_per_model, minimum=1)
    n_folds = check_int("n_folds", n_folds, minimum=1)
    tuning_sd, fold_sd, noise_sd = (check_real(name, v, minimum=0) for name, v in (
        ("tuning_sd", tuning_sd), ("fold_sd", fold_sd), ("noise_sd", noise_sd)))
    rng = np.random.default_rng(seed)
    n_cfg = len(effects) * configs_per_model
    model_idx = np.repeat(np.arange(len(effects)), configs_per_model)
    cfg = rng.normal(0, tuning_sd, n_cfg)
    fold = rng.normal(0, fold_sd, n_folds)
    noise = rng.normal(0, noise_sd, (n_cfg, n_folds))
    y = mean + np.asarray(effects)[model_idx][:, None] + cfg[:, None] + fold[None, :] + noise
    lr = 10 ** rng.uniform(-5, -3, n_cfg)
    opt = rng.choice(["adam", "rmsprop", "sgd"], n_cfg)
    return pd.DataFrame({
        "number": np.repeat(np.arange(n_cfg), n_folds),
        "state": "complete",
        "params.model_name": np.repeat([f"M{m}" for m in model_idx], n_folds),
        "params.learning_rate": np.repeat(lr, n_folds),
        "params.optimizer": np.repeat(opt, n_folds),
        "fold": np.tile(np.arange(n_folds), n_cfg),
        "repeat": 0,
        "fold_seed": 0,
        "fold_state": "complete",
        "value": y.ravel(),
    })
