"""Helpers every stopper shares (``check_int`` re-exported from :mod:`hpstudy._validation`): argument checks, a fold's series, losses, rung values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.trials import Goal, Trial

__all__ = ["check_eta", "check_int", "loss", "series", "values_at", "with_current"]


def check_eta(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number (got {value!r})")
    if value <= 1:
        raise ConfigError(f"{name}: must be > 1 (got {value})")
    return value


def series(trial: Trial, fold: int | None) -> list[float]:
    """The trial's finite reported values of one fold, in report order."""
    return [r.value for r in trial.reports if r.fold == fold and math.isfinite(r.value)]


def with_current(trial: Trial, trials: Iterable[Trial]) -> list[Trial]:
    """``trials`` with ``trial`` in place of its (possibly older) copy, added if absent."""
    out = [trial if t.number == trial.number else t for t in trials]
    if all(t.number != trial.number for t in out):
        out.append(trial)
    return out


def loss(goal: Goal, value: float) -> float:
    """The value turned into a loss (lower is better), as W&B negates maximised metrics."""
    return -value if goal is Goal.MAXIMIZE else value


def values_at(trials: Iterable[Trial], fold: int | None, iteration: int) -> list[float]:
    """Each trial's value at ``iteration`` (1-based) of ``fold``, for the trials that reached it."""
    out = []
    for t in trials:
        h = series(t, fold)
        if len(h) >= iteration:
            out.append(h[iteration - 1])
    return out


# ----------------------------------------------------------------------------
# brackets
# ----------------------------------------------------------------------------
