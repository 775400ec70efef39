"""Optimizers: random and grid baselines, the GP Bayesian optimizer, a scikit-optimize adapter.

Every optimizer follows :class:`~hpstudy.optimizers.base.Optimizer`: one method,
``ask(space, trials, n, rng)``.
"""

from __future__ import annotations

from typing import Any

from hpstudy.optimizers.base import Optimizer
from hpstudy.optimizers.grid import GridSearch
from hpstudy.optimizers.random import RandomSearch

__all__ = ["GridSearch", "Optimizer", "RandomSearch", "make_optimizer"]


def make_optimizer(name: str) -> Any:
    """The optimizer called ``name`` ("random", "grid", "bayes", "gp", "skopt")."""
    from hpstudy.optimizers._registry import make_optimizer as _make

    return _make(name)
