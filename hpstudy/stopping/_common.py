"""Helpers every stopper shares: argument checks (``check_int`` re-exported from
:mod:`hpstudy._validation`), the report judged and its fold's series, losses, rung values."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

from hpstudy._validation import check_int
from hpstudy.errors import ConfigError
from hpstudy.trials import Goal, Report, Trial

__all__ = ["check_eta", "check_int", "judged", "loss", "plain_number", "series", "series_until",
           "values_at", "with_current"]


def check_eta(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number (got {value!r})")
    if value <= 1:
        raise ConfigError(f"{name}: must be > 1 (got {value})")
    return value


def series(trial: Trial, fold: int | None) -> list[float]:
    """The trial's finite reported values of one fold, in report order."""
    return [r.value for r in trial.reports if r.fold == fold and math.isfinite(r.value)]


def plain_number(value: Any) -> int | float:
    """An int or a float (numpy scalars included) as a plain, JSON-able Python number."""
    return int(value) if isinstance(value, Integral) else float(value)


def judged(trial: Trial, report: Report | None) -> Report | None:
    """The report to judge: ``report``, or (called the old way, without one) the trial's last.

    None when there is nothing to judge (no report, or a non-finite value).
    """
    if report is None:
        if not trial.reports:
            return None
        report = trial.reports[-1]
    return report if math.isfinite(report.value) else None


def series_until(trial: Trial, report: Report) -> list[float]:
    """The finite values of ``report``'s fold, in report order, up to and including ``report``.

    Only that fold's reports count, whatever other folds reported in between (in
    a parallel k-fold run they interleave). A report missing from
    ``trial.reports`` is taken as the newest of its fold.
    """
    reports = trial.reports
    end = len(reports)
    for i in range(len(reports) - 1, -1, -1):
        if reports[i] == report:
            end = i + 1
            break
    else:
        return [*series(trial, report.fold), report.value]
    return [r.value for r in reports[:end] if r.fold == report.fold and math.isfinite(r.value)]


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
