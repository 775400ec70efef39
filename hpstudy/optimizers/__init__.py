"""Optimizers: random and grid baselines, the GP Bayesian optimizer, a scikit-optimize adapter.

Every optimizer follows :class:`~hpstudy.optimizers.base.Optimizer`: one method,
``ask(space, trials, n, rng)``.
"""

from __future__ import annotations

from typing import Any

from hpstudy.optimizers._balance import balance_levels
from hpstudy.optimizers._registry import OPTIMIZER_NAMES, optimizer_spec
from hpstudy.optimizers.base import Optimizer
from hpstudy.optimizers.grid import GridSearch
from hpstudy.optimizers.random import RandomSearch

__all__ = ["OPTIMIZER_NAMES", "GPOptimizer", "GridSearch", "Optimizer", "RandomSearch",
           "SkoptOptimizer", "balance_levels", "make_optimizer", "optimizer_spec"]


# Loaded on first use: the GP pulls in scipy.optimize and scipy.stats (~0.5 s).
_LAZY = {"GPOptimizer": "hpstudy.optimizers.gp", "SkoptOptimizer": "hpstudy.optimizers.skopt"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def make_optimizer(name: str, **settings: Any) -> Any:
    """The optimizer called ``name`` ("random", "grid", "bayes", "gp", "skopt"), with
    ``settings`` for its class (``balance="model_name"``)."""
    from hpstudy.optimizers._registry import make_optimizer as _make

    return _make(name, **settings)
