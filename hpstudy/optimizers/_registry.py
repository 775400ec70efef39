"""Optimizers by name, as sweep configs and the command line spell them."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import attrs

from hpstudy.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from hpstudy.optimizers.base import Optimizer

__all__ = ["OPTIMIZER_NAMES", "make_optimizer", "optimizer_spec"]

_REGISTRY: dict[str, tuple[str, str]] = {
    "bayes": ("hpstudy.optimizers.gp", "GPOptimizer"),
    "gp": ("hpstudy.optimizers.gp", "GPOptimizer"),
    "skopt": ("hpstudy.optimizers.skopt", "SkoptOptimizer"),
    "random": ("hpstudy.optimizers.random", "RandomSearch"),
    "grid": ("hpstudy.optimizers.grid", "GridSearch"),
}

#: Every name :func:`make_optimizer` accepts.
OPTIMIZER_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def make_optimizer(name: str, **settings: Any) -> Optimizer:
    """A new optimizer by name, with default settings or the ones given.

    Parameters
    ----------
    name : str
        ``"bayes"`` or ``"gp"`` (:class:`~hpstudy.optimizers.gp.GPOptimizer`),
        ``"skopt"`` (:class:`~hpstudy.optimizers.skopt.SkoptOptimizer`),
        ``"random"`` or ``"grid"``; case-insensitive.
    **settings
        Keyword arguments of the optimizer's class (``balance="model_name"``).

    Returns
    -------
    Optimizer

    Raises
    ------
    ConfigError
        When ``name`` is not a string or not a known name, or a setting is not
        one of the optimizer's (or is invalid).

    Examples
    --------
    >>> from hpstudy.optimizers._registry import make_optimizer
    >>> type(make_optimizer("bayes")).__name__
    'GPOptimizer'
    >>> make_optimizer("random", balance="model_name")
    RandomSearch(balance='model_name')
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
    cls = getattr(importlib.import_module(module), attr)
    try:
        return cls(**settings)
    except TypeError as exc:
        raise ConfigError(f"method: {name!r} takes no such setting ({exc})") from None


#: The optimizer classes stored by name and settings (subclasses are user optimizers).
_STORED = {"RandomSearch": "random", "GridSearch": "grid", "GPOptimizer": "gp"}


def _settings(obj: Any) -> dict[str, Any]:
    """The public settings of an optimizer object (what its constructor was given)."""
    if attrs.has(type(obj)):
        return {f.name: getattr(obj, f.name) for f in attrs.fields(type(obj))
                if not f.name.startswith("_")}
    state = obj.__getstate__() if hasattr(obj, "__getstate__") else None
    state = state if isinstance(state, dict) else vars(obj)
    return {k: v for k, v in state.items() if not k.startswith("_")}


def optimizer_spec(obj: Any) -> tuple[str, dict[str, Any]] | None:
    """The name and settings that rebuild ``obj`` (``make_optimizer(name, **settings)``).

    None for anything but the built-in random, grid and GP optimizers, and for one
    whose settings are not plain JSON values or do not rebuild an equal optimizer:
    such an optimizer is stored by its class only and passed again to resume.

    Examples
    --------
    >>> from hpstudy.optimizers import RandomSearch
    >>> optimizer_spec(RandomSearch(balance="model_name"))
    ('random', {'balance': 'model_name'})
    """
    name = _STORED.get(type(obj).__name__)
    if name is None:
        return None
    module, attr = _REGISTRY[name]
    if type(obj) is not getattr(importlib.import_module(module), attr):
        return None  # a user class of the same name
    settings = _settings(obj)
    try:
        if json.loads(json.dumps(settings, allow_nan=False)) != settings:
            return None
        rebuilt = make_optimizer(name, **settings)
    except (TypeError, ValueError, ConfigError):
        return None
    return (name, settings) if _settings(rebuilt) == settings else None
