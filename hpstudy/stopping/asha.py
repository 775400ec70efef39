"""Asynchronous successive halving (ASHA) as a stopping rule.

Li et al., "A System for Massively Parallel Hyperparameter Tuning" (MLSys 2020):
rungs at ``min_resource * eta**k``; a trial that reaches a rung goes on only if
it is among the top ``1/eta`` of the trials that reached that rung so far. The
decision is taken at once with what is known (asynchronously): no trial waits
for a rung to fill, so workers never idle.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from hpstudy.errors import ConfigError
from hpstudy.stopping._common import check_eta, check_int, judged, loss, plain_number
from hpstudy.stopping._folds import (
    Noise,
    check_fold_rule,
    fold_gate,
    histories_until,
    mean_series,
    parse_noise,
    rung_folds,
    rung_table,
    table_means,
)
from hpstudy.trials import Report, StopDecision, Trial, Trials

__all__ = ["ASHA"]

_MAX_ITERATION = 10**12


def _rungs(min_resource: int, eta: float, max_resource: int | None) -> tuple[int, ...]:
    out: list[int] = []
    k = 0
    while True:
        r = math.floor(min_resource * eta**k + 1e-9)
        if (max_resource is not None and r >= max_resource) or r > _MAX_ITERATION:
            break
        if not out or r > out[-1]:
            out.append(r)
        k += 1
    return tuple(out)


@attrs.frozen(kw_only=True)
class ASHA:
    """Asynchronous successive halving: keep the top ``1/eta`` at each rung.

    An *iteration* is one reported value, as for :class:`Hyperband`. When a trial
    reports its ``r``-th value and ``r`` is a rung, the stopper ranks the values at
    iteration ``r`` of every trial that reached it (this one included, any state);
    the trial goes on if it ranks among the best ``max(1, floor(n / eta))`` of
    those ``n`` values (ties go on), and stops otherwise. Reports between rungs
    get no decision. With k-fold evaluation the ``folds`` rule says what is
    judged, as for :class:`Hyperband` (default: the mean of the trial's folds).

    Parameters
    ----------
    min_resource : int, default 1
        Iteration of the first rung, >= 1.
    eta : float, default 3
        Reduction factor, > 1: rungs at ``floor(min_resource * eta**k)``.
    max_resource : int, optional
        The full budget of a trial (its last iteration); no rung is placed at or
        beyond it. None: rungs go on geometrically.
    bootstrap_count : int, default 0
        A rung stops no trial until this many trials reached it (the first trials
        otherwise face very few competitors).
    folds : {"mean", "first", "each"}, default "mean"
        How a trial evaluated on several folds is judged (see :class:`Hyperband`).
    noise : Noise or mapping, optional
        Do not stop a trial within one standard error of the rung's threshold
        (see :class:`Hyperband`).

    Attributes
    ----------
    rungs : tuple of int
        The rung iterations, ascending.

    Examples
    --------
    >>> from hpstudy.trials import Report, Trial, Trials
    >>> def trial(n, values):
    ...     reports = tuple(Report(step=i, value=v) for i, v in enumerate(values))
    ...     return Trial(number=n, params={}, reports=reports)
    >>> asha = ASHA(min_resource=1, eta=3, max_resource=9)
    >>> asha.rungs
    (1, 3)
    >>> old = [trial(0, [0.9]), trial(1, [0.8])]
    >>> asha.decide(trial(2, [0.85]), Trials(old)).stop
    True
    """

    min_resource: int = 1
    eta: float = 3
    max_resource: int | None = None
    bootstrap_count: int = 0
    folds: str = attrs.field(default="mean", converter=check_fold_rule)
    noise: Noise | None = attrs.field(default=None, converter=parse_noise)
    rungs: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "min_resource", check_int("min_resource", self.min_resource, 1))
        check_eta("eta", self.eta)
        if self.max_resource is not None:
            object.__setattr__(self, "max_resource",
                               check_int("max_resource", self.max_resource, 1))
            if self.max_resource <= self.min_resource:
                raise ConfigError(
                    f"max_resource: must be > min_resource (got {self.max_resource} "
                    f"<= {self.min_resource})"
                )
        object.__setattr__(self, "bootstrap_count",
                           check_int("bootstrap_count", self.bootstrap_count, 0))
        object.__setattr__(self, "rungs", _rungs(self.min_resource, self.eta, self.max_resource))

    rule = "asha"

    def decide(self, trial: Trial, trials: Trials, report: Report | None = None
               ) -> StopDecision | None:
        """Judge ``report``, a report of ``trial``, when it lands on a rung.

        Parameters
        ----------
        trial : Trial
            The trial that just reported.
        trials : Trials
            Every trial of the study; ``trials.goal`` gives the direction.
        report : Report, optional
            The report to judge (the study passes it); only its fold's series,
            up to it, counts. None judges ``trial.reports[-1]``.

        Returns
        -------
        StopDecision or None
            None between rungs; otherwise the verdict with the rung index, the
            trial's value and the value it had to match (None while the rung has
            fewer than ``bootstrap_count`` trials).
        """
        last = judged(trial, report)
        if last is None:
            return None
        gate = fold_gate(trial, last, self.folds)
        if gate is not True:
            return gate or None
        histories = histories_until(trial, last)
        n_iter = len(histories[last.fold])
        if n_iter not in self.rungs:
            return None
        folds = rung_folds(histories, last.fold, n_iter, self.folds)
        if folds is None:  # "mean": another started fold has not reached the rung yet
            return None
        rung = self.rungs.index(n_iter)
        goal = trials.goal
        fold_se = self.noise is not None and self.noise.se is not None
        table = rung_table(trials, trial, histories, n_iter, None if fold_se else folds)
        values = table_means(table, folds)
        value = mean_series(histories, folds)[n_iter - 1]
        if len(values) < self.bootstrap_count:
            return StopDecision(step=last.step, stop=False, rule=self.rule, value=value,
                                threshold=None, bracket=rung, fold=last.fold)
        k = max(1, math.floor(len(values) / self.eta))
        threshold = sorted(values, key=lambda v: loss(goal, v))[k - 1]
        margin = 0.0 if self.noise is None else self.noise.margin(threshold, len(folds), table)
        stop = loss(goal, value) > loss(goal, threshold) + margin
        return StopDecision(step=last.step, stop=stop, rule=self.rule, value=value,
                            threshold=threshold, bracket=rung, fold=last.fold)

    def to_dict(self) -> dict[str, Any]:
        """The ``early_terminate`` mapping that rebuilds this stopper (what a study stores).

        Examples
        --------
        >>> ASHA(min_resource=2, eta=2, max_resource=16).to_dict()
        {'type': 'asha', 'min_iter': 2, 'eta': 2, 'bootstrap_count': 0, 'max_iter': 16}
        """
        out: dict[str, Any] = {"type": "asha", "min_iter": self.min_resource,
                               "eta": plain_number(self.eta),
                               "bootstrap_count": self.bootstrap_count}
        if self.max_resource is not None:
            out["max_iter"] = self.max_resource
        if self.folds != "mean":
            out["folds"] = self.folds
        if self.noise is not None:
            out["noise"] = self.noise.to_dict()
        return out
