"""Optimizers by name, as sweep configs and the command line spell them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hpstudy.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from hpstudy.optimizers.base import Optimizer

__all__ = ["OPTIMIZER_NAMES", "make_optimizer"]

_REGISTRY: dict[str, tuple[str, str]] = {
    "bayes": ("hpstudy.optimizers.gp", "GPOptimizer"),
    "gp": ("hpstudy.optimizers.gp", "GPOptimizer"),
    "skopt": ("hpstudy.optimizers.skopt", "SkoptOptimizer"),
    "random": ("hpstudy.optimizers.random", "RandomSearch"),
    "grid": ("hpstudy.optimizers.grid", "GridSearch"),
}

#: Every name :func:`make_optimizer` accepts.
OPTIMIZER_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def make_optimizer(name: str) -> Optimizer:
    """A new optimizer with default settings, by name.

    Parameters
    ----------
    name : str
        ``"bayes"`` or ``"gp"`` (:class:`~hpstudy.optimizers.gp.GPOptimizer`),
        ``"skopt"`` (:class:`~hpstudy.optimizers.skopt.SkoptOptimizer`),
        ``"random"`` or ``"grid"``; case-insensitive.

    Returns
    -------
    Optimizer

    Raises
    ------
    ConfigError
        When ``name`` is not a string or not a known name.

    Examples
    --------
    >>> from hpstudy.optimizers._registry import make_optimizer
    >>> type(make_optimizer("bayes")).__name__
    'GPOptimizer'
    """
    if not isinstance(name, str):
        raise ConfigError(f"method: must be a string naming an optimizer (got {name!r})")
    key = name.strip().lower()
    if key not in _REGISTRY:
        raise ConfigError(
            f"method: must be one of {', '.join(map(repr, OPTIMIZER_NAMES))} "
            f"(got {name!r}){did_you_mean(key, OPTIMIZER_NAMES)}"
        )
    module, attr = _REGISTRY[key]
    return getattr(importlib.import_module(module), attr)()
